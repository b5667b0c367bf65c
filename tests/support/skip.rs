//! A test that cannot run on this machine says so where every run shows it (past libtest's
//! output capture, with the word SKIPPED and the reason), and fails instead when the run asked
//! for everything: `GATEWAY_TEST_REQUIRE_ALL=1`, which `.ci/run` sets after setting up each suite.

use std::io::Write as _;

/// Reports that `what` is skipped because `why`, or panics when every suite was to run.
pub fn skipped(what: &str, why: &str) {
    if std::env::var_os("GATEWAY_TEST_REQUIRE_ALL").is_some() {
        panic!("{what} cannot run, and GATEWAY_TEST_REQUIRE_ALL asks for every suite: {why}");
    }
    let _ = writeln!(std::io::stderr(), "{what}: SKIPPED: {why}");
}
