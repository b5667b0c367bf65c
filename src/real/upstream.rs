//! The forwarding client: one request to the upstream and its answer judged. Re-sign mode signs
//! the caller's exact bytes as the gateway's upstream client; pass-through mode sends the
//! caller's headers and bytes untouched. Either way the answer must be HTTP 200, JSON with a
//! `result`, within the size cap, and signed with a key the upstream registered; anything else
//! is a failure with its reason. Redirects are never followed; the key never leaves the process.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName};

use super::RealError;
use crate::config::Upstream;
use crate::domain::recording::without_signature_value;
use crate::protocol::{Endpoint, ResultStatus, WireResult, datetime};
use crate::signature::{self, KeyError, Message, SignatureError, SignatureHeader, header};

/// How a forwarded request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// The caller signed for the gateway (verified at admission); the gateway signs the same
    /// bytes for the upstream, and signs the upstream's answer for the caller.
    ReSign,
    /// The caller signed for the upstream; headers and bytes go untouched both ways.
    PassThrough,
}

impl Signing {
    /// `re-sign` or `pass-through`, as recordings name it.
    pub fn name(self) -> &'static str {
        match self {
            Signing::ReSign => "re-sign",
            Signing::PassThrough => "pass-through",
        }
    }
}

/// Why an upstream answer is not passed on: it never came, or it is refused. The text is the
/// recording's verdict and the caller's UNKNOWN_EXCEPTION message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Not sent yet.
    #[error("not sent")]
    NotSent,
    /// The gateway's upstream key could not sign.
    #[error("the gateway could not sign for it: {0}")]
    Sign(KeyError),
    /// A header the gateway signs could not be sent.
    #[error("the gateway could not sign for it: the {0} header would not be visible ASCII")]
    HeaderNotAscii(&'static str),
    /// No answer within `real.upstream.timeout_ms`.
    #[error("no answer within {ms} ms (real.upstream.timeout_ms)")]
    TimedOut {
        /// The timeout.
        ms: u128,
    },
    /// The connection failed; the root cause.
    #[error("connection failed: {0}")]
    Connect(String),
    /// Anything else on the way; the root cause.
    #[error("transport error: {0}")]
    Transport(String),
    /// The answer is past `real.upstream.max_body_bytes`.
    #[error("the answer is larger than {limit} bytes (real.upstream.max_body_bytes)")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A redirect, which is not followed.
    #[error("HTTP {0}: redirects are not followed")]
    Redirect(u16),
    /// A status other than 200.
    #[error("HTTP {0}")]
    Status(u16),
    /// A body without a `result`.
    #[error("the answer is not JSON with a result object (malformed body)")]
    Malformed,
    /// An answer that should be signed and is not.
    #[error("the answer ({status}/{code}) is not signed")]
    Unsigned {
        /// Its resultStatus.
        status: &'static str,
        /// Its resultCode.
        code: String,
    },
    /// A signed answer without its time.
    #[error("the answer has no response-time header")]
    NoTime,
    /// A keyVersion the gateway does not have.
    #[error(
        "the answer is signed with keyVersion {0}, which real.upstream.public_keys does not have"
    )]
    UnknownVersion(String),
    /// A signature that does not verify.
    #[error("the answer's signature does not verify (bad signature): {0}")]
    BadSignature(SignatureError),
}

/// One forwarded request and what came of it.
#[derive(Debug, Clone)]
pub struct Leg {
    /// Where it went.
    pub url: String,
    /// When it was sent (epoch milliseconds).
    pub started_ms: i64,
    /// How long the upstream took.
    pub latency_ms: i64,
    /// The headers sent.
    pub request_headers: HeaderMap,
    /// The body sent.
    pub request_body: Bytes,
    /// The upstream's HTTP status, when it answered.
    pub status: Option<u16>,
    /// The upstream's headers.
    pub response_headers: HeaderMap,
    /// The upstream's body, as read.
    pub response_body: Bytes,
    /// The answer's `result`, or why the answer is refused.
    pub outcome: Result<WireResult, UpstreamError>,
}

impl Leg {
    /// `valid`, or why the answer was refused.
    pub fn verdict(&self) -> String {
        match &self.outcome {
            Ok(_) => crate::domain::recording::VALID.to_owned(),
            Err(reason) => reason.to_string(),
        }
    }
}

/// The protocol headers of a message as a recording keeps them: the signature without its
/// value.
pub fn recorded_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    [
        "content-type",
        "client-id",
        "request-time",
        "response-time",
        "signature",
    ]
    .into_iter()
    .filter_map(|name| {
        let value = headers.get(name)?.to_str().ok()?;
        let value = if name == "signature" {
            without_signature_value(value)
        } else {
            value.to_owned()
        };
        Some((name.to_owned(), value))
    })
    .collect()
}

