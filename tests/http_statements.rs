//! Candidates, statements, commands and templates over HTTP, on SQLite and PostgreSQL: a whole cycle
//! (import, declare, submit, review, attain, pay, download) and the refusals a client meets.

mod common;

use calamine::{Data, Reader, Xlsx};
use care_ledger::actor::Role;
use care_ledger::domain::Finess;
use care_ledger::store::ReadBound;
use common::http::{day, other, own, problem, seed_statements, token, TestApp};
use common::Harness;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::Cursor;

const UPLOAD_LIMIT: usize = 1024 * 1024;

fn statement_path(finess: &Finess) -> String {
    format!("/api/statements/{}/D1bis", finess.as_str())
}

async fn command(app: &TestApp, token: &str, finess: &Finess, body: Value) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("{}/commands", statement_path(finess)),
        Some(token),
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body:#}");
    body
}

fn money(value: &Value) -> f64 {
    match value {
        Value::String(s) => s.replace(' ', "").replace(',', ".").parse().unwrap(),
        other => other.as_f64().unwrap(),
    }
}

async fn a_statement_goes_from_declaration_to_payment_and_template_over_http(h: &Harness) {
    h.clock.set(day(2027, 3, 10));
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    let (desk, _) = token(h, Role::Paiement, None).await;

    // The administrator imports the candidate base (multipart CSV).
    let csv = std::fs::read("fixtures/candidates.csv").unwrap();
    let imported = app
        .upload(
            "/api/candidates/import",
            Some(&admin),
            "candidates.csv",
            &csv,
        )
        .await;
    assert_eq!(imported.status(), StatusCode::OK);
    let imported: Value = imported.json().await.unwrap();
    assert!(imported["registered"]
        .as_array()
        .unwrap()
        .contains(&json!(own().as_str())));

    // The establishment sees only itself.
    let mine: Value = app
        .get("/api/candidates", Some(&establishment))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["finess"], own().as_str());

    // It opens, declares an internal cost and an invoice, and submits.
    created(
        command(
            &app,
            &establishment,
            &own(),
            json!({"command": "OpenStatement"}),
        )
        .await,
    )
    .await;
    created(
        command(
            &app,
            &establishment,
            &own(),
            json!({
                "command": "DeclareInternalCost", "line_id": "INT-0001", "matricule": "M-0042",
                "year": "2026", "objective": "D1.O1.A", "nature": "COUTS_INTERNES",
                "contribution": "RSSI : pilotage du plan d'action",
                "gross_annualised": "42 000,00", "employer_charges": "18 000,00",
                "hours_productive": "1600", "hours_on_action": "160"
            }),
        )
        .await,
    )
    .await;
    created(
        command(
            &app,
            &establishment,
            &own(),
            json!({
                "command": "DeclareExternalCost", "line_id": "EXT-0001", "cost_type": "recurrent",
                "order_date": "2026-04-03", "invoice_date": "2026-12-15",
                "order_number": "CMD-26-0457", "invoice_number": "EXPO-2026-211",
                "supplier": "Surfacia Audit SAS", "service_label": "Audit d'exposition internet",
                "amount": "7 920,00", "nature": "PRESTATION_EXTERNE", "objective": "D1.O2.A",
                "contribution": "Audits des domaines exposés"
            }),
        )
        .await,
    )
    .await;
    let submitted =
        created(command(&app, &establishment, &own(), json!({"command": "Submit"})).await).await;
    assert_eq!(submitted["version"], 4);
    assert_eq!(submitted["active_lines"], 2);

    // 15 March 2027: the controller reviews both lines and records every objective attained.
    h.clock.set(day(2027, 3, 15));
    for line in ["INT-0001", "EXT-0001"] {
        created(
            command(
                &app,
                &controller,
                &own(),
                json!({"command": "ReviewLine", "line_id": line, "decision": "eligible"}),
            )
            .await,
        )
        .await;
    }
    let attainments: Vec<Value> = [
        "D1.O1.A", "D1.O1.B", "D1.O2.A", "D1.O2.B", "D1.O3", "D1.O4", "D1.O5",
    ]
    .iter()
    .map(|o| json!({"command": "RecordAttainment", "objective": o, "status": "attained"}))
    .collect();
    let batch = app
        .request(
            Method::POST,
            &format!("{}/batch", statement_path(&own())),
            Some(&controller),
        )
        .json(&attainments)
        .send()
        .await
        .unwrap();
    let batch = created(batch).await;
    assert_eq!(batch["attainments"], 7);

    // The subsidy is final; the payment desk orders what is due.
    let view = app.get(&statement_path(&own()), Some(&desk)).await;
    assert_eq!(view.status(), StatusCode::OK);
    let version = batch["version"].as_i64().unwrap();
    assert_eq!(
        view.headers().get("etag").unwrap().to_str().unwrap(),
        format!("\"{version}\"")
    );
    let view: Value = view.json().await.unwrap();
    let subsidy = &view["subsidy"];
    assert_eq!(subsidy["provisional"], false, "{subsidy:#}");
    let due = subsidy["due"].clone();
    assert!(money(&due) > 0.0);
    let paid = created(
        command(
            &app,
            &desk,
            &own(),
            json!({"command": "OrderPayment", "amount": due, "reference": "CARE-D1bis-1"}),
        )
        .await,
    )
    .await;
    assert_eq!(paid["payments"], 1, "{paid:#}");

    // The template downloads as a workbook that shows the subsidy.
    let template = app
        .get(
            &format!("{}/template.xlsx", statement_path(&own())),
            Some(&establishment),
        )
        .await;
    assert_eq!(template.status(), StatusCode::OK);
    assert_eq!(
        template.headers().get("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        template.headers().get("content-disposition").unwrap(),
        &format!(
            "attachment; filename=\"etat-financier-{}-D1bis.xlsx\"",
            own().as_str()
        )
    );
    let bytes = template.bytes().await.unwrap();
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let subsidy_amount = money(&subsidy["subsidy"]);
    let mut found = false;
    for sheet in workbook.sheet_names() {
        let range = workbook.worksheet_range(&sheet).unwrap();
        found |= range.used_cells().any(
            |(_, _, cell)| matches!(cell, Data::Float(f) if (f - subsidy_amount).abs() < 0.005),
        );
    }
    assert!(found, "the subsidy {subsidy_amount} is in no cell");

    // The history is as-of readable: on 12 March the statement was submitted, not yet reviewed.
    let before: Value = app
        .get(
            &format!("{}?as_of=2027-03-12", statement_path(&own())),
            Some(&controller),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before["version"], 4);
}

