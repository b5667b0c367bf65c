//! The four APIs the gateway serves, and each one's wire description: its name, the paths it
//! answers on, its result-code tables, the key field of the `__<CODE>` convention and what it
//! is for. Config (reserved paths, allow-lists, rules), scenarios, routing and the OpenAPI
//! document all read these, so an API's wire facts are written once.

use std::fmt;

use super::codes::{
    Code, INQUIRY_PAYMENT_RESULT, INQUIRY_RESULT, NOTIFY_RESULT, PUSH_RESULT,
    SEND_PAYMENT_RESULT_RESULT,
};

/// One of the four APIs, by its name (`Spec::name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, utoipa::ToSchema)]
#[schema(rename_all = "camelCase")]
pub enum Endpoint {
    /// Antom risk: a merchant reports a card payment's final result.
    SendPaymentResult,
    /// Alipay+: an ACQP reports a push-mode payment's final result.
    NotifyPushPayment,
    /// The MPP side: Alipay+ asks for a payment's result.
    InquiryPayment,
    /// A merchant's webhook: receives payment result notifications.
    NotifyPayment,
}

/// An API's wire description.
#[derive(Debug)]
pub struct Spec {
    /// The API.
    pub endpoint: Endpoint,
    /// Its name as the pages write it; also its name in config allow-lists and rules.
    pub name: &'static str,
    /// The fixed paths it answers on, the sandbox forms included. notifyPayment's path is
    /// configuration (`server.notify_payment_path`), so it has none here.
    pub paths: &'static [&'static str],
    /// The `result` codes its page lists.
    pub result_codes: &'static [Code],
    /// inquiryPayment: the `paymentResult` codes its page lists; empty for the others.
    pub payment_result_codes: &'static [Code],
    /// The field the `__<CODE>` convention reads (and a recording is matched by).
    pub key_field: &'static str,
    /// What it does, as the OpenAPI document says it.
    pub summary: &'static str,
}

const SEND_PAYMENT_RESULT: Spec = Spec {
    endpoint: Endpoint::SendPaymentResult,
    name: "sendPaymentResult",
    paths: &[
        "/ams/api/v1/risk/payments/sendPaymentResult",
        "/ams/sandbox/api/v1/risk/payments/sendPaymentResult",
        "/v1/risk/payments/sendPaymentResult",
    ],
    result_codes: SEND_PAYMENT_RESULT_RESULT,
    payment_result_codes: &[],
    key_field: "referenceTransactionId",
    summary: "Antom risk: a merchant reports a card payment's final result. A repeat answers \
              S; a contradicting repeat REPEAT_REQ_INCONSISTENT and the first report stands.",
};

const NOTIFY_PUSH_PAYMENT: Spec = Spec {
    endpoint: Endpoint::NotifyPushPayment,
    name: "notifyPushPayment",
    paths: &[
        "/aps/api/v1/payments/notifyPushPayment",
        "/aps/sandbox/api/v1/payments/notifyPushPayment",
    ],
    result_codes: PUSH_RESULT,
    payment_result_codes: &[],
    key_field: "paymentId",
    summary: "Alipay+: an ACQP reports a push-mode payment's final result, which becomes what \
              inquiryPayment answers. With resultStatus S, resultCode is SUCCESS and \
              paymentRequestId and paymentTime are required; with F, resultCode is a \
              failure code of the page's table.",
};

const INQUIRY_PAYMENT: Spec = Spec {
    endpoint: Endpoint::InquiryPayment,
    name: "inquiryPayment",
    paths: &[
        "/aps/api/v1/payments/inquiryPayment",
        "/aps/sandbox/api/v1/payments/inquiryPayment",
    ],
    result_codes: INQUIRY_RESULT,
    payment_result_codes: INQUIRY_PAYMENT_RESULT,
    key_field: "paymentRequestId",
    summary: "Alipay+ asks the MPP for a payment's result; the gateway answers from its store \
              (ORDER_NOT_EXIST for an unknown paymentRequestId).",
};

const NOTIFY_PAYMENT: Spec = Spec {
    endpoint: Endpoint::NotifyPayment,
    name: "notifyPayment",
    paths: &[],
    result_codes: NOTIFY_RESULT,
    payment_result_codes: &[],
    key_field: "paymentRequestId",
    summary: "The merchant's webhook: receives payment result notifications, records each \
              with its verdict and acknowledges. result is required with PAYMENT_RESULT \
              (and is S or F), paymentActionForm with OFFLINE_PAYMENT_CODE.",
};

impl Endpoint {
    /// All four, in page order.
    pub const ALL: [Endpoint; 4] = [
        Endpoint::SendPaymentResult,
        Endpoint::NotifyPushPayment,
        Endpoint::InquiryPayment,
        Endpoint::NotifyPayment,
    ];

    /// Its wire description.
    pub const fn spec(self) -> &'static Spec {
        match self {
            Endpoint::SendPaymentResult => &SEND_PAYMENT_RESULT,
            Endpoint::NotifyPushPayment => &NOTIFY_PUSH_PAYMENT,
            Endpoint::InquiryPayment => &INQUIRY_PAYMENT,
            Endpoint::NotifyPayment => &NOTIFY_PAYMENT,
        }
    }

    /// The API name as the pages write it.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Looks an endpoint up by its API name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Every fixed path any API answers on (config keeps notifyPayment's path off them).
    pub fn all_fixed_paths() -> impl Iterator<Item = &'static str> {
        Self::ALL
            .into_iter()
            .flat_map(|e| e.spec().paths.iter().copied())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
