//! Supporting documents through the ledger on both engines (SPEC.md §7): a file kept once per content
//! in the same transaction as its event, refused files keep nothing, downloads checked against their
//! hash, the payroll file kept too, the database refusing changes, `verify` finding an altered file.

mod common;

use care_ledger::actor::{Actor, Role};
use care_ledger::app::{Access, DocumentUpload, Ledger, LedgerError, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::documents::DocumentFileError;
use care_ledger::domain::statement::{DocumentInput, Refusal, StatementCommand};
use care_ledger::domain::{DomainId, Finess};
use care_ledger::store::hash::sha256_hex;
use care_ledger::store::verify::{verify, ProblemKind};
use chrono::NaiveDate;
use common::Harness;

on_both_engines!(
    a_file_is_kept_once_per_content_with_the_event_that_attaches_it,
    a_refused_attachment_keeps_neither_event_nor_file,
    a_command_naming_content_never_uploaded_is_refused,
    a_payroll_recap_file_is_kept_as_a_supporting_document,
    the_database_refuses_to_change_or_delete_a_kept_file,
    verify_finds_a_kept_file_whose_bytes_were_altered,
    documents_read_as_of_an_earlier_instant_show_what_was_attached_then,
);

const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn ledger(h: &Harness) -> Ledger {
    common::sample_ledger(h).await
}

fn daf() -> (Access, Finess) {
    let f = Finess::parse("840000194").unwrap();
    (
        Access::new(
            Actor::new(Role::Etablissement, "daf").unwrap(),
            Some(f.clone()),
        ),
        f,
    )
}

fn controller() -> Access {
    Access::new(Actor::new(Role::Controleur, "ans-1").unwrap(), None)
}

/// An opened D1 bis statement of the public EJ with one invoice EXT-0001.
async fn with_invoice(h: &Harness, ledger: &Ledger) {
    let (daf, f) = daf();
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    ledger
        .execute_batch(
            &daf,
            &f,
            DomainId::D1bis,
            vec![
                StatementCommand::OpenStatement,
                StatementCommand::DeclareExternalCost(common::invoice(
                    "",
                    "Cyberscan SAS",
                    "F-1",
                    "7 920,00",
                )),
            ],
            &RequestMeta::new("o"),
        )
        .await
        .unwrap();
}

fn upload(name: &str, bytes: &[u8], kind: &str, line: &str, objective: &str) -> DocumentUpload {
    DocumentUpload {
        file_name: name.into(),
        bytes: bytes.to_vec(),
        kind: kind.into(),
        line_id: line.into(),
        objective: objective.into(),
        ..DocumentUpload::default()
    }
}

async fn kept_files(h: &Harness) -> i64 {
    use sqlx::Row;
    match h.engine {
        "sqlite" => sqlx::query("SELECT COUNT(*) FROM documents")
            .fetch_one(h.store.sqlite_pool().unwrap())
            .await
            .unwrap()
            .get(0),
        _ => sqlx::query("SELECT COUNT(*) FROM documents")
            .fetch_one(h.store.postgres_pool().unwrap())
            .await
            .unwrap()
            .get(0),
    }
}

async fn a_file_is_kept_once_per_content_with_the_event_that_attaches_it(h: &Harness) {
    let ledger = ledger(h).await;
    with_invoice(h, &ledger).await;
    let (daf, f) = daf();
    let (v1, first) = ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("Facture F-1.pdf", PDF, "FACTURE", "EXT-0001", ""),
            &RequestMeta::new("a1"),
        )
        .await
        .unwrap();
    assert_eq!(first.id.as_str(), "DOC-0001");
    assert_eq!(first.sha256, sha256_hex(PDF));
    assert_eq!(first.size_bytes, PDF.len() as u64);
    assert_eq!(first.media_type, "application/pdf");
    // The same content for an objective (the controller files the same report): a second document,
    // one kept file.
    let (v2, second) = ledger
        .attach_document(
            &controller(),
            &f,
            DomainId::D1bis,
            upload("rapport.pdf", PDF, "AUTRE", "", "D1.O2.A"),
            &RequestMeta::new("a2"),
        )
        .await
        .unwrap();
    assert_eq!((v2, second.id.as_str()), (v1 + 1, "DOC-0002"));
    assert_eq!(kept_files(h).await, 1);
    let (doc, bytes) = ledger
        .document_file(&daf, &f, DomainId::D1bis, "doc-0001")
        .await
        .unwrap();
    assert_eq!(
        (doc.file_name.as_str(), bytes.as_slice()),
        ("Facture F-1.pdf", PDF)
    );
    // Another candidate's establishment sees nothing, as if it did not exist.
    let other = Access::new(
        Actor::new(Role::Etablissement, "daf2").unwrap(),
        Some(Finess::parse("130004526").unwrap()),
    );
    assert!(matches!(
        ledger
            .document_file(&other, &f, DomainId::D1bis, "DOC-0001")
            .await,
        Err(LedgerError::NotFound(_))
    ));
    // The same request replayed with its idempotency key appends nothing and answers the first.
    let mut keyed = RequestMeta::new("a3");
    keyed.idempotency_key = Some("piece-1".into());
    let pdf2 = [PDF, b"% v2\n"].concat();
    let (v3, third) = ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("F-1 acquittée.pdf", &pdf2, "FACTURE", "EXT-0001", ""),
            &keyed,
        )
        .await
        .unwrap();
    let (v4, again) = ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("F-1 acquittée.pdf", &pdf2, "FACTURE", "EXT-0001", ""),
            &keyed,
        )
        .await
        .unwrap();
    assert_eq!((v3, v4), (v2 + 1, v2 + 1));
    assert_eq!(third, again);
    assert_eq!(kept_files(h).await, 2);
    let view = ledger
        .documents(&daf, &f, DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(view.documents.len(), 3);
    let ext = view
        .checklist
        .lines
        .iter()
        .find(|e| e.label.starts_with("EXT-0001"))
        .unwrap();
    assert!(ext.complete);
    assert_eq!(ext.items[0].provided.len(), 2);
}

