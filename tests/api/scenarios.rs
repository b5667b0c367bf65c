//! Scenario control (issue 5): every result code of the four seed pages is playable through the
//! built-in convention (the API's key field ending in `__<CODE>`), the `Gateway-Scenario` header
//! and a rule added through the admin API; how rules match, count, order and fail; config rules
//! and what `/admin/reset` leaves behind.

use serde_json::{Value, json};

use super::helpers::{Key, ROTATED, Reply, keys_dir, paths, test_settings, unique_id};
use super::scenario_helpers::{
    Api, Control, INQUIRY_PAYMENT, NOTIFY_PAYMENT, NOTIFY_PUSH_PAYMENT, SEND_PAYMENT_RESULT,
    TestGateway, Wanted, inquiry, payment_notification, payment_report, push_failure, push_success,
    spawn_gateway, spawn_gateway_with,
};

// ------------------------------------------------------------------------------------------
// The pages' tables: (code, status, message), as spec/seeds/*.txt print them
// ------------------------------------------------------------------------------------------

/// sendPaymentResult, "Result/Error codes".
const SEND_PAYMENT_RESULT_CODES: &[(&str, &str, &str)] = &[
    ("SUCCESS", "S", "Success"),
    ("ACCESS_DENIED", "F", "Access is denied."),
    (
        "INVALID_API",
        "F",
        "The called API is invalid or not active.",
    ),
    (
        "INVALID_CONTRACT",
        "F",
        "The parameter values in the contract do not match those in the current transaction.",
    ),
    (
        "KEY_NOT_FOUND",
        "F",
        "The private key or public key of Alipay or the merchant is not found.",
    ),
    (
        "MERCHANT_KYB_NOT_QUALIFIED",
        "F",
        "The payment failed because of the merchant's KYB status. The merchant is either not KYB compliant, or the KYB status is not qualified for this transaction.",
    ),
    (
        "MERCHANT_NOT_REGISTERED",
        "F",
        "The merchant is not registered.",
    ),
    ("NO_INTERFACE_DEF", "F", "API is not defined."),
    (
        "REQUEST_TRAFFIC_EXCEED_LIMIT",
        "U",
        "The request traffic exceeds the limit.",
    ),
    (
        "PARAM_ILLEGAL",
        "F",
        "The required parameters are not passed, or illegal parameters exist. For example, a non-numeric input, an invalid date, or the length and type of the parameter are wrong.",
    ),
    ("SYSTEM_ERROR", "F", "A system error occurred."),
    (
        "UNKNOWN_EXCEPTION",
        "U",
        "An API call has failed, which is caused by unknown reasons.",
    ),
];

/// notifyPushPayment, "Result/Error codes".
const NOTIFY_PUSH_PAYMENT_CODES: &[(&str, &str, &str)] = &[
    ("SUCCESS", "S", "Success"),
    ("ACCESS_DENIED", "F", "Access is denied."),
    ("INVALID_CLIENT", "F", "The client is invalid."),
    ("INVALID_SIGNATURE", "F", "The signature is invalid."),
    ("KEY_NOT_FOUND", "F", "The key is not found."),
    (
        "MEDIA_TYPE_NOT_ACCEPTABLE",
        "F",
        "The server does not implement the media type that is acceptable to the client.",
    ),
    (
        "METHOD_NOT_SUPPORTED",
        "F",
        "The server does not implement the requested HTTPS method.",
    ),
    ("NO_INTERFACE_DEF", "F", "API is not defined."),
    (
        "PARAM_ILLEGAL",
        "F",
        "Illegal parameters. For example, non-numeric input, invalid date.",
    ),
    (
        "PROCESS_FAIL",
        "F",
        "A general business failure occurred. Do not retry.",
    ),
    (
        "REQUEST_TRAFFIC_EXCEED_LIMIT",
        "U",
        "The request traffic exceeds the limit.",
    ),
    (
        "UNKNOWN_EXCEPTION",
        "U",
        "An API call failed, which is caused by unknown reasons.",
    ),
];

