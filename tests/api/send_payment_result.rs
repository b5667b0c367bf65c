//! sendPaymentResult (Antom risk, merchant -> Antom): the page's request parameters and their
//! rules. Idempotency is in `flows.rs`.

use serde_json::{Value, json};

use super::helpers::{FieldRule, paths, spawn_app, unique_id, with, without};

/// A report with every field of the page filled, under a fresh referenceTransactionId.
fn full_report() -> Value {
    json!({
        "referenceTransactionId": unique_id("txn-"),
        "paymentStatus": "FAIL",
        "authorizationError": {"errorCode": "05", "errorMessage": "Do not honour"},
        "cardVerificationResult": {
            "authenticationType": "3D",
            "authenticationMethod": "PASSWORD",
            "cvvResult": "M",
            "avsResult": "Y",
            "authorizationCode": "10000",
            "threeDSResult": {"threeDSVersion": "2.0", "threeDSInteractionMode": "CHALLENGED", "eci": "05", "cavv": "0"}
        },
        "paymentMethodProvider": "VISA"
    })
}

#[tokio::test]
async fn a_card_payment_result_is_acknowledged_with_updated_success() {
    // Arrange: the body of reference section 3.7, byte for byte.
    let app = spawn_app().await;
    let body = r#"{"referenceTransactionId":"0656237919440001","paymentStatus":"SUCCESS","paymentMethodProvider":"VISA"}"#;

    // Act
    let reply = app.post_signed(paths::SEND_PAYMENT_RESULT, body).await;

    // Assert
    assert_eq!(
        reply.json,
        json!({"result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "Updated success"}})
    );
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}",
        reply.gateway_signature_problem()
    );
}

#[tokio::test]
async fn a_report_with_every_field_of_the_page_is_accepted() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post_signed(paths::SEND_PAYMENT_RESULT, full_report())
        .await;

    // Assert
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("S", "SUCCESS"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn the_doc_sample_is_rejected_for_lacking_the_required_payment_method_provider() {
    // Arrange: the page's own sample omits paymentMethodProvider, which the page marks REQUIRED.
    let app = spawn_app().await;
    let sample = json!({
        "referenceTransactionId": "0656237919440001",
        "paymentStatus": "SUCCESS",
        "cardVerificationResult": {
            "authenticationType": "3D",
            "authorizationCode": "10000",
            "threeDSResult": {"threeDSVersion": "2.0", "threeDSInteractionMode": "CHALLENGED", "eci": "05", "cavv": "0"}
        }
    });

    // Act
    let rejected = app.post_signed(paths::SEND_PAYMENT_RESULT, &sample).await;
    let accepted = app
        .post_signed(
            paths::SEND_PAYMENT_RESULT,
            with(sample, "/paymentMethodProvider", json!("VISA")),
        )
        .await;

    // Assert
    rejected.assert_param_illegal("paymentMethodProvider: required");
    assert_eq!(accepted.result_code(), "SUCCESS", "{accepted:?}");
}

#[tokio::test]
async fn every_string_field_follows_its_presence_type_and_length_rule() {
    // Arrange
    let app = spawn_app().await;

    // Act + Assert
    app.check_field_rules(
        paths::SEND_PAYMENT_RESULT,
        full_report,
        &[
            FieldRule::RequiredText("/referenceTransactionId", 64),
            FieldRule::RequiredText("/paymentMethodProvider", 64),
            FieldRule::OptionalText("/authorizationError/errorCode", 64),
            FieldRule::OptionalText("/authorizationError/errorMessage", 256),
            FieldRule::OptionalText("/cardVerificationResult/authenticationType", 16),
            FieldRule::OptionalText("/cardVerificationResult/authenticationMethod", 64),
            FieldRule::OptionalText("/cardVerificationResult/cvvResult", 64),
            FieldRule::OptionalText("/cardVerificationResult/avsResult", 64),
            FieldRule::OptionalText("/cardVerificationResult/authorizationCode", 64),
            FieldRule::OptionalText("/cardVerificationResult/threeDSResult/threeDSVersion", 16),
            FieldRule::OptionalText(
                "/cardVerificationResult/threeDSResult/threeDSInteractionMode",
                32,
            ),
            FieldRule::OptionalText("/cardVerificationResult/threeDSResult/eci", 8),
            FieldRule::OptionalText("/cardVerificationResult/threeDSResult/cavv", 64),
        ],
        "SUCCESS",
    )
    .await;
}

#[tokio::test]
async fn payment_status_is_success_or_fail() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (Some(json!("SUCCESS")), None),
        (Some(json!("FAIL")), None),
        (
            Some(json!("success")),
            Some("paymentStatus: must be one of SUCCESS, FAIL"),
        ),
        (
            Some(json!("PENDING")),
            Some("paymentStatus: must be one of SUCCESS, FAIL"),
        ),
        (
            Some(json!("SUCCESSFUL_PAYMENT_X")),
            Some("paymentStatus: must be one of SUCCESS, FAIL"),
        ),
        (Some(json!("")), Some("paymentStatus: must not be empty")),
        (
            Some(json!(1)),
            Some("paymentStatus: must be a string, not a number"),
        ),
        (
            Some(json!(true)),
            Some("paymentStatus: must be a string, not a boolean"),
        ),
        (Some(Value::Null), Some("paymentStatus: required")),
        (None, Some("paymentStatus: required")),
    ];

    for (value, expected) in cases {
        let body = match &value {
            Some(v) => with(full_report(), "/paymentStatus", v.clone()),
            None => without(full_report(), "/paymentStatus"),
        };

        // Act
        let reply = app.post_signed(paths::SEND_PAYMENT_RESULT, body).await;

        // Assert
        match expected {
            Some(message) => reply.assert_param_illegal(message),
            None => assert_eq!(reply.result_code(), "SUCCESS", "{value:?}: {reply:?}"),
        }
    }
}

