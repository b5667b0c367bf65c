//! `[[clients]]`: the callers the config file names, their keys and notify URLs; and the same
//! checks for a client the admin API registers at run time. [`Client::build`] makes the client.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::{Config, ConfigError, lenient_string, resolve};
use crate::client::{Client, ClientError, ClientSpec};
use crate::notify::outbound::OutboundPolicy;
use crate::notify::outbound::check_notify_url;

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

impl ClientSettings {
    /// What the client is built from.
    fn spec(&self) -> ClientSpec<'_> {
        ClientSpec {
            id: &self.client_id,
            public_keys: &self.public_keys,
            endpoints: self.endpoints.as_deref(),
            rate_limit_per_second: self.rate_limit_per_second,
            pass_through: self.pass_through,
        }
    }
}

/// The config file's clients by Client-Id, keys parsed; relative `file:` keys resolve against
/// `base_dir`.
pub(super) fn validate(
    clients: &[ClientSettings],
    base_dir: &Path,
) -> Result<HashMap<String, Arc<Client>>, ConfigError> {
    let mut built = HashMap::new();
    for (i, c) in clients.iter().enumerate() {
        let at = format!("clients[{i}]");
        let client = Client::build(c.spec(), &at, |key, text| resolve(key, text, base_dir))?;
        if built
            .insert(c.client_id.clone(), Arc::new(client))
            .is_some()
        {
            return Err(ConfigError::invalid(
                format!("{at}.client_id"),
                format!("{} is listed twice", c.client_id),
            ));
        }
    }
    Ok(built)
}

/// Each client's default notify URL, checked to be http(s) and within `notify.allowed_hosts`.
pub(super) fn notify_urls(
    clients: &[ClientSettings],
    outbound: &OutboundPolicy,
) -> Result<HashMap<String, String>, ConfigError> {
    let mut urls = HashMap::new();
    for (i, c) in clients.iter().enumerate() {
        if let Some(url) = &c.notify_url {
            check_notify_url(url)
                .and_then(|()| outbound.check_url(url))
                .map_err(|e| ConfigError::invalid(format!("clients[{i}].notify_url"), e))?;
            urls.insert(c.client_id.clone(), url.clone());
        }
    }
    Ok(urls)
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
        // The admin API reads no files: a key is given as itself.
        let client = Client::build(c.spec(), at, |key, text| {
            if text.starts_with("file:") {
                return Err(ClientError::KeyFile {
                    key: key.to_owned(),
                });
            }
            Ok(text.to_owned())
        })?;
        if let Some(url) = &c.notify_url {
            check_notify_url(url)
                .and_then(|()| self.run_time_outbound.check_url(url))
                .map_err(|e| ConfigError::invalid(format!("{at}.notify_url"), e))?;
        }
        Ok((client, c.notify_url.clone()))
    }
}
