//! Supporting documents (pièces justificatives, SPEC.md §7; seed 003: « contrôle sur pièces »): files
//! attached to a line or an objective of a statement, identified by their SHA-256, typed from the
//! catalogue's lists of expected documents; and the checklist per objective and per line that shows what
//! is provided and what is missing.
//!
//! The file bytes are kept by the store (content-addressed, once per content); a statement only records
//! that a document of some kind, with that content, documents a target. Documents are never deleted: a
//! replacement supersedes the earlier one, which stays in the history.

use super::flags::{FlagInputs, PayrollRecapSummary};
use super::lines::{LineContent, LineId};
use super::Statement;
use crate::actor::Role;
use crate::domain::candidate::Candidate;
use crate::domain::catalogue::{DomainCatalogue, LinePart};
use crate::domain::ids::{Matricule, ObjectiveCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest document accepted, whatever the service's upload limit (our rule: a scanned report of a
/// few hundred pages fits; a video does not).
pub const MAX_DOCUMENT_BYTES: u64 = 20 * 1024 * 1024;
/// Longest file name kept, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// A document's identity within its statement (`DOC-0001`, numbered in attachment order).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentId(String);

impl DocumentId {
    /// `DOC-` followed by digits (case-insensitive on input).
    pub fn parse(text: &str) -> Option<DocumentId> {
        let t = text.trim().to_ascii_uppercase();
        let digits = t.strip_prefix("DOC-")?;
        (!digits.is_empty() && digits.len() <= 9 && digits.chars().all(|c| c.is_ascii_digit()))
            .then_some(DocumentId(t))
    }

    pub fn numbered(n: usize) -> DocumentId {
        DocumentId(format!("DOC-{n:04}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocumentId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        DocumentId::parse(&value)
            .ok_or_else(|| format!("identifiant de pièce \"{value}\" invalide"))
    }
}

impl From<DocumentId> for String {
    fn from(value: DocumentId) -> String {
        value.0
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a document documents.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DocumentTarget {
    Line { line_id: LineId },
    Objective { objective: ObjectiveCode },
}

impl fmt::Display for DocumentTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentTarget::Line { line_id } => write!(f, "ligne {line_id}"),
            DocumentTarget::Objective { objective } => write!(f, "objectif {objective}"),
        }
    }
}

/// The file formats accepted (SPEC.md §7: PDF, images, spreadsheets; office documents and plain text for
/// procedures and lists). Recognised from the content, not only from the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    Pdf,
    Png,
    Jpeg,
    Xlsx,
    Xls,
    Ods,
    Docx,
    Odt,
    Csv,
    Txt,
}

impl MediaType {
    pub const ALL: [MediaType; 10] = [
        MediaType::Pdf,
        MediaType::Png,
        MediaType::Jpeg,
        MediaType::Xlsx,
        MediaType::Xls,
        MediaType::Ods,
        MediaType::Docx,
        MediaType::Odt,
        MediaType::Csv,
        MediaType::Txt,
    ];

    /// The MIME type served on download.
    pub fn mime(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            MediaType::Xls => "application/vnd.ms-excel",
            MediaType::Ods => "application/vnd.oasis.opendocument.spreadsheet",
            MediaType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            MediaType::Odt => "application/vnd.oasis.opendocument.text",
            MediaType::Csv => "text/csv",
            MediaType::Txt => "text/plain",
        }
    }

    /// The MIME type back to the format (what the events store).
    pub fn from_mime(mime: &str) -> Option<MediaType> {
        let m = mime.trim().to_ascii_lowercase();
        MediaType::ALL.into_iter().find(|t| t.mime() == m)
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaType::Pdf => &["pdf"],
            MediaType::Png => &["png"],
            MediaType::Jpeg => &["jpg", "jpeg"],
            MediaType::Xlsx => &["xlsx", "xlsm"],
            MediaType::Xls => &["xls"],
            MediaType::Ods => &["ods"],
            MediaType::Docx => &["docx"],
            MediaType::Odt => &["odt"],
            MediaType::Csv => &["csv"],
            MediaType::Txt => &["txt"],
        }
    }

    fn of_extension(ext: &str) -> Option<MediaType> {
        let e = ext.to_ascii_lowercase();
        MediaType::ALL
            .into_iter()
            .find(|t| t.extensions().contains(&e.as_str()))
    }

    /// `pdf, png, jpg, …` for messages.
    pub fn accepted_extensions() -> String {
        MediaType::ALL
            .iter()
            .flat_map(|t| t.extensions().iter().copied())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a file cannot be a supporting document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentFileError {
    #[error("fichier vide")]
    Empty,
    #[error("fichier de {size} octets : au plus {limit} octets par pièce")]
    TooLarge { size: u64, limit: u64 },
    #[error("nom de fichier « {name} » refusé : {why}")]
    BadName { name: String, why: &'static str },
    #[error("extension « {ext} » non acceptée (acceptées : {accepted})")]
    UnsupportedExtension { ext: String, accepted: String },
    #[error("le contenu ne correspond pas à l'extension « .{ext} » (fichier {found})")]
    ContentMismatch { ext: String, found: &'static str },
}

/// A file name as kept: its last path component, trimmed, bounded, without control characters.
pub fn clean_file_name(name: &str) -> Result<String, DocumentFileError> {
    let last = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let bad = |why| DocumentFileError::BadName {
        name: name.to_string(),
        why,
    };
    if last.is_empty() || last == "." || last == ".." {
        return Err(bad("nom vide"));
    }
    if last.chars().count() > MAX_FILE_NAME_CHARS {
        return Err(bad("plus de 200 caractères"));
    }
    if last.chars().any(char::is_control) {
        return Err(bad("caractères de contrôle"));
    }
    Ok(last)
}

/// The format of a file from its name and its first bytes: the extension must be accepted and the
/// content must be of that kind (a renamed executable is refused).
pub fn sniff_media_type(file_name: &str, bytes: &[u8]) -> Result<MediaType, DocumentFileError> {
    if bytes.is_empty() {
        return Err(DocumentFileError::Empty);
    }
    let size = bytes.len() as u64;
    if size > MAX_DOCUMENT_BYTES {
        return Err(DocumentFileError::TooLarge {
            size,
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let name = clean_file_name(file_name)?;
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_string())
        .unwrap_or_default();
    let declared =
        MediaType::of_extension(&ext).ok_or_else(|| DocumentFileError::UnsupportedExtension {
            ext: if ext.is_empty() {
                "(aucune)".to_string()
            } else {
                ext.clone()
            },
            accepted: MediaType::accepted_extensions(),
        })?;
    let found = content_family(bytes);
    let fits = match declared {
        MediaType::Pdf => found == "PDF",
        MediaType::Png => found == "PNG",
        MediaType::Jpeg => found == "JPEG",
        MediaType::Xlsx | MediaType::Docx | MediaType::Ods | MediaType::Odt => found == "ZIP",
        MediaType::Xls => found == "OLE",
        MediaType::Csv | MediaType::Txt => found == "texte",
    };
    if !fits {
        return Err(DocumentFileError::ContentMismatch { ext, found });
    }
    Ok(declared)
}

/// The family of a content by its signature.
fn content_family(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"%PDF-") {
        "PDF"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "PNG"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "JPEG"
    } else if bytes.starts_with(b"PK\x03\x04") {
        "ZIP"
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        "OLE"
    } else if looks_like_text(bytes) {
        "texte"
    } else {
        "binaire non reconnu"
    }
}

/// UTF-8 (or Windows-1252: every byte ≥ 0x20 or a tab / line break) without NUL bytes.
fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    !head.contains(&0)
        && head
            .iter()
            .all(|b| *b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
}

/// A document attached to a statement, as kept in its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedDocument {
    pub id: DocumentId,
    pub sha256: String,
    pub file_name: String,
    /// MIME type.
    pub media_type: String,
    pub size_bytes: u64,
    /// Document kind code of the catalogue.
    pub kind: String,
    pub target: DocumentTarget,
    pub comment: String,
    pub attached_by_role: Role,
    pub attached_at: DateTime<Utc>,
    pub attached_on: NaiveDate,
    /// The document this one replaces.
    pub replaces: Option<DocumentId>,
    /// The document that replaced this one; a superseded document stays on file.
    pub superseded_by: Option<DocumentId>,
}

impl AttachedDocument {
    pub fn is_current(&self) -> bool {
        self.superseded_by.is_none()
    }
}

impl Statement {
    /// Documents in attachment order, superseded ones included.
    pub fn documents_in_order(&self) -> Vec<&AttachedDocument> {
        self.documents.values().collect()
    }

    /// The next free document id.
    pub fn next_document_id(&self) -> DocumentId {
        let mut n = self.documents.len() + 1;
        loop {
            let id = DocumentId::numbered(n);
            if !self.documents.contains_key(&id) {
                return id;
            }
            n += 1;
        }
    }

    /// Whether a current document of this statement has that content.
    pub fn has_document_content(&self, sha256: &str) -> bool {
        self.documents
            .values()
            .any(|d| d.sha256 == sha256 && d.is_current())
    }
}

// ---------------------------------------------------------------------------------------------------
// Checklist

/// How an expected document is satisfied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    /// Document kind code.
    pub kind: String,
    pub label: String,
    pub required: bool,
    /// Current documents of this kind on the target.
    pub provided: Vec<DocumentId>,
    /// For an internal cost's recap: the imported payroll recap that stands for the document (the
    /// SHA-256 of the file it came from), when there is one.
    pub payroll_recap_sha256: Option<String>,
    /// Required and neither provided nor satisfied by an imported recap.
    pub missing: bool,
}

impl ChecklistItem {
    /// The state as users read it: `fournie (DOC-0001)`, `récapitulatif de paie importé`, `MANQUANTE`,
    /// `facultative, absente`.
    pub fn state_fr(&self) -> String {
        if !self.provided.is_empty() {
            let ids: Vec<&str> = self.provided.iter().map(DocumentId::as_str).collect();
            format!("fournie ({})", ids.join(", "))
        } else if self.payroll_recap_sha256.is_some() {
            "récapitulatif de paie importé".to_string()
        } else if self.missing {
            "MANQUANTE".to_string()
        } else if self.required {
            // Required, not missing, nothing attached: the anonymisation key imported with the payroll.
            "fournie (import de paie)".to_string()
        } else {
            "facultative, absente".to_string()
        }
    }
}

/// The checklist of one objective or one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistEntry {
    pub target: DocumentTarget,
    /// `D1.O1.A — Réaliser régulièrement …` or `EXT-0002 — coût externe, Fournisseur, facture F-12`.
    pub label: String,
    pub items: Vec<ChecklistItem>,
    /// Current documents of a kind not listed for this target (e.g. « autre pièce »).
    pub other_documents: Vec<DocumentId>,
    pub complete: bool,
}

/// What is provided and what is missing, per objective then per active line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentChecklist {
    pub objectives: Vec<ChecklistEntry>,
    pub lines: Vec<ChecklistEntry>,
    /// Number of required items missing over the whole statement.
    pub missing_required: usize,
}

