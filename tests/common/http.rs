//! The HTTP service spawned on port 0 over a harness store, tokens made as the CLI makes them, and the
//! sample candidates and statements seeded through the `Ledger` as the demo does.

use super::Harness;
use care_ledger::actor::{Actor, Role};
use care_ledger::app::{Access, Ledger, RequestMeta};
use care_ledger::clock::paris_noon;
use care_ledger::config::{Config, Secret};
use care_ledger::domain::statement::{ExternalCostInput, StatementCommand};
use care_ledger::domain::{DomainId, Finess};
use care_ledger::http::tokens::{self, NewToken};
use care_ledger::http::Application;
use care_ledger::store::EventMetadata;
use chrono::NaiveDate;
use reqwest::Method;
use serde_json::Value;
use std::path::Path;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
}

impl TestApp {
    pub async fn spawn(
        h: &Harness,
        checkpoint_key: Option<&str>,
        max_upload_bytes: usize,
    ) -> TestApp {
        Self::spawn_with(h, |config| {
            config.checkpoint_key = checkpoint_key.map(Secret::new);
            config.max_upload_bytes = max_upload_bytes;
        })
        .await
    }

    /// The service with a configuration of the test's own (e.g. trusted proxies).
    pub async fn spawn_with(h: &Harness, edit: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config {
            database_url: h.url.clone(),
            bind: "127.0.0.1:0".into(),
            ..Config::default()
        };
        edit(&mut config);
        let app = Application::build(config, h.store.clone()).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            base,
            client: reqwest::Client::new(),
        }
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match token {
            Some(t) => builder.bearer_auth(t),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        self.request(Method::GET, path, token).send().await.unwrap()
    }

    /// POST a `multipart/form-data` body with one file field `file`.
    pub async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        file_name: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let (content_type, body) = multipart_file(file_name, bytes);
        self.request(Method::POST, path, token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// A `multipart/form-data` body with one field `file` (reqwest is built without its multipart
/// feature).
pub fn multipart_file(file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "care-ledger-test-boundary-7f3a";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A `multipart/form-data` body with text fields and, optionally, a file field `file`.
pub fn multipart_form(file: Option<(&str, &[u8])>, fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "care-ledger-form-boundary-41c2";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl TestApp {
    /// POST a multipart form (text fields and an optional file).
    pub async fn post_form(
        &self,
        path: &str,
        token: &str,
        file: Option<(&str, &[u8])>,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (content_type, body) = multipart_form(file, fields);
        self.request(Method::POST, path, Some(token))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

/// Centre hospitalier de Montfavet-Durance (EJ public, not in a GHT, D1 bis only).
pub fn own() -> Finess {
    Finess::parse("840000194").unwrap()
}

/// Clinique du Parc Saint-Lazare.
pub fn other() -> Finess {
    Finess::parse("130004526").unwrap()
}

pub fn day(y: i32, m: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
    paris_noon(NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

/// A token made as the CLI makes it: (secret, id).
pub async fn token(h: &Harness, role: Role, candidate: Option<&Finess>) -> (String, String) {
    let created = tokens::create(
        &h.store,
        &h.clock,
        &EventMetadata::new(&Actor::new(Role::Admin, "setup").unwrap(), "setup"),
        &NewToken {
            role,
            candidate: candidate.map(|c| c.as_str().to_string()),
            label: Some(format!("test {role}")),
            expires: None,
        },
    )
    .await
    .unwrap();
    (created.token.unwrap(), created.info.id)
}

pub fn catalogue_ledger_parts() -> care_ledger::domain::Catalogue {
    care_ledger::demo::load_catalogue(Path::new("fixtures/domains"))
        .unwrap()
        .0
}

/// An external invoice as an establishment types it.
pub fn invoice(line_id: &str, amount: &str) -> ExternalCostInput {
    ExternalCostInput {
        line_id: line_id.into(),
        cost_type: "recurrent".into(),
        order_date: "2026-04-03".into(),
        invoice_date: "2026-12-15".into(),
        order_number: format!("CMD-{line_id}"),
        invoice_number: format!("F-{line_id}"),
        supplier: "Surfacia Audit SAS".into(),
        service_label: "Audit d'exposition internet".into(),
        amount: amount.into(),
        nature: "PRESTATION_EXTERNE".into(),
        objective: "D1.O2.A".into(),
        contribution: "Audits des domaines exposés".into(),
    }
}

/// The sample candidates, and for `own` and `other` a D1 bis statement opened with one invoice
/// (version 2), on 10 March 2027.
pub async fn seed_statements(h: &Harness) {
    h.clock.set(day(2027, 3, 10));
    let ledger = Ledger::open(h.store.clone(), catalogue_ledger_parts())
        .await
        .unwrap();
    let admin = Actor::new(Role::Admin, "seed").unwrap();
    let bytes = std::fs::read("fixtures/candidates.csv").unwrap();
    ledger
        .import_candidates(&admin, &RequestMeta::new("seed"), "candidates.csv", &bytes)
        .await
        .unwrap();
    for finess in [own(), other()] {
        let access = Access::new(
            Actor::new(Role::Etablissement, "seed").unwrap(),
            Some(finess.clone()),
        );
        ledger
            .execute_batch(
                &access,
                &finess,
                DomainId::D1bis,
                vec![
                    StatementCommand::OpenStatement,
                    StatementCommand::DeclareExternalCost(invoice("EXT-001", "7 920,00")),
                ],
                &RequestMeta::new("seed"),
            )
            .await
            .unwrap();
    }
}

pub async fn problem(response: reqwest::Response) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    response.json().await.unwrap()
}
