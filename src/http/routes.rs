//! The handlers of the foundation: health, readiness, ledger verification and checkpoint, stream
//! events, tokens. Each is documented for OpenAPI with `#[utoipa::path]` and listed in
//! [`super::ApiDoc`]; each is registered in [`configure`].

use super::auth::{etag, Authenticated};
use super::error::{ApiError, Problem};
use super::tokens::{self, CreatedToken, NewToken, TokenError};
use super::AppState;
use crate::actor::Role;
use crate::cli::parse_as_of;
use crate::store::checkpoint::{Checkpoint, CheckpointError};
use crate::store::{ReadBound, RecordedEvent};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// How long `/ready` waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// Registers every route of this module. Later modules add a `configure` of their own beside it.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/ready", web::get().to(ready))
        .route("/api/ledger/verify", web::get().to(ledger_verify))
        .route("/api/ledger/checkpoint", web::get().to(ledger_checkpoint))
        .route(
            "/api/streams/{stream:.+}/events",
            web::get().to(stream_events),
        )
        .route("/api/tokens", web::post().to(create_token))
        .route("/api/tokens/{id}", web::delete().to(revoke_token));
}

impl From<TokenError> for ApiError {
    fn from(err: TokenError) -> ApiError {
        match err {
            TokenError::Invalid { field, message } => ApiError::bad_request(field, message),
            TokenError::NotFound(_) => ApiError::NotFound,
            TokenError::Store(store) => store.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "service",
    responses((status = 200, description = "Le service répond", body = Health)))]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "service",
    responses(
        (status = 200, description = "Prêt : la base répond", body = Ready),
        (status = 503, description = "La base ne répond pas", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let unavailable = || ApiError::Unavailable {
        detail: "la base de données ne répond pas".into(),
    };
    match tokio::time::timeout(READY_TIMEOUT, state.store.head()).await {
        // Up or down, for anyone: never the ledger's head position (how much happened, and when).
        Ok(Ok(_)) => Ok(HttpResponse::Ok().json(Ready {
            status: "ready",
            database: state.store.engine().to_string(),
        })),
        Ok(Err(err)) => {
            tracing::warn!(error = format!("{err:#}"), "readiness check failed");
            Err(unavailable())
        }
        Err(_) => {
            tracing::warn!("readiness check timed out");
            Err(unavailable())
        }
    }
}

/// Recomputes every hash chain (controleur, admin). The report names the first altered event.
#[utoipa::path(get, path = "/api/ledger/verify", tag = "ledger",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rapport de vérification", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ledger_verify(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Controleur, Role::Admin])?;
    let report = crate::store::verify::verify(&state.store, None).await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The head hashes signed with the configured key (admin): Ed25519 with `signing_key_file`, else HMAC
/// with `checkpoint_key` (format v1).
#[utoipa::path(get, path = "/api/ledger/checkpoint", tag = "ledger",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Point de contrôle signé", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Aucune clé de signature configurée", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn ledger_checkpoint(
    auth: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    if let Some(signer) = super::proof::signer(&state)? {
        return match Checkpoint::take_signed(&state.store, &signer).await {
            Ok(checkpoint) => Ok(HttpResponse::Ok().json(checkpoint)),
            Err(CheckpointError::Store(err)) => Err(err.into()),
            Err(other) => Err(ApiError::internal(other)),
        };
    }
    let no_key = || {
        ApiError::unprocessable(
            Some("checkpoint_key"),
            "aucune clé de signature des points de contrôle n'est configurée \
             (CARE_LEDGER_CHECKPOINT_KEY, au moins 16 octets)",
        )
    };
    let key = state.config.checkpoint_key.as_ref().ok_or_else(no_key)?;
    match Checkpoint::take(&state.store, key.expose().as_bytes()).await {
        Ok(checkpoint) => Ok(HttpResponse::Ok().json(checkpoint)),
        Err(CheckpointError::WeakKey) => Err(no_key()),
        Err(CheckpointError::Store(err)) => Err(err.into()),
        Err(other) => Err(ApiError::internal(other)),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// A date `AAAA-MM-JJ` (end of that day in Paris) or an RFC 3339 instant.
    pub as_of: Option<String>,
    /// The last stream version to return.
    pub up_to_version: Option<i64>,
}

/// One stored event as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub position: i64,
    pub stream_version: i64,
    pub event_type: String,
    pub schema_version: i32,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub actor: String,
    pub role: String,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    pub comment: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub hash: String,
}

impl EventView {
    pub fn of(event: RecordedEvent) -> Result<EventView, ApiError> {
        let payload = event.payload_json()?;
        Ok(EventView {
            position: event.position,
            stream_version: event.stream_version,
            recorded_at: event.recorded_at(),
            event_type: event.event_type,
            schema_version: event.schema_version,
            payload,
            actor: event.actor,
            role: event.role,
            request_id: event.request_id,
            idempotency_key: event.idempotency_key,
            comment: event.comment,
            hash: event.hash,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StreamEvents {
    pub stream_id: String,
    /// The stream's current version (also the response's ETag, for `If-Match`).
    pub version: i64,
    pub events: Vec<EventView>,
}

/// The candidate a stream belongs to: statement streams are `statement/{FINESS}/{DOMAIN}`.
pub fn stream_candidate(stream_id: &str) -> Option<&str> {
    let mut parts = stream_id.split('/');
    match (parts.next(), parts.next()) {
        (Some("statement"), Some(finess)) => Some(finess),
        _ => None,
    }
}

/// Whether the caller may read this stream; an `etablissement` sees only its own candidate's
/// statement streams, and anything else answers 404 exactly as a missing stream.
pub fn check_stream_access(auth: &Authenticated, stream_id: &str) -> Result<(), ApiError> {
    auth.require(&[Role::Etablissement, Role::Controleur, Role::Admin])?;
    match auth.role() {
        Role::Etablissement => match stream_candidate(stream_id) {
            Some(finess) if auth.may_see_candidate(finess) => Ok(()),
            _ => Err(ApiError::NotFound),
        },
        _ => Ok(()),
    }
}

/// One stream's events, optionally as of an instant or up to a version (controleur, admin;
/// etablissement for its own candidate's statements).
#[utoipa::path(get, path = "/api/streams/{stream}/events", tag = "ledger",
    security(("bearer" = [])),
    params(("stream" = String, Path, description = "Identifiant du flux, par exemple statement/010000024/D1bis"), EventsQuery),
    responses(
        (status = 200, description = "Les événements du flux", body = StreamEvents),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Flux inexistant ou d'un autre candidat", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stream_events(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let stream_id = path.into_inner();
    check_stream_access(&auth, &stream_id)?;
    let as_of = query
        .as_of
        .as_deref()
        .map(parse_as_of)
        .transpose()
        .map_err(|_| {
            ApiError::bad_request(
                "as_of",
                "attendu une date AAAA-MM-JJ ou un instant RFC 3339",
            )
        })?;
    if query.up_to_version.is_some_and(|v| v < 0) {
        return Err(ApiError::bad_request(
            "up_to_version",
            "un entier positif ou nul",
        ));
    }
    let version = state.store.stream_version(&stream_id).await?;
    if version == 0 {
        return Err(ApiError::NotFound);
    }
    let bound = ReadBound {
        up_to_version: query.up_to_version,
        as_of,
    };
    let events = state
        .store
        .read_stream(&stream_id, bound)
        .await?
        .into_iter()
        .map(EventView::of)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(StreamEvents {
            stream_id,
            version,
            events,
        }))
}

/// Creates an API token (admin). The secret is in the answer once and never again.
#[utoipa::path(post, path = "/api/tokens", tag = "tokens",
    security(("bearer" = [])),
    request_body = NewToken,
    params(("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête ne crée qu'un jeton")),
    responses(
        (status = 201, description = "Jeton créé (le secret n'est montré qu'ici)", body = CreatedToken),
        (status = 200, description = "Répétition idempotente : le jeton déjà créé, sans son secret", body = CreatedToken),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Clé d'idempotence déjà utilisée pour une autre requête", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let metadata = auth.metadata(&req)?;
    let created = tokens::create(&state.store, state.clock.as_ref(), &metadata, &body).await?;
    let mut response = if created.replayed {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    };
    Ok(response
        .insert_header((header::LOCATION, format!("/api/tokens/{}", created.info.id)))
        .json(created))
}

/// Revokes an API token (admin): it answers 401 from now on.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "tokens",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Identifiant du jeton")),
    responses(
        (status = 204, description = "Jeton révoqué"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(&[Role::Admin])?;
    let metadata = auth.metadata(&req)?;
    tokens::revoke(&state.store, state.clock.as_ref(), &metadata, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Any unknown route: a 404 problem like every other.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}
