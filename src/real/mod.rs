//! Real mode: each API answers, per client, from the mock, from a real Alipay+ / Antom upstream
//! (forwarded, then recorded), or from what the upstream answered before (replay). This module
//! holds what the HTTP side needs and no HTTP server: the modes in force ([`modes`]), the
//! forwarding client with its signing and verification ([`upstream`]), and the relay of real
//! notifications to a local handler ([`relay`]), and the drift report's comparison ([`drift`]). The request pipeline's `forward` step uses them in the handler's
//! place; admission, sealing and the journal stay as they are (docs/real-mode.md).

pub mod drift;
pub mod modes;
pub mod relay;
pub mod upstream;

use std::sync::Arc;

use crate::config::RealConfig;
use crate::signature::SigningKey;

pub use modes::Modes;
pub use relay::{Relay, RelayError};
pub use upstream::{Forwarder, Leg, Signing, UpstreamError};

/// Why real mode's HTTP clients cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum RealError {
    /// The upstream's client.
    #[error("upstream HTTP client: {0}")]
    UpstreamClient(reqwest::Error),
    /// The relay's client.
    #[error("relay HTTP client: {0}")]
    RelayClient(reqwest::Error),
}

/// Real mode in a running gateway.
#[derive(Debug)]
pub struct Real {
    /// The modes in force, switchable at run time.
    pub modes: Modes,
    /// The upstream's client, when one is configured.
    pub forwarder: Option<Forwarder>,
    /// Forwarded results update the store as a mock call would.
    pub update_store: bool,
    /// The notification relay, when one is configured.
    pub relay: Option<Relay>,
}

impl Real {
    /// Real mode as configured; the relay re-signs with `key`. `Err` when an HTTP client cannot
    /// be built.
    pub fn new(
        config: &RealConfig,
        key: Arc<SigningKey>,
        key_version: &str,
    ) -> Result<Self, RealError> {
        let forwarder = config
            .upstream
            .as_ref()
            .map(|u| Forwarder::new(Arc::clone(u)))
            .transpose()?;
        let relay = config
            .relay
            .clone()
            .map(|r| Relay::new(r, key, key_version.to_owned()))
            .transpose()?;
        Ok(Self {
            modes: Modes::new(config.mode, config.routes.clone()),
            forwarder,
            update_store: config.update_store,
            relay,
        })
    }
}
