//! Golden content of the exported workbook, read back with calamine (values, formulas, cached
//! results) and from the package itself (hidden identity column, protection, lists, properties).

mod template_support;

use calamine::{Data, Reader};
use care_ledger::domain::candidate::CandidateKind;
use care_ledger::domain::statement::AttainmentStatus;
use care_ledger::domain::Money;
use care_ledger::template::export_workbook;
use care_ledger::template::model::{TemplateModel, ViewerRole};
use care_ledger::template::plan::{Style, Value as PlanValue};
use care_ledger::template::sample::{sample_candidate, SampleStatement};
use std::io::Read;
use template_support::*;

fn sample_bytes() -> Vec<u8> {
    export_workbook(&TemplateModel::sample()).unwrap()
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut out = String::new();
    file.read_to_string(&mut out).unwrap();
    out
}

fn str_at(range: &calamine::Range<Data>, cell: &str) -> String {
    match at(range, cell) {
        Data::String(s) => s.clone(),
        other => panic!("{cell}: not text but {other:?}"),
    }
}

#[test]
fn the_workbook_has_the_french_sheets_in_order() {
    let book = open(&sample_bytes());
    assert_eq!(
        book.sheet_names(),
        vec![
            "Synthèse",
            "Coûts internes",
            "Coûts externes",
            "Autres coûts",
            "Recettes",
            "Paiements",
            "Contrôles",
            "Revue",
            "Pièces justificatives",
            "Listes"
        ]
    );
}

#[test]
fn internal_costs_show_the_seeds_eleven_rows_verbatim_with_years_and_total() {
    let v = values(&sample_bytes(), "Coûts internes");
    let labels = [
        "SALAIRE BRUT ANNUELISE (sans prorata)*",
        "CHARGES PATRONALES (sans prorata)*",
        "dont paiement des éléments non éligibles (sal brut)**",
        "dont paiement des éléments non éligibles (charges patronales)",
        "SALAIRE BRUT (hors éléments non éligibles)**",
        "CHARGES PATRONALES (hors éléments non éligibles)**",
        "S/TOTAL SALAIRES BRUTS + CHARGES PATRONALES",
        "NOMBRE D'HEURES PRODUCTIVES ANNUELLES",
        "Taux Horaire",
        "NOMBRE D'HEURES EFFECTIVES CONSACREES A L'ACTION",
        "CHARGES DE PERSONNEL IMPUTABLES SUR L'ACTION",
    ];
    for (i, label) in labels.iter().enumerate() {
        assert_eq!(str_at(&v, &format!("A{}", 6 + i)), *label);
    }
    assert_eq!(str_at(&v, "A4"), "Matricule");
    assert_eq!(str_at(&v, "B4"), "44A567");
    assert_eq!(number(at(&v, "B5")), 2026.0);
    assert_eq!(number(at(&v, "C5")), 2027.0);
    assert_eq!(str_at(&v, "D5"), "TOTAL (€)");
    assert_eq!(str_at(&v, "E5"), "Objectif de référence");
    assert_eq!(str_at(&v, "F5"), "Contribution");
    assert_eq!(str_at(&v, "E6"), "D1.O1.A");
    // The seed's employee: inputs are values.
    assert_eq!(number(at(&v, "B6")), 55631.25);
    assert_eq!(number(at(&v, "B7")), 32935.48);
    assert_eq!(number(at(&v, "B13")), 1607.0);
    assert_eq!(number(at(&v, "B15")), 120.0);
    // No TOTAL for productive hours and hourly rate, as in the seed.
    assert_eq!(at(&v, "D13"), &Data::Empty);
    assert_eq!(at(&v, "D14"), &Data::Empty);
}

