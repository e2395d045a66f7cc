//! `care-ledger demo`: the main job on the embedded default. A fresh SQLite ledger under the output
//! folder, a clock pinned to each step's date, the programme catalogue, the sample candidate base and
//! the sample declarations from `fixtures/`, then the figures of every statement, a verified ledger and
//! a signed checkpoint.

use crate::actor::{Actor, Role};
use crate::app::{Access, Ledger, RequestMeta};
use crate::clock::{paris_noon, Clock, FixedClock};
use crate::domain::statement::{parse_declarations, LineContent, ReviewInput, StatementCommand};
use crate::domain::{Catalogue, DomainId, Finess};
use crate::store::checkpoint::Checkpoint;
use crate::store::verify::verify;
use crate::store::EventStore;
use anyhow::{bail, Context};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The date the demo starts at; each declaration step then sets its own date.
pub const DEMO_START: (i32, u32, u32) = (2027, 2, 1);
/// The demo's checkpoint key (a demo value, never a production secret).
pub const DEMO_CHECKPOINT_KEY: &[u8] = b"demo-checkpoint-key-not-for-production";
/// The demo's Ed25519 key pair, made afresh by each run in the output folder: the private key signs
/// the workbooks and the checkpoint, the public key verifies them.
pub const DEMO_PRIVATE_KEY_FILE: &str = "cle-privee-demo.pem";
pub const DEMO_PUBLIC_KEY_FILE: &str = "cle-publique-demo.pem";

/// Reads the two domain files of the catalogue folder.
pub fn read_catalogue_files(dir: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for name in ["d1bis.toml", "d2.toml"] {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the catalogue file {}", path.display()))?;
        files.push((name.to_string(), text));
    }
    Ok(files)
}

pub fn load_catalogue(dir: &Path) -> anyhow::Result<(Catalogue, Vec<(String, String)>)> {
    let files = read_catalogue_files(dir)?;
    let catalogue = Catalogue::from_files(files.clone())?;
    Ok((catalogue, files))
}

fn fresh_database(out: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let db = out.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        if Path::new(&path).exists() {
            std::fs::remove_file(&path).with_context(|| format!("cannot remove {path}"))?;
        }
    }
    Ok(db)
}