async fn a_refused_attachment_keeps_neither_event_nor_file(h: &Harness) {
    let ledger = ledger(h).await;
    with_invoice(h, &ledger).await;
    let (daf, f) = daf();
    let before = h.store.head().await.unwrap().unwrap().position;
    // A kind that does not document an invoice line: refused after the file was read and hashed.
    let err = ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("recap.pdf", PDF, "RECAP_PAIE", "EXT-0001", ""),
            &RequestMeta::new("x1"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            LedgerError::Refused(Refusal::DocumentKindNotForTarget {
                field: "line_id",
                ..
            })
        ),
        "{err:?}"
    );
    // A renamed executable, an empty file, a name the service cannot keep.
    let err = ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("facture.pdf", b"MZ\x90\x00\x03", "FACTURE", "EXT-0001", ""),
            &RequestMeta::new("x2"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            LedgerError::Refused(Refusal::InvalidDocumentFile {
                field: "file",
                source: DocumentFileError::ContentMismatch { .. }
            })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ne correspond pas"), "{err}");
    let err = ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("vide.pdf", b"", "FACTURE", "EXT-0001", ""),
            &RequestMeta::new("x3"),
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        LedgerError::Refused(Refusal::InvalidDocumentFile {
            source: DocumentFileError::Empty,
            ..
        })
    ));
    // The payment desk may not attach.
    let desk = Access::new(Actor::new(Role::Paiement, "desk").unwrap(), None);
    assert!(matches!(
        ledger
            .attach_document(
                &desk,
                &f,
                DomainId::D1bis,
                upload("f.pdf", PDF, "FACTURE", "EXT-0001", ""),
                &RequestMeta::new("x4"),
            )
            .await
            .unwrap_err(),
        LedgerError::Refused(Refusal::RoleNotAllowed { .. })
    ));
    assert_eq!(h.store.head().await.unwrap().unwrap().position, before);
    assert_eq!(kept_files(h).await, 0);
}

async fn a_command_naming_content_never_uploaded_is_refused(h: &Harness) {
    let ledger = ledger(h).await;
    with_invoice(h, &ledger).await;
    let (daf, f) = daf();
    let by_sha = |sha: String| {
        StatementCommand::AttachDocument(DocumentInput {
            sha256: sha,
            file_name: "facture.pdf".into(),
            // The client's claims are replaced by the kept file's facts.
            media_type: "image/png".into(),
            size_bytes: 1,
            kind: "FACTURE".into(),
            line_id: "EXT-0001".into(),
            ..DocumentInput::default()
        })
    };
    let err = ledger
        .execute(
            &daf,
            &f,
            DomainId::D1bis,
            by_sha("0".repeat(64)),
            &RequestMeta::new("s1"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            LedgerError::Refused(Refusal::DocumentContentMissing { .. })
        ),
        "{err:?}"
    );
    // Once the file is kept (here by the controller on an objective), a command may name it.
    ledger
        .attach_document(
            &controller(),
            &f,
            DomainId::D1bis,
            upload("f.pdf", PDF, "AUTRE", "", "D1.O3"),
            &RequestMeta::new("s2"),
        )
        .await
        .unwrap();
    let (_, state) = ledger
        .execute(
            &daf,
            &f,
            DomainId::D1bis,
            by_sha(sha256_hex(PDF).to_uppercase()),
            &RequestMeta::new("s3"),
        )
        .await
        .unwrap();
    let doc = state.documents.values().last().unwrap();
    assert_eq!(doc.media_type, "application/pdf");
    assert_eq!(doc.size_bytes, PDF.len() as u64);
    assert_eq!(doc.sha256, sha256_hex(PDF));
}

