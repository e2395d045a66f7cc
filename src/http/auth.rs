//! Who is asking: the request id (from the middleware), the bearer token's actor and candidate, and the
//! helpers every handler uses to build event metadata and read `If-Match`.

use super::error::ApiError;
use super::tokens::TokenInfo;
use super::AppState;
use crate::actor::{Actor, Role};
use crate::config::IpRange;
use crate::domain::ids::Finess;
use crate::store::{EventMetadata, MAX_KEY_LEN};
use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
pub const FORWARDED_FOR_HEADER: &str = "x-forwarded-for";
pub const FORWARDED_HEADER: &str = "forwarded";
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The service's own id of the current request: a new UUID for every request, set by the request
/// middleware, echoed in the response's `X-Request-Id`, stored in every event the request appends.
/// A client's `X-Request-Id` is never taken for it (a client could forge an audit trail); it is kept
/// apart as a [`ClientRequestId`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn new() -> RequestId {
        RequestId(uuid::Uuid::new_v4().to_string())
    }

    pub fn of(req: &HttpRequest) -> RequestId {
        req.extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(RequestId::new)
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

/// What the client said its request id was (`X-Request-Id`), when sane (1 to 128 visible ASCII
/// characters): written in the request's log lines as `client_request_id`, beside the service's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRequestId(pub String);

impl ClientRequestId {
    pub fn from_header(header: Option<&str>) -> Option<ClientRequestId> {
        header
            .filter(|text| {
                !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic())
            })
            .map(|text| ClientRequestId(text.to_string()))
    }
}

/// The address a request comes from: the connection's peer, or, when that peer is a trusted reverse
/// proxy (configuration `trusted_proxies`), the client its `Forwarded` (else `X-Forwarded-For`)
/// header names: the right-most address that is not itself a trusted proxy. Set by the request
/// middleware; throttling and logs use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    pub fn resolve(
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        trusted: &[IpRange],
    ) -> ClientAddress {
        let Some(peer) = peer else {
            return ClientAddress(None);
        };
        let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
        if !is_trusted(peer) {
            return ClientAddress(Some(peer));
        }
        let hops = forwarded_hops(headers);
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) if is_trusted(*ip) => client = *ip,
                Some(ip) => return ClientAddress(Some(*ip)),
                // `unknown`, an obfuscated name, garbage: the last trusted hop is all we know.
                None => return ClientAddress(Some(client)),
            }
        }
        ClientAddress(Some(client))
    }

    pub fn of(req: &HttpRequest) -> ClientAddress {
        req.extensions()
            .get::<ClientAddress>()
            .copied()
            .unwrap_or(ClientAddress(req.peer_addr().map(|a| a.ip())))
    }
}

/// The addresses a request went through, oldest first: `Forwarded: for=…` when present, else
/// `X-Forwarded-For`. An element that is not an address is `None`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    const MAX_HOPS: usize = 32;
    let forwarded: Vec<&str> = headers
        .get_all(FORWARDED_HEADER)
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .take(MAX_HOPS)
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(value))
                        .flatten()
                })
            })
            .collect();
    }
    headers
        .get_all(FORWARDED_FOR_HEADER)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .take(MAX_HOPS)
        .map(parse_node)
        .collect()
}

/// `192.0.2.1`, `"[2001:db8::1]:4711"`, `192.0.2.1:8080` → the address.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    text.rsplit_once(':')?
        .0
        .parse::<std::net::Ipv4Addr>()
        .ok()
        .map(IpAddr::V4)
}

/// The throttling account of a presented token: its prefix (never the whole secret).
fn token_account(secret: &str) -> String {
    let prefix: String = secret.chars().take(12).collect();
    format!("jeton:{prefix}")
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

    /// A presented token is an attempt: throttled per token prefix and per client address before it
    /// is checked (see [`crate::app::throttle`]); no token at all is a plain 401.
    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let secret = bearer(req.headers());
        let client = ClientAddress::of(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no AppState")))?;
            let secret = secret.ok_or(ApiError::Unauthorized)?;
            // A token checked a moment ago: no guess, nothing to throttle (concurrent requests of a
            // legitimate client are not queued behind each other).
            if let Some(info) = state
                .tokens
                .recently_valid(&state.store, &state.ledger, &secret)
                .await?
            {
                return Ok(Authenticated::from_token(info));
            }
            let account = token_account(&secret);
            let attempt = state
                .auth_throttle
                .begin(Some(&account), client.0)
                .map_err(|refused| {
                    tracing::warn!(
                        client = ?client.0,
                        account = %account,
                        retry_after_s = refused.retry_after.as_secs(),
                        "authentication attempts refused (too many failures)"
                    );
                    ApiError::TooManyRequests {
                        retry_after_secs: refused.retry_after.as_secs().saturating_add(1),
                    }
                })?;
            if !attempt.wait().is_zero() {
                tokio::time::sleep(attempt.wait()).await;
            }
            match state
                .tokens
                .authenticate(&state.store, &state.ledger, &secret)
                .await
            {
                Ok(Some(info)) => {
                    attempt.succeeded();
                    Ok(Authenticated::from_token(info))
                }
                Ok(None) => {
                    attempt.failed();
                    tracing::warn!(client = ?client.0, account = %account, "authentication failed");
                    Err(ApiError::Unauthorized)
                }
                Err(err) => Err(err.into()),
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

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                header::HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn forwarded_headers_are_believed_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = [IpRange::parse("10.0.0.0/24").unwrap()];
        let forged = headers(&[(FORWARDED_FOR_HEADER, "198.51.100.7")]);
        // From the Internet directly: the header is the client's own claim, ignored.
        let direct: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            ClientAddress::resolve(Some(direct), &forged, &trusted).0,
            Some(direct)
        );
        // Through the proxy: the right-most address that is not a trusted proxy.
        let chain = headers(&[(FORWARDED_FOR_HEADER, "1.2.3.4, 198.51.100.7, 10.0.0.9")]);
        assert_eq!(
            ClientAddress::resolve(Some(proxy), &chain, &trusted).0,
            Some("198.51.100.7".parse().unwrap())
        );
        let rfc7239 = headers(&[(
            FORWARDED_HEADER,
            "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\"",
        )]);
        assert_eq!(
            ClientAddress::resolve(Some(proxy), &rfc7239, &trusted).0,
            Some("2001:db8:cafe::17".parse().unwrap())
        );
        let garbage = headers(&[(FORWARDED_FOR_HEADER, "unknown")]);
        assert_eq!(
            ClientAddress::resolve(Some(proxy), &garbage, &trusted).0,
            Some(proxy)
        );
        // No proxy configured: never believed.
        assert_eq!(
            ClientAddress::resolve(Some(proxy), &chain, &[]).0,
            Some(proxy)
        );
    }

    #[test]
    fn a_sane_client_request_id_is_kept_apart_and_a_strange_one_dropped() {
        assert_eq!(
            ClientRequestId::from_header(Some("abc-123")),
            Some(ClientRequestId("abc-123".into()))
        );
        assert_eq!(ClientRequestId::from_header(Some("a b\u{7f}")), None);
        assert_eq!(ClientRequestId::from_header(Some(&"x".repeat(129))), None);
        assert_ne!(RequestId::new(), RequestId::new());
        assert_eq!(RequestId::new().0.len(), 36);
    }
}
