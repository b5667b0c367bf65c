//! A store that goes away or stalls: requests fail fast with UNKNOWN_EXCEPTION, /readyz says
//! so without the store's error, nothing acknowledged is lost, and the gateway recovers by
//! itself when the store is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::task::JoinSet;

use crate::TestStore;
use crate::support::bodies::{paths, success_report};
use crate::support::caller::Reply;
use crate::support::config::gateway_config;
use crate::support::gateway_process::Gateway;
use crate::support::postgres_server::TableLock;
use crate::support::signer::sign;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_fail_fast_with_unknown_exception_while_postgres_is_down_and_recover_when_it_returns()
 {
    let Some(store) = TestStore::postgres("requests_fail_fast_with_unknown_exception_while_postgres_is_down_and_recover_when_it_returns").await else {
        return;
    };
    let gateway = Gateway::start(&gateway_config(store.dir(), &store.url, 1000));
    let caller = gateway.caller();
    let reply = caller.push(&success_report("P-DOWN", "R-DOWN")).await;
    assert!(reply.is("S", "SUCCESS"), "before the outage: {reply:?}");

    let mut server = store.stop_server();
    let started = Instant::now();
    let push = caller.push(&success_report("P-DURING", "R-DURING")).await;
    let push_took = started.elapsed();
    let started = Instant::now();
    let inquiry = caller.inquire("R-DOWN").await;
    let inquiry_took = started.elapsed();
    assert!(
        push.is("U", "UNKNOWN_EXCEPTION"),
        "a push while PostgreSQL is down: {push:?}"
    );
    assert!(
        inquiry.is("U", "UNKNOWN_EXCEPTION"),
        "an inquiry while PostgreSQL is down: {inquiry:?}"
    );
    assert!(
        push_took < Duration::from_secs(5),
        "the push took {push_took:?} to fail"
    );
    assert!(
        inquiry_took < Duration::from_secs(5),
        "the inquiry took {inquiry_took:?} to fail"
    );
    let (ready, said) = caller.readiness().await;
    assert_eq!(ready, 503, "/readyz while PostgreSQL is down: {said}");
    assert_eq!(
        serde_json::from_str::<Value>(&said).ok(),
        Some(serde_json::json!({"status": "unavailable", "store": "postgres"})),
        "/readyz says what is down and nothing of the store's error (hosts, users): {said}"
    );

    server.start();
    let started = Instant::now();
    loop {
        let answer = caller.inquire("R-DOWN").await;
        if answer.paid_as("P-DOWN") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "PostgreSQL is back, yet after {:?} the gateway still answers {answer:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (ready, said) = caller.readiness().await;
    assert_eq!(ready, 200, "/readyz once PostgreSQL is back: {said}");
    println!(
        "postgres down: push failed in {push_took:?}, inquiry in {inquiry_took:?}; back in {:?}",
        started.elapsed()
    );
    let reply = caller.push(&success_report("P-AFTER", "R-AFTER")).await;
    assert!(
        reply.is("S", "SUCCESS"),
        "a push after the outage: {reply:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killed_under_load_loses_no_acknowledged_push_and_the_gateway_recovers_by_itself()
{
    let Some(store) = TestStore::postgres(
        "postgres_killed_under_load_loses_no_acknowledged_push_and_the_gateway_recovers_by_itself",
    )
    .await
    else {
        return;
    };
    let gateway = Gateway::start(&gateway_config(store.dir(), &store.url, 1000));
    let caller = gateway.caller();

    // Four callers push new payments one after another until told to stop; every answer is
    // kept with how long it took.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(Mutex::new(Vec::<(String, Reply, Duration)>::new()));
    let mut load = JoinSet::new();
    for lane in 0..4 {
        let (caller, stop, answered) = (caller.clone(), stop.clone(), answered.clone());
        load.spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = format!("LOAD-{lane}-{i}");
                i += 1;
                let request = sign(
                    paths::NOTIFY_PUSH_PAYMENT,
                    &success_report(&format!("P-{id}"), &id),
                );
                let started = Instant::now();
                let reply = caller.send(&request).await;
                answered
                    .lock()
                    .unwrap()
                    .push((id, reply, started.elapsed()));
            }
        });
    }
    let count = |status: &str| {
        answered
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, r, _)| r.body["result"]["resultStatus"] == status)
            .count()
    };
    let wait_for = |status: &'static str, n: usize| {
        let deadline = Instant::now() + Duration::from_secs(30);
        async move {
            while count(status) < n {
                assert!(Instant::now() < deadline, "fewer than {n} answers {status}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };

    wait_for("S", 50).await;
    let mut server = store.stop_server();
    wait_for("U", 20).await;
    server.start();
    let acknowledged_before = count("S");
    wait_for("S", acknowledged_before + 50).await;
    stop.store(true, Ordering::Relaxed);
    load.join_all().await;

    let answered = answered.lock().unwrap().clone();
    let mut wrong = Vec::new();
    for (id, reply, took) in &answered {
        let expected = reply.is("S", "SUCCESS") || reply.is("U", "UNKNOWN_EXCEPTION");
        if !expected || *took > Duration::from_secs(5) {
            wrong.push(format!("{id}: {} after {took:?}", reply.summary()));
        }
    }
    assert!(
        wrong.is_empty(),
        "answers other than S, or U at once:\n{}",
        wrong.join("\n")
    );
    let acknowledged: Vec<&String> = answered
        .iter()
        .filter(|(_, r, _)| r.is("S", "SUCCESS"))
        .map(|(id, _, _)| id)
        .collect();
    let mut lost = Vec::new();
    for id in &acknowledged {
        if !caller.inquire(id).await.paid_as(&format!("P-{id}")) {
            lost.push(id.as_str());
        }
    }
    assert!(lost.is_empty(), "acknowledged, then lost: {lost:?}");
    let (ready, said) = caller.readiness().await;
    assert_eq!(ready, 200, "/readyz after the restart: {said}");
    println!(
        "postgres killed under load: {} pushes answered, {} acknowledged (all kept), {} \
         UNKNOWN_EXCEPTION while it was down, the slowest answer {:?}",
        answered.len(),
        acknowledged.len(),
        answered.len() - acknowledged.len(),
        answered
            .iter()
            .map(|(_, _, t)| *t)
            .max()
            .unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_slower_than_its_statement_timeout_answers_unknown_exception_within_it_and_recovers_by_itself()
 {
    let Some(store) = TestStore::postgres("a_store_slower_than_its_statement_timeout_answers_unknown_exception_within_it_and_recovers_by_itself").await else {
        return;
    };
    let gateway = Gateway::start_with(
        &gateway_config(store.dir(), &store.url, 1000),
        &[("GATEWAY_STORE__STATEMENT_TIMEOUT_MS", "500")],
    );
    let caller = gateway.caller();
    let reply = caller.push(&success_report("P-SLOW", "R-SLOW")).await;
    assert!(reply.is("S", "SUCCESS"), "before: {reply:?}");

    // Another session holds the payments table (a migration, a VACUUM FULL, a stuck replica).
    let lock = TableLock::take(&store.url, "payments").await;
    let started = Instant::now();
    let push = caller.push(&success_report("P-SLOW-2", "R-SLOW-2")).await;
    let push_took = started.elapsed();
    let started = Instant::now();
    let inquiry = caller.inquire("R-SLOW").await;
    let inquiry_took = started.elapsed();
    for (what, reply, took) in [
        ("push", &push, push_took),
        ("inquiry", &inquiry, inquiry_took),
    ] {
        assert!(
            reply.is("U", "UNKNOWN_EXCEPTION"),
            "a {what} while the table is locked: {}",
            reply.summary()
        );
        assert!(
            took >= Duration::from_millis(400) && took < Duration::from_secs(3),
            "the {what} answered after {took:?}; the statement timeout is 500 ms"
        );
    }
    let (ready, said) = caller.readiness().await;
    assert_eq!(
        ready, 503,
        "/readyz while the store cannot answer in time: {said}"
    );

    lock.release().await;
    let reply = caller.push(&success_report("P-SLOW-2", "R-SLOW-2")).await;
    assert!(
        reply.is("S", "SUCCESS"),
        "the same push once the lock is gone: {}",
        reply.summary()
    );
    assert!(caller.inquire("R-SLOW-2").await.paid_as("P-SLOW-2"));
    let (ready, said) = caller.readiness().await;
    assert_eq!(ready, 200, "/readyz once the store answers: {said}");
    println!("store slow past 500 ms: push failed in {push_took:?}, inquiry in {inquiry_took:?}");
}
