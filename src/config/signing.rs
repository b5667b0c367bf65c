//! `[signing]`: the gateway's own key, which signs its answers and its notifications.

use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, lenient_string, resolve};
use crate::signature::SigningKey;

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

impl SigningSettings {
    /// The key, parsed; `base_dir` anchors a relative `file:` path.
    pub(super) fn validate(&self, base_dir: &Path) -> Result<SigningKey, ConfigError> {
        let key_text = resolve("signing.private_key", &self.private_key, base_dir)?;
        if key_text.trim().is_empty() {
            return Err(ConfigError::invalid(
                "signing.private_key",
                "required: the gateway's RSA private key (base64 PKCS#8 or PEM, or file:PATH)",
            ));
        }
        let signing_key = SigningKey::from_text(&key_text)
            .map_err(|e| ConfigError::invalid("signing.private_key", e))?;
        if self.key_version.is_empty() || self.key_version.contains([',', '=']) {
            return Err(ConfigError::invalid(
                "signing.key_version",
                "must be a non-empty version without , or =",
            ));
        }
        Ok(signing_key)
    }
}
