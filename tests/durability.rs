//! End-to-end durability of the real binary: what the gateway acknowledged survives `kill -9`;
//! two replicas on one PostgreSQL decide every race the same way; a database that goes away
//! makes requests fail fast with UNKNOWN_EXCEPTION and the gateway recovers on its own when it
//! returns; a database that is down at start-up is a clear error that keeps its password secret.
//!
//! PostgreSQL tests run when GATEWAY_TEST_POSTGRES_URL is set (`eval "$(scripts/test-postgres.sh)"`);
//! each makes its own database and drops it, and they run one at a time because one of them
//! stops the shared server.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

#[path = "support/skip.rs"]
mod skip;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::task::JoinSet;

/// The one client of every test gateway, key `TEST-ONLY-merchant`, keyVersion 1.
const MERCHANT: &str = "TEST_MERCHANT";

/// Distinct push results fired at a gateway that is killed once half are answered. Each request
/// costs an RSA signature: cheap with the `rsa` / `num-bigint-dig` opt-level override in
/// Cargo.toml, ~60 ms each without it.
const PUSHES: usize = 200;

/// Racing pairs per kind of report in the two-replica test.
const PAIRS: usize = 100;

/// How long a gateway may take to start, or to give up starting.
const START_UP: Duration = Duration::from_secs(20);

mod paths {
    pub const NOTIFY_PUSH_PAYMENT: &str = "/aps/api/v1/payments/notifyPushPayment";
    pub const INQUIRY_PAYMENT: &str = "/aps/api/v1/payments/inquiryPayment";
    pub const SEND_PAYMENT_RESULT: &str = "/ams/api/v1/risk/payments/sendPaymentResult";
}