async fn a_payroll_recap_file_is_kept_as_a_supporting_document(h: &Harness) {
    let ledger = ledger(h).await;
    with_invoice(h, &ledger).await;
    let (daf, f) = daf();
    let bytes = include_bytes!("../fixtures/payroll/seed_003_recap.xlsx");
    let summary = ledger
        .import_payroll(
            &daf,
            &f,
            "seed_003_recap.xlsx",
            bytes,
            false,
            &RequestMeta::new("p1"),
        )
        .await
        .unwrap();
    assert!(summary.applied);
    let info = h
        .store
        .document_info(&sha256_hex(bytes))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.size_bytes, bytes.len() as i64);
    assert_eq!(
        info.media_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let (media, back) = ledger
        .payroll_file(&daf, &f, &summary.source_sha256)
        .await
        .unwrap();
    assert_eq!(
        (media.as_str(), back.as_slice()),
        (info.media_type.as_str(), &bytes[..])
    );
    // The anonymisation key file is kept too, and served to controllers only.
    let key = b"pseudonyme;matricule\nAGENT-01;44A567\n";
    ledger
        .import_anonymisation_key(&daf, &f, "cle.csv", key, &RequestMeta::new("p2"))
        .await
        .unwrap();
    let key_sha = sha256_hex(key);
    assert!(matches!(
        ledger.payroll_file(&daf, &f, &key_sha).await,
        Err(LedgerError::NotFound(_))
    ));
    let (media, back) = ledger
        .payroll_file(&controller(), &f, &key_sha)
        .await
        .unwrap();
    assert_eq!((media.as_str(), back.as_slice()), ("text/csv", &key[..]));
}

async fn the_database_refuses_to_change_or_delete_a_kept_file(h: &Harness) {
    let ledger = ledger(h).await;
    with_invoice(h, &ledger).await;
    let (daf, f) = daf();
    ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("f.pdf", PDF, "FACTURE", "EXT-0001", ""),
            &RequestMeta::new("a"),
        )
        .await
        .unwrap();
    let mut statements = vec![
        "UPDATE documents SET media_type = 'text/plain'".to_string(),
        "DELETE FROM documents".to_string(),
    ];
    if h.engine == "postgres" {
        statements.push("TRUNCATE documents".into());
    }
    for sql in statements {
        let err = h.store.execute_raw(&sql).await.unwrap_err();
        let detail = format!("{err:?}");
        assert!(detail.contains("append-only"), "{sql}: {detail}");
    }
    assert_eq!(kept_files(h).await, 1);
}

async fn verify_finds_a_kept_file_whose_bytes_were_altered(h: &Harness) {
    let ledger = ledger(h).await;
    with_invoice(h, &ledger).await;
    let (daf, f) = daf();
    ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("f.pdf", PDF, "FACTURE", "EXT-0001", ""),
            &RequestMeta::new("a"),
        )
        .await
        .unwrap();
    let report = verify(&h.store, None).await.unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.documents_checked, 1);
    drop(ledger);
    let copy = h.copy().await;
    copy.disable_protection().await;
    let tampered = match copy.engine {
        "sqlite" => "UPDATE documents SET content = X'255044462D312E370A' ",
        _ => "UPDATE documents SET content = '\\x255044462d312e370a'::bytea, size_bytes = 9",
    };
    let sql = if copy.engine == "sqlite" {
        format!("{tampered}, size_bytes = 9")
    } else {
        tampered.to_string()
    };
    copy.store.execute_raw(&sql).await.unwrap();
    let report = verify(&copy.store, None).await.unwrap();
    let problem = report.problem.expect("altered file found");
    assert_eq!(problem.kind, ProblemKind::DocumentAltered);
    assert!(
        problem.detail.contains(&sha256_hex(PDF)),
        "{}",
        problem.detail
    );
    // The event chains themselves are intact: the file is what changed.
    assert!(report.events_checked > 0);
    copy.cleanup().await;
}

async fn documents_read_as_of_an_earlier_instant_show_what_was_attached_then(h: &Harness) {
    let ledger = ledger(h).await;
    with_invoice(h, &ledger).await;
    let (daf, f) = daf();
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 5).unwrap()));
    ledger
        .attach_document(
            &daf,
            &f,
            DomainId::D1bis,
            upload("f.pdf", PDF, "FACTURE", "EXT-0001", ""),
            &RequestMeta::new("a"),
        )
        .await
        .unwrap();
    let as_of = care_ledger::clock::end_of_paris_day(NaiveDate::from_ymd_opt(2026, 10, 2).unwrap());
    let then = ledger
        .documents(&daf, &f, DomainId::D1bis, Some(as_of))
        .await
        .unwrap();
    assert!(then.documents.is_empty());
    assert!(then.checklist.lines[0].items[0].missing);
    let now = ledger
        .documents(&daf, &f, DomainId::D1bis, None)
        .await
        .unwrap();
    assert_eq!(now.documents.len(), 1);
    assert!(!now.checklist.lines[0].items[0].missing);
}
