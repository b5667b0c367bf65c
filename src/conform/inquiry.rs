//! `conform inquiry`: inquiryPayment requests sent to an MPP as Alipay+ sends them (signed with
//! the gateway key over the URL's path), and every answer judged by the page: the response field
//! rules (`InquiryPaymentResponse::FIELDS`, the table the gateway's own answers hold to), the
//! result code tables, "How to return the result", and the answer's signature.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use super::{
    Answer, CaseDef, ConformError, Http, Judged, NoAnswer, Outcome, Request, Verdict,
    check_answer_signature, corrupt, judge_bad_input, judge_refusal, signed_headers,
};
use crate::api::inquiry_payment::InquiryPaymentResponse;
use crate::protocol::codes::{self, Code};
use crate::protocol::{Endpoint, Spec, datetime, validate};
use crate::signature::{KeyError, SigningKey, VerifyingKey};

/// inquiryPayment's wire description: its result and payment result code tables.
const SPEC: &Spec = Endpoint::InquiryPayment.spec();

/// What `conform inquiry` needs.
#[derive(Debug)]
pub struct InquiryOptions {
    /// The MPP's inquiryPayment URL; its path is what is signed.
    pub url: String,
    /// The gateway's private key, which signs as Alipay+.
    pub key: SigningKey,
    /// `keyVersion` in the signature header.
    pub key_version: String,
    /// The client id Alipay+ calls the MPP with.
    pub client_id: String,
    /// The MPP's public key, to check its answers' signatures.
    pub mpp_key: Option<VerifyingKey>,
    /// How long each request may wait for its answer.
    pub timeout: Duration,
    /// Payments the MPP knows, each inquired by `known-payment`.
    pub payment_request_ids: Vec<String>,
    /// `acquirerId` of every inquiry.
    pub acquirer_id: String,
    /// `pspId` of every inquiry.
    pub psp_id: String,
}

/// Runs the selected cases in matrix order (`known-payment` once per named payment), calling
/// `progress` before each.
pub async fn run(
    options: &InquiryOptions,
    cases: &[&CaseDef],
    progress: &mut dyn FnMut(usize, usize, &str),
) -> Result<Vec<Outcome>, ConformError> {
    let http = Http::new(&options.url, options.timeout)?;
    let mut steps: Vec<(&CaseDef, String, Option<&str>)> = Vec::new();
    for case in cases {
        if case.id == "known-payment" && !options.payment_request_ids.is_empty() {
            for id in &options.payment_request_ids {
                steps.push((case, format!("known-payment:{id}"), Some(id)));
            }
        } else {
            steps.push((case, case.id.to_owned(), None));
        }
    }
    let run = Run { o: options, http };
    let mut outcomes = Vec::with_capacity(steps.len());
    for (i, (case, id, payment)) in steps.iter().enumerate() {
        progress(i + 1, steps.len(), id);
        let started = Instant::now();
        let (sent, judged) = run.case(case.id, *payment).await?;
        outcomes.push(Outcome::judged(
            id.clone(),
            sent,
            case.expects,
            judged,
            started,
        ));
    }
    Ok(outcomes)
}

struct Run<'a> {
    o: &'a InquiryOptions,
    http: Http,
}