/// inquiryPayment, "Result/Error codes": whether the inquiry itself worked. SUCCESS is played
/// with the payment result table below (result S and a `paymentResult`).
const INQUIRY_PAYMENT_CODES: &[(&str, &str, &str)] = &[
    ("ACCESS_DENIED", "F", "Access is denied."),
    ("INVALID_CLIENT", "F", "The client is invalid."),
    ("INVALID_SIGNATURE", "F", "The signature is invalid."),
    ("KEY_NOT_FOUND", "F", "The key is not found."),
    (
        "MEDIA_TYPE_NOT_ACCEPTABLE",
        "F",
        "The server does not implement the media type that is acceptable to the client.",
    ),
    (
        "METHOD_NOT_SUPPORTED",
        "F",
        "The server does not implement the requested HTTPS method.",
    ),
    ("NO_INTERFACE_DEF", "F", "API is not defined."),
    ("ORDER_NOT_EXIST", "F", "The order doesn't exist."),
    (
        "PARAM_ILLEGAL",
        "F",
        "Illegal parameters. For example, non-numeric input, invalid date.",
    ),
    (
        "PROCESS_FAIL",
        "F",
        "A general business failure occurred. Do not retry.",
    ),
    (
        "REQUEST_TRAFFIC_EXCEED_LIMIT",
        "U",
        "The request traffic exceeds the limit.",
    ),
    (
        "UNKNOWN_EXCEPTION",
        "U",
        "An API call failed, which is caused by unknown reasons.",
    ),
];

/// inquiryPayment, "Payment result codes": what `paymentResult` carries.
const INQUIRY_PAYMENT_RESULT_CODES: &[(&str, &str, &str)] = &[
    ("SUCCESS", "S", "Success"),
    (
        "BUSINESS_NOT_SUPPORT",
        "F",
        "The payment business is not supported.",
    ),
    (
        "CURRENCY_NOT_SUPPORT",
        "F",
        "The currency is not supported.",
    ),
    ("EXPIRED_CODE", "F", "The code is expired."),
    ("INVALID_CODE", "F", "The code is invalid."),
    ("INVALID_CONTRACT", "F", "The contract is invalid."),
    ("INVALID_TOKEN", "F", "The access token is invalid."),
    (
        "MERCHANT_NOT_REGISTERED",
        "F",
        "The merchant is not registered.",
    ),
    ("ORDER_IS_CLOSED", "F", "The order is closed."),
    (
        "PAYMENT_AMOUNT_EXCEED_LIMIT",
        "F",
        "The payment amount exceeds the limit that is specified by Alipay+.",
    ),
    (
        "PAYMENT_COUNT_EXCEED_LIMIT",
        "F",
        "The number of payments exceeds the limit.",
    ),
    (
        "PROCESS_FAIL",
        "F",
        "A general business failure occurred. Don't retry.",
    ),
    (
        "REGULATION_RESTRICTION",
        "F",
        "The payment failed due to regulatory restriction.",
    ),
    (
        "RISK_REJECT",
        "F",
        "The request is rejected because of the risk control.",
    ),
    (
        "UNAVAILABLE_PAYMENT_METHOD",
        "F",
        "The payment method is unavailable.",
    ),
    (
        "USER_AMOUNT_EXCEED_LIMIT",
        "F",
        "The payment amount exceeds the payment limit that is specified by the user's digital wallet.",
    ),
    (
        "USER_BALANCE_NOT_ENOUGH",
        "F",
        "The user balance is not enough for the payment.",
    ),
    (
        "USER_KYC_NOT_QUALIFIED",
        "F",
        "The user is not KYC compliant.",
    ),
    ("USER_NOT_EXIST", "F", "The user does not exist."),
    (
        "USER_PAYMENT_VERIFICATION_FAILED",
        "F",
        "User fails to pass the payment verification in the methods like OPT, PIN, and so on.",
    ),
    ("USER_STATUS_ABNORMAL", "F", "The user status is abnormal."),
    ("PAYMENT_IN_PROCESS", "U", "The payment is being processed."),
];

/// The payment result notification's acknowledgement: the page lists SUCCESS; a merchant that
/// wants a retry answers anything else, as the SDKs' examples do.
const NOTIFY_PAYMENT_CODES: &[(&str, &str, &str)] = &[
    ("SUCCESS", "S", "Success"),
    (
        "PROCESS_FAIL",
        "F",
        "A general business failure occurred. Do not retry.",
    ),
    (
        "UNKNOWN_EXCEPTION",
        "U",
        "An API call failed, which is caused by unknown reasons.",
    ),
];

