//! Typed, layered, validated configuration: built-in defaults (`config/default.toml`), then an
//! optional TOML file, then `GATEWAY_<SECTION>__<KEY>` environment variables. Validation parses
//! every key once at start-up and names the setting that is wrong.
//!
//! One file per section, its settings and their checks side by side; this one loads the layers,
//! holds the whole ([`Settings`] as written, [`Config`] validated) and reads `file:` values.

mod admin;
mod clients;
mod env;
mod journal;
mod namespaces;
mod notify;
mod real;
mod scenario;
mod server;
mod signing;
mod store;

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;

pub use self::admin::{AdminSettings, Secret};
pub use self::clients::ClientSettings;
pub use self::env::unrecognised_env;
pub use self::journal::JournalSettings;
pub use self::namespaces::NamespaceSettings;
pub use self::notify::NotifySettings;
pub use self::real::{
    Mode, ModeRoute, RealConfig, RealSettings, RelayConfig, RelaySettings, RouteSettings,
    UnknownMode, Upstream, UpstreamSettings, parse_routes,
};
pub use self::scenario::ScenarioSettings;
pub use self::server::ServerSettings;
pub use self::signing::SigningSettings;
pub use crate::client::Client;
use crate::client::ClientError;
use crate::notify::outbound::OutboundPolicy;
pub use crate::notify::outbound::check_notify_url;
use crate::notify::schedule::Schedule;
use crate::scenario::Rule;
use crate::signature::SigningKey;
pub use crate::store::StoreSettings;

/// The defaults, documented; also the base layer.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// A configuration problem, naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or the environment could not be read or does not fit the schema.
    #[error("{0}")]
    Load(Box<figment::Error>),
    /// A value is present but unusable.
    #[error("{key}: {problem}")]
    Invalid {
        /// The setting, e.g. `clients[0].public_keys.1`.
        key: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A client in `[[clients]]` (or registered at run time) is unusable.
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl ConfigError {
    fn invalid(key: impl Into<String>, problem: impl fmt::Display) -> Self {
        ConfigError::Invalid {
            key: key.into(),
            problem: problem.to_string(),
        }
    }
}

/// The settings as written; secrets stay text until [`Settings::validate`] parses them.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Listening and request handling.
    pub server: ServerSettings,
    /// The gateway's own key.
    pub signing: SigningSettings,
    /// The admin API.
    pub admin: AdminSettings,
    /// The payment-state store.
    pub store: StoreSettings,
    /// Payment result notifications the gateway sends.
    pub notify: NotifySettings,
    /// Scenario rules and the seed of random latencies.
    pub scenario: ScenarioSettings,
    /// The request journal.
    pub journal: JournalSettings,
    /// Real mode: forwarding to a real upstream, recording and replay.
    pub real: RealSettings,
    /// Namespaces: many test runs sharing one gateway apart.
    pub namespaces: NamespaceSettings,
    /// Callers and their keys.
    pub clients: Vec<ClientSettings>,
}