impl Run<'_> {
    fn body(&self, payment_request_id: &str) -> String {
        json!({
            "acquirerId": self.o.acquirer_id,
            "pspId": self.o.psp_id,
            "paymentRequestId": payment_request_id,
        })
        .to_string()
    }

    fn signed(&self, body: String) -> Result<Request, KeyError> {
        let time = datetime::format_millis(Utc::now());
        let mut headers = vec![("content-type", "application/json; charset=UTF-8".to_owned())];
        headers.extend(signed_headers(
            &self.o.key,
            &self.o.key_version,
            self.http.path(),
            &self.o.client_id,
            &time,
            body.as_bytes(),
        )?);
        Ok(Request {
            headers,
            body: body.into_bytes(),
        })
    }

    async fn case(
        &self,
        id: &str,
        payment: Option<&str>,
    ) -> Result<(String, Judged), ConformError> {
        Ok(match id {
            "known-payment" => {
                let Some(payment) = payment else {
                    return Ok((
                        "-".to_owned(),
                        Judged::new(Verdict::Skip, "-", "no --payment-request-id given"),
                    ));
                };
                let answer = self.http.post(&self.signed(self.body(payment))?).await;
                (
                    format!("a signed inquiry for paymentRequestId {payment}"),
                    self.judge_known(&answer),
                )
            }
            "unknown-payment" => {
                let unknown = format!("conform-unknown-{}", crate::ids::payment_id());
                let answer = self.http.post(&self.signed(self.body(&unknown))?).await;
                (
                    format!(
                        "a signed inquiry for paymentRequestId {unknown}, which nobody created"
                    ),
                    self.judge_unknown(&answer),
                )
            }
            "unsigned" => {
                let mut request = self.signed(self.body(&self.any_payment()))?;
                request.headers.retain(|(name, _)| *name != "signature");
                let answer = self.http.post(&request).await;
                (
                    "an inquiry without the signature header".to_owned(),
                    judge_refusal(&answer, "an unsigned inquiry"),
                )
            }
            "wrong-signature" => {
                let mut request = self.signed(self.body(&self.any_payment()))?;
                for (name, value) in &mut request.headers {
                    if *name == "signature" {
                        *value = corrupt(value);
                    }
                }
                let answer = self.http.post(&request).await;
                (
                    "an inquiry whose signature does not verify".to_owned(),
                    judge_refusal(&answer, "an inquiry with a wrong signature"),
                )
            }
            "malformed-json" => {
                let mut body = self.body(&self.any_payment());
                body.truncate(body.len() / 2);
                let answer = self.http.post(&self.signed(body)?).await;
                (
                    "a validly signed body cut off mid-JSON".to_owned(),
                    judge_param_illegal(&answer, "a malformed body"),
                )
            }
            "missing-field" => {
                let body = json!({
                    "acquirerId": self.o.acquirer_id,
                    "paymentRequestId": self.any_payment(),
                })
                .to_string();
                let answer = self.http.post(&self.signed(body)?).await;
                (
                    "a validly signed inquiry without pspId".to_owned(),
                    judge_param_illegal(&answer, "an inquiry without pspId"),
                )
            }
            other => {
                return Err(ConformError::UnknownCase {
                    suite: "inquiry",
                    id: other.to_owned(),
                });
            }
        })
    }

    /// A payment to name in the requests that must be refused before it is looked up.
    fn any_payment(&self) -> String {
        self.o
            .payment_request_ids
            .first()
            .cloned()
            .unwrap_or_else(|| "conform-inquiry-1".to_owned())
    }

    /// HTTP 200, JSON, the field rules, a `result` from the page's table, the signature.
    /// Problems are added to `problems`; the body comes back when it is JSON.
    fn envelope(&self, a: &Answer, problems: &mut Vec<(Verdict, String)>) -> Option<Value> {
        if a.status != 200 {
            problems.push((
                Verdict::Fail,
                format!("HTTP {}: answers are HTTP 200 with a result", a.status),
            ));
        }
        if !a.is_json() {
            problems.push((
                Verdict::Fail,
                format!(
                    "Content-Type is {}, not application/json",
                    a.header("content-type").unwrap_or("missing")
                ),
            ));
        }
        let Some(json) = a.json() else {
            problems.push((Verdict::Fail, "the body is not JSON".to_owned()));
            return None;
        };
        if let Err(e) = validate(&json, InquiryPaymentResponse::FIELDS) {
            problems.push((Verdict::Fail, format!("field rule broken: {e}")));
        }
        if let Some(problem) = in_table(&json["result"], SPEC.result_codes, "result") {
            problems.push((Verdict::Fail, problem));
        }
        if let Some(key) = &self.o.mpp_key
            && let Err(e) = check_answer_signature(key, self.http.path(), &self.o.client_id, a)
        {
            problems.push((Verdict::Fail, e.to_string()));
        }
        Some(json)
    }

    fn judge_known(&self, answer: &Result<Answer, NoAnswer>) -> Judged {
        let a = match answer {
            Ok(a) => a,
            Err(e) => return Judged::new(Verdict::Fail, e.why.clone(), "no answer"),
        };
        let mut problems = Vec::new();
        if let Some(json) = self.envelope(a, &mut problems) {
            known_rules(&json, &mut problems);
        }
        verdict(a, problems, "every rule of the page holds")
    }

    fn judge_unknown(&self, answer: &Result<Answer, NoAnswer>) -> Judged {
        let a = match answer {
            Ok(a) => a,
            Err(e) => return Judged::new(Verdict::Fail, e.why.clone(), "no answer"),
        };
        let mut problems = Vec::new();
        if self.envelope(a, &mut problems).is_some() {
            match a.result() {
                (Some(status), Some(code)) if status == "F" && code == "ORDER_NOT_EXIST" => {}
                (Some(status), _) if status == "S" => problems.push((
                    Verdict::Fail,
                    "answered result S for a payment nobody created".to_owned(),
                )),
                (status, code) => problems.push((
                    Verdict::Warn,
                    format!(
                        "answered {}/{}; the page answers an unknown order F/ORDER_NOT_EXIST",
                        status.unwrap_or_default(),
                        code.unwrap_or_default()
                    ),
                )),
            }
        }
        verdict(a, problems, "F/ORDER_NOT_EXIST, as the page says")
    }
}

