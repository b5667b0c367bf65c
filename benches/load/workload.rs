//! The requests, pre-built and pre-signed before any clock starts: complete HTTP/1.1 request
//! bytes with `Client-Id`, `Request-Time` and `Signature` headers, signed with the test
//! merchant's key over `POST <path>\n<Client-Id>.<Request-Time>.<body>`. Writes carry unique
//! ids (each request is used once per server, and every server starts on a fresh store), so
//! the store does real writes; inquiries read payments seeded by notifyPushPayment.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alipay_gateway::signature::{self, Message, SigningKey, header};

use crate::servers::{CLIENT_ID, keys_dir};

/// An API under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// sendPaymentResult: a risk report write, unique referenceTransactionId.
    SendPaymentResult,
    /// notifyPushPayment: a payment write, unique paymentId and paymentRequestId.
    NotifyPushPayment,
    /// inquiryPayment: a read of a payment seeded by notifyPushPayment.
    InquiryPayment,
}

impl Api {
    /// Every API, in table order.
    pub const ALL: [Api; 3] = [
        Api::SendPaymentResult,
        Api::NotifyPushPayment,
        Api::InquiryPayment,
    ];

    /// The API's name.
    pub fn name(self) -> &'static str {
        match self {
            Api::SendPaymentResult => "sendPaymentResult",
            Api::NotifyPushPayment => "notifyPushPayment",
            Api::InquiryPayment => "inquiryPayment",
        }
    }

    /// The path it is posted to.
    pub fn path(self) -> &'static str {
        match self {
            Api::SendPaymentResult => "/ams/api/v1/risk/payments/sendPaymentResult",
            Api::NotifyPushPayment => "/aps/api/v1/payments/notifyPushPayment",
            Api::InquiryPayment => "/aps/api/v1/payments/inquiryPayment",
        }
    }

    /// Request `i`'s body.
    pub fn body(self, i: usize) -> String {
        match self {
            Api::SendPaymentResult => format!(
                r#"{{"referenceTransactionId":"LOAD-TX-{i:09}","paymentStatus":"SUCCESS","paymentMethodProvider":"VISA","cardVerificationResult":{{"authenticationType":"3D","authenticationMethod":"CHALLENGE","cvvResult":"Y","avsResult":"Y","authorizationCode":"A1B2C3","threeDSResult":{{"threeDSVersion":"2.2.0","eci":"05","cavv":"AAABBJg0VhI0VniQEjRWAAAAAAA="}}}}}}"#
            ),
            Api::NotifyPushPayment => format!(
                r#"{{"paymentResult":{{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}},"paymentId":"LOAD-PAY-{i:09}","paymentRequestId":"LOAD-REQ-{i:09}","paymentTime":"2026-11-22T10:00:00+08:00"}}"#
            ),
            Api::InquiryPayment => format!(
                r#"{{"acquirerId":"LOAD-ACQ","pspId":"LOAD-PSP","paymentRequestId":"LOAD-REQ-{i:09}"}}"#
            ),
        }
    }
}

/// Pre-signed requests per API, grown on demand (off the clock).
pub struct Pools {
    key: SigningKey,
    threads: usize,
    pools: [Arc<Vec<Box<[u8]>>>; 3],
    /// Requests signed so far, and the time it took.
    pub signed: usize,
    /// Time spent pre-signing.
    pub signing_time: Duration,
}

impl Pools {
    /// Loads the test merchant key.
    pub fn new(threads: usize) -> Result<Self, String> {
        Ok(Self {
            key: merchant_key()?,
            threads: threads.max(1),
            pools: Default::default(),
            signed: 0,
            signing_time: Duration::ZERO,
        })
    }

    fn index(api: Api) -> usize {
        match api {
            Api::SendPaymentResult => 0,
            Api::NotifyPushPayment => 1,
            Api::InquiryPayment => 2,
        }
    }

    /// At least `count` requests for `api` (capped by the caller), signing what is missing on
    /// `threads` threads.
    pub fn ensure(&mut self, api: Api, count: usize) -> Arc<Vec<Box<[u8]>>> {
        let at = Self::index(api);
        let have = self.pools[at].len();
        if have < count {
            let started = Instant::now();
            let key = &self.key;
            let chunk = (count - have).div_ceil(self.threads);
            let parts: Vec<Vec<Box<[u8]>>> = std::thread::scope(|s| {
                let handles: Vec<_> = (0..self.threads)
                    .map(|t| {
                        let from = have + t * chunk;
                        let to = (from + chunk).min(count);
                        s.spawn(move || (from..to).map(|i| build(key, api, i)).collect())
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a signing thread"))
                    .collect()
            });
            let pool = Arc::make_mut(&mut self.pools[at]);
            pool.reserve(count - have);
            for part in parts {
                pool.extend(part);
            }
            self.signed += count - have;
            self.signing_time += started.elapsed();
        }
        self.pools[at].clone()
    }
}

/// The test merchant's private key, which signs every request.
fn merchant_key() -> Result<SigningKey, String> {
    let path = keys_dir().join("TEST-ONLY-merchant-private.pem");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path:?}: {e}"))?;
    SigningKey::from_text(&text).map_err(|e| e.to_string())
}

/// One signed request of `api`, for a readiness probe.
pub fn probe(api: Api) -> Box<[u8]> {
    let key = merchant_key().expect("the test merchant key");
    build(&key, api, 0)
}

/// Request `i` of `api`: the complete bytes, signed now.
pub fn build(key: &SigningKey, api: Api, i: usize) -> Box<[u8]> {
    let body = api.body(i);
    let time = chrono::Utc::now().timestamp_millis().to_string();
    let message = Message::post(api.path(), CLIENT_ID, &time, body.as_bytes());
    let b64 = signature::sign(key, &message).expect("the test merchant key signs");
    let value = header::format("1", &b64);
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json; charset=UTF-8\r\nclient-id: {CLIENT_ID}\r\nrequest-time: {time}\r\nsignature: {value}\r\ncontent-length: {len}\r\n\r\n{body}",
        path = api.path(),
        len = body.len(),
    )
    .into_bytes()
    .into_boxed_slice()
}
