//! The HTTP layer's one error enum (STYLE.md habit 5): every variant maps to a status, every response
//! is an RFC 9457 problem-details document (`application/problem+json`) in French. Internal errors are
//! a bare 500; their cause chain goes to the log only.

use crate::app::CommandError;
use crate::store::StoreError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// A refusal that can name the field it is about (domain refusals implement it so that a 422 names
/// the field, SPEC.md §6).
pub trait HasField {
    fn field(&self) -> Option<&str>;
}

impl HasField for std::convert::Infallible {
    fn field(&self) -> Option<&str> {
        match *self {}
    }
}

/// One field's problem in a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// RFC 9457 problem details, as every error response carries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`urn:care-ledger:problem:…`).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The request field the problem is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (syntax, a parameter that does not parse).
    #[error("requête invalide : {detail}")]
    BadRequest {
        detail: String,
        field: Option<String>,
        errors: Vec<FieldError>,
    },
    /// 401: no token, or a token that is unknown or revoked.
    #[error("authentification requise")]
    Unauthorized,
    /// 403: the token's role may not do this.
    #[error("rôle non autorisé")]
    Forbidden,
    /// 404: missing, or belonging to another candidate (the same answer: no existence leak).
    #[error("ressource introuvable")]
    NotFound,
    /// 409: the stream moved on (If-Match) or an idempotency key was reused for another request.
    #[error("conflit : {detail}")]
    Conflict { detail: String },
    /// 413: the body is larger than the configured limit.
    #[error("requête trop volumineuse (limite {limit_bytes} octets)")]
    PayloadTooLarge { limit_bytes: usize },
    /// 415: a body that is not JSON where JSON is expected.
    #[error("type de contenu non pris en charge")]
    UnsupportedMediaType,
    /// 422: well formed, refused by a rule.
    #[error("refusé : {detail}")]
    Unprocessable {
        detail: String,
        field: Option<String>,
    },
    /// 422: a file refused, with one entry per faulty cell or row (`field` is e.g. `Coûts externes!H12`).
    #[error("refusé : {detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 429: too many failed authentications from this address or for this account: come back later.
    #[error("trop de tentatives")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a dependency (the database) does not answer.
    #[error("service indisponible : {detail}")]
    Unavailable { detail: String },
    /// 500: anything else; the response says nothing more.
    #[error("erreur interne")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(field: impl Into<String>, detail: impl Into<String>) -> ApiError {
        let field = field.into();
        let detail = detail.into();
        ApiError::BadRequest {
            errors: vec![FieldError {
                field: field.clone(),
                message: detail.clone(),
            }],
            detail,
            field: Some(field),
        }
    }

    pub fn unprocessable(field: Option<&str>, detail: impl Into<String>) -> ApiError {
        ApiError::Unprocessable {
            detail: detail.into(),
            field: field.map(str::to_string),
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> ApiError {
        ApiError::Internal(err.into())
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad-request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not-found",
            ApiError::Conflict { .. } => "conflict",
            ApiError::PayloadTooLarge { .. } => "payload-too-large",
            ApiError::UnsupportedMediaType => "unsupported-media-type",
            ApiError::Unprocessable { .. } | ApiError::Invalid { .. } => "unprocessable",
            ApiError::TooManyRequests { .. } => "too-many-requests",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem document this error answers with.
    pub fn problem(&self) -> Problem {
        let status = self.status_code().as_u16();
        let base = |title: &str, detail: Option<String>| Problem {
            kind: format!("urn:care-ledger:problem:{}", self.slug()),
            title: title.to_string(),
            status,
            detail,
            instance: None,
            field: None,
            errors: Vec::new(),
        };
        match self {
            ApiError::BadRequest {
                detail,
                field,
                errors,
            } => Problem {
                field: field.clone(),
                errors: errors.clone(),
                ..base("Requête invalide", Some(detail.clone()))
            },
            ApiError::Unauthorized => base(
                "Authentification requise",
                Some(
                    "jeton d'accès absent, inconnu ou révoqué (en-tête Authorization: Bearer)"
                        .into(),
                ),
            ),
            ApiError::Forbidden => base(
                "Accès refusé",
                Some("votre rôle ne permet pas cette opération".into()),
            ),
            ApiError::NotFound => base(
                "Ressource introuvable",
                Some("la ressource demandée n'existe pas".into()),
            ),
            ApiError::Conflict { detail } => base("Conflit", Some(detail.clone())),
            ApiError::PayloadTooLarge { limit_bytes } => Problem {
                field: Some("body".into()),
                ..base(
                    "Requête trop volumineuse",
                    Some(if *limit_bytes > 0 {
                        format!("le corps de la requête dépasse la limite de {limit_bytes} octets")
                    } else {
                        "le corps de la requête dépasse la limite configurée".to_string()
                    }),
                )
            },
            ApiError::UnsupportedMediaType => Problem {
                field: Some("Content-Type".into()),
                ..base(
                    "Type de contenu non pris en charge",
                    Some("le corps doit être du JSON (Content-Type: application/json)".into()),
                )
            },
            ApiError::Unprocessable { detail, field } => Problem {
                field: field.clone(),
                errors: field
                    .iter()
                    .map(|f| FieldError {
                        field: f.clone(),
                        message: detail.clone(),
                    })
                    .collect(),
                ..base("Demande refusée", Some(detail.clone()))
            },
            ApiError::Invalid { detail, errors } => Problem {
                field: errors.first().map(|e| e.field.clone()),
                errors: errors.clone(),
                ..base("Demande refusée", Some(detail.clone()))
            },
            ApiError::TooManyRequests { retry_after_secs } => base(
                "Trop de tentatives",
                Some(format!(
                    "trop d'authentifications échouées ; réessayez dans {retry_after_secs} s"
                )),
            ),
            ApiError::Unavailable { detail } => base("Service indisponible", Some(detail.clone())),
            ApiError::Internal(_) => base("Erreur interne", None),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } | ApiError::Invalid { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(err) = self {
            // The whole cause chain, in the log only (inside the request's span: it has the request id).
            tracing::error!(error = format!("{err:#}"), "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        ));
        match self {
            ApiError::Unavailable { .. } => {
                response.insert_header((
                    header::RETRY_AFTER,
                    HeaderValue::from(RETRY_AFTER_UNAVAILABLE_SECS),
                ));
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from(*retry_after_secs)));
            }
            _ => {}
        }
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"care-ledger\""),
            ));
        }
        let body = serde_json::to_string(&self.problem())
            .unwrap_or_else(|_| "{\"title\":\"Erreur interne\",\"status\":500}".to_string());
        response.body(body)
    }
}

