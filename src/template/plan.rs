//! A workbook as a plan: cells (value, style), columns, panes, validations, chart, properties.
//! The exporter lays the model out into a plan; [`super::render`] writes the plan with
//! rust_xlsxwriter. The bench serialises the same plan for the Python XlsxWriter script, so both
//! write exactly the same cells, formulas, formats and chart.

use chrono::NaiveDate;
use serde::Serialize;

/// The formats of the template. Each maps to one format in both writers (render.rs and
/// scripts/bench_template_xlsxwriter.py); "input" styles are unlocked and visibly distinct (yellow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Style {
    Title,
    Subtitle,
    Header,
    Label,
    LabelBold,
    /// Text written by the service, locked.
    Text,
    /// Text the user may edit.
    TextInput,
    /// Amount written by the service (e.g. retained after review), locked.
    Money,
    MoneyInput,
    /// A formula giving an amount, locked, grey.
    MoneyFormula,
    MoneyTotal,
    Date,
    DateInput,
    /// Hours (two decimals).
    HoursInput,
    /// Hourly rate: formula, shown with 2 decimals, unrounded value.
    RateFormula,
    Percent,
    PercentFormula,
    /// The hidden, locked identity column.
    Identity,
    Year,
    /// A whole number written by the service (a file size), locked.
    Integer,
    /// Long text written by the service (explanations, labels), locked, wrapped, top-aligned.
    TextWrap,
}

impl Style {
    pub const ALL: [Style; 21] = [
        Style::Title,
        Style::Subtitle,
        Style::Header,
        Style::Label,
        Style::LabelBold,
        Style::Text,
        Style::TextInput,
        Style::Money,
        Style::MoneyInput,
        Style::MoneyFormula,
        Style::MoneyTotal,
        Style::Date,
        Style::DateInput,
        Style::HoursInput,
        Style::RateFormula,
        Style::Percent,
        Style::PercentFormula,
        Style::Identity,
        Style::Year,
        Style::Integer,
        Style::TextWrap,
    ];

    pub fn index(self) -> usize {
        Style::ALL
            .iter()
            .position(|s| *s == self)
            .unwrap_or_default()
    }
}

/// Whether a text would read as a formula if typed (`=`, `+`, `-`, `@`): it is written with the
/// quote-prefix style, so editing the cell (F2, Enter) keeps it text.
pub fn needs_quote_prefix(text: &str) -> bool {
    matches!(text.chars().next(), Some('=' | '+' | '-' | '@'))
}

