//! The whole cycle over HTTP, on SQLite and PostgreSQL, as the four roles do it: the administrator
//! imports the candidate base; the Clinique du Parc's finance team opens its D1 bis statement, imports
//! its payroll recap, declares an internal cost from it and an invoice, attaches the invoice and the
//! exercise report, submits; the controller asks for a document, gets it, reviews every line, records
//! the audit evidence (seed 003 Cas #1) and computes the attainment; the payment desk issues a batch,
//! downloads it and confirms the disbursement; everyone downloads the template; the ledger verifies.

mod common;

use calamine::{Data, Reader, Xlsx};
use care_ledger::actor::Role;
use care_ledger::domain::Finess;
use care_ledger::store::hash::sha256_hex;
use common::http::{day, token, TestApp};
use common::Harness;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::Cursor;

on_both_engines!(a_statement_goes_through_the_whole_cycle_over_http_with_the_four_roles);

const UPLOAD_LIMIT: usize = 2 * 1024 * 1024;

fn clinique() -> Finess {
    Finess::parse("130004526").unwrap()
}

fn statement() -> String {
    format!("/api/statements/{}/D1bis", clinique())
}

async fn json_with(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(got, status, "{body:#}");
    body
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.request(Method::POST, path, Some(token))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn command(app: &TestApp, token: &str, body: Value) -> Value {
    json_with(
        post(app, &format!("{}/commands", statement()), token, body).await,
        StatusCode::CREATED,
    )
    .await
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("fixtures/{path}")).unwrap()
}

