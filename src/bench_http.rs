//! `care-ledger bench http`: the real HTTP service under load on loopback.
//!
//! - the server is started in-process on `127.0.0.1:0` ([`Application::build`], as `serve` does) over
//!   a fresh database (a temporary SQLite file; a scratch PostgreSQL database when a URL is given),
//!   seeded through the [`Ledger`] as the demo does: the catalogue, the candidates of
//!   `fixtures/candidates.csv`, generated candidates for the write load, a statement of
//!   [`HttpBenchParams::lines`] external invoices (some of them also declared by another candidate,
//!   so the cross-candidate duplicate flags are computed);
//! - the load generator is in Rust (no external tool): N connections, raw HTTP/1.1 keep-alive over a
//!   `TcpStream`, each sending its next request as soon as the previous answer is read, for a fixed
//!   duration after a warm-up; latencies are measured per request;
//! - (a) `GET /api/statements/{finess}/{domain}` as a controller: requests/s, p50, p99;
//! - (b) `POST …/commands` `DeclareExternalCost` from many connections spread over several statements,
//!   each with its own line id and `Idempotency-Key`: acknowledged appends/s, p50, p99; then the
//!   ledger is verified (both hash chains), every acknowledged declaration must be in its stream
//!   exactly once (and nothing else), and the read models must have caught up with every stream.
//!
//! Targets (HTTP issue, on the 2-core machine): GET ≥ 10 000 req/s with p99 < 10 ms; appends ≥ 1 000/s
//! on SQLite with `synchronous = FULL`.

use crate::actor::{Actor, Role};
use crate::app::{Access, Ledger, RequestMeta};
use crate::clock::{paris_noon, FixedClock};
use crate::config::Config;
use crate::domain::statement::{ExternalCostInput, StatementCommand};
use crate::domain::{DomainId, Finess};
use crate::http::tokens::{self, NewToken};
use crate::http::Application;
use crate::store::verify::verify;
use crate::store::{EventMetadata, EventStore, ReadBound};
use anyhow::{anyhow, bail, Context};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const TARGET_GET_PER_S: f64 = 10_000.0;
pub const TARGET_GET_P99_MS: f64 = 10.0;
pub const TARGET_APPENDS_PER_S: f64 = 1_000.0;

/// The largest response the load generator accepts (a limit on everything).
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// The statement every GET reads (Centre hospitalier de Montfavet-Durance, D1 bis).
const GET_FINESS: &str = "840000194";
/// The candidate whose statement shares two invoices with the GET statement.
const OTHER_FINESS: &str = "130004526";

#[derive(Debug, Clone)]
pub struct HttpBenchParams {
    /// Concurrent connections for the GET load.
    pub get_connections: usize,
    /// Concurrent connections for the POST load.
    pub post_connections: usize,
    /// Statements the POST load is spread over (one generated candidate each).
    pub post_statements: usize,
    /// Measured duration of each load.
    pub seconds: f64,
    /// Unmeasured warm-up before each load.
    pub warmup_seconds: f64,
    /// Lines of the statement the GET load reads.
    pub lines: usize,
}

impl Default for HttpBenchParams {
    fn default() -> Self {
        HttpBenchParams {
            get_connections: 16,
            post_connections: 64,
            post_statements: 16,
            seconds: 10.0,
            warmup_seconds: 1.0,
            lines: 50,
        }
    }
}

