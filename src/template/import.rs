//! Reads a filled template (ours, edited by hand in Excel or LibreOffice) through the bounded workbook
//! reader ([`crate::sheet`]: bomb guard, limits on every sheet's extent, the shared cell rules) and
//! turns it into the statement's changes: lines added in blank rows are declared, changed lines corrected,
//! cleared lines withdrawn. Any error, named by sheet and cell, yields no change at all.

use super::layout::{self, ext, internal, other, receipts};
use super::model::{
    CostType, ExternalCostLine, InternalCostLine, OtherCostLine, ReceiptLine, TemplateModel,
};
use super::plan::a1;
use crate::domain::{Matricule, Money, ObjectiveCode};
use crate::sheet::{cells, Format, Limits, SheetError, Workbook};
use calamine::{Data, Range};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Largest file accepted (TIGER_STYLE: a limit on everything).
pub const MAX_WORKBOOK_BYTES: usize = 20 * 1024 * 1024;
/// Largest number of rows read in one sheet.
pub const MAX_ROWS: u32 = 100_000;

/// What reading a template may cost: [`MAX_WORKBOOK_BYTES`], [`MAX_ROWS`], and the extent of each
/// sheet ([`Limits::template`]).
pub fn limits() -> Limits {
    Limits {
        max_file_bytes: MAX_WORKBOOK_BYTES as u64,
        max_rows: u64::from(MAX_ROWS),
        ..Limits::template()
    }
}

/// A workbook that cannot be read, as a cell error naming the sheet (or the whole file).
fn unreadable(error: SheetError, default_sheet: &str) -> CellError {
    let message_fr = match &error {
        SheetError::Corrupt { .. } | SheetError::UnsupportedFormat(_) => {
            format!("fichier illisible : ce n'est pas un classeur Excel (.xlsx) valide ({error})")
        }
        _ => error.to_string(),
    };
    CellError {
        sheet: error.sheet().unwrap_or(default_sheet).to_string(),
        cell: String::new(),
        message_fr,
    }
}

fn open_template(bytes: &[u8]) -> Result<Workbook<'_>, SheetError> {
    Workbook::open("trame.xlsx", bytes, &limits(), &[Format::Xlsx])
}

