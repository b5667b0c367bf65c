//! What the gateway acknowledged survives `kill -9`: pushes answered S are there after a
//! restart on the same store, and the ones cut off are there whole or not at all.

use std::time::Instant;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::TestStore;
use crate::support::bodies::{ids, inquiry, paths, success_report};
use crate::support::config::gateway_config;
use crate::support::gateway_process::Gateway;
use crate::support::signer::sign_all;

/// Distinct push results fired at a gateway that is killed once half are answered. Each request
/// costs an RSA signature: cheap with the `rsa` / `num-bigint-dig` opt-level override in
/// Cargo.toml, ~60 ms each without it.
const PUSHES: usize = 200;

on_sqlite_and_postgres!(
    acknowledged_push_results_survive_kill_9_and_a_restart:
    an_acknowledged_push_result_survives_kill_9_and_a_restart_on_sqlite,
    an_acknowledged_push_result_survives_kill_9_and_a_restart_on_postgres
);

/// Pushes [`PUSHES`] distinct results at once and kills the gateway with SIGKILL once half are
/// acknowledged; after a restart on the same store every acknowledged one is there, and every
/// other one is either there whole or absent.
async fn acknowledged_push_results_survive_kill_9_and_a_restart(store: &TestStore) {
    let (dir, store_url) = (store.dir(), store.url.as_str());
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
