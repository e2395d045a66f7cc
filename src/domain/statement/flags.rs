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

/// A normalisation the duplicate-invoice check applies beyond case, accents, spaces and punctuation
/// (which it always ignores). Each makes look-alike texts compare equal; the flag says which ones
/// were needed for two invoices to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Normalisation {
    /// Unicode compatibility forms (NFKC): full-width `ＥＸＰＯ－２０２６`, ligatures, exponents.
    Compatibility,
    /// Letters of other scripts that look Latin (Cyrillic `а` for `a`, Greek `Ο` for `O`).
    Confusables,
    /// A company's legal form (SAS, SARL, SA, EURL, SASU, SCOP, GIE…).
    LegalForm,
    /// Leading zeros of a number (`0211` for `211`).
    LeadingZeros,
}

impl Normalisation {
    pub const ALL: [Normalisation; 4] = [
        Normalisation::Compatibility,
        Normalisation::Confusables,
        Normalisation::LegalForm,
        Normalisation::LeadingZeros,
    ];

    pub fn label_fr(self) -> &'static str {
        match self {
            Normalisation::Compatibility => "formes de compatibilité Unicode (NFKC)",
            Normalisation::Confusables => "lettres d'aspect latin d'un autre alphabet",
            Normalisation::LegalForm => "forme juridique",
            Normalisation::LeadingZeros => "zéros en tête des nombres",
        }
    }
}

/// Legal forms of French (and a few foreign) companies, ignored in a supplier's name.
const LEGAL_FORMS: &[&str] = &[
    "sa", "sas", "sasu", "sarl", "eurl", "sci", "scop", "scp", "scic", "snc", "sca", "gie", "sel",
    "selarl", "selas", "selafa", "eirl", "sem", "spl", "ltd", "gmbh", "inc", "llc",
];

/// The Latin letter a lower-case Cyrillic or Greek look-alike stands for.
fn latin_look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' => 'a',
        'в' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' => 'e',
        'һ' | 'н' | 'η' => 'h',
        'і' | 'ї' | 'ι' | 'ӏ' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'м' | 'μ' => 'm',
        'п' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        'α' => 'a',
        'β' => 'b',
        'ζ' => 'z',
        _ => return None,
    })
}

