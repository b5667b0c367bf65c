//! Namespaces and run-time clients end to end, with real gateway processes, real sockets, real
//! keys and real merchant receivers: eight simulated CI jobs share one gateway (SQLite), or two
//! replicas on one PostgreSQL, each with its own namespace, client, key and receiver, and each
//! sees exactly its own data, counts and notifications while the others work beside it; a
//! namespace's time to live runs out in the middle and leaves the others intact. Then the
//! refusals: names, tokens, duplicate client ids, limits; and key rotation, restart, deletion.

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Barrier;

use support::config::{ADMIN_TOKEN, keys_dir};
use support::gateway_process::Gateway;
use support::{postgres_schema, skip};

const BIN: &str = env!("CARGO_BIN_EXE_alipay-gateway");
const PUSH: &str = "/aps/api/v1/payments/notifyPushPayment";
const INQUIRY: &str = "/aps/api/v1/payments/inquiryPayment";
const JOBS: usize = 8;

fn fixture(name: &str) -> PathBuf {
    keys_dir().join(name)
}

/// An HTTP client that gives up after 30 s, so a gateway that never answers fails the test
/// rather than hanging it.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

// ------------------------------------------------------------------------------------------
// A gateway process
// ------------------------------------------------------------------------------------------

/// An admin call: `namespace` names it in the Gateway-Namespace header, `token` is the bearer.
async fn admin(
    base: &str,
    token: &str,
    namespace: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http()
        .request(method, format!("{base}/admin{path}"))
        .bearer_auth(token);
    if let Some(namespace) = namespace {
        request = request.header("Gateway-Namespace", namespace);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    assert!(
        content_type.starts_with("application/json"),
        "{path} answered {status} without JSON"
    );
    (status, body)
}

/// The gateway's config: TEST-ONLY keys, loopback receivers allowed, a quick namespace sync.
fn write_config(dir: &Path, store_url: &str, extra: &str) -> PathBuf {
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"

[signing]
private_key = "file:{gateway_key}"

[admin]
token = "{ADMIN_TOKEN}"

[store]
url = "{store_url}"

[notify]
allowed_hosts = ["127.0.0.1"]

[namespaces]
sync_interval_ms = 100

{extra}

[[clients]]
client_id = "TEST_MERCHANT"
public_keys = {{ "1" = "file:{merchant_key}" }}
"#,
        gateway_key = fixture("TEST-ONLY-gateway-private.pem").display(),
        merchant_key = fixture("TEST-ONLY-merchant-public.pem").display(),
    );
    let path = dir.join("gateway.toml");
    std::fs::write(&path, config).unwrap();
    path
}

// ------------------------------------------------------------------------------------------
// A caller signing as the SDKs do, with a key pair of its own
// ------------------------------------------------------------------------------------------

struct KeyPair {
    private_pem: String,
    public_pem: String,
}

/// A fresh key pair, made by the gateway's own `keygen`, as a CI job would.
fn keygen(dir: &Path, name: &str) -> KeyPair {
    let out = dir.join(name);
    let made = Command::new(BIN)
        .args(["keygen", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(made.status.success(), "keygen: {made:?}");
    KeyPair {
        private_pem: std::fs::read_to_string(out.join("private.pem")).unwrap(),
        public_pem: std::fs::read_to_string(out.join("public.pem")).unwrap(),
    }
}

/// Sends `body` to `path`, signed by `client_id` with `private_pem` under `key_version`.
async fn signed(
    base: &str,
    path: &str,
    client_id: &str,
    private_pem: &str,
    key_version: &str,
    body: &Value,
) -> Value {
    let body = serde_json::to_vec(body).unwrap();
    let time = chrono::Utc::now().timestamp_millis().to_string();
    let key = SigningKey::<Sha256>::new(RsaPrivateKey::from_pkcs8_pem(private_pem).unwrap());
    let content = [
        format!("POST {path}\n{client_id}.{time}.").as_bytes(),
        &body[..],
    ]
    .concat();
    let signature = STANDARD.encode(key.sign(&content).to_bytes());
    let header = format!(
        "algorithm=RSA256,keyVersion={key_version},signature={}",
        utf8_percent_encode(&signature, NON_ALPHANUMERIC)
    );
    let response = http()
        .post(format!("{base}{path}"))
        .header("Content-Type", "application/json; charset=UTF-8")
        .header("Client-Id", client_id)
        .header("Request-Time", time)
        .header("Signature", header)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn code(answer: &Value) -> &str {
    answer["result"]["resultCode"].as_str().unwrap_or("")
}

fn push_body(payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "success"},
        "paymentRequestId": payment_request_id,
        "paymentId": format!("{payment_request_id}-paid"),
        "paymentTime": "2026-12-05T08:00:00+08:00",
    })
}

fn inquiry_body(payment_request_id: &str) -> Value {
    json!({ "acquirerId": "ACQ", "pspId": "PSP", "paymentRequestId": payment_request_id })
}

// ------------------------------------------------------------------------------------------
// A merchant's notification receiver
// ------------------------------------------------------------------------------------------