/// The imported recap that justifies an internal cost line: its matricule resolved through the
/// anonymisation key when there is one, and a period within the line's year.
pub fn recap_for_line<'a>(
    matricule: &Matricule,
    year: i32,
    inputs: &'a FlagInputs,
) -> Option<&'a PayrollRecapSummary> {
    let resolved = inputs
        .anonymisation_key
        .as_ref()
        .and_then(|key| key.get(matricule))
        .unwrap_or(matricule);
    inputs
        .payroll_recaps
        .iter()
        .find(|r| &r.matricule == resolved && r.within_year(year))
}

/// The checklist of a statement: every objective applicable to the candidate (GHT-only ones for a GHT
/// only), then every active line, with the catalogue's expected documents for each.
pub fn document_checklist(
    statement: &Statement,
    catalogue: &DomainCatalogue,
    candidate: &Candidate,
    payroll: &FlagInputs,
) -> DocumentChecklist {
    let current: Vec<&AttachedDocument> = statement
        .documents
        .values()
        .filter(|d| d.is_current())
        .collect();
    let on_target = |target: &DocumentTarget| -> Vec<&AttachedDocument> {
        current
            .iter()
            .copied()
            .filter(|d| &d.target == target)
            .collect()
    };
    let entry = |target: DocumentTarget,
                 label: String,
                 kinds: Vec<&crate::domain::catalogue::DocumentKind>,
                 recap: Option<Option<&PayrollRecapSummary>>,
                 key_imported: bool|
     -> ChecklistEntry {
        let docs = on_target(&target);
        let mut items = Vec::new();
        for kind in &kinds {
            let provided: Vec<DocumentId> = docs
                .iter()
                .filter(|d| d.kind == kind.code)
                .map(|d| d.id.clone())
                .collect();
            let (payroll_recap_sha256, by_payroll) = match (kind.code.as_str(), recap) {
                ("RECAP_PAIE", Some(Some(r))) => (r.source_sha256.clone(), true),
                ("CLE_ANONYMISATION", Some(_)) => (None, key_imported),
                _ => (None, false),
            };
            items.push(ChecklistItem {
                kind: kind.code.clone(),
                label: kind.label.clone(),
                required: kind.required,
                missing: kind.required && provided.is_empty() && !by_payroll,
                provided,
                payroll_recap_sha256,
            });
        }
        let other_documents = docs
            .iter()
            .filter(|d| !kinds.iter().any(|k| k.code == d.kind))
            .map(|d| d.id.clone())
            .collect();
        let complete = items.iter().all(|i| !i.missing);
        ChecklistEntry {
            target,
            label,
            items,
            other_documents,
            complete,
        }
    };
    let mut objectives = Vec::new();
    for objective in &catalogue.objectives {
        if objective.ght_only && !candidate.is_ght() {
            continue;
        }
        let kinds = catalogue
            .documents
            .iter()
            .filter(|k| !k.any_target && k.documents_objective(&objective.code))
            .collect();
        objectives.push(entry(
            DocumentTarget::Objective {
                objective: objective.code.clone(),
            },
            format!("{} — {}", objective.code, objective.label),
            kinds,
            None,
            false,
        ));
    }
    let mut lines = Vec::new();
    for line in statement.active_lines() {
        let Some(part) = LinePart::from_kind_name(line.content.kind_name()) else {
            continue;
        };
        let kinds = catalogue
            .documents
            .iter()
            .filter(|k| !k.any_target && k.documents_line(part))
            .collect();
        let (label, recap) = match &line.content {
            LineContent::Internal(i) => (
                format!(
                    "{} — {}, matricule {}, {}",
                    line.id,
                    part.label_fr(),
                    i.matricule,
                    i.year
                ),
                Some(recap_for_line(&i.matricule, i.year, payroll)),
            ),
            LineContent::External(e) => (
                format!(
                    "{} — {}, {}, facture {}",
                    line.id,
                    part.label_fr(),
                    e.supplier,
                    e.invoice_number
                ),
                None,
            ),
            LineContent::Other(o) => (
                format!(
                    "{} — {}, {}, {}",
                    line.id,
                    part.label_fr(),
                    o.supplier,
                    o.label
                ),
                None,
            ),
            LineContent::Receipt(r) => (
                format!("{} — {}, {}", line.id, part.label_fr(), r.provenance),
                None,
            ),
        };
        lines.push(entry(
            DocumentTarget::Line {
                line_id: line.id.clone(),
            },
            label,
            kinds,
            recap,
            payroll.anonymisation_key.is_some(),
        ));
    }
    let missing_required = objectives
        .iter()
        .chain(lines.iter())
        .flat_map(|e| e.items.iter())
        .filter(|i| i.missing)
        .count();
    DocumentChecklist {
        objectives,
        lines,
        missing_required,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_is_recognised_by_its_content_and_its_name() {
        assert_eq!(
            sniff_media_type("rapport.PDF", b"%PDF-1.7\n..."),
            Ok(MediaType::Pdf)
        );
    }

    #[test]
    fn a_renamed_executable_is_refused() {
        let err = sniff_media_type("rapport.pdf", b"MZ\x90\x00\x03\x00\x00\x00").unwrap_err();
        assert!(
            matches!(
                err,
                DocumentFileError::ContentMismatch {
                    found: "binaire non reconnu",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_extension_is_refused_with_the_accepted_list() {
        let err = sniff_media_type("virus.exe", b"MZ").unwrap_err();
        assert!(err.to_string().contains("pdf, png, jpg"), "{err}");
    }

    #[test]
    fn a_path_is_reduced_to_its_file_name() {
        assert_eq!(
            clean_file_name("C:\\Users\\compta\\Facture 12.pdf").as_deref(),
            Ok("Facture 12.pdf")
        );
        assert!(clean_file_name("../").is_err());
    }

    #[test]
    fn document_ids_parse_case_insensitively() {
        assert_eq!(
            DocumentId::parse("doc-0007").map(String::from).as_deref(),
            Some("DOC-0007")
        );
        assert!(DocumentId::parse("DOC-").is_none());
        assert!(DocumentId::parse("EXT-0001").is_none());
    }
}
