//! The official Python SDK (`global-open-sdk-python`, unmodified) drives the real binary over
//! HTTP, and its webhook check verifies a notification the gateway sends: if it cannot talk to
//! the gateway, the gateway is wrong. It also drives a gateway in real mode, forwarding to a
//! second one that plays the upstream, in both signing modes; and as a CI job's client
//! registered at run time in a namespace of its own, with a key pair made on the spot. Runs when GATEWAY_TEST_PYTHON
//! names a Python with `tests/sdk/requirements.txt` installed (`bash .ci/run` sets it up).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[path = "support/skip.rs"]
mod skip;

/// The Python with the SDK installed (`GATEWAY_TEST_PYTHON`), or `None` after saying `what` is
/// skipped without it.
fn sdk_python(what: &str) -> Option<String> {
    let python = std::env::var("GATEWAY_TEST_PYTHON").ok();
    if python.is_none() {
        skip::skipped(
            what,
            "needs GATEWAY_TEST_PYTHON, a Python with tests/sdk/requirements.txt installed \
             (bash .ci/run sets it up)",
        );
    }
    python
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_official_python_sdk_talks_to_the_gateway_unmodified() {
    let Some(python) = sdk_python("python_sdk") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys = format!("{}/tests/fixtures/keys", env!("CARGO_MANIFEST_DIR"));
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[admin]
token = "TEST-ONLY-admin-token"
[store]
url = "memory://"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
[[clients]]
client_id = "SANDBOX_SDK_CLIENT"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
"#
        ),
    )
    .unwrap();

    let (mut gateway, address) = start(&config);
    let (passed, stdout) = sdk_check(
        &python,
        &[
            ("GATEWAY_URL", &format!("http://{address}")),
            ("SDK_CLIENT_ID", "SANDBOX_SDK_CLIENT"),
            (
                "SDK_PRIVATE_KEY",
                &fixture("TEST-ONLY-merchant-private.b64"),
            ),
            ("GATEWAY_ADMIN_TOKEN", "TEST-ONLY-admin-token"),
            (
                "GATEWAY_PUBLIC_KEY",
                &fixture("TEST-ONLY-gateway-public.b64"),
            ),
        ],
    );
    let _ = gateway.kill();
    let _ = gateway.wait();
    assert!(passed, "the SDK check failed:\n{stdout}");
}

