//! `conform notify`: payment result notifications sent to a merchant's handler as Alipay+ sends
//! them (the body `domain::message` builds, signed with the gateway key under the merchant's
//! client id over the notify URL's path, with a `notification-id`), and the handler's answers
//! judged case by case.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::{
    Answer, CaseDef, ConformError, Http, Judged, NoAnswer, Outcome, Request, Verdict,
    check_answer_signature, corrupt, judge_bad_input, judge_refusal, signed_headers,
};
use crate::domain::message::{self, NotifyPlan};
use crate::domain::{Payment, PaymentStatus};
use crate::notify::sender::{self, Transport};
use crate::protocol::schema;
use crate::protocol::{Amount, datetime};
use crate::signature::{KeyError, SigningKey, VerifyingKey};

/// Size of the oversized-body case's notification: far above any real one (a few KiB).
pub const OVERSIZED_BYTES: usize = 1024 * 1024;

/// How old the stale-request-time case's request-time is.
const STALE_BY: chrono::TimeDelta = chrono::TimeDelta::days(2);

/// Why the state check says the result is not stored. The text is what the
/// `stored-before-ack` case reports it got; anything but a yes counts as not stored.
#[derive(Debug, thiserror::Error)]
enum StateCheckError {
    /// `--state-url`, with the payment filled in, does not parse.
    #[error("--state-url: {0}")]
    BadUrl(url::ParseError),
    /// The HTTP client for the state URL could not be built.
    #[error("{0}")]
    Client(reqwest::Error),
    /// The state URL gave no answer.
    #[error("GET {url}: {transport}")]
    NoAnswer {
        /// The URL asked.
        url: reqwest::Url,
        /// What happened instead.
        transport: Transport,
    },
    /// The state URL answered something other than 2xx: not stored.
    #[error("GET {url}: HTTP {status}")]
    NotStored {
        /// The URL asked.
        url: reqwest::Url,
        /// Its HTTP status.
        status: u16,
    },
    /// The task running `--state-command` did not finish.
    #[error("{0}")]
    Task(tokio::task::JoinError),
    /// `--state-command` could not be started.
    #[error("--state-command: {0}")]
    Spawn(std::io::Error),
    /// `--state-command` exited non-zero: not stored. Its output follows the status.
    #[error("--state-command: {status}{}", after_space(said))]
    Refused {
        /// How it exited.
        status: std::process::ExitStatus,
        /// Its standard output, trimmed.
        said: String,
    },
}

/// ` text`, or nothing when `text` is empty.
fn after_space(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" {text}")
    }
}

/// How the kit asks whether the handler stored a result before it answered S.
#[derive(Debug, Clone)]
pub enum StateCheck {
    /// GET this URL (`{paymentRequestId}` replaced, else added as a query parameter): 2xx means
    /// stored, anything else not.
    Url(String),
    /// Run this shell command with `CONFORM_PAYMENT_REQUEST_ID` and `CONFORM_RESULT_STATUS` set:
    /// exit status 0 means stored.
    Command(String),
}

/// What `conform notify` needs.
#[derive(Debug)]
pub struct NotifyOptions {
    /// The handler's URL; its path is what is signed.
    pub url: String,
    /// The gateway's private key, which signs as Alipay+.
    pub key: Arc<SigningKey>,
    /// `keyVersion` in the signature header.
    pub key_version: String,
    /// The merchant's client id.
    pub client_id: String,
    /// The merchant's public key, to check signed acknowledgements.
    pub merchant_key: Option<VerifyingKey>,
    /// How long each request may wait for its answer.
    pub timeout: Duration,
    /// The payment the success notification reports.
    pub payment_request_id: String,
    /// The payment the failure notification reports.
    pub failed_payment_request_id: String,
    /// The notifications' paymentAmount.
    pub amount: Amount,
    /// How to check that the result was stored before S.
    pub state: Option<StateCheck>,
}

/// A notification ready to go: its id, its payment, its exact body and its signing headers.
#[derive(Debug, Clone)]
struct Prepared {
    id: String,
    payment_request_id: String,
    body: String,
    signing: Vec<(&'static str, String)>,
}

impl Prepared {
    fn request(&self) -> Request {
        self.request_with(self.signing.clone(), self.body.clone().into_bytes())
    }

