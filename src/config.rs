//! Typed, layered, validated configuration: built-in defaults (`config/default.toml`), then an
//! optional TOML file, then `GATEWAY_<SECTION>__<KEY>` environment variables. Validation parses
//! every key once at start-up and names the setting that is wrong.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use std::num::NonZeroU32;

use governor::{Quota, RateLimiter};

pub use crate::client::Client;
use crate::notify::outbound::OutboundPolicy;
use crate::notify::schedule::{Schedule, parse_interval};
use crate::protocol::Endpoint;
use crate::scenario::{Rule, RuleSpec};
use crate::signature::{SigningKey, VerifyingKey};
pub use crate::store::StoreSettings;

/// The defaults, documented; also the base layer.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// The config sections environment variables may set.
const SECTIONS: [&str; 8] = [
    "server", "signing", "admin", "store", "notify", "scenario", "journal", "real",
];

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

/// `[namespaces]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceSettings {
    /// How often a replica brings its namespaces and run-time clients in step with the store,
    /// and deletes the namespaces whose time to live ran out.
    pub sync_interval_ms: u64,
    /// The most namespaces that may exist at once.
    pub max_namespaces: usize,
    /// Connections in each namespace's own SQL pool.
    pub max_connections: u32,
}

/// `[real]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealSettings {
    /// How every API answers unless a route says otherwise: mock, proxy, replay,
    /// replay-or-proxy.
    pub mode: String,
    /// Forwarded results the upstream accepted update the store as a mock call would.
    pub update_store: bool,
    /// Per API, and optionally per client, modes; the first that matches applies.
    pub routes: Vec<RouteSettings>,
    /// The real service requests are forwarded to.
    pub upstream: UpstreamSettings,
    /// Relaying real notifications to a local handler.
    pub relay: RelaySettings,
}

/// `[real.relay]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelaySettings {
    /// The local handler each verified notification is forwarded to; empty: no relay.
    pub forward_to: String,
    /// `re-sign` (signed again with the gateway key) or `untouched` (as received).
    pub signing: String,
    /// How long the relay waits for the local handler's acknowledgement.
    pub timeout_ms: u64,
}

/// `[real.relay]`, validated.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where notifications go.
    pub url: String,
    /// Signed again with the gateway key (else forwarded untouched).
    pub resign: bool,
    /// How long to wait for the acknowledgement.
    pub timeout: std::time::Duration,
}

/// One `[[real.routes]]` entry.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSettings {
    /// The API name.
    #[schema(value_type = crate::protocol::Endpoint)]
    pub api: String,
    /// Only this caller; absent for every caller.
    #[serde(default)]
    pub client_id: Option<String>,
    /// mock, proxy, replay or replay-or-proxy.
    #[schema(value_type = Mode)]
    pub mode: String,
}

/// `[real.upstream]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    /// Scheme, host and port of the upstream; empty for none.
    pub base_url: String,
    /// The Client-Id the upstream knows the gateway by (re-sign mode).
    #[serde(deserialize_with = "lenient_string")]
    pub client_id: String,
    /// The private key that signs for that client id, inline or `file:PATH`.
    pub private_key: String,
    /// keyVersion named in the signatures the gateway makes for the upstream.
    #[serde(deserialize_with = "lenient_string")]
    pub key_version: String,
    /// The upstream's public keys by keyVersion, inline or `file:PATH`: its answers must verify.
    pub public_keys: BTreeMap<String, String>,
    /// How long a forwarded request waits for the upstream's answer.
    pub timeout_ms: u64,
    /// Send to the sandbox path form (`/ams/sandbox/api/...`, `/aps/sandbox/api/...`).
    pub sandbox_paths: bool,
    /// Largest upstream answer read.
    pub max_body_bytes: usize,
}

impl fmt::Debug for UpstreamSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamSettings")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("private_key", &"<redacted>")
            .field("key_version", &self.key_version)
            .field("public_keys", &self.public_keys.keys().collect::<Vec<_>>())
            .field("timeout_ms", &self.timeout_ms)
            .field("sandbox_paths", &self.sandbox_paths)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

