//! The harness for scenario control, faults, the journal and reset, on top of `helpers.rs`: a
//! gateway with calls that can carry a `Gateway-Scenario` header, a time limit, or run side by
//! side; the rules, journal and reset admin calls; the four APIs as data, so one table of result
//! codes can be played through each control path. Tests speak in these terms; the headers are
//! built here.

use std::ops::Deref;
use std::time::{Duration, Instant};

use alipay_gateway::config::Settings;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::helpers::{
    ADMIN_TOKEN, AdminReply, Encoding, Key, MERCHANT, Reply, TestApp, content_to_sign,
    encode_signature, now_epoch_millis, paths, sign_base64, spawn_app_with, unique_id,
};

/// The request header that sets the scenario of one request.
const SCENARIO_HEADER: &str = "gateway-scenario";

// ------------------------------------------------------------------------------------------
// The gateway
// ------------------------------------------------------------------------------------------

/// A test gateway (everything [`TestApp`] does, through `Deref`) plus scenario calls.
pub struct TestGateway {
    app: TestApp,
    http: reqwest::Client,
}

impl Deref for TestGateway {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// A gateway with the test settings.
pub async fn spawn_gateway() -> TestGateway {
    spawn_gateway_with(|_| {}).await
}

/// A gateway with the test settings as changed by `configure`.
pub async fn spawn_gateway_with(configure: impl FnOnce(&mut Settings)) -> TestGateway {
    let app = spawn_app_with(configure).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
    TestGateway { app, http }
}

impl TestGateway {
    /// A signed POST of `body` to `path` as [`MERCHANT`]; its options change one thing about
    /// it. It owns what it needs, so several can be sent side by side.
    pub fn call(&self, path: &str, body: impl Into<Value>) -> Call {
        Call {
            http: self.http.clone(),
            address: self.app.address.clone(),
            path: path.to_owned(),
            body: serde_json::to_vec(&body.into()).expect("JSON serialises"),
            client_id: MERCHANT.to_owned(),
            key: Key::Merchant,
            key_version: "1".to_owned(),
            scenario: None,
            timeout: None,
        }
    }

    /// A signed POST carrying `Gateway-Scenario: <scenario>`.
    pub async fn post_with_scenario(
        &self,
        path: &str,
        body: impl Into<Value>,
        scenario: &str,
    ) -> Reply {
        self.call(path, body).with_scenario(scenario).send().await
    }

    /// Sends every call at once and answers their replies in the order given.
    pub async fn send_side_by_side(&self, calls: Vec<Call>) -> Vec<Reply> {
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|call| tokio::spawn(call.send()))
            .collect();
        let mut replies = Vec::with_capacity(tasks.len());
        for task in tasks {
            replies.push(task.await.expect("the call ran"));
        }
        replies
    }

    // --------------------------------------------------------------------------------------
    // Rules
    // --------------------------------------------------------------------------------------

    /// `POST /admin/rules`: the rule goes after the others.
    pub async fn add_rule(&self, rule: Value) -> AdminReply {
        self.admin_call(Method::POST, "/admin/rules", Some(rule))
            .await
    }

    /// `POST /admin/rules?first=true`: the rule goes before the others.
    pub async fn add_rule_first(&self, rule: Value) -> AdminReply {
        self.admin_call(Method::POST, "/admin/rules?first=true", Some(rule))
            .await
    }

    /// Adds a rule and insists it was accepted (an Arrange step); answers its id.
    pub async fn rule_added(&self, rule: Value) -> String {
        let reply = self.add_rule(rule.clone()).await;
        assert_eq!(
            reply.status, 201,
            "adding the rule {rule} failed: {reply:?}"
        );
        reply.json["id"].as_str().expect("a rule id").to_owned()
    }

    /// `GET /admin/rules`: the rules in the order they are tried.
    pub async fn rules(&self) -> Vec<Value> {
        let reply = self.admin_call(Method::GET, "/admin/rules", None).await;
        assert_eq!(reply.status, 200, "listing rules: {reply:?}");
        reply.json.as_array().cloned().unwrap_or_default()
    }

    /// The listed rule with this id.
    pub async fn rule(&self, id: &str) -> Option<Value> {
        self.rules().await.into_iter().find(|r| r["id"] == id)
    }

    /// `DELETE /admin/rules/{id}`.
    pub async fn remove_rule(&self, id: &str) -> AdminReply {
        self.admin_call(Method::DELETE, &format!("/admin/rules/{id}"), None)
            .await
    }

    // --------------------------------------------------------------------------------------
    // The journal and reset
    // --------------------------------------------------------------------------------------

    /// `GET /admin/journal?<filter>`: entries newest first.
    pub async fn journal(&self, filter: &[(&str, &str)]) -> Vec<Value> {
        let path = format!("/admin/journal{}", query(filter));
        let reply = self.admin_call(Method::GET, &path, None).await;
        assert_eq!(reply.status, 200, "listing the journal: {reply:?}");
        reply.json.as_array().cloned().unwrap_or_default()
    }

