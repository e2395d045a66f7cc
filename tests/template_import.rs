//! Importing a filled template: round trips, declared / corrected / withdrawn lines, and broken files
//! (unreadable amount named by sheet and cell, foreign workbook, corrupt file), all or nothing.

mod template_support;

use care_ledger::domain::Money;
use care_ledger::template::export::plan_workbook;
use care_ledger::template::import::{ExternalFields, InternalFields};
use care_ledger::template::model::TemplateModel;
use care_ledger::template::plan::Value;
use care_ledger::template::{
    export_workbook, import_workbook, render, LineFields, LineKind, TemplateChange,
};
use rust_decimal_macros::dec;
use template_support::*;

fn sample() -> TemplateModel {
    TemplateModel::sample()
}

#[test]
fn export_then_import_gives_no_change() {
    let model = sample();
    let bytes = export_workbook(&model).unwrap();
    assert_eq!(import_workbook(&bytes, &model).unwrap(), vec![]);
}

#[test]
fn generated_statements_round_trip_without_change() {
    for seed in 1..=5 {
        let model = care_ledger::template::bench::generate_statement(seed, 50);
        let bytes = export_workbook(&model).unwrap();
        assert_eq!(
            import_workbook(&bytes, &model).unwrap(),
            vec![],
            "seed {seed}"
        );
    }
}

#[test]
fn changing_one_amount_gives_exactly_one_correction() {
    let model = sample();
    let mut plan = plan_workbook(&model);
    edit(&mut plan, "Coûts externes", "H6", Value::Number(27500.5));
    let changes = import_workbook(&render::render(&plan).unwrap(), &model).unwrap();
    let mut expected = ExternalFields::of(&model.external_costs[1]);
    expected.amount = Money::from_cents(2_750_050);
    assert_eq!(
        changes,
        vec![TemplateChange::Correct {
            line_id: "EC-0002".into(),
            fields: LineFields::External(expected)
        }]
    );
}

#[test]
fn an_amount_typed_as_french_text_is_read_exactly() {
    let model = sample();
    let mut plan = plan_workbook(&model);
    edit(&mut plan, "Coûts externes", "H5", text("14 520,10 €"));
    let changes = import_workbook(&render::render(&plan).unwrap(), &model).unwrap();
    assert_eq!(changes.len(), 1);
    let TemplateChange::Correct {
        fields: LineFields::External(f),
        ..
    } = &changes[0]
    else {
        panic!("{changes:?}")
    };
    assert_eq!(f.amount, Money::from_cents(1_452_010));
}

#[test]
fn a_line_added_in_a_blank_row_is_declared() {
    let model = sample();
    let mut plan = plan_workbook(&model);
    let row = 8; // first blank row after the three invoices
    for (col, value) in [
        ("A", text("Coût récurrent")),
        ("B", text("03/06/2026")),
        ("C", text("30/06/2026")),
        ("D", text("BC-77")),
        ("E", text("F-2026-77")),
        ("F", text("Audit Conseil SARL")),
        ("G", text("Audit ADS complémentaire")),
        ("H", Value::Number(1234.56)),
        ("I", text("Prestations externes")),
        ("J", text("D1.01.A")),
        ("K", text("Second audit de l'annuaire")),
    ] {
        edit(&mut plan, "Coûts externes", &format!("{col}{row}"), value);
    }
    let changes = import_workbook(&render::render(&plan).unwrap(), &model).unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    let TemplateChange::Declare {
        kind,
        fields: LineFields::External(f),
    } = &changes[0]
    else {
        panic!("{changes:?}")
    };
    assert_eq!(*kind, LineKind::External);
    assert_eq!(f.amount, Money::from_cents(123_456));
    assert_eq!(
        f.objective.as_str(),
        "D1.O1.A",
        "digit-zero spelling accepted"
    );
    assert_eq!(f.nature, "PRESTATION_EXTERNE");
    assert_eq!(f.invoice_date.to_string(), "2026-06-30");
}

