//! Two replicas on one PostgreSQL decide every race the same way: identical reports sent to
//! both at once are both S, contradicting ones have exactly one winner that both then answer.

use std::time::Instant;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::TestStore;
use crate::support::bodies::{failure_report, ids, inquiry, paths, risk_report, success_report};
use crate::support::caller::{Caller, Reply};
use crate::support::config::gateway_config;
use crate::support::gateway_process::{Gateway, both};
use crate::support::signer::{Signed, sign_all};

/// Racing pairs per kind of report in the two-replica test.
const PAIRS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_on_one_postgres_agree_on_identical_and_contradicting_reports() {
    let Some(store) = TestStore::postgres(
        "two_replicas_on_one_postgres_agree_on_identical_and_contradicting_reports",
    )
    .await
    else {
        return;
    };
    let config = gateway_config(store.dir(), &store.url, 5000);
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