/// How an API answers a client in real mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The mock answers, as without real mode.
    Mock,
    /// Forwarded to the upstream, and recorded.
    Proxy,
    /// Answered from a recording; none: UNKNOWN_EXCEPTION.
    Replay,
    /// Answered from a recording; none: forwarded and recorded.
    ReplayOrProxy,
}

impl Mode {
    /// Parses `mock`, `proxy`, `replay` or `replay-or-proxy`.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "mock" => Ok(Mode::Mock),
            "proxy" => Ok(Mode::Proxy),
            "replay" => Ok(Mode::Replay),
            "replay-or-proxy" => Ok(Mode::ReplayOrProxy),
            other => Err(format!(
                "unknown mode {other:?} (expected mock, proxy, replay or replay-or-proxy)"
            )),
        }
    }

    /// Whether the mode may forward to the upstream.
    pub fn forwards(self) -> bool {
        matches!(self, Mode::Proxy | Mode::ReplayOrProxy)
    }
}

/// A validated `[[real.routes]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeRoute {
    /// The API.
    pub endpoint: Endpoint,
    /// Only this caller, or every caller.
    pub client_id: Option<String>,
    /// How it answers.
    pub mode: Mode,
}

/// Checks `[[real.routes]]`-shaped entries; `at` names the setting in errors.
pub fn parse_routes(routes: &[RouteSettings], at: &str) -> Result<Vec<ModeRoute>, ConfigError> {
    routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let key = format!("{at}[{i}]");
            let endpoint = Endpoint::from_name(&r.api)
                .filter(|e| *e != Endpoint::NotifyPayment)
                .ok_or_else(|| {
                    ConfigError::invalid(
                        format!("{key}.api"),
                        format!(
                            "{:?} is not an API that can be forwarded (expected sendPaymentResult, notifyPushPayment or inquiryPayment)",
                            r.api
                        ),
                    )
                })?;
            let mode = Mode::parse(&r.mode).map_err(|e| ConfigError::invalid(format!("{key}.mode"), e))?;
            Ok(ModeRoute {
                endpoint,
                client_id: r.client_id.clone(),
                mode,
            })
        })
        .collect()
}

/// The upstream, validated and its keys parsed.
pub struct Upstream {
    /// Scheme, host and port, without a trailing `/`.
    pub base_url: String,
    /// The Client-Id the upstream knows the gateway by.
    pub client_id: String,
    /// Signs for that client id; never leaves the process.
    pub key: Arc<SigningKey>,
    /// keyVersion named in those signatures.
    pub key_version: String,
    /// The upstream's public keys.
    pub public_keys: crate::signature::PublicKeys,
    /// How long a forwarded request waits.
    pub timeout: std::time::Duration,
    /// Send to the sandbox path form.
    pub sandbox_paths: bool,
    /// Largest answer read.
    pub max_body_bytes: usize,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("key", &"<redacted>")
            .field("key_versions", &self.public_keys.versions())
            .finish()
    }
}

/// Real mode, validated: present only when `[real]` asks for more than the mock.
#[derive(Debug)]
pub struct RealConfig {
    /// The default mode.
    pub mode: Mode,
    /// Per API and client modes, first match wins.
    pub routes: Vec<ModeRoute>,
    /// Forwarded results update the store.
    pub update_store: bool,
    /// The upstream, when one is configured.
    pub upstream: Option<Arc<Upstream>>,
    /// The notification relay, when one is configured.
    pub relay: Option<RelayConfig>,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: String,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Allowed distance between Request-Time and the gateway clock; 0 is off.
    pub clock_skew_seconds: u64,
    /// Refuse a request whose signed content was already received within the window.
    pub reject_replayed_signatures: bool,
    /// Signed contents remembered for `reject_replayed_signatures`; the oldest go first.
    pub seen_signatures_capacity: usize,
    /// Path of the notifyPayment receiver.
    pub notify_payment_path: String,
    /// How long a client may take to send its headers, and then its body.
    pub read_timeout_ms: u64,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace_ms: u64,
    /// Largest request head (request line and headers) served; a larger one answers
    /// PARAM_ILLEGAL, and one past four times this cannot be read at all (HTTP 431).
    pub max_header_bytes: usize,
    /// Connections open at once; the next waits in the listen backlog until one closes.
    pub max_connections: usize,
    /// Requests being handled at once; past it, REQUEST_TRAFFIC_EXCEED_LIMIT (U) at once.
    pub max_in_flight: usize,
    /// How long writing an answer may stall (a client that stops reading) before the
    /// connection is closed.
    pub write_timeout_ms: u64,
}

