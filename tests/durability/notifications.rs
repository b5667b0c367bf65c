//! Payment notifications on one gateway across restarts: a schedule resumes after `kill -9`
//! with no attempt lost or repeated, SIGTERM gives an open attempt back, a dead process's lease
//! is waited out without spinning, and an attempt that cannot be recorded is retried.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::TestStore;
use crate::support::bodies::{attempt_numbers, notified_payment};
use crate::support::config::{NotifyConfig, notifying_config};
use crate::support::gateway_process::Gateway;
use crate::support::postgres_server::TableLock;
use crate::support::webhook::{Ack, Webhook};

on_sqlite_and_postgres!(
    pending_notifications_resume_after_kill_9:
    pending_notifications_resume_after_kill_9_with_no_attempt_lost_or_skipped_on_sqlite,
    pending_notifications_resume_after_kill_9_with_no_attempt_lost_or_skipped_on_postgres
);

/// Seven notifications on a real-time schedule driven by the admin clock: the merchant accepts
/// payment i's on attempt i + 3 (the last never). After attempt 3 the gateway is killed with
/// SIGKILL between attempts and restarted on the same store; the clock is driven through the
/// rest of the day. Every notification continues where it stood: attempts 1..n with no gap, the
/// merchant's requests per notification id equal to the recorded attempts, none after delivery.
async fn pending_notifications_resume_after_kill_9(store: &TestStore) {
    let (dir, store_url) = (store.dir(), store.url.as_str());
    let started = Instant::now();
    let ids: Vec<String> = (0..7).map(|i| format!("R-RESUME-{i}")).collect();
    // Payment i is acknowledged on attempt i + 3; the last one never.
    let accepted_on = |i: usize| (i < 6).then_some(i + 3);
    let accepting: std::collections::HashMap<String, Option<usize>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), accepted_on(i)))
        .collect();
    let webhook = Webhook::start(move |arrival, earlier| {
        if accepting[&arrival.payment_request_id] == Some(earlier + 1) {
            Ack::Success
        } else {
            Ack::Unknown
        }
    })
    .await;
    let expected_after = |step: usize| {
        move |i: usize, n: &Value| {
            let made = accepted_on(i).map_or(step, |k| k.min(step));
            n["attemptsMade"] == made as u64 && attempt_numbers(n).len() == made
        }
    };
    let config = notifying_config(dir, store_url, &NotifyConfig::default(), "1");
    let mut gateway = Gateway::start(&config);
    let admin = gateway.admin();
    for id in &ids {
        admin.seed(&notified_payment(id, &webhook.url)).await;
    }
    admin
        .wait_until(&ids, "attempt 1 made", expected_after(1))
        .await;
    admin.advance_clock("2m").await;
    admin
        .wait_until(&ids, "attempt 2 made", expected_after(2))
        .await;
    admin.advance_clock("10m").await;
    let before = admin
        .wait_until(&ids, "attempt 3 made", expected_after(3))
        .await;

    gateway.kill_9();
    let gateway = Gateway::start(&config);
    let admin = gateway.admin();
    let after = admin.wait_until(&ids, "read back", |_, _| true).await;
    for (b, a) in before.iter().zip(&after) {
        for field in ["id", "status", "attemptsMade", "nextDueMs", "body"] {
            assert_eq!(
                a[field], b[field],
                "{field} changed across kill -9: {b:#} -> {a:#}"
            );
        }
    }
    for (step, by) in [(4, "10m"), (5, "1h"), (6, "2h"), (7, "6h"), (8, "15h")] {
        admin.advance_clock(by).await;
        admin
            .wait_until(&ids, &format!("attempt {step} made"), expected_after(step))
            .await;
    }

    let finished = admin.wait_until(&ids, "finished", |_, _| true).await;
    let arrivals = webhook.arrivals();
    for (i, n) in finished.iter().enumerate() {
        let made = accepted_on(i).unwrap_or(8);
        let status = if accepted_on(i).is_some() {
            "DELIVERED"
        } else {
            "EXHAUSTED"
        };
        assert_eq!(n["status"], status, "{n:#}");
        assert_eq!(
            attempt_numbers(n),
            (1..=made as u64).collect::<Vec<_>>(),
            "attempt numbers lost or skipped: {n:#}"
        );
        let id = n["id"].as_str().unwrap();
        let received = arrivals.iter().filter(|a| a.notification_id == id).count();
        assert_eq!(
            received, made,
            "{}: the merchant got {received} requests for {made} recorded attempts",
            ids[i]
        );
    }
    println!(
        "{store_url}: kill -9 after attempt 3 of 7 notifications; all resumed, {} attempts, none \
         lost or repeated; {:?}",
        arrivals.len(),
        started.elapsed()
    );
}

