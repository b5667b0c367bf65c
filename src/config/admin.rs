//! `[admin]`: the admin API's bearer token, which also signs in to the dashboard; and
//! [`Secret`], the setting `Debug` never shows.

use std::fmt;
use std::path::Path;

use serde::Deserialize;

use super::{ConfigError, lenient_string, resolve};

/// `[admin]`
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    /// Bearer token, inline or `file:PATH`; it also signs in to the dashboard. Empty turns the
    /// admin API and the dashboard off.
    #[serde(deserialize_with = "lenient_string")]
    pub token: String,
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

impl AdminSettings {
    /// The token, read from its file if it names one; `None` (the admin API and the dashboard
    /// off) when it is empty.
    pub(super) fn validate(&self, base_dir: &Path) -> Result<Option<Secret>, ConfigError> {
        let token = resolve("admin.token", &self.token, base_dir)?
            .trim()
            .to_owned();
        Ok((!token.is_empty()).then_some(Secret(token)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_shows_as_redacted() {
        assert_eq!(format!("{:?}", Secret("x".into())), "<redacted>");
    }
}
