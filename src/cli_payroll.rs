//! Command-line payroll operations: import recaps and the anonymisation key, list the recaps, declare
//! an internal cost line from a recap.

use crate::app::payroll_service::PayrollLineInput;
use crate::app::{Access, Ledger, RequestMeta};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::{DomainId, Finess};
use crate::store::EventStore;
use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ImportPayrollArgs {
    /// A payroll recap: .xlsx, .xls, .ods or .csv.
    pub file: PathBuf,
    #[arg(long)]
    pub candidate: String,
    /// The domain the recaps justify (recorded for the candidate, used by every statement).
    #[arg(long, default_value = "D1bis")]
    pub domain: String,
    #[arg(long = "as", value_name = "ROLE:ID")]
    pub actor: String,
    /// Read and report, append nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// List every employee even for a large file (by default, above 50 employees, warnings are
    /// summed up by code).
    #[arg(long)]
    pub detail: bool,
}

#[derive(Debug, Subcommand)]
pub enum PayrollCmd {
    /// Imports the anonymisation key (table de passage: pseudonym ; matricule).
    ImportKey {
        file: PathBuf,
        #[arg(long)]
        candidate: String,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
    },
    /// Lists a candidate's imported recaps.
    List {
        #[arg(long)]
        candidate: String,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
    },
    /// Declares an internal cost line whose gross, charges and non-eligible gross come from a recap
    /// (the full-year equivalent for a part-year recap, with its computation shown).
    Declare {
        #[arg(long)]
        candidate: String,
        #[arg(long)]
        domain: String,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
        #[arg(long)]
        matricule: String,
        /// Year of the recap to use.
        #[arg(long)]
        recap_year: i32,
        /// Year of the template column the line is declared in.
        #[arg(long)]
        year: String,
        #[arg(long)]
        objective: String,
        #[arg(long)]
        contribution: String,
        #[arg(long)]
        hours_productive: String,
        #[arg(long)]
        hours: String,
        #[arg(long, default_value = "")]
        line_id: String,
    },
}

async fn open_ledger(config: &Config) -> anyhow::Result<Ledger> {
    let store = EventStore::open(&config.database_url, Arc::new(SystemClock)).await?;
    let (catalogue, _) = crate::demo::load_catalogue(&config.catalogue_dir)?;
    Ok(Ledger::open(store, catalogue).await?)
}

fn access(actor: &str, finess: &Finess) -> anyhow::Result<Access> {
    let actor = crate::cli::parse_actor(actor)?;
    let bound = (actor.role == crate::actor::Role::Etablissement).then(|| finess.clone());
    Ok(Access::new(actor, bound))
}

fn request() -> RequestMeta {
    RequestMeta::new(format!("cli-{}", uuid::Uuid::new_v4()))
}

