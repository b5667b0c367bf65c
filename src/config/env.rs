//! The `GATEWAY_<SECTION>__<KEY>` environment variables: the layer they make over the defaults
//! and the file, and a word for each `GATEWAY_*` variable that is no setting.

use figment::Figment;
use figment::providers::{Env, Format, Toml};

use super::DEFAULT_TOML;

/// The config sections environment variables may set.
const SECTIONS: [&str; 8] = [
    "server", "signing", "admin", "store", "notify", "scenario", "journal", "real",
];

/// The environment layer: only `GATEWAY_<SECTION>__<KEY>` variables are settings;
/// `GATEWAY_CONFIG`, `GATEWAY_LOG` and other `GATEWAY_*` variables belong to the CLI, logging or
/// tests.
pub(super) fn layer() -> Env {
    Env::prefixed("GATEWAY_").split("__").filter(|key| {
        let key = key.as_str().to_ascii_lowercase();
        SECTIONS.iter().any(|s| {
            key.len() > s.len()
                && key.starts_with(s)
                && matches!(key.as_bytes()[s.len()], b'.' | b'_')
        })
    })
}

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
}