    fn request_with(&self, signing: Vec<(&'static str, String)>, body: Vec<u8>) -> Request {
        let mut headers = vec![("content-type", "application/json; charset=UTF-8".to_owned())];
        headers.extend(signing);
        headers.push(("notification-id", self.id.clone()));
        Request { headers, body }
    }

    fn describe(&self, what: &str) -> String {
        format!(
            "{what} (paymentRequestId {}, notification-id {})",
            self.payment_request_id, self.id
        )
    }
}

/// Runs the selected cases in matrix order, calling `progress` before each.
pub async fn run(
    options: &NotifyOptions,
    cases: &[&CaseDef],
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<Outcome>, ConformError> {
    let http = Http::new(&options.url, options.timeout)?;
    let success = prepare(options, http.path(), &options.payment_request_id, true)?;
    let mut run = Run {
        o: options,
        http,
        success,
        success_answer: None,
        stored: None,
    };
    let mut outcomes = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        progress(i + 1, cases.len(), case.id);
        let started = Instant::now();
        let (sent, judged) = run.case(case.id).await?;
        outcomes.push(Outcome::judged(
            case.id.to_owned(),
            sent,
            case.expects,
            judged,
            started,
        ));
    }
    Ok(outcomes)
}

/// One run's shared state: the success notification is sent once, and what later cases
/// (duplicate, ack-format, ack-signed, stored-before-ack, tampered-body) build on.
struct Run<'a> {
    o: &'a NotifyOptions,
    http: Http,
    success: Prepared,
    success_answer: Option<Result<Answer, NoAnswer>>,
    stored: Option<Result<String, StateCheckError>>,
}

impl Run<'_> {
    /// Sends the success notification the first time it is needed; the state check runs the
    /// moment S arrives.
    async fn success_answer(&mut self) -> Result<Answer, NoAnswer> {
        if let Some(answer) = &self.success_answer {
            return answer.clone();
        }
        let answer = self.http.post(&self.success.request()).await;
        if let (Ok(a), Some(state)) = (&answer, &self.o.state)
            && a.accepted()
        {
            self.stored =
                Some(check_state(state, &self.success.payment_request_id, self.o.timeout).await);
        }
        self.success_answer = Some(answer.clone());
        answer
    }

    fn fresh(&self, payment_request_id: &str, success: bool) -> Result<Prepared, ConformError> {
        prepare(self.o, self.http.path(), payment_request_id, success)
    }

    /// The success notification's body under a new notification-id, signed now.
    fn success_copy(&self) -> Result<Prepared, KeyError> {
        let mut copy = self.success.clone();
        copy.id = crate::ids::notification_id();
        copy.signing = self.sign(self.http.path(), &self.o.client_id, &now(), &copy.body)?;
        Ok(copy)
    }

    fn sign(
        &self,
        path: &str,
        client_id: &str,
        time: &str,
        body: &str,
    ) -> Result<Vec<(&'static str, String)>, KeyError> {
        signed_headers(
            &self.o.key,
            &self.o.key_version,
            path,
            client_id,
            time,
            body.as_bytes(),
        )
    }