/// The figures of one load.
#[derive(Debug, Clone, Default)]
pub struct LoadFigures {
    pub connections: usize,
    /// Answers with the expected status, in the measured window.
    pub ok: u64,
    /// Any other answer (status, broken connection), in the measured window.
    pub errors: u64,
    pub seconds: f64,
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What the checks after the POST load found.
#[derive(Debug, Clone, Default)]
pub struct WriteChecks {
    pub verified_events: u64,
    pub verify_ok: bool,
    /// Acknowledged declarations (every window, warm-up included).
    pub acknowledged: usize,
    /// Acknowledged but not in the stream, or in it more than once.
    pub missing_or_duplicated: usize,
    /// In the stream without an acknowledgement.
    pub unacknowledged_present: usize,
    /// Streams whose read model (as `GET` answers it) is not at the stream's version.
    pub read_model_behind: usize,
}

impl WriteChecks {
    pub fn ok(&self) -> bool {
        self.verify_ok
            && self.missing_or_duplicated == 0
            && self.unacknowledged_present == 0
            && self.read_model_behind == 0
    }
}

#[derive(Debug, Clone)]
pub struct HttpBenchReport {
    pub engine: String,
    pub params: HttpBenchParams,
    pub get: LoadFigures,
    pub post: LoadFigures,
    pub checks: WriteChecks,
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "OK"
    } else {
        "BELOW TARGET"
    }
}

impl HttpBenchReport {
    pub fn print(&self) {
        let g = &self.get;
        println!(
            "{:<9} GET  statement ({} lines), {} connections, {:.0} s: {:>8.0} req/s (target ≥ {:.0}) {} | p50 {:.2} ms | p99 {:.2} ms (target < {:.0} ms) {} | max {:.1} ms | errors {}",
            self.engine,
            self.params.lines,
            g.connections,
            g.seconds,
            g.per_s,
            TARGET_GET_PER_S,
            verdict(g.per_s >= TARGET_GET_PER_S),
            g.p50_ms,
            g.p99_ms,
            TARGET_GET_P99_MS,
            verdict(g.p99_ms < TARGET_GET_P99_MS),
            g.max_ms,
            g.errors
        );
        let p = &self.post;
        let appends_target = if self.engine == "sqlite" {
            format!(
                "(target ≥ {:.0}, synchronous = FULL) {}",
                TARGET_APPENDS_PER_S,
                verdict(p.per_s >= TARGET_APPENDS_PER_S)
            )
        } else {
            "(no target on PostgreSQL)".to_string()
        };
        println!(
            "{:<9} POST DeclareExternalCost, {} connections over {} statements, {:.0} s: {:>8.0} appends/s {} | p50 {:.2} ms | p99 {:.2} ms | max {:.1} ms | errors {}",
            self.engine,
            p.connections,
            self.params.post_statements,
            p.seconds,
            p.per_s,
            appends_target,
            p.p50_ms,
            p.p99_ms,
            p.max_ms,
            p.errors
        );
        let c = &self.checks;
        println!(
            "{:<9} after the writes: verify {} ({} events) | {} acknowledged declarations, {} missing or duplicated, {} present unacknowledged | read models behind on {} streams: {}",
            self.engine,
            if c.verify_ok { "OK" } else { "ALTERED" },
            c.verified_events,
            c.acknowledged,
            c.missing_or_duplicated,
            c.unacknowledged_present,
            c.read_model_behind,
            if c.ok() { "OK" } else { "FAILED" }
        );
    }
}

fn invoice(line_id: &str, supplier: &str, number: &str, amount: &str) -> ExternalCostInput {
    ExternalCostInput {
        line_id: line_id.to_string(),
        cost_type: "recurrent".into(),
        order_date: "2026-04-03".into(),
        invoice_date: "2026-05-15".into(),
        order_number: format!("CMD-{line_id}"),
        invoice_number: number.to_string(),
        supplier: supplier.to_string(),
        service_label: "Audit d'exposition internet".into(),
        amount: amount.to_string(),
        nature: "PRESTATION_EXTERNE".into(),
        objective: "D1.O2.A".into(),
        contribution: "Audits bimestriels des domaines exposés".into(),
    }
}