/// The codes the real service answers without a signature (the SDKs accept them so).
const ANSWERED_UNSIGNED: [&str; 3] = ["INVALID_SIGNATURE", "INVALID_CLIENT", "KEY_NOT_FOUND"];

/// Whether `got` is the page's message. The gateway may keep only the first sentence of a
/// two-sentence message (sendPaymentResult's MERCHANT_KYB_NOT_QUALIFIED and PARAM_ILLEGAL).
fn is_the_pages_message(got: &str, page: &str) -> bool {
    got == page || (!got.is_empty() && got.ends_with('.') && page.starts_with(got))
}

/// What is wrong with `reply` as the `result` a row of a page's table asks for, if anything:
/// HTTP 200, the code and status, the page's message, and signed (or, for the three codes the
/// real service leaves unsigned, the empty-signature form). SUCCESS means "handle normally",
/// so its message is the API's own.
fn result_problem(reply: &Reply, (code, status, message): (&str, &str, &str)) -> Option<String> {
    if reply.status != 200 || reply.result_code() != code || reply.result_status() != status {
        return Some(format!(
            "expected 200 {status}/{code}, got {} {}",
            reply.status, reply.body
        ));
    }
    if code != "SUCCESS" && !is_the_pages_message(reply.message(), message) {
        return Some(format!(
            "message {:?} is not the page's {message:?}",
            reply.message()
        ));
    }
    if ANSWERED_UNSIGNED.contains(&code) {
        return (!reply.is_deliberately_unsigned())
            .then(|| format!("expected the empty-signature form: {reply:?}"));
    }
    reply
        .gateway_signature_problem()
        .map(|p| format!("not signed: {p}"))
}

/// The same for a row of inquiryPayment's payment result table: result S, and that
/// `paymentResult`, signed.
fn payment_result_problem(
    reply: &Reply,
    (code, status, message): (&str, &str, &str),
) -> Option<String> {
    if reply.status != 200 || reply.result_code() != "SUCCESS" || reply.result_status() != "S" {
        return Some(format!(
            "expected 200 S/SUCCESS, got {} {}",
            reply.status, reply.body
        ));
    }
    if reply.payment_result() != (code, status, message) {
        return Some(format!(
            "expected paymentResult {status}/{code} {message:?}, got {}",
            reply.json["paymentResult"]
        ));
    }
    // The page: paymentId and paymentTime are returned when the payment succeeded.
    let has = |field: &str| reply.json[field].is_string();
    if status == "S" && !(has("paymentId") && has("paymentTime")) {
        return Some(format!(
            "a success without paymentId and paymentTime: {}",
            reply.body
        ));
    }
    reply
        .gateway_signature_problem()
        .map(|p| format!("not signed: {p}"))
}

