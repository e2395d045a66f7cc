//! What proves the ledger over HTTP (issue 16 §3): `POST /api/templates/verify` takes an exported
//! workbook (multipart field `file`) from any authenticated caller and answers whether it shows the
//! ledger's figures at its position, with every cell that differs; the caller reaches only what it may
//! see (an establishment: its own candidate, and only workbooks made for an establishment). Exports
//! and checkpoints are signed with the configured Ed25519 key.

use super::auth::Authenticated;
use super::error::{ApiError, Problem};
use super::statements::{access, read_file_field};
use super::AppState;
use crate::signing::Signer;
use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};

/// The OpenAPI paths of this module (merged into the service's document by [`super::openapi`]).
#[derive(utoipa::OpenApi)]
#[openapi(paths(verify_export))]
pub struct ProofDoc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/templates/verify", web::post().to(verify_export));
}

/// The configured signing key (`signing_key_file`), read when needed; a key that cannot be read is
/// the operator's error, logged, and a bare 500 to the client.
pub(crate) fn signer(state: &AppState) -> Result<Option<Signer>, ApiError> {
    state
        .config
        .signing_key_file
        .as_deref()
        .map(Signer::load)
        .transpose()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("signing_key_file: {e}")))
}

/// Verifies an exported workbook: its signature (with the service's public key) and, regenerated at
/// its position for the viewer it was made for, every cell that differs.
#[utoipa::path(post, path = "/api/templates/verify", tag = "templates",
    security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "multipart/form-data", description = "champ `file` : un classeur exporté (.xlsx)"),
    responses(
        (status = 200, description = "Le verdict : signature, conformité au registre, différences", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Classeur établi pour un rôle qui en voit davantage", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fichier illisible ou qui n'est pas une trame du service", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify_export(
    auth: Authenticated,
    state: web::Data<AppState>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let limit = state.config.max_upload_bytes;
    let (_, bytes) = read_file_field(payload, limit).await?;
    let keys: Vec<_> = signer(&state)?.map(|s| s.public()).into_iter().collect();
    let verification = state
        .ledger
        .verify_export(&access(&auth), &bytes, limit, &keys)
        .await?;
    Ok(HttpResponse::Ok().json(verification))
}
