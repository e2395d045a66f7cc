//! Candidates, statements, commands and the Excel template over HTTP, through the [`Ledger`] service
//! (the same one the CLI and the demo drive). Current reads come from the ledger's read models, as-of
//! reads replay the stream up to the instant.

use super::auth::{etag, if_match, Authenticated, RequestId};
use super::error::{ApiError, FieldError, Problem};
use super::AppState;
use crate::actor::Role;
use crate::app::{Access, LedgerError, RequestMeta, StatementView};
use crate::cli::parse_as_of;
use crate::domain::ids::Finess;
use crate::domain::statement::{Refusal, Statement, StatementCommand};
use crate::domain::DomainId;
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The media type of an `.xlsx` workbook.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The most commands one batch request may carry.
pub const MAX_BATCH_COMMANDS: usize = 500;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/candidates", web::get().to(list_candidates))
        .route("/api/candidates/import", web::post().to(import_candidates))
        .route("/api/candidates/{finess}", web::get().to(get_candidate))
        .route("/api/statements", web::get().to(list_statements))
        .route(
            "/api/statements/{finess}/{domain}",
            web::get().to(get_statement),
        )
        .route(
            "/api/statements/{finess}/{domain}/commands",
            web::post().to(post_command),
        )
        .route(
            "/api/statements/{finess}/{domain}/batch",
            web::post().to(post_batch),
        )
        .route(
            "/api/statements/{finess}/{domain}/template.xlsx",
            web::get().to(get_template),
        )
        .route("/api/templates/import", web::post().to(import_template));
}

// ---------------------------------------------------------------------------------------------------
// Errors

/// The field named by a refusal's message: every refusal about input starts `champ {field} : …`.
pub fn refusal_field(refusal: &Refusal) -> Option<String> {
    let text = refusal.to_string();
    let rest = text.strip_prefix("champ ")?;
    let (field, _) = rest.split_once(" :")?;
    (!field.is_empty() && !field.contains(' ')).then(|| field.to_string())
}

fn refused(refusal: &Refusal, prefix: &str) -> ApiError {
    if matches!(refusal, Refusal::RoleNotAllowed { .. }) {
        return ApiError::Forbidden;
    }
    let field = refusal_field(refusal).map(|f| format!("{prefix}{f}"));
    ApiError::unprocessable(field.as_deref(), refusal.to_string())
}

