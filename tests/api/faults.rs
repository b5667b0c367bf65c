//! Faults, latency and the rate limit (issue 5): an HTTP 500, a dropped connection, a body cut
//! off mid-JSON, an unsigned or wrongly signed answer, each from the `Gateway-Scenario` header
//! and from a rule; fixed and uniform latencies, seeded so runs repeat, and long enough to pass
//! the real service's timeouts; a client's `rate_limit_per_second` as a real limit.

use std::time::{Duration, Instant};

use alipay_gateway::scenario::Latency;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use super::helpers::{Key, MERCHANT, Reply, client, keys_dir, paths, test_settings, unique_id};
use super::scenario_helpers::{
    Control, TestGateway, payment_report, push_success, spawn_gateway, spawn_gateway_with,
};

/// A notifyPushPayment broken by `fault`, asked for through the header or a rule matching
/// only this request; `Err` when no complete answer came.
async fn report_with_fault(
    app: &TestGateway,
    control: Control,
    fault: &str,
) -> Result<Reply, reqwest::Error> {
    let payment_id = unique_id("pid-");
    let call = app.call(paths::NOTIFY_PUSH_PAYMENT, push_success(&payment_id));
    match control {
        Control::Header => {
            call.with_scenario(&format!("fault={fault}"))
                .try_send()
                .await
        }
        Control::Rule => {
            app.rule_added(json!({
                "endpoint": "notifyPushPayment",
                "field": "paymentId",
                "equals": payment_id,
                "fault": fault,
            }))
            .await;
            call.try_send().await
        }
        Control::Convention => unreachable!("the convention selects codes, not faults"),
    }
}

/// The control paths a fault can be asked for through.
const FAULT_CONTROLS: [Control; 2] = [Control::Header, Control::Rule];

// ------------------------------------------------------------------------------------------
// Faults
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn http_500_answers_status_500() {
    // Arrange
    let app = spawn_gateway().await;

    for control in FAULT_CONTROLS {
        // Act
        let reply = report_with_fault(&app, control, "http_500")
            .await
            .expect("an answer");

        // Assert
        assert_eq!(reply.status, 500, "{control:?}: {reply:?}");
    }
}

#[tokio::test]
async fn drop_connection_closes_the_connection_before_the_answer_is_complete() {
    // Arrange
    let app = spawn_gateway().await;

    for control in FAULT_CONTROLS {
        // Act
        let outcome = report_with_fault(&app, control, "drop_connection").await;

        // Assert
        let error = outcome.expect_err("no complete answer");
        assert!(
            !error.is_timeout() && !error.is_connect(),
            "{control:?}: the connection was made and then closed, not {error:?}"
        );
    }
    let next = app
        .call(paths::NOTIFY_PUSH_PAYMENT, push_success(&unique_id("pid-")))
        .send()
        .await;
    assert_eq!(
        next.result_code(),
        "SUCCESS",
        "the gateway carries on: {next:?}"
    );
}

#[tokio::test]
async fn malformed_json_answers_a_body_that_is_not_json_signed_over_what_was_sent() {
    // Arrange
    let app = spawn_gateway().await;

    for control in FAULT_CONTROLS {
        // Act
        let reply = report_with_fault(&app, control, "malformed_json")
            .await
            .expect("an answer");

        // Assert
        assert_eq!(reply.status, 200, "{control:?}: {reply:?}");
        assert!(
            serde_json::from_str::<Value>(&reply.body).is_err() && reply.body.starts_with('{'),
            "{control:?}: expected JSON cut off mid-way: {reply:?}"
        );
        assert!(
            reply.is_signed_by_gateway(),
            "{control:?}: {:?}",
            reply.gateway_signature_problem()
        );
    }
}

#[tokio::test]
async fn unsigned_answers_without_signature_response_time_or_client_id_headers() {
    // Arrange
    let app = spawn_gateway().await;

    for control in FAULT_CONTROLS {
        // Act
        let reply = report_with_fault(&app, control, "unsigned")
            .await
            .expect("an answer");

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{control:?}: {reply:?}");
        assert!(reply.has_no_signature_headers(), "{control:?}: {reply:?}");
    }
}

#[tokio::test]
async fn bad_signature_answers_a_signature_that_does_not_verify_with_the_gateway_key() {
    // Arrange
    let app = spawn_gateway().await;

    for control in FAULT_CONTROLS {
        // Act
        let reply = report_with_fault(&app, control, "bad_signature")
            .await
            .expect("an answer");

        // Assert
        assert_eq!(reply.result_code(), "SUCCESS", "{control:?}: {reply:?}");
        assert_eq!(reply.header("client-id"), Some(MERCHANT), "{reply:?}");
        assert!(
            reply.header("signature").is_some_and(|s| s
                .starts_with("algorithm=RSA256,keyVersion=1,signature=")
                && !s.ends_with("signature=")),
            "{control:?}: a signature is there: {reply:?}"
        );
        assert_eq!(
            reply.gateway_signature_problem().as_deref(),
            Some("the signature does not verify with TEST-ONLY-gateway-public.pem"),
            "{control:?}: {reply:?}"
        );
    }
}

