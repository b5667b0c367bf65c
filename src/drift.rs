//! The drift report: every recorded request (real mode's recordings) sent to the mock, in the
//! order it was recorded, and the mock's answer compared with the real one field by field: the
//! result's code and status, every field present on one side and not the other, and the values
//! that must agree (result codes and statuses at any depth, the payment ids). How far the mock
//! is from the real service, on the user's own traffic.
//!
//! The mock runs in this process, through the whole request pipeline of the config given
//! (scenario rules included) over a fresh memory store, with real mode off. The recordings'
//! signatures cannot be replayed (their values are not kept), so each request is signed anew as
//! its recorded Client-Id with a key made for the run, which the run's clients are registered
//! with.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use tower::ServiceExt;

use crate::api::state::AppState;
use crate::client::Client;
use crate::config::Config;
use crate::domain::recording::Recording;
use crate::protocol::{Endpoint, datetime};
use crate::signature::{self, Message, PublicKeys, SigningKey, VerifyingKey, header, keys};
use crate::store::MemoryStore;

/// Fields whose values must agree, besides `resultCode` and `resultStatus` at any depth.
const MUST_AGREE: [&str; 3] = ["paymentRequestId", "paymentId", "referenceTransactionId"];

/// One recording compared.
#[derive(Debug, Clone)]
pub struct Compared {
    /// The recording's id.
    pub id: i64,
    /// The API.
    pub api: String,
    /// Its match key.
    pub match_key: String,
    /// What differs; empty when the mock agrees.
    pub differences: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per recording compared.
    pub compared: Vec<Compared>,
    /// Recordings left out, with why (the upstream's answer was refused, an unknown API).
    pub skipped: Vec<String>,
}

impl Report {
    /// How many recordings drift.
    pub fn drifting(&self) -> usize {
        self.compared
            .iter()
            .filter(|c| !c.differences.is_empty())
            .count()
    }

    /// A plain-text table: one line per recording, its differences under it.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{:<6} {:<20} {:<48} verdict", "id", "api", "match key");
        for c in &self.compared {
            let verdict = if c.differences.is_empty() {
                "agrees".to_owned()
            } else {
                format!("DRIFT ({})", c.differences.len())
            };
            let _ = writeln!(
                out,
                "{:<6} {:<20} {:<48} {verdict}",
                c.id, c.api, c.match_key
            );
            for d in &c.differences {
                let _ = writeln!(out, "         - {d}");
            }
        }
        for s in &self.skipped {
            let _ = writeln!(out, "skipped: {s}");
        }
        let _ = writeln!(
            out,
            "{} recording(s): {} agree, {} drift, {} skipped",
            self.compared.len(),
            self.compared.len() - self.drifting(),
            self.drifting(),
            self.skipped.len()
        );
        out
    }

    /// JUnit XML: a test case per recording, a `<failure>` listing what drifts.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"alipay-gateway drift\" tests=\"{}\" failures=\"{}\">",
            self.compared.len(),
            self.drifting()
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"drift\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">",
            self.compared.len(),
            self.drifting()
        );
        for c in &self.compared {
            let _ = writeln!(
                out,
                "    <testcase classname=\"drift.{}\" name=\"{} {}\">",
                xml(&c.api),
                c.id,
                xml(&c.match_key)
            );
            if !c.differences.is_empty() {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{} field(s) drift\" type=\"DRIFT\">{}</failure>",
                    c.differences.len(),
                    xml(&c.differences.join("\n"))
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

/// Sends every recording's request to the mock of `config` and compares the answers.
pub async fn run(mut config: Config, recordings: &[Recording]) -> Result<Report, String> {
    let key = SigningKey::generate().map_err(|e| e.to_string())?;
    let public = key.public_spki_der().map_err(|e| e.to_string())?;
    let verifying =
        Arc::new(VerifyingKey::from_text(&keys::to_base64(&public)).map_err(|e| e.to_string())?);
    // Every recorded caller, registered with the run's key; the mock alone answers.
    let mut clients = HashMap::new();
    for r in recordings {
        clients.entry(r.client_id.clone()).or_insert_with(|| {
            Arc::new(Client {
                id: r.client_id.clone(),
                keys: PublicKeys::new(HashMap::from([("1".to_owned(), verifying.clone())])),
                allowed: None,
                limiter: None,
                pass_through: false,
            })
        });
    }
    config.clients = Arc::new(clients);
    config.real = None;
    config.settings.notify.enabled = false;
    let state = AppState::new(config, Arc::new(MemoryStore::default()));
    let router = crate::api::router(state);

    let mut report = Report::default();
    for r in recordings {
        let Some(endpoint) = Endpoint::from_name(&r.api) else {
            report
                .skipped
                .push(format!("recording {}: unknown API {}", r.id, r.api));
            continue;
        };
        let Some(real) = r.answer() else {
            report.skipped.push(format!(
                "recording {}: the upstream's answer was refused ({})",
                r.id, r.verdict
            ));
            continue;
        };
        let path = reqwest::Url::parse(&r.request.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| endpoint.spec().paths[0].to_owned());
        let time = datetime::format_millis(chrono::Utc::now());
        let body = r.request.body.as_bytes();
        let signed = signature::sign(&key, &Message::post(&path, &r.client_id, &time, body))
            .map_err(|e| e.to_string())?;
        let request = Request::post(path.as_str())
            .header("content-type", "application/json; charset=UTF-8")
            .header("client-id", &r.client_id)
            .header("request-time", &time)
            .header("signature", header::format("1", &signed))
            .body(Body::from(r.request.body.clone()))
            .map_err(|e| e.to_string())?;
        let response = router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| e.to_string())?;
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        let mock = serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null);
        report.compared.push(Compared {
            id: r.id,
            api: r.api.clone(),
            match_key: r.match_key.clone(),
            differences: compare(&real, &mock),
        });
    }
    Ok(report)
}

