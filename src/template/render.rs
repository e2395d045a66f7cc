//! Writes a [`WorkbookPlan`] with rust_xlsxwriter. Text cells are written with `write_string`
//! whatever they start with (`=`, `+`, `-`, `@`): user text never becomes a formula.

use super::plan::{needs_quote_prefix, SeriesKind, Style, Value, WorkbookPlan};
use rust_xlsxwriter::{
    Chart, ChartType, Color, DataValidation, DocProperties, Format, FormatAlign, FormatBorder,
    Formula, ProtectionOptions, Workbook, XlsxError,
};

/// Colours shared with the Python bench script.
pub const INPUT_FILL: u32 = 0xFFF2CC;
pub const FORMULA_FILL: u32 = 0xF2F2F2;
pub const HEADER_FILL: u32 = 0x1F4E79;
pub const TOTAL_FILL: u32 = 0xDDEBF7;

pub const MONEY_FORMAT: &str = "#,##0.00\\ \"€\"";
pub const DATE_FORMAT: &str = "dd/mm/yyyy";
pub const HOURS_FORMAT: &str = "#,##0.00";
pub const PERCENT_FORMAT: &str = "0.0%";

/// Printed at the bottom of every page: the sheet and the page number.
pub const FOOTER: &str = "&L&A&RPage &P sur &N";
/// Every sheet prints landscape on A4 (paper size 9), fitted to one page wide and as many pages tall
/// as needed.
pub const PAPER_A4: u8 = 9;
pub const FIT_TO_PAGES: (u16, u16) = (1, 0);

/// Protection of a line sheet: locked cells stay locked, rows may be inserted (a table grows as
/// needed; totals and lists over the table follow), rows and columns resized.
pub fn insert_rows_protection() -> ProtectionOptions {
    ProtectionOptions {
        insert_rows: true,
        format_rows: true,
        format_columns: true,
        ..ProtectionOptions::default()
    }
}

/// The format of each style, in [`Style::ALL`] order.
pub fn formats() -> Vec<Format> {
    Style::ALL.iter().map(|s| format_of(*s)).collect()
}

fn format_of(style: Style) -> Format {
    let thin = |f: Format| f.set_border(FormatBorder::Thin).set_border_color(0xBFBFBF);
    let input = |f: Format| {
        thin(
            f.set_unlocked()
                .set_background_color(Color::RGB(INPUT_FILL)),
        )
    };
    let computed = |f: Format| thin(f.set_background_color(Color::RGB(FORMULA_FILL)));
    match style {
        Style::Title => Format::new().set_bold().set_font_size(14),
        Style::Subtitle => Format::new().set_italic().set_font_color(0x595959),
        Style::Header => thin(
            Format::new()
                .set_bold()
                .set_font_color(Color::White)
                .set_background_color(Color::RGB(HEADER_FILL))
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
        ),
        Style::Label => thin(Format::new()),
        Style::LabelBold => thin(Format::new().set_bold()),
        Style::Text => thin(Format::new()),
        Style::TextInput => input(Format::new()),
        Style::Money => thin(Format::new().set_num_format(MONEY_FORMAT)),
        Style::MoneyInput => input(Format::new().set_num_format(MONEY_FORMAT)),
        Style::MoneyFormula => computed(Format::new().set_num_format(MONEY_FORMAT)),
        Style::MoneyTotal => thin(
            Format::new()
                .set_bold()
                .set_num_format(MONEY_FORMAT)
                .set_background_color(Color::RGB(TOTAL_FILL)),
        ),
        Style::Date => thin(Format::new().set_num_format(DATE_FORMAT)),
        Style::DateInput => input(Format::new().set_num_format(DATE_FORMAT)),
        Style::HoursInput => input(Format::new().set_num_format(HOURS_FORMAT)),
        Style::RateFormula => computed(Format::new().set_num_format(HOURS_FORMAT)),
        Style::Percent => thin(Format::new().set_num_format(PERCENT_FORMAT)),
        Style::PercentFormula => computed(Format::new().set_num_format(PERCENT_FORMAT)),
        Style::Identity => Format::new().set_hidden().set_font_color(0x808080),
        Style::Integer => thin(Format::new().set_num_format("#,##0")),
        Style::TextWrap => thin(Format::new().set_text_wrap().set_align(FormatAlign::Top)),
        Style::Year => thin(
            Format::new()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_background_color(Color::RGB(TOTAL_FILL)),
        ),
    }
}

/// The format of each style with the quote prefix, for text that starts like a formula.
pub fn quoted_formats() -> Vec<Format> {
    Style::ALL
        .iter()
        .map(|s| format_of(*s).set_quote_prefix())
        .collect()
}