/// Runs the SDK check (`tests/sdk/python_sdk_check.py`) with `env` and no admin token unless
/// `env` gives one; answers whether it passed and what it printed (echoed to the test's log).
fn sdk_check(python: &str, env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(python);
    command
        .arg(format!(
            "{}/tests/sdk/python_sdk_check.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .env_remove("GATEWAY_ADMIN_TOKEN");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    (output.status.success(), stdout)
}

/// Starts the binary with `config` and answers it with its address; its log keeps draining.
fn start(config: &std::path::Path) -> (std::process::Child, String) {
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_alipay-gateway"))
        .args(["--log-json", "serve", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the gateway binary starts");
    let mut lines = BufReader::new(gateway.stdout.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let v: serde_json::Value = serde_json::from_str(&line).ok()?;
            (v["message"] == "alipay-gateway listening")
                .then(|| v["address"].as_str().map(str::to_owned))?
        })
        .expect("the gateway logs its address");
    std::thread::spawn(move || lines.for_each(drop));
    (gateway, address)
}

#[test]
fn the_official_python_sdk_talks_through_a_real_mode_gateway_in_both_signing_modes() {
    let Some(python) = sdk_python("python_sdk real mode") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys = format!("{}/tests/fixtures/keys", env!("CARGO_MANIFEST_DIR"));
    let upstream_keys = dir.path().join("upstream-keys");
    let made = Command::new(env!("CARGO_BIN_EXE_alipay-gateway"))
        .args(["keygen", "--out"])
        .arg(&upstream_keys)
        .output()
        .unwrap();
    assert!(made.status.success(), "keygen: {made:?}");
    let upstream_keys = upstream_keys.display();
    // The upstream: a mock with its own key, knowing the front gateway and the pass-through
    // caller (the SDK, signing with the TEST-ONLY merchant key).
    let upstream_config = dir.path().join("upstream.toml");
    std::fs::write(
        &upstream_config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[store]
url = "memory://"
[signing]
private_key = "file:{upstream_keys}/private.pem"
[[clients]]
client_id = "FRONT_AT_UPSTREAM"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-other-public.pem" }}
[[clients]]
client_id = "SANDBOX_SDK_PASS"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
"#
        ),
    )
    .unwrap();
    let (mut upstream, upstream_address) = start(&upstream_config);
    let front_config = dir.path().join("front.toml");
    std::fs::write(
        &front_config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[store]
url = "memory://"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
[real]
mode = "proxy"
[real.upstream]
base_url = "http://{upstream_address}"
client_id = "FRONT_AT_UPSTREAM"
private_key = "file:{keys}/TEST-ONLY-other-private.pem"
public_keys = {{ "1" = "file:{upstream_keys}/public.pem" }}
[[clients]]
client_id = "SANDBOX_SDK_RESIGN"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
[[clients]]
client_id = "SANDBOX_SDK_PASS"
pass_through = true
"#
        ),
    )
    .unwrap();
    let (mut front, front_address) = start(&front_config);

    // Re-sign: the SDK verifies answers with the front gateway's key; pass-through: with the
    // upstream's, as it would with the real service's.
    let upstream_public =
        std::fs::read_to_string(dir.path().join("upstream-keys/public.b64")).unwrap();
    let runs = [
        (
            "SANDBOX_SDK_RESIGN",
            fixture("TEST-ONLY-gateway-public.b64"),
        ),
        ("SANDBOX_SDK_PASS", upstream_public),
    ];
    let mut failed = Vec::new();
    for (client_id, public_key) in runs {
        let (passed, stdout) = sdk_check(
            &python,
            &[
                ("GATEWAY_URL", &format!("http://{front_address}")),
                ("SDK_CLIENT_ID", client_id),
                (
                    "SDK_PRIVATE_KEY",
                    &fixture("TEST-ONLY-merchant-private.b64"),
                ),
                ("GATEWAY_PUBLIC_KEY", &public_key),
                // Its own loopback address: the other SDK tests' shims hold theirs.
                ("SDK_TLS_SHIM_HOST", "127.0.0.2"),
            ],
        );
        if !passed {
            failed.push(format!("{client_id}:\n{stdout}"));
        }
    }
    for child in [&mut front, &mut upstream] {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        failed.is_empty(),
        "the SDK check failed:\n{}",
        failed.join("\n")
    );
}

#[test]
fn the_official_python_sdk_talks_as_a_client_registered_at_run_time_in_a_namespace() {
    let Some(python) = sdk_python("python_sdk") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys = format!("{}/tests/fixtures/keys", env!("CARGO_MANIFEST_DIR"));
    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[admin]
token = "TEST-ONLY-admin-token"
[store]
url = "sqlite://{data}/gateway.db"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
"#,
            data = dir.path().display()
        ),
    )
    .unwrap();
    let (mut gateway, address) = start(&config);
    let base = format!("http://{address}");

    // As a CI job's first step: a namespace, a fresh key pair, a client registered with it.
    let made = Command::new(env!("CARGO_BIN_EXE_alipay-gateway"))
        .args(["keygen", "--out"])
        .arg(dir.path().join("job"))
        .output()
        .unwrap();
    assert!(made.status.success(), "keygen: {made:?}");
    let read = |name: &str| std::fs::read_to_string(dir.path().join("job").join(name)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = runtime.block_on(async {
        let http = reqwest::Client::new();
        let created: serde_json::Value = http
            .post(format!("{base}/admin/namespaces"))
            .bearer_auth("TEST-ONLY-admin-token")
            .json(&serde_json::json!({ "name": "sdk-job", "ttlSeconds": 600 }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = created["token"]
            .as_str()
            .expect("a namespace token")
            .to_owned();
        let registered = http
            .post(format!("{base}/admin/clients"))
            .bearer_auth(&token)
            .header("Gateway-Namespace", "sdk-job")
            .json(&serde_json::json!({
                "clientId": "SDK_JOB_CLIENT",
                "publicKeys": { "1": read("public.b64").trim() },
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201, "{:?}", registered.text().await);
        token
    });

    let (passed, stdout) = sdk_check(
        &python,
        &[
            ("GATEWAY_URL", &base),
            ("SDK_CLIENT_ID", "SDK_JOB_CLIENT"),
            ("SDK_PRIVATE_KEY", read("private.b64").trim()),
            ("GATEWAY_ADMIN_TOKEN", &token),
            ("GATEWAY_NAMESPACE", "sdk-job"),
            (
                "GATEWAY_PUBLIC_KEY",
                &fixture("TEST-ONLY-gateway-public.b64"),
            ),
            ("SDK_TLS_SHIM_HOST", "127.0.0.3"),
        ],
    );
    let _ = gateway.kill();
    let _ = gateway.wait();
    assert!(passed, "the SDK check failed:\n{stdout}");
    assert!(stdout.contains("payment result notification"), "{stdout}");
}
