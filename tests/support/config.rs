//! The config files of test gateways: the TEST-ONLY keys of `tests/fixtures/keys`, one merchant
//! client, a listener on `127.0.0.1:0`, and the store a test names.

use std::path::{Path, PathBuf};

/// The one client of every harness gateway, key `TEST-ONLY-merchant`, keyVersion 1.
pub const MERCHANT: &str = "TEST_MERCHANT";

/// The admin token of every harness gateway with the admin API on.
pub const ADMIN_TOKEN: &str = "TEST-ONLY-admin-token";

/// `tests/fixtures/keys`: the TEST-ONLY key pairs (never used outside tests).
pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// Writes a gateway config on `127.0.0.1:0` with the TEST-ONLY keys and this store.
pub fn gateway_config(dir: &Path, store_url: &str, acquire_timeout_ms: u64) -> PathBuf {
    let keys = keys_dir();
    let keys = keys.display();
    let path = dir.join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
[store]
url = "{store_url}"
acquire_timeout_ms = {acquire_timeout_ms}
[[clients]]
client_id = "{MERCHANT}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
"#
        ),
    )
    .unwrap();
    path
}

/// `[notify]` of a test gateway.
pub struct NotifyConfig {
    /// Schedule seconds per real second: 36 000 runs a day's schedule in a few seconds.
    pub time_scale: f64,
    /// How long the sender waits for the merchant's answer.
    pub timeout_ms: u64,
    /// How long a claimed notification stays the claimer's.
    pub lease_ms: u64,
}

impl Default for NotifyConfig {
    /// Real time (the admin clock drives it), the default timeout and lease.
    fn default() -> Self {
        NotifyConfig {
            time_scale: 1.0,
            timeout_ms: 5000,
            lease_ms: 30_000,
        }
    }
}

/// A gateway config with the admin API on and these notify settings. `key_version` is what the
/// replica writes in its signature headers: the merchant tells replicas apart by it.
pub fn notifying_config(
    dir: &Path,
    store_url: &str,
    notify: &NotifyConfig,
    key_version: &str,
) -> PathBuf {
    let keys = keys_dir();
    let keys = keys.display();
    let path = dir.join(format!("notifying-{key_version}.toml"));
    let NotifyConfig {
        time_scale,
        timeout_ms,
        lease_ms,
    } = notify;
    std::fs::write(
        &path,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
key_version = "{key_version}"
[admin]
token = "{ADMIN_TOKEN}"
[store]
url = "{store_url}"
[notify]
time_scale = {time_scale:?}
timeout_ms = {timeout_ms}
lease_ms = {lease_ms}
[[clients]]
client_id = "{MERCHANT}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
"#
        ),
    )
    .unwrap();
    path
}
