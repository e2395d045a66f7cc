//! Payment batches over HTTP, on SQLite and PostgreSQL: two submitted, reviewed, attained statements
//! get a batch; a second request orders nothing; the CSV and the workbook carry the amounts to the
//! cent with the right headers; user text never becomes a formula; reprints order nothing.

mod common;

use calamine::{Data, Reader, Xlsx};
use care_ledger::actor::{Actor, Role};
use care_ledger::app::{Access, Ledger, RequestMeta};
use care_ledger::domain::statement::{
    AttainmentInput, ExternalCostInput, ReviewInput, StatementCommand,
};
use care_ledger::domain::DomainId;
use common::http::{catalogue_ledger_parts, day, other, own, problem, token, TestApp};
use common::Harness;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::Cursor;

const BODY_LIMIT: usize = 64 * 1024;
const BATCH_ID: &str = "LOT-D1bis-20270302-001";

/// The sample candidate base, with names a spreadsheet would read as formulas.
fn hostile_candidates() -> Vec<u8> {
    std::fs::read_to_string("fixtures/candidates.csv")
        .unwrap()
        .replace(
            "840000194;Centre hospitalier de Montfavet-Durance;",
            "840000194;=1+1 CH Montfavet-Durance;",
        )
        .replace(
            ";Clinique du Parc Saint-Lazare;",
            ";@SUM(A1) Clinique du Parc;",
        )
        .into_bytes()
}

/// Montfavet (one invoice of 12 345,67) and the Clinique (7 920,55): D1 bis statements submitted,
/// every line reviewed eligible, every objective attained on 1 February 2027, so each subsidy is
/// final and wholly due.
async fn payable_statements(h: &Harness) {
    h.clock.set(day(2027, 2, 1));
    let ledger = Ledger::open(h.store.clone(), catalogue_ledger_parts())
        .await
        .unwrap();
    ledger
        .import_candidates(
            &Actor::new(Role::Admin, "seed").unwrap(),
            &RequestMeta::new("seed"),
            "candidates.csv",
            &hostile_candidates(),
        )
        .await
        .unwrap();
    let controller = Access::new(Actor::new(Role::Controleur, "marie").unwrap(), None);
    for (finess, amount) in [(own(), "12 345,67"), (other(), "7 920,55")] {
        let establishment = Access::new(
            Actor::new(Role::Etablissement, "daf").unwrap(),
            Some(finess.clone()),
        );
        let invoice = ExternalCostInput {
            line_id: "EXT-1".into(),
            cost_type: "investissement".into(),
            order_date: "2026-03-01".into(),
            invoice_date: "2026-04-01".into(),
            order_number: "BC-9".into(),
            invoice_number: "F-9".into(),
            supplier: "Surfacia Audit SAS".into(),
            service_label: "Audit ADS".into(),
            amount: amount.into(),
            nature: "PRESTATION_EXTERNE".into(),
            objective: "D1.O1.A".into(),
            contribution: "Audits".into(),
        };
        ledger
            .execute_batch(
                &establishment,
                &finess,
                DomainId::D1bis,
                vec![
                    StatementCommand::OpenStatement,
                    StatementCommand::DeclareExternalCost(invoice),
                    StatementCommand::Submit,
                ],
                &RequestMeta::new("seed"),
            )
            .await
            .unwrap();
        let mut review = vec![StatementCommand::ReviewLine(ReviewInput {
            line_id: "EXT-1".into(),
            decision: "eligible".into(),
            ..ReviewInput::default()
        })];
        for objective in [
            "D1.O1.A", "D1.O1.B", "D1.O2.A", "D1.O2.B", "D1.O3", "D1.O4", "D1.O5",
        ] {
            review.push(StatementCommand::RecordAttainment(AttainmentInput {
                objective: objective.into(),
                status: "attained".into(),
                coverage: String::new(),
                reason: "pièces vérifiées".into(),
            }));
        }
        ledger
            .execute_batch(
                &controller,
                &finess,
                DomainId::D1bis,
                review,
                &RequestMeta::new("seed"),
            )
            .await
            .unwrap();
    }
}

