//! Signing as the SDKs do it (reference section 3): both Request-Time forms, lower-case
//! percent-encoding, the sandbox path, keyVersion selection, the optional clock-skew window, and
//! the form of the gateway's own response signature.

use serde_json::{Value, json};

use super::helpers::{
    Key, MERCHANT, ROTATED, client, now_iso8601, paths, spawn_app, spawn_app_with, unique_id,
};

fn payment_report() -> Value {
    json!({
        "referenceTransactionId": unique_id("txn-"),
        "paymentStatus": "SUCCESS",
        "paymentMethodProvider": "VISA",
    })
}

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/signature-vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("vectors readable"))
        .expect("vectors are JSON")
}

/// .NET's `DateTime.UtcNow.ToString("o")`: seven fractional digits and `Z`.
fn dotnet_round_trip(t: chrono::DateTime<chrono::Utc>) -> String {
    let ticks = t.timestamp_subsec_nanos() / 100;
    format!("{}.{ticks:07}Z", t.format("%Y-%m-%dT%H:%M:%S"))
}

#[tokio::test]
async fn request_time_may_be_epoch_millis_or_any_sdk_iso_8601_form() {
    // Arrange
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    let forms = [
        now.timestamp_millis().to_string(),               // Java, Go
        now_iso8601(),                                    // Python
        now.format("%Y-%m-%dT%H:%M:%S+0000").to_string(), // PHP
        dotnet_round_trip(now),                           // .NET
        "2019-05-28T12:12:12+08:00".to_owned(),           // Alipay+ doc
        "2025-02-20T08:51:49.09Z".to_owned(),             // Alipay+ ACQP doc
    ];

    for time in forms {
        // Act
        let reply = app
            .post(paths::SEND_PAYMENT_RESULT, payment_report())
            .request_time(&time)
            .send()
            .await;

        // Assert
        assert_eq!(
            reply.result_code(),
            "SUCCESS",
            "Request-Time {time}: {reply:?}"
        );
        assert!(
            reply.is_signed_by_gateway(),
            "{:?}",
            reply.gateway_signature_problem()
        );
    }
}

#[tokio::test]
async fn lower_case_percent_encoding_is_accepted() {
    // Arrange
    let app = spawn_app().await;

    // Act: %2b %2f %3d as .NET's HttpUtility.UrlEncode writes them.
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .lower_case_percent_encoding()
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn a_raw_base64_signature_value_is_not_form_decoded() {
    // Arrange: a raw `+` must stay a `+`, never become a space.
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .raw_base64_signature()
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn the_header_as_the_docs_print_it_with_spaces_is_accepted() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .spaced_signature_header()
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn the_published_signature_vector_verifies_in_both_hex_cases() {
    // Arrange: the key and signature computed with the official Python SDK and openssl.
    let vectors = vectors();
    let public_key = vectors["public_key_spki_base64"]
        .as_str()
        .expect("key")
        .to_owned();
    let app = spawn_app_with(move |s| {
        s.clients.push(client(
            "SANDBOX_5YC47N2ZQHJ004124",
            &[("1", &public_key)],
            None,
        ));
    })
    .await;
    let request = &vectors["vectors"][0];
    let header = request["signature_header"].as_str().expect("header");
    let lower = header
        .replace("%2B", "%2b")
        .replace("%2F", "%2f")
        .replace("%3D", "%3d");

    for signature in [header, lower.as_str()] {
        // Act
        let reply = app
            .post(
                request["path"].as_str().expect("path"),
                request["body"].as_str().expect("body"),
            )
            .sent_by("SANDBOX_5YC47N2ZQHJ004124")
            .request_time(request["time"].as_str().expect("time"))
            .signature_header(signature)
            .send()
            .await;

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
        assert_eq!(reply.header("client-id"), Some("SANDBOX_5YC47N2ZQHJ004124"));
        assert!(
            reply.is_signed_by_gateway(),
            "{:?}",
            reply.gateway_signature_problem()
        );
    }
}

#[tokio::test]
async fn a_sandbox_request_is_verified_and_answered_over_the_sandbox_path_it_arrived_on() {
    // Arrange
    let app = spawn_app().await;

    for path in [
        paths::SEND_PAYMENT_RESULT_SANDBOX,
        "/aps/sandbox/api/v1/payments/notifyPushPayment",
    ] {
        let body = if path.contains("notifyPushPayment") {
            json!({"paymentResult": {"resultCode": "RISK_REJECT", "resultStatus": "F"}, "paymentId": unique_id("pid-")})
        } else {
            payment_report()
        };

        // Act
        let reply = app.post_signed(path, body).await;

        // Assert: the verifier signs the response over the received (sandbox) path.
        assert_eq!(reply.result_code(), "SUCCESS", "{path}: {reply:?}");
        assert!(
            reply.is_signed_by_gateway(),
            "{path}: {:?}",
            reply.gateway_signature_problem()
        );
    }
}

#[tokio::test]
async fn the_doc_page_path_without_the_ams_prefix_is_served() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post_signed("/v1/risk/payments/sendPaymentResult", payment_report())
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}",
        reply.gateway_signature_problem()
    );
}

