//! What a shared deployment relies on when others can reach it: bounded request heads and
//! Client-Ids, no signatures handed to strangers, capped connections and in-flight requests, a
//! deadline for slow readers, payments only their owner can see or finalise, and a switch that
//! turns the unsigned `Gateway-Scenario` header off.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::helpers::{
    ADMIN_TOKEN, MERCHANT, ROTATED, TestApp, TestReceiver, paths, spawn_app, spawn_app_with,
    unique_id,
};

fn inquiry_for(payment_request_id: &str) -> Value {
    json!({"acquirerId": "1022188000000000001", "pspId": "1022172000000000001", "paymentRequestId": payment_request_id})
}

fn push_success(payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentId": unique_id("pay-"),
        "paymentRequestId": payment_request_id,
        "paymentTime": "2026-11-22T10:00:00+08:00"
    })
}

/// The host and port of a test gateway, for raw sockets.
fn socket_address(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// A raw HTTP/1.1 request head for `path` (keep-alive), with `extra` header lines.
fn raw_request(method: &str, path: &str, extra: &str) -> Vec<u8> {
    format!("{method} {path} HTTP/1.1\r\nhost: gateway\r\ncontent-length: 0\r\n{extra}\r\n")
        .into_bytes()
}

/// Reads until the first response head is complete (or the connection ends) and returns it.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

// ------------------------------------------------------------------------------------------
// Request heads and Client-Ids
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn request_headers_past_the_header_limit_get_param_illegal_naming_the_limit() {
    // Arrange: 20 KiB of headers, past the 16 KiB default but within what hyper buffers.
    let app = spawn_app().await;
    let padding = "x".repeat(20 * 1024);

    // Act
    let reply = app
        .post(paths::INQUIRY_PAYMENT, inquiry_for(&unique_id("pr-")))
        .header("x-padding", &padding)
        .send()
        .await;

    // Assert
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.result_code(), "PARAM_ILLEGAL", "{reply:?}");
    assert!(
        reply.message().contains("server.max_header_bytes"),
        "the message names the limit: {reply:?}"
    );
}

#[tokio::test]
async fn a_request_head_hyper_cannot_buffer_gets_http_431_not_a_dropped_connection() {
    // Arrange: 512 KiB of headers, far past the 64 KiB hyper buffers for a 16 KiB limit (a
    // read that lands whole may take the buffer up to twice that before the head is parsed).
    let app = spawn_app().await;
    let mut stream = TcpStream::connect(socket_address(&app)).await.unwrap();
    let padding = format!("x-padding: {}\r\n", "x".repeat(512 * 1024));

    // Act
    let _ = stream
        .write_all(&raw_request("POST", paths::INQUIRY_PAYMENT, &padding))
        .await;
    let head = read_head(&mut stream).await;

    // Assert
    assert!(head.starts_with("HTTP/1.1 431"), "{head:?}");
}

#[tokio::test]
async fn an_over_long_client_id_is_refused_and_neither_echoed_nor_journaled() {
    // Arrange
    let app = spawn_app().await;
    let long_id = format!("{}-{}", unique_id("LONG"), "C".repeat(10_000));

    // Act
    let reply = app
        .post(paths::INQUIRY_PAYMENT, inquiry_for(&unique_id("pr-")))
        .sent_by(&long_id)
        .send()
        .await;

    // Assert
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.result_code(), "INVALID_CLIENT", "{reply:?}");
    assert!(
        reply.message().contains("at most 64"),
        "the message gives the limit: {reply:?}"
    );
    assert!(
        reply.message().len() < 200,
        "the message does not repeat the Client-Id: {reply:?}"
    );
    assert_eq!(reply.header("client-id"), None, "not echoed: {reply:?}");
    let entries = app.admin().journal_entries("inquiryPayment").await;
    let entry = entries
        .iter()
        .find(|e| {
            e["verdict"]
                .as_str()
                .is_some_and(|v| v.contains("at most 64"))
        })
        .expect("the refusal is journaled");
    assert_eq!(entry["clientId"], Value::Null, "{entry:#}");
    assert!(
        entry.to_string().len() < 8 * 1024,
        "the entry holds no copy of the 10,000-character Client-Id"
    );
}

