//! The flows that span calls: what notifyPushPayment reports is what inquiryPayment answers;
//! seeded payments in every state; amounts in minor units; repeats and contradictions.

use serde_json::{Value, json};

use super::helpers::{ROTATED, TestApp, paths, spawn_app, unique_id};

fn inquiry_for(payment_request_id: &str) -> Value {
    json!({"acquirerId": "1022188000000000001", "pspId": "1022172000000000001", "paymentRequestId": payment_request_id})
}

fn push_success(payment_request_id: &str, payment_id: &str, payment_time: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": payment_request_id,
        "paymentId": payment_id,
        "paymentTime": payment_time
    })
}

fn push_failure(payment_request_id: &str, payment_id: &str, code: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": code, "resultStatus": "F"},
        "paymentRequestId": payment_request_id,
        "paymentId": payment_id
    })
}

/// Seeds a successful payment and answers its inquiry.
async fn inquire_seeded_success(app: &TestApp, payment: Value) -> Value {
    let id = unique_id("pr-");
    let mut payment = payment;
    payment["paymentRequestId"] = json!(id);
    payment["status"] = json!("SUCCESS");
    app.seed_payment(payment).await;
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .await;
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
    reply.json
}

#[tokio::test]
async fn inquiry_payment_answers_order_not_exist_for_an_unknown_request_id() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-never-seen"))
        .await;

    // Assert
    assert_eq!(reply.status, 200);
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("F", "ORDER_NOT_EXIST")
    );
    assert_eq!(
        reply.message(),
        "paymentRequestId pr-never-seen does not exist"
    );
    assert!(reply.json.get("paymentResult").is_none(), "{reply:?}");
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}",
        reply.gateway_signature_problem()
    );
}

#[tokio::test]
async fn a_pushed_success_is_what_inquiry_payment_answers() {
    // Arrange
    let app = spawn_app().await;
    let push = app
        .post_signed(
            paths::NOTIFY_PUSH_PAYMENT,
            push_success(
                "pr-push-1",
                "20200101234567890130000",
                "2020-01-01T12:01:01+08:30",
            ),
        )
        .await;
    assert_eq!(push.result_code(), "SUCCESS", "{push:?}");

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-push-1"))
        .await;

    // Assert
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("S", "SUCCESS")
    );
    assert_eq!(reply.json["paymentResult"]["resultStatus"], "S");
    assert_eq!(reply.json["paymentResult"]["resultCode"], "SUCCESS");
    assert_eq!(reply.json["paymentId"], "20200101234567890130000");
    assert_eq!(reply.json["paymentTime"], "2020-01-01T12:01:01+08:30");
}

#[tokio::test]
async fn a_processing_payment_answers_payment_in_process_until_a_push_completes_it() {
    // Arrange
    let app = spawn_app().await;
    app.seed_payment(json!({"paymentRequestId": "pr-proc-1", "status": "PROCESSING"}))
        .await;

    // Act
    let before = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-proc-1"))
        .await;
    let push = app
        .post_signed(
            paths::NOTIFY_PUSH_PAYMENT,
            push_success("pr-proc-1", "pid-proc-1", "2020-01-01T12:01:01+08:00"),
        )
        .await;
    let after = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-proc-1"))
        .await;

    // Assert
    assert_eq!(
        before.result_status(),
        "S",
        "the inquiry itself worked: {before:?}"
    );
    assert_eq!(before.json["paymentResult"]["resultStatus"], "U");
    assert_eq!(
        before.json["paymentResult"]["resultCode"],
        "PAYMENT_IN_PROCESS"
    );
    assert!(before.json.get("paymentId").is_none(), "{before:?}");
    assert_eq!(push.result_code(), "SUCCESS", "{push:?}");
    assert_eq!(after.json["paymentResult"]["resultStatus"], "S");
    assert_eq!(after.json["paymentId"], "pid-proc-1");
    assert_eq!(after.json["paymentTime"], "2020-01-01T12:01:01+08:00");
}

#[tokio::test]
async fn a_success_in_jpy_paid_in_cny_answers_pay_to_amount_at_the_quote_price() {
    // Arrange + Act: the amounts of the ams-java-sdk notify_s.json fixture.
    let app = spawn_app().await;
    let json = inquire_seeded_success(
        &app,
        json!({
            "paymentAmount": {"currency": "JPY", "value": "200"},
            "payToCurrency": "CNY",
            "paymentQuote": {"quoteCurrencyPair": "392/156", "quotePrice": 0.064622}
        }),
    )
    .await;

    // Assert
    assert_eq!(
        json["paymentAmount"],
        json!({"currency": "JPY", "value": "200"})
    );
    assert_eq!(
        json["payToAmount"],
        json!({"currency": "CNY", "value": "1292"})
    );
}