/// A merchant endpoint: the first attempt of each notification answers HTTP 500 (so the next
/// waits for the schedule), every later one SUCCESS. It keeps what it got.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Receiver {
    async fn start() -> Receiver {
        let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
        let kept = Arc::clone(&got);
        let app = axum::Router::new().route(
            "/notify",
            axum::routing::post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let kept = Arc::clone(&kept);
                    async move {
                        let client = headers
                            .get("client-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned();
                        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let mut got = kept.lock().unwrap();
                        let id = body["paymentRequestId"].clone();
                        let first = !got.iter().any(|(_, b)| b["paymentRequestId"] == id);
                        got.push((client, body));
                        if first {
                            (StatusCode::INTERNAL_SERVER_ERROR, "try again".to_owned())
                        } else {
                            (
                                StatusCode::OK,
                                json!({"result": {"resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "success"}}).to_string(),
                            )
                        }
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{address}/notify"),
            got,
        }
    }

    fn got(&self) -> Vec<(String, Value)> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until it got `n` requests (the sender runs on its own), failing after a while.
    async fn wait_for(&self, n: usize, what: &str) -> Vec<(String, Value)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: {} of {n} notifications arrived: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// ------------------------------------------------------------------------------------------
// Eight CI jobs at once
// ------------------------------------------------------------------------------------------

/// One simulated CI job: its namespace, token, client, key and receiver. `api` is the gateway
/// it sends its traffic to; `other` the one it set itself up through (the other replica, when
/// there are two).
struct Job {
    n: usize,
    namespace: String,
    token: String,
    client_id: String,
    keys: KeyPair,
    receiver: Receiver,
    api: String,
    other: String,
}

impl Job {
    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        admin(
            &self.api,
            &self.token,
            Some(&self.namespace),
            method,
            path,
            body,
        )
        .await
    }

    async fn call(&self, path: &str, body: &Value) -> Value {
        signed(
            &self.api,
            path,
            &self.client_id,
            &self.keys.private_pem,
            "1",
            body,
        )
        .await
    }

    async fn inbound_count(&self) -> u64 {
        let (status, count) = self
            .admin(Method::GET, "/journal/count?direction=inbound", None)
            .await;
        assert_eq!(status, 200, "{count}");
        count["count"].as_u64().unwrap()
    }

    /// This job's amount: every job seeds the same paymentRequestId with its own amount.
    fn amount(&self) -> String {
        format!("{}", 1000 + self.n)
    }
}

/// Creates a namespace through `base` with the admin token, as a CI job's first step.
async fn create_namespace(base: &str, name: &str, extra: Value) -> String {
    let mut body = json!({ "name": name });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, created) = admin(
        base,
        ADMIN_TOKEN,
        None,
        Method::POST,
        "/namespaces",
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_owned()
}

async fn register(
    base: &str,
    token: &str,
    namespace: &str,
    client_id: &str,
    keys: &KeyPair,
    receiver: &str,
) {
    let (status, registered) = admin(
        base,
        token,
        Some(namespace),
        Method::POST,
        "/clients",
        Some(json!({
            "clientId": client_id,
            "publicKeys": { "1": keys.public_pem },
            "notifyUrl": receiver,
        })),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["namespace"], namespace);
}

/// Eight jobs against `gateways` (one, or two replicas), interleaved phase by phase.
async fn eight_jobs_see_only_their_own(gateways: Vec<String>, dir: PathBuf, store: Store) {
    let (gateways, dir) = (&gateways[..], dir.as_path());
    let barrier = Arc::new(Barrier::new(JOBS));
    let first = &gateways[0];

    // A ninth namespace with a short life, and a client of its own, to run out mid-way.
    let doomed_keys = keygen(dir, "doomed");
    let doomed_token = create_namespace(first, "doomed", json!({ "ttlSeconds": 3 })).await;
    register(
        first,
        &doomed_token,
        "doomed",
        "DOOMED_CLIENT",
        &doomed_keys,
        "http://127.0.0.1:9/notify",
    )
    .await;
    let answer = signed(
        first,
        PUSH,
        "DOOMED_CLIENT",
        &doomed_keys.private_pem,
        "1",
        &push_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "SUCCESS", "{answer}");

    // The default namespace has a PR-1 of its own too.
    let merchant_key = std::fs::read_to_string(fixture("TEST-ONLY-merchant-private.pem")).unwrap();
    let answer = signed(
        first,
        PUSH,
        "TEST_MERCHANT",
        &merchant_key,
        "1",
        &push_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "SUCCESS", "{answer}");

    let mut jobs = Vec::new();
    for n in 0..JOBS {
        let api = gateways[n % gateways.len()].clone();
        let other = gateways[(n + 1) % gateways.len()].clone();
        jobs.push(Job {
            n,
            namespace: format!("job-{n}"),
            token: String::new(),
            client_id: format!("CI_JOB_{n}"),
            keys: keygen(dir, &format!("job-{n}")),
            receiver: Receiver::start().await,
            api,
            other,
        });
    }

    let runs = jobs.into_iter().map(|mut job| {
        let barrier = Arc::clone(&barrier);
        let merchant_key = merchant_key.clone();
        tokio::spawn(async move {
            // Set up through the other replica: the store carries namespace and client across.
            job.token =
                create_namespace(&job.other, &job.namespace, json!({ "ttlSeconds": 600 })).await;
            register(
                &job.other,
                &job.token,
                &job.namespace,
                &job.client_id,
                &job.keys,
                &job.receiver.url,
            )
            .await;
            barrier.wait().await;

            // Seed and push the very same paymentRequestId in every namespace.
            let (status, seeded) = job
                .admin(
                    Method::POST,
                    "/payments",
                    Some(json!({
                        "paymentRequestId": "PR-1",
                        "paymentAmount": { "currency": "USD", "value": job.amount() },
                        "clientId": job.client_id,
                    })),
                )
                .await;
            assert_eq!(status, 201, "job {}: {seeded}", job.n);
            let answer = job.call(PUSH, &push_body("PR-1")).await;
            assert_eq!(code(&answer), "SUCCESS", "job {}: {answer}", job.n);
            barrier.wait().await;

            // Each inquiry answers its own namespace's payment, with its own amount.
            let answer = job.call(INQUIRY, &inquiry_body("PR-1")).await;
            assert_eq!(code(&answer), "SUCCESS", "job {}: {answer}", job.n);
            assert_eq!(
                answer["paymentResult"]["resultCode"], "SUCCESS",
                "job {}: {answer}",
                job.n
            );
            assert_eq!(
                answer["paymentAmount"]["value"],
                job.amount(),
                "job {}: {answer}",
                job.n
            );

            // Even jobs add a rule; odd jobs must not feel it.
            if job.n % 2 == 0 {
                let (status, rule) = job
                    .admin(
                        Method::POST,
                        "/rules",
                        Some(json!({
                            "endpoint": "inquiryPayment",
                            "field": "paymentRequestId",
                            "equals": "PR-RULE",
                            "result": { "code": "ACCESS_DENIED" },
                        })),
                    )
                    .await;
                assert_eq!(status, 201, "job {}: {rule}", job.n);
            }
            barrier.wait().await;
            let answer = job.call(INQUIRY, &inquiry_body("PR-RULE")).await;
            let (status, rules) = job.admin(Method::GET, "/rules", None).await;
            assert_eq!(status, 200);
            if job.n % 2 == 0 {
                assert_eq!(code(&answer), "ACCESS_DENIED", "job {}: {answer}", job.n);
                assert_eq!(rules.as_array().unwrap().len(), 1, "job {}: {rules}", job.n);
                assert_eq!(rules[0]["hits"], 1, "job {}: {rules}", job.n);
            } else {
                assert_ne!(code(&answer), "ACCESS_DENIED", "job {}: {answer}", job.n);
                assert!(
                    rules.as_array().unwrap().is_empty(),
                    "job {}: {rules}",
                    job.n
                );
            }

            // The first attempt went to this job's receiver at once, and failed.
            let got = job
                .receiver
                .wait_for(1, &format!("job {} first attempt", job.n))
                .await;
            assert_eq!(got[0].0, job.client_id);
            assert_eq!(got[0].1["paymentAmount"]["value"], job.amount());
            barrier.wait().await;

            // Three jobs advance their own clock by two minutes: their second attempt comes, and
            // nobody else's.
            if job.n % 3 == 0 {
                let (status, moved) = job
                    .admin(Method::POST, "/clock/advance", Some(json!({ "by": "2m" })))
                    .await;
                assert_eq!(status, 200, "{moved}");
                assert_eq!(moved["pendingMoved"], 1, "job {}: {moved}", job.n);
                let got = job
                    .receiver
                    .wait_for(2, &format!("job {} second attempt", job.n))
                    .await;
                assert!(got.iter().all(|(client, body)| *client == job.client_id
                    && body["paymentAmount"]["value"] == job.amount()));
            }
            barrier.wait().await;

            // Its journal holds exactly its own requests: seed is admin, so a push and three
            // inquiries (PR-1, PR-RULE), signed and answered.
            assert_eq!(job.inbound_count().await, 3, "job {}", job.n);
            let (status, entries) = job
                .admin(Method::GET, "/journal?direction=inbound", None)
                .await;
            assert_eq!(status, 200);
            assert!(
                entries
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|e| e["clientId"] == job.client_id),
                "job {}: {entries}",
                job.n
            );
            // Its notification's attempts are its own (each recorded once its answer is in,
            // a moment after the receiver got it).
            let expected = if job.n % 3 == 0 { 2 } else { 1 };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let (status, notes) = job
                    .admin(Method::GET, "/payments/PR-1/notifications", None)
                    .await;
                assert_eq!(status, 200, "{notes}");
                let attempts = notes[0]["attempts"].as_array().unwrap();
                if attempts.len() == expected {
                    break;
                }
                assert!(attempts.len() < expected, "job {}: {notes}", job.n);
                assert!(Instant::now() < deadline, "job {}: {notes}", job.n);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            barrier.wait().await;

            // Half the jobs reset; the other half still find their payment afterwards.
            if job.n % 2 == 1 {
                let (status, reset) = job.admin(Method::POST, "/reset", None).await;
                assert_eq!(status, 200, "{reset}");
            }
            barrier.wait().await;
            let answer = job.call(INQUIRY, &inquiry_body("PR-1")).await;
            if job.n % 2 == 1 {
                assert_eq!(code(&answer), "ORDER_NOT_EXIST", "job {}: {answer}", job.n);
                assert_eq!(
                    job.inbound_count().await,
                    1,
                    "job {}: the reset cleared the journal",
                    job.n
                );
            } else {
                assert_eq!(
                    answer["paymentAmount"]["value"],
                    job.amount(),
                    "job {}: {answer}",
                    job.n
                );
                assert_eq!(job.inbound_count().await, 4, "job {}", job.n);
            }
            // A reset keeps the namespace's clients: the calls above were admitted.
            let _ = merchant_key;
            job
        })
    });
    let jobs: Vec<Job> = futures_join(runs.collect()).await;

    // Every receiver got only its own job's notifications, and only as many as its clock asked.
    for job in &jobs {
        let got = job.receiver.got();
        let expected = if job.n % 3 == 0 { 2 } else { 1 };
        assert_eq!(got.len(), expected, "job {}: {got:?}", job.n);
    }

    // The doomed namespace ran out in the middle (3 s): it, its client and its data are gone.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = admin(
            first,
            ADMIN_TOKEN,
            None,
            Method::GET,
            "/namespaces/doomed",
            None,
        )
        .await;
        if status == 404 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the doomed namespace outlived its TTL"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for base in gateways {
        let answer = signed(
            base,
            INQUIRY,
            "DOOMED_CLIENT",
            &doomed_keys.private_pem,
            "1",
            &inquiry_body("PR-1"),
        )
        .await;
        assert_eq!(code(&answer), "INVALID_CLIENT", "{answer}");
        let doomed = |token| As {
            base,
            token,
            namespace: Some("doomed"),
        };
        let count = "/journal/count";
        assert_eq!(
            doomed(ADMIN_TOKEN).status(Method::GET, count, None).await,
            404
        );
        assert_eq!(
            doomed(&doomed_token).status(Method::GET, count, None).await,
            403
        );
    }
    match store {
        Store::Sqlite(ref file) => {
            let dir = file.parent().unwrap();
            assert!(namespace_files(dir, "doomed").is_empty(), "its files stay");
            assert_eq!(namespace_files(dir, "job-0").len(), 3, "a live one's files");
        }
        Store::Postgres => {}
    }

    // The other jobs' namespaces are intact after the expiry, from either replica.
    for job in &jobs {
        for base in gateways {
            let answer = signed(
                base,
                INQUIRY,
                &job.client_id,
                &job.keys.private_pem,
                "1",
                &inquiry_body("PR-1"),
            )
            .await;
            if job.n % 2 == 1 {
                assert_eq!(code(&answer), "ORDER_NOT_EXIST", "job {}: {answer}", job.n);
            } else {
                assert_eq!(
                    answer["paymentAmount"]["value"],
                    job.amount(),
                    "job {}: {answer}",
                    job.n
                );
            }
        }
    }

    // And the default namespace still has its own PR-1, which no job touched.
    let answer = signed(
        first,
        INQUIRY,
        "TEST_MERCHANT",
        &merchant_key,
        "1",
        &inquiry_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "SUCCESS", "{answer}");
    assert!(answer.get("paymentAmount").is_none(), "{answer}");
    let (_, listed) = admin(first, ADMIN_TOKEN, None, Method::GET, "/namespaces", None).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), JOBS, "{listed}");
    assert!(!names.contains(&"doomed"));

    // A job's namespace deleted and created again under its name, through the first gateway:
    // every gateway serves the new one at once, the old token reaches nothing, and it starts
    // empty, without the old client.
    let job = &jobs[0];
    let (status, body) = admin(
        first,
        &job.token,
        None,
        Method::DELETE,
        "/namespaces/job-0",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = create_namespace(first, "job-0", json!({})).await;
    for base in gateways {
        let old = As {
            base,
            token: &job.token,
            namespace: Some("job-0"),
        };
        let new = As {
            base,
            token: &token,
            namespace: Some("job-0"),
        };
        assert_eq!(old.status(Method::GET, "/journal/count", None).await, 403);
        let (status, count) = new.call(Method::GET, "/journal/count", None).await;
        assert_eq!((status, count["count"].as_u64()), (200, Some(0)), "{count}");
        assert_eq!(
            new.call(Method::GET, "/payments", None).await,
            (200, json!([]))
        );
        assert_eq!(
            new.call(Method::GET, "/clients", None).await,
            (200, json!([]))
        );
        // Its old client is gone with it; a replica that held it learns so at its next sync.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = signed(
                base,
                INQUIRY,
                &job.client_id,
                &job.keys.private_pem,
                "1",
                &inquiry_body("PR-1"),
            )
            .await;
            if code(&answer) == "INVALID_CLIENT" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the old client is still served: {answer}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Runs `jobs`; when they fail, or have not finished within three minutes, prints the
/// gateways' logs before failing.
async fn showing_logs(gateways: &[&Gateway], jobs: impl Future<Output = ()> + Send + 'static) {
    let failed = match tokio::time::timeout(Duration::from_secs(180), tokio::spawn(jobs)).await {
        Ok(Ok(())) => return,
        Ok(Err(e)) => Some(e),
        Err(_) => None,
    };
    for gateway in gateways {
        eprintln!("--- the log of {}\n{}", gateway.base, gateway.logs());
    }
    match failed {
        Some(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Some(e) => panic!("{e}"),
        None => panic!("the jobs did not finish within 180 s"),
    }
}

enum Store {
    Sqlite(PathBuf),
    Postgres,
}

/// The files of the SQLite store of the namespace `name` (`gateway.ns-NAME.ID.db`, `-wal`,
/// `-shm`) in `dir`.
fn namespace_files(dir: &Path, name: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with(&format!("gateway.ns-{name}.")))
        .collect()
}

/// Awaits every task, in the order given, and fails with the first task that fails: the
/// others are aborted then, so a job waiting at a barrier for a failed one cannot hang the test.
async fn futures_join<T: Send + 'static>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
    let mut indexed = tokio::task::JoinSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        indexed.spawn(async move { (i, task.await) });
    }
    let mut done: Vec<Option<T>> = std::iter::repeat_with(|| None).take(aborts.len()).collect();
    while let Some(joined) = indexed.join_next().await {
        let (i, result) = joined.expect("the joining task itself never fails");
        match result {
            Ok(value) => done[i] = Some(value),
            Err(e) => {
                aborts.iter().for_each(|a| a.abort());
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
                panic!("job {i}: {e}");
            }
        }
    }
    done.into_iter()
        .map(|v| v.expect("every job answered"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_ci_jobs_share_one_sqlite_gateway_and_each_sees_only_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data/gateway.db");
    let config = write_config(dir.path(), &format!("sqlite://{}", file.display()), "");
    let gateway = Gateway::start(&config);
    let jobs = eight_jobs_see_only_their_own(
        vec![gateway.base.clone()],
        dir.path().to_path_buf(),
        Store::Sqlite(file),
    );
    showing_logs(&[&gateway], jobs).await;
    assert!(!gateway.logs().contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_ci_jobs_share_two_postgres_replicas_and_each_sees_only_its_own() {
    let Ok(base) = std::env::var("GATEWAY_TEST_POSTGRES_URL") else {
        skip::skipped(
            "namespaces on PostgreSQL",
            "needs PostgreSQL; set GATEWAY_TEST_POSTGRES_URL (eval \"$(scripts/test-postgres.sh)\")",
        );
        return;
    };
    let url = postgres_schema::create(&base, "namespaces").await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &url, "");
    // A schema a gateway killed mid-delete left behind: the next start drops it.
    let schema = url.rsplit("search_path%3D").next().unwrap().to_owned();
    let leftover = format!("{schema}_ns_ghost_0123456789");
    let pool = sqlx::postgres::PgPool::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {leftover}")))
        .execute(&pool)
        .await
        .unwrap();
    let one = Gateway::start(&config);
    let two = Gateway::start(&config);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left: Option<String> =
            sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname = $1")
                .bind(&leftover)
                .fetch_optional(&pool)
                .await
                .unwrap();
        if left.is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "{leftover} stays");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let jobs = eight_jobs_see_only_their_own(
        vec![one.base.clone(), two.base.clone()],
        dir.path().to_path_buf(),
        Store::Postgres,
    );
    showing_logs(&[&one, &two], jobs).await;

    // The expired namespace's schema is gone; a live one's is there.
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'namespaces%_ns_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        schemas.iter().any(|s| s.contains("_ns_job_0_")),
        "{schemas:?}"
    );
    assert!(
        !schemas.iter().any(|s| s.contains("_ns_doomed_")),
        "{schemas:?}"
    );
    pool.close().await;
}