// ------------------------------------------------------------------------------------------
// Signatures only for registered clients
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_stranger_gets_gateway_codes_unsigned_and_a_registered_client_gets_them_signed() {
    // Arrange
    let app = spawn_app().await;
    let stranger = "NOT_A_REGISTERED_CLIENT";
    let body = inquiry_for(&unique_id("pr-"));

    // Act
    let no_interface = app
        .post("/aps/api/v1/payments/noSuchApi", body.clone())
        .sent_by(stranger)
        .send()
        .await;
    let wrong_method = app
        .post(paths::INQUIRY_PAYMENT, body.clone())
        .sent_by(stranger)
        .method(Method::PUT)
        .send()
        .await;
    let wrong_media = app
        .post(paths::INQUIRY_PAYMENT, body.clone())
        .sent_by(stranger)
        .content_type("text/plain")
        .send()
        .await;
    let registered = app
        .post("/aps/api/v1/payments/noSuchApi", body)
        .sent_by(MERCHANT)
        .send()
        .await;

    // Assert
    for (reply, code) in [
        (&no_interface, "NO_INTERFACE_DEF"),
        (&wrong_method, "METHOD_NOT_SUPPORTED"),
        (&wrong_media, "MEDIA_TYPE_NOT_ACCEPTABLE"),
    ] {
        assert_eq!(reply.result_code(), code, "{reply:?}");
        assert!(
            reply.is_deliberately_unsigned(),
            "{code} to a stranger is unsigned: {reply:?}"
        );
    }
    assert_eq!(
        registered.result_code(),
        "NO_INTERFACE_DEF",
        "{registered:?}"
    );
    assert!(registered.is_signed_by_gateway(), "{registered:?}");
}

// ------------------------------------------------------------------------------------------
// Connections, in-flight requests and slow readers
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn past_the_connection_cap_a_connection_waits_until_another_closes() {
    // Arrange: two connections allowed, both taken by idle clients.
    let app = spawn_app_with(|s| {
        s.server.max_connections = 2;
        s.server.read_timeout_ms = 60_000;
    })
    .await;
    let address = socket_address(&app);
    let mut first = TcpStream::connect(&address).await.unwrap();
    first
        .write_all(&raw_request("GET", "/healthz", ""))
        .await
        .unwrap();
    assert!(read_head(&mut first).await.starts_with("HTTP/1.1 200"));
    let mut second = TcpStream::connect(&address).await.unwrap();
    second
        .write_all(&raw_request("GET", "/healthz", ""))
        .await
        .unwrap();
    assert!(read_head(&mut second).await.starts_with("HTTP/1.1 200"));

    // Act: a third connects (the kernel's backlog takes it) and asks.
    let mut third = TcpStream::connect(&address).await.unwrap();
    third
        .write_all(&raw_request("GET", "/healthz", ""))
        .await
        .unwrap();
    let before_a_close =
        tokio::time::timeout(Duration::from_millis(500), read_head(&mut third)).await;
    drop(first);
    let after_a_close = tokio::time::timeout(Duration::from_secs(10), read_head(&mut third)).await;

    // Assert
    assert!(
        before_a_close.is_err(),
        "answered past the cap: {before_a_close:?}"
    );
    let head = after_a_close.expect("answered once a connection closed");
    assert!(head.starts_with("HTTP/1.1 200"), "{head:?}");
}