/// How long a client is told to wait (`Retry-After`, seconds) when the database does not answer.
pub const RETRY_AFTER_UNAVAILABLE_SECS: u64 = 5;

/// The request field a store refusal is about, as the client wrote it.
fn append_field(field: &str) -> &str {
    match field {
        "idempotency_key" => "Idempotency-Key",
        "request_id" => "X-Request-Id",
        "payload" | "events" | "event_type" | "schema_version" | "stream_id" => "body",
        other => other,
    }
}

/// Every store error has its answer (no wildcard: a new variant must be placed here): a busy or
/// unreachable database is 503 with `Retry-After`, a refused append a 400 naming its field in French,
/// conflicts 409, anything else a bare 500 (its cause in the log).
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        if err.is_unavailable() {
            tracing::warn!(
                error = format!("{:#}", anyhow::Error::from(err)),
                "database unavailable"
            );
            return ApiError::Unavailable {
                detail: "la base de données ne répond pas ; réessayez dans quelques secondes"
                    .into(),
            };
        }
        match err {
            StoreError::Conflict {
                expected, actual, ..
            } => ApiError::Conflict {
                detail: format!(
                    "le flux a changé : version attendue {expected}, version actuelle {actual}"
                ),
            },
            StoreError::IdempotencyConflict { .. } => ApiError::Conflict {
                detail:
                    "cette clé d'idempotence (Idempotency-Key) a déjà servi pour une autre requête"
                        .into(),
            },
            StoreError::InvalidAppend { field, reason } => {
                let field = append_field(field);
                ApiError::bad_request(field, format!("{field} : {reason}"))
            }
            // Unavailable ones were answered above; these are faults of the service.
            err @ (StoreError::InvalidUrl(_)
            | StoreError::Busy { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Database(_)
            | StoreError::GroupFailed(_)
            | StoreError::WriterStopped
            | StoreError::Migration(_)) => ApiError::Internal(err.into()),
        }
    }
}

impl<E> From<CommandError<E>> for ApiError
where
    E: std::error::Error + HasField + Send + Sync + 'static,
{
    fn from(err: CommandError<E>) -> ApiError {
        match err {
            CommandError::Rejected(refusal) => {
                ApiError::unprocessable(refusal.field(), refusal.to_string())
            }
            CommandError::Store(store) => store.into(),
            decode @ CommandError::Decode { .. } => ApiError::Internal(decode.into()),
        }
    }
}