/// Environment variables arrive typed: `GATEWAY_SIGNING__KEY_VERSION=2` is a number and a token
/// of digits too. Settings that are text take any scalar as its text.
fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Int(i128),
        Float(f64),
        Bool(bool),
    }
    Ok(match Scalar::deserialize(d)? {
        Scalar::Text(s) => s,
        Scalar::Int(n) => n.to_string(),
        Scalar::Float(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
    })
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("signing.key_version", &self.signing.key_version)
            .field("signing.private_key", &"<redacted>")
            .field("admin.token", &"<redacted>")
            .field("store", &self.store)
            .field("notify", &self.notify)
            .field("scenario", &self.scenario)
            .field("journal", &self.journal)
            .field("real", &self.real)
            .field("namespaces", &self.namespaces)
            .field(
                "clients",
                &self
                    .clients
                    .iter()
                    .map(|c| &c.client_id)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The validated configuration the gateway runs with. A clone shares its keys and clients.
#[derive(Debug, Clone)]
pub struct Config {
    /// The settings as loaded (secrets redacted in `Debug`).
    pub settings: Settings,
    /// Where the listener binds.
    pub listen: SocketAddr,
    /// The gateway's signing key.
    pub signing_key: Arc<SigningKey>,
    /// The admin token; `None` when the admin API is off.
    pub admin_token: Option<Secret>,
    /// Clients by Client-Id.
    pub clients: Arc<HashMap<String, Arc<Client>>>,
    /// When notification attempts are due.
    pub schedule: Schedule,
    /// Each client's default notify URL.
    pub notify_urls: Arc<HashMap<String, String>>,
    /// The scenario rules from config, compiled.
    pub rules: Vec<Rule>,
    /// Where the notification sender may connect (`notify.allowed_hosts`).
    pub outbound: Arc<OutboundPolicy>,
    /// Where a run-time client's notify URL and a namespace's notifications may point:
    /// `notify.allowed_hosts`, or loopback alone when it is empty.
    pub run_time_outbound: Arc<OutboundPolicy>,
    /// Real mode, when `[real]` asks for more than the mock.
    pub real: Option<Arc<RealConfig>>,
}

impl Settings {
    /// Loads defaults, then `file` if given, then `GATEWAY_*` variables from the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::invalid(
                    "--config",
                    format!("no config file at {}", file.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment.merge(env::layer());
        figment
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))
    }

    /// Parses and checks every value; `base_dir` anchors relative `file:` paths.
    pub fn validate(self, base_dir: &Path) -> Result<Config, ConfigError> {
        let listen = self.server.validate()?;
        self.namespaces.validate()?;
        let signing_key = self.signing.validate(base_dir)?;
        store::validate(&self.store)?;
        let admin_token = self.admin.validate(base_dir)?;
        let clients = clients::validate(&self.clients, base_dir)?;
        let (schedule, outbound) = self.notify.validate()?;
        let notify_urls = clients::notify_urls(&self.clients, &outbound)?;
        let rules = self.scenario.validate()?;
        let any_pass_through = self.clients.iter().any(|c| c.pass_through);
        let real = self.real.validate(any_pass_through, base_dir)?;

        Ok(Config {
            real,
            run_time_outbound: Arc::new(outbound.or_loopback()),
            outbound: Arc::new(outbound),
            listen,
            rules,
            schedule,
            notify_urls: Arc::new(notify_urls),
            signing_key: Arc::new(signing_key),
            admin_token,
            clients: Arc::new(clients),
            settings: self,
        })
    }
}

impl Config {
    /// Loads and validates in one step; relative `file:` paths resolve against the config
    /// file's directory, or the working directory without one.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let base = file
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Settings::load(file)?.validate(&base)
    }
}

/// Reads `file:PATH` values; other values are returned as they are.
fn resolve(key: &str, value: &str, base_dir: &Path) -> Result<String, ConfigError> {
    let Some(path) = value.strip_prefix("file:") else {
        return Ok(value.to_owned());
    };
    let path = base_dir.join(path);
    let cannot = |e: std::io::Error| {
        ConfigError::invalid(key, format!("cannot read {}: {e}", path.display()))
    };
    // A key or token is a few KiB: a bound keeps `file:/dev/zero` from filling memory.
    let mut text = String::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(FILE_VALUE_LIMIT + 1).read_to_string(&mut text))
        .map_err(cannot)?;
    if text.len() as u64 > FILE_VALUE_LIMIT {
        return Err(ConfigError::invalid(
            key,
            format!(
                "{} is larger than {FILE_VALUE_LIMIT} bytes: not a key or a token",
                path.display()
            ),
        ));
    }
    Ok(text)
}

/// The largest file a `file:` value may name.
const FILE_VALUE_LIMIT: u64 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_settings_take_numbers_as_environment_variables_give_them() {
        let figment = Figment::from(Toml::string(DEFAULT_TOML)).merge(Toml::string(
            "[signing]\nkey_version = 2\n[admin]\ntoken = 123456789\n",
        ));
        let settings: Settings = figment.extract().unwrap();
        assert_eq!(settings.signing.key_version, "2");
        assert_eq!(settings.admin.token, "123456789");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let mut settings: Settings = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        settings.admin.token = "t0ken-value".into();
        settings.store.url = "postgres://gw:s3cret@db/gw".into();
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("t0ken-value") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn the_built_in_defaults_parse_but_need_a_key() {
        let settings: Settings = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        let err = settings.validate(Path::new(".")).unwrap_err().to_string();
        assert!(err.starts_with("signing.private_key: required"), "{err}");
    }
}
