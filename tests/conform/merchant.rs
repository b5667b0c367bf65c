//! A sample merchant: a payment result notification handler as a careful merchant writes it
//! (verifies the signature and the client id, refuses a request-time outside five minutes,
//! knows its orders, deduplicates on notification-id, stores before it answers S, signs its
//! answers), or the same handler with one flaw.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::keys;

/// The merchant's client id.
pub const MERCHANT: &str = "TEST_CONFORM_MERCHANT";
/// The order the success notification reports.
pub const PAID_ORDER: &str = "ORDER-PAID-1";
/// The order the failure notification reports.
pub const FAILED_ORDER: &str = "ORDER-FAILED-1";
/// Where notifications arrive.
const PATH: &str = "/merchant/alipay/notify";

/// The one thing a sample handler gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    /// Nothing.
    None,
    /// Skips verification when there is no signature header.
    AcceptsUnsigned,
    /// Skips verification of a signature value it verified before (a "cache"), so the
    /// headers of a genuine notification carry any body.
    AcceptsATamperedBody,
    /// Answers F to a notification-id it has processed.
    NotIdempotent,
    /// Answers the right JSON as `text/plain`.
    AnswersNonJson,
    /// Acknowledges with the plain text `success` of Alipay's older notification protocols.
    AnswersPlainTextSuccess,
    /// Never answers a failed payment's notification.
    SlowOnAFailedPayment,
    /// Answers HTTP 500 to a notification-id it has processed.
    CrashesOnADuplicate,
    /// Answers S and stores nothing.
    ForgetsTheResult,
}

struct Merchant {
    flaw: Flaw,
    seen: Mutex<HashSet<String>>,
    verified: Mutex<HashSet<String>>,
    stored: Mutex<HashMap<String, String>>,
}

/// A sample merchant serving on 127.0.0.1.
pub struct SampleMerchant {
    /// Its notify URL.
    pub url: String,
    /// Its order lookup, for `--state-url`.
    pub state_url: String,
}

/// Serves a sample merchant with `flaw` on a port of its own.
pub async fn spawn(flaw: Flaw) -> SampleMerchant {
    let merchant = Arc::new(Merchant {
        flaw,
        seen: Mutex::default(),
        verified: Mutex::default(),
        stored: Mutex::default(),
    });
    let app = Router::new()
        .route(PATH, post(notify))
        .route("/merchant/orders/{id}", get(order))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(merchant);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    SampleMerchant {
        url: format!("http://{address}{PATH}"),
        state_url: format!("http://{address}/merchant/orders/{{paymentRequestId}}"),
    }
}

async fn order(State(m): State<Arc<Merchant>>, Path(id): Path<String>) -> Response {
    match m.stored.lock().unwrap().get(&id) {
        Some(status) => {
            axum::Json(json!({ "paymentRequestId": id, "status": status })).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn notify(State(m): State<Arc<Merchant>>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (client_id, time, signature) = (h("client-id"), h("request-time"), h("signature"));
    if client_id != MERCHANT {
        return answer(&m, "F", "INVALID_CLIENT");
    }
    if signature.is_empty() {
        if m.flaw != Flaw::AcceptsUnsigned {
            return answer(&m, "F", "INVALID_SIGNATURE");
        }
    } else {
        let trusted =
            m.flaw == Flaw::AcceptsATamperedBody && m.verified.lock().unwrap().contains(&signature);
        if !trusted {
            if let Err(code) = keys::check_request(&signature, PATH, &client_id, &time, &body) {
                return answer(&m, "F", code);
            }
            m.verified.lock().unwrap().insert(signature.clone());
        }
    }
    if !recent(&time) {
        return answer(&m, "F", "INVALID_SIGNATURE");
    }
    let Ok(notification) = serde_json::from_slice::<Value>(&body) else {
        return answer(&m, "F", "PARAM_ILLEGAL");
    };
    let order = notification["paymentRequestId"]
        .as_str()
        .unwrap_or_default();
    if order != PAID_ORDER && order != FAILED_ORDER {
        return answer(&m, "F", "PROCESS_FAIL");
    }
    let status = notification["result"]["resultStatus"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if status == "F" && m.flaw == Flaw::SlowOnAFailedPayment {
        std::future::pending::<()>().await;
    }
    let first = m.seen.lock().unwrap().insert(h("notification-id"));
    if !first {
        match m.flaw {
            Flaw::NotIdempotent => return answer(&m, "F", "PROCESS_FAIL"),
            Flaw::CrashesOnADuplicate => {
                return (StatusCode::INTERNAL_SERVER_ERROR, "duplicate key").into_response();
            }
            _ => {}
        }
    }
    if m.flaw != Flaw::ForgetsTheResult {
        m.stored.lock().unwrap().insert(order.to_owned(), status);
    }
    answer(&m, "S", "SUCCESS")
}

/// Whether a request-time is within five minutes of the clock.
fn recent(time: &str) -> bool {
    let at = match time.parse::<i64>() {
        Ok(millis) => DateTime::from_timestamp_millis(millis),
        Err(_) => DateTime::parse_from_rfc3339(time)
            .ok()
            .map(|t| t.with_timezone(&Utc)),
    };
    at.is_some_and(|at| (Utc::now() - at).num_seconds().abs() <= 300)
}

/// The acknowledgement, signed; `text/plain` for [`Flaw::AnswersNonJson`].
fn answer(m: &Merchant, status: &str, code: &str) -> Response {
    let body = if status == "S" && m.flaw == Flaw::AnswersPlainTextSuccess {
        "success".to_owned()
    } else {
        json!({
            "result": { "resultCode": code, "resultStatus": status, "resultMessage": code.to_lowercase() }
        })
        .to_string()
    };
    let time = Utc::now().to_rfc3339();
    let signature = keys::sign_answer(PATH, MERCHANT, &time, body.as_bytes());
    let content_type = if matches!(m.flaw, Flaw::AnswersNonJson | Flaw::AnswersPlainTextSuccess) {
        "text/plain; charset=utf-8"
    } else {
        "application/json"
    };
    (
        [
            (header::CONTENT_TYPE.as_str(), content_type.to_owned()),
            ("client-id", MERCHANT.to_owned()),
            ("response-time", time),
            ("signature", signature),
        ],
        body,
    )
        .into_response()
}
