//! A payment and what changes it: its states, the push and risk reports that make it final,
//! and what recording one did.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::protocol::{Amount, ResultStatus, datetime};

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Not final yet: inquiryPayment answers PAYMENT_IN_PROCESS.
    Processing,
    /// Final, succeeded.
    Success,
    /// Final, failed with a code.
    Fail,
}

impl PaymentStatus {
    /// Whether the payment reached a final state.
    pub fn is_final(self) -> bool {
        self != PaymentStatus::Processing
    }

    /// The `resultStatus` this state reads as: S, F, or U while processing.
    pub fn result_status(self) -> ResultStatus {
        match self {
            PaymentStatus::Success => ResultStatus::S,
            PaymentStatus::Fail => ResultStatus::F,
            PaymentStatus::Processing => ResultStatus::U,
        }
    }

    /// The text stored in SQL columns, the same as the JSON form.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Processing => "PROCESSING",
            PaymentStatus::Success => "SUCCESS",
            PaymentStatus::Fail => "FAIL",
        }
    }
}

/// An exchange quote attached to a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// Quote id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_id: Option<String>,
    /// e.g. `USD/CNY` or `392/156`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote_currency_pair: Option<String>,
    /// Target units per source unit, as decimal text.
    pub quote_price: String,
}

/// Everything the gateway knows of one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    /// Id of the payment order assigned by the requester (Alipay+ / the ACQP).
    pub payment_request_id: Option<String>,
    /// Id assigned by the payment's processor (the MPP / Alipay+).
    pub payment_id: Option<String>,
    /// Where it stands.
    pub status: PaymentStatus,
    /// SUCCESS, PAYMENT_IN_PROCESS or the failure code.
    pub result_code: String,
    /// The message that goes with the code.
    pub result_message: Option<String>,
    /// When it reached its final state (Datetime text).
    pub payment_time: Option<String>,
    /// When it was created (Datetime text).
    pub payment_create_time: Option<String>,
    /// The amount in the order currency.
    pub payment_amount: Option<Amount>,
    /// The MPP's (wallet's) currency, when it differs from the order currency.
    pub pay_to_currency: Option<String>,
    /// The quote from order currency to the MPP currency.
    pub payment_quote: Option<Quote>,
    /// The MPP's id of the user.
    pub customer_id: Option<String>,
    /// The wallet, e.g. `ALIPAY_CN`; ALIPAY_CN payments carry a customs declaration amount.
    pub psp_name: Option<String>,
    /// Amount to declare to customs, when set explicitly.
    pub customs_declaration_amount: Option<Amount>,
    /// Key-value text the MPP passes through.
    pub pass_through_info: Option<String>,
    /// The merchant's Client-Id: whom the result notification goes to.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Where the result notification goes; else the merchant's default from config.
    #[serde(default)]
    pub notify_url: Option<String>,
    /// When the gateway first stored it.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Payment {
    /// A payment in `status` with `result_code`, first stored `at`, and nothing else known yet:
    /// name the rest with struct update syntax (`Payment { payment_id, ..Payment::new(..) }`).
    pub fn new(status: PaymentStatus, result_code: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            payment_request_id: None,
            payment_id: None,
            status,
            result_code: result_code.into(),
            result_message: None,
            payment_time: None,
            payment_create_time: None,
            payment_amount: None,
            pay_to_currency: None,
            payment_quote: None,
            customer_id: None,
            psp_name: None,
            customs_declaration_amount: None,
            pass_through_info: None,
            client_id: None,
            notify_url: None,
            created_at: at,
            updated_at: at,
        }
    }

    /// Whether `caller` (a Client-Id; empty for the admin API) may read or change it: a payment
    /// with a merchant belongs to that merchant alone.
    pub fn is_visible_to(&self, caller: &str) -> bool {
        caller.is_empty()
            || self
                .client_id
                .as_deref()
                .is_none_or(|owner| owner == caller)
    }
}

/// A final result reported by notifyPushPayment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushReport {
    /// Alipay+'s payment id (required).
    pub payment_id: String,
    /// The ACQP's payment request id (required on success).
    pub payment_request_id: Option<String>,
    /// Success or Fail.
    pub status: PaymentStatus,
    /// SUCCESS or the failure code.
    pub result_code: String,
    /// The reporter's message.
    pub result_message: Option<String>,
    /// When the payment reached its final state.
    pub payment_time: Option<String>,
}

impl PushReport {
    /// Whether a stored payment carries exactly this report. Times compare as instants, so
    /// `+08:00` and `Z` spellings of one moment agree.
    pub fn agrees_with(&self, p: &Payment) -> bool {
        let same_time = match (&self.payment_time, &p.payment_time) {
            (Some(a), Some(b)) => datetime::parse(a) == datetime::parse(b),
            (None, None) => true,
            _ => false,
        };
        p.status == self.status
            && p.result_code == self.result_code
            && p.payment_id.as_deref() == Some(self.payment_id.as_str())
            && p.payment_request_id == self.payment_request_id
            && same_time
    }
}

/// A card payment result reported by sendPaymentResult, kept per client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskReport {
    /// The reporting merchant's Client-Id.
    pub client_id: String,
    /// The merchant's transaction id.
    pub reference_transaction_id: String,
    /// SUCCESS or FAIL.
    pub payment_status: String,
    /// The report body in canonical form (keys sorted, nulls dropped): what idempotency compares.
    pub report: String,
    /// When it was first stored.
    pub received_at: DateTime<Utc>,
}

/// What recording a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome<T> {
    /// First report: stored.
    Recorded(T),
    /// The same report again: nothing changed.
    Repeated(T),
    /// A different report for the same id: the first stands and is returned.
    Contradicts(T),
    /// The payment belongs to another client: nothing changed, nothing is returned.
    Foreign,
}

/// A write that can make a payment final: what it did, and what it queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written<O> {
    /// What the write did.
    pub outcome: O,
    /// Whether it queued the payment's notification.
    pub queuing: super::message::Queuing,
}

impl<O> Written<O> {
    /// A write that changed no payment.
    pub fn unchanged(outcome: O) -> Self {
        Self {
            outcome,
            queuing: super::message::Queuing::Unchanged,
        }
    }
}

/// What seeding a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedOutcome {
    /// Stored.
    Created(Payment),
    /// A payment with that paymentRequestId or paymentId exists; it is returned unchanged.
    Exists(Payment),
}