pub async fn run(out: &Path) -> anyhow::Result<()> {
    let fixtures = Path::new("fixtures");
    let db = fresh_database(out)?;
    let (y, m, d) = DEMO_START;
    let start = NaiveDate::from_ymd_opt(y, m, d).context("demo date")?;
    let clock = FixedClock::at(paris_noon(start));
    let store = EventStore::open(&db.to_string_lossy(), Arc::new(clock.clone())).await?;
    let (catalogue, files) = load_catalogue(&fixtures.join("domains"))?;
    let ledger = Ledger::open(store.clone(), catalogue).await?;
    let admin = Actor::new(Role::Admin, "demo")?;

    ledger
        .record_catalogue(&admin, &RequestMeta::new("demo-catalogue"), &files)
        .await?;
    let candidates_path = fixtures.join("candidates.csv");
    let bytes = std::fs::read(&candidates_path)
        .with_context(|| format!("cannot read {}", candidates_path.display()))?;
    let imported = ledger
        .import_candidates(
            &admin,
            &RequestMeta::new("demo-candidates"),
            "candidates.csv",
            &bytes,
        )
        .await?;
    println!(
        "Catalogue D1 bis et D2 chargé ; {} candidats importés de {}",
        imported.registered.len(),
        candidates_path.display()
    );

    let mut declaration_files: Vec<PathBuf> = std::fs::read_dir(fixtures.join("declarations"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    declaration_files.sort();
    let mut steps_run = 0;
    for path in &declaration_files {
        let text = std::fs::read_to_string(path)?;
        let file = parse_declarations(&text)
            .with_context(|| format!("declarations {}", path.display()))?;
        for (i, step) in file.steps.iter().enumerate() {
            if step.effective_at > clock.now() {
                clock.set(step.effective_at);
            }
            let actor = Actor::new(step.role, &step.actor)?;
            let candidate = (step.role == Role::Etablissement).then(|| file.candidate.clone());
            let access = Access::new(actor, candidate);
            let request = RequestMeta::new(format!(
                "demo-{}-{}",
                path.file_stem().unwrap_or_default().to_string_lossy(),
                i + 1
            ));
            if let Err(err) = ledger
                .execute(
                    &access,
                    &file.candidate,
                    file.domain,
                    step.command.clone(),
                    &request,
                )
                .await
            {
                bail!(
                    "{} step {} ({}): {err}",
                    path.display(),
                    i + 1,
                    step.command.name()
                );
            }
            steps_run += 1;
        }
    }
    println!(
        "{} déclarations appliquées ({} commandes)\n",
        declaration_files.len(),
        steps_run
    );

    let controller = Access::new(Actor::new(Role::Controleur, "demo")?, None);
    supporting_documents(&ledger, &clock, &controller, fixtures).await?;
    audit_evidence(&ledger, &clock, &controller, fixtures).await?;
    print_table(&ledger, &controller).await?;

    payment_cycle(&ledger, &clock, &controller, out).await?;

    let signer = demo_signer(out)?;
    for (finess, domain) in ledger.statements(&controller).await? {
        let (bytes, _) = ledger
            .export_template_signed(&controller, &finess, domain, None, Some(&signer))
            .await?;
        let path = out.join(format!("etat-financier-{finess}-{domain}.xlsx"));
        crate::cli::write_new_file(&path, &bytes)?;
        println!("Trame écrite : {}", path.display());
    }

    let report = verify(&store, None).await?;
    if !report.is_ok() {
        bail!("the demo ledger does not verify: {:?}", report.problem);
    }
    let checkpoint = Checkpoint::take_signed(&store, &signer).await?;
    crate::cli::write_new_file(
        &out.join("checkpoint.json"),
        checkpoint.to_json().as_bytes(),
    )?;
    println!(
        "\nRegistre {} : {} événements vérifiés, tête {} ; point de contrôle signé : {}",
        db.display(),
        report.events_checked,
        report.head_hash,
        out.join("checkpoint.json").display()
    );
    println!(
        "Clé publique (vérifie les trames et le point de contrôle) : {}\n\
         Vérifier : care-ledger --database {} verify --checkpoint {} --public-key {}\n\
         \x20         care-ledger --database {} verify-export <trame.xlsx> --public-key {}",
        out.join(DEMO_PUBLIC_KEY_FILE).display(),
        db.display(),
        out.join("checkpoint.json").display(),
        out.join(DEMO_PUBLIC_KEY_FILE).display(),
        db.display(),
        out.join(DEMO_PUBLIC_KEY_FILE).display(),
    );
    store.close().await;
    Ok(())
}

/// A fresh demo key pair in the output folder (the previous run's, a demo value, replaced).
fn demo_signer(out: &Path) -> anyhow::Result<crate::signing::Signer> {
    let private = out.join(DEMO_PRIVATE_KEY_FILE);
    let public = out.join(DEMO_PUBLIC_KEY_FILE);
    for path in [&private, &public] {
        if path.exists() {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    let signer = crate::signing::Signer::generate();
    signer.write_new(&private, &public)?;
    Ok(signer)
}

fn on(clock: &FixedClock, y: i32, m: u32, d: u32) {
    if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
        clock.set(paris_noon(date));
    }
}

/// Which files of `fixtures/documents` the demo attaches, and the payroll recap it imports.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentsManifest {
    candidate: String,
    domain: String,
    payroll_recap: String,
    documents: Vec<ManifestDocument>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestDocument {
    file: String,
    kind: String,
    #[serde(default)]
    line_id: String,
    #[serde(default)]
    objective: String,
    #[serde(default)]
    comment: String,
}

/// The Clinique du Parc's payroll recap and supporting documents (fixtures/documents), then a document
/// request answered: on 20 April 2027 the controller asks for the paid invoice of EXT-002, on 24 April
/// the establishment uploads it and answers; the checklist shows what is still missing.
async fn supporting_documents(
    ledger: &Ledger,
    clock: &FixedClock,
    controller: &Access,
    fixtures: &Path,
) -> anyhow::Result<()> {
    let dir = fixtures.join("documents");
    let manifest_path = dir.join("clinique-parc-d1bis.toml");
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("cannot read {}", manifest_path.display()))?;
    let manifest: DocumentsManifest =
        toml::from_str(&text).with_context(|| format!("documents {}", manifest_path.display()))?;
    let finess = Finess::parse(&manifest.candidate)?;
    let domain = DomainId::parse(&manifest.domain)?;
    let daf = Access::new(
        Actor::new(Role::Etablissement, "daf@clinique-parc")?,
        Some(finess.clone()),
    );
    let read = |name: &str| -> anyhow::Result<Vec<u8>> {
        let path = dir.join(name);
        std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };

    let recap_name = Path::new(&manifest.payroll_recap)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let recap = ledger
        .import_payroll(
            &daf,
            &finess,
            &recap_name,
            &read(&manifest.payroll_recap)?,
            false,
            &RequestMeta::new("demo-payroll-clinique"),
        )
        .await
        .context("payroll recap of the Clinique du Parc")?;
    println!(
        "Récapitulatif de paie importé — {finess} : {} ({} salarié(s), {} alerte(s) de lecture), gardé comme pièce justificative",
        recap.file_name,
        recap.import.recaps.len(),
        recap.import.recaps.iter().map(|r| r.warnings.len()).sum::<usize>()
    );
    for (i, d) in manifest.documents.iter().enumerate() {
        ledger
            .attach_document(
                &daf,
                &finess,
                domain,
                crate::app::DocumentUpload {
                    file_name: d.file.clone(),
                    bytes: read(&d.file)?,
                    kind: d.kind.clone(),
                    line_id: d.line_id.clone(),
                    objective: d.objective.clone(),
                    replaces: String::new(),
                    comment: d.comment.clone(),
                },
                &RequestMeta::new(format!("demo-document-{}", i + 1)),
            )
            .await
            .with_context(|| format!("document {}", d.file))?;
    }
    println!(
        "{} pièces justificatives jointes à l'état financier {finess} {domain}",
        manifest.documents.len()
    );

    // After the submission of 25/04/2027: a controller reviews only a submitted statement.
    on(clock, 2027, 4, 26);
    ledger
        .execute(
            controller,
            &finess,
            domain,
            StatementCommand::ReviewLine(ReviewInput {
                line_id: "EXT-002".into(),
                decision: "documents_requested".into(),
                documents_requested: "Facture 2026-118 acquittée".into(),
                documents_due: "2027-05-15".into(),
                ..ReviewInput::default()
            }),
            &RequestMeta::new("demo-document-request"),
        )
        .await
        .context("document request on EXT-002")?;
    on(clock, 2027, 4, 27);
    let answer_file = "facture-remedia-2026-118-acquittee.pdf";
    let (_, invoice) = ledger
        .attach_document(
            &daf,
            &finess,
            domain,
            crate::app::DocumentUpload {
                file_name: answer_file.into(),
                bytes: read(answer_file)?,
                kind: "FACTURE".into(),
                line_id: "EXT-002".into(),
                ..crate::app::DocumentUpload::default()
            },
            &RequestMeta::new("demo-document-answer-file"),
        )
        .await?;
    ledger
        .execute(
            &daf,
            &finess,
            domain,
            StatementCommand::AnswerDocumentRequest(
                crate::domain::statement::DocumentAnswerInput {
                    line_id: "EXT-002".into(),
                    comment: "Facture acquittée jointe (virement du 12/06/2026)".into(),
                    document_sha256: invoice.sha256.clone(),
                    correction: None,
                },
            ),
            &RequestMeta::new("demo-document-answer"),
        )
        .await
        .context("answer to the document request on EXT-002")?;
    // Dates as the ledger recorded them.
    let statement = ledger.statement(controller, &finess, domain, None).await?;
    let requested_on = statement
        .statement
        .reviews
        .get(&crate::domain::statement::LineId::parse("EXT-002").context("line id")?)
        .and_then(|reviews| {
            reviews
                .iter()
                .rev()
                .find(|r| r.requested.is_some())
                .and_then(|r| r.reviewed_on)
        })
        .context("the document request on EXT-002 is in the ledger")?;
    println!(
        "EXT-002 : pièce demandée le {} (facture acquittée), fournie le {} ({})",
        requested_on.format("%d/%m/%Y"),
        invoice.attached_on.format("%d/%m/%Y"),
        invoice.id
    );
    let view = ledger.documents(controller, &finess, domain, None).await?;
    crate::cli_documents::print_checklist(&view.checklist);
    println!();
    Ok(())
}

/// 28 April 2027: the controller records the Clinique du Parc's audit evidence (seed 003 Cas #1 on its
/// five EG) and computes the D1 bis attainment from it; the computed verdicts replace the attainment
/// recorded by hand in the declarations file (the same statuses and coverages).
async fn audit_evidence(
    ledger: &Ledger,
    clock: &FixedClock,
    controller: &Access,
    fixtures: &Path,
) -> anyhow::Result<()> {
    if clock.now() < paris_noon(NaiveDate::from_ymd_opt(2027, 4, 28).context("demo date")?) {
        on(clock, 2027, 4, 28);
    }
    let clinique = Finess::parse("130004526")?;
    let path = fixtures.join("evidence").join("clinique-parc-cas1.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let evidence =
        serde_json::from_str(&text).with_context(|| format!("evidence {}", path.display()))?;
    let commands = vec![
        StatementCommand::RecordEvidence { evidence },
        StatementCommand::ComputeAttainment {
            reason: "contrôle sur pièces des audits ADS, d'exposition, exercices et oSIS".into(),
        },
    ];
    let (_, state) = ledger
        .execute_batch(
            controller,
            &clinique,
            DomainId::D1bis,
            commands,
            &RequestMeta::new("demo-evidence-clinique"),
        )
        .await
        .context("audit evidence of the Clinique du Parc")?;
    println!("Atteinte calculée des preuves d'audit — {clinique} D1bis (28/04/2027) :");
    for (objective, v) in &state.computed {
        println!(
            "  {:<8} {}{}",
            objective.as_str(),
            v.status.label_fr(),
            v.coverage
                .map(|c| format!(" ({})", c.to_french()))
                .unwrap_or_default()
        );
    }
    println!();
    Ok(())
}

/// Review → payment → disbursement → a later review lowering a retained amount → recovery order →
/// recovery received, on the sample statements (issue: payment desk).
async fn payment_cycle(
    ledger: &Ledger,
    clock: &FixedClock,
    controller: &Access,
    out: &Path,
) -> anyhow::Result<()> {
    let desk = Access::new(Actor::new(Role::Paiement, "demo")?, None);
    let statements = ledger.statements(controller).await?;

    // 3 May 2027: the controller reviews every cost line; flagged lines are refused with their reason.
    on(clock, 2027, 5, 3);
    for (finess, domain) in &statements {
        let view = ledger.statement(controller, finess, *domain, None).await?;
        let mut commands = Vec::new();
        let mut seen_invoices = std::collections::BTreeSet::new();
        for line in view.statement.active_lines() {
            if matches!(line.content, LineContent::Receipt(_)) {
                continue;
            }
            let flags: Vec<&str> = view
                .flags
                .iter()
                .filter(|f| f.line_id.as_ref() == Some(&line.id))
                .map(|f| f.code)
                .collect();
            let duplicate = match &line.content {
                LineContent::External(e) => !seen_invoices.insert((
                    crate::domain::statement::flags::normalise_supplier(&e.supplier),
                    crate::domain::statement::flags::normalise_invoice_number(&e.invoice_number),
                )),
                _ => false,
            };
            let (decision, reason_code, comment) = if flags.contains(&"NATURE_NON_ELIGIBLE") {
                (
                    "ineligible",
                    "NATURE_NON_ELIGIBLE",
                    "nature de dépense non éligible",
                )
            } else if duplicate {
                (
                    "ineligible",
                    "DOUBLON",
                    "facture déjà déclarée sur une autre ligne",
                )
            } else {
                ("eligible", "", "")
            };
            commands.push(StatementCommand::ReviewLine(ReviewInput {
                line_id: line.id.as_str().to_string(),
                decision: decision.into(),
                reason_code: reason_code.into(),
                comment: comment.into(),
                ..ReviewInput::default()
            }));
        }
        let request = RequestMeta::new(format!("demo-review-{finess}-{domain}"));
        ledger
            .execute_batch(controller, finess, *domain, commands, &request)
            .await
            .with_context(|| format!("review of {finess} {domain}"))?;
    }

    // 10 May 2027: the payment desk issues one batch per domain (every final subsidy's due); 17 May:
    // the bank confirms each payment.
    println!("\nLots de paiement (10/05/2027) :");
    for domain in [DomainId::D1bis, DomainId::D2] {
        on(clock, 2027, 5, 10);
        let batch = ledger
            .issue_payment_batch(
                &desk,
                domain,
                &RequestMeta::new(format!("demo-batch-{domain}")),
            )
            .await?;
        for (finess, reason) in &batch.skipped {
            println!("  {finess} {domain} : pas de paiement — {reason}");
        }
        if batch.lines.is_empty() {
            continue;
        }
        let base = out.join(format!("lot-paiement-{}", batch.batch_id));
        crate::cli::write_new_file(
            &base.with_extension("csv"),
            &crate::app::batches::batch_csv(&batch),
        )?;
        crate::cli::write_new_file(
            &base.with_extension("xlsx"),
            &crate::app::batches::batch_xlsx(&batch)?,
        )?;
        println!(
            "  {} : {} paiement(s), {} → {}.csv / .xlsx",
            batch.batch_id,
            batch.lines.len(),
            batch.total().to_french(),
            base.display()
        );
        on(clock, 2027, 5, 17);
        for line in &batch.lines {
            ledger
                .execute(
                    &desk,
                    &line.finess,
                    domain,
                    StatementCommand::ConfirmDisbursement {
                        payment_id: line.payment_id.clone(),
                        bank_reference: format!("VIR-{}-{domain}", line.finess),
                        value_date: "2027-05-17".into(),
                    },
                    &RequestMeta::new(format!("demo-disbursed-{}-{domain}", line.finess)),
                )
                .await?;
        }
    }

    // 15 June 2027: a later audit retains only 10 000,00 of the Clinique's internet exposure audits:
    // the subsidy falls below what was paid; a recovery order follows and is paid on 30 June.
    let clinique = Finess::parse("130004526")?;
    on(clock, 2027, 6, 15);
    let revised = StatementCommand::ReviewLine(ReviewInput {
        line_id: "EXT-001".into(),
        decision: "partially_eligible".into(),
        eligible_amount: "10 000,00".into(),
        comment: "contrôle sur pièces : 4 campagnes justifiées sur 6".into(),
        ..ReviewInput::default()
    });
    ledger
        .execute(
            controller,
            &clinique,
            DomainId::D1bis,
            revised,
            &RequestMeta::new("demo-review-revision"),
        )
        .await?;
    let view = ledger
        .statement(&desk, &clinique, DomainId::D1bis, None)
        .await?;
    if let Ok(s) = &view.subsidy {
        if s.due.is_negative() {
            let excess = -s.due;
            ledger
                .execute(
                    &desk,
                    &clinique,
                    DomainId::D1bis,
                    StatementCommand::IssueRecoveryOrder {
                        recovery_id: String::new(),
                        amount: excess.to_plain_string(),
                        reason: "surcompensation après révision de la ligne EXT-001".into(),
                    },
                    &RequestMeta::new("demo-recovery-order"),
                )
                .await?;
            on(clock, 2027, 6, 30);
            ledger
                .execute(
                    &desk,
                    &clinique,
                    DomainId::D1bis,
                    StatementCommand::RecordRecoveryReceived {
                        recovery_id: "REC-PAY-0001".into(),
                        amount: excess.to_plain_string(),
                        bank_reference: "TITRE-2027-0042".into(),
                    },
                    &RequestMeta::new("demo-recovery-received"),
                )
                .await?;
            println!(
                "  130004526 D1bis : révision du 15/06/2027, surcompensation {} — ordre de recouvrement émis et encaissé",
                excess.to_french()
            );
        }
    }

    println!(
        "\n{:<9} {:<6} {:>13} {:>11} {:>13} {:>13} {:>13} {:>13} {:>13}  {:<10}",
        "FINESS",
        "Dom.",
        "Éligible",
        "Décote",
        "Subvention",
        "Engagé",
        "Versé",
        "Recouvré",
        "Reste dû",
        "Statut"
    );
    for (finess, domain) in &statements {
        let view = ledger.statement(controller, finess, *domain, None).await?;
        if let Ok(s) = &view.subsidy {
            println!(
                "{:<9} {:<6} {:>13} {:>11} {:>13} {:>13} {:>13} {:>13} {:>13}  {:<10}",
                finess.as_str(),
                domain.as_str(),
                s.eligible_total.to_plain_string(),
                format!("{}%", s.decote.value().normalize()),
                s.subsidy.to_plain_string(),
                s.committed.to_plain_string(),
                s.disbursed.to_plain_string(),
                s.recovered.to_plain_string(),
                s.due.to_plain_string(),
                if s.provisional {
                    "provisoire"
                } else {
                    "définitif"
                }
            );
        }
    }
    println!();
    Ok(())
}

async fn print_table(ledger: &Ledger, access: &Access) -> anyhow::Result<()> {
    println!(
        "{:<9} {:<40} {:<6} {:>13} {:>11} {:>13} {:>13} {:>7} {:>13} {:>13}  {:<12} {:>7} {:>13}",
        "FINESS",
        "Candidat",
        "Dom.",
        "Déclaré",
        "Recettes",
        "Net",
        "Plafond",
        "Décote",
        "Plafond déc.",
        "Subvention",
        "Statut",
        "Alertes",
        "Pièces manq."
    );
    for (finess, domain) in ledger.statements(access).await? {
        let view = ledger.statement(access, &finess, domain, None).await?;
        let name: String = view.candidate.name.chars().take(40).collect();
        match &view.subsidy {
            Ok(s) => {
                println!(
                "{:<9} {:<40} {:<6} {:>13} {:>11} {:>13} {:>13} {:>7} {:>13} {:>13}  {:<12} {:>7} {:>13}",
                finess.as_str(),
                name,
                domain.as_str(),
                s.declared_total.to_plain_string(),
                s.receipts_total.to_plain_string(),
                s.net.to_plain_string(),
                s.ceiling.to_plain_string(),
                format!("{}%", s.decote.value().normalize()),
                s.capped_ceiling.to_plain_string(),
                s.subsidy.to_plain_string(),
                if s.provisional { "provisoire" } else { "définitif" },
                view.flags.len(),
                view.checklist.missing_required
            )
            }
            Err(reason) => println!(
                "{:<9} {:<40} {:<6} {}",
                finess.as_str(),
                name,
                domain.as_str(),
                reason
            ),
        }
    }
    Ok(())
}
