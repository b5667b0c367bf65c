//! Field rules: a small declarative schema per request body, checked against the parsed JSON
//! before it becomes a typed request, so every violation names its field and its rule
//! (`paymentId: longer than 64 characters`). The same tables describe the API in OpenAPI.

use serde_json::{Map, Value};

use super::{amount, datetime};

/// Whether a field must be present. `null` always counts as absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Missing or `null` is an error.
    Required,
    /// May be omitted or `null`, never `""`.
    Optional,
}

/// What a field's value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON string of at most `max` characters.
    Str {
        /// Maximum length in characters.
        max: usize,
    },
    /// A JSON string from a fixed set.
    Enum {
        /// The allowed values.
        allowed: &'static [&'static str],
    },
    /// ISO 8601 date-time with an offset, as a string.
    Datetime,
    /// An `Amount` object: ISO 4217 `currency`, digits-only `value` in minor units.
    Amount,
    /// A decimal given as a string or, as real notifications send it, a JSON number.
    Decimal,
    /// A boolean given as `"true"`/`"false"` or, as real notifications send it, a JSON boolean.
    Bool,
    /// A nested object with its own fields.
    Object(&'static [Field]),
}

/// One field of a request body or an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The JSON name.
    pub name: &'static str,
    /// Required or optional.
    pub presence: Presence,
    /// The rule for its value.
    pub kind: Kind,
}

impl Field {
    /// A required field.
    pub const fn required(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            presence: Presence::Required,
            kind,
        }
    }

    /// An optional field.
    pub const fn optional(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            presence: Presence::Optional,
            kind,
        }
    }
}

/// Shorthand for a string of at most `max` characters.
pub const fn text(max: usize) -> Kind {
    Kind::Str { max }
}

/// Longest Datetime accepted; no page gives one, and 64 holds every ISO 8601 form.
pub const DATETIME_MAX: usize = 64;

/// The `Result` object (`resultCode`, `resultStatus`, `resultMessage`).
pub const RESULT: &[Field] = &[
    Field::required("resultCode", text(64)),
    Field::required(
        "resultStatus",
        Kind::Enum {
            allowed: &["S", "F", "U"],
        },
    ),
    Field::optional("resultMessage", text(256)),
];

/// An answer that carries its `result` alone: what every API but inquiryPayment answers, and
/// what a merchant acknowledges a notification with.
pub const ENVELOPE: &[Field] = &[Field::required("result", Kind::Object(RESULT))];

/// A field rule broken: where and which rule. Displays as `path: rule`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {rule}")]
pub struct FieldError {
    /// Dotted path to the field, e.g. `paymentAmount.value`.
    pub path: String,
    /// The rule in words, e.g. `longer than 64 characters`.
    pub rule: String,
}

impl FieldError {
    /// A violation at `path`.
    pub fn new(path: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            rule: rule.into(),
        }
    }
}

/// Checks a request body against its fields and answers the first violation, in field order.
/// Fields the schema does not name are let through, as the real service does.
pub fn validate(body: &Value, fields: &[Field]) -> Result<(), FieldError> {
    match body {
        Value::Object(map) => check_object(map, fields, ""),
        _ => Err(FieldError::new("body", "must be a JSON object")),
    }
}

fn check_object(
    map: &Map<String, Value>,
    fields: &[Field],
    prefix: &str,
) -> Result<(), FieldError> {
    for field in fields {
        let path = if prefix.is_empty() {
            field.name.to_owned()
        } else {
            format!("{prefix}.{}", field.name)
        };
        match map.get(field.name) {
            None | Some(Value::Null) => {
                if field.presence == Presence::Required {
                    return Err(FieldError::new(path, "required"));
                }
            }
            Some(value) => check_value(value, field, &path)?,
        }
    }
    Ok(())
}

fn check_value(value: &Value, field: &Field, path: &str) -> Result<(), FieldError> {
    let err = |rule: String| Err(FieldError::new(path, rule));
    match field.kind {
        Kind::Str { max } => {
            let s = string(value, field, path)?;
            let len = s.chars().count();
            if len > max {
                return err(format!("longer than {max} characters"));
            }
        }
        Kind::Enum { allowed } => {
            let s = string(value, field, path)?;
            if !allowed.contains(&s) {
                return err(format!("must be one of {}", allowed.join(", ")));
            }
        }
        Kind::Datetime => {
            let s = string(value, field, path)?;
            if s.chars().count() > DATETIME_MAX || datetime::parse(s).is_none() {
                return err(
                    "must be an ISO 8601 date-time with offset, e.g. 2019-11-27T12:01:01+08:00"
                        .into(),
                );
            }
        }
        Kind::Amount => {
            let Value::Object(map) = value else {
                return err("must be an Amount object with currency and value".into());
            };
            const AMOUNT: &[Field] = &[
                Field::required("currency", text(3)),
                Field::required("value", text(32)),
            ];
            check_object(map, AMOUNT, path)?;
            let currency = map["currency"].as_str().unwrap_or_default();
            if let Err(e) = amount::check_currency(currency) {
                return Err(FieldError::new(format!("{path}.currency"), e.to_string()));
            }
            let digits = map["value"].as_str().unwrap_or_default();
            if let Err(e) = amount::check_value(digits) {
                return Err(FieldError::new(format!("{path}.value"), e.to_string()));
            }
        }
        Kind::Decimal => {
            let text = match value {
                Value::Number(n) => n.to_string(),
                _ => string(value, field, path)?.to_owned(),
            };
            if parse_decimal(&text).is_none() {
                return err("must be a decimal number".into());
            }
        }
        Kind::Bool => match value {
            Value::Bool(_) => {}
            _ => {
                let s = string(value, field, path)?;
                if s != "true" && s != "false" {
                    return err("must be \"true\" or \"false\"".into());
                }
            }
        },
        Kind::Object(children) => {
            let Value::Object(map) = value else {
                return err("must be a JSON object".into());
            };
            check_object(map, children, path)?;
        }
    }
    Ok(())
}