// ------------------------------------------------------------------------------------------
// The tests
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_acknowledged_push_result_survives_kill_9_and_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}/gw.db", dir.path().display());
    acknowledged_push_results_survive_kill_9_and_a_restart(dir.path(), &store_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_acknowledged_push_result_survives_kill_9_and_a_restart_on_postgres() {
    let test = "an_acknowledged_push_result_survives_kill_9_and_a_restart_on_postgres";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    acknowledged_push_results_survive_kill_9_and_a_restart(dir.path(), &database.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_agree_on_identical_and_contradicting_reports() {
    let test = "two_replicas_on_one_postgres_agree_on_identical_and_contradicting_reports";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    let config = gateway_config(dir.path(), &database.url, 5000);
    let started = Instant::now();
    // Both replicas boot at once, as in a deployment: they race on the migrations too.
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| Gateway::start(&config));
        let b = s.spawn(|| Gateway::start(&config));
        (a.join().unwrap(), b.join().unwrap())
    });
    let replicas = [first.caller(), second.caller()];

    // Identical push reports (the same bytes) to both replicas at the same moment: both S.
    let same: Vec<(String, String)> = ids("SAME", PAIRS);
    let reports: Vec<Value> = same
        .iter()
        .map(|(pid, rid)| success_report(pid, rid))
        .collect();
    let answers = race(
        &replicas,
        to_both(sign_all(paths::NOTIFY_PUSH_PAYMENT, &reports)),
    )
    .await;
    let not_both_s = disagreements(same.iter().map(|(pid, _)| pid), &answers);
    assert!(
        not_both_s.is_empty(),
        "{} of {PAIRS} identical push reports sent to both replicas at once were not both S:\n{}",
        not_both_s.len(),
        not_both_s.join("\n")
    );

    // Success to one replica, failure to the other, at the same moment (which replica gets
    // which alternates): exactly one wins, and either replica answers the winner's result.
    let different: Vec<(String, String)> = ids("DIFF", PAIRS);
    let reports: Vec<Value> = different
        .iter()
        .enumerate()
        .flat_map(|(i, (pid, rid))| {
            let (s, f) = (success_report(pid, rid), failure_report(pid, rid));
            if i % 2 == 0 { [s, f] } else { [f, s] }
        })
        .collect();
    let answers = race(
        &replicas,
        paired(sign_all(paths::NOTIFY_PUSH_PAYMENT, &reports)),
    )
    .await;
    let mut success_won = Vec::new();
    for (i, ((pid, _), (a, b))) in different.iter().zip(&answers).enumerate() {
        let (success, failure) = if i % 2 == 0 { (a, b) } else { (b, a) };
        success_won.push(
            match (success.is("S", "SUCCESS"), failure.is("S", "SUCCESS")) {
                (true, false) if failure.is("F", "PROCESS_FAIL") => true,
                (false, true) if success.is("F", "PROCESS_FAIL") => false,
                _ => panic!(
                    "contradicting reports for {pid}: want one S and one F/PROCESS_FAIL, got \
                 success report -> {success:?}, failure report -> {failure:?}"
                ),
            },
        );
    }
    let inquiries: Vec<Value> = different.iter().map(|(_, rid)| inquiry(rid)).collect();
    let answers = race(
        &replicas,
        to_both(sign_all(paths::INQUIRY_PAYMENT, &inquiries)),
    )
    .await;
    for (((pid, _), success_won), (a, b)) in different.iter().zip(&success_won).zip(&answers) {
        for answer in [a, b] {
            if *success_won {
                assert!(
                    answer.paid_as(pid),
                    "{pid}: the success report won, yet inquiry answers {answer:?}"
                );
            } else {
                assert!(
                    answer.is("S", "SUCCESS") && answer.payment_result() == ("F", "RISK_REJECT"),
                    "{pid}: the failure report won, yet inquiry answers {answer:?}"
                );
            }
        }
    }
    let successes = success_won.iter().filter(|won| **won).count();
    println!("two replicas: the success report won {successes} of {PAIRS} push races");

    // sendPaymentResult, the same way: identical reports both S.
    let same: Vec<String> = (0..PAIRS).map(|i| format!("T-SAME-{i}")).collect();
    let reports: Vec<Value> = same.iter().map(|tid| risk_report(tid, "SUCCESS")).collect();
    let answers = race(
        &replicas,
        to_both(sign_all(paths::SEND_PAYMENT_RESULT, &reports)),
    )
    .await;
    let not_both_s = disagreements(same.iter(), &answers);
    assert!(
        not_both_s.is_empty(),
        "{} of {PAIRS} identical risk reports sent to both replicas at once were not both S:\n{}",
        not_both_s.len(),
        not_both_s.join("\n")
    );

    // SUCCESS to the first replica, FAIL to the second: one S, one REPEAT_REQ_INCONSISTENT, and
    // the winning report is the one both replicas keep.
    let different: Vec<String> = (0..PAIRS).map(|i| format!("T-DIFF-{i}")).collect();
    let reports: Vec<Value> = different
        .iter()
        .flat_map(|tid| [risk_report(tid, "SUCCESS"), risk_report(tid, "FAIL")])
        .collect();
    let answers = race(
        &replicas,
        paired(sign_all(paths::SEND_PAYMENT_RESULT, &reports)),
    )
    .await;
    let mut winners = Vec::new();
    for (tid, (a, b)) in different.iter().zip(&answers) {
        let winner = match (a.is("S", "SUCCESS"), b.is("S", "SUCCESS")) {
            (true, false) if b.is("F", "REPEAT_REQ_INCONSISTENT") => "SUCCESS",
            (false, true) if a.is("F", "REPEAT_REQ_INCONSISTENT") => "FAIL",
            _ => panic!(
                "contradicting risk reports for {tid}: want one S and one \
                 F/REPEAT_REQ_INCONSISTENT, got SUCCESS -> {a:?}, FAIL -> {b:?}"
            ),
        };
        winners.push(risk_report(tid, winner));
    }
    let answers = race(
        &replicas,
        to_both(sign_all(paths::SEND_PAYMENT_RESULT, &winners)),
    )
    .await;
    for (tid, (a, b)) in different.iter().zip(&answers) {
        assert!(
            a.is("S", "SUCCESS") && b.is("S", "SUCCESS"),
            "{tid}: the winning report sent again: {a:?} / {b:?}"
        );
    }
    println!("two replicas: {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_fail_fast_with_unknown_exception_while_postgres_is_down_and_recover_when_it_returns()
 {
    let test = "requests_fail_fast_with_unknown_exception_while_postgres_is_down_and_recover_when_it_returns";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(&gateway_config(dir.path(), &database.url, 1000));
    let caller = gateway.caller();
    let reply = caller.push(&success_report("P-DOWN", "R-DOWN")).await;
    assert!(reply.is("S", "SUCCESS"), "before the outage: {reply:?}");

    let mut server = postgres.stop_server();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_private_key_or_admin_token_reaches_the_logs_even_at_trace_level() {
    // Arrange: everything logged, a gateway that signs, verifies, notifies and serves admin.
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}/gateway.db", dir.path().display());
    let config = notifying_config(dir.path(), &store, &NotifyConfig::default(), "1");
    let gateway = Gateway::start_with(&config, &[("GATEWAY_LOG", "trace")]);
    let caller = gateway.caller();

    // Act: a valid push, a forged one, an inquiry, admin calls, a notification attempt.
    assert!(
        caller
            .push(&success_report("P-LOGS", "R-LOGS"))
            .await
            .is("S", "SUCCESS")
    );
    let mut forged = sign(
        paths::NOTIFY_PUSH_PAYMENT,
        &success_report("P-LOG2", "R-LOG2"),
    );
    forged.body = serde_json::to_vec(&success_report("P-LOG3", "R-LOG3")).unwrap();
    let refused = caller.send(&forged).await;
    assert!(refused.is("F", "INVALID_SIGNATURE"), "{refused:?}");
    caller.inquire("R-LOGS").await;
    let admin = gateway.admin();
    admin
        .seed(&notified_payment(
            "R-LOG-NOTIFY",
            "http://127.0.0.1:9/notify",
        ))
        .await;
    admin
        .wait_until(&["R-LOG-NOTIFY".to_owned()], "attempted", |_, n| {
            !attempt_numbers(n).is_empty()
        })
        .await;
    let logs = gateway.logs_to_the_end();

    // Assert
    assert!(
        logs.lines().count() > 20 && logs.contains("TRACE"),
        "the gateway did not log at trace:\n{logs}"
    );
    let mut secrets = vec![ADMIN_TOKEN.to_owned()];
    for key in [
        "TEST-ONLY-gateway-private.pem",
        "TEST-ONLY-merchant-private.pem",
    ] {
        let pem = std::fs::read_to_string(keys_dir().join(key)).unwrap();
        secrets.extend(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::to_owned),
        );
    }
    let gateway_b64 =
        std::fs::read_to_string(keys_dir().join("TEST-ONLY-gateway-private.b64")).unwrap();
    secrets.push(gateway_b64.trim()[..64].to_owned());
    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|s| logs.contains(s.as_str()))
        .collect();
    assert!(leaked.is_empty(), "secrets in the logs: {leaked:?}");
}

