//! Notifications the gateway sends, and the merchant webhook that gets them.

use super::*;

/// A merchant whose registered public key is the gateway's own (`TEST-ONLY-gateway-public`):
/// a notification the gateway sends to its own receiver on this merchant's behalf verifies there.
pub const GATEWAY_AS_MERCHANT: &str = "TEST_GATEWAY_AS_MERCHANT";

/// The `[[clients]]` entry of [`GATEWAY_AS_MERCHANT`].
pub fn gateway_as_merchant() -> ClientSettings {
    client(
        GATEWAY_AS_MERCHANT,
        &[("1", "file:TEST-ONLY-gateway-public.pem")],
        None,
    )
}

/// How long a test waits for the sender before it gives up: far above any schedule a test
/// runs, far below the harness's patience.
pub const NOTIFY_DEADLINE: Duration = Duration::from_secs(8);

impl TestApp {
    /// The payment's notifications, as `GET /admin/payments/{id}/notifications` lists them.
    pub async fn notifications_of(&self, payment_request_id: &str) -> Vec<Value> {
        let reply = self.admin().notifications(payment_request_id).await;
        assert_eq!(reply.status, 200, "listing notifications: {reply:?}");
        reply.json.as_array().cloned().unwrap_or_default()
    }

    /// The payment's one notification.
    pub async fn notification_of(&self, payment_request_id: &str) -> Value {
        let mut all = self.notifications_of(payment_request_id).await;
        assert_eq!(
            all.len(),
            1,
            "{payment_request_id} should have exactly one notification: {all:?}"
        );
        all.remove(0)
    }

    /// Polls the payment's one notification until `done` holds; panics with the last state
    /// after [`NOTIFY_DEADLINE`].
    pub async fn wait_for_notification(
        &self,
        payment_request_id: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + NOTIFY_DEADLINE;
        loop {
            let all = self.notifications_of(payment_request_id).await;
            if let [only] = &all[..]
                && done(only)
            {
                return only.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{payment_request_id}: still not {what} after {NOTIFY_DEADLINE:?}: {all:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the payment's notification has this status (DELIVERED, EXHAUSTED, ...).
    pub async fn notification_becomes(&self, payment_request_id: &str, status: &str) -> Value {
        self.wait_for_notification(payment_request_id, status, |n| n["status"] == status)
            .await
    }

    /// Waits until the payment's notification has made (and recorded) at least `attempts`
    /// attempts: a fast schedule may be further along by the time the admin API is asked.
    pub async fn notification_has_made(&self, payment_request_id: &str, attempts: u64) -> Value {
        let what = format!("{attempts} attempts made");
        self.wait_for_notification(payment_request_id, &what, |n| {
            n["attemptsMade"]
                .as_u64()
                .is_some_and(|made| made >= attempts)
                && n["attempts"]
                    .as_array()
                    .is_some_and(|a| a.len() as u64 >= attempts)
        })
        .await
    }
}

/// How the test merchant answers one notification.
#[derive(Debug, Clone)]
pub enum Answer {
    /// HTTP 200 `{"result":{"resultCode":"SUCCESS","resultStatus":"S",...}}`: delivered.
    Success,
    /// The same S answer, signed with this key over `POST <path>\n<client-id>.<response-time>.<body>`.
    SuccessSignedWith(Key),
    /// HTTP 200 with `resultStatus` F and this code.
    Fail(&'static str),
    /// HTTP 200 with U / UNKNOWN_EXCEPTION: what the Java SDK answers to ask for a retry.
    Unknown,
    /// This HTTP status, with an S body: the status alone must fail it.
    HttpStatus(u16),
    /// HTTP 200 with a body that is not JSON.
    MalformedJson,
    /// This answer, but only after this long.
    After(Duration, Box<Answer>),
    /// Reads the request, then closes the connection without a word.
    HangUp,
    /// `302 Found` to this URL.
    RedirectTo(String),
}

impl Answer {
    /// The same answer, given only after `delay`: longer than `notify.timeout_ms` is no answer.
    pub fn after(self, delay: Duration) -> Answer {
        Answer::After(delay, Box::new(self))
    }
}

/// One request the test merchant got, as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// When it arrived (the whole request read), for spacing.
    pub arrived: std::time::Instant,
    /// The same moment as epoch milliseconds, to compare with the gateway's recorded due times.
    pub arrived_ms: i64,
    /// `POST`, we hope.
    pub method: String,
    /// The request path.
    pub path: String,
    headers: Vec<(String, String)>,
    /// The body, byte for byte.
    pub body: Vec<u8>,
}

impl Delivery {
    /// A request header (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `notification-id` header.
    pub fn notification_id(&self) -> &str {
        self.header("notification-id").unwrap_or_default()
    }

    /// The body parsed (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Why the request does not carry the gateway's signature over
    /// `POST <path>\n<client-id>.<request-time>.<body>`, if it does not.
    pub fn gateway_signature_problem(&self) -> Option<String> {
        self.signature_problem_over(&self.path)
    }

    /// The same check, as if the request had been signed over `path`.
    pub fn signature_problem_over(&self, path: &str) -> Option<String> {
        let (Some(client_id), Some(time), Some(signature)) = (
            self.header("client-id"),
            self.header("request-time").filter(|t| !t.is_empty()),
            self.header("signature"),
        ) else {
            return Some(format!(
                "client-id, request-time or signature missing: {:?}",
                self.headers
            ));
        };
        gateway_signature_problem(path, client_id, time, signature, &self.body)
    }
}

/// Which answer the `n`th request (0-based) gets.
pub(super) type AnswerRule = dyn Fn(usize) -> Answer + Send + Sync;

pub(super) struct Webhook {
    deliveries: Vec<Delivery>,
    rule: std::sync::Arc<AnswerRule>,
}

/// A merchant's notification webhook in the test process, on a real socket: it records every
/// request exactly as it came and answers each from a script. One request per connection.
pub struct TestReceiver {
    address: std::net::SocketAddr,
    webhook: std::sync::Arc<std::sync::Mutex<Webhook>>,
    server: tokio::task::JoinHandle<()>,
}

/// The path the test merchant listens on.
pub const MERCHANT_NOTIFY_PATH: &str = "/merchant/alipay/notify";

impl TestReceiver {
    /// A webhook on `127.0.0.1:0` that answers S to everything until told otherwise.
    pub async fn start() -> TestReceiver {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        let webhook = std::sync::Arc::new(std::sync::Mutex::new(Webhook {
            deliveries: Vec::new(),
            rule: std::sync::Arc::new(|_| Answer::Success),
        }));
        let shared = webhook.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(answer_one(stream, shared.clone()));
            }
        });
        TestReceiver {
            address,
            webhook,
            server,
        }
    }

    /// The notify URL to give the gateway.
    pub fn url(&self) -> String {
        format!("http://{}{MERCHANT_NOTIFY_PATH}", self.address)
    }

    /// From now on, answers every request with `answer`.
    pub fn answer_always(&self, answer: Answer) {
        self.set_rule(move |_| answer.clone());
    }

    /// Answers the next requests with `answers`, one each in order, and the rest with `then`.
    pub fn answer_in_turn(&self, answers: impl IntoIterator<Item = Answer>, then: Answer) {
        let answers: Vec<Answer> = answers.into_iter().collect();
        let start = self.deliveries().len();
        self.set_rule(move |n| {
            answers
                .get(n.wrapping_sub(start))
                .cloned()
                .unwrap_or_else(|| then.clone())
        });
    }

    fn set_rule(&self, rule: impl Fn(usize) -> Answer + Send + Sync + 'static) {
        self.webhook.lock().expect("webhook lock").rule = std::sync::Arc::new(rule);
    }

    /// Every request so far, in arrival order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.webhook
            .lock()
            .expect("webhook lock")
            .deliveries
            .clone()
    }