impl From<LedgerError> for ApiError {
    fn from(err: LedgerError) -> ApiError {
        match err {
            LedgerError::NotFound(_) => ApiError::NotFound,
            LedgerError::Forbidden { .. } => ApiError::Forbidden,
            LedgerError::Refused(refusal) => refused(&refusal, ""),
            LedgerError::RefusedAt { index, refusal, .. } => {
                match refused(&refusal, &format!("[{}].", index.saturating_sub(1))) {
                    ApiError::Unprocessable { detail, field } => ApiError::Unprocessable {
                        detail: format!("commande {index} : {detail}"),
                        field,
                    },
                    other => other,
                }
            }
            LedgerError::InvalidFile { message, .. } => {
                ApiError::unprocessable(Some("file"), message)
            }
            LedgerError::InvalidInput { field, message } => {
                ApiError::unprocessable(Some(field), format!("champ {field} : {message}"))
            }
            LedgerError::Import(import) => {
                let field = match &import {
                    crate::import::ImportError::Cell { line, column, .. } => {
                        format!("ligne {line}!{column}")
                    }
                    crate::import::ImportError::MissingColumn { column, .. } => column.clone(),
                    crate::import::ImportError::File { .. } => "file".into(),
                };
                ApiError::Invalid {
                    detail: import.to_string(),
                    errors: vec![FieldError {
                        field,
                        message: import.to_string(),
                    }],
                }
            }
            LedgerError::Catalogue(catalogue) => {
                ApiError::unprocessable(Some("catalogue"), catalogue.to_string())
            }
            LedgerError::Template(cells) => {
                let errors: Vec<FieldError> = cells
                    .iter()
                    .map(|c| FieldError {
                        field: if c.cell.is_empty() {
                            c.sheet.clone()
                        } else {
                            format!("{}!{}", c.sheet, c.cell)
                        },
                        message: c.message_fr.clone(),
                    })
                    .collect();
                ApiError::Invalid {
                    detail: format!("trame refusée : {} erreur(s)", errors.len()),
                    errors,
                }
            }
            export @ LedgerError::Export(_) => ApiError::internal(export),
            view @ LedgerError::View(_) => ApiError::internal(view),
            LedgerError::Store(store) => store.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Helpers

pub(crate) fn access(auth: &Authenticated) -> Access {
    Access::new(auth.actor.clone(), auth.candidate.clone())
}

pub(crate) fn request_meta(
    auth: &Authenticated,
    req: &HttpRequest,
) -> Result<RequestMeta, ApiError> {
    let metadata = auth.metadata(req)?;
    Ok(RequestMeta {
        request_id: RequestId::of(req).0,
        idempotency_key: metadata.idempotency_key,
        expected_version: if_match(req.headers())?,
        comment: None,
    })
}

/// A path's FINESS and domain; anything that does not parse answers 404 like a missing statement.
pub(crate) fn statement_path(path: &(String, String)) -> Result<(Finess, DomainId), ApiError> {
    let finess = Finess::parse(&path.0).map_err(|_| ApiError::NotFound)?;
    let domain = DomainId::parse(&path.1).map_err(|_| ApiError::NotFound)?;
    Ok((finess, domain))
}

pub(crate) fn as_of(text: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    text.map(|t| {
        parse_as_of(t).map_err(|e| ApiError::bad_request("as_of", format!("date invalide : {e}")))
    })
    .transpose()
}

/// One file of a `multipart/form-data` body (field `file`), at most `limit` bytes (413 beyond).
pub(super) async fn read_file_field(
    mut payload: Multipart,
    limit: usize,
) -> Result<(String, Vec<u8>), ApiError> {
    let multipart = |e: actix_multipart::MultipartError| {
        ApiError::bad_request("file", format!("corps multipart illisible : {e}"))
    };
    while let Some(mut field) = payload.try_next().await.map_err(multipart)? {
        let is_file = field.content_disposition().and_then(|d| d.get_name()) == Some("file");
        let name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .unwrap_or("")
            .to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(multipart)? {
            if bytes.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
            }
            if is_file {
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_file {
            return Ok((name, bytes));
        }
    }
    Err(ApiError::bad_request(
        "file",
        "champ de fichier « file » absent du formulaire multipart",
    ))
}

// ---------------------------------------------------------------------------------------------------
// Candidates

/// The candidates the caller may see (an establishment: its own only).
#[utoipa::path(get, path = "/api/candidates", tag = "candidates",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Candidats visibles", body = [Object]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_candidates(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let candidates = state.ledger.candidates(&access(&auth)).await?;
    Ok(HttpResponse::Ok().json(candidates))
}

/// One candidate; another candidate's answers 404 exactly as a missing one.
#[utoipa::path(get, path = "/api/candidates/{finess}", tag = "candidates",
    security(("bearer" = [])),
    params(("finess" = String, Path, description = "FINESS du candidat")),
    responses(
        (status = 200, description = "Le candidat", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_candidate(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let finess = Finess::parse(&path).map_err(|_| ApiError::NotFound)?;
    let candidate = state.ledger.candidate(&access(&auth), &finess).await?;
    Ok(HttpResponse::Ok().json(candidate))
}

/// Imports the candidate base (admin): multipart field `file`, `.csv` or `.xlsx`. One bad row and
/// nothing is recorded.
#[utoipa::path(post, path = "/api/candidates/import", tag = "candidates",
    security(("bearer" = [])),
    request_body(content = String, content_type = "multipart/form-data", description = "champ `file` : base des candidats (.csv ou .xlsx)"),
    responses(
        (status = 200, description = "Ce que l'import a changé", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fichier refusé (ligne et colonne nommées)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_candidates(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let meta = request_meta(&auth, &req)?;
    let (name, bytes) = read_file_field(payload, state.config.max_upload_bytes).await?;
    let summary = state
        .ledger
        .import_candidates(&auth.actor, &meta, &name, &bytes)
        .await?;
    Ok(HttpResponse::Ok().json(summary))
}

// ---------------------------------------------------------------------------------------------------
// Statements

/// One statement in the list.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementRef {
    pub finess: String,
    pub domain: String,
    /// `/api/statements/{finess}/{domain}`
    pub href: String,
}

/// Every statement the caller may see.
#[utoipa::path(get, path = "/api/statements", tag = "statements",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "États financiers visibles", body = [StatementRef]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_statements(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list: Vec<StatementRef> = state
        .ledger
        .statements(&access(&auth))
        .await?
        .into_iter()
        .map(|(finess, domain)| StatementRef {
            href: format!("/api/statements/{finess}/{domain}"),
            finess: finess.to_string(),
            domain: domain.to_string(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// A date `AAAA-MM-JJ` (end of that day in Paris) or an RFC 3339 instant; absent: now.
    pub as_of: Option<String>,
}

/// The statement now or as of an instant: lines, reviews, attainments, payments, subsidy, flags. The
/// `ETag` is the stream version, for `If-Match`.
#[utoipa::path(get, path = "/api/statements/{finess}/{domain}", tag = "statements",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        AsOfQuery,
    ),
    responses(
        (status = 200, description = "L'état financier", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_statement(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&path)?;
    let as_of = as_of(query.as_of.as_deref())?;
    if as_of.is_none() {
        // The read model's view, serialised once per change: a lookup.
        let (version, json) = state
            .ledger
            .statement_json(&access(&auth), &finess, domain)
            .await?;
        return Ok(HttpResponse::Ok()
            .insert_header((header::ETAG, etag(version)))
            .insert_header(header::ContentType::json())
            .body(web::Bytes::from_owner(json)));
    }
    let view: StatementView = state
        .ledger
        .statement(&access(&auth), &finess, domain, as_of)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(view.version)))
        .json(view))
}

/// What a command (or batch) did: the new version and a summary of the statement.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandResult {
    pub stream_id: String,
    /// The stream version after the command (also the `ETag`).
    pub version: i64,
    /// True when nothing was appended: an `Idempotency-Key` replay, or a command with no effect.
    pub replayed: bool,
    /// `draft`, `submitted`, …
    #[schema(value_type = String)]
    pub status: serde_json::Value,
    /// Active lines (not withdrawn).
    pub active_lines: usize,
    pub attainments: usize,
    pub payments: usize,
}

fn command_response(
    stream_id: String,
    appended: bool,
    version: i64,
    statement: &Statement,
) -> HttpResponse {
    let replayed = !appended;
    let result = CommandResult {
        stream_id,
        version,
        replayed,
        status: serde_json::to_value(statement.status).unwrap_or_default(),
        // Counted without ordering the lines (`active_lines` sorts them).
        active_lines: statement.lines.values().filter(|l| l.is_active()).count(),
        attainments: statement.attainments.len(),
        payments: serde_json::to_value(&statement.payments)
            .ok()
            .and_then(|p| {
                p.get("payments")
                    .and_then(|v| v.as_object().map(|m| m.len()))
            })
            .unwrap_or(0),
    };
    let mut response = if replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    response
        .insert_header((header::ETAG, etag(version)))
        .json(result)
}

/// Runs one command on a statement (`{"command": "DeclareExternalCost", …}`, the fields as text).
/// `If-Match` pins the version the client saw; `Idempotency-Key` makes a retry safe.
#[utoipa::path(post, path = "/api/statements/{finess}/{domain}/commands", tag = "statements",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        ("If-Match" = Option<String>, Header, description = "Version du flux attendue, par exemple \"7\""),
        ("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête n'ajoute rien"),
    ),
    request_body(content = Object, description = "Une commande : `{\"command\": \"Submit\"}`, `{\"command\": \"DeclareExternalCost\", \"amount\": \"7 920,00\", …}`"),
    responses(
        (status = 201, description = "Commande enregistrée", body = CommandResult),
        (status = 200, description = "Rien d'ajouté (répétition idempotente)", body = CommandResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Version périmée (If-Match) ou clé d'idempotence réutilisée", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Commande refusée (champ nommé)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_command(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<StatementCommand>,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&path)?;
    let meta = request_meta(&auth, &req)?;
    let access = access(&auth);
    // Visibility first, so that another candidate's statement answers 404 before anything else.
    state
        .ledger
        .check_candidate_visible(&access, &finess)
        .await?;
    let stream = crate::app::ledger::statement_stream(&finess, domain);
    let report = state
        .ledger
        .execute_reporting(&access, &finess, domain, body.into_inner(), &meta)
        .await?;
    Ok(command_response(
        stream,
        report.appended,
        report.version,
        &report.statement,
    ))
}

/// Runs several commands as one (a JSON array): all are appended in one transaction, or none. A
/// refusal names the command's index: `field` is `[2].amount`.
#[utoipa::path(post, path = "/api/statements/{finess}/{domain}/batch", tag = "statements",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        ("If-Match" = Option<String>, Header, description = "Version du flux attendue"),
        ("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête n'ajoute rien"),
    ),
    request_body(content = [Object], description = "Les commandes, dans l'ordre"),
    responses(
        (status = 201, description = "Commandes enregistrées", body = CommandResult),
        (status = 200, description = "Rien d'ajouté (répétition idempotente)", body = CommandResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_batch(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Json<Vec<StatementCommand>>,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&path)?;
    let meta = request_meta(&auth, &req)?;
    let access = access(&auth);
    state
        .ledger
        .check_candidate_visible(&access, &finess)
        .await?;
    let commands = body.into_inner();
    if commands.is_empty() || commands.len() > MAX_BATCH_COMMANDS {
        return Err(ApiError::bad_request(
            "body",
            format!("de 1 à {MAX_BATCH_COMMANDS} commandes par lot"),
        ));
    }
    let stream = crate::app::ledger::statement_stream(&finess, domain);
    let report = state
        .ledger
        .execute_batch_reporting(&access, &finess, domain, commands, &meta)
        .await?;
    Ok(command_response(
        stream,
        report.appended,
        report.version,
        &report.statement,
    ))
}

/// The statement's Excel template (trame de l'état financier), now or as of an instant.
#[utoipa::path(get, path = "/api/statements/{finess}/{domain}/template.xlsx", tag = "templates",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        AsOfQuery,
    ),
    responses(
        (status = 200, description = "Le classeur", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_template(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&path)?;
    let as_of = as_of(query.as_of.as_deref())?;
    let signer = super::proof::signer(&state)?;
    let (bytes, _) = state
        .ledger
        .export_template_signed(&access(&auth), &finess, domain, as_of, signer.as_ref())
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX_CONTENT_TYPE)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"etat-financier-{finess}-{domain}.xlsx\""),
        ))
        .body(bytes))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check the file and list the commands without appending anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports a filled template (multipart field `file`): new lines declared, changed lines corrected,
