//! Notification throughput: payment result notifications delivered per second to a local
//! merchant receiver that answers S at once, per store backend, through the real sender (each
//! attempt signed with RSA-2048) and the real queue. Prints the median of several rounds and
//! each backend's ratio to the memory store from the same run.
//!
//! Run: `cargo bench --bench notify` (PostgreSQL too with GATEWAY_TEST_POSTGRES_URL set).

use std::path::Path;
use std::time::Instant;

use alipay_gateway::app::{AppState, notification_worker};
use alipay_gateway::config::{DEFAULT_TOML, Settings};
use alipay_gateway::protocol::Amount;
use alipay_gateway::store::{self, Payment, PaymentStatus};
use axum::Router;
use axum::routing::post;
use chrono::Utc;
use figment::Figment;
use figment::providers::{Format, Toml};

const NOTIFICATIONS: usize = 2000;
const ROUNDS: usize = 3;

async fn receiver() -> String {
    let app = Router::new().route(
        "/notify",
        post(|| async {
            r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}"#
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}/notify")
}

fn payment(run: &str, i: usize, url: &str) -> Payment {
    let now = Utc::now();
    Payment {
        payment_request_id: Some(format!("{run}-R{i}")),
        payment_id: Some(format!("{run}-P{i}")),
        payment_time: Some("2026-01-01T12:00:00+08:00".into()),
        payment_amount: Some(Amount::new("USD", "100")),
        client_id: Some("BENCH_MERCHANT".into()),
        notify_url: Some(url.to_owned()),
        ..Payment::new(PaymentStatus::Success, "SUCCESS", now)
    }
}

async fn bench(name: &str, url: String, receiver: &str) -> Option<f64> {
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let mut settings: Settings = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
    settings.signing.private_key = "file:TEST-ONLY-gateway-private.pem".into();
    settings.store.url = url;
    settings.notify.concurrency = 64;
    let config = settings.validate(&keys).unwrap();
    let store = match store::connect(&config.settings.store).await {
        Ok(s) => s,
        Err(e) => {
            println!("{name:<10} skipped: {e}");
            return None;
        }
    };
    let state = AppState::new(config, store.clone());
    let worker = notification_worker(&state).unwrap();
    let mut rates = Vec::new();
    for round in 0..ROUNDS {
        let run = format!("{}-{round}", std::process::id());
        for i in 0..NOTIFICATIONS {
            store
                .seed_payment(
                    payment(&run, i, receiver),
                    &state.notify_plan("BENCH_MERCHANT", &state.clients.notify_urls()),
                )
                .await
                .unwrap();
        }
        let start = Instant::now();
        let mut delivered = 0;
        while delivered < NOTIFICATIONS {
            delivered += worker.deliver_due().await.unwrap().delivered;
        }
        rates.push(NOTIFICATIONS as f64 / start.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Some(rates[rates.len() / 2])
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let receiver = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![
        ("memory", "memory://".to_owned()),
        (
            "sqlite",
            format!("sqlite://{}/bench.db", dir.path().display()),
        ),
    ];
    match std::env::var("GATEWAY_TEST_POSTGRES_URL") {
        Ok(url) => backends.push(("postgres", url)),
        Err(_) => println!("postgres   skipped: set GATEWAY_TEST_POSTGRES_URL"),
    }
    println!(
        "notification benchmark: {NOTIFICATIONS} notifications a round, {ROUNDS} rounds, 64 attempts in flight, \
         2 runtime workers shared with the receiver; medians"
    );
    let mut results = Vec::new();
    for (name, url) in backends {
        if let Some(rate) = bench(name, url, &receiver).await {
            results.push((name, rate));
        }
    }
    let base = results[0].1;
    println!("{:<10} {:>16} {:>10}", "backend", "delivered/s", "x memory");
    for (name, rate) in &results {
        println!("{name:<10} {rate:>16.0} {:>10.3}", rate / base);
    }
}
