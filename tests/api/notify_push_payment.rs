//! notifyPushPayment (ACQP -> Alipay+): the page's request parameters, the S/F rule for
//! `paymentResult` and the conditional fields. Repeats and the link to inquiryPayment are in
//! `flows.rs`.

use serde_json::{Value, json};

use super::helpers::{FieldRule, paths, spawn_app, unique_id, with, without};

/// The doc sample, with fresh ids.
fn success_report() -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": unique_id("pay_1089760038715669_"),
        "paymentId": unique_id("2020010123456789013"),
        "paymentTime": "2020-01-01T12:01:01+08:30"
    })
}

/// A failure report carrying the optional fields too, with fresh ids.
fn failure_report() -> Value {
    json!({
        "paymentResult": {"resultCode": "RISK_REJECT", "resultStatus": "F", "resultMessage": "risk"},
        "paymentRequestId": unique_id("pay-"),
        "paymentId": unique_id("pid-"),
        "paymentTime": "2020-01-01T12:01:01+08:30"
    })
}

#[tokio::test]
async fn a_successful_push_payment_result_is_accepted() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post_signed(paths::NOTIFY_PUSH_PAYMENT, success_report())
        .await;

    // Assert
    assert_eq!(
        reply.json,
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"}})
    );
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}",
        reply.gateway_signature_problem()
    );
}

#[tokio::test]
async fn a_failed_payment_needs_only_its_result_and_payment_id() {
    // Arrange
    let app = spawn_app().await;
    let body = json!({
        "paymentResult": {"resultCode": "MERCHANT_KYB_NOT_QUALIFIED", "resultStatus": "F"},
        "paymentId": unique_id("pid-")
    });

    // Act
    let reply = app.post_signed(paths::NOTIFY_PUSH_PAYMENT, body).await;

    // Assert
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("S", "SUCCESS"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn every_field_follows_its_presence_type_length_and_format_rule() {
    // Arrange: a failure report, where paymentRequestId and paymentTime are optional.
    let app = spawn_app().await;

    // Act + Assert
    app.check_field_rules(
        paths::NOTIFY_PUSH_PAYMENT,
        failure_report,
        &[
            FieldRule::RequiredText("/paymentId", 64),
            FieldRule::OptionalText("/paymentRequestId", 64),
            FieldRule::OptionalDatetime("/paymentTime"),
            FieldRule::OptionalText("/paymentResult/resultMessage", 256),
        ],
        "SUCCESS",
    )
    .await;
}

#[tokio::test]
async fn payment_result_is_a_required_result_object() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (None, "paymentResult: required"),
        (Some(Value::Null), "paymentResult: required"),
        (Some(json!("S")), "paymentResult: must be a JSON object"),
        (
            Some(json!({"resultStatus": "F"})),
            "paymentResult.resultCode: required",
        ),
        (
            Some(json!({"resultCode": "", "resultStatus": "F"})),
            "paymentResult.resultCode: must not be empty",
        ),
        (
            Some(json!({"resultCode": 5, "resultStatus": "F"})),
            "paymentResult.resultCode: must be a string, not a number",
        ),
        (
            Some(json!({"resultCode": "X".repeat(65), "resultStatus": "F"})),
            "paymentResult.resultCode: longer than 64 characters",
        ),
        (
            Some(json!({"resultCode": "RISK_REJECT"})),
            "paymentResult.resultStatus: required",
        ),
    ];

    for (value, expected) in cases {
        let body = match value {
            Some(v) => with(failure_report(), "/paymentResult", v),
            None => without(failure_report(), "/paymentResult"),
        };

        // Act
        let reply = app.post_signed(paths::NOTIFY_PUSH_PAYMENT, body).await;

        // Assert
        reply.assert_param_illegal(expected);
    }
}

