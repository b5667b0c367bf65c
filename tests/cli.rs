//! The command line as a CI script uses it: `sign` prints headers curl can send, `verify` says
//! what differs, `keygen` makes keys the gateway loads, `check-config` names a bad setting.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_alipay-gateway");

fn vectors() -> serde_json::Value {
    let path = format!(
        "{}/tests/fixtures/signature-vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("GATEWAY_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn sign_prints_the_three_headers_reproducing_the_published_vector() {
    let v = vectors();
    let vector = &v["vectors"][0];
    let out = run(
        &[
            "sign",
            "--key",
            v["private_key_pkcs8_base64"].as_str().unwrap(),
            "--client-id",
            vector["client_id"].as_str().unwrap(),
            "--path",
            vector["path"].as_str().unwrap(),
            "--time",
            vector["time"].as_str().unwrap(),
            "--body",
            "-",
        ],
        vector["body"].as_str().unwrap().as_bytes(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "Client-Id: {}\nRequest-Time: {}\nSignature: {}\n",
            vector["client_id"].as_str().unwrap(),
            vector["time"].as_str().unwrap(),
            vector["signature_header"].as_str().unwrap()
        )
    );
}

#[test]
fn verify_accepts_the_vector_and_says_why_a_changed_body_fails() {
    let v = vectors();
    let vector = &v["vectors"][0];
    let field = |name: &str| vector[name].as_str().unwrap();
    let public_key = v["public_key_spki_base64"].as_str().unwrap();
    let argv = [
        "verify",
        "--key",
        public_key,
        "--client-id",
        field("client_id"),
        "--path",
        field("path"),
        "--time",
        field("time"),
        "--signature",
        field("signature_header"),
    ];
    let body = vector["body"].as_str().unwrap();

    let good = run(&argv, body.as_bytes());
    assert!(good.status.success(), "{}", text(&good.stderr));
    assert_eq!(text(&good.stdout).trim(), "valid");

    let bad = run(&argv, body.replace("SUCCESS", "FAIL").as_bytes());
    assert!(!bad.status.success());
    let said = text(&bad.stderr);
    assert!(
        said.contains("the signed content differs from what was received"),
        "{said}"
    );
    assert!(said.contains("verified against"), "{said}");
}

#[test]
fn keygen_writes_keys_the_gateway_loads() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["keygen", "--out", dir.path().to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in ["private.pem", "private.b64", "public.pem", "public.b64"] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
    let private_b64 = std::fs::read_to_string(dir.path().join("private.b64")).unwrap();
    assert!(
        !private_b64.trim().contains('\n'),
        "the Java format is one line"
    );

    let config = dir.path().join("gateway.toml");
    std::fs::write(
        &config,
        "[signing]\nprivate_key = \"file:private.b64\"\n[[clients]]\nclient_id = \"C\"\npublic_keys = { \"1\" = \"file:public.pem\" }\n",
    )
    .unwrap();
    let check = run(&["check-config", "--config", config.to_str().unwrap()], b"");
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).starts_with("configuration ok"));
}

#[cfg(unix)]
#[test]
fn keygen_writes_the_private_key_for_its_owner_alone_and_the_public_key_for_all() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["keygen", "--out", dir.path().to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("private.pem"), 0o600);
    assert_eq!(mode("private.b64"), 0o600);
    assert_eq!(mode("public.pem"), 0o644);
    assert_eq!(mode("public.b64"), 0o644);
}

#[test]
fn keygen_refuses_to_overwrite_existing_keys_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().to_str().unwrap();
    assert!(run(&["keygen", "--out", out_dir], b"").status.success());
    let first = std::fs::read(dir.path().join("private.pem")).unwrap();

    let again = run(&["keygen", "--out", out_dir], b"");
    let kept = std::fs::read(dir.path().join("private.pem")).unwrap();
    let forced = run(&["keygen", "--out", out_dir, "--force"], b"");
    let replaced = std::fs::read(dir.path().join("private.pem")).unwrap();

    assert!(!again.status.success(), "a second keygen succeeded");
    let said = text(&again.stderr);
    assert!(
        said.contains("private.pem") && said.contains("--force"),
        "{said:?}"
    );
    assert_eq!(kept, first, "the existing key was changed");
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_ne!(replaced, first, "--force made no new key");
}

