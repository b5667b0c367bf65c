//! What an operator relies on: liveness, readiness, Prometheus metrics that count requests and
//! signature failures, and the OpenAPI document.

use serde_json::json;

use super::helpers::{paths, spawn_app, unique_id};

async fn get(app: &super::helpers::TestApp, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{}{path}", app.address))
        .await
        .expect("the gateway answers");
    (
        response.status().as_u16(),
        response.text().await.unwrap_or_default(),
    )
}

#[tokio::test]
async fn healthz_and_readyz_answer_while_the_store_answers() {
    let app = spawn_app().await;
    assert_eq!(get(&app, "/healthz").await.0, 200);
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, 200);
    assert!(body.contains("\"ready\""), "{body}");
}

#[tokio::test]
async fn metrics_count_requests_by_api_and_result_code_and_signature_failures_by_reason() {
    let app = spawn_app().await;
    let inquiry =
        json!({"acquirerId": "A", "pspId": "P", "paymentRequestId": unique_id("MISSING")});
    assert_eq!(
        app.post_signed(paths::INQUIRY_PAYMENT, inquiry.clone())
            .await
            .result_code(),
        "ORDER_NOT_EXIST"
    );
    let tampered = app
        .post(paths::INQUIRY_PAYMENT, inquiry)
        .tampered_after_signing(|body| body.replace("\"A\"", "\"B\""))
        .send()
        .await;
    assert_eq!(tampered.result_code(), "INVALID_SIGNATURE");

    let (status, text) = get(&app, "/metrics").await;
    assert_eq!(status, 200);
    let has = |needle: &str| {
        text.lines()
            .any(|l| l.starts_with("gateway_") && l.contains(needle))
    };
    assert!(
        has("endpoint=\"inquiryPayment\"") && has("result_code=\"ORDER_NOT_EXIST\""),
        "{text}"
    );
    assert!(
        has("gateway_signature_failures_total{reason=\"content_changed\"}"),
        "{text}"
    );
    assert!(
        text.contains("gateway_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("gateway_notification_queue_depth"), "{text}");
}

#[tokio::test]
async fn the_openapi_document_is_served_and_names_every_api() {
    let app = spawn_app().await;
    let (status, body) = get(&app, "/openapi.json").await;
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        doc["openapi"].as_str().unwrap_or("").starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        paths::SEND_PAYMENT_RESULT,
        paths::NOTIFY_PUSH_PAYMENT,
        paths::INQUIRY_PAYMENT,
        paths::NOTIFY_PAYMENT,
    ] {
        assert!(
            doc["paths"][path]["post"].is_object(),
            "{path} is not documented"
        );
    }
}
