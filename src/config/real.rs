//! `[real]`: real mode's default mode, its per-API routes, the upstream requests are forwarded
//! to (its URL, the key that signs for it, its public keys) and the notification relay.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, lenient_string, resolve};
use crate::notify::outbound::check_notify_url;
use crate::protocol::{Direction, Endpoint};
use crate::signature::{PublicKeys, SigningKey, VerifyingKey};

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
    pub timeout: Duration,
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
    pub fn parse(text: &str) -> Result<Self, UnknownMode> {
        match text {
            "mock" => Ok(Mode::Mock),
            "proxy" => Ok(Mode::Proxy),
            "replay" => Ok(Mode::Replay),
            "replay-or-proxy" => Ok(Mode::ReplayOrProxy),
            other => Err(UnknownMode(other.to_owned())),
        }
    }

    /// Whether the mode may forward to the upstream.
    pub fn forwards(self) -> bool {
        matches!(self, Mode::Proxy | Mode::ReplayOrProxy)
    }
}

/// A mode that is none of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode {0:?} (expected mock, proxy, replay or replay-or-proxy)")]
pub struct UnknownMode(pub String);

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
                .filter(|e| e.spec().direction == Direction::Served)
                .ok_or_else(|| {
                    let served: Vec<&str> = Endpoint::served().map(Endpoint::name).collect();
                    ConfigError::invalid(
                        format!("{key}.api"),
                        format!(
                            "{:?} is not an API that can be forwarded (expected {})",
                            r.api,
                            served.join(", ")
                        ),
                    )
                })?;
            let mode =
                Mode::parse(&r.mode).map_err(|e| ConfigError::invalid(format!("{key}.mode"), e))?;
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
    pub public_keys: PublicKeys,
    /// How long a forwarded request waits.
    pub timeout: Duration,
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

impl RealSettings {
    /// `[real]`: `None` when everything answers from the mock, no upstream is configured and no
    /// client passes through (`any_pass_through`), so the default path stays exactly as it is
    /// without real mode.
    pub(super) fn validate(
        &self,
        any_pass_through: bool,
        base_dir: &Path,
    ) -> Result<Option<Arc<RealConfig>>, ConfigError> {
        let r = self;
        let mode = Mode::parse(&r.mode).map_err(|e| ConfigError::invalid("real.mode", e))?;
        let routes = parse_routes(&r.routes, "real.routes")?;
        let u = &r.upstream;
        let upstream = if u.base_url.trim().is_empty() {
            None
        } else {
            Some(Arc::new(validate_upstream(u, base_dir)?))
        };
        let relay = validate_relay(&r.relay)?;
        if mode == Mode::Mock
            && routes.is_empty()
            && upstream.is_none()
            && relay.is_none()
            && !any_pass_through
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
        timeout: Duration::from_millis(r.timeout_ms),
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
        public_keys: PublicKeys::new(keys),
        timeout: Duration::from_millis(u.timeout_ms),
        sandbox_paths: u.sandbox_paths,
        max_body_bytes: u.max_body_bytes,
    })
}