/// Renders the plan into the bytes of an `.xlsx`.
pub fn render(plan: &WorkbookPlan) -> Result<Vec<u8>, XlsxError> {
    let formats = formats();
    let quoted = quoted_formats();
    let mut workbook = Workbook::new();
    let p = &plan.properties;
    let mut properties = DocProperties::new()
        .set_title(&p.title)
        .set_subject(&p.subject)
        .set_author(&p.author)
        .set_company(&p.company)
        .set_keywords(&p.keywords)
        .set_comment(&p.comment);
    if let Ok(created) = chrono::DateTime::parse_from_rfc3339(&p.created) {
        properties = properties.set_creation_datetime(&created.with_timezone(&chrono::Utc));
    }
    for (name, value) in &p.custom {
        properties = properties.set_custom_property(name, value.as_str());
    }
    workbook.set_properties(&properties);

    for sheet in &plan.sheets {
        let ws = workbook.add_worksheet();
        ws.set_name(&sheet.name)?;
        for c in &sheet.columns {
            ws.set_column_width(c.col, c.width)?;
            if c.hidden {
                ws.set_column_hidden(c.col)?;
            }
        }
        for r in &sheet.rows {
            if let Some(height) = r.height {
                ws.set_row_height(r.row, height)?;
            }
            if r.hidden {
                ws.set_row_hidden(r.row)?;
            }
        }
        for m in &sheet.merges {
            let style = sheet
                .cells
                .iter()
                .find(|c| c.row == m.first_row && c.col == m.first_col)
                .map(|c| c.style)
                .unwrap_or(Style::Text);
            ws.merge_range(
                m.first_row,
                m.first_col,
                m.last_row,
                m.last_col,
                "",
                &formats[style.index()],
            )?;
        }
        for cell in &sheet.cells {
            let f = &formats[cell.style.index()];
            match &cell.value {
                Value::Text(t) if needs_quote_prefix(t) => {
                    ws.write_string_with_format(
                        cell.row,
                        cell.col,
                        t,
                        &quoted[cell.style.index()],
                    )?;
                }
                Value::Text(t) => {
                    ws.write_string_with_format(cell.row, cell.col, t, f)?;
                }
                Value::Number(n) => {
                    ws.write_number_with_format(cell.row, cell.col, *n, f)?;
                }
                Value::Date(d) => {
                    ws.write_date_with_format(cell.row, cell.col, d, f)?;
                }
                Value::Formula { formula, result } => {
                    ws.write_formula_with_format(
                        cell.row,
                        cell.col,
                        Formula::new(formula).set_result(result.as_str()),
                        f,
                    )?;
                }
                Value::Blank => {
                    ws.write_blank(cell.row, cell.col, f)?;
                }
            }
        }
        if let Some((row, col)) = sheet.freeze {
            ws.set_freeze_panes(row, col)?;
        }
        for v in &sheet.validations {
            let validation = DataValidation::new()
                .allow_list_formula(Formula::new(&v.source))
                .set_input_title(&v.title)?
                .set_input_message(&v.message)?;
            ws.add_data_validation(
                v.first_row,
                v.first_col,
                v.last_row,
                v.last_col,
                &validation,
            )?;
        }
        if let Some(chart_plan) = &sheet.chart {
            let mut chart = Chart::new(ChartType::Column);
            chart.title().set_name(&chart_plan.title);
            chart.y_axis().set_name(&chart_plan.y_axis_title);
            let mut line = Chart::new(ChartType::Line);
            let mut has_line = false;
            for s in &chart_plan.series {
                let target = match s.kind {
                    SeriesKind::Column => &mut chart,
                    SeriesKind::Line => {
                        has_line = true;
                        &mut line
                    }
                };
                target
                    .add_series()
                    .set_name(s.name.as_str())
                    .set_categories(chart_plan.categories.as_str())
                    .set_values(s.values.as_str());
            }
            if has_line {
                chart.combine(&line);
            }
            chart.set_width(640).set_height(360);
            ws.insert_chart(chart_plan.anchor_row, chart_plan.anchor_col, &chart)?;
        }
        ws.set_landscape();
        ws.set_paper_size(PAPER_A4);
        ws.set_print_fit_to_pages(FIT_TO_PAGES.0, FIT_TO_PAGES.1);
        ws.set_footer(FOOTER);
        if let Some((first, last)) = sheet.repeat_rows {
            ws.set_repeat_rows(first, last)?;
        }
        if sheet.hidden {
            ws.set_hidden(true);
        }
        if sheet.protect && sheet.allow_insert_rows {
            ws.protect_with_options(&insert_rows_protection());
        } else if sheet.protect {
            ws.protect();
        }
    }
    for (name, formula) in &plan.defined_names {
        workbook.define_name(name, formula)?;
    }
    workbook.save_to_buffer()
}
