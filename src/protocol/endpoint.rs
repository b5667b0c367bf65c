//! The APIs the gateway speaks, and each one's wire description: its name, the paths it
//! answers on, its result-code tables, the key field of the `__<CODE>` convention, which side
//! of the wire it is on, what it writes, and what it is for. Config (reserved paths, allow-lists,
//! rules), scenarios, routing, limits, real mode and the OpenAPI document all read these, so an
//! API's wire facts are written once.

use std::fmt;

use super::codes::{
    Code, INQUIRY_PAYMENT_RESULT, INQUIRY_RESULT, NOTIFY_RESULT, PUSH_RESULT,
    SEND_PAYMENT_RESULT_RESULT,
};

/// Declares [`Endpoint`] and [`Endpoint::ALL`] from one list, so no API can be in one and
/// missing from the other.
macro_rules! endpoints {
    ($($(#[$doc:meta])* $variant:ident,)+) => {
        /// One of the APIs the gateway speaks, by its name (`Spec::name`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, utoipa::ToSchema)]
        #[schema(rename_all = "camelCase")]
        pub enum Endpoint {
            $($(#[$doc])* $variant,)+
        }

        impl Endpoint {
            /// Every API, in page order.
            pub const ALL: [Endpoint; [$(Endpoint::$variant,)+].len()] = [$(Endpoint::$variant,)+];
        }
    };
}

endpoints! {
    /// Antom risk: a merchant reports a card payment's final result.
    SendPaymentResult,
    /// Alipay+: an ACQP reports a push-mode payment's final result.
    NotifyPushPayment,
    /// The MPP side: Alipay+ asks for a payment's result.
    InquiryPayment,
    /// A merchant's webhook: receives payment result notifications.
    NotifyPayment,
}

/// Which side of the wire the gateway stands on for an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The integration calls the real service, and the gateway answers in its place: real mode
    /// can forward it to the real service, and a namespace's limits apply.
    Served,
    /// The real service calls the integration (a notification): the gateway sends it, and its
    /// receiver stands in for the integration's endpoint.
    Called,
}

/// What a successful call keeps in the payment-state store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// Nothing: it reads, or keeps only what it received (the receiver).
    Nothing,
    /// A payment, keyed by its `paymentRequestId`: a repeat for a payment held already takes
    /// no room in a namespace's `maxPayments`.
    Payment,
    /// A record of its own (a risk report), one per call.
    Record,
}

impl Writes {
    /// Whether the call writes at all.
    pub fn any(self) -> bool {
        self != Writes::Nothing
    }
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
    /// Who calls whom.
    pub direction: Direction,
    /// What a successful call writes.
    pub writes: Writes,
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
    direction: Direction::Served,
    writes: Writes::Record,
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
    direction: Direction::Served,
    writes: Writes::Payment,
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
    direction: Direction::Served,
    writes: Writes::Nothing,
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
    direction: Direction::Called,
    writes: Writes::Nothing,
    summary: "The merchant's webhook: receives payment result notifications, records each \
              with its verdict and acknowledges. result is required with PAYMENT_RESULT \
              (and is S or F), paymentActionForm with OFFLINE_PAYMENT_CODE.",
};

impl Endpoint {
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

    /// The APIs the integration calls and the gateway answers in the real service's place.
    pub fn served() -> impl Iterator<Item = Endpoint> {
        Self::ALL
            .into_iter()
            .filter(|e| e.spec().direction == Direction::Served)
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
