//! notifyPayment (Antom -> merchant): the gateway plays the merchant's webhook. It takes the real
//! SDK fixture as sent (numbers and booleans where the doc says String), checks every field of
//! the page, and acknowledges with SUCCESS.

use serde_json::{Value, json};

use super::helpers::{FieldRule, paths, spawn_app, spawn_app_with, with, without};

/// alipay/ams-java-sdk `src/test/resources/api_mocks/requests/notify_s.json`, as printed in
/// reference section 6.3: `quotePrice` a JSON number, `guaranteed` a JSON boolean.
const SDK_FIXTURE: &str = r#"{
  "actualPaymentAmount": {"currency": "CNY", "value": "1292"},
  "notifyType": "PAYMENT_RESULT",
  "paymentAmount": {"currency": "JPY", "value": "200"},
  "paymentCreateTime": "2020-03-02T19:11:19-08:00",
  "paymentId": "202003021940108001001885I0204368838",
  "paymentQuote": {"guaranteed": false, "quoteCurrencyPair": "392/156", "quotePrice": 0.064622},
  "paymentRequestId": "20200303074500020000036648",
  "paymentTime": "2020-03-02T19:12:11-08:00",
  "pspCustomerInfo": {"displayCustomerId": "buy*@alitest.com", "pspCustomerId": "20885028136924G7", "pspName": "ALIPAYCN"},
  "result": {"resultCode": "SUCCESS", "resultMessage": "success.", "resultStatus": "S"}
}"#;

fn fixture() -> Value {
    serde_json::from_str(SDK_FIXTURE).expect("the fixture is JSON")
}

/// The fixture with every optional field of the page filled as well.
fn full_notification() -> Value {
    let mut body = fixture();
    let extra = json!({
        "grossSettlementAmount": {"currency": "USD", "value": "190"},
        "settlementQuote": {
            "quoteId": "Q-2", "quoteCurrencyPair": "JPY/USD", "quotePrice": "0.0095",
            "quoteStartTime": "2020-03-02T19:00:00-08:00", "quoteExpiryTime": "2020-03-03T19:00:00-08:00",
            "guaranteed": "true"
        },
        "customsDeclarationAmount": {"currency": "CNY", "value": "1292"},
        "acquirerReferenceNo": "ACQ-REF-1",
        "paymentActionForm": "{\"paymentCode\":\"28100000000000001\"}",
    });
    for (k, v) in extra.as_object().expect("an object") {
        body[k] = v.clone();
    }
    body["paymentQuote"]["quoteId"] = json!("Q-1");
    body["paymentQuote"]["quoteStartTime"] = json!("2020-03-02T19:00:00-08:00");
    body["paymentQuote"]["quoteExpiryTime"] = json!("2020-03-03T19:00:00-08:00");
    body["paymentQuote"]["exchangeAmount"] = json!({"currency": "CNY", "value": "1292"});
    body["pspCustomerInfo"]["displayCustomerName"] = json!("B*** Y");
    body["pspCustomerInfo"]["customer2088Id"] = json!("2088502813692400");
    body["pspCustomerInfo"]["extendInfo"] = json!("{}");
    body
}

#[tokio::test]
async fn the_real_sdk_notification_is_acknowledged_with_success() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app.post_signed(paths::NOTIFY_PAYMENT, SDK_FIXTURE).await;

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
async fn a_notification_with_every_field_of_the_page_is_acknowledged() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post_signed(paths::NOTIFY_PAYMENT, full_notification())
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn quote_price_is_a_decimal_given_as_a_json_number_or_a_string() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (json!(0.064622), None),
        (json!("0.064622"), None),
        (json!(150), None),
        (json!("6.4622E-2"), None),
        (
            json!("cheap"),
            Some("paymentQuote.quotePrice: must be a decimal number"),
        ),
        (
            json!("0,064622"),
            Some("paymentQuote.quotePrice: must be a decimal number"),
        ),
        (
            json!(""),
            Some("paymentQuote.quotePrice: must not be an empty string"),
        ),
        (
            json!(true),
            Some("paymentQuote.quotePrice: must be a string, not a boolean"),
        ),
        (Value::Null, None),
    ];

    for (price, expected) in cases {
        // Act
        let reply = app
            .post_signed(
                paths::NOTIFY_PAYMENT,
                with(fixture(), "/paymentQuote/quotePrice", price.clone()),
            )
            .await;

        // Assert
        match expected {
            Some(message) => reply.assert_param_illegal(message),
            None => assert_eq!(reply.result_code(), "SUCCESS", "{price}: {reply:?}"),
        }
    }
}

