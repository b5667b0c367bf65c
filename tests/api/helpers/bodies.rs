//! Bodies and field rules: valid requests of each API and the ways to break them.

use super::*;

/// A fresh id, unique in the test binary, so passing cases never collide in the store.
pub fn unique_id(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{prefix}{:08}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A unique string of exactly `chars` characters, padded with `fill`.
pub fn exactly(chars: usize, fill: char) -> String {
    let id = unique_id("");
    let id: String = id
        .chars()
        .rev()
        .take(chars)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let mut s: String = std::iter::repeat_n(fill, chars - id.chars().count()).collect();
    s.push_str(&id);
    s
}

/// `body` with the member at JSON pointer `pointer` set to `value` (parents created).
pub fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let mut at = &mut body;
    let names: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for name in &names[..names.len() - 1] {
        if !at[*name].is_object() {
            at[*name] = Value::Object(Default::default());
        }
        at = &mut at[*name];
    }
    at[names[names.len() - 1]] = value;
    body
}

/// `body` without the member at JSON pointer `pointer`.
pub fn without(mut body: Value, pointer: &str) -> Value {
    let (parent, name) = pointer.rsplit_once('/').expect("a JSON pointer");
    if let Some(Value::Object(map)) = body.pointer_mut(parent) {
        map.remove(name);
    }
    body
}

