//! The result code tables of the pages, with their status and message, and the codes the
//! gateway answers by itself, each written once.

use super::ResultCode;
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

/// The codes the gateway answers by itself ([`ResultCode`]), each with its status and the message
/// its first page gives (REPEAT_REQ_INCONSISTENT: the pay page's); the page tables below name
/// them where their pages agree.
pub const SUCCESS: Code = c("SUCCESS", S, "Success");
pub const ACCESS_DENIED: Code = c("ACCESS_DENIED", F, "Access is denied.");
pub const INVALID_CLIENT: Code = c("INVALID_CLIENT", F, "The client is invalid.");
pub const INVALID_SIGNATURE: Code = c("INVALID_SIGNATURE", F, "The signature is invalid.");
pub const KEY_NOT_FOUND: Code = c(
    "KEY_NOT_FOUND",
    F,
    "The private key or public key of Alipay or the merchant is not found.",
);
pub const MEDIA_TYPE_NOT_ACCEPTABLE: Code = c(
    "MEDIA_TYPE_NOT_ACCEPTABLE",
    F,
    "The server does not implement the media type that is acceptable to the client.",
);
pub const METHOD_NOT_SUPPORTED: Code = c(
    "METHOD_NOT_SUPPORTED",
    F,
    "The server does not implement the requested HTTPS method.",
);
pub const NO_INTERFACE_DEF: Code = c("NO_INTERFACE_DEF", F, "API is not defined.");
pub const ORDER_NOT_EXIST: Code = c("ORDER_NOT_EXIST", F, "The order doesn't exist.");
pub const PARAM_ILLEGAL: Code = c(
    "PARAM_ILLEGAL",
    F,
    "Illegal parameters. For example, non-numeric input, invalid date.",
);
pub const PROCESS_FAIL: Code = c(
    "PROCESS_FAIL",
    F,
    "A general business failure occurred. Don't retry.",
);
pub const REPEAT_REQ_INCONSISTENT: Code = c(
    "REPEAT_REQ_INCONSISTENT",
    F,
    "The amount or currency is different from the previous request.",
);
pub const REQUEST_TRAFFIC_EXCEED_LIMIT: Code = c(
    "REQUEST_TRAFFIC_EXCEED_LIMIT",
    U,
    "The request traffic exceeds the limit.",
);
pub const UNKNOWN_EXCEPTION: Code = c(
    "UNKNOWN_EXCEPTION",
    U,
    "An API call has failed, which is caused by unknown reasons.",
);

/// inquiryPayment, "Payment result codes": what `paymentResult` may carry.
pub const INQUIRY_PAYMENT_RESULT: &[Code] = &[
    SUCCESS,
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
    PROCESS_FAIL,
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
    SUCCESS,
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
    PARAM_ILLEGAL,
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

/// sendPaymentResult, "Result/Error codes".
pub const SEND_PAYMENT_RESULT_RESULT: &[Code] = &[
    SUCCESS,
    ACCESS_DENIED,
    c("INVALID_API", F, "The called API is invalid or not active."),
    c(
        "INVALID_CONTRACT",
        F,
        "The parameter values in the contract do not match those in the current transaction.",
    ),
    KEY_NOT_FOUND,
    c(
        "MERCHANT_KYB_NOT_QUALIFIED",
        F,
        "The payment failed because of the merchant's KYB status.",
    ),
    c(
        "MERCHANT_NOT_REGISTERED",
        F,
        "The merchant is not registered.",
    ),
    NO_INTERFACE_DEF,
    REQUEST_TRAFFIC_EXCEED_LIMIT,
    c(
        "PARAM_ILLEGAL",
        F,
        "The required parameters are not passed, or illegal parameters exist.",
    ),
    c("SYSTEM_ERROR", F, "A system error occurred."),
    UNKNOWN_EXCEPTION,
];

/// notifyPushPayment, "Result/Error codes": what Alipay+ answers the ACQP.
pub const PUSH_RESULT: &[Code] = &[
    SUCCESS,
    ACCESS_DENIED,
    INVALID_CLIENT,
    INVALID_SIGNATURE,
    c("KEY_NOT_FOUND", F, "The key is not found."),
    MEDIA_TYPE_NOT_ACCEPTABLE,
    METHOD_NOT_SUPPORTED,
    NO_INTERFACE_DEF,
    PARAM_ILLEGAL,
    c(
        "PROCESS_FAIL",
        F,
        "A general business failure occurred. Do not retry.",
    ),
    REQUEST_TRAFFIC_EXCEED_LIMIT,
    c(
        "UNKNOWN_EXCEPTION",
        U,
        "An API call failed, which is caused by unknown reasons.",
    ),
];

/// inquiryPayment, "Result/Error codes": whether the inquiry itself worked.
pub const INQUIRY_RESULT: &[Code] = &[
    SUCCESS,
    ACCESS_DENIED,
    INVALID_CLIENT,
    INVALID_SIGNATURE,
    c("KEY_NOT_FOUND", F, "The key is not found."),
    MEDIA_TYPE_NOT_ACCEPTABLE,
    METHOD_NOT_SUPPORTED,
    NO_INTERFACE_DEF,
    ORDER_NOT_EXIST,
    PARAM_ILLEGAL,
    c(
        "PROCESS_FAIL",
        F,
        "A general business failure occurred. Do not retry.",
    ),
    REQUEST_TRAFFIC_EXCEED_LIMIT,
    c(
        "UNKNOWN_EXCEPTION",
        U,
        "An API call failed, which is caused by unknown reasons.",
    ),
];

/// The payment result notification, "Result/Error codes": the page lists SUCCESS; a merchant that
/// wants a retry answers anything else, as the SDKs' examples do (PROCESS_FAIL, UNKNOWN_EXCEPTION).
pub const NOTIFY_RESULT: &[Code] = &[
    SUCCESS,
    c(
        "PROCESS_FAIL",
        F,
        "A general business failure occurred. Do not retry.",
    ),
    c(
        "UNKNOWN_EXCEPTION",
        U,
        "An API call failed, which is caused by unknown reasons.",
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

impl ResultCode {
    /// Its code: wire form, status and the page's message.
    pub const fn code(self) -> &'static Code {
        match self {
            ResultCode::Success => &SUCCESS,
            ResultCode::AccessDenied => &ACCESS_DENIED,
            ResultCode::InvalidClient => &INVALID_CLIENT,
            ResultCode::InvalidSignature => &INVALID_SIGNATURE,
            ResultCode::KeyNotFound => &KEY_NOT_FOUND,
            ResultCode::MediaTypeNotAcceptable => &MEDIA_TYPE_NOT_ACCEPTABLE,
            ResultCode::MethodNotSupported => &METHOD_NOT_SUPPORTED,
            ResultCode::NoInterfaceDef => &NO_INTERFACE_DEF,
            ResultCode::OrderNotExist => &ORDER_NOT_EXIST,
            ResultCode::ParamIllegal => &PARAM_ILLEGAL,
            ResultCode::ProcessFail => &PROCESS_FAIL,
            ResultCode::RepeatReqInconsistent => &REPEAT_REQ_INCONSISTENT,
            ResultCode::RequestTrafficExceedLimit => &REQUEST_TRAFFIC_EXCEED_LIMIT,
            ResultCode::UnknownException => &UNKNOWN_EXCEPTION,
        }
    }
}
