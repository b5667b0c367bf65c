//! Real mode end to end, with real processes and sockets: one gateway in mock mode plays the
//! upstream (its own signing key, generated here with `keygen`, and its own clients), a second
//! in real mode forwards to it. The caller signs as the SDKs do. Re-sign and pass-through
//! forwarding, every way the upstream can fail, recording, restart and replay with the
//! upstream stopped, run-time mode switching, and the recordings' export and import.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::Sha256;

#[path = "support/mod.rs"]
mod support;
use support::config::{ADMIN_TOKEN, keys_dir};
use support::gateway_process::Gateway;

const BIN: &str = env!("CARGO_BIN_EXE_alipay-gateway");
/// The caller of the front gateway in re-sign mode (key TEST-ONLY-merchant).
const MERCHANT: &str = "TEST_MERCHANT";
/// A caller that signs for the upstream itself (key TEST-ONLY-merchant, registered upstream).
const PASS: &str = "PASS_MERCHANT";
/// The client id the upstream knows the front gateway by (key TEST-ONLY-other).
const FRONT: &str = "FRONT_AT_UPSTREAM";
const INQUIRY: &str = "/aps/api/v1/payments/inquiryPayment";
const PUSH: &str = "/aps/api/v1/payments/notifyPushPayment";

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ------------------------------------------------------------------------------------------
// Signing and verifying as an SDK does
// ------------------------------------------------------------------------------------------

fn content(path: &str, client_id: &str, time: &str, body: &[u8]) -> Vec<u8> {
    [format!("POST {path}\n{client_id}.{time}.").as_bytes(), body].concat()
}

/// The Signature header value for `body`, signed with a PKCS#8 PEM private key.
fn signature(private_pem: &str, path: &str, client_id: &str, time: &str, body: &[u8]) -> String {
    let key = SigningKey::<Sha256>::new(RsaPrivateKey::from_pkcs8_pem(private_pem).unwrap());
    let signed = STANDARD.encode(key.sign(&content(path, client_id, time, body)).to_bytes());
    format!(
        "algorithm=RSA256,keyVersion=1,signature={}",
        utf8_percent_encode(&signed, NON_ALPHANUMERIC)
    )
}

/// An answer of a gateway.
#[derive(Debug)]
struct Answer {
    http: u16,
    headers: reqwest::header::HeaderMap,
    bytes: Vec<u8>,
    body: Value,
}

impl Answer {
    fn result(&self) -> (&str, &str) {
        (
            self.body["result"]["resultStatus"].as_str().unwrap_or(""),
            self.body["result"]["resultCode"].as_str().unwrap_or(""),
        )
    }

    fn message(&self) -> &str {
        self.body["result"]["resultMessage"].as_str().unwrap_or("")
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Whether the answer's signature verifies with `public_pem` over `path`.
    fn signed_by(&self, public_pem: &str, path: &str) -> bool {
        let header = self.header("signature");
        let Some((_, value)) = header.split_once("signature=") else {
            return false;
        };
        let decoded = percent_decode_str(value).decode_utf8_lossy().into_owned();
        let Ok(bytes) = STANDARD.decode(decoded) else {
            return false;
        };
        let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
            return false;
        };
        let key =
            VerifyingKey::<Sha256>::new(RsaPublicKey::from_public_key_pem(public_pem).unwrap());
        let message = content(
            path,
            self.header("client-id"),
            self.header("response-time"),
            &self.bytes,
        );
        key.verify(&message, &signature).is_ok()
    }
}

/// Posts `body` to `base` + `path` signed as `client_id` with the TEST-ONLY merchant key.
async fn call(base: &str, path: &str, client_id: &str, body: &Value) -> Answer {
    call_with(
        "TEST-ONLY-merchant-private.pem",
        base,
        path,
        client_id,
        body,
    )
    .await
}

/// Posts `body` signed with the TEST-ONLY private key in `key_file`.
async fn call_with(
    key_file: &str,
    base: &str,
    path: &str,
    client_id: &str,
    body: &Value,
) -> Answer {
    let bytes = serde_json::to_vec(body).unwrap();
    let time = chrono::Utc::now().timestamp_millis().to_string();
    let key = read(&keys_dir().join(key_file));
    let signature = signature(&key, path, client_id, &time, &bytes);
    send(base, path, client_id, &time, &signature, bytes).await
}