/// An error located in the workbook: `Coûts externes!H12: montant illisible "12,3,4"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub sheet: String,
    /// A1 reference, empty when the error concerns the whole file or sheet.
    pub cell: String,
    pub message_fr: String,
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.sheet.is_empty(), self.cell.is_empty()) {
            (true, _) => write!(f, "{}", self.message_fr),
            (false, true) => write!(f, "{}: {}", self.sheet, self.message_fr),
            (false, false) => write!(f, "{}!{}: {}", self.sheet, self.cell, self.message_fr),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum LineKind {
    Internal,
    External,
    Other,
    Receipt,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InternalFields {
    pub matricule: Matricule,
    pub year: i32,
    pub gross: Money,
    pub charges: Money,
    pub ne_gross: Money,
    pub hours_productive: Decimal,
    pub hours_on_action: Decimal,
    pub objective: ObjectiveCode,
    pub contribution: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalFields {
    pub cost_type: CostType,
    pub order_date: Option<NaiveDate>,
    pub invoice_date: NaiveDate,
    pub order_number: String,
    pub invoice_number: String,
    pub supplier: String,
    pub label: String,
    pub amount: Money,
    /// Expense nature code.
    pub nature: String,
    pub objective: ObjectiveCode,
    pub contribution: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherFields {
    pub cost_type: CostType,
    pub date: NaiveDate,
    pub supplier: String,
    pub label: String,
    pub amount: Money,
    pub nature: String,
    pub objective: ObjectiveCode,
    pub contribution: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptFields {
    /// Objective group, letter-O form.
    pub group: ObjectiveCode,
    pub label: String,
    pub nature_provenance: String,
    pub amount: Money,
    pub received_on: Option<NaiveDate>,
}

/// The complete values of a line as the workbook gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LineFields {
    Internal(InternalFields),
    External(ExternalFields),
    Other(OtherFields),
    Receipt(ReceiptFields),
}

impl LineFields {
    pub fn kind(&self) -> LineKind {
        match self {
            LineFields::Internal(_) => LineKind::Internal,
            LineFields::External(_) => LineKind::External,
            LineFields::Other(_) => LineKind::Other,
            LineFields::Receipt(_) => LineKind::Receipt,
        }
    }
}

/// One change to the statement; the caller maps it to a ledger command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TemplateChange {
    /// A line added in a blank row.
    Declare { kind: LineKind, fields: LineFields },
    /// A known line whose values changed (the complete new values).
    Correct { line_id: String, fields: LineFields },
    /// A known line whose inputs were all cleared.
    Withdraw { line_id: String, kind: LineKind },
}

impl InternalFields {
    pub fn of(l: &InternalCostLine) -> InternalFields {
        InternalFields {
            matricule: l.matricule.clone(),
            year: l.year,
            gross: l.gross,
            charges: l.charges,
            ne_gross: l.ne_gross,
            hours_productive: l.hours_productive,
            hours_on_action: l.hours_on_action,
            objective: l.objective.clone(),
            contribution: l.contribution.trim().to_string(),
        }
    }
}

impl ExternalFields {
    pub fn of(l: &ExternalCostLine) -> ExternalFields {
        ExternalFields {
            cost_type: l.cost_type,
            order_date: l.order_date,
            invoice_date: l.invoice_date,
            order_number: l.order_number.trim().to_string(),
            invoice_number: l.invoice_number.trim().to_string(),
            supplier: l.supplier.trim().to_string(),
            label: l.label.trim().to_string(),
            amount: l.amount,
            nature: l.nature.clone(),
            objective: l.objective.clone(),
            contribution: l.contribution.trim().to_string(),
        }
    }
}

impl OtherFields {
    pub fn of(l: &OtherCostLine) -> OtherFields {
        OtherFields {
            cost_type: l.cost_type,
            date: l.date,
            supplier: l.supplier.trim().to_string(),
            label: l.label.trim().to_string(),
            amount: l.amount,
            nature: l.nature.clone(),
            objective: l.objective.clone(),
            contribution: l.contribution.trim().to_string(),
        }
    }
}

impl ReceiptFields {
    pub fn of(l: &ReceiptLine) -> ReceiptFields {
        ReceiptFields {
            group: l.group.clone(),
            label: l.label.trim().to_string(),
            nature_provenance: l.nature_provenance.trim().to_string(),
            amount: l.amount,
            received_on: l.received_on,
        }
    }
}

/// Reads a filled template against the current statement. Either every change, or every error.
/// The FINESS and domain a workbook says it belongs to (Synthèse), read before the statement is loaded.
pub fn peek_identity(bytes: &[u8]) -> Result<(String, String), CellError> {
    let whole = |message: String| CellError {
        sheet: layout::SYNTHESE.to_string(),
        cell: String::new(),
        message_fr: message,
    };
    if bytes.len() > MAX_WORKBOOK_BYTES {
        return Err(whole(format!(
            "fichier trop volumineux ({} octets, au plus {MAX_WORKBOOK_BYTES})",
            bytes.len()
        )));
    }
    let mut book = open_template(bytes).map_err(|e| unreadable(e, layout::SYNTHESE))?;
    let synthese = book
        .read_named(layout::SYNTHESE)
        .map_err(|e| unreadable(e, layout::SYNTHESE))?
        .ok_or_else(|| {
            whole(
                "classeur non reconnu : pas de feuille « Synthèse » d'une trame générée par le service"
                    .to_string(),
            )
        })?
        .range;
    Ok((
        text_at(&synthese, layout::SYNTHESE_FINESS_ROW, 1),
        text_at(&synthese, layout::SYNTHESE_DOMAIN_ROW, 1),
    ))
}

pub fn import_workbook(
    bytes: &[u8],
    current: &TemplateModel,
) -> Result<Vec<TemplateChange>, Vec<CellError>> {
    let whole = |message: String| {
        vec![CellError {
            sheet: String::new(),
            cell: String::new(),
            message_fr: message,
        }]
    };
    if bytes.len() > MAX_WORKBOOK_BYTES {
        return Err(whole(format!(
            "fichier trop volumineux ({} octets, au plus {MAX_WORKBOOK_BYTES})",
            bytes.len()
        )));
    }
    let mut book = open_template(bytes).map_err(|e| vec![unreadable(e, "")])?;
    let foreign = || {
        whole(format!(
            "classeur non reconnu : ce n'est pas une trame d'état financier générée par le service \
             (colonne d'identifiant « {} » absente). Téléchargez la trame du relevé et reportez-y vos lignes.",
            layout::ID_HEADER
        ))
    };
    // Each sheet within the limits (a sheet beyond them is an error naming it, not a missing sheet).
    let mut sheets: HashMap<&str, Range<Data>> = HashMap::new();
    for name in [
        layout::EXTERNES,
        layout::SYNTHESE,
        layout::INTERNES,
        layout::AUTRES,
        layout::RECETTES,
    ] {
        if let Some(sheet) = book
            .read_named(name)
            .map_err(|e| vec![unreadable(e, name)])?
        {
            sheets.insert(name, sheet.range);
        }
    }
    let mut sheet = |name: &str| -> Option<Range<Data>> { sheets.remove(name) };
    let external = sheet(layout::EXTERNES).ok_or_else(foreign)?;
    if text_at(&external, layout::HEADER_ROW, ext::ID) != layout::ID_HEADER {
        return Err(foreign());
    }
    let mut reader = Reader2 {
        model: current,
        errors: Vec::new(),
        changes: Vec::new(),
    };
    // Same statement, same ledger position.
    match sheet(layout::SYNTHESE) {
        Some(s) => reader.check_identity(&s),
        None => return Err(foreign()),
    }
    if !reader.errors.is_empty() {
        return Err(reader.errors);
    }
    if current.accepts_internal_costs {
        match sheet(layout::INTERNES) {
            Some(s) => reader.internal(&s),
            None => reader.sheet_missing(layout::INTERNES),
        }
    }
    reader.external(&external);
    match sheet(layout::AUTRES) {
        Some(s) => reader.other(&s),
        None => reader.sheet_missing(layout::AUTRES),
    }
    match sheet(layout::RECETTES) {
        Some(s) => reader.receipts(&s),
        None => reader.sheet_missing(layout::RECETTES),
    }
    if reader.errors.is_empty() {
        Ok(reader.changes)
    } else {
        Err(reader.errors)
    }
}

struct Reader2<'a> {
    model: &'a TemplateModel,
    errors: Vec<CellError>,
    changes: Vec<TemplateChange>,
}

fn cell(range: &Range<Data>, row: u32, col: u16) -> &Data {
    range
        .get_value((row, u32::from(col)))
        .unwrap_or(&Data::Empty)
}

fn is_blank(d: &Data) -> bool {
    match d {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A cell as text, as the user sees it (the shared rule: [`cells::cell_text`]).
fn text_of(d: &Data) -> String {
    cells::cell_text(d)
        .map(|t| t.into_owned())
        .unwrap_or_default()
}

fn text_at(range: &Range<Data>, row: u32, col: u16) -> String {
    text_of(cell(range, row, col))
}

/// Number of a cell as an exact decimal: a number cell by the shared float rule
/// ([`cells::decimal_from_f64`], 15 significant digits), a text cell as the domain reads amounts.
fn decimal_of(d: &Data) -> Result<Option<Decimal>, String> {
    if is_blank(d) {
        return Ok(None);
    }
    cells::decimal_with(d, |s| {
        crate::domain::money::parse_decimal_plain(s)
            .map_err(|e| cells::CellValueError::Malformed(e.to_string()))
    })
    .map_err(|e| match e {
        cells::CellValueError::Malformed(m) if m.starts_with("montant") => {
            m.replacen("montant", "nombre", 1)
        }
        other => other.to_string(),
    })
}

fn money_of(d: &Data) -> Result<Option<Money>, String> {
    match d {
        _ if is_blank(d) => Ok(None),
        Data::String(s) => Money::parse_amount(s).map(Some).map_err(|e| e.to_string()),
        Data::Float(_) | Data::Int(_) => {
            let text = text_of(d);
            let value = decimal_of(d)?.unwrap_or_default();
            Money::checked_input(value, &text)
                .map(Some)
                .map_err(|e| e.to_string())
        }
        other => Err(format!("montant illisible \"{}\"", text_of(other))),
    }
}

fn date_of(d: &Data) -> Result<Option<NaiveDate>, String> {
    cells::date_with(d, |t| {
        NaiveDate::parse_from_str(t, "%d/%m/%Y")
            .or_else(|_| NaiveDate::parse_from_str(t, "%Y-%m-%d"))
            .or_else(|_| NaiveDate::parse_from_str(t.get(..10).unwrap_or(t), "%Y-%m-%d"))
            .ok()
    })
    .map_err(|_| format!("date illisible \"{}\" (attendu jj/mm/aaaa)", text_of(d)))
}

/// Accumulates the fields of one row; each failure is recorded with its cell.
struct RowCtx<'r, 'a> {
    reader: &'r mut Reader2<'a>,
    range: &'r Range<Data>,
    sheet: &'static str,
    row: u32,
    ok: bool,
}

impl RowCtx<'_, '_> {
    fn fail(&mut self, col: u16, row: u32, message: String) {
        self.ok = false;
        self.reader.errors.push(CellError {
            sheet: self.sheet.to_string(),
            cell: a1(row, col),
            message_fr: message,
        });
    }

    fn required<T>(&mut self, col: u16, value: Option<T>, what: &str) -> Option<T> {
        if value.is_none() {
            let row = self.row;
            self.fail(col, row, format!("{what} obligatoire"));
        }
        value
    }

    fn text(&mut self, col: u16) -> String {
        text_at(self.range, self.row, col)
    }

    fn text_required(&mut self, col: u16, what: &str) -> Option<String> {
        let t = self.text(col);
        self.required(col, (!t.is_empty()).then_some(t), what)
    }

    fn money(&mut self, col: u16, row: u32) -> Option<Money> {
        match money_of(cell(self.range, row, col)) {
            Ok(v) => v,
            Err(m) => {
                self.fail(col, row, m);
                None
            }
        }
    }

    fn money_required(&mut self, col: u16, what: &str) -> Option<Money> {
        let row = self.row;
        let was_ok = self.ok;
        let v = self.money(col, row);
        if v.is_none() && self.ok == was_ok {
            self.fail(col, row, format!("{what} obligatoire"));
        }
        v
    }

    fn date(&mut self, col: u16) -> Result<Option<NaiveDate>, ()> {
        match date_of(cell(self.range, self.row, col)) {
            Ok(v) => Ok(v),
            Err(m) => {
                let row = self.row;
                self.fail(col, row, m);
                Err(())
            }
        }
    }

    fn date_required(&mut self, col: u16, what: &str) -> Option<NaiveDate> {
        match self.date(col) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                let row = self.row;
                self.fail(col, row, format!("{what} obligatoire"));
                None
            }
            Err(()) => None,
        }
    }

    fn objective(&mut self, col: u16) -> Option<ObjectiveCode> {
        let t = self.text(col);
        if t.is_empty() {
            let row = self.row;
            self.fail(col, row, "objectif obligatoire".into());
            return None;
        }
        match ObjectiveCode::parse(&t) {
            Ok(code) if self.reader.model.objectives.iter().any(|o| o.code == code) => Some(code),
            Ok(code) => {
                let row = self.row;
                self.fail(
                    col,
                    row,
                    format!("objectif \"{code}\" inconnu pour ce domaine"),
                );
                None
            }
            Err(e) => {
                let row = self.row;
                self.fail(col, row, e.to_string());
                None
            }
        }
    }

    fn nature(&mut self, col: u16) -> Option<String> {
        let t = self.text(col);
        let wanted = t.to_lowercase();
        let found = self
            .reader
            .model
            .expense_natures
            .iter()
            .find(|n| n.label.to_lowercase() == wanted || n.code.to_lowercase() == wanted);
        match found {
            Some(n) => Some(n.code.clone()),
            None => {
                let row = self.row;
                let message = if t.is_empty() {
                    "nature de dépense obligatoire".to_string()
                } else {
                    format!("nature de dépense \"{t}\" inconnue (choisir dans la liste)")
                };
                self.fail(col, row, message);
                None
            }
        }
    }

    fn cost_type(&mut self, col: u16) -> Option<CostType> {
        let t = self.text(col);
        let found = CostType::from_label_fr(&t);
        if found.is_none() {
            let row = self.row;
            let message = if t.is_empty() {
                "type de coût obligatoire".to_string()
            } else {
                format!("type de coût \"{t}\" inconnu (coût d'investissement ou coût récurrent)")
            };
            self.fail(col, row, message);
        }
        found
    }
}

impl<'a> Reader2<'a> {
    fn sheet_missing(&mut self, name: &str) {
        self.errors.push(CellError {
            sheet: name.to_string(),
            cell: String::new(),
            message_fr: "feuille absente du classeur".to_string(),
        });
    }

    fn err(&mut self, sheet: &str, row: u32, col: u16, message: String) {
        self.errors.push(CellError {
            sheet: sheet.to_string(),
            cell: a1(row, col),
            message_fr: message,
        });
    }

    fn check_identity(&mut self, s: &Range<Data>) {
        let finess = text_at(s, layout::SYNTHESE_FINESS_ROW, 1);
        if finess != self.model.candidate.finess.as_str() {
            self.err(
                layout::SYNTHESE,
                layout::SYNTHESE_FINESS_ROW,
                1,
                format!(
                    "ce classeur concerne le FINESS \"{finess}\", pas le candidat {} ({})",
                    self.model.candidate.finess, self.model.candidate.name
                ),
            );
        }
        let domain = text_at(s, layout::SYNTHESE_DOMAIN_ROW, 1);
        if domain != self.model.domain.as_str() {
            self.err(
                layout::SYNTHESE,
                layout::SYNTHESE_DOMAIN_ROW,
                1,
                format!(
                    "ce classeur concerne le domaine \"{domain}\", pas {}",
                    self.model.domain
                ),
            );
        }
        let position = text_at(s, layout::SYNTHESE_POSITION_ROW, 1);
        if position != self.model.ledger_position.to_string() {
            self.err(
                layout::SYNTHESE,
                layout::SYNTHESE_POSITION_ROW,
                1,
                format!(
                    "le relevé a changé depuis l'export (position {position}, actuelle {}) : \
                     téléchargez une trame à jour et reportez-y vos modifications",
                    self.model.ledger_position
                ),
            );
        }
    }

    /// Identity of a line row: the known line, or None for a blank row; errors for unknown ids.
    fn known<'l, T>(
        &mut self,
        (sheet, row, col): (&'static str, u32, u16),
        id: &str,
        lines: &'l [T],
        id_of: impl Fn(&T) -> &str,
        seen: &mut HashSet<String>,
    ) -> Result<Option<&'l T>, ()> {
        if id.is_empty() {
            return Ok(None);
        }
        if !seen.insert(id.to_string()) {
            self.err(sheet, row, col, format!("identifiant \"{id}\" en double"));
            return Err(());
        }
        match lines.iter().find(|l| id_of(l) == id) {
            Some(l) => Ok(Some(l)),
            None => {
                self.err(
                    sheet,
                    row,
                    col,
                    format!("ligne \"{id}\" inconnue du relevé (retirée depuis l'export ?)"),
                );
                Err(())
            }
        }
    }

    fn missing_lines<T>(
        &mut self,
        sheet: &str,
        lines: &[T],
        id_of: impl Fn(&T) -> &str,
        seen: &HashSet<String>,
    ) {
        for l in lines {
            let id = id_of(l);
            if !seen.contains(id) {
                self.errors.push(CellError {
                    sheet: sheet.to_string(),
                    cell: String::new(),
                    message_fr: format!(
                        "ligne \"{id}\" absente du classeur (pour retirer une ligne, videz ses cellules sans supprimer la ligne)"
                    ),
                });
            }
        }
    }

    fn push(&mut self, known_id: Option<&str>, fields: LineFields, old: Option<LineFields>) {
        match (known_id, old) {
            (Some(id), Some(old)) => {
                if old != fields {
                    self.changes.push(TemplateChange::Correct {
                        line_id: id.to_string(),
                        fields,
                    });
                }
            }
            _ => self.changes.push(TemplateChange::Declare {
                kind: fields.kind(),
                fields,
            }),
        }
    }

    /// Rows from the first data row to the `#TOTAL` marker of the identity column.
    fn line_rows(&mut self, range: &Range<Data>, sheet: &'static str, id_col: u16) -> Vec<u32> {
        let end = range.end().map(|(r, _)| r).unwrap_or(0).min(MAX_ROWS);
        let mut rows = Vec::new();
        for row in layout::FIRST_DATA_ROW..=end {
            if text_at(range, row, id_col) == layout::TOTAL_MARK {
                return rows;
            }
            rows.push(row);
        }
        self.errors.push(CellError {
            sheet: sheet.to_string(),
            cell: String::new(),
            message_fr: "ligne TOTAL introuvable : la structure de la feuille a été modifiée"
                .into(),
        });
        rows
    }

    fn external(&mut self, range: &Range<Data>) {
        let sheet = layout::EXTERNES;
        let inputs = [
            ext::TYPE,
            ext::ORDER_DATE,
            ext::INVOICE_DATE,
            ext::ORDER_NO,
            ext::INVOICE_NO,
            ext::SUPPLIER,
            ext::LABEL,
            ext::AMOUNT,
            ext::NATURE,
            ext::OBJECTIVE,
            ext::CONTRIBUTION,
        ];
        let model = self.model;
        let mut seen = HashSet::new();
        for row in self.line_rows(range, sheet, ext::ID) {
            let id = text_at(range, row, ext::ID);
            let Ok(known) = self.known(
                (sheet, row, ext::ID),
                &id,
                &model.external_costs,
                |l| l.line_id.as_str(),
                &mut seen,
            ) else {
                continue;
            };
            if inputs.iter().all(|c| is_blank(cell(range, row, *c))) {
                if let Some(l) = known {
                    self.changes.push(TemplateChange::Withdraw {
                        line_id: l.line_id.clone(),
                        kind: LineKind::External,
                    });
                }
                continue;
            }
            let mut c = RowCtx {
                reader: self,
                range,
                sheet,
                row,
                ok: true,
            };
            let cost_type = c.cost_type(ext::TYPE);
            let order_date = c.date(ext::ORDER_DATE).ok().flatten();
            let invoice_date = c.date_required(ext::INVOICE_DATE, "date de facture");
            let order_number = c.text(ext::ORDER_NO);
            let invoice_number = c.text_required(ext::INVOICE_NO, "n° de facture");
            let supplier = c.text_required(ext::SUPPLIER, "tiers");
            let label = c.text_required(ext::LABEL, "intitulé de la prestation");
            let amount = c.money_required(ext::AMOUNT, "montant");
            let nature = c.nature(ext::NATURE);
            let objective = c.objective(ext::OBJECTIVE);
            let contribution = c.text_required(ext::CONTRIBUTION, "contribution");
            if !c.ok {
                continue;
            }
            let (
                Some(cost_type),
                Some(invoice_date),
                Some(invoice_number),
                Some(supplier),
                Some(label),
                Some(amount),
                Some(nature),
                Some(objective),
                Some(contribution),
            ) = (
                cost_type,
                invoice_date,
                invoice_number,
                supplier,
                label,
                amount,
                nature,
                objective,
                contribution,
            )
            else {
                continue;
            };
            let fields = LineFields::External(ExternalFields {
                cost_type,
                order_date,
                invoice_date,
                order_number,
                invoice_number,
                supplier,
                label,
                amount,
                nature,
                objective,
                contribution,
            });
            let old = known.map(|l| LineFields::External(ExternalFields::of(l)));
            self.push(known.map(|l| l.line_id.as_str()), fields, old);
        }
        self.missing_lines(sheet, &model.external_costs, |l| l.line_id.as_str(), &seen);
    }

    fn other(&mut self, range: &Range<Data>) {
        let sheet = layout::AUTRES;
        if text_at(range, layout::HEADER_ROW, other::ID) != layout::ID_HEADER {
            self.err(
                sheet,
                layout::HEADER_ROW,
                other::ID,
                "colonne d'identifiant absente".into(),
            );
            return;
        }
        let inputs = [
            other::TYPE,
            other::DATE,
            other::SUPPLIER,
            other::LABEL,
            other::AMOUNT,
            other::NATURE,
            other::OBJECTIVE,
            other::CONTRIBUTION,
        ];
        let model = self.model;
        let mut seen = HashSet::new();
        for row in self.line_rows(range, sheet, other::ID) {
            let id = text_at(range, row, other::ID);
            let Ok(known) = self.known(
                (sheet, row, other::ID),
                &id,
                &model.other_costs,
                |l| l.line_id.as_str(),
                &mut seen,
            ) else {
                continue;
            };
            if inputs.iter().all(|c| is_blank(cell(range, row, *c))) {
                if let Some(l) = known {
                    self.changes.push(TemplateChange::Withdraw {
                        line_id: l.line_id.clone(),
                        kind: LineKind::Other,
                    });
                }
                continue;
            }
            let mut c = RowCtx {
                reader: self,
                range,
                sheet,
                row,
                ok: true,
            };
            let cost_type = c.cost_type(other::TYPE);
            let date = c.date_required(other::DATE, "date");
            let supplier = c.text_required(other::SUPPLIER, "tiers");
            let label = c.text_required(other::LABEL, "intitulé");
            let amount = c.money_required(other::AMOUNT, "montant");
            let nature = c.nature(other::NATURE);
            let objective = c.objective(other::OBJECTIVE);
            let contribution = c.text_required(other::CONTRIBUTION, "contribution");
            if !c.ok {
                continue;
            }
            let (
                Some(cost_type),
                Some(date),
                Some(supplier),
                Some(label),
                Some(amount),
                Some(nature),
                Some(objective),
                Some(contribution),
            ) = (
                cost_type,
                date,
                supplier,
                label,
                amount,
                nature,
                objective,
                contribution,
            )
            else {
                continue;
            };
            let fields = LineFields::Other(OtherFields {
                cost_type,
                date,
                supplier,
                label,
                amount,
                nature,
                objective,
                contribution,
            });
            let old = known.map(|l| LineFields::Other(OtherFields::of(l)));
            self.push(known.map(|l| l.line_id.as_str()), fields, old);
        }
        self.missing_lines(sheet, &model.other_costs, |l| l.line_id.as_str(), &seen);
    }

    fn receipts(&mut self, range: &Range<Data>) {
        let sheet = layout::RECETTES;
        let dh = super::export::receipts_detail_header_row(self.model.groups.len());
        if text_at(range, dh, receipts::ID) != layout::ID_HEADER {
            self.err(
                sheet,
                dh,
                receipts::ID,
                "colonne d'identifiant du détail des recettes absente".into(),
            );
            return;
        }
        let inputs = [
            receipts::GROUP,
            receipts::LABEL,
            receipts::NATURE,
            receipts::AMOUNT,
            receipts::DATE,
        ];
        let model = self.model;
        let mut seen = HashSet::new();
        let end = range.end().map(|(r, _)| r).unwrap_or(0).min(MAX_ROWS);
        for row in dh + 1..=end {
            let id = text_at(range, row, receipts::ID);
            let Ok(known) = self.known(
                (sheet, row, receipts::ID),
                &id,
                &model.receipts,
                |l| l.line_id.as_str(),
                &mut seen,
            ) else {
                continue;
            };
            if inputs.iter().all(|c| is_blank(cell(range, row, *c))) {
                if let Some(l) = known {
                    self.changes.push(TemplateChange::Withdraw {
                        line_id: l.line_id.clone(),
                        kind: LineKind::Receipt,
                    });
                }
                continue;
            }
            let mut c = RowCtx {
                reader: self,
                range,
                sheet,
                row,
                ok: true,
            };
            let group_text = c.text(receipts::GROUP);
            let group = match ObjectiveCode::parse(&group_text).map(|g| g.group()) {
                Ok(g) if model.groups.iter().any(|x| x.code == g) => Some(g),
                _ => {
                    let message = if group_text.is_empty() {
                        "n° de groupe d'objectifs obligatoire".to_string()
                    } else {
                        format!("groupe d'objectifs \"{group_text}\" inconnu (par exemple D1.01)")
                    };
                    c.fail(receipts::GROUP, row, message);
                    None
                }
            };
            let label = c.text(receipts::LABEL);
            let nature_provenance = c.text_required(receipts::NATURE, "nature / provenance");
            let amount = c.money_required(receipts::AMOUNT, "montant perçu");
            let received_on = c.date(receipts::DATE).ok().flatten();
            if !c.ok {
                continue;
            }
            let (Some(group), Some(nature_provenance), Some(amount)) =
                (group, nature_provenance, amount)
            else {
                continue;
            };
            let fields = LineFields::Receipt(ReceiptFields {
                group,
                label,
                nature_provenance,
                amount,
                received_on,
            });
            let old = known.map(|l| LineFields::Receipt(ReceiptFields::of(l)));
            self.push(known.map(|l| l.line_id.as_str()), fields, old);
        }
        self.missing_lines(sheet, &model.receipts, |l| l.line_id.as_str(), &seen);
    }

    fn internal(&mut self, range: &Range<Data>) {
        let sheet = layout::INTERNES;
        let model = self.model;
        let ny = model.years.len();
        let id_col = internal::id_col(ny);
        let obj_col = internal::objective_col(ny);
        let contrib_col = internal::contribution_col(ny);
        let mut seen = HashSet::new();
        let mut h = internal::FIRST_BLOCK_ROW;
        let mut blocks = 0u32;
        while text_at(range, h, id_col).starts_with(layout::BLOCK_MARK) && h < MAX_ROWS {
            blocks += 1;
            let identity = text_at(range, h, id_col);
            let ids: HashMap<i32, String> = identity
                .split('|')
                .skip(1)
                .filter_map(|part| {
                    let (y, id) = part.split_once('=')?;
                    Some((y.parse().ok()?, id.to_string()))
                })
                .collect();
            for (i, year) in model.years.iter().enumerate() {
                let c = internal::FIRST_YEAR + i as u16;
                let header = text_at(range, h + internal::YEARS, c);
                if header != year.to_string() {
                    self.err(
                        sheet,
                        h + internal::YEARS,
                        c,
                        format!("année \"{header}\" attendue {year}"),
                    );
                }
            }
            let r = |k: u32| h + internal::row(k);
            for (i, year) in model.years.iter().enumerate() {
                let c = internal::FIRST_YEAR + i as u16;
                let id = ids.get(year).cloned().unwrap_or_default();
                let Ok(known) = self.known(
                    (sheet, h, id_col),
                    &id,
                    &model.internal_costs,
                    |l| l.line_id.as_str(),
                    &mut seen,
                ) else {
                    continue;
                };
                let input_rows = [r(1), r(2), r(3), r(8), r(10)];
                if input_rows.iter().all(|row| is_blank(cell(range, *row, c))) {
                    if let Some(l) = known {
                        self.changes.push(TemplateChange::Withdraw {
                            line_id: l.line_id.clone(),
                            kind: LineKind::Internal,
                        });
                    }
                    continue;
                }
                let mut x = RowCtx {
                    reader: self,
                    range,
                    sheet,
                    row: h,
                    ok: true,
                };
                let matricule_text = x.text(internal::FIRST_YEAR);
                let matricule = match Matricule::parse(&matricule_text) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        let message = if matricule_text.is_empty() {
                            "matricule obligatoire".to_string()
                        } else {
                            e.to_string()
                        };
                        x.fail(internal::FIRST_YEAR, h, message);
                        None
                    }
                };
                x.row = r(1);
                let objective = x.objective(obj_col);
                let contribution = x.text_required(contrib_col, "contribution");
                x.row = r(1);
                let gross = x.money_required(c, "salaire brut annualisé");
                x.row = r(2);
                let charges = x.money_required(c, "charges patronales");
                let ne_gross = x.money(c, r(3)).unwrap_or(Money::ZERO);
                let hours = |x: &mut RowCtx, row: u32, what: &str| -> Option<Decimal> {
                    match decimal_of(cell(range, row, c)) {
                        Ok(Some(v)) if v > Decimal::ZERO => Some(v),
                        Ok(Some(v)) => {
                            x.fail(c, row, format!("{what} : {v} doit être positif"));
                            None
                        }
                        Ok(None) => {
                            x.fail(c, row, format!("{what} obligatoire"));
                            None
                        }
                        Err(m) => {
                            x.fail(c, row, m);
                            None
                        }
                    }
                };
                let hours_productive = hours(&mut x, r(8), "nombre d'heures productives");
                let hours_on_action = hours(&mut x, r(10), "nombre d'heures consacrées à l'action");
                if let (Some(hp), Some(ha)) = (hours_productive, hours_on_action) {
                    if ha > hp {
                        x.fail(c, r(10), format!("{ha} heures consacrées à l'action, au-delà des {hp} heures productives"));
                    }
                }
                if let (Some(g), Some(n)) = (gross, Some(ne_gross)) {
                    if n > g {
                        x.fail(
                            c,
                            r(3),
                            "éléments non éligibles supérieurs au salaire brut".into(),
                        );
                    }
                }
                if !x.ok {
                    continue;
                }
                let (
                    Some(matricule),
                    Some(objective),
                    Some(contribution),
                    Some(gross),
                    Some(charges),
                    Some(hours_productive),
                    Some(hours_on_action),
                ) = (
                    matricule,
                    objective,
                    contribution,
                    gross,
                    charges,
                    hours_productive,
                    hours_on_action,
                )
                else {
                    continue;
                };
                let fields = LineFields::Internal(InternalFields {
                    matricule,
                    year: *year,
                    gross,
                    charges,
                    ne_gross,
                    hours_productive,
                    hours_on_action,
                    objective,
                    contribution,
                });
                let old = known.map(|l| LineFields::Internal(InternalFields::of(l)));
                self.push(known.map(|l| l.line_id.as_str()), fields, old);
            }
            h += internal::BLOCK_HEIGHT;
        }
        if blocks == 0 {
            self.err(
                sheet,
                internal::FIRST_BLOCK_ROW,
                id_col,
                "aucun bloc salarié reconnu : la structure de la feuille a été modifiée".into(),
            );
        }
        self.missing_lines(sheet, &model.internal_costs, |l| l.line_id.as_str(), &seen);
    }
}
