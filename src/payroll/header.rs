//! Finding the table by its header names, never by position. Names are compared after
//! [`header_key`](crate::payroll::text::header_key) (case, accents and punctuation ignored), against the
//! French variants listed here: one place to add a payroll software's wording.

use crate::payroll::reader::{cell_text, Sheet};
use crate::payroll::text::header_key;
use calamine::Data;

const RUBRIQUE: &[&str] = &[
    "rubriques",
    "rubrique",
    "rubriques de paie",
    "code rubrique",
    "code et libelle",
    "libelle",
    "libelles",
    "libelle rubrique",
    "elements de paie",
    "elements",
];
const NUMBER: &[&str] = &[
    "nb salarie",
    "nb salaries",
    "nb salarie s",
    "nb sal",
    "nbre salaries",
    "nombre salaries",
    "nombre",
    "nb",
    "nbre",
    "effectif",
    "quantite",
];
const REMUNERATION: &[&str] = &[
    "remuneration",
    "remunerations",
    "montant brut",
    "brut",
    "gains",
    "gain",
    "a payer",
];
const BASE: &[&str] = &[
    "base",
    "bases",
    "assiette",
    "base cotisation",
    "base de cotisation",
];
const RATE_EMPLOYEE: &[&str] = &[
    "tx sal",
    "taux sal",
    "tx salarial",
    "taux salarial",
    "tx salarie",
    "taux salarie",
    "taux salariaux",
];
const AMOUNT_EMPLOYEE: &[&str] = &[
    "salarial",
    "salariale",
    "part salariale",
    "montant salarial",
    "cotisations salariales",
    "retenues salariales",
    "retenues",
    "retenue",
    "salarie",
    "sal",
];
const RATE_EMPLOYER: &[&str] = &[
    "tx pat",
    "taux pat",
    "tx patronal",
    "taux patronal",
    "tx employeur",
    "taux employeur",
    "taux patronaux",
];
const AMOUNT_EMPLOYER: &[&str] = &[
    "patronal",
    "patronale",
    "part patronale",
    "montant patronal",
    "cotisations patronales",
    "charges patronales",
    "employeur",
    "part employeur",
    "pat",
];

const LIVRE_MATRICULE: &[&str] = &[
    "matricule",
    "matricule salarie",
    "matricule paie",
    "n matricule",
    "no matricule",
    "num matricule",
    "mat",
];
const LIVRE_ENTRY: &[&str] = &["date entree", "date d entree", "entree", "date dentree"];
const LIVRE_EXIT: &[&str] = &["date sortie", "date de sortie", "sortie"];
const LIVRE_PERIOD_START: &[&str] = &["debut periode", "date debut", "debut de periode", "du"];
const LIVRE_PERIOD_END: &[&str] = &["fin periode", "date fin", "fin de periode", "au"];
const LIVRE_TOTAL_GROSS: &[&str] = &[
    "total brut",
    "brut",
    "salaire brut",
    "brut total",
    "remuneration brute",
    "total remuneration brute",
];
const LIVRE_TOTAL_EMPLOYEE: &[&str] = &[
    "total salarial",
    "total cotisations salariales",
    "total retenues",
    "total retenues salariales",
    "cotisations salariales",
    "retenues salariales",
];
const LIVRE_TOTAL_EMPLOYER: &[&str] = &[
    "total patronal",
    "total charges patronales",
    "charges patronales",
    "total cotisations patronales",
    "cotisations patronales",
    "total employeur",
];
const LIVRE_IDENTITY: &[&str] = &[
    "nom",
    "prenom",
    "nom prenom",
    "nom et prenom",
    "salarie",
    "emploi",
    "qualification",
    "service",
    "statut",
    "etablissement",
    "categorie",
];
const LIVRE_INFORMATIONAL: &[&str] = &[
    "net a payer",
    "net imposable",
    "net",
    "net paye",
    "net social",
    "cout total",
    "heures",
    "total heures",
];

/// Columns of a recap block, zero-based within the sheet's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecapColumns {
    pub header_row: usize,
    /// The rubrique text is read from `rubrique` up to (excluding) `rubrique_end`: a "RUBRIQUES" header
    /// merged over a code column and a label column covers both.
    pub rubrique: usize,
    pub rubrique_end: usize,
    pub number: Option<usize>,
    pub remuneration: usize,
    pub base: Option<usize>,
    pub rate_employee: Option<usize>,
    pub amount_employee: Option<usize>,
    pub rate_employer: Option<usize>,
    pub amount_employer: usize,
}

