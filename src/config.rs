//! Configuration: a TOML file plus environment overrides (STYLE.md habit 7). Secrets are never logged.

use serde::Deserialize;
use std::fmt;
use std::net::IpAddr;
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

#[derive(Clone, Deserialize, PartialEq)]
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
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers are believed (addresses or CIDR
    /// ranges, e.g. `["10.0.0.5", "192.168.0.0/24"]`). From any other peer these headers are ignored:
    /// the client address (failed-authentication throttling, logs) is the connection's.
    pub trusted_proxies: Vec<String>,
    /// Limits of the failed-authentication throttle (not a file key: the defaults hold in service;
    /// tests shorten them).
    #[serde(skip)]
    pub auth_throttle: crate::app::throttle::ThrottleConfig,
}

/// Never shows a secret: the database URL goes through [`crate::store::redact`], the checkpoint key is
/// `Secret(***)`.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &crate::store::redact(&self.database_url))
            .field("checkpoint_key", &self.checkpoint_key)
            .field("bind", &self.bind)
            .field("catalogue_dir", &self.catalogue_dir)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("auth_throttle", &self.auth_throttle)
            .finish()
    }
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
            trusted_proxies: Vec::new(),
            auth_throttle: Default::default(),
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
    #[error("configuration {key} : {message}")]
    Value { key: &'static str, message: String },
}

/// An IP address or a CIDR range (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix_len: u8,
}

impl IpRange {
    pub fn parse(text: &str) -> Option<IpRange> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        };
        Some(IpRange {
            network,
            prefix_len,
        })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
                IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => (u128::from(u32::from(v4)), 32),
                    None => (u128::from(v6), 128),
                },
            }
        };
        let (net, net_width) = bits(self.network);
        let (addr, addr_width) = bits(address);
        if net_width != addr_width {
            return false;
        }
        let host_bits = u32::from(net_width - self.prefix_len.min(net_width));
        let mask = u128::MAX.checked_shl(host_bits).unwrap_or(0);
        (net & mask) == (addr & mask)
    }
}

impl Config {
    /// Reads `path` (or `care-ledger.toml` when present), then applies the environment:
    /// `CARE_LEDGER_DATABASE_URL` (or `DATABASE_URL`), `CARE_LEDGER_CHECKPOINT_KEY`,
    /// `CARE_LEDGER_SIGNING_KEY_FILE`, `CARE_LEDGER_BIND`, `CARE_LEDGER_CATALOGUE_DIR`,
    /// `CARE_LEDGER_MAX_UPLOAD_BYTES`, `CARE_LEDGER_TRUSTED_PROXIES` (comma-separated).
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match path {
            Some(p) => Config::from_file(p)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Config::from_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => Config::default(),
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        config.trusted_proxy_ranges()?;
        Ok(config)
    }

    /// The trusted proxies, parsed; an entry that is neither an address nor a CIDR range is refused
    /// naming the key.
    pub fn trusted_proxy_ranges(&self) -> Result<Vec<IpRange>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|text| {
                IpRange::parse(text).ok_or_else(|| ConfigError::Value {
                    key: "trusted_proxies",
                    message: format!(
                        "\"{text}\" n'est ni une adresse IP ni une plage CIDR (ex. 10.0.0.0/8)"
                    ),
                })
            })
            .collect()
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
        if let Some(proxies) = get("CARE_LEDGER_TRUSTED_PROXIES") {
            self.trusted_proxies = proxies
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
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
        assert!(!format!("{config:?}").contains(":p@"));
        config.database_url = "postgres://h/db?password=hunter2".into();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_cidr_ranges() {
        let config: Config = toml::from_str(
            "trusted_proxies = [\"10.0.0.0/8\", \"192.168.1.7\", \"2001:db8::/32\"]",
        )
        .unwrap();
        let ranges = config.trusted_proxy_ranges().unwrap();
        let inside = |text: &str| ranges.iter().any(|r| r.contains(text.parse().unwrap()));
        assert!(inside("10.200.3.4"));
        assert!(inside("::ffff:10.1.1.1"));
        assert!(inside("192.168.1.7"));
        assert!(!inside("192.168.1.8"));
        assert!(inside("2001:db8:1::5"));
        assert!(!inside("11.0.0.1"));
        let bad = Config {
            trusted_proxies: vec!["10.0.0.0/33".into()],
            ..Config::default()
        };
        let err = bad.trusted_proxy_ranges().unwrap_err();
        assert!(err.to_string().contains("trusted_proxies"), "{err}");
        let mut env = Config::default();
        env.apply_env(|name| {
            (name == "CARE_LEDGER_TRUSTED_PROXIES").then(|| "10.0.0.1, 10.0.0.2".into())
        })
        .unwrap();
        assert_eq!(env.trusted_proxies, vec!["10.0.0.1", "10.0.0.2"]);
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