    /// The newest journal entry the filter accepts.
    pub async fn newest_entry(&self, filter: &[(&str, &str)]) -> Value {
        let mut with_limit = filter.to_vec();
        with_limit.push(("limit", "1"));
        self.journal(&with_limit)
            .await
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no journal entry matches {filter:?}"))
    }

    /// `GET /admin/journal/count?<filter>`.
    pub async fn journal_count(&self, filter: &[(&str, &str)]) -> u64 {
        let path = format!("/admin/journal/count{}", query(filter));
        let reply = self.admin_call(Method::GET, &path, None).await;
        assert_eq!(reply.status, 200, "counting the journal: {reply:?}");
        reply.json["count"].as_u64().expect("a count")
    }

    /// `DELETE /admin/journal`.
    pub async fn clear_journal(&self) -> AdminReply {
        self.admin_call(Method::DELETE, "/admin/journal", None)
            .await
    }

    /// `POST /admin/reset`.
    pub async fn reset(&self) -> AdminReply {
        self.admin_call(Method::POST, "/admin/reset", None).await
    }

    async fn admin_call(&self, method: Method, path: &str, body: Option<Value>) -> AdminReply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.app.address))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a text body");
        AdminReply {
            status,
            json: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    // --------------------------------------------------------------------------------------
    // Playing a code
    // --------------------------------------------------------------------------------------

    /// Asks `api` for `wanted` through `control`, on a fresh valid request, and answers the
    /// reply. The rule control adds a rule matching only that request's key field.
    pub async fn play(&self, api: &Api, control: Control, wanted: Wanted) -> Reply {
        let code = wanted.code();
        let plain_id = unique_id("case-");
        match control {
            Control::Convention => {
                let body = (api.body)(&format!("{plain_id}__{code}"));
                self.call(api.path, body).send().await
            }
            Control::Header => {
                self.post_with_scenario(api.path, (api.body)(&plain_id), code)
                    .await
            }
            Control::Rule => {
                let outcome = match wanted {
                    Wanted::Result(code) => json!({"result": {"code": code}}),
                    Wanted::PaymentResult(code) => json!({"payment_result": code}),
                };
                let mut rule =
                    json!({"endpoint": api.name, "field": api.key_field, "equals": plain_id});
                for (k, v) in outcome.as_object().expect("an object") {
                    rule[k] = v.clone();
                }
                self.rule_added(rule).await;
                self.call(api.path, (api.body)(&plain_id)).send().await
            }
        }
    }
}

/// `?k=v&...`, percent-encoded; empty for no filter.
fn query(filter: &[(&str, &str)]) -> String {
    if filter.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = filter
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect();
    format!("?{}", pairs.join("&"))
}

// ------------------------------------------------------------------------------------------
// A call and its reply
// ------------------------------------------------------------------------------------------

/// A signed POST being put together (signed as the SDKs do: `POST <path>\n<client>.<time>.<body>`
/// with the `rsa` crate).
pub struct Call {
    http: reqwest::Client,
    address: String,
    path: String,
    body: Vec<u8>,
    client_id: String,
    key: Key,
    key_version: String,
    scenario: Option<String>,
    timeout: Option<Duration>,
}

impl Call {
    /// Adds `Gateway-Scenario: <scenario>`.
    pub fn with_scenario(mut self, scenario: &str) -> Self {
        self.scenario = Some(scenario.to_owned());
        self
    }

    /// Calls as another Client-Id, signing with `key` under `key_version`.
    pub fn sent_by(mut self, client_id: &str, key: Key, key_version: &str) -> Self {
        self.client_id = client_id.to_owned();
        self.key = key;
        self.key_version = key_version.to_owned();
        self
    }

    /// Gives up waiting for the answer after `limit`.
    pub fn waiting_at_most(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Sends it and insists on a complete answer.
    pub async fn send(self) -> Reply {
        let path = self.path.clone();
        self.try_send()
            .await
            .unwrap_or_else(|e| panic!("the gateway answers {path}: {e:?}"))
    }

    /// Sends it; `Err` when no complete answer came (a closed connection, the time limit).
    pub async fn try_send(self) -> Result<Reply, reqwest::Error> {
        let time = now_epoch_millis();
        let signature = sign_base64(
            self.key,
            &content_to_sign(&self.path, &self.client_id, &time, &self.body),
        );
        let mut headers = HeaderMap::new();
        let mut put = |name: &'static str, value: &str| {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).expect("header value"),
            );
        };
        put("client-id", &self.client_id);
        put("request-time", &time);
        put("content-type", "application/json; charset=UTF-8");
        put(
            "signature",
            &format!(
                "algorithm=RSA256,keyVersion={},signature={}",
                self.key_version,
                encode_signature(&signature, Encoding::UpperHex)
            ),
        );
        if let Some(scenario) = &self.scenario {
            put(SCENARIO_HEADER, scenario);
        }
        let mut request = self
            .http
            .post(format!("{}{}", self.address, self.path))
            .headers(headers)
            .body(self.body);
        if let Some(limit) = self.timeout {
            request = request.timeout(limit);
        }
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await?;
        Ok(Reply::new(
            status,
            headers,
            body,
            started.elapsed(),
            self.path,
            Some(self.client_id),
        ))
    }
}

