//! The command line: every operation, each taking `--as ROLE:ID` where it appends (SPEC.md §1).

use crate::actor::Actor;
use crate::clock::{end_of_paris_day, Clock, SystemClock};
use crate::config::Config;
use crate::store::verify::verify;
use crate::store::{EventStore, ReadBound};
use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "care-ledger",
    version,
    about = "Registre des états financiers et paiements CaRE"
)]
pub struct Cli {
    /// Database: a SQLite file (default care-ledger.db), sqlite://… or postgres://…
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// Configuration file (default: care-ledger.toml when present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Recompute every hash chain; with --checkpoint also detect truncation and recomputed history.
    Verify {
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Clé publique de confiance (PEM) d'un checkpoint Ed25519 ; par défaut celle de la clé
        /// privée configurée.
        #[arg(long = "public-key", value_name = "FICHIER")]
        public_key: Vec<PathBuf>,
    },
    /// Print the head hashes signed with the configured Ed25519 key (signing_key_file), or with the
    /// HMAC key (CARE_LEDGER_CHECKPOINT_KEY) when no signing key is configured.
    Checkpoint {
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print one stream's events as JSON lines.
    Events {
        stream: String,
        /// A date (end of that day in Paris) or an RFC 3339 instant.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long)]
        up_to_version: Option<i64>,
    },
    /// The main job: a fresh SQLite ledger with the fixtures, at a pinned date.
    Demo {
        /// Folder for the database and the reports.
        #[arg(long, default_value = "reports")]
        out: PathBuf,
    },
    /// The programme catalogue in force.
    Catalogue {
        #[command(subcommand)]
        cmd: crate::cli_ops::CatalogueCmd,
    },
    /// The candidate base.
    Candidates {
        #[command(subcommand)]
        cmd: crate::cli_ops::CandidatesCmd,
    },
    /// Financial statements: open, declare, correct, withdraw, attainment, submit, reopen, show.
    Statement {
        #[command(subcommand)]
        cmd: Box<crate::cli_ops::StatementCmd>,
    },
    /// Serve the HTTP API (default 127.0.0.1:8080, see `bind` in the configuration).
    Serve {
        /// Address to bind, overriding the configuration (e.g. 127.0.0.1:0 for any free port).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Manage API tokens (stored as hashes; creation and revocation recorded on the stream `tokens`).
    Token {
        #[command(subcommand)]
        what: TokenCommand,
    },
    /// Writes a statement's Excel template (trame de l'état financier).
    Export(crate::cli_ops::ExportArgs),
    /// Imports a filled template: added lines declared, changed lines corrected, cleared lines withdrawn.
    ImportTemplate(crate::cli_ops::ImportTemplateArgs),
    /// Imports a payroll recap file (récapitulatif de paie) for a candidate.
    ImportPayroll(crate::cli_payroll::ImportPayrollArgs),
    /// Payroll documents: anonymisation key, list, declare a line from a recap.
    Payroll {
        #[command(subcommand)]
        cmd: crate::cli_payroll::PayrollCmd,
    },
    /// Supporting documents: attach, list with the checklist, get a file back.
    Documents {
        #[command(subcommand)]
        cmd: crate::cli_documents::DocumentsCmd,
    },
    /// Payment desk: batches of payments.
    Payments {
        #[command(subcommand)]
        cmd: crate::cli_payroll::PaymentsCmd,
    },
    /// Clés Ed25519 du service (keys generate).
    Keys {
        #[command(subcommand)]
        cmd: crate::cli_proof::KeysCmd,
    },
    /// Vérifie un classeur exporté : sa signature, et s'il montre les chiffres du registre à sa
    /// position (chaque cellule qui diffère listée). Exemple : care-ledger verify-export trame.xlsx
    VerifyExport(crate::cli_proof::VerifyExportArgs),
    /// Benchmarks that print their figures.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create {
        /// etablissement, controleur, paiement or admin.
        #[arg(long)]
        role: String,
        /// The candidate's FINESS (required for etablissement).
        #[arg(long)]
        candidate: Option<String>,
        /// Who holds it.
        #[arg(long)]
        label: Option<String>,
        /// When it expires: a date AAAA-MM-JJ (valid until the end of that day, Paris time) or a
        /// number of days (90). Without it the token does not expire.
        #[arg(long, value_name = "DATE|JOURS")]
        expires: Option<String>,
        /// Who creates it (recorded in the event).
        #[arg(long = "as", default_value = "admin:cli")]
        actor: String,
    },
    /// Revoke a token by its id.
    Revoke {
        id: String,
        #[arg(long = "as", default_value = "admin:cli")]
        actor: String,
    },
    /// List tokens (never their secrets).
    List,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Append and replay throughput against the raw driver, on SQLite and (with --postgres) PostgreSQL.
    Store {
        #[arg(long, default_value_t = 100_000)]
        append_events: u64,
        #[arg(long, default_value_t = 100)]
        batch: u64,
        #[arg(long, default_value_t = 1_000_000)]
        replay_events: u64,
        /// An administrative PostgreSQL URL (a scratch database is created under it and dropped).
        #[arg(long, env = "TEST_DATABASE_URL")]
        postgres: Option<String>,
    },
    /// The HTTP service under load on loopback: GET of a statement (req/s, p50, p99) and concurrent
    /// declarations (appends/s, p50, p99, then verify and exactly-once checks), on SQLite and (with
    /// --postgres) PostgreSQL.
    Http {
        /// Concurrent connections of the GET load.
        #[arg(long, default_value_t = 16)]
        get_connections: usize,
        /// Concurrent connections of the POST load.
        #[arg(long, default_value_t = 64)]
        post_connections: usize,
        /// Statements the POST load is spread over.
        #[arg(long, default_value_t = 16)]
        statements: usize,
        /// Lines of the statement the GET load reads.
        #[arg(long, default_value_t = 50)]
        lines: usize,
        /// Measured seconds of each load (after a one-second warm-up).
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// An administrative PostgreSQL URL (a scratch database is created under it and dropped).
        #[arg(long, env = "TEST_DATABASE_URL")]
        postgres: Option<String>,
    },
    /// Payroll import of a generated recap (10 000 employees × 40 rubriques by default; 100 000 with
    /// --employees 100000) against raw calamine and openpyxl (run scripts/bench-venv.sh first for the
    /// openpyxl figure), then the whole import into a fresh SQLite ledger with its peak memory.
    Payroll {
        #[arg(long, default_value_t = 10_000)]
        employees: usize,
        #[arg(long, default_value_t = 40)]
        rubriques: usize,
        /// Best of this many runs for the read timings.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Export of generated statements against Python XlsxWriter
    /// (run scripts/bench-venv-template.sh first for the Python figure).
    Template {
        #[arg(long, default_value_t = 3_000)]
        statements: usize,
        #[arg(long, default_value_t = 50)]
        lines: usize,
    },
}

/// Parses `--as-of`: a calendar date is the end of that day in Paris (SPEC.md §0).
pub fn parse_as_of(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(end_of_paris_day(date));
    }
    DateTime::parse_from_rfc3339(text.trim())
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            anyhow!("--as-of \"{text}\": attendu une date AAAA-MM-JJ ou un instant RFC 3339")
        })
}