#[test]
fn a_cleared_line_is_withdrawn() {
    let model = sample();
    let mut plan = plan_workbook(&model);
    for col in ["A", "B", "C", "D", "E", "F", "G", "H"] {
        edit(&mut plan, "Autres coûts", &format!("{col}6"), Value::Blank);
    }
    let changes = import_workbook(&render::render(&plan).unwrap(), &model).unwrap();
    assert_eq!(
        changes,
        vec![TemplateChange::Withdraw {
            line_id: "OC-0002".into(),
            kind: LineKind::Other
        }]
    );
}

#[test]
fn internal_costs_are_corrected_per_year_and_a_new_employee_is_declared() {
    let model = sample();
    let mut plan = plan_workbook(&model);
    // The seed's employee: 130 hours instead of 120.
    edit(&mut plan, "Coûts internes", "B15", Value::Number(130.0));
    // A new employee in the first blank block (blocks 3 and 4 hold the sample's lines).
    let h = 4 + 2 * 16; // Excel row of the block's matricule
    edit(&mut plan, "Coûts internes", &format!("B{h}"), text("Z99"));
    edit(
        &mut plan,
        "Coûts internes",
        &format!("E{}", h + 2),
        text("D1.O3"),
    );
    edit(
        &mut plan,
        "Coûts internes",
        &format!("F{}", h + 2),
        text("Exercice de crise"),
    );
    edit(
        &mut plan,
        "Coûts internes",
        &format!("C{}", h + 2),
        Value::Number(40000.0),
    );
    edit(
        &mut plan,
        "Coûts internes",
        &format!("C{}", h + 3),
        Value::Number(18000.0),
    );
    edit(
        &mut plan,
        "Coûts internes",
        &format!("C{}", h + 9),
        Value::Number(1607.0),
    );
    edit(
        &mut plan,
        "Coûts internes",
        &format!("C{}", h + 11),
        Value::Number(35.5),
    );
    let changes = import_workbook(&render::render(&plan).unwrap(), &model).unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    let mut corrected = InternalFields::of(&model.internal_costs[0]);
    corrected.hours_on_action = dec!(130);
    assert_eq!(
        changes[0],
        TemplateChange::Correct {
            line_id: "IC-0001".into(),
            fields: LineFields::Internal(corrected)
        }
    );
    let TemplateChange::Declare {
        fields: LineFields::Internal(f),
        ..
    } = &changes[1]
    else {
        panic!("{changes:?}")
    };
    assert_eq!((f.matricule.as_str(), f.year), ("Z99", 2027));
    assert_eq!(f.hours_on_action, dec!(35.5));
    assert_eq!(f.ne_gross, Money::ZERO);
}

#[test]
fn an_unreadable_amount_is_named_by_sheet_and_cell_and_nothing_changes() {
    let model = sample();
    let mut plan = plan_workbook(&model);
    edit(&mut plan, "Coûts externes", "H6", Value::Number(1.0)); // a valid change elsewhere...
    edit(&mut plan, "Coûts externes", "H12", text("12,3,4")); // ...and a broken blank row
    for col in ["A", "C", "E", "F", "G", "I", "J", "K"] {
        edit(&mut plan, "Coûts externes", &format!("{col}12"), text("x"));
    }
    let errors = import_workbook(&render::render(&plan).unwrap(), &model).unwrap_err();
    let messages: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert!(
        messages.contains(&"Coûts externes!H12: montant illisible \"12,3,4\"".to_string()),
        "{messages:?}"
    );
    assert!(errors.iter().all(|e| e.sheet == "Coûts externes"));
}

#[test]
fn more_than_two_decimals_and_unknown_objective_are_refused_with_their_cells() {
    let model = sample();
    let mut plan = plan_workbook(&model);
    edit(&mut plan, "Autres coûts", "E5", Value::Number(10.123));
    edit(&mut plan, "Autres coûts", "G5", text("D9.O1"));
    let errors = import_workbook(&render::render(&plan).unwrap(), &model).unwrap_err();
    let cells: Vec<&str> = errors.iter().map(|e| e.cell.as_str()).collect();
    assert_eq!(cells, vec!["E5", "G5"], "{errors:?}");
    assert!(errors[0].message_fr.contains("plus de 2 décimales"));
    assert!(errors[1].message_fr.contains("inconnu"));
}

