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
//! Targets: read and check at least as fast as the raw calamine read, at least 20× as fast as
//! openpyxl; the whole import of 100 000 employees × 40 rubriques (with `--employees 100000`) in less
//! than 2 GiB of resident memory.

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
    /// Peak resident memory while the file was read and checked (the file's bytes included), KiB.
    pub import_peak_kib: Option<u64>,
    /// The whole import through the ledger (read, check, append in one transaction to a fresh SQLite
    /// ledger) and its peak resident memory, when measured (`care-ledger bench payroll`).
    pub ledger_import: Option<(Duration, Option<u64>)>,
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
            "  care-ledger read + check: {:>8.3} s  ({} recaps)  speed vs calamine {:.2}× (target ≥ 1×), peak memory {}",
            self.import.as_secs_f64(),
            self.recaps,
            self.speed_vs_calamine(),
            mib(self.import_peak_kib)
        )?;
        if let Some((whole, peak)) = self.ledger_import {
            writeln!(
                f,
                "  whole import (read, check, append in one transaction, SQLite): {:>8.3} s, peak memory {} (target < 2 GiB)",
                whole.as_secs_f64(),
                mib(peak)
            )?;
        }
        match (self.openpyxl, self.speed_vs_openpyxl()) {
            (Some(o), Some(x)) => writeln!(
                f,
                "  openpyxl (read-only, values only): {:>8.3} s  speed of read + check vs openpyxl {:.1}× (target ≥ 20×)",
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

fn mib(kib: Option<u64>) -> String {
    kib.map_or("not measured".to_string(), |k| format!("{} MiB", k / 1024))
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
    #[error("import dans le registre : {0}")]
    Ledger(String),
}

/// Employees per sheet of the benchmark recap: a sheet holds at most 1 048 576 rows, and 10 000
/// employees of 40 rubriques take 470 000 (the 100 000-employee recap is ten such sheets).
pub const EMPLOYEES_PER_SHEET: usize = 10_000;

/// Writes the benchmark recap: per employee 3 title lines, the header, `rubriques` lines (a fifth of
/// them gross, the rest contributions), the two total rows and a blank row; [`EMPLOYEES_PER_SHEET`]
/// employees per sheet (« Recap », « Recap 2 », …), written row by row in constant memory. Returns
/// (rows, cells).
pub fn write_bench_workbook(
    path: &Path,
    employees: usize,
    rubriques: usize,
) -> Result<(usize, usize), XlsxError> {
    let mut wb = Workbook::new();
    if let Some(dir) = path.parent() {
        wb.set_tempdir(dir)?;
    }
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
    let mut rows = 0usize;
    let mut cells = 0usize;
    let sheets = employees.div_ceil(EMPLOYEES_PER_SHEET).max(1);
    for sheet in 0..sheets {
        let ws = wb.add_worksheet_with_constant_memory()?;
        ws.set_name(if sheet == 0 {
            "Recap".to_string()
        } else {
            format!("Recap {}", sheet + 1)
        })?;
        let mut row: u32 = 0;
        let first = sheet * EMPLOYEES_PER_SHEET;
        for e in first..employees.min(first + EMPLOYEES_PER_SHEET) {
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
        rows += row as usize;
    }
    wb.save(path)?;
    Ok((rows, cells))
}

/// The process's peak resident memory since the last [`reset_peak_memory`], in KiB (Linux; `None`
/// elsewhere).
pub fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Resets the peak resident memory to the current one (Linux: `5` into `/proc/self/clear_refs`), so
/// that the next [`peak_memory_kib`] is the peak of what ran in between.
pub fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
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

    // Raw calamine: every sheet's cells (it allocates each sheet's whole extent, as it would for
    // any file: fine for this one).
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
    reset_peak_memory();
    let (import, imported) = best_of(params.runs, || {
        import_bytes("bench.xlsx", &bytes, &rules, &limits)
    });
    let import_peak_kib = peak_memory_kib();
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
        import_peak_kib,
        ledger_import: None,
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

/// The whole import of `path` through the ledger, as `import-payroll` runs it: a fresh SQLite ledger
/// seeded as the demo is (catalogue, `fixtures/candidates.csv`), then the file read, checked and
/// appended in one transaction for the Clinique du Parc (840000194). Returns the time of the import
/// alone and the peak resident memory during it (the file's bytes included).
pub async fn ledger_import(path: &Path) -> Result<(Duration, Option<u64>, usize), BenchError> {
    use crate::actor::{Actor, Role};
    use crate::app::{Access, Ledger, RequestMeta};
    let ledger_error = |e: &dyn std::fmt::Display| BenchError::Ledger(e.to_string());
    let dir = tempfile::tempdir()?;
    let url = dir
        .path()
        .join("bench-payroll.db")
        .to_string_lossy()
        .to_string();
    let day =
        chrono::NaiveDate::from_ymd_opt(2026, 10, 1).ok_or(BenchError::Ledger("date".into()))?;
    let clock = crate::clock::FixedClock::at(crate::clock::paris_noon(day));
    let store = crate::store::EventStore::open(&url, std::sync::Arc::new(clock))
        .await
        .map_err(|e| ledger_error(&e))?;
    let fixtures = Path::new("fixtures");
    let (catalogue, files) =
        crate::demo::load_catalogue(&fixtures.join("domains")).map_err(|e| ledger_error(&e))?;
    let ledger = Ledger::open(store, catalogue)
        .await
        .map_err(|e| ledger_error(&e))?;
    let admin = Actor::new(Role::Admin, "bench").map_err(|e| ledger_error(&e))?;
    ledger
        .record_catalogue(&admin, &RequestMeta::new("bench-catalogue"), &files)
        .await
        .map_err(|e| ledger_error(&e))?;
    let candidates = std::fs::read(fixtures.join("candidates.csv"))?;
    ledger
        .import_candidates(
            &admin,
            &RequestMeta::new("bench-candidates"),
            "candidates.csv",
            &candidates,
        )
        .await
        .map_err(|e| ledger_error(&e))?;
    let finess = crate::domain::Finess::parse("840000194").map_err(|e| ledger_error(&e))?;
    let access = Access::new(admin, None);
    let bytes = std::fs::read(path)?;
    reset_peak_memory();
    let start = Instant::now();
    let summary = ledger
        .import_payroll(
            &access,
            &finess,
            "bench.xlsx",
            &bytes,
            false,
            &RequestMeta::new("bench-payroll"),
        )
        .await
        .map_err(|e| ledger_error(&e))?;
    let spent = start.elapsed();
    let peak = peak_memory_kib();
    if !summary.applied {
        return Err(BenchError::Ledger("nothing appended".into()));
    }
    Ok((spent, peak, summary.import.recaps.len()))
}
