//! One contract for every store backend: each case below runs against `memory://`, SQLite (a
//! real file) and PostgreSQL (a schema of its own per case). The memory store and the SQL store
//! each state the same rules (the push decision, one notification per final payment, risk
//! report idempotency, leases, the retry shift, cancel, redeliver, reset); this suite pins them
//! equal. Without GATEWAY_TEST_POSTGRES_URL the PostgreSQL cases say SKIPPED (and fail under
//! GATEWAY_TEST_REQUIRE_ALL); `eval "$(scripts/test-postgres.sh)"` sets it.

#[path = "support/postgres_schema.rs"]
mod postgres_schema;
#[path = "support/skip.rs"]
mod skip;

use std::collections::HashMap;
use std::sync::Arc;

use alipay_gateway::config::StoreSettings;
use alipay_gateway::domain::message::{NotifyPlan, Queuing};
use alipay_gateway::domain::recording::{RecordedMessage, Recording, RecordingFilter};
use alipay_gateway::protocol::Amount;
use alipay_gateway::store::{
    self, Attempt, CancelOutcome, NextStep, NotificationStatus, Payment, PaymentQuery,
    PaymentStatus, PushReport, ReportOutcome, RiskReport, SeedOutcome, Store,
};
use chrono::Utc;

/// The merchant every case's payments belong to.
const MERCHANT: &str = "CONTRACT_MERCHANT";

/// A backend under contract.
#[derive(Debug, Clone, Copy)]
enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

/// An open store and what keeps its files alive.
struct Opened {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// A fresh, empty store, or `None` (after saying SKIPPED) when this machine has none.
    async fn open(self, case: &str) -> Option<Opened> {
        let (url, dir) = match self {
            Backend::Memory => ("memory://".to_owned(), None),
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}/contract.db", dir.path().display());
                (url, Some(dir))
            }
            Backend::Postgres => (postgres_schema(case).await?, None),
        };
        let settings = StoreSettings {
            url,
            max_connections: 4,
            acquire_timeout_ms: 5000,
            sqlite_synchronous: "normal".into(),
            statement_timeout_ms: 5000,
            memory_max_entries: 1000,
        };
        let store = store::connect(&settings)
            .await
            .unwrap_or_else(|e| panic!("{self:?}: {e}"));
        Some(Opened { store, _dir: dir })
    }
}

/// A schema of its own on the test PostgreSQL, as a URL that selects it.
async fn postgres_schema(case: &str) -> Option<String> {
    let Ok(base) = std::env::var("GATEWAY_TEST_POSTGRES_URL") else {
        skip::skipped(
            &format!("store_contract::postgres::{case}"),
            "needs PostgreSQL; set GATEWAY_TEST_POSTGRES_URL (eval \"$(scripts/test-postgres.sh)\")",
        );
        return None;
    };
    Some(postgres_schema::create(&base, "contract").await)
}

