//! The admin API: plain JSON with real HTTP statuses, behind a bearer token. What it seeds is
//! what inquiryPayment answers (see `flows.rs`).

use serde_json::json;

use super::helpers::{spawn_app, spawn_app_with, unique_id};

#[tokio::test]
async fn admin_calls_without_a_token_answer_401() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let seed = app
        .admin()
        .without_token()
        .seed_payment(json!({"paymentRequestId": "pr-1"}))
        .await;
    let read = app.admin().without_token().read_payment("pr-1").await;

    // Assert
    assert_eq!(seed.status, 401, "{seed:?}");
    assert_eq!(seed.error(), "missing Authorization: Bearer <admin token>");
    assert_eq!(read.status, 401, "{read:?}");
}

#[tokio::test]
async fn admin_calls_with_a_wrong_token_answer_401_and_change_nothing() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let seed = app
        .admin()
        .with_token("not-the-token")
        .seed_payment(json!({"paymentRequestId": "pr-2"}))
        .await;
    let read = app.admin().read_payment("pr-2").await;

    // Assert
    assert_eq!(seed.status, 401, "{seed:?}");
    assert_eq!(seed.error(), "wrong admin token");
    assert_eq!(read.status, 404, "{read:?}");
}

#[tokio::test]
async fn the_admin_api_is_off_when_no_token_is_configured() {
    // Arrange
    let app = spawn_app_with(|s| s.admin.token = String::new()).await;

    // Act
    let with_empty = app.admin().with_token("").read_payment("pr-3").await;
    let with_any = app
        .admin()
        .with_token("anything")
        .read_payment("pr-3")
        .await;

    // Assert
    assert_eq!(with_empty.status, 401, "{with_empty:?}");
    assert_eq!(with_any.status, 401, "{with_any:?}");
    assert_eq!(with_any.error(), "the admin API is off: set admin.token");
}

#[tokio::test]
async fn seeding_a_payment_answers_201_with_the_payment() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .admin()
        .seed_payment(json!({
            "paymentRequestId": "pr-seed-1",
            "paymentId": "pid-seed-1",
            "status": "SUCCESS",
            "paymentAmount": {"currency": "JPY", "value": "200"},
            "paymentTime": "2020-01-01T12:01:01+08:30"
        }))
        .await;

    // Assert
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.json["paymentRequestId"], "pr-seed-1");
    assert_eq!(reply.json["paymentId"], "pid-seed-1");
    assert_eq!(reply.json["status"], "SUCCESS");
    assert_eq!(reply.json["resultCode"], "SUCCESS");
    assert_eq!(
        reply.json["paymentAmount"],
        json!({"currency": "JPY", "value": "200"})
    );
}

#[tokio::test]
async fn a_seed_without_a_status_is_processing() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .admin()
        .seed_payment(json!({"paymentRequestId": "pr-seed-2"}))
        .await;

    // Assert
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.json["status"], "PROCESSING");
    assert_eq!(reply.json["resultCode"], "PAYMENT_IN_PROCESS");
}

#[tokio::test]
async fn seeding_an_existing_payment_answers_409_and_keeps_the_first() {
    // Arrange
    let app = spawn_app().await;
    app.seed_payment(
        json!({"paymentRequestId": "pr-dup", "paymentId": "pid-dup", "status": "PROCESSING"}),
    )
    .await;

    // Act
    let same_request_id = app
        .admin()
        .seed_payment(json!({"paymentRequestId": "pr-dup", "status": "SUCCESS"}))
        .await;
    let same_payment_id = app
        .admin()
        .seed_payment(json!({"paymentRequestId": "pr-dup-2", "paymentId": "pid-dup"}))
        .await;
    let stored = app.admin().read_payment("pr-dup").await;

    // Assert
    assert_eq!(same_request_id.status, 409, "{same_request_id:?}");
    assert_eq!(
        same_request_id.json["status"], "PROCESSING",
        "the answer is the payment that exists"
    );
    assert_eq!(same_payment_id.status, 409, "{same_payment_id:?}");
    assert_eq!(stored.json["status"], "PROCESSING");
}

#[tokio::test]
async fn reading_an_unknown_payment_answers_404() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app.admin().read_payment("pr-nobody").await;

    // Assert
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_eq!(reply.error(), "no payment with paymentRequestId pr-nobody");
}