#[tokio::test]
async fn a_signature_made_for_the_other_prefix_is_rejected_naming_both_paths() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (
            paths::SEND_PAYMENT_RESULT_SANDBOX,
            paths::SEND_PAYMENT_RESULT,
        ),
        (
            paths::SEND_PAYMENT_RESULT,
            paths::SEND_PAYMENT_RESULT_SANDBOX,
        ),
    ];

    for (sent_to, signed_for) in cases {
        // Act
        let reply = app
            .post(sent_to, payment_report())
            .signed_over_path(signed_for)
            .send()
            .await;

        // Assert
        assert_eq!(reply.result_code(), "INVALID_SIGNATURE", "{reply:?}");
        assert_eq!(
            reply.message(),
            format!(
                "signature invalid: the signed content differs from what was received (the signature was made for path {signed_for}, but the request arrived at {sent_to})"
            )
        );
        assert!(reply.is_deliberately_unsigned(), "{reply:?}");
    }
}

#[tokio::test]
async fn key_version_selects_the_registered_key() {
    // Arrange: ROTATED has keyVersion 1 = the other key, 2 = the merchant key.
    let app = spawn_app().await;
    let cases = [
        (Key::Other, "1", None),
        (Key::Merchant, "2", None),
        (Key::Merchant, "1", Some("keyVersion 1")),
        (Key::Other, "2", Some("keyVersion 2")),
    ];

    for (key, version, wrong_key_for) in cases {
        // Act
        let reply = app
            .post(paths::SEND_PAYMENT_RESULT, payment_report())
            .sent_by(ROTATED)
            .signed_with(key)
            .key_version(version)
            .send()
            .await;

        // Assert
        match wrong_key_for {
            None => assert_eq!(
                reply.result_code(),
                "SUCCESS",
                "{key:?} v{version}: {reply:?}"
            ),
            Some(v) => assert_eq!(
                reply.message(),
                format!(
                    "signature invalid: signed with a different key than the public key registered for {v}"
                ),
                "{reply:?}"
            ),
        }
    }
}

#[tokio::test]
async fn an_absent_key_version_means_the_highest_registered_version() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let newest = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .sent_by(ROTATED)
        .signed_with(Key::Merchant)
        .without_key_version()
        .send()
        .await;
    let older = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .sent_by(ROTATED)
        .signed_with(Key::Other)
        .without_key_version()
        .send()
        .await;

    // Assert
    assert_eq!(newest.result_code(), "SUCCESS", "{newest:?}");
    assert_eq!(
        older.message(),
        "signature invalid: signed with a different key than the public key registered for keyVersion 2"
    );
}

#[tokio::test]
async fn the_highest_key_version_compares_numbers_as_numbers() {
    // Arrange: "10" is newer than "9", though it sorts before it as text.
    let app = spawn_app_with(|s| {
        s.clients.push(client(
            "TEST_TEN_KEYS",
            &[
                ("9", "file:TEST-ONLY-other-public.pem"),
                ("10", "file:TEST-ONLY-merchant-public.pem"),
            ],
            None,
        ));
    })
    .await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .sent_by("TEST_TEN_KEYS")
        .signed_with(Key::Merchant)
        .without_key_version()
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn a_key_version_not_registered_is_key_not_found_listing_the_registered_ones() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .sent_by(ROTATED)
        .key_version("3")
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "KEY_NOT_FOUND");
    assert_eq!(
        reply.message(),
        "no public key with keyVersion 3 for Client-Id TEST_ROTATED_KEYS (registered: 1, 2)"
    );
    assert!(reply.is_deliberately_unsigned(), "{reply:?}");
}

#[tokio::test]
async fn request_time_is_not_checked_against_the_clock_by_default() {
    // Arrange
    let app = spawn_app().await;

    for time in ["2019-05-28T12:12:12+08:00", "1", "whenever"] {
        // Act
        let reply = app
            .post(paths::SEND_PAYMENT_RESULT, payment_report())
            .request_time(time)
            .send()
            .await;

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{time}: {reply:?}");
    }
}

