//! The admin API, as tests call it.

use super::*;

/// Calls to `/admin` with a chosen token.
pub struct Admin<'a> {
    pub(super) app: &'a TestApp,
    pub(super) token: Option<String>,
}

/// An admin answer: a real HTTP status and JSON.
#[derive(Debug)]
pub struct AdminReply {
    /// HTTP status.
    pub status: u16,
    /// The body parsed (`Null` when it is not JSON).
    pub json: Value,
}

impl AdminReply {
    /// The `error` message of a failed call.
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or_default()
    }
}

impl Admin<'_> {
    /// Sends no Authorization header.
    pub fn without_token(mut self) -> Self {
        self.token = None;
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// `POST /admin/payments`.
    pub async fn seed_payment(&self, payment: impl Into<RawBody>) -> AdminReply {
        self.call(Method::POST, "/admin/payments", Some(payment.into().0))
            .await
    }

    /// `GET /admin/payments?<query>`: a page of payments, newest first.
    pub async fn list_payments(&self, query: &str) -> AdminReply {
        self.call(Method::GET, &format!("/admin/payments?{query}"), None)
            .await
    }

    /// `GET /admin/payments/{paymentRequestId}`.
    pub async fn read_payment(&self, payment_request_id: &str) -> AdminReply {
        self.call(
            Method::GET,
            &format!("/admin/payments/{payment_request_id}"),
            None,
        )
        .await
    }

    /// `POST /admin/payments/{paymentRequestId}/complete`: the payment succeeds.
    pub async fn complete_payment(
        &self,
        payment_request_id: &str,
        completion: Value,
    ) -> AdminReply {
        let path = format!("/admin/payments/{payment_request_id}/complete");
        self.call(Method::POST, &path, Some(RawBody::from(completion).0))
            .await
    }

    /// `POST /admin/payments/{paymentRequestId}/fail`: the payment fails.
    pub async fn fail_payment(&self, payment_request_id: &str, failure: Value) -> AdminReply {
        let path = format!("/admin/payments/{payment_request_id}/fail");
        self.call(Method::POST, &path, Some(RawBody::from(failure).0))
            .await
    }

    /// `GET /admin/payments/{paymentRequestId}/notifications`.
    pub async fn notifications(&self, payment_request_id: &str) -> AdminReply {
        let path = format!("/admin/payments/{payment_request_id}/notifications");
        self.call(Method::GET, &path, None).await
    }

    /// `GET /admin/journal?endpoint=...`: the API's entries, newest first.
    pub async fn journal_entries(&self, endpoint: &str) -> Vec<Value> {
        let path = format!("/admin/journal?endpoint={endpoint}");
        let reply = self.call(Method::GET, &path, None).await;
        assert_eq!(reply.status, 200, "listing the journal: {reply:?}");
        reply.json.as_array().cloned().unwrap_or_default()
    }

    /// `POST /admin/notifications/{id}/redeliver`.
    pub async fn redeliver(&self, notification_id: &str) -> AdminReply {
        let path = format!("/admin/notifications/{notification_id}/redeliver");
        self.call(Method::POST, &path, None).await
    }

    /// `POST /admin/notifications/{id}/cancel`.
    pub async fn cancel(&self, notification_id: &str) -> AdminReply {
        let path = format!("/admin/notifications/{notification_id}/cancel");
        self.call(Method::POST, &path, None).await
    }

    /// `POST /admin/clock/advance` with `{"by": by}`, e.g. `"2m"` or `"1d"`.
    pub async fn advance_clock(&self, by: &str) -> AdminReply {
        let body = serde_json::json!({ "by": by });
        self.call(
            Method::POST,
            "/admin/clock/advance",
            Some(RawBody::from(body).0),
        )
        .await
    }

    /// `POST /admin/clock/advance` with `{"seconds": seconds}`.
    pub async fn advance_clock_seconds(&self, seconds: u64) -> AdminReply {
        let body = serde_json::json!({ "seconds": seconds });
        self.call(
            Method::POST,
            "/admin/clock/advance",
            Some(RawBody::from(body).0),
        )
        .await
    }

    /// `GET /admin/received-notifications?paymentRequestId=...`: what the gateway's own webhook
    /// got, newest first.
    pub async fn received_notifications(&self, payment_request_id: &str) -> AdminReply {
        let id = utf8_percent_encode(payment_request_id, FORM);
        let path = format!("/admin/received-notifications?paymentRequestId={id}");
        self.call(Method::GET, &path, None).await
    }

    /// `POST /admin/receiver/fail-next` with this body, e.g.
    /// `{"count": 2, "resultStatus": "F", "resultCode": "PROCESS_FAIL"}`.
    pub async fn receiver_fail_next(&self, script: Value) -> AdminReply {
        self.call(
            Method::POST,
            "/admin/receiver/fail-next",
            Some(RawBody::from(script).0),
        )
        .await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> AdminReply {
        let mut request = self
            .app
            .http
            .request(method, format!("{}{path}", self.app.address));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a text body");
        AdminReply {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }
}
