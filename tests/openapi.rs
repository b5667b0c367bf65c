//! `/openapi.json` says what the validators enforce. For every API and every field the document
//! describes, a body without a required field, a value one character longer than `maxLength`
//! and a value outside the `enum` each answer F/PARAM_ILLEGAL naming the field, while leaving
//! out an optional field, a value of exactly `maxLength` and every value of the `enum` pass the
//! field rules. The seed body of `POST /admin/payments` is held
//! to the document the same way (400 naming the field). The gateway runs in-process on
//! 127.0.0.1:0; requests are signed with the `rsa` crate, independently of the gateway's signer.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use alipay_gateway::app::{self, AppState};
use alipay_gateway::config::{DEFAULT_TOML, Settings};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use figment::Figment;
use figment::providers::{Format, Toml};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::{Signature, SigningKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const CLIENT_ID: &str = "TEST_MERCHANT";
const ADMIN_TOKEN: &str = "TEST-ONLY-admin-token";
/// Not the default path: the document must follow the configuration.
const NOTIFY_PAYMENT_PATH: &str = "/merchant/webhooks/notifyPayment";

// ------------------------------------------------------------------------------------------
// The gateway and a signing caller
// ------------------------------------------------------------------------------------------

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys")
}

/// A running gateway on a memory store; dropping it shuts the server down.
struct Gateway {
    address: String,
    http: reqwest::Client,
    _shutdown: oneshot::Sender<()>,
}

async fn spawn_gateway() -> Gateway {
    let settings: Settings = Figment::from(Toml::string(DEFAULT_TOML))
        .merge(Toml::string(&format!(
            r#"
[server]
listen = "127.0.0.1:0"
notify_payment_path = "{NOTIFY_PAYMENT_PATH}"
[store]
url = "memory://"
[signing]
private_key = "file:TEST-ONLY-gateway-private.pem"
key_version = "1"
[admin]
token = "{ADMIN_TOKEN}"
[[clients]]
client_id = "{CLIENT_ID}"
public_keys = {{ "1" = "file:TEST-ONLY-merchant-public.pem" }}
"#
        )))
        .extract()
        .expect("the test settings parse");
    let config = settings
        .validate(&keys_dir())
        .expect("test settings validate");
    let store = alipay_gateway::store::connect(&config.settings.store)
        .await
        .expect("the memory store opens");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(app::serve(
        listener,
        AppState::new(config, store),
        async move {
            let _ = stopped.await;
        },
    ));
    Gateway {
        address,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client"),
        _shutdown: shutdown,
    }
}

/// What Java's `URLEncoder` leaves alone; base64's `+ / =` are encoded.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'*');

/// The Signature header over `POST <path>\n<client-id>.<time>.<body>`, with the TEST-ONLY
/// merchant key.
fn signature_header(path: &str, time: &str, body: &[u8]) -> String {
    static KEY: OnceLock<SigningKey<Sha256>> = OnceLock::new();
    let key = KEY.get_or_init(|| {
        let pem = std::fs::read_to_string(keys_dir().join("TEST-ONLY-merchant-private.pem"))
            .expect("test key readable");
        SigningKey::new(RsaPrivateKey::from_pkcs8_pem(&pem).expect("test key is PKCS#8 PEM"))
    });
    let content = [format!("POST {path}\n{CLIENT_ID}.{time}.").as_bytes(), body].concat();
    let signature: Signature = key.sign(&content);
    let encoded = utf8_percent_encode(&STANDARD.encode(signature.to_bytes()), FORM).to_string();
    format!("algorithm=RSA256,keyVersion=1,signature={encoded}")
}

/// What a call answered: the HTTP status, and the rejection message when it was one.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    /// `path: rule` when the answer is a field-rule rejection (PARAM_ILLEGAL, or 400 from the
    /// admin API), else `None`.
    fn rejection(&self) -> Option<&str> {
        let result = &self.body["result"];
        if result["resultCode"] == "PARAM_ILLEGAL" {
            assert_eq!(result["resultStatus"], "F", "{self:?}");
            return result["resultMessage"].as_str();
        }
        if self.status == 400 {
            return self.body["error"].as_str();
        }
        None
    }
}

