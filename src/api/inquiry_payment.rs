//! inquiryPayment (Alipay+ -> MPP): Alipay+ asks the wallet for a payment's result. The gateway
//! plays the MPP and answers from the payment-state store, per the page's "How to return the
//! result".

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Api;
use super::answer::Enveloped;
use super::error::ApiError;
use super::extract::{Valid, WireRequest};
use super::pipeline::admission::Caller;
use super::pipeline::scenario::ForcedPaymentResult;
use super::reply;
use super::state::AppState;
use crate::protocol::Endpoint;
use crate::protocol::codes::{self, Code, INQUIRY_PAYMENT_RESULT};
use crate::protocol::schema::{Field, Kind, RESULT, parse_decimal, text};
use crate::protocol::{Amount, ResultCode, ResultStatus, WireResult};
use crate::store::{Payment, PaymentStatus};

/// Everything about inquiryPayment.
pub const API: Api = Api {
    spec: Endpoint::InquiryPayment.spec(),
    request: InquiryPaymentRequest::FIELDS,
    response: InquiryPaymentResponse::FIELDS,
    schemas: ("InquiryPaymentRequest", "InquiryPaymentResponse"),
    example: || {
        json!({
            "acquirerId": "1022188000000000001",
            "pspId": "1022172000000000001",
            "paymentRequestId": "pay-example-0001"
        })
    },
    handler: || post(handle),
};

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InquiryPaymentRequest {
    /// The ACQP's id at Alipay+.
    pub acquirer_id: String,
    /// The MPP's id at Alipay+.
    pub psp_id: String,
    /// Alipay+'s id of the payment order.
    pub payment_request_id: String,
}

impl WireRequest for InquiryPaymentRequest {
    const FIELDS: &'static [Field] = &[
        Field::required("acquirerId", text(64)),
        Field::required("pspId", text(64)),
        Field::required("paymentRequestId", text(64)),
    ];
}

/// The response body; payment fields only when the payment succeeded.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct InquiryPaymentResponse {
    /// Whether the inquiry itself worked.
    pub result: WireResult,
    /// The payment's status: S, F with its code, or U / PAYMENT_IN_PROCESS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_result: Option<WireResult>,
    /// The MPP's payment id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    /// The amount Alipay+ requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_amount: Option<Amount>,
    /// The amount in the MPP's currency, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pay_to_amount: Option<Amount>,
    /// When the payment reached its final state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_time: Option<String>,
    /// The MPP's user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// The amount to declare to customs (Chinese Mainland wallets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_declaration_amount: Option<Amount>,
    /// What the MPP passes through to the ACQP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass_through_info: Option<String>,
}

impl InquiryPaymentResponse {
    /// The page's response field rules, in its order. Which fields come with which
    /// `paymentResult` ("Return this parameter if ...") is judged beside them by whoever checks
    /// an MPP's answer (`conform inquiry`); these are the rules every answer holds to.
    pub const FIELDS: &'static [Field] = &[
        Field::required("result", Kind::Object(RESULT)),
        Field::optional("paymentResult", Kind::Object(RESULT)),
        Field::optional("paymentId", text(64)),
        Field::optional("paymentAmount", Kind::Amount),
        Field::optional("payToAmount", Kind::Amount),
        Field::optional("paymentTime", Kind::Datetime),
        Field::optional("customerId", text(64)),
        Field::optional("customsDeclarationAmount", Kind::Amount),
        Field::optional("passThroughInfo", text(20000)),
    ];
}

impl Enveloped for InquiryPaymentResponse {
    fn result(&self) -> &WireResult {
        &self.result
    }
}

/// Wallets whose local authority requires a customs declaration, and its currency.
const CUSTOMS_WALLETS: &[(&str, &str)] = &[("ALIPAY_CN", "CNY")];

/// Answers from the store: unknown F/ORDER_NOT_EXIST; processing S + U/PAYMENT_IN_PROCESS;
/// success S + S with the payment's details; failure S + F with its code.
pub async fn handle(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    forced: Option<Extension<ForcedPaymentResult>>,
    Valid(request): Valid<InquiryPaymentRequest>,
) -> Result<Response, ApiError> {
    // Another merchant's payment is, to this caller, one that does not exist.
    let stored = state
        .store
        .payment(&request.payment_request_id)
        .await?
        .filter(|p| p.is_visible_to(&caller.client.id));
    if let Some(Extension(ForcedPaymentResult(code))) = forced {
        return Ok(reply(&forced_answer(code, stored.as_ref())?));
    }
    let payment = stored.ok_or_else(|| ApiError::Business {
        code: ResultCode::OrderNotExist,
        message: format!(
            "paymentRequestId {} does not exist",
            request.payment_request_id
        ),
    })?;
    Ok(reply(&answer(&payment)?))
}