#[test]
fn derived_internal_rows_are_formulas_with_their_results_cached() {
    let bytes = sample_bytes();
    let f = formulas(&bytes, "Coûts internes");
    let v = values(&bytes, "Coûts internes");
    assert_eq!(formula_at(&f, "B9"), "IF(B6=0,0,B7*B8/B6)");
    assert_eq!(formula_at(&f, "B10"), "B6-B8");
    assert_eq!(formula_at(&f, "B11"), "B7-B9");
    assert_eq!(formula_at(&f, "B12"), "B10+B11");
    assert_eq!(formula_at(&f, "B14"), "IF(B13=0,0,B12/B13)");
    assert_eq!(formula_at(&f, "B16"), "ROUND(B14*B15,2)");
    assert_eq!(formula_at(&f, "D16"), "SUM(B16:C16)");
    assert_eq!(formula_at(&f, "B6"), "", "inputs are values");
    // Cached results: what calamine (which does not recalculate) reads.
    assert_eq!(number(at(&v, "B12")), 88566.73);
    assert!((number(at(&v, "B14")) - 55.113_086_496_577_47).abs() < 1e-12);
    assert_eq!(number(at(&v, "B16")), 6613.57);
    assert_eq!(number(at(&v, "D16")), 6613.57);
}

#[test]
fn summary_figures_are_formulas_over_the_other_sheets_with_the_services_results() {
    let model = TemplateModel::sample();
    let bytes = export_workbook(&model).unwrap();
    let v = values(&bytes, "Synthèse");
    assert_eq!(
        summary_value(&v, "Total déclaré"),
        model.summary.declared.to_cell_f64()
    );
    assert_eq!(
        summary_value(&v, "Total éligible"),
        model.summary.eligible.to_cell_f64()
    );
    assert_eq!(summary_value(&v, "Plafond écrêté"), 66000.0);
    assert_eq!(
        summary_value(&v, "Subvention"),
        model
            .summary
            .subsidy
            .as_ref()
            .unwrap()
            .subsidy
            .to_cell_f64()
    );
    assert_eq!(
        summary_value(&v, "Reste dû"),
        model.summary.subsidy.as_ref().unwrap().due.to_cell_f64()
    );
    let f = formulas(&bytes, "Synthèse");
    let formulas_text: Vec<String> = f.used_cells().map(|(_, _, s)| s.clone()).collect();
    assert!(formulas_text
        .iter()
        .any(|s| s.starts_with("ROUNDDOWN(ROUND(")));
    assert!(formulas_text
        .iter()
        .any(|s| s.starts_with("MIN(1,SUM('Revue'!")));
    assert!(formulas_text.iter().any(|s| s.starts_with("MAX(0,")));
    assert!(formulas_text
        .iter()
        .any(|s| s.contains("SUMIF('Coûts externes'!$J$5:")));
    assert!(f.used_cells().count() > 40);
}

#[test]
fn user_text_that_looks_like_a_formula_is_written_as_text() {
    let bytes = sample_bytes();
    let v = values(&bytes, "Coûts externes");
    let f = formulas(&bytes, "Coûts externes");
    for (cell, expected) in [
        ("F6", "=HYPERLINK(\"http://x\";\"y\")"),
        ("K6", "+33 1 23 45 67 89"),
        ("D7", "-5"),
        ("E7", "@SUM(A1)"),
    ] {
        assert_eq!(str_at(&v, cell), expected, "{cell}");
        assert_eq!(formula_at(&f, cell), "", "{cell} must not be a formula");
    }
    let xml = zip_entry(&bytes, "xl/worksheets/sheet3.xml");
    assert!(
        !xml.contains("<f>HYPERLINK"),
        "no HYPERLINK formula in the sheet"
    );
}