// ------------------------------------------------------------------------------------------
// Refusals, limits, rotation, restart, deletion: one SQLite gateway
// ------------------------------------------------------------------------------------------

struct Single {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    config: PathBuf,
    gateway: Gateway,
}

fn single() -> Single {
    single_with("")
}

/// One SQLite gateway, `extra` TOML added to its config.
fn single_with(extra: &str) -> Single {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let config = write_config(
        &path,
        &format!("sqlite://{}/data/gateway.db", path.display()),
        extra,
    );
    let gateway = Gateway::start(&config);
    Single {
        _dir: dir,
        dir: path,
        config,
        gateway,
    }
}

/// Admin calls as one caller: a token, and the namespace its calls name (none: the default).
struct As<'a> {
    base: &'a str,
    token: &'a str,
    namespace: Option<&'a str>,
}

impl As<'_> {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        admin(self.base, self.token, self.namespace, method, path, body).await
    }

    /// The HTTP status of a call.
    async fn status(&self, method: Method, path: &str, body: Option<Value>) -> u16 {
        self.call(method, path, body).await.0
    }

    /// Asserts that a call is refused with `status`, in JSON, with an error naming `words`.
    async fn refused(
        &self,
        (method, path): (Method, &str),
        body: Option<Value>,
        status: u16,
        words: &str,
    ) {
        let (got, answer) = self.call(method.clone(), path, body.clone()).await;
        assert_eq!(got, status, "{method} {path} {body:?}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(words), "{method} {path} {body:?}: {answer}");
    }
}