async fn a_statement_goes_through_the_whole_cycle_over_http_with_the_four_roles(h: &Harness) {
    h.clock.set(day(2027, 2, 15));
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let (daf, _) = token(h, Role::Etablissement, Some(&clinique())).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    let (desk, _) = token(h, Role::Paiement, None).await;

    // Administrator: the candidate base.
    let imported = app
        .upload(
            "/api/candidates/import",
            Some(&admin),
            "candidates.csv",
            &fixture("candidates.csv"),
        )
        .await;
    assert_eq!(imported.status(), StatusCode::OK);

    // Establishment: open, import the 2026 recap of 44A567, declare the line from it and an invoice.
    command(&app, &daf, json!({"command": "OpenStatement"})).await;
    let recap = app
        .upload(
            &format!("/api/candidates/{}/payroll/recaps", clinique()),
            Some(&daf),
            "recap-44A567-2026.csv",
            &fixture("payroll/clinique_parc_44A567_2026.csv"),
        )
        .await;
    let recap = json_with(recap, StatusCode::CREATED).await;
    assert_eq!(recap["employees"][0]["matricule"], "44A567");
    assert_eq!(recap["employees"][0]["total_gross"], "55631.25");
    assert_eq!(recap["employees"][0]["total_employer_charges"], "32935.48");
    let line = post(
        &app,
        &format!("{}/payroll-lines", statement()),
        &daf,
        json!({
            "matricule": "44A567", "recap_year": 2026, "year": "2026", "objective": "D1.O1.A",
            "contribution": "RSSI : pilotage des audits ADS", "hours_productive": "1607",
            "hours": "120", "line_id": "INT-0001"
        }),
    )
    .await;
    let line = json_with(line, StatusCode::CREATED).await;
    // Seed 003: (55 631,25 + 32 935,48) ÷ 1 607 = 55,1130…; × 120 = 6 613,57.
    assert_eq!(line["imputable"], "6613.57");
    command(
        &app,
        &daf,
        json!({
            "command": "DeclareExternalCost", "line_id": "EXT-0001", "cost_type": "recurrent",
            "order_date": "2026-02-20", "invoice_date": "2026-03-31",
            "order_number": "BC-2026-0112", "invoice_number": "FA-2026-0387",
            "supplier": "Surfacia Audit SAS",
            "service_label": "Audits d'exposition internet, 6 campagnes", "amount": "14 400,00",
            "nature": "PRESTATION_EXTERNE", "objective": "D1.O2.A",
            "contribution": "Audit de la surface exposée tous les 60 jours"
        }),
    )
    .await;
    let invoice = fixture("documents/facture-surfacia-FA-2026-0387.pdf");
    let attached = app
        .post_form(
            &format!("{}/documents", statement()),
            &daf,
            Some(("facture-surfacia-FA-2026-0387.pdf", &invoice)),
            &[("kind", "FACTURE"), ("line_id", "EXT-0001")],
        )
        .await;
    let attached = json_with(attached, StatusCode::CREATED).await;
    assert_eq!(attached["document"]["id"], "DOC-0001");
    let report = fixture("documents/rapport-exercice-crise-cyber.pdf");
    json_with(
        app.post_form(
            &format!("{}/documents", statement()),
            &daf,
            Some(("rapport-exercice-crise-cyber.pdf", &report)),
            &[("kind", "D1O3_RAPPORT_EXERCICE"), ("objective", "D1.O3")],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    h.clock.set(day(2027, 2, 20));
    command(&app, &daf, json!({"command": "Submit"})).await;
    // Submitted: the establishment can no longer change a line.
    let locked = post(
        &app,
        &format!("{}/commands", statement()),
        &daf,
        json!({"command": "WithdrawLine", "line_id": "EXT-0001", "reason": "erreur"}),
    )
    .await;
    assert_eq!(locked.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Controller: asks for the purchase order of EXT-0001; the establishment attaches it and answers.
    h.clock.set(day(2027, 4, 20));
    command(
        &app,
        &controller,
        json!({"command": "ReviewLine", "line_id": "EXT-0001", "decision": "documents_requested",
               "documents_requested": "Bon de commande BC-2026-0112", "documents_due": "2027-05-15"}),
    )
    .await;
    h.clock.set(day(2027, 4, 24));
    let order = b"%PDF-1.4\n% Bon de commande BC-2026-0112\n%%EOF\n";
    json_with(
        app.post_form(
            &format!("{}/documents", statement()),
            &daf,
            Some(("bon-de-commande-BC-2026-0112.pdf", order)),
            &[("kind", "BON_COMMANDE"), ("line_id", "EXT-0001")],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    command(
        &app,
        &daf,
        json!({"command": "AnswerDocumentRequest", "line_id": "EXT-0001",
               "comment": "bon de commande joint", "document_sha256": sha256_hex(order)}),
    )
    .await;

    // Controller: reviews both lines, records the audit evidence and computes the attainment.
    h.clock.set(day(2027, 4, 28));
    for line in ["INT-0001", "EXT-0001"] {
        command(
            &app,
            &controller,
            json!({"command": "ReviewLine", "line_id": line, "decision": "eligible"}),
        )
        .await;
    }
    let evidence: Value =
        serde_json::from_slice(&fixture("evidence/clinique-parc-cas1.json")).unwrap();
    let computed = post(
        &app,
        &format!("{}/batch", statement()),
        &controller,
        json!([
            {"command": "RecordEvidence", "evidence": evidence},
            {"command": "ComputeAttainment", "reason": "contrôle sur pièces"}
        ]),
    )
    .await;
    json_with(computed, StatusCode::CREATED).await;
    let view: Value = app
        .get(&statement(), Some(&desk))
        .await
        .json()
        .await
        .unwrap();
    let computed = &view["statement"]["computed"];
    assert_eq!(computed["D1.O1.B"]["status"], "attained");
    assert_eq!(computed["D1.O2.B"]["status"], "not_attained");
    let subsidy = &view["subsidy"];
    // D1.O2.B at 75 % of the combined activity: the 15 % tier. Net 6 613,57 + 14 400,00 = 21 013,57,
    // under the capped ceiling 95 000 × 85 % = 80 750,00.
    assert_eq!(subsidy["decote"], "15");
    assert_eq!(subsidy["capped_ceiling"], "80750.00");
    assert_eq!(subsidy["eligible_total"], "21013.57");
    assert_eq!(subsidy["subsidy"], "21013.57");
    assert_eq!(subsidy["provisional"], false);
    // The checklist: the invoice and the order of EXT-0001, the recap of INT-0001, the D1.O3 report.
    let checklist = &view["checklist"];
    let ext = checklist["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"].as_str().unwrap().starts_with("EXT-0001"))
        .unwrap();
    assert_eq!(ext["complete"], true);
    let int = checklist["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"].as_str().unwrap().starts_with("INT-0001"))
        .unwrap();
    assert_eq!(
        int["items"][0]["payroll_recap_sha256"],
        sha256_hex(&fixture("payroll/clinique_parc_44A567_2026.csv"))
    );

    // Payment desk: one batch orders the 21 013,57 due; the CSV says so; the bank confirms.
    h.clock.set(day(2027, 5, 10));
    let batch = post(
        &app,
        "/api/payments/batches",
        &desk,
        json!({"domain": "D1bis"}),
    )
    .await;
    let batch = json_with(batch, StatusCode::CREATED).await;
    let batch_id = batch["batch_id"].as_str().unwrap().to_string();
    assert_eq!(batch_id, "LOT-D1bis-20270510-001");
    let csv = app
        .get(
            &format!("/api/payments/batches/{batch_id}.csv"),
            Some(&desk),
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("130004526"), "{csv}");
    assert!(
        csv.contains("21013,57") || csv.contains("21013.57"),
        "{csv}"
    );
    let view: Value = app
        .get(&statement(), Some(&desk))
        .await
        .json()
        .await
        .unwrap();
    let payment_id = view["statement"]["payments"]["payments"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    h.clock.set(day(2027, 5, 17));
    command(
        &app,
        &desk,
        json!({"command": "ConfirmDisbursement", "payment_id": payment_id,
               "bank_reference": "VIR-2027-0517-01", "value_date": "2027-05-17"}),
    )
    .await;
    let view: Value = app
        .get(&statement(), Some(&daf))
        .await
        .json()
        .await
        .unwrap();
    let subsidy = &view["subsidy"];
    assert_eq!(subsidy["disbursed"], "21013.57");
    assert_eq!(subsidy["due"], "0.00");

    // Everyone downloads the template: its summary shows the subsidy, its documents sheet the files.
    for who in [&daf, &controller, &desk, &admin] {
        let template = app
            .get(&format!("{}/template.xlsx", statement()), Some(who))
            .await;
        assert_eq!(template.status(), StatusCode::OK);
        let bytes = template.bytes().await.unwrap();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let summary = book.worksheet_range("Synthèse").unwrap();
        assert!(summary
            .used_cells()
            .any(|(_, _, c)| matches!(c, Data::Float(f) if (f - 21_013.57).abs() < 0.005)));
        let pieces = book.worksheet_range("Pièces justificatives").unwrap();
        let names: Vec<String> = pieces
            .used_cells()
            .filter_map(|(_, _, c)| match c {
                Data::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        assert!(names.contains(&"facture-surfacia-FA-2026-0387.pdf".to_string()));
        assert!(names.contains(&"bon-de-commande-BC-2026-0112.pdf".to_string()));
    }

    // The ledger verifies, documents included.
    let report: Value = app
        .get("/api/ledger/verify", Some(&controller))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["problem"], Value::Null, "{report:#}");
    assert_eq!(report["documents_checked"], 4);
}