#[tokio::test]
async fn with_a_clock_skew_window_a_request_time_inside_it_is_accepted() {
    // Arrange
    let app = spawn_app_with(|s| s.server.clock_skew_seconds = 300).await;
    let now = chrono::Utc::now();
    let times = [
        now.timestamp_millis().to_string(),
        now_iso8601(),
        now.format("%Y-%m-%dT%H:%M:%S+0000").to_string(),
        dotnet_round_trip(now),
        (now - chrono::Duration::seconds(200))
            .timestamp_millis()
            .to_string(),
        (now + chrono::Duration::seconds(200))
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string(),
        (now + chrono::Duration::hours(8))
            .format("%Y-%m-%dT%H:%M:%S+08:00")
            .to_string(),
    ];

    for time in times {
        // Act
        let reply = app
            .post(paths::SEND_PAYMENT_RESULT, payment_report())
            .request_time(&time)
            .send()
            .await;

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{time}: {reply:?}");
    }
}

#[tokio::test]
async fn with_a_clock_skew_window_a_request_time_outside_it_is_an_invalid_signature() {
    // Arrange
    let app = spawn_app_with(|s| s.server.clock_skew_seconds = 300).await;
    let now = chrono::Utc::now();
    let times = [
        (now - chrono::Duration::hours(1))
            .timestamp_millis()
            .to_string(),
        (now + chrono::Duration::hours(1))
            .timestamp_millis()
            .to_string(),
        (now - chrono::Duration::seconds(400))
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string(),
        "2019-05-28T12:12:12+08:00".to_owned(),
    ];

    for time in times {
        // Act
        let reply = app
            .post(paths::SEND_PAYMENT_RESULT, payment_report())
            .request_time(&time)
            .send()
            .await;

        // Assert
        assert_eq!(
            reply.result_code(),
            "INVALID_SIGNATURE",
            "{time}: {reply:?}"
        );
        assert!(
            reply
                .message()
                .starts_with(&format!("signature invalid: Request-Time {time} is "))
                && reply
                    .message()
                    .ends_with("s from the gateway clock; the allowed window is 300 s"),
            "{reply:?}"
        );
        assert!(reply.is_deliberately_unsigned(), "{reply:?}");
    }
}

#[tokio::test]
async fn with_a_clock_skew_window_an_unreadable_request_time_is_param_illegal() {
    // Arrange
    let app = spawn_app_with(|s| s.server.clock_skew_seconds = 300).await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .request_time("yesterday")
        .send()
        .await;

    // Assert
    reply.assert_param_illegal(
        "Request-Time \"yesterday\" is neither epoch milliseconds nor ISO 8601 with offset",
    );
}

#[tokio::test]
async fn the_response_signature_has_the_form_the_java_sdk_splits() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post_signed(paths::SEND_PAYMENT_RESULT, payment_report())
        .await;

    // Assert
    let header = reply.header("signature").expect("a signature header");
    let value = header
        .strip_prefix("algorithm=RSA256,keyVersion=1,signature=")
        .expect("algorithm=RSA256,keyVersion=1,signature=...");
    assert_eq!(
        header.split(',').nth(2).map(|p| p.split('=').count()),
        Some(2),
        "{header}"
    );
    assert!(
        !value.contains(['+', '/', '=']),
        "the value must be URL-encoded: {value}"
    );
    let time = reply.header("response-time").expect("a response-time");
    assert!(
        chrono::DateTime::parse_from_rfc3339(time).is_ok(),
        "response-time {time}"
    );
    assert_eq!(reply.header("client-id"), Some(MERCHANT));
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}",
        reply.gateway_signature_problem()
    );
}

#[tokio::test]
async fn the_response_key_version_follows_the_signing_settings() {
    // Arrange
    let app = spawn_app_with(|s| s.signing.key_version = "7".into()).await;

    // Act
    let reply = app
        .post_signed(paths::SEND_PAYMENT_RESULT, payment_report())
        .await;

    // Assert
    let header = reply.header("signature").expect("a signature header");
    assert!(
        header.starts_with("algorithm=RSA256,keyVersion=7,signature="),
        "{header}"
    );
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}",
        reply.gateway_signature_problem()
    );
}

#[tokio::test]
async fn the_response_signature_covers_every_byte_of_the_body() {
    // Arrange
    let app = spawn_app().await;
    let mut reply = app
        .post_signed(paths::SEND_PAYMENT_RESULT, payment_report())
        .await;

    // Act
    let verifies_as_received = reply.is_signed_by_gateway();
    reply.body.push(' ');
    let verifies_with_one_byte_more = reply.is_signed_by_gateway();

    // Assert: also shows the test verifier is not vacuous.
    assert!(
        verifies_as_received,
        "{:?}",
        reply.gateway_signature_problem()
    );
    assert!(!verifies_with_one_byte_more);
}