async fn send(
    base: &str,
    path: &str,
    client_id: &str,
    time: &str,
    signature: &str,
    bytes: Vec<u8>,
) -> Answer {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json; charset=UTF-8")
        .header("Client-Id", client_id)
        .header("Request-Time", time)
        .header("Signature", signature)
        .body(bytes)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{base}{path}: {e}"));
    let http = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap().to_vec();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        http,
        headers,
        bytes,
        body,
    }
}

fn inquiry(payment_request_id: &str) -> Value {
    json!({"acquirerId": "A", "pspId": "B", "paymentRequestId": payment_request_id})
}

fn push(payment_id: &str, payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentId": payment_id,
        "paymentRequestId": payment_request_id,
        "paymentTime": "2026-01-01T12:00:00+08:00",
    })
}

// ------------------------------------------------------------------------------------------
// Gateway processes
// ------------------------------------------------------------------------------------------

/// A test's files: the upstream's generated key pair and the configs.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("upstream-keys");
        let made = Command::new(BIN)
            .args(["keygen", "--out"])
            .arg(out)
            .output()
            .unwrap();
        assert!(made.status.success(), "keygen: {made:?}");
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The upstream's public key, which its answers verify with.
    fn upstream_public(&self) -> String {
        read(&self.path("upstream-keys/public.pem"))
    }

    /// The upstream: the mock, signing with its own key, knowing the front gateway and the
    /// pass-through caller; paymentRequestIds with a prefix make it slow, fail or lie.
    fn upstream(&self) -> Gateway {
        let keys = keys_dir();
        let keys = keys.display();
        let dir = self.dir.path().display();
        let config = self.path("upstream.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{dir}/upstream-keys/private.pem"
[admin]
token = "{ADMIN_TOKEN}"
[store]
url = "memory://"
[notify]
enabled = false
[[scenario.rules]]
endpoint = "inquiryPayment"
field = "paymentRequestId"
starts_with = "slow-"
latency = {{ fixed_ms = 3000 }}
[[scenario.rules]]
endpoint = "inquiryPayment"
field = "paymentRequestId"
starts_with = "http500-"
fault = "http_500"
[[scenario.rules]]
endpoint = "inquiryPayment"
field = "paymentRequestId"
starts_with = "malformed-"
fault = "malformed_json"
[[scenario.rules]]
endpoint = "inquiryPayment"
field = "paymentRequestId"
starts_with = "badsig-"
fault = "bad_signature"
[[clients]]
client_id = "{FRONT}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-other-public.pem" }}
[[clients]]
client_id = "{PASS}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
"#
            ),
        )
        .unwrap();
        Gateway::start(&config)
    }

    /// The front gateway's config: real mode in `mode` towards `upstream`, this store.
    fn front_config(&self, upstream: &str, mode: &str, store_url: &str) -> PathBuf {
        let keys = keys_dir();
        let keys = keys.display();
        let dir = self.dir.path().display();
        let config = self.path("front.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
[admin]
token = "{ADMIN_TOKEN}"
[store]
url = "{store_url}"
[notify]
enabled = false
[real]
mode = "{mode}"
[real.upstream]
base_url = "{upstream}"
client_id = "{FRONT}"
private_key = "file:{keys}/TEST-ONLY-other-private.pem"
public_keys = {{ "1" = "file:{dir}/upstream-keys/public.pem" }}
timeout_ms = 1000
[[clients]]
client_id = "{MERCHANT}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
[[clients]]
client_id = "{PASS}"
pass_through = true
"#
            ),
        )
        .unwrap();
        config
    }

    fn front(&self, upstream: &str, mode: &str) -> Gateway {
        Gateway::start(&self.front_config(upstream, mode, "memory://"))
    }
}

fn gateway_public() -> String {
    read(&keys_dir().join("TEST-ONLY-gateway-public.pem"))
}

