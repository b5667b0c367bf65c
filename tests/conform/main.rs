//! `alipay-gateway conform`, the real binary, against sample endpoints served over real sockets:
//! a correct merchant handler passes every case, and each broken one fails exactly the case
//! meant to catch it; the same for a sample MPP's inquiryPayment. The reports (table, JUnit,
//! Markdown) and the exit code are what a CI step sees.

mod keys;
mod merchant;
mod mpp;

use std::collections::BTreeSet;
use std::process::Command;

use merchant::{FAILED_ORDER, Flaw, MERCHANT, PAID_ORDER};
use mpp::{ALIPAY_PLUS, MppFlaw, PAID, PENDING};

const BIN: &str = env!("CARGO_BIN_EXE_alipay-gateway");

/// What a run of the kit printed and how it exited.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The case ids the table gives this verdict.
    fn with(&self, verdict: &str) -> BTreeSet<String> {
        self.stdout
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                (words.next() == Some(verdict)).then(|| words.next().unwrap_or("").to_owned())
            })
            .collect()
    }

    fn failing(&self) -> BTreeSet<String> {
        self.with("FAIL")
    }

    fn not_passing(&self) -> BTreeSet<String> {
        ["FAIL", "WARN", "SKIP"]
            .iter()
            .flat_map(|v| self.with(v))
            .collect()
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the kit (blocking, off the runtime that serves the sample endpoints).
async fn kit(args: Vec<String>) -> Run {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(&args)
            .env_remove("GATEWAY_CONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// `conform notify` against a merchant, as Alipay+ with the TEST-ONLY gateway key, checking
/// acknowledgements with the merchant's key and storage with its order lookup.
async fn conform_notify(flaw: Flaw, extra: &[&str]) -> Run {
    let merchant = merchant::spawn(flaw).await;
    let mut args = strings(&[
        "conform",
        "notify",
        "--url",
        &merchant.url,
        "--key",
        &keys::key_file("TEST-ONLY-gateway-private.pem"),
        "--client-id",
        MERCHANT,
        "--merchant-public-key",
        &keys::key_file("TEST-ONLY-merchant-public.pem"),
        "--payment-request-id",
        PAID_ORDER,
        "--failed-payment-request-id",
        FAILED_ORDER,
    ]);
    if !extra.contains(&"--state-command") {
        args.extend(strings(&["--state-url", &merchant.state_url]));
    }
    if !extra.contains(&"--timeout-ms") {
        args.extend(strings(&["--timeout-ms", "5000"]));
    }
    args.extend(strings(extra));
    kit(args).await
}

async fn conform_inquiry(flaw: MppFlaw, extra: &[&str]) -> Run {
    let url = mpp::spawn(flaw).await;
    let mut args = strings(&[
        "conform",
        "inquiry",
        "--url",
        &url,
        "--key",
        &keys::key_file("TEST-ONLY-gateway-private.pem"),
        "--client-id",
        ALIPAY_PLUS,
        "--mpp-public-key",
        &keys::key_file("TEST-ONLY-merchant-public.pem"),
        "--payment-request-id",
        PAID,
        "--payment-request-id",
        PENDING,
    ]);
    args.extend(strings(extra));
    kit(args).await
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|i| (*i).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_handler_passes_every_case_and_the_step_succeeds() {
    let run = conform_notify(Flaw::None, &[]).await;
    assert_eq!(run.not_passing(), set(&[]), "{run:?}");
    assert_eq!(run.with("PASS").len(), 16, "{run:?}");
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout
            .contains("16 cases: 16 pass, 0 fail, 0 warn, 0 skip"),
        "{run:?}"
    );
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when piped: {run:?}"
    );
    assert!(
        run.stderr.contains("[16/16] oversized-body"),
        "a progress line per case: {run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_accepts_unsigned_notifications_fails_exactly_the_unsigned_case() {
    let run = conform_notify(Flaw::AcceptsUnsigned, &[]).await;
    assert_eq!(run.failing(), set(&["unsigned"]), "{run:?}");
    assert!(run.stdout.contains("a security hole"), "{run:?}");
    assert_eq!(run.code, Some(1), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_accepts_a_tampered_body_fails_exactly_the_tampered_body_case() {
    let run = conform_notify(Flaw::AcceptsATamperedBody, &[]).await;
    assert_eq!(run.failing(), set(&["tampered-body"]), "{run:?}");
    assert!(run.stdout.contains("a security hole"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_is_not_idempotent_fails_exactly_the_duplicate_case() {
    let run = conform_notify(Flaw::NotIdempotent, &[]).await;
    assert_eq!(run.failing(), set(&["duplicate"]), "{run:?}");
    assert!(run.stdout.contains("not idempotent"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_answers_non_json_fails_exactly_the_ack_format_case() {
    let run = conform_notify(Flaw::AnswersNonJson, &[]).await;
    assert_eq!(run.failing(), set(&["ack-format"]), "{run:?}");
    assert!(run.stdout.contains("Content-Type is text/plain"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_acknowledges_with_plain_text_fails_every_case_that_needs_an_s() {
    let run = conform_notify(Flaw::AnswersPlainTextSuccess, &[]).await;
    assert_eq!(
        run.failing(),
        set(&["success", "failure", "ack-format", "duplicate"]),
        "Alipay+ cannot read it as S, so it would retry each of them: {run:?}"
    );
    assert_eq!(
        run.with("SKIP"),
        set(&["stored-before-ack"]),
        "nothing to check without an S: {run:?}"
    );
    assert!(run.stdout.contains(r#"body "success""#), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_slow_past_the_timeout_fails_exactly_the_case_it_is_slow_on() {
    let run = conform_notify(Flaw::SlowOnAFailedPayment, &["--timeout-ms", "400"]).await;
    assert_eq!(run.failing(), set(&["failure"]), "{run:?}");
    assert!(run.stdout.contains("no answer within 400 ms"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_crashes_on_a_duplicate_fails_exactly_the_duplicate_case() {
    let run = conform_notify(Flaw::CrashesOnADuplicate, &[]).await;
    assert_eq!(run.failing(), set(&["duplicate"]), "{run:?}");
    assert!(run.stdout.contains("HTTP 500"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_answers_s_without_storing_fails_exactly_the_stored_before_ack_case() {
    let run = conform_notify(Flaw::ForgetsTheResult, &[]).await;
    assert_eq!(run.failing(), set(&["stored-before-ack"]), "{run:?}");
    assert!(run.stdout.contains("HTTP 404"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_command_is_asked_about_the_payment_and_its_exit_status_decides() {
    let knows =
        r#"test "$CONFORM_PAYMENT_REQUEST_ID" = ORDER-PAID-1 && test "$CONFORM_RESULT_STATUS" = S"#;
    let run = conform_notify(
        Flaw::None,
        &["--cases", "stored-*", "--state-command", knows],
    )
    .await;
    assert_eq!(run.with("PASS"), set(&["stored-before-ack"]), "{run:?}");
    let run = conform_notify(
        Flaw::None,
        &[
            "--cases",
            "stored-*",
            "--state-command",
            "echo not there; exit 3",
        ],
    )
    .await;
    assert_eq!(run.failing(), set(&["stored-before-ack"]), "{run:?}");
    assert!(run.stdout.contains("not there"), "{run:?}");
    assert!(
        run.stdout
            .contains("answered S before the result was stored"),
        "{run:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_junit_and_markdown_reports_carry_every_case_and_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("conform.xml");
    let markdown = dir.path().join("conform.md");
    let run = conform_notify(
        Flaw::AcceptsUnsigned,
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--markdown",
            markdown.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(
        run.code,
        Some(1),
        "a failed case fails the CI step: {run:?}"
    );
    assert!(
        run.stderr.contains("conform notify: 1 of 16 cases failed"),
        "{run:?}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains(
            r#"<testsuite name="conform notify" tests="16" failures="1" errors="0" skipped="0""#
        ),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 16, "{xml}");
    let unsigned = xml
        .split("<testcase ")
        .find(|c| c.contains(r#"name="unsigned""#))
        .unwrap();
    assert!(
        unsigned
            .contains(r#"<failure message="accepted an unsigned notification: a security hole"#),
        "{unsigned}"
    );
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        md.contains("**16 cases: 15 pass, 1 fail, 0 warn, 0 skip**"),
        "{md}"
    );
    assert!(md.contains("| `unsigned` | **FAIL** |"), "{md}");
    assert!(md.contains("| `success` | PASS |"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cases_filter_runs_only_the_cases_named() {
    let run = conform_notify(Flaw::AcceptsUnsigned, &["--cases", "success,dup*"]).await;
    assert_eq!(run.with("PASS"), set(&["success", "duplicate"]), "{run:?}");
    assert_eq!(run.code, Some(0), "the unsigned case did not run: {run:?}");
    let run = conform_notify(Flaw::None, &["--cases", "nothing-like-it"]).await;
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(run.stderr.contains("names no case"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_the_matrix_without_a_url() {
    let run = kit(strings(&["conform", "notify", "--list"])).await;
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with("conform notify: 16 cases"),
        "{run:?}"
    );
    assert!(run.stdout.contains("\ntampered-body\n  sends:"), "{run:?}");
    let run = kit(strings(&["conform", "inquiry", "--list"])).await;
    assert!(run.stdout.contains("\nknown-payment\n"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_mpp_passes_every_inquiry_case() {
    let run = conform_inquiry(MppFlaw::None, &[]).await;
    assert_eq!(run.not_passing(), set(&[]), "{run:?}");
    assert_eq!(
        run.with("PASS"),
        set(&[
            "known-payment:PAY-SUCCESS-1",
            "known-payment:PAY-PENDING-1",
            "unknown-payment",
            "unsigned",
            "wrong-signature",
            "malformed-json",
            "missing-field",
        ]),
        "{run:?}"
    );
    assert_eq!(run.code, Some(0), "{run:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mpp_that_breaks_one_field_rule_fails_exactly_the_payment_it_answers_that_way() {
    let run = conform_inquiry(MppFlaw::PaymentIdTooLong, &[]).await;
    assert_eq!(
        run.failing(),
        set(&["known-payment:PAY-SUCCESS-1"]),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("paymentId: longer than 64 characters"),
        "{run:?}"
    );
    assert_eq!(run.code, Some(1), "{run:?}");
}
