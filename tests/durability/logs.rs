//! What the gateway logs, even at trace level, holds no private key and no admin token.

use crate::TestStore;
use crate::support::bodies::{attempt_numbers, notified_payment, paths, success_report};
use crate::support::config::{ADMIN_TOKEN, NotifyConfig, keys_dir, notifying_config};
use crate::support::gateway_process::Gateway;
use crate::support::signer::sign;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_private_key_or_admin_token_reaches_the_logs_even_at_trace_level() {
    // Arrange: everything logged, a gateway that signs, verifies, notifies and serves admin.
    let store = TestStore::sqlite();
    let config = notifying_config(store.dir(), &store.url, &NotifyConfig::default(), "1");
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
