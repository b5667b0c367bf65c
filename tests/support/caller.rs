//! A merchant calling one running gateway over HTTP, and the gateway's answers.

use serde_json::Value;

use super::bodies::{inquiry, paths};
use super::config::MERCHANT;
use super::signer::{Signed, sign};

/// An HTTP caller of one running gateway, as the merchant.
#[derive(Clone)]
pub struct Caller {
    /// `http://ADDRESS` of the gateway.
    pub base: String,
    pub(super) http: reqwest::Client,
}

impl Caller {
    /// Sends a signed request; `Err` when no answer came (the gateway died, say).
    pub async fn try_send(&self, request: &Signed) -> Result<Reply, reqwest::Error> {
        let response = self
            .http
            .post(format!("{}{}", self.base, request.path))
            .header("Content-Type", "application/json")
            .header("Client-Id", MERCHANT)
            .header("Request-Time", &request.request_time)
            .header(
                "Signature",
                format!(
                    "algorithm=RSA256,keyVersion=1,signature={}",
                    request.signature
                ),
            )
            .body(request.body.clone())
            .send()
            .await?;
        let http = response.status().as_u16();
        let body = response.json().await?;
        Ok(Reply { http, body })
    }

    /// Sends a signed request and insists on an answer.
    pub async fn send(&self, request: &Signed) -> Reply {
        self.try_send(request)
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", self.base, request.path))
    }

    /// `GET /readyz`: the HTTP status and the body.
    pub async fn readiness(&self) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}/readyz", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}/readyz: {e}", self.base));
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// notifyPushPayment with this report, signed now.
    pub async fn push(&self, report: &Value) -> Reply {
        self.send(&sign(paths::NOTIFY_PUSH_PAYMENT, report)).await
    }

    /// inquiryPayment of one payment, signed now.
    pub async fn inquire(&self, payment_request_id: &str) -> Reply {
        self.send(&sign(paths::INQUIRY_PAYMENT, &inquiry(payment_request_id)))
            .await
    }
}

/// A gateway answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status (200 for every Alipay+ outcome).
    pub http: u16,
    /// The body parsed.
    pub body: Value,
}

impl Reply {
    /// Whether it is HTTP 200 with this `result`.
    pub fn is(&self, status: &str, code: &str) -> bool {
        self.http == 200
            && self.body["result"]["resultStatus"] == status
            && self.body["result"]["resultCode"] == code
    }

    /// `HTTP 200 S/SUCCESS (message)`, for failure messages.
    pub fn summary(&self) -> String {
        let result = &self.body["result"];
        let text = |v: &Value| v.as_str().unwrap_or("?").to_owned();
        format!(
            "HTTP {} {}/{} ({})",
            self.http,
            text(&result["resultStatus"]),
            text(&result["resultCode"]),
            text(&result["resultMessage"])
        )
    }

    /// inquiryPayment's `paymentResult` status and code.
    pub fn payment_result(&self) -> (&str, &str) {
        let result = &self.body["paymentResult"];
        (
            result["resultStatus"].as_str().unwrap_or(""),
            result["resultCode"].as_str().unwrap_or(""),
        )
    }

    /// Whether inquiryPayment answers this payment succeeded, under `payment_id`.
    pub fn paid_as(&self, payment_id: &str) -> bool {
        self.is("S", "SUCCESS")
            && self.payment_result() == ("S", "SUCCESS")
            && self.body["paymentId"] == payment_id
    }
}