async fn a_three_decimal_amount_is_a_422_naming_the_field(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let mut body = serde_json::to_value(common::http::invoice("EXT-0002", "100,005")).unwrap();
    body["command"] = json!("DeclareExternalCost");
    let response = command(&app, &establishment, &own(), body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = problem(response).await;
    assert_eq!(body["field"], "amount");
    assert_eq!(body["errors"][0]["field"], "amount");
}

async fn a_stale_if_match_is_a_409_and_appends_nothing(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let current = app.get(&statement_path(&own()), Some(&establishment)).await;
    assert_eq!(current.headers().get("etag").unwrap(), "\"2\"");
    let stale = app
        .request(
            Method::POST,
            &format!("{}/commands", statement_path(&own())),
            Some(&establishment),
        )
        .header("if-match", "\"1\"")
        .json(&json!({"command": "Submit"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    assert_eq!(problem(stale).await["status"], 409);
    let fresh = app
        .request(
            Method::POST,
            &format!("{}/commands", statement_path(&own())),
            Some(&establishment),
        )
        .header("if-match", "\"2\"")
        .json(&json!({"command": "Submit"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created(fresh).await["version"], 3);
}

async fn the_same_idempotency_key_twice_appends_one_event(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let mut invoice = serde_json::to_value(common::http::invoice("EXT-0002", "1 200,00")).unwrap();
    invoice["command"] = json!("DeclareExternalCost");
    let send = |body: Value| {
        app.request(
            Method::POST,
            &format!("{}/commands", statement_path(&own())),
            Some(&establishment),
        )
        .header("idempotency-key", "facture-0002")
        .json(&body)
        .send()
    };
    let first = send(invoice.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = send(invoice.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["replayed"], true);
    assert_eq!(again["version"], 3);
    let events = h
        .store
        .read_stream(
            &format!("statement/{}/D1bis", own().as_str()),
            ReadBound::all(),
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 3, "one event for two requests");

    invoice["amount"] = json!("1 300,00");
    let other_body = send(invoice).await.unwrap();
    assert_eq!(other_body.status(), StatusCode::CONFLICT);
}

async fn another_candidates_statement_answers_exactly_as_a_missing_one(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let missing = Finess::with_check_digit("75000001").unwrap();
    for suffix in ["", "/template.xlsx"] {
        let another = app
            .get(
                &format!("{}{suffix}", statement_path(&other())),
                Some(&establishment),
            )
            .await;
        let nowhere = app
            .get(
                &format!("{}{suffix}", statement_path(&missing)),
                Some(&establishment),
            )
            .await;
        assert_eq!(another.status(), StatusCode::NOT_FOUND);
        assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            another.bytes().await.unwrap(),
            nowhere.bytes().await.unwrap()
        );
    }
    let another = command(&app, &establishment, &other(), json!({"command": "Submit"})).await;
    let nowhere = command(&app, &establishment, &missing, json!({"command": "Submit"})).await;
    assert_eq!(another.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        another.bytes().await.unwrap(),
        nowhere.bytes().await.unwrap()
    );
    let candidate = app
        .get(
            &format!("/api/candidates/{}", other().as_str()),
            Some(&establishment),
        )
        .await;
    let no_candidate = app
        .get(
            &format!("/api/candidates/{}", missing.as_str()),
            Some(&establishment),
        )
        .await;
    assert_eq!(candidate.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        candidate.bytes().await.unwrap(),
        no_candidate.bytes().await.unwrap()
    );
    let list: Value = app
        .get("/api/statements", Some(&establishment))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        list,
        json!([{"finess": own().as_str(), "domain": "D1bis",
        "href": format!("/api/statements/{}/D1bis", own().as_str())}])
    );
}

async fn a_role_the_rules_do_not_allow_is_a_403(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    let response = command(&app, &desk, &own(), json!({"command": "Submit"})).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(problem(response).await["status"], 403);
    let csv = std::fs::read("fixtures/candidates.csv").unwrap();
    let import = app
        .upload(
            "/api/candidates/import",
            Some(&controller),
            "candidates.csv",
            &csv,
        )
        .await;
    assert_eq!(import.status(), StatusCode::FORBIDDEN);
}

async fn an_upload_over_the_limit_is_a_413(h: &Harness) {
    let app = TestApp::spawn(h, None, 4096).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let big = vec![b'x'; 10_000];
    let response = app
        .upload(
            "/api/candidates/import",
            Some(&admin),
            "candidates.csv",
            &big,
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(response).await["status"], 413);
}

async fn a_template_round_trips_and_a_broken_file_lists_its_errors(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let bytes = app
        .get(
            &format!("{}/template.xlsx", statement_path(&own())),
            Some(&establishment),
        )
        .await
        .bytes()
        .await
        .unwrap();
    let dry = app
        .upload(
            "/api/templates/import?dry_run=true",
            Some(&establishment),
            "trame.xlsx",
            &bytes,
        )
        .await;
    assert_eq!(dry.status(), StatusCode::OK);
    let dry: Value = dry.json().await.unwrap();
    assert_eq!(dry["applied"], false);
    assert_eq!(dry["commands"], json!([]));

    let broken = app
        .upload(
            "/api/templates/import?dry_run=false",
            Some(&establishment),
            "trame.xlsx",
            b"not a workbook",
        )
        .await;
    assert_eq!(broken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = problem(broken).await;
    let errors = body["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    assert!(errors[0]["field"].is_string() && errors[0]["message"].is_string());
}

on_both_engines!(
    a_statement_goes_from_declaration_to_payment_and_template_over_http,
    a_three_decimal_amount_is_a_422_naming_the_field,
    a_stale_if_match_is_a_409_and_appends_nothing,
    the_same_idempotency_key_twice_appends_one_event,
    another_candidates_statement_answers_exactly_as_a_missing_one,
    a_role_the_rules_do_not_allow_is_a_403,
    an_upload_over_the_limit_is_a_413,
    a_template_round_trips_and_a_broken_file_lists_its_errors,
);
