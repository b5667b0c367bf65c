//! The `result` object every response carries, and the result codes of the four pages.

use serde::{Deserialize, Serialize};

/// `resultStatus`: S success, F failure (final), U unknown (retry or inquire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResultStatus {
    /// Success.
    S,
    /// Failure; final, do not retry.
    F,
    /// Unknown; the caller retries or inquires.
    U,
}

impl ResultStatus {
    /// The one-letter wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::S => "S",
            ResultStatus::F => "F",
            ResultStatus::U => "U",
        }
    }
}

/// The `result` object as it travels: `{"resultCode":..,"resultStatus":..,"resultMessage":..}`.
///
/// Field order matches the doc samples and SDK fixtures: code, message, status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireResult {
    /// e.g. `SUCCESS`, `PARAM_ILLEGAL`.
    pub result_code: String,
    /// Free text; names the field or the reason on failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_message: Option<String>,
    /// S, F or U.
    pub result_status: ResultStatus,
}

impl WireResult {
    /// A result with an explicit code, status and message.
    pub fn new(code: impl Into<String>, status: ResultStatus, message: impl Into<String>) -> Self {
        Self {
            result_code: code.into(),
            result_message: Some(message.into()),
            result_status: status,
        }
    }

    /// `SUCCESS` / `S` with the page's message.
    pub fn success() -> Self {
        Self::from_code(ResultCode::Success, "success")
    }

    /// A result for a gateway code, with its fixed status.
    pub fn from_code(code: ResultCode, message: impl Into<String>) -> Self {
        Self::new(code.as_str(), code.status(), message)
    }
}

/// The gateway-level and business result codes the gateway itself produces.
///
/// Payment result codes (the `paymentResult` of inquiryPayment, RISK_REJECT and friends) are
/// carried as plain strings: the gateway stores and returns whatever a report or a seed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// S: the call succeeded.
    Success,
    /// F: the client may not call this endpoint.
    AccessDenied,
    /// F: unknown Client-Id.
    InvalidClient,
    /// F: missing, malformed or wrong signature.
    InvalidSignature,
    /// F: no key for the keyVersion the caller named.
    KeyNotFound,
    /// F: a Content-Type other than JSON.
    MediaTypeNotAcceptable,
    /// F: a method other than POST.
    MethodNotSupported,
    /// F: no API at this path.
    NoInterfaceDef,
    /// F: inquiryPayment for a paymentRequestId the store does not know.
    OrderNotExist,
    /// F: a field breaks its rule, or the body is not JSON.
    ParamIllegal,
    /// F: an Alipay+ business failure (a contradicting repeat report).
    ProcessFail,
    /// F: an Antom idempotency failure (a contradicting repeat report).
    RepeatReqInconsistent,
    /// U: the per-client rate limit was exceeded.
    RequestTrafficExceedLimit,
    /// U: anything unexpected inside the gateway; retryable.
    UnknownException,
}

impl ResultCode {
    /// The upper-case wire form.
    pub fn as_str(self) -> &'static str {
        self.code().code
    }

    /// The status the pages give this code.
    pub fn status(self) -> ResultStatus {
        self.code().status
    }
}