on_sqlite_and_postgres!(
    sigterm_during_a_schedule:
    sigterm_during_a_schedule_exits_promptly_and_the_restart_continues_it_on_sqlite,
    sigterm_during_a_schedule_exits_promptly_and_the_restart_continues_it_on_postgres
);

/// SIGTERM while the merchant holds an attempt open: the process finishes or gives back that
/// attempt and exits within the attempt timeout; restarted on the same store, the gateway makes
/// the next attempt at once, not a lease (30 s) later, and the schedule goes on to delivery.
async fn sigterm_during_a_schedule(store: &TestStore) {
    let (dir, store_url) = (store.dir(), store.url.as_str());
    let webhook = Webhook::start(|_, earlier| {
        if earlier == 0 {
            Ack::Hold
        } else {
            Ack::Success
        }
    })
    .await;
    let notify = NotifyConfig {
        timeout_ms: 1000,
        ..NotifyConfig::default()
    };
    let config = notifying_config(dir, store_url, &notify, "1");
    let mut gateway = Gateway::start(&config);
    let payment = ["R-SIGTERM".to_owned()];
    gateway
        .admin()
        .seed(&notified_payment(&payment[0], &webhook.url))
        .await;
    webhook.wait_for_arrivals(1).await;

    let (took, status) = gateway.terminate();
    assert!(
        status.success(),
        "the gateway exited with {status} on SIGTERM"
    );
    assert!(
        took < Duration::from_millis(notify.timeout_ms) + Duration::from_secs(2),
        "the gateway took {took:?} to stop on SIGTERM with an attempt in flight"
    );
    let restarted = Instant::now();
    let gateway = Gateway::start(&config);
    let admin = gateway.admin();
    let stopped = admin
        .wait_until(&payment, "read back", |_, _| true)
        .await
        .remove(0);
    assert_eq!(stopped["status"], "PENDING", "{stopped:#}");
    admin.advance_clock("2m").await;
    let next = webhook.wait_for_arrivals(2).await.remove(1);
    let delivered = admin
        .wait_until(&payment, "delivered", |_, n| n["status"] == "DELIVERED")
        .await
        .remove(0);

    let waited = next.at - restarted;
    assert!(
        waited < Duration::from_millis(notify.lease_ms / 3),
        "the next attempt came {waited:?} after the restart: the lease was not given back"
    );
    let made = delivered["attemptsMade"].as_u64().unwrap();
    assert_eq!(attempt_numbers(&delivered), (1..=made).collect::<Vec<_>>());
    // The held attempt was either finished (recorded as a timeout) or given back (made again).
    let arrivals = webhook.arrivals().len() as u64;
    assert!(
        arrivals == made || (arrivals == made + 1 && stopped["attemptsMade"] == 0),
        "the merchant got {arrivals} requests for {made} recorded attempts: {delivered:#}"
    );
    println!(
        "{store_url}: SIGTERM with an attempt in flight: stopped in {took:?}; after the restart \
         the next attempt came in {waited:?}; {arrivals} requests, {made} attempts"
    );
}

on_sqlite_and_postgres!(
    a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease:
    a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease_without_spinning_on_sqlite,
    a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease_without_spinning_on_postgres
);