/// A small tmpfs of its own, so a test can fill a disk; unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `size` (`4m`); `Err` says why it cannot (mounting needs root).
    fn mount(size: &str) -> Result<SmallDisk, String> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "alipay-gateway-small-disk-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !mounted.status.success() {
            let _ = std::fs::remove_dir(&path);
            return Err(format!(
                "mounting a tmpfs failed (it needs root): {}",
                String::from_utf8_lossy(&mounted.stderr).trim()
            ));
        }
        Ok(SmallDisk { path })
    }

    /// Writes a file that takes every free byte left; answers its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).expect("the filler file");
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_unknown_exception_at_once_loses_nothing_acknowledged_and_recovers_when_space_returns()
 {
    let test = "a_full_disk_answers_unknown_exception_at_once_loses_nothing_acknowledged_and_recovers_when_space_returns";
    let disk = match SmallDisk::mount("8m") {
        Ok(disk) => disk,
        Err(why) => return skip::skipped(test, &why),
    };
    let config_dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}/gateway.db", disk.path.display());
    let config = gateway_config(config_dir.path(), &store, 1000);
    let mut gateway = Gateway::start(&config);
    let caller = gateway.caller();
    assert!(
        caller
            .push(&success_report("P-FULL-0", "R-FULL-0"))
            .await
            .is("S", "SUCCESS")
    );
    let mut acknowledged = vec![0];

    // Act 1: the disk fills; pushes go on until the store cannot take one.
    let filler = disk.fill();
    let mut refused = None;
    for i in 1..=5000 {
        let report = success_report(&format!("P-FULL-{i}"), &format!("R-FULL-{i}"));
        let started = Instant::now();
        let reply = caller.push(&report).await;
        if reply.is("S", "SUCCESS") {
            acknowledged.push(i);
            continue;
        }
        refused = Some((reply, started.elapsed()));
        break;
    }
    let (reply, took) = refused.expect("5000 pushes fitted on a full disk");
    assert!(
        reply.is("U", "UNKNOWN_EXCEPTION"),
        "on a full disk: {reply:?}"
    );
    assert!(took < Duration::from_secs(5), "the refusal took {took:?}");

    // Act 2: space returns; the gateway takes writes again by itself.
    std::fs::remove_file(&filler).unwrap();
    let started = Instant::now();
    let back = loop {
        let i = 10_000 + acknowledged.len();
        let report = success_report(&format!("P-FULL-{i}"), &format!("R-FULL-{i}"));
        if caller.push(&report).await.is("S", "SUCCESS") {
            acknowledged.push(i);
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "space is back, yet the gateway still refuses writes:\n{}",
            gateway
                .stdout()
                .lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Assert: after kill -9 and a restart, every acknowledged push is there.
    gateway.kill_9();
    let gateway = Gateway::start(&config);
    let caller = gateway.caller();
    let mut lost = Vec::new();
    for i in &acknowledged {
        if !caller
            .inquire(&format!("R-FULL-{i}"))
            .await
            .paid_as(&format!("P-FULL-{i}"))
        {
            lost.push(*i);
        }
    }
    assert!(
        lost.is_empty(),
        "acknowledged before the disk filled, lost: {lost:?}"
    );
    println!(
        "full disk: {} pushes acknowledged, the next refused in {took:?}; writes back {back:?} after space returned",
        acknowledged.len()
    );
}

#[test]
fn a_database_down_at_start_up_is_a_clear_error_naming_the_url_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = gateway_config(dir.path(), "postgres://gw:s3cret@127.0.0.1:1/nothing", 1000);
    let started = Instant::now();
    let mut child = gateway_command(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gateway binary starts");
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > START_UP {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the gateway still runs {START_UP:?} after start-up with its database down");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    println!("exited ({status}) after {:?}: {stderr}", started.elapsed());
    assert!(
        !status.success(),
        "the gateway exited successfully with its database down"
    );
    assert!(
        stderr.contains("postgres://gw:***@127.0.0.1:1/nothing"),
        "stderr does not name the database: {stderr}"
    );
    assert!(
        !stderr.contains("s3cret") && !stdout.contains("s3cret"),
        "the password leaked: {stdout}{stderr}"
    );
}

#[test]
fn the_store_schema_version_is_logged_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}/gw.db", dir.path().display());
    let gateway = Gateway::start(&gateway_config(dir.path(), &store_url, 5000));
    let line = gateway
        .log_line("store ready")
        .unwrap_or_else(|| panic!("no `store ready` line in the log:\n{}", gateway.stdout()));
    assert_eq!(line["backend"], "sqlite", "{line}");
    assert_eq!(line["url"], store_url.as_str(), "{line}");
    let version = line["schema_version"]
        .as_i64()
        .unwrap_or_else(|| panic!("no schema_version: {line}"));
    assert!(version >= 1, "{line}");
}

