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

use crate::domain::message::Queuing;
use crate::notify::sender;
use crate::signature::{
    self, KeyError, Message, SignatureError, SignatureHeader, SigningKey, VerifyingKey, header,
};

pub use cases::{CaseDef, INQUIRY_CASES, NOTIFY_CASES};
pub use report::Report;

/// Why a conformance run could not start or go on. The text is the CLI's final error line, so
/// each variant names the flag or the step at fault; what an endpoint gets wrong is never one of
/// these, but a case's verdict.
#[derive(Debug, thiserror::Error)]
pub enum ConformError {
    /// `--cases` holds an item that selects no case.
    #[error("--cases: {item:?} names no case; the cases are {}", known.join(", "))]
    NoSuchCase {
        /// The item as given.
        item: String,
        /// Every case id of the suite, in matrix order.
        known: Vec<&'static str>,
    },
    /// `--url` does not parse.
    #[error("--url {url:?}: {problem}")]
    NotUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        problem: url::ParseError,
    },
    /// `--url` parses, but is not http or https.
    #[error("--url {0}: not an http(s) URL")]
    NotHttp(reqwest::Url),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(reqwest::Error),
    /// A key could not sign (the gateway's, or the stranger key of `unknown-key-version`).
    #[error(transparent)]
    Sign(#[from] KeyError),
    /// `domain::message` built no notification for the payment; the text is its reason.
    #[error("{}", .0.reason().unwrap_or("the notification could not be built"))]
    NotBuilt(Queuing),
    /// A case id the suite does not run (a matrix entry without its code).
    #[error("no {suite} case {id}")]
    UnknownCase {
        /// `notify` or `inquiry`.
        suite: &'static str,
        /// The case id.
        id: String,
    },
}

/// Why an answer's signature is refused; the text is the case's reason, as a gateway with
/// `notify.require_signed_ack` would see it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AnswerSignatureError {
    /// No `signature` header.
    #[error("unsigned: no signature header")]
    Unsigned,
    /// A `signature` header, but no `response-time`.
    #[error("no response-time header")]
    NoTime,
    /// The `signature` header does not parse.
    #[error(transparent)]
    Header(SignatureError),
    /// The signature does not verify with the key given.
    #[error("signature invalid: {0}")]
    Invalid(SignatureError),
}

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
    pub fn new(url: &str, timeout: Duration) -> Result<Self, ConformError> {
        let url = reqwest::Url::parse(url).map_err(|problem| ConformError::NotUrl {
            url: url.to_owned(),
            problem,
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConformError::NotHttp(url));
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
            .map_err(ConformError::Client)?;
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
) -> Result<Vec<(&'static str, String)>, KeyError> {
    let signed = signature::sign(key, &Message::post(path, client_id, time, body))?;
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
) -> Result<(), AnswerSignatureError> {
    let value = answer
        .header("signature")
        .ok_or(AnswerSignatureError::Unsigned)?;
    let time = answer
        .header("response-time")
        .ok_or(AnswerSignatureError::NoTime)?;
    let parsed = SignatureHeader::parse(value).map_err(AnswerSignatureError::Header)?;
    let version = parsed.key_version.as_deref().unwrap_or("1").to_owned();
    let echoed = answer.header("client-id").unwrap_or(client_id);
    let message = Message::post(path, echoed, time, &answer.body);
    signature::verify(key, &version, &message, &parsed.signature)
        .map_err(AnswerSignatureError::Invalid)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_cannot_start_says_which_flag_is_at_fault() {
        let err = |url| {
            Http::new(url, Duration::from_secs(1))
                .err()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            err("not a url"),
            "--url \"not a url\": relative URL without a base"
        );
        assert_eq!(
            err("ftp://example.test/notify"),
            "--url ftp://example.test/notify: not an http(s) URL"
        );
        let unknown = ConformError::UnknownCase {
            suite: "notify",
            id: "nope".into(),
        };
        assert_eq!(unknown.to_string(), "no notify case nope");
        let unbuilt = ConformError::NotBuilt(Queuing::Nothing("no notification: x".into()));
        assert_eq!(unbuilt.to_string(), "no notification: x");
        let unbuilt = ConformError::NotBuilt(Queuing::NotFinal);
        assert_eq!(unbuilt.to_string(), "the notification could not be built");
    }

    #[test]
    fn an_answer_signature_is_refused_in_the_words_of_the_report() {
        let answer = |headers: &[(&'static str, &str)]| Answer {
            status: 200,
            headers: headers
                .iter()
                .map(|(name, value)| {
                    (
                        reqwest::header::HeaderName::from_static(name),
                        value.parse().unwrap(),
                    )
                })
                .collect(),
            body: b"{}".to_vec(),
        };
        let key = SigningKey::generate().unwrap().verifying_key().unwrap();
        let why = |a: &Answer| {
            check_answer_signature(&key, "/notify", "CLIENT", a)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(why(&answer(&[])), "unsigned: no signature header");
        assert_eq!(
            why(&answer(&[(
                "signature",
                "algorithm=RSA256,keyVersion=1,signature=AA"
            )])),
            "no response-time header"
        );
        let wrong = answer(&[
            ("signature", "algorithm=RSA256,keyVersion=1,signature=AAAA"),
            ("response-time", "2024-01-01T00:00:00.000+00:00"),
        ]);
        assert!(
            why(&wrong).starts_with("signature invalid: "),
            "{}",
            why(&wrong)
        );
    }
}