#[tokio::test]
async fn names_tokens_and_unknown_namespaces_get_json_400_401_403_404() {
    let s = single();
    let base = &s.gateway.base;
    let gateway = As {
        base,
        token: ADMIN_TOKEN,
        namespace: None,
    };
    let long = "x".repeat(33);
    for bad in ["", "Upper", "under_score", "-dash", "default", &long, "a/b"] {
        let name = json!({ "name": bad });
        let create = (Method::POST, "/namespaces");
        gateway
            .refused(create, Some(name), 400, "namespace name")
            .await;
    }
    for (field, limit) in [
        ("ttlSeconds", 0),
        ("maxPayments", 0),
        ("maxJournalEntries", 1_000_001),
    ] {
        let body = json!({ "name": "a", field: limit });
        gateway
            .refused((Method::POST, "/namespaces"), Some(body), 400, field)
            .await;
    }
    let a = create_namespace(base, "team-a", json!({})).await;
    let b = create_namespace(base, "team-b", json!({})).await;
    let again = json!({ "name": "team-a" });
    let create = (Method::POST, "/namespaces");
    gateway
        .refused(create, Some(again), 409, "exists already")
        .await;

    let count = "/journal/count";
    let with = |token, namespace| As {
        base,
        token,
        namespace,
    };
    // Unknown namespace: 404 with the admin token, naming it.
    let nobody = with(ADMIN_TOKEN, Some("nobody"));
    nobody
        .refused((Method::GET, count), None, 404, "no namespace nobody")
        .await;
    // Any other token gets the same 403 for a namespace it does not reach as for one that does
    // not exist: it cannot find out which names exist.
    assert_eq!(
        with(&b, Some("nobody"))
            .status(Method::GET, count, None)
            .await,
        403
    );
    assert_eq!(
        with(&b, None)
            .status(Method::GET, "/namespaces/nobody", None)
            .await,
        403
    );
    assert_eq!(
        with(&b, Some("team-a"))
            .status(Method::GET, count, None)
            .await,
        403
    );
    assert_eq!(
        with("gwns_wrong", Some("team-a"))
            .status(Method::GET, count, None)
            .await,
        403
    );
    assert_eq!(
        with(&b, None)
            .status(Method::GET, "/namespaces/team-a", None)
            .await,
        403
    );
    // No token at all: 401.
    let response = http()
        .get(format!("{base}/admin{count}"))
        .header("Gateway-Namespace", "team-a")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A namespace token reaches its own namespace, and nothing of the gateway's.
    assert_eq!(
        with(&a, Some("team-a"))
            .status(Method::GET, count, None)
            .await,
        200
    );
    assert_eq!(with(&a, None).status(Method::GET, count, None).await, 401);
    assert_eq!(
        with(&a, None)
            .status(Method::GET, "/namespaces", None)
            .await,
        401
    );
    let mine = Some(json!({ "name": "mine" }));
    assert_eq!(
        with(&a, None)
            .status(Method::POST, "/namespaces", mine)
            .await,
        401
    );
    assert_eq!(
        with(ADMIN_TOKEN, Some("Bad Name"))
            .status(Method::GET, count, None)
            .await,
        400
    );
}