#[test]
fn receipts_show_the_seeds_table_with_digit_zero_group_numbers_and_the_detail_below() {
    let v = values(&sample_bytes(), "Recettes");
    assert_eq!(str_at(&v, "A4"), "N°");
    assert_eq!(str_at(&v, "B4"), "Intitulé");
    assert_eq!(str_at(&v, "C4"), "Nature / provenance de la recette");
    assert_eq!(str_at(&v, "D4"), "Montants perçus (€ TTC)");
    for (i, (n, label)) in [
        ("D1.01", "Maîtriser l'annuaire d'établissement"),
        ("D1.02", "Maîtriser l'exposition internet"),
        ("D1.03", "Se préparer au risque cyber"),
        (
            "D1.04",
            "S'auto-évaluer en matière de maturité vis-à-vis des risques cyber",
        ),
        ("D1.05", "Calculer le budget dédié au numérique"),
        ("D1.06", "Renforcer la convergence des GHT"),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(str_at(&v, &format!("A{}", 5 + i)), *n);
        assert_eq!(str_at(&v, &format!("B{}", 5 + i)), *label);
    }
    assert_eq!(number(at(&v, "D6")), 5000.0);
    assert_eq!(str_at(&v, "A15"), "D1.02");
    assert_eq!(number(at(&v, "D15")), 5000.0);
}

#[test]
fn external_costs_carry_the_seeds_columns_and_the_retained_amount() {
    let v = values(&sample_bytes(), "Coûts externes");
    let headers: Vec<String> = (0..14).map(|c| str_at(&v, &a1(3, c))).collect();
    assert_eq!(
        &headers[..8],
        &[
            "Type de coût",
            "Date de commande",
            "Date de facture",
            "N° de commande",
            "N° de facture",
            "Tiers (fournisseur / prestataire)",
            "Intitulé de la prestation",
            "Montant TTC (€)"
        ]
    );
    assert_eq!(headers[13], "Identifiant (ne pas modifier)");
    assert_eq!(str_at(&v, "N5"), "EC-0001");
    assert_eq!(number(at(&v, "H6")), 28800.0);
    assert_eq!(number(at(&v, "L6")), 24000.0);
    assert_eq!(number(at(&v, "M6")), 24000.0);
    assert!(matches!(at(&v, "C5"), Data::DateTime(_)));
}

