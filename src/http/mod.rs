//! The HTTP service (`care-ledger serve`): actix-web over the event store.
//!
//! - [`Application::build`] binds the configured address (port 0 in tests) and is used by both the
//!   `serve` command and the API tests;
//! - [`AppState`] is shared by every handler through `web::Data`;
//! - [`auth::Authenticated`] extracts the caller from `Authorization: Bearer <token>`;
//!   [`auth::Authenticated::metadata`] builds the metadata of the events a request appends;
//! - [`error::ApiError`] turns every failure into an RFC 9457 problem (`application/problem+json`);
//! - every request gets the service's own id (`X-Request-Id`), echoed in the response, present in its
//!   log lines and stored in the events it appends; a client's `X-Request-Id` is only logged beside it
//!   (`client_request_id`), never taken as the service's;
//! - every response carries `X-Content-Type-Options: nosniff`, every `/api/` response
//!   `Cache-Control: no-store`;
//! - the OpenAPI document (`/openapi.json`, Swagger UI at `/swagger-ui/`) is generated from the
//!   handlers' `#[utoipa::path]` annotations listed in [`ApiDoc`].
//!
//! Adding a route: write the handler with `#[utoipa::path]`, register it in a `configure` function
//! (see [`routes::configure`]) called from [`app_config`], list it in [`ApiDoc`]'s `paths(...)` (or
//! merge another `OpenApi` in [`openapi`]), and add its rows to the role matrix in `tests/http_api.rs`.

pub mod auth;
pub mod documents;
pub mod error;
pub mod payments;
pub mod payroll;
pub mod proof;
pub mod routes;
pub mod statements;
pub mod tokens;

use crate::app::Ledger;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::EventStore;
use actix_web::dev::{Server, Service};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{web, App, HttpMessage, HttpServer};
use auth::{ClientAddress, ClientRequestId, RequestId, REQUEST_ID_HEADER};
use error::ApiError;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Amounts in JSON responses: exactly two decimals as text (`"36250.50"`), whatever scale the value
/// was read with ([`crate::domain::Money::to_plain_string`]).
pub(crate) mod plain_money {
    use crate::domain::Money;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(amount: &Money, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&amount.to_plain_string())
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            amount: &Option<Money>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match amount {
                Some(amount) => super::serialize(amount, serializer),
                None => serializer.serialize_none(),
            }
        }
    }
}

/// How long a graceful shutdown waits for requests in flight.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: EventStore,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// The ledger service (read models cached in memory), as the CLI and the demo use it.
    pub ledger: Arc<Ledger>,
    /// Tokens recently authenticated (no database query per request).
    pub tokens: Arc<tokens::TokenCache>,
    /// Failed authentications slowed down per token prefix and per client address.
    pub auth_throttle: Arc<crate::app::throttle::Throttle>,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "care-ledger",
        description = "Registre des états financiers et paiements CaRE. Authentification : \
                       `Authorization: Bearer <jeton>`. Erreurs : RFC 9457 (application/problem+json)."
    ),
    paths(
        routes::health,
        routes::ready,
        routes::ledger_verify,
        routes::ledger_checkpoint,
        routes::stream_events,
        routes::create_token,
        routes::revoke_token,
        statements::list_candidates,
        statements::get_candidate,
        statements::import_candidates,
        statements::list_statements,
        statements::get_statement,
        statements::post_command,
        statements::post_batch,
        statements::get_template,
        statements::import_template,
        payroll::import_recaps,
        payroll::import_key,
        payroll::get_payroll,
        payroll::declare_line,
        payments::issue_batch,
        payments::list_batches,
        payments::batch_as_csv,
        payments::batch_as_xlsx,
    ),
    components(schemas(
        error::Problem,
        error::FieldError,
        tokens::TokenInfo,
        statements::StatementRef,
        statements::CommandResult,
        payroll::FullYearView,
        payroll::EmployeeRecap,
        payroll::PayrollImportResult,
        payroll::KeyImportResult,
        payroll::PayrollBookView,
        payroll::PayrollLineResult,
        payments::BatchRequest,
        payments::BatchLineView,
        payments::SkippedView,
        payments::BatchLinks,
        payments::BatchView,
        payments::BatchIssueResult,
    )),
    modifiers(&BearerSecurity)
)]
pub struct ApiDoc;

struct BearerSecurity;

impl utoipa::Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole OpenAPI document (later modules merge theirs here).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(documents::DocumentsDoc::openapi());
    doc.merge(proof::ProofDoc::openapi());
    describe_every_response(&mut doc);
    doc
}

/// OpenAPI requires a description on every response; the annotations give one where it says more than
/// the status (a problem's own `title` and `detail` say the rest), this fills the others.
fn describe_every_response(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(response) = response {
                    if response.description.is_empty() {
                        response.description = status_description(status).to_string();
                    }
                }
            }
        }
    }
}

fn status_description(status: &str) -> &'static str {
    match status {
        "200" => "Réponse",
        "201" => "Enregistré",
        "204" => "Fait",
        "400" => "Requête invalide (champ nommé)",
        "401" => "Authentification requise",
        "403" => "Rôle non autorisé",
        "404" => "Introuvable (ou appartenant à un autre candidat)",
        "409" => "Conflit de version ou de clé d'idempotence",
        "413" => "Requête trop volumineuse",
        "415" => "Type de contenu non pris en charge",
        "422" => "Refusé par une règle (champ nommé)",
        "429" => "Trop de tentatives (réessayer après Retry-After)",
        "503" => "Service indisponible",
        _ => "Réponse",
    }
}