#[tokio::test]
async fn guaranteed_is_a_boolean_given_as_a_json_boolean_or_a_string() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (json!(false), None),
        (json!(true), None),
        (json!("true"), None),
        (json!("false"), None),
        (
            json!("yes"),
            Some("paymentQuote.guaranteed: must be \"true\" or \"false\""),
        ),
        (
            json!("FALSE"),
            Some("paymentQuote.guaranteed: must be \"true\" or \"false\""),
        ),
        (
            json!(0),
            Some("paymentQuote.guaranteed: must be a string, not a number"),
        ),
        (
            json!(""),
            Some("paymentQuote.guaranteed: must not be an empty string"),
        ),
    ];

    for (guaranteed, expected) in cases {
        // Act
        let reply = app
            .post_signed(
                paths::NOTIFY_PAYMENT,
                with(fixture(), "/paymentQuote/guaranteed", guaranteed.clone()),
            )
            .await;

        // Assert
        match expected {
            Some(message) => reply.assert_param_illegal(message),
            None => assert_eq!(reply.result_code(), "SUCCESS", "{guaranteed}: {reply:?}"),
        }
    }
}

#[tokio::test]
async fn notify_type_is_payment_result_or_offline_payment_code() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (
            Some(json!("PAYMENT_PENDING")),
            "notifyType: must be one of PAYMENT_RESULT, OFFLINE_PAYMENT_CODE",
        ),
        (
            Some(json!("payment_result")),
            "notifyType: must be one of PAYMENT_RESULT, OFFLINE_PAYMENT_CODE",
        ),
        (Some(json!("")), "notifyType: must not be empty"),
        (Some(json!(1)), "notifyType: must be a string, not a number"),
        (Some(Value::Null), "notifyType: required"),
        (None, "notifyType: required"),
    ];

    for (notify_type, expected) in cases {
        let body = match notify_type {
            Some(v) => with(fixture(), "/notifyType", v),
            None => without(fixture(), "/notifyType"),
        };

        // Act
        let reply = app.post_signed(paths::NOTIFY_PAYMENT, body).await;

        // Assert
        reply.assert_param_illegal(expected);
    }
}

#[tokio::test]
async fn a_payment_result_notification_carries_a_result_that_is_s_or_f() {
    // Arrange
    let app = spawn_app().await;
    let failed =
        json!({"resultCode": "PROCESS_FAIL", "resultStatus": "F", "resultMessage": "fail"});
    let unknown = json!({"resultCode": "UNKNOWN_EXCEPTION", "resultStatus": "U"});
    let cases = [
        (
            without(fixture(), "/result"),
            Some("result: required when notifyType is PAYMENT_RESULT"),
        ),
        (
            with(fixture(), "/result", Value::Null),
            Some("result: required when notifyType is PAYMENT_RESULT"),
        ),
        (
            with(fixture(), "/result", unknown),
            Some("result.resultStatus: must be S or F"),
        ),
        (
            with(fixture(), "/result/resultStatus", json!("X")),
            Some("result.resultStatus: must be one of S, F, U"),
        ),
        (
            without(fixture(), "/result/resultCode"),
            Some("result.resultCode: required"),
        ),
        (
            with(fixture(), "/result", json!("S")),
            Some("result: must be a JSON object"),
        ),
        (with(fixture(), "/result", failed), None),
    ];

    for (body, expected) in cases {
        // Act
        let reply = app.post_signed(paths::NOTIFY_PAYMENT, &body).await;

        // Assert
        match expected {
            Some(message) => reply.assert_param_illegal(message),
            None => assert_eq!(reply.result_code(), "SUCCESS", "{body}: {reply:?}"),
        }
    }
}