/// A cell's content. `Text` is always written as a string, whatever it starts with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Value {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    /// English-syntax formula without the leading `=`, with its cached result.
    Formula {
        formula: String,
        result: String,
    },
    Blank,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellPlan {
    pub row: u32,
    pub col: u16,
    pub value: Value,
    pub style: Style,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnPlan {
    pub col: u16,
    pub width: f64,
    pub hidden: bool,
}

/// A drop-down list over a range of cells; `source` is a formula such as `=Listes!$A$2:$A$8`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationPlan {
    pub first_row: u32,
    pub first_col: u16,
    pub last_row: u32,
    pub last_col: u16,
    pub source: String,
    pub title: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SeriesKind {
    Column,
    Line,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPlan {
    pub name: String,
    /// Range formula, e.g. `='Synthèse'!$D$20:$D$25`.
    pub values: String,
    pub kind: SeriesKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartPlan {
    pub title: String,
    pub categories: String,
    pub series: Vec<SeriesPlan>,
    pub anchor_row: u32,
    pub anchor_col: u16,
    pub y_axis_title: String,
}

/// A block of cells shown as one; the value is the plan's cell at its top-left corner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MergePlan {
    pub first_row: u32,
    pub first_col: u16,
    pub last_row: u32,
    pub last_col: u16,
}

/// A row's height (points) or its hiding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowPlan {
    pub row: u32,
    pub height: Option<f64>,
    pub hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SheetPlan {
    pub name: String,
    pub cells: Vec<CellPlan>,
    pub columns: Vec<ColumnPlan>,
    pub freeze: Option<(u32, u16)>,
    pub validations: Vec<ValidationPlan>,
    pub chart: Option<ChartPlan>,
    pub hidden: bool,
    pub protect: bool,
    /// Rows with a set height or hidden, in the order set.
    pub rows: Vec<RowPlan>,
    pub merges: Vec<MergePlan>,
    /// Rows printed at the top of every page (first, last).
    pub repeat_rows: Option<(u32, u32)>,
    /// Protection lets users insert rows (and resize rows and columns): a line table grows as needed.
    pub allow_insert_rows: bool,
}

impl SheetPlan {
    pub fn new(name: &str) -> SheetPlan {
        SheetPlan {
            name: name.to_string(),
            cells: Vec::new(),
            columns: Vec::new(),
            freeze: None,
            validations: Vec::new(),
            chart: None,
            hidden: false,
            protect: true,
            rows: Vec::new(),
            merges: Vec::new(),
            repeat_rows: None,
            allow_insert_rows: false,
        }
    }

    /// Merges a block of cells (the value is the top-left cell's).
    pub fn merge(&mut self, first_row: u32, first_col: u16, last_row: u32, last_col: u16) {
        self.merges.push(MergePlan {
            first_row,
            first_col,
            last_row,
            last_col,
        });
    }

    /// Hides a row (its cells stay, and formulas over it still count them).
    pub fn hide_row(&mut self, row: u32) {
        self.rows.push(RowPlan {
            row,
            height: None,
            hidden: true,
        });
    }

    /// Sets a row's height in points.
    pub fn row_height(&mut self, row: u32, height: f64) {
        self.rows.push(RowPlan {
            row,
            height: Some(height),
            hidden: false,
        });
    }

    pub fn text(&mut self, row: u32, col: u16, text: impl Into<String>, style: Style) {
        self.cells.push(CellPlan {
            row,
            col,
            value: Value::Text(text.into()),
            style,
        });
    }

    pub fn number(&mut self, row: u32, col: u16, value: f64, style: Style) {
        self.cells.push(CellPlan {
            row,
            col,
            value: Value::Number(value),
            style,
        });
    }

    pub fn date(&mut self, row: u32, col: u16, value: NaiveDate, style: Style) {
        self.cells.push(CellPlan {
            row,
            col,
            value: Value::Date(value),
            style,
        });
    }

    pub fn formula(
        &mut self,
        row: u32,
        col: u16,
        formula: impl Into<String>,
        result: impl Into<String>,
        style: Style,
    ) {
        self.cells.push(CellPlan {
            row,
            col,
            value: Value::Formula {
                formula: formula.into(),
                result: result.into(),
            },
            style,
        });
    }

    pub fn blank(&mut self, row: u32, col: u16, style: Style) {
        self.cells.push(CellPlan {
            row,
            col,
            value: Value::Blank,
            style,
        });
    }

    pub fn column(&mut self, col: u16, width: f64) {
        self.columns.push(ColumnPlan {
            col,
            width,
            hidden: false,
        });
    }

    pub fn hidden_column(&mut self, col: u16) {
        self.columns.push(ColumnPlan {
            col,
            width: 14.0,
            hidden: true,
        });
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertiesPlan {
    pub title: String,
    pub subject: String,
    pub author: String,
    pub company: String,
    pub keywords: String,
    pub comment: String,
    /// Creation instant as RFC 3339 (the generation instant, so the file is reproducible).
    pub created: String,
    pub custom: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkbookPlan {
    pub sheets: Vec<SheetPlan>,
    pub properties: PropertiesPlan,
    /// (name, formula) workbook-level names, e.g. ("Subvention", "='Synthèse'!$B$40").
    pub defined_names: Vec<(String, String)>,
}

/// Column letters of a 0-based column index (`0` → `A`, `27` → `AB`).
pub fn col_letters(col: u16) -> String {
    let mut n = u32::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A1 reference of a 0-based cell (`(4, 7)` → `H5`).
pub fn a1(row: u32, col: u16) -> String {
    format!("{}{}", col_letters(col), row + 1)
}

/// Absolute A1 reference (`$H$5`).
pub fn abs(row: u32, col: u16) -> String {
    format!("${}${}", col_letters(col), row + 1)
}

/// A sheet name quoted for a formula (`'Coûts externes'`).
pub fn sheet_ref(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}