/// Every case, on every backend: `contract!(case, ...)` makes `memory::case`, `sqlite::case`
/// and `postgres::case`.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod memory { $( #[tokio::test] async fn $case() { super::run(super::Backend::Memory, stringify!($case), super::$case).await } )* }
        mod sqlite { $( #[tokio::test] async fn $case() { super::run(super::Backend::Sqlite, stringify!($case), super::$case).await } )* }
        mod postgres { $( #[tokio::test] async fn $case() { super::run(super::Backend::Postgres, stringify!($case), super::$case).await } )* }
    };
}

async fn run<F, Fut>(backend: Backend, case: &str, body: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(opened) = backend.open(case).await {
        body(opened.store).await;
    }
}

contract!(
    a_push_for_an_unknown_payment_creates_it_and_queues_nothing_as_it_has_no_amount,
    a_push_completing_a_seeded_payment_queues_exactly_one_notification,
    the_same_push_again_is_a_repeat_and_queues_nothing_more,
    a_different_push_for_a_final_payment_contradicts_and_the_first_stands,
    another_clients_push_for_an_owned_payment_is_foreign_and_changes_nothing,
    seeding_an_existing_id_answers_the_payment_there_unchanged,
    a_risk_report_is_idempotent_per_client_and_transaction,
    a_due_notification_is_leased_to_one_owner_until_its_lease_ends,
    a_failed_attempt_is_recorded_and_the_retry_is_due_after_the_interval,
    a_delivered_attempt_ends_the_queue_for_that_notification,
    an_attempt_recorded_after_the_lease_was_taken_over_leaves_the_new_owner_in_charge,
    a_cancelled_notification_stays_cancelled_and_redelivery_makes_it_due_now,
    advancing_the_schedule_moves_pending_notifications_earlier,
    reset_forgets_every_payment_report_and_notification,
    recordings_are_listed_newest_first_and_narrowed_by_each_filter,
    a_reset_keeps_the_recordings,
    payments_are_listed_newest_first_a_page_at_a_time_by_state_merchant_and_id,
);

// ------------------------------------------------------------------------------------------
// What the cases are made of
// ------------------------------------------------------------------------------------------

/// The merchant's notify URL, from config.
fn default_urls() -> Arc<HashMap<String, String>> {
    Arc::new(HashMap::from([(
        MERCHANT.to_owned(),
        "http://127.0.0.1:9/notify".to_owned(),
    )]))
}

/// A payment of [`MERCHANT`], being processed, with an amount: notified once it is final.
fn seeded(request_id: &str) -> Payment {
    let now = Utc::now();
    Payment {
        payment_request_id: Some(request_id.to_owned()),
        payment_id: Some(format!("P-{request_id}")),
        payment_amount: Some(Amount::new("USD", "1000")),
        client_id: Some(MERCHANT.to_owned()),
        ..Payment::new(PaymentStatus::Processing, "PAYMENT_IN_PROCESS", now)
    }
}

/// A successful push result for `request_id`.
fn success(request_id: &str) -> PushReport {
    PushReport {
        payment_id: format!("P-{request_id}"),
        payment_request_id: Some(request_id.to_owned()),
        status: PaymentStatus::Success,
        result_code: "SUCCESS".into(),
        result_message: Some("success".into()),
        payment_time: Some("2026-12-03T10:00:00+08:00".into()),
    }
}

/// A failed push result for `request_id`.
fn failure(request_id: &str) -> PushReport {
    PushReport {
        status: PaymentStatus::Fail,
        result_code: "USER_BALANCE_NOT_ENOUGH".into(),
        result_message: Some("not enough".into()),
        ..success(request_id)
    }
}

/// What a call by `caller` notifies: the merchant URLs of config, the first attempt at `due_ms`.
fn plan<'a>(
    caller: &'a str,
    urls: &'a Arc<HashMap<String, String>>,
    due_ms: i64,
) -> NotifyPlan<'a> {
    NotifyPlan {
        caller,
        default_urls: urls,
        first_due_ms: due_ms,
    }
}

/// Seeds `request_id` and pushes its success; its one notification is due at `due_ms`.
async fn final_payment(store: &Arc<dyn Store>, request_id: &str, due_ms: i64) -> String {
    let urls = default_urls();
    let plan = plan(MERCHANT, &urls, due_ms);
    store.seed_payment(seeded(request_id), &plan).await.unwrap();
    let written = store
        .record_push_result(success(request_id), &plan)
        .await
        .unwrap();
    assert!(
        matches!(written.outcome, ReportOutcome::Recorded(_)),
        "{written:?}"
    );
    assert_eq!(written.queuing, Queuing::Queued, "the write says it queued");
    let notifications = store.notifications_for(request_id).await.unwrap();
    assert_eq!(notifications.len(), 1, "{notifications:?}");
    notifications[0].0.id.clone()
}

/// An attempt of `number` for `notification_id`, due at `due_ms`.
fn attempt(notification_id: &str, number: u32, due_ms: i64, delivered: bool) -> Attempt {
    Attempt {
        notification_id: notification_id.to_owned(),
        number,
        due_ms,
        started_ms: due_ms,
        url: "http://127.0.0.1:9/notify".into(),
        http_status: Some(200),
        ack_status: Some(if delivered { "S" } else { "U" }.into()),
        ack_code: Some(
            if delivered {
                "SUCCESS"
            } else {
                "UNKNOWN_EXCEPTION"
            }
            .into(),
        ),
        latency_ms: 3,
        error: None,
        delivered,
    }
}