#[tokio::test]
async fn a_header_naming_an_unknown_fault_answers_param_illegal_naming_the_faults() {
    // Arrange
    let app = spawn_gateway().await;

    // Act
    let reply = app
        .post_with_scenario(
            paths::NOTIFY_PUSH_PAYMENT,
            push_success(&unique_id("pid-")),
            "fault=explode",
        )
        .await;

    // Assert
    assert_eq!(reply.result_code(), "PARAM_ILLEGAL", "{reply:?}");
    assert!(
        reply
            .message()
            .contains("http_500, drop_connection, malformed_json, unsigned, bad_signature"),
        "{reply:?}"
    );
}

// ------------------------------------------------------------------------------------------
// Latency
// ------------------------------------------------------------------------------------------

/// How late an answer may come on top of its latency on a busy test machine.
const SLACK: Duration = Duration::from_millis(1500);

#[tokio::test]
async fn a_fixed_latency_delays_the_answer_by_at_least_that_long() {
    // Arrange
    let app = spawn_gateway().await;
    let latency = Duration::from_millis(300);

    // Act
    let reply = app
        .post_with_scenario(
            paths::NOTIFY_PUSH_PAYMENT,
            push_success(&unique_id("pid-")),
            "latency=300",
        )
        .await;

    // Assert
    assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
    assert!(
        reply.took >= latency && reply.took < latency + SLACK,
        "took {:?}",
        reply.took
    );
    let entry = app.newest_entry(&[("endpoint", "notifyPushPayment")]).await;
    assert!(
        entry["latencyMs"].as_f64().expect("latencyMs") >= 300.0,
        "{entry:#}"
    );
    assert_eq!(entry["rule"], "header", "{entry:#}");
}

#[tokio::test]
async fn a_uniform_latency_stays_within_its_bounds() {
    // Arrange
    let app = spawn_gateway().await;
    app.rule_added(json!({"name": "slow risk engine", "endpoint": "sendPaymentResult", "latency": {"uniform_ms": [100, 200]}}))
        .await;

    // Act
    let mut took = Vec::new();
    for _ in 0..4 {
        let reply = app
            .call(
                paths::SEND_PAYMENT_RESULT,
                payment_report(&unique_id("txn-")),
            )
            .send()
            .await;
        assert_eq!(reply.result_code(), "SUCCESS", "{reply:?}");
        took.push(reply.took);
    }

    // Assert
    let bounds = Duration::from_millis(100)..Duration::from_millis(200) + SLACK;
    assert!(took.iter().all(|t| bounds.contains(t)), "{took:?}");
    let journaled = journaled_latencies(&app, "sendPaymentResult").await;
    assert_eq!(journaled.len(), 4);
    assert!(
        journaled
            .iter()
            .all(|ms| (100.0..=200.0 + SLACK.as_millis() as f64).contains(ms)),
        "{journaled:?}"
    );
}

/// The journal's latencyMs of an API's answers, oldest first.
async fn journaled_latencies(app: &TestGateway, endpoint: &str) -> Vec<f64> {
    let mut latencies: Vec<f64> = app
        .journal(&[("endpoint", endpoint)])
        .await
        .iter()
        .map(|e| e["latencyMs"].as_f64().expect("latencyMs"))
        .collect();
    latencies.reverse();
    latencies
}

/// Answers of a gateway this many, each delayed by a draw from `RANDOM` ms.
const DRAWS: usize = 7;
/// The uniform range of the draws, in milliseconds.
const RANDOM: [u64; 2] = [0, 400];

/// The latencies a source seeded with `seed` draws, in milliseconds: what the gateway must wait.
fn seeded_draws(seed: u64) -> Vec<f64> {
    let mut source = StdRng::seed_from_u64(seed);
    (0..DRAWS)
        .map(|_| Latency::UniformMs(RANDOM).sample(&mut source).as_millis() as f64)
        .collect()
}

/// [`DRAWS`] answers of a fresh gateway with `seed`, each drawn from [`RANDOM`]; their
/// journaled latencies, oldest first.
async fn random_latencies_of_a_gateway_seeded(seed: u64) -> Vec<f64> {
    let app = spawn_gateway_with(|s| s.scenario.seed = seed).await;
    let scenario = format!("PROCESS_FAIL; latency={}..{}", RANDOM[0], RANDOM[1]);
    for _ in 0..DRAWS {
        app.post_with_scenario(
            paths::NOTIFY_PUSH_PAYMENT,
            push_success(&unique_id("pid-")),
            &scenario,
        )
        .await;
    }
    journaled_latencies(&app, "notifyPushPayment").await
}

