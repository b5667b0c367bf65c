//! inquiryPayment (Alipay+ -> MPP): the page's request parameters and the shape of the answer.
//! Answers built from pushed and seeded payments are in `flows.rs`.

use serde_json::{Value, json};

use super::helpers::{FieldRule, exactly, paths, spawn_app, unique_id};

/// An inquiry for a payment the gateway does not know.
fn inquiry() -> Value {
    json!({"acquirerId": "1022188000000000001", "pspId": "1022172000000000001", "paymentRequestId": unique_id("pr-")})
}

fn inquiry_for(payment_request_id: &str) -> Value {
    json!({"acquirerId": "1022188000000000001", "pspId": "1022172000000000001", "paymentRequestId": payment_request_id})
}

#[tokio::test]
async fn every_field_is_a_required_string_of_at_most_64_characters() {
    // Arrange: a valid inquiry for an unknown id gets past the rules to ORDER_NOT_EXIST.
    let app = spawn_app().await;

    // Act + Assert
    app.check_field_rules(
        paths::INQUIRY_PAYMENT,
        inquiry,
        &[
            FieldRule::RequiredText("/acquirerId", 64),
            FieldRule::RequiredText("/pspId", 64),
            FieldRule::RequiredText("/paymentRequestId", 64),
        ],
        "ORDER_NOT_EXIST",
    )
    .await;
}

#[tokio::test]
async fn a_payment_request_id_of_exactly_64_characters_is_found() {
    // Arrange
    let app = spawn_app().await;
    let id = exactly(64, '2');
    app.seed_payment(json!({"paymentRequestId": id, "status": "SUCCESS"}))
        .await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
    assert_eq!(reply.json["paymentResult"]["resultStatus"], "S");
}

#[tokio::test]
async fn a_successful_inquiry_says_s_in_result_and_the_payment_status_in_payment_result() {
    // Arrange
    let app = spawn_app().await;
    let id = unique_id("pr-");
    app.seed_payment(json!({
        "paymentRequestId": id,
        "paymentId": "20200101234567890133333",
        "status": "SUCCESS",
        "paymentAmount": {"currency": "JPY", "value": "100"},
        "paymentTime": "2020-01-01T12:01:01+08:30",
        "customerId": "1234567"
    }))
    .await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .await;

    // Assert
    assert_eq!(
        reply.json,
        json!({
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "Success"},
            "paymentId": "20200101234567890133333",
            "paymentAmount": {"currency": "JPY", "value": "100"},
            "paymentTime": "2020-01-01T12:01:01+08:30",
            "customerId": "1234567"
        })
    );
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}",
        reply.gateway_signature_problem()
    );
}

#[tokio::test]
async fn a_payment_in_its_own_currency_has_no_pay_to_amount() {
    // Arrange
    let app = spawn_app().await;
    let id = unique_id("pr-");
    app.seed_payment(json!({
        "paymentRequestId": id,
        "status": "SUCCESS",
        "paymentAmount": {"currency": "CNY", "value": "1292"},
        "payToCurrency": "CNY"
    }))
    .await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .await;

    // Assert
    assert_eq!(
        reply.json["paymentAmount"],
        json!({"currency": "CNY", "value": "1292"})
    );
    assert!(reply.json.get("payToAmount").is_none(), "{reply:?}");
}

#[tokio::test]
async fn payment_details_are_answered_only_for_a_successful_payment() {
    // Arrange
    let app = spawn_app().await;
    let failed = unique_id("pr-");
    app.seed_payment(json!({
        "paymentRequestId": failed,
        "paymentId": unique_id("pid-"),
        "status": "FAIL",
        "resultCode": "USER_BALANCE_NOT_ENOUGH",
        "paymentAmount": {"currency": "USD", "value": "100"},
        "customerId": "1234567",
        "paymentTime": "2020-01-01T12:01:01+08:30"
    }))
    .await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&failed))
        .await;

    // Assert
    for field in [
        "paymentId",
        "paymentAmount",
        "payToAmount",
        "paymentTime",
        "customerId",
        "customsDeclarationAmount",
    ] {
        assert!(
            reply.json.get(field).is_none(),
            "{field} present for a failed payment: {reply:?}"
        );
    }
}

#[tokio::test]
async fn pass_through_info_is_passed_through() {
    // Arrange
    let app = spawn_app().await;
    let id = unique_id("pr-");
    app.seed_payment(json!({"paymentRequestId": id, "status": "SUCCESS", "passThroughInfo": "{\"key\":\"value\"}"}))
        .await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .await;

    // Assert
    assert_eq!(reply.json["passThroughInfo"], "{\"key\":\"value\"}");
}
