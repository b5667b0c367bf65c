//! A client's public keys by keyVersion: the one lookup both the request admission and the
//! sender's acknowledgement check make before they verify.

use std::collections::HashMap;
use std::sync::Arc;

use super::VerifyingKey;

/// Public keys by keyVersion, and the version a signature that names none is checked with.
#[derive(Clone, Default)]
pub struct PublicKeys {
    by_version: HashMap<String, Arc<VerifyingKey>>,
    latest: String,
}

/// A keyVersion with no key registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKeyVersion {
    /// The version asked for.
    pub version: String,
    /// The versions there are, sorted.
    pub known: Vec<String>,
}

impl PublicKeys {
    /// The keys; the latest is the highest version, numbers compared as numbers.
    pub fn new(by_version: HashMap<String, Arc<VerifyingKey>>) -> Self {
        let latest = latest_version(by_version.keys());
        Self { by_version, latest }
    }

    /// The version used when a signature names none.
    pub fn latest_version(&self) -> &str {
        &self.latest
    }

    /// The versions registered, sorted.
    pub fn versions(&self) -> Vec<String> {
        let mut known: Vec<String> = self.by_version.keys().cloned().collect();
        known.sort_unstable();
        known
    }

    /// The key a signature's keyVersion names, or the latest when it names none, with the
    /// version it is.
    pub fn resolve(
        &self,
        named: Option<&str>,
    ) -> Result<(String, Arc<VerifyingKey>), UnknownKeyVersion> {
        let version = named.unwrap_or(&self.latest);
        match self.by_version.get(version) {
            Some(key) => Ok((version.to_owned(), key.clone())),
            None => Err(UnknownKeyVersion {
                version: version.to_owned(),
                known: self.versions(),
            }),
        }
    }
}

fn latest_version<'a>(versions: impl Iterator<Item = &'a String>) -> String {
    versions
        .max_by_key(|v| (v.parse::<u64>().ok(), v.as_str()))
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_key_version_compares_numbers_as_numbers() {
        let v: Vec<String> = ["1", "10", "9"].map(String::from).to_vec();
        assert_eq!(latest_version(v.iter()), "10");
        let mixed: Vec<String> = ["beta", "2", "alpha"].map(String::from).to_vec();
        assert_eq!(latest_version(mixed.iter()), "2");
    }
}
