//! The notification a payment's final state turns into: who gets it, where, and the exact body,
//! fixed once so every attempt sends the same bytes under the same id; or why there is none.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::{NewNotification, Payment, PaymentStatus};
use crate::protocol::{Amount, WireResult, datetime};

/// What the store needs to queue a notification when a payment becomes final.
#[derive(Debug, Clone, Copy)]
pub struct NotifyPlan<'a> {
    /// The client whose call made the payment final (when the payment names no merchant).
    pub caller: &'a str,
    /// Each client's default notify URL from config.
    pub default_urls: &'a Arc<HashMap<String, String>>,
    /// When the first attempt is due (real epoch milliseconds).
    pub first_due_ms: i64,
}

/// `pspCustomerInfo` of the notification.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PspCustomerInfo<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    psp_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psp_customer_id: Option<&'a str>,
}

/// The payment result notification body, in the page's field order.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    notify_type: &'static str,
    result: WireResult,
    payment_request_id: &'a str,
    payment_id: &'a str,
    payment_amount: &'a Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_create_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_time: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    psp_customer_info: Option<PspCustomerInfo<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customs_declaration_amount: Option<&'a Amount>,
}

/// The merchant and the notify URL of a payment that just became final; `None` when it is not
/// final or has nowhere to go.
fn destination<'a>(payment: &'a Payment, plan: &NotifyPlan<'a>) -> Option<(&'a str, &'a str)> {
    if !payment.status.is_final() {
        return None;
    }
    let client_id = payment.client_id.as_deref().unwrap_or(plan.caller);
    let url = payment
        .notify_url
        .as_deref()
        .or_else(|| plan.default_urls.get(client_id).map(String::as_str))?;
    Some((client_id, url))
}

/// Why a payment that is final has no notification, in words for the admin views, the journal
/// and the log: every missing piece, each with what to do about it. `None` when it queues one,
/// or is not final yet.
pub fn why_not_queued(payment: &Payment, plan: &NotifyPlan<'_>) -> Option<String> {
    if !payment.status.is_final() {
        return None;
    }
    let mut missing = Vec::new();
    if payment.payment_amount.is_none() {
        missing.push(
            "the payment has no paymentAmount (a payment whose result was reported without \
             being seeded has none: seed it with POST /admin/payments first)"
                .to_owned(),
        );
    }
    if payment.payment_id.is_none() {
        missing.push("the payment has no paymentId (seed it with one)".to_owned());
    }
    if payment.payment_request_id.is_none() {
        missing.push("the payment has no paymentRequestId".to_owned());
    }
    if destination(payment, plan).is_none() {
        missing.push(match payment.client_id.as_deref().or(Some(plan.caller).filter(|c| !c.is_empty())) {
            Some(client) => format!(
                "nowhere to send it: the payment has no notifyUrl and its merchant {client} has \
                 no notify_url in [[clients]]"
            ),
            None => "nowhere to send it: the payment has no notifyUrl and names no merchant \
                     (clientId)"
                .to_owned(),
        });
    }
    (!missing.is_empty()).then(|| format!("no notification: {}", missing.join("; ")))
}

/// What writing a payment did about its notification; the store answers it beside the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queuing {
    /// The payment became final and its notification is queued (or already was).
    Queued,
    /// The payment is final but queued nothing, for this reason ([`why_not_queued`]).
    Nothing(String),
    /// The payment is not final: nothing to send yet.
    NotFinal,
    /// The write changed no payment (a repeat, a conflict, another client's payment).
    Unchanged,
}

impl Queuing {
    /// Why nothing was queued, when a final payment queued nothing.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Queuing::Nothing(reason) => Some(reason),
            _ => None,
        }
    }
}

/// The notification for a payment that was just written, or what else its write means for
/// notifying (a reason is logged here, so every path that finalises a payment says it).
pub fn build(payment: &Payment, plan: &NotifyPlan<'_>) -> Result<NewNotification, Queuing> {
    if !payment.status.is_final() {
        return Err(Queuing::NotFinal);
    }
    if let Some(reason) = why_not_queued(payment, plan) {
        tracing::info!(
            payment_request_id = payment.payment_request_id.as_deref().unwrap_or(""),
            "{reason}"
        );
        return Err(Queuing::Nothing(reason));
    }
    let gone =
        || Queuing::Nothing("no notification: the payment changed while it was built".into());
    let (client_id, url) = destination(payment, plan).ok_or_else(gone)?;
    let url = url.to_owned();
    let (Some(payment_request_id), Some(payment_id), Some(amount)) = (
        payment.payment_request_id.as_deref(),
        payment.payment_id.as_deref(),
        payment.payment_amount.as_ref(),
    ) else {
        return Err(gone());
    };
    let success = payment.status == PaymentStatus::Success;
    let result = if success {
        WireResult::success()
    } else {
        WireResult::new(
            payment.result_code.as_str(),
            crate::protocol::ResultStatus::F,
            payment
                .result_message
                .clone()
                .unwrap_or_else(|| payment.result_code.clone()),
        )
    };
    let psp =
        (payment.psp_name.is_some() || payment.customer_id.is_some()).then_some(PspCustomerInfo {
            psp_name: payment.psp_name.as_deref(),
            psp_customer_id: payment.customer_id.as_deref(),
        });
    let body = Body {
        notify_type: "PAYMENT_RESULT",
        result,
        payment_request_id,
        payment_id,
        payment_amount: amount,
        payment_create_time: Some(
            payment
                .payment_create_time
                .clone()
                .unwrap_or_else(|| datetime::format_seconds(payment.created_at.fixed_offset())),
        ),
        // The page: paymentTime is returned only when the result is S.
        payment_time: payment.payment_time.as_deref().filter(|_| success),
        psp_customer_info: psp,
        customs_declaration_amount: payment.customs_declaration_amount.as_ref(),
    };
    let body = serde_json::to_string(&body).map_err(|e| {
        Queuing::Nothing(format!("no notification: its body did not serialise: {e}"))
    })?;
    Ok(NewNotification {
        id: crate::ids::notification_id(),
        payment_request_id: payment_request_id.to_owned(),
        client_id: client_id.to_owned(),
        url,
        body,
        first_due_ms: plan.first_due_ms,
    })
}
