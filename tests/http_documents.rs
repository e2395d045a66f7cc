//! Supporting documents over HTTP on both engines: multipart upload to a line and to an objective,
//! the checklist, downloads with their media type and French file name, refusals naming the field,
//! the size limit, tenant isolation, and answering a document request with an uploaded file.

mod common;

use care_ledger::actor::Role;
use care_ledger::store::hash::sha256_hex;
use common::http::{day, other, own, problem, seed_statements, token};
use common::Harness;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

type TestApp = common::http::TestApp;

const MAX_BODY_BYTES: usize = 64 * 1024;

on_both_engines!(
    an_establishment_uploads_an_invoice_and_downloads_it_back_as_it_was,
    a_refused_upload_names_the_field_and_appends_nothing,
    another_candidates_statement_and_its_documents_answer_404,
    a_document_request_is_answered_with_an_uploaded_file,
    another_candidates_content_cannot_be_attached_by_its_hash_and_nothing_tells_it_exists,
    payroll_content_attached_as_a_document_is_read_as_payroll_data,
);

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn post_form(
    app: &TestApp,
    path: &str,
    token: &str,
    file: Option<(&str, &[u8])>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    app.post_form(path, token, file, fields).await
}

fn documents_path(finess: &str) -> String {
    format!("/api/statements/{finess}/D1bis/documents")
}