/// The value as a non-empty string, or the rule it breaks.
fn string<'v>(value: &'v Value, field: &Field, path: &str) -> Result<&'v str, FieldError> {
    match value {
        Value::String(s) if s.is_empty() => Err(FieldError::new(
            path,
            match field.presence {
                Presence::Required => "must not be empty",
                Presence::Optional => "must not be an empty string (omit it or send null)",
            },
        )),
        Value::String(s) => Ok(s),
        Value::Number(_) => Err(FieldError::new(path, "must be a string, not a number")),
        Value::Bool(_) => Err(FieldError::new(path, "must be a string, not a boolean")),
        Value::Array(_) => Err(FieldError::new(path, "must be a string, not an array")),
        Value::Object(_) => Err(FieldError::new(path, "must be a string, not an object")),
        Value::Null => Err(FieldError::new(path, "required")),
    }
}

/// Parses a decimal as the wire writes it: plain (`0.064622`) or scientific (`6.4622E-2`).
pub fn parse_decimal(text: &str) -> Option<rust_decimal::Decimal> {
    use std::str::FromStr;
    rust_decimal::Decimal::from_str(text)
        .or_else(|_| rust_decimal::Decimal::from_scientific(text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PAYMENT: &[Field] = &[
        Field::required("paymentId", text(64)),
        Field::optional("paymentTime", Kind::Datetime),
        Field::optional("paymentAmount", Kind::Amount),
        Field::required("paymentResult", Kind::Object(RESULT)),
        Field::optional("guaranteed", Kind::Bool),
        Field::optional("quotePrice", Kind::Decimal),
    ];

    fn rule(body: Value) -> String {
        validate(&body, PAYMENT).unwrap_err().to_string()
    }

    fn ok() -> Value {
        json!({"paymentId": "p1", "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S"}})
    }

    fn with(key: &str, value: Value) -> Value {
        let mut body = ok();
        body[key] = value;
        body
    }

    #[test]
    fn a_well_formed_body_passes_and_unknown_fields_are_ignored() {
        assert!(validate(&with("somethingNew", json!(1)), PAYMENT).is_ok());
        assert!(validate(&with("paymentTime", Value::Null), PAYMENT).is_ok());
    }

    #[test]
    fn each_rule_names_the_field() {
        assert_eq!(
            rule(json!({"paymentResult": ok()["paymentResult"]})),
            "paymentId: required"
        );
        assert_eq!(rule(with("paymentId", Value::Null)), "paymentId: required");
        assert_eq!(
            rule(with("paymentId", json!(12))),
            "paymentId: must be a string, not a number"
        );
        assert_eq!(
            rule(with("paymentId", json!(true))),
            "paymentId: must be a string, not a boolean"
        );
        assert_eq!(
            rule(with("paymentId", json!("x".repeat(65)))),
            "paymentId: longer than 64 characters"
        );
        assert!(validate(&with("paymentId", json!("é".repeat(64))), PAYMENT).is_ok());
        assert_eq!(
            rule(with("paymentTime", json!(""))),
            "paymentTime: must not be an empty string (omit it or send null)"
        );
        assert!(
            rule(with("paymentTime", json!("2020-01-01 12:00:00")))
                .starts_with("paymentTime: must be an ISO 8601")
        );
        assert_eq!(
            rule(with(
                "paymentAmount",
                json!({"currency": "XYZ", "value": "1"})
            )),
            "paymentAmount.currency: not an ISO 4217 currency code"
        );
        assert_eq!(
            rule(with(
                "paymentAmount",
                json!({"currency": "USD", "value": "1.00"})
            )),
            "paymentAmount.value: must be digits only (the amount in minor units)"
        );
        assert_eq!(
            rule(with("paymentAmount", json!({"currency": "USD"}))),
            "paymentAmount.value: required"
        );
        assert_eq!(
            rule(with(
                "paymentResult",
                json!({"resultCode": "X", "resultStatus": "Q"})
            )),
            "paymentResult.resultStatus: must be one of S, F, U"
        );
        assert_eq!(rule(json!([1])), "body: must be a JSON object");
    }

    #[test]
    fn quote_price_and_guaranteed_take_both_forms() {
        for v in [json!(0.064622), json!("0.064622"), json!(1)] {
            assert!(validate(&with("quotePrice", v), PAYMENT).is_ok());
        }
        assert_eq!(
            rule(with("quotePrice", json!("cheap"))),
            "quotePrice: must be a decimal number"
        );
        for v in [json!(false), json!("true")] {
            assert!(validate(&with("guaranteed", v), PAYMENT).is_ok());
        }
        assert_eq!(
            rule(with("guaranteed", json!("yes"))),
            "guaranteed: must be \"true\" or \"false\""
        );
    }
}