/// The generated candidates of the write load (valid FINESS, one establishment each).
fn bench_candidates(count: usize) -> anyhow::Result<(Vec<Finess>, String)> {
    let mut csv = String::from(
        "candidate_finess;candidate_name;kind;ceiling_d1bis;phase_start_d1bis;ceiling_d2;\
         phase_start_d2;establishment_finess;establishment_name;level;parent_finess;support;share\n",
    );
    let mut list = Vec::with_capacity(count);
    for i in 0..count {
        let finess = Finess::with_check_digit(&format!("75{:06}", 900_000 + i))
            .map_err(|e| anyhow!("bench FINESS: {e}"))?;
        csv.push_str(&format!(
            "{finess};Centre hospitalier d'essai {i};ej_public;100 000,00;2026-03-02;;;{finess};\
             Centre hospitalier d'essai {i};EJ;;non;100\n"
        ));
        list.push(finess);
    }
    Ok((list, csv))
}

/// The ledger as the demo seeds it, plus the statements of the bench. Returns the candidates of the
/// write load.
async fn seed(store: &EventStore, params: &HttpBenchParams) -> anyhow::Result<Vec<Finess>> {
    let fixtures = Path::new("fixtures");
    let (catalogue, files) = crate::demo::load_catalogue(&fixtures.join("domains"))?;
    let ledger = Ledger::open(store.clone(), catalogue).await?;
    let admin = Actor::new(Role::Admin, "bench")?;
    ledger
        .record_catalogue(&admin, &RequestMeta::new("bench-catalogue"), &files)
        .await?;
    let bytes = std::fs::read(fixtures.join("candidates.csv"))
        .context("cannot read fixtures/candidates.csv (run from the repository root)")?;
    ledger
        .import_candidates(
            &admin,
            &RequestMeta::new("bench-candidates"),
            "candidates.csv",
            &bytes,
        )
        .await?;
    let (writers, csv) = bench_candidates(params.post_statements)?;
    ledger
        .import_candidates(
            &admin,
            &RequestMeta::new("bench-candidates-generated"),
            "bench-candidates.csv",
            csv.as_bytes(),
        )
        .await?;

    let establishment = |finess: &Finess| -> anyhow::Result<Access> {
        Ok(Access::new(
            Actor::new(Role::Etablissement, "bench")?,
            Some(finess.clone()),
        ))
    };
    // The statement the GET load reads: `lines` invoices, the first two also declared by another
    // candidate (cross-candidate duplicate flags, controllers only).
    let get_finess = Finess::parse(GET_FINESS)?;
    let mut commands = vec![StatementCommand::OpenStatement];
    for i in 1..=params.lines {
        commands.push(StatementCommand::DeclareExternalCost(invoice(
            &format!("EXT-{i:03}"),
            &format!("Prestataire cyber {}", i % 7),
            &format!("F-2026-{i:04}"),
            &format!("{} {:03},{:02}", 1 + i % 9, (i * 37) % 1000, i % 100),
        )));
    }
    ledger
        .execute_batch(
            &establishment(&get_finess)?,
            &get_finess,
            DomainId::D1bis,
            commands,
            &RequestMeta::new("bench-get-statement"),
        )
        .await?;
    let other = Finess::parse(OTHER_FINESS)?;
    let mut commands = vec![StatementCommand::OpenStatement];
    for i in 1..=2 {
        commands.push(StatementCommand::DeclareExternalCost(invoice(
            &format!("EXT-{i:03}"),
            &format!("Prestataire cyber {}", i % 7),
            &format!("F-2026-{i:04}"),
            "2 400,00",
        )));
    }
    ledger
        .execute_batch(
            &establishment(&other)?,
            &other,
            DomainId::D1bis,
            commands,
            &RequestMeta::new("bench-other-statement"),
        )
        .await?;
    for finess in &writers {
        ledger
            .execute(
                &establishment(finess)?,
                finess,
                DomainId::D1bis,
                StatementCommand::OpenStatement,
                &RequestMeta::new(format!("bench-open-{finess}")),
            )
            .await?;
    }
    Ok(writers)
}

