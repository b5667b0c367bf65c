//! The harness every API test uses: a gateway on `127.0.0.1:0` over real HTTP, a caller that
//! signs like the SDKs with its own RSA code (the `rsa` crate, never the gateway's
//! `signature::sign`), a verifier for the gateway's response signatures, the admin API, and
//! field-rule tables. Tests speak in these domain terms; nobody builds headers by hand.

use std::collections::BTreeMap;

#[path = "../support/postgres_schema.rs"]
mod postgres_schema;
#[path = "../support/skip.rs"]
mod skip;
use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alipay_gateway::app::{self, AppState};
use alipay_gateway::config::{ClientSettings, DEFAULT_TOML, Settings};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use figment::Figment;
use figment::providers::{Format, Toml};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The merchant / ACQP / Alipay+ caller: may call every API, key `TEST-ONLY-merchant`, keyVersion 1.
pub const MERCHANT: &str = "TEST_MERCHANT";
/// A caller whose `endpoints` allow-list holds only inquiryPayment (same key as [`MERCHANT`]).
pub const INQUIRY_ONLY: &str = "TEST_INQUIRY_ONLY";
/// A caller with two key versions: "1" is the `TEST-ONLY-other` key, "2" the merchant key.
pub const ROTATED: &str = "TEST_ROTATED_KEYS";
/// The admin bearer token of every test gateway.
pub const ADMIN_TOKEN: &str = "TEST-ONLY-admin-token";

/// The API paths, as the pages and the SDK constants write them.
pub mod paths {
    /// Antom risk, merchant -> Antom.
    pub const SEND_PAYMENT_RESULT: &str = "/ams/api/v1/risk/payments/sendPaymentResult";
    /// The same API under the sandbox prefix the SDKs rewrite to for `SANDBOX_` clients.
    pub const SEND_PAYMENT_RESULT_SANDBOX: &str =
        "/ams/sandbox/api/v1/risk/payments/sendPaymentResult";
    /// ACQP -> Alipay+.
    pub const NOTIFY_PUSH_PAYMENT: &str = "/aps/api/v1/payments/notifyPushPayment";
    /// Alipay+ -> MPP.
    pub const INQUIRY_PAYMENT: &str = "/aps/api/v1/payments/inquiryPayment";
    /// Antom -> merchant webhook, at the default `server.notify_payment_path`.
    pub const NOTIFY_PAYMENT: &str = "/aps/api/v1/payments/notifyPayment";
}

// ------------------------------------------------------------------------------------------
// Spawning the gateway
// ------------------------------------------------------------------------------------------

/// The store a test gateway runs on. This file is compiled into three test binaries,
/// `api_memory`, `api_sqlite` and `api_postgres` (see Cargo.toml), and the binary's name picks
/// the backend: the suite is the same, the backend a parameter. This is the one place that
/// chooses it.
pub struct TestStore {
    /// The `store.url` the gateway gets.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh, empty store for one test: nothing is shared between tests.
pub async fn test_store() -> TestStore {
    match env!("CARGO_CRATE_NAME") {
        "api_memory" => TestStore {
            url: "memory://".into(),
            _dir: None,
        },
        "api_postgres" => TestStore {
            url: postgres_schema().await,
            _dir: None,
        },
        _ => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            TestStore {
                url: format!("sqlite://{}/gateway.db", dir.path().display()),
                _dir: Some(dir),
            }
        }
    }
}

/// A new schema in the test database and a URL whose connections use it. Without
/// GATEWAY_TEST_POSTGRES_URL the whole `api_postgres` binary is skipped, loudly.
async fn postgres_schema() -> String {
    let Ok(base) = std::env::var("GATEWAY_TEST_POSTGRES_URL") else {
        static SKIP: std::sync::Once = std::sync::Once::new();
        // Written past libtest's output capture, so the skip is visible in any run; the first
        // test to get here ends the binary while the others wait.
        SKIP.call_once(|| {
            skip::skipped(
                "api_postgres",
                "no test ran: set GATEWAY_TEST_POSTGRES_URL \
                 (eval \"$(scripts/test-postgres.sh)\") to run the suite on PostgreSQL",
            );
            std::process::exit(0);
        });
        unreachable!("the skip ends the process");
    };
    postgres_schema::create(&base, "api").await
}