// ------------------------------------------------------------------------------------------
// The four APIs as data
// ------------------------------------------------------------------------------------------

/// One API: where it is, its key field (where the convention looks), and a valid request
/// whose key field has a given value.
pub struct Api {
    /// The API name rules and the journal use.
    pub name: &'static str,
    /// Its path.
    pub path: &'static str,
    /// The body field the `__<CODE>` convention reads.
    pub key_field: &'static str,
    /// A request that passes every field rule, with this key.
    pub body: fn(&str) -> Value,
}

/// sendPaymentResult, keyed by `referenceTransactionId`.
pub const SEND_PAYMENT_RESULT: Api = Api {
    name: "sendPaymentResult",
    path: paths::SEND_PAYMENT_RESULT,
    key_field: "referenceTransactionId",
    body: payment_report,
};

/// notifyPushPayment, keyed by `paymentId`.
pub const NOTIFY_PUSH_PAYMENT: Api = Api {
    name: "notifyPushPayment",
    path: paths::NOTIFY_PUSH_PAYMENT,
    key_field: "paymentId",
    body: push_success,
};

/// inquiryPayment, keyed by `paymentRequestId`.
pub const INQUIRY_PAYMENT: Api = Api {
    name: "inquiryPayment",
    path: paths::INQUIRY_PAYMENT,
    key_field: "paymentRequestId",
    body: inquiry,
};

/// The notifyPayment receiver, keyed by `paymentRequestId`.
pub const NOTIFY_PAYMENT: Api = Api {
    name: "notifyPayment",
    path: paths::NOTIFY_PAYMENT,
    key_field: "paymentRequestId",
    body: payment_notification,
};

/// A sendPaymentResult report of a successful card payment.
pub fn payment_report(reference_transaction_id: &str) -> Value {
    json!({
        "referenceTransactionId": reference_transaction_id,
        "paymentStatus": "SUCCESS",
        "paymentMethodProvider": "VISA",
    })
}

/// A notifyPushPayment report of a successful payment.
pub fn push_success(payment_id: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
        "paymentRequestId": unique_id("pr-"),
        "paymentId": payment_id,
        "paymentTime": "2020-01-01T12:01:01+08:30",
    })
}

/// A notifyPushPayment report of a failed payment with this payment result code.
pub fn push_failure(payment_id: &str, code: &str) -> Value {
    json!({
        "paymentResult": {"resultCode": code, "resultStatus": "F"},
        "paymentRequestId": unique_id("pr-"),
        "paymentId": payment_id,
    })
}

/// An inquiryPayment for this paymentRequestId.
pub fn inquiry(payment_request_id: &str) -> Value {
    json!({
        "acquirerId": "1022188000000000001",
        "pspId": "1022172000000000001",
        "paymentRequestId": payment_request_id,
    })
}

/// A payment result notification (the Java SDK's `notify_s.json`) for this paymentRequestId.
pub fn payment_notification(payment_request_id: &str) -> Value {
    json!({
        "actualPaymentAmount": {"currency": "CNY", "value": "1292"},
        "notifyType": "PAYMENT_RESULT",
        "paymentAmount": {"currency": "JPY", "value": "200"},
        "paymentCreateTime": "2020-03-02T19:11:19-08:00",
        "paymentId": unique_id("2020030219401080010018"),
        "paymentQuote": {"guaranteed": false, "quoteCurrencyPair": "392/156", "quotePrice": 0.064622},
        "paymentRequestId": payment_request_id,
        "paymentTime": "2020-03-02T19:12:11-08:00",
        "pspCustomerInfo": {"displayCustomerId": "buy*@alitest.com", "pspCustomerId": "20885028136924G7", "pspName": "ALIPAYCN"},
        "result": {"resultCode": "SUCCESS", "resultMessage": "success.", "resultStatus": "S"},
    })
}

/// How a test asks for a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// The key field ends in `__<CODE>`: no set-up, works from an unmodified SDK.
    Convention,
    /// `Gateway-Scenario: <CODE>` on the one request.
    Header,
    /// A rule added through `POST /admin/rules`.
    Rule,
}

impl Control {
    /// Every control path.
    pub const ALL: [Control; 3] = [Control::Convention, Control::Header, Control::Rule];
}

/// The code a test asks for.
#[derive(Debug, Clone, Copy)]
pub enum Wanted {
    /// As the answer's `result`.
    Result(&'static str),
    /// As inquiryPayment's `paymentResult` (a rule's `payment_result`).
    PaymentResult(&'static str),
}

impl Wanted {
    fn code(self) -> &'static str {
        match self {
            Wanted::Result(c) | Wanted::PaymentResult(c) => c,
        }
    }
}
