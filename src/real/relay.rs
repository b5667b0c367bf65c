//! The notification relay: a real notification the receiver verified goes on to a local
//! handler, re-signed with the gateway key (so the handler can verify with development keys) or
//! untouched, and the handler's acknowledgement comes back to be the receiver's answer. Retries
//! are the real sender's: one notification, one attempt here. No redirect is followed.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

use crate::config::RelayConfig;
use crate::protocol::{WireResult, datetime};
use crate::signature::{self, Message, SigningKey, header};

/// The largest acknowledgement read.
const ACK_LIMIT: usize = 64 * 1024;

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
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("alipay-gateway/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("relay HTTP client: {e}"))?;
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
    pub async fn deliver(&self, received: &HeaderMap, body: &Bytes) -> Result<Ack, String> {
        let url = reqwest::Url::parse(&self.config.url).map_err(|e| e.to_string())?;
        let headers = if self.config.resign {
            self.signed(received, url.path(), body)?
        } else {
            let mut headers = received.clone();
            for name in ["host", "content-length", "connection", "transfer-encoding"] {
                headers.remove(name);
            }
            headers
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
                return Err(format!(
                    "the acknowledgement is larger than {ACK_LIMIT} bytes"
                ));
            }
            read.extend_from_slice(&chunk);
        }
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        let result = serde_json::from_slice::<serde_json::Value>(&read)
            .ok()
            .and_then(|v| serde_json::from_value::<WireResult>(v.get("result")?.clone()).ok())
            .ok_or("the acknowledgement is not JSON with a result object")?;
        Ok(Ack {
            body: Bytes::from(read),
            result,
        })
    }

    /// The notification's headers signed again with the gateway key, for the handler's path,
    /// under the Client-Id it arrived with.
    fn signed(&self, received: &HeaderMap, path: &str, body: &[u8]) -> Result<HeaderMap, String> {
        let client_id = received
            .get("client-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let time = datetime::format_millis(Utc::now());
        let signed = signature::sign(&self.key, &Message::post(path, client_id, &time, body))
            .map_err(|e| e.to_string())?;
        let value = |text: &str| {
            HeaderValue::from_str(text)
                .map_err(|_| "a header would not be visible ASCII".to_owned())
        };
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

    fn describe(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            format!(
                "no answer within {} ms (real.relay.timeout_ms)",
                self.config.timeout.as_millis()
            )
        } else if e.is_connect() {
            "connection failed".to_owned()
        } else {
            "transport error".to_owned()
        }
    }
}