async fn create_token(
    store: &EventStore,
    role: Role,
    candidate: Option<&Finess>,
) -> anyhow::Result<String> {
    let created = tokens::create(
        store,
        store.clock().as_ref(),
        &EventMetadata::new(&Actor::new(Role::Admin, "bench")?, "bench-token"),
        &NewToken {
            role,
            candidate: candidate.map(|c| c.as_str().to_string()),
            label: Some(format!("bench {role}")),
            expires: None,
        },
    )
    .await?;
    created
        .token
        .ok_or_else(|| anyhow!("token created without its secret"))
}

// ---------------------------------------------------------------------------------------------------
// The load generator: raw HTTP/1.1 keep-alive.

struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Connection {
    async fn open(port: u16) -> anyhow::Result<Connection> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Connection {
            stream,
            buffer: Vec::with_capacity(64 * 1024),
        })
    }

    async fn fill(&mut self) -> anyhow::Result<()> {
        if self.buffer.len() > MAX_RESPONSE_BYTES {
            bail!("response above {MAX_RESPONSE_BYTES} bytes");
        }
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed by the server");
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Sends one request and reads its whole response: (status, body).
    async fn exchange(&mut self, request: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end])
            .map_err(|_| anyhow!("response head is not text"))?;
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow!("no status line"))?;
        let mut length = None;
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse::<usize>().ok();
                } else if name.eq_ignore_ascii_case("transfer-encoding") {
                    bail!("chunked responses are not expected here");
                }
            }
        }
        let length = length.ok_or_else(|| anyhow!("response without Content-Length"))?;
        let total = head_end + 4 + length;
        while self.buffer.len() < total {
            self.fill().await?;
        }
        let body = self.buffer[head_end + 4..total].to_vec();
        self.buffer.drain(..total);
        Ok((status, body))
    }
}

/// What one connection sends next: the request bytes and a tag kept when it is acknowledged.
trait RequestSource: Send {
    fn next_request(&mut self) -> (Vec<u8>, String);
}

struct ConnectionResult {
    latencies_us: Vec<u32>,
    ok: u64,
    errors: u64,
    /// Tags of every acknowledged request (warm-up included).
    acknowledged: Vec<String>,
}

async fn drive(
    port: u16,
    mut source: Box<dyn RequestSource>,
    expected_status: u16,
    measure_from: Instant,
    until: Instant,
) -> ConnectionResult {
    let mut result = ConnectionResult {
        latencies_us: Vec::new(),
        ok: 0,
        errors: 0,
        acknowledged: Vec::new(),
    };
    let mut connection = match Connection::open(port).await {
        Ok(c) => c,
        Err(err) => {
            tracing::warn!(error = %err, "bench: cannot connect");
            result.errors += 1;
            return result;
        }
    };
    while Instant::now() < until {
        let (request, tag) = source.next_request();
        let started = Instant::now();
        let answer = connection.exchange(&request).await;
        let elapsed = started.elapsed();
        let measured = started >= measure_from;
        match answer {
            Ok((status, _)) if status == expected_status => {
                result.acknowledged.push(tag);
                if measured {
                    result.ok += 1;
                    result
                        .latencies_us
                        .push(elapsed.as_micros().min(u128::from(u32::MAX)) as u32);
                }
            }
            Ok((status, body)) => {
                if measured {
                    result.errors += 1;
                }
                tracing::warn!(
                    status,
                    body = %String::from_utf8_lossy(&body[..body.len().min(300)]),
                    "bench: unexpected answer"
                );
            }
            Err(err) => {
                result.errors += 1;
                tracing::warn!(error = %err, "bench: connection failed, reconnecting");
                match Connection::open(port).await {
                    Ok(c) => connection = c,
                    Err(_) => return result,
                }
            }
        }
    }
    result
}