/// Where the TEST-ONLY keys live; `file:` settings resolve against it.
pub fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// A `[[clients]]` entry with keys by version (`file:NAME` or inline text).
pub fn client(
    client_id: &str,
    keys: &[(&str, &str)],
    endpoints: Option<&[&str]>,
) -> ClientSettings {
    ClientSettings {
        client_id: client_id.to_owned(),
        public_keys: keys
            .iter()
            .map(|(v, k)| ((*v).to_owned(), (*k).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        endpoints: endpoints.map(|names| names.iter().map(|n| (*n).to_owned()).collect()),
        notify_url: None,
        rate_limit_per_second: None,
    }
}

/// The settings of a test gateway: the built-in defaults (not the environment, so a stray
/// `GATEWAY_*` variable cannot change a test), the TEST-ONLY keys and the three test clients.
pub fn test_settings() -> Settings {
    let mut settings: Settings = Figment::from(Toml::string(DEFAULT_TOML))
        .extract()
        .expect("the built-in defaults parse");
    settings.server.listen = "127.0.0.1:0".into();
    settings.signing.private_key = "file:TEST-ONLY-gateway-private.pem".into();
    settings.signing.key_version = "1".into();
    settings.admin.token = ADMIN_TOKEN.into();
    settings.clients = vec![
        client(
            MERCHANT,
            &[("1", "file:TEST-ONLY-merchant-public.pem")],
            None,
        ),
        client(
            INQUIRY_ONLY,
            &[("1", "file:TEST-ONLY-merchant-public.pem")],
            Some(&["inquiryPayment"]),
        ),
        client(
            ROTATED,
            &[
                ("1", "file:TEST-ONLY-other-public.pem"),
                ("2", "file:TEST-ONLY-merchant-public.pem"),
            ],
            None,
        ),
    ];
    settings
}

/// A running gateway and an HTTP client for it. Dropping it shuts the server down.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    http: reqwest::Client,
    _shutdown: oneshot::Sender<()>,
    _store: TestStore,
}

/// A gateway with the test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A gateway with the test settings as changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let store = test_store().await;
    let mut settings = test_settings();
    settings.store.url = store.url.clone();
    configure(&mut settings);
    let config = settings
        .validate(&keys_dir())
        .expect("test settings validate");
    let payments = alipay_gateway::store::connect(&config.settings.store)
        .await
        .expect("the test store opens");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(app::serve(
        listener,
        AppState::new(config, payments),
        async move {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    TestApp {
        address,
        http,
        _shutdown: shutdown,
        _store: store,
    }
}

impl TestApp {
    /// A signed POST to `path`, ready to send; its options change one thing about it.
    pub fn post(&self, path: &str, body: impl Into<RawBody>) -> SignedPost<'_> {
        SignedPost {
            app: self,
            method: Method::POST,
            path: path.to_owned(),
            signed_path: None,
            body: body.into().0,
            client_id: Some(MERCHANT.to_owned()),
            key: Key::Merchant,
            key_version: Some("1".to_owned()),
            request_time: Some(now_epoch_millis()),
            content_type: Some("application/json; charset=UTF-8".to_owned()),
            encoding: Encoding::UpperHex,
            spaced: false,
            signature: SignatureChoice::Computed,
            tamper: None,
            extra: Vec::new(),
        }
    }

    /// Sends `body` to `path` the way the SDKs do: client [`MERCHANT`], keyVersion 1, epoch
    /// millis Request-Time, upper-case percent-encoding.
    pub async fn post_signed(&self, path: &str, body: impl Into<RawBody>) -> Reply {
        self.post(path, body).send().await
    }

    /// The admin API with the right token; `.without_token()` / `.with_token(..)` change it.
    pub fn admin(&self) -> Admin<'_> {
        Admin {
            app: self,
            token: Some(ADMIN_TOKEN.to_owned()),
        }
    }

    /// Seeds a payment through the admin API and insists it was created (an Arrange step).
    pub async fn seed_payment(&self, payment: Value) -> Value {
        let reply = self.admin().seed_payment(payment).await;
        assert_eq!(reply.status, 201, "seeding failed: {reply:?}");
        reply.json
    }
}

// ------------------------------------------------------------------------------------------
// The independent signer
// ------------------------------------------------------------------------------------------

/// The private keys a test caller can sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `TEST-ONLY-merchant`: registered for [`MERCHANT`], [`INQUIRY_ONLY`] and [`ROTATED`] v2.
    Merchant,
    /// `TEST-ONLY-other`: registered only as [`ROTATED`] v1.
    Other,
}

impl Key {
    fn signing_key(self) -> &'static SigningKey<Sha256> {
        static MERCHANT_KEY: OnceLock<SigningKey<Sha256>> = OnceLock::new();
        static OTHER_KEY: OnceLock<SigningKey<Sha256>> = OnceLock::new();
        let (cell, file) = match self {
            Key::Merchant => (&MERCHANT_KEY, "TEST-ONLY-merchant-private.pem"),
            Key::Other => (&OTHER_KEY, "TEST-ONLY-other-private.pem"),
        };
        cell.get_or_init(|| {
            let pem = std::fs::read_to_string(keys_dir().join(file)).expect("test key readable");
            SigningKey::new(RsaPrivateKey::from_pkcs8_pem(&pem).expect("test key is PKCS#8 PEM"))
        })
    }
}

fn gateway_verifying_key() -> &'static VerifyingKey<Sha256> {
    static KEY: OnceLock<VerifyingKey<Sha256>> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = std::fs::read_to_string(keys_dir().join("TEST-ONLY-gateway-public.pem"))
            .expect("gateway key readable");
        VerifyingKey::new(RsaPublicKey::from_public_key_pem(&pem).expect("gateway key is SPKI PEM"))
    })
}

/// Why `header` (`algorithm=RSA256,keyVersion=N,signature=<url-encoded base64>`, the form the
/// Java SDK splits) is not the gateway's signature over `POST <path>\n<client-id>.<time>.<body>`,
/// checked with the `rsa` crate and TEST-ONLY-gateway-public.pem; `None` when it is.
pub fn gateway_signature_problem(
    path: &str,
    client_id: &str,
    time: &str,
    header: &str,
    body: &[u8],
) -> Option<String> {
    let parts: Vec<&str> = header.split(',').collect();
    let [algorithm, version, signature] = parts[..] else {
        return Some(format!(
            "signature header {header:?} is not three comma-separated parts"
        ));
    };
    if algorithm != "algorithm=RSA256" || !version.starts_with("keyVersion=") {
        return Some(format!(
            "signature header {header:?} is not algorithm=RSA256,keyVersion=N,..."
        ));
    }
    let Some(("signature", encoded)) = signature.split_once('=') else {
        return Some(format!(
            "signature part {signature:?} is not signature=<value>"
        ));
    };
    if encoded.is_empty() || encoded.contains(['=', '+', '/']) {
        return Some(format!(
            "signature value {encoded:?} is empty or not URL-encoded"
        ));
    }
    let Ok(decoded) = percent_decode_str(encoded).decode_utf8() else {
        return Some("signature value does not percent-decode".into());
    };
    let Ok(bytes) = STANDARD.decode(decoded.as_bytes()) else {
        return Some("signature value is not standard base64".into());
    };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else {
        return Some("signature value is not an RSA signature".into());
    };
    let content = content_to_sign(path, client_id, time, body);
    match gateway_verifying_key().verify(&content, &signature) {
        Ok(()) => None,
        Err(_) => Some("the signature does not verify with TEST-ONLY-gateway-public.pem".into()),
    }
}

/// `POST <path>\n<client-id>.<time>.<body>`, byte for byte.
pub fn content_to_sign(path: &str, client_id: &str, time: &str, body: &[u8]) -> Vec<u8> {
    [format!("POST {path}\n{client_id}.{time}.").as_bytes(), body].concat()
}

/// Standard base64 of an RSA-SHA256 PKCS#1 v1.5 signature.
pub fn sign_base64(key: Key, content: &[u8]) -> String {
    let signature: Signature = key.signing_key().sign(content);
    STANDARD.encode(signature.to_bytes())
}