    /// Waits until `n` requests have arrived (at most [`NOTIFY_DEADLINE`]) and returns them all.
    pub async fn wait_for_deliveries(&self, n: usize) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + NOTIFY_DEADLINE;
        loop {
            let got = self.deliveries();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the merchant got {} requests, not {n}, in {NOTIFY_DEADLINE:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A URL on a port nothing listens on: connecting is refused.
pub async fn refusing_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{address}{MERCHANT_NOTIFY_PATH}")
}

/// Reads one HTTP/1.1 request, records it, and answers as the rule says.
pub(super) async fn answer_one(
    mut stream: TcpStream,
    webhook: std::sync::Arc<std::sync::Mutex<Webhook>>,
) {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while raw.len() < body_start + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
        }
    }
    let delivery = Delivery {
        arrived: std::time::Instant::now(),
        arrived_ms: chrono::Utc::now().timestamp_millis(),
        method,
        path,
        headers,
        body: raw[body_start..body_start + length].to_vec(),
    };
    let mut answer = {
        let mut webhook = webhook.lock().expect("webhook lock");
        let nth = webhook.deliveries.len();
        webhook.deliveries.push(delivery.clone());
        (webhook.rule)(nth)
    };
    while let Answer::After(delay, then) = answer {
        tokio::time::sleep(delay).await;
        answer = *then;
    }
    let acknowledgement = |status: &str, code: &str| {
        format!(
            r#"{{"result":{{"resultCode":"{code}","resultStatus":"{status}","resultMessage":"test merchant"}}}}"#
        )
    };
    let success = acknowledgement("S", "SUCCESS");
    let response = match answer {
        Answer::Success => http_response(200, &[], &success),
        Answer::SuccessSignedWith(key) => {
            let client_id = delivery.header("client-id").unwrap_or_default().to_owned();
            let time = now_epoch_millis();
            let content = content_to_sign(&delivery.path, &client_id, &time, success.as_bytes());
            let signature = encode_signature(&sign_base64(key, &content), Encoding::UpperHex);
            let header = format!("algorithm=RSA256,keyVersion=1,signature={signature}");
            let headers = [
                ("client-id", client_id),
                ("response-time", time),
                ("signature", header),
            ];
            http_response(200, &headers, &success)
        }
        Answer::Fail(code) => http_response(200, &[], &acknowledgement("F", code)),
        Answer::Unknown => http_response(200, &[], &acknowledgement("U", "UNKNOWN_EXCEPTION")),
        Answer::HttpStatus(status) => http_response(status, &[], &success),
        Answer::MalformedJson => http_response(200, &[], r#"{"result": {"resultStatus": "S""#),
        Answer::After(..) => unreachable!("waited for above"),
        Answer::HangUp => return,
        Answer::RedirectTo(url) => http_response(302, &[("location", url)], ""),
    };
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

pub(super) fn http_response(status: u16, headers: &[(&str, String)], body: &str) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Whatever"),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    [head.into_bytes(), body.as_bytes().to_vec()].concat()
}
