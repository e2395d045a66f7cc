//! Supporting documents over HTTP (SPEC.md §7): upload a file to a line or an objective, list a
//! statement's documents with the checklist, download a document or a payroll file. Files are
//! multipart uploads bounded by `max_upload_bytes`; downloads carry their media type and file name.

use super::auth::{etag, Authenticated};
use super::error::{ApiError, Problem};
use super::statements::{access, as_of, request_meta, statement_path, AsOfQuery};
use super::AppState;
use crate::actor::Role;
use crate::app::DocumentUpload;
use crate::domain::ids::Finess;
use crate::domain::statement::AttachedDocument;
use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures::TryStreamExt;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The OpenAPI paths of this module (merged into the service's document by [`super::openapi`]).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        attach_document,
        list_documents,
        download_document,
        download_payroll_file
    ),
    components(schemas(AttachResult))
)]
pub struct DocumentsDoc;

/// Longest text field accepted in a document upload form.
const MAX_FORM_TEXT_BYTES: usize = 4 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/statements/{finess}/{domain}/documents",
        web::post().to(attach_document),
    )
    .route(
        "/api/statements/{finess}/{domain}/documents",
        web::get().to(list_documents),
    )
    .route(
        "/api/statements/{finess}/{domain}/documents/{document_id}",
        web::get().to(download_document),
    )
    .route(
        "/api/candidates/{finess}/payroll/files/{sha256}",
        web::get().to(download_payroll_file),
    );
}

/// A multipart form: the file of field `file` and the text fields.
struct Form {
    file: Option<(String, Vec<u8>)>,
    fields: BTreeMap<String, String>,
}

