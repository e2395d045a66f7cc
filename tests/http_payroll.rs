//! Payroll recaps over HTTP, on SQLite and PostgreSQL: the seed 003 recap imported with its figures to
//! the cent, imported once, a dry run, broken files naming their cell, who may import and read, the
//! anonymisation key, and internal cost lines declared from a recap.

mod common;
mod hostile;

use care_ledger::actor::Role;
use care_ledger::domain::Finess;
use care_ledger::store::ReadBound;
use common::http::{other, own, problem, seed_statements, token, TestApp};
use common::Harness;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const UPLOAD_LIMIT: usize = 1024 * 1024;

fn recaps_path(finess: &Finess) -> String {
    format!("/api/candidates/{}/payroll/recaps", finess.as_str())
}

fn payroll_stream(finess: &Finess) -> String {
    format!("payroll/{}", finess.as_str())
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("fixtures/payroll/{name}")).unwrap()
}

async fn json_with(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(got, status, "{body:#}");
    body
}

fn warning<'a>(employee: &'a Value, code: &str) -> &'a Value {
    employee["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == code)
        .unwrap_or_else(|| panic!("no warning {code} in {:#}", employee["warnings"]))
}

async fn the_seed_recap_imports_over_http_with_its_figures_to_the_cent_and_its_warnings(
    h: &Harness,
) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, establishment_id) = token(h, Role::Etablissement, Some(&own())).await;
    let (content_type, multipart) =
        common::http::multipart_file("seed_003_recap.xlsx", &fixture("seed_003_recap.xlsx"));
    let response = app
        .request(Method::POST, &recaps_path(&own()), Some(&establishment))
        .header("x-request-id", "paie-2024-1")
        .header("content-type", content_type)
        .body(multipart)
        .send()
        .await
        .unwrap();
    let body = json_with(response, StatusCode::CREATED).await;
    assert_eq!(body["format"], "xlsx");
    assert_eq!(body["dry_run"], false);
    assert_eq!(body["applied"], true);
    assert_eq!(body["already_imported"], false);
    let employees = body["employees"].as_array().unwrap();
    assert_eq!(employees.len(), 1);
    let e = &employees[0];
    assert_eq!(e["matricule"], "44A567");
    assert_eq!(e["year"], 2024);
    assert_eq!(e["period_start"], "2024-01-01");
    assert_eq!(e["period_end"], "2024-12-31");
    // The printed totals are authoritative, to the cent.
    assert_eq!(e["total_gross"], "55631.25");
    assert_eq!(e["total_employer_charges"], "32935.48");
    assert_eq!(e["total_employee_contributions"], "11691.25");
    assert_eq!(e["total_hours"], "1652.04");
    assert_eq!(e["non_eligible_gross"], "0.00");
    // The seed's own sums, which differ from its totals, kept as warnings with both figures.
    assert_eq!(e["sum_gross_rubriques"], "53732.29");
    assert_eq!(e["sum_employer_rubriques"], "32953.56");
    assert!(e["full_year_equivalent"].is_null(), "a full-year recap");
    let gross = warning(e, "ECART_TOTAL_BRUT");
    assert_eq!(gross["values"]["somme_rubriques"], "53732.29");
    assert_eq!(gross["values"]["total"], "55631.25");
    assert_eq!(gross["values"]["ecart"], "1898.96");
    let employer = warning(e, "ECART_TOTAL_PATRONAL");
    assert_eq!(employer["values"]["somme_rubriques"], "32953.56");
    assert_eq!(employer["values"]["total"], "32935.48");
    assert_eq!(employer["values"]["ecart"], "-18.08");
    assert!(
        warning(e, "TAUX_PATRONAL_EN_COLONNE_SALARIALE")["values"]["rubriques"]
            .as_str()
            .unwrap()
            .starts_with("2000, 2090, 2120, 5344, 5500, 5508, 71A0, 8545")
    );
    assert!(warning(e, "TAUX_INVRAISEMBLABLE")["message_fr"]
        .as_str()
        .unwrap()
        .contains("2000"));
    assert_eq!(
        warning(e, "LIGNE_SANS_LIBELLE")["values"]["cellule"],
        "Feuil1!A45"
    );
    let codes: Vec<&str> = e["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    for code in [
        "ECART_TOTAL_BRUT",
        "ECART_TOTAL_PATRONAL",
        "TAUX_PATRONAL_EN_COLONNE_SALARIALE",
        "TAUX_INVRAISEMBLABLE",
        "LIGNE_SANS_LIBELLE",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(!codes.contains(&"ECART_TOTAL_SALARIAL"));

    // One event, recorded with who and which request.
    let events = h
        .store
        .read_stream(&payroll_stream(&own()), ReadBound::all())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "PayrollRecapImported");
    assert_eq!(events[0].role, "etablissement");
    assert_eq!(events[0].actor, format!("token:{establishment_id}"));
    // The service's own request id, never the client's X-Request-Id (issue 13: it could be forged).
    assert_ne!(events[0].request_id, "paie-2024-1");
    assert_eq!(events[0].request_id.len(), 36);
    let payload = events[0].payload_json().unwrap();
    assert_eq!(payload["recap"]["total_gross"], "55631.25");
    assert_eq!(payload["file_name"], "seed_003_recap.xlsx");
}

