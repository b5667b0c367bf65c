//! notifyPushPayment (ACQP -> Alipay+): an acquirer reports a push-mode payment's final result.
//! The gateway plays Alipay+: the result is stored and becomes what inquiryPayment answers.

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

use super::Api;
use super::error::ApiError;
use super::extract::{Valid, WireRequest};
use super::pipeline::admission::Caller;
use super::reply_result;
use super::state::AppState;
use crate::journal;
use crate::protocol::Endpoint;
use crate::protocol::codes::{self, PUSH_PAYMENT_RESULT};
use crate::protocol::schema;
use crate::protocol::schema::{Field, FieldError, Kind, text};
use crate::protocol::{ResultCode, ResultStatus, WireResult};
use crate::store::{PaymentStatus, PushReport, ReportOutcome};

/// Everything about notifyPushPayment.
pub const API: Api = Api {
    spec: Endpoint::NotifyPushPayment.spec(),
    request: NotifyPushPaymentRequest::FIELDS,
    response: schema::ENVELOPE,
    schemas: ("NotifyPushPaymentRequest", "ResultResponse"),
    example: || {
        json!({
            "paymentResult": {
                "resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"
            },
            "paymentId": "20260101111111111111",
            "paymentRequestId": "push-example-0001",
            "paymentTime": "2026-01-01T12:01:01+08:00"
        })
    },
    handler: || post(handle),
};

/// `paymentResult`: a final result, so S or F, never U.
const FINAL_RESULT: &[Field] = &[
    Field::required("resultCode", text(64)),
    Field::required(
        "resultStatus",
        Kind::Enum {
            allowed: &["S", "F"],
        },
    ),
    Field::optional("resultMessage", text(256)),
];

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotifyPushPaymentRequest {
    /// The payment's final result.
    pub payment_result: WireResult,
    /// Alipay+'s payment id.
    pub payment_id: String,
    /// The ACQP's payment request id; required on success.
    pub payment_request_id: Option<String>,
    /// When the payment reached its final state; required on success.
    pub payment_time: Option<String>,
}

impl WireRequest for NotifyPushPaymentRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("paymentResult", Kind::Object(FINAL_RESULT)),
        Field::required("paymentId", text(64)),
        Field::optional("paymentRequestId", text(64)),
        Field::optional("paymentTime", Kind::Datetime),
    ];

    fn check(&self) -> Result<(), FieldError> {
        let result = &self.payment_result;
        match result.result_status {
            ResultStatus::S => {
                if result.result_code != "SUCCESS" {
                    return Err(FieldError::new(
                        "paymentResult.resultCode",
                        "must be SUCCESS when resultStatus is S",
                    ));
                }
                if self.payment_request_id.is_none() {
                    return Err(FieldError::new(
                        "paymentRequestId",
                        "required when paymentResult.resultStatus is S",
                    ));
                }
                if self.payment_time.is_none() {
                    return Err(FieldError::new(
                        "paymentTime",
                        "required when paymentResult.resultStatus is S",
                    ));
                }
            }
            _ => {
                let known = codes::find(PUSH_PAYMENT_RESULT, &result.result_code);
                if known.is_none_or(|c| c.status != ResultStatus::F) {
                    return Err(FieldError::new(
                        "paymentResult.resultCode",
                        format!(
                            "must be a failure code of the payment result table when resultStatus is F ({})",
                            codes::list(PUSH_PAYMENT_RESULT, ResultStatus::F)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Stores the final result and, when it makes the payment final, queues its notification. The
/// same report again answers S; a different one answers PROCESS_FAIL and the first result
/// stands.
pub async fn handle(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Valid(request): Valid<NotifyPushPaymentRequest>,
) -> Result<Response, ApiError> {
    let status = match request.payment_result.result_status {
        ResultStatus::S => PaymentStatus::Success,
        _ => PaymentStatus::Fail,
    };
    let report = PushReport {
        payment_id: request.payment_id,
        payment_request_id: request.payment_request_id,
        status,
        result_code: request.payment_result.result_code,
        result_message: request.payment_result.result_message,
        payment_time: request.payment_time,
    };
    let urls = state.clients.notify_urls();
    let plan = state.notify_plan(&caller.client.id, &urls);
    let written = state.store.record_push_result(report, &plan).await?;
    match written.outcome {
        ReportOutcome::Recorded(_) => {
            let note = written
                .queuing
                .reason()
                .unwrap_or("notification queued")
                .to_owned();
            let mut response = reply_result(WireResult::success());
            response.extensions_mut().insert(journal::Note(note));
            Ok(response)
        }
        ReportOutcome::Repeated(_) => Ok(reply_result(WireResult::success())),
        // The page has no ORDER_NOT_EXIST; ACCESS_DENIED says the caller may not, and nothing of
        // the other merchant's payment is told.
        ReportOutcome::Foreign => Err(ApiError::AccessDenied(format!(
            "Client-Id {} may not report this payment: it belongs to another merchant",
            caller.client.id
        ))),
        ReportOutcome::Contradicts(first) => Err(ApiError::Business {
            code: ResultCode::ProcessFail,
            message: format!(
                "payment {} already has the result {}/{}; the first result stands",
                first
                    .payment_id
                    .as_deref()
                    .or(first.payment_request_id.as_deref())
                    .unwrap_or_default(),
                first.status.result_status().as_str(),
                first.result_code
            ),
        }),
    }
}