// ------------------------------------------------------------------------------------------
// Forwarding
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_sign_mode_forwards_as_the_gateways_upstream_client_and_signs_the_answer_with_the_gateway_key()
 {
    // Arrange
    let setup = Setup::new();
    let upstream = setup.upstream();
    let front = setup.front(&upstream.base, "proxy");

    // Act
    let pushed = call(&front.base, PUSH, MERCHANT, &push("P-RS-1", "R-RS-1")).await;
    let inquired = call(&front.base, INQUIRY, MERCHANT, &inquiry("R-RS-1")).await;

    // Assert: the upstream's answers, signed for the caller by the gateway.
    assert_eq!(pushed.result(), ("S", "SUCCESS"), "{:?}", pushed.body);
    assert_eq!(inquired.result(), ("S", "SUCCESS"), "{:?}", inquired.body);
    assert_eq!(inquired.body["paymentResult"]["resultStatus"], "S");
    assert_eq!(inquired.body["paymentId"], "P-RS-1");
    assert!(inquired.signed_by(&gateway_public(), INQUIRY));
    assert!(!inquired.signed_by(&setup.upstream_public(), INQUIRY));
    // The upstream saw the gateway's upstream client, not the caller.
    let seen = upstream
        .admin()
        .get("/journal?endpoint=notifyPushPayment")
        .await;
    assert_eq!(seen[0]["clientId"], FRONT, "{seen}");
    assert_eq!(seen[0]["verdict"], "valid");
    // The forwarded push updated the front's own store as a mock call would.
    let stored = front.admin().get("/payments/R-RS-1").await;
    assert_eq!(stored["paymentId"], "P-RS-1", "{stored}");
    // Both pairs are recorded, without signature values.
    let recordings = front.admin().get("/recordings").await;
    let listed = recordings.as_array().unwrap();
    assert_eq!(listed.len(), 2, "{recordings}");
    assert_eq!(listed[0]["api"], "inquiryPayment");
    assert_eq!(listed[0]["matchKey"], "paymentRequestId=R-RS-1");
    assert_eq!(listed[0]["signing"], "re-sign");
    assert_eq!(listed[0]["verdict"], "valid");
    assert_eq!(listed[0]["response"]["status"], 200);
    assert_eq!(
        listed[0]["request"]["headers"]["signature"],
        "algorithm=RSA256,keyVersion=1"
    );
    assert!(!recordings.to_string().contains("signature="));
    // The journal shows both legs: the caller's request and the upstream's answer.
    let legs = front.admin().get("/journal?direction=upstream").await;
    assert_eq!(legs.as_array().unwrap().len(), 2, "{legs}");
    assert_eq!(legs[0]["target"], format!("{}{INQUIRY}", upstream.base));
    assert_eq!(legs[0]["verdict"], "valid");
    assert_eq!(legs[0]["resultCode"], "SUCCESS");
    assert!(legs[0]["latencyMs"].as_f64().is_some());
    let inbound = front
        .admin()
        .get("/journal?direction=inbound&endpoint=inquiryPayment")
        .await;
    assert!(
        inbound[0]["note"]
            .as_str()
            .unwrap()
            .starts_with("forwarded to"),
        "{inbound}"
    );
    // No signature or key reaches the logs.
    assert!(!front.logs().contains("PRIVATE KEY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pass_through_mode_forwards_the_callers_bytes_and_hands_back_the_upstreams_answer_untouched()
 {
    // Arrange
    let setup = Setup::new();
    let upstream = setup.upstream();
    let front = setup.front(&upstream.base, "proxy");

    // Act: the caller signs for the upstream (its Client-Id is the one the upstream knows).
    let pushed = call(&front.base, PUSH, PASS, &push("P-PT-1", "R-PT-1")).await;
    let inquired = call(&front.base, INQUIRY, PASS, &inquiry("R-PT-1")).await;
    let bytes = serde_json::to_vec(&inquiry("R-PT-1")).unwrap();
    let forged = send(
        &front.base,
        INQUIRY,
        PASS,
        "1700000000000",
        &signature(
            &read(&keys_dir().join("TEST-ONLY-other-private.pem")),
            INQUIRY,
            PASS,
            "1700000000000",
            &bytes,
        ),
        bytes,
    )
    .await;

    // Assert: the upstream's signature, not the gateway's.
    assert_eq!(pushed.result(), ("S", "SUCCESS"), "{:?}", pushed.body);
    assert_eq!(inquired.result(), ("S", "SUCCESS"), "{:?}", inquired.body);
    assert!(inquired.signed_by(&setup.upstream_public(), INQUIRY));
    assert!(!inquired.signed_by(&gateway_public(), INQUIRY));
    let seen = upstream
        .admin()
        .get("/journal?endpoint=inquiryPayment")
        .await;
    assert_eq!(seen[0]["clientId"], PASS, "{seen}");
    // A signature the upstream refuses is the upstream's answer, passed back unsigned.
    assert_eq!(
        forged.result(),
        ("F", "INVALID_SIGNATURE"),
        "{:?}",
        forged.body
    );
    assert_eq!(forged.http, 200);
    let recordings = front
        .admin()
        .get("/recordings?clientId=PASS_MERCHANT")
        .await;
    assert_eq!(recordings.as_array().unwrap().len(), 3, "{recordings}");
    assert_eq!(recordings[0]["signing"], "pass-through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_through_client_is_refused_by_an_api_in_mock_mode_rather_than_answered_unverified() {
    // Arrange: real mode is on (a pass-through client), but every API answers from the mock.
    let setup = Setup::new();
    let upstream = setup.upstream();
    let front = setup.front(&upstream.base, "mock");

    // Act: a push signed for the upstream, which the gateway cannot check.
    let pushed = call(&front.base, PUSH, PASS, &push("P-PTM-1", "R-PTM-1")).await;
    let inquired = call(&front.base, INQUIRY, PASS, &inquiry("R-PTM-1")).await;

    // Assert: refused, unsigned, and nothing written or forwarded.
    assert_eq!(pushed.result(), ("F", "ACCESS_DENIED"), "{:?}", pushed.body);
    assert_eq!(
        inquired.result(),
        ("F", "ACCESS_DENIED"),
        "{:?}",
        inquired.body
    );
    assert!(!pushed.signed_by(&gateway_public(), PUSH));
    let (status, stored) = front
        .admin()
        .request(reqwest::Method::GET, "/payments/R-PTM-1", None)
        .await;
    assert_eq!(status, 404, "{stored}");
    let seen = upstream
        .admin()
        .get("/journal?endpoint=notifyPushPayment")
        .await;
    assert_eq!(seen.as_array().map_or(0, Vec::len), 0, "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_upstream_failure_answers_unknown_exception_naming_the_upstream_and_the_reason() {
    // Arrange
    let setup = Setup::new();
    let upstream = setup.upstream();
    let front = setup.front(&upstream.base, "proxy");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let front_to_nowhere = Gateway::start(&{
        let config = setup.front_config(&closed, "proxy", "memory://");
        let moved = setup.path("front-nowhere.toml");
        std::fs::rename(&config, &moved).unwrap();
        moved
    });

    // Act
    let slow = call(&front.base, INQUIRY, MERCHANT, &inquiry("slow-1")).await;
    let http500 = call(&front.base, INQUIRY, MERCHANT, &inquiry("http500-1")).await;
    let malformed = call(&front.base, INQUIRY, MERCHANT, &inquiry("malformed-1")).await;
    let bad_signature = call(&front.base, INQUIRY, MERCHANT, &inquiry("badsig-1")).await;
    let down = call(&front_to_nowhere.base, INQUIRY, MERCHANT, &inquiry("R-1")).await;

    // Assert
    for (answer, upstream_url, reason) in [
        (&slow, &upstream.base, "no answer within 1000 ms"),
        (&http500, &upstream.base, "HTTP 500"),
        (&malformed, &upstream.base, "malformed body"),
        (&bad_signature, &upstream.base, "bad signature"),
        (&down, &closed, "connection failed"),
    ] {
        assert_eq!(answer.http, 200);
        assert_eq!(
            answer.result(),
            ("U", "UNKNOWN_EXCEPTION"),
            "{:?}",
            answer.body
        );
        let message = answer.message();
        assert!(
            message.starts_with(&format!("upstream {upstream_url} failed: "))
                && message.contains(reason),
            "want the upstream and {reason:?} named: {message}"
        );
        assert!(
            answer.signed_by(&gateway_public(), INQUIRY),
            "a U answer is signed as any"
        );
    }
    let legs = front.admin().get("/journal?direction=upstream").await;
    let verdicts: Vec<&str> = legs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts.len(), 4, "{legs}");
    assert!(
        verdicts[0].contains("bad signature") && verdicts[3].contains("no answer"),
        "{verdicts:?}"
    );
    let failed = front.admin().get("/recordings?verdict=HTTP%20500").await;
    assert_eq!(failed[0]["response"]["status"], 500, "{failed}");
}

// ------------------------------------------------------------------------------------------
// Recording and replay
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_survives_a_restart_and_replays_with_the_upstream_stopped() {
    // Arrange: record through replay-or-proxy on SQLite.
    let setup = Setup::new();
    let upstream = setup.upstream();
    let store_url = format!("sqlite://{}", setup.path("front.db").display());
    let config = setup.front_config(&upstream.base, "replay-or-proxy", &store_url);
    let front = Gateway::start(&config);
    let recorded = call(&front.base, INQUIRY, MERCHANT, &inquiry("R-REPLAY-1")).await;
    assert_eq!(
        recorded.result().1,
        "ORDER_NOT_EXIST",
        "{:?}",
        recorded.body
    );
    front.stop();
    upstream.stop();

    // Act: restart with the upstream gone.
    let front = Gateway::start(&config);
    let replayed = call(&front.base, INQUIRY, MERCHANT, &inquiry("R-REPLAY-1")).await;
    let unrecorded = call(&front.base, INQUIRY, MERCHANT, &inquiry("R-REPLAY-2")).await;
    let (status, switched) = front
        .admin()
        .request(
            reqwest::Method::PUT,
            "/real/modes",
            Some(json!({"mode": "replay"})),
        )
        .await;
    let missing = call(&front.base, INQUIRY, MERCHANT, &inquiry("R-REPLAY-2")).await;

    // Assert
    assert_eq!(replayed.body, recorded.body, "the recorded body, as it was");
    assert_ne!(
        replayed.header("response-time"),
        recorded.header("response-time")
    );
    assert!(
        replayed.signed_by(&gateway_public(), INQUIRY),
        "signed afresh"
    );
    assert_eq!(unrecorded.result(), ("U", "UNKNOWN_EXCEPTION"));
    assert!(
        unrecorded.message().contains("connection failed"),
        "{}",
        unrecorded.message()
    );
    assert_eq!(status, 200, "{switched}");
    assert_eq!(switched["mode"], "replay");
    assert_eq!(missing.result(), ("U", "UNKNOWN_EXCEPTION"));
    assert!(
        missing
            .message()
            .contains("no recording of inquiryPayment matches paymentRequestId=R-REPLAY-2"),
        "{}",
        missing.message()
    );
    let inbound = front.admin().get("/journal?direction=inbound").await;
    let notes: Vec<&str> = inbound
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["note"].as_str())
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with("replayed recording")),
        "{notes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_export_as_json_lines_and_import_into_another_store() {
    // Arrange
    let setup = Setup::new();
    let upstream = setup.upstream();
    let store_url = format!("sqlite://{}", setup.path("front.db").display());
    let config = setup.front_config(&upstream.base, "proxy", &store_url);
    let front = Gateway::start(&config);
    call(&front.base, INQUIRY, MERCHANT, &inquiry("R-EXPORT-1")).await;
    call(
        &front.base,
        PUSH,
        MERCHANT,
        &push("P-EXPORT-2", "R-EXPORT-2"),
    )
    .await;
    front.stop();
    upstream.stop();
    let exported = setup.path("recordings.jsonl");

    // Act
    let export = Command::new(BIN)
        .args(["recordings", "export", "--config"])
        .arg(config)
        .arg("--out")
        .arg(&exported)
        .output()
        .unwrap();
    let other_store = format!("sqlite://{}", setup.path("other.db").display());
    let other = setup.front_config("http://127.0.0.1:9", "replay", &other_store);
    let import = Command::new(BIN)
        .args(["recordings", "import", "--config"])
        .arg(&other)
        .arg(&exported)
        .output()
        .unwrap();
    let replaying = Gateway::start(&other);
    let replayed = call(&replaying.base, INQUIRY, MERCHANT, &inquiry("R-EXPORT-1")).await;

    // Assert
    assert!(export.status.success(), "{export:?}");
    let lines: Vec<Value> = read(&exported)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["api"], "inquiryPayment", "oldest first");
    assert_eq!(lines[1]["api"], "notifyPushPayment");
    assert!(import.status.success(), "{import:?}");
    assert!(String::from_utf8_lossy(&import.stdout).contains("imported 2 recording(s)"));
    assert_eq!(
        replayed.result().1,
        "ORDER_NOT_EXIST",
        "{:?}",
        replayed.body
    );
    assert_eq!(
        replaying
            .admin()
            .get("/recordings")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_forwarding_mode_without_an_upstream_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_dir();
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        format!(
            "[signing]\nprivate_key = \"file:{}/TEST-ONLY-gateway-private.pem\"\n[real]\nmode = \"proxy\"\n",
            keys.display()
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("real.upstream.base_url: required"),
        "{stderr}"
    );
}

// ------------------------------------------------------------------------------------------
// Relaying real notifications
// ------------------------------------------------------------------------------------------

const NOTIFY: &str = "/aps/api/v1/payments/notifyPayment";
/// The Client-Id real notifications carry (the real sender's key is TEST-ONLY-other).
const SENDER: &str = "REAL_SENDER_MERCHANT";

fn notification(payment_request_id: &str) -> Value {
    json!({
        "notifyType": "PAYMENT_RESULT",
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": payment_request_id,
        "paymentId": "2026010100000001",
        "paymentAmount": {"currency": "JPY", "value": "200"},
        "paymentTime": "2026-01-01T12:01:01+08:00"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_through_client_reaches_the_receiver_only_with_the_upstreams_own_signature() {
    // Arrange: real mode with a pass-through client; the upstream's public key is configured.
    let setup = Setup::new();
    let front = setup.front("http://127.0.0.1:9", "mock");
    let upstream_key = setup.path("upstream-keys/private.pem");

    // Act: a notification with no signature, one signed with a key that is not the upstream's,
    // and one the upstream signed.
    let bytes = serde_json::to_vec(&notification("R-PT-UNSIGNED")).unwrap();
    let unsigned = reqwest::Client::new()
        .post(format!("{}{NOTIFY}", front.base))
        .header("Content-Type", "application/json; charset=UTF-8")
        .header("Client-Id", PASS)
        .header(
            "Request-Time",
            chrono::Utc::now().timestamp_millis().to_string(),
        )
        .body(bytes)
        .send()
        .await
        .unwrap();
    let unsigned: Value = unsigned.json().await.unwrap();
    let forged = call(&front.base, NOTIFY, PASS, &notification("R-PT-FORGED")).await;
    let genuine = call_with(
        upstream_key.to_str().unwrap(),
        &front.base,
        NOTIFY,
        PASS,
        &notification("R-PT-GENUINE"),
    )
    .await;

    // Assert: only the upstream's own signature is admitted; nothing else is stored.
    assert_eq!(
        unsigned["result"]["resultCode"], "INVALID_SIGNATURE",
        "{unsigned}"
    );
    assert_eq!(
        forged.result(),
        ("F", "INVALID_SIGNATURE"),
        "{:?}",
        forged.body
    );
    assert!(!forged.signed_by(&gateway_public(), NOTIFY));
    assert_eq!(genuine.result(), ("S", "SUCCESS"), "{:?}", genuine.body);
    let received = front.admin().get("/received-notifications").await;
    let ids: Vec<&str> = received
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["paymentRequestId"].as_str())
        .collect();
    assert_eq!(ids, ["R-PT-GENUINE"], "{received}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_notification_is_relayed_re_signed_and_the_handlers_acknowledgement_comes_back() {
    // Arrange: the local handler is a gateway's receiver that knows the sender's Client-Id with
    // the front gateway's (development) key; the front knows it with the real sender's key.
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_dir();
    let keys = keys.display();
    let handler_config = dir.path().join("handler.toml");
    std::fs::write(
        &handler_config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{keys}/TEST-ONLY-other-private.pem"
[admin]
token = "{ADMIN_TOKEN}"
[store]
url = "memory://"
[notify]
enabled = false
[[clients]]
client_id = "{SENDER}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-gateway-public.pem" }}
"#
        ),
    )
    .unwrap();
    let handler = Gateway::start(&handler_config);
    let front_config = dir.path().join("front.toml");
    std::fs::write(
        &front_config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
[admin]
token = "{ADMIN_TOKEN}"
[store]
url = "memory://"
[notify]
enabled = false
[real.relay]
forward_to = "{}{NOTIFY}"
[[clients]]
client_id = "{SENDER}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-other-public.pem" }}
"#,
            handler.base
        ),
    )
    .unwrap();
    let front = Gateway::start(&front_config);
    let (status, _) = handler
        .admin()
        .request(
            reqwest::Method::POST,
            "/receiver/fail-next",
            Some(json!({"count": 1, "resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"})),
        )
        .await;
    assert_eq!(status, 200);
    let sent = notification("R-RELAY-1");

    // Act: the real sender's first attempt fails at the handler, its retry succeeds, and a
    // later one finds the handler down.
    let first = call_with(
        "TEST-ONLY-other-private.pem",
        &front.base,
        NOTIFY,
        SENDER,
        &sent,
    )
    .await;
    let retry = call_with(
        "TEST-ONLY-other-private.pem",
        &front.base,
        NOTIFY,
        SENDER,
        &sent,
    )
    .await;
    let got = handler.admin().get("/received-notifications").await;
    handler.stop();
    let down = call_with(
        "TEST-ONLY-other-private.pem",
        &front.base,
        NOTIFY,
        SENDER,
        &sent,
    )
    .await;

    // Assert
    assert_eq!(
        first.result(),
        ("U", "UNKNOWN_EXCEPTION"),
        "{:?}",
        first.body
    );
    assert_eq!(retry.result(), ("S", "SUCCESS"), "{:?}", retry.body);
    assert!(retry.signed_by(&gateway_public(), NOTIFY));
    assert_eq!(down.result(), ("U", "UNKNOWN_EXCEPTION"));
    assert!(
        down.message().contains("relay to http://"),
        "{}",
        down.message()
    );
    assert!(
        down.message().contains("connection failed"),
        "{}",
        down.message()
    );
    // The handler verified both with the gateway's key: they were re-signed.
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|n| n["verdict"] == "valid"), "{got:?}");
    assert_eq!(got[0]["answered"], "SUCCESS");
    // The front recorded each notification with what it answered.
    let recorded = front.admin().get("/received-notifications").await;
    let answered: Vec<&str> = recorded
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["answered"].as_str().unwrap())
        .collect();
    assert_eq!(
        answered,
        ["UNKNOWN_EXCEPTION", "SUCCESS", "UNKNOWN_EXCEPTION"]
    );
}

