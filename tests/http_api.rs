//! The HTTP service spawned on port 0 against SQLite and PostgreSQL, driven with a real HTTP client.

mod common;

use care_ledger::actor::Role;
use care_ledger::domain::Finess;
use care_ledger::http::tokens::{self, TOKENS_STREAM};
use care_ledger::store::ReadBound;
use common::http::{other, own, problem, seed_statements, token};
use common::Harness;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const MAX_BODY_BYTES: usize = 4096;

type TestApp = common::http::TestApp;

async fn health_and_ready_answer_without_a_token(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let health = app.get("/health", None).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.json::<Value>().await.unwrap()["status"], "ok");
    let ready = app.get("/ready", None).await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["database"], h.engine);
}

async fn ready_answers_503_when_the_database_is_gone(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    h.store.close().await;
    let response = app.get("/ready", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem(response).await["status"], 503);
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

async fn a_request_without_a_token_or_with_a_bad_one_is_401_with_a_bearer_challenge(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    for token in [None, Some("clt_0000"), Some("not-even-a-token")] {
        let response = app.get("/api/ledger/verify", token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert!(response
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let body = problem(response).await;
        assert_eq!(body["status"], 401);
        assert_eq!(body["title"], "Authentification requise");
    }
}

async fn a_revoked_token_is_refused_with_401(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let (controller, controller_id) = token(h, Role::Controleur, None).await;
    assert_eq!(
        app.get("/api/ledger/verify", Some(&controller))
            .await
            .status(),
        StatusCode::OK
    );
    let revoked = app
        .request(
            Method::DELETE,
            &format!("/api/tokens/{controller_id}"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/ledger/verify", Some(&controller))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    // The history says who revoked which token, and never holds a secret or its hash.
    let events = h
        .store
        .read_stream(TOKENS_STREAM, ReadBound::all())
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event_type, "TokenRevoked");
    assert_eq!(last.payload_json().unwrap()["token_id"], controller_id);
    assert_eq!(last.role, "admin");
    for e in &events {
        assert!(!e.payload.contains("clt_"));
        assert!(!e.payload.contains(&tokens::hash_token(&controller)));
    }
}

/// One endpoint of the role matrix: the path to call (placeholders `{own}`, `{other}`, `{token_id}`),
/// the path as the OpenAPI document names it, and the status each caller gets.
struct Row {
    method: Method,
    path: &'static str,
    doc_path: &'static str,
    body: Option<Value>,
    anonymous: u16,
    etablissement: u16,
    controleur: u16,
    paiement: u16,
    admin: u16,
}

#[rustfmt::skip]
fn matrix() -> Vec<Row> {
    let row = |method: Method, path, doc_path, body: Option<Value>, [anonymous, etablissement, controleur, paiement, admin]: [u16; 5]| Row {
        method, path, doc_path, body, anonymous, etablissement, controleur, paiement, admin,
    };
    vec![
        //   method          path                                          OpenAPI path                     body   anon etab ctrl paie admin
        row(Method::GET,    "/health",                                     "/health",                       None, [200, 200, 200, 200, 200]),
        row(Method::GET,    "/ready",                                      "/ready",                        None, [200, 200, 200, 200, 200]),
        row(Method::GET,    "/openapi.json",                               "",                              None, [200, 200, 200, 200, 200]),
        row(Method::GET,    "/api/ledger/verify",                          "/api/ledger/verify",            None, [401, 403, 200, 403, 200]),
        row(Method::GET,    "/api/ledger/checkpoint",                      "/api/ledger/checkpoint",        None, [401, 403, 403, 403, 200]),
        row(Method::GET,    "/api/streams/statement/{own}/D1bis/events",   "/api/streams/{stream}/events",  None, [401, 200, 200, 403, 200]),
        row(Method::GET,    "/api/streams/statement/{other}/D1bis/events", "/api/streams/{stream}/events",  None, [401, 404, 200, 403, 200]),
        row(Method::GET,    "/api/streams/statement/{own}/D2/events",      "/api/streams/{stream}/events",  None, [401, 404, 404, 403, 404]),
        row(Method::GET,    "/api/streams/tokens/events",                  "/api/streams/{stream}/events",  None, [401, 404, 200, 403, 200]),
        row(Method::POST,   "/api/tokens",                                 "/api/tokens",                   Some(json!({"role": "controleur"})), [401, 403, 403, 403, 201]),
        row(Method::DELETE, "/api/tokens/{token_id}",                      "/api/tokens/{id}",              None, [401, 403, 403, 403, 204]),
        row(Method::GET,    "/api/candidates",                             "/api/candidates",               None, [401, 200, 200, 200, 200]),
        row(Method::GET,    "/api/candidates/{own}",                       "/api/candidates/{finess}",      None, [401, 200, 200, 200, 200]),
        row(Method::GET,    "/api/candidates/{other}",                     "/api/candidates/{finess}",      None, [401, 404, 200, 200, 200]),
        row(Method::GET,    "/api/candidates/750000001",                   "/api/candidates/{finess}",      None, [401, 404, 404, 404, 404]),
        // Without a multipart file: the admin's request is malformed (400), every other role refused.
        row(Method::POST,   "/api/candidates/import",                      "/api/candidates/import",        None, [401, 403, 403, 403, 400]),
        row(Method::GET,    "/api/statements",                             "/api/statements",               None, [401, 200, 200, 200, 200]),
        row(Method::GET,    "/api/statements/{own}/D1bis",                 "/api/statements/{finess}/{domain}", None, [401, 200, 200, 200, 200]),
        row(Method::GET,    "/api/statements/{other}/D1bis",               "/api/statements/{finess}/{domain}", None, [401, 404, 200, 200, 200]),
        row(Method::GET,    "/api/statements/{own}/D2",                    "/api/statements/{finess}/{domain}", None, [401, 404, 404, 404, 404]),
        // Withdrawing an unknown line: the establishment's command reaches the rules (422), others may not withdraw.
        row(Method::POST,   "/api/statements/{own}/D1bis/commands",        "/api/statements/{finess}/{domain}/commands", Some(json!({"command": "WithdrawLine", "line_id": "NOPE", "reason": "test"})), [401, 422, 403, 403, 403]),
        row(Method::POST,   "/api/statements/{other}/D1bis/commands",      "/api/statements/{finess}/{domain}/commands", Some(json!({"command": "WithdrawLine", "line_id": "NOPE", "reason": "test"})), [401, 404, 403, 403, 403]),
        row(Method::POST,   "/api/statements/{own}/D1bis/batch",           "/api/statements/{finess}/{domain}/batch", Some(json!([{"command": "WithdrawLine", "line_id": "NOPE", "reason": "test"}])), [401, 422, 403, 403, 403]),
        row(Method::POST,   "/api/statements/{other}/D1bis/batch",         "/api/statements/{finess}/{domain}/batch", Some(json!([{"command": "WithdrawLine", "line_id": "NOPE", "reason": "test"}])), [401, 404, 403, 403, 403]),
        row(Method::GET,    "/api/statements/{own}/D1bis/template.xlsx",   "/api/statements/{finess}/{domain}/template.xlsx", None, [401, 200, 200, 200, 200]),
        row(Method::GET,    "/api/statements/{other}/D1bis/template.xlsx", "/api/statements/{finess}/{domain}/template.xlsx", None, [401, 404, 200, 200, 200]),
        // Without a multipart file: 400 for every role (the file says which statement, and the rules who may change it).
        row(Method::POST,   "/api/templates/import?dry_run=true",          "/api/templates/import",         None, [401, 400, 400, 400, 400]),
        // Verifying an exported workbook: any authenticated role (without a multipart file: 400).
        row(Method::POST,   "/api/templates/verify",                       "/api/templates/verify",         None, [401, 400, 400, 400, 400]),
        // Documents: visibility first (404), then the role (403), then the multipart form (400 without one).
        row(Method::POST,   "/api/statements/{own}/D1bis/documents",       "/api/statements/{finess}/{domain}/documents", None, [401, 400, 400, 403, 403]),
        row(Method::POST,   "/api/statements/{other}/D1bis/documents",     "/api/statements/{finess}/{domain}/documents", None, [401, 404, 400, 403, 403]),
        row(Method::GET,    "/api/statements/{own}/D1bis/documents",       "/api/statements/{finess}/{domain}/documents", None, [401, 200, 200, 200, 200]),
        row(Method::GET,    "/api/statements/{other}/D1bis/documents",     "/api/statements/{finess}/{domain}/documents", None, [401, 404, 200, 200, 200]),
        row(Method::GET,    "/api/statements/{own}/D1bis/documents/DOC-0001", "/api/statements/{finess}/{domain}/documents/{document_id}", None, [401, 404, 404, 404, 404]),
        row(Method::GET,    "/api/candidates/{own}/payroll/files/0000000000000000000000000000000000000000000000000000000000000000", "/api/candidates/{finess}/payroll/files/{sha256}", None, [401, 404, 404, 403, 404]),
        // Payroll: the establishment (its own), controllers and administrators; never the payment desk.
        // Without a multipart file: 400 once the role and the candidate are allowed.
        row(Method::POST,   "/api/candidates/{own}/payroll/recaps?dry_run=true",   "/api/candidates/{finess}/payroll/recaps", None, [401, 400, 400, 403, 400]),
        row(Method::POST,   "/api/candidates/{other}/payroll/recaps?dry_run=true", "/api/candidates/{finess}/payroll/recaps", None, [401, 404, 400, 403, 400]),
        row(Method::POST,   "/api/candidates/750000001/payroll/recaps",            "/api/candidates/{finess}/payroll/recaps", None, [401, 404, 404, 403, 404]),
        row(Method::POST,   "/api/candidates/{own}/payroll/key",           "/api/candidates/{finess}/payroll/key", None, [401, 400, 400, 403, 400]),
        row(Method::POST,   "/api/candidates/{other}/payroll/key",         "/api/candidates/{finess}/payroll/key", None, [401, 404, 400, 403, 400]),
        row(Method::GET,    "/api/candidates/{own}/payroll",               "/api/candidates/{finess}/payroll", None, [401, 200, 200, 403, 200]),
        row(Method::GET,    "/api/candidates/{other}/payroll",             "/api/candidates/{finess}/payroll", None, [401, 404, 200, 403, 200]),
        // No recap imported: the establishment's request reaches the recap (422 naming `matricule`); the
        // other roles may never declare a cost line (403, role first as for any DeclareInternalCost).
        row(Method::POST,   "/api/statements/{own}/D1bis/payroll-lines",   "/api/statements/{finess}/{domain}/payroll-lines", Some(json!({"matricule": "44A567", "recap_year": 2024, "year": "2026", "objective": "D1.O1.A", "contribution": "RSSI", "hours_productive": "1607", "hours": "160"})), [401, 422, 403, 403, 403]),
        row(Method::POST,   "/api/statements/{other}/D1bis/payroll-lines", "/api/statements/{finess}/{domain}/payroll-lines", Some(json!({"matricule": "44A567", "recap_year": 2024, "year": "2026", "objective": "D1.O1.A", "contribution": "RSSI", "hours_productive": "1607", "hours": "160"})), [401, 404, 403, 403, 403]),
        // Payment batches: the desk issues (the seeded statements are drafts: nothing due, 200); the desk
        // and controllers read; establishments and administrators are refused.
        row(Method::POST,   "/api/payments/batches",                       "/api/payments/batches",         Some(json!({"domain": "D1bis"})), [401, 403, 403, 200, 403]),
        row(Method::GET,    "/api/payments/batches?domain=D1bis",          "/api/payments/batches",         None, [401, 403, 200, 200, 403]),
        row(Method::GET,    "/api/payments/batches/LOT-D1bis-20270310-001.csv",  "/api/payments/batches/{batch_id}.csv",  None, [401, 403, 404, 404, 403]),
        row(Method::GET,    "/api/payments/batches/LOT-D1bis-20270310-001.xlsx", "/api/payments/batches/{batch_id}.xlsx", None, [401, 403, 404, 404, 403]),
    ]
}

async fn every_endpoint_answers_every_role_as_the_matrix_says(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, Some("matrix-checkpoint-key-0123456789"), MAX_BODY_BYTES).await;
    let callers: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        (
            "etablissement",
            Some(token(h, Role::Etablissement, Some(&own())).await.0),
        ),
        ("controleur", Some(token(h, Role::Controleur, None).await.0)),
        ("paiement", Some(token(h, Role::Paiement, None).await.0)),
        ("admin", Some(token(h, Role::Admin, None).await.0)),
    ];
    let mut failures = Vec::new();
    for row in matrix() {
        let expected = [
            row.anonymous,
            row.etablissement,
            row.controleur,
            row.paiement,
            row.admin,
        ];
        for ((who, secret), expected) in callers.iter().zip(expected) {
            let victim = token(h, Role::Paiement, None).await.1;
            let path = row
                .path
                .replace("{own}", own().as_str())
                .replace("{other}", other().as_str())
                .replace("{token_id}", &victim);
            let mut request = app.request(row.method.clone(), &path, secret.as_deref());
            if let Some(body) = &row.body {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            if status != expected {
                failures.push(format!(
                    "{} {path} as {who}: {status}, expected {expected}",
                    row.method
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // Every documented path has rows in the matrix.
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    let rows = matrix();
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(
            rows.iter().any(|r| r.doc_path == path),
            "{path} has no row in the role matrix"
        );
    }
}

async fn an_etablissement_sees_its_own_statement_and_another_candidates_exactly_as_a_missing_one(
    h: &Harness,
) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (secret, _) = token(h, Role::Etablissement, Some(&own())).await;
    let mine = app
        .get(
            &format!("/api/streams/statement/{}/D1bis/events", own().as_str()),
            Some(&secret),
        )
        .await;
    assert_eq!(mine.status(), StatusCode::OK);
    assert_eq!(mine.headers().get("etag").unwrap(), "\"2\"");
    let body: Value = mine.json().await.unwrap();
    assert_eq!(body["version"], 2);
    assert_eq!(body["events"].as_array().unwrap().len(), 2);
    assert_eq!(body["events"][1]["event_type"], "ExternalCostDeclared");

    let up_to_one = app
        .get(
            &format!(
                "/api/streams/statement/{}/D1bis/events?up_to_version=1",
                own().as_str()
            ),
            Some(&secret),
        )
        .await;
    assert_eq!(
        up_to_one.json::<Value>().await.unwrap()["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let another = app
        .get(
            &format!("/api/streams/statement/{}/D1bis/events", other().as_str()),
            Some(&secret),
        )
        .await;
    let missing = app
        .get(
            &format!(
                "/api/streams/statement/{}/D1bis/events",
                Finess::with_check_digit("75000001").unwrap().as_str()
            ),
            Some(&secret),
        )
        .await;
    assert_eq!(another.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let (another, missing) = (
        another.bytes().await.unwrap(),
        missing.bytes().await.unwrap(),
    );
    assert_eq!(another, missing, "no existence leak");
}

async fn errors_are_problem_details_naming_the_field(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (admin, _) = token(h, Role::Admin, None).await;

    let no_candidate = app
        .request(Method::POST, "/api/tokens", Some(&admin))
        .json(&json!({"role": "etablissement"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_candidate.status(), StatusCode::BAD_REQUEST);
    let body = problem(no_candidate).await;
    assert_eq!(body["field"], "candidate");
    assert_eq!(body["errors"][0]["field"], "candidate");
    assert!(body["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:care-ledger:problem:"));
    assert_eq!(body["title"], "Requête invalide");

    let unknown_field = app
        .request(Method::POST, "/api/tokens", Some(&admin))
        .json(&json!({"role": "admin", "rôle": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_field.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(unknown_field).await["field"], "rôle");

    let bad_date = app
        .get(
            &format!(
                "/api/streams/statement/{}/D1bis/events?as_of=hier",
                own().as_str()
            ),
            Some(&admin),
        )
        .await;
    assert_eq!(bad_date.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(bad_date).await["field"], "as_of");

    let no_key = app.get("/api/ledger/checkpoint", Some(&admin)).await;
    assert_eq!(no_key.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(no_key).await["field"], "checkpoint_key");

    let nowhere = app.get("/api/nowhere", Some(&admin)).await;
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(nowhere).await["status"], 404);

    let revoke_missing = app
        .request(Method::DELETE, "/api/tokens/nope", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke_missing.status(), StatusCode::NOT_FOUND);
}

async fn an_oversized_json_body_is_a_413_problem(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let response = app
        .request(Method::POST, "/api/tokens", Some(&admin))
        .json(&json!({"role": "admin", "label": "x".repeat(MAX_BODY_BYTES * 2)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = problem(response).await;
    assert_eq!(body["status"], 413);
    assert_eq!(body["field"], "body");
}

async fn the_request_id_is_echoed_and_stored_in_the_events_the_request_appends(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (admin, admin_id) = token(h, Role::Admin, None).await;
    let response = app
        .request(Method::POST, "/api/tokens", Some(&admin))
        .header("x-request-id", "req-test-42")
        .json(&json!({"role": "etablissement", "candidate": own().as_str(), "label": "DAF"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers().get("x-request-id").unwrap(),
        "req-test-42"
    );
    let created: Value = response.json().await.unwrap();
    assert!(created["token"].as_str().unwrap().starts_with("clt_"));
    let events = h
        .store
        .read_stream(TOKENS_STREAM, ReadBound::all())
        .await
        .unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event_type, "TokenCreated");
    assert_eq!(last.request_id, "req-test-42");
    assert_eq!(last.role, "admin");
    assert_eq!(last.actor, format!("token:{admin_id}"));
    assert_eq!(last.payload_json().unwrap()["token_id"], created["id"]);

    // Without a client id, one is generated and echoed.
    let health = app.get("/health", None).await;
    let generated = health
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(generated.len(), 36);
}

async fn the_same_idempotency_key_creates_one_token_and_another_body_is_a_409(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let post = |body: Value| {
        app.request(Method::POST, "/api/tokens", Some(&admin))
            .header("idempotency-key", "create-ctrl-1")
            .json(&body)
            .send()
    };
    let first = post(json!({"role": "controleur", "label": "Marie"}))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = post(json!({"role": "controleur", "label": "Marie"}))
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["replayed"], true);
    assert!(again["token"].is_null(), "a secret is shown once");
    let other = post(json!({"role": "admin"})).await.unwrap();
    assert_eq!(other.status(), StatusCode::CONFLICT);
    assert_eq!(problem(other).await["status"], 409);
    assert_eq!(tokens::list(&h.store).await.unwrap().len(), 2);
}

async fn the_openapi_document_is_version_3_and_lists_every_path(h: &Harness) {
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/ready",
        "/api/ledger/verify",
        "/api/ledger/checkpoint",
        "/api/streams/{stream}/events",
        "/api/tokens",
        "/api/tokens/{id}",
        "/api/candidates",
        "/api/candidates/{finess}",
        "/api/candidates/import",
        "/api/statements",
        "/api/statements/{finess}/{domain}",
        "/api/statements/{finess}/{domain}/commands",
        "/api/statements/{finess}/{domain}/batch",
        "/api/statements/{finess}/{domain}/template.xlsx",
        "/api/templates/import",
        "/api/candidates/{finess}/payroll",
        "/api/candidates/{finess}/payroll/recaps",
        "/api/candidates/{finess}/payroll/key",
        "/api/statements/{finess}/{domain}/payroll-lines",
        "/api/payments/batches",
        "/api/payments/batches/{batch_id}.csv",
        "/api/payments/batches/{batch_id}.xlsx",
        "/api/statements/{finess}/{domain}/documents",
        "/api/statements/{finess}/{domain}/documents/{document_id}",
        "/api/candidates/{finess}/payroll/files/{sha256}",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    // OpenAPI requires a description on every response.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
    validate_with_openapi_spec_validator(&doc);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let ui = app.get("/swagger-ui/", None).await;
    assert_eq!(ui.status(), StatusCode::OK);
    assert!(ui.text().await.unwrap().contains("swagger"));
}

/// The document checked by `openapi-spec-validator` (installed by `scripts/install-test-tools.sh` in
/// `target/test-tools-venv`); skipped with a message when the validator is absent.
fn validate_with_openapi_spec_validator(doc: &Value) {
    let validator = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/test-tools-venv/bin/openapi-spec-validator");
    if !validator.exists() {
        eprintln!(
            "skipped: openapi-spec-validator not installed (bash scripts/install-test-tools.sh)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let output = std::process::Command::new(&validator)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

on_both_engines!(
    health_and_ready_answer_without_a_token,
    ready_answers_503_when_the_database_is_gone,
    a_request_without_a_token_or_with_a_bad_one_is_401_with_a_bearer_challenge,
    a_revoked_token_is_refused_with_401,
    every_endpoint_answers_every_role_as_the_matrix_says,
    an_etablissement_sees_its_own_statement_and_another_candidates_exactly_as_a_missing_one,
    errors_are_problem_details_naming_the_field,
    an_oversized_json_body_is_a_413_problem,
    the_request_id_is_echoed_and_stored_in_the_events_the_request_appends,
    the_same_idempotency_key_creates_one_token_and_another_body_is_a_409,
    the_openapi_document_is_version_3_and_lists_every_path,
);