async fn an_establishment_uploads_an_invoice_and_downloads_it_back_as_it_was(h: &Harness) {
    seed_statements(h).await;
    h.clock.set(day(2027, 3, 12));
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (etab, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (ctrl, _) = token(h, Role::Controleur, None).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let path = documents_path(own().as_str());

    let response = post_form(
        &app,
        &path,
        &etab,
        Some(("Facture Surfacia n°12 réglée.pdf", PDF)),
        &[
            ("kind", "FACTURE"),
            ("line_id", "EXT-001"),
            ("comment", "facture acquittée"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["etag"], "\"3\"");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["version"], 3);
    assert_eq!(body["document"]["id"], "DOC-0001");
    assert_eq!(body["document"]["sha256"], sha256_hex(PDF));
    assert_eq!(body["document"]["size_bytes"], PDF.len());
    assert_eq!(body["document"]["media_type"], "application/pdf");
    assert_eq!(body["document"]["kind"], "FACTURE");
    assert_eq!(
        body["document"]["target"],
        json!({"kind": "line", "line_id": "EXT-001"})
    );
    assert_eq!(body["document"]["attached_on"], "2027-03-12");
    assert_eq!(
        body["href"],
        format!("/api/statements/{}/D1bis/documents/DOC-0001", own())
    );

    // The controller files an exercise report on D1.O3 (a plain-text attestation).
    let attestation =
        "Attestation de réalisation de l'exercice de crise cyber du 12/02/2027\n".as_bytes();
    let response = post_form(
        &app,
        &path,
        &ctrl,
        Some(("attestation.txt", attestation)),
        &[("kind", "D1O3_RAPPORT_EXERCICE"), ("objective", "D1.O3")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Listed with the checklist, by every role that sees the statement.
    for t in [&etab, &ctrl, &desk] {
        let list: Value = app.get(&path, Some(t)).await.json().await.unwrap();
        assert_eq!(list["documents"].as_array().unwrap().len(), 2);
        let lines = list["checklist"]["lines"].as_array().unwrap();
        assert_eq!(lines[0]["complete"], true);
        assert_eq!(lines[0]["items"][0]["provided"], json!(["DOC-0001"]));
        let d1o3 = list["checklist"]["objectives"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["label"].as_str().unwrap().starts_with("D1.O3"))
            .unwrap();
        assert_eq!(d1o3["complete"], true);
        // Public EJ: 7 objectives, 8 required documents, one provided (D1.O3).
        assert_eq!(list["checklist"]["missing_required"], 7);
    }
    // The statement view carries the documents and the checklist too.
    let statement: Value = app
        .get(&format!("/api/statements/{}/D1bis", own()), Some(&etab))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(statement["checklist"]["missing_required"], 7);
    assert_eq!(
        statement["statement"]["documents"]["DOC-0002"]["kind"],
        "D1O3_RAPPORT_EXERCICE"
    );

    // Downloaded as it was, with its media type and its French name.
    let response = app.get(&format!("{path}/DOC-0001"), Some(&desk)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"Facture Surfacia n_12 reglee.pdf\"; filename*=UTF-8''Facture%20Surfacia%20n%C2%B012%20r%C3%A9gl%C3%A9e.pdf"
    );
    assert_eq!(
        response.headers()["x-content-sha256"],
        sha256_hex(PDF).as_str()
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), PDF);
    let response = app.get(&format!("{path}/DOC-0002"), Some(&etab)).await;
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.bytes().await.unwrap().as_ref(), attestation);

    // A replacement supersedes the invoice; the old one stays downloadable.
    let pdf2 = [PDF, b"% acquittee\n"].concat();
    let response = post_form(
        &app,
        &path,
        &etab,
        Some(("facture-acquittee.pdf", &pdf2)),
        &[
            ("kind", "FACTURE"),
            ("line_id", "EXT-001"),
            ("replaces", "DOC-0001"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let list: Value = app.get(&path, Some(&etab)).await.json().await.unwrap();
    assert_eq!(list["documents"][0]["superseded_by"], "DOC-0003");
    assert_eq!(
        list["checklist"]["lines"][0]["items"][0]["provided"],
        json!(["DOC-0003"])
    );
    assert_eq!(
        app.get(&format!("{path}/DOC-0001"), Some(&etab))
            .await
            .status(),
        StatusCode::OK
    );
    // As of the day the statement was declared, nothing was attached.
    let then: Value = app
        .get(&format!("{path}?as_of=2027-03-10"), Some(&etab))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(then["documents"], json!([]));
}

async fn a_refused_upload_names_the_field_and_appends_nothing(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (etab, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let path = documents_path(own().as_str());
    let before = h.store.head().await.unwrap().unwrap().position;

    type Case<'a> = (
        Option<(&'a str, &'a [u8])>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        // A kind that does not document an invoice.
        (
            Some(("recap.pdf", PDF)),
            vec![("kind", "RECAP_PAIE"), ("line_id", "EXT-001")],
            422,
            "line_id",
        ),
        // An unknown kind.
        (
            Some(("f.pdf", PDF)),
            vec![("kind", "PHOTO"), ("line_id", "EXT-001")],
            422,
            "kind",
        ),
        // No target.
        (
            Some(("f.pdf", PDF)),
            vec![("kind", "FACTURE")],
            422,
            "line_id",
        ),
        // A renamed executable.
        (
            Some(("facture.pdf", b"MZ\x90\x00binary")),
            vec![("kind", "FACTURE"), ("line_id", "EXT-001")],
            422,
            "file",
        ),
        // An extension not accepted.
        (
            Some(("facture.exe", b"MZ")),
            vec![("kind", "FACTURE"), ("line_id", "EXT-001")],
            422,
            "file",
        ),
        // No file.
        (
            None,
            vec![("kind", "FACTURE"), ("line_id", "EXT-001")],
            400,
            "file",
        ),
        // A field the form does not know.
        (
            Some(("f.pdf", PDF)),
            vec![
                ("kind", "FACTURE"),
                ("line_id", "EXT-001"),
                ("montant", "12"),
            ],
            400,
            "montant",
        ),
        // A GHT-only objective for a public EJ.
        (
            Some(("f.pdf", PDF)),
            vec![("kind", "D1O6A_EQUIPE_PROJET"), ("objective", "D1.O6.A")],
            422,
            "objective",
        ),
    ];
    for (file, fields, status, field) in cases {
        let response = post_form(&app, &path, &etab, file, &fields).await;
        assert_eq!(response.status().as_u16(), status, "{fields:?}");
        let p = problem(response).await;
        assert_eq!(p["field"], field, "{p}");
        assert!(!p["detail"].as_str().unwrap().is_empty());
    }
    // Over the upload limit: 413.
    let big = [PDF, &vec![b' '; MAX_BODY_BYTES]].concat();
    let response = post_form(
        &app,
        &path,
        &etab,
        Some(("gros.pdf", &big)),
        &[("kind", "FACTURE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The payment desk may not attach.
    let response = post_form(
        &app,
        &path,
        &desk,
        Some(("f.pdf", PDF)),
        &[("kind", "FACTURE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    assert_eq!(h.store.head().await.unwrap().unwrap().position, before);
    assert_eq!(
        h.store.verify_documents().await.unwrap().documents_checked,
        0
    );
}

async fn another_candidates_statement_and_its_documents_answer_404(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (etab_other, _) = token(h, Role::Etablissement, Some(&other())).await;
    let (etab, _) = token(h, Role::Etablissement, Some(&own())).await;
    let path = documents_path(own().as_str());
    let response = post_form(
        &app,
        &path,
        &etab,
        Some(("f.pdf", PDF)),
        &[("kind", "FACTURE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for (method, p) in [
        (Method::GET, path.clone()),
        (Method::GET, format!("{path}/DOC-0001")),
        (Method::GET, format!("{path}/DOC-0099")),
    ] {
        let response = app
            .request(method, &p, Some(&etab_other))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{p}");
        let body = problem(response).await;
        assert_eq!(body["status"], 404);
    }
    let response = post_form(
        &app,
        &path,
        &etab_other,
        Some(("f.pdf", PDF)),
        &[("kind", "FACTURE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn a_document_request_is_answered_with_an_uploaded_file(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (etab, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (ctrl, _) = token(h, Role::Controleur, None).await;
    let commands = format!("/api/statements/{}/D1bis/commands", own());
    let post = |t: &str, body: Value| {
        app.request(Method::POST, &commands, Some(t))
            .json(&body)
            .send()
    };
    assert_eq!(
        post(&etab, json!({"command": "Submit"}))
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    h.clock.set(day(2027, 4, 2));
    let response = post(
        &ctrl,
        json!({"command": "ReviewLine", "line_id": "EXT-001", "decision": "documents_requested",
               "documents_requested": "Facture acquittée", "documents_due": "2027-04-30"}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    // Naming a file that was never attached is refused.
    let response = post(
        &etab,
        json!({"command": "AnswerDocumentRequest", "line_id": "EXT-001", "comment": "jointe",
               "document_sha256": sha256_hex(PDF)}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(response).await["field"], "document_sha256");
    // Uploaded after submission, then named in the answer.
    let response = post_form(
        &app,
        &documents_path(own().as_str()),
        &etab,
        Some(("facture-acquittee.pdf", PDF)),
        &[("kind", "FACTURE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = post(
        &etab,
        json!({"command": "AnswerDocumentRequest", "line_id": "EXT-001", "comment": "jointe",
               "document_sha256": sha256_hex(PDF)}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let statement: Value = app
        .get(&format!("/api/statements/{}/D1bis", own()), Some(&ctrl))
        .await
        .json()
        .await
        .unwrap();
    let review = &statement["statement"]["reviews"]["EXT-001"][0];
    assert_eq!(review["answer"]["document_sha256"], sha256_hex(PDF));
}

fn payroll_fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("fixtures/payroll/{name}")).unwrap()
}

async fn attach_by_hash(app: &TestApp, finess: &str, token: &str, sha: &str) -> reqwest::Response {
    app.request(
        Method::POST,
        &format!("/api/statements/{finess}/D1bis/commands"),
        Some(token),
    )
    .json(&json!({
        "command": "AttachDocument",
        "sha256": sha,
        "file_name": "pris.pdf",
        "kind": "AUTRE",
        "line_id": "EXT-001",
    }))
    .send()
    .await
    .unwrap()
}

async fn ledger_head(h: &Harness) -> i64 {
    h.store
        .head()
        .await
        .unwrap()
        .map(|h| h.position)
        .unwrap_or(0)
}

/// Issue 13, item 3: establishment A attached B's payroll recap by its hash and downloaded it as its
/// own; the 201/422 difference told whether a content existed anywhere.
async fn another_candidates_content_cannot_be_attached_by_its_hash_and_nothing_tells_it_exists(
    h: &Harness,
) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (mine, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (theirs, _) = token(h, Role::Etablissement, Some(&other())).await;
    // B keeps a payroll recap and an invoice.
    let recap = payroll_fixture("seed_003_recap.xlsx");
    let imported = app
        .upload(
            &format!("/api/candidates/{}/payroll/recaps", other().as_str()),
            Some(&theirs),
            "recap.xlsx",
            &recap,
        )
        .await;
    assert_eq!(imported.status(), StatusCode::CREATED);
    let their_pdf = b"%PDF-1.4\n% facture de B\ntrailer << >>\n%%EOF\n";
    let uploaded = post_form(
        &app,
        &documents_path(other().as_str()),
        &theirs,
        Some(("facture-b.pdf", their_pdf)),
        &[("kind", "FACTURE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let head = ledger_head(h).await;

    // A names B's recap, B's invoice, and a content nobody ever uploaded: one and the same refusal.
    let mut bodies = Vec::new();
    for sha in [
        sha256_hex(&recap),
        sha256_hex(their_pdf),
        sha256_hex(b"never uploaded"),
    ] {
        let response = attach_by_hash(&app, own().as_str(), &mine, &sha).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = problem(response).await;
        assert_eq!(body["field"], "sha256");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:#?}");
    assert_eq!(ledger_head(h).await, head, "nothing appended");
    // In a batch too, and with the hash in capitals.
    let batch = app
        .request(
            Method::POST,
            &format!("/api/statements/{}/D1bis/batch", own().as_str()),
            Some(&mine),
        )
        .json(&json!([{
            "command": "AttachDocument",
            "sha256": sha256_hex(&recap).to_uppercase(),
            "kind": "AUTRE",
            "line_id": "EXT-001",
        }]))
        .send()
        .await
        .unwrap();
    assert_eq!(batch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(batch).await["field"], "[0].sha256");
    assert_eq!(ledger_head(h).await, head);

    // A's own content, uploaded once, may be attached again by its hash.
    let uploaded = post_form(
        &app,
        &documents_path(own().as_str()),
        &mine,
        Some(("facture-a.pdf", PDF)),
        &[("kind", "FACTURE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let again = attach_by_hash(&app, own().as_str(), &mine, &sha256_hex(PDF)).await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

/// Issue 13, item 5: the payment desk read salaries through `GET …/documents/DOC-n`. One rule for
/// payroll data wherever it is kept: the recap for the establishment, controllers and administrators;
/// the anonymisation key for controllers and administrators.
async fn payroll_content_attached_as_a_document_is_read_as_payroll_data(h: &Harness) {
    seed_statements(h).await;
    let app = TestApp::spawn(h, None, MAX_BODY_BYTES).await;
    let (etab, _) = token(h, Role::Etablissement, Some(&own())).await;
    let (ctrl, _) = token(h, Role::Controleur, None).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let (admin, _) = token(h, Role::Admin, None).await;
    let recap = payroll_fixture("seed_003_recap.xlsx");
    let key = payroll_fixture("anonymisation_key.csv");
    let payroll = |what: &str| format!("/api/candidates/{}/payroll/{what}", own().as_str());
    for (path, name, bytes) in [
        (payroll("recaps"), "recap.xlsx", &recap),
        (payroll("key"), "cle.csv", &key),
    ] {
        let response = app.upload(&path, Some(&etab), name, bytes).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
    }
    // Attached under a harmless kind (its content decides), then as what they are.
    let recap_doc = attach_by_hash(&app, own().as_str(), &etab, &sha256_hex(&recap)).await;
    assert_eq!(recap_doc.status(), StatusCode::CREATED);
    let key_doc = attach_by_hash(&app, own().as_str(), &etab, &sha256_hex(&key)).await;
    assert_eq!(key_doc.status(), StatusCode::CREATED);
    let kind_only = post_form(
        &app,
        &documents_path(own().as_str()),
        &etab,
        Some(("cle-bis.csv", b"Pseudonyme;Matricule\nSAL-9;E9\n")),
        &[("kind", "AUTRE"), ("line_id", "EXT-001")],
    )
    .await;
    assert_eq!(kind_only.status(), StatusCode::CREATED);
    let download = |doc: &'static str, who: String| {
        let path = format!("/api/statements/{}/D1bis/documents/{doc}", own().as_str());
        let request = app.request(Method::GET, &path, Some(&who));
        async move { request.send().await.unwrap() }
    };
    // DOC-0001: the recap; DOC-0002: the key; DOC-0003: an ordinary file.
    for (doc, etab_status, desk_status) in [
        ("DOC-0001", 200, 403),
        ("DOC-0002", 403, 403),
        ("DOC-0003", 200, 200),
    ] {
        assert_eq!(
            download(doc, etab.clone()).await.status().as_u16(),
            etab_status,
            "{doc}"
        );
        assert_eq!(
            download(doc, desk.clone()).await.status().as_u16(),
            desk_status,
            "{doc}"
        );
        assert_eq!(
            download(doc, ctrl.clone()).await.status(),
            StatusCode::OK,
            "{doc}"
        );
        assert_eq!(
            download(doc, admin.clone()).await.status(),
            StatusCode::OK,
            "{doc}"
        );
    }
    let refused = download("DOC-0001", desk.clone()).await;
    assert_eq!(problem(refused).await["status"], 403);

    // A replaced key still unmasks the recaps of its time: the establishment no longer reads it
    // through the payroll files either (it could, while only the current key was hidden).
    let second_key = b"Pseudonyme;Matricule\nSAL-001;44A567\n".to_vec();
    let replaced = app
        .upload(&payroll("key"), Some(&etab), "cle2.csv", &second_key)
        .await;
    assert_eq!(replaced.status(), StatusCode::CREATED);
    for sha in [sha256_hex(&key), sha256_hex(&second_key)] {
        let file = payroll(&format!("files/{sha}"));
        assert_eq!(
            app.get(&file, Some(&etab)).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get(&file, Some(&desk)).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.get(&file, Some(&ctrl)).await.status(), StatusCode::OK);
    }
    let recap_file = payroll(&format!("files/{}", sha256_hex(&recap)));
    assert_eq!(
        app.get(&recap_file, Some(&etab)).await.status(),
        StatusCode::OK
    );
}
