//! Payment result notifications (spec/seeds/notifyPayment.txt, reference 6.3): when a payment
//! reaches its final state the gateway POSTs a signed notifyPayment to the merchant's notify URL
//! and tries again at 0s, 2m, 10m, 10m, 1h, 2h, 6h and 15h until the merchant answers HTTP 200
//! with `result.resultStatus` S. The merchant here is a real webhook in the test process
//! ([`TestReceiver`]); the schedule runs ten hours a second, or on a clock the admin API drives.

use std::time::Duration;

use alipay_gateway::notify::worker::POLL;
use serde_json::{Value, json};

use super::helpers::{
    Answer, Delivery, GATEWAY_AS_MERCHANT, INQUIRY_ONLY, Key, MERCHANT, MERCHANT_NOTIFY_PATH,
    ROTATED, TestApp, TestReceiver, gateway_as_merchant, paths, refusing_url, spawn_app,
    spawn_app_with, unique_id,
};

/// Ten hours of schedule a second: the page's whole day in about 2.4 s.
const TEN_HOURS_A_SECOND: f64 = 36_000.0;

/// The page's intervals, in seconds: 0s, 2m, 10m, 10m, 1h, 2h, 6h, 15h.
const PAGE_INTERVALS: [u64; 8] = [0, 120, 600, 600, 3600, 7200, 21600, 54000];

/// Each attempt's offset from the final state, in seconds: the running sum of the intervals.
const PAGE_OFFSETS: [u64; 8] = [0, 120, 720, 1320, 4920, 12120, 33720, 87720];

/// How close (real time) an attempt lands to its scaled due time.
const ON_TIME: Duration = Duration::from_millis(100);

/// `schedule_seconds` of schedule in real time at ten hours a second.
fn scaled(schedule_seconds: u64) -> Duration {
    Duration::from_secs_f64(schedule_seconds as f64 / TEN_HOURS_A_SECOND)
}

/// A gateway whose schedule runs ten hours a second.
async fn gateway_at_ten_hours_a_second() -> TestApp {
    spawn_app_with(|s| s.notify.time_scale = TEN_HOURS_A_SECOND).await
}