impl From<actix_web::error::JsonPayloadError> for ApiError {
    fn from(err: actix_web::error::JsonPayloadError) -> ApiError {
        use actix_web::error::JsonPayloadError as J;
        match err {
            J::OverflowKnownLength { limit, .. } | J::Overflow { limit } => {
                ApiError::PayloadTooLarge { limit_bytes: limit }
            }
            J::ContentType => ApiError::UnsupportedMediaType,
            J::Deserialize(e) => json_error(&e),
            J::Serialize(e) => ApiError::internal(e),
            J::Payload(e) => payload_error(e),
            other => ApiError::bad_request("body", other.to_string()),
        }
    }
}

fn json_error(err: &serde_json::Error) -> ApiError {
    // serde's message names the field for missing, unknown or repeated fields ("missing field
    // `role`"); in any other message the text between backticks is a value ("invalid type: integer
    // `2`"), not a field.
    let message = err.to_string();
    let names_a_field = ["missing field `", "unknown field `", "duplicate field `"]
        .iter()
        .any(|start| message.starts_with(start));
    let field = names_a_field
        .then(|| message.split('`').nth(1).map(str::to_string))
        .flatten()
        .unwrap_or_else(|| "body".to_string());
    ApiError::bad_request(field, format!("JSON invalide : {message}"))
}

fn payload_error(err: actix_web::error::PayloadError) -> ApiError {
    match err {
        actix_web::error::PayloadError::Overflow => ApiError::PayloadTooLarge { limit_bytes: 0 },
        other => ApiError::bad_request("body", other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_answers_a_bare_500_without_its_cause() {
        let err = ApiError::internal(anyhow::anyhow!("password=hunter2 in the connection string"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert_eq!(problem.title, "Erreur interne");
        assert!(problem.detail.is_none());
        assert!(!serde_json::to_string(&problem).unwrap().contains("hunter2"));
    }

    #[test]
    fn a_stale_version_is_a_409_conflict() {
        let err: ApiError = StoreError::Conflict {
            stream_id: "s".into(),
            expected: crate::store::ExpectedVersion::Exact(1),
            actual: 2,
        }
        .into();
        assert_eq!(err.status_code(), StatusCode::CONFLICT);
    }

    #[test]
    fn a_busy_or_unreachable_database_is_a_503_with_retry_after() {
        for err in [
            StoreError::Busy { attempts: 5 },
            StoreError::Database(sqlx::Error::PoolTimedOut),
            StoreError::Database(sqlx::Error::PoolClosed),
            StoreError::GroupFailed(std::sync::Arc::new(StoreError::Database(
                sqlx::Error::PoolClosed,
            ))),
            StoreError::WriterStopped,
        ] {
            let api: ApiError = err.into();
            assert_eq!(api.status_code(), StatusCode::SERVICE_UNAVAILABLE);
            let response = api.error_response();
            assert_eq!(
                response.headers().get(header::RETRY_AFTER).unwrap(),
                &RETRY_AFTER_UNAVAILABLE_SECS.to_string()
            );
        }
        let corrupt: ApiError = StoreError::Corrupt {
            position: 3,
            reason: "x".into(),
        }
        .into();
        assert_eq!(corrupt.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_refused_append_names_the_header_in_french() {
        let api: ApiError = StoreError::InvalidAppend {
            field: "idempotency_key",
            reason: "vide ou de plus de 200 caractères".into(),
        }
        .into();
        let problem = api.problem();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.field.as_deref(), Some("Idempotency-Key"));
        assert_eq!(
            problem.detail.as_deref(),
            Some("Idempotency-Key : vide ou de plus de 200 caractères")
        );
    }

    #[test]
    fn a_json_type_error_names_the_body_not_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            domain: String,
        }
        let field = |text: &str| {
            let err = serde_json::from_str::<Body>(text).unwrap_err();
            json_error(&err).problem().field
        };
        assert_eq!(field(r#"{"domain": 2}"#).as_deref(), Some("body"));
        assert_eq!(field(r#"{}"#).as_deref(), Some("domain"));
        assert_eq!(field(r#"{"domain": "D2", "x": 1}"#).as_deref(), Some("x"));
        assert_eq!(field(r#"{"domain": "D2""#).as_deref(), Some("body"));
    }

    #[derive(Debug, thiserror::Error)]
    #[error("montant négatif")]
    struct Negative;
    impl HasField for Negative {
        fn field(&self) -> Option<&str> {
            Some("amount")
        }
    }

    #[test]
    fn a_refused_command_is_a_422_naming_the_field() {
        let err: ApiError = CommandError::Rejected(Negative).into();
        let problem = err.problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.field.as_deref(), Some("amount"));
        assert_eq!(problem.errors[0].message, "montant négatif");
    }
}