#[tokio::test]
async fn a_client_that_stops_reading_loses_its_connection_at_the_write_deadline() {
    // Arrange: two connections allowed (the test client keeps one alive), a journal listing far
    // larger than the socket buffers.
    let app = spawn_app_with(|s| {
        s.server.max_connections = 2;
        s.server.write_timeout_ms = 300;
        s.journal.capacity = 2000;
    })
    .await;
    let filler = json!({"filler": "f".repeat(4000)});
    for _ in 0..2000 {
        let reply = app
            .post(paths::INQUIRY_PAYMENT, filler.clone())
            .signature_header("algorithm=RSA256,keyVersion=1,signature=AAAA")
            .send()
            .await;
        assert_eq!(reply.result_code(), "INVALID_SIGNATURE", "{reply:?}");
    }
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket
        .connect(socket_address(&app).parse().unwrap())
        .await
        .unwrap();
    stalled
        .write_all(&raw_request(
            "GET",
            "/admin/journal?limit=2000",
            &format!("authorization: Bearer {ADMIN_TOKEN}\r\n"),
        ))
        .await
        .unwrap();

    // Act: the last slot is the stalled reader's until its deadline frees it.
    let next = tokio::time::timeout(
        Duration::from_secs(20),
        reqwest::get(format!("{}/healthz", app.address)),
    )
    .await;
    let mut received = Vec::new();
    let _ = stalled.read_to_end(&mut received).await;

    // Assert
    let next = next
        .expect("the next connection was served")
        .expect("an answer");
    assert_eq!(next.status(), 200);
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text.split_once("\r\n\r\n").expect("the answer had begun");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map(|v| v.trim().parse().unwrap())
        .expect("the answer declares its length");
    assert!(
        body.len() < length,
        "the stalled reader was cut off ({} of {length} bytes)",
        body.len()
    );
}

