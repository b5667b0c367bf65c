//! A recording: one request the gateway forwarded to a real upstream and what came back, kept
//! so the same request can be answered again without the upstream (replay) and so the mock can
//! be compared with the real thing. Also the rule that matches a request to a recording.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The fields a request is matched to a recording by, in this order.
pub const KEY_FIELDS: [&str; 3] = ["paymentRequestId", "referenceTransactionId", "paymentId"];

/// The verdict of an upstream answer the gateway accepted.
pub const VALID: &str = "valid";

/// One forwarded request and the upstream's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    /// Assigned by the store, from 1; 0 before it is stored (an import assigns a new one).
    #[serde(default)]
    pub id: i64,
    /// When the request was forwarded (epoch milliseconds).
    pub recorded_at_ms: i64,
    /// The API name.
    pub api: String,
    /// The caller's Client-Id.
    pub client_id: String,
    /// `re-sign` or `pass-through`.
    pub signing: String,
    /// The key fields of the request ([`match_key`]).
    pub match_key: String,
    /// The request as sent upstream.
    pub request: RecordedMessage,
    /// The upstream's answer; no status when none came.
    pub response: RecordedMessage,
    /// How long the upstream took.
    pub latency_ms: i64,
    /// `valid`, or why the answer was refused.
    pub verdict: String,
}

/// One leg of a recording: where it went (or came from), its headers and its body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordedMessage {
    /// The URL the request was sent to; empty on a response.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// The HTTP status of a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The protocol headers (content-type, client-id, request-time or response-time, and the
    /// signature header without its signature value).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    pub body: String,
}

impl Recording {
    /// The body of the upstream's answer, parsed, when it was accepted.
    pub fn answer(&self) -> Option<Value> {
        (self.verdict == VALID)
            .then(|| serde_json::from_str(&self.response.body).ok())
            .flatten()
    }
}

/// What a listing of recordings is narrowed to; empty fields do not narrow.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RecordingFilter {
    /// Only this API.
    #[serde(default)]
    pub api: String,
    /// Only this caller.
    #[serde(default)]
    pub client_id: String,
    /// Only this match key (`paymentRequestId=...`).
    #[serde(default)]
    pub match_key: String,
    /// Only this verdict (`valid` for the replayable ones).
    #[serde(default)]
    pub verdict: String,
    /// At most this many, newest first (default 100).
    pub limit: Option<u32>,
}

/// The match key of a request body: each key field it has, as `field=value`, joined with `&`
/// (`paymentRequestId=R1&paymentId=P1`); empty when it has none.
pub fn match_key(body: &Value) -> String {
    KEY_FIELDS
        .iter()
        .filter_map(|field| {
            body.get(*field)
                .and_then(Value::as_str)
                .map(|v| format!("{field}={v}"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The recording that answers `body`, among `candidates` (same API and match key, newest
/// first): one whose request body is the same JSON (key order and spacing aside), else the
/// newest. A body with no key field matches only a recording of the same JSON.
pub fn choose<'a>(body: &Value, candidates: &'a [Recording]) -> Option<&'a Recording> {
    let wanted = canonical(body);
    let same_body = candidates.iter().find(|r| {
        serde_json::from_str::<Value>(&r.request.body).is_ok_and(|b| canonical(&b) == wanted)
    });
    match same_body {
        Some(found) => Some(found),
        None if match_key(body).is_empty() => None,
        None => candidates.first(),
    }
}

/// JSON with object keys sorted at every level, for comparing bodies.
pub fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let ordered: BTreeMap<&String, Value> =
                    map.iter().map(|(k, v)| (k, sorted(v))).collect();
                let mut out = serde_json::Map::new();
                for (k, v) in ordered {
                    out.insert(k.clone(), v);
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// A signature header without its signature: `algorithm=RSA256,keyVersion=1`.
pub fn without_signature_value(header: &str) -> String {
    header
        .split(',')
        .filter(|part| !part.trim_start().starts_with("signature="))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recorded(id: i64, body: &Value) -> Recording {
        Recording {
            id,
            recorded_at_ms: 0,
            api: "inquiryPayment".into(),
            client_id: "C".into(),
            signing: "re-sign".into(),
            match_key: match_key(body),
            request: RecordedMessage {
                body: body.to_string(),
                ..RecordedMessage::default()
            },
            response: RecordedMessage::default(),
            latency_ms: 1,
            verdict: VALID.into(),
        }
    }

    #[test]
    fn the_match_key_names_each_key_field_present_in_order() {
        let body = json!({"paymentId": "P1", "paymentRequestId": "R1", "x": 1});
        assert_eq!(match_key(&body), "paymentRequestId=R1&paymentId=P1");
        assert_eq!(match_key(&json!({"x": 1})), "");
    }

    #[test]
    fn the_same_body_is_preferred_else_the_newest_with_the_same_key() {
        let asked = json!({"paymentRequestId": "R1", "b": 1, "a": 2});
        let newest = recorded(3, &json!({"paymentRequestId": "R1", "a": 9}));
        let same = recorded(2, &json!({"a": 2, "paymentRequestId": "R1", "b": 1}));
        let candidates = [newest.clone(), same.clone()];
        assert_eq!(choose(&asked, &candidates).map(|r| r.id), Some(2));
        let other = json!({"paymentRequestId": "R1", "a": 5});
        assert_eq!(choose(&other, &candidates).map(|r| r.id), Some(3));
        assert!(choose(&json!({"a": 5}), &[recorded(1, &json!({"a": 6}))]).is_none());
    }

    #[test]
    fn the_signature_value_is_left_out_of_a_recorded_header() {
        assert_eq!(
            without_signature_value("algorithm=RSA256,keyVersion=1,signature=abc%3D"),
            "algorithm=RSA256,keyVersion=1"
        );
    }
}