pub async fn import_payroll(config: &Config, args: ImportPayrollArgs) -> anyhow::Result<()> {
    let finess = Finess::parse(&args.candidate).map_err(|e| anyhow!("--candidate: {e}"))?;
    DomainId::parse(&args.domain).map_err(|e| anyhow!("--domain: {e}"))?;
    let access = access(&args.actor, &finess)?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let ledger = open_ledger(config).await?;
    // A progress line counting employees (read, then recorded), refreshed while the import runs.
    let counters = crate::app::payroll_service::ImportProgress::default();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("lecture de {name}"));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let ticker = {
        let (spinner, counters, name) = (spinner.clone(), counters.clone(), name.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                let read = counters.read.load(std::sync::atomic::Ordering::Relaxed);
                let written = counters.written.load(std::sync::atomic::Ordering::Relaxed);
                spinner.set_message(if read == 0 {
                    format!("lecture de {name}")
                } else {
                    format!("{read} salarié(s) lu(s), {written} enregistré(s)")
                });
            }
        })
    };
    let result = ledger
        .import_payroll_with_progress(
            &access,
            &finess,
            &name,
            bytes,
            args.dry_run,
            &request(),
            &counters,
        )
        .await;
    ticker.abort();
    spinner.finish_and_clear();
    let summary = result?;
    let recaps = &summary.import.recaps;
    println!(
        "{} ({}, sha256 {}) : {} salarié(s)",
        name,
        summary.import.format,
        summary.source_sha256,
        recaps.len()
    );
    let detailed = args.detail || recaps.len() <= DETAIL_UP_TO;
    for recap in recaps.iter().filter(|_| detailed) {
        // The days the recap covers: a leaver is listed up to the exit date, a joiner from the entry.
        let (from, to) = crate::domain::full_year::Coverage::of(
            recap.period_start,
            recap.period_end,
            recap.entry_date,
            recap.exit_date,
        )
        .map_or((recap.period_start, recap.period_end), |c| (c.from, c.to));
        println!(
            "  {:<10} {}  du {} au {}  brut {:>14}  charges patronales {:>14}  non éligible {:>12}",
            recap.matricule,
            recap.year,
            from.format("%d/%m/%Y"),
            to.format("%d/%m/%Y"),
            recap.total_gross.to_french(),
            recap.total_employer_charges.to_french(),
            recap.non_eligible_gross.to_french()
        );
        if let Some(full) = recap.full_year_equivalent() {
            println!(
                "    équivalent année pleine proposé : {}",
                full.computation_fr
            );
        }
        for w in &recap.warnings {
            println!("    avertissement [{}] {}", w.code, w.message_fr);
        }
    }
    for w in &summary.import.warnings {
        println!("  avertissement [{}] {}", w.code, w.message_fr);
    }
    if !detailed {
        // Warnings by code: how many employees, and the first one as an example.
        let mut by_code: std::collections::BTreeMap<&str, (usize, &str)> = Default::default();
        for w in recaps.iter().flat_map(|r| &r.warnings) {
            let entry = by_code
                .entry(w.code.as_str())
                .or_insert((0, w.message_fr.as_str()));
            entry.0 += 1;
        }
        if by_code.is_empty() {
            println!("  aucun avertissement");
        }
        for (code, (count, example)) in by_code {
            println!("  avertissement [{code}] × {count} (par exemple : {example})");
        }
        println!("  détail par salarié : relancer avec --detail");
    }
    if summary.already_imported {
        println!("fichier déjà importé : rien n'est enregistré");
    } else if summary.applied {
        println!("{} récapitulatif(s) enregistré(s)", recaps.len());
    } else {
        println!("simulation : rien n'est enregistré");
    }
    Ok(())
}

/// Up to this many employees, an import lists each one; beyond, warnings are summed up by code.
pub const DETAIL_UP_TO: usize = 50;