#[tokio::test]
async fn past_the_in_flight_limit_a_request_is_answered_request_traffic_exceed_limit_at_once_unsigned()
 {
    // Arrange: one request at a time; the first held for two seconds by a latency scenario.
    let app = spawn_app_with(|s| s.server.max_in_flight = 1).await;
    let id = unique_id("pr-");
    app.seed_payment(json!({"paymentRequestId": id, "status": "SUCCESS"}))
        .await;
    let slow = async {
        // Should a quick one hold the slot at that moment, the slow one is turned away: again.
        loop {
            let reply = app
                .post(paths::INQUIRY_PAYMENT, inquiry_for(&id))
                .header("gateway-scenario", "latency=2000")
                .send()
                .await;
            if reply.result_code() != "REQUEST_TRAFFIC_EXCEED_LIMIT" {
                return reply;
            }
        }
    };
    let crowded = async {
        // Until the slow one holds the only slot, a request still gets through.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let reply = app
                .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&id))
                .await;
            if reply.result_code() != "SUCCESS" || tokio::time::Instant::now() > deadline {
                return reply;
            }
            tokio::task::yield_now().await;
        }
    };

    // Act
    let (slow, crowded) = tokio::join!(slow, crowded);

    // Assert
    assert_eq!(slow.result_code(), "SUCCESS", "{slow:?}");
    assert_eq!(crowded.status, 200, "{crowded:?}");
    assert_eq!(
        crowded.result_code(),
        "REQUEST_TRAFFIC_EXCEED_LIMIT",
        "{crowded:?}"
    );
    assert_eq!(crowded.result_status(), "U", "{crowded:?}");
    assert!(
        crowded.message().contains("server.max_in_flight"),
        "{crowded:?}"
    );
    assert!(
        !crowded.is_signed_by_gateway(),
        "a request turned away before its signature was checked is answered unsigned: {crowded:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Ownership
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_client_inquiring_about_an_owned_payment_gets_order_not_exist() {
    // Arrange: a payment seeded for MERCHANT; ROTATED is another registered client.
    let app = spawn_app().await;
    let id = unique_id("pr-");
    app.seed_payment(json!({"paymentRequestId": id, "status": "SUCCESS", "clientId": MERCHANT}))
        .await;

    // Act
    let stranger = app
        .post(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .sent_by(ROTATED)
        .key_version("2")
        .send()
        .await;
    let owner = app
        .post_signed(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .await;

    // Assert
    assert_eq!(stranger.result_code(), "ORDER_NOT_EXIST", "{stranger:?}");
    assert!(stranger.is_signed_by_gateway(), "{stranger:?}");
    assert_eq!(owner.result_code(), "SUCCESS", "{owner:?}");
}

#[tokio::test]
async fn another_client_reporting_an_owned_payments_result_is_denied_and_changes_nothing() {
    // Arrange
    let app = spawn_app().await;
    let id = unique_id("pr-");
    app.seed_payment(json!({"paymentRequestId": id, "clientId": MERCHANT}))
        .await;

    // Act
    let stranger = app
        .post(paths::NOTIFY_PUSH_PAYMENT, push_success(&id))
        .sent_by(ROTATED)
        .key_version("2")
        .send()
        .await;
    let payment = app.admin().read_payment(&id).await;

    // Assert
    assert_eq!(stranger.result_code(), "ACCESS_DENIED", "{stranger:?}");
    assert!(
        stranger.message().contains("belongs to another merchant"),
        "{stranger:?}"
    );
    assert_eq!(payment.json["status"], "PROCESSING", "{:?}", payment.json);
    let owner = app
        .post_signed(paths::NOTIFY_PUSH_PAYMENT, push_success(&id))
        .await;
    assert_eq!(owner.result_code(), "SUCCESS", "{owner:?}");
}

// ------------------------------------------------------------------------------------------
// Replayed signatures
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn with_replayed_signatures_refused_the_same_signed_request_again_is_an_unsigned_invalid_signature()
 {
    // Arrange
    let app = spawn_app_with(|s| {
        s.server.clock_skew_seconds = 300;
        s.server.reject_replayed_signatures = true;
    })
    .await;
    let report = push_success(&unique_id("pr-"));
    let time = chrono::Utc::now().timestamp_millis().to_string();
    let send = |time: &str| {
        app.post(paths::NOTIFY_PUSH_PAYMENT, report.clone())
            .request_time(time)
            .send()
    };

    // Act
    let first = send(&time).await;
    let replayed = send(&time).await;
    let resigned = send(&(time.parse::<i64>().unwrap() + 1).to_string()).await;

    // Assert
    assert_eq!(first.result_code(), "SUCCESS", "{first:?}");
    assert_eq!(replayed.result_code(), "INVALID_SIGNATURE", "{replayed:?}");
    assert_eq!(replayed.result_status(), "F", "{replayed:?}");
    assert!(
        replayed
            .message()
            .contains("server.reject_replayed_signatures"),
        "{replayed:?}"
    );
    assert!(!replayed.is_signed_by_gateway(), "{replayed:?}");
    assert_eq!(
        resigned.result_code(),
        "SUCCESS",
        "the same report signed anew is a repeat, answered as before: {resigned:?}"
    );
}

#[tokio::test]
async fn with_replayed_signatures_refused_a_request_answered_u_may_be_sent_again_as_it_was() {
    // Arrange
    let app = spawn_app_with(|s| {
        s.server.clock_skew_seconds = 300;
        s.server.reject_replayed_signatures = true;
    })
    .await;
    let report = push_success(&unique_id("pr-"));
    let time = chrono::Utc::now().timestamp_millis().to_string();
    let send = || {
        app.post(paths::NOTIFY_PUSH_PAYMENT, report.clone())
            .request_time(&time)
    };

    // Act: the same signed bytes, first answered U (the unsigned scenario header), then retried.
    let failed = send()
        .header("gateway-scenario", "UNKNOWN_EXCEPTION")
        .send()
        .await;
    let retried = send().send().await;

    // Assert
    assert_eq!(failed.result_status(), "U", "{failed:?}");
    assert_eq!(retried.result_code(), "SUCCESS", "{retried:?}");
    let replayed = send().send().await;
    assert_eq!(replayed.result_code(), "INVALID_SIGNATURE", "{replayed:?}");
}

#[tokio::test]
async fn without_the_replay_switch_the_same_signed_request_again_is_answered_as_a_repeat() {
    // Arrange
    let app = spawn_app_with(|s| s.server.clock_skew_seconds = 300).await;
    let report = push_success(&unique_id("pr-"));
    let time = chrono::Utc::now().timestamp_millis().to_string();

    for _ in 0..2 {
        // Act
        let reply = app
            .post(paths::NOTIFY_PUSH_PAYMENT, report.clone())
            .request_time(&time)
            .send()
            .await;

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
    }
}

// ------------------------------------------------------------------------------------------
// The scenario header switch
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn with_allow_header_off_a_scenario_header_is_ignored_and_the_journal_says_so() {
    // Arrange
    let app = spawn_app_with(|s| s.scenario.allow_header = false).await;
    let id = unique_id("pr-");
    app.seed_payment(json!({"paymentRequestId": id, "status": "SUCCESS"}))
        .await;

    // Act
    let reply = app
        .post(paths::INQUIRY_PAYMENT, inquiry_for(&id))
        .header("gateway-scenario", "UNKNOWN_EXCEPTION")
        .send()
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
    let entries = app.admin().journal_entries("inquiryPayment").await;
    let noted = entries.iter().any(|e| {
        e["note"]
            .as_str()
            .is_some_and(|n| n.contains("scenario.allow_header = false"))
    });
    assert!(
        noted,
        "no journal note says the header was ignored: {entries:#?}"
    );
}

// ------------------------------------------------------------------------------------------
// Where notifications may go
// ------------------------------------------------------------------------------------------

/// A successful, notifiable payment of [`MERCHANT`] whose notification goes to `notify_url`.
fn notifiable_payment(notify_url: &str) -> Value {
    json!({
        "paymentRequestId": unique_id("OUT-PR-"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": MERCHANT,
        "notifyUrl": notify_url,
    })
}

#[tokio::test]
async fn with_an_allow_list_a_notify_url_elsewhere_is_refused_when_seeded() {
    // Arrange
    let app = spawn_app_with(|s| s.notify.allowed_hosts = vec!["merchant.example".into()]).await;

    // Act
    let metadata = app
        .admin()
        .seed_payment(notifiable_payment(
            "http://169.254.169.254/latest/meta-data",
        ))
        .await;
    let listed = app
        .admin()
        .seed_payment(notifiable_payment("https://merchant.example/alipay/notify"))
        .await;

    // Assert
    assert_eq!(metadata.status, 400, "{metadata:?}");
    assert!(
        metadata.error().contains("notifyUrl")
            && metadata.error().contains("169.254.169.254")
            && metadata.error().contains("notify.allowed_hosts"),
        "{metadata:?}"
    );
    assert_eq!(listed.status, 201, "{listed:?}");
}

#[tokio::test]
async fn a_name_that_resolves_outside_the_allowed_networks_is_never_connected_to() {
    // Arrange: only 10.0.0.0/8 allowed; a merchant on localhost, which resolves to loopback.
    let app = spawn_app_with(|s| {
        s.notify.allowed_hosts = vec!["10.0.0.0/8".into()];
        s.notify.schedule = vec!["0s".into()];
    })
    .await;
    let merchant = TestReceiver::start().await;
    let url = merchant.url().replace("127.0.0.1", "localhost");

    // Act
    let seeded = app.seed_payment(notifiable_payment(&url)).await;
    let id = seeded["paymentRequestId"].as_str().unwrap();
    let notification = app.notification_becomes(id, "EXHAUSTED").await;

    // Assert
    let error = notification["attempts"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("localhost resolves to") && error.contains("notify.allowed_hosts"),
        "{notification:#}"
    );
    assert!(merchant.deliveries().is_empty(), "the merchant was reached");
}

#[tokio::test]
async fn an_allowed_network_is_notified_as_usual() {
    // Arrange
    let app = spawn_app_with(|s| s.notify.allowed_hosts = vec!["127.0.0.0/8".into()]).await;
    let merchant = TestReceiver::start().await;

    // Act
    let seeded = app.seed_payment(notifiable_payment(&merchant.url())).await;
    let id = seeded["paymentRequestId"].as_str().unwrap();
    let notification = app.notification_becomes(id, "DELIVERED").await;

    // Assert
    assert_eq!(notification["attemptsMade"], 1, "{notification:#}");
    assert_eq!(merchant.deliveries().len(), 1);
}
