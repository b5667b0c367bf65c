//! Payment notifications from two replicas on one PostgreSQL: no attempt is sent twice, a
//! replica that dies mid-attempt or before recording has its lease taken over, and replicas
//! killed again and again at random moments still deliver every notification.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::TestStore;
use crate::support::bodies::{attempt_numbers, notified_payment};
use crate::support::config::{NotifyConfig, notifying_config};
use crate::support::gateway_process::{Gateway, both};
use crate::support::postgres_server::TableLock;
use crate::support::webhook::{Ack, Arrival, Webhook};

/// Payments in flight in the two-replica notification test.
const NOTIFIED_PAYMENTS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_never_send_the_same_attempt_twice() {
    let Some(store) =
        TestStore::postgres("two_replicas_on_one_postgres_never_send_the_same_attempt_twice").await
    else {
        return;
    };
    let started = Instant::now();
    // The merchant fails the first two requests of every notification: three attempts each.
    let webhook = Webhook::start(|_, earlier| {
        if earlier < 2 {
            Ack::Unknown
        } else {
            Ack::Success
        }
    })
    .await;
    let notify = NotifyConfig {
        time_scale: 36_000.0,
        ..NotifyConfig::default()
    };
    let (first, second) = notifying_replicas(store.dir(), &store.url, &notify);
    let replicas = [first.admin(), second.admin()];

    // Half the payments become final through each replica, all at once.
    let ids: Vec<String> = (0..NOTIFIED_PAYMENTS)
        .map(|i| format!("R-TWO-{i}"))
        .collect();
    let mut seeding = JoinSet::new();
    for (i, id) in ids.iter().enumerate() {
        let (admin, payment) = (replicas[i % 2].clone(), notified_payment(id, &webhook.url));
        seeding.spawn(async move { admin.seed(&payment).await });
    }
    seeding.join_all().await;
    let notifications = replicas[0]
        .wait_until(&ids, "delivered", |_, n| n["status"] == "DELIVERED")
        .await;

    // Every (notification id, attempt) reached the merchant exactly once.
    let arrivals = webhook.arrivals();
    let mut problems = Vec::new();
    for n in &notifications {
        let id = n["id"].as_str().unwrap();
        let received = arrivals.iter().filter(|a| a.notification_id == id).count();
        let numbers: Vec<u64> = attempt_numbers(n);
        if received != 3 || n["attemptsMade"] != 3 || numbers != [1, 2, 3] {
            problems.push(format!(
                "  {} ({id}): the merchant got {received} requests; recorded attemptsMade {} and \
                 attempts {numbers:?}",
                n["paymentRequestId"], n["attemptsMade"]
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "attempts sent twice or lost with two replicas:\n{}",
        problems.join("\n")
    );
    let recorded: u64 = notifications
        .iter()
        .map(|n| n["attemptsMade"].as_u64().unwrap())
        .sum();
    assert_eq!(arrivals.len() as u64, recorded);
    let by_first = arrivals.iter().filter(|a| a.key_version == "1").count();
    let by_second = arrivals.iter().filter(|a| a.key_version == "2").count();
    assert!(
        by_first > 0 && by_second > 0,
        "only one replica sent ({by_first} / {by_second}): the race was never run"
    );
    println!(
        "two replicas: {} attempts for {NOTIFIED_PAYMENTS} notifications, {by_first} by one \
         replica and {by_second} by the other, none twice; {:?}",
        arrivals.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_killed_mid_attempt_has_its_lease_taken_over_and_the_notification_delivered() {
    let Some(store) = TestStore::postgres(
        "a_replica_killed_mid_attempt_has_its_lease_taken_over_and_the_notification_delivered",
    )
    .await
    else {
        return;
    };
    // The merchant holds the first request open; it answers S to the next.
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
    let (first, second) = notifying_replicas(store.dir(), &store.url, &notify);
    let mut replicas = [Some(first), Some(second)];
    let id = "R-TAKEOVER";
    replicas[0]
        .as_ref()
        .unwrap()
        .admin()
        .seed(&notified_payment(id, &webhook.url))
        .await;

    // Whichever replica sent the attempt (its keyVersion says which) dies while it is open.
    let held = webhook.wait_for_arrivals(1).await.remove(0);
    let (dead, alive) = if held.key_version == "1" {
        (0, 1)
    } else {
        (1, 0)
    };
    replicas[dead].take().unwrap().kill_9();
    let survivor = replicas[alive].as_ref().unwrap().admin();
    let notification = survivor
        .wait_until(&[id.to_owned()], "delivered", |_, n| {
            n["status"] == "DELIVERED"
        })
        .await
        .remove(0);

    let arrivals = webhook.arrivals();
    assert_eq!(arrivals.len(), 2, "{arrivals:#?}");
    let taken_over = &arrivals[1];
    assert_ne!(
        taken_over.key_version, held.key_version,
        "the attempt after the kill came from the dead replica"
    );
    assert_eq!(taken_over.notification_id, held.notification_id);
    assert_eq!(taken_over.body, held.body);
    let waited = taken_over.at - held.at;
    let lease = Duration::from_millis(notify.lease_ms);
    assert!(
        waited + Duration::from_millis(50) >= lease
            && waited <= lease + Duration::from_millis(1000),
        "the lease ({lease:?}) was taken over {waited:?} after the dead replica's attempt"
    );
    assert_eq!(notification["attemptsMade"], 1, "{notification:#}");
    assert_eq!(attempt_numbers(&notification), [1]);
    println!("takeover: the other replica made the attempt {waited:?} after the kill -9'd one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_killed_after_sending_and_before_recording_has_the_attempt_sent_again_with_the_same_notification_id()
 {
    let Some(store) = TestStore::postgres("a_replica_killed_after_sending_and_before_recording_has_the_attempt_sent_again_with_the_same_notification_id").await else {
        return;
    };
    let webhook = Webhook::start(|_, _| Ack::Success).await;
    let notify = NotifyConfig {
        timeout_ms: 1000,
        lease_ms: 2000,
        ..NotifyConfig::default()
    };
    let (first, second) = notifying_replicas(store.dir(), &store.url, &notify);
    let mut replicas = [Some(first), Some(second)];
    let id = "R-SENT-NOT-RECORDED";

    // The attempts table is locked (sending never touches it): the merchant gets the attempt
    // and answers S, and the sender cannot record it.
    let mut lock = TableLock::take(&store.url, "notification_attempts").await;
    replicas[0]
        .as_ref()
        .unwrap()
        .admin()
        .seed(&notified_payment(id, &webhook.url))
        .await;
    let sender = webhook.wait_for_arrivals(1).await[0].key_version.clone();
    lock.wait_for_a_waiter().await;

    // It dies there: after sending, before recording.
    let (dead, alive) = if sender == "1" { (0, 1) } else { (1, 0) };
    replicas[dead].take().unwrap().kill_9();
    let killed_at = Instant::now();
    lock.release().await;
    let survivor = replicas[alive].as_ref().unwrap().admin();
    let notification = survivor
        .wait_until(&[id.to_owned()], "delivered", |_, n| {
            n["status"] == "DELIVERED"
        })
        .await
        .remove(0);

    let arrivals = webhook.arrivals();
    assert_eq!(arrivals.len(), 2, "{arrivals:#?}");
    let (sent, again) = (&arrivals[0], &arrivals[1]);
    assert_ne!(again.key_version, sender, "the dead replica sent again");
    assert_eq!(
        again.notification_id, sent.notification_id,
        "the attempt sent again carries the same notification-id, so the merchant can \
         deduplicate"
    );
    assert_eq!(
        again.body, sent.body,
        "the attempt sent again carries the same body"
    );
    // The unrecorded attempt is not in the record; the one that was made again is, as attempt 1.
    assert_eq!(notification["attemptsMade"], 1, "{notification:#}");
    assert_eq!(attempt_numbers(&notification), [1]);
    let waited = again.at - killed_at;
    println!(
        "died between send and record: the other replica sent it again {waited:?} after the \
         kill, with the same notification-id; 2 requests, 1 attempt recorded"
    );
}

/// Kills of a replica in the repeated-kill test.
const KILLS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_killed_one_at_a_time_at_random_moments_deliver_every_notification_never_sending_one_from_both_at_once()
 {
    let Some(store) = TestStore::postgres("two_replicas_killed_one_at_a_time_at_random_moments_deliver_every_notification_never_sending_one_from_both_at_once").await else {
        return;
    };
    let seed = std::env::var("GATEWAY_TEST_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_micros() as u64 | 1);
    println!("repeated kills: GATEWAY_TEST_KILL_SEED={seed}");
    let random = Arc::new(Mutex::new(XorShift(seed)));
    // The merchant fails the first three requests of every notification, and takes 0 to 40 ms
    // over each answer, so a kill often lands while an attempt is open.
    let merchant_random = random.clone();
    let webhook = Webhook::start(move |_, earlier| {
        let wait = Duration::from_millis(merchant_random.lock().unwrap().below(40));
        let ack = if earlier < 3 {
            Ack::Unknown
        } else {
            Ack::Success
        };
        Ack::After(wait, Box::new(ack))
    })
    .await;
    let notify = NotifyConfig {
        time_scale: 36_000.0,
        timeout_ms: 1000,
        // Room for a stalled machine between claiming and recording.
        lease_ms: 3000,
    };
    let start = |instance: usize| {
        Gateway::start(&notifying_config(
            store.dir(),
            &store.url,
            &notify,
            &instance.to_string(),
        ))
    };
    let (first, second) = both(|| start(1), || start(2));
    let admins = Arc::new(Mutex::new([first.admin(), second.admin()]));
    let mut replicas = [(1, first), (2, second)];
    let mut next_instance = 3;

    // Payments become final all along, through whichever replica answers.
    let seeding = {
        let (admins, url) = (admins.clone(), webhook.url.clone());
        tokio::spawn(async move {
            let mut seeded = Vec::new();
            for i in 0..300 {
                let id = format!("R-KILLS-{i}");
                let payment = notified_payment(&id, &url);
                for turn in 0..20 {
                    let admin = admins.lock().unwrap()[(i + turn) % 2].clone();
                    if let Some(status) = admin.try_seed(&payment).await
                        && (status == 201 || status == 409)
                    {
                        seeded.push(id);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            seeded
        })
    };

    // One replica at a time dies at a random moment and a new one takes its place.
    let mut kills: Vec<(usize, Instant)> = Vec::new();
    for _ in 0..KILLS {
        let (wait, victim) = {
            let mut random = random.lock().unwrap();
            (random.below(600), random.below(2) as usize)
        };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (instance, mut gateway) =
            std::mem::replace(&mut replicas[victim], (0, start(next_instance)));
        gateway.kill_9();
        kills.push((instance, Instant::now()));
        replicas[victim].0 = next_instance;
        admins.lock().unwrap()[victim] = replicas[victim].1.admin();
        next_instance += 1;
    }
    let ids = seeding.await.unwrap();
    assert!(
        ids.len() >= 250,
        "only {} payments could be seeded",
        ids.len()
    );
    let survivor = replicas[0].1.admin();
    let notifications = survivor
        .wait_until_within(
            &ids,
            "delivered",
            |_, n| n["status"] == "DELIVERED",
            Duration::from_secs(30),
        )
        .await;

    let killed_at = |instance: usize| {
        kills
            .iter()
            .find(|(i, _)| *i == instance)
            .map(|(_, at)| *at)
    };
    let arrivals = webhook.arrivals();
    let mut problems = Vec::new();
    let mut unrecorded = 0;
    for n in &notifications {
        let id = n["id"].as_str().unwrap();
        let mut mine: Vec<&Arrival> = arrivals
            .iter()
            .filter(|a| a.notification_id == id)
            .collect();
        mine.sort_by_key(|a| a.at);
        let what = n["paymentRequestId"].as_str().unwrap_or(id);
        // Recorded once each, in order, with no gap.
        let numbers = attempt_numbers(n);
        if numbers != (1..=numbers.len() as u64).collect::<Vec<_>>() {
            problems.push(format!("{what}: attempts recorded {numbers:?}"));
        }
        // Never open at the merchant from two senders at once.
        let end = |a: &Arrival| {
            a.answered
                .or_else(|| a.key_version.parse().ok().and_then(killed_at))
        };
        for pair in mine.windows(2) {
            match end(pair[0]) {
                Some(ended) if ended <= pair[1].at => {}
                ended => problems.push(format!(
                    "{what}: a request from replica {} arrived while one from replica {} was \
                     still open (it ended {ended:?})",
                    pair[1].key_version, pair[0].key_version
                )),
            }
        }
        // Every request is a recorded attempt, unless its replica died before recording it.
        let mut matched = vec![false; mine.len()];
        for attempt in n["attempts"].as_array().into_iter().flatten() {
            let started = attempt["startedMs"].as_i64().unwrap_or(0);
            let latency = attempt["latencyMs"].as_i64().unwrap_or(0);
            let found = mine.iter().enumerate().position(|(i, a)| {
                !matched[i] && a.epoch_ms >= started - 20 && a.epoch_ms <= started + latency + 20
            });
            match found {
                Some(i) => matched[i] = true,
                None => problems.push(format!(
                    "{what}: attempt {} is recorded but the merchant got no request then",
                    attempt["number"]
                )),
            }
        }
        for (a, _) in mine.iter().zip(&matched).filter(|(_, m)| !**m) {
            let sender_died_after = a
                .key_version
                .parse()
                .ok()
                .and_then(killed_at)
                .is_some_and(|killed| killed >= a.at);
            if sender_died_after {
                unrecorded += 1;
            } else {
                problems.push(format!(
                    "{what}: a request from replica {}, which did not die, is not recorded",
                    a.key_version
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "with {KILLS} kills (GATEWAY_TEST_KILL_SEED={seed}):\n{}",
        problems.join("\n")
    );
    let recorded: usize = notifications.iter().map(|n| attempt_numbers(n).len()).sum();
    println!(
        "repeated kills: {KILLS} replicas killed, {} notifications delivered, {recorded} \
         attempts recorded, {} requests, {unrecorded} sent by a replica that died before \
         recording them (sent again)",
        notifications.len(),
        arrivals.len()
    );
}

/// A small seeded pseudo-random sequence (xorshift64), so a failing run can be repeated.
struct XorShift(u64);

impl XorShift {
    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Two replicas on one store, started at once, writing keyVersion 1 and 2 in their signatures.
fn notifying_replicas(dir: &Path, store_url: &str, notify: &NotifyConfig) -> (Gateway, Gateway) {
    both(
        || Gateway::start(&notifying_config(dir, store_url, notify, "1")),
        || Gateway::start(&notifying_config(dir, store_url, notify, "2")),
    )
}
