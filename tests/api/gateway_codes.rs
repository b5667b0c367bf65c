//! The gateway-level result codes every API shares (the "Result/Error codes" tables of the seed
//! pages): each answers HTTP 200 with `result` F, and all but INVALID_SIGNATURE, INVALID_CLIENT
//! and KEY_NOT_FOUND are signed.

use reqwest::Method;
use serde_json::{Value, json};

use super::helpers::{
    INQUIRY_ONLY, Key, MERCHANT, Reply, paths, spawn_app, spawn_app_with, unique_id,
};

/// A sendPaymentResult body that passes every rule.
fn payment_report() -> Value {
    json!({
        "referenceTransactionId": unique_id("txn-"),
        "paymentStatus": "SUCCESS",
        "paymentMethodProvider": "VISA",
    })
}

/// A valid sendPaymentResult body padded with an unknown field to exactly `bytes` bytes.
fn payment_report_of_size(bytes: usize) -> String {
    let base = payment_report().to_string();
    let padding = bytes - base.len() - r#","padding":"""#.len();
    let body = format!(
        r#"{},"padding":"{}"}}"#,
        &base[..base.len() - 1],
        "x".repeat(padding)
    );
    assert_eq!(body.len(), bytes);
    body
}

#[track_caller]
fn assert_signed_failure(reply: &Reply, code: &str, message_start: &str) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("F", code),
        "{reply:?}"
    );
    assert!(
        reply.message().starts_with(message_start),
        "expected {message_start:?}: {reply:?}"
    );
    assert!(
        reply.is_signed_by_gateway(),
        "{:?}: {reply:?}",
        reply.gateway_signature_problem()
    );
}

#[track_caller]
fn assert_unsigned_failure(reply: &Reply, code: &str, message_start: &str) {
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        (reply.result_status(), reply.result_code()),
        ("F", code),
        "{reply:?}"
    );
    assert!(
        reply.message().starts_with(message_start),
        "expected {message_start:?}: {reply:?}"
    );
    assert!(
        reply.is_deliberately_unsigned(),
        "expected the empty signature form: {reply:?}"
    );
}

#[tokio::test]
async fn a_path_no_api_is_served_at_answers_no_interface_def_signed() {
    // Arrange
    let app = spawn_app().await;

    for path in [
        "/ams/api/v1/payments/nothingHere",
        "/aps/api/v1/payments/notifyPushPayment/",
        "/ams/api/v1/risk/payments/SENDPAYMENTRESULT",
        "/",
    ] {
        // Act
        let reply = app.post_signed(path, payment_report()).await;

        // Assert
        assert_signed_failure(
            &reply,
            "NO_INTERFACE_DEF",
            &format!("no API is defined at {path}"),
        );
    }
}

#[tokio::test]
async fn a_method_other_than_post_answers_method_not_supported_signed() {
    // Arrange
    let app = spawn_app().await;

    for path in [
        paths::SEND_PAYMENT_RESULT,
        paths::NOTIFY_PUSH_PAYMENT,
        paths::INQUIRY_PAYMENT,
        paths::NOTIFY_PAYMENT,
    ] {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            // Act
            let reply = app
                .post(path, payment_report())
                .method(method.clone())
                .send()
                .await;

            // Assert
            assert_signed_failure(
                &reply,
                "METHOD_NOT_SUPPORTED",
                &format!("method {method} is not supported; the APIs take POST"),
            );
        }
    }
}

#[tokio::test]
async fn a_content_type_other_than_json_answers_media_type_not_acceptable_signed() {
    // Arrange
    let app = spawn_app().await;

    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml; charset=UTF-8",
    ] {
        // Act
        let reply = app
            .post(paths::SEND_PAYMENT_RESULT, payment_report())
            .content_type(content_type)
            .send()
            .await;

        // Assert
        assert_signed_failure(
            &reply,
            "MEDIA_TYPE_NOT_ACCEPTABLE",
            &format!("Content-Type {content_type} is not accepted"),
        );
    }
}

