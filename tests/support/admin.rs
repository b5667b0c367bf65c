//! The admin API of one running gateway, as the operator calls it with the admin token: seed
//! payments, drive the schedule's clock, read notifications back and wait for them.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::PATIENCE;
use super::config::ADMIN_TOKEN;

/// The admin API of one running gateway.
#[derive(Clone)]
pub struct Admin {
    pub(super) base: String,
    pub(super) http: reqwest::Client,
}

impl Admin {
    async fn call(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", self.base));
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `METHOD /admin<path>` with an optional JSON body: the HTTP status and the body (`Null`
    /// when it is not JSON).
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}/admin{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.call(request).await
    }

    /// `GET /admin<path>`, insisting on 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.request(Method::GET, path, None).await;
        assert_eq!(status, 200, "GET /admin{path}: {body}");
        body
    }

    /// Seeds a payment and insists it was created.
    pub async fn seed(&self, payment: &Value) {
        let url = format!("{}/admin/payments", self.base);
        let (status, body) = self.call(self.http.post(url).json(payment)).await;
        assert_eq!(status, 201, "seeding {payment}: {body}");
    }

    /// Seeds a payment: the HTTP status, or `None` when the replica did not answer.
    pub async fn try_seed(&self, payment: &Value) -> Option<u16> {
        let url = format!("{}/admin/payments", self.base);
        let response = self
            .http
            .post(url)
            .bearer_auth(ADMIN_TOKEN)
            .json(payment)
            .send()
            .await
            .ok()?;
        Some(response.status().as_u16())
    }

    /// Moves the schedule's clock ahead (`"2m"`, `"1h"`): tests drive the retry schedule
    /// rather than wait it out.
    pub async fn advance_clock(&self, by: &str) {
        let url = format!("{}/admin/clock/advance", self.base);
        let (status, body) = self
            .call(self.http.post(url).json(&json!({ "by": by })))
            .await;
        assert_eq!(status, 200, "advancing the clock by {by}: {body}");
    }

    /// The one notification of a payment.
    pub async fn notification(&self, payment_request_id: &str) -> Value {
        let url = format!(
            "{}/admin/payments/{payment_request_id}/notifications",
            self.base
        );
        let (status, body) = self.call(self.http.get(url)).await;
        assert_eq!(status, 200, "{payment_request_id}: {body}");
        match body.as_array().map(Vec::as_slice) {
            Some([only]) => only.clone(),
            _ => panic!("{payment_request_id} should have one notification: {body}"),
        }
    }

    /// Polls the notifications of `ids` until `done(i, notification)` holds for every one;
    /// panics with those that are not after [`PATIENCE`].
    pub async fn wait_until(
        &self,
        ids: &[String],
        what: &str,
        done: impl Fn(usize, &Value) -> bool,
    ) -> Vec<Value> {
        self.wait_until_within(ids, what, done, PATIENCE).await
    }

    /// [`Admin::wait_until`] with its own deadline.
    pub async fn wait_until_within(
        &self,
        ids: &[String],
        what: &str,
        done: impl Fn(usize, &Value) -> bool,
        within: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let mut all = Vec::with_capacity(ids.len());
            for id in ids {
                all.push(self.notification(id).await);
            }
            let not_yet: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|(i, n)| !done(*i, n))
                .map(|(_, n)| format!("  {n}"))
                .collect();
            if not_yet.is_empty() {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "not {what} after {within:?}:\n{}",
                not_yet.join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
