//! Payment batches (lots de paiement) over HTTP, through the same [`Ledger`](crate::app::Ledger)
//! methods as the CLI (`payments batch [--reprint LOT | --as-of DATE]`).
//!
//! - `POST /api/payments/batches` orders every payment due in a domain and records the batch (payment
//!   desk only). `Idempotency-Key` covers the batch as a whole: the same key again answers the batch
//!   it issued (200), ordering nothing.
//! - `GET /api/payments/batches`, `…/{batch_id}.csv`, `…/{batch_id}.xlsx` rewrite past batches from the
//!   ledger and order nothing. The payment desk and controllers read them (an auditor checks what was
//!   paid against the statements); establishments and administrators are refused (403). The rule is
//!   in [`Ledger::payment_batches`](crate::app::Ledger::payment_batches), shared with the CLI.

use super::auth::Authenticated;
use super::error::{ApiError, Problem};
use super::statements::{access, as_of, request_meta, XLSX_CONTENT_TYPE};
use super::AppState;
use crate::app::batches::{batch_csv, batch_xlsx, may_issue, may_read_batches, PaymentBatch};
use crate::domain::{DomainId, Money};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The media type of the batch CSV (`;`-separated, UTF-8 with a BOM).
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/payments/batches", web::post().to(issue_batch))
        .route("/api/payments/batches", web::get().to(list_batches))
        .route(
            "/api/payments/batches/{batch_id}.csv",
            web::get().to(batch_as_csv),
        )
        .route(
            "/api/payments/batches/{batch_id}.xlsx",
            web::get().to(batch_as_xlsx),
        );
}

/// The body of `POST /api/payments/batches`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// `D1bis` or `D2`.
    pub domain: String,
}

/// One payment ordered by a batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchLineView {
    pub finess: String,
    pub candidate_name: String,
    /// Euros, exact decimal as text (`"12345.67"`).
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub amount: Money,
    /// `{batch_id}/{finess}`: the order's reference and idempotency key.
    pub reference: String,
    pub payment_id: String,
}

/// A statement the batch did not pay, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedView {
    pub finess: String,
    pub reason: String,
}

/// Where a recorded batch can be downloaded.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchLinks {
    pub csv: String,
    pub xlsx: String,
    /// The batches of the domain.
    pub list: String,
}

/// A payment batch as the ledger holds it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    /// `LOT-{domain}-{AAAAMMJJ}-{n}`; absent when nothing was due (nothing ordered, nothing recorded).
    pub batch_id: Option<String>,
    pub domain: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub total: Money,
    pub lines: Vec<BatchLineView>,
    pub skipped: Vec<SkippedView>,
    /// Absent when nothing was recorded.
    pub links: Option<BatchLinks>,
}

impl BatchView {
    fn of(batch: &PaymentBatch) -> BatchView {
        let recorded = !batch.lines.is_empty();
        BatchView {
            batch_id: recorded.then(|| batch.batch_id.clone()),
            domain: batch.domain.to_string(),
            issued_on: batch.issued_on,
            total: batch.total(),
            lines: batch
                .lines
                .iter()
                .map(|l| BatchLineView {
                    finess: l.finess.to_string(),
                    candidate_name: l.candidate_name.clone(),
                    amount: l.amount,
                    reference: l.reference.clone(),
                    payment_id: l.payment_id.clone(),
                })
                .collect(),
            skipped: batch
                .skipped
                .iter()
                .map(|(finess, reason)| SkippedView {
                    finess: finess.to_string(),
                    reason: reason.clone(),
                })
                .collect(),
            links: recorded.then(|| BatchLinks {
                csv: format!("/api/payments/batches/{}.csv", batch.batch_id),
                xlsx: format!("/api/payments/batches/{}.xlsx", batch.batch_id),
                list: format!("/api/payments/batches?domain={}", batch.domain),
            }),
        }
    }
}

/// What `POST /api/payments/batches` did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchIssueResult {
    #[serde(flatten)]
    pub batch: BatchView,
    /// A batch was recorded (false: nothing was due).
    pub recorded: bool,
    /// The `Idempotency-Key` had already issued this batch: nothing ordered now.
    pub replayed: bool,
}

fn domain_of(text: &str, field: &'static str) -> Result<DomainId, ApiError> {
    DomainId::parse(text).map_err(|e| {
        ApiError::unprocessable(
            Some(field),
            format!("champ {field} : {e} (attendu D1bis ou D2)"),
        )
    })
}