/// Why `latencies` do not follow `draws`, if they do not: each answer comes no earlier than
/// its draw, and most within 50 ms of it (a busy machine delays a few).
fn not_following(latencies: &[f64], draws: &[f64]) -> Option<String> {
    let early = latencies.iter().zip(draws).any(|(l, d)| l < d);
    let close = latencies
        .iter()
        .zip(draws)
        .filter(|(l, d)| *l - *d < 50.0)
        .count();
    (latencies.len() != draws.len() || early || close <= DRAWS / 2)
        .then(|| format!("latencies {latencies:?} do not follow the draws {draws:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_seed_gives_the_same_latencies_on_two_gateways() {
    // Arrange: the answers skip the store (PROCESS_FAIL), so a latency is nearly all draw.
    let (seven, eight) = (seeded_draws(7), seeded_draws(8));
    assert_ne!(seven, eight);

    // Act
    let (first, second, other) = tokio::join!(
        random_latencies_of_a_gateway_seeded(7),
        random_latencies_of_a_gateway_seeded(7),
        random_latencies_of_a_gateway_seeded(8)
    );

    // Assert
    assert_eq!(not_following(&first, &seven), None, "first gateway, seed 7");
    assert_eq!(
        not_following(&second, &seven),
        None,
        "second gateway, seed 7"
    );
    assert_eq!(not_following(&other, &eight), None, "a gateway with seed 8");
}

#[tokio::test]
async fn a_latency_past_the_real_services_timeouts_is_accepted() {
    // Arrange
    let app = spawn_gateway().await;
    let mut settings = test_settings();
    settings.scenario.rules = vec![
        serde_json::from_value(
            json!({"endpoint": "inquiryPayment", "latency": {"fixed_ms": 8000}}),
        )
        .expect("a rule spec"),
    ];

    // Act
    let from_config = settings.validate(&keys_dir());
    let from_admin = app
        .add_rule(json!({"endpoint": "notifyPushPayment", "latency": {"fixed_ms": 6000}}))
        .await;
    let one_second = Duration::from_secs(1);
    let from_header = app
        .call(
            paths::SEND_PAYMENT_RESULT,
            payment_report(&unique_id("txn-")),
        )
        .with_scenario("latency=6000")
        .waiting_at_most(one_second)
        .try_send()
        .await;

    // Assert
    assert!(from_config.is_ok(), "{:?}", from_config.err());
    assert_eq!(from_admin.status, 201, "{from_admin:?}");
    assert_eq!(from_admin.json["latency"], json!({"fixed_ms": 6000}));
    let error = from_header.expect_err("no answer within 1 s");
    assert!(error.is_timeout(), "{error:?}");
}

// ------------------------------------------------------------------------------------------
// Rate limit
// ------------------------------------------------------------------------------------------

/// A merchant limited to five requests a second (same key as [`MERCHANT`]).
const LIMITED: &str = "TEST_RATE_LIMITED";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_past_its_rate_limit_gets_request_traffic_exceed_limit_while_others_do_not() {
    // Arrange
    let app = spawn_gateway_with(|s| {
        let mut limited = client(
            LIMITED,
            &[("1", "file:TEST-ONLY-merchant-public.pem")],
            None,
        );
        limited.rate_limit_per_second = Some(5);
        s.clients.push(limited);
    })
    .await;
    let reports = |n: usize, client_id: &str| {
        (0..n)
            .map(|_| {
                app.call(
                    paths::SEND_PAYMENT_RESULT,
                    payment_report(&unique_id("txn-")),
                )
                .sent_by(client_id, Key::Merchant, "1")
            })
            .collect::<Vec<_>>()
    };

    // Act: ten at once from each.
    let started = Instant::now();
    let (limited, unlimited) = tokio::join!(
        app.send_side_by_side(reports(10, LIMITED)),
        app.send_side_by_side(reports(10, MERCHANT))
    );
    let within = started.elapsed();

    // Assert: the burst of five passes, plus one more per 200 ms the batch took.
    let passed = limited
        .iter()
        .filter(|r| r.result_code() == "SUCCESS")
        .count();
    let refilled = (within.as_millis() / 200) as usize;
    assert!(
        (5..=5 + refilled).contains(&passed),
        "{passed} of 10 passed in {within:?}: {limited:#?}"
    );
    for reply in limited.iter().filter(|r| r.result_code() != "SUCCESS") {
        assert_eq!(
            (reply.status, reply.result_status(), reply.result_code()),
            (200, "U", "REQUEST_TRAFFIC_EXCEED_LIMIT"),
            "{reply:?}"
        );
        assert!(
            reply.is_signed_by_gateway(),
            "{:?}",
            reply.gateway_signature_problem()
        );
    }
    assert!(
        unlimited.iter().all(|r| r.result_code() == "SUCCESS"),
        "{unlimited:#?}"
    );
    let journaled = app
        .journal_count(&[
            ("clientId", LIMITED),
            ("resultCode", "REQUEST_TRAFFIC_EXCEED_LIMIT"),
        ])
        .await;
    assert_eq!(journaled, (10 - passed) as u64);
}
