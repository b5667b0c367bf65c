//! The matrix: every case the kit runs, what it sends, what it expects, how it is judged and
//! the page rule it comes from. `--list` prints these tables and `docs/conformance.md` documents
//! them; a test keeps the two in step.

use super::ConformError;

/// One case of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct CaseDef {
    /// The id `--cases` selects and the reports name.
    pub id: &'static str,
    /// What the kit sends.
    pub sends: &'static str,
    /// What a conforming endpoint answers.
    pub expects: &'static str,
    /// The page rule (or, where the pages are silent, the choice) the case comes from.
    pub rule: &'static str,
}

const fn case(
    id: &'static str,
    sends: &'static str,
    expects: &'static str,
    rule: &'static str,
) -> CaseDef {
    CaseDef {
        id,
        sends,
        expects,
        rule,
    }
}

/// The payment result notification cases, in the order they run.
pub const NOTIFY_CASES: &[CaseDef] = &[
    case(
        "success",
        "a valid notification of a successful payment, signed as Alipay+ signs it",
        "HTTP 200, result.resultStatus S, within the timeout",
        "notifyPayment, Result process logic: the merchant returns SUCCESS after receiving it",
    ),
    case(
        "stored-before-ack",
        "after success was acknowledged: the state URL or command, at once",
        "the payment's result is already stored (skip without --state-url/--state-command)",
        "notifyPayment: S ends the retries, so S must mean the result is kept",
    ),
    case(
        "failure",
        "a valid notification of a failed payment (result F, PROCESS_FAIL, no paymentTime)",
        "HTTP 200, result.resultStatus S, within the timeout",
        "notifyPayment, Result process logic: a failure is acknowledged like a success",
    ),
    case(
        "ack-format",
        "(the success notification's acknowledgement)",
        "Content-Type application/json; {\"result\":{resultCode, resultStatus, resultMessage}} by the Result rules",
        "notifyPayment, Response parameters: result, a Result object",
    ),
    case(
        "ack-signed",
        "(the success notification's acknowledgement)",
        "with --merchant-public-key: response-time and a signature that verifies (skip without)",
        "Signature rules: a signed response covers POST <path>\\n<client-id>.<response-time>.<body>",
    ),
    case(
        "duplicate",
        "the success notification again: same notification-id, same body, freshly signed",
        "HTTP 200, result.resultStatus S again (idempotent)",
        "notifyPayment, Result process logic: retried until SUCCESS, up to eight times",
    ),
    case(
        "unsigned",
        "a notification without the signature header",
        "anything but S (accepting it is a security hole)",
        "Signature rules: every request is signed; verify before acting on it",
    ),
    case(
        "wrong-signature",
        "a notification whose signature value does not verify",
        "anything but S (accepting it is a security hole)",
        "Signature rules: verify with the Alipay+ public key",
    ),
    case(
        "tampered-body",
        "the success notification's request-time and signature over a body whose paymentAmount.value was changed after signing",
        "anything but S (accepting it is a security hole)",
        "Signature rules: the signature covers the exact body bytes",
    ),
    case(
        "other-path",
        "a notification signed over another path than the notify URL's",
        "anything but S (accepting it is a security hole)",
        "Signature rules: the signature covers POST <the notify path>",
    ),
    case(
        "unknown-key-version",
        "a notification signed with a key the merchant never registered, naming another keyVersion",
        "anything but S (accepting it is a security hole)",
        "Signature rules: keyVersion names the key that verifies",
    ),
    case(
        "other-client-id",
        "a notification validly signed by Alipay+ for another client id",
        "anything but S (accepting it is a security hole)",
        "Signature rules: client-id is part of what is signed and names the merchant",
    ),
    case(
        "stale-request-time",
        "the success notification's body, validly signed, with a request-time two days ago (a replay)",
        "anything but S, no 5xx, an answer within the timeout; S is a warning (the page sets no window)",
        "silent on a window; every attempt is signed afresh, so a request-time of days ago is a replay",
    ),
    case(
        "malformed-json",
        "a validly signed body cut off mid-JSON",
        "anything but S, no 5xx, an answer within the timeout",
        "notifyPayment: S means the result was received; an unreadable body cannot have been",
    ),
    case(
        "unknown-payment",
        "a validly signed notification for a paymentRequestId the merchant never created",
        "F or U within the timeout; S or a 5xx is a warning (the page is silent); no answer fails",
        "silent; F keeps Alipay+ retrying for 24 hours in case the order is still being written",
    ),
    case(
        "oversized-body",
        "the success notification padded with an unknown field to 1 MiB, validly signed",
        "a refusal (4xx, F, U or a closed connection), no 5xx, no hang; S is a warning",
        "silent on a size; real notifications are a few KiB, and a handler should cap what it reads",
    ),
];

