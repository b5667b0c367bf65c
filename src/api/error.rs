//! The one boundary error: every way a call can fail, each turned into the Alipay+ `result`
//! envelope with HTTP 200 in one place.

use axum::response::{IntoResponse, Response};

use crate::api::reply_result;
use crate::protocol::schema::FieldError;
use crate::protocol::{ResultCode, WireResult};
use crate::signature::SignatureError;
use crate::store::StoreError;

/// A failed call, with the `resultCode` it answers.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// NO_INTERFACE_DEF (F): nothing is served at this path.
    #[error("no API is defined at {0}")]
    NoInterface(String),
    /// METHOD_NOT_SUPPORTED (F): anything but POST.
    #[error("method {0} is not supported; the APIs take POST")]
    MethodNotSupported(String),
    /// MEDIA_TYPE_NOT_ACCEPTABLE (F): a Content-Type other than JSON.
    #[error("Content-Type {0} is not accepted; send application/json")]
    MediaType(String),
    /// PARAM_ILLEGAL (F): a header, the body, or a field breaks its rule.
    #[error("{0}")]
    Param(String),
    /// INVALID_CLIENT (F, unsigned): no or unknown Client-Id.
    #[error("{0}")]
    InvalidClient(String),
    /// KEY_NOT_FOUND (F, unsigned): no key for the keyVersion named.
    #[error("{0}")]
    KeyNotFound(String),
    /// INVALID_SIGNATURE (F, unsigned): the signature is missing, malformed or wrong.
    #[error("signature invalid: {message}")]
    InvalidSignature {
        /// Why, in words.
        message: String,
        /// Why, as a metrics label: missing, malformed, bad_encoding, wrong_key,
        /// content_changed, unsupported_algorithm, clock_skew.
        reason: &'static str,
    },
    /// ACCESS_DENIED (F): the client may not call this API.
    #[error("{0}")]
    AccessDenied(String),
    /// A business outcome with its own code (ORDER_NOT_EXIST, PROCESS_FAIL, ...).
    #[error("{message}")]
    Business {
        /// The code answered.
        code: ResultCode,
        /// What happened, naming the ids involved.
        message: String,
    },
    /// UNKNOWN_EXCEPTION (U): the store failed; the caller retries.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// UNKNOWN_EXCEPTION (U): real mode could not answer: the upstream failed (the message
    /// names it and the reason), or no recording matches in replay mode.
    #[error("{0}")]
    Upstream(String),
    /// UNKNOWN_EXCEPTION (U): anything else unexpected.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Param(e.to_string())
    }
}

impl From<SignatureError> for ApiError {
    fn from(e: SignatureError) -> Self {
        ApiError::InvalidSignature {
            reason: e.kind(),
            message: e.to_string(),
        }
    }
}

impl ApiError {
    /// The result code this error answers.
    pub fn code(&self) -> ResultCode {
        match self {
            ApiError::NoInterface(_) => ResultCode::NoInterfaceDef,
            ApiError::MethodNotSupported(_) => ResultCode::MethodNotSupported,
            ApiError::MediaType(_) => ResultCode::MediaTypeNotAcceptable,
            ApiError::Param(_) => ResultCode::ParamIllegal,
            ApiError::InvalidClient(_) => ResultCode::InvalidClient,
            ApiError::KeyNotFound(_) => ResultCode::KeyNotFound,
            ApiError::InvalidSignature { .. } => ResultCode::InvalidSignature,
            ApiError::AccessDenied(_) => ResultCode::AccessDenied,
            ApiError::Business { code, .. } => *code,
            ApiError::Store(_) | ApiError::Internal(_) | ApiError::Upstream(_) => {
                ResultCode::UnknownException
            }
        }
    }

    /// The `result` object, with a message that names the field or the reason. Internal
    /// failures get a generic message; their detail goes to the log.
    pub fn result(&self) -> WireResult {
        let message = match self {
            ApiError::Store(_) | ApiError::Internal(_) => {
                "API failed due to unknown reason.".to_owned()
            }
            other => other.to_string(),
        };
        WireResult::from_code(self.code(), message)
    }

    /// Why authentication failed, as a metrics label; `None` for other errors.
    pub fn auth_failure(&self) -> Option<&'static str> {
        match self {
            ApiError::InvalidSignature { reason, .. } => Some(reason),
            ApiError::InvalidClient(_) => Some("unknown_client"),
            ApiError::KeyNotFound(_) => Some("unknown_key_version"),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Store(_) | ApiError::Internal(_) => {
                tracing::error!(error = %self, "request failed")
            }
            _ => tracing::debug!(code = self.code().as_str(), reason = %self, "request rejected"),
        }
        reply_result(self.result())
    }
}
