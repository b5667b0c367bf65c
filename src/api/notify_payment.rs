//! The payment result notification receiver (Antom -> merchant): the gateway plays a merchant's
//! webhook. It verifies the notification like any signed request, checks every field of the
//! page, records what it got with its verdict, and acknowledges with SUCCESS (the answer that
//! stops the sender's retries) unless told to fail the next ones. In real mode with a relay, it
//! forwards each valid notification to the local handler and answers that handler's
//! acknowledgement instead (docs/real-mode.md).

use std::sync::Mutex;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::Api;
use super::extract::{self, WireRequest};
use super::pipeline::admission::{Caller, ParsedBody};
use super::reply_result;
use super::state::AppState;
use crate::protocol::Endpoint;
use crate::protocol::schema;
use crate::protocol::schema::{Field, FieldError, Kind, RESULT, text};
use crate::protocol::{Amount, ResultCode, ResultStatus, WireResult};
use crate::store::ReceivedNotification;

/// Everything about notifyPayment.
pub const API: Api = Api {
    spec: Endpoint::NotifyPayment.spec(),
    request: NotifyPaymentRequest::FIELDS,
    response: schema::ENVELOPE,
    schemas: ("NotifyPaymentRequest", "ResultResponse"),
    example: || {
        json!({
            "notifyType": "PAYMENT_RESULT",
            "result": {
                "resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"
            },
            "paymentRequestId": "pay-example-0001",
            "paymentId": "20260101111111111111",
            "paymentAmount": {"currency": "JPY", "value": "200"},
            "paymentTime": "2026-01-01T12:01:01+08:00"
        })
    },
    handler: || post(handle),
};

/// `Quote`: real notifications send quotePrice as a JSON number and guaranteed as a boolean.
pub const QUOTE: &[Field] = &[
    Field::optional("quoteId", text(64)),
    Field::optional("quoteCurrencyPair", text(16)),
    Field::optional("quotePrice", Kind::Decimal),
    Field::optional("quoteStartTime", Kind::Datetime),
    Field::optional("quoteExpiryTime", Kind::Datetime),
    Field::optional("guaranteed", Kind::Bool),
    Field::optional("exchangeAmount", Kind::Amount),
];

/// `PspCustomerInfo`.
pub const PSP_CUSTOMER_INFO: &[Field] = &[
    Field::optional("pspName", text(64)),
    Field::optional("pspCustomerId", text(64)),
    Field::optional("displayCustomerId", text(64)),
    Field::optional("displayCustomerName", text(256)),
    Field::optional("customer2088Id", text(64)),
    Field::optional("extendInfo", text(4096)),
];

/// The notification body; the fields the gateway acts on are typed, the rest are checked by the
/// field rules only.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyPaymentRequest {
    /// PAYMENT_RESULT or OFFLINE_PAYMENT_CODE.
    pub notify_type: String,
    /// The payment result (S or F).
    pub result: Option<WireResult>,
    /// The merchant's payment request id.
    pub payment_request_id: String,
    /// Antom's payment id.
    pub payment_id: String,
    /// The amount in the order currency.
    pub payment_amount: Amount,
    /// The offline payment code, with OFFLINE_PAYMENT_CODE.
    pub payment_action_form: Option<String>,
}

