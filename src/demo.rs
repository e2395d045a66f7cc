//! `care-ledger demo`: the main job on the embedded default. A fresh SQLite ledger under the output
//! folder, a clock pinned to each step's date, the programme catalogue, the sample candidate base and
//! the sample declarations from `fixtures/`, then the figures of every statement, a verified ledger and
//! a signed checkpoint.

use crate::actor::{Actor, Role};
use crate::app::{Access, Ledger, RequestMeta};
use crate::clock::{paris_noon, Clock, FixedClock};
use crate::domain::statement::parse_declarations;
use crate::domain::Catalogue;
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
    print_table(&ledger, &controller).await?;

    for (finess, domain) in ledger.statements(&controller).await? {
        let (bytes, _) = ledger
            .export_template(&controller, &finess, domain, None)
            .await?;
        let path = out.join(format!("etat-financier-{finess}-{domain}.xlsx"));
        crate::cli::write_new_file(&path, &bytes)?;
        println!("Trame écrite : {}", path.display());
    }

    let report = verify(&store, None).await?;
    if !report.is_ok() {
        bail!("the demo ledger does not verify: {:?}", report.problem);
    }
    let checkpoint = Checkpoint::take(&store, DEMO_CHECKPOINT_KEY).await?;
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
    store.close().await;
    Ok(())
}

async fn print_table(ledger: &Ledger, access: &Access) -> anyhow::Result<()> {
    println!(
        "{:<9} {:<40} {:<6} {:>13} {:>11} {:>13} {:>13} {:>7} {:>13} {:>13}  {:<12} {:>6}",
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
        "Alertes"
    );
    for (finess, domain) in ledger.statements(access).await? {
        let view = ledger.statement(access, &finess, domain, None).await?;
        let name: String = view.candidate.name.chars().take(40).collect();
        match &view.subsidy {
            Ok(s) => {
                println!(
                "{:<9} {:<40} {:<6} {:>13} {:>11} {:>13} {:>13} {:>7} {:>13} {:>13}  {:<12} {:>6}",
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
                view.flags.len()
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