/// `[signing]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningSettings {
    /// The private key, inline or `file:PATH`.
    pub private_key: String,
    /// keyVersion put in response signatures.
    #[serde(deserialize_with = "lenient_string")]
    pub key_version: String,
    /// Sign responses. Off only to measure what signing costs; the SDKs reject unsigned S
    /// answers.
    pub sign_responses: bool,
}

/// `[admin]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Bearer token, inline or `file:PATH`; it also signs in to the dashboard. Empty turns the
    /// admin API and the dashboard off.
    #[serde(deserialize_with = "lenient_string")]
    pub token: String,
}

/// `[notify]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Run the sender in this process.
    pub enabled: bool,
    /// Interval before each attempt; as many attempts as intervals.
    pub schedule: Vec<String>,
    /// How long an attempt waits for the acknowledgement.
    pub timeout_ms: u64,
    /// How much faster than real time the schedule runs (3600: an hour per second).
    pub time_scale: f64,
    /// Count an acknowledgement as delivered only when the merchant signed it.
    pub require_signed_ack: bool,
    /// How long a replica holds a claimed notification before another may take it over.
    pub lease_ms: u64,
    /// Attempts in flight at once, per replica.
    pub concurrency: u32,
    /// Where notifications may be sent: host names, `*.domain`, addresses and networks; empty
    /// for anywhere.
    pub allowed_hosts: Vec<String>,
}

/// `[scenario]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSettings {
    /// Seed of random latencies: the same seed, the same latencies.
    pub seed: u64,
    /// Honour the `Gateway-Scenario` request header; off, it is ignored (it is not signed).
    pub allow_header: bool,
    /// Rules, tried in order; the first that matches applies.
    pub rules: Vec<RuleSpec>,
}

/// `[journal]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSettings {
    /// Record requests and notification attempts.
    pub enabled: bool,
    /// Entries kept; the oldest go first.
    pub capacity: usize,
    /// Bytes of each body kept.
    pub max_body_bytes: usize,
}

/// One `[[clients]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// The Client-Id header value.
    #[serde(deserialize_with = "lenient_string")]
    pub client_id: String,
    /// Public keys by keyVersion, inline or `file:PATH` (required unless `pass_through`).
    #[serde(default)]
    pub public_keys: BTreeMap<String, String>,
    /// API names this client may call; absent means all.
    #[serde(default)]
    pub endpoints: Option<Vec<String>>,
    /// Where payment result notifications for this merchant go, unless a payment names its own.
    #[serde(default)]
    pub notify_url: Option<String>,
    /// Requests per second this client may make; past it, REQUEST_TRAFFIC_EXCEED_LIMIT (U).
    #[serde(default)]
    pub rate_limit_per_second: Option<u32>,
    /// Real mode: this caller signs for the upstream itself; its requests are admitted on their
    /// Client-Id alone and forwarded untouched (the upstream verifies them).
    #[serde(default)]
    pub pass_through: bool,
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

