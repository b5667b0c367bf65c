//! The conformance kit: the gateway plays Alipay+ against the user's own endpoints (a
//! merchant's payment result notification handler, an MPP's inquiryPayment) through a matrix of
//! cases, and reports case by case what was sent, what was expected, what came back, and a
//! verdict with its reason. It signs with the `signature` module, builds notifications with
//! `domain::message` and judges answers with the field-rule tables; no HTTP server is involved.

pub mod cases;
pub mod inquiry;
pub mod notify;
pub mod report;

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{CONTENT_TYPE, HeaderMap};

use crate::notify::sender;
use crate::signature::{self, Message, SignatureHeader, SigningKey, VerifyingKey, header};

pub use cases::{CaseDef, INQUIRY_CASES, NOTIFY_CASES};
pub use report::Report;

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The endpoint did what the page asks.
    Pass,
    /// Not run: what it needs was not given, or a case it builds on got no answer.
    Skip,
    /// Allowed by the page, but not what Alipay+ would want.
    Warn,
    /// The page's rule is broken; the exit code fails.
    Fail,
}

impl Verdict {
    /// `PASS`, `SKIP`, `WARN`, `FAIL`.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Skip => "SKIP",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
        }
    }
}

/// One case's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case id (`known-payment:<id>` for each named payment).
    pub id: String,
    /// What was sent.
    pub sent: String,
    /// What was expected.
    pub expected: String,
    /// What came back.
    pub got: String,
    /// Pass, warn, fail or skip.
    pub verdict: Verdict,
    /// Why that verdict.
    pub why: String,
    /// How long the case took.
    pub elapsed: Duration,
}

impl Outcome {
    /// The outcome of case `id`, judged, timed from `started`.
    pub(crate) fn judged(
        id: String,
        sent: String,
        expected: &str,
        judged: Judged,
        started: std::time::Instant,
    ) -> Self {
        Self {
            id,
            sent,
            expected: expected.to_owned(),
            got: judged.got,
            verdict: judged.verdict,
            why: judged.why,
            elapsed: started.elapsed(),
        }
    }
}

/// A request as the kit sends it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// Header name and value pairs, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The exact body.
    pub body: Vec<u8>,
}

/// What came back.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, at most the sender's acknowledgement cap.
    pub body: Vec<u8>,
}

impl Answer {
    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `result.resultStatus` and `result.resultCode`, when the body has them.
    pub fn result(&self) -> (Option<String>, Option<String>) {
        let json = self.json().unwrap_or_default();
        let text = |name: &str| json["result"][name].as_str().map(str::to_owned);
        (text("resultStatus"), text("resultCode"))
    }

    /// HTTP 200 with `result.resultStatus` S: what Alipay+ takes as accepted.
    pub fn accepted(&self) -> bool {
        self.status == 200 && self.result().0.as_deref() == Some("S")
    }

    /// Whether the Content-Type is JSON.
    pub fn is_json(&self) -> bool {
        self.header(CONTENT_TYPE.as_str()).is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        })
    }

    /// A one-line account: `HTTP 200 application/json, result S/SUCCESS`.
    pub fn summary(&self) -> String {
        let content_type = self
            .header(CONTENT_TYPE.as_str())
            .and_then(|v| v.split(';').next())
            .map_or("no Content-Type", str::trim);
        match self.result() {
            (Some(status), code) => format!(
                "HTTP {} {content_type}, result {status}/{}",
                self.status,
                code.unwrap_or_default()
            ),
            (None, _) => {
                let text = String::from_utf8_lossy(&self.body);
                let mut shown: String = text.chars().take(60).collect();
                if text.chars().count() > 60 {
                    shown.push_str("...");
                }
                format!("HTTP {} {content_type}, body {shown:?}", self.status)
            }
        }
    }
}

/// No answer: a timeout, a refused or dropped connection.
#[derive(Debug, Clone)]
pub(crate) struct NoAnswer {
    /// Whether the timeout passed.
    pub timed_out: bool,
    /// What happened, in words.
    pub why: String,
}

/// The kit's HTTP client: no redirects followed, a timeout per request, bodies capped.
pub(crate) struct Http {
    client: reqwest::Client,
    url: reqwest::Url,
    timeout: Duration,
}