/// Pushes [`PUSHES`] distinct results at once and kills the gateway with SIGKILL once half are
/// acknowledged; after a restart on the same store every acknowledged one is there, and every
/// other one is either there whole or absent.
async fn acknowledged_push_results_survive_kill_9_and_a_restart(dir: &Path, store_url: &str) {
    let started = Instant::now();
    let config = gateway_config(dir, store_url, 5000);
    let mut gateway = Gateway::start(&config);
    let caller = gateway.caller();
    let ids = ids("KILL", PUSHES);
    let reports: Vec<Value> = ids
        .iter()
        .map(|(pid, rid)| success_report(pid, rid))
        .collect();
    let pushes = sign_all(paths::NOTIFY_PUSH_PAYMENT, &reports);
    let inquiries: Vec<Value> = ids.iter().map(|(_, rid)| inquiry(rid)).collect();
    let inquiries = sign_all(paths::INQUIRY_PAYMENT, &inquiries);

    let (answered, mut answers) = tokio::sync::mpsc::unbounded_channel();
    let mut in_flight = JoinSet::new();
    for (i, push) in pushes.into_iter().enumerate() {
        let (caller, answered) = (caller.clone(), answered.clone());
        in_flight.spawn(async move {
            let _ = answered.send((i, caller.try_send(&push).await));
        });
    }
    drop(answered);
    let mut acknowledged = [false; PUSHES];
    let mut killed = false;
    while let Some((i, answer)) = answers.recv().await {
        match answer {
            Ok(reply) if reply.is("S", "SUCCESS") => acknowledged[i] = true,
            Ok(reply) => panic!("push {i} was answered {reply:?}"),
            Err(e) => assert!(killed, "push {i} failed before the kill: {e}"),
        }
        if !killed && acknowledged.iter().filter(|a| **a).count() >= PUSHES / 2 {
            gateway.kill_9();
            killed = true;
        }
    }
    while in_flight.join_next().await.is_some() {}
    assert!(
        killed,
        "the gateway was never killed: fewer than half the pushes were acknowledged"
    );
    drop(gateway);

    let gateway = Gateway::start(&config);
    let caller = gateway.caller();
    let mut asking = JoinSet::new();
    for (i, request) in inquiries.into_iter().enumerate() {
        let caller = caller.clone();
        asking.spawn(async move { (i, caller.send(&request).await) });
    }
    let (mut lost, mut torn, mut kept_unacknowledged) = (Vec::new(), Vec::new(), 0);
    while let Some(joined) = asking.join_next().await {
        let (i, answer) = joined.unwrap();
        let pid = &ids[i].0;
        let kept = answer.paid_as(pid);
        if acknowledged[i] && !kept {
            lost.push(format!("{pid}: {answer:?}"));
        } else if !acknowledged[i] && kept {
            kept_unacknowledged += 1;
        } else if !acknowledged[i] && !answer.is("F", "ORDER_NOT_EXIST") {
            torn.push(format!("{pid}: {answer:?}"));
        }
    }
    assert!(
        lost.is_empty(),
        "acknowledged results lost across kill -9:\n{}",
        lost.join("\n")
    );
    assert!(
        torn.is_empty(),
        "unacknowledged pushes neither whole nor absent:\n{}",
        torn.join("\n")
    );
    let acknowledged = acknowledged.iter().filter(|a| **a).count();
    println!(
        "{store_url}: {acknowledged} acknowledged before kill -9, all kept; {kept_unacknowledged} \
         of the other {} kept; {:?}",
        PUSHES - acknowledged,
        started.elapsed()
    );
}

// ------------------------------------------------------------------------------------------
// Reports and requests in domain terms
// ------------------------------------------------------------------------------------------

/// `n` (paymentId, paymentRequestId) pairs, distinct per `tag`.
fn ids(tag: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("P-{tag}-{i}"), format!("R-{tag}-{i}")))
        .collect()
}

fn success_report(payment_id: &str, payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentId": payment_id,
        "paymentRequestId": payment_request_id,
        "paymentTime": "2026-01-01T12:00:00+08:00",
    })
}

/// The same payment reported failed: contradicts [`success_report`].
fn failure_report(payment_id: &str, payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "RISK_REJECT", "resultStatus": "F"},
        "paymentId": payment_id,
        "paymentRequestId": payment_request_id,
        "paymentTime": "2026-01-01T12:00:00+08:00",
    })
}

fn inquiry(payment_request_id: &str) -> Value {
    json!({"acquirerId": "A", "pspId": "B", "paymentRequestId": payment_request_id})
}

fn risk_report(reference_transaction_id: &str, payment_status: &str) -> Value {
    json!({
        "referenceTransactionId": reference_transaction_id,
        "paymentStatus": payment_status,
        "paymentMethodProvider": "VISA",
    })
}

/// Each request to both replicas.
fn to_both(requests: Vec<Signed>) -> Vec<(Signed, Signed)> {
    requests.into_iter().map(|r| (r.clone(), r)).collect()
}

/// Consecutive requests in pairs: the first of each to the first replica.
fn paired(requests: Vec<Signed>) -> Vec<(Signed, Signed)> {
    let mut requests = requests.into_iter();
    std::iter::from_fn(|| Some((requests.next()?, requests.next()?))).collect()
}

/// The pairs of answers that are not both S/SUCCESS, named by their ids.
fn disagreements<'a>(
    ids: impl Iterator<Item = &'a String>,
    answers: &[(Reply, Reply)],
) -> Vec<String> {
    ids.zip(answers)
        .filter(|(_, (a, b))| !(a.is("S", "SUCCESS") && b.is("S", "SUCCESS")))
        .map(|(id, (a, b))| format!("  {id}: {} / {}", a.summary(), b.summary()))
        .collect()
}

/// Sends each pair's first request to the first replica and its second to the second at the
/// same moment, all pairs at once. Answers come back in the order of `pairs`.
async fn race(replicas: &[Caller; 2], pairs: Vec<(Signed, Signed)>) -> Vec<(Reply, Reply)> {
    let mut racing = JoinSet::new();
    for (i, (a, b)) in pairs.into_iter().enumerate() {
        let [first, second] = replicas.clone();
        racing.spawn(async move { (i, tokio::join!(first.send(&a), second.send(&b))) });
    }
    let mut answers = racing.join_all().await;
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, pair)| pair).collect()
}

// ------------------------------------------------------------------------------------------
// The independent signer
// ------------------------------------------------------------------------------------------

/// A request signed like the SDKs do, ready to send any number of times.
#[derive(Clone)]
struct Signed {
    path: &'static str,
    request_time: String,
    signature: String,
    body: Vec<u8>,
}

/// What Java's `URLEncoder` leaves alone.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'*');