async fn the_same_recap_twice_appends_nothing_and_a_dry_run_appends_nothing(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    let bytes = fixture("seed_003_recap.xlsx");
    let dry = app
        .upload(
            &format!("{}?dry_run=true", recaps_path(&own())),
            Some(&controller),
            "seed_003_recap.xlsx",
            &bytes,
        )
        .await;
    let dry = json_with(dry, StatusCode::OK).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["applied"], false);
    assert_eq!(dry["employees"][0]["total_gross"], "55631.25");
    assert_eq!(
        h.store
            .stream_version(&payroll_stream(&own()))
            .await
            .unwrap(),
        0,
        "a dry run appends nothing"
    );

    let first = app
        .upload(
            &format!("{}?dry_run=false", recaps_path(&own())),
            Some(&controller),
            "seed_003_recap.xlsx",
            &bytes,
        )
        .await;
    assert_eq!(json_with(first, StatusCode::CREATED).await["applied"], true);
    let position = h.store.head().await.unwrap().unwrap().position;

    // The same bytes under another name: the same file, imported once.
    let again = app
        .upload(
            &recaps_path(&own()),
            Some(&controller),
            "copie.xlsx",
            &bytes,
        )
        .await;
    let again = json_with(again, StatusCode::OK).await;
    assert_eq!(again["already_imported"], true);
    assert_eq!(again["applied"], false);
    assert_eq!(again["employees"][0]["total_employer_charges"], "32935.48");

    // The same employee and year from another file (the seed as CSV): one recap per employee per year.
    let csv = app
        .upload(
            &recaps_path(&own()),
            Some(&controller),
            "seed_003_recap.csv",
            &fixture("seed_003_recap.csv"),
        )
        .await;
    assert_eq!(csv.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = problem(csv).await;
    assert_eq!(body["field"], "file");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("44A567") && detail.contains("2024"),
        "{detail}"
    );

    assert_eq!(h.store.head().await.unwrap().unwrap().position, position);
    assert_eq!(
        h.store
            .stream_version(&payroll_stream(&own()))
            .await
            .unwrap(),
        1
    );
}

