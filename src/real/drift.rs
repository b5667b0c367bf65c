//! The drift report's judgement, pure: a recorded real answer and the mock's answer to the same
//! request compared field by field (the result's code and status, every field present on one
//! side and not the other, the values that must agree: result codes and statuses at any depth,
//! the payment ids), and the report as a table and as JUnit XML. `api::drift` sends the
//! recorded requests to the mock.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::xml;

/// Fields whose values must agree, besides `resultCode` and `resultStatus` at any depth.
const MUST_AGREE: [&str; 3] = ["paymentRequestId", "paymentId", "referenceTransactionId"];

/// One recording compared.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
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
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
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
                xml::escape(&c.api),
                c.id,
                xml::escape(&c.match_key)
            );
            if !c.differences.is_empty() {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{} field(s) drift\" type=\"DRIFT\">{}</failure>",
                    c.differences.len(),
                    xml::escape(&c.differences.join("\n"))
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
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