/// Signs `POST <path>\n<Client-Id>.<Request-Time>.<body>` with the TEST-ONLY merchant key.
fn sign(path: &'static str, body: &Value) -> Signed {
    static KEY: OnceLock<SigningKey<Sha256>> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let pem = std::fs::read_to_string(keys_dir().join("TEST-ONLY-merchant-private.pem"))
            .expect("test key readable");
        SigningKey::new(RsaPrivateKey::from_pkcs8_pem(&pem).expect("test key is PKCS#8 PEM"))
    });
    let body = serde_json::to_vec(body).unwrap();
    let request_time = chrono::Utc::now().timestamp_millis().to_string();
    let content = [
        format!("POST {path}\n{MERCHANT}.{request_time}.").as_bytes(),
        &body,
    ]
    .concat();
    let signature = STANDARD.encode(key.sign(&content).to_bytes());
    Signed {
        path,
        request_time,
        signature: utf8_percent_encode(&signature, FORM).to_string(),
        body,
    }
}

/// Signs every body for `path`, on every core: signing is the slow part of these tests.
fn sign_all(path: &'static str, bodies: &[Value]) -> Vec<Signed> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = bodies.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let signers: Vec<_> = bodies
            .chunks(chunk)
            .map(|bodies| s.spawn(move || bodies.iter().map(|b| sign(path, b)).collect::<Vec<_>>()))
            .collect();
        signers
            .into_iter()
            .flat_map(|signer| signer.join().unwrap())
            .collect()
    })
}

/// An HTTP caller of one running gateway.
#[derive(Clone)]
struct Caller {
    base: String,
    http: reqwest::Client,
}

impl Caller {
    async fn try_send(&self, request: &Signed) -> Result<Reply, reqwest::Error> {
        let response = self
            .http
            .post(format!("{}{}", self.base, request.path))
            .header("Content-Type", "application/json")
            .header("Client-Id", MERCHANT)
            .header("Request-Time", &request.request_time)
            .header(
                "Signature",
                format!(
                    "algorithm=RSA256,keyVersion=1,signature={}",
                    request.signature
                ),
            )
            .body(request.body.clone())
            .send()
            .await?;
        let http = response.status().as_u16();
        let body = response.json().await?;
        Ok(Reply { http, body })
    }

    async fn send(&self, request: &Signed) -> Reply {
        self.try_send(request)
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.base, request.path))
    }

    /// `GET /readyz`: the HTTP status and the body.
    async fn readiness(&self) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}/readyz: {e}", self.base));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    async fn push(&self, report: &Value) -> Reply {
        self.send(&sign(paths::NOTIFY_PUSH_PAYMENT, report)).await
    }

    async fn inquire(&self, payment_request_id: &str) -> Reply {
        self.send(&sign(paths::INQUIRY_PAYMENT, &inquiry(payment_request_id)))
            .await
    }
}

/// A gateway answer.
#[derive(Debug, Clone)]
struct Reply {
    http: u16,
    body: Value,
}

impl Reply {
    /// Whether it is HTTP 200 with this `result`.
    fn is(&self, status: &str, code: &str) -> bool {
        self.http == 200
            && self.body["result"]["resultStatus"] == status
            && self.body["result"]["resultCode"] == code
    }

    /// `S/SUCCESS (message)`, for failure messages.
    fn summary(&self) -> String {
        let result = &self.body["result"];
        let text = |v: &Value| v.as_str().unwrap_or("?").to_owned();
        format!(
            "HTTP {} {}/{} ({})",
            self.http,
            text(&result["resultStatus"]),
            text(&result["resultCode"]),
            text(&result["resultMessage"])
        )
    }

    /// inquiryPayment's `paymentResult` status and code.
    fn payment_result(&self) -> (&str, &str) {
        let result = &self.body["paymentResult"];
        (
            result["resultStatus"].as_str().unwrap_or(""),
            result["resultCode"].as_str().unwrap_or(""),
        )
    }

    /// Whether inquiryPayment answers this payment succeeded, under `payment_id`.
    fn paid_as(&self, payment_id: &str) -> bool {
        self.is("S", "SUCCESS")
            && self.payment_result() == ("S", "SUCCESS")
            && self.body["paymentId"] == payment_id
    }
}

// ------------------------------------------------------------------------------------------
// The real binary
// ------------------------------------------------------------------------------------------

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// Writes a gateway config on `127.0.0.1:0` with the TEST-ONLY keys and this store.
fn gateway_config(dir: &Path, store_url: &str, acquire_timeout_ms: u64) -> PathBuf {
    let keys = keys_dir();
    let keys = keys.display();
    let path = dir.join("gateway.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
[store]
url = "{store_url}"
acquire_timeout_ms = {acquire_timeout_ms}
[[clients]]
client_id = "{MERCHANT}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
"#
        ),
    )
    .unwrap();
    path
}

/// `alipay-gateway --log-json serve --config <config>`, with no stray `GATEWAY_*` settings
/// from the environment.
fn gateway_command(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_alipay-gateway"));
    command
        .args(["--log-json", "serve", "--config"])
        .arg(config);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GATEWAY_") {
            command.env_remove(name);
        }
    }
    command.env("GATEWAY_LOG", "info").stdin(Stdio::null());
    command
}

/// Reads a pipe to its end on a thread, so the process never blocks on a full pipe.
fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(pipe).read_to_string(&mut text);
        text
    })
}

/// A running gateway process; dropping it kills it.
struct Gateway {
    child: Child,
    caller: Caller,
    stdout: Arc<Mutex<Vec<String>>>,
    readers: Option<(std::thread::JoinHandle<()>, std::thread::JoinHandle<String>)>,
}

impl Gateway {
    /// Starts the binary and waits for its "alipay-gateway listening" line.
    fn start(config: &Path) -> Gateway {
        Self::start_with(config, &[])
    }

