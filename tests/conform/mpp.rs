//! A sample MPP: an inquiryPayment endpoint as a wallet writes it (verifies Alipay+'s
//! signature, checks the request's fields, answers from its payments, signs its answers), or
//! the same endpoint with one field rule broken.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::keys;

/// The client id Alipay+ calls the MPP with.
pub const ALIPAY_PLUS: &str = "TEST_CONFORM_ALIPAY_PLUS";
/// A payment that succeeded.
pub const PAID: &str = "PAY-SUCCESS-1";
/// A payment still in process.
pub const PENDING: &str = "PAY-PENDING-1";
const PATH: &str = "/mpp/aps/api/v1/payments/inquiryPayment";

/// The one rule a sample MPP breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MppFlaw {
    /// None.
    None,
    /// Answers a paymentId of 65 characters (the page's maximum is 64).
    PaymentIdTooLong,
}

/// Serves a sample MPP; answers its inquiryPayment URL.
pub async fn spawn(flaw: MppFlaw) -> String {
    let app = Router::new()
        .route(PATH, post(inquiry))
        .with_state(Arc::new(flaw));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}{PATH}")
}

async fn inquiry(State(flaw): State<Arc<MppFlaw>>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let client_id = h("client-id");
    if client_id != ALIPAY_PLUS {
        return unsigned("INVALID_CLIENT");
    }
    if let Err(code) =
        keys::check_request(&h("signature"), PATH, &client_id, &h("request-time"), &body)
    {
        return unsigned(code);
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return signed(failure("PARAM_ILLEGAL"));
    };
    let field = |name: &str| {
        request[name]
            .as_str()
            .filter(|v| !v.is_empty() && v.len() <= 64)
    };
    let (Some(_), Some(_), Some(id)) = (
        field("acquirerId"),
        field("pspId"),
        field("paymentRequestId"),
    ) else {
        return signed(failure("PARAM_ILLEGAL"));
    };
    let success =
        json!({ "resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success" });
    let answer = match id {
        PAID => json!({
            "result": success,
            "paymentResult": success,
            "paymentId": match *flaw {
                MppFlaw::None => "2026120400000001".to_owned(),
                MppFlaw::PaymentIdTooLong => "9".repeat(65),
            },
            "paymentAmount": { "currency": "USD", "value": "1000" },
            "paymentTime": "2026-12-04T10:00:00+08:00",
            "customerId": "C-1",
        }),
        PENDING => json!({
            "result": success,
            "paymentResult": {
                "resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U",
                "resultMessage": "The payment is being processed."
            },
        }),
        _ => failure("ORDER_NOT_EXIST"),
    };
    signed(answer)
}

fn failure(code: &str) -> Value {
    json!({ "result": { "resultCode": code, "resultStatus": "F", "resultMessage": code.to_lowercase() } })
}

/// An authentication failure, unsigned as the real ones are.
fn unsigned(code: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        failure(code).to_string(),
    )
        .into_response()
}

fn signed(answer: Value) -> Response {
    let body = answer.to_string();
    let time = Utc::now().to_rfc3339();
    let signature = keys::sign_answer(PATH, ALIPAY_PLUS, &time, body.as_bytes());
    (
        [
            (header::CONTENT_TYPE.as_str(), "application/json".to_owned()),
            ("client-id", ALIPAY_PLUS.to_owned()),
            ("response-time", time),
            ("signature", signature),
        ],
        body,
    )
        .into_response()
}