#[tokio::test]
async fn pay_to_amount_follows_each_currency_minor_units_rounding_half_even() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        // USD 1.00 at 0.307 KWD/USD is KWD 0.307: three decimals.
        (("USD", "100"), "KWD", "0.307", "307"),
        // KWD 1.000 at 3.25 USD/KWD is USD 3.25.
        (("KWD", "1000"), "USD", "3.25", "325"),
        // JPY 1 at 0.025 is USD 0.025, which is 0.02 half-even (half-up would say 0.03).
        (("JPY", "1"), "USD", "0.025", "2"),
        // JPY 1 at 0.015 is USD 0.015, which is 0.02 half-even.
        (("JPY", "1"), "USD", "0.015", "2"),
        // USD 0.01 at 0.25 is KWD 0.0025, which is 0.002 half-even.
        (("USD", "1"), "KWD", "0.25", "2"),
        // USD 1.00 at 150.5 is JPY 150.5, which is 150 half-even.
        (("USD", "100"), "JPY", "150.5", "150"),
    ];

    for ((currency, value), pay_to, price, expected) in cases {
        // Act
        let json = inquire_seeded_success(
            &app,
            json!({
                "paymentAmount": {"currency": currency, "value": value},
                "payToCurrency": pay_to,
                "paymentQuote": {"quotePrice": price}
            }),
        )
        .await;

        // Assert
        assert_eq!(
            json["payToAmount"],
            json!({"currency": pay_to, "value": expected}),
            "{currency} {value} at {price} into {pay_to}"
        );
    }
}

#[tokio::test]
async fn an_alipay_cn_payment_carries_the_customs_declaration_amount_in_cny() {
    // Arrange
    let app = spawn_app().await;
    let payment = |psp: &str| {
        json!({
            "pspName": psp,
            "paymentAmount": {"currency": "JPY", "value": "200"},
            "payToCurrency": "CNY",
            "paymentQuote": {"quotePrice": "0.064622"}
        })
    };

    // Act
    let alipay_cn = inquire_seeded_success(&app, payment("ALIPAY_CN")).await;
    let other_wallet = inquire_seeded_success(&app, payment("KAKAOPAY")).await;

    // Assert
    assert_eq!(
        alipay_cn["customsDeclarationAmount"],
        json!({"currency": "CNY", "value": "1292"})
    );
    assert!(
        other_wallet.get("customsDeclarationAmount").is_none(),
        "{other_wallet}"
    );
}

#[tokio::test]
async fn a_seeded_failure_answers_payment_result_f_with_its_code() {
    // Arrange
    let app = spawn_app().await;
    app.seed_payment(json!({
        "paymentRequestId": "pr-fail-1",
        "status": "FAIL",
        "resultCode": "USER_BALANCE_NOT_ENOUGH"
    }))
    .await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-fail-1"))
        .await;

    // Assert
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("S", "SUCCESS"),
        "{reply:?}"
    );
    assert_eq!(
        reply.json["paymentResult"],
        json!({
            "resultCode": "USER_BALANCE_NOT_ENOUGH",
            "resultStatus": "F",
            "resultMessage": "The user balance is not enough for the payment."
        })
    );
}

#[tokio::test]
async fn a_pushed_failure_answers_payment_result_f_with_the_reported_code() {
    // Arrange
    let app = spawn_app().await;
    app.post_signed(
        paths::NOTIFY_PUSH_PAYMENT,
        push_failure("pr-fail-2", "pid-fail-2", "RISK_REJECT"),
    )
    .await;

    // Act
    let reply = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-fail-2"))
        .await;

    // Assert
    assert_eq!(
        reply.json["paymentResult"]["resultStatus"], "F",
        "{reply:?}"
    );
    assert_eq!(reply.json["paymentResult"]["resultCode"], "RISK_REJECT");
}

