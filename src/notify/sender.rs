//! One delivery attempt: sign the notification as Alipay signs it (the merchant's client id,
//! a fresh request-time, the notify URL's path), POST it without following redirects, and judge
//! the acknowledgement. Delivered means HTTP 200 with `result.resultStatus` S, and, when
//! `notify.require_signed_ack` is on, a valid signature from the merchant's registered key.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use crate::client::Directory;
use crate::notify::outbound::{OutboundError, OutboundPolicy};
use crate::protocol::datetime;
use crate::signature::{
    self, KeyError, Message, SignatureError, SignatureHeader, SigningKey, header,
};
use crate::store::{Attempt, Notification};

/// Largest acknowledgement body read; a merchant's answer is a few hundred bytes.
pub(crate) const ACK_LIMIT: usize = 64 * 1024;

/// How a request that got no answer within the timeout is described.
pub(crate) const TIMED_OUT: &str = "no answer within the timeout";

/// Why an attempt has no acknowledgement to judge; the text is what the attempt records.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The HTTP client could not be built.
    #[error("notification HTTP client: {0}")]
    Client(reqwest::Error),
    /// The notification's URL does not parse.
    #[error("notify URL {url:?} is not a URL: {problem}")]
    NotUrl {
        /// The URL as stored.
        url: String,
        /// Why it does not parse.
        problem: url::ParseError,
    },
    /// The URL's host is outside `notify.allowed_hosts`.
    #[error(transparent)]
    Outbound(#[from] OutboundError),
    /// The gateway's key could not sign.
    #[error(transparent)]
    Sign(#[from] KeyError),
    /// No answer came.
    #[error(transparent)]
    Transport(#[from] Transport),
    /// The answer is past [`ACK_LIMIT`].
    #[error("the acknowledgement is larger than {ACK_LIMIT} bytes")]
    TooLarge,
}

/// A transport failure in words: a timeout, a failed connection, anything else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Transport {
    /// No answer within the timeout.
    #[error("{TIMED_OUT}")]
    TimedOut,
    /// The connection failed; the root cause.
    #[error("connection failed: {0}")]
    Connect(String),
    /// Anything else; the root cause.
    #[error("transport error: {0}")]
    Other(String),
}

/// Why a merchant's acknowledgement signature is refused (`notify.require_signed_ack`).
#[derive(Debug, thiserror::Error)]
enum AckSignatureError {
    #[error("client {0} has no registered key")]
    NoClient(String),
    #[error("missing")]
    Missing,
    #[error("no response-time header")]
    NoTime,
    #[error("no key with keyVersion {0}")]
    UnknownVersion(String),
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

/// Sends attempts.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    key: Arc<SigningKey>,
    key_version: String,
    require_signed_ack: bool,
    clients: Arc<Directory>,
    outbound: Arc<OutboundPolicy>,
}

impl Sender {
    /// A sender with `timeout` per attempt.
    pub fn new(
        key: Arc<SigningKey>,
        key_version: String,
        timeout: Duration,
        require_signed_ack: bool,
        clients: Arc<Directory>,
        outbound: Arc<OutboundPolicy>,
    ) -> Result<Self, SendError> {
        let mut http = reqwest::Client::builder();
        if !outbound.allows_anywhere() {
            // A proxy would connect wherever it is told, past the allow-list.
            http = http.no_proxy().dns_resolver(outbound.resolver());
        }
        let http = http
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("alipay-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SendError::Client)?;
        Ok(Self {
            http,
            key,
            key_version,
            require_signed_ack,
            clients,
            outbound,
        })
    }

    /// Makes attempt `number` of `n` and reports it; never fails, a failure is an outcome.
    pub async fn attempt(&self, n: &Notification, number: u32) -> Attempt {
        self.attempt_with_answer(n, number).await.0
    }

    /// Like [`Sender::attempt`], also handing back the acknowledgement's body (for the journal).
    pub async fn attempt_with_answer(&self, n: &Notification, number: u32) -> (Attempt, Vec<u8>) {
        let started_ms = Utc::now().timestamp_millis();
        let clock = Instant::now();
        let verdict = self.deliver(n).await;
        let latency_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (http_status, ack_status, ack_code, error, body) = match verdict {
            Ok(ack) => (
                Some(ack.status),
                ack.result_status,
                ack.result_code,
                ack.problem,
                ack.body,
            ),
            Err(e) => (None, None, None, Some(e.to_string()), Vec::new()),
        };
        let attempt = Attempt {
            notification_id: n.id.clone(),
            number,
            due_ms: n.next_due_ms,
            started_ms,
            url: n.url.clone(),
            http_status,
            ack_status,
            ack_code,
            latency_ms,
            delivered: error.is_none(),
            error,
        };
        (attempt, body)
    }

    /// The HTTP exchange; `Err` when no answer came at all.
    async fn deliver(&self, n: &Notification) -> Result<Ack, SendError> {
        let url = reqwest::Url::parse(&n.url).map_err(|problem| SendError::NotUrl {
            url: n.url.clone(),
            problem,
        })?;
        if let Some(host) = url.host() {
            self.outbound.check_host(&host)?;
        }
        let time = datetime::format_millis(Utc::now());
        let message = Message::post(url.path(), &n.client_id, &time, n.body.as_bytes());
        let signed = signature::sign(&self.key, &message)?;
        let response = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json; charset=UTF-8")
            .header("client-id", &n.client_id)
            .header("request-time", &time)
            .header("signature", header::format(&self.key_version, &signed))
            .header("notification-id", &n.id)
            .body(n.body.clone())
            .send()
            .await
            .map_err(describe)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_limited(response).await;
        Ok(self.judge(n, url.path(), status, &headers, body))
    }

    fn judge(
        &self,
        n: &Notification,
        path: &str,
        status: u16,
        headers: &HeaderMap,
        body: Result<Vec<u8>, SendError>,
    ) -> Ack {
        let mut ack = Ack {
            status,
            result_status: None,
            result_code: None,
            problem: None,
            body: Vec::new(),
        };
        let body = match body {
            Ok(b) => b,
            Err(e) => return ack.failed(e.to_string()),
        };
        if (300..400).contains(&status) {
            return ack.failed(format!("HTTP {status}: redirects are not followed"));
        }
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
            ack.result_status = v["result"]["resultStatus"].as_str().map(str::to_owned);
            ack.result_code = v["result"]["resultCode"].as_str().map(str::to_owned);
        }
        ack.body.clone_from(&body);
        if status != 200 {
            return ack.failed(format!("HTTP {status}"));
        }
        match ack.result_status.clone().as_deref() {
            Some("S") => {}
            Some(other) => {
                let code = ack.result_code.clone().unwrap_or_default();
                return ack.failed(format!("acknowledged {other}/{code}, not S"));
            }
            None => return ack.failed("the acknowledgement has no result.resultStatus".into()),
        }
        if self.require_signed_ack
            && let Err(e) = self.check_ack_signature(n, path, headers, &body)
        {
            return ack.failed(format!("acknowledgement signature: {e}"));
        }
        ack
    }

    fn check_ack_signature(
        &self,
        n: &Notification,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), AckSignatureError> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let client = self
            .clients
            .get(&n.client_id)
            .ok_or_else(|| AckSignatureError::NoClient(n.client_id.clone()))?;
        let value = get("signature").ok_or(AckSignatureError::Missing)?;
        let time = get("response-time").ok_or(AckSignatureError::NoTime)?;
        let parsed = SignatureHeader::parse(value)?;
        let (version, key) = client
            .keys
            .resolve(parsed.key_version.as_deref())
            .map_err(|e| AckSignatureError::UnknownVersion(e.version))?;
        let message = Message::post(path, get("client-id").unwrap_or(&n.client_id), time, body);
        Ok(signature::verify(
            &key,
            &version,
            &message,
            &parsed.signature,
        )?)
    }
}

/// What came back.
struct Ack {
    status: u16,
    result_status: Option<String>,
    result_code: Option<String>,
    problem: Option<String>,
    body: Vec<u8>,
}

impl Ack {
    fn failed(mut self, problem: String) -> Self {
        self.problem = Some(problem);
        self
    }
}

/// Reads a body of at most [`ACK_LIMIT`] bytes.
pub(crate) async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, SendError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > ACK_LIMIT {
            return Err(SendError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport failure in words: a timeout, a failed connection, anything else.
pub(crate) fn describe(e: reqwest::Error) -> Transport {
    if e.is_timeout() {
        Transport::TimedOut
    } else if e.is_connect() {
        Transport::Connect(root_cause(&e))
    } else {
        Transport::Other(root_cause(&e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