fn risk(client_id: &str, reference: &str, status: &str) -> RiskReport {
    RiskReport {
        client_id: client_id.to_owned(),
        reference_transaction_id: reference.to_owned(),
        payment_status: status.to_owned(),
        report: format!(r#"{{"paymentStatus":"{status}","referenceTransactionId":"{reference}"}}"#),
        received_at: Utc::now(),
    }
}

/// Where a notification stands now.
async fn status_of(store: &Arc<dyn Store>, request_id: &str) -> (NotificationStatus, u32, i64) {
    let (n, _) = store.notifications_for(request_id).await.unwrap().remove(0);
    (n.status, n.attempts_made, n.next_due_ms)
}

// ------------------------------------------------------------------------------------------
// The cases
// ------------------------------------------------------------------------------------------

async fn a_push_for_an_unknown_payment_creates_it_and_queues_nothing_as_it_has_no_amount(
    store: Arc<dyn Store>,
) {
    let urls = default_urls();
    let written = store
        .record_push_result(success("R-NEW"), &plan(MERCHANT, &urls, 0))
        .await
        .unwrap();
    let reason = written.queuing.reason().unwrap_or_default();
    assert!(reason.contains("paymentAmount"), "{:?}", written.queuing);
    let ReportOutcome::Recorded(created) = written.outcome else {
        panic!("{:?}", written.outcome);
    };
    assert_eq!(created.status, PaymentStatus::Success);
    assert_eq!(
        created.client_id.as_deref(),
        Some(MERCHANT),
        "the reporter owns it"
    );
    assert_eq!(store.payment("R-NEW").await.unwrap(), Some(created));
    assert!(store.notifications_for("R-NEW").await.unwrap().is_empty());
    assert_eq!(store.pending_count().await.unwrap(), 0);
}

async fn a_push_completing_a_seeded_payment_queues_exactly_one_notification(store: Arc<dyn Store>) {
    final_payment(&store, "R-ONE", 1_000).await;
    let (status, made, due) = status_of(&store, "R-ONE").await;
    assert_eq!((status, made, due), (NotificationStatus::Pending, 0, 1_000));
    assert_eq!(store.pending_count().await.unwrap(), 1);
    assert_eq!(store.next_due_ms().await.unwrap(), Some(1_000));
    let paid = store.payment("R-ONE").await.unwrap().unwrap();
    assert_eq!(paid.status, PaymentStatus::Success);
    assert_eq!(paid.result_code, "SUCCESS");
}

async fn the_same_push_again_is_a_repeat_and_queues_nothing_more(store: Arc<dyn Store>) {
    final_payment(&store, "R-AGAIN", 0).await;
    let urls = default_urls();
    let again = store
        .record_push_result(success("R-AGAIN"), &plan(MERCHANT, &urls, 0))
        .await
        .unwrap();
    assert!(
        matches!(again.outcome, ReportOutcome::Repeated(_)),
        "{again:?}"
    );
    assert_eq!(again.queuing, Queuing::Unchanged);
    assert_eq!(store.notifications_for("R-AGAIN").await.unwrap().len(), 1);
}

async fn a_different_push_for_a_final_payment_contradicts_and_the_first_stands(
    store: Arc<dyn Store>,
) {
    final_payment(&store, "R-CONTRA", 0).await;
    let urls = default_urls();
    let outcome = store
        .record_push_result(failure("R-CONTRA"), &plan(MERCHANT, &urls, 0))
        .await
        .unwrap()
        .outcome;
    let ReportOutcome::Contradicts(first) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(first.status, PaymentStatus::Success);
    let kept = store.payment("R-CONTRA").await.unwrap().unwrap();
    assert_eq!(kept.status, PaymentStatus::Success);
    assert_eq!(store.notifications_for("R-CONTRA").await.unwrap().len(), 1);
}

async fn another_clients_push_for_an_owned_payment_is_foreign_and_changes_nothing(
    store: Arc<dyn Store>,
) {
    let urls = default_urls();
    store
        .seed_payment(seeded("R-OWNED"), &plan(MERCHANT, &urls, 0))
        .await
        .unwrap();
    let outcome = store
        .record_push_result(success("R-OWNED"), &plan("SOMEONE_ELSE", &urls, 0))
        .await
        .unwrap()
        .outcome;
    assert_eq!(outcome, ReportOutcome::Foreign);
    let kept = store.payment("R-OWNED").await.unwrap().unwrap();
    assert_eq!(kept.status, PaymentStatus::Processing);
    assert!(store.notifications_for("R-OWNED").await.unwrap().is_empty());
}

async fn seeding_an_existing_id_answers_the_payment_there_unchanged(store: Arc<dyn Store>) {
    let urls = default_urls();
    let plan = plan(MERCHANT, &urls, 0);
    let SeedOutcome::Created(first) = store
        .seed_payment(seeded("R-SEED"), &plan)
        .await
        .unwrap()
        .outcome
    else {
        panic!("the first seed creates");
    };
    let mut other = seeded("R-SEED");
    other.payment_amount = Some(Amount::new("EUR", "5"));
    let again = store.seed_payment(other, &plan).await.unwrap().outcome;
    assert_eq!(again, SeedOutcome::Exists(first.clone()));
    // The same paymentId under another paymentRequestId is the same payment too.
    let mut same_payment_id = seeded("R-SEED-OTHER");
    same_payment_id.payment_id = first.payment_id.clone();
    let again = store
        .seed_payment(same_payment_id, &plan)
        .await
        .unwrap()
        .outcome;
    assert_eq!(again, SeedOutcome::Exists(first));
}

async fn a_risk_report_is_idempotent_per_client_and_transaction(store: Arc<dyn Store>) {
    let first = store
        .record_risk_report(risk(MERCHANT, "TX-1", "SUCCESS"))
        .await
        .unwrap();
    assert!(matches!(first, ReportOutcome::Recorded(_)), "{first:?}");
    let again = store
        .record_risk_report(risk(MERCHANT, "TX-1", "SUCCESS"))
        .await
        .unwrap();
    let ReportOutcome::Repeated(kept) = again else {
        panic!("{again:?}");
    };
    assert_eq!(kept.payment_status, "SUCCESS");
    let contra = store
        .record_risk_report(risk(MERCHANT, "TX-1", "FAIL"))
        .await
        .unwrap();
    let ReportOutcome::Contradicts(kept) = contra else {
        panic!("{contra:?}");
    };
    assert_eq!(kept.payment_status, "SUCCESS", "the first report stands");
    let other_client = store
        .record_risk_report(risk("OTHER_MERCHANT", "TX-1", "FAIL"))
        .await
        .unwrap();
    assert!(
        matches!(other_client, ReportOutcome::Recorded(_)),
        "another client's transaction of the same id is its own: {other_client:?}"
    );
}

async fn a_due_notification_is_leased_to_one_owner_until_its_lease_ends(store: Arc<dyn Store>) {
    final_payment(&store, "R-LEASE", 1_000).await;
    assert!(
        store
            .claim_due(999, "A", 5_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let claimed = store.claim_due(1_000, "A", 5_000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_due(5_000, "B", 9_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "another owner cannot take it while A's lease holds, to its last millisecond"
    );
    assert_eq!(
        store.next_due_ms().await.unwrap(),
        Some(5_000),
        "next claimable when the lease ends"
    );
    let taken_over = store.claim_due(5_001, "B", 9_000, 10).await.unwrap();
    assert_eq!(taken_over.len(), 1, "B takes it over once A's lease ended");
    assert_eq!(taken_over[0].id, claimed[0].id);
}

async fn a_failed_attempt_is_recorded_and_the_retry_is_due_after_the_interval(
    store: Arc<dyn Store>,
) {
    let id = final_payment(&store, "R-RETRY", 1_000).await;
    store.claim_due(1_000, "A", 5_000, 10).await.unwrap();
    store
        .finish_attempt(
            "A",
            attempt(&id, 1, 1_000, false),
            NextStep::RetryAt(121_000),
        )
        .await
        .unwrap();
    let (status, made, due) = status_of(&store, "R-RETRY").await;
    assert_eq!(
        (status, made, due),
        (NotificationStatus::Pending, 1, 121_000)
    );
    let (_, attempts) = store.notifications_for("R-RETRY").await.unwrap().remove(0);
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].number, 1);
    assert!(!attempts[0].delivered);
    // The lease was given back: the retry is claimable by anyone when due.
    assert_eq!(
        store
            .claim_due(121_000, "B", 200_000, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn a_delivered_attempt_ends_the_queue_for_that_notification(store: Arc<dyn Store>) {
    let id = final_payment(&store, "R-DONE", 0).await;
    store.claim_due(0, "A", 5_000, 10).await.unwrap();
    store
        .finish_attempt("A", attempt(&id, 1, 0, true), NextStep::Delivered)
        .await
        .unwrap();
    let (status, made, _) = status_of(&store, "R-DONE").await;
    assert_eq!((status, made), (NotificationStatus::Delivered, 1));
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert_eq!(store.next_due_ms().await.unwrap(), None);
    assert!(
        store
            .claim_due(i64::MAX / 4, "B", i64::MAX / 2, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn an_attempt_recorded_after_the_lease_was_taken_over_leaves_the_new_owner_in_charge(
    store: Arc<dyn Store>,
) {
    let id = final_payment(&store, "R-LATE", 0).await;
    store.claim_due(0, "A", 1_000, 10).await.unwrap();
    assert_eq!(
        store.claim_due(1_001, "B", 9_000, 10).await.unwrap().len(),
        1
    );
    // A's attempt ends after its lease ran out and B claimed the notification.
    store
        .finish_attempt("A", attempt(&id, 1, 0, true), NextStep::Delivered)
        .await
        .unwrap();
    let (status, _, _) = status_of(&store, "R-LATE").await;
    assert_eq!(
        status,
        NotificationStatus::Pending,
        "B holds it: A's late answer does not finish it"
    );
    assert!(
        store
            .claim_due(2_000, "C", 9_000, 10)
            .await
            .unwrap()
            .is_empty(),
        "B's lease still holds"
    );
}

async fn a_cancelled_notification_stays_cancelled_and_redelivery_makes_it_due_now(
    store: Arc<dyn Store>,
) {
    let id = final_payment(&store, "R-CANCEL", 50_000).await;
    assert!(matches!(
        store.cancel(&id).await.unwrap(),
        CancelOutcome::Cancelled(_)
    ));
    assert!(matches!(
        store.cancel(&id).await.unwrap(),
        CancelOutcome::NotPending(_)
    ));
    assert!(matches!(
        store.cancel("no-such-notification").await.unwrap(),
        CancelOutcome::Unknown
    ));
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert!(
        store
            .claim_due(60_000, "A", 90_000, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let redelivered = store
        .redeliver(&id, 7_000)
        .await
        .unwrap()
        .expect("it exists");
    assert_eq!(redelivered.status, NotificationStatus::Pending);
    assert_eq!(redelivered.next_due_ms, 7_000);
    assert_eq!(
        store.claim_due(7_000, "A", 9_000, 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        store.redeliver("no-such-notification", 0).await.unwrap(),
        None
    );
}

async fn advancing_the_schedule_moves_pending_notifications_earlier(store: Arc<dyn Store>) {
    final_payment(&store, "R-CLOCK-1", 100_000).await;
    final_payment(&store, "R-CLOCK-2", 200_000).await;
    assert_eq!(store.advance_schedule(60_000).await.unwrap(), 2);
    assert_eq!(status_of(&store, "R-CLOCK-1").await.2, 40_000);
    assert_eq!(status_of(&store, "R-CLOCK-2").await.2, 140_000);
    assert_eq!(store.next_due_ms().await.unwrap(), Some(40_000));
}

async fn reset_forgets_every_payment_report_and_notification(store: Arc<dyn Store>) {
    final_payment(&store, "R-RESET", 0).await;
    store
        .record_risk_report(risk(MERCHANT, "TX-RESET", "SUCCESS"))
        .await
        .unwrap();
    store.reset().await.unwrap();
    assert_eq!(store.payment("R-RESET").await.unwrap(), None);
    assert!(store.notifications_for("R-RESET").await.unwrap().is_empty());
    assert_eq!(store.pending_count().await.unwrap(), 0);
    let again = store
        .record_risk_report(risk(MERCHANT, "TX-RESET", "FAIL"))
        .await
        .unwrap();
    assert!(matches!(again, ReportOutcome::Recorded(_)), "{again:?}");
}

fn recording(api: &str, client_id: &str, key: &str, verdict: &str) -> Recording {
    Recording {
        id: 0,
        recorded_at_ms: 1_700_000_000_000,
        api: api.into(),
        client_id: client_id.into(),
        signing: "re-sign".into(),
        match_key: key.into(),
        request: RecordedMessage {
            url: "http://upstream.example/aps/api/v1/payments/inquiryPayment".into(),
            status: None,
            headers: [("client-id".to_owned(), "UP".to_owned())].into(),
            body: format!(r#"{{"{}"}}"#, key.replace('=', r#"":""#)),
        },
        response: RecordedMessage {
            url: String::new(),
            status: Some(200),
            headers: Default::default(),
            body: r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"}}"#.into(),
        },
        latency_ms: 12,
        verdict: verdict.into(),
    }
}

async fn recordings_are_listed_newest_first_and_narrowed_by_each_filter(store: Arc<dyn Store>) {
    let first = store
        .record_exchange(recording(
            "inquiryPayment",
            "A",
            "paymentRequestId=R1",
            "valid",
        ))
        .await
        .unwrap();
    let second = store
        .record_exchange(recording(
            "inquiryPayment",
            "B",
            "paymentRequestId=R1",
            "HTTP 500",
        ))
        .await
        .unwrap();
    let third = store
        .record_exchange(recording("notifyPushPayment", "A", "paymentId=P1", "valid"))
        .await
        .unwrap();
    assert!(first < second && second < third, "{first} {second} {third}");

    let all = store.recordings(&RecordingFilter::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        [third, second, first]
    );
    let mut expected = recording("inquiryPayment", "A", "paymentRequestId=R1", "valid");
    expected.id = first;
    assert_eq!(all[2], expected, "a recording reads back as it was stored");

    let narrowed = |api: &str, client_id: &str, match_key: &str, verdict: &str| RecordingFilter {
        api: api.into(),
        client_id: client_id.into(),
        match_key: match_key.into(),
        verdict: verdict.into(),
        limit: None,
    };
    let ids = |found: Vec<Recording>| found.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let by = |f: RecordingFilter| {
        let store = store.clone();
        async move { ids(store.recordings(&f).await.unwrap()) }
    };
    assert_eq!(
        by(narrowed("inquiryPayment", "", "", "")).await,
        [second, first]
    );
    assert_eq!(by(narrowed("", "A", "", "")).await, [third, first]);
    assert_eq!(
        by(narrowed("", "", "paymentRequestId=R1", "valid")).await,
        [first]
    );
    assert_eq!(by(narrowed("", "", "", "HTTP 500")).await, [second]);
    let one = RecordingFilter {
        limit: Some(1),
        ..RecordingFilter::default()
    };
    assert_eq!(by(one).await, [third]);
}

async fn a_reset_keeps_the_recordings(store: Arc<dyn Store>) {
    store
        .record_exchange(recording(
            "inquiryPayment",
            "A",
            "paymentRequestId=R9",
            "valid",
        ))
        .await
        .unwrap();
    store.reset().await.unwrap();
    let kept = store.recordings(&RecordingFilter::default()).await.unwrap();
    assert_eq!(kept.len(), 1);
}

async fn payments_are_listed_newest_first_a_page_at_a_time_by_state_merchant_and_id(
    store: Arc<dyn Store>,
) {
    let urls = default_urls();
    let plan = plan(MERCHANT, &urls, 0);
    for i in 0..5 {
        let mut payment = seeded(&format!("R-LIST-{i}"));
        if i == 3 {
            payment.client_id = Some("OTHER_MERCHANT".into());
        }
        store.seed_payment(payment, &plan).await.unwrap();
    }
    store
        .record_push_result(success("R-LIST-1"), &plan)
        .await
        .unwrap();
    let ids = |page: Vec<Payment>| -> Vec<String> {
        page.into_iter()
            .map(|p| p.payment_request_id.unwrap_or_default())
            .collect()
    };
    let query = |status, client: Option<&str>, id: Option<&str>, offset, limit| PaymentQuery {
        status,
        client_id: client.map(str::to_owned),
        id: id.map(str::to_owned),
        offset,
        limit,
    };

    let first = store.list_payments(&query(None, None, None, 0, 2)).await;
    let second = store.list_payments(&query(None, None, None, 2, 2)).await;
    let last = store.list_payments(&query(None, None, None, 4, 2)).await;
    let processing = store
        .list_payments(&query(
            Some(PaymentStatus::Processing),
            Some(MERCHANT),
            None,
            0,
            10,
        ))
        .await;
    let other = store
        .list_payments(&query(None, Some("OTHER_MERCHANT"), None, 0, 10))
        .await;
    let by_request_id = store
        .list_payments(&query(None, None, Some("R-LIST-2"), 0, 10))
        .await;
    let by_payment_id = store
        .list_payments(&query(None, None, Some("P-R-LIST-1"), 0, 10))
        .await;
    let nothing = store
        .list_payments(&query(
            Some(PaymentStatus::Fail),
            None,
            Some("R-LIST-2"),
            0,
            10,
        ))
        .await;

    assert_eq!(ids(first.unwrap()), ["R-LIST-4", "R-LIST-3"]);
    assert_eq!(ids(second.unwrap()), ["R-LIST-2", "R-LIST-1"]);
    assert_eq!(ids(last.unwrap()), ["R-LIST-0"]);
    assert_eq!(
        ids(processing.unwrap()),
        ["R-LIST-4", "R-LIST-2", "R-LIST-0"]
    );
    assert_eq!(ids(other.unwrap()), ["R-LIST-3"]);
    assert_eq!(ids(by_request_id.unwrap()), ["R-LIST-2"]);
    assert_eq!(ids(by_payment_id.unwrap()), ["R-LIST-1"]);
    assert!(nothing.unwrap().is_empty());
}
