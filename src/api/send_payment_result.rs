//! sendPaymentResult (Antom risk): a merchant reports a card payment's final result. The
//! gateway plays the risk engine: it records the report once per client and transaction.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;

use super::Api;
use super::error::ApiError;
use super::extract::{Valid, WireRequest};
use super::pipeline::admission::Caller;
use super::reply_result;
use super::state::AppState;
use crate::protocol::Endpoint;
use crate::protocol::schema;
use crate::protocol::schema::{Field, Kind, text};
use crate::protocol::{ResultCode, WireResult};
use crate::store::{ReportOutcome, RiskReport};

/// Everything about sendPaymentResult.
pub const API: Api = Api {
    spec: Endpoint::SendPaymentResult.spec(),
    request: SendPaymentResultRequest::FIELDS,
    response: schema::ENVELOPE,
    schemas: ("SendPaymentResultRequest", "ResultResponse"),
    example: || {
        json!({
            "referenceTransactionId": "T-20260101-0001",
            "paymentStatus": "SUCCESS",
            "paymentMethodProvider": "VISA",
            "cardVerificationResult": {
                "authenticationType": "3D",
                "cvvResult": "Y",
                "threeDSResult": {"threeDSVersion": "2.2.0", "eci": "05"}
            }
        })
    },
    handler: || post(handle),
};

/// `authorizationError` (the page's "Error" object).
const AUTHORIZATION_ERROR: &[Field] = &[
    Field::optional("errorCode", text(64)),
    Field::optional("errorMessage", text(256)),
];

/// `cardVerificationResult.threeDSResult`.
const THREE_DS_RESULT: &[Field] = &[
    Field::optional("threeDSVersion", text(16)),
    Field::optional("threeDSInteractionMode", text(32)),
    Field::optional("eci", text(8)),
    Field::optional("cavv", text(64)),
];

/// `cardVerificationResult`.
const CARD_VERIFICATION_RESULT: &[Field] = &[
    Field::optional("authenticationType", text(16)),
    Field::optional("authenticationMethod", text(64)),
    Field::optional("cvvResult", text(64)),
    Field::optional("avsResult", text(64)),
    Field::optional("authorizationCode", text(64)),
    Field::optional("threeDSResult", Kind::Object(THREE_DS_RESULT)),
];

/// The request body. Sub-objects are kept as JSON: the gateway stores them, it does not act on
/// them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendPaymentResultRequest {
    /// The merchant's transaction id.
    pub reference_transaction_id: String,
    /// SUCCESS or FAIL.
    pub payment_status: String,
    /// Why the card authorisation failed.
    pub authorization_error: Option<Value>,
    /// The card verification result.
    pub card_verification_result: Option<Value>,
    /// The payment method provider, e.g. VISA.
    pub payment_method_provider: String,
}

impl WireRequest for SendPaymentResultRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("referenceTransactionId", text(64)),
        Field::required(
            "paymentStatus",
            Kind::Enum {
                allowed: &["SUCCESS", "FAIL"],
            },
        ),
        Field::optional("authorizationError", Kind::Object(AUTHORIZATION_ERROR)),
        Field::optional(
            "cardVerificationResult",
            Kind::Object(CARD_VERIFICATION_RESULT),
        ),
        Field::required("paymentMethodProvider", text(64)),
    ];
}

impl SendPaymentResultRequest {
    /// The report in canonical form: keys sorted at every level, nulls dropped, so a repeat
    /// that only reorders or adds nulls is the same report.
    fn canonical(&self) -> String {
        let mut report = serde_json::Map::new();
        report.insert(
            "referenceTransactionId".into(),
            Value::from(self.reference_transaction_id.as_str()),
        );
        report.insert(
            "paymentStatus".into(),
            Value::from(self.payment_status.as_str()),
        );
        report.insert(
            "paymentMethodProvider".into(),
            Value::from(self.payment_method_provider.as_str()),
        );
        if let Some(v) = &self.authorization_error {
            report.insert("authorizationError".into(), v.clone());
        }
        if let Some(v) = &self.card_verification_result {
            report.insert("cardVerificationResult".into(), v.clone());
        }
        canonical_json(&Value::Object(report))
    }
}

/// Drops `null` members, and objects left empty by that, at every level: `{"a":{"b":null}}`
/// says no more than `{}`.
fn prune(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Object(map) => {
            let kept: serde_json::Map<String, Value> = map
                .iter()
                .filter_map(|(k, v)| prune(v).map(|v| (k.clone(), v)))
                .collect();
            (!kept.is_empty()).then_some(Value::Object(kept))
        }
        other => Some(other.clone()),
    }
}

/// Serialises JSON with object keys sorted, `null` members and the objects they leave empty
/// dropped.
pub fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<_> = map.iter().filter(|(_, v)| !v.is_null()).collect();
                keys.sort_by(|a, b| a.0.cmp(b.0));
                out.push('{');
                for (i, (k, v)) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::from(k.as_str()).to_string());
                    out.push(':');
                    write(v, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(v, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(&prune(value).unwrap_or(Value::Null), &mut out);
    out
}

/// Records the report; a repeat answers S, a contradicting repeat F and the first stands.
pub async fn handle(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Valid(request): Valid<SendPaymentResultRequest>,
) -> Result<Response, ApiError> {
    let report = RiskReport {
        client_id: caller.client.id.clone(),
        reference_transaction_id: request.reference_transaction_id.clone(),
        payment_status: request.payment_status.clone(),
        report: request.canonical(),
        received_at: chrono::Utc::now(),
    };
    match state.store.record_risk_report(report).await? {
        ReportOutcome::Recorded(_) | ReportOutcome::Repeated(_) => {
            // The page's sample answer.
            let result = WireResult::from_code(ResultCode::Success, "Updated success");
            Ok(reply_result(result))
        }
        ReportOutcome::Contradicts(first) => Err(ApiError::Business {
            code: ResultCode::RepeatReqInconsistent,
            message: format!(
                "referenceTransactionId {} was already reported differently (paymentStatus {}); the first report stands",
                first.reference_transaction_id, first.payment_status
            ),
        }),
        // Risk reports are keyed by the caller's own Client-Id, so none is another's.
        ReportOutcome::Foreign => Err(ApiError::Internal(
            "the store refused a risk report as another client's".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_ignores_key_order_and_nulls() {
        let a = serde_json::json!({"b": 1, "a": {"y": null, "x": "1"}});
        let b = serde_json::json!({"a": {"x": "1"}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"1"},"b":1}"#);
        let emptied = serde_json::json!({"b": 1, "authorizationError": {"errorCode": null}});
        assert_eq!(
            canonical_json(&emptied),
            canonical_json(&serde_json::json!({"b": 1}))
        );
    }
}