#[tokio::test]
async fn an_offline_payment_code_notification_carries_its_payment_action_form() {
    // Arrange
    let app = spawn_app().await;
    let offline = with(
        without(fixture(), "/result"),
        "/notifyType",
        json!("OFFLINE_PAYMENT_CODE"),
    );
    let with_form = with(
        offline.clone(),
        "/paymentActionForm",
        json!("{\"paymentCode\":\"281000\"}"),
    );

    // Act
    let rejected = app.post_signed(paths::NOTIFY_PAYMENT, &offline).await;
    let accepted = app.post_signed(paths::NOTIFY_PAYMENT, &with_form).await;

    // Assert
    rejected.assert_param_illegal(
        "paymentActionForm: required when notifyType is OFFLINE_PAYMENT_CODE",
    );
    assert_eq!(accepted.result_code(), "SUCCESS", "{accepted:?}");
}

#[tokio::test]
async fn every_field_follows_its_presence_type_length_and_format_rule() {
    // Arrange
    let app = spawn_app().await;

    // Act + Assert
    app.check_field_rules(
        paths::NOTIFY_PAYMENT,
        full_notification,
        &[
            FieldRule::RequiredText("/paymentRequestId", 64),
            FieldRule::RequiredText("/paymentId", 64),
            FieldRule::RequiredAmount("/paymentAmount"),
            FieldRule::OptionalAmount("/actualPaymentAmount"),
            FieldRule::OptionalText("/paymentQuote/quoteId", 64),
            FieldRule::OptionalText("/paymentQuote/quoteCurrencyPair", 16),
            FieldRule::OptionalDatetime("/paymentQuote/quoteStartTime"),
            FieldRule::OptionalDatetime("/paymentQuote/quoteExpiryTime"),
            FieldRule::OptionalAmount("/paymentQuote/exchangeAmount"),
            FieldRule::OptionalDatetime("/paymentCreateTime"),
            FieldRule::OptionalDatetime("/paymentTime"),
            FieldRule::OptionalText("/pspCustomerInfo/pspName", 64),
            FieldRule::OptionalText("/pspCustomerInfo/pspCustomerId", 64),
            FieldRule::OptionalText("/pspCustomerInfo/displayCustomerId", 64),
            FieldRule::OptionalText("/pspCustomerInfo/displayCustomerName", 256),
            FieldRule::OptionalText("/pspCustomerInfo/customer2088Id", 64),
            FieldRule::OptionalText("/pspCustomerInfo/extendInfo", 4096),
            FieldRule::OptionalAmount("/grossSettlementAmount"),
            FieldRule::OptionalText("/settlementQuote/quoteId", 64),
            FieldRule::OptionalDatetime("/settlementQuote/quoteStartTime"),
            FieldRule::OptionalAmount("/customsDeclarationAmount"),
            FieldRule::OptionalText("/acquirerReferenceNo", 64),
            FieldRule::OptionalText("/paymentActionForm", 20000),
            FieldRule::RequiredText("/result/resultCode", 64),
            FieldRule::OptionalText("/result/resultMessage", 256),
        ],
        "SUCCESS",
    )
    .await;
}

#[tokio::test]
async fn the_sub_objects_must_be_json_objects_or_absent() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (
            "/paymentQuote",
            json!("0.064622"),
            Some("paymentQuote: must be a JSON object"),
        ),
        (
            "/settlementQuote",
            json!([]),
            Some("settlementQuote: must be a JSON object"),
        ),
        (
            "/pspCustomerInfo",
            json!("ALIPAYCN"),
            Some("pspCustomerInfo: must be a JSON object"),
        ),
        ("/paymentQuote", Value::Null, None),
        ("/pspCustomerInfo", Value::Null, None),
    ];

    for (pointer, value, expected) in cases {
        // Act
        let reply = app
            .post_signed(
                paths::NOTIFY_PAYMENT,
                with(fixture(), pointer, value.clone()),
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
async fn the_receiver_listens_on_the_configured_notify_path_only() {
    // Arrange
    let app = spawn_app_with(|s| s.server.notify_payment_path = "/payNotify".into()).await;

    // Act
    let configured = app.post_signed("/payNotify", SDK_FIXTURE).await;
    let default = app.post_signed(paths::NOTIFY_PAYMENT, SDK_FIXTURE).await;

    // Assert
    assert_eq!(configured.result_code(), "SUCCESS", "{configured:?}");
    assert!(
        configured.is_signed_by_gateway(),
        "{:?}",
        configured.gateway_signature_problem()
    );
    assert_eq!(default.result_code(), "NO_INTERFACE_DEF", "{default:?}");
}
