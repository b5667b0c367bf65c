//! The property every caller relies on, over real HTTP: whatever the body and headers, every
//! request to every API gets an answer, HTTP 200 with a `result` envelope, and an F or U answer
//! says why. Requests are made from valid ones by random mutations (fields dropped, retyped,
//! oversized, nested, bytes flipped or cut, headers missing, garbled or too long, another
//! method or path), most of them signed so that they reach the field rules. A seeded generator
//! makes a failure repeatable: the failure message gives the seed and the request.
//!
//! `GATEWAY_PROPERTY_REQUESTS` sets the count (default 3,000); the long run is
//! `GATEWAY_PROPERTY_REQUESTS=100000 cargo test --test property -- --nocapture` (about 4 minutes).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use alipay_gateway::app::{self, AppState};
use alipay_gateway::config::{ClientSettings, DEFAULT_TOML, Settings};
use alipay_gateway::signature::{self, Message, SigningKey};
use figment::Figment;
use figment::providers::{Format, Toml};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MERCHANT: &str = "PROPERTY_MERCHANT";
/// Callers sending side by side, each request on a connection of its own (an answer that does
/// not read an oversized body closes its connection, which is not what is tested).
const CONNECTIONS: usize = 8;

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

fn requests_to_make() -> usize {
    std::env::var("GATEWAY_PROPERTY_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000)
}

/// A gateway on the memory store with one registered client. The `Gateway-Scenario` header is
/// off: its faults (a dropped connection, HTTP 500) are answers asked for, not ones to find.
async fn spawn_gateway() -> String {
    let mut settings: Settings = Figment::from(Toml::string(DEFAULT_TOML))
        .extract()
        .expect("the built-in defaults parse");
    settings.server.listen = "127.0.0.1:0".into();
    settings.store.url = "memory://".into();
    settings.signing.private_key = "file:TEST-ONLY-gateway-private.pem".into();
    settings.admin.token = "TEST-ONLY-admin-token".into();
    settings.scenario.allow_header = false;
    settings.notify.enabled = false;
    settings.journal.capacity = 100;
    settings.clients = vec![ClientSettings {
        client_id: MERCHANT.into(),
        public_keys: BTreeMap::from([("1".into(), "file:TEST-ONLY-merchant-public.pem".into())]),
        endpoints: None,
        notify_url: None,
        rate_limit_per_second: None,
        pass_through: false,
    }];
    let config = settings.validate(&keys_dir()).expect("settings validate");
    let store = alipay_gateway::store::connect(&config.settings.store)
        .await
        .expect("the memory store opens");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(app::serve(
        listener,
        AppState::new(config, store),
        std::future::pending(),
    ));
    address
}

// ------------------------------------------------------------------------------------------
// Requests
// ------------------------------------------------------------------------------------------

const PATHS: [&str; 5] = [
    "/ams/api/v1/risk/payments/sendPaymentResult",
    "/aps/api/v1/payments/notifyPushPayment",
    "/aps/api/v1/payments/inquiryPayment",
    "/aps/api/v1/payments/notifyPayment",
    "/ams/sandbox/api/v1/risk/payments/sendPaymentResult",
];

/// A valid body for the API at `PATHS[api]`.
fn valid_body(api: usize, rng: &mut StdRng) -> Value {
    let id = format!("R{}", rng.random_range(0..50u32));
    match api % 4 {
        0 => json!({"referenceTransactionId": id, "paymentStatus": "SUCCESS",
                    "authorizationPhase": "AUTHORIZATION", "paymentMethodProvider": "VISA"}),
        1 => json!({"paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
                    "paymentId": format!("P{id}"), "paymentRequestId": id,
                    "paymentTime": "2026-11-22T10:00:00+08:00"}),
        2 => json!({"acquirerId": "1022188000000000001", "pspId": "1022172000000000001",
                    "paymentRequestId": id}),
        _ => json!({"notifyType": "PAYMENT_RESULT",
                    "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                    "paymentRequestId": id, "paymentId": format!("P{id}"),
                    "paymentAmount": {"currency": "USD", "value": "100"},
                    "paymentCreateTime": "2026-11-22T10:00:00+08:00",
                    "paymentTime": "2026-11-22T10:00:01+08:00"}),
    }
}

fn random_text(rng: &mut StdRng, max: usize) -> String {
    const PIECES: [&str; 12] = [
        "a",
        "Z",
        "0",
        "9",
        " ",
        "-",
        "\u{e9}",
        "\u{4e2d}",
        "\u{1f600}",
        "\"",
        "\\",
        "__",
    ];
    let len = rng.random_range(0..=max);
    (0..len)
        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
        .collect()
}

fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..10) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-1_000_000i64..1_000_000)),
        3 => json!(rng.random::<f64>() * 1e9),
        4 => json!(format!("SUCCESS{}", random_text(rng, 3))),
        5 => json!("2026-11-22T10:00:00+08:00"),
        6 if depth < 3 => Value::Array(
            (0..rng.random_range(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        7 if depth < 3 => {
            let mut map = serde_json::Map::new();
            for _ in 0..rng.random_range(0..4) {
                map.insert(random_text(rng, 8), random_value(rng, depth + 1));
            }
            Value::Object(map)
        }
        8 => json!(random_text(rng, 300)),
        _ => json!(random_text(rng, 20)),
    }
}

/// Every member path of `value`, as JSON pointers.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    if let Value::Object(map) = value {
        for (name, child) in map {
            let pointer = format!("{at}/{name}");
            out.push(pointer.clone());
            pointers(child, pointer, out);
        }
    }
}