#[tokio::test]
async fn an_identical_repeat_push_answers_s() {
    // Arrange
    let app = spawn_app().await;
    let report = push_success("pr-rep-1", "pid-rep-1", "2020-01-01T12:01:01+08:00");
    app.post_signed(paths::NOTIFY_PUSH_PAYMENT, &report).await;

    // Act
    let repeat = app.post_signed(paths::NOTIFY_PUSH_PAYMENT, &report).await;
    let same_instant_spelt_otherwise = app
        .post_signed(
            paths::NOTIFY_PUSH_PAYMENT,
            push_success("pr-rep-1", "pid-rep-1", "2020-01-01T04:01:01Z"),
        )
        .await;

    // Assert
    assert_eq!(
        (repeat.result_status(), repeat.result_code()),
        ("S", "SUCCESS"),
        "{repeat:?}"
    );
    assert_eq!(
        same_instant_spelt_otherwise.result_code(),
        "SUCCESS",
        "{same_instant_spelt_otherwise:?}"
    );
}

#[tokio::test]
async fn a_contradicting_push_answers_process_fail_and_the_first_result_stands() {
    // Arrange
    let app = spawn_app().await;
    app.post_signed(
        paths::NOTIFY_PUSH_PAYMENT,
        push_success("pr-con-1", "pid-con-1", "2020-01-01T12:01:01+08:00"),
    )
    .await;
    let contradictions = [
        push_failure("pr-con-1", "pid-con-1", "RISK_REJECT"),
        push_success("pr-con-1", "pid-con-1", "2020-01-02T12:01:01+08:00"),
        push_success("pr-con-1", "pid-other", "2020-01-01T12:01:01+08:00"),
        push_success("pr-other", "pid-con-1", "2020-01-01T12:01:01+08:00"),
    ];

    for contradiction in contradictions {
        // Act
        let reply = app
            .post_signed(paths::NOTIFY_PUSH_PAYMENT, &contradiction)
            .await;

        // Assert
        assert_eq!(
            (reply.result_status(), reply.result_code()),
            ("F", "PROCESS_FAIL"),
            "{contradiction}: {reply:?}"
        );
        assert!(
            reply.message().ends_with("the first result stands"),
            "{reply:?}"
        );
        assert!(
            reply.is_signed_by_gateway(),
            "{:?}",
            reply.gateway_signature_problem()
        );
    }
    let inquiry = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-con-1"))
        .await;
    assert_eq!(inquiry.json["paymentResult"]["resultStatus"], "S");
    assert_eq!(inquiry.json["paymentId"], "pid-con-1");
    assert_eq!(inquiry.json["paymentTime"], "2020-01-01T12:01:01+08:00");
}

#[tokio::test]
async fn send_payment_result_answers_s_to_an_identical_repeat() {
    // Arrange
    let app = spawn_app().await;
    let report = json!({"referenceTransactionId": "txn-rep-1", "paymentStatus": "SUCCESS", "paymentMethodProvider": "VISA"});
    app.post_signed(paths::SEND_PAYMENT_RESULT, &report).await;

    // Act
    let repeat = app.post_signed(paths::SEND_PAYMENT_RESULT, &report).await;
    let reordered_with_a_null = app
        .post_signed(
            paths::SEND_PAYMENT_RESULT,
            r#"{"paymentMethodProvider":"VISA","authorizationError":null,"paymentStatus":"SUCCESS","referenceTransactionId":"txn-rep-1"}"#,
        )
        .await;

    // Assert
    assert_eq!(
        (repeat.result_status(), repeat.result_code()),
        ("S", "SUCCESS"),
        "{repeat:?}"
    );
    assert_eq!(
        reordered_with_a_null.result_code(),
        "SUCCESS",
        "{reordered_with_a_null:?}"
    );
}

