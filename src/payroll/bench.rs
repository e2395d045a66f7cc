//! Benchmark of the payroll import (called by `care-ledger bench payroll`, and by
//! `cargo run --release --example bench_payroll`).
//!
//! A recap of `employees` × `rubriques` in the block layout (one block per employee, one sheet) is
//! generated, then timed three ways, all single-threaded, from the same file:
//! - a raw calamine read (open the workbook from memory, load every sheet's cells);
//! - [`import_bytes`](crate::payroll::import_bytes) (hash, archive check, calamine read, parsing);
//! - a Python openpyxl script (`scripts/bench_payroll_openpyxl.py`: read-only mode, values only, every
//!   cell touched), run with the interpreter of `.venv-bench` made by `scripts/bench-venv.sh`.
//!
//! Targets: import at least 0.5× as fast as the raw calamine read, at least 10× as fast as openpyxl.

use crate::payroll::{import_bytes, Limits, RubriqueRules};
use calamine::{Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct BenchParams {
    pub employees: usize,
    pub rubriques: usize,
    /// Where the generated workbook is written.
    pub work_dir: PathBuf,
    /// Python interpreter with openpyxl; `None` skips that comparison.
    pub python: Option<PathBuf>,
    pub openpyxl_script: PathBuf,
    /// The Rust timings are the best of this many runs.
    pub runs: usize,
}

impl BenchParams {
    /// 10 000 employees × 40 rubriques, files under `target/bench-payroll`, `.venv-bench/bin/python`
    /// when it exists.
    pub fn standard(project_root: &Path) -> BenchParams {
        let python = project_root.join(".venv-bench/bin/python");
        BenchParams {
            employees: 10_000,
            rubriques: 40,
            work_dir: project_root.join("target/bench-payroll"),
            python: python.exists().then_some(python),
            openpyxl_script: project_root.join("scripts/bench_payroll_openpyxl.py"),
            runs: 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub employees: usize,
    pub rubriques: usize,
    pub file_bytes: u64,
    pub rows: usize,
    pub cells: usize,
    pub recaps: usize,
    pub generate: Duration,
    pub calamine_read: Duration,
    pub import: Duration,
    pub openpyxl: Option<Duration>,
    /// Why openpyxl was not measured, when it was not.
    pub openpyxl_note: Option<String>,
    pub build_profile: &'static str,
}

impl BenchReport {
    /// Raw calamine time ÷ import time (target ≥ 0.5).
    pub fn speed_vs_calamine(&self) -> f64 {
        self.calamine_read.as_secs_f64() / self.import.as_secs_f64()
    }

    /// openpyxl time ÷ import time (target ≥ 10).
    pub fn speed_vs_openpyxl(&self) -> Option<f64> {
        self.openpyxl
            .map(|o| o.as_secs_f64() / self.import.as_secs_f64())
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "payroll import benchmark ({} build, single thread)",
            self.build_profile
        )?;
        writeln!(
            f,
            "  file: {} employees × {} rubriques, {} rows, {} non-empty cells, {:.1} MiB xlsx (generated in {:.2} s)",
            self.employees,
            self.rubriques,
            self.rows,
            self.cells,
            self.file_bytes as f64 / 1_048_576.0,
            self.generate.as_secs_f64()
        )?;
        writeln!(
            f,
            "  raw calamine read : {:>8.3} s",
            self.calamine_read.as_secs_f64()
        )?;
        writeln!(
            f,
            "  care-ledger import: {:>8.3} s  ({} recaps)  speed vs calamine {:.2}× (target ≥ 0.5×)",
            self.import.as_secs_f64(),
            self.recaps,
            self.speed_vs_calamine()
        )?;
        match (self.openpyxl, self.speed_vs_openpyxl()) {
            (Some(o), Some(x)) => writeln!(
                f,
                "  openpyxl (read-only, values only): {:>8.3} s  speed of import vs openpyxl {:.1}× (target ≥ 10×)",
                o.as_secs_f64(),
                x
            ),
            _ => writeln!(
                f,
                "  openpyxl: not measured ({})",
                self.openpyxl_note.as_deref().unwrap_or("no interpreter")
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("génération du classeur : {0}")]
    Generate(#[from] XlsxError),
    #[error("entrée/sortie : {0}")]
    Io(#[from] std::io::Error),
    #[error("lecture calamine : {0}")]
    Calamine(String),
    #[error("import : {0}")]
    Import(#[from] crate::payroll::PayrollError),
}

/// Writes the benchmark recap: per employee 3 title lines, the header, `rubriques` lines (a fifth of
/// them gross, the rest contributions), the two total rows and a blank row. Returns (rows, cells).
pub fn write_bench_workbook(
    path: &Path,
    employees: usize,
    rubriques: usize,
) -> Result<(usize, usize), XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("Recap")?;
    let bold = Format::new().set_bold();
    let header = [
        "RUBRIQUES",
        "NB SALARIE",
        "REMUNERATION",
        "BASE",
        "TX SAL.",
        "SALARIAL",
        "TX PAT.",
        "PATRONAL",
    ];
    let gross_count = (rubriques / 5).max(1);
    let mut row: u32 = 0;
    let mut cells = 0usize;
    for e in 0..employees {
        ws.write_string(row, 0, "Récapitulatif de paie")?;
        ws.write_string(row + 1, 0, "Période de 01/01/2024 au 31/12/2024")?;
        ws.write_string(row + 2, 0, format!("Salarié(s) de M{e:06}"))?;
        row += 3;
        for (c, h) in header.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, *h, &bold)?;
        }
        cells += 3 + header.len();
        row += 1;
        let mut gross_cents: i64 = 0;
        for g in 0..gross_count {
            let cents = 100_000 + (e as i64 % 997) * 13 + g as i64 * 1_234;
            gross_cents += cents;
            ws.write_string(row, 0, format!("{:04} Rubrique brute {g}", 100 + g))?;
            ws.write_number(row, 1, 1.0)?;
            ws.write_number(row, 2, cents as f64 / 100.0)?;
            ws.write_number(row, 3, 151.67)?;
            cells += 4;
            row += 1;
        }
        ws.write_string(row, 0, "Total Heure / Brut")?;
        ws.write_number(row, 1, 1820.04)?;
        ws.write_number(row, 2, gross_cents as f64 / 100.0)?;
        cells += 3;
        row += 1;
        let (mut sal_total, mut pat_total) = (0i64, 0i64);
        for k in 0..rubriques - gross_count {
            let sal = 1_000 + (k as i64 * 37 + e as i64) % 5_000;
            let pat = 2_000 + (k as i64 * 53 + e as i64) % 7_000;
            sal_total += sal;
            pat_total += pat;
            ws.write_string(row, 0, format!("{:04} Cotisation {k}", 2000 + k))?;
            ws.write_number(row, 1, 1.0)?;
            ws.write_number(row, 3, gross_cents as f64 / 100.0)?;
            ws.write_number(row, 4, 2.4)?;
            ws.write_number(row, 5, sal as f64 / 100.0)?;
            ws.write_number(row, 6, 4.05)?;
            ws.write_number(row, 7, pat as f64 / 100.0)?;
            cells += 7;
            row += 1;
        }
        ws.write_string(row, 0, "Total Retenus")?;
        ws.write_number(row, 5, sal_total as f64 / 100.0)?;
        ws.write_number(row, 7, pat_total as f64 / 100.0)?;
        cells += 3;
        row += 2;
    }
    wb.save(path)?;
    Ok((row as usize, cells))
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    (best, last.expect("at least one run"))
}

pub fn run_bench(params: &BenchParams) -> Result<BenchReport, BenchError> {
    std::fs::create_dir_all(&params.work_dir)?;
    let path = params.work_dir.join(format!(
        "recap_{}x{}.xlsx",
        params.employees, params.rubriques
    ));
    let start = Instant::now();
    let (rows, cells) = write_bench_workbook(&path, params.employees, params.rubriques)?;
    let generate = start.elapsed();
    let bytes = std::fs::read(&path)?;

    let (calamine_read, loaded) = best_of(params.runs, || -> Result<usize, BenchError> {
        let mut wb: Xlsx<_> =
            Xlsx::new(Cursor::new(&bytes[..])).map_err(|e| BenchError::Calamine(e.to_string()))?;
        let mut n = 0;
        for name in wb.sheet_names() {
            let range = wb
                .worksheet_range(&name)
                .map_err(|e| BenchError::Calamine(e.to_string()))?;
            n += range.height();
        }
        Ok(n)
    });
    loaded?;

    let rules = RubriqueRules::load_default();
    let limits = Limits::default();
    let (import, imported) = best_of(params.runs, || {
        import_bytes("bench.xlsx", &bytes, &rules, &limits)
    });
    let imported = imported?;

    let (openpyxl, openpyxl_note) = match &params.python {
        None => (
            None,
            Some("no .venv-bench: run scripts/bench-venv.sh".to_string()),
        ),
        Some(python) => match run_openpyxl(python, &params.openpyxl_script, &path) {
            Ok(d) => (Some(d), None),
            Err(e) => (None, Some(e)),
        },
    };

    Ok(BenchReport {
        employees: params.employees,
        rubriques: params.rubriques,
        file_bytes: bytes.len() as u64,
        rows,
        cells,
        recaps: imported.recaps.len(),
        generate,
        calamine_read,
        import,
        openpyxl,
        openpyxl_note,
        build_profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    })
}

/// Runs the openpyxl script, which prints the seconds it spent reading (interpreter start excluded).
fn run_openpyxl(python: &Path, script: &Path, file: &Path) -> Result<Duration, String> {
    let output = std::process::Command::new(python)
        .arg(script)
        .arg(file)
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let seconds: f64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("seconds="))
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("unexpected output: {stdout}"))?;
    Ok(Duration::from_secs_f64(seconds))
}