/// `body` changed by a few random mutations, as bytes.
fn mutated_body(api: usize, rng: &mut StdRng) -> Vec<u8> {
    let mut body = valid_body(api, rng);
    for _ in 0..rng.random_range(0..4) {
        let mut at = Vec::new();
        pointers(&body, String::new(), &mut at);
        let Some(pointer) = (!at.is_empty()).then(|| at[rng.random_range(0..at.len())].clone())
        else {
            break;
        };
        let (parent, name) = pointer.rsplit_once('/').expect("a pointer");
        let Some(Value::Object(map)) = body.pointer_mut(parent) else {
            continue;
        };
        match rng.random_range(0..4) {
            0 => drop(map.remove(name)),
            1 => drop(map.insert(random_text(rng, 10), random_value(rng, 0))),
            _ => drop(map.insert(name.to_owned(), random_value(rng, 0))),
        }
    }
    let mut bytes = serde_json::to_vec(&body).expect("JSON serialises");
    match rng.random_range(0..20) {
        0 => bytes.truncate(rng.random_range(0..=bytes.len())),
        1 => {
            let i = rng.random_range(0..bytes.len());
            bytes[i] = rng.random();
        }
        2 => {
            bytes = (0..rng.random_range(0..200))
                .map(|_| rng.random())
                .collect()
        }
        3 => {
            let depth = rng.random_range(100..3000);
            bytes = format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
        }
        4 => bytes = vec![b' '; 300 * 1024],
        5 => bytes.clear(),
        6 => bytes = b"[1,2,3]".to_vec(),
        _ => {}
    }
    bytes
}

