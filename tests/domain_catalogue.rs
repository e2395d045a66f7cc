use care_ledger::domain::catalogue::{Catalogue, CatalogueError, CostPart, DomainCatalogue};
use care_ledger::domain::{DomainId, ObjectiveCode, Percent};
use chrono::NaiveDate;
use rust_decimal_macros::dec;

const D1BIS: &str = include_str!("../fixtures/domains/d1bis.toml");
const D2: &str = include_str!("../fixtures/domains/d2.toml");

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn code(s: &str) -> ObjectiveCode {
    ObjectiveCode::parse(s).unwrap()
}

fn error_of(text: &str) -> (usize, String, String) {
    match DomainCatalogue::from_toml_str("d1bis.toml", text) {
        Err(CatalogueError::Invalid {
            file,
            line,
            key,
            message,
        }) => {
            assert_eq!(file, "d1bis.toml");
            (line, key, message)
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_d1bis_file_parses_with_the_seed_dates_and_schedule() {
    let d = DomainCatalogue::from_toml_str("d1bis.toml", D1BIS).unwrap();
    assert_eq!(d.domain, DomainId::D1bis);
    assert_eq!(d.dates.decree, date(2026, 1, 30));
    assert_eq!(d.dates.phase_start_window.end, date(2026, 5, 7));
    assert_eq!(d.dates.first_audits_deadline, Some(date(2026, 7, 7)));
    assert_eq!(d.dates.declaration_deadline, date(2027, 3, 31));
    assert!(d.payment_window_is_example);
    assert_eq!(d.payment_window.unwrap().start, date(2027, 1, 1));
    assert_eq!(d.template_years, vec![2026, 2027]);
    assert_eq!(d.objectives.len(), 9);
    assert!(d.objective(&code("D1.O6.B")).unwrap().ght_only);
    assert!(!d.objective(&code("D1.O3")).unwrap().ght_only);
    assert_eq!(
        d.group(&code("D1.01")).unwrap().label,
        "Maîtriser l'annuaire d'établissement"
    );
    let tiered = d.decote_item(&code("D1.O2.B")).unwrap();
    assert_eq!(
        tiered.percent_not_attained(Some(Percent::new(dec!(75)))),
        Percent::new(dec!(15))
    );
    assert_eq!(
        tiered.percent_not_attained(Some(Percent::new(dec!(66)))),
        Percent::new(dec!(15))
    );
    assert_eq!(
        tiered.percent_not_attained(Some(Percent::new(dec!(65.99)))),
        Percent::HUNDRED
    );
    assert_eq!(tiered.percent_not_attained(None), Percent::HUNDRED);
    assert_eq!(tiered.attained_from(), Some(Percent::new(dec!(90))));
    let o6 = d.decote_item(&code("D1.O6.A")).unwrap();
    assert_eq!(o6.objective, code("D1.O6"));
    assert!(o6.ght_only);
    assert_eq!(
        d.decote_item(&code("D1.O4"))
            .unwrap()
            .percent_not_attained(None),
        Percent::new(dec!(2.5))
    );
    let rules = d.rules.as_ref().unwrap();
    assert_eq!(
        rules.silene_deadline(Some(date(2026, 3, 1))),
        date(2026, 7, 7)
    );
    assert_eq!(rules.audit_max_gap_days, 100);
    assert_eq!(rules.crisis_exercise_financed_from, date(2026, 1, 30));
}

#[test]
fn natures_carry_per_objective_eligibility() {
    let d = DomainCatalogue::from_toml_str("d1bis.toml", D1BIS).unwrap();
    let software = d.nature("INVESTISSEMENT_LOGICIEL").unwrap();
    assert!(software.eligible_for(&code("D1.O2.B")));
    assert!(!software.eligible_for(&code("D1.O6.B")));
    let strategy = d.nature("STRATEGIE_CONVERGENCE_AD").unwrap();
    assert!(strategy.eligible_for(&code("D1.O6.B")));
    assert!(!strategy.eligible_for(&code("D1.O1.A")));
    assert!(!d
        .nature("FRAIS_DEPLACEMENT")
        .unwrap()
        .eligible_for(&code("D1.O3")));
}

#[test]
fn the_d2_file_parses_without_a_decote_schedule() {
    let d = DomainCatalogue::from_toml_str("d2.toml", D2).unwrap();
    assert_eq!(d.domain, DomainId::D2);
    assert_eq!(d.dates.decree, date(2025, 7, 16));
    assert_eq!(d.dates.declaration_deadline, date(2026, 11, 18));
    let pw = d.payment_window.unwrap();
    assert_eq!((pw.start, pw.end), (date(2026, 2, 16), date(2027, 9, 15)));
    assert!(!d.payment_window_is_example);
    assert_eq!(d.dates.portal_window.unwrap().start, date(2026, 1, 16));
    assert!(d.decote_schedule.is_none());
    assert!(d.rules.is_none());
    assert_eq!(d.template_years, vec![2025, 2026]);
    assert_eq!(d.objectives.len(), 11);
    assert!(d.accepts(CostPart::Internal));
    assert!(d.objective(&code("D2.01.A")).is_some());
    let contracts = d.nature("EVOLUTION_CONTRATS_SAUVEGARDE").unwrap();
    assert!(contracts.eligible_for(&code("D2.O3.C")));
    assert!(!contracts.eligible_for(&code("D2.O2.B")));
}

#[test]
fn both_files_load_as_one_catalogue_and_a_missing_domain_is_an_error() {
    let cat = Catalogue::from_files(vec![
        ("d1bis.toml".into(), D1BIS.into()),
        ("d2.toml".into(), D2.into()),
    ])
    .unwrap();
    assert_eq!(cat.domain(DomainId::D2).domain, DomainId::D2);
    assert_eq!(
        Catalogue::from_files(vec![("d1bis.toml".into(), D1BIS.into())]),
        Err(CatalogueError::MissingDomain(DomainId::D2))
    );
}

#[test]
fn an_impossible_date_names_file_line_and_key() {
    let text = D1BIS.replace(
        "declaration_deadline = 2027-03-31",
        "declaration_deadline = 2027-02-30",
    );
    let (line, key, _) = error_of(&text);
    assert_eq!(line, line_of(&text, "declaration_deadline = 2027-02-30"));
    assert_eq!(key, "dates.declaration_deadline");
}

#[test]
fn an_unknown_key_names_file_line_and_key() {
    let text = D1BIS.replace(
        "first_audits_deadline = 2026-07-07",
        "first_audit_deadline = 2026-07-07",
    );
    let (line, key, message) = error_of(&text);
    assert_eq!(line, line_of(&text, "first_audit_deadline = "));
    assert_eq!(key, "dates.first_audit_deadline");
    assert!(message.contains("unknown field"), "{message}");
}

#[test]
fn a_malformed_objective_code_names_file_line_and_key() {
    let text = D1BIS.replace("code = \"D1.O2.A\"", "code = \"D1.X2.A\"");
    let (line, key, message) = error_of(&text);
    assert_eq!(line, line_of(&text, "D1.X2.A"));
    assert_eq!(key, "objectives[2].code");
    assert!(message.contains("D1.X2.A"));
}

#[test]
fn an_unknown_objective_in_the_decote_table_names_its_line() {
    let text = D1BIS.replace("objective = \"D1.O5\"", "objective = \"D1.O9\"");
    let (line, key, message) = error_of(&text);
    assert_eq!(line, line_of(&text, "objective = \"D1.O9\""));
    assert_eq!(key, "decote_schedule.items[6].objective");
    assert!(message.contains("D1.O9 inconnu"));
}

#[test]
fn a_decimal_percent_with_a_comma_is_read_exactly() {
    let text = D1BIS.replace("percent = \"2.5\"", "percent = \"2,5\"");
    let d = DomainCatalogue::from_toml_str("d1bis.toml", &text).unwrap();
    assert_eq!(
        d.decote_item(&code("D1.O5"))
            .unwrap()
            .percent_not_attained(None),
        Percent::new(dec!(2.5))
    );
}

#[test]
fn the_expected_documents_follow_the_seed_lists_per_objective_and_per_line() {
    use care_ledger::domain::catalogue::LinePart;
    let d = DomainCatalogue::from_toml_str("d1bis.toml", D1BIS).unwrap();
    let required_for = |objective: &str| -> Vec<&str> {
        d.documents
            .iter()
            .filter(|k| k.required && !k.any_target && k.documents_objective(&code(objective)))
            .map(|k| k.code.as_str())
            .collect()
    };
    // Seed 003, « Pièces justificatives »: D1.O1.A two documents, D1.O2.A three, D1.O4 only optional.
    assert_eq!(
        required_for("D1.O1.A"),
        ["D1O1A_DESCRIPTION_AD", "D1O1A_RAPPORTS_ADS"]
    );
    assert_eq!(required_for("D1.O2.A").len(), 3);
    assert_eq!(required_for("D1.O4"), Vec::<&str>::new());
    assert_eq!(required_for("D1.O5"), Vec::<&str>::new());
    let recap = d.document_kind("RECAP_PAIE").unwrap();
    assert!(recap.required && recap.documents_line(LinePart::Internal));
    assert!(!recap.documents_line(LinePart::External));
    assert!(d.document_kind("AUTRE").unwrap().any_target);
}

#[test]
fn a_document_kind_with_an_unknown_objective_names_its_line() {
    let text = D1BIS.replace("objectives = [\"D1.O3\"]", "objectives = [\"D1.O8\"]");
    let (line, key, message) = error_of(&text);
    assert_eq!(line, line_of(&text, "objectives = [\"D1.O8\"]"));
    assert!(key.starts_with("documents["), "{key}");
    assert!(message.contains("D1.O8"), "{message}");
}

#[test]
fn a_document_kind_attached_to_nothing_is_refused() {
    let text = D1BIS.replace(
        "lines = [\"receipt\"]\nrequired = false",
        "required = false",
    );
    let (_, key, message) = error_of(&text);
    assert!(key.starts_with("documents["), "{key}");
    assert!(message.contains("à quoi"), "{message}");
}

#[test]
fn a_document_line_part_that_does_not_exist_names_its_line() {
    let text = D1BIS.replace("lines = [\"receipt\"]", "lines = [\"recette\"]");
    let (line, _, message) = error_of(&text);
    assert_eq!(line, line_of(&text, "lines = [\"recette\"]"));
    assert!(message.contains("recette"), "{message}");
}