async fn read_form(mut payload: Multipart, limit: usize) -> Result<Form, ApiError> {
    let multipart = |e: actix_multipart::MultipartError| {
        ApiError::bad_request("file", format!("corps multipart illisible : {e}"))
    };
    let mut form = Form {
        file: None,
        fields: BTreeMap::new(),
    };
    let mut total = 0usize;
    while let Some(mut field) = payload.try_next().await.map_err(multipart)? {
        let name = field
            .content_disposition()
            .and_then(|d| d.get_name())
            .unwrap_or("")
            .to_string();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.try_next().await.map_err(multipart)? {
            total += chunk.len();
            if total > limit {
                return Err(ApiError::PayloadTooLarge { limit_bytes: limit });
            }
            if name != "file" && bytes.len() + chunk.len() > MAX_FORM_TEXT_BYTES {
                return Err(ApiError::bad_request(
                    &name,
                    format!("champ « {name} » : au plus {MAX_FORM_TEXT_BYTES} octets"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if name == "file" {
            if form.file.is_some() {
                return Err(ApiError::bad_request("file", "un seul fichier par envoi"));
            }
            form.file = Some((file_name.unwrap_or_default(), bytes));
        } else {
            let text = String::from_utf8(bytes).map_err(|_| {
                ApiError::bad_request(&name, format!("champ « {name} » : texte UTF-8 attendu"))
            })?;
            form.fields.insert(name, text);
        }
    }
    Ok(form)
}

/// What an attachment did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachResult {
    /// The statement's version after the attachment (also the `ETag`).
    pub version: i64,
    #[schema(value_type = Object)]
    pub document: AttachedDocument,
    /// `/api/statements/{finess}/{domain}/documents/{id}`
    pub href: String,
}

/// Attaches a supporting document (établissement: its own statement; contrôleur). Multipart fields:
/// `file` (PDF, PNG, JPEG, XLSX, XLS, ODS, DOCX, ODT, CSV, TXT; format checked on the content),
/// `kind` (a document kind of the catalogue), `line_id` or `objective`, optional `replaces`
/// (DOC-nnnn, kept on file as superseded) and `comment`. The same content is stored once.
#[utoipa::path(post, path = "/api/statements/{finess}/{domain}/documents", tag = "documents",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        ("If-Match" = Option<String>, Header, description = "Version du flux attendue"),
        ("Idempotency-Key" = Option<String>, Header, description = "Rejouer la même requête n'ajoute rien"),
    ),
    request_body(content = String, content_type = "multipart/form-data", description = "champs `file`, `kind`, `line_id` ou `objective`, `replaces`, `comment`"),
    responses(
        (status = 201, description = "Pièce jointe", body = AttachResult),
        (status = 200, description = "Rien d'ajouté (répétition idempotente)", body = AttachResult),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Pièce refusée (champ nommé)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn attach_document(
    auth: Authenticated,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&path)?;
    let access = access(&auth);
    // Visibility first (another candidate's statement is 404), then the role.
    state.ledger.candidate(&access, &finess).await?;
    auth.require(&[Role::Etablissement, Role::Controleur])?;
    let meta = request_meta(&auth, &req)?;
    let mut form = read_form(payload, state.config.max_upload_bytes).await?;
    let (file_name, bytes) = form.file.take().ok_or_else(|| {
        ApiError::bad_request(
            "file",
            "champ de fichier « file » absent du formulaire multipart",
        )
    })?;
    let mut field = |name: &str| form.fields.remove(name).unwrap_or_default();
    let upload = DocumentUpload {
        file_name,
        bytes,
        kind: field("kind"),
        line_id: field("line_id"),
        objective: field("objective"),
        replaces: field("replaces"),
        comment: field("comment"),
    };
    if let Some(unknown) = form.fields.keys().next() {
        return Err(ApiError::bad_request(
            unknown,
            format!("champ « {unknown} » inconnu (attendus : file, kind, line_id, objective, replaces, comment)"),
        ));
    }
    let stream = crate::app::ledger::statement_stream(&finess, domain);
    let before = state.store.stream_version(&stream).await?;
    let (version, document) = state
        .ledger
        .attach_document(&access, &finess, domain, upload, &meta)
        .await?;
    let result = AttachResult {
        version,
        href: format!(
            "/api/statements/{finess}/{domain}/documents/{}",
            document.id
        ),
        document,
    };
    let mut response = if version > before {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((header::ETAG, etag(version)))
        .json(result))
}

/// A statement's documents (superseded ones included) and its checklist per objective and per line,
/// now or as of an instant.
#[utoipa::path(get, path = "/api/statements/{finess}/{domain}/documents", tag = "documents",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        AsOfQuery,
    ),
    responses(
        (status = 200, description = "Pièces et liste de contrôle", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_documents(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<AsOfQuery>,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&path)?;
    let as_of = as_of(query.as_of.as_deref())?;
    let view = state
        .ledger
        .documents(&access(&auth), &finess, domain, as_of)
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag(view.version)))
        .json(view))
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): an ASCII fallback and the exact name.
pub fn attachment_header(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'à' | 'â' | 'ä' => 'a',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'É' | 'È' | 'Ê' => 'E',
            'À' | 'Â' => 'A',
            'Ç' => 'C',
            c if c.is_ascii_graphic() && c != '"' && c != '\\' => c,
            ' ' => ' ',
            _ => '_',
        })
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// One document's file, checked against its SHA-256 before it is served.
#[utoipa::path(get, path = "/api/statements/{finess}/{domain}/documents/{document_id}", tag = "documents",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("domain" = String, Path, description = "Domaine (`D1bis`, `D2`)"),
        ("document_id" = String, Path, description = "DOC-nnnn"),
    ),
    responses(
        (status = 200, description = "Le fichier", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn download_document(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (finess, domain) = statement_path(&(path.0.clone(), path.1.clone()))?;
    let (document, bytes) = state
        .ledger
        .document_file(&access(&auth), &finess, domain, &path.2)
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(document.media_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            attachment_header(&document.file_name),
        ))
        .insert_header(("X-Content-SHA256", document.sha256.clone()))
        .body(bytes))
}