#[tokio::test]
async fn a_client_id_is_unique_across_namespaces_and_config() {
    let s = single();
    let base = &s.gateway.base;
    let a = create_namespace(base, "team-a", json!({})).await;
    let b = create_namespace(base, "team-b", json!({})).await;
    let keys = keygen(&s.dir, "shared");
    register(
        base,
        &a,
        "team-a",
        "SHARED_ID",
        &keys,
        "http://127.0.0.1:9/notify",
    )
    .await;
    let team_a = As {
        base,
        token: &a,
        namespace: Some("team-a"),
    };
    let team_b = As {
        base,
        token: &b,
        namespace: Some("team-b"),
    };
    let gateway = As {
        base,
        token: ADMIN_TOKEN,
        namespace: None,
    };
    let shared = json!({ "clientId": "SHARED_ID", "publicKeys": { "1": keys.public_pem } });
    for caller in [&team_b, &team_a, &gateway] {
        let taken = "SHARED_ID is already registered";
        let register = (Method::POST, "/clients");
        caller
            .refused(register, Some(shared.clone()), 409, taken)
            .await;
    }
    let config = json!({ "clientId": "TEST_MERCHANT", "publicKeys": { "1": keys.public_pem } });
    let register = (Method::POST, "/clients");
    team_b
        .refused(register, Some(config), 409, "config-file client")
        .await;
    // Bad registrations name their field.
    let key = keys.public_pem.as_str();
    for (registration, field) in [
        (json!({ "clientId": "X", "publicKeys": {} }), "public_keys"),
        (
            json!({ "clientId": "X", "publicKeys": { "1": "not a key" } }),
            "public_keys.1",
        ),
        (
            json!({ "clientId": "X", "publicKeys": { "1": "file:/etc/passwd" } }),
            "public_keys.1",
        ),
        (
            json!({ "clientId": "X", "publicKeys": { "1": key }, "endpoints": ["pay"] }),
            "endpoints",
        ),
        (
            json!({ "clientId": "X", "publicKeys": { "1": key }, "notifyUrl": "ftp://x" }),
            "notify_url",
        ),
        (
            json!({ "clientId": "X", "publicKeys": { "1": key }, "notifyUrl": "http://10.1.2.3/n" }),
            "notify_url",
        ),
        (
            json!({ "clientId": "", "publicKeys": { "1": key } }),
            "client_id",
        ),
        (json!({ "clientId": "X", "secret": 1 }), "secret"),
    ] {
        team_b
            .refused((Method::POST, "/clients"), Some(registration), 400, field)
            .await;
    }
    // A namespace lists only its own; the default namespace lists config-file clients.
    assert_eq!(
        team_b.call(Method::GET, "/clients", None).await,
        (200, json!([]))
    );
    let (_, listed) = gateway.call(Method::GET, "/clients", None).await;
    assert_eq!(listed[0]["clientId"], "TEST_MERCHANT");
    assert_eq!(listed[0]["source"], "config");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    // Another namespace cannot see, change or delete it; a config-file client is changed in
    // the config file only.
    assert_eq!(
        team_b.status(Method::GET, "/clients/SHARED_ID", None).await,
        404
    );
    assert_eq!(
        team_b
            .status(Method::DELETE, "/clients/SHARED_ID", None)
            .await,
        404
    );
    assert_eq!(
        gateway
            .status(Method::DELETE, "/clients/TEST_MERCHANT", None)
            .await,
        409
    );
}