async fn post_batch(
    app: &TestApp,
    token: &str,
    key: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = app
        .request(Method::POST, "/api/payments/batches", Some(token))
        .json(&body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    request.send().await.unwrap()
}

async fn json_with(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(got, status, "{body:#}");
    body
}

async fn head(h: &Harness) -> i64 {
    h.store.head().await.unwrap().unwrap().position
}

async fn a_batch_orders_what_is_due_once_and_a_second_request_orders_nothing(h: &Harness) {
    payable_statements(h).await;
    h.clock.set(day(2027, 3, 2));
    let app = TestApp::spawn(h, None, BODY_LIMIT).await;
    let (desk, desk_id) = token(h, Role::Paiement, None).await;

    let first = post_batch(&app, &desk, None, json!({"domain": "D1bis"})).await;
    let first = json_with(first, StatusCode::CREATED).await;
    assert_eq!(first["batch_id"], BATCH_ID);
    assert_eq!(first["domain"], "D1bis");
    assert_eq!(first["issued_on"], "2027-03-02");
    assert_eq!(first["recorded"], true);
    assert_eq!(first["replayed"], false);
    assert_eq!(first["total"], "20266.22");
    let lines = first["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    // Statements in FINESS order: the Clinique (130…) before Montfavet (840…).
    assert_eq!(lines[0]["finess"], other().as_str());
    assert_eq!(lines[0]["amount"], "7920.55");
    assert_eq!(lines[0]["candidate_name"], "@SUM(A1) Clinique du Parc");
    assert_eq!(
        lines[0]["reference"],
        format!("{BATCH_ID}/{}", other().as_str())
    );
    assert_eq!(lines[0]["payment_id"], "PAY-0001");
    assert_eq!(lines[1]["finess"], own().as_str());
    assert_eq!(lines[1]["amount"], "12345.67");
    assert_eq!(first["skipped"], json!([]));
    assert_eq!(
        first["links"],
        json!({
            "csv": format!("/api/payments/batches/{BATCH_ID}.csv"),
            "xlsx": format!("/api/payments/batches/{BATCH_ID}.xlsx"),
            "list": "/api/payments/batches?domain=D1bis",
        })
    );

    // Each order is on its statement, by the desk's token: nothing is due any more.
    let statement: Value = app
        .get(
            &format!("/api/statements/{}/D1bis", own().as_str()),
            Some(&desk),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["subsidy"]["committed"], "12345.67");
    assert_eq!(statement["subsidy"]["due"], "0.00");
    let batch_events = h
        .store
        .read_stream(
            "payment-batches/D1bis",
            care_ledger::store::ReadBound::all(),
        )
        .await
        .unwrap();
    assert_eq!(batch_events.len(), 1);
    assert_eq!(batch_events[0].actor, format!("token:{desk_id}"));

    // A second request orders nothing and records nothing.
    let position = head(h).await;
    let second = post_batch(&app, &desk, None, json!({"domain": "D1bis"})).await;
    let second = json_with(second, StatusCode::OK).await;
    assert_eq!(second["recorded"], false);
    assert!(second["batch_id"].is_null());
    assert!(second["links"].is_null());
    assert_eq!(second["lines"], json!([]));
    assert_eq!(second["total"], "0.00");
    assert_eq!(head(h).await, position);

    // The list holds the one batch; as of the day before, none.
    let listed = json_with(
        app.get("/api/payments/batches?domain=D1bis", Some(&desk))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["batch_id"], BATCH_ID);
    assert_eq!(listed[0]["total"], "20266.22");
    let before = json_with(
        app.get("/api/payments/batches?as_of=2027-03-01", Some(&desk))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(before, json!([]));
}

async fn the_same_idempotency_key_answers_the_batch_it_issued_and_orders_nothing(h: &Harness) {
    payable_statements(h).await;
    h.clock.set(day(2027, 3, 2));
    let app = TestApp::spawn(h, None, BODY_LIMIT).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let (other_desk, _) = token(h, Role::Paiement, None).await;
    let first = post_batch(&app, &desk, Some("lot-mars"), json!({"domain": "D1bis"})).await;
    let first = json_with(first, StatusCode::CREATED).await;
    let position = head(h).await;

    let replay = post_batch(&app, &desk, Some("lot-mars"), json!({"domain": "D1bis"})).await;
    let replay = json_with(replay, StatusCode::OK).await;
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["batch_id"], BATCH_ID);
    assert_eq!(replay["lines"], first["lines"]);
    assert_eq!(replay["total"], "20266.22");

    // The key for another domain, or from another desk agent: another request, a conflict.
    for (token, body) in [
        (&desk, json!({"domain": "D2"})),
        (&other_desk, json!({"domain": "D1bis"})),
    ] {
        let conflict = post_batch(&app, token, Some("lot-mars"), body).await;
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        assert!(problem(conflict).await["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"));
    }
    assert_eq!(head(h).await, position);
}

async fn the_batch_downloads_as_csv_and_xlsx_with_the_amounts_to_the_cent(h: &Harness) {
    payable_statements(h).await;
    h.clock.set(day(2027, 3, 2));
    let app = TestApp::spawn(h, None, BODY_LIMIT).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    json_with(
        post_batch(&app, &desk, None, json!({"domain": "D1bis"})).await,
        StatusCode::CREATED,
    )
    .await;
    h.clock.set(day(2027, 4, 15));
    let position = head(h).await;

    // The controller reads it too (an auditor), as of the day it was issued.
    let csv = app
        .get(
            &format!("/api/payments/batches/{BATCH_ID}.csv?as_of=2027-03-02"),
            Some(&controller),
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(
        csv.headers().get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        csv.headers().get("content-disposition").unwrap(),
        &format!("attachment; filename=\"lot-paiement-{BATCH_ID}.csv\"")
    );
    let text = String::from_utf8(csv.bytes().await.unwrap().to_vec()).unwrap();
    assert_eq!(
        text,
        format!(
            "\u{feff}lot;finess;candidat;domaine;montant;reference;paiement\n\
             {BATCH_ID};130004526;'@SUM(A1) Clinique du Parc;D1bis;7920,55;{BATCH_ID}/130004526;PAY-0001\n\
             {BATCH_ID};840000194;'=1+1 CH Montfavet-Durance;D1bis;12345,67;{BATCH_ID}/840000194;PAY-0001\n"
        )
    );

    let xlsx = app
        .get(
            &format!("/api/payments/batches/{BATCH_ID}.xlsx"),
            Some(&desk),
        )
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert_eq!(
        xlsx.headers().get("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        xlsx.headers().get("content-disposition").unwrap(),
        &format!("attachment; filename=\"lot-paiement-{BATCH_ID}.xlsx\"")
    );
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
    let sheet = workbook.worksheet_range("Lot de paiement").unwrap();
    let cell = |row: u32, col: u32| sheet.get_value((row, col)).cloned();
    assert_eq!(cell(3, 0), Some(Data::String("130004526".into())));
    // User text is a string cell, never a formula.
    assert_eq!(
        cell(3, 1),
        Some(Data::String("@SUM(A1) Clinique du Parc".into()))
    );
    assert_eq!(
        cell(4, 1),
        Some(Data::String("=1+1 CH Montfavet-Durance".into()))
    );
    assert_eq!(cell(3, 3), Some(Data::Float(7920.55)));
    assert_eq!(cell(4, 3), Some(Data::Float(12345.67)));
    assert_eq!(
        cell(5, 3),
        Some(Data::Float(20266.22)),
        "the total's cached value"
    );
    let formulas = workbook.worksheet_formula("Lot de paiement").unwrap();
    assert_eq!(
        formulas.get_value((5, 3)).map(String::as_str),
        Some("SUM(D4:D5)")
    );
    assert_eq!(
        formulas
            .used_cells()
            .filter(|(_, _, f)| !f.is_empty())
            .count(),
        1,
        "the total is the only formula"
    );

    // Reprints order nothing.
    assert_eq!(head(h).await, position);
}

async fn reading_a_batch_answers_by_role_date_and_id(h: &Harness) {
    payable_statements(h).await;
    h.clock.set(day(2027, 3, 2));
    let app = TestApp::spawn(h, None, BODY_LIMIT).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    json_with(
        post_batch(&app, &desk, None, json!({"domain": "D1bis"})).await,
        StatusCode::CREATED,
    )
    .await;
    let csv = format!("/api/payments/batches/{BATCH_ID}.csv");
    for (path, who, status) in [
        (csv.clone(), &establishment, StatusCode::FORBIDDEN),
        (csv.clone(), &admin, StatusCode::FORBIDDEN),
        (
            format!("{csv}?as_of=2027-03-01"),
            &desk,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/payments/batches/LOT-D1bis-20270302-002.xlsx".to_string(),
            &desk,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/payments/batches/LOT-D1bis-20270302-001.pdf".to_string(),
            &desk,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = app.get(&path, Some(who)).await;
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(problem(response).await["status"], status.as_u16());
    }
    let bad_date = app.get(&format!("{csv}?as_of=hier"), Some(&desk)).await;
    assert_eq!(bad_date.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(bad_date).await["field"], "as_of");
    let bad_domain = app
        .get("/api/payments/batches?domain=D3", Some(&desk))
        .await;
    assert_eq!(bad_domain.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(bad_domain).await["field"], "domain");
}

async fn a_bad_batch_request_names_its_field_and_orders_nothing(h: &Harness) {
    payable_statements(h).await;
    h.clock.set(day(2027, 3, 2));
    let app = TestApp::spawn(h, None, BODY_LIMIT).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    let position = head(h).await;
    for (body, status, field) in [
        (
            json!({"domain": "D3"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "domain",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "domain"),
        (json!({"domain": 2}), StatusCode::BAD_REQUEST, "body"),
        (
            json!({"domain": "D1bis", "montant": "1"}),
            StatusCode::BAD_REQUEST,
            "montant",
        ),
    ] {
        let response = post_batch(&app, &desk, None, body.clone()).await;
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(problem(response).await["field"], field, "{body}");
    }
    let bad_key = post_batch(
        &app,
        &desk,
        Some("clé avec espaces"),
        json!({"domain": "D1bis"}),
    )
    .await;
    assert_eq!(bad_key.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(bad_key).await["field"], "Idempotency-Key");
    // A controller may read batches, never order one.
    let refused = post_batch(&app, &controller, None, json!({"domain": "D1bis"})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(head(h).await, position);
}

async fn a_provisional_subsidy_is_skipped_with_its_reason(h: &Harness) {
    common::http::seed_statements(h).await;
    let app = TestApp::spawn(h, None, BODY_LIMIT).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let position = head(h).await;
    let response = post_batch(&app, &desk, None, json!({"domain": "D1bis"})).await;
    let body = json_with(response, StatusCode::OK).await;
    assert_eq!(body["recorded"], false);
    let skipped = body["skipped"].as_array().unwrap();
    let finesses: Vec<&str> = skipped
        .iter()
        .map(|s| s["finess"].as_str().unwrap())
        .collect();
    assert_eq!(finesses, vec![other().as_str(), own().as_str()]);
    assert!(skipped
        .iter()
        .all(|s| !s["reason"].as_str().unwrap().is_empty()));
    assert_eq!(head(h).await, position);
}

on_both_engines!(
    a_batch_orders_what_is_due_once_and_a_second_request_orders_nothing,
    the_same_idempotency_key_answers_the_batch_it_issued_and_orders_nothing,
    the_batch_downloads_as_csv_and_xlsx_with_the_amounts_to_the_cent,
    reading_a_batch_answers_by_role_date_and_id,
    a_bad_batch_request_names_its_field_and_orders_nothing,
    a_provisional_subsidy_is_skipped_with_its_reason,
);