impl WireRequest for NotifyPaymentRequest {
    const FIELDS: &'static [Field] = &[
        Field::required(
            "notifyType",
            Kind::Enum {
                allowed: &["PAYMENT_RESULT", "OFFLINE_PAYMENT_CODE"],
            },
        ),
        Field::optional("result", Kind::Object(RESULT)),
        Field::required("paymentRequestId", text(64)),
        Field::required("paymentId", text(64)),
        Field::required("paymentAmount", Kind::Amount),
        Field::optional("actualPaymentAmount", Kind::Amount),
        Field::optional("paymentQuote", Kind::Object(QUOTE)),
        Field::optional("paymentCreateTime", Kind::Datetime),
        Field::optional("paymentTime", Kind::Datetime),
        Field::optional("pspCustomerInfo", Kind::Object(PSP_CUSTOMER_INFO)),
        Field::optional("grossSettlementAmount", Kind::Amount),
        Field::optional("settlementQuote", Kind::Object(QUOTE)),
        Field::optional("customsDeclarationAmount", Kind::Amount),
        Field::optional("acquirerReferenceNo", text(64)),
        Field::optional("paymentActionForm", text(20000)),
    ];

    fn check(&self) -> Result<(), FieldError> {
        match (self.notify_type.as_str(), &self.result) {
            ("PAYMENT_RESULT", None) => Err(FieldError::new(
                "result",
                "required when notifyType is PAYMENT_RESULT",
            )),
            (_, Some(r)) if r.result_status == ResultStatus::U => Err(FieldError::new(
                "result.resultStatus",
                "must be S or F: a payment result notification is never U",
            )),
            ("OFFLINE_PAYMENT_CODE", _) if self.payment_action_form.is_none() => {
                Err(FieldError::new(
                    "paymentActionForm",
                    "required when notifyType is OFFLINE_PAYMENT_CODE",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Failures the receiver has been told to answer (`POST /admin/receiver/fail-next`), so the
/// gateway can stand in for a merchant whose handler fails.
#[derive(Debug, Default)]
pub struct ReceiverControl {
    scripted: Mutex<Option<(u32, WireResult)>>,
}

impl ReceiverControl {
    /// Answer `result` to the next `count` well-formed notifications.
    pub fn fail_next(&self, count: u32, result: WireResult) {
        if let Ok(mut scripted) = self.scripted.lock() {
            *scripted = (count > 0).then_some((count, result));
        }
    }

    /// Takes one scripted failure, if any is left.
    fn take(&self) -> Option<WireResult> {
        let mut scripted = self.scripted.lock().ok()?;
        let (left, result) = scripted.as_mut()?;
        let answer = result.clone();
        *left -= 1;
        if *left == 0 {
            *scripted = None;
        }
        Some(answer)
    }

    /// How many scripted failures are left.
    pub fn pending(&self) -> u32 {
        self.scripted
            .lock()
            .ok()
            .and_then(|s| s.as_ref().map(|(n, _)| *n))
            .unwrap_or(0)
    }
}

/// Records the notification with its verdict, then acknowledges it: SUCCESS, or the failure
/// scripted through the admin API, or PARAM_ILLEGAL naming the field.
pub async fn handle(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parsed: Option<Extension<ParsedBody>>,
    request: Request,
) -> Response {
    // The head is kept for the relay, which forwards or re-signs it; the body admission read
    // is in memory already.
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    // The body admission parsed; read here only when the handler runs outside the pipeline.
    let value = match parsed {
        Some(Extension(ParsedBody(value))) => value,
        None => serde_json::from_slice(&body).map_err(extract::NotJson::from),
    };
    let payment_request_id = value
        .as_ref()
        .ok()
        .and_then(|v| v["paymentRequestId"].as_str().map(str::to_owned));
    let parsed = extract::check::<NotifyPaymentRequest>(value);
    let relay = state.real.as_ref().and_then(|r| r.relay.as_ref());
    let mut relayed = None;
    let (verdict, response_result) = match &parsed {
        Ok(n) => {
            tracing::debug!(
                payment_request_id = n.payment_request_id,
                notify_type = n.notify_type,
                "notification received"
            );
            let answer = match relay {
                // Real mode: the local handler's acknowledgement is the answer; when there is
                // none, U, so the real sender retries.
                Some(relay) => match relay.deliver(&headers, &body).await {
                    Ok(ack) => {
                        let result = ack.result.clone();
                        relayed = Some(ack.body);
                        result
                    }
                    Err(reason) => {
                        tracing::warn!(url = relay.url(), %reason, "relay: the local handler failed");
                        WireResult::from_code(
                            ResultCode::UnknownException,
                            format!("relay to {} failed: {reason}", relay.url()),
                        )
                    }
                },
                None => state.receiver.take().unwrap_or_else(WireResult::success),
            };
            ("valid".to_owned(), answer)
        }
        Err(e) => (e.to_string(), e.result()),
    };
    let received = ReceivedNotification {
        received_at_ms: chrono::Utc::now().timestamp_millis(),
        client_id: caller.client.id.clone(),
        payment_request_id,
        verdict,
        answered: response_result.result_code.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    record(&state, received).await;
    match relayed {
        // The handler's acknowledgement, byte for byte; sealing signs it with the gateway key.
        Some(ack) => {
            let mut response = Response::new(axum::body::Body::from(ack));
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json; charset=UTF-8"),
            );
            response
                .extensions_mut()
                .insert(super::answer::Answered(response_result));
            response
        }
        None => reply_result(response_result),
    }
}

/// Keeps what the receiver got, for `GET /admin/received-notifications`. Recording is best
/// effort: a store failure is logged and the acknowledgement still goes out.
async fn record(state: &AppState, received: ReceivedNotification) {
    if let Err(e) = state.store.record_received(received).await {
        tracing::warn!(error = %e, "could not record a received notification");
    }
}