/// The page's "How to return the result" and "Return this parameter if" rules for an inquiry
/// of a payment the MPP knows.
fn known_rules(json: &Value, problems: &mut Vec<(Verdict, String)>) {
    let status = json["result"]["resultStatus"].as_str().unwrap_or_default();
    let code = json["result"]["resultCode"].as_str().unwrap_or_default();
    if status != "S" {
        problems.push((
            Verdict::Fail,
            if code == "ORDER_NOT_EXIST" {
                "the MPP does not know the payment (ORDER_NOT_EXIST)".to_owned()
            } else {
                format!("result {status}/{code}: the inquiry itself did not work")
            },
        ));
        return;
    }
    let payment_result = &json["paymentResult"];
    if payment_result.is_null() {
        problems.push((
            Verdict::Fail,
            "paymentResult is required when result.resultStatus is S".to_owned(),
        ));
        return;
    }
    if let Some(problem) = in_table(payment_result, SPEC.payment_result_codes, "paymentResult") {
        problems.push((Verdict::Fail, problem));
    }
    let present = |name: &str| !json[name].is_null();
    if payment_result["resultStatus"] == "S" {
        for name in ["paymentId", "paymentAmount", "paymentTime"] {
            if !present(name) {
                problems.push((
                    Verdict::Fail,
                    format!("{name} is returned when paymentResult.resultStatus is S"),
                ));
            }
        }
        if !present("customerId") {
            problems.push((
                Verdict::Warn,
                "customerId is returned when paymentResult.resultStatus is S".to_owned(),
            ));
        }
        if present("payToAmount")
            && json["payToAmount"]["currency"] == json["paymentAmount"]["currency"]
        {
            problems.push((
                Verdict::Warn,
                "payToAmount is returned only when its currency differs from paymentAmount's"
                    .to_owned(),
            ));
        }
    } else {
        for name in ["paymentId", "paymentAmount", "payToAmount", "paymentTime"] {
            if present(name) {
                problems.push((
                    Verdict::Warn,
                    format!("{name} is returned only when paymentResult.resultStatus is S"),
                ));
            }
        }
    }
}

/// Whether a Result object's code is in the table with the table's status; `None` when it is.
fn in_table(result: &Value, table: &'static [Code], name: &str) -> Option<String> {
    let code = result["resultCode"].as_str()?;
    let status = result["resultStatus"].as_str().unwrap_or_default();
    match codes::find(table, code) {
        None => Some(format!(
            "{name}.resultCode {code} is not in the page's table"
        )),
        Some(c) if c.status.as_str() != status => Some(format!(
            "{name}.resultCode {code} has status {} in the page's table, answered {status}",
            c.status.as_str()
        )),
        Some(_) => None,
    }
}

/// The worst of the problems, all of them as the reason; `fine` when there are none.
fn verdict(a: &Answer, problems: Vec<(Verdict, String)>, fine: &str) -> Judged {
    let mut got = a.summary();
    if let Some(json) = a.json()
        && let Some(status) = json["paymentResult"]["resultStatus"].as_str()
    {
        got.push_str(&format!(
            ", paymentResult {status}/{}",
            json["paymentResult"]["resultCode"]
                .as_str()
                .unwrap_or_default()
        ));
    }
    let worst = problems
        .iter()
        .map(|(v, _)| *v)
        .max()
        .unwrap_or(Verdict::Pass);
    let why = if problems.is_empty() {
        fine.to_owned()
    } else {
        problems
            .into_iter()
            .map(|(_, p)| p)
            .collect::<Vec<_>>()
            .join("; ")
    };
    Judged::new(worst, got, why)
}

/// A request the MPP cannot use: F/PARAM_ILLEGAL passes, another refusal warns, and S, a 5xx
/// or no answer fails.
fn judge_param_illegal(answer: &Result<Answer, NoAnswer>, what: &str) -> Judged {
    let judged = judge_bad_input(answer, what);
    match answer {
        Ok(a) if judged.verdict == Verdict::Pass => match a.result() {
            (Some(status), Some(code)) if status == "F" && code == "PARAM_ILLEGAL" => judged,
            _ => Judged::new(
                Verdict::Warn,
                judged.got,
                format!("refused {what}, but not with F/PARAM_ILLEGAL as the page's table has it"),
            ),
        },
        _ => judged,
    }
}
