//! Configuration: a TOML file plus environment overrides (STYLE.md habit 7). Secrets are never logged.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The embedded default: a SQLite file in the working directory, created on first use.
pub const DEFAULT_DATABASE_URL: &str = "care-ledger.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_CONFIG_FILE: &str = "care-ledger.toml";

/// A secret value: its Debug and Display never show it.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `care-ledger.db` (SQLite file), `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// HMAC key of the checkpoints issued before Ed25519 keys (format v1): still verifies them, and
    /// signs new checkpoints only when no `signing_key_file` is configured.
    pub checkpoint_key: Option<Secret>,
    /// Ed25519 private key file (PEM) signing checkpoints and exported workbooks
    /// (`care-ledger keys generate` writes one).
    pub signing_key_file: Option<PathBuf>,
    /// Address the HTTP service binds.
    pub bind: String,
    /// Folder of the programme catalogue (`d1bis.toml`, `d2.toml`).
    pub catalogue_dir: PathBuf,
    /// Largest upload accepted (bytes).
    pub max_upload_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: DEFAULT_DATABASE_URL.to_string(),
            checkpoint_key: None,
            signing_key_file: None,
            bind: DEFAULT_BIND.to_string(),
            catalogue_dir: PathBuf::from("fixtures/domains"),
            max_upload_bytes: 20 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
}

impl Config {
    /// Reads `path` (or `care-ledger.toml` when present), then applies the environment:
    /// `CARE_LEDGER_DATABASE_URL` (or `DATABASE_URL`), `CARE_LEDGER_CHECKPOINT_KEY`,
    /// `CARE_LEDGER_SIGNING_KEY_FILE`, `CARE_LEDGER_BIND`,
    /// `CARE_LEDGER_CATALOGUE_DIR`, `CARE_LEDGER_MAX_UPLOAD_BYTES`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match path {
            Some(p) => Config::from_file(p)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Config::from_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(url) = get("CARE_LEDGER_DATABASE_URL").or_else(|| get("DATABASE_URL")) {
            self.database_url = url;
        }
        if let Some(key) = get("CARE_LEDGER_CHECKPOINT_KEY") {
            self.checkpoint_key = Some(Secret::new(key));
        }
        if let Some(path) = get("CARE_LEDGER_SIGNING_KEY_FILE") {
            self.signing_key_file = Some(PathBuf::from(path));
        }
        if let Some(bind) = get("CARE_LEDGER_BIND") {
            self.bind = bind;
        }
        if let Some(dir) = get("CARE_LEDGER_CATALOGUE_DIR") {
            self.catalogue_dir = PathBuf::from(dir);
        }
        if let Some(max) = get("CARE_LEDGER_MAX_UPLOAD_BYTES") {
            self.max_upload_bytes = max.parse().map_err(|_| ConfigError::Env {
                name: "CARE_LEDGER_MAX_UPLOAD_BYTES",
                message: format!("\"{max}\" is not a number of bytes"),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file_and_secrets_stay_hidden() {
        let mut config: Config =
            toml::from_str("database_url = \"a.db\"\ncheckpoint_key = \"file-key-0123456789\"")
                .unwrap();
        config
            .apply_env(|name| match name {
                "DATABASE_URL" => Some("postgres://u:p@h/db".into()),
                "CARE_LEDGER_CHECKPOINT_KEY" => Some("env-key-0123456789".into()),
                _ => None,
            })
            .unwrap();
        assert_eq!(config.database_url, "postgres://u:p@h/db");
        assert_eq!(
            config.checkpoint_key.as_ref().unwrap().expose(),
            "env-key-0123456789"
        );
        assert!(!format!("{config:?}").contains("env-key"));
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        assert!(toml::from_str::<Config>("databse_url = \"x\"").is_err());
    }

    #[test]
    fn a_bad_number_in_the_environment_names_the_variable() {
        let mut config = Config::default();
        let err = config
            .apply_env(|name| (name == "CARE_LEDGER_MAX_UPLOAD_BYTES").then(|| "lots".into()))
            .unwrap_err();
        assert!(err.to_string().contains("CARE_LEDGER_MAX_UPLOAD_BYTES"));
    }
}
