//! Flags (SPEC.md §6): never blocking, derived at read time from the state so they stay current when a
//! line is corrected or a payroll recap arrives. Each has a stable code, a French message and the values
//! that raised it.

use super::lines::{LineContent, LineId};
use super::Statement;
use crate::domain::candidate::Candidate;
use crate::domain::catalogue::DomainCatalogue;
use crate::domain::full_year::{annual_gross, Coverage};
use crate::domain::ids::{Finess, Matricule, ObjectiveCode};
use crate::domain::money::Money;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use unicode_normalization::UnicodeNormalization;

pub const DATE_HORS_PERIODE: &str = "DATE_HORS_PERIODE";
pub const FACTURE_AVANT_COMMANDE: &str = "FACTURE_AVANT_COMMANDE";
pub const NATURE_NON_ELIGIBLE: &str = "NATURE_NON_ELIGIBLE";
pub const FACTURE_EN_DOUBLE: &str = "FACTURE_EN_DOUBLE";
pub const FACTURE_EN_DOUBLE_AUTRE_CANDIDAT: &str = "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT";
pub const RECAP_PAIE_ABSENT: &str = "RECAP_PAIE_ABSENT";
pub const RECAP_PAIE_BRUT_DIFFERENT: &str = "RECAP_PAIE_BRUT_DIFFERENT";
pub const RECAP_PAIE_PERIODE_DIFFERENTE: &str = "RECAP_PAIE_PERIODE_DIFFERENTE";
pub const PSEUDONYME_NON_RESOLU: &str = "PSEUDONYME_NON_RESOLU";
pub const RECETTES_SUPERIEURES_AUX_COUTS: &str = "RECETTES_SUPERIEURES_AUX_COUTS";
pub const EXERCICE_CRISE_NON_FINANCE: &str = "EXERCICE_CRISE_NON_FINANCE";

/// What the payroll importer knows of one recap (récapitulatif de paie): enough for the flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayrollRecapSummary {
    /// The matricule as printed on the recap (the real one when the template uses pseudonyms).
    pub matricule: Matricule,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Total brut of the recap.
    pub gross_total: Money,
    /// The employee's entry and exit dates on the recap: with the period, the days it covers
    /// ([`crate::domain::full_year`]).
    #[serde(default)]
    pub entry_date: Option<NaiveDate>,
    #[serde(default)]
    pub exit_date: Option<NaiveDate>,
    /// SHA-256 of the file the recap was imported from (kept as a supporting document).
    #[serde(default)]
    pub source_sha256: Option<String>,
}

impl PayrollRecapSummary {
    /// The recap covers its whole calendar year (period, entry and exit dates:
    /// [`crate::domain::full_year`]).
    pub fn full_year(&self) -> Option<i32> {
        let coverage = Coverage::of(
            self.period_start,
            self.period_end,
            self.entry_date,
            self.exit_date,
        )?;
        coverage.is_full_year().then_some(coverage.year)
    }

    /// The annual gross the recap stands for: its full-year equivalent for part of a year (the figure
    /// a line filled from the recap takes), as printed otherwise.
    pub fn annual_gross(&self) -> Money {
        annual_gross(
            self.gross_total,
            self.period_start,
            self.period_end,
            self.entry_date,
            self.exit_date,
        )
    }

    /// The recap's period lies within that year.
    pub fn within_year(&self, year: i32) -> bool {
        self.period_start.year() == year && self.period_end.year() == year
    }
}

/// An invoice of another candidate, for cross-candidate duplicate detection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignInvoice {
    pub candidate: Finess,
    pub line_id: LineId,
    pub supplier: String,
    pub invoice_number: String,
}

