//! `docs/result-codes.md` names every code of every page's table, each in its table's section.

use alipay_gateway::protocol::codes::{
    Code, INQUIRY_PAYMENT_RESULT, INQUIRY_RESULT, NOTIFY_RESULT, PUSH_PAYMENT_RESULT, PUSH_RESULT,
    SEND_PAYMENT_RESULT_RESULT,
};

/// Each table, with the heading (after `## `) of the section that lists it.
const SECTIONS: [(&str, &[Code]); 6] = [
    ("inquiryPayment: result", INQUIRY_RESULT),
    ("inquiryPayment: paymentResult", INQUIRY_PAYMENT_RESULT),
    ("notifyPushPayment: result", PUSH_RESULT),
    (
        "notifyPushPayment: paymentResult (what an ACQP may report)",
        PUSH_PAYMENT_RESULT,
    ),
    ("sendPaymentResult: result", SEND_PAYMENT_RESULT_RESULT),
    ("notifyPayment acknowledgement: result", NOTIFY_RESULT),
];

/// The document's `## ` sections: each heading with the text up to the next one.
fn sections(doc: &str) -> Vec<(&str, String)> {
    let mut sections: Vec<(&str, String)> = Vec::new();
    for line in doc.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            sections.push((heading.trim(), String::new()));
        } else if let Some((_, text)) = sections.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    sections
}

#[test]
fn every_result_code_of_every_page_is_named_in_the_result_codes_doc() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/result-codes.md");
    let doc = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let sections = sections(&doc);
    let mut missing = Vec::new();
    for (heading, table) in SECTIONS {
        let Some((_, text)) = sections.iter().find(|(h, _)| *h == heading) else {
            missing.push(format!("no section `## {heading}`"));
            continue;
        };
        let absent: Vec<&str> = table
            .iter()
            .map(|c| c.code)
            .filter(|code| !text.contains(&format!("`{code}`")))
            .collect();
        if !absent.is_empty() {
            missing.push(format!("## {heading}: {}", absent.join(", ")));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/result-codes.md does not name these codes in their sections:\n{}",
        missing.join("\n")
    );
}