impl RecapColumns {
    /// Columns holding numbers, for quick "is this row empty of figures" checks.
    pub fn numeric_columns(&self) -> [Option<usize>; 7] {
        [
            self.number,
            Some(self.remuneration),
            self.base,
            self.rate_employee,
            self.amount_employee,
            self.rate_employer,
            Some(self.amount_employer),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LivreColumns {
    pub header_row: usize,
    pub matricule: usize,
    pub entry: Option<usize>,
    pub exit: Option<usize>,
    pub period_start: Option<usize>,
    pub period_end: Option<usize>,
    pub total_gross: usize,
    pub total_employee: Option<usize>,
    pub total_employer: usize,
    pub identity: Vec<usize>,
    /// Net and other figures that are neither a rubrique nor a total we use.
    pub informational: Vec<(usize, String)>,
    /// Every other column: a rubrique, with its header text.
    pub rubriques: Vec<(usize, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundHeader {
    Recap(RecapColumns),
    Livre(LivreColumns),
}

fn find(keys: &[(usize, String)], names: &[&str]) -> Option<usize> {
    keys.iter()
        .find(|(_, k)| names.contains(&k.as_str()))
        .map(|(c, _)| *c)
}

/// Header keys of a row, or `None` when the row cannot be a header (a number in it, fewer than three
/// labels).
fn row_keys(cells: &[Data]) -> Option<Vec<(usize, String, String)>> {
    let mut keys = Vec::new();
    for (c, cell) in cells.iter().enumerate() {
        match cell {
            Data::String(_) => {
                if let Some(t) = cell_text(cell) {
                    keys.push((c, header_key(&t), t.into_owned()));
                }
            }
            Data::Empty => {}
            _ => return None,
        }
    }
    if keys.len() < 3 {
        None
    } else {
        Some(keys)
    }
}

/// Recognises a header row of either layout.
pub fn detect(row: usize, cells: &[Data]) -> Option<FoundHeader> {
    let keys = row_keys(cells)?;
    let plain: Vec<(usize, String)> = keys.iter().map(|(c, k, _)| (*c, k.clone())).collect();
    if let (Some(matricule), Some(total_gross), Some(total_employer)) = (
        find(&plain, LIVRE_MATRICULE),
        find(&plain, LIVRE_TOTAL_GROSS),
        find(&plain, LIVRE_TOTAL_EMPLOYER),
    ) {
        let entry = find(&plain, LIVRE_ENTRY);
        let exit = find(&plain, LIVRE_EXIT);
        let period_start = find(&plain, LIVRE_PERIOD_START);
        let period_end = find(&plain, LIVRE_PERIOD_END);
        let total_employee = find(&plain, LIVRE_TOTAL_EMPLOYEE);
        let used: Vec<usize> = [
            Some(matricule),
            entry,
            exit,
            period_start,
            period_end,
            Some(total_gross),
            total_employee,
            Some(total_employer),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut identity = Vec::new();
        let mut informational = Vec::new();
        let mut rubriques = Vec::new();
        for (c, key, text) in &keys {
            if used.contains(c) {
                continue;
            }
            if LIVRE_IDENTITY.contains(&key.as_str()) {
                identity.push(*c);
            } else if LIVRE_INFORMATIONAL.contains(&key.as_str()) {
                informational.push((*c, text.clone()));
            } else {
                rubriques.push((*c, text.clone()));
            }
        }
        return Some(FoundHeader::Livre(LivreColumns {
            header_row: row,
            matricule,
            entry,
            exit,
            period_start,
            period_end,
            total_gross,
            total_employee,
            total_employer,
            identity,
            informational,
            rubriques,
        }));
    }
    let rubrique = find(&plain, RUBRIQUE)?;
    let remuneration = find(&plain, REMUNERATION)?;
    let amount_employer = find(&plain, AMOUNT_EMPLOYER)?;
    let number = find(&plain, NUMBER);
    let base = find(&plain, BASE);
    let rate_employee = find(&plain, RATE_EMPLOYEE);
    let amount_employee = find(&plain, AMOUNT_EMPLOYEE);
    let rate_employer = find(&plain, RATE_EMPLOYER);
    let found = [number, base, rate_employee, amount_employee, rate_employer]
        .iter()
        .flatten()
        .count();
    if found < 1 {
        return None;
    }
    let next_mapped = [
        number,
        Some(remuneration),
        base,
        rate_employee,
        amount_employee,
        rate_employer,
        Some(amount_employer),
    ]
    .into_iter()
    .flatten()
    .filter(|c| *c > rubrique)
    .min()
    .unwrap_or(rubrique + 1);
    Some(FoundHeader::Recap(RecapColumns {
        header_row: row,
        rubrique,
        rubrique_end: next_mapped,
        number,
        remuneration,
        base,
        rate_employee,
        amount_employee,
        rate_employer,
        amount_employer,
    }))
}

/// The first header row of a sheet, if any.
pub fn find_first_header(sheet: &Sheet) -> Option<FoundHeader> {
    sheet
        .range
        .rows()
        .enumerate()
        .find_map(|(r, cells)| detect(r, cells))
}