/// Lower-case ASCII letters and digits of `text`, the other characters as separators (`' '`), with
/// the given normalisations (case, accents and punctuation are always ignored).
fn folded(text: &str, with: &[Normalisation]) -> String {
    let compatible: String = if with.contains(&Normalisation::Compatibility) {
        text.nfkc().collect()
    } else {
        text.to_string()
    };
    let mut out = String::with_capacity(compatible.len());
    for c in compatible.chars().flat_map(char::to_lowercase) {
        let c = if with.contains(&Normalisation::Confusables) {
            latin_look_alike(c).unwrap_or(c)
        } else {
            c
        };
        // Accents off (canonical decomposition only: compatibility forms are a step of their own).
        for d in std::iter::once(c).nfd() {
            if d.is_ascii_alphanumeric() {
                out.push(d.to_ascii_lowercase());
            } else if !d.is_alphanumeric() && !is_combining_mark(d) {
                out.push(' ');
            } else if !d.is_ascii() && d.is_alphanumeric() {
                // A letter of another script stays itself: it never equals a Latin one.
                out.push(d);
            }
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn supplier_key(name: &str, with: &[Normalisation]) -> String {
    let folded = folded(name, with);
    // Initials written apart are one word (`s.a.s.` is `sas`).
    let mut words: Vec<String> = Vec::new();
    let mut initials = String::new();
    for word in folded.split_whitespace() {
        if word.chars().count() == 1 {
            initials.push_str(word);
        } else {
            if !initials.is_empty() {
                words.push(std::mem::take(&mut initials));
            }
            words.push(word.to_string());
        }
    }
    if !initials.is_empty() {
        words.push(initials);
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let kept: Vec<&str> = if with.contains(&Normalisation::LegalForm) {
        let without: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !LEGAL_FORMS.contains(w))
            .collect();
        if without.is_empty() {
            words
        } else {
            without
        }
    } else {
        words
    };
    kept.concat()
}

fn invoice_number_key(number: &str, with: &[Normalisation]) -> String {
    let folded = folded(number, with).to_uppercase();
    // Letters run together whatever separates them; each number stays one token (`2026-0211` is
    // 2026 then 211, not 20260211), without its leading zeros when asked.
    let mut tokens: Vec<String> = Vec::new();
    let mut letters = String::new();
    let mut digits = String::new();
    let flush_digits = |digits: &mut String, tokens: &mut Vec<String>| {
        if !digits.is_empty() {
            let mut number = std::mem::take(digits);
            if with.contains(&Normalisation::LeadingZeros) {
                let trimmed = number.trim_start_matches('0');
                number = if trimmed.is_empty() {
                    "0".into()
                } else {
                    trimmed.to_string()
                };
            }
            tokens.push(number);
        }
    };
    for c in folded.chars() {
        if c.is_ascii_digit() {
            if !letters.is_empty() {
                tokens.push(std::mem::take(&mut letters));
            }
            digits.push(c);
        } else if c.is_alphanumeric() {
            flush_digits(&mut digits, &mut tokens);
            letters.push(c);
        } else {
            flush_digits(&mut digits, &mut tokens);
        }
    }
    flush_digits(&mut digits, &mut tokens);
    if !letters.is_empty() {
        tokens.push(letters);
    }
    tokens.join("-")
}

/// Supplier names compared without case, accents, punctuation, spaces, compatibility forms, Latin
/// look-alikes of other scripts or legal form: `Surfacia Audit SAS`, `SURFACIA AUDIT` and `Surfаcia
/// Audit` (Cyrillic `а`) give the same key.
pub fn normalise_supplier(name: &str) -> String {
    supplier_key(name, &Normalisation::ALL)
}

/// Invoice numbers compared without case, spaces, separators, compatibility forms (full-width
/// digits), Latin look-alikes or leading zeros: `EXPO-2026-0211` and `EXPO 2026 211` give the same key.
pub fn normalise_invoice_number(number: &str) -> String {
    invoice_number_key(number, &Normalisation::ALL)
}

/// Whether two invoices (supplier, number) are the same once normalised, and which normalisations it
/// took (none: they differ only in case, accents, spaces or punctuation). Pure.
pub fn invoice_match(a: (&str, &str), b: (&str, &str)) -> Option<Vec<Normalisation>> {
    let key = |(supplier, number): (&str, &str), with: &[Normalisation]| {
        (
            supplier_key(supplier, with),
            invoice_number_key(number, with),
        )
    };
    if key(a, &Normalisation::ALL) != key(b, &Normalisation::ALL) {
        return None;
    }
    // A normalisation was needed when leaving it out alone breaks the match.
    Some(
        Normalisation::ALL
            .into_iter()
            .filter(|left_out| {
                let others: Vec<Normalisation> = Normalisation::ALL
                    .into_iter()
                    .filter(|n| n != left_out)
                    .collect();
                key(a, &others) != key(b, &others)
            })
            .collect(),
    )
}

/// What the flag says of the normalisations that made two invoices match.
fn normalisations_fr(needed: &[Normalisation]) -> String {
    if needed.is_empty() {
        "identiques (hors casse, accents, espaces et ponctuation)".to_string()
    } else {
        needed
            .iter()
            .map(|n| n.label_fr())
            .collect::<Vec<_>>()
            .join(", ")
    }
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

    // Duplicate invoices within the statement: key → (line id, supplier, number) in order.
    type SameInvoice<'a> = Vec<(LineId, &'a str, &'a str)>;
    let mut invoice_keys: BTreeMap<(String, String), SameInvoice> = BTreeMap::new();
    for line in statement.active_lines() {
        if let LineContent::External(l) = &line.content {
            invoice_keys
                .entry((
                    normalise_supplier(&l.supplier),
                    normalise_invoice_number(&l.invoice_number),
                ))
                .or_default()
                .push((line.id.clone(), &l.supplier, &l.invoice_number));
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
                        .filter(|(o, _, _)| o != id)
                        .map(|(o, _, _)| o.to_string())
                        .collect();
                    let mut needed: Vec<Normalisation> = ids
                        .iter()
                        .filter(|(o, _, _)| o != id)
                        .filter_map(|(_, supplier, number)| {
                            invoice_match((&l.supplier, &l.invoice_number), (supplier, number))
                        })
                        .flatten()
                        .collect();
                    needed.sort();
                    needed.dedup();
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
                                ("normalisation", normalisations_fr(&needed)),
                            ],
                        ));
                    }
                }
                for foreign in &inputs.other_invoices {
                    if Some(&foreign.candidate) == statement.candidate.as_ref() {
                        continue;
                    }
                    if let Some(needed) = invoice_match(
                        (&l.supplier, &l.invoice_number),
                        (&foreign.supplier, &foreign.invoice_number),
                    ) {
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
                                ("normalisation", normalisations_fr(&needed)),
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

#[cfg(test)]
mod duplicate_invoice_tests {
    use super::*;
    use Normalisation::*;

    #[test]
    fn look_alike_invoices_match_and_say_which_normalisation_matched() {
        let seen = ("Surfacia Audit SAS", "EXPO-2026-0211");
        for (other, needed) in [
            (("surfacia  audit sas", "expo 2026 0211"), vec![]),
            (("Surfacia Audit", "EXPO-2026-0211"), vec![LegalForm]),
            (("Surfacia Audit SAS", "EXPO-2026-211"), vec![LeadingZeros]),
            (("SURFACIA AUDIT s.a.s.", "EXPO-2026-0211"), vec![]),
            (
                ("Surfacia Audit S.A.R.L.", "EXPO-2026-0211"),
                vec![LegalForm],
            ),
            // Cyrillic а and о in the supplier.
            (("Surfаcia Audit SАS", "EXPO-2026-0211"), vec![Confusables]),
            (
                ("Surfacia Audit SAS", "EXPO-２０２６-０２１１"),
                vec![Compatibility],
            ),
            (
                ("ＳＵＲＦＡＣＩＡ Αudit", "ΕΧΡΟ-2026-211"),
                vec![Compatibility, Confusables, LegalForm, LeadingZeros],
            ),
        ] {
            assert_eq!(invoice_match(seen, other), Some(needed), "{other:?}");
        }
    }

    #[test]
    fn different_invoices_stay_different() {
        let seen = ("Surfacia Audit SAS", "EXPO-2026-0211");
        for other in [
            ("Surfacia Audit SAS", "EXPO-2026-0212"),
            ("Surfacia Audit SAS", "EXPO-20260211"),
            ("Surfacia Conseil", "EXPO-2026-0211"),
            ("Surfacia Audit SAS", "EXPO-2026-02110"),
        ] {
            assert_eq!(invoice_match(seen, other), None, "{other:?}");
        }
        // A name that is only a legal form keeps it.
        assert_eq!(normalise_supplier("SAS"), "sas");
        assert_eq!(normalise_invoice_number("F-000"), "F-0");
    }
}