#[tokio::test]
async fn json_with_or_without_a_charset_and_a_missing_content_type_are_accepted() {
    // Arrange
    let app = spawn_app().await;
    let json_types = [
        "application/json",
        "application/json; charset=UTF-8",
        "APPLICATION/JSON;charset=utf-8",
    ];

    for content_type in json_types {
        // Act
        let reply = app
            .post(paths::SEND_PAYMENT_RESULT, payment_report())
            .content_type(content_type)
            .send()
            .await;

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{content_type}: {reply:?}");
    }
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .without_content_type()
        .send()
        .await;
    assert_eq!(reply.result_code(), "SUCCESS", "no Content-Type: {reply:?}");
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_answers_param_illegal_signed() {
    // Arrange
    let app = spawn_app().await;
    let cases = [
        (
            "{\"referenceTransactionId\": ",
            "the body is not valid JSON",
        ),
        ("", "the body is not valid JSON"),
        ("referenceTransactionId=1", "the body is not valid JSON"),
        ("[1, 2]", "body: must be a JSON object"),
        ("\"SUCCESS\"", "body: must be a JSON object"),
        ("null", "body: must be a JSON object"),
    ];

    for (body, expected) in cases {
        // Act
        let reply = app.post_signed(paths::SEND_PAYMENT_RESULT, body).await;

        // Assert
        reply.assert_param_illegal(expected);
    }
}

#[tokio::test]
async fn a_body_over_the_limit_answers_param_illegal_signed() {
    // Arrange
    let app = spawn_app_with(|s| s.server.body_limit_bytes = 1024).await;

    // Act
    let reply = app
        .post_signed(paths::SEND_PAYMENT_RESULT, payment_report_of_size(1025))
        .await;

    // Assert
    reply.assert_param_illegal("the request body is larger than the 1024-byte limit");
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_accepted() {
    // Arrange
    let app = spawn_app_with(|s| s.server.body_limit_bytes = 1024).await;

    // Act
    let reply = app
        .post_signed(paths::SEND_PAYMENT_RESULT, payment_report_of_size(1024))
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_answers_param_illegal_signed() {
    // Arrange: no Content-Length, so only reading the body can find the size.
    let app = spawn_app_with(|s| s.server.body_limit_bytes = 1024).await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report_of_size(1500))
        .send_chunked()
        .await;

    // Assert
    reply.assert_param_illegal("the request body is larger than the 1024-byte limit");
}

#[tokio::test]
async fn a_chunked_body_within_the_limit_is_accepted() {
    // Arrange
    let app = spawn_app_with(|s| s.server.body_limit_bytes = 1024).await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report_of_size(1000))
        .send_chunked()
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
async fn a_body_limit_raised_above_two_mebibytes_is_honoured() {
    // Arrange: 4 MiB allowed, a 3 MiB body sent.
    let app = spawn_app_with(|s| s.server.body_limit_bytes = 4 * 1024 * 1024).await;

    // Act
    let reply = app
        .post_signed(
            paths::SEND_PAYMENT_RESULT,
            payment_report_of_size(3 * 1024 * 1024),
        )
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{}", reply.message());
}

#[tokio::test]
async fn a_missing_client_id_answers_invalid_client_unsigned() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .without_client_id()
        .send()
        .await;

    // Assert
    assert_unsigned_failure(&reply, "INVALID_CLIENT", "the Client-Id header is missing");
}

#[tokio::test]
async fn an_unregistered_client_id_answers_invalid_client_unsigned_with_the_client_id_echoed() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .sent_by("SANDBOX_NOBODY")
        .send()
        .await;

    // Assert
    assert_unsigned_failure(
        &reply,
        "INVALID_CLIENT",
        "Client-Id SANDBOX_NOBODY is not registered",
    );
    assert_eq!(reply.header("client-id"), Some("SANDBOX_NOBODY"));
}

#[tokio::test]
async fn a_key_version_with_no_registered_key_answers_key_not_found_unsigned() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .key_version("9")
        .send()
        .await;

    // Assert
    assert_unsigned_failure(
        &reply,
        "KEY_NOT_FOUND",
        "no public key with keyVersion 9 for Client-Id TEST_MERCHANT (registered: 1)",
    );
    assert_eq!(reply.header("client-id"), Some(MERCHANT));
}