/// What Java's `URLEncoder` and Python's `quote_plus` leave alone.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'*');

/// How the signature value travels in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `%2B %2F %3D`: Java, Python, Go, PHP.
    UpperHex,
    /// `%2b %2f %3d`: .NET's `HttpUtility.UrlEncode`.
    LowerHex,
    /// Plain base64, not URL-encoded (the PHP SDK accepts it).
    Raw,
}

/// URL-encodes a base64 signature the way the named SDK family does.
pub fn encode_signature(signature_b64: &str, encoding: Encoding) -> String {
    let upper = utf8_percent_encode(signature_b64, FORM).to_string();
    match encoding {
        Encoding::UpperHex => upper,
        Encoding::LowerHex => upper
            .replace("%2B", "%2b")
            .replace("%2F", "%2f")
            .replace("%3D", "%3d"),
        Encoding::Raw => signature_b64.to_owned(),
    }
}

/// Current time as epoch milliseconds, the Java and Go SDK Request-Time.
pub fn now_epoch_millis() -> String {
    chrono::Utc::now().timestamp_millis().to_string()
}

/// Current time as ISO 8601 with offset, the Python SDK Request-Time.
pub fn now_iso8601() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

/// A request body, kept as exact bytes.
pub struct RawBody(Vec<u8>);

impl From<Value> for RawBody {
    fn from(v: Value) -> Self {
        RawBody(serde_json::to_vec(&v).expect("JSON serialises"))
    }
}

impl From<&Value> for RawBody {
    fn from(v: &Value) -> Self {
        RawBody(serde_json::to_vec(v).expect("JSON serialises"))
    }
}

impl From<&str> for RawBody {
    fn from(s: &str) -> Self {
        RawBody(s.as_bytes().to_vec())
    }
}

impl From<String> for RawBody {
    fn from(s: String) -> Self {
        RawBody(s.into_bytes())
    }
}

enum SignatureChoice {
    Computed,
    Missing,
    Exactly(String),
}

type Tamper = Box<dyn FnOnce(String) -> String>;

/// A request as it goes on the wire.
struct Prepared {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
    client_id: Option<String>,
}

/// A signed request being put together; each option changes one thing the SDKs would do.
pub struct SignedPost<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    signed_path: Option<String>,
    body: Vec<u8>,
    client_id: Option<String>,
    key: Key,
    key_version: Option<String>,
    request_time: Option<String>,
    content_type: Option<String>,
    encoding: Encoding,
    spaced: bool,
    signature: SignatureChoice,
    tamper: Option<Tamper>,
    extra: Vec<(String, String)>,
}

impl SignedPost<'_> {
    /// Adds a header the signature does not cover (`Gateway-Scenario`, padding).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Calls as another Client-Id.
    pub fn sent_by(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    /// Sends no Client-Id header.
    pub fn without_client_id(mut self) -> Self {
        self.client_id = None;
        self
    }

    /// Signs with another private key.
    pub fn signed_with(mut self, key: Key) -> Self {
        self.key = key;
        self
    }

    /// Names this keyVersion in the Signature header.
    pub fn key_version(mut self, version: &str) -> Self {
        self.key_version = Some(version.to_owned());
        self
    }

    /// Leaves keyVersion out of the Signature header.
    pub fn without_key_version(mut self) -> Self {
        self.key_version = None;
        self
    }

    /// Sends (and signs) this Request-Time.
    pub fn request_time(mut self, time: &str) -> Self {
        self.request_time = Some(time.to_owned());
        self
    }

    /// Sends no Request-Time header (signing over an empty time).
    pub fn without_request_time(mut self) -> Self {
        self.request_time = None;
        self
    }

    /// Sends this Content-Type.
    pub fn content_type(mut self, content_type: &str) -> Self {
        self.content_type = Some(content_type.to_owned());
        self
    }

    /// Sends no Content-Type header.
    pub fn without_content_type(mut self) -> Self {
        self.content_type = None;
        self
    }

    /// Percent-encodes the signature with lower-case hex, as .NET does.
    pub fn lower_case_percent_encoding(mut self) -> Self {
        self.encoding = Encoding::LowerHex;
        self
    }

    /// Sends the signature as raw base64, not URL-encoded.
    pub fn raw_base64_signature(mut self) -> Self {
        self.encoding = Encoding::Raw;
        self
    }

    /// Writes the header as the docs print it: `algorithm=RSA256, keyVersion=1, signature=...`.
    pub fn spaced_signature_header(mut self) -> Self {
        self.spaced = true;
        self
    }

    /// Signs over `path` but sends the request to the path given to `post`.
    pub fn signed_over_path(mut self, path: &str) -> Self {
        self.signed_path = Some(path.to_owned());
        self
    }

    /// Changes the body after it was signed.
    pub fn tampered_after_signing(
        mut self,
        change: impl FnOnce(String) -> String + 'static,
    ) -> Self {
        self.tamper = Some(Box::new(change));
        self
    }

    /// Sends no Signature header.
    pub fn without_signature(mut self) -> Self {
        self.signature = SignatureChoice::Missing;
        self
    }

    /// Sends exactly this Signature header value.
    pub fn signature_header(mut self, value: &str) -> Self {
        self.signature = SignatureChoice::Exactly(value.to_owned());
        self
    }

    /// Uses another HTTP method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The headers and the body that go on the wire.
    fn prepare(self) -> Prepared {
        let client_id = self.client_id.clone().unwrap_or_default();
        let time = self.request_time.clone().unwrap_or_default();
        let signed_path = self.signed_path.as_deref().unwrap_or(&self.path);
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("header value"),
            );
        };
        if let Some(id) = &self.client_id {
            put("client-id", id);
        }
        if let Some(t) = &self.request_time {
            put("request-time", t);
        }
        if let Some(ct) = &self.content_type {
            put("content-type", ct);
        }
        match &self.signature {
            SignatureChoice::Computed => {
                let signature = sign_base64(
                    self.key,
                    &content_to_sign(signed_path, &client_id, &time, &self.body),
                );
                let encoded = encode_signature(&signature, self.encoding);
                let separator = if self.spaced { ", " } else { "," };
                let value = match &self.key_version {
                    Some(v) => format!(
                        "algorithm=RSA256{separator}keyVersion={v}{separator}signature={encoded}"
                    ),
                    None => format!("algorithm=RSA256{separator}signature={encoded}"),
                };
                put("signature", &value);
            }
            SignatureChoice::Exactly(value) => put("signature", value),
            SignatureChoice::Missing => {}
        }
        for (name, value) in &self.extra {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        let body = match self.tamper {
            Some(change) => {
                change(String::from_utf8(self.body).expect("tampered bodies are text")).into_bytes()
            }
            None => self.body,
        };
        Prepared {
            method: self.method,
            path: self.path,
            headers,
            body,
            client_id: self.client_id,
        }
    }

    /// Sends the request over HTTP and reads the answer.
    pub async fn send(self) -> Reply {
        let app = self.app;
        let Prepared {
            method,
            path,
            headers,
            body,
            client_id,
        } = self.prepare();
        let response = app
            .http
            .request(method, format!("{}{path}", app.address))
            .headers(headers)
            .body(body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("a text body");
        Reply::new(status, headers, body, path, client_id)
    }

    /// Sends the request with `Transfer-Encoding: chunked` and no Content-Length, so only
    /// reading the body can tell its size. Raw HTTP/1.1: reqwest always declares the length.
    pub async fn send_chunked(self) -> Reply {
        let address = self.app.address.trim_start_matches("http://").to_owned();
        let Prepared {
            method,
            path,
            headers,
            body,
            client_id,
        } = self.prepare();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ntransfer-encoding: chunked\r\n"
        );
        for (name, value) in &headers {
            request.push_str(&format!(
                "{name}: {}\r\n",
                value.to_str().expect("ASCII header")
            ));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        for chunk in body.chunks(256) {
            bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            bytes.extend_from_slice(chunk);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"0\r\n\r\n");
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        // One write: the whole request is in the server's buffer before it answers.
        stream.write_all(&bytes).await.expect("write the request");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let (status, headers, body) = parse_http_response(&raw);
        Reply::new(status, headers, body, path, client_id)
    }
}