// ------------------------------------------------------------------------------------------
// The drift report
// ------------------------------------------------------------------------------------------

/// A mock-only config with the TEST-ONLY gateway key and `extra` appended.
fn mock_config(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let keys = keys_dir();
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[signing]\nprivate_key = \"file:{}/TEST-ONLY-gateway-private.pem\"\n[store]\nurl = \"memory://\"\n{extra}",
            keys.display()
        ),
    )
    .unwrap();
    path
}

fn drift(config: &Path, recordings: &Path, junit: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(["drift", "--config"])
        .arg(config)
        .arg("--recordings")
        .arg(recordings)
        .arg("--junit")
        .arg(junit)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drift_report_names_the_field_where_the_mock_differs_from_the_recorded_answers() {
    // Arrange: a recording set made through the front gateway against the upstream.
    let setup = Setup::new();
    let upstream = setup.upstream();
    let front = setup.front(&upstream.base, "proxy");
    call(&front.base, PUSH, MERCHANT, &push("P-DRIFT-1", "R-DRIFT-1")).await;
    call(&front.base, INQUIRY, MERCHANT, &inquiry("R-DRIFT-1")).await;
    let mut listed = front
        .admin()
        .get("/recordings")
        .await
        .as_array()
        .unwrap()
        .clone();
    listed.reverse();
    let recordings = setup.path("recordings.jsonl");
    let lines: Vec<String> = listed.iter().map(Value::to_string).collect();
    std::fs::write(&recordings, lines.join("\n") + "\n").unwrap();
    let same = mock_config(setup.dir.path(), "same.toml", "");
    let differing = mock_config(
        setup.dir.path(),
        "differing.toml",
        "[[scenario.rules]]\nendpoint = \"inquiryPayment\"\nfield = \"paymentRequestId\"\nequals = \"R-DRIFT-1\"\npayment_result = \"USER_BALANCE_NOT_ENOUGH\"\n",
    );

    // Act
    let agreeing = drift(&same, &recordings, &setup.path("same.xml"));
    let drifting = drift(&differing, &recordings, &setup.path("differing.xml"));

    // Assert
    let table = String::from_utf8_lossy(&agreeing.stdout);
    assert!(agreeing.status.success(), "{table}\n{agreeing:?}");
    assert!(
        table.contains("2 recording(s): 2 agree, 0 drift"),
        "{table}"
    );
    let table = String::from_utf8_lossy(&drifting.stdout);
    assert!(!drifting.status.success(), "{table}");
    assert!(
        table.contains("2 recording(s): 1 agree, 1 drift"),
        "{table}"
    );
    assert!(
        table.contains(
            "paymentResult.resultCode: real \"SUCCESS\", mock \"USER_BALANCE_NOT_ENOUGH\""
        ),
        "{table}"
    );
    let junit = read(&setup.path("differing.xml"));
    assert!(junit.contains("failures=\"1\""), "{junit}");
    assert!(junit.contains("<failure message="), "{junit}");
    // The admin route: the same report over the front gateway's stored recordings.
    let report = front.admin().get("/drift").await;
    assert_eq!(report["drifting"], 0, "{report}");
    assert_eq!(report["compared"].as_array().unwrap().len(), 2, "{report}");
    // One request compares at most 1000 recordings: more is refused, naming the limit.
    let (status, refused) = front
        .admin()
        .request(reqwest::Method::GET, "/drift?limit=100000", None)
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().starts_with("limit:"),
        "{refused}"
    );
}