    async fn case(&mut self, id: &str) -> Result<(String, Judged), ConformError> {
        let timeout_ms = self.http.timeout_ms();
        let path = self.http.path().to_owned();
        Ok(match id {
            "success" => {
                let answer = self.success_answer().await;
                (
                    self.success.describe("a success notification, signed"),
                    judge_ack(&answer, "the success notification", timeout_ms, ""),
                )
            }
            "stored-before-ack" => {
                let sent = "the state check, the moment S arrived".to_owned();
                if self.o.state.is_none() {
                    return Ok((
                        sent,
                        Judged::new(
                            Verdict::Skip,
                            "-",
                            "no --state-url or --state-command given",
                        ),
                    ));
                }
                let accepted = self.success_answer().await.is_ok_and(|a| a.accepted());
                let judged = match (&self.stored, accepted) {
                    (Some(Ok(got)), true) => {
                        Judged::new(Verdict::Pass, got, "the result was stored when S came back")
                    }
                    (Some(Err(got)), true) => Judged::new(
                        Verdict::Fail,
                        got.to_string(),
                        "answered S before the result was stored: a crash now loses the \
                         payment's result, and Alipay+ will not send it again",
                    ),
                    _ => Judged::new(
                        Verdict::Skip,
                        "-",
                        "the success notification was not acknowledged S (see success)",
                    ),
                };
                (sent, judged)
            }
            "failure" => {
                let failed = self.fresh(&self.o.failed_payment_request_id.clone(), false)?;
                let answer = self.http.post(&failed.request()).await;
                (
                    failed.describe("a failure notification (F, PROCESS_FAIL), signed"),
                    judge_ack(&answer, "the failure notification", timeout_ms, ""),
                )
            }
            "ack-format" => {
                let answer = self.success_answer().await;
                let sent = "(the success notification's acknowledgement)".to_owned();
                (sent, judge_format(&answer))
            }
            "ack-signed" => {
                let sent = "(the success notification's acknowledgement)".to_owned();
                let Some(key) = &self.o.merchant_key else {
                    return Ok((
                        sent,
                        Judged::new(
                            Verdict::Skip,
                            "-",
                            "no --merchant-public-key given: signing acknowledgements is optional",
                        ),
                    ));
                };
                let judged = match self.success_answer().await {
                    Err(_) => Judged::new(
                        Verdict::Skip,
                        "no answer",
                        "the success notification got no answer (see success)",
                    ),
                    Ok(a) => match check_answer_signature(key, &path, &self.o.client_id, &a) {
                        Ok(()) => Judged::new(
                            Verdict::Pass,
                            "signed, valid",
                            "the acknowledgement's signature verifies with the merchant's key",
                        ),
                        Err(e) => Judged::new(
                            Verdict::Fail,
                            e.to_string(),
                            "a gateway with notify.require_signed_ack counts this acknowledgement \
                             undelivered",
                        ),
                    },
                };
                (sent, judged)
            }
            "duplicate" => {
                self.success_answer().await.ok();
                let mut again = self.success.clone();
                again.signing = self.sign(&path, &self.o.client_id, &now(), &again.body)?;
                let answer = self.http.post(&again.request()).await;
                (
                    again.describe("the success notification again, signed afresh"),
                    judge_ack(
                        &answer,
                        "the repeated notification",
                        timeout_ms,
                        "not idempotent: ",
                    ),
                )
            }
            "unsigned" => {
                let n = self.success_copy()?;
                let signing = n
                    .signing
                    .iter()
                    .filter(|(name, _)| *name != "signature")
                    .cloned()
                    .collect();
                let answer = self
                    .http
                    .post(&n.request_with(signing, n.body.clone().into_bytes()))
                    .await;
                (
                    n.describe("the success notification without a signature header"),
                    judge_refusal(&answer, "an unsigned notification"),
                )
            }
            "wrong-signature" => {
                let mut n = self.success_copy()?;
                for (name, value) in &mut n.signing {
                    if *name == "signature" {
                        *value = corrupt(value);
                    }
                }
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe("the success notification with a signature that does not verify"),
                    judge_refusal(&answer, "a notification with a wrong signature"),
                )
            }
            "tampered-body" => {
                let mut n = self.success.clone();
                n.id = crate::ids::notification_id();
                let value = &self.o.amount.value;
                let tampered = n.body.replacen(
                    &format!("\"value\":\"{value}\""),
                    &format!("\"value\":\"{value}0\""),
                    1,
                );
                let answer = self
                    .http
                    .post(&n.request_with(n.signing.clone(), tampered.into_bytes()))
                    .await;
                (
                    n.describe(&format!(
                        "the success notification's signed headers over a body whose \
                         paymentAmount.value became {value}0"
                    )),
                    judge_refusal(&answer, "a notification whose body changed after signing"),
                )
            }
            "other-path" => {
                let mut n = self.success_copy()?;
                let other = format!("{}/other", path.trim_end_matches('/'));
                n.signing = self.sign(&other, &self.o.client_id, &now(), &n.body)?;
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe(&format!("the success notification signed over {other}")),
                    judge_refusal(&answer, "a notification signed for another path"),
                )
            }
            "unknown-key-version" => {
                let mut n = self.success_copy()?;
                let stranger = SigningKey::generate()?;
                let version = if self.o.key_version == "99" {
                    "98"
                } else {
                    "99"
                };
                n.signing = signed_headers(
                    &stranger,
                    version,
                    &path,
                    &self.o.client_id,
                    &now(),
                    n.body.as_bytes(),
                )?;
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe(&format!(
                        "the success notification signed with an unregistered key as keyVersion {version}"
                    )),
                    judge_refusal(&answer, "a notification signed with an unknown key"),
                )
            }
            "other-client-id" => {
                let mut n = self.success_copy()?;
                let other = format!("{}_OTHER", self.o.client_id);
                n.signing = self.sign(&path, &other, &now(), &n.body)?;
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe(&format!(
                        "the success notification signed for client id {other}"
                    )),
                    judge_refusal(&answer, "a notification for another client id"),
                )
            }
            "stale-request-time" => {
                let mut n = self.success_copy()?;
                let time = datetime::format_millis(Utc::now() - STALE_BY);
                n.signing = self.sign(&path, &self.o.client_id, &time, &n.body)?;
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe(&format!(
                        "the success notification, validly signed with request-time {time}"
                    )),
                    judge_stale(&answer),
                )
            }
            "malformed-json" => {
                let mut n = self.success_copy()?;
                n.body.truncate(n.body.len() / 2);
                n.signing = self.sign(&path, &self.o.client_id, &now(), &n.body)?;
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe("a validly signed body cut off mid-JSON"),
                    judge_bad_input(&answer, "a malformed body"),
                )
            }
            "unknown-payment" => {
                let unknown = format!("conform-unknown-{}", crate::ids::payment_id());
                let n = self.fresh(&unknown, true)?;
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe("a validly signed notification of a payment nobody created"),
                    judge_unknown_payment(&answer),
                )
            }
            "oversized-body" => {
                let mut n = self.success_copy()?;
                n.body = pad(&n.body, OVERSIZED_BYTES);
                n.signing = self.sign(&path, &self.o.client_id, &now(), &n.body)?;
                let answer = self.http.post(&n.request()).await;
                (
                    n.describe(&format!(
                        "the success notification padded to {} bytes, validly signed",
                        n.body.len()
                    )),
                    judge_oversized(&answer),
                )
            }
            other => {
                return Err(ConformError::UnknownCase {
                    suite: "notify",
                    id: other.to_owned(),
                });
            }
        })
    }
}

