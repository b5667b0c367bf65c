//! The answer: its result, its signature checked with the gateway's public key, how long it
//! took. Every way of calling the gateway (a plain signed call, a scenario call) answers this.

use super::*;

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
    /// From sending the request to the end of the answer.
    pub took: Duration,
    path: String,
    client_id: Option<String>,
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .field("took", &self.took)
            .finish()
    }
}

impl Reply {
    pub(crate) fn new(
        status: u16,
        headers: HeaderMap,
        body: String,
        took: Duration,
        path: String,
        client_id: Option<String>,
    ) -> Self {
        let json = serde_json::from_str(&body).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
            json,
            took,
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

    /// inquiryPayment's `paymentResult` as (code, status, message).
    pub fn payment_result(&self) -> (&str, &str, &str) {
        let r = &self.json["paymentResult"];
        (
            r["resultCode"].as_str().unwrap_or_default(),
            r["resultStatus"].as_str().unwrap_or_default(),
            r["resultMessage"].as_str().unwrap_or_default(),
        )
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

    /// Whether none of the signature headers (signature, response-time, client-id) came.
    pub fn has_no_signature_headers(&self) -> bool {
        ["signature", "response-time", "client-id"]
            .iter()
            .all(|name| self.headers.get(*name).is_none())
    }

    /// Asserts an HTTP 200, signed F / PARAM_ILLEGAL whose message starts with `expected`.
    #[track_caller]
    pub fn assert_param_illegal(&self, expected: &str) {
        if let Some(problem) = self.param_illegal_problem(expected) {
            panic!("{problem}");
        }
    }

    pub(super) fn param_illegal_problem(&self, expected: &str) -> Option<String> {
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