#[tokio::test]
async fn a_namespace_past_its_limits_answers_request_traffic_exceed_limit_naming_the_limit() {
    // The default journal keeps 2 entries; the namespace's limit (6) replaces that for it.
    let s = single_with("[journal]\ncapacity = 2");
    let base = &s.gateway.base;
    let token = create_namespace(
        base,
        "small",
        json!({ "maxPayments": 2, "maxJournalEntries": 6 }),
    )
    .await;
    let keys = keygen(&s.dir, "small");
    register(
        base,
        &token,
        "small",
        "SMALL",
        &keys,
        "http://127.0.0.1:9/notify",
    )
    .await;
    let call = |path: &'static str, body: Value| {
        let key = keys.private_pem.clone();
        async move { signed(base, path, "SMALL", &key, "1", &body).await }
    };
    let message = |answer: &Value| {
        answer["result"]["resultMessage"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };

    // Two payments fill it: a third is refused, naming the limit; a repeat of one it holds
    // (an SDK's retry) still goes through.
    for id in ["PR-1", "PR-2"] {
        assert_eq!(code(&call(PUSH, push_body(id)).await), "SUCCESS");
    }
    let answer = call(PUSH, push_body("PR-3")).await;
    assert_eq!(code(&answer), "REQUEST_TRAFFIC_EXCEED_LIMIT", "{answer}");
    assert_eq!(answer["result"]["resultStatus"], "U");
    assert!(message(&answer).contains("maxPayments"), "{answer}");
    assert_eq!(code(&call(PUSH, push_body("PR-1")).await), "SUCCESS");
    // Seeding past it is refused too, and so is seeding for another namespace's client.
    let ns = Some("small");
    let (status, body) = admin(
        base,
        &token,
        ns,
        Method::POST,
        "/payments",
        Some(json!({ "paymentRequestId": "PR-9" })),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("maxPayments"),
        "{body}"
    );
    let (status, _) = admin(base, &token, ns, Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    let (status, body) = admin(
        base,
        &token,
        ns,
        Method::POST,
        "/payments",
        Some(json!({ "paymentRequestId": "PR-9", "clientId": "TEST_MERCHANT" })),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("another namespace"),
        "{body}"
    );

    // Six journal entries fill its journal (three times the default journal's size).
    for id in ["PR-1", "PR-2"] {
        assert_eq!(code(&call(PUSH, push_body(id)).await), "SUCCESS");
    }
    for id in ["PR-1", "PR-2", "PR-1", "PR-2"] {
        assert_eq!(code(&call(INQUIRY, inquiry_body(id)).await), "SUCCESS");
    }
    let answer = call(INQUIRY, inquiry_body("PR-1")).await;
    assert_eq!(code(&answer), "REQUEST_TRAFFIC_EXCEED_LIMIT", "{answer}");
    assert!(message(&answer).contains("maxJournalEntries"), "{answer}");
    // Refused for its signature: answered as ever, and the full journal keeps what it holds.
    let stranger = keygen(&s.dir, "stranger");
    let answer = signed(
        base,
        INQUIRY,
        "SMALL",
        &stranger.private_pem,
        "1",
        &inquiry_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "INVALID_SIGNATURE", "{answer}");
    let (_, count) = admin(base, &token, ns, Method::GET, "/journal/count", None).await;
    assert_eq!(count["count"], 6);
    let (_, entries) = admin(base, &token, ns, Method::GET, "/journal?limit=10", None).await;
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["resultCode"] == "SUCCESS"),
        "{entries}"
    );

    // A reset makes room again; the default namespace never had a limit.
    let (status, _) = admin(base, &token, ns, Method::POST, "/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(code(&call(PUSH, push_body("PR-3")).await), "SUCCESS");
    let merchant = std::fs::read_to_string(fixture("TEST-ONLY-merchant-private.pem")).unwrap();
    for i in 0..5 {
        let answer = signed(
            base,
            PUSH,
            "TEST_MERCHANT",
            &merchant,
            "1",
            &push_body(&format!("D-{i}")),
        )
        .await;
        assert_eq!(code(&answer), "SUCCESS", "{answer}");
    }
}