fn parse_http_response(raw: &[u8]) -> (u16, HeaderMap, String) {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n").expect("an HTTP response head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.append(
                HeaderName::from_bytes(name.trim().as_bytes()).expect("header name"),
                HeaderValue::from_str(value.trim()).expect("header value"),
            );
        }
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(rest.len());
    (status, headers, rest[..length.min(rest.len())].to_owned())
}

// ------------------------------------------------------------------------------------------
// The answer
// ------------------------------------------------------------------------------------------

/// The gateway's answer to one call.
pub struct Reply {
    /// The HTTP status (200 for every Alipay+ outcome).
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as received.
    pub body: String,
    /// The body parsed (`Null` when it is not JSON).
    pub json: Value,
    path: String,
    client_id: Option<String>,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

impl Reply {
    fn new(
        status: u16,
        headers: HeaderMap,
        body: String,
        path: String,
        client_id: Option<String>,
    ) -> Self {
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            json,
            path,
            client_id,
        }
    }

    /// `result.resultCode`.
    pub fn result_code(&self) -> &str {
        self.json["result"]["resultCode"]
            .as_str()
            .unwrap_or_default()
    }

    /// `result.resultStatus`.
    pub fn result_status(&self) -> &str {
        self.json["result"]["resultStatus"]
            .as_str()
            .unwrap_or_default()
    }

    /// `result.resultMessage`.
    pub fn message(&self) -> &str {
        self.json["result"]["resultMessage"]
            .as_str()
            .unwrap_or_default()
    }

    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the answer carries a gateway signature that verifies over
    /// `POST <request path>\n<client-id>.<response-time>.<body>`, in the header form the Java SDK
    /// splits (`algorithm=RSA256,keyVersion=N,signature=<url-encoded>`), with the caller's
    /// Client-Id echoed.
    pub fn is_signed_by_gateway(&self) -> bool {
        self.gateway_signature_problem().is_none()
    }

    /// Why the answer does not carry a valid gateway signature, if it does not.
    pub fn gateway_signature_problem(&self) -> Option<String> {
        let Some(client_id) = self.header("client-id") else {
            return Some("no client-id header".into());
        };
        if Some(client_id) != self.client_id.as_deref() {
            return Some(format!(
                "client-id {client_id:?} is not the caller's {:?}",
                self.client_id
            ));
        }
        let Some(time) = self.header("response-time").filter(|t| !t.is_empty()) else {
            return Some("no response-time".into());
        };
        let Some(header) = self.header("signature") else {
            return Some("no signature header".into());
        };
        gateway_signature_problem(&self.path, client_id, time, header, self.body.as_bytes())
    }

    /// Whether the answer is deliberately unsigned the way the SDKs accept for F answers:
    /// `signature: algorithm=RSA256,keyVersion=1,signature=` and an empty `response-time`.
    pub fn is_deliberately_unsigned(&self) -> bool {
        self.header("signature") == Some("algorithm=RSA256,keyVersion=1,signature=")
            && self.header("response-time") == Some("")
    }

    /// Asserts an HTTP 200, signed F / PARAM_ILLEGAL whose message starts with `expected`.
    #[track_caller]
    pub fn assert_param_illegal(&self, expected: &str) {
        if let Some(problem) = self.param_illegal_problem(expected) {
            panic!("{problem}");
        }
    }

    fn param_illegal_problem(&self, expected: &str) -> Option<String> {
        if self.status != 200
            || self.result_code() != "PARAM_ILLEGAL"
            || self.result_status() != "F"
        {
            return Some(format!(
                "expected 200 F/PARAM_ILLEGAL {expected:?}, got {} {}",
                self.status, self.body
            ));
        }
        if !self.message().starts_with(expected) {
            return Some(format!(
                "expected a message starting {expected:?}, got {:?}",
                self.message()
            ));
        }
        self.gateway_signature_problem()
            .map(|p| format!("PARAM_ILLEGAL {expected:?} is not signed: {p}"))
    }
}

// ------------------------------------------------------------------------------------------
// The admin API
// ------------------------------------------------------------------------------------------

