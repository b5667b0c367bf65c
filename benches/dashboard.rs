//! The dashboard's payments page with 100,000 payments in a SQLite file: how long the page
//! takes to answer, first page and filtered, through the whole router (`oneshot`, no socket),
//! median and worst of several calls each. The figures are in the README's Dashboard section.
//!
//! Run: `cargo bench --bench dashboard` (`GATEWAY_BENCH_PAYMENTS=N` for another count).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alipay_gateway::app::{self, AppState};
use alipay_gateway::config::{DEFAULT_TOML, Settings};
use alipay_gateway::domain::message::NotifyPlan;
use alipay_gateway::store::{self, PaymentStatus, PushReport};
use axum::body::Body;
use axum::http::Request;
use figment::Figment;
use figment::providers::{Format, Toml};
use http_body_util::BodyExt;
use tower::ServiceExt;

const MERCHANTS: usize = 10;
const CALLS: usize = 30;
const TOKEN: &str = "bench-admin-token";

fn report(i: usize) -> PushReport {
    let failed = i.is_multiple_of(10);
    PushReport {
        payment_id: format!("BENCH-P-{i}"),
        payment_request_id: Some(format!("BENCH-R-{i}")),
        status: if failed {
            PaymentStatus::Fail
        } else {
            PaymentStatus::Success
        },
        result_code: if failed { "PROCESS_FAIL" } else { "SUCCESS" }.into(),
        result_message: None,
        payment_time: (!failed).then(|| "2026-01-01T12:00:00+08:00".into()),
    }
}

async fn time_page(router: &axum::Router, path: &str) -> (Duration, Duration, usize) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..CALLS {
        let request = Request::get(path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        let started = Instant::now();
        let answer = router.clone().oneshot(request).await.unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        size = answer.into_body().collect().await.unwrap().to_bytes().len();
        times.push(started.elapsed());
    }
    times.sort();
    (times[CALLS / 2], times[CALLS - 1], size)
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("GATEWAY_BENCH_PAYMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let keys = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    let mut settings: Settings = Figment::from(Toml::string(DEFAULT_TOML)).extract().unwrap();
    settings.signing.private_key = "file:TEST-ONLY-gateway-private.pem".into();
    settings.admin.token = TOKEN.into();
    settings.store.url = format!("sqlite://{}/bench.db", dir.path().display());
    let config = settings.validate(&keys).unwrap();
    let payments = store::connect(&config.settings.store).await.unwrap();

    let started = Instant::now();
    let urls: Arc<HashMap<String, String>> = Arc::default();
    let mut tasks = Vec::new();
    for worker in 0..32 {
        let payments = payments.clone();
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            for i in (worker..count).step_by(32) {
                let caller = format!("MERCHANT_{}", i % MERCHANTS);
                let plan = NotifyPlan {
                    caller: &caller,
                    default_urls: &urls,
                    first_due_ms: 0,
                };
                payments.record_push_result(report(i), &plan).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    eprintln!(
        "seeded {count} payments in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let router = app::build_router(AppState::new(config, payments));
    let middle = count / 2;
    println!("| page ({count} payments, SQLite) | median | worst of {CALLS} | bytes |");
    println!("|---|---|---|---|");
    for path in [
        "/dashboard/payments".to_owned(),
        "/dashboard/payments?status=FAIL".to_owned(),
        "/dashboard/payments?client=MERCHANT_3".to_owned(),
        "/dashboard/payments?status=FAIL&client=MERCHANT_7".to_owned(),
        format!("/dashboard/payments?q=BENCH-P-{middle}"),
        "/dashboard/payments?page=100".to_owned(),
        format!("/dashboard/payments/BENCH-R-{middle}"),
    ] {
        let (median, worst, size) = time_page(&router, &path).await;
        println!(
            "| `{path}` | {:.2} ms | {:.2} ms | {size} |",
            median.as_secs_f64() * 1000.0,
            worst.as_secs_f64() * 1000.0
        );
    }
}
