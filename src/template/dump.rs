//! A text dump of a workbook plan, one fact per line: every cell (value or formula with its cached
//! result, style, quote prefix), column, row, merge, validation, freeze, print and protection setting,
//! the chart, the defined names, the properties, and the format of every style. Compared with a golden
//! file in the tests (in the spirit of rust_xlsxwriter's golden files), so that no cell drifts
//! unnoticed. Volatile fields (the generation instant) can be stripped.

use super::plan::{a1, needs_quote_prefix, Style, Value, WorkbookPlan};
use super::render::{formats, insert_rows_protection, FIT_TO_PAGES, FOOTER, PAPER_A4};
use std::fmt::Write;

/// Replaces the generation instant wherever the plan writes it.
pub const VOLATILE: &str = "<instant de génération>";

/// The dump of a plan; with `strip`, every occurrence of the given volatile texts is replaced.
pub fn dump_plan(plan: &WorkbookPlan, strip: &[&str]) -> String {
    let mut out = String::new();
    let clean = |text: &str| -> String {
        let mut t = text.to_string();
        for v in strip.iter().filter(|v| !v.is_empty()) {
            t = t.replace(v, VOLATILE);
        }
        t.replace('\n', "\\n")
    };
    let p = &plan.properties;
    let _ = writeln!(out, "[properties]");
    for (k, v) in [
        ("title", &p.title),
        ("subject", &p.subject),
        ("author", &p.author),
        ("company", &p.company),
        ("keywords", &p.keywords),
        ("comment", &p.comment),
        ("created", &p.created),
    ] {
        let _ = writeln!(out, "{k} = {}", clean(v));
    }
    for (k, v) in &p.custom {
        let _ = writeln!(out, "custom {k} = {}", clean(v));
    }
    let _ = writeln!(out, "[defined names]");
    for (name, formula) in &plan.defined_names {
        let _ = writeln!(out, "{name} {formula}");
    }
    let _ = writeln!(out, "[styles]");
    for (style, format) in Style::ALL.iter().zip(formats()) {
        let _ = writeln!(out, "{style:?} {format:?}");
    }
    let _ = writeln!(out, "footer {FOOTER}");
    let _ = writeln!(
        out,
        "print: every sheet landscape, paper {PAPER_A4}, fit to {} page(s) wide, {} tall",
        FIT_TO_PAGES.0, FIT_TO_PAGES.1
    );
    let o = insert_rows_protection();
    let _ = writeln!(
        out,
        "insert-rows protection: insert_rows={} format_rows={} format_columns={} delete_rows={} \
         select_locked={} select_unlocked={}",
        o.insert_rows,
        o.format_rows,
        o.format_columns,
        o.delete_rows,
        o.select_locked_cells,
        o.select_unlocked_cells
    );
    for sheet in &plan.sheets {
        let _ = writeln!(out, "[sheet {}]", sheet.name);
        let _ = writeln!(
            out,
            "hidden={} protect={} insert_rows={} freeze={:?} repeat_rows={:?}",
            sheet.hidden, sheet.protect, sheet.allow_insert_rows, sheet.freeze, sheet.repeat_rows
        );
        for c in &sheet.columns {
            let _ = writeln!(
                out,
                "column {} width={} hidden={}",
                c.col, c.width, c.hidden
            );
        }
        for r in &sheet.rows {
            let _ = writeln!(
                out,
                "row {} height={:?} hidden={}",
                r.row + 1,
                r.height,
                r.hidden
            );
        }
        for m in &sheet.merges {
            let _ = writeln!(
                out,
                "merge {}:{}",
                a1(m.first_row, m.first_col),
                a1(m.last_row, m.last_col)
            );
        }
        for v in &sheet.validations {
            let _ = writeln!(
                out,
                "validation {}:{} {} « {} » « {} »",
                a1(v.first_row, v.first_col),
                a1(v.last_row, v.last_col),
                v.source,
                v.title,
                v.message
            );
        }
        if let Some(chart) = &sheet.chart {
            let _ = writeln!(
                out,
                "chart at {} « {} » categories {} y « {} »",
                a1(chart.anchor_row, chart.anchor_col),
                clean(&chart.title),
                chart.categories,
                chart.y_axis_title
            );
            for s in &chart.series {
                let _ = writeln!(out, "series {:?} « {} » {}", s.kind, s.name, s.values);
            }
        }
        let mut cells: Vec<_> = sheet.cells.iter().collect();
        cells.sort_by_key(|c| (c.row, c.col));
        for c in cells {
            let at = a1(c.row, c.col);
            let style = format!("{:?}", c.style);
            let line = match &c.value {
                Value::Text(t) if needs_quote_prefix(t) => {
                    format!("{at} {style}+quote text {:?}", clean(t))
                }
                Value::Text(t) => format!("{at} {style} text {:?}", clean(t)),
                Value::Number(n) => format!("{at} {style} number {n:?}"),
                Value::Date(d) => format!("{at} {style} date {d}"),
                Value::Formula { formula, result } => {
                    format!("{at} {style} ={formula} → {result}")
                }
                Value::Blank => format!("{at} {style} blank"),
            };
            let _ = writeln!(out, "{line}");
        }
    }
    out
}