/// Every route, extractor limit and error handler of the service.
pub fn app_config(config: &Config) -> impl Fn(&mut web::ServiceConfig) + Clone {
    let limit = config.max_upload_bytes;
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(
            web::JsonConfig::default()
                .limit(limit)
                .error_handler(|err, _req| ApiError::from(err).into()),
        )
        .app_data(web::PayloadConfig::default().limit(limit))
        .app_data(web::QueryConfig::default().error_handler(|err, _req| {
            ApiError::bad_request("query", format!("paramètres invalides : {err}")).into()
        }))
        .app_data(web::PathConfig::default().error_handler(|err, _req| {
            ApiError::bad_request("path", format!("chemin invalide : {err}")).into()
        }))
        .configure(routes::configure)
        .configure(statements::configure)
        .configure(documents::configure)
        .configure(payroll::configure)
        .configure(payments::configure)
        .configure(proof::configure);
    }
}

/// The HTTP server, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `config.bind` (`127.0.0.1:0` picks a free port) and builds the server, with the ledger
    /// service over `store` and the catalogue read from `config.catalogue_dir`. Commands are dated by
    /// the store's clock (tests pin it with a `FixedClock`).
    pub async fn build(config: Config, store: EventStore) -> anyhow::Result<Application> {
        let (catalogue, _) = crate::demo::load_catalogue(&config.catalogue_dir)?;
        let ledger = Arc::new(Ledger::open(store.clone(), catalogue).await?);
        // Current reads come from the read models: the follower applies every commit of this process
        // as it happens and polls for those of other processes (README: "HTTP API").
        ledger.start_follower();
        let token_cache = Arc::new(tokens::TokenCache::new(
            ledger.watch_stream(tokens::TOKENS_STREAM),
        ));
        let trusted_proxies = Arc::new(config.trusted_proxy_ranges()?);
        let listener = TcpListener::bind(&config.bind)
            .map_err(|e| anyhow::anyhow!("cannot bind {}: {e}", config.bind))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            clock: store.clock(),
            store,
            config: config.clone(),
            ledger,
            tokens: token_cache,
            auth_throttle: crate::app::throttle::Throttle::new(config.auth_throttle),
        });
        let routes = app_config(&config);
        let doc = openapi();
        let server = HttpServer::new(move || {
            let trusted_proxies = trusted_proxies.clone();
            App::new()
                .app_data(state.clone())
                .wrap_fn(move |req, srv| {
                    // The service's own id; the client's, if any, only beside it in the log.
                    let request_id = RequestId::new();
                    let client_request_id = ClientRequestId::from_header(
                        req.headers()
                            .get(REQUEST_ID_HEADER)
                            .and_then(|v| v.to_str().ok()),
                    );
                    let client = ClientAddress::resolve(
                        req.peer_addr().map(|a| a.ip()),
                        req.headers(),
                        &trusted_proxies,
                    );
                    req.extensions_mut().insert(request_id.clone());
                    req.extensions_mut().insert(client);
                    let personal_data = req.path().starts_with("/api/");
                    let span = tracing::info_span!(
                        "request",
                        request_id = %request_id.0,
                        client_request_id = client_request_id.as_ref().map(|c| c.0.as_str()),
                        client = client.0.map(tracing::field::display),
                        method = %req.method(),
                        path = %req.path(),
                    );
                    let started = Instant::now();
                    let call = {
                        let _entered = span.enter();
                        srv.call(req)
                    };
                    async move {
                        let mut res = call.await?;
                        let headers = res.headers_mut();
                        if let Ok(value) = HeaderValue::from_str(&request_id.0) {
                            headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
                        }
                        // Every response: never sniffed as another type than it says (an uploaded
                        // file served back must not become a page). Everything under /api/ is
                        // personal or audit data: never kept by a browser or a shared cache.
                        headers.insert(
                            header::X_CONTENT_TYPE_OPTIONS,
                            HeaderValue::from_static("nosniff"),
                        );
                        if personal_data {
                            headers.insert(
                                header::CACHE_CONTROL,
                                HeaderValue::from_static("no-store"),
                            );
                        }
                        tracing::info!(
                            status = res.status().as_u16(),
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "request served"
                        );
                        Ok(res)
                    }
                    .instrument(span)
                })
                .configure(routes.clone())
                .service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/openapi.json", doc.clone()))
                .default_service(web::to(routes::not_found))
        })
        .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
        .listen(listener)?
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server (benches and tests that run it in-process).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Runs until SIGINT/SIGTERM (graceful: requests in flight finish, up to [`SHUTDOWN_TIMEOUT`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// `care-ledger serve`: open the ledger, bind, serve until stopped, close the database.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = EventStore::open(&config.database_url, Arc::new(SystemClock)).await?;
    let app = Application::build(config.clone(), store.clone()).await?;
    let bound = format!(
        "{}:{}",
        config
            .bind
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or("127.0.0.1"),
        app.port()
    );
    tracing::info!(
        address = %bound,
        database = %crate::store::redact(&config.database_url),
        "care-ledger serving"
    );
    eprintln!("care-ledger : service sur http://{bound} (arrêt : Ctrl-C)");
    app.run_until_stopped().await?;
    store.close().await;
    eprintln!("care-ledger : arrêté");
    Ok(())
}
