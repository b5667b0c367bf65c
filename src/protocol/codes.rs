//! The payment result code tables of the seed pages, with their status and message.

use super::ResultStatus::{self, F, S, U};

/// A code of a page's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// e.g. `USER_BALANCE_NOT_ENOUGH`.
    pub code: &'static str,
    /// Its `resultStatus`.
    pub status: ResultStatus,
    /// The page's message.
    pub message: &'static str,
}

const fn c(code: &'static str, status: ResultStatus, message: &'static str) -> Code {
    Code {
        code,
        status,
        message,
    }
}

/// inquiryPayment, "Payment result codes": what `paymentResult` may carry.
pub const INQUIRY_PAYMENT_RESULT: &[Code] = &[
    c("SUCCESS", S, "Success"),
    c(
        "BUSINESS_NOT_SUPPORT",
        F,
        "The payment business is not supported.",
    ),
    c("CURRENCY_NOT_SUPPORT", F, "The currency is not supported."),
    c("EXPIRED_CODE", F, "The code is expired."),
    c("INVALID_CODE", F, "The code is invalid."),
    c("INVALID_CONTRACT", F, "The contract is invalid."),
    c("INVALID_TOKEN", F, "The access token is invalid."),
    c(
        "MERCHANT_NOT_REGISTERED",
        F,
        "The merchant is not registered.",
    ),
    c("ORDER_IS_CLOSED", F, "The order is closed."),
    c(
        "PAYMENT_AMOUNT_EXCEED_LIMIT",
        F,
        "The payment amount exceeds the limit that is specified by Alipay+.",
    ),
    c(
        "PAYMENT_COUNT_EXCEED_LIMIT",
        F,
        "The number of payments exceeds the limit.",
    ),
    c(
        "PROCESS_FAIL",
        F,
        "A general business failure occurred. Don't retry.",
    ),
    c(
        "REGULATION_RESTRICTION",
        F,
        "The payment failed due to regulatory restriction.",
    ),
    c(
        "RISK_REJECT",
        F,
        "The request is rejected because of the risk control.",
    ),
    c(
        "UNAVAILABLE_PAYMENT_METHOD",
        F,
        "The payment method is unavailable.",
    ),
    c(
        "USER_AMOUNT_EXCEED_LIMIT",
        F,
        "The payment amount exceeds the payment limit that is specified by the user's digital wallet.",
    ),
    c(
        "USER_BALANCE_NOT_ENOUGH",
        F,
        "The user balance is not enough for the payment.",
    ),
    c(
        "USER_KYC_NOT_QUALIFIED",
        F,
        "The user is not KYC compliant.",
    ),
    c("USER_NOT_EXIST", F, "The user does not exist."),
    c(
        "USER_PAYMENT_VERIFICATION_FAILED",
        F,
        "User fails to pass the payment verification in the methods like OPT, PIN, and so on.",
    ),
    c("USER_STATUS_ABNORMAL", F, "The user status is abnormal."),
    c("PAYMENT_IN_PROCESS", U, "The payment is being processed."),
];

/// notifyPushPayment, "Payment result codes": what an ACQP may report in `paymentResult`.
pub const PUSH_PAYMENT_RESULT: &[Code] = &[
    c("SUCCESS", S, "Success"),
    c(
        "BUSINESS_NOT_SUPPORT",
        F,
        "The payment business is not supported.",
    ),
    c("CURRENCY_NOT_SUPPORT", F, "The currency is not supported."),
    c("EXPIRED_CODE", F, "The code is expired."),
    c("INVALID_CONTRACT", F, "The contract is invalid."),
    c(
        "INVALID_MERCHANT_STATUS",
        F,
        "The merchant status is abnormal due to restrictions, for example, the merchant's operation has been suspended.",
    ),
    c(
        "MERCHANT_KYB_NOT_QUALIFIED",
        F,
        "The merchant's KYB failed or KYB level is not high enough.",
    ),
    c(
        "MERCHANT_NOT_REGISTERED",
        F,
        "The merchant is not registered.",
    ),
    c("ORDER_IS_CLOSED", F, "The order is closed."),
    c(
        "PARAM_ILLEGAL",
        F,
        "Illegal parameters. For example, non-numeric input, invalid date.",
    ),
    c(
        "PAYMENT_AMOUNT_EXCEED_LIMIT",
        F,
        "The payment amount exceeds the limit that is specified by Alipay+.",
    ),
    c(
        "PAYMENT_COUNT_EXCEED_LIMIT",
        F,
        "The number of payments exceeds the limit.",
    ),
    c(
        "PROCESS_FAIL",
        F,
        "A general business failure occurred. Do not retry.",
    ),
    c(
        "RISK_REJECT",
        F,
        "The request is rejected because of the risk control.",
    ),
];

/// Looks a code up in a table.
pub fn find(table: &'static [Code], code: &str) -> Option<&'static Code> {
    table.iter().find(|c| c.code == code)
}

/// The codes of a table with a given status, comma-separated, for error messages.
pub fn list(table: &[Code], status: ResultStatus) -> String {
    table
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.code)
        .collect::<Vec<_>>()
        .join(", ")
}
