//! The payment result notification receiver (Antom -> merchant): the gateway plays a merchant's
//! webhook. It verifies the notification like any signed request, checks every field of the
//! page and acknowledges with SUCCESS, the answer that stops the sender's retries.

use axum::response::Response;
use serde::Deserialize;

use super::extract::{Valid, WireRequest};
use super::reply;
use crate::error::ApiError;
use crate::protocol::schema::{Field, FieldError, Kind, RESULT, text};
use crate::protocol::{Amount, ResultStatus, WireResult};

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

/// Acknowledges a well-formed, correctly signed notification with SUCCESS.
pub async fn handle(
    Valid(notification): Valid<NotifyPaymentRequest>,
) -> Result<Response, ApiError> {
    tracing::debug!(
        payment_request_id = notification.payment_request_id,
        payment_id = notification.payment_id,
        notify_type = notification.notify_type,
        "notification received"
    );
    Ok(reply(
        &serde_json::json!({ "result": WireResult::success() }),
    ))
}