/// The rules `protocol::schema::validate` words (as opposed to the rules that span fields,
/// which run only once every field rule passed).
fn is_field_rule(rule: &str) -> bool {
    const FIELD_RULES: &[&str] = &[
        "longer than ",
        "must be one of ",
        "must be an ISO 8601",
        "must be an Amount object",
        "not an ISO 4217",
        "must be digits only",
        "must be a decimal number",
        "must be \"true\" or \"false\"",
        "must be a JSON object",
        "must not be ",
        "must be a string, not ",
    ];
    rule == "required" || FIELD_RULES.iter().any(|r| rule.starts_with(r))
}

/// Whether the answer refuses the body for a field rule. The rules that span fields run only
/// once every field rule passed, so any other answer means the field rules let the body in.
fn breaks_a_field_rule(answer: &Answer) -> bool {
    answer
        .rejection()
        .and_then(|m| m.split_once(": "))
        .is_some_and(|(_, rule)| is_field_rule(rule))
}

impl Gateway {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("the gateway answers")
    }

    /// Sends `body` to one of the APIs, signed, or to the admin API with the token.
    async fn send(&self, target: &Target, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).expect("JSON serialises");
        let request = self
            .http
            .post(format!("{}{}", self.address, target.path))
            .header("content-type", "application/json; charset=UTF-8");
        let request = if target.admin {
            request.bearer_auth(ADMIN_TOKEN)
        } else {
            let time = chrono::Utc::now().timestamp_millis().to_string();
            request
                .header("client-id", CLIENT_ID)
                .header("request-time", &time)
                .header("signature", signature_header(&target.path, &time, &bytes))
        };
        let response = request
            .body(bytes)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let body = response.json().await.expect("a JSON answer");
        Answer { status, body }
    }
}

// ------------------------------------------------------------------------------------------
// Reading the document
// ------------------------------------------------------------------------------------------

/// A body the document describes: where it goes and its schema.
struct Target {
    operation: String,
    path: String,
    admin: bool,
    schema: Value,
    example: Option<Value>,
}

/// Follows `$ref`s to `#/components/schemas/...`.
fn resolve<'d>(doc: &'d Value, schema: &'d Value) -> &'d Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected $ref {r}"));
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// The POST operation with a JSON body of every path; `payments` first and the seed last.
fn targets(doc: &Value) -> Vec<Target> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("post") else { continue };
        let content = &op["requestBody"]["content"]["application/json"];
        if content.is_null() {
            continue;
        }
        let tag = op["tags"][0].as_str().unwrap_or_default();
        let operation = op["operationId"].as_str().expect("operationId").to_owned();
        if tag == "payments" || operation == "seedPayment" {
            found.push(Target {
                operation,
                path: path.clone(),
                admin: tag == "admin",
                schema: resolve(doc, &content["schema"]).clone(),
                example: content.get("example").cloned(),
            });
        }
    }
    found
}

/// One field of a body, at a dotted path.
struct FieldDoc {
    path: Vec<String>,
    required: bool,
    schema: Value,
}

impl FieldDoc {
    fn dotted(&self) -> String {
        self.path.join(".")
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every field of an object schema, nested ones included, in document order.
fn fields(doc: &Value, schema: &Value, prefix: &[String], out: &mut Vec<FieldDoc>) {
    let schema = resolve(doc, schema);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, property) in properties {
        let property = resolve(doc, property);
        let mut path = prefix.to_vec();
        path.push(name.clone());
        out.push(FieldDoc {
            path: path.clone(),
            required: required.contains(&name.as_str()),
            schema: property.clone(),
        });
        if types(property).contains(&"object") {
            fields(doc, property, &path, out);
        }
    }
}

/// A value the schema accepts; objects get every property, so nested fields are reachable.
fn valid(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    if let Some(values) = schema["enum"].as_array() {
        return values
            .iter()
            .find(|v| !v.is_null())
            .cloned()
            .expect("an enum value");
    }
    let ty = types(schema);
    if ty.contains(&"object") {
        let mut object = Map::new();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            object.insert(name.clone(), valid(doc, property));
        }
        return Value::Object(object);
    }
    if ty.contains(&"number") {
        return json!("0.5");
    }
    if schema["format"] == "date-time" {
        return json!("2026-01-01T12:01:01+08:00");
    }
    of_length(schema, 1).unwrap_or_else(|| json!("x"))
}