/// Runs one load: `sources` (one per connection) for warm-up + measured duration.
async fn load(
    port: u16,
    sources: Vec<Box<dyn RequestSource>>,
    expected_status: u16,
    params: &HttpBenchParams,
) -> (LoadFigures, Vec<String>) {
    let connections = sources.len();
    let measure_from = Instant::now() + Duration::from_secs_f64(params.warmup_seconds);
    let until = measure_from + Duration::from_secs_f64(params.seconds);
    let tasks: Vec<_> = sources
        .into_iter()
        .map(|source| tokio::spawn(drive(port, source, expected_status, measure_from, until)))
        .collect();
    let mut latencies = Vec::new();
    let mut ok = 0;
    let mut errors = 0;
    let mut acknowledged = Vec::new();
    for task in tasks {
        match task.await {
            Ok(result) => {
                latencies.extend(result.latencies_us);
                ok += result.ok;
                errors += result.errors;
                acknowledged.extend(result.acknowledged);
            }
            Err(_) => errors += 1,
        }
    }
    // Requests started inside the window are counted (each connection stops sending at its end).
    let seconds = params.seconds;
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[index]) / 1000.0
    };
    let figures = LoadFigures {
        connections,
        ok,
        errors,
        seconds,
        per_s: ok as f64 / seconds,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: latencies
            .last()
            .map(|&m| f64::from(m) / 1000.0)
            .unwrap_or(0.0),
    };
    (figures, acknowledged)
}

struct GetStatement {
    request: Vec<u8>,
}

impl RequestSource for GetStatement {
    fn next_request(&mut self) -> (Vec<u8>, String) {
        (self.request.clone(), String::new())
    }
}

struct DeclareInvoices {
    connection: usize,
    finess: Finess,
    token: String,
    sent: u64,
}

impl RequestSource for DeclareInvoices {
    fn next_request(&mut self) -> (Vec<u8>, String) {
        self.sent += 1;
        let line_id = format!("B{:03}-{:06}", self.connection, self.sent);
        let command = StatementCommand::DeclareExternalCost(invoice(
            &line_id,
            &format!("Prestataire de charge {}", self.connection % 5),
            &format!("FB-{line_id}"),
            "1 234,56",
        ));
        let body = serde_json::to_string(&command).unwrap_or_default();
        let head = format!(
            "POST /api/statements/{}/D1bis/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: Bearer {}\r\nContent-Type: application/json\r\n\
             Idempotency-Key: bench-{line_id}\r\nContent-Length: {}\r\n\r\n",
            self.finess,
            self.token,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body.as_bytes());
        (request, format!("{}|{line_id}", self.finess))
    }
}

/// The line ids of the bench's declarations in a statement stream, with how often each appears.
async fn declared_lines(store: &EventStore, stream: &str) -> anyhow::Result<BTreeMap<String, u32>> {
    let mut lines = BTreeMap::new();
    for event in store.read_stream(stream, ReadBound::all()).await? {
        if event.event_type != "ExternalCostDeclared" {
            continue;
        }
        let payload = event.payload_json()?;
        if let Some(id) = payload.get("line_id").and_then(|v| v.as_str()) {
            if id.starts_with('B') {
                *lines.entry(id.to_string()).or_insert(0) += 1;
            }
        }
    }
    Ok(lines)
}