/// kill -9 while the merchant holds attempt 1 open: the attempt died unrecorded, under a lease
/// of the dead process. The restarted gateway makes it again once that lease has run out, not
/// before (that could send it twice) and without busy-polling the store meanwhile.
async fn a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease(store: &TestStore) {
    let (dir, store_url) = (store.dir(), store.url.as_str());
    let webhook = Webhook::start(|_, earlier| {
        if earlier == 0 {
            Ack::Hold
        } else {
            Ack::Success
        }
    })
    .await;
    let notify = NotifyConfig {
        timeout_ms: 1000,
        lease_ms: 2000,
        ..NotifyConfig::default()
    };
    let config = notifying_config(dir, store_url, &notify, "1");
    let mut gateway = Gateway::start(&config);
    let id = "R-DEAD-LEASE".to_owned();
    gateway
        .admin()
        .seed(&notified_payment(&id, &webhook.url))
        .await;
    let held = webhook.wait_for_arrivals(1).await.remove(0);
    gateway.kill_9();

    let gateway = Gateway::start(&config);
    let (cpu_before, waiting) = (gateway.cpu_time(), Instant::now());
    let again = webhook.wait_for_arrivals(2).await.remove(1);
    let (cpu, waited) = (gateway.cpu_time() - cpu_before, waiting.elapsed());
    let delivered = gateway
        .admin()
        .wait_until(&[id], "delivered", |_, n| n["status"] == "DELIVERED")
        .await
        .remove(0);

    let lease = Duration::from_millis(notify.lease_ms);
    let after = again.at - held.at;
    assert!(
        after + Duration::from_millis(50) >= lease,
        "attempt 1 was made again {after:?} after the dead process made it, inside its {lease:?} lease"
    );
    assert_eq!(attempt_numbers(&delivered), [1], "{delivered:#}");
    assert_eq!(again.notification_id, held.notification_id);
    assert!(
        cpu < waited / 10,
        "waiting {waited:?} for the dead process's lease the gateway used {cpu:?} of CPU: it \
         polls the store in a loop (the lease-held notification counts as due)"
    );
    println!("{store_url}: dead lease waited out in {waited:?} using {cpu:?} of CPU");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recording_that_fails_is_retried_while_the_lease_holds_and_a_shutdown_stops_the_retries()
{
    let Some(store) = TestStore::postgres(
        "a_recording_that_fails_is_retried_while_the_lease_holds_and_a_shutdown_stops_the_retries",
    )
    .await
    else {
        return;
    };
    let webhook = Webhook::start(|_, _| Ack::Success).await;
    let notify = NotifyConfig {
        lease_ms: 20_000,
        ..NotifyConfig::default()
    };
    let config = notifying_config(store.dir(), &store.url, &notify, "1");
    let timeouts = [("GATEWAY_STORE__STATEMENT_TIMEOUT_MS", "300")];
    let mut gateway = Gateway::start_with(&config, &timeouts);
    let admin = gateway.admin();
    const RETRYING: &str =
        "could not record a notification attempt; retrying while its lease holds";

    // Recording fails while the attempts table is locked; once it is free, the retry records
    // the attempt and the merchant is not asked again.
    let lock = TableLock::take(&store.url, "notification_attempts").await;
    admin
        .seed(&notified_payment("R-RETRIED", &webhook.url))
        .await;
    gateway.wait_for_log(RETRYING, 2).await;
    lock.release().await;
    let delivered = admin
        .wait_until(&["R-RETRIED".to_owned()], "delivered", |_, n| {
            n["status"] == "DELIVERED"
        })
        .await
        .remove(0);
    assert_eq!(attempt_numbers(&delivered), [1], "{delivered:#}");
    assert_eq!(webhook.arrivals().len(), 1, "the merchant was asked again");

    // SIGTERM while recording is being retried: the sender gives up at once rather than for
    // the rest of its 20 s lease, and gives the lease back, so the restart sends it again.
    let lock = TableLock::take(&store.url, "notification_attempts").await;
    admin
        .seed(&notified_payment("R-STOPPED", &webhook.url))
        .await;
    gateway.wait_for_log(RETRYING, 4).await;
    let (took, status) = gateway.terminate();
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM during recording retries took {took:?}"
    );
    lock.release().await;
    let restarted = Gateway::start_with(&config, &timeouts);
    let again = restarted
        .admin()
        .wait_until(&["R-STOPPED".to_owned()], "delivered", |_, n| {
            n["status"] == "DELIVERED"
        })
        .await
        .remove(0);
    assert_eq!(attempt_numbers(&again), [1], "{again:#}");
    let sent: Vec<_> = webhook
        .arrivals()
        .into_iter()
        .filter(|a| a.payment_request_id == "R-STOPPED")
        .collect();
    assert_eq!(
        sent.len(),
        2,
        "the unrecorded attempt is made again after the restart (at least once)"
    );
    assert_eq!(sent[0].notification_id, sent[1].notification_id);
    println!("recording retried until the lock went; SIGTERM during the retries took {took:?}");
}