    /// [`Gateway::start`] with extra environment settings.
    fn start_with(config: &Path, env: &[(&str, &str)]) -> Gateway {
        let mut command = gateway_command(config);
        command.envs(env.iter().copied());
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the gateway binary starts");
        let stderr = drain(child.stderr.take().unwrap());
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (line_sent, lines) = mpsc::channel();
        let (pipe, kept) = (child.stdout.take().unwrap(), Arc::clone(&stdout));
        let stdout_reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                kept.lock().unwrap().push(line.clone());
                let _ = line_sent.send(line);
            }
        });
        let deadline = Instant::now() + START_UP;
        let address = loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(wait) {
                Ok(line) => {
                    let Ok(v) = serde_json::from_str::<Value>(&line) else {
                        continue;
                    };
                    if v["message"] == "alipay-gateway listening" {
                        break v["address"]
                            .as_str()
                            .expect("the listening line has an address")
                            .to_owned();
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    let stdout = stdout.lock().unwrap().join("\n");
                    panic!(
                        "the gateway did not start ({e}, {status:?}):\n{stdout}\n{}",
                        stderr.join().unwrap_or_default()
                    );
                }
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .expect("HTTP client");
        Gateway {
            child,
            caller: Caller {
                base: format!("http://{address}"),
                http,
            },
            stdout,
            readers: Some((stdout_reader, stderr)),
        }
    }

    /// Kills the process and answers everything it wrote, stdout then stderr.
    fn logs_to_the_end(mut self) -> String {
        self.kill_9();
        let (stdout_reader, stderr) = self.readers.take().expect("the readers run");
        let _ = stdout_reader.join();
        let stderr = stderr.join().unwrap_or_default();
        format!("{}\n{stderr}", self.stdout())
    }

    fn caller(&self) -> Caller {
        self.caller.clone()
    }

    /// SIGKILL: no shutdown, no flush, nothing the process can do about it.
    fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL the gateway");
        self.child.wait().expect("reap the gateway");
    }

    /// The first JSON log line with this message.
    fn log_line(&self, message: &str) -> Option<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|v| v["message"] == message)
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().join("\n")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------------------
// The shared test PostgreSQL
// ------------------------------------------------------------------------------------------

/// Held by every PostgreSQL test: one of them stops the server.
static POSTGRES_IN_USE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The server `scripts/test-postgres.sh` started.
struct TestPostgres {
    url: String,
    stop: String,
    start: String,
}

impl TestPostgres {
    /// The server named by the environment, or `None` after printing why `test` is skipped.
    fn from_env(test: &str) -> Option<TestPostgres> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(url) = var("GATEWAY_TEST_POSTGRES_URL") else {
            skip::skipped(
                test,
                "needs PostgreSQL; set GATEWAY_TEST_POSTGRES_URL (eval \"$(scripts/test-postgres.sh)\")",
            );
            return None;
        };
        let (Some(stop), Some(start)) = (
            var("GATEWAY_TEST_POSTGRES_STOP"),
            var("GATEWAY_TEST_POSTGRES_START"),
        ) else {
            panic!(
                "GATEWAY_TEST_POSTGRES_URL is set without GATEWAY_TEST_POSTGRES_STOP and _START (eval \"$(scripts/test-postgres.sh)\")"
            );
        };
        Some(TestPostgres { url, stop, start })
    }

    async fn exclusive(&self) -> tokio::sync::MutexGuard<'static, ()> {
        POSTGRES_IN_USE.lock().await
    }

    /// A fresh, empty database, dropped when the guard is.
    fn create_database(&self) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "durability_{}_{nanos}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        psql(&self.url, &format!("CREATE DATABASE {name}")).unwrap_or_else(|e| panic!("{e}"));
        let (base, query) = match self.url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (self.url.as_str(), String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
        TestDatabase {
            url: format!("{server}/{name}{query}"),
            admin_url: self.url.clone(),
            name,
        }
    }

    /// Stops the server; the guard starts it again, at the latest when dropped.
    fn stop_server(&self) -> StoppedServer {
        shell(&self.stop).unwrap_or_else(|e| panic!("stopping PostgreSQL: {e}"));
        StoppedServer {
            start: self.start.clone(),
            running: false,
        }
    }
}

/// PostgreSQL, stopped; started again by [`StoppedServer::start`] or on drop, even when a test
/// fails, because other tests share the server.
struct StoppedServer {
    start: String,
    running: bool,
}

impl StoppedServer {
    fn start(&mut self) {
        self.running = true;
        shell(&self.start).unwrap_or_else(|e| panic!("starting PostgreSQL again: {e}"));
    }
}

impl Drop for StoppedServer {
    fn drop(&mut self) {
        if !self.running
            && let Err(e) = shell(&self.start)
        {
            eprintln!("starting PostgreSQL again: {e}");
        }
    }
}

/// A database of one test.
struct TestDatabase {
    url: String,
    admin_url: String,
    name: String,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Err(e) = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        ) {
            eprintln!("{e}");
        }
    }
}