/// A socket that answers every connection with `answer` and closes it.
fn fixed_answer(answer: &'static str) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buffer = [0u8; 65536];
            let _ = stream.read(&mut buffer);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_the_upstream_is_never_followed() {
    // Arrange: an upstream that redirects to the real upstream, which must never be asked.
    let setup = Setup::new();
    let upstream = setup.upstream();
    let redirect: &'static str = Box::leak(
        format!(
            "HTTP/1.1 302 Found\r\nLocation: {}{INQUIRY}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            upstream.base
        )
        .into_boxed_str(),
    );
    let redirecting = fixed_answer(redirect);
    let front = setup.front(&redirecting, "proxy");

    // Act
    let answer = call(&front.base, INQUIRY, MERCHANT, &inquiry("R-REDIRECT-1")).await;

    // Assert
    assert_eq!(
        answer.result(),
        ("U", "UNKNOWN_EXCEPTION"),
        "{:?}",
        answer.body
    );
    assert!(
        answer
            .message()
            .contains("HTTP 302: redirects are not followed"),
        "{}",
        answer.message()
    );
    let asked = upstream.admin().get("/journal").await;
    assert!(
        asked.as_array().unwrap().is_empty(),
        "the redirect was followed: {asked}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relayed_notification_can_go_untouched_with_the_real_senders_signature() {
    // Arrange: the handler knows the real sender's key, as it would in production.
    let dir = tempfile::tempdir().unwrap();
    let keys = keys_dir();
    let keys = keys.display();
    let handler_config = dir.path().join("handler.toml");
    std::fs::write(
        &handler_config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-other-private.pem\"\n[admin]\ntoken = \"{ADMIN_TOKEN}\"\n[store]\nurl = \"memory://\"\n[notify]\nenabled = false\n[[clients]]\nclient_id = \"{SENDER}\"\npublic_keys = {{ \"1\" = \"file:{keys}/TEST-ONLY-other-public.pem\" }}\n"
        ),
    )
    .unwrap();
    let handler = Gateway::start(&handler_config);
    let front_config = dir.path().join("front.toml");
    std::fs::write(
        &front_config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[signing]\nprivate_key = \"file:{keys}/TEST-ONLY-gateway-private.pem\"\n[store]\nurl = \"memory://\"\n[notify]\nenabled = false\n[real.relay]\nforward_to = \"{}{NOTIFY}\"\nsigning = \"untouched\"\n[[clients]]\nclient_id = \"{SENDER}\"\npublic_keys = {{ \"1\" = \"file:{keys}/TEST-ONLY-other-public.pem\" }}\n",
            handler.base
        ),
    )
    .unwrap();
    let front = Gateway::start(&front_config);

    // Act
    let answer = call_with(
        "TEST-ONLY-other-private.pem",
        &front.base,
        NOTIFY,
        SENDER,
        &notification("R-RELAY-UNTOUCHED"),
    )
    .await;

    // Assert
    assert_eq!(answer.result(), ("S", "SUCCESS"), "{:?}", answer.body);
    let got = handler.admin().get("/received-notifications").await;
    assert_eq!(got[0]["verdict"], "valid", "{got}");
    assert_eq!(got[0]["paymentRequestId"], "R-RELAY-UNTOUCHED");
}