/// A successful payment of [`MERCHANT`] whose notification goes to `notify_url`.
fn successful_payment(notify_url: &str) -> Value {
    json!({
        "paymentRequestId": unique_id("NTF-PR-"),
        "paymentId": unique_id("NTF-P-"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": MERCHANT,
        "notifyUrl": notify_url,
    })
}

/// Seeds `payment` and answers its paymentRequestId.
async fn final_payment(app: &TestApp, payment: Value) -> String {
    let seeded = app.seed_payment(payment).await;
    seeded["paymentRequestId"]
        .as_str()
        .expect("a paymentRequestId")
        .to_owned()
}

fn attempts(notification: &Value) -> &Vec<Value> {
    notification["attempts"]
        .as_array()
        .expect("an attempts list")
}

/// One recorded field of every attempt, in order.
fn each_attempt(notification: &Value, field: &str) -> Vec<Value> {
    attempts(notification)
        .iter()
        .map(|a| a[field].clone())
        .collect()
}

fn ms(value: &Value) -> i64 {
    value.as_i64().expect("epoch milliseconds")
}

/// How long after it could first go each attempt reached the merchant, in ms: after its due
/// time, unless the write that made the payment final (acknowledged at `final_ms`; attempt 1 is
/// stamped due just before it commits) or the attempt ahead of it came later. At ten hours a
/// second attempts 1 to 4 are due 3 ms and 17 ms apart, closer than one attempt takes.
fn waits_after_it_could_go(arrivals: &[Delivery], due: &[i64], final_ms: i64) -> Vec<i64> {
    let mut ahead = final_ms;
    arrivals
        .iter()
        .zip(due)
        .map(|(arrival, due)| {
            let wait = arrival.arrived_ms - ahead.max(*due);
            ahead = arrival.arrived_ms;
            wait
        })
        .collect()
}

/// Waits until the wall clock passes `due_ms`, a due time the gateway recorded.
async fn until_past(due_ms: i64) {
    let left = due_ms - chrono::Utc::now().timestamp_millis();
    tokio::time::sleep(Duration::from_millis(left.max(0) as u64 + 1)).await;
}

/// Waits long enough for the sender to have acted on anything due: two of its polls.
async fn let_the_sender_look() {
    tokio::time::sleep(POLL * 2).await;
}

// ------------------------------------------------------------------------------------------
// The schedule
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_that_never_acknowledges_gets_eight_attempts_at_the_page_offsets() {
    // Arrange
    let merchant = TestReceiver::start().await;
    merchant.answer_always(Answer::Unknown);
    let app = gateway_at_ten_hours_a_second().await;

    // Act: the merchant's record is watched while the schedule runs, the admin API only after
    // it, so the test's polling does not compete with the sender for the store.
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let final_ms = chrono::Utc::now().timestamp_millis();
    merchant.wait_for_deliveries(8).await;
    let notification = app.notification_becomes(&id, "EXHAUSTED").await;

    // Assert
    assert_eq!(notification["attemptsMade"], 8, "{notification:#}");
    let offsets = each_attempt(&notification, "scheduleOffsetSeconds");
    assert_eq!(offsets, PAGE_OFFSETS.map(Value::from), "{notification:#}");
    let arrivals = merchant.deliveries();
    assert_eq!(arrivals.len(), 8, "the merchant got {arrivals:#?}");
    let due: Vec<i64> = each_attempt(&notification, "dueMs")
        .iter()
        .map(ms)
        .collect();
    for n in 1..8 {
        let interval = scaled(PAGE_INTERVALS[n]).as_secs_f64() * 1000.0;
        let recorded = (due[n] - due[n - 1]) as f64;
        assert!(
            (recorded - interval).abs() <= 1.0,
            "attempt {} is due {recorded} ms after attempt {n}, not the scaled {}s: {interval} ms",
            n + 1,
            PAGE_INTERVALS[n]
        );
    }
    // With the due times exactly the scaled intervals apart, landing on time is the spacing too.
    for (n, (arrival, due)) in arrivals.iter().zip(&due).enumerate() {
        assert!(
            arrival.arrived_ms >= due - 2,
            "attempt {} arrived {} ms before its due time",
            n + 1,
            due - arrival.arrived_ms
        );
    }
    let waited = waits_after_it_could_go(&arrivals, &due, final_ms);
    assert!(
        waited.iter().all(|w| *w <= ON_TIME.as_millis() as i64),
        "the attempts arrived {waited:?} ms after they could go"
    );
    let spacing: Vec<u128> = arrivals
        .windows(2)
        .map(|pair| (pair[1].arrived - pair[0].arrived).as_millis())
        .collect();
    println!(
        "8 attempts in {:?}: spaced {spacing:?} ms, each {waited:?} ms after it could go",
        arrivals[7].arrived - arrivals[0].arrived
    );
    let advance = app.admin().advance_clock("2d").await;
    assert_eq!(
        advance.json["pendingMoved"], 0,
        "an exhausted notification is not pending: {advance:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_on_the_third_attempt_stops_the_schedule() {
    // Arrange
    let merchant = TestReceiver::start().await;
    merchant.answer_in_turn(
        [Answer::Fail("PROCESS_FAIL"), Answer::Unknown],
        Answer::Success,
    );
    let app = gateway_at_ten_hours_a_second().await;

    // Act
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;
    let fourth_due =
        ms(&attempts(&notification)[2]["dueMs"]) + scaled(PAGE_INTERVALS[3]).as_millis() as i64;
    let advance = app.admin().advance_clock("2d").await;
    until_past(fourth_due).await;
    let_the_sender_look().await;

    // Assert
    assert_eq!(notification["attemptsMade"], 3, "{notification:#}");
    assert_eq!(
        each_attempt(&notification, "delivered"),
        [false, false, true].map(Value::from)
    );
    assert_eq!(advance.json["pendingMoved"], 0, "{advance:?}");
    assert_eq!(
        merchant.deliveries().len(),
        3,
        "the merchant answered S to attempt 3, yet the schedule went on"
    );
    assert_eq!(app.notification_of(&id).await["attemptsMade"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_failure_is_a_failed_attempt_and_the_next_attempt_follows() {
    // Arrange
    let timeout = Duration::from_millis(300);
    let merchant = TestReceiver::start().await;
    let redirect_target = TestReceiver::start().await;
    merchant.answer_in_turn(
        [
            Answer::Fail("PROCESS_FAIL"),
            Answer::Unknown,
            Answer::HttpStatus(500),
            Answer::MalformedJson,
            Answer::HangUp,
            Answer::Success.after(timeout + Duration::from_secs(1)),
            Answer::RedirectTo(redirect_target.url()),
        ],
        Answer::Success,
    );
    let app = spawn_app_with(|s| {
        s.notify.time_scale = TEN_HOURS_A_SECOND;
        s.notify.timeout_ms = timeout.as_millis() as u64;
        s.notify.lease_ms = 1000;
    })
    .await;

    // Act
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    // (what the merchant did, HTTP status, ack status, ack code, the recorded error starts with)
    let expected: [(&str, Value, Value, Value, &str); 8] = [
        (
            "answered F",
            json!(200),
            json!("F"),
            json!("PROCESS_FAIL"),
            "acknowledged F/PROCESS_FAIL, not S",
        ),
        (
            "answered U",
            json!(200),
            json!("U"),
            json!("UNKNOWN_EXCEPTION"),
            "acknowledged U/UNKNOWN_EXCEPTION, not S",
        ),
        (
            "answered HTTP 500",
            json!(500),
            json!("S"),
            json!("SUCCESS"),
            "HTTP 500",
        ),
        (
            "answered malformed JSON",
            json!(200),
            Value::Null,
            Value::Null,
            "the acknowledgement has no result.resultStatus",
        ),
        (
            "hung up",
            Value::Null,
            Value::Null,
            Value::Null,
            "transport error",
        ),
        (
            "answered too late",
            Value::Null,
            Value::Null,
            Value::Null,
            "no answer within the timeout",
        ),
        (
            "redirected",
            json!(302),
            Value::Null,
            Value::Null,
            "HTTP 302: redirects are not followed",
        ),
        ("answered S", json!(200), json!("S"), json!("SUCCESS"), ""),
    ];
    let recorded = attempts(&notification);
    assert_eq!(recorded.len(), 8, "{notification:#}");
    for (n, (attempt, (what, http, ack, code, error))) in recorded.iter().zip(expected).enumerate()
    {
        let delivered = error.is_empty();
        let problem = format!("attempt {} (the merchant {what}): {attempt:#}", n + 1);
        assert_eq!(attempt["number"], n + 1, "{problem}");
        assert_eq!(attempt["delivered"], delivered, "{problem}");
        assert_eq!(attempt["httpStatus"], http, "{problem}");
        assert_eq!(attempt["ackStatus"], ack, "{problem}");
        assert_eq!(attempt["ackCode"], code, "{problem}");
        if delivered {
            assert_eq!(attempt["error"], Value::Null, "{problem}");
        } else {
            let recorded_error = attempt["error"].as_str().unwrap_or_default();
            assert!(recorded_error.starts_with(error), "{problem}");
        }
    }
    let latency = ms(&recorded[5]["latencyMs"]);
    assert!(
        (timeout.as_millis() as i64..timeout.as_millis() as i64 + 500).contains(&latency),
        "the slow attempt took {latency} ms against a {timeout:?} timeout"
    );
    assert_eq!(merchant.deliveries().len(), 8);
    assert!(
        redirect_target.deliveries().is_empty(),
        "the redirect was followed: {:?}",
        redirect_target.deliveries()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_a_failed_attempt_each_time_until_the_schedule_is_exhausted() {
    // Arrange
    let app = gateway_at_ten_hours_a_second().await;
    let nobody = refusing_url().await;

    // Act
    let id = final_payment(&app, successful_payment(&nobody)).await;
    let notification = app.notification_becomes(&id, "EXHAUSTED").await;

    // Assert
    assert_eq!(notification["attemptsMade"], 8, "{notification:#}");
    for attempt in attempts(&notification) {
        assert_eq!(attempt["httpStatus"], Value::Null, "{attempt:#}");
        assert_eq!(attempt["delivered"], false, "{attempt:#}");
        assert!(
            attempt["error"]
                .as_str()
                .unwrap_or_default()
                .starts_with("connection failed"),
            "{attempt:#}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_that_never_answers_does_not_hold_up_another_merchants_schedule() {
    // Arrange: one merchant keeps every attempt open until the 1 s timeout; the other answers U
    // at once, so its attempts are due 3 ms, 17 ms and 17 ms apart.
    let timeout = Duration::from_secs(1);
    let silent = TestReceiver::start().await;
    silent.answer_always(Answer::Success.after(timeout * 5));
    let prompt = TestReceiver::start().await;
    prompt.answer_always(Answer::Unknown);
    let app = spawn_app_with(|s| {
        s.notify.time_scale = TEN_HOURS_A_SECOND;
        s.notify.timeout_ms = timeout.as_millis() as u64;
        s.notify.lease_ms = 3000;
    })
    .await;
    final_payment(&app, successful_payment(&silent.url())).await;
    silent.wait_for_deliveries(1).await;

    // Act
    let id = final_payment(&app, successful_payment(&prompt.url())).await;
    let final_ms = chrono::Utc::now().timestamp_millis();
    let arrivals = prompt.wait_for_deliveries(4).await;
    let notification = app.notification_has_made(&id, 4).await;

    // Assert
    let due: Vec<i64> = each_attempt(&notification, "dueMs")
        .iter()
        .map(ms)
        .collect();
    let waited = waits_after_it_could_go(&arrivals[..4], &due[..4], final_ms);
    assert!(
        waited.iter().all(|w| *w <= ON_TIME.as_millis() as i64),
        "while the other merchant's attempt hung, the prompt merchant's first four attempts \
         came {waited:?} ms after they could go"
    );
}

// ------------------------------------------------------------------------------------------
// What is sent
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_notification_of_a_successful_payment_carries_the_fields_of_the_page() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let app = gateway_at_ten_hours_a_second().await;
    let id = unique_id("NTF-PR-");
    let payment = json!({
        "paymentRequestId": id,
        "paymentId": "2020010123456789XXXX",
        "status": "SUCCESS",
        "paymentAmount": {"currency": "JPY", "value": "200"},
        "paymentCreateTime": "2020-03-02T19:11:19-08:00",
        "paymentTime": "2020-03-02T19:12:11-08:00",
        "pspName": "GCASH",
        "customerId": "20885028136924G7",
        "clientId": MERCHANT,
        "notifyUrl": merchant.url(),
    });

    // Act
    final_payment(&app, payment).await;
    app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    let sent = merchant.deliveries();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path, MERCHANT_NOTIFY_PATH);
    assert!(
        sent[0]
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        sent[0].header("content-type")
    );
    assert_eq!(
        sent[0].json(),
        json!({
            "notifyType": "PAYMENT_RESULT",
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentRequestId": id,
            "paymentId": "2020010123456789XXXX",
            "paymentAmount": {"currency": "JPY", "value": "200"},
            "paymentCreateTime": "2020-03-02T19:11:19-08:00",
            "paymentTime": "2020-03-02T19:12:11-08:00",
            "pspCustomerInfo": {"pspName": "GCASH", "pspCustomerId": "20885028136924G7"},
        })
    );
}

#[tokio::test]
async fn the_notification_of_a_failed_payment_has_result_f_with_its_code_and_no_payment_time() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let app = gateway_at_ten_hours_a_second().await;
    let id = unique_id("NTF-PR-");
    app.seed_payment(json!({
        "paymentRequestId": id,
        "paymentId": "2020010123456789FAIL",
        "paymentAmount": {"currency": "USD", "value": "1999"},
        "clientId": MERCHANT,
        "notifyUrl": merchant.url(),
    }))
    .await;

    // Act
    let failed = app
        .admin()
        .fail_payment(
            &id,
            json!({"resultCode": "USER_BALANCE_NOT_ENOUGH", "resultMessage": "balance low"}),
        )
        .await;
    app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    assert_eq!(failed.status, 200, "{failed:?}");
    let body = merchant.deliveries()[0].json();
    assert_eq!(body["notifyType"], "PAYMENT_RESULT");
    assert_eq!(
        body["result"],
        json!({"resultCode": "USER_BALANCE_NOT_ENOUGH", "resultStatus": "F", "resultMessage": "balance low"})
    );
    assert_eq!(body["paymentRequestId"], id.as_str());
    assert_eq!(body["paymentId"], "2020010123456789FAIL");
    assert_eq!(
        body["paymentAmount"],
        json!({"currency": "USD", "value": "1999"})
    );
    assert!(
        body["paymentCreateTime"].is_string(),
        "paymentCreateTime: {body}"
    );
    assert!(
        body.get("paymentTime").is_none(),
        "the page: paymentTime only when the result is S; got {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_sends_the_same_body_bytes_under_the_same_notification_id() {
    // Arrange
    let merchant = TestReceiver::start().await;
    merchant.answer_in_turn([Answer::Unknown, Answer::HttpStatus(503)], Answer::Success);
    let app = gateway_at_ten_hours_a_second().await;

    // Act
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    let sent = merchant.deliveries();
    assert_eq!(sent.len(), 3);
    let notification_id = notification["id"].as_str().expect("an id");
    assert!(!notification_id.is_empty());
    for (n, attempt) in sent.iter().enumerate() {
        assert_eq!(
            attempt.notification_id(),
            notification_id,
            "attempt {}",
            n + 1
        );
        assert_eq!(
            attempt.body,
            sent[0].body,
            "attempt {} sent other bytes than attempt 1",
            n + 1
        );
    }
    assert_eq!(sent[0].json(), notification["body"]);
}

#[tokio::test]
async fn the_notification_signature_verifies_with_the_gateway_public_key_over_the_notify_path() {
    // Arrange
    let merchant = TestReceiver::start().await;
    merchant.answer_in_turn([Answer::Unknown], Answer::Success);
    let app = gateway_at_ten_hours_a_second().await;

    // Act
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    let sent = merchant.deliveries();
    assert_eq!(sent.len(), 2);
    for attempt in &sent {
        assert_eq!(attempt.header("client-id"), Some(MERCHANT));
        assert!(
            attempt
                .header("signature")
                .is_some_and(|s| s.starts_with("algorithm=RSA256,keyVersion=1,signature=")),
            "{:?}",
            attempt.header("signature")
        );
        assert_eq!(attempt.gateway_signature_problem(), None, "{attempt:#?}");
        assert!(
            attempt.signature_problem_over("/another/path").is_some(),
            "the signature is over the notify URL's path, so another path must not verify"
        );
    }
}

#[tokio::test]
async fn the_client_id_header_is_the_merchant_of_the_payment() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let app = gateway_at_ten_hours_a_second().await;
    let payment = json!({
        "paymentRequestId": unique_id("NTF-PR-"),
        "paymentId": unique_id("NTF-P-"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": ROTATED,
        "notifyUrl": merchant.url(),
    });

    // Act
    let id = final_payment(&app, payment).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    let sent = merchant.deliveries();
    assert_eq!(sent[0].header("client-id"), Some(ROTATED));
    assert_eq!(notification["clientId"], ROTATED);
    assert_eq!(sent[0].gateway_signature_problem(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_require_signed_ack_only_an_acknowledgement_signed_by_the_merchant_delivers() {
    // Arrange
    let merchant = TestReceiver::start().await;
    merchant.answer_in_turn(
        [Answer::Success, Answer::SuccessSignedWith(Key::Other)],
        Answer::SuccessSignedWith(Key::Merchant),
    );
    let app = spawn_app_with(|s| {
        s.notify.time_scale = TEN_HOURS_A_SECOND;
        s.notify.require_signed_ack = true;
    })
    .await;

    // Act
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    assert_eq!(notification["attemptsMade"], 3, "{notification:#}");
    assert_eq!(
        each_attempt(&notification, "delivered"),
        [false, false, true].map(Value::from)
    );
    let errors = each_attempt(&notification, "error");
    for (n, what) in [(0, "unsigned"), (1, "signed with another key")] {
        assert!(
            errors[n]
                .as_str()
                .is_some_and(|e| e.starts_with("acknowledgement signature")),
            "an S acknowledgement {what} must fail the attempt: {:?}",
            errors[n]
        );
    }
}

// ------------------------------------------------------------------------------------------
// Where it goes
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_notify_url_of_the_payment_wins_over_the_merchant_default() {
    // Arrange
    let default = TestReceiver::start().await;
    let per_payment = TestReceiver::start().await;
    let default_url = default.url();
    let app = spawn_app_with(|s| {
        s.notify.time_scale = TEN_HOURS_A_SECOND;
        s.clients[0].notify_url = Some(default_url);
    })
    .await;

    // Act
    let id = final_payment(&app, successful_payment(&per_payment.url())).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    assert_eq!(notification["url"], per_payment.url());
    assert_eq!(per_payment.deliveries().len(), 1);
    assert!(default.deliveries().is_empty());
}

#[tokio::test]
async fn a_push_result_notifies_the_merchant_default_url_when_the_payment_names_none() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let merchant_url = merchant.url();
    let app = spawn_app_with(|s| {
        s.notify.time_scale = TEN_HOURS_A_SECOND;
        s.clients[0].notify_url = Some(merchant_url);
    })
    .await;
    let id = unique_id("NTF-PR-");
    app.seed_payment(json!({
        "paymentRequestId": id,
        "paymentAmount": {"currency": "USD", "value": "1000"},
    }))
    .await;

    // Act
    let push = app
        .post_signed(
            paths::NOTIFY_PUSH_PAYMENT,
            json!({
                "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                "paymentRequestId": id,
                "paymentId": "2020010100000000PUSH",
                "paymentTime": "2020-01-01T12:01:01+08:00",
            }),
        )
        .await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    assert_eq!(push.result_code(), "SUCCESS", "{push:?}");
    assert_eq!(notification["url"], merchant.url());
    let sent = merchant.deliveries();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("client-id"),
        Some(MERCHANT),
        "the caller that made it final"
    );
    assert_eq!(sent[0].json()["paymentId"], "2020010100000000PUSH");
    assert_eq!(sent[0].json()["paymentTime"], "2020-01-01T12:01:01+08:00");
}

#[tokio::test]
async fn completing_a_seeded_payment_notifies_its_merchant_default_url() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let merchant_url = merchant.url();
    let app = spawn_app_with(|s| {
        s.notify.time_scale = TEN_HOURS_A_SECOND;
        s.clients[0].notify_url = Some(merchant_url);
    })
    .await;
    let id = unique_id("NTF-PR-");
    app.seed_payment(json!({
        "paymentRequestId": id,
        "paymentId": "2020010100000000DONE",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": MERCHANT,
    }))
    .await;
    let before = app.notifications_of(&id).await;

    // Act
    let completed = app.admin().complete_payment(&id, json!({})).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    assert!(
        before.is_empty(),
        "a processing payment has no notification: {before:?}"
    );
    assert_eq!(completed.status, 200, "{completed:?}");
    assert_eq!(notification["url"], merchant.url());
    assert_eq!(
        merchant.deliveries()[0].json()["result"]["resultStatus"],
        "S"
    );
}

#[tokio::test]
async fn a_final_payment_with_no_notify_url_anywhere_is_not_notified() {
    // Arrange
    let app = gateway_at_ten_hours_a_second().await;
    let payment = json!({
        "paymentRequestId": unique_id("NTF-PR-"),
        "paymentId": unique_id("NTF-P-"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": INQUIRY_ONLY,
    });

    // Act
    let id = final_payment(&app, payment).await;

    // Assert: no notification, only the entry that says why.
    let listed = app.notifications_of(&id).await;
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["status"], "NOT_QUEUED", "{listed:#?}");
    assert!(listed[0].get("id").is_none(), "{listed:#?}");
    assert!(
        listed[0]["notQueued"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("its merchant {INQUIRY_ONLY} has no notify_url"))),
        "{listed:#?}"
    );
}

// ------------------------------------------------------------------------------------------
// The admin controls
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeliver_makes_an_attempt_now_even_after_exhausted_or_delivered() {
    // Arrange: real time; the clock is driven through the whole day.
    let merchant = TestReceiver::start().await;
    merchant.answer_always(Answer::Unknown);
    let app = spawn_app_with(|_| {}).await;
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    app.notification_has_made(&id, 1).await;
    app.admin().advance_clock("2d").await;
    let exhausted = app.notification_becomes(&id, "EXHAUSTED").await;
    let notification_id = exhausted["id"].as_str().expect("an id").to_owned();
    merchant.answer_always(Answer::Success);

    // Act
    let asked_ms = chrono::Utc::now().timestamp_millis();
    let after_exhausted = app.admin().redeliver(&notification_id).await;
    let delivered = app.notification_becomes(&id, "DELIVERED").await;
    let again = app.admin().redeliver(&notification_id).await;
    let delivered_again = app.notification_has_made(&id, 10).await;

    // Assert
    assert_eq!(exhausted["attemptsMade"], 8, "{exhausted:#}");
    assert_eq!(after_exhausted.status, 200, "{after_exhausted:?}");
    assert_eq!(after_exhausted.json["status"], "PENDING");
    assert_eq!(delivered["attemptsMade"], 9, "{delivered:#}");
    let ninth = &attempts(&delivered)[8];
    let due = ms(&ninth["dueMs"]);
    assert!(
        (asked_ms..asked_ms + 1000).contains(&due),
        "a redelivery is due when asked ({asked_ms}), not at {due}"
    );
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(delivered_again["status"], "DELIVERED");
    let sent = merchant.deliveries();
    assert_eq!(sent.len(), 10);
    assert!(sent.iter().all(|d| d.notification_id() == notification_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_pending_notification_and_answers_409_once_it_is_not_pending() {
    // Arrange
    let merchant = TestReceiver::start().await;
    merchant.answer_always(Answer::Unknown);
    let app = spawn_app_with(|_| {}).await;
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let pending = app.notification_has_made(&id, 1).await;
    let notification_id = pending["id"].as_str().expect("an id").to_owned();

    // Act
    let cancelled = app.admin().cancel(&notification_id).await;
    let advance = app.admin().advance_clock("2d").await;
    let_the_sender_look().await;
    let twice = app.admin().cancel(&notification_id).await;

    // Assert
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(cancelled.json["status"], "CANCELLED");
    assert_eq!(advance.json["pendingMoved"], 0, "{advance:?}");
    assert_eq!(
        merchant.deliveries().len(),
        1,
        "a cancelled notification was sent"
    );
    let after = app.notification_of(&id).await;
    assert_eq!(after["status"], "CANCELLED");
    assert_eq!(after["attemptsMade"], 1);
    assert_eq!(twice.status, 409, "{twice:?}");
    assert!(twice.error().contains("CANCELLED"), "{twice:?}");
}

#[tokio::test]
async fn cancelling_a_delivered_notification_answers_409() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let app = gateway_at_ten_hours_a_second().await;
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let delivered = app.notification_becomes(&id, "DELIVERED").await;

    // Act
    let reply = app
        .admin()
        .cancel(delivered["id"].as_str().expect("an id"))
        .await;

    // Assert
    assert_eq!(reply.status, 409, "{reply:?}");
    assert!(reply.error().contains("DELIVERED"), "{reply:?}");
}

#[tokio::test]
async fn cancel_and_redeliver_of_an_unknown_notification_answer_404() {
    // Arrange
    let app = gateway_at_ten_hours_a_second().await;

    // Act
    let cancel = app.admin().cancel("ntf_nothing_like_it").await;
    let redeliver = app.admin().redeliver("ntf_nothing_like_it").await;

    // Assert
    assert_eq!(cancel.status, 404, "{cancel:?}");
    assert_eq!(redeliver.status, 404, "{redeliver:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advancing_the_clock_moves_every_pending_attempt_earlier_by_the_scaled_amount() {
    // Arrange: a minute of schedule a second, so 2m is 2 s of real time and 10m is 10 s.
    let merchant = TestReceiver::start().await;
    merchant.answer_always(Answer::Unknown);
    let app = spawn_app_with(|s| s.notify.time_scale = 60.0).await;
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    let first = app.notification_has_made(&id, 1).await;
    let first_due = ms(&attempts(&first)[0]["dueMs"]);

    // Act
    let by_seconds = app.admin().advance_clock_seconds(120).await;
    let second = app.notification_has_made(&id, 2).await;
    let by_text = app.admin().advance_clock("10m").await;
    let third = app.notification_has_made(&id, 3).await;

    // Assert
    assert_eq!(ms(&first["nextDueMs"]) - first_due, 2_000, "{first:#}");
    assert_eq!(by_seconds.status, 200, "{by_seconds:?}");
    assert_eq!(by_seconds.json["pendingMoved"], 1);
    assert_eq!(by_seconds.json["advancedSeconds"], 120.0);
    assert_eq!(
        each_attempt(&second, "dueMs"),
        [first_due, first_due].map(Value::from),
        "2m of schedule (2 s) earlier: attempt 2 is due when attempt 1 was"
    );
    assert_eq!(ms(&second["nextDueMs"]) - first_due, 10_000, "{second:#}");
    assert_eq!(by_text.json["pendingMoved"], 1, "{by_text:?}");
    assert_eq!(
        each_attempt(&third, "dueMs"),
        [first_due, first_due, first_due].map(Value::from)
    );
    assert_eq!(
        each_attempt(&third, "scheduleOffsetSeconds"),
        [0, 120, 720].map(Value::from)
    );
    assert_eq!(merchant.deliveries().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advancing_the_clock_during_an_attempt_moves_that_notification_too() {
    // Arrange: real time; the merchant takes half a second to answer U to attempt 1.
    let merchant = TestReceiver::start().await;
    merchant.answer_in_turn(
        [Answer::Unknown.after(Duration::from_millis(500))],
        Answer::Unknown,
    );
    let app = spawn_app_with(|_| {}).await;
    let id = final_payment(&app, successful_payment(&merchant.url())).await;
    merchant.wait_for_deliveries(1).await;

    // Act: 2m ahead while attempt 1 is still open.
    let advance = app.admin().advance_clock("2m").await;
    let second = app.notification_has_made(&id, 2).await;

    // Assert
    assert_eq!(advance.json["pendingMoved"], 1, "{advance:?}");
    let due = each_attempt(&second, "dueMs");
    assert_eq!(
        due[1], due[0],
        "attempt 2 is due 2m after attempt 1, and the clock moved 2m"
    );
}

// ------------------------------------------------------------------------------------------
// The gateway as the receiving side
// ------------------------------------------------------------------------------------------

/// A notification as Antom sends it, for `payment_request_id`.
fn notification_for(payment_request_id: &str) -> Value {
    json!({
        "notifyType": "PAYMENT_RESULT",
        "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success."},
        "paymentRequestId": payment_request_id,
        "paymentId": "202003021940108001001885I0204368838",
        "paymentAmount": {"currency": "JPY", "value": "200"},
        "paymentTime": "2020-03-02T19:12:11-08:00",
    })
}

/// The webhook's record for one payment, oldest first.
async fn received_by_the_gateway(app: &TestApp, payment_request_id: &str) -> Vec<Value> {
    let reply = app.admin().received_notifications(payment_request_id).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let mut received = reply.json.as_array().cloned().unwrap_or_default();
    received.reverse();
    received
}

#[tokio::test]
async fn the_gateway_webhook_records_each_verified_notification_with_its_verdict_and_journals_forged_ones()
 {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let (valid, forged, broken) = (
        unique_id("RCV-OK-"),
        unique_id("RCV-SIG-"),
        unique_id("RCV-FIELD-"),
    );
    let valid_body = serde_json::to_string(&notification_for(&valid)).expect("JSON");
    let mut broken_body = notification_for(&broken);
    broken_body
        .as_object_mut()
        .expect("an object")
        .remove("paymentId");

    // Act
    let accepted = app
        .post_signed(paths::NOTIFY_PAYMENT, valid_body.clone())
        .await;
    let rejected = app
        .post(paths::NOTIFY_PAYMENT, notification_for(&forged))
        .signed_with(Key::Other)
        .send()
        .await;
    let illegal = app.post_signed(paths::NOTIFY_PAYMENT, broken_body).await;

    // Assert
    assert_eq!(accepted.result_code(), "SUCCESS", "{accepted:?}");
    assert_eq!(rejected.result_code(), "INVALID_SIGNATURE", "{rejected:?}");
    assert_eq!(illegal.result_code(), "PARAM_ILLEGAL", "{illegal:?}");
    let ok = received_by_the_gateway(&app, &valid).await;
    assert_eq!(ok.len(), 1, "{ok:?}");
    assert_eq!(ok[0]["verdict"], "valid");
    assert_eq!(ok[0]["answered"], "SUCCESS");
    assert_eq!(ok[0]["clientId"], MERCHANT);
    assert_eq!(ok[0]["body"], valid_body.as_str(), "the body as received");
    // What the gateway could not verify is kept in the bounded journal only, never the store.
    assert!(received_by_the_gateway(&app, &forged).await.is_empty());
    let journal = app.admin().journal_entries("notifyPayment").await;
    let bad_signature: Vec<&Value> = journal
        .iter()
        .filter(|e| {
            e["paymentIds"]
                .as_array()
                .is_some_and(|ids| ids.contains(&json!(forged)))
        })
        .collect();
    assert_eq!(bad_signature.len(), 1, "{journal:?}");
    assert_eq!(bad_signature[0]["resultCode"], "INVALID_SIGNATURE");
    assert!(
        bad_signature[0]["verdict"]
            .as_str()
            .is_some_and(|v| v.contains("signature")),
        "{bad_signature:?}"
    );
    let bad_field = received_by_the_gateway(&app, &broken).await;
    assert_eq!(bad_field.len(), 1, "{bad_field:?}");
    assert_eq!(bad_field[0]["answered"], "PARAM_ILLEGAL");
    assert!(
        bad_field[0]["verdict"]
            .as_str()
            .is_some_and(|v| v.starts_with("paymentId: required")),
        "{bad_field:?}"
    );
}

#[tokio::test]
async fn fail_next_makes_the_gateway_webhook_answer_the_scripted_failure_n_times_then_success() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let id = unique_id("RCV-FAIL-");
    let script = app
        .admin()
        .receiver_fail_next(json!({"count": 2, "resultStatus": "F", "resultCode": "PROCESS_FAIL"}))
        .await;

    // Act
    let mut answers = Vec::new();
    for _ in 0..3 {
        let reply = app
            .post_signed(paths::NOTIFY_PAYMENT, notification_for(&id))
            .await;
        answers.push((
            reply.result_status().to_owned(),
            reply.result_code().to_owned(),
        ));
    }

    // Assert
    assert_eq!(script.status, 200, "{script:?}");
    assert_eq!(script.json["failNext"], 2);
    let pair = |s: &str, c: &str| (s.to_owned(), c.to_owned());
    assert_eq!(
        answers,
        [
            pair("F", "PROCESS_FAIL"),
            pair("F", "PROCESS_FAIL"),
            pair("S", "SUCCESS")
        ]
    );
    let received = received_by_the_gateway(&app, &id).await;
    let answered: Vec<&Value> = received.iter().map(|r| &r["answered"]).collect();
    assert_eq!(answered, ["PROCESS_FAIL", "PROCESS_FAIL", "SUCCESS"]);
    assert!(received.iter().all(|r| r["verdict"] == "valid"));
}

#[tokio::test]
async fn a_scripted_authentication_failure_goes_out_unsigned_like_every_other() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let id = unique_id("RCV-AUTH-");
    app.admin()
        .receiver_fail_next(
            json!({"count": 1, "resultStatus": "F", "resultCode": "INVALID_SIGNATURE"}),
        )
        .await;

    // Act
    let refused = app
        .post_signed(paths::NOTIFY_PAYMENT, notification_for(&id))
        .await;
    let accepted = app
        .post_signed(paths::NOTIFY_PAYMENT, notification_for(&id))
        .await;

    // Assert
    assert_eq!(refused.result_code(), "INVALID_SIGNATURE");
    assert!(refused.is_deliberately_unsigned(), "{refused:?}");
    assert_eq!(accepted.result_code(), "SUCCESS");
    assert!(accepted.is_signed_by_gateway(), "{accepted:?}");
}

#[tokio::test]
async fn fail_next_defaults_to_unknown_exception_and_refuses_to_script_success() {
    // Arrange
    let app = spawn_app_with(|_| {}).await;
    let id = unique_id("RCV-U-");

    // Act
    let script = app.admin().receiver_fail_next(json!({"count": 1})).await;
    let first = app
        .post_signed(paths::NOTIFY_PAYMENT, notification_for(&id))
        .await;
    let second = app
        .post_signed(paths::NOTIFY_PAYMENT, notification_for(&id))
        .await;
    let success = app
        .admin()
        .receiver_fail_next(json!({"count": 1, "resultStatus": "S"}))
        .await;

    // Assert
    assert_eq!(script.status, 200, "{script:?}");
    assert_eq!(
        (first.result_status(), first.result_code()),
        ("U", "UNKNOWN_EXCEPTION")
    );
    assert_eq!(second.result_code(), "SUCCESS");
    assert_eq!(success.status, 400, "{success:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_notifying_its_own_webhook_is_retried_through_fail_next_until_delivered() {
    // Arrange: a merchant registered with the gateway's public key, so the gateway's webhook
    // verifies what the gateway's sender signs.
    let app = spawn_app_with(|s| {
        s.notify.time_scale = TEN_HOURS_A_SECOND;
        s.clients.push(gateway_as_merchant());
    })
    .await;
    app.admin().receiver_fail_next(json!({"count": 2})).await;
    let own_webhook = format!("{}{}", app.address, paths::NOTIFY_PAYMENT);
    let payment = json!({
        "paymentRequestId": unique_id("SELF-PR-"),
        "paymentId": unique_id("SELF-P-"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "EUR", "value": "4200"},
        "clientId": GATEWAY_AS_MERCHANT,
        "notifyUrl": own_webhook,
    });

    // Act
    let id = final_payment(&app, payment).await;
    let notification = app.notification_becomes(&id, "DELIVERED").await;

    // Assert
    assert_eq!(notification["attemptsMade"], 3, "{notification:#}");
    assert_eq!(
        each_attempt(&notification, "ackCode"),
        ["UNKNOWN_EXCEPTION", "UNKNOWN_EXCEPTION", "SUCCESS"].map(Value::from)
    );
    let received = received_by_the_gateway(&app, &id).await;
    assert_eq!(received.len(), 3, "{received:#?}");
    for (n, record) in received.iter().enumerate() {
        assert_eq!(record["verdict"], "valid", "attempt {}: {record:#}", n + 1);
        assert_eq!(record["clientId"], GATEWAY_AS_MERCHANT);
        let body: Value =
            serde_json::from_str(record["body"].as_str().unwrap_or_default()).expect("a JSON body");
        assert_eq!(body, notification["body"]);
    }
    let answered: Vec<&Value> = received.iter().map(|r| &r["answered"]).collect();
    assert_eq!(
        answered,
        ["UNKNOWN_EXCEPTION", "UNKNOWN_EXCEPTION", "SUCCESS"]
    );
}

// ------------------------------------------------------------------------------------------
// When nothing is sent, the gateway says why
// ------------------------------------------------------------------------------------------

/// A successful push report for `payment_request_id`.
fn push_of(payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentRequestId": payment_request_id,
        "paymentId": unique_id("NTF-P-"),
        "paymentTime": "2020-01-01T12:01:01+08:00",
    })
}

/// The `notQueued` reason of the payment's view and of its notification listing's one entry,
/// which must agree.
async fn not_queued(app: &TestApp, payment_request_id: &str) -> String {
    let payment = app.admin().read_payment(payment_request_id).await;
    assert_eq!(payment.status, 200, "{payment:?}");
    let listed = app.notification_of(payment_request_id).await;
    assert_eq!(listed["status"], "NOT_QUEUED", "{listed:#}");
    assert_eq!(listed["notQueued"], payment.json["notQueued"], "{listed:#}");
    payment.json["notQueued"]
        .as_str()
        .unwrap_or_else(|| panic!("no notQueued: {:#}", payment.json))
        .to_owned()
}

#[tokio::test]
async fn a_push_for_a_payment_never_seeded_says_it_has_no_payment_amount_and_nothing_else() {
    // Arrange: the merchant has a notify URL, so the amount is all that is missing.
    let merchant = TestReceiver::start().await;
    let merchant_url = merchant.url();
    let app = spawn_app_with(|s| s.clients[0].notify_url = Some(merchant_url)).await;
    let id = unique_id("NTF-PR-");

    // Act
    let push = app
        .post_signed(paths::NOTIFY_PUSH_PAYMENT, push_of(&id))
        .await;

    // Assert
    assert_eq!(push.result_code(), "SUCCESS", "{push:?}");
    let reason = not_queued(&app, &id).await;
    assert!(
        reason.contains("no paymentAmount") && reason.contains("POST /admin/payments"),
        "{reason}"
    );
    assert!(!reason.contains("nowhere to send"), "{reason}");
    assert!(!reason.contains("paymentId"), "it has one: {reason}");
}

#[tokio::test]
async fn a_payment_seeded_final_with_nowhere_to_go_says_so_in_the_seed_answer_and_after() {
    // Arrange
    let app = spawn_app().await;
    let id = unique_id("NTF-PR-");

    // Act
    let seeded = app
        .admin()
        .seed_payment(json!({
            "paymentRequestId": id,
            "status": "SUCCESS",
            "paymentAmount": {"currency": "USD", "value": "1000"},
        }))
        .await;

    // Assert
    assert_eq!(seeded.status, 201, "{seeded:?}");
    let reason = not_queued(&app, &id).await;
    assert_eq!(seeded.json["notQueued"], reason.as_str());
    assert!(
        reason.contains("no notifyUrl and names no merchant (clientId)"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_push_by_a_merchant_without_a_notify_url_names_that_merchant_and_becomes_its_payment() {
    // Arrange: seeded complete but for whom; MERCHANT has no notify_url in the test config.
    let app = spawn_app().await;
    let id = unique_id("NTF-PR-");
    app.seed_payment(json!({
        "paymentRequestId": id,
        "paymentAmount": {"currency": "USD", "value": "1000"},
    }))
    .await;

    // Act
    let push = app
        .post_signed(paths::NOTIFY_PUSH_PAYMENT, push_of(&id))
        .await;

    // Assert
    assert_eq!(push.result_code(), "SUCCESS", "{push:?}");
    let reason = not_queued(&app, &id).await;
    assert!(
        reason.contains(&format!("its merchant {MERCHANT} has no notify_url")),
        "{reason}"
    );
    let payment = app.admin().read_payment(&id).await;
    assert_eq!(payment.json["clientId"], MERCHANT, "{:#}", payment.json);
}

#[tokio::test]
async fn the_push_journal_entry_notes_whether_a_notification_was_queued() {
    // Arrange
    let merchant = TestReceiver::start().await;
    let merchant_url = merchant.url();
    let app = spawn_app_with(|s| s.clients[0].notify_url = Some(merchant_url)).await;
    let (seeded, unseeded) = (unique_id("NTF-PR-"), unique_id("NTF-PR-"));
    app.seed_payment(json!({
        "paymentRequestId": seeded,
        "paymentAmount": {"currency": "USD", "value": "1000"},
    }))
    .await;

    // Act
    for id in [&seeded, &unseeded] {
        let push = app
            .post_signed(paths::NOTIFY_PUSH_PAYMENT, push_of(id))
            .await;
        assert_eq!(push.result_code(), "SUCCESS", "{push:?}");
    }

    // Assert
    let journal = app.admin().journal_entries("notifyPushPayment").await;
    let note_of = |id: &str| {
        journal
            .iter()
            .find(|e| {
                e["paymentIds"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|v| v == id))
            })
            .map(|e| e["note"].clone())
            .unwrap_or_else(|| panic!("no journal entry for {id}: {journal:#?}"))
    };
    assert_eq!(note_of(&seeded), "notification queued");
    assert!(
        note_of(&unseeded)
            .as_str()
            .is_some_and(|n| n.starts_with("no notification: the payment has no paymentAmount")),
        "{:?}",
        note_of(&unseeded)
    );
    let payment = app.admin().read_payment(&seeded).await;
    assert!(
        payment.json.get("notQueued").is_none(),
        "{:#}",
        payment.json
    );
}
