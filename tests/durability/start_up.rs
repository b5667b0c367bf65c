//! Start-up: a database that is down is a clear error that names it and keeps its password
//! secret; a store that is up has its schema version logged.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::TestStore;
use crate::support::config::gateway_config;
use crate::support::gateway_process::{self, Gateway, drain};

/// How long a gateway whose database is down may take to give up starting.
const START_UP: Duration = Duration::from_secs(20);

#[test]
fn a_database_down_at_start_up_is_a_clear_error_naming_the_url_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = gateway_config(dir.path(), "postgres://gw:s3cret@127.0.0.1:1/nothing", 1000);
    let started = Instant::now();
    let mut child = gateway_process::command(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gateway binary starts");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > START_UP {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the gateway still runs {START_UP:?} after start-up with its database down");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    println!("exited ({status}) after {:?}: {stderr}", started.elapsed());
    assert!(
        !status.success(),
        "the gateway exited successfully with its database down"
    );
    assert!(
        stderr.contains("postgres://gw:***@127.0.0.1:1/nothing"),
        "stderr does not name the database: {stderr}"
    );
    assert!(
        !stderr.contains("s3cret") && !stdout.contains("s3cret"),
        "the password leaked: {stdout}{stderr}"
    );
}

#[test]
fn the_store_schema_version_is_logged_at_start_up() {
    let store = TestStore::sqlite();
    let gateway = Gateway::start(&gateway_config(store.dir(), &store.url, 5000));
    let line = gateway
        .log_line("store ready")
        .unwrap_or_else(|| panic!("no `store ready` line in the log:\n{}", gateway.logs()));
    assert_eq!(line["backend"], "sqlite", "{line}");
    assert_eq!(line["url"], store.url.as_str(), "{line}");
    let version = line["schema_version"]
        .as_i64()
        .unwrap_or_else(|| panic!("no schema_version: {line}"));
    assert!(version >= 1, "{line}");
}
