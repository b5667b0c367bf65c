//! The config file: TOML over the built-in defaults, then every validation the gateway runs
//! at start-up (keys named by `file:` resolve against the test fixtures, and only there).
#![no_main]

use std::path::Path;

use alipay_gateway::config::{DEFAULT_TOML, Settings};
use figment::Figment;
use figment::providers::{Format, Toml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `file:` values stay inside the fixtures: a path elsewhere could name a FIFO or a
    // terminal, and reading one would stall the fuzzer rather than find a bug.
    if text.contains("file:/") || text.contains("..") || text.contains('\\') {
        return;
    }
    let settings: Result<Settings, _> = Figment::from(Toml::string(DEFAULT_TOML))
        .merge(Toml::string(text))
        .extract();
    if let Ok(settings) = settings {
        let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keys");
        let _ = settings.validate(&keys);
    }
});