#[test]
fn a_workbook_that_is_not_ours_is_refused_with_a_clear_message() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("Coûts externes").unwrap();
    ws.write_string(3, 0, "Type de coût").unwrap();
    ws.write_number(4, 7, 100.0).unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let errors = import_workbook(&bytes, &sample()).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message_fr.starts_with("classeur non reconnu"),
        "{errors:?}"
    );
    assert!(errors[0]
        .message_fr
        .contains("Identifiant (ne pas modifier)"));
}

#[test]
fn a_corrupt_file_is_refused() {
    let mut bytes = export_workbook(&sample()).unwrap();
    bytes.truncate(bytes.len() / 2);
    let errors = import_workbook(&bytes, &sample()).unwrap_err();
    assert!(
        errors[0].message_fr.starts_with("fichier illisible"),
        "{errors:?}"
    );
    let errors = import_workbook(b"not a workbook at all", &sample()).unwrap_err();
    assert!(errors[0].message_fr.starts_with("fichier illisible"));
}

#[test]
fn another_candidates_workbook_or_a_stale_one_is_refused() {
    let model = sample();
    let bytes = export_workbook(&model).unwrap();
    let mut other = model.clone();
    other.candidate.finess = care_ledger::domain::Finess::with_check_digit("13000002").unwrap();
    let errors = import_workbook(&bytes, &other).unwrap_err();
    assert_eq!(errors[0].to_string().split(':').next(), Some("Synthèse!B3"));
    let mut later = model.clone();
    later.ledger_position += 1;
    let errors = import_workbook(&bytes, &later).unwrap_err();
    assert_eq!(errors[0].cell, "B6");
    assert!(errors[0].message_fr.contains("a changé depuis l'export"));
}

/// A clinic with more invoices than blank rows inserts rows above TOTAL (the sheet's protection
/// allows it): every row up to TOTAL is read, the hundred blank ones and the inserted ones alike.
#[test]
fn every_row_filled_up_to_total_is_declared_the_blank_ones_and_rows_inserted_beyond_them() {
    const INSERTED: u32 = 5;
    let model = sample();
    let mut plan = plan_workbook(&model);
    let sheet = plan
        .sheets
        .iter_mut()
        .find(|s| s.name == "Coûts externes")
        .unwrap();
    let total_row = sheet
        .cells
        .iter()
        .find(|c| matches!(&c.value, Value::Text(t) if t == "#TOTAL"))
        .map(|c| c.row)
        .unwrap();
    assert_eq!(
        total_row, 107,
        "three invoices and a hundred blank rows (0-based)"
    );
    for c in sheet.cells.iter_mut().filter(|c| c.row >= total_row) {
        c.row += INSERTED;
    }
    // Excel rows 8 to 112: the 100 blank rows, then the 5 inserted ones.
    let rows: Vec<u32> = (8..8 + 100 + INSERTED).collect();
    for (i, row) in rows.iter().enumerate() {
        for (col, value) in [
            ("A", text("Coût récurrent")),
            ("B", text("03/06/2026")),
            ("C", text("30/06/2026")),
            ("D", text(&format!("BC-{i}"))),
            ("E", text(&format!("F-2026-{i:03}"))),
            ("F", text("Audit Conseil SARL")),
            ("G", text("Audit ADS complémentaire")),
            ("H", Value::Number(100.0 + i as f64)),
            ("I", text("Prestations externes")),
            ("J", text("D1.O1.A")),
            ("K", text("Audit")),
        ] {
            edit(&mut plan, "Coûts externes", &format!("{col}{row}"), value);
        }
    }
    let changes = import_workbook(&render::render(&plan).unwrap(), &model).unwrap();
    assert_eq!(
        changes.len(),
        105,
        "every filled row, inserted ones included"
    );
    let amounts: Vec<Money> = changes
        .iter()
        .map(|c| match c {
            TemplateChange::Declare {
                fields: LineFields::External(f),
                ..
            } => f.amount,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(amounts[0], Money::from_cents(10_000));
    assert_eq!(
        amounts[104],
        Money::from_cents(20_400),
        "the last inserted row"
    );
}
