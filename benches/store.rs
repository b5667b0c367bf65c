//! Store throughput: the write path of notifyPushPayment (`record_push_result`) and the read path
//! of inquiryPayment (`payment`) on each backend, driven through the `PaymentStore` trait with
//! concurrent tasks, as the gateway drives it. Prints the median of several rounds and each
//! backend's ratio to the memory store measured in the same run.
//!
//! Run: `cargo bench --bench store` (PostgreSQL too with GATEWAY_TEST_POSTGRES_URL set, e.g.
//! `eval "$(scripts/test-postgres.sh)"`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use alipay_gateway::config::StoreSettings;
use alipay_gateway::domain::message::NotifyPlan;
use alipay_gateway::store::{self, PaymentStatus, PushReport, Store};

/// No client has a notify URL: the write path without a notification.
static NO_URLS: std::sync::LazyLock<std::sync::Arc<std::collections::HashMap<String, String>>> =
    std::sync::LazyLock::new(Default::default);

const CONCURRENCY: usize = 32;
const ROUNDS: usize = 5;
const ROUND_TIME: Duration = Duration::from_secs(2);

fn report(id: usize, round: usize, run: &str) -> PushReport {
    PushReport {
        payment_id: format!("{run}-P{round}-{id}"),
        payment_request_id: Some(format!("{run}-R{round}-{id}")),
        status: PaymentStatus::Success,
        result_code: "SUCCESS".into(),
        result_message: Some("success".into()),
        payment_time: Some("2026-01-01T12:00:00+08:00".into()),
    }
}

/// Runs `CONCURRENCY` tasks for `ROUND_TIME`; answers operations per second.
async fn measure<F, Fut>(op: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0usize;
            while start.elapsed() < ROUND_TIME {
                op(worker * 10_000_000 + done).await;
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn bench(name: &str, url: String) -> Option<(String, f64, f64)> {
    let settings = StoreSettings {
        url,
        max_connections: 8,
        acquire_timeout_ms: 5000,
        sqlite_synchronous: "normal".into(),
        statement_timeout_ms: 5000,
        memory_max_entries: 100_000,
    };
    let store: Arc<dyn Store> = match store::connect(&settings).await {
        Ok(s) => s,
        Err(e) => {
            println!("{name:<10} skipped: {e}");
            return None;
        }
    };
    let run = format!("{}", std::process::id());
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (s, r) = (store.clone(), run.clone());
        writes.push(
            measure(move |i| {
                let (s, rep) = (s.clone(), report(i, round, &r));
                async move {
                    let plan = NotifyPlan {
                        caller: "BENCH",
                        default_urls: &NO_URLS,
                        first_due_ms: 0,
                    };
                    s.record_push_result(rep, &plan).await.expect("write");
                }
            })
            .await,
        );
        let (s, r) = (store.clone(), run.clone());
        reads.push(
            measure(move |i| {
                let (s, id) = (s.clone(), format!("{r}-R{round}-{}", i % 1000));
                async move {
                    s.payment(&id).await.expect("read");
                }
            })
            .await,
        );
    }
    Some((name.to_owned(), median(writes), median(reads)))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
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
        "store benchmark: {CONCURRENCY} concurrent tasks, {ROUNDS} rounds of {} s, 2 runtime workers; medians",
        ROUND_TIME.as_secs()
    );
    let mut results = Vec::new();
    for (name, url) in backends {
        if let Some(r) = bench(name, url).await {
            results.push(r);
        }
    }
    let (base_w, base_r) = (results[0].1, results[0].2);
    println!(
        "{:<10} {:>14} {:>10} {:>14} {:>10}",
        "backend", "push writes/s", "x memory", "inquiry reads/s", "x memory"
    );
    for (name, w, r) in &results {
        println!(
            "{name:<10} {w:>14.0} {:>10.3} {r:>14.0} {:>10.3}",
            w / base_w,
            r / base_r
        );
    }
}