pub fn parse_actor(text: &str) -> anyhow::Result<Actor> {
    Actor::parse(text).map_err(|e| anyhow!("--as {text}: {e}"))
}

async fn open_store(config: &Config) -> anyhow::Result<EventStore> {
    EventStore::open(&config.database_url, Arc::new(SystemClock))
        .await
        .with_context(|| {
            format!(
                "cannot open the ledger {}",
                crate::store::redact(&config.database_url)
            )
        })
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = &cli.database {
        config.database_url = url.clone();
    }
    match cli.command {
        Command::Verify {
            checkpoint,
            public_key,
        } => {
            let store = open_store(&config).await?;
            let checkpoint = match checkpoint {
                Some(path) => Some(crate::cli_proof::read_checkpoint(
                    &path,
                    &config,
                    &public_key,
                )?),
                None => None,
            };
            let report = verify(&store, checkpoint.as_ref()).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            match &report.problem {
                None => {
                    eprintln!(
                        "OK: {} events in {} streams, head {} {}; {} document contents",
                        report.events_checked,
                        report.streams,
                        report.head_position,
                        report.head_hash,
                        report.documents_checked
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some(problem)
                    if problem.kind == crate::store::verify::ProblemKind::DocumentAltered =>
                {
                    eprintln!("ALTERED: {}", problem.detail);
                    Ok(ExitCode::from(2))
                }
                Some(problem) => {
                    eprintln!(
                        "ALTERED: {:?} at position {}{}: {}",
                        problem.kind,
                        problem.position,
                        problem
                            .stream_id
                            .as_ref()
                            .map(|s| format!(
                                " (stream {s} v{})",
                                problem.stream_version.unwrap_or(0)
                            ))
                            .unwrap_or_default(),
                        problem.detail
                    );
                    Ok(ExitCode::from(2))
                }
            }
        }
        Command::Checkpoint { output } => {
            let store = open_store(&config).await?;
            let checkpoint = crate::cli_proof::take_checkpoint(&store, &config).await?;
            match output {
                Some(path) => {
                    write_new_file(&path, checkpoint.to_json().as_bytes())?;
                    eprintln!(
                        "checkpoint at position {} written to {}",
                        checkpoint.global_position,
                        path.display()
                    );
                }
                None => println!("{}", checkpoint.to_json()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Events {
            stream,
            as_of,
            up_to_version,
        } => {
            let store = open_store(&config).await?;
            let bound = ReadBound {
                up_to_version,
                as_of: as_of.as_deref().map(parse_as_of).transpose()?,
            };
            for event in store.read_stream(&stream, bound).await? {
                let mut value = serde_json::to_value(&event)?;
                value["payload"] = event.payload_json()?;
                value["recorded_at"] = serde_json::Value::String(event.recorded_at().to_rfc3339());
                println!("{}", serde_json::to_string(&value)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalogue { cmd } => {
            crate::cli_ops::catalogue(&config, cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Candidates { cmd } => {
            crate::cli_ops::candidates(&config, cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Statement { cmd } => {
            crate::cli_ops::statement(&config, *cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(args) => {
            crate::cli_ops::export(&config, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ImportTemplate(args) => {
            crate::cli_ops::import_template(&config, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ImportPayroll(args) => {
            crate::cli_payroll::import_payroll(&config, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Payroll { cmd } => {
            crate::cli_payroll::payroll(&config, cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Documents { cmd } => {
            crate::cli_documents::documents(&config, cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Payments { cmd } => {
            crate::cli_payroll::payments(&config, cmd).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys { cmd } => {
            crate::cli_proof::keys(cmd)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyExport(args) => crate::cli_proof::verify_export(&config, args).await,
        Command::Demo { out } => {
            crate::demo::run(&out).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { bind } => {
            if let Some(bind) = bind {
                config.bind = bind;
            }
            crate::http::serve(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { what } => {
            let store = open_store(&config).await?;
            let result = crate::http::tokens::run_cli(&store, what).await;
            store.close().await;
            result?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what } => match what {
            BenchCommand::Store {
                append_events,
                batch,
                replay_events,
                postgres,
            } => {
                bench_store_cli(append_events, batch, replay_events, postgres).await?;
                Ok(ExitCode::SUCCESS)
            }
            BenchCommand::Http {
                get_connections,
                post_connections,
                statements,
                lines,
                seconds,
                postgres,
            } => {
                let params = crate::bench_http::HttpBenchParams {
                    get_connections,
                    post_connections,
                    post_statements: statements,
                    seconds,
                    lines,
                    ..crate::bench_http::HttpBenchParams::default()
                };
                bench_http_cli(&params, postgres).await?;
                Ok(ExitCode::SUCCESS)
            }
            BenchCommand::Payroll {
                employees,
                rubriques,
                runs,
            } => {
                let mut params =
                    crate::payroll::bench::BenchParams::standard(std::path::Path::new("."));
                params.employees = employees;
                params.rubriques = rubriques;
                params.runs = runs;
                let mut report = crate::payroll::bench::run_bench(&params)?;
                let file = params
                    .work_dir
                    .join(format!("recap_{employees}x{rubriques}.xlsx"));
                let (spent, peak, _) = crate::payroll::bench::ledger_import(&file).await?;
                report.ledger_import = Some((spent, peak));
                println!("{report}");
                Ok(ExitCode::SUCCESS)
            }
            BenchCommand::Template { statements, lines } => {
                let figures = crate::template::bench::run_bench(statements, lines)?;
                println!(
                    "template export: {} statements × {} lines ({} cells each): Rust {:.1} workbooks/s ({:.2} s)",
                    figures.statements,
                    figures.lines_each,
                    figures.cells_per_workbook,
                    figures.rust_workbooks_per_s,
                    figures.rust_seconds
                );
                match figures.speedup {
                    Some(s) => println!(
                        "Python XlsxWriter {:.1} workbooks/s: Rust is {s:.2}× faster (target ≥ {}×) {}",
                        figures.python_workbooks_per_s.unwrap_or_default(),
                        crate::template::bench::TARGET_SPEEDUP,
                        if s >= crate::template::bench::TARGET_SPEEDUP { "OK" } else { "BELOW TARGET" }
                    ),
                    None => println!("Python side not run: {}", figures.python_note),
                }
                Ok(ExitCode::SUCCESS)
            }
        },
    }
}

/// Writes a file atomically: a temporary file beside it, then a rename (nothing half written),
/// readable by its owner only.
pub fn write_new_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    let file = tmp
        .persist(path)
        .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
    // Owner only: workbooks, batches, reports and checkpoints hold salaries or payments.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    drop(file);
    Ok(())
}

async fn bench_store_cli(
    append_events: u64,
    batch: u64,
    replay_events: u64,
    postgres: Option<String>,
) -> anyhow::Result<()> {
    if batch == 0 || append_events == 0 {
        bail!("--batch and --append-events must be positive");
    }
    let dir = tempfile::tempdir()?;
    let mut n = 0;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let figures = crate::bench::bench_store(
        "sqlite",
        || {
            n += 1;
            let url = dir
                .path()
                .join(format!("bench-{n}.db"))
                .to_string_lossy()
                .to_string();
            let clock = clock.clone();
            async move { Ok(EventStore::open(&url, clock).await?) }
        },
        append_events,
        batch,
        replay_events,
    )
    .await?;
    figures.print();
    match postgres {
        None => println!("postgres  skipped: no --postgres URL and TEST_DATABASE_URL unset"),
        Some(admin) => {
            let mut created = Vec::new();
            let result = crate::bench::bench_store(
                "postgres",
                || {
                    let db = format!("cl_bench_{}", uuid::Uuid::new_v4().simple());
                    created.push(db.clone());
                    let admin = admin.clone();
                    let clock = clock.clone();
                    async move {
                        pg_admin(&admin, &format!("CREATE DATABASE {db}")).await?;
                        Ok(EventStore::open(&replace_db(&admin, &db), clock).await?)
                    }
                },
                append_events,
                batch,
                replay_events,
            )
            .await;
            for db in &created {
                pg_admin(
                    &admin,
                    &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                )
                .await
                .ok();
            }
            result?.print();
        }
    }
    Ok(())
}

async fn bench_http_cli(
    params: &crate::bench_http::HttpBenchParams,
    postgres: Option<String>,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = dir
        .path()
        .join("bench-http.db")
        .to_string_lossy()
        .to_string();
    crate::bench_http::run("sqlite", &url, params)
        .await?
        .print();
    match postgres {
        None => println!("postgres  skipped: no --postgres URL and TEST_DATABASE_URL unset"),
        Some(admin) => {
            let db = format!("cl_bench_http_{}", uuid::Uuid::new_v4().simple());
            pg_admin(&admin, &format!("CREATE DATABASE {db}")).await?;
            let result = crate::bench_http::run("postgres", &replace_db(&admin, &db), params).await;
            pg_admin(
                &admin,
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            )
            .await
            .ok();
            result?.print();
        }
    }
    Ok(())
}

fn replace_db(admin_url: &str, db: &str) -> String {
    let (base, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
    let slash = base.rfind('/').unwrap_or(base.len());
    let mut url = format!("{}/{}", &base[..slash], db);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    url
}

async fn pg_admin(admin_url: &str, sql: &str) -> Result<(), crate::bench::BenchError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_has_no_clashing_options() {
        // clap's own consistency check: two options with one name, a default on a required one…
        Cli::command().debug_assert();
    }
}