#[test]
fn identity_columns_are_hidden_and_locked_and_sheets_protected_with_unlocked_inputs() {
    let bytes = sample_bytes();
    let sheet = zip_entry(&bytes, "xl/worksheets/sheet3.xml");
    assert!(sheet.contains("<sheetProtection"), "sheet protected");
    assert!(sheet.contains(r#"<col min="14" max="14""#) && sheet.contains(r#"hidden="1""#));
    assert!(sheet.contains("<dataValidations"), "drop-down lists");
    assert!(sheet.contains("Listes!$A$2:$A$8"), "objective list");
    assert!(sheet.contains("<pane") && sheet.contains(r#"state="frozen""#));
    assert!(sheet.contains(r#"orientation="landscape""#));
    assert!(sheet.contains(r#"fitToHeight="0""#));
    let styles = zip_entry(&bytes, "xl/styles.xml");
    assert!(styles.contains(r#"locked="0""#), "input cells unlocked");
    assert!(styles.contains(r#"hidden="1""#), "identity cells hidden");
    assert!(styles.contains("dd/mm/yyyy"));
    assert!(styles.contains("FFFFF2CC"), "input fill");
}

#[test]
fn workbook_properties_name_candidate_domain_generation_and_ledger_position() {
    let bytes = sample_bytes();
    let custom = zip_entry(&bytes, "docProps/custom.xml");
    for needle in [
        "Centre hospitalier de Saint-Exemple",
        "D1bis",
        "4242",
        "9f2c4e0b7a1d3c5e8f60a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2",
        "2026-09-20T08:30:00+00:00",
    ] {
        assert!(custom.contains(needle), "custom properties lack {needle}");
    }
    let core = zip_entry(&bytes, "docProps/core.xml");
    assert!(core.contains("État financier CaRE"));
    assert!(zip_entry(&bytes, "xl/workbook.xml").contains("Subvention"));
    assert!(zip_entry(&bytes, "xl/charts/chart1.xml").contains("barChart"));
}

#[test]
fn an_establishment_does_not_see_cross_candidate_flags_a_controller_does() {
    let mut model = TemplateModel::sample();
    let controller = values(&export_workbook(&model).unwrap(), "Contrôles");
    model.viewer = ViewerRole::Establishment;
    let establishment = values(&export_workbook(&model).unwrap(), "Contrôles");
    let codes = |r: &calamine::Range<Data>| -> Vec<String> {
        (4..10)
            .filter_map(|row| match r.get_value((row, 0)) {
                Some(Data::String(s)) => Some(s.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        codes(&controller),
        vec!["NATURE_NON_ELIGIBLE", "FACTURE_EN_DOUBLE_AUTRE_CANDIDAT"]
    );
    assert_eq!(codes(&establishment), vec!["NATURE_NON_ELIGIBLE"]);
}

#[test]
fn a_provisional_subsidy_is_marked_so() {
    let mut sample = SampleStatement::sample();
    sample.unreview("IC-0003");
    let model = sample.model();
    assert!(model.summary.is_provisional());
    let v = values(&export_workbook(&model).unwrap(), "Synthèse");
    let (h, _) = v.get_size();
    let found = (0..h as u32).any(|r| {
        matches!(v.get_value((r, 0)), Some(Data::String(s)) if s == "Statut de la subvention")
            && matches!(v.get_value((r, 1)), Some(Data::String(s)) if s == "Provisoire")
    });
    assert!(found);
}

#[test]
fn the_documents_sheet_lists_each_document_and_the_checklist_with_file_names_as_text() {
    let bytes = sample_bytes();
    let v = values(&bytes, "Pièces justificatives");
    let f = formulas(&bytes, "Pièces justificatives");
    assert_eq!(str_at(&v, "A4"), "Pièce");
    assert_eq!(str_at(&v, "H4"), "Empreinte SHA-256");
    assert_eq!(str_at(&v, "A5"), "DOC-0001");
    assert_eq!(str_at(&v, "B5"), "Facture");
    // A file name is user text: written as text, never a formula.
    assert_eq!(
        str_at(&v, "C5"),
        "Facture =HYPERLINK(\"http://x\";\"y\").pdf"
    );
    assert_eq!(formula_at(&f, "C5"), "");
    assert_eq!(str_at(&v, "D5"), "ligne EC-0001");
    assert_eq!(at(&v, "G5"), &Data::Float(48_213.0));
    assert_eq!(str_at(&v, "A7"), "Liste de contrôle des pièces attendues");
    assert_eq!(str_at(&v, "A9"), "D1.O3 — Se préparer au risque cyber");
    assert_eq!(str_at(&v, "C9"), "oui");
    assert_eq!(str_at(&v, "D9"), "MANQUANTE");
    assert_eq!(str_at(&v, "D10"), "fournie (DOC-0001)");
}

const GOLDEN_PLAN: &str = "tests/template_support/sample_plan.golden.txt";

/// Every cell, formula, cached result, style (and its format), validation, row, merge, print and
/// protection setting of the sample workbook, against its golden dump. `UPDATE_GOLDEN=1` rewrites the
/// file after a deliberate change; review its diff.
#[test]
fn the_sample_workbooks_plan_matches_its_golden_dump() {
    let model = TemplateModel::sample();
    let generated = model.generated_at;
    let dump = care_ledger::template::dump::dump_plan(
        &care_ledger::template::export::plan_workbook(&model),
        &[
            &generated.to_rfc3339(),
            &care_ledger::template::export::paris_time(generated),
        ],
    );
    assert!(
        !dump.contains("2026-09-20T08:30"),
        "the generation instant is stripped"
    );
    if std::env::var("UPDATE_GOLDEN").is_ok() {
        std::fs::write(GOLDEN_PLAN, &dump).unwrap();
    }
    let golden = std::fs::read_to_string(GOLDEN_PLAN).unwrap();
    if golden != dump {
        let first = golden
            .lines()
            .zip(dump.lines())
            .enumerate()
            .find(|(_, (g, d))| g != d)
            .map(|(i, (g, d))| format!("line {}: golden {g:?}, today {d:?}", i + 1))
            .unwrap_or_else(|| {
                format!(
                    "{} lines in the golden dump, {} today",
                    golden.lines().count(),
                    dump.lines().count()
                )
            });
        panic!("the sample workbook's plan drifted from {GOLDEN_PLAN}: {first}");
    }
}

/// The `s` attribute (style index) of a cell in a sheet's XML.
fn style_index(sheet_xml: &str, cell: &str) -> usize {
    let start = sheet_xml
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("cell {cell} in the sheet"));
    let tag = &sheet_xml[start..start + sheet_xml[start..].find('>').unwrap()];
    let s = tag
        .split(" s=\"")
        .nth(1)
        .expect("a style")
        .split('"')
        .next()
        .unwrap();
    s.parse().unwrap()
}

/// The `<xf …>` elements of `cellXfs`, in order.
fn cell_xfs(styles_xml: &str) -> Vec<String> {
    let start = styles_xml.find("<cellXfs").unwrap();
    let end = styles_xml.find("</cellXfs>").unwrap();
    styles_xml[start..end]
        .split("<xf ")
        .skip(1)
        .map(|x| x.split('>').next().unwrap().to_string())
        .collect()
}

#[test]
fn text_that_starts_like_a_formula_carries_the_quote_prefix_and_other_text_does_not() {
    let bytes = sample_bytes();
    let sheet = zip_entry(&bytes, "xl/worksheets/sheet3.xml");
    let xfs = cell_xfs(&zip_entry(&bytes, "xl/styles.xml"));
    for cell in ["F6", "K6", "D7", "E7"] {
        let xf = &xfs[style_index(&sheet, cell)];
        assert!(xf.contains("quotePrefix=\"1\""), "{cell}: {xf}");
    }
    for cell in ["F5", "K5", "D6"] {
        let xf = &xfs[style_index(&sheet, cell)];
        assert!(!xf.contains("quotePrefix"), "{cell}: {xf}");
    }
}

#[test]
fn line_sheets_offer_a_hundred_blank_rows_and_let_users_insert_more() {
    let bytes = sample_bytes();
    let v = values(&bytes, "Coûts externes");
    // Three invoices on rows 5–7, then 100 blank rows: TOTAL on row 108.
    assert_eq!(str_at(&v, "G108"), "TOTAL");
    assert_eq!(str_at(&v, "N108"), "#TOTAL");
    for (sheet, n) in [(3, "Coûts externes"), (4, "Autres coûts"), (5, "Recettes")] {
        let xml = zip_entry(&bytes, &format!("xl/worksheets/sheet{sheet}.xml"));
        let protection = xml.split("<sheetProtection").nth(1).unwrap();
        let protection = protection.split("/>").next().unwrap();
        assert!(protection.contains("insertRows=\"0\""), "{n}: {protection}");
        assert!(
            !protection.contains("deleteRows=\"0\""),
            "{n}: {protection}"
        );
    }
    // The summary's sheet keeps its default protection.
    let synth = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!synth.contains("insertRows=\"0\""));
}

#[test]
fn times_are_written_in_paris_time() {
    let v = values(&sample_bytes(), "Synthèse");
    // Generated at 08:30 UTC on 20/09/2026: 10:30 in Paris (summer time).
    assert_eq!(str_at(&v, "A8"), "Généré le");
    assert_eq!(str_at(&v, "B8"), "20/09/2026 10:30 (heure de Paris)");
}

#[test]
fn a_non_ght_candidates_d1_o6_rows_are_hidden_a_ghts_are_shown() {
    let hidden_rows = |bytes: &[u8], sheet: u32| -> Vec<u32> {
        zip_entry(bytes, &format!("xl/worksheets/sheet{sheet}.xml"))
            .split("<row ")
            .skip(1)
            .filter(|r| r.split('>').next().unwrap().contains("hidden=\"1\""))
            .map(|r| r.split('"').nth(1).unwrap().parse().unwrap())
            .collect()
    };
    let bytes = sample_bytes();
    let synth = values(&bytes, "Synthèse");
    let recettes = values(&bytes, "Recettes");
    assert_eq!(str_at(&recettes, "A10"), "D1.06");
    assert_eq!(hidden_rows(&bytes, 5), vec![10], "Recettes: the D1.06 row");
    let d1o6 = (0..60u32)
        .find(|r| matches!(synth.get_value((*r, 0)), Some(Data::String(s)) if s == "D1.O6"))
        .unwrap();
    assert_eq!(
        hidden_rows(&bytes, 1),
        vec![d1o6 + 1],
        "Synthèse: the D1.O6 group"
    );
    // The receipts' list offers the five groups that apply.
    let lists = values(&bytes, "Listes");
    assert_eq!(str_at(&lists, "D6"), "D1.05");
    assert_eq!(at(&lists, "D7"), &Data::Empty);

    let mut ght = SampleStatement::opened(sample_candidate(
        "69000311",
        "GHT de démonstration",
        CandidateKind::Ght,
        Money::from_cents(18_000_000),
    ));
    ght.attain_all_except(&[]);
    let bytes = export_workbook(&ght.model()).unwrap();
    assert!(hidden_rows(&bytes, 1).is_empty());
    assert!(hidden_rows(&bytes, 5).is_empty());
    assert_eq!(str_at(&values(&bytes, "Listes"), "D7"), "D1.06");
}

#[test]
fn long_attainment_explanations_wrap_in_a_merged_cell_as_tall_as_their_text_and_print_readably() {
    let mut sample = SampleStatement::sample();
    let long = "Audit ADS du 12/05/2026 au niveau cible sur l'AD de l'EJ ; ".repeat(30);
    assert!(long.chars().count() >= 1_700);
    sample.attainment("D1.O4", AttainmentStatus::NotAttained, None, &long);
    let plan = care_ledger::template::export::plan_workbook(&sample.model());
    let revue = plan.sheets.iter().find(|s| s.name == "Revue").unwrap();
    let cell = revue
        .cells
        .iter()
        .find(|c| matches!(&c.value, PlanValue::Text(t) if *t == long))
        .unwrap();
    assert_eq!(cell.style, Style::TextWrap);
    assert!(revue
        .merges
        .iter()
        .any(|m| (m.first_row, m.first_col, m.last_col) == (cell.row, 4, 7)));
    let height = revue
        .rows
        .iter()
        .find(|r| r.row == cell.row)
        .and_then(|r| r.height)
        .unwrap();
    // E:H are 24 + 50 + 20 + 13 = 107 characters wide: 1 770 characters take 17 lines.
    assert!(height >= 17.0 * 15.0, "{height}");
    assert_eq!(revue.repeat_rows, Some((0, 3)));
    let bytes = care_ledger::template::render::render(&plan).unwrap();
    let xml = zip_entry(&bytes, "xl/worksheets/sheet8.xml");
    assert!(xml.contains("<mergeCell ref=\"E"));
    assert!(xml.contains(r#"orientation="landscape""#) && xml.contains(r#"fitToHeight="0""#));
    assert!(xml.contains("Page &amp;P sur &amp;N"));
    assert!(zip_entry(&bytes, "xl/workbook.xml").contains("_xlnm.Print_Titles"));
}

#[test]
fn the_chart_shows_the_statements_capped_ceiling_once_not_as_a_line_per_group() {
    let chart = zip_entry(&sample_bytes(), "xl/charts/chart1.xml");
    assert!(chart.contains("barChart"));
    assert!(!chart.contains("lineChart"), "no cap line drawn per group");
    assert!(chart.contains("plafond écrêté du relevé : 66"), "{chart}");
}