/// The result code of an inquiry for PR-1 by ROTATING, signed with `key` as `version`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_apis_path_reaches_a_namespace_by_its_client_id() {
    let s = single();
    let base = &s.gateway.base;
    let token = create_namespace(base, "paths", json!({})).await;
    let keys = keygen(&s.dir, "paths");
    register(
        base,
        &token,
        "paths",
        "PATHS",
        &keys,
        "http://127.0.0.1:9/notify",
    )
    .await;
    let count = |namespace: Option<&'static str>| {
        let token = if namespace.is_some() {
            token.clone()
        } else {
            ADMIN_TOKEN.to_owned()
        };
        async move {
            let (status, body) =
                admin(base, &token, namespace, Method::GET, "/journal/count", None).await;
            assert_eq!(status, 200, "{body}");
            body["count"].as_u64().unwrap()
        }
    };
    let default_before = count(None).await;

    // Act: the namespace's Client-Id on an unknown path and on /metrics, then on an API.
    let unknown = signed(
        base,
        "/aps/api/v1/payments/noSuchApi",
        "PATHS",
        &keys.private_pem,
        "1",
        &inquiry_body("PA-1"),
    )
    .await;
    let metrics = http()
        .get(format!("{base}/metrics"))
        .header("Client-Id", "PATHS")
        .send()
        .await
        .unwrap();
    let inquiry = signed(
        base,
        INQUIRY,
        "PATHS",
        &keys.private_pem,
        "1",
        &inquiry_body("PA-1"),
    )
    .await;

    // Assert: the unknown path is the default namespace's, and only the API call is the
    // namespace's.
    assert_eq!(code(&unknown), "NO_INTERFACE_DEF", "{unknown}");
    assert_eq!(metrics.status(), StatusCode::OK);
    assert_eq!(code(&inquiry), "ORDER_NOT_EXIST", "{inquiry}");
    assert_eq!(
        count(Some("paths")).await,
        1,
        "the namespace journals its API call alone"
    );
    assert_eq!(
        count(None).await,
        default_before + 1,
        "the unknown path is journaled by default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_allowed_hosts_a_namespace_may_notify_loopback_alone() {
    // Arrange: `notify.allowed_hosts` left empty, as by default.
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("sqlite://{}/gateway.db", dir.path().display()),
        "",
    );
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("allowed_hosts = [\"127.0.0.1\"]\n", ""),
    )
    .unwrap();
    let gateway = Gateway::start(&config);
    let base = &gateway.base;
    let token = create_namespace(base, "fenced", json!({})).await;
    let keys = keygen(dir.path(), "fenced");
    let registration = |url: &str| json!({ "clientId": "FENCED", "publicKeys": { "1": keys.public_pem }, "notifyUrl": url });
    let ns = Some("fenced");

    // Act: a registration and a seed naming a private address, then loopback.
    let (refused, said) = admin(
        base,
        &token,
        ns,
        Method::POST,
        "/clients",
        Some(registration("http://10.1.2.3/notify")),
    )
    .await;
    let (seed_refused, seed_said) = admin(
        base,
        &token,
        ns,
        Method::POST,
        "/payments",
        Some(json!({ "paymentRequestId": "FN-1", "notifyUrl": "http://192.168.0.10/n" })),
    )
    .await;
    let (registered, _) = admin(
        base,
        &token,
        ns,
        Method::POST,
        "/clients",
        Some(registration("http://127.0.0.1:9/notify")),
    )
    .await;

    // Assert: only loopback is reachable from a namespace.
    assert_eq!(refused, 400, "{said}");
    assert!(
        said["error"].as_str().unwrap().contains("notify_url"),
        "{said}"
    );
    assert_eq!(seed_refused, 400, "{seed_said}");
    assert!(
        seed_said["error"].as_str().unwrap().contains("notifyUrl"),
        "{seed_said}"
    );
    assert_eq!(registered, 201);
}

