//! `care-ledger bench template`: exports generated statements with this module against a Python
//! XlsxWriter script writing the same plan (same cells, formulas, cached results, formats, lists,
//! chart, properties), both single-threaded. Target: ≥ 5× faster.
//!
//! The Rust side is timed from the model (plan + render); the Python side only renders a plan it is
//! handed, so the comparison favours Python. Plans travel as JSON lines in a temporary file that is
//! written before either side is timed.

use super::export::plan_workbook;
use super::model::{TemplateModel, ViewerRole};
use super::plan::{Value, WorkbookPlan};
use super::render::render;
use super::sample::{sample_candidate, SampleStatement};
use crate::domain::candidate::CandidateKind;
use crate::domain::statement::{AttainmentStatus, CostType, ExternalCostLine, Flag, OtherCostLine};
use crate::domain::{Money, ObjectiveCode};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Target of the issue: Rust at least this many times faster than Python's XlsxWriter.
pub const TARGET_SPEEDUP: f64 = 5.0;

#[derive(Debug, Clone, Serialize)]
pub struct BenchFigures {
    pub statements: usize,
    pub lines_each: usize,
    pub cells_per_workbook: usize,
    pub rust_seconds: f64,
    pub rust_workbooks_per_s: f64,
    pub rust_bytes: u64,
    /// None when Python or its XlsxWriter could not be set up (the reason is in `python_note`).
    pub python_seconds: Option<f64>,
    pub python_workbooks_per_s: Option<f64>,
    pub python_bytes: Option<u64>,
    pub speedup: Option<f64>,
    pub python_note: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchTemplateError {
    #[error(transparent)]
    Write(#[from] rust_xlsxwriter::XlsxError),
    #[error("fichier temporaire : {0}")]
    Io(#[from] std::io::Error),
    #[error("sérialisation du plan : {0}")]
    Json(#[from] serde_json::Error),
}

/// Small deterministic generator (xorshift64*), so the bench and the tests are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn cents(&mut self, min: i64, max: i64) -> Money {
        Money::from_cents(min + self.below((max - min) as u64) as i64)
    }
}

/// A generated statement of about `lines` lines (internal, external, other costs and receipts) of the
/// domain, on the sample's catalogue, mapped to the workbook with the domain's figures.
pub fn generate_statement(seed: u64, lines: usize) -> TemplateModel {
    generate_sample(seed, lines).model()
}

/// The domain statement behind [`generate_statement`].
pub fn generate_sample(seed: u64, lines: usize) -> SampleStatement {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let ceiling = rng.cents(5_000_000, 60_000_000);
    let mut s = SampleStatement::opened(sample_candidate(
        "31000002",
        &format!("Établissement généré n° {seed}"),
        CandidateKind::EsPrive,
        ceiling,
    ));
    let objectives: Vec<ObjectiveCode> = s
        .catalogue
        .objectives
        .iter()
        .filter(|o| !o.ght_only)
        .map(|o| o.code.clone())
        .collect();
    let natures: Vec<String> = s
        .catalogue
        .natures
        .iter()
        .filter(|n| n.code != "COUTS_INTERNES")
        .map(|n| n.code.clone())
        .collect();
    let years = s.catalogue.template_years.clone();
    let groups: Vec<String> = s
        .catalogue
        .groups
        .iter()
        .filter(|g| !g.ght_only)
        .map(|g| g.code.to_string())
        .collect();
    let start = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap_or_default();
    let reviewed = start + Duration::days(250);
    let n_internal = lines / 5;
    let n_receipts = (lines / 12).max(1);
    let n_other = lines / 5;
    let n_external = lines.saturating_sub(n_internal + n_receipts + n_other);
    for i in 0..n_internal {
        let year = years[i % years.len().max(1)];
        let gross = rng.cents(3_000_000, 9_000_000);
        let charges = gross.value().mantissa() as i64 * 45 / 100;
        let ne_gross = if rng.below(4) == 0 {
            rng.cents(10_000, 300_000).value().mantissa() as i64
        } else {
            0
        };
        let hp = Decimal::from(1500 + rng.below(200));
        let h = Decimal::new(1000 + rng.below(40000) as i64, 2);
        let line_id = format!("IC-{seed}-{i:04}");
        s.internal(
            &line_id,
            &format!("M{:05}", i / 2),
            year,
            (gross.value().mantissa() as i64, charges, ne_gross),
            hp,
            h,
            objectives[(i / 2) % objectives.len()].as_str(),
            &format!("Contribution du salarié {} à l'objectif", i / 2),
        );
        if rng.below(3) != 0 {
            s.eligible(&line_id, reviewed);
        }
    }
    for i in 0..n_external {
        let amount = rng.cents(10_000, 5_000_000);
        let day = rng.below(300) as i64;
        let line_id = format!("EC-{seed}-{i:04}");
        s.external(
            &line_id,
            ExternalCostLine {
                cost_type: COST_TYPES[i % 2],
                order_date: start + Duration::days(day),
                invoice_date: start + Duration::days(day + 20),
                order_number: format!("BC-{seed}-{i}"),
                invoice_number: format!("F-{}", rng.below(1_000_000)),
                supplier: format!("Prestataire {}", rng.below(40)),
                service_label: format!("Prestation d'accompagnement n° {i}"),
                amount,
                nature: natures[i % 3].clone(),
                objective: objectives[i % objectives.len()].clone(),
                contribution: "Contribution directe à l'objectif".into(),
            },
        );
        match rng.below(4) {
            0 => {}
            1 => s.review(
                &line_id,
                Money::from_cents(amount.value().mantissa() as i64 / 2),
                "Retenu pour moitié",
                reviewed,
            ),
            _ => s.eligible(&line_id, reviewed),
        }
    }
    for i in 0..n_other {
        let amount = rng.cents(5_000, 1_500_000);
        let line_id = format!("OC-{seed}-{i:04}");
        s.other(
            &line_id,
            OtherCostLine {
                cost_type: COST_TYPES[(i + 1) % 2],
                amount,
                date: start + Duration::days(rng.below(300) as i64),
                supplier: format!("Éditeur {}", rng.below(20)),
                label: format!("Licence ou matériel n° {i}"),
                nature: natures[(i % natures.len()).max(2)].clone(),
                objective: objectives[(i * 3) % objectives.len()].clone(),
                contribution: "Outil au service de l'objectif".into(),
            },
        );
        if rng.below(2) != 0 {
            s.eligible(&line_id, reviewed);
        }
    }
    for i in 0..n_receipts {
        let amount = rng.cents(100_000, 2_000_000);
        s.receipt(
            &format!("RC-{seed}-{i:04}"),
            &groups[i % groups.len()],
            "Financement régional",
            amount.value().mantissa() as i64,
        );
    }
    s.order_payment(
        &format!("PAY-{seed}"),
        rng.cents(100_000, 2_000_000).value().mantissa() as i64,
        &format!("OP-{seed}"),
        start + Duration::days(240),
    );
    let first_invoice = s
        .statement
        .lines_in_order()
        .into_iter()
        .find(|l| {
            matches!(
                l.content,
                crate::domain::statement::LineContent::External(_)
            )
        })
        .map(|l| l.id.clone());
    s.flags = vec![Flag {
        code: "FACTURE_AVANT_COMMANDE",
        message_fr: "Facture antérieure au bon de commande".into(),
        values: Default::default(),
        line_id: first_invoice,
        controller_only: false,
    }];
    let missed: Vec<(String, bool)> = objectives
        .iter()
        .map(|o| (o.to_string(), rng.below(4) == 0))
        .collect();
    let except: Vec<(&str, AttainmentStatus, Option<Decimal>, &str)> = missed
        .iter()
        .filter(|(_, m)| *m)
        .map(|(code, _)| {
            (
                code.as_str(),
                AttainmentStatus::NotAttained,
                None,
                "objectif non atteint",
            )
        })
        .collect();
    s.attain_all_except(&except);
    s.ledger_position = seed * 1000;
    s.viewer = if seed.is_multiple_of(2) {
        ViewerRole::Controller
    } else {
        ViewerRole::Establishment
    };
    s
}

const COST_TYPES: [CostType; 2] = [CostType::Investissement, CostType::Recurrent];

/// Compact, writer-neutral form of a plan for the Python script: cells as
/// `[row, col, style index, kind, value, cached result]`.
fn plan_json(plan: &WorkbookPlan) -> serde_json::Value {
    let sheets: Vec<_> = plan
        .sheets
        .iter()
        .map(|s| {
            let cells: Vec<_> = s
                .cells
                .iter()
                .map(|c| {
                    let style = c.style.index();
                    match &c.value {
                        Value::Text(t) => json!([c.row, c.col, style, "T", t]),
                        Value::Number(n) => json!([c.row, c.col, style, "N", n]),
                        Value::Date(d) => json!([c.row, c.col, style, "D", d.to_string()]),
                        Value::Formula { formula, result } => {
                            json!([c.row, c.col, style, "F", formula, result])
                        }
                        Value::Blank => json!([c.row, c.col, style, "B"]),
                    }
                })
                .collect();
            json!({
                "name": s.name,
                "cells": cells,
                "columns": s.columns,
                "freeze": s.freeze,
                "validations": s.validations,
                "chart": s.chart,
                "hidden": s.hidden,
                "protect": s.protect,
            })
        })
        .collect();
    json!({
        "sheets": sheets,
        "properties": plan.properties,
        "defined_names": plan.defined_names,
    })
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The virtual environment's Python with XlsxWriter, created by scripts/bench-venv-template.sh.
fn bench_python() -> Result<PathBuf, String> {
    let script = repo_root().join("scripts/bench-venv-template.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "création de l'environnement Python impossible : {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let path = String::from_utf8_lossy(&out.stdout)
        .trim()
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    if path.is_empty() {
        return Err("scripts/bench-venv-template.sh n'a pas donné de Python".into());
    }
    Ok(PathBuf::from(path))
}

fn run_python(python: &Path, plans: &Path) -> Result<(f64, u64), String> {
    let script = repo_root().join("scripts/bench_template_xlsxwriter.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(plans)
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "le script Python a échoué : {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let figures: serde_json::Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| format!("sortie du script Python illisible : {stdout}"))?;
    Ok((
        figures["seconds"].as_f64().unwrap_or(f64::NAN),
        figures["bytes"].as_u64().unwrap_or(0),
    ))
}

/// Runs the bench: `statements` generated statements of about `lines_each` lines each.
pub fn run_bench(statements: usize, lines_each: usize) -> Result<BenchFigures, BenchTemplateError> {
    let models: Vec<TemplateModel> = (0..statements)
        .map(|i| generate_statement(i as u64 + 1, lines_each))
        .collect();
    let cells_per_workbook = models
        .first()
        .map(|m| plan_workbook(m).sheets.iter().map(|s| s.cells.len()).sum())
        .unwrap_or(0);

    // Rust: model → plan → .xlsx bytes, one thread.
    let started = Instant::now();
    let mut rust_bytes = 0u64;
    for m in &models {
        rust_bytes += render(&plan_workbook(m))?.len() as u64;
    }
    let rust_seconds = started.elapsed().as_secs_f64();

    // Python: the same plans, rendered by XlsxWriter.
    let dir = tempfile::tempdir()?;
    let plans_path = dir.path().join("plans.jsonl");
    {
        let mut w = BufWriter::new(std::fs::File::create(&plans_path)?);
        for m in &models {
            serde_json::to_writer(&mut w, &plan_json(&plan_workbook(m)))?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    drop(models);
    let python = bench_python().and_then(|p| run_python(&p, &plans_path));
    let (python_seconds, python_bytes, python_note) = match python {
        Ok((s, b)) => (
            Some(s),
            Some(b),
            "XlsxWriter (Python), même plan, un seul fil".to_string(),
        ),
        Err(note) => (None, None, note),
    };
    Ok(BenchFigures {
        statements,
        lines_each,
        cells_per_workbook,
        rust_seconds,
        rust_workbooks_per_s: statements as f64 / rust_seconds.max(1e-9),
        rust_bytes,
        python_seconds,
        python_workbooks_per_s: python_seconds.map(|s| statements as f64 / s.max(1e-9)),
        python_bytes,
        speedup: python_seconds.map(|s| s / rust_seconds.max(1e-9)),
        python_note,
    })
}