/// A string of exactly `n` characters the schema otherwise accepts, if there is one.
fn of_length(schema: &Value, n: usize) -> Option<Value> {
    if let Some(values) = schema["enum"].as_array() {
        return values
            .iter()
            .find(|v| v.as_str().is_some_and(|s| s.chars().count() == n))
            .cloned();
    }
    if schema["format"] == "date-time" {
        // `2026-01-01T12:01:01.<digits>+08:00`: 26 characters and the fraction's digits.
        let digits = n.checked_sub(26).filter(|d| *d > 0)?;
        return Some(json!(format!(
            "2026-01-01T12:01:01.{}+08:00",
            "1".repeat(digits)
        )));
    }
    if schema["pattern"] == "^[0-9]+$" {
        return Some(json!("1".repeat(n)));
    }
    // Two-byte characters: maxLength counts characters, not bytes.
    Some(json!("é".repeat(n)))
}

/// A string the enum does not hold, within the field's maxLength.
fn outside(schema: &Value) -> Value {
    let allowed = schema["enum"].as_array().expect("an enum");
    let max = schema["maxLength"].as_u64().unwrap_or(u64::MAX) as usize;
    ["ZZZ", "NOT_IN_THE_ENUM", "maybe"]
        .into_iter()
        .map(Value::from)
        .find(|v| !allowed.contains(v) && v.as_str().is_some_and(|s| s.len() <= max))
        .expect("a value outside the enum")
}

/// `body` with `path` set to `value`, or removed when `value` is `None`.
fn with(body: &Value, path: &[String], value: Option<Value>) -> Value {
    let mut body = body.clone();
    let (last, parents) = path.split_last().expect("a field path");
    let mut at = &mut body;
    for name in parents {
        at = &mut at[name.as_str()];
    }
    let object = at.as_object_mut().expect("the parent is an object");
    match value {
        Some(v) => object.insert(last.clone(), v),
        None => object.remove(last),
    };
    body
}

/// `example` over `base`: the documented example's values, and every other field filled in.
fn overlay(base: &Value, example: &Value) -> Value {
    match (base, example) {
        (Value::Object(b), Value::Object(e)) => {
            let mut merged = b.clone();
            for (k, v) in e {
                let under = merged.get(k).cloned().unwrap_or(Value::Null);
                merged.insert(k.clone(), overlay(&under, v));
            }
            Value::Object(merged)
        }
        (_, e) => e.clone(),
    }
}

// ------------------------------------------------------------------------------------------
// The tests
// ------------------------------------------------------------------------------------------