#[tokio::test]
async fn the_sub_objects_must_be_json_objects_or_absent() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (
            "/authorizationError",
            json!("05"),
            Some("authorizationError: must be a JSON object"),
        ),
        (
            "/authorizationError",
            json!([]),
            Some("authorizationError: must be a JSON object"),
        ),
        (
            "/cardVerificationResult",
            json!(true),
            Some("cardVerificationResult: must be a JSON object"),
        ),
        (
            "/cardVerificationResult/threeDSResult",
            json!("2.0"),
            Some("cardVerificationResult.threeDSResult: must be a JSON object"),
        ),
        ("/authorizationError", Value::Null, None),
        ("/cardVerificationResult", Value::Null, None),
        ("/cardVerificationResult/threeDSResult", Value::Null, None),
        ("/authorizationError", json!({}), None),
    ];

    for (pointer, value, expected) in cases {
        // Act
        let reply = app
            .post_signed(
                paths::SEND_PAYMENT_RESULT,
                with(full_report(), pointer, value.clone()),
            )
            .await;

        // Assert
        match expected {
            Some(message) => reply.assert_param_illegal(message),
            None => assert_eq!(
                reply.result_code(),
                "SUCCESS",
                "{pointer} = {value}: {reply:?}"
            ),
        }
    }
}

#[tokio::test]
async fn fields_the_page_does_not_name_are_ignored() {
    // Arrange
    let app = spawn_app().await;
    let body = with(
        full_report(),
        "/somethingNewer",
        json!({"nested": [1, 2, 3]}),
    );

    // Act
    let reply = app.post_signed(paths::SEND_PAYMENT_RESULT, body).await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn the_first_rule_broken_in_page_order_is_the_one_reported() {
    // Arrange: referenceTransactionId (first on the page) and paymentMethodProvider both missing.
    let app = spawn_app().await;
    let body = without(
        without(full_report(), "/referenceTransactionId"),
        "/paymentMethodProvider",
    );

    // Act
    let reply = app.post_signed(paths::SEND_PAYMENT_RESULT, body).await;

    // Assert
    reply.assert_param_illegal("referenceTransactionId: required");
}
