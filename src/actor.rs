//! Who acts: every event records its actor and role (SPEC.md §1). Pure, no I/O.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An establishment's finance team, bound to one candidate FINESS.
    Etablissement,
    /// An ANS controller.
    Controleur,
    /// The payment desk.
    Paiement,
    /// Loads the catalogue and the candidate base, manages tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Etablissement,
        Role::Controleur,
        Role::Paiement,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Etablissement => "etablissement",
            Role::Controleur => "controleur",
            Role::Paiement => "paiement",
            Role::Admin => "admin",
        }
    }

    /// The role as users read it.
    pub fn label_fr(self) -> &'static str {
        match self {
            Role::Etablissement => "établissement",
            Role::Controleur => "contrôleur",
            Role::Paiement => "paiement",
            Role::Admin => "administrateur",
        }
    }

    pub fn parse(text: &str) -> Result<Role, ActorError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "etablissement" | "établissement" => Ok(Role::Etablissement),
            "controleur" | "contrôleur" => Ok(Role::Controleur),
            "paiement" => Ok(Role::Paiement),
            "admin" => Ok(Role::Admin),
            other => Err(ActorError::UnknownRole(other.to_string())),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    #[error("rôle \"{0}\" inconnu (attendu etablissement, controleur, paiement ou admin)")]
    UnknownRole(String),
    #[error("acteur \"{0}\" : forme attendue ROLE:ID, par exemple admin:ops")]
    Malformed(String),
    #[error("identifiant d'acteur vide ou trop long (1 à {max} caractères)")]
    BadId { max: usize },
}

/// An actor: a role and an identifier (a person, a service account, a token's owner).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub role: Role,
    pub id: String,
}

impl Actor {
    pub const MAX_ID_LEN: usize = 128;

    pub fn new(role: Role, id: &str) -> Result<Actor, ActorError> {
        let id = id.trim();
        if id.is_empty()
            || id.chars().count() > Self::MAX_ID_LEN
            || id.chars().any(char::is_control)
        {
            return Err(ActorError::BadId {
                max: Self::MAX_ID_LEN,
            });
        }
        Ok(Actor {
            role,
            id: id.to_string(),
        })
    }

    /// Parses the CLI's `--as ROLE:ID`, e.g. `admin:ops` or `controleur:marie.dupont`.
    pub fn parse(text: &str) -> Result<Actor, ActorError> {
        let (role, id) = text
            .split_once(':')
            .ok_or_else(|| ActorError::Malformed(text.to_string()))?;
        Actor::new(Role::parse(role)?, id)
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.role, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_colon_id() {
        let a = Actor::parse("admin:ops").unwrap();
        assert_eq!(a.role, Role::Admin);
        assert_eq!(a.id, "ops");
        assert_eq!(a.to_string(), "admin:ops");
    }

    #[test]
    fn refuses_unknown_role_and_missing_id() {
        assert_eq!(
            Actor::parse("root:x"),
            Err(ActorError::UnknownRole("root".into()))
        );
        assert!(matches!(
            Actor::parse("admin"),
            Err(ActorError::Malformed(_))
        ));
        assert!(matches!(
            Actor::parse("admin: "),
            Err(ActorError::BadId { .. })
        ));
    }
}
