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
        ("[server]\nlisten_port = 1\n".to_owned(), "listen_port"),
        (
            format!(
                "[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[[clients]]\nclient_id = \"C\"\npublic_keys = {{ \"1\" = \"file:{keys}/TEST-ONLY-merchant-public.pem\" }}\nendpoints = [\"refund\"]\n"
            ),
            "clients[0].endpoints: unknown API \"refund\"",
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