/// cleared lines withdrawn, in one transaction. Cell errors: 422 with `errors[].field` such as
/// `Coûts externes!H12`.
#[utoipa::path(post, path = "/api/templates/import", tag = "templates",
    security(("bearer" = [])),
    params(ImportQuery,
        ("If-Match" = Option<String>, Header, description = "Version du flux attendue"),
        ("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête n'ajoute rien"),
    ),
    request_body(content = String, content_type = "multipart/form-data", description = "champ `file` : la trame remplie (.xlsx)"),
    responses(
        (status = 200, description = "Ce que l'import a fait (ou ferait, à blanc)", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Cellules refusées", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_template(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let meta = request_meta(&auth, &req)?;
    let (_, bytes) = read_file_field(payload, state.config.max_upload_bytes).await?;
    let outcome = state
        .ledger
        .import_template(&access(&auth), &bytes, query.dry_run, &meta)
        .await?;
    Ok(HttpResponse::Ok().json(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_field_its_message_starts_with() {
        let refusal = Refusal::MissingField { field: "amount" };
        assert_eq!(refusal_field(&refusal).as_deref(), Some("amount"));
        assert_eq!(refusal_field(&Refusal::Locked), None);
    }

    #[test]
    fn a_role_not_allowed_is_a_403() {
        let err: ApiError = LedgerError::Refused(Refusal::RoleNotAllowed {
            role: "paiement",
            command: "Submit",
        })
        .into();
        assert!(matches!(err, ApiError::Forbidden));
    }
}
