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
    let (first, second) = both(|| Gateway::start(&config), || Gateway::start(&config));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killed_under_load_loses_no_acknowledged_push_and_the_gateway_recovers_by_itself()
{
    let test =
        "postgres_killed_under_load_loses_no_acknowledged_push_and_the_gateway_recovers_by_itself";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start(&gateway_config(dir.path(), &database.url, 1000));
    let caller = gateway.caller();

    // Four callers push new payments one after another until told to stop; every answer is
    // kept with how long it took.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
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
    let mut server = postgres.stop_server();
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

    /// Waits until the log holds `count` lines with this message.
    async fn wait_for_log(&self, message: &str, count: usize) {
        let deadline = Instant::now() + NOTIFY_DEADLINE;
        loop {
            let seen = self
                .stdout
                .lock()
                .unwrap()
                .iter()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .filter(|v| v["message"] == message)
                .count();
            if seen >= count {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{seen} log lines {message:?}, not {count}, within {NOTIFY_DEADLINE:?}:\n{}",
                self.stdout()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
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

    /// Crashes the server (`GATEWAY_TEST_POSTGRES_STOP`: an immediate shutdown, or SIGKILL);
    /// the guard starts it again, at the latest when dropped.
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
    let (first, second) = notifying_replicas(dir.path(), &database.url, &notify);
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
    let (first, second) = notifying_replicas(dir.path(), &database.url, &notify);
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
    let test = "a_replica_killed_after_sending_and_before_recording_has_the_attempt_sent_again_with_the_same_notification_id";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    let webhook = Webhook::start(|_, _| Ack::Success).await;
    let notify = NotifyConfig {
        timeout_ms: 1000,
        lease_ms: 2000,
        ..NotifyConfig::default()
    };
    let (first, second) = notifying_replicas(dir.path(), &database.url, &notify);
    let mut replicas = [Some(first), Some(second)];
    let id = "R-SENT-NOT-RECORDED";

    // The attempts table is locked (sending never touches it): the merchant gets the attempt
    // and answers S, and the sender cannot record it.
    let mut lock = TableLock::take(&database.url, "notification_attempts").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recording_that_fails_is_retried_while_the_lease_holds_and_a_shutdown_stops_the_retries()
{
    let test =
        "a_recording_that_fails_is_retried_while_the_lease_holds_and_a_shutdown_stops_the_retries";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    let webhook = Webhook::start(|_, _| Ack::Success).await;
    let notify = NotifyConfig {
        lease_ms: 20_000,
        ..NotifyConfig::default()
    };
    let config = notifying_config(dir.path(), &database.url, &notify, "1");
    let timeouts = [("GATEWAY_STORE__STATEMENT_TIMEOUT_MS", "300")];
    let mut gateway = Gateway::start_with(&config, &timeouts);
    let admin = gateway.admin();
    const RETRYING: &str =
        "could not record a notification attempt; retrying while its lease holds";

    // Recording fails while the attempts table is locked; once it is free, the retry records
    // the attempt and the merchant is not asked again.
    let lock = TableLock::take(&database.url, "notification_attempts").await;
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
    let lock = TableLock::take(&database.url, "notification_attempts").await;
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

/// Kills of a replica in the repeated-kill test.
const KILLS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_killed_one_at_a_time_at_random_moments_deliver_every_notification_never_sending_one_from_both_at_once()
 {
    let test = "two_replicas_killed_one_at_a_time_at_random_moments_deliver_every_notification_never_sending_one_from_both_at_once";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
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
            dir.path(),
            &database.url,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_slower_than_its_statement_timeout_answers_unknown_exception_within_it_and_recovers_by_itself()
 {
    let test = "a_store_slower_than_its_statement_timeout_answers_unknown_exception_within_it_and_recovers_by_itself";
    let Some(postgres) = TestPostgres::from_env(test) else {
        return;
    };
    let _alone = postgres.exclusive().await;
    let database = postgres.create_database();
    let dir = tempfile::tempdir().unwrap();
    let gateway = Gateway::start_with(
        &gateway_config(dir.path(), &database.url, 1000),
        &[("GATEWAY_STORE__STATEMENT_TIMEOUT_MS", "500")],
    );
    let caller = gateway.caller();
    let reply = caller.push(&success_report("P-SLOW", "R-SLOW")).await;
    assert!(reply.is("S", "SUCCESS"), "before: {reply:?}");

    // Another session holds the payments table (a migration, a VACUUM FULL, a stuck replica).
    let lock = TableLock::take(&database.url, "payments").await;
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

/// A session of its own on the test database holding an `ACCESS EXCLUSIVE` lock on tables until
/// released.
struct TableLock {
    conn: sqlx::PgConnection,
}

impl TableLock {
    async fn take(url: &str, tables: &str) -> TableLock {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let lock = format!("BEGIN; LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE");
        sqlx::raw_sql(sqlx::AssertSqlSafe(lock))
            .execute(&mut conn)
            .await
            .unwrap();
        TableLock { conn }
    }

    /// Waits until another session waits for a lock on a table of this database.
    async fn wait_for_a_waiter(&mut self) {
        let deadline = Instant::now() + NOTIFY_DEADLINE;
        loop {
            let waiting: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'relation' \
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                )
                    .fetch_one(&mut self.conn)
                    .await
                    .unwrap();
            if waiting > 0 {
                return;
            }
            assert!(Instant::now() < deadline, "nobody waited for the lock");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn release(mut self) {
        sqlx::raw_sql("ROLLBACK")
            .execute(&mut self.conn)
            .await
            .unwrap();
    }
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

/// Two replicas on one store, started at once, writing keyVersion 1 and 2 in their signatures.
fn notifying_replicas(dir: &Path, store_url: &str, notify: &NotifyConfig) -> (Gateway, Gateway) {
    both(
        || Gateway::start(&notifying_config(dir, store_url, notify, "1")),
        || Gateway::start(&notifying_config(dir, store_url, notify, "2")),
    )
}

/// Starts two gateways side by side (each start waits for its listening line).
fn both(
    first: impl FnOnce() -> Gateway + Send,
    second: impl FnOnce() -> Gateway + Send,
) -> (Gateway, Gateway) {
    std::thread::scope(|s| {
        let a = s.spawn(first);
        let b = s.spawn(second);
        (a.join().unwrap(), b.join().unwrap())
    })
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

    /// Seeds a payment: the HTTP status, or `None` when the replica did not answer.
    async fn try_seed(&self, payment: &Value) -> Option<u16> {
        let url = format!("{}/admin/payments", self.base);
        let response = self
            .http
            .post(url)
            .bearer_auth(ADMIN_TOKEN)
            .json(payment)
            .send()
            .await
            .ok()?;
        Some(response.status().as_u16())
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
        self.wait_until_within(ids, what, done, NOTIFY_DEADLINE)
            .await
    }

    /// [`Admin::wait_until`] with its own deadline.
    async fn wait_until_within(
        &self,
        ids: &[String],
        what: &str,
        done: impl Fn(usize, &Value) -> bool,
        within: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
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
                "not {what} after {within:?}:\n{}",
                not_yet.join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// What the test merchant does with one notification.
#[derive(Debug, Clone)]
enum Ack {
    /// HTTP 200, S/SUCCESS.
    Success,
    /// HTTP 200, U/UNKNOWN_EXCEPTION: try again.
    Unknown,
    /// Never answers (the sender's timeout or death ends it).
    Hold,
    /// Answers as the inner ack after a while.
    After(Duration, Box<Ack>),
}

/// One request the test merchant got.
#[derive(Debug, Clone)]
struct Arrival {
    notification_id: String,
    payment_request_id: String,
    /// The keyVersion of its signature header: which replica sent it.
    key_version: String,
    at: Instant,
    /// `at` on the wall clock (epoch milliseconds), to match the gateway's attempt records.
    epoch_ms: i64,
    /// When the merchant answered; `None` while it has not.
    answered: Option<Instant>,
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
                epoch_ms: chrono::Utc::now().timestamp_millis(),
                answered: None,
                body: body.to_vec(),
            };
            let (at, ack) = {
                let mut arrivals = arrivals.lock().unwrap();
                let earlier = arrivals
                    .iter()
                    .filter(|a| a.notification_id == arrival.notification_id)
                    .count();
                arrivals.push(arrival.clone());
                (arrivals.len() - 1, rule(&arrival, earlier))
            };
            let mut ack = ack;
            let (status, code) = loop {
                match ack {
                    Ack::Success => break ("S", "SUCCESS"),
                    Ack::Unknown => break ("U", "UNKNOWN_EXCEPTION"),
                    Ack::Hold => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        break ("S", "SUCCESS");
                    }
                    Ack::After(wait, then) => {
                        tokio::time::sleep(wait).await;
                        ack = *then;
                    }
                }
            };
            arrivals.lock().unwrap()[at].answered = Some(Instant::now());
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