#[tokio::test]
async fn send_payment_result_answers_repeat_req_inconsistent_to_a_contradicting_repeat() {
    // Arrange
    let app = spawn_app().await;
    let first = json!({"referenceTransactionId": "txn-con-1", "paymentStatus": "SUCCESS", "paymentMethodProvider": "VISA"});
    app.post_signed(paths::SEND_PAYMENT_RESULT, &first).await;
    let contradictions = [
        json!({"referenceTransactionId": "txn-con-1", "paymentStatus": "FAIL", "paymentMethodProvider": "VISA"}),
        json!({"referenceTransactionId": "txn-con-1", "paymentStatus": "SUCCESS", "paymentMethodProvider": "MASTERCARD"}),
        json!({
            "referenceTransactionId": "txn-con-1", "paymentStatus": "SUCCESS", "paymentMethodProvider": "VISA",
            "authorizationError": {"errorCode": "05"}
        }),
    ];

    for contradiction in contradictions {
        // Act
        let reply = app
            .post_signed(paths::SEND_PAYMENT_RESULT, &contradiction)
            .await;

        // Assert
        assert_eq!(
            (reply.result_status(), reply.result_code()),
            ("F", "REPEAT_REQ_INCONSISTENT"),
            "{contradiction}: {reply:?}"
        );
        assert_eq!(
            reply.message(),
            "referenceTransactionId txn-con-1 was already reported differently (paymentStatus SUCCESS); the first report stands"
        );
        assert!(
            reply.is_signed_by_gateway(),
            "{:?}",
            reply.gateway_signature_problem()
        );
    }
    let repeat_of_first = app.post_signed(paths::SEND_PAYMENT_RESULT, &first).await;
    assert_eq!(
        repeat_of_first.result_code(),
        "SUCCESS",
        "{repeat_of_first:?}"
    );
}

#[tokio::test]
async fn send_payment_result_reports_are_kept_per_client() {
    // Arrange
    let app = spawn_app().await;
    let report = |status: &str| json!({"referenceTransactionId": "txn-shared", "paymentStatus": status, "paymentMethodProvider": "VISA"});
    app.post_signed(paths::SEND_PAYMENT_RESULT, report("SUCCESS"))
        .await;

    // Act
    let other_client = app
        .post(paths::SEND_PAYMENT_RESULT, report("FAIL"))
        .sent_by(ROTATED)
        .key_version("2")
        .send()
        .await;

    // Assert
    assert_eq!(other_client.result_code(), "SUCCESS", "{other_client:?}");
}

#[tokio::test]
async fn of_contradicting_pushes_racing_in_exactly_one_is_recorded() {
    // Arrange
    let app = spawn_app().await;
    let push = |code: &str| push_failure("pr-race-1", "pid-race-1", code);
    let (a, b, c, d) = (
        push("RISK_REJECT"),
        push("ORDER_IS_CLOSED"),
        push("EXPIRED_CODE"),
        push("PROCESS_FAIL"),
    );

    // Act
    let replies = tokio::join!(
        app.post_signed(paths::NOTIFY_PUSH_PAYMENT, &a),
        app.post_signed(paths::NOTIFY_PUSH_PAYMENT, &b),
        app.post_signed(paths::NOTIFY_PUSH_PAYMENT, &c),
        app.post_signed(paths::NOTIFY_PUSH_PAYMENT, &d),
    );

    // Assert
    let replies = [replies.0, replies.1, replies.2, replies.3];
    let codes: Vec<&str> = replies.iter().map(|r| r.result_code()).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "SUCCESS").count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "PROCESS_FAIL").count(),
        3,
        "{codes:?}"
    );
    let winner = [
        "RISK_REJECT",
        "ORDER_IS_CLOSED",
        "EXPIRED_CODE",
        "PROCESS_FAIL",
    ][codes
        .iter()
        .position(|c| *c == "SUCCESS")
        .expect("a winner")];
    let inquiry = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for("pr-race-1"))
        .await;
    assert_eq!(inquiry.json["paymentResult"]["resultCode"], winner);
}

#[tokio::test]
async fn of_contradicting_payment_results_racing_in_exactly_one_is_recorded() {
    // Arrange
    let app = spawn_app().await;
    let report = |status: &str, provider: &str| json!({"referenceTransactionId": "txn-race-1", "paymentStatus": status, "paymentMethodProvider": provider});
    let (a, b, c, d) = (
        report("SUCCESS", "VISA"),
        report("FAIL", "VISA"),
        report("SUCCESS", "MASTERCARD"),
        report("FAIL", "JCB"),
    );

    // Act
    let replies = tokio::join!(
        app.post_signed(paths::SEND_PAYMENT_RESULT, &a),
        app.post_signed(paths::SEND_PAYMENT_RESULT, &b),
        app.post_signed(paths::SEND_PAYMENT_RESULT, &c),
        app.post_signed(paths::SEND_PAYMENT_RESULT, &d),
    );

    // Assert
    let codes =
        [&replies.0, &replies.1, &replies.2, &replies.3].map(|r| r.result_code().to_owned());
    assert_eq!(
        codes.iter().filter(|c| *c == "SUCCESS").count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| *c == "REPEAT_REQ_INCONSISTENT")
            .count(),
        3,
        "{codes:?}"
    );
}