fn psql(url: &str, sql: &str) -> Result<(), String> {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qXc", sql])
        .output()
        .map_err(|e| format!("psql {sql}: {e} (is the PostgreSQL client installed?)"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql {sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn shell(command: &str) -> Result<(), String> {
    let output = Command::new("sh")
        .args(["-c", command])
        .output()
        .map_err(|e| format!("{command}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

// ------------------------------------------------------------------------------------------
// Payment result notifications: kill -9, two replicas, a replica dying mid-attempt, SIGTERM
// ------------------------------------------------------------------------------------------

/// The admin token of every notifying test gateway.
const ADMIN_TOKEN: &str = "TEST-ONLY-admin-token";

/// Payments in flight in the two-replica notification test.
const NOTIFIED_PAYMENTS: usize = 40;

/// How long a test waits for the sender before it gives up.
const NOTIFY_DEADLINE: Duration = Duration::from_secs(8);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pending_notifications_resume_after_kill_9_with_no_attempt_lost_or_skipped_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}/gw.db", dir.path().display());
    pending_notifications_resume_after_kill_9(dir.path(), &store_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pending_notifications_resume_after_kill_9_with_no_attempt_lost_or_skipped_on_postgres() {
    let test =
        "pending_notifications_resume_after_kill_9_with_no_attempt_lost_or_skipped_on_postgres";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    pending_notifications_resume_after_kill_9(dir.path(), &database.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_never_send_the_same_attempt_twice() {
    let test = "two_replicas_on_one_postgres_never_send_the_same_attempt_twice";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
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
    let (first, second) = std::thread::scope(|s| {
        let a =
            s.spawn(|| Gateway::start(&notifying_config(dir.path(), &database.url, &notify, "1")));
        let b =
            s.spawn(|| Gateway::start(&notifying_config(dir.path(), &database.url, &notify, "2")));
        (a.join().unwrap(), b.join().unwrap())
    });
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
    let test =
        "a_replica_killed_mid_attempt_has_its_lease_taken_over_and_the_notification_delivered";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
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
    let (first, second) = std::thread::scope(|s| {
        let a =
            s.spawn(|| Gateway::start(&notifying_config(dir.path(), &database.url, &notify, "1")));
        let b =
            s.spawn(|| Gateway::start(&notifying_config(dir.path(), &database.url, &notify, "2")));
        (a.join().unwrap(), b.join().unwrap())
    });
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
async fn sigterm_during_a_schedule_exits_promptly_and_the_restart_continues_it_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}/gw.db", dir.path().display());
    sigterm_during_a_schedule(dir.path(), &store_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_a_schedule_exits_promptly_and_the_restart_continues_it_on_postgres() {
    let test = "sigterm_during_a_schedule_exits_promptly_and_the_restart_continues_it_on_postgres";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    sigterm_during_a_schedule(dir.path(), &database.url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease_without_spinning_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store_url = format!("sqlite://{}/gw.db", dir.path().display());
    a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease(dir.path(), &store_url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease_without_spinning_on_postgres()
{
    let test =
        "a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease_without_spinning_on_postgres";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease(dir.path(), &database.url).await;
}

/// kill -9 while the merchant holds attempt 1 open: the attempt died unrecorded, under a lease
/// of the dead process. The restarted gateway makes it again once that lease has run out, not
/// before (that could send it twice) and without busy-polling the store meanwhile.
async fn a_restart_after_kill_9_mid_attempt_waits_out_the_dead_lease(dir: &Path, store_url: &str) {
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

/// Seven notifications on a real-time schedule driven by the admin clock: the merchant accepts
/// payment i's on attempt i + 3 (the last never). After attempt 3 the gateway is killed with
/// SIGKILL between attempts and restarted on the same store; the clock is driven through the
/// rest of the day. Every notification continues where it stood: attempts 1..n with no gap, the
/// merchant's requests per notification id equal to the recorded attempts, none after delivery.
async fn pending_notifications_resume_after_kill_9(dir: &Path, store_url: &str) {
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

/// SIGTERM while the merchant holds an attempt open: the process finishes or gives back that
/// attempt and exits within the attempt timeout; restarted on the same store, the gateway makes
/// the next attempt at once, not a lease (30 s) later, and the schedule goes on to delivery.
async fn sigterm_during_a_schedule(dir: &Path, store_url: &str) {
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

/// `[notify]` of a test gateway.
struct NotifyConfig {
    time_scale: f64,
    timeout_ms: u64,
    lease_ms: u64,
}

impl Default for NotifyConfig {
    /// Real time (the admin clock drives it), the default timeout and lease.
    fn default() -> Self {
        NotifyConfig {
            time_scale: 1.0,
            timeout_ms: 5000,
            lease_ms: 30_000,
        }
    }
}

/// A gateway config with the admin API on and these notify settings. `key_version` is what the
/// replica writes in its signature headers: the merchant tells replicas apart by it.
fn notifying_config(
    dir: &Path,
    store_url: &str,
    notify: &NotifyConfig,
    key_version: &str,
) -> PathBuf {
    let keys = keys_dir();
    let keys = keys.display();
    let path = dir.join(format!("notifying-{key_version}.toml"));
    let NotifyConfig {
        time_scale,
        timeout_ms,
        lease_ms,
    } = notify;
    std::fs::write(
        &path,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"
[signing]
private_key = "file:{keys}/TEST-ONLY-gateway-private.pem"
key_version = "{key_version}"
[admin]
token = "{ADMIN_TOKEN}"
[store]
url = "{store_url}"
[notify]
time_scale = {time_scale:?}
timeout_ms = {timeout_ms}
lease_ms = {lease_ms}
[[clients]]
client_id = "{MERCHANT}"
public_keys = {{ "1" = "file:{keys}/TEST-ONLY-merchant-public.pem" }}
"#
        ),
    )
    .unwrap();
    path
}

/// A successful payment of the merchant whose notification goes to `notify_url`.
fn notified_payment(payment_request_id: &str, notify_url: &str) -> Value {
    json!({
        "paymentRequestId": payment_request_id,
        "paymentId": format!("P-{payment_request_id}"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": MERCHANT,
        "notifyUrl": notify_url,
    })
}

/// The recorded attempts' numbers.
fn attempt_numbers(notification: &Value) -> Vec<u64> {
    notification["attempts"]
        .as_array()
        .map(|a| a.iter().filter_map(|a| a["number"].as_u64()).collect())
        .unwrap_or_default()
}

impl Gateway {
    /// The admin API of this gateway.
    fn admin(&self) -> Admin {
        Admin {
            base: self.caller.base.clone(),
            http: self.caller.http.clone(),
        }
    }

    /// The CPU time the process has used so far (user + system, from `/proc`).
    fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("/proc/<pid>/stat of the gateway");
        // After "pid (comm) ": state is field 3, utime 14, stime 15.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        let per_second = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|t| t.trim().parse::<u64>().ok())
            .unwrap_or(100);
        Duration::from_millis(ticks * 1000 / per_second)
    }

    /// SIGTERM, then waits for the process to exit; how long it took and how it ended.
    fn terminate(&mut self) -> (Duration, std::process::ExitStatus) {
        let started = Instant::now();
        shell(&format!("kill -TERM {}", self.child.id())).expect("SIGTERM the gateway");
        loop {
            if let Some(status) = self.child.try_wait().expect("the gateway's status") {
                return (started.elapsed(), status);
            }
            assert!(
                started.elapsed() < START_UP,
                "the gateway still runs {START_UP:?} after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The admin API of one running gateway.
#[derive(Clone)]
struct Admin {
    base: String,
    http: reqwest::Client,
}

impl Admin {
    async fn call(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.base));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Seeds a payment and insists it was created.
    async fn seed(&self, payment: &Value) {
        let url = format!("{}/admin/payments", self.base);
        let (status, body) = self.call(self.http.post(url).json(payment)).await;
        assert_eq!(status, 201, "seeding {payment}: {body}");
    }

    /// Moves the schedule's clock ahead (`"2m"`, `"1h"`).
    async fn advance_clock(&self, by: &str) {
        let url = format!("{}/admin/clock/advance", self.base);
        let (status, body) = self
            .call(self.http.post(url).json(&json!({ "by": by })))
            .await;
        assert_eq!(status, 200, "advancing the clock by {by}: {body}");
    }

    /// The one notification of a payment.
    async fn notification(&self, payment_request_id: &str) -> Value {
        let url = format!(
            "{}/admin/payments/{payment_request_id}/notifications",
            self.base
        );
        let (status, body) = self.call(self.http.get(url)).await;
        assert_eq!(status, 200, "{payment_request_id}: {body}");
        match body.as_array().map(Vec::as_slice) {
            Some([only]) => only.clone(),
            _ => panic!("{payment_request_id} should have one notification: {body}"),
        }
    }

    /// Polls the notifications of `ids` until `done(i, notification)` holds for every one;
    /// panics with those that are not after [`NOTIFY_DEADLINE`].
    async fn wait_until(
        &self,
        ids: &[String],
        what: &str,
        done: impl Fn(usize, &Value) -> bool,
    ) -> Vec<Value> {
        let deadline = Instant::now() + NOTIFY_DEADLINE;
        loop {
            let mut all = Vec::with_capacity(ids.len());
            for id in ids {
                all.push(self.notification(id).await);
            }
            let not_yet: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|(i, n)| !done(*i, n))
                .map(|(_, n)| format!("  {n}"))
                .collect();
            if not_yet.is_empty() {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "not {what} after {NOTIFY_DEADLINE:?}:\n{}",
                not_yet.join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// What the test merchant does with one notification.
#[derive(Debug, Clone, Copy)]
enum Ack {
    /// HTTP 200, S/SUCCESS.
    Success,
    /// HTTP 200, U/UNKNOWN_EXCEPTION: try again.
    Unknown,
    /// Never answers (the sender's timeout or death ends it).
    Hold,
}

/// One request the test merchant got.
#[derive(Debug, Clone)]
struct Arrival {
    notification_id: String,
    payment_request_id: String,
    /// The keyVersion of its signature header: which replica sent it.
    key_version: String,
    at: Instant,
    body: Vec<u8>,
}

type AckRule = dyn Fn(&Arrival, usize) -> Ack + Send + Sync;

/// A merchant's notification webhook in the test process: records every request and answers
/// as its rule says, given the request and how many earlier ones carried its notification id.
struct Webhook {
    url: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Webhook {
    async fn start(rule: impl Fn(&Arrival, usize) -> Ack + Send + Sync + 'static) -> Webhook {
        use axum::extract::State;
        use axum::http::HeaderMap;

        type Shared = (Arc<Mutex<Vec<Arrival>>>, Arc<AckRule>);
        async fn receive(
            State((arrivals, rule)): State<Shared>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> axum::Json<Value> {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let arrival = Arrival {
                notification_id: header("notification-id"),
                payment_request_id: json["paymentRequestId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                key_version: header("signature")
                    .split(',')
                    .find_map(|part| part.strip_prefix("keyVersion="))
                    .unwrap_or_default()
                    .to_owned(),
                at: Instant::now(),
                body: body.to_vec(),
            };
            let ack = {
                let mut arrivals = arrivals.lock().unwrap();
                let earlier = arrivals
                    .iter()
                    .filter(|a| a.notification_id == arrival.notification_id)
                    .count();
                arrivals.push(arrival.clone());
                rule(&arrival, earlier)
            };
            let (status, code) = match ack {
                Ack::Success => ("S", "SUCCESS"),
                Ack::Unknown => ("U", "UNKNOWN_EXCEPTION"),
                Ack::Hold => {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    ("S", "SUCCESS")
                }
            };
            axum::Json(
                json!({"result": {"resultCode": code, "resultStatus": status, "resultMessage": "test"}}),
            )
        }

        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let rule: Arc<AckRule> = Arc::new(rule);
        let router = axum::Router::new()
            .route("/notify", axum::routing::post(receive))
            .with_state((arrivals.clone(), rule));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Webhook {
            url,
            arrivals,
            server,
        }
    }

    fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived and returns them all.
    async fn wait_for_arrivals(&self, n: usize) -> Vec<Arrival> {
        let deadline = Instant::now() + NOTIFY_DEADLINE;
        loop {
            let arrivals = self.arrivals();
            if arrivals.len() >= n {
                return arrivals;
            }
            assert!(
                Instant::now() < deadline,
                "the merchant got {} requests, not {n}, in {NOTIFY_DEADLINE:?}",
                arrivals.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}