/// Headers a proxy never forwards: the connection's own, the gateway's scenario header, and
/// what the caller's side holds about itself (credentials, cookies, the proxies it came
/// through), which are not the upstream's business.
const NOT_FORWARDED: [&str; 17] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-connection",
    "accept-encoding",
    "gateway-scenario",
    "authorization",
    "cookie",
    "forwarded",
    "via",
    "x-real-ip",
];

/// `received` without what is never forwarded ([`NOT_FORWARDED`], and any `X-Forwarded-*`):
/// what a pass-through request and an untouched relay carry on.
pub fn carried_on(received: &HeaderMap) -> HeaderMap {
    let mut headers = received.clone();
    for name in NOT_FORWARDED {
        headers.remove(name);
    }
    let forwarded: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-forwarded-"))
        .cloned()
        .collect();
    for name in forwarded {
        headers.remove(name);
    }
    headers
}

/// Sends forwarded requests to the upstream.
#[derive(Debug)]
pub struct Forwarder {
    http: reqwest::Client,
    upstream: Arc<Upstream>,
}

impl Forwarder {
    /// A client for `upstream`: no redirects, its timeout for connecting and answering.
    pub fn new(upstream: Arc<Upstream>) -> Result<Self, RealError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(upstream.timeout)
            .connect_timeout(upstream.timeout)
            .user_agent(concat!("alipay-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(RealError::UpstreamClient)?;
        Ok(Self { http, upstream })
    }

    /// The upstream's base URL, which names it in messages.
    pub fn name(&self) -> &str {
        &self.upstream.base_url
    }

    /// The path a re-signed request goes to: the API's live path, or its sandbox form.
    pub fn path_for(&self, endpoint: Endpoint) -> &'static str {
        let paths = endpoint.spec().paths;
        let sandbox = paths.iter().copied().find(|p| p.contains("/sandbox/"));
        match (self.upstream.sandbox_paths, sandbox) {
            (true, Some(path)) => path,
            _ => paths[0],
        }
    }