/// The dotted name the gateway uses in messages for a JSON pointer.
pub fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// A field rule of a page, as one row of a table.
#[derive(Debug, Clone, Copy)]
pub enum FieldRule {
    /// A required String of at most `max` characters.
    RequiredText(&'static str, usize),
    /// An optional String of at most `max` characters.
    OptionalText(&'static str, usize),
    /// An optional Datetime.
    OptionalDatetime(&'static str),
    /// A required Amount.
    RequiredAmount(&'static str),
    /// An optional Amount.
    OptionalAmount(&'static str),
}

/// One request a field rule implies and what it must answer.
pub struct FieldCase {
    /// What the case does, for failure messages.
    pub what: String,
    /// The edit: the pointer and the new value (`None` removes the member).
    pub edit: (String, Option<Value>),
    /// `Some(prefix)`: PARAM_ILLEGAL with a message starting so; `None`: accepted.
    pub rejected_with: Option<String>,
}

pub(super) fn case(
    what: impl Into<String>,
    pointer: &str,
    value: Option<Value>,
    rejected_with: Option<String>,
) -> FieldCase {
    FieldCase {
        what: what.into(),
        edit: (pointer.to_owned(), value),
        rejected_with,
    }
}

impl FieldRule {
    fn pointer(self) -> &'static str {
        match self {
            FieldRule::RequiredText(p, _)
            | FieldRule::OptionalText(p, _)
            | FieldRule::OptionalDatetime(p)
            | FieldRule::RequiredAmount(p)
            | FieldRule::OptionalAmount(p) => p,
        }
    }

    fn required(self) -> bool {
        matches!(
            self,
            FieldRule::RequiredText(..) | FieldRule::RequiredAmount(_)
        )
    }

    /// Every request this rule implies: presence, `""`, `null`, wrong JSON types, lengths,
    /// formats, and the values that must pass.
    pub fn cases(self) -> Vec<FieldCase> {
        use serde_json::json;
        let p = self.pointer();
        let name = dotted(p);
        let reject = |rule: &str| Some(format!("{name}: {rule}"));
        let mut cases = if self.required() {
            vec![
                case("missing", p, None, reject("required")),
                case("null", p, Some(Value::Null), reject("required")),
            ]
        } else {
            vec![
                case("missing", p, None, None),
                case("null (absent)", p, Some(Value::Null), None),
            ]
        };
        match self {
            FieldRule::RequiredText(_, max) | FieldRule::OptionalText(_, max) => {
                let empty = if self.required() {
                    "must not be empty"
                } else {
                    "must not be an empty string (omit it or send null)"
                };
                cases.extend([
                    case("\"\"", p, Some(json!("")), reject(empty)),
                    case(
                        "a number",
                        p,
                        Some(json!(12)),
                        reject("must be a string, not a number"),
                    ),
                    case(
                        "a boolean",
                        p,
                        Some(json!(true)),
                        reject("must be a string, not a boolean"),
                    ),
                    case(
                        "an object",
                        p,
                        Some(json!({"a": "b"})),
                        reject("must be a string, not an object"),
                    ),
                    case(
                        format!("{max} characters"),
                        p,
                        Some(json!(exactly(max, 'x'))),
                        None,
                    ),
                    case(
                        format!("{max} two-byte characters"),
                        p,
                        Some(json!(exactly(max, 'é'))),
                        None,
                    ),
                    case(
                        format!("{} characters", max + 1),
                        p,
                        Some(json!(exactly(max + 1, 'x'))),
                        reject(&format!("longer than {max} characters")),
                    ),
                ]);
            }
            FieldRule::OptionalDatetime(_) => {
                let malformed = "must be an ISO 8601 date-time with offset";
                for bad in [
                    "2020-01-01 12:01:01+08:00",
                    "2020-01-01T12:01:01",
                    "2020-01-01",
                    "1685599933871",
                    "2020-13-01T12:01:01+08:00",
                    "yesterday",
                ] {
                    cases.push(case(
                        format!("{bad:?}"),
                        p,
                        Some(json!(bad)),
                        reject(malformed),
                    ));
                }
                cases.push(case(
                    "a number",
                    p,
                    Some(json!(1685599933871u64)),
                    reject("must be a string, not a number"),
                ));
                for good in [
                    "2020-01-01T12:01:01+08:30",
                    "2020-03-02T19:11:19-08:00",
                    "2025-02-20T08:51:49.09Z",
                ] {
                    cases.push(case(format!("{good:?}"), p, Some(json!(good)), None));
                }
                cases.push(case(
                    "\"\"",
                    p,
                    Some(json!("")),
                    reject("must not be an empty string"),
                ));
            }
            FieldRule::RequiredAmount(_) | FieldRule::OptionalAmount(_) => {
                let currency = format!("{p}/currency");
                let value = format!("{p}/value");
                cases.extend([
                    case(
                        "not an object",
                        p,
                        Some(json!("100")),
                        reject("must be an Amount object with currency and value"),
                    ),
                    case(
                        "no currency",
                        &currency,
                        None,
                        Some(format!("{name}.currency: required")),
                    ),
                    case(
                        "currency XYZ",
                        &currency,
                        Some(json!("XYZ")),
                        Some(format!("{name}.currency: not an ISO 4217 currency code")),
                    ),
                    case(
                        "currency usd",
                        &currency,
                        Some(json!("usd")),
                        Some(format!("{name}.currency: not an ISO 4217 currency code")),
                    ),
                    case(
                        "currency USDX",
                        &currency,
                        Some(json!("USDX")),
                        Some(format!("{name}.currency: longer than 3 characters")),
                    ),
                    case(
                        "currency XAU",
                        &currency,
                        Some(json!("XAU")),
                        Some(format!(
                            "{name}.currency: currency XAU has no ISO 4217 minor unit"
                        )),
                    ),
                    case(
                        "no value",
                        &value,
                        None,
                        Some(format!("{name}.value: required")),
                    ),
                    case(
                        "value \"\"",
                        &value,
                        Some(json!("")),
                        Some(format!("{name}.value: must not be empty")),
                    ),
                    case(
                        "value 1.00",
                        &value,
                        Some(json!("1.00")),
                        Some(format!(
                            "{name}.value: must be digits only (the amount in minor units)"
                        )),
                    ),
                    case(
                        "value -1",
                        &value,
                        Some(json!("-1")),
                        Some(format!("{name}.value: must be digits only")),
                    ),
                    case(
                        "value 1e3",
                        &value,
                        Some(json!("1e3")),
                        Some(format!("{name}.value: must be digits only")),
                    ),
                    case(
                        "value as a number",
                        &value,
                        Some(json!(100)),
                        Some(format!("{name}.value: must be a string, not a number")),
                    ),
                    case(
                        "KWD 1.000",
                        p,
                        Some(json!({"currency": "KWD", "value": "1000"})),
                        None,
                    ),
                    case(
                        "JPY 0",
                        p,
                        Some(json!({"currency": "JPY", "value": "0"})),
                        None,
                    ),
                ]);
            }
        }
        cases
    }
}

impl TestApp {
    /// Sends every case of every rule to `path`, each on a fresh body from `valid_body`, and
    /// checks each answer: rejected cases PARAM_ILLEGAL naming the field and rule, accepted
    /// ones `accepted_code`. Reports every mismatch at once.
    pub async fn check_field_rules(
        &self,
        path: &str,
        valid_body: impl Fn() -> Value,
        rules: &[FieldRule],
        accepted_code: &str,
    ) {
        let mut failures = Vec::new();
        for rule in rules {
            for case in rule.cases() {
                let (pointer, value) = &case.edit;
                let body = match value {
                    Some(v) => with(valid_body(), pointer, v.clone()),
                    None => without(valid_body(), pointer),
                };
                let reply = self.post_signed(path, &body).await;
                let problem = match &case.rejected_with {
                    Some(expected) => reply.param_illegal_problem(expected),
                    None if reply.result_code() != accepted_code => {
                        Some(format!("expected {accepted_code}, got {}", reply.body))
                    }
                    None => reply.gateway_signature_problem(),
                };
                if let Some(problem) = problem {
                    failures.push(format!("{} = {}: {problem}", dotted(pointer), case.what));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} field-rule cases failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}