/// The answer a scenario forces: the inquiry worked, the payment has the given result. A forced
/// success answers the stored payment's details when it has succeeded, else a payment id and
/// time of its own.
fn forced_answer(
    code: &Code,
    stored: Option<&Payment>,
) -> Result<InquiryPaymentResponse, ApiError> {
    if code.status == ResultStatus::S
        && let Some(p) = stored.filter(|p| p.status == PaymentStatus::Success)
    {
        return answer(p);
    }
    let succeeded = code.status == ResultStatus::S;
    Ok(InquiryPaymentResponse {
        result: WireResult::success(),
        payment_result: Some(WireResult::new(code.code, code.status, code.message)),
        payment_id: succeeded.then(crate::ids::payment_id),
        payment_amount: None,
        pay_to_amount: None,
        payment_time: succeeded
            .then(|| crate::protocol::datetime::format_seconds(chrono::Utc::now().fixed_offset())),
        customer_id: None,
        customs_declaration_amount: None,
        pass_through_info: None,
    })
}

/// The response for a stored payment.
pub fn answer(payment: &Payment) -> Result<InquiryPaymentResponse, ApiError> {
    let mut response = InquiryPaymentResponse {
        result: WireResult::success(),
        payment_result: Some(payment_result(payment)),
        payment_id: None,
        payment_amount: None,
        pay_to_amount: None,
        payment_time: None,
        customer_id: None,
        customs_declaration_amount: None,
        pass_through_info: payment.pass_through_info.clone(),
    };
    if payment.status != PaymentStatus::Success {
        return Ok(response);
    }
    let pay_to_amount = pay_to_amount(payment)?;
    response.customs_declaration_amount = payment
        .customs_declaration_amount
        .clone()
        .or_else(|| customs_amount(payment, pay_to_amount.as_ref()));
    response.payment_id = payment.payment_id.clone();
    response.payment_amount = payment.payment_amount.clone();
    response.pay_to_amount = pay_to_amount;
    response.payment_time = payment.payment_time.clone();
    response.customer_id = payment.customer_id.clone();
    Ok(response)
}

fn payment_result(payment: &Payment) -> WireResult {
    let (code, status) = match payment.status {
        PaymentStatus::Success => ("SUCCESS", ResultStatus::S),
        PaymentStatus::Processing => ("PAYMENT_IN_PROCESS", ResultStatus::U),
        PaymentStatus::Fail => (payment.result_code.as_str(), ResultStatus::F),
    };
    let message = payment
        .result_message
        .clone()
        .filter(|_| payment.status == PaymentStatus::Fail)
        .or_else(|| codes::find(INQUIRY_PAYMENT_RESULT, code).map(|c| c.message.to_owned()))
        .unwrap_or_else(|| code.to_owned());
    WireResult::new(code, status, message)
}

/// paymentAmount x quotePrice in the MPP currency, HALF_EVEN, when that currency differs.
fn pay_to_amount(payment: &Payment) -> Result<Option<Amount>, ApiError> {
    let (Some(amount), Some(target)) = (&payment.payment_amount, &payment.pay_to_currency) else {
        return Ok(None);
    };
    if &amount.currency == target {
        return Ok(None);
    }
    let price: Decimal = payment
        .payment_quote
        .as_ref()
        .and_then(|q| parse_decimal(&q.quote_price))
        .ok_or_else(|| {
            ApiError::Internal(format!(
                "payment {:?} has a pay-to currency but no quote",
                payment.payment_request_id
            ))
        })?;
    amount
        .convert(target, price)
        .map(Some)
        .map_err(|e| ApiError::Internal(format!("payToAmount conversion failed: {e}")))
}

/// The customs declaration amount derived for wallets that need one: the amount in the
/// wallet's currency, when the payment carries it.
fn customs_amount(payment: &Payment, pay_to: Option<&Amount>) -> Option<Amount> {
    let psp = payment.psp_name.as_deref()?;
    let (_, currency) = CUSTOMS_WALLETS.iter().find(|(name, _)| *name == psp)?;
    [pay_to, payment.payment_amount.as_ref()]
        .into_iter()
        .flatten()
        .find(|a| a.currency == *currency)
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::validate;

    fn payment(status: PaymentStatus) -> Payment {
        let now = chrono::Utc::now();
        Payment {
            payment_request_id: Some("REQ-1".into()),
            payment_id: Some("2026112201".into()),
            status,
            payment_time: Some("2026-11-22T10:00:00+08:00".into()),
            payment_amount: Some(Amount::new("JPY", "200")),
            pay_to_currency: Some("CNY".into()),
            payment_quote: Some(crate::store::Quote {
                quote_id: None,
                quote_currency_pair: None,
                quote_price: "0.064622".into(),
            }),
            customer_id: Some("C1".into()),
            psp_name: Some("ALIPAY_CN".into()),
            pass_through_info: Some("k=v".into()),
            ..Payment::new(status, "RISK_REJECT", now)
        }
    }

    #[test]
    fn the_gateways_own_answers_hold_to_the_response_field_rules() {
        for status in [
            PaymentStatus::Success,
            PaymentStatus::Fail,
            PaymentStatus::Processing,
        ] {
            let body = serde_json::to_value(answer(&payment(status)).unwrap()).unwrap();
            assert_eq!(
                validate(&body, InquiryPaymentResponse::FIELDS),
                Ok(()),
                "{body}"
            );
        }
    }
}