/// Orders every payment due in a domain and records the batch (payment desk). A statement whose
/// subsidy is provisional, or outside the payment window, is skipped with its reason. Nothing due:
/// 200, nothing ordered.
#[utoipa::path(post, path = "/api/payments/batches", tag = "payments",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "La même clé renvoie le lot qu'elle a émis, sans rien ordonner")),
    request_body(content = BatchRequest, description = "`{\"domain\": \"D1bis\"}`"),
    responses(
        (status = 201, description = "Lot émis", body = BatchIssueResult),
        (status = 200, description = "Rien d'ordonné : rien n'était dû, ou répétition idempotente", body = BatchIssueResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Clé d'idempotence déjà utilisée pour une autre requête, ou lot concurrent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Domaine inconnu (`field` = `domain`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn issue_batch(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<BatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let access = access(&auth);
    // The role before the domain: a caller who may not issue learns nothing more.
    may_issue(&access)?;
    let domain = domain_of(&body.domain, "domain")?;
    let meta = request_meta(&auth, &req)?;
    let issue = state
        .ledger
        .issue_payment_batch_once(&access, domain, &meta)
        .await?;
    let result = BatchIssueResult {
        batch: BatchView::of(&issue.batch),
        recorded: issue.recorded(),
        replayed: issue.replayed,
    };
    Ok(if issue.recorded() && !issue.replayed {
        HttpResponse::Created().json(result)
    } else {
        HttpResponse::Ok().json(result)
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BatchListQuery {
    /// `D1bis` or `D2`; absent: every domain.
    pub domain: Option<String>,
    /// Batches issued up to this date `AAAA-MM-JJ` (end of that day in Paris) or RFC 3339 instant.
    pub as_of: Option<String>,
}

/// The batches issued, oldest first, from the ledger (orders nothing).
#[utoipa::path(get, path = "/api/payments/batches", tag = "payments",
    security(("bearer" = [])),
    params(BatchListQuery),
    responses(
        (status = 200, description = "Lots de paiement émis", body = [BatchView]),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_batches(
    auth: Authenticated,
    state: web::Data<AppState>,
    query: web::Query<BatchListQuery>,
) -> Result<HttpResponse, ApiError> {
    let access = access(&auth);
    may_read_batches(&access)?;
    let domains = match query.domain.as_deref() {
        None => DomainId::ALL.to_vec(),
        Some(text) => vec![DomainId::parse(text)
            .map_err(|e| ApiError::bad_request("domain", format!("{e} (attendu D1bis ou D2)")))?],
    };
    let as_of = as_of(query.as_of.as_deref())?;
    let mut views = Vec::new();
    for domain in domains {
        for batch in state.ledger.payment_batches(&access, domain, as_of).await? {
            views.push(BatchView::of(&batch));
        }
    }
    Ok(HttpResponse::Ok().json(views))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReprintQuery {
    /// As the ledger stood at this date `AAAA-MM-JJ` (end of that day in Paris) or RFC 3339 instant:
    /// a batch issued later is not found.
    pub as_of: Option<String>,
}

async fn reprint(
    auth: &Authenticated,
    state: &AppState,
    batch_id: &str,
    query: &ReprintQuery,
) -> Result<PaymentBatch, ApiError> {
    let access = access(auth);
    may_read_batches(&access)?;
    let as_of = as_of(query.as_of.as_deref())?;
    Ok(state.ledger.payment_batch(&access, batch_id, as_of).await?)
}

fn attachment(batch: &PaymentBatch, extension: &str) -> (header::HeaderName, String) {
    (
        header::CONTENT_DISPOSITION,
        format!(
            "attachment; filename=\"lot-paiement-{}.{extension}\"",
            batch.batch_id
        ),
    )
}

/// A past batch as CSV (`;`, UTF-8 with BOM; user text never read as a formula), rebuilt from the
/// ledger: orders nothing.
#[utoipa::path(get, path = "/api/payments/batches/{batch_id}.csv", tag = "payments",
    security(("bearer" = [])),
    params(("batch_id" = String, Path, description = "Identifiant du lot, par exemple LOT-D1bis-20270302-001"), ReprintQuery),
    responses(
        (status = 200, description = "Le lot en CSV", content_type = "text/csv; charset=utf-8", body = String),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn batch_as_csv(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ReprintQuery>,
) -> Result<HttpResponse, ApiError> {
    let batch = reprint(&auth, &state, &path, &query).await?;
    Ok(HttpResponse::Ok()
        .content_type(CSV_CONTENT_TYPE)
        .insert_header(attachment(&batch, "csv"))
        .body(batch_csv(&batch)))
}

/// A past batch as a workbook (amounts in euros, a live total), rebuilt from the ledger: orders
/// nothing.
#[utoipa::path(get, path = "/api/payments/batches/{batch_id}.xlsx", tag = "payments",
    security(("bearer" = [])),
    params(("batch_id" = String, Path, description = "Identifiant du lot, par exemple LOT-D1bis-20270302-001"), ReprintQuery),
    responses(
        (status = 200, description = "Le lot en classeur", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn batch_as_xlsx(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ReprintQuery>,
) -> Result<HttpResponse, ApiError> {
    let batch = reprint(&auth, &state, &path, &query).await?;
    let bytes = batch_xlsx(&batch).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header(attachment(&batch, "xlsx"))
        .body(bytes))
}