#[tokio::test]
async fn reading_a_seeded_payment_answers_200_with_it() {
    // Arrange
    let app = spawn_app().await;
    let id = unique_id("pr-");
    let seeded = app
        .seed_payment(
            json!({"paymentRequestId": id, "status": "FAIL", "resultCode": "RISK_REJECT"}),
        )
        .await;

    // Act
    let reply = app.admin().read_payment(&id).await;

    // Assert
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json, seeded);
    assert_eq!(reply.json["resultCode"], "RISK_REJECT");
}

#[tokio::test]
async fn a_bad_seed_answers_400_naming_the_field_and_the_rule() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (json!({}), "paymentRequestId: required"),
        (
            json!({"paymentRequestId": 5}),
            "paymentRequestId: must be a string, not a number",
        ),
        (
            json!({"paymentRequestId": "x".repeat(65)}),
            "paymentRequestId: longer than 64 characters",
        ),
        (
            json!({"paymentRequestId": "pr-b1", "status": "DONE"}),
            "status: must be one of PROCESSING, SUCCESS, FAIL",
        ),
        (
            json!({"paymentRequestId": "pr-b2", "status": "FAIL", "resultCode": "NOPE"}),
            "resultCode: must be a failure code of inquiryPayment's payment result table",
        ),
        (
            json!({"paymentRequestId": "pr-b3", "paymentAmount": {"currency": "USD", "value": "1.50"}}),
            "paymentAmount.value: must be digits only",
        ),
        (
            json!({"paymentRequestId": "pr-b4", "paymentAmount": {"currency": "JPY", "value": "1"}, "payToCurrency": "ABC"}),
            "payToCurrency: not an ISO 4217 currency code",
        ),
        (
            json!({"paymentRequestId": "pr-b5", "paymentAmount": {"currency": "JPY", "value": "1"}, "payToCurrency": "CNY"}),
            "paymentQuote: required when payToCurrency differs from paymentAmount.currency",
        ),
        (
            json!({"paymentRequestId": "pr-b6", "payToCurrency": "CNY", "paymentQuote": {"quotePrice": "0.06"}}),
            "paymentAmount: required with payToCurrency",
        ),
        (
            json!({"paymentRequestId": "pr-b7", "paymentQuote": {"quoteId": "Q"}}),
            "paymentQuote.quotePrice: required",
        ),
        (
            json!({"paymentRequestId": "pr-b8", "paymentQuote": {"quotePrice": "cheap"}}),
            "paymentQuote.quotePrice: must be a decimal number",
        ),
        (
            json!({"paymentRequestId": "pr-b9", "paymentTime": "2020-01-01 12:00:00"}),
            "paymentTime: must be an ISO 8601 date-time with offset",
        ),
        (
            json!({"paymentRequestId": "pr-b10", "customerId": ""}),
            "customerId: must not be an empty string",
        ),
    ];

    for (seed, expected) in cases {
        // Act
        let reply = app.admin().seed_payment(&seed).await;

        // Assert
        assert_eq!(reply.status, 400, "{seed}: {reply:?}");
        assert!(
            reply.error().starts_with(expected),
            "{seed}: expected {expected:?}, got {:?}",
            reply.error()
        );
    }
    let not_json = app.admin().seed_payment("{paymentRequestId").await;
    assert_eq!(not_json.status, 400);
    assert!(
        not_json.error().starts_with("the body is not valid JSON"),
        "{not_json:?}"
    );
}

#[tokio::test]
async fn payments_are_listed_newest_first_by_status_and_id_a_page_at_a_time() {
    // Arrange
    let app = spawn_app().await;
    let older = unique_id("LIST-");
    let newer = unique_id("LIST-");
    app.seed_payment(
        json!({"paymentRequestId": older, "status": "SUCCESS", "paymentId": format!("P-{older}")}),
    )
    .await;
    app.seed_payment(json!({"paymentRequestId": newer})).await;

    // Act
    let first = app.admin().list_payments("limit=1").await;
    let second = app.admin().list_payments("limit=1&offset=1").await;
    let succeeded = app.admin().list_payments("status=SUCCESS").await;
    let by_payment_id = app.admin().list_payments(&format!("id=P-{older}")).await;
    let too_many = app.admin().list_payments("limit=1001").await;

    // Assert
    let ids = |reply: &super::helpers::AdminReply| -> Vec<String> {
        reply
            .json
            .as_array()
            .expect("a list")
            .iter()
            .map(|p| {
                p["paymentRequestId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(ids(&first), vec![newer]);
    assert_eq!(ids(&second), vec![older.clone()]);
    assert_eq!(ids(&succeeded), vec![older.clone()]);
    assert_eq!(ids(&by_payment_id), vec![older]);
    assert_eq!(too_many.status, 400, "{too_many:?}");
}