/// Inputs of the flags besides the statement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagInputs {
    /// The declaration date the period check uses; default: the statement's submission date, else the
    /// domain's declaration deadline.
    pub declaration_date: Option<NaiveDate>,
    /// Payroll recaps known for this candidate.
    pub payroll_recaps: Vec<PayrollRecapSummary>,
    /// Anonymisation key (table de passage): pseudonym → matricule on the recap. `None`: documents are
    /// not anonymised, template matricules are matched directly.
    pub anonymisation_key: Option<BTreeMap<Matricule, Matricule>>,
    /// Invoices of the other candidates (never shown to an establishment: the flag is controller-only).
    pub other_invoices: Vec<ForeignInvoice>,
}

/// A flag. Derived, never stored: serialisable for the API, not deserialisable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub code: &'static str,
    pub message_fr: String,
    pub values: BTreeMap<String, String>,
    pub line_id: Option<LineId>,
    /// Shown to controllers only (e.g. a duplicate with another candidate's invoice).
    pub controller_only: bool,
}

fn flag(
    code: &'static str,
    line_id: Option<&LineId>,
    message_fr: String,
    values: &[(&str, String)],
) -> Flag {
    Flag {
        code,
        message_fr,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        line_id: line_id.cloned(),
        controller_only: false,
    }
}

