//! The workbook through the ledger, on both engines: it says what the statement's JSON says (a subsidy
//! that cannot be computed is not shown as a full one), its what-if values are the ledger's, and an
//! import's dry run refuses what the real import refuses, appending nothing.

mod common;
mod template_support;

use calamine::Data;
use care_ledger::actor::{Actor, Role};
use care_ledger::app::{Access, Ledger, LedgerError, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::{
    AttainmentInput, ExternalCostInput, Refusal, StatementCommand,
};
use care_ledger::domain::{Catalogue, DomainId, Finess, Money};
use care_ledger::template::export::{plan_workbook, SummaryRow, NOT_COMPUTABLE, WHAT_IF_TITLE};
use care_ledger::template::plan::Value;
use care_ledger::template::render::render;
use chrono::NaiveDate;
use common::Harness;
use template_support::*;

on_both_engines!(
    a_subsidy_that_cannot_be_computed_is_not_computable_in_the_workbook_as_in_the_json,
    the_workbook_shows_the_ledgers_what_if_figures,
    a_dry_run_refuses_what_the_real_import_refuses_and_appends_nothing,
);

const CLINIC: &str = "130004526";

fn clinic() -> Finess {
    Finess::parse(CLINIC).unwrap()
}

fn admin() -> Actor {
    Actor::new(Role::Admin, "ops").unwrap()
}

fn daf() -> Access {
    Access::new(
        Actor::new(Role::Etablissement, "daf@clinique").unwrap(),
        Some(clinic()),
    )
}

fn controller() -> Access {
    Access::new(Actor::new(Role::Controleur, "marie").unwrap(), None)
}

fn req(id: &str) -> RequestMeta {
    RequestMeta::new(id)
}

async fn ledger(h: &Harness) -> Ledger {
    let files = vec![
        (
            "d1bis.toml".to_string(),
            include_str!("../fixtures/domains/d1bis.toml").to_string(),
        ),
        (
            "d2.toml".to_string(),
            include_str!("../fixtures/domains/d2.toml").to_string(),
        ),
    ];
    let ledger = Ledger::open(
        h.store.clone(),
        Catalogue::from_files(files.clone()).unwrap(),
    )
    .await
    .unwrap();
    ledger
        .record_catalogue(&admin(), &req("cat"), &files)
        .await
        .unwrap();
    ledger
        .import_candidates(
            &admin(),
            &req("cand"),
            "candidates.csv",
            include_bytes!("../fixtures/candidates.csv"),
        )
        .await
        .unwrap();
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    ledger
}

fn invoice(objective: &str, amount: &str) -> StatementCommand {
    StatementCommand::DeclareExternalCost(ExternalCostInput {
        line_id: String::new(),
        cost_type: "investissement".into(),
        order_date: "2026-02-10".into(),
        invoice_date: "2026-03-15".into(),
        order_number: "BC-1".into(),
        invoice_number: "FA-1".into(),
        supplier: "Surfacia Audit SAS".into(),
        service_label: "Audit".into(),
        amount: amount.into(),
        nature: "PRESTATION_EXTERNE".into(),
        objective: objective.into(),
        contribution: "Audits".into(),
    })
}

fn attainment(objective: &str, status: &str) -> StatementCommand {
    StatementCommand::RecordAttainment(AttainmentInput {
        objective: objective.into(),
        status: status.into(),
        coverage: String::new(),
        reason: "constaté".into(),
    })
}

/// The text in column B of the summary row labelled `label`.
fn summary_text(range: &calamine::Range<Data>, label: &str) -> Data {
    let (h, _) = range.get_size();
    (0..h as u32)
        .find(|r| matches!(range.get_value((*r, 0)), Some(Data::String(s)) if s == label))
        .and_then(|r| range.get_value((r, 1)).cloned())
        .unwrap_or_else(|| panic!("no summary row {label}"))
}

async fn a_subsidy_that_cannot_be_computed_is_not_computable_in_the_workbook_as_in_the_json(
    h: &Harness,
) {
    let ledger = ledger(h).await;
    let (f, d) = (clinic(), DomainId::D2);
    for (i, command) in [
        StatementCommand::OpenStatement,
        invoice("D2.O1.A", "14 400,00"),
    ]
    .into_iter()
    .enumerate()
    {
        ledger
            .execute(&daf(), &f, d, command, &req(&format!("e{i}")))
            .await
            .unwrap();
    }
    ledger
        .execute(
            &controller(),
            &f,
            d,
            attainment("D2.O1.A", "not_attained"),
            &req("a"),
        )
        .await
        .unwrap();
    // The JSON: an error object, no figures.
    let (_, json) = ledger.statement_json(&daf(), &f, d).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let reason = json["subsidy"]["error"]
        .as_str()
        .expect("the JSON says the subsidy cannot be computed")
        .to_string();
    assert!(reason.contains("barème de décote non publié"), "{reason}");
    // The workbook: the same, in words, and no subsidy figure.
    for access in [daf(), controller()] {
        let (bytes, model) = ledger.export_template(&access, &f, d, None).await.unwrap();
        assert_eq!(model.summary.subsidy, Err(reason.clone()));
        let synth = values(&bytes, "Synthèse");
        assert_eq!(
            summary_text(&synth, SummaryRow::Status.label()),
            Data::String("Non calculable".into())
        );
        assert_eq!(summary_text(&synth, "Motif"), Data::String(reason.clone()));
        for row in [
            SummaryRow::Decote,
            SummaryRow::CappedCeiling,
            SummaryRow::Subsidy,
            SummaryRow::Due,
        ] {
            assert_eq!(
                summary_text(&synth, row.label()),
                Data::String(NOT_COMPUTABLE.into()),
                "{}",
                row.label()
            );
        }
        // The costs are still the ledger's.
        assert_eq!(
            summary_value(&synth, SummaryRow::Declared.label()),
            14_400.0
        );
        assert_eq!(summary_value(&synth, SummaryRow::Net.label()), 14_400.0);
        // The properties say it too.
        let custom = zip_text(&bytes, "docProps/custom.xml");
        assert!(custom.contains("non calculable"), "{custom}");
    }
}

async fn the_workbook_shows_the_ledgers_what_if_figures(h: &Harness) {
    let ledger = ledger(h).await;
    let (f, d) = (clinic(), DomainId::D1bis);
    ledger
        .execute(&daf(), &f, d, StatementCommand::OpenStatement, &req("o"))
        .await
        .unwrap();
    ledger
        .execute(&daf(), &f, d, invoice("D1.O2.A", "12 000,00"), &req("i"))
        .await
        .unwrap();
    ledger
        .execute(
            &controller(),
            &f,
            d,
            attainment("D1.O4", "not_attained"),
            &req("a"),
        )
        .await
        .unwrap();
    let w = ledger.what_if(&controller(), &f, d, None).await.unwrap();
    // Ceiling 95 000,00, décote 2,5 %: capped 92 625,00; the net 12 000,00 is below it.
    assert_eq!(w.subsidy, Some(Money::from_cents(1_200_000)));
    assert_eq!(w.objectives.len(), 1);
    assert_eq!(w.objectives[0].objective.as_str(), "D1.O4");
    assert_eq!(w.objectives[0].change, Some(Money::ZERO));
    assert_eq!(w.ceiling_headroom, Some(Money::from_cents(8_062_500)));
    // Serialisable for the API to come.
    let json = serde_json::to_value(&w).unwrap();
    assert_eq!(json["ceiling_headroom"], "80625.00");
    let (bytes, model) = ledger
        .export_template(&controller(), &f, d, None)
        .await
        .unwrap();
    assert_eq!(model.what_if.as_ref(), Some(&w));
    let synth = values(&bytes, "Synthèse");
    let (height, _) = synth.get_size();
    let title = (0..height as u32)
        .find(|r| matches!(synth.get_value((*r, 0)), Some(Data::String(s)) if s == WHAT_IF_TITLE))
        .expect("the what-if block");
    let label = |r: u32| match synth.get_value((r, 0)) {
        Some(Data::String(s)) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(label(title + 2), w.objectives[0].label_fr());
    assert_eq!(number(at(&synth, &format!("B{}", title + 3))), 12_000.0);
    assert_eq!(label(title + 3), w.flagged_lines_refused.label_fr());
    assert_eq!(number(at(&synth, &format!("B{}", title + 5))), 80_625.0);
}

async fn a_dry_run_refuses_what_the_real_import_refuses_and_appends_nothing(h: &Harness) {
    let ledger = ledger(h).await;
    let (f, d) = (clinic(), DomainId::D1bis);
    ledger
        .execute(&daf(), &f, d, StatementCommand::OpenStatement, &req("o"))
        .await
        .unwrap();
    ledger
        .execute(&daf(), &f, d, invoice("D1.O2.A", "12 000,00"), &req("i"))
        .await
        .unwrap();
    // A workbook with one more invoice typed in the first blank row.
    let filled = |model: &care_ledger::template::TemplateModel| {
        let mut plan = plan_workbook(model);
        let row = 6; // Excel row: the one invoice is on row 5
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
            ("J", text("D1.O1.A")),
            ("K", text("Second audit de l'annuaire")),
        ] {
            edit(&mut plan, "Coûts externes", &format!("{col}{row}"), value);
        }
        render(&plan).unwrap()
    };
    let events = |h: &Harness| {
        let store = h.store.clone();
        async move { store.head().await.unwrap().map(|x| x.position).unwrap_or(0) }
    };

    // Before submission: the dry run announces the declaration and appends nothing.
    let model = ledger.template_model(&daf(), &f, d, None).await.unwrap();
    let bytes = filled(&model);
    let before = events(h).await;
    let dry = ledger
        .import_template(&daf(), &bytes, true, &req("dry"))
        .await
        .unwrap();
    assert!(!dry.applied);
    assert_eq!(dry.commands.len(), 1);
    assert_eq!(events(h).await, before, "a dry run appends nothing");

    // A controller may not declare: refused by the dry run as by the real import.
    let model = ledger
        .template_model(&controller(), &f, d, None)
        .await
        .unwrap();
    let bytes = filled(&model);
    for dry_run in [true, false] {
        let err = ledger
            .import_template(&controller(), &bytes, dry_run, &req("ctl"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                LedgerError::RefusedAt {
                    refusal: Refusal::RoleNotAllowed { .. },
                    ..
                }
            ),
            "dry run {dry_run}: {err:?}"
        );
    }

    // Submitted: the establishment's additions are refused, dry run or not.
    ledger
        .execute(&daf(), &f, d, StatementCommand::Submit, &req("s"))
        .await
        .unwrap();
    let model = ledger.template_model(&daf(), &f, d, None).await.unwrap();
    let bytes = filled(&model);
    let before = events(h).await;
    let mut refusals = Vec::new();
    for dry_run in [true, false] {
        let err = ledger
            .import_template(&daf(), &bytes, dry_run, &req("late"))
            .await
            .unwrap_err();
        let LedgerError::RefusedAt { refusal, .. } = err else {
            panic!("dry run {dry_run}: {err:?}")
        };
        refusals.push(refusal.to_string());
    }
    assert_eq!(refusals[0], refusals[1], "the same refusal either way");
    assert_eq!(events(h).await, before, "nothing appended");
}