pub async fn payroll(config: &Config, cmd: PayrollCmd) -> anyhow::Result<()> {
    let ledger = open_ledger(config).await?;
    match cmd {
        PayrollCmd::ImportKey {
            file,
            candidate,
            actor,
        } => {
            let finess = Finess::parse(&candidate).map_err(|e| anyhow!("--candidate: {e}"))?;
            let access = access(&actor, &finess)?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let summary = ledger
                .import_anonymisation_key(&access, &finess, &name, &bytes, &request())
                .await?;
            if summary.applied {
                println!(
                    "clé d'anonymisation : {} pseudonyme(s) enregistré(s)",
                    summary.pseudonyms
                );
            } else {
                println!("clé d'anonymisation déjà en vigueur : rien n'est enregistré");
            }
        }
        PayrollCmd::List { candidate, actor } => {
            let finess = Finess::parse(&candidate).map_err(|e| anyhow!("--candidate: {e}"))?;
            let access = access(&actor, &finess)?;
            let book = ledger.payroll_book(&access, &finess).await?;
            for ((matricule, year), recap) in &book.recaps {
                println!(
                    "{matricule:<10} {year}  brut {:>14}  charges {:>14}  non éligible {:>12}",
                    recap.total_gross.to_french(),
                    recap.total_employer_charges.to_french(),
                    recap.non_eligible_gross.to_french()
                );
            }
            if let Some(key) = &book.key {
                println!("clé d'anonymisation : {} pseudonyme(s)", key.len());
            }
        }
        PayrollCmd::Declare {
            candidate,
            domain,
            actor,
            matricule,
            recap_year,
            year,
            objective,
            contribution,
            hours_productive,
            hours,
            line_id,
        } => {
            let finess = Finess::parse(&candidate).map_err(|e| anyhow!("--candidate: {e}"))?;
            let domain = DomainId::parse(&domain).map_err(|e| anyhow!("--domain: {e}"))?;
            let access = access(&actor, &finess)?;
            let input = PayrollLineInput {
                matricule,
                recap_year,
                year,
                objective,
                contribution,
                hours_productive,
                hours,
                line_id,
            };
            let outcome = ledger
                .declare_from_recap(&access, &finess, domain, &input, &request())
                .await?;
            println!("{}", outcome.note_fr);
            println!(
                "ligne {} déclarée : charges imputables {} (version {})",
                outcome.line_id,
                outcome.imputable.to_french(),
                outcome.version
            );
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum PaymentsCmd {
    /// Orders every payment due in a domain and writes the batch as CSV and .xlsx; with --reprint or
    /// --as-of, only rewrites past batches from the ledger, ordering nothing.
    Batch {
        #[arg(long)]
        domain: String,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
        /// Output file: FILE.csv and FILE.xlsx are written (an extension given is replaced).
        #[arg(short, long)]
        output: PathBuf,
        /// Rewrite this past batch.
        #[arg(long, conflicts_with = "as_of")]
        reprint: Option<String>,
        /// Rewrite every batch issued up to this date (end of day in Paris) or instant.
        #[arg(long)]
        as_of: Option<String>,
    },
}

fn write_batch(
    output: &std::path::Path,
    batch: &crate::app::batches::PaymentBatch,
    suffix: &str,
) -> anyhow::Result<()> {
    let stem = output.with_extension("");
    let base = format!("{}{suffix}", stem.display());
    let csv = PathBuf::from(format!("{base}.csv"));
    let xlsx = PathBuf::from(format!("{base}.xlsx"));
    crate::cli::write_new_file(&csv, &crate::app::batches::batch_csv(batch))?;
    crate::cli::write_new_file(&xlsx, &crate::app::batches::batch_xlsx(batch)?)?;
    println!(
        "lot {} : {} paiement(s), total {} → {} et {}",
        batch.batch_id,
        batch.lines.len(),
        batch.total().to_french(),
        csv.display(),
        xlsx.display()
    );
    Ok(())
}

pub async fn payments(config: &Config, cmd: PaymentsCmd) -> anyhow::Result<()> {
    let ledger = open_ledger(config).await?;
    match cmd {
        PaymentsCmd::Batch {
            domain,
            actor,
            output,
            reprint,
            as_of,
        } => {
            let domain = DomainId::parse(&domain).map_err(|e| anyhow!("--domain: {e}"))?;
            let access = Access::new(crate::cli::parse_actor(&actor)?, None);
            if reprint.is_some() || as_of.is_some() {
                let as_of = as_of.as_deref().map(crate::cli::parse_as_of).transpose()?;
                let batches = ledger.payment_batches(&access, domain, as_of).await?;
                let chosen: Vec<_> = batches
                    .into_iter()
                    .filter(|b| reprint.as_ref().is_none_or(|id| &b.batch_id == id))
                    .collect();
                if chosen.is_empty() {
                    return Err(anyhow!(
                        "aucun lot de paiement correspondant dans le registre"
                    ));
                }
                let many = chosen.len() > 1;
                for batch in &chosen {
                    let suffix = if many {
                        format!("-{}", batch.batch_id)
                    } else {
                        String::new()
                    };
                    write_batch(&output, batch, &suffix)?;
                }
                println!("réimpression : aucun paiement ordonné");
                return Ok(());
            }
            let batch = ledger
                .issue_payment_batch(&access, domain, &request())
                .await?;
            for (finess, reason) in &batch.skipped {
                println!("  {finess} : non payé — {reason}");
            }
            if batch.lines.is_empty() {
                println!("aucun paiement dû : rien n'est ordonné");
                return Ok(());
            }
            write_batch(&output, &batch, "")?;
        }
    }
    Ok(())
}