/// A payroll file (recap or anonymisation key) of a candidate by its SHA-256, as imported. The key is
/// served to controllers and administrators only.
#[utoipa::path(get, path = "/api/candidates/{finess}/payroll/files/{sha256}", tag = "documents",
    security(("bearer" = [])),
    params(
        ("finess" = String, Path, description = "FINESS du candidat"),
        ("sha256" = String, Path, description = "SHA-256 du fichier importé"),
    ),
    responses(
        (status = 200, description = "Le fichier", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn download_payroll_file(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let finess = Finess::parse(&path.0).map_err(|_| ApiError::NotFound)?;
    let (media_type, bytes) = state
        .ledger
        .payroll_file(&access(&auth), &finess, &path.1)
        .await?;
    Ok(HttpResponse::Ok()
        .content_type(media_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            attachment_header(&format!(
                "paie-{finess}-{}",
                &path.1[..12.min(path.1.len())]
            )),
        ))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderMap, HeaderValue};
    use proptest::prelude::*;

    /// Reads a body as the upload handler does, on a runtime of its own.
    fn read(
        content_type: &str,
        body: Vec<u8>,
        chunk: usize,
        limit: usize,
    ) -> Result<Form, ApiError> {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        let chunks: Vec<Result<actix_web::web::Bytes, actix_web::error::PayloadError>> = body
            .chunks(chunk.max(1))
            .map(|c| Ok(actix_web::web::Bytes::copy_from_slice(c)))
            .collect();
        let payload = Multipart::new(&headers, futures::stream::iter(chunks));
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(read_form(payload, limit))
    }

    fn form(boundary: &str, fields: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (name, value) in fields {
            let disposition = if name == "file" {
                "form-data; name=\"file\"; filename=\"f.pdf\"".to_string()
            } else {
                format!("form-data; name=\"{name}\"")
            };
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
            );
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        body
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Hostile multipart bodies (mutated, truncated, odd names, binary text fields, repeated
        /// files, any chunking): never a panic; either a form, or a 400/413 problem naming the field,
        /// in French.
        #[test]
        fn any_multipart_body_is_read_or_refused_naming_the_field(
            names in proptest::collection::vec(
                prop_oneof![
                    Just("file".to_string()),
                    Just("kind".to_string()),
                    Just("comment".to_string()),
                    "[a-zé\\-_ ]{0,12}",
                ],
                0..5,
            ),
            values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 5),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
            noise in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
            chunk in 1usize..64,
            limit in 16usize..2048,
            boundary in "[A-Za-z0-9'()+_,./:=?-]{1,40}",
            content_type_ok in any::<bool>(),
        ) {
            let fields: Vec<(String, Vec<u8>)> = names
                .into_iter()
                .zip(values)
                .collect();
            let mut body = form(&boundary, &fields);
            for (at, byte) in noise {
                let at = at.index(body.len() + 1);
                body.insert(at, byte);
            }
            if truncate && !body.is_empty() {
                body.truncate(cut.index(body.len()));
            }
            let content_type = if content_type_ok {
                format!("multipart/form-data; boundary={boundary}")
            } else {
                "multipart/form-data".to_string()
            };
            match read(&content_type, body, chunk, limit) {
                Ok(form) => {
                    prop_assert!(form.fields.keys().all(|k| k != "file"));
                }
                Err(err) => {
                    let problem = err.problem();
                    prop_assert!(matches!(problem.status, 400 | 413), "{problem:?}");
                    prop_assert!(problem.field.is_some(), "{problem:?}");
                    let detail = problem.detail.unwrap_or_default();
                    prop_assert!(
                        ["corps", "champ", "fichier", "requête", "limite"]
                            .iter()
                            .any(|w| detail.contains(w)),
                        "not French: {detail}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_accented_file_name_gets_an_ascii_fallback_and_its_exact_utf8_form() {
        assert_eq!(
            attachment_header("Schéma gouvernance.pdf"),
            "attachment; filename=\"Schema gouvernance.pdf\"; filename*=UTF-8''Sch%C3%A9ma%20gouvernance.pdf"
        );
    }
}
