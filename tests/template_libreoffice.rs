//! A real spreadsheet engine recalculates every formula of the exported workbooks and must find the
//! service's figures to the cent. Skipped, with a message, when LibreOffice is absent
//! (`scripts/install-test-tools.sh` installs it).

mod template_support;

use calamine::{Data, Reader};
use care_ledger::template::export::{plan_workbook, SummaryRow as R};
use care_ledger::template::model::TemplateModel;
use care_ledger::template::plan::Value;
use care_ledger::template::{bench, export_workbook, render};
use template_support::*;

/// Every formula cell whose recalculated value differs from the cached one by a cent or more:
/// (sheet, cell, cached, recalculated).
fn mismatches(original: &[u8], recalculated: &[u8]) -> Vec<(String, String, f64, f64)> {
    let mut book = open(original);
    let mut lo = open(recalculated);
    let mut out = Vec::new();
    let mut formula_cells = 0;
    for sheet in book.sheet_names() {
        let formulas = book.worksheet_formula(&sheet).expect("formulas");
        let cached = book.worksheet_range(&sheet).expect("values");
        let recalc = lo.worksheet_range(&sheet).expect("LibreOffice sheet");
        for (row, col, f) in formulas.used_cells() {
            if f.is_empty() {
                continue;
            }
            formula_cells += 1;
            let pos = (
                row as u32 + formulas.start().unwrap().0,
                col as u32 + formulas.start().unwrap().1,
            );
            let ours = number(cached.get_value(pos).unwrap_or(&Data::Empty));
            let theirs = match recalc.get_value(pos).unwrap_or(&Data::Empty) {
                Data::Float(x) => *x,
                Data::Int(i) => *i as f64,
                Data::Empty => 0.0,
                other => panic!(
                    "{sheet}!{}: LibreOffice gives {other:?} for ={f}",
                    a1(pos.0, pos.1)
                ),
            };
            if (ours - theirs).abs() >= 0.005 {
                out.push((sheet.clone(), a1(pos.0, pos.1), ours, theirs));
            }
        }
    }
    assert!(formula_cells > 50, "only {formula_cells} formulas found");
    out
}

fn assert_summary_matches(model: &TemplateModel, recalculated: &[u8]) {
    let synth = values(recalculated, "Synthèse");
    let s = &model.summary;
    let x = s.subsidy.as_ref().expect("a computable subsidy");
    let expected = [
        (
            R::InternalDeclared.label(),
            s.internal_declared.to_cell_f64(),
        ),
        (
            R::ExternalDeclared.label(),
            s.external_declared.to_cell_f64(),
        ),
        (R::OtherDeclared.label(), s.other_declared.to_cell_f64()),
        (R::Declared.label(), s.declared.to_cell_f64()),
        (R::Eligible.label(), s.eligible.to_cell_f64()),
        (R::Receipts.label(), s.receipts.to_cell_f64()),
        (R::Net.label(), s.net.to_cell_f64()),
        (R::Ceiling.label(), s.ceiling.unwrap().to_cell_f64()),
        (R::CappedCeiling.label(), x.capped_ceiling.to_cell_f64()),
        (R::Subsidy.label(), x.subsidy.to_cell_f64()),
        (R::Committed.label(), s.committed.to_cell_f64()),
        (R::Disbursed.label(), s.disbursed.to_cell_f64()),
        (R::Recovered.label(), s.recovered.to_cell_f64()),
        (R::Due.label(), x.due.to_cell_f64()),
    ];
    for (label, want) in expected {
        let got = summary_value(&synth, label);
        assert!(
            (got - want).abs() < 0.005,
            "{label}: LibreOffice computes {got}, the service {want}"
        );
        println!("  {label:<40} LibreOffice {got:>14.2}   service {want:>14.2}");
    }
    let decote = summary_value(&synth, R::Decote.label());
    let want = x.decote.fraction().to_string().parse::<f64>().unwrap();
    assert!((decote - want).abs() < 1e-9, "décote {decote} vs {want}");
}