/// A request-time for now, as the sender writes it.
fn now() -> String {
    datetime::format_millis(Utc::now())
}

/// A notification for a payment, built by `domain::message` as the sender's are, and signed.
fn prepare(
    o: &NotifyOptions,
    path: &str,
    payment_request_id: &str,
    success: bool,
) -> Result<Prepared, ConformError> {
    let now_utc = Utc::now();
    let (status, code) = if success {
        (PaymentStatus::Success, "SUCCESS")
    } else {
        (PaymentStatus::Fail, "PROCESS_FAIL")
    };
    let payment = Payment {
        payment_request_id: Some(payment_request_id.to_owned()),
        payment_id: Some(crate::ids::payment_id()),
        result_message: (!success).then(|| "A general business failure occurred.".to_owned()),
        payment_time: Some(datetime::format_seconds(now_utc.fixed_offset())),
        payment_create_time: Some(datetime::format_seconds(
            (now_utc - chrono::TimeDelta::minutes(1)).fixed_offset(),
        )),
        payment_amount: Some(o.amount.clone()),
        client_id: Some(o.client_id.clone()),
        notify_url: Some(o.url.clone()),
        ..Payment::new(status, code, now_utc)
    };
    let plan = NotifyPlan {
        caller: &o.client_id,
        default_urls: &Arc::new(HashMap::new()),
        first_due_ms: 0,
    };
    let built = message::build(&payment, &plan).map_err(ConformError::NotBuilt)?;
    let signing = signed_headers(
        &o.key,
        &o.key_version,
        path,
        &o.client_id,
        &now(),
        built.body.as_bytes(),
    )?;
    Ok(Prepared {
        id: built.id,
        payment_request_id: built.payment_request_id,
        body: built.body,
        signing,
    })
}