async fn a_broken_recap_is_a_422_naming_the_cell_or_the_reason_and_appends_nothing(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let position = h.store.head().await.unwrap().unwrap().position;
    for (name, expected) in [
        (
            "broken/ambiguous_amount.csv",
            "ambiguous_amount.csv ligne 6 colonne 3 (C) : montant ambigu \"1.234\"",
        ),
        ("broken/three_decimals_amount.csv", "plus de 2 décimales"),
        (
            "broken/missing_employer_total.csv",
            "total des charges patronales introuvable pour le salarié C3001",
        ),
        (
            "broken/duplicate_employee_year.csv",
            "C3001 : deux récapitulatifs pour 2024",
        ),
        ("broken/truncated.xlsx", "illisible ou corrompu"),
        ("broken/not_a_workbook.xlsx", "illisible ou corrompu"),
        ("broken/zip_bomb.xlsx", "bombe de décompression"),
    ] {
        let file_name = name.trim_start_matches("broken/");
        let response = app
            .upload(
                &recaps_path(&own()),
                Some(&establishment),
                file_name,
                &fixture(name),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let body = problem(response).await;
        assert_eq!(body["field"], "file", "{name}");
        assert_eq!(body["errors"][0]["field"], "file", "{name}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{name}: {detail}");
    }
    // The three-decimal amount names its cell as well.
    let response = app
        .upload(
            &recaps_path(&own()),
            Some(&establishment),
            "three_decimals_amount.csv",
            &fixture("broken/three_decimals_amount.csv"),
        )
        .await;
    let detail = problem(response).await["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.starts_with("three_decimals_amount.csv ligne ") && detail.contains("30 000,125"),
        "{detail}"
    );
    // No file field at all: 400 naming it.
    let no_file = app
        .request(Method::POST, &recaps_path(&own()), Some(&establishment))
        .header("content-type", "multipart/form-data; boundary=b")
        .body("--b\r\nContent-Disposition: form-data; name=\"autre\"\r\n\r\nx\r\n--b--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(no_file).await["field"], "file");
    assert_eq!(h.store.head().await.unwrap().unwrap().position, position);
}

async fn a_recap_over_the_upload_limit_is_a_413(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, 4096).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let response = app
        .upload(
            &recaps_path(&own()),
            Some(&establishment),
            "seed_003_recap.xlsx",
            &fixture("seed_003_recap.xlsx"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(response).await["status"], 413);
    assert_eq!(
        h.store
            .stream_version(&payroll_stream(&own()))
            .await
            .unwrap(),
        0
    );
}

async fn an_establishment_cannot_import_for_another_candidate_and_the_payment_desk_is_refused(
    h: &Harness,
) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let bytes = fixture("seed_003_recap.xlsx");
    let missing = Finess::with_check_digit("75000001").unwrap();

    let another = app
        .upload(
            &recaps_path(&other()),
            Some(&establishment),
            "seed_003_recap.xlsx",
            &bytes,
        )
        .await;
    let nowhere = app
        .upload(
            &recaps_path(&missing),
            Some(&establishment),
            "seed_003_recap.xlsx",
            &bytes,
        )
        .await;
    assert_eq!(another.status(), StatusCode::NOT_FOUND);
    assert_eq!(nowhere.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        another.bytes().await.unwrap(),
        nowhere.bytes().await.unwrap(),
        "no existence leak"
    );
    for path in [
        format!("/api/candidates/{}/payroll", other().as_str()),
        format!("/api/candidates/{}/payroll", missing.as_str()),
    ] {
        let response = app.get(&path, Some(&establishment)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }

    let refused = app
        .upload(
            &recaps_path(&own()),
            Some(&desk),
            "seed_003_recap.xlsx",
            &bytes,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(problem(refused).await["status"], 403);
    let read = app
        .get(
            &format!("/api/candidates/{}/payroll", own().as_str()),
            Some(&desk),
        )
        .await;
    assert_eq!(read.status(), StatusCode::FORBIDDEN);

    for finess in [own(), other()] {
        assert_eq!(
            h.store
                .stream_version(&payroll_stream(&finess))
                .await
                .unwrap(),
            0
        );
    }
}

async fn the_anonymisation_key_is_shown_to_a_controller_and_not_to_the_establishment(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    let key_path = format!("/api/candidates/{}/payroll/key", own().as_str());
    let key = fixture("anonymisation_key.csv");
    let first = app
        .upload(
            &key_path,
            Some(&establishment),
            "anonymisation_key.csv",
            &key,
        )
        .await;
    let first = json_with(first, StatusCode::CREATED).await;
    assert_eq!(first["pseudonyms"], 4);
    assert_eq!(first["applied"], true);
    let again = app
        .upload(
            &key_path,
            Some(&establishment),
            "anonymisation_key.csv",
            &key,
        )
        .await;
    assert_eq!(json_with(again, StatusCode::OK).await["applied"], false);
    let broken = app
        .upload(
            &key_path,
            Some(&establishment),
            "cle.csv",
            b"Pseudonyme;Matricule\nSAL-001;\n",
        )
        .await;
    assert_eq!(broken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(broken).await["field"], "file");

    app.upload(
        &recaps_path(&own()),
        Some(&establishment),
        "seed_003_recap.xlsx",
        &fixture("seed_003_recap.xlsx"),
    )
    .await;

    let book_path = format!("/api/candidates/{}/payroll", own().as_str());
    let mine = json_with(
        app.get(&book_path, Some(&establishment)).await,
        StatusCode::OK,
    )
    .await;
    assert!(mine.get("anonymisation_key").is_none(), "{mine:#}");
    assert_eq!(mine["anonymisation_key_sha256"], first["source_sha256"]);
    assert_eq!(mine["recaps"][0]["matricule"], "44A567");
    assert_eq!(mine["recaps"][0]["total_gross"], "55631.25");
    assert_eq!(
        mine["recaps"][0]["rubriques"][0]["label"],
        "Salaires Mensuel"
    );
    assert_eq!(
        mine["recaps"][0]["rubriques"][0]["amount_gross"],
        "54031.25"
    );

    let audited = app.get(&book_path, Some(&controller)).await;
    assert_eq!(audited.headers().get("etag").unwrap(), "\"2\"");
    let audited: Value = audited.json().await.unwrap();
    assert_eq!(
        audited["anonymisation_key"],
        json!({"SAL-001": "44A567", "SAL-002": "E1001", "SAL-003": "E1002", "SAL-004": "E1003"})
    );
}

/// Declares a line from a recap as the establishment.
async fn declare(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/statements/{}/D1bis/payroll-lines", own().as_str()),
        Some(token),
    )
    .json(&body)
    .send()
    .await
    .unwrap()
}

async fn a_line_declared_from_a_full_year_recap_gives_the_expected_imputable_amount(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    for (path, name) in [
        (recaps_path(&own()), "seed_003_recap.xlsx"),
        (
            format!("/api/candidates/{}/payroll/key", own().as_str()),
            "anonymisation_key.csv",
        ),
    ] {
        let response = app
            .upload(&path, Some(&establishment), name, &fixture(name))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
    }
    // The template names the employee by its pseudonym; the key resolves it to the recap's 44A567.
    let response = declare(
        &app,
        &establishment,
        json!({
            "matricule": "SAL-001", "recap_year": 2024, "year": "2026", "objective": "D1.O1.A",
            "contribution": "RSSI : pilotage des audits ADS",
            "hours_productive": "1607", "hours": "160"
        }),
    )
    .await;
    assert_eq!(
        response.headers().get("etag").unwrap(),
        "\"3\"",
        "version 3 after the seed's 2"
    );
    let line = json_with(response, StatusCode::CREATED).await;
    assert_eq!(line["line_id"], "INT-0002");
    assert_eq!(line["version"], 3);
    assert_eq!(line["replayed"], false);
    assert_eq!(line["gross_annualised"], "55631.25");
    assert_eq!(line["employer_charges"], "32935.48");
    assert_eq!(line["non_eligible_gross"], "0.00");
    assert!(line["full_year_equivalent"].is_null());
    // ROUND((55 631,25 + 32 935,48) ÷ 1 607 × 160; 2) = ROUND(8 818,0938…; 2)
    assert_eq!(line["imputable"], "8818.09");

    let statement: Value = app
        .get(
            &format!("/api/statements/{}/D1bis", own().as_str()),
            Some(&establishment),
        )
        .await
        .json()
        .await
        .unwrap();
    let declared = &statement["statement"]["lines"]["INT-0002"];
    assert_eq!(declared["declared"], "8818.09", "{declared:#}");
    assert_eq!(declared["content"]["kind"], "internal");
    assert_eq!(
        declared["content"]["matricule"], "SAL-001",
        "the template's pseudonym"
    );
    assert_eq!(declared["content"]["gross_annualised"], "55631.25");
    assert_eq!(declared["content"]["employer_charges"], "32935.48");
    // A 2024 recap for a 2026 line: flagged, never blocking.
    let codes: Vec<&str> = statement["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"RECAP_PAIE_PERIODE_DIFFERENTE"),
        "{codes:?}"
    );
}

async fn a_line_declared_from_a_part_year_recap_takes_the_full_year_equivalent(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let imported = app
        .upload(
            &recaps_path(&own()),
            Some(&establishment),
            "one_employee_per_sheet.xlsx",
            &fixture("one_employee_per_sheet.xlsx"),
        )
        .await;
    let imported = json_with(imported, StatusCode::CREATED).await;
    assert_eq!(imported["employees"].as_array().unwrap().len(), 3);
    assert_eq!(imported["warnings"][0]["code"], "FEUILLE_IGNOREE");
    let e1003 = &imported["employees"][2];
    assert_eq!(e1003["matricule"], "E1003");
    assert_eq!(e1003["total_gross"], "36250.50");
    assert_eq!(e1003["non_eligible_gross"], "6250.50");
    assert_eq!(
        e1003["full_year_equivalent"]["annualised_gross"],
        "48422.20"
    );

    let line = declare(
        &app,
        &establishment,
        json!({
            "matricule": "E1003", "recap_year": 2024, "year": "2026", "objective": "D1.O2.A",
            "contribution": "Suivi des audits d'exposition", "hours_productive": "1607",
            "hours": "200", "line_id": "INT-E1003"
        }),
    )
    .await;
    let line = json_with(line, StatusCode::CREATED).await;
    assert_eq!(line["line_id"], "INT-E1003");
    // Exit on 30/09/2024: 274 days of 366, each total × 366 ÷ 274, rounded to the cent.
    assert_eq!(line["gross_annualised"], "48422.20");
    assert_eq!(line["employer_charges"], "6101.21");
    // The non-eligible gross is part of the gross: annualised on the same scale (6 250,50 × 366 ÷ 274).
    assert_eq!(line["non_eligible_gross"], "8349.21");
    assert_eq!(
        line["full_year_equivalent"]["annualised_non_eligible_gross"],
        "8349.21"
    );
    assert_eq!(line["full_year_equivalent"]["days_in_period"], 274);
    assert_eq!(line["full_year_equivalent"]["days_in_year"], 366);
    assert!(line["note_fr"]
        .as_str()
        .unwrap()
        .contains("274 jours sur 366"));
    // Non-eligible charges 6 101,21 × 8 349,21 ÷ 48 422,20 = 1 052,0026…; S/TOTAL
    // (48 422,20 − 8 349,21) + (6 101,21 − 1 052,0026…) = 45 122,1973…; rate ÷ 1 607 = 28,0785…;
    // × 200 = 5 615,7059… → 5 615,71.
    assert_eq!(line["imputable"], "5615.71");

    // The same request again under the same Idempotency-Key: nothing appended, the same line.
    let send = || {
        app.request(
            Method::POST,
            &format!("/api/statements/{}/D1bis/payroll-lines", own().as_str()),
            Some(&establishment),
        )
        .header("idempotency-key", "ligne-E1002")
        .json(&json!({
            "matricule": "E1002", "recap_year": 2024, "year": "2026", "objective": "D1.O2.A",
            "contribution": "Suivi", "hours_productive": "1607", "hours": "100"
        }))
        .send()
    };
    let first = json_with(send().await.unwrap(), StatusCode::CREATED).await;
    // Entry on 01/04/2024: 275 days of 366.
    assert_eq!(first["gross_annualised"], "35934.55");
    assert_eq!(first["employer_charges"], "7276.75");
    let replay = json_with(send().await.unwrap(), StatusCode::OK).await;
    assert_eq!(replay["replayed"], true);
    assert_eq!(replay["line_id"], first["line_id"]);
    assert_eq!(replay["imputable"], first["imputable"]);
    assert_eq!(
        h.store
            .stream_version(&format!("statement/{}/D1bis", own().as_str()))
            .await
            .unwrap(),
        4
    );
}

async fn declaring_from_a_recap_that_is_not_there_names_the_field_and_appends_nothing(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, UPLOAD_LIMIT).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (controller, _) = token(h, Role::Controleur, None).await;
    app.upload(
        &recaps_path(&own()),
        Some(&establishment),
        "seed_003_recap.xlsx",
        &fixture("seed_003_recap.xlsx"),
    )
    .await;
    let stream = format!("statement/{}/D1bis", own().as_str());
    let before = h.store.stream_version(&stream).await.unwrap();
    let body = |matricule: &str, recap_year: i32, hours: &str| {
        json!({
            "matricule": matricule, "recap_year": recap_year, "year": "2026",
            "objective": "D1.O1.A", "contribution": "RSSI", "hours_productive": "1607",
            "hours": hours
        })
    };
    for (request, status, field, needle) in [
        (
            body("ZZ999", 2024, "160"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "matricule",
            "aucun récapitulatif de paie importé pour le matricule ZZ999",
        ),
        (
            body("44A567", 2025, "160"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "recap_year",
            "années importées : 2024",
        ),
        (
            body("44 A 567", 2024, "160"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "matricule",
            "44 A 567",
        ),
        (
            body("44A567", 2024, "2000"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "hours",
            "champ hours :",
        ),
        (
            json!({"matricule": "44A567", "recap_year": 2024}),
            StatusCode::BAD_REQUEST,
            "year",
            "missing field",
        ),
        (
            json!({"matricule": "44A567", "recap_year": "deux mille", "year": "2026"}),
            StatusCode::BAD_REQUEST,
            "body",
            "JSON invalide",
        ),
    ] {
        let response = declare(&app, &establishment, request.clone()).await;
        assert_eq!(response.status(), status, "{request}");
        let problem = problem(response).await;
        assert_eq!(problem["field"], field, "{problem:#}");
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{problem:#}"
        );
    }
    // A controller may read the recap but never declare: 403, as for any DeclareInternalCost.
    let refused = declare(&app, &controller, body("44A567", 2024, "160")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(h.store.stream_version(&stream).await.unwrap(), before);
}

/// The far-cell files of the security review (without the readers' bounds, each made the process
/// abort) and a decompression bomb: 422 naming the sheet from every upload endpoint, nothing appended,
/// and the service keeps answering.
async fn far_cell_and_bomb_files_are_a_422_and_the_service_keeps_answering(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, 4 * 1024 * 1024).await;
    let (establishment, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let position = h.store.head().await.unwrap().unwrap().position;
    let recaps = format!("{}?dry_run=true", recaps_path(&own()));
    let uploads: Vec<(&str, &str, String, Vec<u8>)> = vec![
        (
            "/api/templates/import?dry_run=true",
            "Synthèse",
            "XFD1048576".into(),
            hostile::far_cell_xlsx("Synthèse", "x", "XFD1048576"),
        ),
        (
            "/api/templates/import?dry_run=true",
            "Synthèse",
            "BXX1048576".into(),
            hostile::far_cell_xlsx("Synthèse", "x", "BXX1048576"),
        ),
        (
            recaps.as_str(),
            "Feuil1",
            "XFD1048576".into(),
            hostile::far_cell_xlsx("Feuil1", "x", "XFD1048576"),
        ),
        (
            recaps.as_str(),
            "Feuil1",
            "BXX1048576".into(),
            hostile::far_cell_xlsx("Feuil1", "x", "BXX1048576"),
        ),
        (
            recaps.as_str(),
            "Feuil1",
            "SS1000000".into(),
            hostile::far_cell_xlsx("Feuil1", "Période du 01/01/2024 au 31/12/2024", "SS1000000"),
        ),
        (
            recaps.as_str(),
            "",
            "bombe".into(),
            hostile::bomb_xlsx(900, 1_000_000),
        ),
        (
            "/api/templates/import?dry_run=true",
            "",
            "bombe".into(),
            hostile::bomb_xlsx(900, 1_000_000),
        ),
    ];
    for (path, sheet, what, bytes) in &uploads {
        let response = app
            .upload(path, Some(&establishment), "classeur.xlsx", bytes)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {what}"
        );
        let body = problem(response).await;
        let text = body.to_string();
        if sheet.is_empty() {
            assert!(text.contains("bombe de décompression"), "{what}: {body:#}");
        } else {
            assert!(
                text.contains(&format!("feuille « {sheet} »")),
                "{path} {what}: {body:#}"
            );
        }
        // Still answering.
        let alive = app.get("/api/candidates", Some(&admin)).await;
        assert_eq!(alive.status(), StatusCode::OK, "after {path} {what}");
    }
    // The candidate base import too (admin).
    let response = app
        .upload(
            "/api/candidates/import",
            Some(&admin),
            "base.xlsx",
            &hostile::far_cell_xlsx("Candidats", "candidate_finess", "XFD1048576"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem(response)
        .await
        .to_string()
        .contains("feuille « Candidats »"));
    assert_eq!(
        h.store.head().await.unwrap().unwrap().position,
        position,
        "nothing appended"
    );
    let alive = app.get("/api/candidates", Some(&admin)).await;
    assert_eq!(alive.status(), StatusCode::OK);
}

on_both_engines!(
    far_cell_and_bomb_files_are_a_422_and_the_service_keeps_answering,
    the_seed_recap_imports_over_http_with_its_figures_to_the_cent_and_its_warnings,
    the_same_recap_twice_appends_nothing_and_a_dry_run_appends_nothing,
    a_broken_recap_is_a_422_naming_the_cell_or_the_reason_and_appends_nothing,
    a_recap_over_the_upload_limit_is_a_413,
    an_establishment_cannot_import_for_another_candidate_and_the_payment_desk_is_refused,
    the_anonymisation_key_is_shown_to_a_controller_and_not_to_the_establishment,
    a_line_declared_from_a_full_year_recap_gives_the_expected_imputable_amount,
    a_line_declared_from_a_part_year_recap_takes_the_full_year_equivalent,
    declaring_from_a_recap_that_is_not_there_names_the_field_and_appends_nothing,
);
