//! What the gateway knows and decides, free of IO: payments and their states, the reports that
//! make them final, notifications with their attempts, and the message a final payment turns
//! into; what a real upstream answered to a forwarded request (a recording); namespaces and the
//! clients registered at run time. The store records these; the APIs and the sender act on them.

pub mod message;
pub mod namespace;
mod notification;
mod payment;
pub mod push;
pub mod recording;

pub use notification::{
    Attempt, CancelOutcome, NewNotification, NextStep, Notification, NotificationStatus,
    ReceivedNotification,
};
pub use payment::{
    Payment, PaymentStatus, PushReport, Quote, ReportOutcome, RiskReport, SeedOutcome, Written,
};
