//! Payroll recaps over HTTP, through the same [`Ledger`](crate::app::Ledger) methods as the CLI
//! (`import-payroll`, `payroll import-key|list|declare`): import a recap file (or check it, dry run),
//! import the anonymisation key, read a candidate's recaps, declare an internal cost line filled from
//! a recap.
//!
//! Who: the establishment (its own candidate; another candidate answers 404 exactly as a missing one),
//! controllers and administrators; the payment desk is refused (403): it needs the subsidy, not the
//! salaries. The key's content is shown to controllers and administrators only.

use super::auth::{etag, Authenticated};
use super::error::{ApiError, Problem};
use super::statements::{access, read_file_field, request_meta, statement_path};
use super::AppState;
use crate::app::payroll_service::{
    may_import, may_read, payroll_stream, PayrollImportSummary, PayrollLineInput,
};
use crate::domain::ids::Finess;
use crate::domain::Money;
use crate::payroll::{FullYearProposal, PayrollRecap, PayrollWarning, Rubrique};
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/candidates/{finess}/payroll",
        web::get().to(get_payroll),
    )
    .route(
        "/api/candidates/{finess}/payroll/recaps",
        web::post().to(import_recaps),
    )
    .route(
        "/api/candidates/{finess}/payroll/key",
        web::post().to(import_key),
    )
    .route(
        "/api/statements/{finess}/{domain}/payroll-lines",
        web::post().to(declare_line),
    );
}

/// A path's FINESS; anything that does not parse answers 404 like a missing candidate.
fn candidate_path(text: &str) -> Result<Finess, ApiError> {
    Finess::parse(text).map_err(|_| ApiError::NotFound)
}

/// The full-year equivalent of a part-year recap: each total × days in the year ÷ days counted,
/// rounded to the cent.
#[derive(Debug, Serialize, ToSchema)]
pub struct FullYearView {
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub annualised_gross: Money,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub annualised_charges: Money,
    /// The non-eligible gross on the same scale as the annualised gross.
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub annualised_non_eligible_gross: Money,
    /// First and last day counted: the period narrowed by the entry and exit dates.
    #[schema(value_type = String, format = Date)]
    pub counted_from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub counted_to: NaiveDate,
    pub days_in_period: u32,
    pub days_in_year: u32,
    /// The computation spelt out, in French.
    pub computation_fr: String,
}

impl From<FullYearProposal> for FullYearView {
    fn from(p: FullYearProposal) -> FullYearView {
        FullYearView {
            annualised_gross: p.annualised_gross,
            annualised_charges: p.annualised_charges,
            annualised_non_eligible_gross: p.annualised_non_eligible_gross,
            counted_from: p.counted_from,
            counted_to: p.counted_to,
            days_in_period: p.days_in_period,
            days_in_year: p.days_in_year,
            computation_fr: p.computation_fr,
        }
    }
}

/// One employee's recap for one year, as imported: the printed totals (authoritative), the sums of
/// the rubriques they were checked against, the full-year equivalent of a part-year recap, warnings.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeeRecap {
    pub matricule: String,
    pub year: i32,
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub entry_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub exit_date: Option<NaiveDate>,
    /// Euros, exact decimal as text (`"55631.25"`).
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub total_gross: Money,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub total_employer_charges: Money,
    #[schema(value_type = Option<String>)]
    #[serde(serialize_with = "super::plain_money::option::serialize")]
    pub total_employee_contributions: Option<Money>,
    #[schema(value_type = Option<String>)]
    pub total_hours: Option<rust_decimal::Decimal>,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub non_eligible_gross: Money,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub sum_gross_rubriques: Money,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub sum_employer_rubriques: Money,
    /// Proposed for a part-year recap; absent (null) for a full-year one.
    pub full_year_equivalent: Option<FullYearView>,
    /// `{code, message_fr, values}`: never blocking.
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<PayrollWarning>,
    /// Where the recap was read (`Feuil1!A5`).
    pub source: String,
    pub rubriques_count: usize,
    /// The rubriques (read endpoint only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub rubriques: Option<Vec<Rubrique>>,
}

impl EmployeeRecap {
    fn of(recap: &PayrollRecap, with_rubriques: bool) -> EmployeeRecap {
        EmployeeRecap {
            matricule: recap.matricule.to_string(),
            year: recap.year,
            period_start: recap.period_start,
            period_end: recap.period_end,
            entry_date: recap.entry_date,
            exit_date: recap.exit_date,
            total_gross: recap.total_gross,
            total_employer_charges: recap.total_employer_charges,
            total_employee_contributions: recap.total_employee_contributions,
            total_hours: recap.total_hours,
            non_eligible_gross: recap.non_eligible_gross,
            sum_gross_rubriques: recap.sum_gross_rubriques,
            sum_employer_rubriques: recap.sum_employer_rubriques,
            full_year_equivalent: recap.full_year_equivalent().map(FullYearView::from),
            warnings: recap.warnings.clone(),
            source: recap.source.clone(),
            rubriques_count: recap.rubriques.len(),
            rubriques: with_rubriques.then(|| recap.rubriques.clone()),
        }
    }
}