#[tokio::test]
async fn an_invalid_signature_answers_invalid_signature_unsigned_with_the_reason() {
    // Arrange
    let app = spawn_app().await;
    let multi_line = "{\n  \"referenceTransactionId\": \"crlf-1\",\n  \"paymentStatus\": \"FAIL\",\n  \"paymentMethodProvider\": \"VISA\"\n}";
    let cases = [
        (
            "missing",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .without_signature(),
            "signature invalid: the Signature header is missing",
        ),
        (
            "no signature= part",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .signature_header("algorithm=RSA256,keyVersion=1"),
            "signature invalid: the Signature header is malformed: no signature= parameter",
        ),
        (
            "empty value",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .signature_header("algorithm=RSA256,keyVersion=1,signature="),
            "signature invalid: the Signature header is malformed: the signature= parameter is empty",
        ),
        (
            "not base64",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .signature_header("algorithm=RSA256,keyVersion=1,signature=%21%21%21%21"),
            "signature invalid: bad encoding",
        ),
        (
            "too short",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .signature_header("algorithm=RSA256,keyVersion=1,signature=AAAA"),
            "signature invalid: the Signature header is malformed: the signature is 3 bytes; an RSA-2048 signature is 256 bytes",
        ),
        (
            "another algorithm",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .signature_header("algorithm=ECC224,keyVersion=1,signature=AAAA"),
            "signature invalid: algorithm ECC224 is not supported; use RSA256",
        ),
        (
            "the wrong key",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .signed_with(Key::Other),
            "signature invalid: signed with a different key than the public key registered for keyVersion 1",
        ),
        (
            "a body tampered after signing",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .tampered_after_signing(|body| body.replace("SUCCESS", "FAIL")),
            "signature invalid: the signed content differs from what was received (body, path, Client-Id or Request-Time changed after signing)",
        ),
        (
            "a trailing newline added after signing",
            app.post(paths::SEND_PAYMENT_RESULT, payment_report())
                .tampered_after_signing(|body| body + "\n"),
            "signature invalid: the signed content differs from what was received (the body differs only in a trailing newline)",
        ),
        (
            "line ends changed after signing",
            app.post(paths::SEND_PAYMENT_RESULT, multi_line)
                .tampered_after_signing(|body| body.replace('\n', "\r\n")),
            "signature invalid: the signed content differs from what was received (the body differs in line endings",
        ),
    ];

    for (what, request, expected) in cases {
        // Act
        let reply = request.send().await;

        // Assert
        assert_eq!(
            reply.result_code(),
            "INVALID_SIGNATURE",
            "{what}: {reply:?}"
        );
        assert_unsigned_failure(&reply, "INVALID_SIGNATURE", expected);
        assert_eq!(reply.header("client-id"), Some(MERCHANT), "{what}");
    }
}

#[tokio::test]
async fn a_missing_request_time_answers_param_illegal_signed() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .without_request_time()
        .send()
        .await;

    // Assert
    reply.assert_param_illegal("the Request-Time header is missing");
}

#[tokio::test]
async fn a_client_outside_its_allow_list_answers_access_denied_signed() {
    // Arrange
    let app = spawn_app().await;

    for (path, api) in [
        (paths::SEND_PAYMENT_RESULT, "sendPaymentResult"),
        (paths::NOTIFY_PUSH_PAYMENT, "notifyPushPayment"),
        (paths::NOTIFY_PAYMENT, "notifyPayment"),
    ] {
        // Act
        let reply = app.post(path, json!({})).sent_by(INQUIRY_ONLY).send().await;

        // Assert
        assert_signed_failure(
            &reply,
            "ACCESS_DENIED",
            &format!("Client-Id {INQUIRY_ONLY} may not call {api}"),
        );
    }
}

#[tokio::test]
async fn a_client_may_call_the_api_on_its_allow_list() {
    // Arrange
    let app = spawn_app().await;
    let inquiry =
        json!({"acquirerId": "ACQ-1", "pspId": "PSP-1", "paymentRequestId": unique_id("pr-")});

    // Act
    let reply = app
        .post(paths::INQUIRY_PAYMENT, inquiry)
        .sent_by(INQUIRY_ONLY)
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "ORDER_NOT_EXIST", "{reply:?}");
    assert!(reply.is_signed_by_gateway());
}

#[tokio::test]
async fn a_bad_signature_is_reported_before_the_allow_list_is_consulted() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let reply = app
        .post(paths::SEND_PAYMENT_RESULT, payment_report())
        .sent_by(INQUIRY_ONLY)
        .signed_with(Key::Other)
        .send()
        .await;

    // Assert
    assert_unsigned_failure(
        &reply,
        "INVALID_SIGNATURE",
        "signature invalid: signed with a different key",
    );
}

#[tokio::test]
async fn every_answer_is_http_200_json_with_the_content_type_the_sdks_expect() {
    // Arrange
    let app = spawn_app().await;
    let requests = [
        app.post(paths::SEND_PAYMENT_RESULT, payment_report()),
        app.post("/nothing", payment_report()),
        app.post(paths::SEND_PAYMENT_RESULT, payment_report())
            .method(Method::GET),
        app.post(paths::SEND_PAYMENT_RESULT, payment_report())
            .content_type("text/plain"),
        app.post(paths::SEND_PAYMENT_RESULT, "{"),
        app.post(paths::SEND_PAYMENT_RESULT, payment_report())
            .sent_by("NOBODY"),
        app.post(paths::SEND_PAYMENT_RESULT, payment_report())
            .key_version("5"),
        app.post(paths::SEND_PAYMENT_RESULT, payment_report())
            .signed_with(Key::Other),
        app.post(paths::SEND_PAYMENT_RESULT, payment_report())
            .sent_by(INQUIRY_ONLY),
    ];

    for request in requests {
        // Act
        let reply = request.send().await;

        // Assert
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/json; charset=UTF-8"),
            "{reply:?}"
        );
        assert!(reply.json["result"].is_object(), "{reply:?}");
    }
}