/// Runs the whole bench on one database (`url`: a SQLite file path or a PostgreSQL database, empty).
pub async fn run(
    engine: &str,
    url: &str,
    params: &HttpBenchParams,
) -> anyhow::Result<HttpBenchReport> {
    if params.get_connections == 0 || params.post_connections == 0 || params.post_statements == 0 {
        bail!("connections and statements must be positive");
    }
    if params.seconds <= 0.0 || params.warmup_seconds < 0.0 {
        bail!("durations must be positive");
    }
    // Commands are dated by the service clock: pinned inside the D1 bis declaration window.
    let day = NaiveDate::from_ymd_opt(2026, 10, 1).ok_or_else(|| anyhow!("bench date"))?;
    let clock = FixedClock::at(paris_noon(day));
    let store = EventStore::open(url, Arc::new(clock)).await?;
    let writers = seed(&store, params).await?;
    let controller = create_token(&store, Role::Controleur, None).await?;
    let mut writer_tokens = Vec::with_capacity(writers.len());
    for finess in &writers {
        writer_tokens.push(create_token(&store, Role::Etablissement, Some(finess)).await?);
    }

    let config = Config {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".into(),
        ..Config::default()
    };
    let app = Application::build(config, store.clone()).await?;
    let port = app.port();
    let server = app.server_handle();
    let running = tokio::spawn(app.run_until_stopped());

    // (a) GET of one statement.
    let get_request = format!(
        "GET /api/statements/{GET_FINESS}/D1bis HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Authorization: Bearer {controller}\r\n\r\n"
    )
    .into_bytes();
    {
        // The statement answers, with its flags, before the load starts.
        let mut probe = Connection::open(port).await?;
        let (status, body) = probe.exchange(&get_request).await?;
        if status != 200 {
            bail!(
                "GET of the statement answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        let view: serde_json::Value = serde_json::from_slice(&body)?;
        let lines = view["statement"]["lines"]
            .as_object()
            .map(|l| l.len())
            .unwrap_or(0);
        if lines != params.lines {
            bail!(
                "the GET statement has {lines} lines, {} expected",
                params.lines
            );
        }
    }
    let sources: Vec<Box<dyn RequestSource>> = (0..params.get_connections)
        .map(|_| {
            Box::new(GetStatement {
                request: get_request.clone(),
            }) as Box<dyn RequestSource>
        })
        .collect();
    let (get, _) = load(port, sources, 200, params).await;

    // (b) concurrent declarations over several statements.
    let sources: Vec<Box<dyn RequestSource>> = (0..params.post_connections)
        .map(|connection| {
            let s = connection % writers.len();
            Box::new(DeclareInvoices {
                connection,
                finess: writers[s].clone(),
                token: writer_tokens[s].clone(),
                sent: 0,
            }) as Box<dyn RequestSource>
        })
        .collect();
    let (post, acknowledged) = load(port, sources, 201, params).await;

    // Checks: the ledger verifies, every acknowledged declaration is there exactly once, nothing
    // else is, and GET (the read model) is at each stream's version.
    let mut checks = WriteChecks {
        acknowledged: acknowledged.len(),
        ..WriteChecks::default()
    };
    let report = verify(&store, None).await?;
    checks.verify_ok = report.is_ok();
    checks.verified_events = report.events_checked;
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for tag in &acknowledged {
        if let Some((finess, line)) = tag.split_once('|') {
            expected
                .entry(finess.to_string())
                .or_default()
                .insert(line.to_string());
        }
    }
    let mut probe = Connection::open(port).await?;
    for (finess, token) in writers.iter().zip(&writer_tokens) {
        let stream = crate::app::ledger::statement_stream(finess, DomainId::D1bis);
        let present = declared_lines(&store, &stream).await?;
        let wanted = expected.remove(finess.as_str()).unwrap_or_default();
        for line in &wanted {
            if present.get(line) != Some(&1) {
                checks.missing_or_duplicated += 1;
            }
        }
        checks.unacknowledged_present += present.keys().filter(|l| !wanted.contains(*l)).count();
        let version = store.stream_version(&stream).await?;
        let request = format!(
            "GET /api/statements/{finess}/D1bis HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Authorization: Bearer {token}\r\n\r\n"
        );
        let (status, body) = probe.exchange(request.as_bytes()).await?;
        let seen = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["version"].as_i64());
        if status != 200 || seen != Some(version) {
            checks.read_model_behind += 1;
        }
    }
    checks.missing_or_duplicated += expected.values().map(|lines| lines.len()).sum::<usize>();

    server.stop(true).await;
    let _ = running.await;
    store.close().await;
    Ok(HttpBenchReport {
        engine: engine.to_string(),
        params: params.clone(),
        get,
        post,
        checks,
    })
}
