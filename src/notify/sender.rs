//! One delivery attempt: sign the notification as Alipay signs it (the merchant's client id,
//! a fresh request-time, the notify URL's path), POST it without following redirects, and judge
//! the acknowledgement. Delivered means HTTP 200 with `result.resultStatus` S, and, when
//! `notify.require_signed_ack` is on, a valid signature from the merchant's registered key.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use crate::client::Directory;
use crate::notify::outbound::OutboundPolicy;
use crate::protocol::datetime;
use crate::signature::{self, Message, SignatureHeader, SigningKey, header};
use crate::store::{Attempt, Notification};

/// Largest acknowledgement body read; a merchant's answer is a few hundred bytes.
pub(crate) const ACK_LIMIT: usize = 64 * 1024;

/// How a request that got no answer within the timeout is described.
pub(crate) const TIMED_OUT: &str = "no answer within the timeout";

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
    ) -> Result<Self, String> {
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
            .map_err(|e| format!("notification HTTP client: {e}"))?;
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
            Err(e) => (None, None, None, Some(e), Vec::new()),
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
    async fn deliver(&self, n: &Notification) -> Result<Ack, String> {
        let url = reqwest::Url::parse(&n.url)
            .map_err(|e| format!("notify URL {:?} is not a URL: {e}", n.url))?;
        if let Some(host) = url.host() {
            self.outbound.check_host(&host)?;
        }
        let time = datetime::format_millis(Utc::now());
        let message = Message::post(url.path(), &n.client_id, &time, n.body.as_bytes());
        let signed = signature::sign(&self.key, &message).map_err(|e| e.to_string())?;
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
        body: Result<Vec<u8>, String>,
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
            Err(e) => return ack.failed(e),
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
    ) -> Result<(), String> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let client = self
            .clients
            .get(&n.client_id)
            .ok_or_else(|| format!("client {} has no registered key", n.client_id))?;
        let value = get("signature").ok_or("missing")?;
        let time = get("response-time").ok_or("no response-time header")?;
        let parsed = SignatureHeader::parse(value).map_err(|e| e.to_string())?;
        let (version, key) = client
            .keys
            .resolve(parsed.key_version.as_deref())
            .map_err(|e| format!("no key with keyVersion {}", e.version))?;
        let message = Message::post(path, get("client-id").unwrap_or(&n.client_id), time, body);
        signature::verify(&key, &version, &message, &parsed.signature).map_err(|e| e.to_string())
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
pub(crate) async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if body.len() + chunk.len() > ACK_LIMIT {
            return Err(format!(
                "the acknowledgement is larger than {ACK_LIMIT} bytes"
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A transport failure in words: a timeout, a failed connection, anything else.
pub(crate) fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        TIMED_OUT.into()
    } else if e.is_connect() {
        format!("connection failed: {}", root_cause(&e))
    } else {
        format!("transport error: {}", root_cause(&e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}
