//! Sample declarations (`fixtures/declarations/*.toml`): a statement's commands in order, each with the
//! actor (`role:id`) and the day it takes effect, so the demo replays them with pinned dates.
//!
//! ```toml
//! candidate = "130004526"
//! domain = "D1bis"
//!
//! [[steps]]
//! as = "etablissement:daf@clinique"   # role:actor id
//! on = "2026-10-05"                   # effective day (noon, Europe/Paris)
//! command = "DeclareInternalCost"     # a StatementCommand, its fields below as text
//! line_id = "INT-1"
//! ...
//! ```
//! Every field value of a command is a quoted string (amounts `"6 613,57"`, dates `"2026-03-15"`): the
//! refusals of `decide` then apply to a declarations file as to any other input.

use super::commands::{parse_date, Role, StatementCommand};
use crate::clock::paris_noon;
use crate::domain::ids::{DomainId, Finess};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Most steps read from one file (TIGER_STYLE: a limit on everything).
pub const MAX_DECLARATION_STEPS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeclarationsError {
    #[error("déclarations ligne {line} : {message}")]
    Syntax { line: usize, message: String },
    #[error("déclarations, étape {step}, champ {field} : {message}")]
    Step {
        step: usize,
        field: &'static str,
        message: String,
    },
    #[error("déclarations, champ {field} : {message}")]
    Header {
        field: &'static str,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationStep {
    pub role: Role,
    pub actor: String,
    pub effective_at: DateTime<Utc>,
    pub command: StatementCommand,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationFile {
    pub candidate: Finess,
    pub domain: DomainId,
    pub steps: Vec<DeclarationStep>,
}

impl DeclarationFile {
    pub fn commands(&self) -> Vec<StatementCommand> {
        self.steps.iter().map(|s| s.command.clone()).collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    candidate: String,
    domain: String,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
struct RawStep {
    #[serde(rename = "as")]
    actor: String,
    on: String,
    #[serde(flatten)]
    command: StatementCommand,
}

/// Parses a declarations file. Pure: the caller reads the file.
pub fn parse_declarations(text: &str) -> Result<DeclarationFile, DeclarationsError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| DeclarationsError::Syntax {
        line: e
            .span()
            .map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            })
            .unwrap_or(0),
        message: e.message().trim().to_string(),
    })?;
    let candidate = Finess::parse(&raw.candidate).map_err(|e| DeclarationsError::Header {
        field: "candidate",
        message: e.to_string(),
    })?;
    let domain = DomainId::parse(&raw.domain).map_err(|e| DeclarationsError::Header {
        field: "domain",
        message: e.to_string(),
    })?;
    if raw.steps.len() > MAX_DECLARATION_STEPS {
        return Err(DeclarationsError::Header {
            field: "steps",
            message: format!("plus de {MAX_DECLARATION_STEPS} étapes"),
        });
    }
    let mut steps = Vec::with_capacity(raw.steps.len());
    for (i, s) in raw.steps.into_iter().enumerate() {
        let step = i + 1;
        let (role_text, actor) = s.actor.split_once(':').unwrap_or((s.actor.as_str(), ""));
        let role = Role::parse(role_text)
            .ok()
            .ok_or_else(|| DeclarationsError::Step {
                step,
                field: "as",
                message: format!(
                    "rôle « {role_text} » inconnu (etablissement, controleur, paiement, admin)"
                ),
            })?;
        if actor.trim().is_empty() {
            return Err(DeclarationsError::Step {
                step,
                field: "as",
                message: "identifiant d'acteur manquant (role:id)".into(),
            });
        }
        let day = parse_date(&s.on).ok_or_else(|| DeclarationsError::Step {
            step,
            field: "on",
            message: format!("date « {} » illisible", s.on),
        })?;
        steps.push(DeclarationStep {
            role,
            actor: actor.trim().to_string(),
            effective_at: paris_noon(day),
            command: s.command,
        });
    }
    Ok(DeclarationFile {
        candidate,
        domain,
        steps,
    })
}
