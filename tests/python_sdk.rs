//! The official Python SDK (`global-open-sdk-python`, unmodified) drives the real binary over
//! HTTP, and its webhook check verifies a notification the gateway sends: if it cannot talk to
//! the gateway, the gateway is wrong. Runs when GATEWAY_TEST_PYTHON
//! names a Python with `tests/sdk/requirements.txt` installed (`bash .ci/run` sets it up).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[path = "support/skip.rs"]
mod skip;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_official_python_sdk_talks_to_the_gateway_unmodified() {
    let Ok(python) = std::env::var("GATEWAY_TEST_PYTHON") else {
        skip::skipped(
            "python_sdk",
            "needs GATEWAY_TEST_PYTHON, a Python with tests/sdk/requirements.txt installed \
             (bash .ci/run sets it up)",
        );
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

    let mut gateway = Command::new(env!("CARGO_BIN_EXE_alipay-gateway"))
        .args(["--log-json", "serve", "--config"])
        .arg(&config)
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
    // Keep draining the gateway's log so it never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));

    let output = Command::new(python)
        .arg(format!(
            "{}/tests/sdk/python_sdk_check.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .env("GATEWAY_URL", format!("http://{address}"))
        .env("SDK_CLIENT_ID", "SANDBOX_SDK_CLIENT")
        .env("SDK_PRIVATE_KEY", fixture("TEST-ONLY-merchant-private.b64"))
        .env("GATEWAY_ADMIN_TOKEN", "TEST-ONLY-admin-token")
        .env(
            "GATEWAY_PUBLIC_KEY",
            fixture("TEST-ONLY-gateway-public.b64"),
        )
        .output()
        .expect("python runs");
    let _ = gateway.kill();
    let _ = gateway.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the SDK check failed:\n{stdout}");
}