async fn rotating_inquiry(base: &str, key: &KeyPair, version: &str) -> String {
    let body = inquiry_body("PR-1");
    let answer = signed(base, INQUIRY, "ROTATING", &key.private_pem, version, &body).await;
    code(&answer).to_owned()
}

#[tokio::test]
async fn a_run_time_client_rotates_its_key_and_survives_a_restart() {
    let mut s = single();
    let token = create_namespace(&s.gateway.base, "rotating", json!({})).await;
    let (old, new) = (keygen(&s.dir, "old"), keygen(&s.dir, "new"));
    let nowhere = "http://127.0.0.1:9/notify";
    register(
        &s.gateway.base,
        &token,
        "rotating",
        "ROTATING",
        &old,
        nowhere,
    )
    .await;
    let base = s.gateway.base.clone();
    let answer = signed(
        &base,
        PUSH,
        "ROTATING",
        &old.private_pem,
        "1",
        &push_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "SUCCESS", "{answer}");

    // Rotation: keyVersion 2 added; both verify. Version 1 cannot be replaced in place; once
    // removed, it verifies nothing.
    let client = As {
        base: &base,
        token: &token,
        namespace: Some("rotating"),
    };
    let change = |body: Value| client.call(Method::PATCH, "/clients/ROTATING", Some(body));
    let (status, changed) = change(json!({ "publicKeys": { "2": new.public_pem } })).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["keyVersions"], json!(["1", "2"]));
    assert_eq!(rotating_inquiry(&base, &new, "2").await, "SUCCESS");
    assert_eq!(rotating_inquiry(&base, &old, "1").await, "SUCCESS");
    let (status, body) = change(json!({ "publicKeys": { "1": new.public_pem } })).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = change(json!({ "removeKeyVersions": ["1"] })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rotating_inquiry(&base, &old, "1").await, "KEY_NOT_FOUND");

    // kill -9 and start again: the namespace, its client (rotated) and its payment are there.
    s.gateway.kill_9();
    // What a gateway killed between deleting a namespace and removing its store left behind
    // goes at the next start; a live namespace's store stays.
    let data = s.dir.join("data");
    for leftover in [
        "gateway.ns-ghost.0123456789.db",
        "gateway.ns-ghost.0123456789.db-wal",
    ] {
        std::fs::write(data.join(leftover), b"").unwrap();
    }
    s.gateway = Gateway::start(&s.config);
    let base = s.gateway.base.clone();
    let answer = signed(
        &base,
        INQUIRY,
        "ROTATING",
        &new.private_pem,
        "2",
        &inquiry_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "SUCCESS", "{answer}");
    assert_eq!(answer["paymentResult"]["resultCode"], "SUCCESS", "{answer}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !namespace_files(&data, "ghost").is_empty() {
        assert!(Instant::now() < deadline, "the leftover store stays");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(namespace_files(&data, "rotating").len(), 3);
    let client = As {
        base: &base,
        token: &token,
        namespace: Some("rotating"),
    };
    let gateway_view = As {
        base: &base,
        token: &token,
        namespace: None,
    };
    let (status, shown) = gateway_view
        .call(Method::GET, "/namespaces/rotating", None)
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["held"]["paymentsAndRiskReports"], 1, "{shown}");

    // Deleting the client: its requests are refused as any unknown client's.
    assert_eq!(
        client
            .status(Method::DELETE, "/clients/ROTATING", None)
            .await,
        200
    );
    assert_eq!(rotating_inquiry(&base, &new, "2").await, "INVALID_CLIENT");
}

#[tokio::test]
async fn deleting_a_namespace_removes_its_store_clients_and_token() {
    let s = single();
    let base = &s.gateway.base;
    let token = create_namespace(base, "gone-soon", json!({})).await;
    let keys = keygen(&s.dir, "gone");
    register(
        base,
        &token,
        "gone-soon",
        "GONE",
        &keys,
        "http://127.0.0.1:9/notify",
    )
    .await;
    let answer = signed(
        base,
        PUSH,
        "GONE",
        &keys.private_pem,
        "1",
        &push_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "SUCCESS", "{answer}");
    let data = s.dir.join("data");
    assert!(!namespace_files(&data, "gone-soon").is_empty());

    // Its own token may delete it.
    let (status, body) = admin(
        base,
        &token,
        None,
        Method::DELETE,
        "/namespaces/gone-soon",
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        namespace_files(&data, "gone-soon").is_empty(),
        "its database files stay"
    );
    // Gone: the admin token learns so; its old token gets what any stranger's token gets.
    let (status, _) = admin(
        base,
        ADMIN_TOKEN,
        Some("gone-soon"),
        Method::GET,
        "/clients",
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = admin(
        base,
        &token,
        Some("gone-soon"),
        Method::GET,
        "/clients",
        None,
    )
    .await;
    assert_eq!(status, 403);
    let answer = signed(
        base,
        PUSH,
        "GONE",
        &keys.private_pem,
        "1",
        &push_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "INVALID_CLIENT", "{answer}");

    // The name is free again, and the client id with it; the new namespace starts empty.
    let token = create_namespace(base, "gone-soon", json!({})).await;
    register(
        base,
        &token,
        "gone-soon",
        "GONE",
        &keys,
        "http://127.0.0.1:9/notify",
    )
    .await;
    let answer = signed(
        base,
        INQUIRY,
        "GONE",
        &keys.private_pem,
        "1",
        &inquiry_body("PR-1"),
    )
    .await;
    assert_eq!(code(&answer), "ORDER_NOT_EXIST", "{answer}");
}