impl Http {
    /// A client for `url` with `timeout` per request.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("--url {url:?}: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("--url {url}: not an http(s) URL"));
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!(
                "alipay-gateway-conform/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            client,
            url,
            timeout,
        })
    }

    /// The path requests are signed over: the URL's path, as the sender signs it.
    pub fn path(&self) -> &str {
        self.url.path()
    }

    /// The timeout, in milliseconds.
    pub fn timeout_ms(&self) -> u128 {
        self.timeout.as_millis()
    }

    /// POSTs the request and reads the answer within the cap.
    pub async fn post(&self, request: &Request) -> Result<Answer, NoAnswer> {
        let mut builder = self.client.post(self.url.clone());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        let no_answer = |why: String| NoAnswer {
            timed_out: why == sender::TIMED_OUT,
            why,
        };
        let started = Instant::now();
        let response = builder
            .body(request.body.clone())
            .send()
            .await
            .map_err(|e| no_answer(sender::describe(e).to_string()))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = sender::read_limited(response)
            .await
            .map_err(|e| no_answer(e.to_string()))?;
        // A body trickled past the timeout is no answer either.
        if started.elapsed() > self.timeout {
            return Err(no_answer(sender::TIMED_OUT.to_owned()));
        }
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// The three signing headers over `POST <path>\n<client_id>.<time>.<body>`.
pub(crate) fn signed_headers(
    key: &SigningKey,
    key_version: &str,
    path: &str,
    client_id: &str,
    time: &str,
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, String> {
    let signed = signature::sign(key, &Message::post(path, client_id, time, body))
        .map_err(|e| e.to_string())?;
    Ok(vec![
        ("client-id", client_id.to_owned()),
        ("request-time", time.to_owned()),
        ("signature", header::format(key_version, &signed)),
    ])
}

/// A signature header value that does not verify: a real signature with its last byte changed.
pub(crate) fn corrupt(signature_header: &str) -> String {
    let Ok(parsed) = SignatureHeader::parse(signature_header) else {
        return signature_header.to_owned();
    };
    let version = parsed.key_version.as_deref().unwrap_or("1").to_owned();
    let mut bytes = STANDARD.decode(parsed.signature).unwrap_or_default();
    if let Some(last) = bytes.last_mut() {
        *last ^= 0x5a;
    }
    header::format(&version, &STANDARD.encode(bytes))
}

/// Checks an answer's signature: `response-time` and `signature` headers over
/// `POST <path>\n<client-id>.<response-time>.<body>`, the client id as echoed (else ours).
pub(crate) fn check_answer_signature(
    key: &VerifyingKey,
    path: &str,
    client_id: &str,
    answer: &Answer,
) -> Result<(), String> {
    let value = answer
        .header("signature")
        .ok_or("unsigned: no signature header")?;
    let time = answer
        .header("response-time")
        .ok_or("no response-time header")?;
    let parsed = SignatureHeader::parse(value).map_err(|e| e.to_string())?;
    let version = parsed.key_version.as_deref().unwrap_or("1").to_owned();
    let echoed = answer.header("client-id").unwrap_or(client_id);
    let message = Message::post(path, echoed, time, &answer.body);
    signature::verify(key, &version, &message, &parsed.signature)
        .map_err(|e| format!("signature invalid: {e}"))
}

/// A judged case, before its timing and identity are added.
pub(crate) struct Judged {
    pub verdict: Verdict,
    pub got: String,
    pub why: String,
}

impl Judged {
    pub fn new(verdict: Verdict, got: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            verdict,
            got: got.into(),
            why: why.into(),
        }
    }
}

/// What an endpoint that must refuse did: S is a security hole, no answer or a 5xx a warning.
pub(crate) fn judge_refusal(result: &Result<Answer, NoAnswer>, what: &str) -> Judged {
    match result {
        Err(e) => Judged::new(
            Verdict::Warn,
            e.why.clone(),
            format!("not accepted, but no answer came: refuse {what} promptly (HTTP 200 with F)"),
        ),
        Ok(a) if a.accepted() => Judged::new(
            Verdict::Fail,
            a.summary(),
            format!(
                "accepted {what}: a security hole, anyone can forge what this endpoint acts on"
            ),
        ),
        Ok(a) if a.status >= 500 => Judged::new(
            Verdict::Warn,
            a.summary(),
            format!("refused {what}, but with a server error; answer F (or a 4xx)"),
        ),
        Ok(a) => Judged::new(Verdict::Pass, a.summary(), format!("refused {what}")),
    }
}

/// What an endpoint given an unreadable or unusable body did: S or a 5xx fails, and so does no
/// answer (it hangs).
pub(crate) fn judge_bad_input(result: &Result<Answer, NoAnswer>, what: &str) -> Judged {
    match result {
        Err(e) if e.timed_out => Judged::new(
            Verdict::Fail,
            e.why.clone(),
            format!("hangs on {what}: no answer within the timeout"),
        ),
        Err(e) => Judged::new(
            Verdict::Fail,
            e.why.clone(),
            format!("dropped the connection on {what} instead of answering"),
        ),
        Ok(a) if a.status >= 500 => Judged::new(
            Verdict::Fail,
            a.summary(),
            format!("crashed (HTTP {}) on {what}", a.status),
        ),
        Ok(a) if a.accepted() => Judged::new(
            Verdict::Fail,
            a.summary(),
            format!("answered S to {what}: it cannot have read it, so the result is lost"),
        ),
        Ok(a) => Judged::new(Verdict::Pass, a.summary(), format!("refused {what}")),
    }
}