fn skip() -> Option<String> {
    let found = libreoffice();
    if found.is_none() {
        eprintln!(
            "SKIPPED: LibreOffice (soffice) is not installed; run scripts/install-test-tools.sh"
        );
    }
    found
}

#[test]
fn libreoffice_recalculates_the_sample_workbook_to_the_services_figures() {
    let Some(soffice) = skip() else { return };
    let model = TemplateModel::sample();
    let bytes = export_workbook(&model).unwrap();
    let recalculated = recalculate_with_libreoffice(&soffice, &bytes);
    let bad = mismatches(&bytes, &recalculated);
    assert!(
        bad.is_empty(),
        "formulas LibreOffice computes differently: {bad:?}"
    );
    assert_summary_matches(&model, &recalculated);
    // The seed's employee, recomputed by LibreOffice: hourly rate and imputable amount.
    let internes = values(&recalculated, "Coûts internes");
    assert!((number(at(&internes, "B14")) - 55.113_086_496_577_47).abs() < 1e-9);
    assert_eq!(number(at(&internes, "B16")), 6613.57);
}

#[test]
fn libreoffice_recalculates_generated_statements_to_the_services_figures() {
    let Some(soffice) = skip() else { return };
    for seed in [1_u64, 7, 42] {
        let model = bench::generate_statement(seed, 50);
        let bytes = export_workbook(&model).unwrap();
        let recalculated = recalculate_with_libreoffice(&soffice, &bytes);
        let bad = mismatches(&bytes, &recalculated);
        assert!(
            bad.is_empty(),
            "statement {seed}: formulas LibreOffice computes differently: {bad:?}"
        );
        assert_summary_matches(&model, &recalculated);
    }
}

#[test]
fn the_check_fails_on_a_workbook_whose_one_cached_result_is_deliberately_wrong() {
    let Some(soffice) = skip() else { return };
    let model = TemplateModel::sample();
    let mut plan = plan_workbook(&model);
    let synth = plan
        .sheets
        .iter_mut()
        .find(|s| s.name == "Synthèse")
        .unwrap();
    let row = synth
        .cells
        .iter()
        .find(|c| matches!(&c.value, Value::Text(t) if t == "Subvention"))
        .map(|c| c.row)
        .unwrap();
    let cell = synth
        .cells
        .iter_mut()
        .find(|c| c.row == row && c.col == 1)
        .unwrap();
    let Value::Formula { result, .. } = &mut cell.value else {
        panic!("subsidy is a formula")
    };
    let wrong = result.parse::<f64>().unwrap() + 100.0;
    *result = wrong.to_string();
    let bytes = render::render(&plan).unwrap();
    // A reader that does not recalculate sees the wrong figure...
    assert_eq!(
        summary_value(&values(&bytes, "Synthèse"), "Subvention"),
        wrong
    );
    // ...LibreOffice, forced to recalculate, does not, and the check says where.
    let recalculated = recalculate_with_libreoffice(&soffice, &bytes);
    let bad = mismatches(&bytes, &recalculated);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, "Synthèse");
    assert_eq!(bad[0].1, format!("B{}", row + 1));
}

#[test]
fn a_workbook_saved_again_by_libreoffice_imports_without_change() {
    let Some(soffice) = skip() else { return };
    let model = TemplateModel::sample();
    let bytes = export_workbook(&model).unwrap();
    let saved_by_libreoffice = recalculate_with_libreoffice(&soffice, &bytes);
    assert_eq!(
        care_ledger::template::import_workbook(&saved_by_libreoffice, &model).unwrap(),
        vec![]
    );
}