/// Calls to `/admin` with a chosen token.
pub struct Admin<'a> {
    app: &'a TestApp,
    token: Option<String>,
}

/// An admin answer: a real HTTP status and JSON.
#[derive(Debug)]
pub struct AdminReply {
    /// HTTP status.
    pub status: u16,
    /// The body parsed (`Null` when it is not JSON).
    pub json: Value,
}

impl AdminReply {
    /// The `error` message of a failed call.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or_default()
    }
}

impl Admin<'_> {
    /// Sends no Authorization header.
    pub fn without_token(mut self) -> Self {
        self.token = None;
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// `POST /admin/payments`.
    pub async fn seed_payment(&self, payment: impl Into<RawBody>) -> AdminReply {
        self.call(Method::POST, "/admin/payments", Some(payment.into().0))
            .await
    }

    /// `GET /admin/payments/{paymentRequestId}`.
    pub async fn read_payment(&self, payment_request_id: &str) -> AdminReply {
        self.call(
            Method::GET,
            &format!("/admin/payments/{payment_request_id}"),
            None,
        )
        .await
    }

    /// `POST /admin/payments/{paymentRequestId}/complete`: the payment succeeds.
    pub async fn complete_payment(
        &self,
        payment_request_id: &str,
        completion: Value,
    ) -> AdminReply {
        let path = format!("/admin/payments/{payment_request_id}/complete");
        self.call(Method::POST, &path, Some(RawBody::from(completion).0))
            .await
    }

    /// `POST /admin/payments/{paymentRequestId}/fail`: the payment fails.
    pub async fn fail_payment(&self, payment_request_id: &str, failure: Value) -> AdminReply {
        let path = format!("/admin/payments/{payment_request_id}/fail");
        self.call(Method::POST, &path, Some(RawBody::from(failure).0))
            .await
    }

    /// `GET /admin/payments/{paymentRequestId}/notifications`.
    pub async fn notifications(&self, payment_request_id: &str) -> AdminReply {
        let path = format!("/admin/payments/{payment_request_id}/notifications");
        self.call(Method::GET, &path, None).await
    }

    /// `GET /admin/journal?endpoint=...`: the API's entries, newest first.
    pub async fn journal_entries(&self, endpoint: &str) -> Vec<Value> {
        let path = format!("/admin/journal?endpoint={endpoint}");
        let reply = self.call(Method::GET, &path, None).await;
        assert_eq!(reply.status, 200, "listing the journal: {reply:?}");
        reply.json.as_array().cloned().unwrap_or_default()
    }

    /// `POST /admin/notifications/{id}/redeliver`.
    pub async fn redeliver(&self, notification_id: &str) -> AdminReply {
        let path = format!("/admin/notifications/{notification_id}/redeliver");
        self.call(Method::POST, &path, None).await
    }

    /// `POST /admin/notifications/{id}/cancel`.
    pub async fn cancel(&self, notification_id: &str) -> AdminReply {
        let path = format!("/admin/notifications/{notification_id}/cancel");
        self.call(Method::POST, &path, None).await
    }

    /// `POST /admin/clock/advance` with `{"by": by}`, e.g. `"2m"` or `"1d"`.
    pub async fn advance_clock(&self, by: &str) -> AdminReply {
        let body = serde_json::json!({ "by": by });
        self.call(
            Method::POST,
            "/admin/clock/advance",
            Some(RawBody::from(body).0),
        )
        .await
    }

    /// `POST /admin/clock/advance` with `{"seconds": seconds}`.
    pub async fn advance_clock_seconds(&self, seconds: u64) -> AdminReply {
        let body = serde_json::json!({ "seconds": seconds });
        self.call(
            Method::POST,
            "/admin/clock/advance",
            Some(RawBody::from(body).0),
        )
        .await
    }

    /// `GET /admin/received-notifications?paymentRequestId=...`: what the gateway's own webhook
    /// got, newest first.
    pub async fn received_notifications(&self, payment_request_id: &str) -> AdminReply {
        let id = utf8_percent_encode(payment_request_id, FORM);
        let path = format!("/admin/received-notifications?paymentRequestId={id}");
        self.call(Method::GET, &path, None).await
    }

    /// `POST /admin/receiver/fail-next` with this body, e.g.
    /// `{"count": 2, "resultStatus": "F", "resultCode": "PROCESS_FAIL"}`.
    pub async fn receiver_fail_next(&self, script: Value) -> AdminReply {
        self.call(
            Method::POST,
            "/admin/receiver/fail-next",
            Some(RawBody::from(script).0),
        )
        .await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> AdminReply {
        let mut request = self
            .app
            .http
            .request(method, format!("{}{path}", self.app.address));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a text body");
        AdminReply {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Bodies and field rules
// ------------------------------------------------------------------------------------------

/// A fresh id, unique in the test binary, so passing cases never collide in the store.
pub fn unique_id(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A unique string of exactly `chars` characters, padded with `fill`.
pub fn exactly(chars: usize, fill: char) -> String {
    let id = unique_id("");
    let id: String = id
        .chars()
        .rev()
        .take(chars)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let mut s: String = std::iter::repeat_n(fill, chars - id.chars().count()).collect();
    s.push_str(&id);
    s
}

/// `body` with the member at JSON pointer `pointer` set to `value` (parents created).
pub fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let mut at = &mut body;
    let names: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for name in &names[..names.len() - 1] {
        if !at[*name].is_object() {
            at[*name] = Value::Object(Default::default());
        }
        at = &mut at[*name];
    }
    at[names[names.len() - 1]] = value;
    body
}

/// `body` without the member at JSON pointer `pointer`.
pub fn without(mut body: Value, pointer: &str) -> Value {
    let (parent, name) = pointer.rsplit_once('/').expect("a JSON pointer");
    if let Some(Value::Object(map)) = body.pointer_mut(parent) {
        map.remove(name);
    }
    body
}

/// The dotted name the gateway uses in messages for a JSON pointer.
pub fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// A field rule of a page, as one row of a table.
#[derive(Debug, Clone, Copy)]
pub enum FieldRule {
    /// A required String of at most `max` characters.
    RequiredText(&'static str, usize),
    /// An optional String of at most `max` characters.
    OptionalText(&'static str, usize),
    /// An optional Datetime.
    OptionalDatetime(&'static str),
    /// A required Amount.
    RequiredAmount(&'static str),
    /// An optional Amount.
    OptionalAmount(&'static str),
}

/// One request a field rule implies and what it must answer.
pub struct FieldCase {
    /// What the case does, for failure messages.
    pub what: String,
    /// The edit: the pointer and the new value (`None` removes the member).
    pub edit: (String, Option<Value>),
    /// `Some(prefix)`: PARAM_ILLEGAL with a message starting so; `None`: accepted.
    pub rejected_with: Option<String>,
}

fn case(
    what: impl Into<String>,
    pointer: &str,
    value: Option<Value>,
    rejected_with: Option<String>,
) -> FieldCase {
    FieldCase {
        what: what.into(),
        edit: (pointer.to_owned(), value),
        rejected_with,
    }
}

impl FieldRule {
    fn pointer(self) -> &'static str {
        match self {
            FieldRule::RequiredText(p, _)
            | FieldRule::OptionalText(p, _)
            | FieldRule::OptionalDatetime(p)
            | FieldRule::RequiredAmount(p)
            | FieldRule::OptionalAmount(p) => p,
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            FieldRule::RequiredText(..) | FieldRule::RequiredAmount(_)
        )
    }

    /// Every request this rule implies: presence, `""`, `null`, wrong JSON types, lengths,
    /// formats, and the values that must pass.
    pub fn cases(self) -> Vec<FieldCase> {
        use serde_json::json;
        let p = self.pointer();
        let name = dotted(p);
        let reject = |rule: &str| Some(format!("{name}: {rule}"));
        let mut cases = if self.required() {
            vec![
                case("missing", p, None, reject("required")),
                case("null", p, Some(Value::Null), reject("required")),
            ]
        } else {
            vec![
                case("missing", p, None, None),
                case("null (absent)", p, Some(Value::Null), None),
            ]
        };
        match self {
            FieldRule::RequiredText(_, max) | FieldRule::OptionalText(_, max) => {
                let empty = if self.required() {
                    "must not be empty"
                } else {
                    "must not be an empty string (omit it or send null)"
                };
                cases.extend([
                    case("\"\"", p, Some(json!("")), reject(empty)),
                    case(
                        "a number",
                        p,
                        Some(json!(12)),
                        reject("must be a string, not a number"),
                    ),
                    case(
                        "a boolean",
                        p,
                        Some(json!(true)),
                        reject("must be a string, not a boolean"),
                    ),
                    case(
                        "an object",
                        p,
                        Some(json!({"a": "b"})),
                        reject("must be a string, not an object"),
                    ),
                    case(
                        format!("{max} characters"),
                        p,
                        Some(json!(exactly(max, 'x'))),
                        None,
                    ),
                    case(
                        format!("{max} two-byte characters"),
                        p,
                        Some(json!(exactly(max, 'é'))),
                        None,
                    ),
                    case(
                        format!("{} characters", max + 1),
                        p,
                        Some(json!(exactly(max + 1, 'x'))),
                        reject(&format!("longer than {max} characters")),
                    ),
                ]);
            }
            FieldRule::OptionalDatetime(_) => {
                let malformed = "must be an ISO 8601 date-time with offset";
                for bad in [
                    "2020-01-01 12:01:01+08:00",
                    "2020-01-01T12:01:01",
                    "2020-01-01",
                    "1685599933871",
                    "2020-13-01T12:01:01+08:00",
                    "yesterday",
                ] {
                    cases.push(case(
                        format!("{bad:?}"),
                        p,
                        Some(json!(bad)),
                        reject(malformed),
                    ));
                }
                cases.push(case(
                    "a number",
                    p,
                    Some(json!(1685599933871u64)),
                    reject("must be a string, not a number"),
                ));
                for good in [
                    "2020-01-01T12:01:01+08:30",
                    "2020-03-02T19:11:19-08:00",
                    "2025-02-20T08:51:49.09Z",
                ] {
                    cases.push(case(format!("{good:?}"), p, Some(json!(good)), None));
                }
                cases.push(case(
                    "\"\"",
                    p,
                    Some(json!("")),
                    reject("must not be an empty string"),
                ));
            }
            FieldRule::RequiredAmount(_) | FieldRule::OptionalAmount(_) => {
                let currency = format!("{p}/currency");
                let value = format!("{p}/value");
                cases.extend([
                    case(
                        "not an object",
                        p,
                        Some(json!("100")),
                        reject("must be an Amount object with currency and value"),
                    ),
                    case(
                        "no currency",
                        &currency,
                        None,
                        Some(format!("{name}.currency: required")),
                    ),
                    case(
                        "currency XYZ",
                        &currency,
                        Some(json!("XYZ")),
                        Some(format!("{name}.currency: not an ISO 4217 currency code")),
                    ),
                    case(
                        "currency usd",
                        &currency,
                        Some(json!("usd")),
                        Some(format!("{name}.currency: not an ISO 4217 currency code")),
                    ),
                    case(
                        "currency USDX",
                        &currency,
                        Some(json!("USDX")),
                        Some(format!("{name}.currency: longer than 3 characters")),
                    ),
                    case(
                        "currency XAU",
                        &currency,
                        Some(json!("XAU")),
                        Some(format!(
                            "{name}.currency: currency XAU has no ISO 4217 minor unit"
                        )),
                    ),
                    case(
                        "no value",
                        &value,
                        None,
                        Some(format!("{name}.value: required")),
                    ),
                    case(
                        "value \"\"",
                        &value,
                        Some(json!("")),
                        Some(format!("{name}.value: must not be empty")),
                    ),
                    case(
                        "value 1.00",
                        &value,
                        Some(json!("1.00")),
                        Some(format!(
                            "{name}.value: must be digits only (the amount in minor units)"
                        )),
                    ),
                    case(
                        "value -1",
                        &value,
                        Some(json!("-1")),
                        Some(format!("{name}.value: must be digits only")),
                    ),
                    case(
                        "value 1e3",
                        &value,
                        Some(json!("1e3")),
                        Some(format!("{name}.value: must be digits only")),
                    ),
                    case(
                        "value as a number",
                        &value,
                        Some(json!(100)),
                        Some(format!("{name}.value: must be a string, not a number")),
                    ),
                    case(
                        "KWD 1.000",
                        p,
                        Some(json!({"currency": "KWD", "value": "1000"})),
                        None,
                    ),
                    case(
                        "JPY 0",
                        p,
                        Some(json!({"currency": "JPY", "value": "0"})),
                        None,
                    ),
                ]);
            }
        }
        cases
    }
}

impl TestApp {
    /// Sends every case of every rule to `path`, each on a fresh body from `valid_body`, and
    /// checks each answer: rejected cases PARAM_ILLEGAL naming the field and rule, accepted
    /// ones `accepted_code`. Reports every mismatch at once.
    pub async fn check_field_rules(
        &self,
        path: &str,
        valid_body: impl Fn() -> Value,
        rules: &[FieldRule],
        accepted_code: &str,
    ) {
        let mut failures = Vec::new();
        for rule in rules {
            for case in rule.cases() {
                let (pointer, value) = &case.edit;
                let body = match value {
                    Some(v) => with(valid_body(), pointer, v.clone()),
                    None => without(valid_body(), pointer),
                };
                let reply = self.post_signed(path, &body).await;
                let problem = match &case.rejected_with {
                    Some(expected) => reply.param_illegal_problem(expected),
                    None if reply.result_code() != accepted_code => {
                        Some(format!("expected {accepted_code}, got {}", reply.body))
                    }
                    None => reply.gateway_signature_problem(),
                };
                if let Some(problem) = problem {
                    failures.push(format!("{} = {}: {problem}", dotted(pointer), case.what));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} field-rule cases failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

// ------------------------------------------------------------------------------------------
// Notifications the gateway sends, and the merchant webhook that gets them
// ------------------------------------------------------------------------------------------

/// A merchant whose registered public key is the gateway's own (`TEST-ONLY-gateway-public`):
/// a notification the gateway sends to its own receiver on this merchant's behalf verifies there.
pub const GATEWAY_AS_MERCHANT: &str = "TEST_GATEWAY_AS_MERCHANT";

/// The `[[clients]]` entry of [`GATEWAY_AS_MERCHANT`].
pub fn gateway_as_merchant() -> ClientSettings {
    client(
        GATEWAY_AS_MERCHANT,
        &[("1", "file:TEST-ONLY-gateway-public.pem")],
        None,
    )
}

/// How long a test waits for the sender before it gives up: far above any schedule a test
/// runs, far below the harness's patience.
pub const NOTIFY_DEADLINE: Duration = Duration::from_secs(8);

impl TestApp {
    /// The payment's notifications, as `GET /admin/payments/{id}/notifications` lists them.
    pub async fn notifications_of(&self, payment_request_id: &str) -> Vec<Value> {
        let reply = self.admin().notifications(payment_request_id).await;
        assert_eq!(reply.status, 200, "listing notifications: {reply:?}");
        reply.json.as_array().cloned().unwrap_or_default()
    }

    /// The payment's one notification.
    pub async fn notification_of(&self, payment_request_id: &str) -> Value {
        let mut all = self.notifications_of(payment_request_id).await;
        assert_eq!(
            all.len(),
            1,
            "{payment_request_id} should have exactly one notification: {all:?}"
        );
        all.remove(0)
    }

    /// Polls the payment's one notification until `done` holds; panics with the last state
    /// after [`NOTIFY_DEADLINE`].
    pub async fn wait_for_notification(
        &self,
        payment_request_id: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + NOTIFY_DEADLINE;
        loop {
            let all = self.notifications_of(payment_request_id).await;
            if let [only] = &all[..]
                && done(only)
            {
                return only.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{payment_request_id}: still not {what} after {NOTIFY_DEADLINE:?}: {all:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the payment's notification has this status (DELIVERED, EXHAUSTED, ...).
    pub async fn notification_becomes(&self, payment_request_id: &str, status: &str) -> Value {
        self.wait_for_notification(payment_request_id, status, |n| n["status"] == status)
            .await
    }

    /// Waits until the payment's notification has made (and recorded) at least `attempts`
    /// attempts: a fast schedule may be further along by the time the admin API is asked.
    pub async fn notification_has_made(&self, payment_request_id: &str, attempts: u64) -> Value {
        let what = format!("{attempts} attempts made");
        self.wait_for_notification(payment_request_id, &what, |n| {
            n["attemptsMade"]
                .as_u64()
                .is_some_and(|made| made >= attempts)
                && n["attempts"]
                    .as_array()
                    .is_some_and(|a| a.len() as u64 >= attempts)
        })
        .await
    }
}

/// How the test merchant answers one notification.
#[derive(Debug, Clone)]
pub enum Answer {
    /// HTTP 200 `{"result":{"resultCode":"SUCCESS","resultStatus":"S",...}}`: delivered.
    Success,
    /// The same S answer, signed with this key over `POST <path>\n<client-id>.<response-time>.<body>`.
    SuccessSignedWith(Key),
    /// HTTP 200 with `resultStatus` F and this code.
    Fail(&'static str),
    /// HTTP 200 with U / UNKNOWN_EXCEPTION: what the Java SDK answers to ask for a retry.
    Unknown,
    /// This HTTP status, with an S body: the status alone must fail it.
    HttpStatus(u16),
    /// HTTP 200 with a body that is not JSON.
    MalformedJson,
    /// This answer, but only after this long.
    After(Duration, Box<Answer>),
    /// Reads the request, then closes the connection without a word.
    HangUp,
    /// `302 Found` to this URL.
    RedirectTo(String),
}

impl Answer {
    /// The same answer, given only after `delay`: longer than `notify.timeout_ms` is no answer.
    pub fn after(self, delay: Duration) -> Answer {
        Answer::After(delay, Box::new(self))
    }
}

/// One request the test merchant got, as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// When it arrived (the whole request read), for spacing.
    pub arrived: std::time::Instant,
    /// The same moment as epoch milliseconds, to compare with the gateway's recorded due times.
    pub arrived_ms: i64,
    /// `POST`, we hope.
    pub method: String,
    /// The request path.
    pub path: String,
    headers: Vec<(String, String)>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

impl Delivery {
    /// A request header (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `notification-id` header.
    pub fn notification_id(&self) -> &str {
        self.header("notification-id").unwrap_or_default()
    }

    /// The body parsed (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Why the request does not carry the gateway's signature over
    /// `POST <path>\n<client-id>.<request-time>.<body>`, if it does not.
    pub fn gateway_signature_problem(&self) -> Option<String> {
        self.signature_problem_over(&self.path)
    }

    /// The same check, as if the request had been signed over `path`.
    pub fn signature_problem_over(&self, path: &str) -> Option<String> {
        let (Some(client_id), Some(time), Some(signature)) = (
            self.header("client-id"),
            self.header("request-time").filter(|t| !t.is_empty()),
            self.header("signature"),
        ) else {
            return Some(format!(
                "client-id, request-time or signature missing: {:?}",
                self.headers
            ));
        };
        gateway_signature_problem(path, client_id, time, signature, &self.body)
    }
}

/// Which answer the `n`th request (0-based) gets.
type AnswerRule = dyn Fn(usize) -> Answer + Send + Sync;

struct Webhook {
    deliveries: Vec<Delivery>,
    rule: std::sync::Arc<AnswerRule>,
}

/// A merchant's notification webhook in the test process, on a real socket: it records every
/// request exactly as it came and answers each from a script. One request per connection.
pub struct TestReceiver {
    address: std::net::SocketAddr,
    webhook: std::sync::Arc<std::sync::Mutex<Webhook>>,
    server: tokio::task::JoinHandle<()>,
}

/// The path the test merchant listens on.
pub const MERCHANT_NOTIFY_PATH: &str = "/merchant/alipay/notify";

impl TestReceiver {
    /// A webhook on `127.0.0.1:0` that answers S to everything until told otherwise.
    pub async fn start() -> TestReceiver {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let webhook = std::sync::Arc::new(std::sync::Mutex::new(Webhook {
            deliveries: Vec::new(),
            rule: std::sync::Arc::new(|_| Answer::Success),
        }));
        let shared = webhook.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer_one(stream, shared.clone()));
            }
        });
        TestReceiver {
            address,
            webhook,
            server,
        }
    }

    /// The notify URL to give the gateway.
    pub fn url(&self) -> String {
        format!("http://{}{MERCHANT_NOTIFY_PATH}", self.address)
    }

    /// From now on, answers every request with `answer`.
    pub fn answer_always(&self, answer: Answer) {
        self.set_rule(move |_| answer.clone());
    }

    /// Answers the next requests with `answers`, one each in order, and the rest with `then`.
    pub fn answer_in_turn(&self, answers: impl IntoIterator<Item = Answer>, then: Answer) {
        let answers: Vec<Answer> = answers.into_iter().collect();
        let start = self.deliveries().len();
        self.set_rule(move |n| {
            answers
                .get(n.wrapping_sub(start))
                .cloned()
                .unwrap_or_else(|| then.clone())
        });
    }

    fn set_rule(&self, rule: impl Fn(usize) -> Answer + Send + Sync + 'static) {
        self.webhook.lock().expect("webhook lock").rule = std::sync::Arc::new(rule);
    }

    /// Every request so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.webhook
            .lock()
            .expect("webhook lock")
            .deliveries
            .clone()
    }

    /// Waits until `n` requests have arrived (at most [`NOTIFY_DEADLINE`]) and returns them all.
    pub async fn wait_for_deliveries(&self, n: usize) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + NOTIFY_DEADLINE;
        loop {
            let got = self.deliveries();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the merchant got {} requests, not {n}, in {NOTIFY_DEADLINE:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A URL on a port nothing listens on: connecting is refused.
pub async fn refusing_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}{MERCHANT_NOTIFY_PATH}")
}

/// Reads one HTTP/1.1 request, records it, and answers as the rule says.
async fn answer_one(mut stream: TcpStream, webhook: std::sync::Arc<std::sync::Mutex<Webhook>>) {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while raw.len() < body_start + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    }
    let delivery = Delivery {
        arrived: std::time::Instant::now(),
        arrived_ms: chrono::Utc::now().timestamp_millis(),
        method,
        path,
        headers,
        body: raw[body_start..body_start + length].to_vec(),
    };
    let mut answer = {
        let mut webhook = webhook.lock().expect("webhook lock");
        let nth = webhook.deliveries.len();
        webhook.deliveries.push(delivery.clone());
        (webhook.rule)(nth)
    };
    while let Answer::After(delay, then) = answer {
        tokio::time::sleep(delay).await;
        answer = *then;
    }
    let acknowledgement = |status: &str, code: &str| {
        format!(
            r#"{{"result":{{"resultCode":"{code}","resultStatus":"{status}","resultMessage":"test merchant"}}}}"#
        )
    };
    let success = acknowledgement("S", "SUCCESS");
    let response = match answer {
        Answer::Success => http_response(200, &[], &success),
        Answer::SuccessSignedWith(key) => {
            let client_id = delivery.header("client-id").unwrap_or_default().to_owned();
            let time = now_epoch_millis();
            let content = content_to_sign(&delivery.path, &client_id, &time, success.as_bytes());
            let signature = encode_signature(&sign_base64(key, &content), Encoding::UpperHex);
            let header = format!("algorithm=RSA256,keyVersion=1,signature={signature}");
            let headers = [
                ("client-id", client_id),
                ("response-time", time),
                ("signature", header),
            ];
            http_response(200, &headers, &success)
        }
        Answer::Fail(code) => http_response(200, &[], &acknowledgement("F", code)),
        Answer::Unknown => http_response(200, &[], &acknowledgement("U", "UNKNOWN_EXCEPTION")),
        Answer::HttpStatus(status) => http_response(status, &[], &success),
        Answer::MalformedJson => http_response(200, &[], r#"{"result": {"resultStatus": "S""#),
        Answer::After(..) => unreachable!("waited for above"),
        Answer::HangUp => return,
        Answer::RedirectTo(url) => http_response(302, &[("location", url)], ""),
    };
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

fn http_response(status: u16, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Whatever"),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.as_bytes().to_vec()].concat()
}