/// One request's bytes on the wire.
fn request(rng: &mut StdRng, key: &SigningKey) -> Vec<u8> {
    let api = rng.random_range(0..PATHS.len());
    let path = match rng.random_range(0..25) {
        0 => format!(
            "/aps/api/v1/payments/noSuchApi{}",
            rng.random_range(0..1000)
        ),
        1 => format!("{}?{}", PATHS[api], "x=1"),
        _ => PATHS[api].to_owned(),
    };
    let method = match rng.random_range(0..30) {
        0 => "GET",
        1 => "PUT",
        2 => "DELETE",
        3 => "PATCH",
        4 => "OPTIONS",
        _ => "POST",
    };
    let body = mutated_body(api, rng);
    let client_id = match rng.random_range(0..20) {
        0 => None,
        1 => Some("UNREGISTERED".to_owned()),
        2 => Some("C".repeat(rng.random_range(65..5000))),
        3 => Some(String::new()),
        _ => Some(MERCHANT.to_owned()),
    };
    let time = match rng.random_range(0..20) {
        0 => None,
        1 => Some("yesterday".to_owned()),
        2 => Some("2026-11-22T10:00:00+08:00".to_owned()),
        _ => Some(chrono::Utc::now().timestamp_millis().to_string()),
    };
    let signed = signature::sign(
        key,
        &Message::post(
            &path,
            client_id.as_deref().unwrap_or_default(),
            time.as_deref().unwrap_or_default(),
            &body,
        ),
    )
    .expect("the test key signs");
    let signature = match rng.random_range(0..20) {
        0 => None,
        1 => Some("algorithm=RSA256,keyVersion=1,signature=".to_owned()),
        2 => Some(format!("algorithm=RSA256,keyVersion=9,signature={signed}")),
        3 => Some(format!("algorithm=RSA512,signature={signed}")),
        4 => Some(random_text(rng, 40).replace(['\u{e9}', '\u{4e2d}', '\u{1f600}'], "%")),
        5 => Some("algorithm=RSA256,keyVersion=1,signature=%ZZ%".to_owned()),
        _ => Some(signature::header::format("1", &signed)),
    };
    let content_type = match rng.random_range(0..20) {
        0 => None,
        1 => Some("text/plain"),
        2 => Some("application/json"),
        3 => Some("application/x-www-form-urlencoded"),
        _ => Some("application/json; charset=UTF-8"),
    };
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: gateway\r\ncontent-length: {}\r\n",
        body.len()
    );
    let mut header = |name: &str, value: &str| head.push_str(&format!("{name}: {value}\r\n"));
    if let Some(id) = &client_id {
        header("client-id", id);
    }
    if let Some(t) = &time {
        header("request-time", t);
    }
    if let Some(s) = &signature {
        header("signature", s);
    }
    if let Some(ct) = content_type {
        header("content-type", ct);
    }
    match rng.random_range(0..30) {
        0 => header("x-padding", &"p".repeat(rng.random_range(10_000..40_000))),
        1 => header("gateway-scenario", "fault=drop_connection"),
        2 => header("client-id", "SECOND_CLIENT_ID"),
        _ => {}
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

// ------------------------------------------------------------------------------------------
// Answers
// ------------------------------------------------------------------------------------------

/// Reads one HTTP/1.1 response; `Err` when the connection ends before a whole one came.
async fn read_response(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Result<(u16, HashMap<String, String>, Vec<u8>), String> {
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed before an answer".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no content-length in {head:?}"))?;
    let start = head_end + 4;
    while buffer.len() < start + length {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the connection closed inside the answer".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[start..start + length].to_vec();
    buffer.drain(..start + length);
    Ok((status, headers, body))
}

/// What is wrong with an answer, if anything; else its result code.
fn judge(status: u16, headers: &HashMap<String, String>, body: &[u8]) -> Result<String, String> {
    if status != 200 {
        return Err(format!("HTTP {status}"));
    }
    if !headers
        .get("content-type")
        .is_some_and(|ct| ct.starts_with("application/json"))
    {
        return Err(format!("content-type {:?}", headers.get("content-type")));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let result = &v["result"];
    let code = result["resultCode"].as_str().unwrap_or_default();
    let status = result["resultStatus"].as_str().unwrap_or_default();
    let message = result["resultMessage"].as_str().unwrap_or_default();
    if code.is_empty() || !matches!(status, "S" | "F" | "U") {
        return Err("no result envelope".into());
    }
    if status != "S" && message.trim().is_empty() {
        return Err(format!("{code} without a message saying why"));
    }
    Ok(code.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_however_malformed_gets_a_result_envelope_that_says_why() {
    // Arrange
    let address = spawn_gateway().await;
    let key = std::sync::Arc::new(
        SigningKey::from_text(
            &std::fs::read_to_string(keys_dir().join("TEST-ONLY-merchant-private.pem")).unwrap(),
        )
        .unwrap(),
    );
    let total = requests_to_make();
    let seed: u64 = std::env::var("GATEWAY_PROPERTY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20261203);

    // Act: each connection its own generator, so a failure names a repeatable request.
    let mut workers = Vec::new();
    for worker in 0..CONNECTIONS {
        let (address, key) = (address.clone(), key.clone());
        let count = total / CONNECTIONS + usize::from(worker < total % CONNECTIONS);
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed + worker as u64);
            let mut codes: BTreeMap<String, usize> = BTreeMap::new();
            for i in 0..count {
                let bytes = request(&mut rng, &key);
                let mut stream = TcpStream::connect(&address).await.unwrap();
                // An answer may come before the whole body was taken (an oversized one): read
                // it even when writing the rest failed.
                let written = stream.write_all(&bytes).await;
                let mut buffer = Vec::new();
                let answer = tokio::time::timeout(
                    Duration::from_secs(20),
                    read_response(&mut stream, &mut buffer),
                )
                .await
                .unwrap_or_else(|_| Err("no answer within 20 s".into()))
                .map_err(|e| match &written {
                    Err(w) => format!("{e} (writing the request failed: {w})"),
                    Ok(()) => e,
                });
                let verdict = answer.and_then(|(status, headers, body)| {
                    judge(status, &headers, &body)
                        .map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&body)))
                });
                match verdict {
                    Ok(code) => *codes.entry(code).or_default() += 1,
                    Err(problem) => {
                        let shown =
                            String::from_utf8_lossy(&bytes[..bytes.len().min(600)]).into_owned();
                        return Err(format!(
                            "seed {} request {i}: {problem}\n--- the request ---\n{shown}",
                            seed + worker as u64
                        ));
                    }
                }
            }
            Ok(codes)
        }));
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for worker in workers {
        let counted = worker
            .await
            .expect("the worker ran")
            .unwrap_or_else(|e| panic!("{e}"));
        for (code, n) in counted {
            *codes.entry(code).or_default() += n;
        }
    }

    // Assert: every request was answered (above), and the mutations reached past admission.
    let answered: usize = codes.values().sum();
    println!("{answered} requests, every one answered with a result envelope: {codes:?}");
    assert_eq!(answered, total);
    for reached in ["PARAM_ILLEGAL", "INVALID_SIGNATURE", "SUCCESS"] {
        assert!(codes.contains_key(reached), "no {reached} among {codes:?}");
    }
}
