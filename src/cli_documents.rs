//! Supporting documents on the command line: attach a file to a line or an objective, list a
//! statement's documents with its checklist, write a document back to a file.

use crate::app::DocumentUpload;
use crate::cli_ops::{access_for, open_ledger, parse_target, request, Target};
use crate::config::Config;
use crate::domain::statement::{ChecklistEntry, DocumentChecklist};
use anyhow::{anyhow, Context};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum DocumentsCmd {
    /// Attaches a file (PDF, image, spreadsheet, office document, text) to a line or an objective.
    Attach {
        file: PathBuf,
        #[command(flatten)]
        target: Target,
        /// Document kind code of the catalogue (e.g. FACTURE, RECAP_PAIE, D1O3_RAPPORT_EXERCICE, AUTRE).
        #[arg(long)]
        kind: String,
        /// The line it justifies…
        #[arg(long, default_value = "")]
        line: String,
        /// …or the objective.
        #[arg(long, default_value = "")]
        objective: String,
        /// The document it replaces (DOC-nnnn), which stays on file, superseded.
        #[arg(long, default_value = "")]
        replaces: String,
        #[arg(long = "note", default_value = "")]
        note: String,
    },
    /// Lists a statement's documents and its checklist (what is provided, what is missing).
    List {
        #[arg(long)]
        candidate: String,
        #[arg(long)]
        domain: String,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
        /// A date (end of that day in Paris) or an RFC 3339 instant.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Writes one document's file.
    Get {
        /// DOC-nnnn
        document: String,
        #[arg(long)]
        candidate: String,
        #[arg(long)]
        domain: String,
        #[arg(long = "as", value_name = "ROLE:ID")]
        actor: String,
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Largest file read for an attachment (the domain's own limit is checked again by the service).
const MAX_READ_BYTES: u64 = crate::domain::statement::documents::MAX_DOCUMENT_BYTES;

pub async fn documents(config: &Config, cmd: DocumentsCmd) -> anyhow::Result<()> {
    let ledger = open_ledger(config).await?;
    match cmd {
        DocumentsCmd::Attach {
            file,
            target,
            kind,
            line,
            objective,
            replaces,
            note,
        } => {
            let (finess, domain) = parse_target(&target.candidate, &target.domain)?;
            let access = access_for(&target.actor, &finess)?;
            let size = std::fs::metadata(&file)
                .with_context(|| format!("cannot read {}", file.display()))?
                .len();
            if size > MAX_READ_BYTES {
                return Err(anyhow!(
                    "{} : {size} octets, au plus {MAX_READ_BYTES} par pièce",
                    file.display()
                ));
            }
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let (version, document) = ledger
                .attach_document(
                    &access,
                    &finess,
                    domain,
                    DocumentUpload {
                        file_name,
                        bytes,
                        kind,
                        line_id: line,
                        objective,
                        replaces,
                        comment: note,
                    },
                    &request(&target),
                )
                .await?;
            println!(
                "{} jointe : {} ({}, {} octets, sha256 {}) → {}{} (état financier {finess} {domain}, version {version})",
                document.id,
                document.file_name,
                document.kind,
                document.size_bytes,
                document.sha256,
                document.target,
                document
                    .replaces
                    .as_ref()
                    .map(|r| format!(", remplace {r}"))
                    .unwrap_or_default()
            );
        }
        DocumentsCmd::List {
            candidate,
            domain,
            actor,
            as_of,
            json,
        } => {
            let (finess, domain) = parse_target(&candidate, &domain)?;
            let access = access_for(&actor, &finess)?;
            let as_of = as_of.as_deref().map(crate::cli::parse_as_of).transpose()?;
            let view = ledger.documents(&access, &finess, domain, as_of).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
                return Ok(());
            }
            println!(
                "Pièces justificatives {finess} {domain} (version {}) :",
                view.version
            );
            if view.documents.is_empty() {
                println!("  aucune");
            }
            for d in &view.documents {
                println!(
                    "  {:<9} {:<28} {:<36} {:>10} o  {}  {}{}",
                    d.id.as_str(),
                    d.kind,
                    d.file_name,
                    d.size_bytes,
                    d.attached_on.format("%d/%m/%Y"),
                    d.target,
                    d.superseded_by
                        .as_ref()
                        .map(|s| format!("  (remplacée par {s})"))
                        .unwrap_or_default()
                );
            }
            print_checklist(&view.checklist);
        }
        DocumentsCmd::Get {
            document,
            candidate,
            domain,
            actor,
            output,
        } => {
            let (finess, domain) = parse_target(&candidate, &domain)?;
            let access = access_for(&actor, &finess)?;
            let (doc, bytes) = ledger
                .document_file(&access, &finess, domain, &document)
                .await?;
            crate::cli::write_new_file(&output, &bytes)?;
            println!(
                "{} ({}, sha256 {} vérifié) écrite dans {}",
                doc.id,
                doc.file_name,
                doc.sha256,
                output.display()
            );
        }
    }
    Ok(())
}

/// The checklist: each objective and line with what is provided and what is missing.
pub fn print_checklist(checklist: &DocumentChecklist) {
    println!(
        "Liste de contrôle des pièces : {} pièce(s) obligatoire(s) manquante(s)",
        checklist.missing_required
    );
    let entry = |e: &ChecklistEntry| {
        println!("  {} {}", if e.complete { "✓" } else { "✗" }, e.label);
        for item in &e.items {
            let state = item.state_fr();
            println!("      {:<34} {state}", item.kind);
        }
    };
    for e in &checklist.objectives {
        entry(e);
    }
    for e in &checklist.lines {
        entry(e);
    }
}