/// The inquiryPayment cases, in the order they run. `known-payment` runs once per
/// `--payment-request-id`, as `known-payment:<id>`.
pub const INQUIRY_CASES: &[CaseDef] = &[
    case(
        "known-payment",
        "a signed inquiry for each --payment-request-id",
        "HTTP 200, JSON, signed; result S and a paymentResult from the page's table; every response field rule; paymentId, paymentAmount and paymentTime when paymentResult is S",
        "inquiryPayment: Response parameters and How to return the result",
    ),
    case(
        "unknown-payment",
        "a signed inquiry for a paymentRequestId nobody created",
        "result F with ORDER_NOT_EXIST, signed, every response field rule",
        "inquiryPayment, How to return the result: the order does not exist",
    ),
    case(
        "unsigned",
        "an inquiry without the signature header",
        "anything but result S (answering it is a security hole)",
        "Signature rules: every request is signed; INVALID_SIGNATURE",
    ),
    case(
        "wrong-signature",
        "an inquiry whose signature value does not verify",
        "anything but result S (answering it is a security hole)",
        "Signature rules: verify with the Alipay+ public key; INVALID_SIGNATURE",
    ),
    case(
        "malformed-json",
        "a validly signed body cut off mid-JSON",
        "result F with PARAM_ILLEGAL; another non-S answer is a warning; S, a 5xx or no answer fails",
        "inquiryPayment, Result codes: PARAM_ILLEGAL",
    ),
    case(
        "missing-field",
        "a validly signed inquiry without the required pspId",
        "result F with PARAM_ILLEGAL; another non-S answer is a warning; S, a 5xx or no answer fails",
        "inquiryPayment, Request parameters: pspId REQUIRED; PARAM_ILLEGAL",
    ),
];

/// The cases a `--cases` filter selects: ids separated by commas, each an exact id or a prefix
/// ending in `*`. No filter selects all. `Err` names an item that selects nothing.
pub fn select(
    cases: &'static [CaseDef],
    filter: Option<&str>,
) -> Result<Vec<&'static CaseDef>, ConformError> {
    let Some(filter) = filter else {
        return Ok(cases.iter().collect());
    };
    let items: Vec<&str> = filter
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .collect();
    let matches = |item: &str, id: &str| match item.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => id == item,
    };
    for item in &items {
        if !cases.iter().any(|c| matches(item, c.id)) {
            return Err(ConformError::NoSuchCase {
                item: (*item).to_owned(),
                known: cases.iter().map(|c| c.id).collect(),
            });
        }
    }
    Ok(cases
        .iter()
        .filter(|c| items.iter().any(|item| matches(item, c.id)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_takes_ids_and_prefixes_and_names_what_selects_nothing() {
        let ids = |filter| {
            select(NOTIFY_CASES, Some(filter))
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("unsigned"), ["unsigned"]);
        assert_eq!(
            ids("ack-*, duplicate"),
            ["ack-format", "ack-signed", "duplicate"]
        );
        assert_eq!(
            select(NOTIFY_CASES, None).unwrap().len(),
            NOTIFY_CASES.len()
        );
        let e = select(NOTIFY_CASES, Some("unsigned,nope"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--cases: \"nope\" names no case; the cases are success, "),
            "{e}"
        );
    }

    #[test]
    fn every_case_is_documented_in_the_conformance_page() {
        let doc = include_str!("../../docs/conformance.md");
        for case in NOTIFY_CASES.iter().chain(INQUIRY_CASES) {
            assert!(
                doc.contains(&format!("`{}`", case.id)),
                "docs/conformance.md does not document case {}",
                case.id
            );
        }
    }
}
