//! Who is asking: the request id (from the middleware), the bearer token's actor and candidate, and the
//! helpers every handler uses to build event metadata and read `If-Match`.

use super::error::ApiError;
use super::tokens::TokenInfo;
use super::AppState;
use crate::actor::{Actor, Role};
use crate::domain::ids::Finess;
use crate::store::{EventMetadata, MAX_KEY_LEN};
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::Future;
use std::pin::Pin;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The id of the current request: the client's `X-Request-Id` when sane, else a new UUID. Set by the
/// request-id middleware, echoed in the response, stored in every event the request appends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// A client's id is kept when it is 1 to 128 visible ASCII characters without spaces.
    pub fn from_client_or_new(header: Option<&str>) -> RequestId {
        match header {
            Some(text)
                if !text.is_empty()
                    && text.len() <= 128
                    && text.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                RequestId(text.to_string())
            }
            _ => RequestId(uuid::Uuid::new_v4().to_string()),
        }
    }

    pub fn of(req: &HttpRequest) -> RequestId {
        req.extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(uuid::Uuid::new_v4().to_string()))
    }
}

/// An authenticated caller, from `Authorization: Bearer <token>`. Unknown, revoked or missing
/// token: 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub actor: Actor,
    /// The candidate an `etablissement` token is bound to.
    pub candidate: Option<Finess>,
    pub token_id: String,
}

impl Authenticated {
    pub fn role(&self) -> Role {
        self.actor.role
    }

    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.actor.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Whether the caller may see this candidate's data: every role but `etablissement`, which sees
    /// only its own. Handlers answer 404 (never 403) when this is false, so nothing leaks.
    pub fn may_see_candidate(&self, finess: &str) -> bool {
        match self.actor.role {
            Role::Etablissement => self
                .candidate
                .as_ref()
                .is_some_and(|own| own.as_str() == finess),
            _ => true,
        }
    }

    /// The metadata of events this request appends: actor and role from the token, the request id,
    /// the `Idempotency-Key` header (400 when malformed).
    pub fn metadata(&self, req: &HttpRequest) -> Result<EventMetadata, ApiError> {
        let mut metadata = EventMetadata::new(&self.actor, RequestId::of(req).0);
        if let Some(key) = idempotency_key(req.headers())? {
            metadata = metadata.with_idempotency_key(key);
        }
        Ok(metadata)
    }

    fn from_token(info: TokenInfo) -> Authenticated {
        Authenticated {
            actor: info.actor(),
            candidate: info.candidate_finess(),
            token_id: info.id,
        }
    }
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Authenticated, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let secret = bearer(req.headers());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no AppState")))?;
            let secret = secret.ok_or(ApiError::Unauthorized)?;
            match state
                .tokens
                .authenticate(&state.store, &state.ledger, &secret)
                .await
            {
                Ok(Some(info)) => Ok(Authenticated::from_token(info)),
                Ok(None) => Err(ApiError::Unauthorized),
                Err(err) => Err(ApiError::internal(err)),
            }
        })
    }
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The `Idempotency-Key` header: 1 to 200 visible ASCII characters, or 400 naming it.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().map(str::trim).unwrap_or("");
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "Idempotency-Key",
            format!("1 à {MAX_KEY_LEN} caractères ASCII visibles"),
        ));
    }
    Ok(Some(text.to_string()))
}

/// `If-Match: "7"` or `If-Match: 7` → Some(7): the stream version the client last saw. Absent → None;
/// anything else (a list, `*`, a negative number) → 400 naming the header.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    let inner = text
        .strip_prefix("W/")
        .unwrap_or(text)
        .trim_matches('"')
        .trim();
    match inner.parse::<i64>() {
        Ok(v) if v >= 0 && !inner.starts_with('+') => Ok(Some(v)),
        _ => Err(ApiError::bad_request(
            "If-Match",
            "attendu la version du flux, par exemple \"7\"",
        )),
    }
}

/// The ETag of a stream version, as `If-Match` takes it back.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with_if_match(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_match_takes_a_quoted_or_bare_version() {
        assert_eq!(if_match(&with_if_match("\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&with_if_match("7")).unwrap(), Some(7));
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn if_match_refuses_anything_else_naming_the_header() {
        for bad in ["*", "\"a\"", "-1", "1, 2", ""] {
            let err = if_match(&with_if_match(bad)).unwrap_err();
            assert_eq!(err.problem().field.as_deref(), Some("If-Match"), "{bad}");
        }
    }

    #[test]
    fn a_sane_client_request_id_is_kept_and_a_strange_one_replaced() {
        assert_eq!(RequestId::from_client_or_new(Some("abc-123")).0, "abc-123");
        let replaced = RequestId::from_client_or_new(Some("a b\u{7f}"));
        assert_ne!(replaced.0, "a b\u{7f}");
        assert_eq!(replaced.0.len(), 36);
    }
}