/// What differs between the real answer and the mock's, one sentence each, in field order.
pub fn compare(real: &Value, mock: &Value) -> Vec<String> {
    let (real, mock) = (leaves(real), leaves(mock));
    let mut differences = Vec::new();
    for (path, value) in &real {
        match mock.get(path) {
            None => differences.push(format!(
                "{path}: the real service sends it, the mock does not"
            )),
            Some(m) if must_agree(path) && m != value => {
                differences.push(format!("{path}: real {value}, mock {m}"));
            }
            Some(_) => {}
        }
    }
    for path in mock.keys().filter(|p| !real.contains_key(*p)) {
        differences.push(format!(
            "{path}: the mock sends it, the real service does not"
        ));
    }
    differences
}

fn must_agree(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    matches!(last, "resultCode" | "resultStatus") || MUST_AGREE.contains(&last)
}

/// Every leaf of a JSON value by its dotted path (array items as `[i]`).
fn leaves(value: &Value) -> BTreeMap<String, Value> {
    fn walk(value: &Value, path: String, out: &mut BTreeMap<String, Value>) {
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let next = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, next, out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{path}[{i}]"), out);
                }
            }
            other => {
                out.insert(path, other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(value, String::new(), &mut out);
    out
}

/// Text escaped for XML content and attributes; characters XML 1.0 cannot hold are dropped.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_and_ids_must_agree_other_values_need_only_be_present() {
        let real = json!({
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "ok"},
            "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"},
            "paymentId": "P1",
            "pspName": "ALIPAY_CN"
        });
        let mock = json!({
            "result": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
            "paymentResult": {"resultCode": "PAYMENT_IN_PROCESS", "resultStatus": "U"},
            "paymentId": "P1",
            "customerId": "C"
        });
        let found = compare(&real, &mock);
        assert_eq!(
            found,
            [
                "paymentResult.resultCode: real \"SUCCESS\", mock \"PAYMENT_IN_PROCESS\"",
                "paymentResult.resultStatus: real \"S\", mock \"U\"",
                "pspName: the real service sends it, the mock does not",
                "customerId: the mock sends it, the real service does not",
            ]
        );
        assert!(compare(&real, &real).is_empty());
    }

    #[test]
    fn the_junit_report_names_each_recording_and_what_drifts() {
        let report = Report {
            compared: vec![Compared {
                id: 3,
                api: "inquiryPayment".into(),
                match_key: "paymentRequestId=R<1>".into(),
                differences: vec!["pspName: the real service sends it, the mock does not".into()],
            }],
            skipped: Vec::new(),
        };
        let junit = report.junit();
        assert!(
            junit.contains("name=\"3 paymentRequestId=R&lt;1&gt;\""),
            "{junit}"
        );
        assert!(
            junit.contains("<failure message=\"1 field(s) drift\""),
            "{junit}"
        );
        assert!(report.table().contains("1 recording(s): 0 agree, 1 drift"));
    }
}