    /// Forwards `body` for `endpoint`. In re-sign mode it goes to the upstream's path for the
    /// API, signed as the gateway's upstream client; in pass-through mode to the path the
    /// caller signed (`caller_path`), with the caller's headers.
    pub async fn send(
        &self,
        endpoint: Endpoint,
        signing: Signing,
        caller_path: &str,
        caller_headers: &HeaderMap,
        body: Bytes,
    ) -> Leg {
        let path = match signing {
            Signing::ReSign => self.path_for(endpoint).to_owned(),
            Signing::PassThrough => caller_path.to_owned(),
        };
        let url = format!("{}{path}", self.upstream.base_url);
        let mut leg = Leg {
            url: url.clone(),
            started_ms: Utc::now().timestamp_millis(),
            latency_ms: 0,
            request_headers: HeaderMap::new(),
            request_body: body.clone(),
            status: None,
            response_headers: HeaderMap::new(),
            response_body: Bytes::new(),
            outcome: Err(UpstreamError::NotSent),
        };
        leg.request_headers = match signing {
            Signing::ReSign => match self.signed_headers(&path, &body) {
                Ok(headers) => headers,
                Err(e) => {
                    leg.outcome = Err(e);
                    return leg;
                }
            },
            Signing::PassThrough => forwarded_headers(caller_headers),
        };
        let clock = Instant::now();
        let sent = self
            .http
            .post(&url)
            .headers(leg.request_headers.clone())
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                leg.latency_ms = elapsed_ms(clock);
                leg.outcome = Err(self.describe(&e));
                return leg;
            }
        };
        let status = response.status().as_u16();
        leg.status = Some(status);
        leg.response_headers = response.headers().clone();
        let read = self.read_limited(response).await;
        leg.latency_ms = elapsed_ms(clock);
        match read {
            Ok(bytes) => leg.response_body = bytes,
            Err(e) => {
                leg.outcome = Err(e);
                return leg;
            }
        }
        leg.outcome = self.judge(signing, &path, &leg);
        leg
    }

    /// The three protocol headers, signed for the upstream as its client.
    fn signed_headers(&self, path: &str, body: &[u8]) -> Result<HeaderMap, UpstreamError> {
        let u = &self.upstream;
        let time = datetime::format_millis(Utc::now());
        let signed = signature::sign(&u.key, &Message::post(path, &u.client_id, &time, body))
            .map_err(UpstreamError::Sign)?;
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| -> Result<(), UpstreamError> {
            let value = value
                .parse()
                .map_err(|_| UpstreamError::HeaderNotAscii(name))?;
            headers.insert(HeaderName::from_static(name), value);
            Ok(())
        };
        put("content-type", "application/json; charset=UTF-8")?;
        put("client-id", &u.client_id)?;
        put("request-time", &time)?;
        put("signature", &header::format(&u.key_version, &signed))?;
        Ok(headers)
    }

    /// Whether the answer is one to pass on: HTTP 200, JSON with a `result`, signed by the
    /// upstream (an unsigned F or U answer passes in pass-through mode only: it is about the
    /// caller's own signature, and the real service sends those unsigned).
    fn judge(&self, signing: Signing, path: &str, leg: &Leg) -> Result<WireResult, UpstreamError> {
        let status = leg.status.unwrap_or_default();
        if (300..400).contains(&status) {
            return Err(UpstreamError::Redirect(status));
        }
        if status != 200 {
            return Err(UpstreamError::Status(status));
        }
        let result = serde_json::from_slice::<serde_json::Value>(&leg.response_body)
            .ok()
            .and_then(|v| serde_json::from_value::<WireResult>(v.get("result")?.clone()).ok())
            .ok_or(UpstreamError::Malformed)?;
        let get = |name: &str| {
            leg.response_headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
        };
        let signed = get("signature")
            .and_then(|v| SignatureHeader::parse(v).ok())
            .filter(|p| !p.signature.is_empty());
        let Some(parsed) = signed else {
            if signing == Signing::PassThrough && result.result_status != ResultStatus::S {
                return Ok(result);
            }
            return Err(UpstreamError::Unsigned {
                status: result.result_status.as_str(),
                code: result.result_code,
            });
        };
        let time = get("response-time").ok_or(UpstreamError::NoTime)?;
        let sent_as = leg
            .request_headers
            .get("client-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let client_id = get("client-id").unwrap_or(sent_as);
        let (version, key) = self
            .upstream
            .public_keys
            .resolve(parsed.key_version.as_deref())
            .map_err(|e| UpstreamError::UnknownVersion(e.version))?;
        let message = Message::post(path, client_id, time, &leg.response_body);
        signature::verify(&key, &version, &message, &parsed.signature)
            .map_err(UpstreamError::BadSignature)?;
        Ok(result)
    }

    /// Reads the answer up to `real.upstream.max_body_bytes`.
    async fn read_limited(&self, mut response: reqwest::Response) -> Result<Bytes, UpstreamError> {
        let limit = self.upstream.max_body_bytes;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.describe(&e))? {
            if body.len() + chunk.len() > limit {
                return Err(UpstreamError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// A transport failure in words.
    fn describe(&self, e: &reqwest::Error) -> UpstreamError {
        if e.is_timeout() {
            UpstreamError::TimedOut {
                ms: self.upstream.timeout.as_millis(),
            }
        } else if e.is_connect() {
            UpstreamError::Connect(root_cause(e))
        } else {
            UpstreamError::Transport(root_cause(e))
        }
    }
}

/// The caller's headers as a pass-through request forwards them.
fn forwarded_headers(caller: &HeaderMap) -> HeaderMap {
    let mut headers = carried_on(caller);
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(
            CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/json; charset=UTF-8"),
        );
    }
    headers
}

fn elapsed_ms(clock: Instant) -> i64 {
    i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX)
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_signature_header_keeps_no_signature_value() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "signature",
            "algorithm=RSA256,keyVersion=2,signature=AbC%3D"
                .parse()
                .unwrap(),
        );
        headers.insert("client-id", "C1".parse().unwrap());
        headers.insert("x-other", "kept out".parse().unwrap());
        let recorded = recorded_headers(&headers);
        assert_eq!(recorded["signature"], "algorithm=RSA256,keyVersion=2");
        assert_eq!(recorded["client-id"], "C1");
        assert!(!recorded.contains_key("x-other"));
    }

    #[test]
    fn a_pass_through_request_keeps_the_callers_headers_but_not_the_connections() {
        let mut caller = HeaderMap::new();
        caller.insert("signature", "algorithm=RSA256,signature=x".parse().unwrap());
        caller.insert("host", "gateway:8080".parse().unwrap());
        caller.insert("gateway-scenario", "http_500".parse().unwrap());
        let sent = forwarded_headers(&caller);
        assert!(sent.contains_key("signature"));
        assert!(!sent.contains_key("host") && !sent.contains_key("gateway-scenario"));
        assert!(sent.contains_key(CONTENT_TYPE));
    }

    #[test]
    fn the_callers_credentials_cookies_and_proxy_trail_are_never_carried_on() {
        let mut caller = HeaderMap::new();
        caller.insert("signature", "algorithm=RSA256,signature=x".parse().unwrap());
        caller.insert("client-id", "C1".parse().unwrap());
        for name in [
            "authorization",
            "cookie",
            "x-forwarded-for",
            "x-forwarded-host",
            "forwarded",
            "x-real-ip",
        ] {
            caller.insert(name, "private".parse().unwrap());
        }
        let sent = carried_on(&caller);
        let mut kept: Vec<&str> = sent.keys().map(|k| k.as_str()).collect();
        kept.sort_unstable();
        assert_eq!(kept, ["client-id", "signature"]);
    }
}