#[test]
fn check_config_names_the_setting_that_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gateway.toml");
    let keys = format!("{}/tests/fixtures/keys", env!("CARGO_MANIFEST_DIR"));
    let cases = [
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[[clients]]\nclient_id = \"C\"\npublic_keys = {{ \"1\" = \"not a key\" }}\n"
            ),
            "clients[0].public_keys.1: not PEM and not single-line base64 DER",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[server]\nlisten = \"everywhere\"\n"
            ),
            "server.listen:",
        ),
        (
            format!("[signing]\nprivate_key = \"file:{keys}/missing.pem\"\n"),
            "signing.private_key: cannot read",
        ),
        (
            "[signing]\nprivate_key = \"file:/dev/zero\"\n".to_owned(),
            "signing.private_key: /dev/zero is larger than 1048576 bytes",
        ),
        ("[server]\nlisten_port = 1\n".to_owned(), "listen_port"),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[[clients]]\nclient_id = \"C\"\npublic_keys = {{ \"1\" = \"file:{keys}/TEST-ONLY-merchant-public.pem\" }}\nendpoints = [\"refund\"]\n"
            ),
            "clients[0].endpoints: unknown API \"refund\"",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[notify]\nschedule = [\"0s\", \"100000000d\"]\n"
            ),
            "notify.schedule[1]: must be at most 30 days",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[notify]\ntime_scale = 1e-12\n"
            ),
            "notify.time_scale: must be a number from 0.01 to 1000000",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[server]\nmax_header_bytes = 100\n"
            ),
            "server.max_header_bytes: must be 2048 to 1048576",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[server]\nmax_in_flight = 0\n"
            ),
            "server.max_in_flight: must be 1 to 1000000",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[server]\nreject_replayed_signatures = true\n"
            ),
            "server.reject_replayed_signatures: needs server.clock_skew_seconds above 0",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[server]\nseen_signatures_capacity = 0\n"
            ),
            "server.seen_signatures_capacity: must be 1 to 1000000",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[notify]\nallowed_hosts = [\"merchant.example\"]\n[[clients]]\nclient_id = \"C\"\npublic_keys = {{ \"1\" = \"file:{keys}/TEST-ONLY-merchant-public.pem\" }}\nnotify_url = \"http://10.0.0.5/notify\"\n"
            ),
            "clients[0].notify_url: address 10.0.0.5 is not in notify.allowed_hosts",
        ),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[notify]\nallowed_hosts = [\"https://merchant.example\"]\n"
            ),
            "notify.allowed_hosts: \"https://merchant.example\" is not a host name",
        ),
    ];
    for (toml, expected) in cases {
        std::fs::write(&config, &toml).unwrap();
        let out = run(&["check-config", "--config", config.to_str().unwrap()], b"");
        assert!(!out.status.success(), "{toml}");
        let said = text(&out.stderr);
        assert!(said.contains(expected), "expected {expected:?} in {said:?}");
    }
}

/// A config with the test gateway key and `clients` (TOML tables) appended.
fn config_with(dir: &std::path::Path, clients: &str) -> std::path::PathBuf {
    let keys = format!("{}/tests/fixtures/keys", env!("CARGO_MANIFEST_DIR"));
    let config = dir.join("gateway.toml");
    std::fs::write(
        &config,
        format!(
            "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n{}",
            clients.replace("KEYS", &keys)
        ),
    )
    .unwrap();
    config
}

#[test]
fn check_config_lists_each_client_with_its_key_versions_notify_url_and_apis() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "[[clients]]\nclient_id = \"SHOP\"\npublic_keys = { \"1\" = \"file:KEYS/TEST-ONLY-merchant-public.pem\", \"2\" = \"file:KEYS/TEST-ONLY-merchant-public.pem\" }\nnotify_url = \"http://127.0.0.1:9000/notify\"\n\
         [[clients]]\nclient_id = \"WALLET\"\npublic_keys = { \"1\" = \"file:KEYS/TEST-ONLY-merchant-public.pem\" }\nendpoints = [\"inquiryPayment\"]\nrate_limit_per_second = 5\n",
    );
    let out = run(&["check-config", "--config", config.to_str().unwrap()], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("client SHOP: key version(s) 1, 2; APIs: all; notify_url: http://127.0.0.1:9000/notify; rate limit: none"),
        "{said}"
    );
    assert!(
        said.contains("client WALLET: key version(s) 1; APIs: inquiryPayment; notify_url: none (its payments are notified only when they name a notifyUrl); rate limit: 5/s"),
        "{said}"
    );
}

#[test]
fn check_config_warns_of_every_gateway_variable_that_is_no_setting() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), "");
    let check = |name: &str, value: &str| {
        Command::new(BIN)
            .args(["check-config", "--config", config.to_str().unwrap()])
            .env("GATEWAY_SERVER__LISTEN", "127.0.0.1:9999")
            .env(name, value)
            .output()
            .unwrap()
    };

    // A list entry from the environment would be dropped without a word: it is named.
    let out = check(
        "GATEWAY_CLIENTS__0__NOTIFY_URL",
        "http://127.0.0.1:9000/notify",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let warned = text(&out.stderr);
    assert!(
        warned.contains("warning: GATEWAY_CLIENTS__0__NOTIFY_URL is ignored: clients come from the config file's [[clients]] tables"),
        "{warned}"
    );
    assert!(
        !warned.contains("GATEWAY_SERVER__LISTEN"),
        "a setting: {warned}"
    );
    assert!(text(&out.stdout).contains("listen 127.0.0.1:9999"));

    // One underscore where two belong fails the load; the warning says what was meant.
    let out = check("GATEWAY_NOTIFY_TIMEOUT_MS", "100");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("warning: GATEWAY_NOTIFY_TIMEOUT_MS is not a setting: did you mean GATEWAY_NOTIFY__TIMEOUT_MS?"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sign_takes_the_path_of_a_url_and_refuses_what_is_neither_path_nor_url() {
    let key = format!(
        "{}/tests/fixtures/keys/TEST-ONLY-merchant-private.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let sign = |path: &str| {
        run(
            &[
                "sign",
                "--key",
                &key,
                "--client-id",
                "C",
                "--time",
                "1700000000000",
                "--path",
                path,
            ],
            b"{}",
        )
    };
    let by_path = sign("/aps/api/v1/payments/inquiryPayment");
    let by_url = sign("http://127.0.0.1:8080/aps/api/v1/payments/inquiryPayment");
    assert!(by_url.status.success(), "{}", text(&by_url.stderr));
    assert_eq!(text(&by_url.stdout), text(&by_path.stdout));

    let neither = sign("aps/api/v1/payments/inquiryPayment");
    assert!(!neither.status.success());
    assert!(
        text(&neither.stderr).contains("is neither a request path"),
        "{}",
        text(&neither.stderr)
    );
}