/// What a recap import did (or would do, on a dry run).
#[derive(Debug, Serialize, ToSchema)]
pub struct PayrollImportResult {
    pub file_name: String,
    pub source_sha256: String,
    /// `xlsx`, `xls`, `ods` or `csv`, recognised from the content.
    pub format: String,
    pub dry_run: bool,
    /// The same file was imported before: nothing appended.
    pub already_imported: bool,
    /// One event per employee was appended.
    pub applied: bool,
    pub employees: Vec<EmployeeRecap>,
    /// Warnings about the file as a whole (an ignored sheet).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<PayrollWarning>,
}

impl PayrollImportResult {
    fn of(summary: &PayrollImportSummary, dry_run: bool) -> PayrollImportResult {
        PayrollImportResult {
            file_name: summary.file_name.clone(),
            source_sha256: summary.source_sha256.clone(),
            format: summary.import.format.clone(),
            dry_run,
            already_imported: summary.already_imported,
            applied: summary.applied,
            employees: summary
                .import
                .recaps
                .iter()
                .map(|r| EmployeeRecap::of(r, false))
                .collect(),
            warnings: summary.import.warnings.clone(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// `true`: read the file and answer what it holds, appending nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports a payroll recap (multipart field `file`: `.xlsx`, `.xls`, `.ods` or `.csv`): one event
/// per employee, all in one transaction. The same file twice appends nothing; a broken file appends
/// nothing and answers 422 naming the cell.
#[utoipa::path(post, path = "/api/candidates/{finess}/payroll/recaps", tag = "payroll",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        DryRunQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête n'ajoute rien"),
    ),
    request_body(content = String, content_type = "multipart/form-data", description = "champ `file` : récapitulatif de paie (.xlsx, .xls, .ods, .csv)"),
    responses(
        (status = 201, description = "Récapitulatifs enregistrés", body = PayrollImportResult),
        (status = 200, description = "Rien d'ajouté : simulation, ou fichier déjà importé", body = PayrollImportResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fichier refusé (`field` = `file`, la cellule ou la raison dans le message)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_recaps(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<DryRunQuery>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let access = access(&auth);
    // Role, then visibility, before the body is read: a refused caller uploads nothing.
    may_import(&access)?;
    let finess = candidate_path(&path)?;
    state.ledger.candidate(&access, &finess).await?;
    let meta = request_meta(&auth, &req)?;
    let (name, bytes) = read_file_field(payload, state.config.max_upload_bytes).await?;
    let summary = state
        .ledger
        .import_payroll_with_progress(
            &access,
            &finess,
            &name,
            bytes,
            query.dry_run,
            &meta,
            &Default::default(),
        )
        .await?;
    let result = PayrollImportResult::of(&summary, query.dry_run);
    Ok(if summary.applied {
        HttpResponse::Created().json(result)
    } else {
        HttpResponse::Ok().json(result)
    })
}

/// What an anonymisation key import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyImportResult {
    pub file_name: String,
    pub source_sha256: String,
    pub pseudonyms: usize,
    /// False when this very key was already in force: nothing appended.
    pub applied: bool,
}

/// Imports the anonymisation key (table de passage), multipart field `file`: a CSV
/// `Pseudonyme;Matricule[;Commentaire]`. It replaces the previous key. Readable back by controllers
/// and administrators only.
#[utoipa::path(post, path = "/api/candidates/{finess}/payroll/key", tag = "payroll",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête n'ajoute rien"),
    ),
    request_body(content = String, content_type = "multipart/form-data", description = "champ `file` : table de passage (.csv)"),
    responses(
        (status = 201, description = "Clé enregistrée", body = KeyImportResult),
        (status = 200, description = "Cette clé est déjà en vigueur : rien d'ajouté", body = KeyImportResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fichier refusé (`field` = `file`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_key(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let access = access(&auth);
    may_import(&access)?;
    let finess = candidate_path(&path)?;
    state.ledger.candidate(&access, &finess).await?;
    let meta = request_meta(&auth, &req)?;
    let (name, bytes) = read_file_field(payload, state.config.max_upload_bytes).await?;
    let summary = state
        .ledger
        .import_anonymisation_key(&access, &finess, &name, &bytes, &meta)
        .await?;
    let result = KeyImportResult {
        file_name: summary.file_name,
        source_sha256: summary.source_sha256,
        pseudonyms: summary.pseudonyms,
        applied: summary.applied,
    };
    Ok(if result.applied {
        HttpResponse::Created().json(result)
    } else {
        HttpResponse::Ok().json(result)
    })
}

/// A candidate's payroll documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayrollBookView {
    pub finess: String,
    /// Version of the stream `payroll/{finess}` (also the `ETag`).
    pub version: i64,
    /// Every recap, by matricule then year, with its rubriques.
    pub recaps: Vec<EmployeeRecap>,
    /// SHA-256 of the key in force, if any.
    pub anonymisation_key_sha256: Option<String>,
    /// Pseudonym → matricule on the recap: controllers and administrators only (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymisation_key: Option<BTreeMap<String, String>>,
}

/// A candidate's imported recaps (with their rubriques) and, for controllers and administrators, the
/// anonymisation key.
#[utoipa::path(get, path = "/api/candidates/{finess}/payroll", tag = "payroll",
    security(("bearer" = [])),
    params(("finess" = String, Path, description = "FINESS du candidat")),
    responses(
        (status = 200, description = "Récapitulatifs de paie du candidat", body = PayrollBookView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_payroll(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let access = access(&auth);
    may_read(&access)?;
    let finess = candidate_path(&path)?;
    let book = state.ledger.payroll_book(&access, &finess).await?;
    let version = state.store.stream_version(&payroll_stream(&finess)).await?;
    let view = PayrollBookView {
        finess: finess.to_string(),
        version,
        recaps: book
            .recaps
            .values()
            .map(|r| EmployeeRecap::of(r, true))
            .collect(),
        anonymisation_key_sha256: book.key_sha256.clone(),
        anonymisation_key: book.key.map(|entries| {
            entries
                .into_iter()
                .map(|(pseudonym, matricule)| (pseudonym, matricule.to_string()))
                .collect()
        }),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(view))
}

/// A refusal of the `DeclareInternalCost` built from the body names the body's field: the command's
/// `hours_on_action` is this body's `hours`.
fn body_field(err: ApiError) -> ApiError {
    match err {
        ApiError::Unprocessable {
            detail,
            field: Some(field),
        } if field == "hours_on_action" => ApiError::Unprocessable {
            detail: detail.replacen("champ hours_on_action", "champ hours", 1),
            field: Some("hours".into()),
        },
        other => other,
    }
}

/// What declaring a line from a recap did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayrollLineResult {
    pub stream_id: String,
    /// The statement's version after the command (also the `ETag`).
    pub version: i64,
    /// True when nothing was appended (an `Idempotency-Key` replay).
    pub replayed: bool,
    pub line_id: String,
    pub recap_year: i32,
    /// SALAIRE BRUT ANNUELISE declared: the full-year equivalent for a part-year recap.
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub gross_annualised: Money,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub employer_charges: Money,
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub non_eligible_gross: Money,
    pub full_year_equivalent: Option<FullYearView>,
    /// How the figures were taken from the recap, in French.
    pub note_fr: String,
    /// CHARGES DE PERSONNEL IMPUTABLES SUR L'ACTION.
    #[schema(value_type = String)]
    #[serde(serialize_with = "super::plain_money::serialize")]
    pub imputable: Money,
}

/// Declares an internal cost line filled from an imported recap (`payroll declare`): gross,
/// employer charges and non-eligible gross come from the recap (the full-year equivalent for a
/// part-year recap); a pseudonym is resolved through the anonymisation key. Body:
/// `{"matricule", "recap_year", "year", "objective", "contribution", "hours_productive", "hours",
/// "line_id"?}`. Then an ordinary `DeclareInternalCost`: same roles (the establishment), same
/// refusals, `If-Match` and `Idempotency-Key`.
#[utoipa::path(post, path = "/api/statements/{finess}/{domain}/payroll-lines", tag = "payroll",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        ("If-Match" = Option<String>, Header, description = "Version du flux attendue"),
        ("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête n'ajoute rien"),
    ),
    request_body(content = Object, description = "`{\"matricule\": \"44A567\", \"recap_year\": 2024, \"year\": \"2026\", \"objective\": \"D1.O1.A\", \"contribution\": \"…\", \"hours_productive\": \"1607\", \"hours\": \"160\"}`"),
    responses(
        (status = 201, description = "Ligne déclarée", body = PayrollLineResult),
        (status = 200, description = "Rien d'ajouté (répétition idempotente)", body = PayrollLineResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refusée (champ nommé : `matricule`, `recap_year`, `hours`…)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn declare_line(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<PayrollLineInput>,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&path)?;
    let meta = request_meta(&auth, &req)?;
    let access = access(&auth);
    state.ledger.candidate(&access, &finess).await?;
    let stream = crate::app::ledger::statement_stream(&finess, domain);
    let before = state.store.stream_version(&stream).await?;
    let outcome = state
        .ledger
        .declare_from_recap(&access, &finess, domain, &body, &meta)
        .await
        .map_err(|e| body_field(ApiError::from(e)))?;
    let replayed = outcome.version <= before;
    let result = PayrollLineResult {
        stream_id: stream,
        version: outcome.version,
        replayed,
        line_id: outcome.line_id,
        recap_year: outcome.recap_year,
        gross_annualised: outcome.gross_annualised,
        employer_charges: outcome.employer_charges,
        non_eligible_gross: outcome.non_eligible_gross,
        full_year_equivalent: outcome.full_year_equivalent.map(FullYearView::from),
        note_fr: outcome.note_fr,
        imputable: outcome.imputable,
    };
    let mut response = if replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(response
        .insert_header((header::ETAG, etag(outcome.version)))
        .json(result))
}
