//! The independent signer: requests signed like the SDKs sign them, with the `rsa` crate.

use super::*;

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

pub(super) fn gateway_verifying_key() -> &'static VerifyingKey<Sha256> {
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
pub(super) const FORM: &AsciiSet = &NON_ALPHANUMERIC
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
pub struct RawBody(pub(super) Vec<u8>);

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

pub(super) enum SignatureChoice {
    Computed,
    Missing,
    Exactly(String),
}

pub(super) type Tamper = Box<dyn FnOnce(String) -> String>;

/// A request as it goes on the wire.
pub(super) struct Prepared {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
    client_id: Option<String>,
}

/// A signed request being put together; each option changes one thing the SDKs would do.
pub struct SignedPost<'a> {
    pub(super) app: &'a TestApp,
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) signed_path: Option<String>,
    pub(super) body: Vec<u8>,
    pub(super) client_id: Option<String>,
    pub(super) key: Key,
    pub(super) key_version: Option<String>,
    pub(super) request_time: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) encoding: Encoding,
    pub(super) spaced: bool,
    pub(super) signature: SignatureChoice,
    pub(super) tamper: Option<Tamper>,
    pub(super) extra: Vec<(String, String)>,
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
        let started = Instant::now();
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
        Reply::new(status, headers, body, started.elapsed(), path, client_id)
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
        let started = Instant::now();
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        // One write: the whole request is in the server's buffer before it answers.
        stream.write_all(&bytes).await.expect("write the request");
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        let (status, headers, body) = parse_http_response(&raw);
        Reply::new(status, headers, body, started.elapsed(), path, client_id)
    }
}

pub(super) fn parse_http_response(raw: &[u8]) -> (u16, HeaderMap, String) {
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
