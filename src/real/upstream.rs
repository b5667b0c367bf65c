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

use crate::config::Upstream;
use crate::domain::recording::without_signature_value;
use crate::protocol::{Endpoint, ResultStatus, WireResult, datetime};
use crate::signature::{self, Message, SignatureHeader, header};

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
    pub outcome: Result<WireResult, String>,
}

impl Leg {
    /// `valid`, or why the answer was refused.
    pub fn verdict(&self) -> String {
        match &self.outcome {
            Ok(_) => crate::domain::recording::VALID.to_owned(),
            Err(reason) => reason.clone(),
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

/// Headers a proxy never forwards: the connection's own, and the gateway's scenario header.
const NOT_FORWARDED: [&str; 12] = [
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
];

/// Sends forwarded requests to the upstream.
#[derive(Debug)]
pub struct Forwarder {
    http: reqwest::Client,
    upstream: Arc<Upstream>,
}

impl Forwarder {
    /// A client for `upstream`: no redirects, its timeout for connecting and answering.
    pub fn new(upstream: Arc<Upstream>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(upstream.timeout)
            .connect_timeout(upstream.timeout)
            .user_agent(concat!("alipay-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("upstream HTTP client: {e}"))?;
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
            outcome: Err(String::new()),
        };
        leg.request_headers = match signing {
            Signing::ReSign => match self.signed_headers(&path, &body) {
                Ok(headers) => headers,
                Err(e) => {
                    leg.outcome = Err(format!("the gateway could not sign for it: {e}"));
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
    fn signed_headers(&self, path: &str, body: &[u8]) -> Result<HeaderMap, String> {
        let u = &self.upstream;
        let time = datetime::format_millis(Utc::now());
        let signed = signature::sign(&u.key, &Message::post(path, &u.client_id, &time, body))
            .map_err(|e| e.to_string())?;
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| -> Result<(), String> {
            let value = value
                .parse()
                .map_err(|_| format!("the {name} header would not be visible ASCII"))?;
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
    fn judge(&self, signing: Signing, path: &str, leg: &Leg) -> Result<WireResult, String> {
        let status = leg.status.unwrap_or_default();
        if (300..400).contains(&status) {
            return Err(format!("HTTP {status}: redirects are not followed"));
        }
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        let result = serde_json::from_slice::<serde_json::Value>(&leg.response_body)
            .ok()
            .and_then(|v| serde_json::from_value::<WireResult>(v.get("result")?.clone()).ok())
            .ok_or("the answer is not JSON with a result object (malformed body)")?;
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
            return Err(format!(
                "the answer ({}/{}) is not signed",
                result.result_status.as_str(),
                result.result_code
            ));
        };
        let time = get("response-time").ok_or("the answer has no response-time header")?;
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
            .map_err(|e| {
                format!(
                    "the answer is signed with keyVersion {}, which real.upstream.public_keys does not have",
                    e.version
                )
            })?;
        let message = Message::post(path, client_id, time, &leg.response_body);
        signature::verify(&key, &version, &message, &parsed.signature)
            .map_err(|e| format!("the answer's signature does not verify (bad signature): {e}"))?;
        Ok(result)
    }

    /// Reads the answer up to `real.upstream.max_body_bytes`.
    async fn read_limited(&self, mut response: reqwest::Response) -> Result<Bytes, String> {
        let limit = self.upstream.max_body_bytes;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.describe(&e))? {
            if body.len() + chunk.len() > limit {
                return Err(format!(
                    "the answer is larger than {limit} bytes (real.upstream.max_body_bytes)"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// A transport failure in words.
    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            format!(
                "no answer within {} ms (real.upstream.timeout_ms)",
                self.upstream.timeout.as_millis()
            )
        } else if e.is_connect() {
            format!("connection failed: {}", root_cause(e))
        } else {
            format!("transport error: {}", root_cause(e))
        }
    }
}

/// The caller's headers as a pass-through request forwards them.
fn forwarded_headers(caller: &HeaderMap) -> HeaderMap {
    let mut headers = caller.clone();
    for name in NOT_FORWARDED {
        headers.remove(name);
    }
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
}
