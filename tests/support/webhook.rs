//! A merchant's notification webhook in the test process: it records every request (which
//! replica sent it, when, and when it was answered) and answers as the test's rule says.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::PATIENCE;

/// What the test merchant does with one notification.
#[derive(Debug, Clone)]
pub enum Ack {
    /// HTTP 200, S/SUCCESS.
    Success,
    /// HTTP 200, U/UNKNOWN_EXCEPTION: try again.
    Unknown,
    /// Never answers (the sender's timeout or death ends it).
    Hold,
    /// Answers as the inner ack after a while.
    After(Duration, Box<Ack>),
}

/// One request the test merchant got.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// Its `notification-id` header: the same for every attempt of one notification.
    pub notification_id: String,
    /// The body's `paymentRequestId`.
    pub payment_request_id: String,
    /// The keyVersion of its signature header: which replica sent it.
    pub key_version: String,
    /// When it arrived.
    pub at: Instant,
    /// `at` on the wall clock (epoch milliseconds), to match the gateway's attempt records.
    pub epoch_ms: i64,
    /// When the merchant answered; `None` while it has not.
    pub answered: Option<Instant>,
    /// The body as received.
    pub body: Vec<u8>,
}

/// How the merchant answers: given the request and how many earlier ones carried its id.
pub type AckRule = dyn Fn(&Arrival, usize) -> Ack + Send + Sync;

/// A merchant's notification webhook in the test process: records every request and answers
/// as its rule says, given the request and how many earlier ones carried its notification id.
pub struct Webhook {
    /// Where the gateway is to send notifications: `http://ADDRESS/notify`.
    pub url: String,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Webhook {
    /// Listens on `127.0.0.1:0`; `rule` is given each request and how many earlier ones
    /// carried its notification id.
    pub async fn start(rule: impl Fn(&Arrival, usize) -> Ack + Send + Sync + 'static) -> Webhook {
        use axum::extract::State;
        use axum::http::HeaderMap;

        type Shared = (Arc<Mutex<Vec<Arrival>>>, Arc<AckRule>);
        async fn receive(
            State((arrivals, rule)): State<Shared>,
            headers: HeaderMap,
            body: axum::body::Bytes,
        ) -> axum::Json<Value> {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let arrival = Arrival {
                notification_id: header("notification-id"),
                payment_request_id: json["paymentRequestId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                key_version: header("signature")
                    .split(',')
                    .find_map(|part| part.strip_prefix("keyVersion="))
                    .unwrap_or_default()
                    .to_owned(),
                at: Instant::now(),
                epoch_ms: chrono::Utc::now().timestamp_millis(),
                answered: None,
                body: body.to_vec(),
            };
            let (at, ack) = {
                let mut arrivals = arrivals.lock().unwrap();
                let earlier = arrivals
                    .iter()
                    .filter(|a| a.notification_id == arrival.notification_id)
                    .count();
                arrivals.push(arrival.clone());
                (arrivals.len() - 1, rule(&arrival, earlier))
            };
            let mut ack = ack;
            let (status, code) = loop {
                match ack {
                    Ack::Success => break ("S", "SUCCESS"),
                    Ack::Unknown => break ("U", "UNKNOWN_EXCEPTION"),
                    Ack::Hold => {
                        tokio::time::sleep(Duration::from_secs(60)).await;
                        break ("S", "SUCCESS");
                    }
                    Ack::After(wait, then) => {
                        tokio::time::sleep(wait).await;
                        ack = *then;
                    }
                }
            };
            arrivals.lock().unwrap()[at].answered = Some(Instant::now());
            axum::Json(
                json!({"result": {"resultCode": code, "resultStatus": status, "resultMessage": "test"}}),
            )
        }

        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let rule: Arc<AckRule> = Arc::new(rule);
        let router = axum::Router::new()
            .route("/notify", axum::routing::post(receive))
            .with_state((arrivals.clone(), rule));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/notify", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Webhook {
            url,
            arrivals,
            server,
        }
    }

    /// Every request so far, in the order they came.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().unwrap().clone()
    }

    /// Waits until `n` requests have arrived and returns them all.
    pub async fn wait_for_arrivals(&self, n: usize) -> Vec<Arrival> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let arrivals = self.arrivals();
            if arrivals.len() >= n {
                return arrivals;
            }
            assert!(
                Instant::now() < deadline,
                "the merchant got {} requests, not {n}, in {PATIENCE:?}",
                arrivals.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        self.server.abort();
    }
}