#[tokio::test]
async fn payment_result_status_is_s_or_f_and_never_u() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (
            json!("U"),
            "paymentResult.resultStatus: must be one of S, F",
        ),
        (
            json!("s"),
            "paymentResult.resultStatus: must be one of S, F",
        ),
        (
            json!("SUCCESS"),
            "paymentResult.resultStatus: must be one of S, F",
        ),
        (json!(""), "paymentResult.resultStatus: must not be empty"),
        (
            json!(true),
            "paymentResult.resultStatus: must be a string, not a boolean",
        ),
    ];

    for (status, expected) in cases {
        // Act
        let reply = app
            .post_signed(
                paths::NOTIFY_PUSH_PAYMENT,
                with(success_report(), "/paymentResult/resultStatus", status),
            )
            .await;

        // Assert
        reply.assert_param_illegal(expected);
    }
}

#[tokio::test]
async fn a_success_needs_payment_request_id_and_payment_time() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (
            without(success_report(), "/paymentRequestId"),
            "paymentRequestId: required when paymentResult.resultStatus is S",
        ),
        (
            with(success_report(), "/paymentRequestId", Value::Null),
            "paymentRequestId: required when paymentResult.resultStatus is S",
        ),
        (
            without(success_report(), "/paymentTime"),
            "paymentTime: required when paymentResult.resultStatus is S",
        ),
        (
            with(success_report(), "/paymentTime", Value::Null),
            "paymentTime: required when paymentResult.resultStatus is S",
        ),
    ];

    for (body, expected) in cases {
        // Act
        let reply = app.post_signed(paths::NOTIFY_PUSH_PAYMENT, body).await;

        // Assert
        reply.assert_param_illegal(expected);
    }
}

#[tokio::test]
async fn a_failure_needs_neither_payment_request_id_nor_payment_time() {
    // Arrange
    let app = spawn_app().await;
    let body = with(
        without(failure_report(), "/paymentRequestId"),
        "/paymentTime",
        Value::Null,
    );

    // Act
    let reply = app.post_signed(paths::NOTIFY_PUSH_PAYMENT, body).await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn a_success_carries_the_result_code_success() {
    // Arrange
    let app = spawn_app().await;

    for code in ["RISK_REJECT", "PAYMENT_IN_PROCESS", "success"] {
        // Act
        let reply = app
            .post_signed(
                paths::NOTIFY_PUSH_PAYMENT,
                with(success_report(), "/paymentResult/resultCode", json!(code)),
            )
            .await;

        // Assert
        reply.assert_param_illegal(
            "paymentResult.resultCode: must be SUCCESS when resultStatus is S",
        );
    }
}

#[tokio::test]
async fn a_failure_carries_a_failure_code_of_the_payment_result_table() {
    // Arrange
    let app = spawn_app().await;
    let table = [
        "BUSINESS_NOT_SUPPORT",
        "CURRENCY_NOT_SUPPORT",
        "EXPIRED_CODE",
        "INVALID_CONTRACT",
        "INVALID_MERCHANT_STATUS",
        "MERCHANT_KYB_NOT_QUALIFIED",
        "MERCHANT_NOT_REGISTERED",
        "ORDER_IS_CLOSED",
        "PARAM_ILLEGAL",
        "PAYMENT_AMOUNT_EXCEED_LIMIT",
        "PAYMENT_COUNT_EXCEED_LIMIT",
        "PROCESS_FAIL",
        "RISK_REJECT",
    ];

    for code in table {
        // Act
        let reply = app
            .post_signed(
                paths::NOTIFY_PUSH_PAYMENT,
                with(failure_report(), "/paymentResult/resultCode", json!(code)),
            )
            .await;

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{code}: {reply:?}");
    }
    for code in [
        "SUCCESS",
        "PAYMENT_IN_PROCESS",
        "USER_BALANCE_NOT_ENOUGH",
        "WHATEVER",
    ] {
        let reply = app
            .post_signed(
                paths::NOTIFY_PUSH_PAYMENT,
                with(failure_report(), "/paymentResult/resultCode", json!(code)),
            )
            .await;
        reply.assert_param_illegal(
            "paymentResult.resultCode: must be a failure code of the payment result table when resultStatus is F",
        );
    }
}