/// Plays every row of `table` through `controls`, asking for each code `as_` a result or a
/// payment result; returns every mismatch at once.
async fn play_every_code(
    app: &TestGateway,
    api: &Api,
    controls: &[Control],
    table: &[(&'static str, &'static str, &'static str)],
    as_: fn(&'static str) -> Wanted,
) -> Vec<String> {
    let mut failures = Vec::new();
    for &control in controls {
        for &row in table {
            let wanted = as_(row.0);
            let reply = app.play(api, control, wanted).await;
            let problem = match wanted {
                Wanted::Result(_) => result_problem(&reply, row),
                Wanted::PaymentResult(_) => payment_result_problem(&reply, row),
            };
            if let Some(problem) = problem {
                failures.push(format!("{} {} via {control:?}: {problem}", api.name, row.0));
            }
        }
    }
    failures
}

#[track_caller]
fn assert_all_played(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} codes did not play:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------------------------------------------------
// Every code of every page, through each control path
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_send_payment_result_code_plays_through_each_control_path() {
    // Arrange
    let app = spawn_gateway().await;

    // Act
    let failures = play_every_code(
        &app,
        &SEND_PAYMENT_RESULT,
        &Control::ALL,
        SEND_PAYMENT_RESULT_CODES,
        Wanted::Result,
    )
    .await;

    // Assert
    assert_all_played(failures);
}

#[tokio::test]
async fn every_notify_push_payment_code_plays_through_each_control_path() {
    // Arrange
    let app = spawn_gateway().await;

    // Act
    let failures = play_every_code(
        &app,
        &NOTIFY_PUSH_PAYMENT,
        &Control::ALL,
        NOTIFY_PUSH_PAYMENT_CODES,
        Wanted::Result,
    )
    .await;

    // Assert
    assert_all_played(failures);
}

#[tokio::test]
async fn every_inquiry_payment_result_code_plays_through_each_control_path() {
    // Arrange: PROCESS_FAIL is in both of the page's tables; the convention and the header
    // read it as the payment result (next tests), so as the inquiry's own result it is a rule's.
    let app = spawn_gateway().await;
    let unambiguous: Vec<_> = INQUIRY_PAYMENT_CODES
        .iter()
        .copied()
        .filter(|(code, ..)| *code != "PROCESS_FAIL")
        .collect();
    let process_fail: Vec<_> = INQUIRY_PAYMENT_CODES
        .iter()
        .copied()
        .filter(|(code, ..)| *code == "PROCESS_FAIL")
        .collect();

    // Act
    let mut failures = play_every_code(
        &app,
        &INQUIRY_PAYMENT,
        &Control::ALL,
        &unambiguous,
        Wanted::Result,
    )
    .await;
    failures.extend(
        play_every_code(
            &app,
            &INQUIRY_PAYMENT,
            &[Control::Rule],
            &process_fail,
            Wanted::Result,
        )
        .await,
    );

    // Assert
    assert_all_played(failures);
}

#[tokio::test]
async fn every_inquiry_payment_payment_result_code_plays_through_each_control_path() {
    // Arrange: none of these payments exists; the scenario alone answers.
    let app = spawn_gateway().await;

    // Act
    let failures = play_every_code(
        &app,
        &INQUIRY_PAYMENT,
        &Control::ALL,
        INQUIRY_PAYMENT_RESULT_CODES,
        Wanted::PaymentResult,
    )
    .await;

    // Assert
    assert_all_played(failures);
}

#[tokio::test]
async fn every_notify_payment_acknowledgement_plays_through_each_control_path() {
    // Arrange
    let app = spawn_gateway().await;

    // Act
    let failures = play_every_code(
        &app,
        &NOTIFY_PAYMENT,
        &Control::ALL,
        NOTIFY_PAYMENT_CODES,
        Wanted::Result,
    )
    .await;

    // Assert
    assert_all_played(failures);
}

#[tokio::test]
async fn a_suffix_that_names_no_code_of_the_page_changes_nothing() {
    // Arrange
    let app = spawn_gateway().await;

    // Act: USER_BALANCE_NOT_ENOUGH is inquiryPayment's, not sendPaymentResult's.
    let reply = app
        .call(
            paths::SEND_PAYMENT_RESULT,
            payment_report(&unique_id("txn-__USER_BALANCE_NOT_ENOUGH-")),
        )
        .send()
        .await;

    // Assert
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("S", "SUCCESS"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn a_scenario_header_that_names_no_code_of_the_page_answers_param_illegal_naming_it() {
    // Arrange
    let app = spawn_gateway().await;

    // Act
    let reply = app
        .post_with_scenario(
            paths::SEND_PAYMENT_RESULT,
            payment_report(&unique_id("txn-")),
            "RISK_REJECT",
        )
        .await;

    // Assert
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("F", "PARAM_ILLEGAL"),
        "{reply:?}"
    );
    assert!(
        reply.message().starts_with("Gateway-Scenario:"),
        "{reply:?}"
    );
    assert!(reply.is_signed_by_gateway(), "{reply:?}");
}

#[tokio::test]
async fn the_header_wins_over_a_rule_and_a_rule_over_the_convention() {
    // Arrange: a rule for every inquiry, and an id that also names a code by convention.
    let app = spawn_gateway().await;
    app.rule_added(json!({"endpoint": "inquiryPayment", "payment_result": "RISK_REJECT"}))
        .await;
    let id = unique_id("pr-");
    let by_convention = format!("{id}__USER_BALANCE_NOT_ENOUGH");

    // Act
    let with_header = app
        .post_with_scenario(
            paths::INQUIRY_PAYMENT,
            inquiry(&by_convention),
            "EXPIRED_CODE",
        )
        .await;
    let without_header = app
        .call(paths::INQUIRY_PAYMENT, inquiry(&by_convention))
        .send()
        .await;

    // Assert
    assert_eq!(
        with_header.payment_result().0,
        "EXPIRED_CODE",
        "{with_header:?}"
    );
    assert_eq!(
        without_header.payment_result().0,
        "RISK_REJECT",
        "{without_header:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Rules: what they match
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_rule_for_one_client_leaves_other_clients_alone() {
    // Arrange
    let app = spawn_gateway().await;
    app.rule_added(json!({
        "endpoint": "sendPaymentResult",
        "client_id": ROTATED,
        "result": {"code": "ACCESS_DENIED"},
    }))
    .await;

    // Act
    let from_that_client = app
        .call(
            paths::SEND_PAYMENT_RESULT,
            payment_report(&unique_id("txn-")),
        )
        .sent_by(ROTATED, Key::Merchant, "2")
        .send()
        .await;
    let from_another = app
        .call(
            paths::SEND_PAYMENT_RESULT,
            payment_report(&unique_id("txn-")),
        )
        .send()
        .await;

    // Assert
    assert_eq!(
        from_that_client.result_code(),
        "ACCESS_DENIED",
        "{from_that_client:?}"
    );
    assert_eq!(from_another.result_code(), "SUCCESS", "{from_another:?}");
}

#[tokio::test]
async fn a_rule_matches_a_body_field_by_equals_starts_with_ends_with_contains_or_a_pattern() {
    // Arrange: each test, a value it matches and one it does not.
    let app = spawn_gateway().await;
    let cases = [
        ("equals", "order-7", "order-7", "order-77"),
        ("starts_with", "VIP-", "VIP-order-1", "order-VIP-1"),
        (
            "ends_with",
            "_BALANCE",
            "order-1_BALANCE",
            "order-1_BALANCE-2",
        ),
        ("contains", "-risky-", "order-risky-1", "order-1-risk"),
        ("matches", "^order-[0-9]+-x$", "order-42-x", "order-4a-x"),
    ];
    let mut failures = Vec::new();

    for (test, value, matching, other) in cases {
        let rule = app
            .rule_added(json!({
                "endpoint": "inquiryPayment",
                "field": "paymentRequestId",
                test: value,
                "payment_result": "USER_BALANCE_NOT_ENOUGH",
            }))
            .await;

        // Act
        let matched = app
            .call(paths::INQUIRY_PAYMENT, inquiry(matching))
            .send()
            .await;
        let not_matched = app
            .call(paths::INQUIRY_PAYMENT, inquiry(other))
            .send()
            .await;
        app.remove_rule(&rule).await;

        // Assert
        if matched.payment_result().0 != "USER_BALANCE_NOT_ENOUGH" {
            failures.push(format!(
                "{test} {value:?} did not match {matching:?}: {matched:?}"
            ));
        }
        if not_matched.result_code() != "ORDER_NOT_EXIST" {
            failures.push(format!(
                "{test} {value:?} matched {other:?}: {not_matched:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_rule_matches_a_nested_field_by_its_dotted_name() {
    // Arrange: reports of a risk rejection fail; other failures are accepted.
    let app = spawn_gateway().await;
    app.rule_added(json!({
        "endpoint": "notifyPushPayment",
        "field": "paymentResult.resultCode",
        "matches": "^RISK_",
        "result": {"code": "PROCESS_FAIL"},
    }))
    .await;

    // Act
    let risk = app
        .call(
            paths::NOTIFY_PUSH_PAYMENT,
            push_failure(&unique_id("pid-"), "RISK_REJECT"),
        )
        .send()
        .await;
    let expired = app
        .call(
            paths::NOTIFY_PUSH_PAYMENT,
            push_failure(&unique_id("pid-"), "EXPIRED_CODE"),
        )
        .send()
        .await;

    // Assert
    assert_eq!(
        (risk.result_status(), risk.result_code()),
        ("F", "PROCESS_FAIL"),
        "{risk:?}"
    );
    assert_eq!(expired.result_code(), "SUCCESS", "{expired:?}");
}

#[tokio::test]
async fn a_rule_with_times_applies_to_the_first_n_matching_requests_only() {
    // Arrange: the payment is still processing on the first two inquiries.
    let app = spawn_gateway().await;
    let id = unique_id("pr-");
    app.seed_payment(json!({"paymentRequestId": id, "status": "SUCCESS"}))
        .await;
    let rule = app
        .rule_added(json!({"endpoint": "inquiryPayment", "times": 2, "payment_result": "PAYMENT_IN_PROCESS"}))
        .await;

    // Act
    let mut answers = Vec::new();
    for _ in 0..4 {
        let reply = app.call(paths::INQUIRY_PAYMENT, inquiry(&id)).send().await;
        answers.push(reply.payment_result().0.to_owned());
    }

    // Assert
    assert_eq!(
        answers,
        [
            "PAYMENT_IN_PROCESS",
            "PAYMENT_IN_PROCESS",
            "SUCCESS",
            "SUCCESS"
        ]
    );
    let listed = app.rule(&rule).await.expect("the rule is still listed");
    assert_eq!(listed["hits"], 2, "{listed}");
}

#[tokio::test]
async fn the_first_matching_rule_wins_and_first_true_puts_a_rule_before_the_others() {
    // Arrange
    let app = spawn_gateway().await;
    let for_all = json!({"endpoint": "inquiryPayment", "payment_result": "RISK_REJECT"});
    let for_all_too = json!({"endpoint": "inquiryPayment", "payment_result": "EXPIRED_CODE"});
    let first = app.rule_added(for_all).await;
    let second = app.rule_added(for_all_too).await;

    // Act
    let before = app
        .call(paths::INQUIRY_PAYMENT, inquiry(&unique_id("pr-")))
        .send()
        .await;
    let jumped = app
        .add_rule_first(json!({"endpoint": "inquiryPayment", "payment_result": "INVALID_TOKEN"}))
        .await;
    let after = app
        .call(paths::INQUIRY_PAYMENT, inquiry(&unique_id("pr-")))
        .send()
        .await;

    // Assert
    assert_eq!(before.payment_result().0, "RISK_REJECT", "{before:?}");
    assert_eq!(jumped.status, 201, "{jumped:?}");
    assert_eq!(after.payment_result().0, "INVALID_TOKEN", "{after:?}");
    let order: Vec<Value> = app.rules().await.iter().map(|r| r["id"].clone()).collect();
    assert_eq!(
        order,
        [jumped.json["id"].clone(), json!(first), json!(second)]
    );
}

#[tokio::test]
async fn the_rule_list_shows_each_rule_as_written_with_its_hits() {
    // Arrange
    let app = spawn_gateway().await;
    let rule = app
        .rule_added(json!({
            "name": "balance",
            "endpoint": "inquiryPayment",
            "field": "paymentRequestId",
            "ends_with": "_BALANCE",
            "payment_result": "USER_BALANCE_NOT_ENOUGH",
        }))
        .await;

    // Act
    for _ in 0..3 {
        app.call(
            paths::INQUIRY_PAYMENT,
            inquiry(&format!("{}_BALANCE", unique_id("pr_"))),
        )
        .send()
        .await;
    }
    app.call(paths::INQUIRY_PAYMENT, inquiry(&unique_id("pr-")))
        .send()
        .await;

    // Assert
    let listed = app.rule(&rule).await.expect("the rule is listed");
    assert_eq!(
        listed,
        json!({
            "id": rule,
            "hits": 3,
            "name": "balance",
            "endpoint": "inquiryPayment",
            "field": "paymentRequestId",
            "ends_with": "_BALANCE",
            "payment_result": "USER_BALANCE_NOT_ENOUGH",
        })
    );
}

#[tokio::test]
async fn a_removed_rule_no_longer_applies_and_removing_an_unknown_rule_answers_404() {
    // Arrange
    let app = spawn_gateway().await;
    let rule = app
        .rule_added(json!({"endpoint": "inquiryPayment", "payment_result": "RISK_REJECT"}))
        .await;

    // Act
    let removed = app.remove_rule(&rule).await;
    let again = app.remove_rule(&rule).await;
    let reply = app
        .call(paths::INQUIRY_PAYMENT, inquiry(&unique_id("pr-")))
        .send()
        .await;

    // Assert
    assert_eq!(removed.status, 204, "{removed:?}");
    assert_eq!(again.status, 404, "{again:?}");
    assert!(again.error().contains(&rule), "{again:?}");
    assert!(app.rules().await.is_empty());
    assert_eq!(reply.result_code(), "ORDER_NOT_EXIST", "{reply:?}");
}

#[tokio::test]
async fn a_bad_rule_answers_400_naming_the_setting() {
    // Arrange
    let app = spawn_gateway().await;
    let cases = [
        (
            json!({"endpoint": "refund", "fault": "unsigned"}),
            "endpoint:",
        ),
        (
            json!({"endpoint": "inquiryPayment"}),
            "a rule needs an outcome",
        ),
        (
            json!({"endpoint": "inquiryPayment", "field": "paymentRequestId", "fault": "unsigned"}),
            "field:",
        ),
        (
            json!({"endpoint": "inquiryPayment", "equals": "x", "fault": "unsigned"}),
            "equals/starts_with/ends_with/contains/matches: needs a field",
        ),
        (
            json!({"endpoint": "inquiryPayment", "field": "paymentRequestId", "equals": "x", "contains": "y", "fault": "unsigned"}),
            "field: give only one",
        ),
        (
            json!({"endpoint": "inquiryPayment", "field": "paymentRequestId", "matches": "(", "fault": "unsigned"}),
            "matches:",
        ),
        (
            json!({"endpoint": "sendPaymentResult", "payment_result": "RISK_REJECT"}),
            "payment_result:",
        ),
        (
            json!({"endpoint": "inquiryPayment", "payment_result": "NOT_A_CODE"}),
            "payment_result:",
        ),
        (
            json!({"endpoint": "inquiryPayment", "result": {"code": "RISK_REJECT", "status": "X"}}),
            "result.status:",
        ),
        (
            json!({"endpoint": "inquiryPayment", "fault": "explode"}),
            "fault:",
        ),
        (
            json!({"endpoint": "inquiryPayment", "latency": {"fixed_ms": 120_001}}),
            "latency.fixed_ms:",
        ),
        (
            json!({"endpoint": "inquiryPayment", "latency": {"uniform_ms": [500, 100]}}),
            "latency.uniform_ms:",
        ),
        (
            json!({"endpoint": "inquiryPayment", "fault": "unsigned", "when": "always"}),
            "not a rule:",
        ),
    ];
    let mut failures = Vec::new();

    for (rule, expected) in cases {
        // Act
        let reply = app.add_rule(rule.clone()).await;

        // Assert
        if reply.status != 400 || !reply.error().starts_with(expected) {
            failures.push(format!("{rule}: expected 400 {expected:?}, got {reply:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(app.rules().await.is_empty(), "no bad rule was added");
}

// ------------------------------------------------------------------------------------------
// Rules from the config file, and reset
// ------------------------------------------------------------------------------------------

/// A config rule: reports whose paymentId ends in `_CONFIGURED` fail.
fn configured_rule() -> alipay_gateway::scenario::RuleSpec {
    serde_json::from_value(json!({
        "name": "configured",
        "endpoint": "notifyPushPayment",
        "field": "paymentId",
        "ends_with": "_CONFIGURED",
        "result": {"code": "PROCESS_FAIL"},
    }))
    .expect("a rule spec")
}

#[tokio::test]
async fn a_bad_rule_in_the_config_file_fails_validation_naming_it() {
    // Arrange
    let mut settings = test_settings();
    settings.scenario.rules = vec![
        configured_rule(),
        serde_json::from_value(json!({"endpoint": "inquiryPayment", "fault": "explode"}))
            .expect("a rule spec"),
    ];

    // Act
    let error = settings
        .validate(&keys_dir())
        .expect_err("a bad rule is refused")
        .to_string();

    // Assert
    assert!(error.starts_with("scenario.rules[1]: fault:"), "{error}");
}

#[tokio::test]
async fn rules_from_the_config_file_apply_and_survive_reset_while_runtime_rules_go() {
    // Arrange
    let app = spawn_gateway_with(|s| s.scenario.rules = vec![configured_rule()]).await;
    let runtime = app
        .rule_added(json!({"endpoint": "inquiryPayment", "payment_result": "RISK_REJECT"}))
        .await;
    let configured_id = || format!("{}_CONFIGURED", unique_id("pid-"));
    let before = app
        .call(paths::NOTIFY_PUSH_PAYMENT, push_success(&configured_id()))
        .send()
        .await;

    // Act
    let reset = app.reset().await;

    // Assert
    assert_eq!(before.result_code(), "PROCESS_FAIL", "{before:?}");
    assert_eq!(reset.status, 200, "{reset:?}");
    let rules = app.rules().await;
    assert_eq!(rules.len(), 1, "{rules:#?}");
    assert_eq!(rules[0]["name"], "configured");
    assert_eq!(rules[0]["hits"], 0, "hits start again from 0: {rules:#?}");
    assert!(rules.iter().all(|r| r["id"] != runtime.as_str()));
    let after = app
        .call(paths::NOTIFY_PUSH_PAYMENT, push_success(&configured_id()))
        .send()
        .await;
    assert_eq!(after.result_code(), "PROCESS_FAIL", "{after:?}");
    let inquiry_after = app
        .call(paths::INQUIRY_PAYMENT, inquiry(&unique_id("pr-")))
        .send()
        .await;
    assert_eq!(
        inquiry_after.result_code(),
        "ORDER_NOT_EXIST",
        "{inquiry_after:?}"
    );
}

#[tokio::test]
async fn reset_forgets_payments_reports_rules_the_journal_and_the_receivers_scripted_failures() {
    // Arrange: one of everything reset must forget.
    let app = spawn_gateway().await;
    let payment = unique_id("pr-");
    app.seed_payment(json!({"paymentRequestId": payment, "status": "SUCCESS"}))
        .await;
    let report = unique_id("txn-");
    let reported = app
        .call(paths::SEND_PAYMENT_RESULT, payment_report(&report))
        .send()
        .await;
    app.rule_added(json!({"endpoint": "sendPaymentResult", "fault": "http_500", "field": "referenceTransactionId", "starts_with": "never-"}))
        .await;
    let scripted = app
        .admin()
        .receiver_fail_next(json!({"count": 2, "resultStatus": "F", "resultCode": "PROCESS_FAIL"}))
        .await;
    let notified = unique_id("ntf-pr-");
    let refused = app
        .call(paths::NOTIFY_PAYMENT, payment_notification(&notified))
        .send()
        .await;
    assert_eq!(reported.result_code(), "SUCCESS", "{reported:?}");
    assert_eq!(scripted.status, 200, "{scripted:?}");
    assert_eq!(refused.result_code(), "PROCESS_FAIL", "{refused:?}");
    assert!(app.journal_count(&[]).await > 0);

    // Act
    let reset = app.reset().await;

    // Assert
    assert_eq!((reset.status, &reset.json), (200, &json!({"reset": true})));
    assert_eq!(app.journal_count(&[]).await, 0, "the journal is empty");
    assert!(app.rules().await.is_empty(), "the runtime rule is gone");
    let received = app.admin().received_notifications(&notified).await;
    assert_eq!(received.json, json!([]), "the receiver's record is empty");
    let inquiry_after = app
        .call(paths::INQUIRY_PAYMENT, inquiry(&payment))
        .send()
        .await;
    assert_eq!(
        inquiry_after.result_code(),
        "ORDER_NOT_EXIST",
        "{inquiry_after:?}"
    );
    let mut contradiction = payment_report(&report);
    contradiction["paymentStatus"] = json!("FAIL");
    let reported_again = app
        .call(paths::SEND_PAYMENT_RESULT, contradiction)
        .send()
        .await;
    assert_eq!(
        reported_again.result_code(),
        "SUCCESS",
        "the first report is forgotten: {reported_again:?}"
    );
    let acknowledged = app
        .call(
            paths::NOTIFY_PAYMENT,
            payment_notification(&unique_id("ntf-pr-")),
        )
        .send()
        .await;
    assert_eq!(
        acknowledged.result_code(),
        "SUCCESS",
        "no scripted failure is left: {acknowledged:?}"
    );
}