/// The demo's workbooks, recalculated by LibreOffice, give the ledger's own figures (not the
/// template's model): declared, eligible, receipts, net, ceiling, capped ceiling, subsidy, due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libreoffice_recalculates_every_demo_workbook_to_the_ledgers_figures() {
    let Some(soffice) = skip() else { return };
    let out = tempfile::tempdir().unwrap();
    care_ledger::demo::run(out.path()).await.unwrap();
    let clock = std::sync::Arc::new(care_ledger::clock::SystemClock);
    let store =
        care_ledger::store::EventStore::open(&out.path().join("demo.db").to_string_lossy(), clock)
            .await
            .unwrap();
    let (catalogue, _) =
        care_ledger::demo::load_catalogue(std::path::Path::new("fixtures/domains")).unwrap();
    let ledger = care_ledger::app::Ledger::open(store, catalogue)
        .await
        .unwrap();
    let controller = care_ledger::app::Access::new(
        care_ledger::actor::Actor::new(care_ledger::actor::Role::Controleur, "test").unwrap(),
        None,
    );
    let statements = ledger.statements(&controller).await.unwrap();
    assert_eq!(statements.len(), 5);
    for (finess, domain) in statements {
        let path = out
            .path()
            .join(format!("etat-financier-{finess}-{domain}.xlsx"));
        let bytes = std::fs::read(&path).unwrap();
        let recalculated = recalculate_with_libreoffice(&soffice, &bytes);
        let wrong = mismatches(&bytes, &recalculated);
        assert!(wrong.is_empty(), "{}: {wrong:?}", path.display());
        let view = ledger
            .statement(&controller, &finess, domain, None)
            .await
            .unwrap();
        let s = view.subsidy.expect("demo subsidies are computable");
        let synth = values(&recalculated, "Synthèse");
        println!("{finess} {domain}");
        for (label, want) in [
            (R::Declared.label(), s.declared_total),
            (R::Eligible.label(), s.eligible_total),
            (R::Receipts.label(), s.receipts_total),
            (R::Net.label(), s.net),
            (R::Ceiling.label(), s.ceiling),
            (R::CappedCeiling.label(), s.capped_ceiling),
            (R::Subsidy.label(), s.subsidy),
            (R::Committed.label(), s.committed),
            (R::Disbursed.label(), s.disbursed),
            (R::Recovered.label(), s.recovered),
            (R::Due.label(), s.due),
        ] {
            let got = summary_value(&synth, label);
            let want = want.to_cell_f64();
            assert!(
                (got - want).abs() < 0.005,
                "{finess} {domain} {label}: LibreOffice {got}, ledger {want}"
            );
            println!("  {label:<40} LibreOffice {got:>14.2}   ledger {want:>14.2}");
        }
    }
}

/// An auditor who opens the signed workbook and saves it again (every formula recalculated by
/// LibreOffice, the file rewritten) keeps a valid signature and the ledger's figures: the signature
/// covers the inputs and the formulas, not the cached results a spreadsheet rewrites.
#[test]
fn a_signed_workbook_saved_again_by_libreoffice_keeps_its_signature_and_matches() {
    use care_ledger::signing::Signer;
    use care_ledger::template::proof::{cells_of_plan, compare, read_workbook, seal_plan};
    let Some(soffice) = skip() else { return };
    let signer = Signer::generate();
    let mut plan = plan_workbook(&TemplateModel::sample());
    seal_plan(&mut plan, &signer);
    let bytes = render::render(&plan).unwrap();
    let saved = recalculate_with_libreoffice(&soffice, &bytes);
    assert_ne!(saved, bytes, "LibreOffice rewrote the file");
    let file = read_workbook(&saved, 20 * 1024 * 1024).unwrap();
    assert!(
        file.check_signature(&[signer.public()]).is_valid(),
        "{:?}",
        file.check_signature(&[signer.public()])
    );
    let (differences, more) = compare(&cells_of_plan(&plan), &file.sheets);
    assert!(differences.is_empty() && more == 0, "{differences:#?}");
}