/// `body` (a JSON object) with an unknown field added so that it is `size` bytes long.
fn pad(body: &str, size: usize) -> String {
    let head = body.trim_end().trim_end_matches('}');
    let frame = head.len() + r#","conformPadding":""}"#.len();
    let filler = "x".repeat(size.saturating_sub(frame));
    format!("{head},\"conformPadding\":\"{filler}\"}}")
}

/// Acknowledged: HTTP 200 with S within the timeout.
fn judge_ack(
    answer: &Result<Answer, NoAnswer>,
    what: &str,
    timeout_ms: u128,
    prefix: &str,
) -> Judged {
    match answer {
        Err(e) if e.timed_out => Judged::new(
            Verdict::Fail,
            e.why.clone(),
            format!(
                "{prefix}{what} got no answer within {timeout_ms} ms: Alipay+ counts it \
                 undelivered and sends it again"
            ),
        ),
        Err(e) => Judged::new(
            Verdict::Fail,
            e.why.clone(),
            format!("{prefix}{what} got no answer"),
        ),
        Ok(a) if a.status != 200 => Judged::new(
            Verdict::Fail,
            a.summary(),
            format!(
                "{prefix}HTTP {}: only HTTP 200 with S acknowledges a notification",
                a.status
            ),
        ),
        Ok(a) if a.accepted() => Judged::new(Verdict::Pass, a.summary(), format!("{what}: S")),
        Ok(a) => Judged::new(
            Verdict::Fail,
            a.summary(),
            match a.result().0 {
                Some(status) => format!(
                    "{prefix}{what} answered {status}, not S: Alipay+ retries it for 24 hours, \
                     then gives up"
                ),
                None => format!("{prefix}{what}: the answer has no result.resultStatus"),
            },
        ),
    }
}

/// The acknowledgement's shape: JSON by Content-Type and by the Result rules.
fn judge_format(answer: &Result<Answer, NoAnswer>) -> Judged {
    let a = match answer {
        Ok(a) => a,
        Err(e) => {
            return Judged::new(
                Verdict::Skip,
                e.why.clone(),
                "the success notification got no answer (see success)",
            );
        }
    };
    if !a.is_json() {
        return Judged::new(
            Verdict::Fail,
            a.summary(),
            format!(
                "Content-Type is {}; the acknowledgement is JSON (application/json)",
                a.header("content-type").unwrap_or("missing")
            ),
        );
    }
    let Some(json) = a.json() else {
        return Judged::new(Verdict::Fail, a.summary(), "the body is not JSON");
    };
    if let Err(e) = schema::validate(&json, schema::ENVELOPE) {
        return Judged::new(
            Verdict::Fail,
            a.summary(),
            format!("field rule broken: {e}"),
        );
    }
    match a.result() {
        (Some(status), Some(code)) if status == "S" && code != "SUCCESS" => Judged::new(
            Verdict::Warn,
            a.summary(),
            format!("resultStatus S with resultCode {code}; the page's acknowledgement is SUCCESS"),
        ),
        _ => Judged::new(
            Verdict::Pass,
            a.summary(),
            "JSON, with a result by the page's Result rules",
        ),
    }
}

/// A replay: refusing it is right, accepting it a warning (no page sets a window); a hang fails.
fn judge_stale(answer: &Result<Answer, NoAnswer>) -> Judged {
    match answer {
        Err(e) => Judged::new(
            Verdict::Fail,
            e.why.clone(),
            "no answer to a replayed notification: answer it, F",
        ),
        Ok(a) if a.status >= 500 => Judged::new(
            Verdict::Warn,
            a.summary(),
            "refused the replay with a server error; answer F",
        ),
        Ok(a) if a.accepted() => Judged::new(
            Verdict::Warn,
            a.summary(),
            "accepted a notification signed two days ago: a captured notification can be \
             replayed; refuse a request-time far from your clock (every real attempt is signed \
             afresh)",
        ),
        Ok(a) => Judged::new(
            Verdict::Pass,
            a.summary(),
            "refused the replayed notification",
        ),
    }
}

