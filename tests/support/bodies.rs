//! Request bodies in domain terms: push reports, inquiries, risk reports, seeded payments.

use serde_json::{Value, json};

use super::config::MERCHANT;

/// The API paths the process tests call.
pub mod paths {
    /// ACQP -> Alipay+: a payment's result.
    pub const NOTIFY_PUSH_PAYMENT: &str = "/aps/api/v1/payments/notifyPushPayment";
    /// Alipay+ -> MPP: a payment's status.
    pub const INQUIRY_PAYMENT: &str = "/aps/api/v1/payments/inquiryPayment";
    /// Merchant -> Antom risk: a payment's outcome.
    pub const SEND_PAYMENT_RESULT: &str = "/ams/api/v1/risk/payments/sendPaymentResult";
}

/// `n` (paymentId, paymentRequestId) pairs, distinct per `tag`.
pub fn ids(tag: &str, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("P-{tag}-{i}"), format!("R-{tag}-{i}")))
        .collect()
}

/// A push report that the payment succeeded.
pub fn success_report(payment_id: &str, payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
        "paymentId": payment_id,
        "paymentRequestId": payment_request_id,
        "paymentTime": "2026-01-01T12:00:00+08:00",
    })
}

/// The same payment reported failed: contradicts [`success_report`].
pub fn failure_report(payment_id: &str, payment_request_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "RISK_REJECT", "resultStatus": "F"},
        "paymentId": payment_id,
        "paymentRequestId": payment_request_id,
        "paymentTime": "2026-01-01T12:00:00+08:00",
    })
}

/// An inquiryPayment request for one payment.
pub fn inquiry(payment_request_id: &str) -> Value {
    json!({"acquirerId": "A", "pspId": "B", "paymentRequestId": payment_request_id})
}

/// A sendPaymentResult report of one transaction.
pub fn risk_report(reference_transaction_id: &str, payment_status: &str) -> Value {
    json!({
        "referenceTransactionId": reference_transaction_id,
        "paymentStatus": payment_status,
        "paymentMethodProvider": "VISA",
    })
}

/// A successful payment of the merchant whose notification goes to `notify_url`, as the admin
/// API seeds it.
pub fn notified_payment(payment_request_id: &str, notify_url: &str) -> Value {
    json!({
        "paymentRequestId": payment_request_id,
        "paymentId": format!("P-{payment_request_id}"),
        "status": "SUCCESS",
        "paymentAmount": {"currency": "USD", "value": "1000"},
        "clientId": MERCHANT,
        "notifyUrl": notify_url,
    })
}

/// The recorded attempts' numbers of a notification the admin API answered.
pub fn attempt_numbers(notification: &Value) -> Vec<u64> {
    notification["attempts"]
        .as_array()
        .map(|a| a.iter().filter_map(|a| a["number"].as_u64()).collect())
        .unwrap_or_default()
}
