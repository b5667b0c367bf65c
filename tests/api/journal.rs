//! The request journal (issue 5): every inbound request and outbound notification attempt with
//! its direction, API, client, signature verdict (and the string verified when it failed),
//! bodies, result, latency and the scenario that applied; filters and a count a CI step can
//! assert on; a bounded ring; bodies clipped; off when disabled.

use std::time::Duration;

use serde_json::{Value, json};

use super::helpers::{
    INQUIRY_ONLY, Key, MERCHANT, NOTIFY_DEADLINE, TestReceiver, paths, unique_id,
};
use super::scenario_helpers::{
    TestGateway, inquiry, payment_report, push_success, spawn_gateway, spawn_gateway_with,
};

/// The payment ids a journal entry names.
fn payment_ids(entry: &Value) -> Vec<&str> {
    entry["paymentIds"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_entry_records_the_request_its_answer_its_latency_and_the_rule_that_applied() {
    // Arrange
    let app = spawn_gateway().await;
    app.rule_added(json!({
        "name": "short balance",
        "endpoint": "inquiryPayment",
        "field": "paymentRequestId",
        "ends_with": "_BALANCE",
        "payment_result": "USER_BALANCE_NOT_ENOUGH",
    }))
    .await;
    let id = format!("{}_BALANCE", unique_id("pr_"));
    let body = inquiry(&id);

    // Act
    let reply = app.call(paths::INQUIRY_PAYMENT, body.clone()).send().await;

    // Assert
    let entry = app.newest_entry(&[("paymentId", &id)]).await;
    assert_eq!(entry["direction"], "inbound", "{entry:#}");
    assert_eq!(entry["endpoint"], "inquiryPayment", "{entry:#}");
    assert_eq!(entry["target"], paths::INQUIRY_PAYMENT, "{entry:#}");
    assert_eq!(entry["clientId"], MERCHANT, "{entry:#}");
    assert_eq!(entry["verdict"], "valid", "{entry:#}");
    assert!(entry.get("stringToSign").is_none(), "{entry:#}");
    assert_eq!(entry["requestBody"], body.to_string(), "{entry:#}");
    assert_eq!(entry["responseBody"], reply.body, "{entry:#}");
    assert_eq!(entry["httpStatus"], 200, "{entry:#}");
    assert_eq!(
        (&entry["resultCode"], &entry["resultStatus"]),
        (&json!("SUCCESS"), &json!("S")),
        "{entry:#}"
    );
    assert!(
        entry["latencyMs"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{entry:#}"
    );
    assert_eq!(entry["rule"], "short balance", "{entry:#}");
    let at = entry["atMs"].as_i64().expect("atMs");
    assert!(
        (chrono::Utc::now().timestamp_millis() - at).abs() < 60_000,
        "{entry:#}"
    );
}

#[tokio::test]
async fn a_failed_signature_is_recorded_with_its_verdict_and_the_string_that_was_verified() {
    // Arrange
    let app = spawn_gateway().await;
    let id = unique_id("pr-");
    let body = inquiry(&id);

    // Act: signed with a key that is not the merchant's.
    let reply = app
        .call(paths::INQUIRY_PAYMENT, body.clone())
        .sent_by(MERCHANT, Key::Other, "1")
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "INVALID_SIGNATURE", "{reply:?}");
    let entry = app.newest_entry(&[("paymentId", &id)]).await;
    assert_eq!(entry["resultCode"], "INVALID_SIGNATURE", "{entry:#}");
    let verdict = entry["verdict"].as_str().expect("a verdict");
    assert!(!verdict.is_empty() && verdict != "valid", "{entry:#}");
    let verified = entry["stringToSign"].as_str().expect("the string verified");
    let head = format!("POST {}\n{MERCHANT}.", paths::INQUIRY_PAYMENT);
    let (time, rest) = verified
        .strip_prefix(&head)
        .and_then(|r| r.split_once('.'))
        .unwrap_or_else(|| panic!("{verified:?} is not POST <path>\\n<client>.<time>.<body>"));
    assert!(time.chars().all(|c| c.is_ascii_digit()), "{verified:?}");
    assert_eq!(rest, body.to_string());
}

#[tokio::test]
async fn the_journal_filters_by_endpoint_client_payment_id_result_code_and_direction() {
    // Arrange: three requests that differ in one thing each.
    let app = spawn_gateway().await;
    let report = unique_id("txn-");
    let inquired = unique_id("pr-");
    let by_other_client = unique_id("pr-");
    app.call(paths::SEND_PAYMENT_RESULT, payment_report(&report))
        .send()
        .await;
    app.call(paths::INQUIRY_PAYMENT, inquiry(&inquired))
        .send()
        .await;
    app.call(paths::INQUIRY_PAYMENT, inquiry(&by_other_client))
        .sent_by(INQUIRY_ONLY, Key::Merchant, "1")
        .send()
        .await;

    // Act
    let ids_of = |entries: Vec<Value>| -> Vec<String> {
        entries.iter().map(|e| payment_ids(e).join(",")).collect()
    };
    let by_endpoint = ids_of(app.journal(&[("endpoint", "inquiryPayment")]).await);
    let by_client = ids_of(app.journal(&[("clientId", INQUIRY_ONLY)]).await);
    let by_payment = ids_of(app.journal(&[("paymentId", &report)]).await);
    let by_code = ids_of(app.journal(&[("resultCode", "SUCCESS")]).await);
    let both = ids_of(
        app.journal(&[("endpoint", "inquiryPayment"), ("clientId", MERCHANT)])
            .await,
    );
    let outbound = app.journal(&[("direction", "outbound")]).await;

    // Assert
    assert_eq!(by_endpoint, [by_other_client.clone(), inquired.clone()]);
    assert_eq!(by_client, [by_other_client]);
    assert_eq!(by_code, [report.as_str()]);
    assert_eq!(by_payment, [report]);
    assert_eq!(both, [inquired]);
    assert!(outbound.is_empty(), "{outbound:#?}");
}

#[tokio::test]
async fn the_count_says_exactly_one_notify_push_payment_with_success() {
    // Arrange: one successful report, one refused, and a success of another API.
    let app = spawn_gateway().await;
    app.call(paths::NOTIFY_PUSH_PAYMENT, push_success(&unique_id("pid-")))
        .send()
        .await;
    let refused = format!("{}__PROCESS_FAIL", unique_id("pid-"));
    app.call(paths::NOTIFY_PUSH_PAYMENT, push_success(&refused))
        .send()
        .await;
    app.call(
        paths::SEND_PAYMENT_RESULT,
        payment_report(&unique_id("txn-")),
    )
    .send()
    .await;

    // Act
    let successes = app
        .journal_count(&[("endpoint", "notifyPushPayment"), ("resultCode", "SUCCESS")])
        .await;
    let failures = app
        .journal_count(&[
            ("endpoint", "notifyPushPayment"),
            ("resultCode", "PROCESS_FAIL"),
        ])
        .await;

    // Assert
    assert_eq!((successes, failures), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_keeps_only_its_capacity_of_the_newest_entries_under_many_requests() {
    // Arrange
    let app = spawn_gateway_with(|s| s.journal.capacity = 50).await;
    let mut sent = Vec::new();

    // Act: 300 answers that need no store (the convention's PROCESS_FAIL): 250 in batches
    // side by side, then the last 50 one after another, so which are newest is known.
    let report = || {
        let payment_id = format!("{}__PROCESS_FAIL", unique_id("pid-"));
        (
            app.call(paths::NOTIFY_PUSH_PAYMENT, push_success(&payment_id)),
            payment_id,
        )
    };
    for _ in 0..5 {
        let (calls, ids): (Vec<_>, Vec<_>) = (0..50).map(|_| report()).unzip();
        app.send_side_by_side(calls).await;
        sent.extend(ids);
    }
    for _ in 0..50 {
        let (call, payment_id) = report();
        call.send().await;
        sent.push(payment_id);
    }

    // Assert
    assert_eq!(app.journal_count(&[]).await, 50);
    let kept = app.journal(&[("limit", "1000")]).await;
    assert_eq!(kept.len(), 50);
    let kept_ids: Vec<&str> = kept.iter().map(|e| payment_ids(e)[1]).collect();
    let newest: Vec<&str> = sent.iter().rev().take(50).map(String::as_str).collect();
    assert_eq!(kept_ids, newest, "the newest 50, newest first");
    assert_eq!(kept[0]["seq"], 300);
}

#[tokio::test]
async fn bodies_are_kept_up_to_max_body_bytes() {
    // Arrange
    let app = spawn_gateway_with(|s| s.journal.max_body_bytes = 64).await;
    let id = unique_id("pr-");
    let body = inquiry(&id).to_string();
    assert!(body.len() > 64);

    // Act
    let reply = app.call(paths::INQUIRY_PAYMENT, inquiry(&id)).send().await;

    // Assert
    let entry = app.newest_entry(&[("endpoint", "inquiryPayment")]).await;
    assert_eq!(
        entry["requestBody"],
        format!("{}…", &body[..64]),
        "{entry:#}"
    );
    assert_eq!(
        entry["responseBody"],
        format!("{}…", &reply.body[..64]),
        "{entry:#}"
    );
    assert_eq!(
        entry["paymentIds"],
        json!([id]),
        "the ids come from the whole body"
    );
}

#[tokio::test]
async fn a_disabled_journal_records_nothing() {
    // Arrange
    let app = spawn_gateway_with(|s| s.journal.enabled = false).await;

    // Act
    app.call(paths::INQUIRY_PAYMENT, inquiry(&unique_id("pr-")))
        .send()
        .await;
    app.call(paths::NOTIFY_PUSH_PAYMENT, push_success(&unique_id("pid-")))
        .send()
        .await;

    // Assert
    assert_eq!(app.journal_count(&[]).await, 0);
    assert!(app.journal(&[]).await.is_empty());
}

#[tokio::test]
async fn clearing_the_journal_empties_it() {
    // Arrange
    let app = spawn_gateway().await;
    app.call(paths::INQUIRY_PAYMENT, inquiry(&unique_id("pr-")))
        .send()
        .await;

    // Act
    let cleared = app.clear_journal().await;

    // Assert
    assert_eq!(cleared.status, 204, "{cleared:?}");
    assert_eq!(app.journal_count(&[]).await, 0);
}

// ------------------------------------------------------------------------------------------
// Outbound notification attempts
// ------------------------------------------------------------------------------------------

/// Seeds a successful payment of [`MERCHANT`] notified to `notify_url`; answers its id.
async fn successful_payment_notified_to(app: &TestGateway, notify_url: &str) -> String {
    let id = unique_id("NTF-PR-");
    app.seed_payment(json!({
        "paymentRequestId": id,
        "paymentId": unique_id("NTF-P-"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": MERCHANT,
        "notifyUrl": notify_url,
    }))
    .await;
    id
}

/// Polls the journal until an outbound entry names `payment_request_id`.
async fn outbound_entry_of(app: &TestGateway, payment_request_id: &str) -> Value {
    let filter = [("direction", "outbound"), ("paymentId", payment_request_id)];
    let deadline = tokio::time::Instant::now() + NOTIFY_DEADLINE;
    loop {
        if let Some(entry) = app.journal(&filter).await.into_iter().next() {
            return entry;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no outbound journal entry for {payment_request_id} after {NOTIFY_DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_notification_attempt_is_recorded_as_outbound() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let app = spawn_gateway().await;

    // Act
    let id = successful_payment_notified_to(&app, &merchant.url()).await;
    let delivery = merchant.wait_for_deliveries(1).await.remove(0);
    let entry = outbound_entry_of(&app, &id).await;

    // Assert
    assert_eq!(entry["direction"], "outbound", "{entry:#}");
    assert_eq!(entry["endpoint"], "notifyPayment", "{entry:#}");
    assert_eq!(entry["target"], merchant.url(), "{entry:#}");
    assert_eq!(entry["clientId"], MERCHANT, "{entry:#}");
    assert_eq!(
        entry["requestBody"],
        String::from_utf8(delivery.body).expect("a text body"),
        "{entry:#}"
    );
    assert_eq!(entry["httpStatus"], 200, "{entry:#}");
    assert_eq!(
        (&entry["resultCode"], &entry["resultStatus"]),
        (&json!("SUCCESS"), &json!("S")),
        "{entry:#}"
    );
    assert_eq!(entry["verdict"], "delivered", "{entry:#}");
    assert!(entry["latencyMs"].as_f64().is_some(), "{entry:#}");
    assert_eq!(
        app.journal_count(&[("direction", "inbound")]).await,
        0,
        "seeding is not an API request"
    );
}

#[tokio::test]
async fn a_notification_attempt_records_the_merchants_acknowledgement_as_its_response_body() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let app = spawn_gateway().await;

    // Act
    let id = successful_payment_notified_to(&app, &merchant.url()).await;
    let entry = outbound_entry_of(&app, &id).await;

    // Assert: the test merchant's S acknowledgement.
    let response: Value = serde_json::from_str(entry["responseBody"].as_str().unwrap_or_default())
        .unwrap_or(Value::Null);
    assert_eq!(
        response["result"]["resultCode"], "SUCCESS",
        "the acknowledgement is journaled: {entry:#}"
    );
}