/// A payment the merchant never created: F or U is right; S or a 5xx a warning; a hang fails.
fn judge_unknown_payment(answer: &Result<Answer, NoAnswer>) -> Judged {
    match answer {
        Err(e) => Judged::new(
            Verdict::Fail,
            e.why.clone(),
            "no answer to a notification of an unknown payment",
        ),
        Ok(a) if a.status >= 500 => Judged::new(
            Verdict::Warn,
            a.summary(),
            "a server error for an unknown payment; answer F",
        ),
        Ok(a) if a.accepted() => Judged::new(
            Verdict::Warn,
            a.summary(),
            "answered S for a payment it does not know: the result is dropped; F keeps Alipay+ \
             retrying in case the order is still being written",
        ),
        Ok(a) => Judged::new(
            Verdict::Pass,
            a.summary(),
            "did not acknowledge a payment it does not know",
        ),
    }
}

/// An oversized body: a refusal of any kind is right, S a warning, a 5xx or a hang fails.
fn judge_oversized(answer: &Result<Answer, NoAnswer>) -> Judged {
    match answer {
        Err(e) if e.timed_out => Judged::new(
            Verdict::Fail,
            e.why.clone(),
            "hangs on an oversized body: no answer within the timeout",
        ),
        Err(e) => Judged::new(
            Verdict::Pass,
            e.why.clone(),
            "refused the oversized body by closing the connection",
        ),
        Ok(a) if a.status >= 500 => Judged::new(
            Verdict::Fail,
            a.summary(),
            format!("crashed (HTTP {}) on an oversized body", a.status),
        ),
        Ok(a) if a.accepted() => Judged::new(
            Verdict::Warn,
            a.summary(),
            "accepted a 1 MiB notification: cap what the handler reads (real ones are a few KiB)",
        ),
        Ok(a) => Judged::new(Verdict::Pass, a.summary(), "refused the oversized body"),
    }
}

/// Whether the handler's store holds the payment's result now.
async fn check_state(
    state: &StateCheck,
    payment_request_id: &str,
    timeout: Duration,
) -> Result<String, StateCheckError> {
    match state {
        StateCheck::Url(url) => {
            let url = if url.contains("{paymentRequestId}") {
                reqwest::Url::parse(&url.replace("{paymentRequestId}", payment_request_id))
            } else {
                reqwest::Url::parse(url).map(|mut u| {
                    u.query_pairs_mut()
                        .append_pair("paymentRequestId", payment_request_id);
                    u
                })
            }
            .map_err(StateCheckError::BadUrl)?;
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .build()
                .map_err(StateCheckError::Client)?;
            let response = match client.get(url.clone()).send().await {
                Ok(response) => response,
                Err(e) => {
                    let transport = sender::describe(e);
                    return Err(StateCheckError::NoAnswer { url, transport });
                }
            };
            let status = response.status().as_u16();
            if response.status().is_success() {
                Ok(format!("GET {url}: HTTP {status}"))
            } else {
                Err(StateCheckError::NotStored { url, status })
            }
        }
        StateCheck::Command(command) => {
            let command = command.clone();
            let id = payment_request_id.to_owned();
            let output = tokio::task::spawn_blocking(move || {
                std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&command)
                    .env("CONFORM_PAYMENT_REQUEST_ID", &id)
                    .env("CONFORM_RESULT_STATUS", "S")
                    .output()
            })
            .await
            .map_err(StateCheckError::Task)?
            .map_err(StateCheckError::Spawn)?;
            let said = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            if output.status.success() {
                Ok(format!("--state-command exited 0{}", after_space(&said)))
            } else {
                Err(StateCheckError::Refused {
                    status: output.status,
                    said,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_makes_a_json_object_of_the_size_asked() {
        let padded = pad(r#"{"a":"b"}"#, 1000);
        assert_eq!(padded.len(), 1000);
        let v: serde_json::Value = serde_json::from_str(&padded).unwrap();
        assert_eq!(v["a"], "b");
    }

    #[cfg(unix)]
    #[test]
    fn a_refusing_state_command_reports_its_status_and_what_it_said() {
        use std::os::unix::process::ExitStatusExt;
        let refused = |said: &str| {
            StateCheckError::Refused {
                status: std::process::ExitStatus::from_raw(256),
                said: said.to_owned(),
            }
            .to_string()
        };
        assert_eq!(refused(""), "--state-command: exit status: 1");
        assert_eq!(
            refused("no such order"),
            "--state-command: exit status: 1 no such order"
        );
    }
}
