//! Provable workbooks (issue 16 §3): a signed export reads back with a valid signature and no
//! difference; a one-cent edit and a deleted row are caught and named; a workbook made for another
//! role or at another position is recognised as such; a forged signature is refused. Through the
//! ledger on both engines.

mod common;
mod template_support;

use care_ledger::actor::{Actor, Role};
use care_ledger::app::proof::ExportVerification;
use care_ledger::app::{Access, Ledger, LedgerError, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::domain::statement::{ExternalCostInput, StatementCommand};
use care_ledger::domain::{Catalogue, DomainId, Finess};
use care_ledger::signing::{PublicKey, Signer};
use care_ledger::template::export::plan_workbook;
use care_ledger::template::layout;
use care_ledger::template::model::TemplateModel;
use care_ledger::template::plan::WorkbookPlan;
use care_ledger::template::proof::{
    cells_of_plan, compare, read_workbook, seal_plan, SignatureCheck,
};
use care_ledger::template::render::render;
use chrono::NaiveDate;
use common::Harness;
use std::io::{Read, Write};

on_both_engines!(
    a_signed_export_matches_the_ledger_and_its_signature_is_valid,
    a_one_cent_edit_is_caught_and_named,
    a_deleted_row_is_caught_as_a_line_missing_from_the_file,
    a_workbook_for_another_role_or_at_an_earlier_position_is_recognised,
    a_forged_signature_is_refused,
    the_service_signs_its_exports_and_verifies_an_upload_within_what_the_caller_sees,
);

const CLINIC: &str = "130004526";
const LIMIT: usize = 20 * 1024 * 1024;

fn clinic() -> Finess {
    Finess::parse(CLINIC).unwrap()
}

fn daf() -> Access {
    Access::new(
        Actor::new(Role::Etablissement, "daf@clinique").unwrap(),
        Some(clinic()),
    )
}

fn other_establishment() -> Access {
    Access::new(
        Actor::new(Role::Etablissement, "daf@ailleurs").unwrap(),
        Some(Finess::parse("310000013").unwrap()),
    )
}

fn controller() -> Access {
    Access::new(Actor::new(Role::Controleur, "marie").unwrap(), None)
}

fn req(id: &str) -> RequestMeta {
    RequestMeta::new(id)
}

fn invoice(number: &str, amount: &str) -> StatementCommand {
    StatementCommand::DeclareExternalCost(ExternalCostInput {
        line_id: String::new(),
        cost_type: "investissement".into(),
        order_date: "2026-02-10".into(),
        invoice_date: "2026-03-15".into(),
        order_number: "BC-1".into(),
        invoice_number: number.into(),
        supplier: "Surfacia Audit SAS".into(),
        service_label: "Audit".into(),
        amount: amount.into(),
        nature: "PRESTATION_EXTERNE".into(),
        objective: "D1.O2.A".into(),
        contribution: "Audits".into(),
    })
}

/// A ledger with the clinic's D1 bis statement: three invoices (14 400,00, 1 200,00, 980,50).
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
    let admin = Actor::new(Role::Admin, "ops").unwrap();
    let ledger = Ledger::open(
        h.store.clone(),
        Catalogue::from_files(files.clone()).unwrap(),
    )
    .await
    .unwrap();
    ledger
        .record_catalogue(&admin, &req("cat"), &files)
        .await
        .unwrap();
    ledger
        .import_candidates(
            &admin,
            &req("cand"),
            "candidates.csv",
            include_bytes!("../fixtures/candidates.csv"),
        )
        .await
        .unwrap();
    h.clock
        .set(paris_noon(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
    let (f, d) = (clinic(), DomainId::D1bis);
    for (i, command) in [
        StatementCommand::OpenStatement,
        invoice("FA-1", "14 400,00"),
        invoice("FA-2", "1 200,00"),
        invoice("FA-3", "980,50"),
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
}

async fn export(ledger: &Ledger, access: &Access, signer: &Signer) -> (Vec<u8>, TemplateModel) {
    ledger
        .export_template_signed(access, &clinic(), DomainId::D1bis, None, Some(signer))
        .await
        .unwrap()
}

/// The plan of an exported workbook, regenerated from its own position (to hand-edit it).
async fn plan_of(ledger: &Ledger, access: &Access, model: &TemplateModel) -> WorkbookPlan {
    let again = ledger
        .template_model_at(
            access,
            &clinic(),
            DomainId::D1bis,
            None,
            model.read_position as i64,
            model.generated_at,
        )
        .await
        .unwrap();
    assert_eq!(&again, model, "the same position gives the same workbook");
    plan_workbook(&again)
}

async fn verify(
    ledger: &Ledger,
    access: &Access,
    bytes: &[u8],
    keys: &[PublicKey],
) -> ExportVerification {
    ledger
        .verify_export(access, bytes, LIMIT, keys)
        .await
        .unwrap()
}

/// Rewrites one part of the package (a hand edit of the XML, as a hostile user could make).
fn rewrite(bytes: &[u8], part: &str, change: impl Fn(String) -> String) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().to_string();
        let mut content = Vec::new();
        file.read_to_end(&mut content).unwrap();
        if name == part {
            content = change(String::from_utf8(content).unwrap()).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

async fn a_signed_export_matches_the_ledger_and_its_signature_is_valid(h: &Harness) {
    let ledger = ledger(h).await;
    let signer = Signer::generate();
    for access in [daf(), controller()] {
        let (bytes, model) = export(&ledger, &access, &signer).await;
        assert!(model.read_position >= model.ledger_position);
        let v = verify(&ledger, &controller(), &bytes, &[signer.public()]).await;
        assert_eq!(
            v.signature,
            SignatureCheck::Valid {
                key_id: signer.public().key_id()
            }
        );
        assert!(v.matches_ledger, "{:#?}", v.differences);
        assert!(v.differences.is_empty());
        assert_eq!(v.read_position, model.read_position as i64);
        assert_eq!(v.statement_version_now, None);
        assert!(v.verdict_fr.starts_with("Conforme"), "{}", v.verdict_fr);
        // The file read back shows what the plan showed, cell for cell.
        let file = read_workbook(&bytes, LIMIT).unwrap();
        let plan = plan_of(&ledger, &access, &model).await;
        let (differences, _) = compare(&cells_of_plan(&plan), &file.sheets);
        assert!(differences.is_empty(), "{differences:#?}");
    }
    // An unsigned export is compared all the same, and said to be unsigned.
    let (bytes, _) = ledger
        .export_template(&daf(), &clinic(), DomainId::D1bis, None)
        .await
        .unwrap();
    let v = verify(&ledger, &daf(), &bytes, &[signer.public()]).await;
    assert_eq!(v.signature, SignatureCheck::Absent);
    assert!(v.matches_ledger);
    assert!(v.verdict_fr.contains("non signé"), "{}", v.verdict_fr);
}

async fn a_one_cent_edit_is_caught_and_named(h: &Harness) {
    let ledger = ledger(h).await;
    let signer = Signer::generate();
    let (bytes, _) = export(&ledger, &daf(), &signer).await;
    // Coûts externes is the third sheet; its first invoice is on row 5, amount in column H.
    let edited = rewrite(&bytes, "xl/worksheets/sheet3.xml", |xml| {
        assert!(xml.contains("<v>14400</v>"), "the amount as written");
        xml.replacen("<v>14400</v>", "<v>14400.01</v>", 1)
    });
    let v = verify(&ledger, &daf(), &edited, &[signer.public()]).await;
    assert!(!v.matches_ledger);
    assert_eq!(
        v.signature,
        SignatureCheck::Invalid {
            key_id: signer.public().key_id()
        }
    );
    assert_eq!(v.differences.len(), 1, "{:#?}", v.differences);
    let d = &v.differences[0];
    assert_eq!(d.sheet, layout::EXTERNES);
    assert_eq!(d.cell.as_deref(), Some("H5"));
    assert_eq!(
        d.message_fr,
        "Coûts externes!H5 : 14400,01 dans le fichier, 14400 au registre"
    );
    assert!(
        v.verdict_fr.starts_with("NON CONFORME : 1 différence"),
        "{}",
        v.verdict_fr
    );
}

async fn a_deleted_row_is_caught_as_a_line_missing_from_the_file(h: &Harness) {
    let ledger = ledger(h).await;
    let signer = Signer::generate();
    let (_, model) = export(&ledger, &daf(), &signer).await;
    // The second invoice (row 6) deleted as a spreadsheet deletes a row: the rows below move up.
    let mut plan = plan_of(&ledger, &daf(), &model).await;
    seal_plan(&mut plan, &signer);
    let sheet = plan
        .sheets
        .iter_mut()
        .find(|s| s.name == layout::EXTERNES)
        .unwrap();
    sheet.cells.retain(|c| c.row != 5);
    for c in sheet.cells.iter_mut().filter(|c| c.row > 5) {
        c.row -= 1;
    }
    let bytes = render(&plan).unwrap();
    let v = verify(&ledger, &daf(), &bytes, &[signer.public()]).await;
    assert!(!v.matches_ledger);
    assert!(matches!(v.signature, SignatureCheck::Invalid { .. }));
    let removed: Vec<&str> = v
        .differences
        .iter()
        .filter(|d| d.message_fr.contains("absente du fichier"))
        .map(|d| d.message_fr.as_str())
        .collect();
    assert_eq!(removed.len(), 1, "{:#?}", v.differences);
    assert!(
        removed[0].starts_with("Coûts externes : ligne 6 du registre absente du fichier ("),
        "{}",
        removed[0]
    );
    assert!(removed[0].contains("FA-2"), "{}", removed[0]);
    // The rows below are recognised where they moved, not listed as changed values: what else
    // differs is the formulas that counted the removed row (the totals).
    for d in &v.differences {
        if !d.message_fr.contains("absente du fichier") {
            assert!(
                d.ledger.as_deref().unwrap_or("").starts_with('=')
                    || d.file.as_deref().unwrap_or("").starts_with('='),
                "{}",
                d.message_fr
            );
        }
    }
}

async fn a_workbook_for_another_role_or_at_an_earlier_position_is_recognised(h: &Harness) {
    let ledger = ledger(h).await;
    let signer = Signer::generate();
    let keys = [signer.public()];
    let (for_daf, model) = export(&ledger, &daf(), &signer).await;
    let (for_controller, _) = export(&ledger, &controller(), &signer).await;
    // The statement moves on after the exports.
    ledger
        .execute(
            &daf(),
            &clinic(),
            DomainId::D1bis,
            invoice("FA-4", "50,00"),
            &req("later"),
        )
        .await
        .unwrap();
    // Each workbook is checked at its own position, for its own viewer.
    let v = verify(&ledger, &controller(), &for_daf, &keys).await;
    assert!(v.matches_ledger, "{:#?}", v.differences);
    assert_eq!(v.viewer, "établissement");
    assert_eq!(v.read_position, model.read_position as i64);
    assert_eq!(v.statement_version, 4);
    assert_eq!(v.statement_version_now, Some(5));
    assert!(
        v.verdict_fr
            .contains("a changé depuis (version 5 aujourd'hui, 4 dans le classeur)"),
        "{}",
        v.verdict_fr
    );
    let v = verify(&ledger, &controller(), &for_controller, &keys).await;
    assert!(v.matches_ledger);
    assert_eq!(v.viewer, "contrôleur");

    // An establishment may verify its own workbook, never one made for a controller, and learns
    // nothing of another candidate's.
    assert!(
        verify(&ledger, &daf(), &for_daf, &keys)
            .await
            .matches_ledger
    );
    let err = ledger
        .verify_export(&daf(), &for_controller, LIMIT, &keys)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::Forbidden { .. }), "{err:?}");
    let err = ledger
        .verify_export(&other_establishment(), &for_daf, LIMIT, &keys)
        .await
        .unwrap_err();
    assert!(matches!(err, LedgerError::NotFound(_)), "{err:?}");

    // The viewer is bound by the signature: relabelling a controller's workbook as an establishment's
    // breaks it.
    let relabelled = rewrite(&for_controller, "docProps/custom.xml", |xml| {
        xml.replace(">contrôleur<", ">établissement<")
    });
    let v = verify(&ledger, &daf(), &relabelled, &keys).await;
    assert!(matches!(v.signature, SignatureCheck::Invalid { .. }));
    assert!(!v.matches_ledger);
    // So is the position.
    let moved = rewrite(&for_daf, "docProps/custom.xml", |xml| {
        let at = format!(">{}<", model.read_position);
        assert!(xml.contains(&at));
        xml.replace(&at, &format!(">{}<", model.read_position - 1))
    });
    let v = verify(&ledger, &daf(), &moved, &keys).await;
    assert!(matches!(v.signature, SignatureCheck::Invalid { .. }));
    assert!(!v.matches_ledger);
    // A position the ledger has not reached is not this ledger's.
    let future = rewrite(&for_daf, "docProps/custom.xml", |xml| {
        xml.replace(&format!(">{}<", model.read_position), ">999999<")
    });
    let err = ledger
        .verify_export(&daf(), &future, LIMIT, &keys)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("position de lecture 999999"),
        "{err}"
    );
}

async fn a_forged_signature_is_refused(h: &Harness) {
    let ledger = ledger(h).await;
    let service = Signer::generate();
    let forger = Signer::generate();
    let keys = [service.public()];
    // Signed by another key: not a trusted one.
    let (bytes, model) = export(&ledger, &daf(), &forger).await;
    let v = verify(&ledger, &daf(), &bytes, &keys).await;
    assert_eq!(
        v.signature,
        SignatureCheck::UnknownKey {
            key_id: forger.public().key_id()
        }
    );
    assert!(v.verdict_fr.contains("pas une clé publique de confiance"));
    // Another key claiming the service's key id: invalid.
    let claimed = rewrite(&bytes, "docProps/custom.xml", |xml| {
        xml.replace(&forger.public().key_id(), &service.public().key_id())
    });
    let v = verify(&ledger, &daf(), &claimed, &keys).await;
    assert_eq!(
        v.signature,
        SignatureCheck::Invalid {
            key_id: service.public().key_id()
        }
    );
    assert!(
        !v.matches_ledger,
        "the cells match but the signature is forged"
    );
    assert!(v.verdict_fr.starts_with("NON CONFORME"), "{}", v.verdict_fr);
    // An edited signature of the real key: invalid.
    let (genuine, _) = export(&ledger, &daf(), &service).await;
    let file = read_workbook(&genuine, LIMIT).unwrap();
    let signature = file
        .property(layout::PROPERTY_SIGNATURE)
        .unwrap()
        .to_string();
    let mut forged = signature.clone().into_bytes();
    forged[10] = if forged[10] == b'a' { b'b' } else { b'a' };
    let forged = String::from_utf8(forged).unwrap();
    let edited = rewrite(&genuine, "docProps/custom.xml", |xml| {
        xml.replace(&signature, &forged)
    });
    let v = verify(&ledger, &daf(), &edited, &keys).await;
    assert!(matches!(v.signature, SignatureCheck::Invalid { .. }));
    let _ = model;
}

async fn the_service_signs_its_exports_and_verifies_an_upload_within_what_the_caller_sees(
    h: &Harness,
) {
    use care_ledger::config::Config;
    use care_ledger::http::Application;
    use common::http::{multipart_file, token};
    use reqwest::StatusCode;

    let _seeded = ledger(h).await;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = (dir.path().join("cle.pem"), dir.path().join("cle.pub.pem"));
    Signer::generate().write_new(&private, &public).unwrap();
    let key = PublicKey::load(&public).unwrap();
    let config = Config {
        database_url: h.url.clone(),
        bind: "127.0.0.1:0".into(),
        signing_key_file: Some(private),
        ..Config::default()
    };
    let app = Application::build(config, h.store.clone()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let (etab, _) = token(h, Role::Etablissement, Some(&clinic())).await;
    let (elsewhere, _) = token(
        h,
        Role::Etablissement,
        Some(&Finess::parse("310000013").unwrap()),
    )
    .await;
    let (ctrl, _) = token(h, Role::Controleur, None).await;
    let (desk, _) = token(h, Role::Paiement, None).await;
    let download = |token: String| {
        let client = client.clone();
        let url = format!("{base}/api/statements/{CLINIC}/D1bis/template.xlsx");
        async move {
            let response = client.get(url).bearer_auth(token).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.bytes().await.unwrap().to_vec()
        }
    };
    let upload = |token: String, bytes: Vec<u8>| {
        let client = client.clone();
        let url = format!("{base}/api/templates/verify");
        async move {
            let (content_type, body) = multipart_file("trame.xlsx", &bytes);
            client
                .post(url)
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let for_etab = download(etab.clone()).await;
    let for_ctrl = download(ctrl.clone()).await;
    // Signed with the configured key: the public key alone verifies it.
    let file = read_workbook(&for_etab, LIMIT).unwrap();
    assert!(file.check_signature(std::slice::from_ref(&key)).is_valid());

    // Any role that sees the statement may verify the establishment's workbook.
    for caller in [&etab, &ctrl, &desk] {
        let response = upload(caller.clone(), for_etab.clone()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let v: serde_json::Value = response.json().await.unwrap();
        assert_eq!(v["matches_ledger"], true, "{v}");
        assert_eq!(v["signature"]["state"], "valid");
        assert_eq!(v["signature"]["key_id"], key.key_id());
        assert_eq!(v["viewer"], "établissement");
    }
    // A one-cent edit, over HTTP.
    let edited = rewrite(&for_etab, "xl/worksheets/sheet3.xml", |xml| {
        xml.replacen("<v>1200</v>", "<v>1200.01</v>", 1)
    });
    let v: serde_json::Value = upload(etab.clone(), edited).await.json().await.unwrap();
    assert_eq!(v["matches_ledger"], false);
    assert_eq!(v["signature"]["state"], "invalid");
    assert_eq!(v["differences"][0]["cell"], "H6");
    assert_eq!(
        v["differences"][0]["message_fr"],
        "Coûts externes!H6 : 1200,01 dans le fichier, 1200 au registre"
    );
    // Never more than the caller sees: the controller's workbook is refused to the establishment
    // (403) and to the payment desk, another establishment learns nothing (404).
    assert_eq!(
        upload(etab.clone(), for_ctrl.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(desk.clone(), for_ctrl.clone()).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(elsewhere.clone(), for_etab.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        upload(ctrl.clone(), for_ctrl).await.status(),
        StatusCode::OK
    );
    // Not a workbook: 422 naming the file.
    let response = upload(ctrl.clone(), b"PK\x03\x04 not a zip".to_vec()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = response.json().await.unwrap();
    assert_eq!(problem["field"], "file");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("pas un classeur .xlsx lisible"),
        "{problem}"
    );
}