/// Supplier names compared without case, accents, punctuation or spaces.
pub fn normalise_supplier(name: &str) -> String {
    name.nfkd()
        .filter(|c| c.is_alphanumeric() && c.is_ascii())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Invoice numbers compared without case, spaces or separators.
pub fn normalise_invoice_number(number: &str) -> String {
    number
        .chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// All flags of a statement, in line order then group order. Pure.
pub fn flags(
    statement: &Statement,
    catalogue: &DomainCatalogue,
    _candidate: &Candidate,
    inputs: &FlagInputs,
) -> Vec<Flag> {
    let mut out = Vec::new();
    let decree = catalogue.dates.decree;
    let declaration_date = inputs
        .declaration_date
        .or(statement.declaration_date)
        .unwrap_or(catalogue.dates.declaration_deadline);
    let crisis_from = catalogue
        .rules
        .as_ref()
        .map(|r| r.crisis_exercise_financed_from);
    let crisis_objective =
        ObjectiveCode::parse(&format!("{}.O3", catalogue.domain.objective_prefix())).ok();

    let check_date = |out: &mut Vec<Flag>, id: &LineId, field: &str, date: NaiveDate| {
        if date < decree || date > declaration_date {
            out.push(flag(
                DATE_HORS_PERIODE,
                Some(id),
                format!(
                    "{field} {} hors de la période d'éligibilité ({} → {})",
                    date.format("%d/%m/%Y"),
                    decree.format("%d/%m/%Y"),
                    declaration_date.format("%d/%m/%Y")
                ),
                &[
                    ("champ", field.to_string()),
                    ("date", date.to_string()),
                    ("debut", decree.to_string()),
                    ("fin", declaration_date.to_string()),
                ],
            ));
        }
    };
    let check_crisis = |out: &mut Vec<Flag>,
                        id: &LineId,
                        objective: &ObjectiveCode,
                        date: NaiveDate| {
        if let (Some(from), Some(o3)) = (crisis_from, &crisis_objective) {
            if &objective.group() == o3 && date < from {
                out.push(flag(
                    EXERCICE_CRISE_NON_FINANCE,
                    Some(id),
                    format!(
                        "exercice de crise daté du {} : valide pour l'objectif {o3} mais non financé (avant le {})",
                        date.format("%d/%m/%Y"),
                        from.format("%d/%m/%Y")
                    ),
                    &[("date", date.to_string()), ("finance_a_partir_du", from.to_string())],
                ));
            }
        }
    };

    // Duplicate invoices within the statement: key → line ids in order.
    let mut invoice_keys: BTreeMap<(String, String), Vec<LineId>> = BTreeMap::new();
    for line in statement.active_lines() {
        if let LineContent::External(l) = &line.content {
            invoice_keys
                .entry((
                    normalise_supplier(&l.supplier),
                    normalise_invoice_number(&l.invoice_number),
                ))
                .or_default()
                .push(line.id.clone());
        }
    }

    for line in statement.active_lines() {
        let id = &line.id;
        if let (Some(nature_code), objective) = (line.content.nature(), line.content.objective()) {
            if let Some(nature) = catalogue.nature(nature_code) {
                if !nature.eligible_for(objective) {
                    out.push(flag(
                        NATURE_NON_ELIGIBLE,
                        Some(id),
                        format!(
                            "nature de dépense « {} » non éligible pour l'objectif {objective}",
                            nature.label
                        ),
                        &[
                            ("nature", nature.code.clone()),
                            ("objectif", objective.to_string()),
                            ("source", nature.comment.clone()),
                        ],
                    ));
                }
            }
        }
        match &line.content {
            LineContent::External(l) => {
                check_date(&mut out, id, "date de commande", l.order_date);
                check_date(&mut out, id, "date de facture", l.invoice_date);
                if l.invoice_date < l.order_date {
                    out.push(flag(
                        FACTURE_AVANT_COMMANDE,
                        Some(id),
                        format!(
                            "facture du {} antérieure à la commande du {}",
                            l.invoice_date.format("%d/%m/%Y"),
                            l.order_date.format("%d/%m/%Y")
                        ),
                        &[
                            ("date_commande", l.order_date.to_string()),
                            ("date_facture", l.invoice_date.to_string()),
                        ],
                    ));
                }
                check_crisis(&mut out, id, &l.objective, l.invoice_date.min(l.order_date));
                let key = (
                    normalise_supplier(&l.supplier),
                    normalise_invoice_number(&l.invoice_number),
                );
                if let Some(ids) = invoice_keys.get(&key) {
                    let others: Vec<String> = ids
                        .iter()
                        .filter(|o| *o != id)
                        .map(|o| o.to_string())
                        .collect();
                    if !others.is_empty() {
                        out.push(flag(
                            FACTURE_EN_DOUBLE,
                            Some(id),
                            format!(
                                "facture {} de {} déclarée aussi en ligne {}",
                                l.invoice_number,
                                l.supplier,
                                others.join(", ")
                            ),
                            &[
                                ("fournisseur", l.supplier.clone()),
                                ("numero_facture", l.invoice_number.clone()),
                                ("autres_lignes", others.join(", ")),
                            ],
                        ));
                    }
                }
                for foreign in &inputs.other_invoices {
                    if Some(&foreign.candidate) == statement.candidate.as_ref() {
                        continue;
                    }
                    if normalise_supplier(&foreign.supplier) == key.0
                        && normalise_invoice_number(&foreign.invoice_number) == key.1
                    {
                        let mut f = flag(
                            FACTURE_EN_DOUBLE_AUTRE_CANDIDAT,
                            Some(id),
                            format!(
                                "facture {} de {} déclarée aussi par le candidat {} (ligne {})",
                                l.invoice_number, l.supplier, foreign.candidate, foreign.line_id
                            ),
                            &[
                                ("fournisseur", l.supplier.clone()),
                                ("numero_facture", l.invoice_number.clone()),
                                ("autre_candidat", foreign.candidate.to_string()),
                                ("autre_ligne", foreign.line_id.to_string()),
                            ],
                        );
                        f.controller_only = true;
                        out.push(f);
                    }
                }
            }
            LineContent::Other(l) => {
                check_date(&mut out, id, "date", l.date);
                check_crisis(&mut out, id, &l.objective, l.date);
            }
            LineContent::Internal(l) => payroll_flags(&mut out, id, l, inputs),
            LineContent::Receipt(_) => {}
        }
    }

    // Receipts above the costs of their group.
    let mut costs: BTreeMap<ObjectiveCode, Money> = BTreeMap::new();
    let mut receipts: BTreeMap<ObjectiveCode, Money> = BTreeMap::new();
    for line in statement.active_lines() {
        let group = line.content.objective().group();
        if line.content.is_cost() {
            *costs.entry(group).or_default() += line.declared;
        } else {
            *receipts.entry(group).or_default() += line.declared;
        }
    }
    for (group, received) in &receipts {
        let cost = costs.get(group).copied().unwrap_or_default();
        if *received > cost {
            out.push(flag(
                RECETTES_SUPERIEURES_AUX_COUTS,
                None,
                format!(
                    "recettes du groupe {} ({}) supérieures aux coûts déclarés ({})",
                    group.receipts_table_label(),
                    received.to_french(),
                    cost.to_french()
                ),
                &[
                    ("groupe", group.to_string()),
                    ("recettes", received.to_plain_string()),
                    ("couts", cost.to_plain_string()),
                ],
            ));
        }
    }
    out
}

fn payroll_flags(
    out: &mut Vec<Flag>,
    id: &LineId,
    line: &super::lines::InternalCostLine,
    inputs: &FlagInputs,
) {
    let recap_matricule: Matricule = match &inputs.anonymisation_key {
        Some(key) => match key.get(&line.matricule) {
            Some(real) => real.clone(),
            None if inputs
                .payroll_recaps
                .iter()
                .any(|r| r.matricule == line.matricule) =>
            {
                line.matricule.clone()
            }
            None => {
                out.push(flag(
                    PSEUDONYME_NON_RESOLU,
                    Some(id),
                    format!(
                        "matricule {} absent de la clé d'anonymisation (table de passage)",
                        line.matricule
                    ),
                    &[("matricule", line.matricule.to_string())],
                ));
                return;
            }
        },
        None => line.matricule.clone(),
    };
    let recaps: Vec<&PayrollRecapSummary> = inputs
        .payroll_recaps
        .iter()
        .filter(|r| r.matricule == recap_matricule)
        .collect();
    if recaps.is_empty() {
        out.push(flag(
            RECAP_PAIE_ABSENT,
            Some(id),
            format!(
                "aucun récapitulatif de paie pour le matricule {}",
                line.matricule
            ),
            &[
                ("matricule", line.matricule.to_string()),
                ("annee", line.year.to_string()),
            ],
        ));
        return;
    }
    let Some(recap) = recaps.iter().find(|r| r.within_year(line.year)) else {
        let periods: Vec<String> = recaps
            .iter()
            .map(|r| format!("{} → {}", r.period_start, r.period_end))
            .collect();
        out.push(flag(
            RECAP_PAIE_PERIODE_DIFFERENTE,
            Some(id),
            format!(
                "récapitulatif de paie du matricule {} sur {} et non sur l'année {}",
                line.matricule,
                periods.join(", "),
                line.year
            ),
            &[
                ("matricule", line.matricule.to_string()),
                ("annee", line.year.to_string()),
                ("periodes", periods.join(", ")),
            ],
        ));
        return;
    };
    // The recap's annual gross, annualised as the line filled from it is (one rule): a recap of
    // someone who joined in July is compared through its full-year equivalent, not its raw gross.
    let annual = recap.annual_gross();
    if annual != line.gross_annualised {
        let mut values = vec![
            ("matricule", line.matricule.to_string()),
            ("brut_recapitulatif", recap.gross_total.to_plain_string()),
            ("brut_declare", line.gross_annualised.to_plain_string()),
        ];
        let what = if annual == recap.gross_total {
            "brut annuel du récapitulatif"
        } else {
            values.push(("brut_recapitulatif_annualise", annual.to_plain_string()));
            "brut du récapitulatif annualisé"
        };
        out.push(flag(
            RECAP_PAIE_BRUT_DIFFERENT,
            Some(id),
            format!(
                "{what} ({}) différent du brut annualisé déclaré ({})",
                annual.to_french(),
                line.gross_annualised.to_french()
            ),
            &values,
        ));
    }
}

/// The flags an establishment may see (controller-only ones removed, and nothing says they existed).
pub fn establishment_view(all: Vec<Flag>) -> Vec<Flag> {
    all.into_iter().filter(|f| !f.controller_only).collect()
}

/// The distinct codes of a list of flags (handy in tests and summaries).
pub fn codes(all: &[Flag]) -> BTreeSet<&'static str> {
    all.iter().map(|f| f.code).collect()
}
