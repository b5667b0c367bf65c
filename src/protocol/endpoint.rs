//! The four APIs the gateway serves, their names and the paths they answer on.

use std::fmt;

/// One of the four APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl Endpoint {
    /// All four, in page order.
    pub const ALL: [Endpoint; 4] = [
        Endpoint::SendPaymentResult,
        Endpoint::NotifyPushPayment,
        Endpoint::InquiryPayment,
        Endpoint::NotifyPayment,
    ];

    /// The API name as the pages write it; also its name in config allow-lists.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::SendPaymentResult => "sendPaymentResult",
            Endpoint::NotifyPushPayment => "notifyPushPayment",
            Endpoint::InquiryPayment => "inquiryPayment",
            Endpoint::NotifyPayment => "notifyPayment",
        }
    }

    /// Looks an endpoint up by its API name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The fixed paths it answers on, the sandbox forms included. notifyPayment's path is
    /// configuration, so it has none here.
    pub fn fixed_paths(self) -> &'static [&'static str] {
        match self {
            Endpoint::SendPaymentResult => &[
                "/ams/api/v1/risk/payments/sendPaymentResult",
                "/ams/sandbox/api/v1/risk/payments/sendPaymentResult",
                "/v1/risk/payments/sendPaymentResult",
            ],
            Endpoint::NotifyPushPayment => &[
                "/aps/api/v1/payments/notifyPushPayment",
                "/aps/sandbox/api/v1/payments/notifyPushPayment",
            ],
            Endpoint::InquiryPayment => &[
                "/aps/api/v1/payments/inquiryPayment",
                "/aps/sandbox/api/v1/payments/inquiryPayment",
            ],
            Endpoint::NotifyPayment => &[],
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
