//! A notification and its attempts: where it stands, what one attempt found, and what follows
//! it; and what the receiver endpoint got.

use serde::{Deserialize, Serialize};

/// Where a notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The merchant answered S.
    Delivered,
    /// Every attempt of the schedule failed.
    Exhausted,
    /// Cancelled through the admin API.
    Cancelled,
}

impl NotificationStatus {
    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "PENDING",
            NotificationStatus::Delivered => "DELIVERED",
            NotificationStatus::Exhausted => "EXHAUSTED",
            NotificationStatus::Cancelled => "CANCELLED",
        }
    }

    /// Parses the stored text.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Delivered,
            Self::Exhausted,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// Stable across attempts.
    pub id: String,
    /// The payment it reports.
    pub payment_request_id: String,
    /// The merchant's Client-Id: the `client-id` header it is sent with.
    pub client_id: String,
    /// Where it goes.
    pub url: String,
    /// The exact JSON body every attempt sends.
    pub body: String,
    /// When the first attempt is due (real epoch milliseconds).
    pub first_due_ms: i64,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Stable across attempts.
    pub id: String,
    /// The payment it reports.
    pub payment_request_id: String,
    /// The merchant's Client-Id.
    pub client_id: String,
    /// Where it goes.
    pub url: String,
    /// The exact JSON body.
    pub body: String,
    /// Where it stands.
    pub status: NotificationStatus,
    /// Attempts made so far.
    pub attempts_made: u32,
    /// When the next attempt is due (real epoch milliseconds); meaningful while pending.
    pub next_due_ms: i64,
    /// When it was queued.
    pub created_at_ms: i64,
}

/// One delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// The notification.
    pub notification_id: String,
    /// 1 for the first attempt.
    pub number: u32,
    /// When it was due (real epoch milliseconds).
    pub due_ms: i64,
    /// When it started.
    pub started_ms: i64,
    /// Where it went.
    pub url: String,
    /// The HTTP status, when an answer came.
    pub http_status: Option<u16>,
    /// `result.resultStatus` of the acknowledgement, when it had one.
    pub ack_status: Option<String>,
    /// `result.resultCode` of the acknowledgement, when it had one.
    pub ack_code: Option<String>,
    /// How long it took.
    pub latency_ms: i64,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Whether the merchant acknowledged with S.
    pub delivered: bool,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Acknowledged: done.
    Delivered,
    /// Failed; try again at this time.
    RetryAt(i64),
    /// Failed, and it was the last attempt.
    Exhausted,
}

/// What cancelling did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was pending and is cancelled now.
    Cancelled(Notification),
    /// It is not pending; nothing changed.
    NotPending(Notification),
    /// No such notification.
    Unknown,
}

/// A notification the receiver endpoint got, with the gateway's verdict on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedNotification {
    /// When it arrived (real epoch milliseconds).
    pub received_at_ms: i64,
    /// Its `client-id` header.
    pub client_id: String,
    /// Its `paymentRequestId`, when the body had one.
    pub payment_request_id: Option<String>,
    /// `valid`, or why the signature or the body was rejected.
    pub verdict: String,
    /// The `resultCode` the gateway answered.
    pub answered: String,
    /// The body as received.
    pub body: String,
}
