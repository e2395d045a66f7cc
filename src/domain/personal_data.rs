//! Who may read what a kept file holds (SPEC.md §1): payroll data — recaps and anonymisation keys,
//! however stored (imported as payroll, or attached to a statement as a supporting document under any
//! kind) — is read by the establishment concerned, controllers and administrators only; the
//! anonymisation key, which turns pseudonyms back into people, by controllers and administrators only
//! (as the payroll book shows it). One rule for every path: payroll endpoints, document downloads.
//! Pure: the caller says what a content is and checks that the reader may see the candidate at all.

use crate::actor::Role;

/// The document kind of the catalogue for a payroll recap.
pub const PAYROLL_RECAP_KIND: &str = "RECAP_PAIE";
/// The document kind of the catalogue for an anonymisation key (table de passage).
pub const ANONYMISATION_KEY_KIND: &str = "CLE_ANONYMISATION";

/// What a kept file holds, as far as reading it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ContentClass {
    /// Anything else (an invoice, a report): whoever sees the statement.
    Ordinary,
    /// Salaries of named or pseudonymised employees.
    PayrollRecap,
    /// Pseudonym → matricule: the key to every anonymised recap.
    AnonymisationKey,
}

impl ContentClass {
    /// A statement's document: the stricter of what its kind says and what its content is known to
    /// be (`as_payroll_file`: the class of the candidate's imported payroll file with the same
    /// SHA-256, if any) — a recap attached as « autre pièce » is still a recap.
    pub fn of_document(kind: &str, as_payroll_file: Option<ContentClass>) -> ContentClass {
        let by_kind = match kind {
            PAYROLL_RECAP_KIND => ContentClass::PayrollRecap,
            ANONYMISATION_KEY_KIND => ContentClass::AnonymisationKey,
            _ => ContentClass::Ordinary,
        };
        by_kind.max(as_payroll_file.unwrap_or(ContentClass::Ordinary))
    }
}

/// Whether `role` may read a content of this class (of a candidate it may see).
pub fn may_read(role: Role, class: ContentClass) -> bool {
    match class {
        ContentClass::Ordinary => true,
        ContentClass::PayrollRecap => match role {
            Role::Etablissement | Role::Controleur | Role::Admin => true,
            Role::Paiement => false,
        },
        ContentClass::AnonymisationKey => match role {
            Role::Controleur | Role::Admin => true,
            Role::Etablissement | Role::Paiement => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payroll_content_is_read_by_the_establishment_controllers_and_administrators_only() {
        let readers = |class| {
            Role::ALL
                .into_iter()
                .filter(|r| may_read(*r, class))
                .collect::<Vec<_>>()
        };
        assert_eq!(readers(ContentClass::Ordinary), Role::ALL.to_vec());
        assert_eq!(
            readers(ContentClass::PayrollRecap),
            vec![Role::Etablissement, Role::Controleur, Role::Admin]
        );
        assert_eq!(
            readers(ContentClass::AnonymisationKey),
            vec![Role::Controleur, Role::Admin]
        );
    }

    #[test]
    fn a_document_is_classed_by_its_kind_or_by_its_content_whichever_is_stricter() {
        use ContentClass::*;
        assert_eq!(ContentClass::of_document("FACTURE", None), Ordinary);
        assert_eq!(ContentClass::of_document("RECAP_PAIE", None), PayrollRecap);
        assert_eq!(
            ContentClass::of_document("CLE_ANONYMISATION", None),
            AnonymisationKey
        );
        assert_eq!(
            ContentClass::of_document("AUTRE", Some(PayrollRecap)),
            PayrollRecap
        );
        assert_eq!(
            ContentClass::of_document("RECAP_PAIE", Some(AnonymisationKey)),
            AnonymisationKey
        );
    }
}