async fn document(gateway: &Gateway) -> Value {
    let response = gateway.get("/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.expect("the document is JSON")
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_every_api_at_its_configured_path() {
    let gateway = spawn_gateway().await;

    let doc = document(&gateway).await;

    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, api) in [
        (
            "/ams/api/v1/risk/payments/sendPaymentResult",
            "sendPaymentResult",
        ),
        (
            "/aps/api/v1/payments/notifyPushPayment",
            "notifyPushPayment",
        ),
        ("/aps/api/v1/payments/inquiryPayment", "inquiryPayment"),
        (NOTIFY_PAYMENT_PATH, "notifyPayment"),
    ] {
        let op = &paths[path]["post"];
        assert_eq!(op["operationId"], api, "{path}");
        let headers: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "header" && p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(
            headers,
            ["Client-Id", "Request-Time", "Signature"],
            "{path}"
        );
        let answer = &op["responses"]["200"];
        for header in ["client-id", "response-time", "signature"] {
            assert!(answer["headers"].get(header).is_some(), "{path}: {header}");
        }
    }
    assert!(!paths.contains_key("/aps/api/v1/payments/notifyPayment"));
    assert!(
        paths["/admin/payments"]["post"]["security"][0]
            .get("adminToken")
            .is_some()
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["adminToken"]["scheme"],
        "bearer"
    );
    // The document is cached, and the same on every call.
    assert_eq!(document(&gateway).await, doc);
}

#[tokio::test]
async fn every_documented_example_passes_the_validators() {
    let gateway = spawn_gateway().await;
    let doc = document(&gateway).await;

    for target in targets(&doc).iter().filter(|t| !t.admin) {
        let example = target
            .example
            .as_ref()
            .unwrap_or_else(|| panic!("{} documents no example body", target.operation));

        let answer = gateway.send(target, example).await;

        assert_eq!(answer.status, 200, "{}: {answer:?}", target.operation);
        assert_eq!(answer.rejection(), None, "{}: {answer:?}", target.operation);
    }
}

#[tokio::test]
async fn every_required_field_max_length_and_enum_in_the_document_is_what_the_validators_enforce() {
    let gateway = spawn_gateway().await;
    let doc = document(&gateway).await;
    let targets = targets(&doc);
    for api in [
        "sendPaymentResult",
        "notifyPushPayment",
        "inquiryPayment",
        "notifyPayment",
    ] {
        assert!(
            targets.iter().any(|t| t.operation == api),
            "{api} is not in the document"
        );
    }
    assert!(targets.iter().any(|t| t.operation == "seedPayment"));

    let mut checked = 0;
    for target in &targets {
        let name = &target.operation;
        let base = valid(&doc, &target.schema);
        let base = match &target.example {
            Some(example) => overlay(&base, example),
            None => base,
        };
        let answer = gateway.send(target, &base).await;
        assert!(
            !breaks_a_field_rule(&answer),
            "{name}: the body the document describes breaks a field rule: {answer:?}"
        );

        let mut all = Vec::new();
        fields(&doc, &target.schema, &[], &mut all);
        for field in &all {
            let dotted = field.dotted();
            let names_the_field = |answer: &Answer| {
                answer
                    .rejection()
                    .is_some_and(|m| m.starts_with(&format!("{dotted}: ")))
            };

            let answer = gateway.send(target, &with(&base, &field.path, None)).await;
            if field.required {
                assert_eq!(
                    answer.rejection(),
                    Some(format!("{dotted}: required").as_str()),
                    "{name}: {dotted} is documented as required: {answer:?}"
                );
            } else {
                assert!(
                    !breaks_a_field_rule(&answer),
                    "{name}: {dotted} is documented as optional, yet leaving it out is refused: \
                     {answer:?}"
                );
            }
            checked += 1;

            if let Some(max) = field.schema["maxLength"].as_u64() {
                let max = max as usize;
                if let Some(too_long) =
                    of_length(&field.schema, max + 1).filter(|_| field.schema["enum"].is_null())
                {
                    let answer = gateway
                        .send(target, &with(&base, &field.path, Some(too_long)))
                        .await;
                    assert!(
                        names_the_field(&answer),
                        "{name}: {dotted} is documented with maxLength {max}, yet {} characters \
                         pass: {answer:?}",
                        max + 1
                    );
                    checked += 1;
                }
                if let Some(longest) = of_length(&field.schema, max) {
                    let answer = gateway
                        .send(target, &with(&base, &field.path, Some(longest)))
                        .await;
                    assert!(
                        !breaks_a_field_rule(&answer),
                        "{name}: {dotted} is documented with maxLength {max}, yet {max} \
                         characters are refused: {answer:?}"
                    );
                    checked += 1;
                }
            }

            // Every value of a short enum; a sample across the ISO 4217 list.
            let allowed = field.schema["enum"].as_array().cloned().unwrap_or_default();
            let n = allowed.len();
            let sample = allowed
                .iter()
                .enumerate()
                .filter(|(i, _)| n <= 16 || i % 10 == 0 || *i == n - 1)
                .map(|(_, v)| v);
            for value in sample {
                let answer = gateway
                    .send(target, &with(&base, &field.path, Some(value.clone())))
                    .await;
                assert!(
                    !breaks_a_field_rule(&answer),
                    "{name}: {dotted} documents {value} in its enum, yet it is refused: {answer:?}"
                );
                checked += 1;
            }
            if field.schema["enum"].is_array() {
                let value = outside(&field.schema);
                let answer = gateway
                    .send(target, &with(&base, &field.path, Some(value.clone())))
                    .await;
                assert!(
                    names_the_field(&answer),
                    "{name}: {dotted} is documented as an enum, yet {value} passes: {answer:?}"
                );
                checked += 1;
            }
        }
    }
    // Four APIs and the seed, nested fields included: far more than a handful.
    assert!(checked > 200, "only {checked} checks ran");
}
