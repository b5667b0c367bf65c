//! The push decision, pure and shared by every store backend: what a push report does to the payments
//! found by its paymentId and its paymentRequestId. Backends only make the lookup, decision and
//! write one atomic step.

use chrono::{DateTime, Utc};

use super::{Payment, PushReport};

/// Given the payment found by paymentId and the one found by paymentRequestId, what a push
/// report by `reporter` (a Client-Id; empty for the admin API, which may touch any) does.
pub(crate) fn decide_push(
    by_payment_id: Option<&Payment>,
    by_request_id: Option<&Payment>,
    report: &PushReport,
    reporter: &str,
) -> PushDecision {
    // A payment that has a merchant is that merchant's: nobody else learns or changes it.
    if [by_payment_id, by_request_id]
        .into_iter()
        .flatten()
        .any(|p| !p.is_visible_to(reporter))
    {
        return PushDecision::Foreign;
    }
    if let Some(p) = by_payment_id {
        if report.agrees_with(p) {
            return PushDecision::Repeated;
        }
        if p.status.is_final() {
            return PushDecision::Contradicts(Which::ByPaymentId);
        }
    }
    if let Some(p) = by_request_id
        && (p
            .payment_id
            .as_deref()
            .is_some_and(|id| id != report.payment_id)
            || p.status.is_final())
    {
        return PushDecision::Contradicts(Which::ByRequestId);
    }
    // A processing payment found by paymentId must not be re-keyed to another request id.
    if let (Some(p), Some(rid)) = (by_payment_id, &report.payment_request_id)
        && p.payment_request_id.as_deref().is_some_and(|id| id != rid)
    {
        return PushDecision::Contradicts(Which::ByPaymentId);
    }
    match (by_payment_id, by_request_id) {
        (Some(_), _) => PushDecision::Complete(Which::ByPaymentId),
        (None, Some(_)) => PushDecision::Complete(Which::ByRequestId),
        (None, None) => PushDecision::Create,
    }
}

/// Which of the two lookups a decision is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    ByPaymentId,
    ByRequestId,
}

/// The outcome of [`decide_push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushDecision {
    /// The payment belongs to another client; nothing changes.
    Foreign,
    Repeated,
    Contradicts(Which),
    Complete(Which),
    Create,
}

/// Applies a report by `reporter` (a Client-Id; empty for the admin API) to a processing
/// payment (or a fresh one). A payment that names no merchant takes the reporter as its
/// merchant: that is whom its notification goes to, and whom the admin views name when it has
/// nowhere to go.
pub(crate) fn apply_push(
    mut p: Payment,
    report: &PushReport,
    reporter: &str,
    now: DateTime<Utc>,
) -> Payment {
    if p.client_id.is_none() && !reporter.is_empty() {
        p.client_id = Some(reporter.to_owned());
    }
    p.payment_id = Some(report.payment_id.clone());
    if report.payment_request_id.is_some() {
        p.payment_request_id = report.payment_request_id.clone();
    }
    p.status = report.status;
    p.result_code = report.result_code.clone();
    p.result_message = report.result_message.clone();
    p.payment_time = report.payment_time.clone();
    p.updated_at = now;
    p
}

/// A payment that a push report by `reporter` creates from nothing.
pub(crate) fn new_from_push(report: &PushReport, reporter: &str, now: DateTime<Utc>) -> Payment {
    let blank = Payment::new(report.status, "", now);
    apply_push(blank, report, reporter, now)
}
