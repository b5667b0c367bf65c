//! The notification relay: a real notification the receiver verified goes on to a local
//! handler, re-signed with the gateway key (so the handler can verify with development keys) or
//! untouched, and the handler's acknowledgement comes back to be the receiver's answer. Retries
//! are the real sender's: one notification, one attempt here. No redirect is followed.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use super::RealError;
use crate::config::RelayConfig;
use crate::protocol::{WireResult, datetime};
use crate::signature::{self, KeyError, Message, SigningKey, header};

/// The largest acknowledgement read.
const ACK_LIMIT: usize = 64 * 1024;

/// Why a notification has no acknowledgement to relay back.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// `real.relay.forward_to` does not parse.
    #[error("{0}")]
    Url(#[from] url::ParseError),
    /// The gateway key could not sign.
    #[error("{0}")]
    Sign(#[from] KeyError),
    /// A header value the handler could not read.
    #[error("a header would not be visible ASCII")]
    NotAscii,
    /// No answer within `real.relay.timeout_ms`.
    #[error("no answer within {ms} ms (real.relay.timeout_ms)")]
    TimedOut {
        /// The timeout.
        ms: u128,
    },
    /// The connection failed.
    #[error("connection failed")]
    Connect,
    /// Anything else on the way.
    #[error("transport error")]
    Transport,
    /// The acknowledgement is past the limit.
    #[error("the acknowledgement is larger than {ACK_LIMIT} bytes")]
    TooLarge,
    /// A status other than 200.
    #[error("HTTP {0}")]
    Status(u16),
    /// A body without a `result`.
    #[error("the acknowledgement is not JSON with a result object")]
    NoResult,
}

/// What the local handler answered.
#[derive(Debug, Clone)]
pub struct Ack {
    /// The acknowledgement's body, as received.
    pub body: Bytes,
    /// Its `result`.
    pub result: WireResult,
}

/// Forwards notifications to the local handler.
pub struct Relay {
    http: reqwest::Client,
    config: RelayConfig,
    key: Arc<SigningKey>,
    key_version: String,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("url", &self.config.url)
            .field("resign", &self.config.resign)
            .finish()
    }
}

impl Relay {
    /// A relay to `config.url`, re-signing with `key` when asked to.
    pub fn new(
        config: RelayConfig,
        key: Arc<SigningKey>,
        key_version: String,
    ) -> Result<Self, RealError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("alipay-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(RealError::RelayClient)?;
        Ok(Self {
            http,
            config,
            key,
            key_version,
        })
    }

    /// The local handler's URL.
    pub fn url(&self) -> &str {
        &self.config.url
    }

    /// Sends one notification and answers the handler's acknowledgement, or why there is none
    /// to relay: no answer, a status other than 200, a body without a `result`.
    pub async fn deliver(&self, received: &HeaderMap, body: &Bytes) -> Result<Ack, RelayError> {
        let url = reqwest::Url::parse(&self.config.url)?;
        let headers = if self.config.resign {
            self.signed(received, url.path(), body)?
        } else {
            super::upstream::carried_on(received)
        };
        let mut response = self
            .http
            .post(url)
            .headers(headers)
            .body(body.clone())
            .send()
            .await
            .map_err(|e| self.describe(&e))?;
        let status = response.status().as_u16();
        let mut read = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.describe(&e))? {
            if read.len() + chunk.len() > ACK_LIMIT {
                return Err(RelayError::TooLarge);
            }
            read.extend_from_slice(&chunk);
        }
        if status != 200 {
            return Err(RelayError::Status(status));
        }
        let result = serde_json::from_slice::<serde_json::Value>(&read)
            .ok()
            .and_then(|v| serde_json::from_value::<WireResult>(v.get("result")?.clone()).ok())
            .ok_or(RelayError::NoResult)?;
        Ok(Ack {
            body: Bytes::from(read),
            result,
        })
    }

    /// The notification's headers signed again with the gateway key, for the handler's path,
    /// under the Client-Id it arrived with.
    fn signed(
        &self,
        received: &HeaderMap,
        path: &str,
        body: &[u8],
    ) -> Result<HeaderMap, RelayError> {
        let client_id = received
            .get("client-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let time = datetime::format_millis(Utc::now());
        let signed = signature::sign(&self.key, &Message::post(path, client_id, &time, body))?;
        let value = |text: &str| HeaderValue::from_str(text).map_err(|_| RelayError::NotAscii);
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        headers.insert("client-id", value(client_id)?);
        headers.insert("request-time", value(&time)?);
        headers.insert(
            "signature",
            value(&header::format(&self.key_version, &signed))?,
        );
        Ok(headers)
    }

    fn describe(&self, e: &reqwest::Error) -> RelayError {
        if e.is_timeout() {
            RelayError::TimedOut {
                ms: self.config.timeout.as_millis(),
            }
        } else if e.is_connect() {
            RelayError::Connect
        } else {
            RelayError::Transport
        }
    }
}