/// A secret setting: usable, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
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
        // Only GATEWAY_<SECTION>__<KEY> variables are settings; GATEWAY_CONFIG, GATEWAY_LOG and
        // other GATEWAY_* variables belong to the CLI, logging or tests.
        let env = Env::prefixed("GATEWAY_").split("__").filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            SECTIONS.iter().any(|s| {
                key.len() > s.len()
                    && key.starts_with(s)
                    && matches!(key.as_bytes()[s.len()], b'.' | b'_')
            })
        });
        figment = figment.merge(env);
        figment
            .extract()
            .map_err(|e| ConfigError::Load(Box::new(e)))
    }

    /// Parses and checks every value; `base_dir` anchors relative `file:` paths.
    pub fn validate(self, base_dir: &Path) -> Result<Config, ConfigError> {
        let listen: SocketAddr = self.server.listen.parse().map_err(|e| {
            ConfigError::invalid(
                "server.listen",
                format!("{e} (expected HOST:PORT, e.g. 127.0.0.1:8080)"),
            )
        })?;
        if self.server.body_limit_bytes < 1024 {
            return Err(ConfigError::invalid(
                "server.body_limit_bytes",
                "must be at least 1024",
            ));
        }
        let path = &self.server.notify_payment_path;
        if !path.starts_with('/') || path.len() < 2 || path.contains(['?', '#', ' ', '{', '}', '*'])
        {
            return Err(ConfigError::invalid(
                "server.notify_payment_path",
                "must be a plain path starting with / (no query, no {, } or *)",
            ));
        }
        if path == "/admin"
            || path.starts_with("/admin/")
            || ["/healthz", "/readyz"].contains(&path.as_str())
        {
            return Err(ConfigError::invalid(
                "server.notify_payment_path",
                "collides with the gateway's own routes (/admin, /healthz, /readyz)",
            ));
        }
        if self.namespaces.sync_interval_ms < 10 {
            return Err(ConfigError::invalid(
                "namespaces.sync_interval_ms",
                "must be at least 10",
            ));
        }
        if self.namespaces.max_connections == 0 {
            return Err(ConfigError::invalid(
                "namespaces.max_connections",
                "must be at least 1",
            ));
        }
        if self.server.read_timeout_ms < 100 {
            return Err(ConfigError::invalid(
                "server.read_timeout_ms",
                "must be at least 100",
            ));
        }
        if self.server.write_timeout_ms < 100 {
            return Err(ConfigError::invalid(
                "server.write_timeout_ms",
                "must be at least 100",
            ));
        }
        if !(2048..=1 << 20).contains(&self.server.max_header_bytes) {
            return Err(ConfigError::invalid(
                "server.max_header_bytes",
                "must be 2048 to 1048576",
            ));
        }
        if self.server.reject_replayed_signatures && self.server.clock_skew_seconds == 0 {
            return Err(ConfigError::invalid(
                "server.reject_replayed_signatures",
                "needs server.clock_skew_seconds above 0: the window bounds how long a signature is remembered",
            ));
        }
        for (key, value) in [
            ("server.max_connections", self.server.max_connections),
            ("server.max_in_flight", self.server.max_in_flight),
            (
                "server.seen_signatures_capacity",
                self.server.seen_signatures_capacity,
            ),
        ] {
            if value == 0 || value > 1_000_000 {
                return Err(ConfigError::invalid(key, "must be 1 to 1000000"));
            }
        }
        if Endpoint::all_fixed_paths().any(|p| p == path) {
            return Err(ConfigError::invalid(
                "server.notify_payment_path",
                "collides with another API's path",
            ));
        }

        let key_text = resolve("signing.private_key", &self.signing.private_key, base_dir)?;
        if key_text.trim().is_empty() {
            return Err(ConfigError::invalid(
                "signing.private_key",
                "required: the gateway's RSA private key (base64 PKCS#8 or PEM, or file:PATH)",
            ));
        }
        let signing_key = SigningKey::from_text(&key_text)
            .map_err(|e| ConfigError::invalid("signing.private_key", e))?;
        if self.signing.key_version.is_empty() || self.signing.key_version.contains([',', '=']) {
            return Err(ConfigError::invalid(
                "signing.key_version",
                "must be a non-empty version without , or =",
            ));
        }

        let store = &self.store;
        let url = store.url.trim();
        if !(url == "memory://"
            || url.starts_with("sqlite://")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::invalid(
                "store.url",
                "must be memory://, sqlite://PATH or postgres://...",
            ));
        }
        if !(1..=10_000_000).contains(&store.memory_max_entries) {
            return Err(ConfigError::invalid(
                "store.memory_max_entries",
                "must be 1 to 10000000",
            ));
        }
        if store.max_connections == 0 {
            return Err(ConfigError::invalid(
                "store.max_connections",
                "must be at least 1",
            ));
        }
        if !["normal", "full"].contains(&store.sqlite_synchronous.as_str()) {
            return Err(ConfigError::invalid(
                "store.sqlite_synchronous",
                "must be normal or full",
            ));
        }

        let token = resolve("admin.token", &self.admin.token, base_dir)?
            .trim()
            .to_owned();
        let admin_token = (!token.is_empty()).then_some(Secret(token));

        let mut clients = HashMap::new();
        for (i, c) in self.clients.iter().enumerate() {
            let at = format!("clients[{i}]");
            let client = build_client(c, &at, Some(base_dir))?;
            if clients
                .insert(c.client_id.clone(), Arc::new(client))
                .is_some()
            {
                return Err(ConfigError::invalid(
                    format!("{at}.client_id"),
                    format!("{} is listed twice", c.client_id),
                ));
            }
        }

        let schedule = self.validate_notify()?;
        let outbound = OutboundPolicy::parse(&self.notify.allowed_hosts)
            .map_err(|e| ConfigError::invalid("notify.allowed_hosts", e))?;
        let mut notify_urls = HashMap::new();
        for (i, c) in self.clients.iter().enumerate() {
            if let Some(url) = &c.notify_url {
                check_notify_url(url)
                    .and_then(|()| outbound.check_url(url))
                    .map_err(|e| ConfigError::invalid(format!("clients[{i}].notify_url"), e))?;
                notify_urls.insert(c.client_id.clone(), url.clone());
            }
        }

        let rules = self
            .scenario
            .rules
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                Rule::compile(format!("config-{}", i + 1), spec.clone())
                    .map_err(|e| ConfigError::invalid(format!("scenario.rules[{i}]"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;

        let real = self.validate_real(base_dir)?;

        Ok(Config {
            real,
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

    /// `[real]`: `None` when everything answers from the mock and no upstream is configured,
    /// so the default path stays exactly as it is without real mode.
    fn validate_real(&self, base_dir: &Path) -> Result<Option<Arc<RealConfig>>, ConfigError> {
        let r = &self.real;
        let mode = Mode::parse(&r.mode).map_err(|e| ConfigError::invalid("real.mode", e))?;
        let routes = parse_routes(&r.routes, "real.routes")?;
        let u = &r.upstream;
        let upstream = if u.base_url.trim().is_empty() {
            None
        } else {
            Some(Arc::new(validate_upstream(u, base_dir)?))
        };
        let relay = validate_relay(&r.relay)?;
        let passing = self.clients.iter().any(|c| c.pass_through);
        if mode == Mode::Mock
            && routes.is_empty()
            && upstream.is_none()
            && relay.is_none()
            && !passing
        {
            return Ok(None);
        }
        let forwards = mode.forwards() || routes.iter().any(|r| r.mode.forwards());
        if forwards && upstream.is_none() {
            return Err(ConfigError::invalid(
                "real.upstream.base_url",
                "required: a mode forwards (proxy or replay-or-proxy) but no upstream is configured",
            ));
        }
        Ok(Some(Arc::new(RealConfig {
            mode,
            routes,
            update_store: r.update_store,
            upstream,
            relay,
        })))
    }

    fn validate_notify(&self) -> Result<Schedule, ConfigError> {
        let n = &self.notify;
        if n.schedule.is_empty() || n.schedule.len() > 100 {
            return Err(ConfigError::invalid(
                "notify.schedule",
                "needs 1 to 100 intervals",
            ));
        }
        let intervals = n
            .schedule
            .iter()
            .enumerate()
            .map(|(i, t)| {
                parse_interval(t)
                    .map_err(|e| ConfigError::invalid(format!("notify.schedule[{i}]"), e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Bounded so that no due time can overflow: the longest schedule at the slowest
        // scale is under 10,000 years of milliseconds.
        if let Some(i) = intervals.iter().position(|d| *d > MAX_INTERVAL) {
            return Err(ConfigError::invalid(
                format!("notify.schedule[{i}]"),
                "must be at most 30 days",
            ));
        }
        if !(n.time_scale.is_finite() && (MIN_TIME_SCALE..=MAX_TIME_SCALE).contains(&n.time_scale))
        {
            return Err(ConfigError::invalid(
                "notify.time_scale",
                format!("must be a number from {MIN_TIME_SCALE} to {MAX_TIME_SCALE}"),
            ));
        }
        if n.timeout_ms == 0 || n.lease_ms <= n.timeout_ms {
            return Err(ConfigError::invalid(
                "notify.lease_ms",
                "must be longer than notify.timeout_ms (and the timeout above 0)",
            ));
        }
        if n.concurrency == 0 {
            return Err(ConfigError::invalid(
                "notify.concurrency",
                "must be at least 1",
            ));
        }
        Ok(Schedule::new(intervals, n.time_scale))
    }
}

/// The longest interval of a notification schedule.
const MAX_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
/// The slowest and fastest a schedule may run (0.01: a hundred times slower than real time).
const MIN_TIME_SCALE: f64 = 0.01;
const MAX_TIME_SCALE: f64 = 1_000_000.0;

/// `GATEWAY_*` variables that belong to the CLI and logging, not to a section of the config.
const NOT_SETTINGS: [&str; 3] = ["GATEWAY_CONFIG", "GATEWAY_LOG", "GATEWAY_LOG_FORMAT_JSON"];

/// Every `GATEWAY_*` variable among `vars` that is no setting, each with why: a key that no
/// section has, one underscore where the section and key need two, or a list (`[[clients]]`,
/// `[[scenario.rules]]`) that only the config file can hold. Such a variable would otherwise be
/// ignored without a word. `GATEWAY_TEST_*` belong to the test suite and pass.
pub fn unrecognised_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let defaults = Figment::from(Toml::string(DEFAULT_TOML));
    let is_setting = |dotted: &str| {
        defaults
            .find_value(dotted)
            .is_ok_and(|v| v.as_dict().is_none())
    };
    let mut found: Vec<String> = vars
        .into_iter()
        .filter_map(|(name, _)| {
            let rest = name.strip_prefix("GATEWAY_")?;
            if NOT_SETTINGS.contains(&name.as_str()) || rest.starts_with("TEST_") {
                return None;
            }
            let dotted = rest.to_ascii_lowercase().replace("__", ".");
            if is_setting(&dotted) {
                return None;
            }
            let why = if dotted == "clients" || dotted.starts_with("clients.") {
                "clients come from the config file's [[clients]] tables; a variable cannot add \
                 or change one"
                    .to_owned()
            } else if dotted.starts_with("scenario.rules") {
                "rules come from the config file's [[scenario.rules]] tables or POST /admin/rules"
                    .to_owned()
            } else if let Some(fixed) = SECTIONS.iter().find_map(|s| {
                let key = dotted.strip_prefix(s)?.strip_prefix('_')?;
                is_setting(&format!("{s}.{key}"))
                    .then(|| format!("GATEWAY_{s}__{key}").to_ascii_uppercase())
            }) {
                format!("did you mean {fixed}? (two underscores between section and key)")
            } else {
                "no key of that name (settings are GATEWAY_<SECTION>__<KEY>, every key of \
                 config/default.toml)"
                    .to_owned()
            };
            // A name inside a section reaches the loader, which refuses it; any other is dropped.
            let in_section = SECTIONS.iter().any(|s| {
                dotted.starts_with(s) && matches!(dotted.as_bytes().get(s.len()), Some(b'.' | b'_'))
            });
            let fate = if in_section {
                "is not a setting"
            } else {
                "is ignored"
            };
            Some(format!("{name} {fate}: {why}"))
        })
        .collect();
    found.sort();
    found
}

/// A notify URL must be absolute http or https.
pub fn check_notify_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{url:?} must be an http:// or https:// URL"));
    }
    Ok(())
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

/// A client from its settings, keys parsed; `at` names it in errors. Without a `base_dir` (a
/// client registered at run time) a `file:` key is refused: the admin API reads no files.
fn build_client(
    c: &ClientSettings,
    at: &str,
    base_dir: Option<&Path>,
) -> Result<Client, ConfigError> {
    if c.client_id.is_empty() || c.client_id.len() > 64 {
        return Err(ConfigError::invalid(
            format!("{at}.client_id"),
            "must be 1 to 64 characters",
        ));
    }
    if c.public_keys.is_empty() && !c.pass_through {
        return Err(ConfigError::invalid(
            format!("{at}.public_keys"),
            "needs at least one keyVersion = key",
        ));
    }
    let mut keys = HashMap::new();
    for (version, text) in &c.public_keys {
        let key_at = format!("{at}.public_keys.{version}");
        let text = match base_dir {
            Some(base_dir) => resolve(&key_at, text, base_dir)?,
            None if text.starts_with("file:") => {
                return Err(ConfigError::invalid(
                    &key_at,
                    "give the key itself (PEM or base64): a file: path is for the config file",
                ));
            }
            None => text.clone(),
        };
        let key = VerifyingKey::from_text(&text).map_err(|e| ConfigError::invalid(&key_at, e))?;
        keys.insert(version.clone(), Arc::new(key));
    }
    let allowed = match &c.endpoints {
        None => None,
        Some(names) => Some(
            names
                .iter()
                .map(|n| {
                    Endpoint::from_name(n).ok_or_else(|| {
                        ConfigError::invalid(
                            format!("{at}.endpoints"),
                            format!(
                                "unknown API {n:?} (expected {})",
                                Endpoint::ALL.map(Endpoint::name).join(", ")
                            ),
                        )
                    })
                })
                .collect::<Result<HashSet<_>, _>>()?,
        ),
    };
    let limiter = match c.rate_limit_per_second {
        None => None,
        Some(n) => Some(RateLimiter::direct(Quota::per_second(
            NonZeroU32::new(n).ok_or_else(|| {
                ConfigError::invalid(
                    format!("{at}.rate_limit_per_second"),
                    "must be at least 1 (omit it for no limit)",
                )
            })?,
        ))),
    };
    Ok(Client {
        id: c.client_id.clone(),
        keys: crate::signature::PublicKeys::new(keys),
        allowed,
        limiter,
        pass_through: c.pass_through,
    })
}

impl Config {
    /// A client registered at run time (the admin API), checked as a config-file one is, with
    /// its notify URL within `notify.allowed_hosts`. `at` names it in errors. Pass-through is
    /// for the config file only: it admits a caller on its Client-Id alone.
    pub fn run_time_client(
        &self,
        c: &ClientSettings,
        at: &str,
    ) -> Result<(Client, Option<String>), ConfigError> {
        if c.pass_through {
            return Err(ConfigError::invalid(
                format!("{at}.pass_through"),
                "is for config-file clients only",
            ));
        }
        let client = build_client(c, at, None)?;
        if let Some(url) = &c.notify_url {
            check_notify_url(url)
                .and_then(|()| self.outbound.check_url(url))
                .map_err(|e| ConfigError::invalid(format!("{at}.notify_url"), e))?;
        }
        Ok((client, c.notify_url.clone()))
    }
}

/// `[real.relay]`: `None` without a `forward_to`.
fn validate_relay(r: &RelaySettings) -> Result<Option<RelayConfig>, ConfigError> {
    let url = r.forward_to.trim();
    if url.is_empty() {
        return Ok(None);
    }
    check_notify_url(url).map_err(|e| ConfigError::invalid("real.relay.forward_to", e))?;
    let resign = match r.signing.as_str() {
        "re-sign" => true,
        "untouched" => false,
        other => {
            return Err(ConfigError::invalid(
                "real.relay.signing",
                format!("{other:?}: must be re-sign or untouched"),
            ));
        }
    };
    if r.timeout_ms == 0 || r.timeout_ms > 600_000 {
        return Err(ConfigError::invalid(
            "real.relay.timeout_ms",
            "must be 1 to 600000",
        ));
    }
    Ok(Some(RelayConfig {
        url: url.to_owned(),
        resign,
        timeout: std::time::Duration::from_millis(r.timeout_ms),
    }))
}

/// `[real.upstream]` with a base URL: the URL, the key that signs for it and its public keys.
fn validate_upstream(u: &UpstreamSettings, base_dir: &Path) -> Result<Upstream, ConfigError> {
    let url = u.base_url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ConfigError::invalid("real.upstream.base_url", format!("{url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.host_str().is_none()
        || parsed.path() != "/"
        || parsed.query().is_some()
    {
        return Err(ConfigError::invalid(
            "real.upstream.base_url",
            "must be http(s)://HOST[:PORT] with no path, e.g. https://open-sea-global.alipay.com",
        ));
    }
    if u.client_id.is_empty() || u.client_id.len() > 64 {
        return Err(ConfigError::invalid(
            "real.upstream.client_id",
            "must be 1 to 64 characters: the Client-Id the upstream knows the gateway by",
        ));
    }
    let key_text = resolve("real.upstream.private_key", &u.private_key, base_dir)?;
    if key_text.trim().is_empty() {
        return Err(ConfigError::invalid(
            "real.upstream.private_key",
            "required: the private key registered with the upstream for real.upstream.client_id",
        ));
    }
    let key = SigningKey::from_text(&key_text)
        .map_err(|e| ConfigError::invalid("real.upstream.private_key", e))?;
    if u.key_version.is_empty() || u.key_version.contains([',', '=']) {
        return Err(ConfigError::invalid(
            "real.upstream.key_version",
            "must be a non-empty version without , or =",
        ));
    }
    if u.public_keys.is_empty() {
        return Err(ConfigError::invalid(
            "real.upstream.public_keys",
            "needs at least one keyVersion = key: the upstream's answers are verified with it",
        ));
    }
    let mut keys = HashMap::new();
    for (version, text) in &u.public_keys {
        let at = format!("real.upstream.public_keys.{version}");
        let text = resolve(&at, text, base_dir)?;
        let key = VerifyingKey::from_text(&text).map_err(|e| ConfigError::invalid(&at, e))?;
        keys.insert(version.clone(), Arc::new(key));
    }
    if u.timeout_ms == 0 || u.timeout_ms > 600_000 {
        return Err(ConfigError::invalid(
            "real.upstream.timeout_ms",
            "must be 1 to 600000",
        ));
    }
    if u.max_body_bytes < 1024 {
        return Err(ConfigError::invalid(
            "real.upstream.max_body_bytes",
            "must be at least 1024",
        ));
    }
    Ok(Upstream {
        base_url: url.to_owned(),
        client_id: u.client_id.clone(),
        key: Arc::new(key),
        key_version: u.key_version.clone(),
        public_keys: crate::signature::PublicKeys::new(keys),
        timeout: std::time::Duration::from_millis(u.timeout_ms),
        sandbox_paths: u.sandbox_paths,
        max_body_bytes: u.max_body_bytes,
    })
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

/// The highest key version: numeric versions by number, above any non-numeric one, which
/// compare by text.
#[cfg(test)]
mod tests {
    use super::*;

    fn warnings_for(names: &[&str]) -> Vec<String> {
        unrecognised_env(names.iter().map(|n| ((*n).to_owned(), "x".to_owned())))
    }

    #[test]
    fn every_gateway_variable_that_is_no_setting_is_named_with_why() {
        let found = warnings_for(&[
            "GATEWAY_SERVER__LISTEN",
            "GATEWAY_NOTIFY__TIME_SCALE",
            "GATEWAY_CONFIG",
            "GATEWAY_LOG",
            "GATEWAY_TEST_POSTGRES_URL",
            "HOME",
            "GATEWAY_CLIENTS__0__NOTIFY_URL",
            "GATEWAY_SERVER_LISTEN",
            "GATEWAY_STORE__URLS",
            "GATEWAY_SCENARIO__RULES__0__ENDPOINT",
        ]);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].starts_with("GATEWAY_CLIENTS__0__NOTIFY_URL is ignored: clients come from the config file's [[clients]]"), "{found:#?}");
        assert!(found[1].contains("[[scenario.rules]]"), "{found:#?}");
        assert!(
            found[2].contains("did you mean GATEWAY_SERVER__LISTEN?"),
            "{found:#?}"
        );
        assert!(
            found[3].starts_with("GATEWAY_STORE__URLS is not a setting: no key of that name"),
            "{found:#?}"
        );
    }

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
        assert_eq!(format!("{:?}", Secret("x".into())), "<redacted>");
    }

    #[test]
    fn the_built_in_defaults_parse_but_need_a_key() {
        let settings: Settings = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
        let err = settings.validate(Path::new(".")).unwrap_err().to_string();
        assert!(err.starts_with("signing.private_key: required"), "{err}");
    }
}
