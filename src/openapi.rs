//! The OpenAPI 3.1 document, served at `GET /openapi.json`. The request bodies of the four APIs
//! are generated from the field-rule tables the validators run (`WireRequest::FIELDS`,
//! `schema::RESULT`, the notification's `QUOTE`), so what the document says a field must be
//! (required, `maxLength`, `enum`, format) is what the gateway enforces; `tests/openapi.rs`
//! holds the two to each other. The admin API is described beside them. The document depends
//! only on `server.notify_payment_path`, so it is built once per path and kept.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ComponentsBuilder, KnownFormat, ObjectBuilder,
    OneOfBuilder, Ref, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, RefOr, Required,
    ResponseBuilder, Tag,
};

use crate::api::extract::WireRequest;
use crate::api::inquiry_payment::InquiryPaymentRequest;
use crate::api::notify_payment::NotifyPaymentRequest;
use crate::api::notify_push_payment::NotifyPushPaymentRequest;
use crate::api::send_payment_result::SendPaymentResultRequest;
use crate::app::AppState;
use crate::protocol::schema::{DATETIME_MAX, Field, Kind, Presence};
use crate::protocol::{Endpoint, amount};

/// `GET /openapi.json`: the document for this gateway's notifyPayment path.
pub async fn serve(State(state): State<AppState>) -> Response {
    let body = cached(&state.config.settings.server.notify_payment_path);
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The serialised document for `notify_payment_path`, built on first use.
fn cached(notify_payment_path: &str) -> Bytes {
    static DOCUMENTS: OnceLock<Mutex<HashMap<String, Bytes>>> = OnceLock::new();
    let mut documents = DOCUMENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    documents
        .entry(notify_payment_path.to_owned())
        .or_insert_with(|| {
            let doc = document(notify_payment_path);
            Bytes::from(serde_json::to_vec(&doc).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the OpenAPI document did not serialise");
                b"{}".to_vec()
            }))
        })
        .clone()
}

/// The admin bearer-token security scheme's name.
const ADMIN_AUTH: &str = "adminToken";

/// What the document says of each API besides its fields.
struct Api {
    endpoint: Endpoint,
    summary: &'static str,
    fields: &'static [Field],
    request: &'static str,
    response: &'static str,
    example: fn() -> Value,
}

const APIS: [Api; 4] = [
    Api {
        endpoint: Endpoint::SendPaymentResult,
        summary: "Antom risk: a merchant reports a card payment's final result. A repeat answers \
                  S; a contradicting repeat REPEAT_REQ_INCONSISTENT and the first report stands.",
        fields: SendPaymentResultRequest::FIELDS,
        request: "SendPaymentResultRequest",
        response: "ResultResponse",
        example: || {
            json!({
                "referenceTransactionId": "T-20260101-0001",
                "paymentStatus": "SUCCESS",
                "paymentMethodProvider": "VISA",
                "cardVerificationResult": {
                    "authenticationType": "3D",
                    "cvvResult": "Y",
                    "threeDSResult": {"threeDSVersion": "2.2.0", "eci": "05"}
                }
            })
        },
    },
    Api {
        endpoint: Endpoint::NotifyPushPayment,
        summary: "Alipay+: an ACQP reports a push-mode payment's final result, which becomes what \
                  inquiryPayment answers. With resultStatus S, resultCode is SUCCESS and \
                  paymentRequestId and paymentTime are required; with F, resultCode is a \
                  failure code of the page's table.",
        fields: NotifyPushPaymentRequest::FIELDS,
        request: "NotifyPushPaymentRequest",
        response: "ResultResponse",
        example: || {
            json!({
                "paymentResult": {
                    "resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"
                },
                "paymentId": "20260101111111111111",
                "paymentRequestId": "push-example-0001",
                "paymentTime": "2026-01-01T12:01:01+08:00"
            })
        },
    },
    Api {
        endpoint: Endpoint::InquiryPayment,
        summary: "Alipay+ asks the MPP for a payment's result; the gateway answers from its store \
                  (ORDER_NOT_EXIST for an unknown paymentRequestId).",
        fields: InquiryPaymentRequest::FIELDS,
        request: "InquiryPaymentRequest",
        response: "InquiryPaymentResponse",
        example: || {
            json!({
                "acquirerId": "1022188000000000001",
                "pspId": "1022172000000000001",
                "paymentRequestId": "pay-example-0001"
            })
        },
    },
    Api {
        endpoint: Endpoint::NotifyPayment,
        summary: "The merchant's webhook: receives payment result notifications, records each \
                  with its verdict and acknowledges. result is required with PAYMENT_RESULT \
                  (and is S or F), paymentActionForm with OFFLINE_PAYMENT_CODE.",
        fields: NotifyPaymentRequest::FIELDS,
        request: "NotifyPaymentRequest",
        response: "ResultResponse",
        example: || {
            json!({
                "notifyType": "PAYMENT_RESULT",
                "result": {
                    "resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"
                },
                "paymentRequestId": "pay-example-0001",
                "paymentId": "20260101111111111111",
                "paymentAmount": {"currency": "JPY", "value": "200"},
                "paymentTime": "2026-01-01T12:01:01+08:00"
            })
        },
    },
];

/// The whole document, for a gateway whose notifyPayment receiver is at `notify_payment_path`.
pub fn document(notify_payment_path: &str) -> OpenApi {
    let currencies = currencies();
    let mut paths = Paths::new();
    let mut schemas = ComponentsBuilder::new();
    for api in &APIS {
        schemas = schemas.schema(
            api.request,
            body_schema(api.fields, &currencies).description(Some(api.summary)),
        );
        let routes: Vec<&str> = match api.endpoint {
            Endpoint::NotifyPayment => vec![notify_payment_path],
            other => other.fixed_paths().to_vec(),
        };
        for (i, path) in routes.iter().enumerate() {
            paths.add_path_operation(*path, vec![HttpMethod::Post], api_operation(api, path, i));
        }
    }
    admin_paths(&mut paths, &currencies);
    service_paths(&mut paths);

    let components = schemas
        .schema("Result", result_schema())
        .schema("ResultResponse", result_response())
        .schema("InquiryPaymentResponse", inquiry_response())
        .schema("Amount", amount_schema(false, &currencies))
        .schema("AdminError", admin_error())
        .schema("Payment", payment_schema())
        .schema("Notification", notification_schema())
        .schema("NotQueued", not_queued_schema())
        .security_scheme(
            ADMIN_AUTH,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("admin.token from the configuration"))
                    .build(),
            ),
        )
        .build();

    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("alipay-gateway")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "A stand-in for the Alipay+ / Antom endpoints. Every API is a signed POST: \
                     the caller signs `POST <path>\\n<Client-Id>.<Request-Time>.<body>` with \
                     RSA-SHA256 and sends it in the Signature header; the gateway answers HTTP \
                     200 with a `result` envelope (failures included) and signs its answer the \
                     same way in the client-id, response-time and signature headers. A field \
                     rule broken answers F/PARAM_ILLEGAL naming the field. Optional fields may \
                     be omitted or null, never an empty string. The admin API under /admin is \
                     plain JSON with HTTP statuses, behind a bearer token.",
                ))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .tags(Some([
            tag(
                "payments",
                "The four Alipay+ / Antom APIs: signed, validated, stateful.",
            ),
            tag(
                "admin",
                "Seed and inspect state, script scenarios, read the journal.",
            ),
            tag("service", "Health, metrics and this document."),
        ]))
        .build()
}

fn tag(name: &str, description: &str) -> Tag {
    let mut tag = Tag::new(name);
    tag.description = Some(description.to_owned());
    tag
}

// ------------------------------------------------------------------------------------------
// The field rules as JSON Schema
// ------------------------------------------------------------------------------------------

/// Every currency `amount::check_currency` accepts: ISO 4217 codes with a minor unit.
fn currencies() -> Vec<String> {
    let letters = b'A'..=b'Z';
    let mut codes = Vec::new();
    for a in letters.clone() {
        for b in letters.clone() {
            for c in letters.clone() {
                let code = String::from_utf8(vec![a, b, c]).unwrap_or_default();
                if amount::check_currency(&code).is_ok() {
                    codes.push(code);
                }
            }
        }
    }
    codes
}

/// A request body: an object with the fields' properties and required list. Fields not named
/// are let through, as the validators do.
fn body_schema(fields: &[Field], currencies: &[String]) -> ObjectBuilder {
    object_schema(fields, false, currencies)
}

fn object_schema(fields: &[Field], nullable: bool, currencies: &[String]) -> ObjectBuilder {
    let mut object = ObjectBuilder::new().schema_type(types(Type::Object, nullable));
    for field in fields {
        object = object.property(field.name, field_schema(field, currencies));
        if field.presence == Presence::Required {
            object = object.required(field.name);
        }
    }
    object
}

/// `Type`, or `[Type, null]` for an optional field: null counts as absent.
fn types(ty: Type, nullable: bool) -> SchemaType {
    if nullable {
        SchemaType::Array(vec![ty, Type::Null])
    } else {
        SchemaType::Type(ty)
    }
}

/// One field's schema, from its kind; optional fields also take null.
fn field_schema(field: &Field, currencies: &[String]) -> ObjectBuilder {
    let nullable = field.presence == Presence::Optional;
    match field.kind {
        Kind::Str { max } => ObjectBuilder::new()
            .schema_type(types(Type::String, nullable))
            .min_length(Some(1))
            .max_length(Some(max)),
        Kind::Enum { allowed } => {
            let mut values: Vec<Value> = allowed.iter().map(|v| Value::from(*v)).collect();
            if nullable {
                values.push(Value::Null);
            }
            ObjectBuilder::new()
                .schema_type(types(Type::String, nullable))
                .enum_values(Some(values))
        }
        Kind::Datetime => ObjectBuilder::new()
            .schema_type(types(Type::String, nullable))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .max_length(Some(DATETIME_MAX))
            .description(Some(
                "ISO 8601 date-time with an offset or Z, e.g. 2019-11-27T12:01:01+08:00",
            )),
        Kind::Amount => amount_schema(nullable, currencies),
        Kind::Decimal => {
            let ty = if nullable {
                SchemaType::Array(vec![Type::Number, Type::String, Type::Null])
            } else {
                SchemaType::Array(vec![Type::Number, Type::String])
            };
            ObjectBuilder::new()
                .schema_type(ty)
                .pattern(Some(
                    r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$",
                ))
                .description(Some(
                    "A decimal as a string (`0.064622`, `6.4622E-2`) or, as real notifications \
                     send it, a JSON number",
                ))
        }
        Kind::Bool => {
            let mut values = vec![json!(true), json!(false), json!("true"), json!("false")];
            let mut ty = vec![Type::Boolean, Type::String];
            if nullable {
                values.push(Value::Null);
                ty.push(Type::Null);
            }
            ObjectBuilder::new()
                .schema_type(SchemaType::Array(ty))
                .enum_values(Some(values))
                .description(Some(
                    "A JSON boolean or, as the pages write it, the string \"true\" or \"false\"",
                ))
        }
        Kind::Object(children) => object_schema(children, nullable, currencies),
    }
}

/// `Amount`: an ISO 4217 currency with a minor unit and a digits-only value in minor units.
fn amount_schema(nullable: bool, currencies: &[String]) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(types(Type::Object, nullable))
        .description(Some(
            "An amount: ISO 4217 currency and the value in its minor units (USD 1.00 is \"100\")",
        ))
        .property(
            "currency",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(3))
                .enum_values(Some(currencies.iter().map(String::as_str))),
        )
        .required("currency")
        .property(
            "value",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(32))
                .pattern(Some("^[0-9]+$")),
        )
        .required("value")
}

// ------------------------------------------------------------------------------------------
// The four APIs
// ------------------------------------------------------------------------------------------

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable_string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(types(Type::String, true))
}

/// The header parameters every API takes.
fn signed_headers() -> Vec<utoipa::openapi::path::Parameter> {
    let header = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(string().min_length(Some(1))))
            .build()
    };
    vec![
        header(
            "Client-Id",
            "The caller's client id, registered in the gateway's [[clients]].",
        ),
        header(
            "Request-Time",
            "When the request was sent: epoch milliseconds or ISO 8601 with an offset; signed \
             as sent.",
        ),
        header(
            "Signature",
            "`algorithm=RSA256,keyVersion=1,signature=<url-encoded base64>`: RSA-SHA256 over \
             `POST <path>\\n<Client-Id>.<Request-Time>.<body>` with the client's private key.",
        ),
    ]
}

/// The signature headers on an answer; unsigned answers (INVALID_SIGNATURE, INVALID_CLIENT,
/// KEY_NOT_FOUND) carry an empty response-time and signature.
fn signed_answer(description: &str, schema: &str) -> utoipa::openapi::Response {
    let header = |description: &str| {
        HeaderBuilder::new()
            .schema(Some(string()))
            .description(Some(description))
            .build()
    };
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(schema_ref(schema)))
                .build(),
        )
        .header("client-id", header("The Client-Id of the request, echoed."))
        .header("response-time", header("When the answer was signed."))
        .header(
            "signature",
            header(
                "`algorithm=RSA256,keyVersion=N,signature=<url-encoded base64>` by the gateway's \
                 key over `POST <path>\\n<client-id>.<response-time>.<body>`.",
            ),
        )
        .build()
}

fn api_operation(api: &Api, path: &str, index: usize) -> Operation {
    let name = api.endpoint.name();
    let operation_id = if index == 0 {
        name.to_owned()
    } else if path.contains("/sandbox/") {
        format!("{name}Sandbox")
    } else {
        format!("{name}Alias{index}")
    };
    OperationBuilder::new()
        .operation_id(Some(operation_id))
        .tag("payments")
        .summary(Some(name))
        .description(Some(api.summary))
        .parameters(Some(signed_headers()))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(schema_ref(api.request)))
                        .example(Some((api.example)()))
                        .build(),
                )
                .build(),
        ))
        .response(
            "200",
            signed_answer(
                "Every answer, failures included: the `result` envelope with resultStatus S, F \
                 or U and the code.",
                api.response,
            ),
        )
        .build()
}

/// The `result` object as the gateway answers it (`WireResult`).
fn result_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .description(Some(
            "The outcome of a call: code, status and a message naming the field or reason",
        ))
        .property("resultCode", string())
        .required("resultCode")
        .property("resultStatus", string().enum_values(Some(["S", "F", "U"])))
        .required("resultStatus")
        .property(
            "resultMessage",
            string().description(Some(
                "What happened, naming the field or the ids involved. The pages give 256 \
                 characters; a message that lists a code table runs longer.",
            )),
        )
}

fn result_response() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("result", schema_ref("Result"))
        .required("result")
}

/// `InquiryPaymentResponse`: the payment fields only when the payment succeeded.
fn inquiry_response() -> ObjectBuilder {
    let amount = || schema_ref("Amount");
    ObjectBuilder::new()
        .property("result", schema_ref("Result"))
        .required("result")
        .property("paymentResult", schema_ref("Result"))
        .property("paymentId", string())
        .property("paymentAmount", amount())
        .property("payToAmount", amount())
        .property(
            "paymentTime",
            string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
        .property("customerId", string())
        .property("customsDeclarationAmount", amount())
        .property("passThroughInfo", string())
}

// ------------------------------------------------------------------------------------------
// The admin API
// ------------------------------------------------------------------------------------------

fn admin_error() -> ObjectBuilder {
    ObjectBuilder::new()
        .description(Some("An admin failure: what to fix"))
        .property("error", string())
        .required("error")
}

/// A stored payment (`store::Payment`).
fn payment_schema() -> ObjectBuilder {
    let amount = || {
        ObjectBuilder::new()
            .schema_type(types(Type::Object, true))
            .property("currency", string())
            .property("value", string())
    };
    let quote = ObjectBuilder::new()
        .schema_type(types(Type::Object, true))
        .property("quoteId", string())
        .property("quoteCurrencyPair", string())
        .property("quotePrice", string());
    let mut payment = ObjectBuilder::new()
        .property(
            "status",
            string().enum_values(Some(["PROCESSING", "SUCCESS", "FAIL"])),
        )
        .required("status")
        .property("resultCode", string())
        .required("resultCode")
        .property("paymentAmount", amount())
        .property("customsDeclarationAmount", amount())
        .property("paymentQuote", quote);
    for name in [
        "paymentRequestId",
        "paymentId",
        "resultMessage",
        "paymentTime",
        "paymentCreateTime",
        "payToCurrency",
        "customerId",
        "pspName",
        "passThroughInfo",
        "clientId",
        "notifyUrl",
    ] {
        payment = payment.property(name, nullable_string());
    }
    for name in ["createdAt", "updatedAt"] {
        payment = payment
            .property(
                name,
                string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .required(name);
    }
    payment
}

/// A notification with its attempts, as the admin API shows it.
fn notification_schema() -> ObjectBuilder {
    let integer = || ObjectBuilder::new().schema_type(Type::Integer);
    let attempt = ObjectBuilder::new()
        .property("notificationId", string())
        .property("number", integer())
        .property("dueMs", integer())
        .property("startedMs", integer())
        .property("url", string())
        .property(
            "httpStatus",
            ObjectBuilder::new().schema_type(types(Type::Integer, true)),
        )
        .property("ackStatus", nullable_string())
        .property("ackCode", nullable_string())
        .property("latencyMs", integer())
        .property("error", nullable_string())
        .property("delivered", ObjectBuilder::new().schema_type(Type::Boolean))
        .property("scheduleOffsetSeconds", integer());
    ObjectBuilder::new()
        .property("id", string())
        .required("id")
        .property("paymentRequestId", string())
        .property("clientId", string())
        .property("url", string())
        .property(
            "status",
            string().enum_values(Some(["PENDING", "DELIVERED", "EXHAUSTED", "CANCELLED"])),
        )
        .required("status")
        .property("attemptsMade", integer())
        .property("nextDueMs", integer())
        .property(
            "body",
            ObjectBuilder::new()
                .schema_type(SchemaType::AnyValue)
                .description(Some("The notification body as sent")),
        )
        .property("attempts", ArrayBuilder::new().items(attempt))
}

/// The one entry the notification listing has for a final payment that queued nothing.
fn not_queued_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .property("paymentRequestId", string())
        .required("paymentRequestId")
        .property("status", string().enum_values(Some(["NOT_QUEUED"])))
        .required("status")
        .property(
            "notQueued",
            string().description(Some("Why no notification was queued")),
        )
        .required("notQueued")
}

/// An admin operation: its answers, each JSON, and the bearer token.
struct AdminOp {
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    body: Option<(RefOr<Schema>, Option<Value>)>,
    query: Vec<(&'static str, ObjectBuilder)>,
    conflict: Option<RefOr<Schema>>,
    /// Operations whose path parameter the success answer supplies: (operationId, parameter,
    /// runtime expression), for readers and for schemathesis' stateful phase.
    links: Vec<(&'static str, &'static str, &'static str)>,
    ok: (&'static str, Option<RefOr<Schema>>),
    errors: &'static [&'static str],
}

impl AdminOp {
    fn new(method: HttpMethod, path: &'static str, id: &'static str) -> Self {
        Self {
            method,
            path,
            id,
            summary: "",
            body: None,
            query: Vec::new(),
            conflict: None,
            links: Vec::new(),
            ok: ("200", None),
            errors: &[],
        }
    }

    fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    fn body(mut self, schema: impl Into<RefOr<Schema>>, example: Option<Value>) -> Self {
        self.body = Some((schema.into(), example));
        self
    }

    /// A 409 that answers this rather than an error.
    fn conflict(mut self, schema: impl Into<RefOr<Schema>>) -> Self {
        self.conflict = Some(schema.into());
        self
    }

    fn query(mut self, name: &'static str, schema: ObjectBuilder) -> Self {
        self.query.push((name, schema));
        self
    }

    fn answers(mut self, status: &'static str, schema: Option<RefOr<Schema>>) -> Self {
        self.ok = (status, schema);
        self
    }

    fn links(mut self, to: &[&'static str], parameter: &'static str, from: &'static str) -> Self {
        self.links
            .extend(to.iter().map(|operation| (*operation, parameter, from)));
        self
    }

    fn fails(mut self, errors: &'static [&'static str]) -> Self {
        self.errors = errors;
        self
    }

    fn build(self) -> Operation {
        let mut op = OperationBuilder::new()
            .operation_id(Some(self.id))
            .tag("admin")
            .summary(Some(self.summary))
            .security(SecurityRequirement::new(ADMIN_AUTH, Vec::<String>::new()));
        for name in path_params(self.path) {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(string())),
            );
        }
        for (name, schema) in self.query {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .schema(Some(schema)),
            );
        }
        if let Some((body, example)) = self.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(body))
                            .example(example)
                            .build(),
                    )
                    .build(),
            ));
        }
        let (status, schema) = self.ok;
        let mut ok = ResponseBuilder::new().description("Done");
        for (operation, parameter, from) in self.links {
            ok = ok.link(
                operation,
                LinkBuilder::new()
                    .operation_id(operation)
                    .parameter(parameter, from)
                    .build(),
            );
        }
        if let Some(schema) = schema {
            ok = ok.content(
                "application/json",
                ContentBuilder::new().schema(Some(schema)).build(),
            );
        }
        op = op.response(status, ok.build());
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(schema_ref("AdminError")))
                        .build(),
                )
                .build()
        };
        if let Some(schema) = self.conflict {
            op = op.response(
                "409",
                ResponseBuilder::new()
                    .description("It exists already: the payment that has that id")
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build(),
            );
        }
        for status in self.errors {
            let description = match *status {
                "400" => "The body or a parameter breaks a rule; the message names it",
                "404" => "No such payment, notification or rule",
                "409" => "Conflicts with the current state",
                "413" => "The body is larger than server.body_limit_bytes",
                _ => "Failed",
            };
            op = op.response(*status, error(description));
        }
        op = op
            .response(
                "401",
                error("Missing or wrong bearer token, or the admin API is off"),
            )
            .response("503", error("The store failed"));
        op.build()
    }
}

/// `{name}` segments of a path template.
fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

fn integer() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Integer)
}

fn date_time() -> ObjectBuilder {
    string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
}

fn list_of(item: impl Into<RefOr<Schema>>) -> Option<RefOr<Schema>> {
    Some(ArrayBuilder::new().items(item.into()).build().into())
}

/// An object that takes no other properties (the admin bodies deny unknown fields).
fn closed() -> ObjectBuilder {
    ObjectBuilder::new().additional_properties(Some(AdditionalProperties::FreeForm(false)))
}

/// What `parse_interval` reads: `0`, or humantime durations such as `90s`, `2m`, `1h 30m`.
const INTERVAL: &str = "^0$|^([0-9]+ ?(ms|s|sec|m|min|h|hr|hours?|d|days?|w|weeks?) ?)+$";

fn admin_paths(paths: &mut Paths, currencies: &[String]) {
    use HttpMethod::{Delete, Get, Post};
    let payment = || Some(RefOr::from(schema_ref("Payment")));
    let notification = || Some(RefOr::from(schema_ref("Notification")));
    let count = |name: &str| Some(RefOr::from(ObjectBuilder::new().property(name, integer())));
    let completion = || {
        closed()
            .property("paymentId", string())
            .property("paymentTime", date_time())
            .property("resultCode", string())
            .property("resultMessage", string())
    };
    let rule = || {
        ObjectBuilder::new()
            .description(Some(
                "A scenario rule: a match (endpoint; client_id, field with equals / starts_with \
                 / ends_with / contains / matches, times) and an outcome (result, \
                 payment_result, latency, fault). Written as in [[scenario.rules]].",
            ))
            .property(
                "endpoint",
                string().enum_values(Some(Endpoint::ALL.map(Endpoint::name))),
            )
            .required("endpoint")
    };
    let listed_rule = || rule().property("id", string()).property("hits", integer());
    let journal_filters = |op: AdminOp| {
        op.query("endpoint", string())
            .query("clientId", string())
            .query("paymentId", string())
            .query("resultCode", string())
            .query(
                "direction",
                string().enum_values(Some(["inbound", "outbound"])),
            )
            .query("limit", integer().minimum(Some(0)))
    };
    let seed_example = json!({
        "paymentRequestId": "pay-example-0001",
        "status": "SUCCESS",
        "paymentAmount": {"currency": "JPY", "value": "200"},
        "payToCurrency": "CNY",
        "paymentQuote": {"quoteCurrencyPair": "JPY/CNY", "quotePrice": "0.064622"},
        "pspName": "ALIPAY_CN",
        "customerId": "2088000000000001"
    });
    let advance = OneOfBuilder::new()
        .item(
            closed()
                .property(
                    "seconds",
                    integer().minimum(Some(0)).maximum(Some(u64::MAX)),
                )
                .required("seconds"),
        )
        .item(
            closed()
                .property(
                    "by",
                    string()
                        .description(Some("A duration such as 90s, 2m, 1h 30m"))
                        .pattern(Some(INTERVAL)),
                )
                .required("by"),
        );
    let fail_next = closed()
        .property("count", integer().minimum(Some(0)).maximum(Some(u32::MAX)))
        .required("count")
        .property("resultStatus", string().enum_values(Some(["F", "U"])))
        .property(
            "resultCode",
            string().min_length(Some(1)).max_length(Some(64)),
        )
        .property("resultMessage", string());
    let received = ObjectBuilder::new()
        .property("receivedAtMs", integer())
        .property("clientId", string())
        .property("paymentRequestId", nullable_string())
        .property("verdict", string())
        .property("answered", string())
        .property("body", string());
    let entry = ObjectBuilder::new()
        .property("seq", integer())
        .property("atMs", integer())
        .property(
            "direction",
            string().enum_values(Some(["inbound", "outbound"])),
        )
        .property("endpoint", string())
        .property("target", string())
        .property("verdict", string())
        .property("resultCode", string())
        .property("resultStatus", string());
    let by_payment = "$response.body#/paymentRequestId";

    let ops = [
        AdminOp::new(Post, "/admin/payments", "seedPayment")
            .summary("Seed a payment in any state: what inquiryPayment then answers")
            .body(
                body_schema(crate::api::admin::payments::SEED, currencies),
                Some(seed_example),
            )
            .answers("201", payment())
            .links(
                &[
                    "readPayment",
                    "completePayment",
                    "failPayment",
                    "listNotifications",
                ],
                "paymentRequestId",
                by_payment,
            )
            .conflict(schema_ref("Payment"))
            .fails(&["400", "413"]),
        AdminOp::new(Get, "/admin/payments/{paymentRequestId}", "readPayment")
            .summary("Read a payment back")
            .answers("200", payment())
            .fails(&["404"]),
        AdminOp::new(
            Post,
            "/admin/payments/{paymentRequestId}/complete",
            "completePayment",
        )
        .summary("Complete a processing payment with success; its notification is queued")
        .body(completion(), None)
        .answers("200", payment())
        .links(&["listNotifications"], "paymentRequestId", by_payment)
        .fails(&["400", "404", "409", "413"]),
        AdminOp::new(
            Post,
            "/admin/payments/{paymentRequestId}/fail",
            "failPayment",
        )
        .summary("Fail a processing payment with a code of inquiryPayment's table")
        .body(
            completion(),
            Some(json!({"resultCode": "USER_BALANCE_NOT_ENOUGH"})),
        )
        .answers("200", payment())
        .fails(&["400", "404", "409", "413"]),
        AdminOp::new(
            Get,
            "/admin/payments/{paymentRequestId}/notifications",
            "listNotifications",
        )
        .summary(
            "The notifications of a payment, with every attempt; for a final payment that \
             queued none, one NOT_QUEUED entry saying why",
        )
        .answers(
            "200",
            list_of(
                OneOfBuilder::new()
                    .item(schema_ref("Notification"))
                    .item(schema_ref("NotQueued")),
            ),
        )
        .links(
            &["redeliverNotification", "cancelNotification"],
            "id",
            "$response.body#/0/id",
        ),
        AdminOp::new(
            Post,
            "/admin/notifications/{id}/redeliver",
            "redeliverNotification",
        )
        .summary("Make a notification's next attempt now")
        .answers("200", notification())
        .fails(&["404"]),
        AdminOp::new(
            Post,
            "/admin/notifications/{id}/cancel",
            "cancelNotification",
        )
        .summary("Stop a pending notification")
        .answers("200", notification())
        .fails(&["404", "409"]),
        AdminOp::new(Post, "/admin/clock/advance", "advanceClock")
            .summary("Move the notification schedule ahead")
            .body(advance, Some(json!({"by": "1h"})))
            .answers(
                "200",
                Some(RefOr::from(
                    ObjectBuilder::new()
                        .property(
                            "advancedSeconds",
                            ObjectBuilder::new().schema_type(Type::Number),
                        )
                        .property("pendingMoved", integer()),
                )),
            )
            .fails(&["400", "413"]),
        AdminOp::new(
            Get,
            "/admin/received-notifications",
            "listReceivedNotifications",
        )
        .summary("What the notifyPayment receiver got, newest first, with each verdict")
        .query("paymentRequestId", string())
        .query("limit", integer().minimum(Some(0)).maximum(Some(u32::MAX)))
        .answers("200", list_of(received))
        .fails(&["400"]),
        AdminOp::new(Post, "/admin/receiver/fail-next", "failNextNotifications")
            .summary("Make the receiver answer a failure to the next N notifications")
            .body(
                fail_next,
                Some(json!({"count": 2, "resultStatus": "U", "resultCode": "UNKNOWN_EXCEPTION"})),
            )
            .answers("200", count("failNext"))
            .fails(&["400", "413"]),
        AdminOp::new(Get, "/admin/rules", "listRules")
            .summary("The scenario rules in the order they are tried, with their hits")
            .answers("200", list_of(listed_rule())),
        AdminOp::new(Post, "/admin/rules", "addRule")
            .summary("Add a scenario rule; ?first=true puts it before the others")
            .query("first", ObjectBuilder::new().schema_type(Type::Boolean))
            .body(
                rule(),
                Some(json!({
                    "endpoint": "inquiryPayment",
                    "field": "paymentRequestId",
                    "starts_with": "slow-",
                    "latency": {"fixed_ms": 6000}
                })),
            )
            .answers("201", Some(listed_rule().into()))
            .fails(&["400", "413"]),
        AdminOp::new(Delete, "/admin/rules/{id}", "removeRule")
            .summary("Remove a scenario rule")
            .answers("204", None)
            .fails(&["404"]),
        journal_filters(AdminOp::new(Get, "/admin/journal", "listJournal"))
            .summary("Journal entries, newest first")
            .answers("200", list_of(entry))
            .fails(&["400"]),
        AdminOp::new(Delete, "/admin/journal", "clearJournal")
            .summary("Clear the journal")
            .answers("204", None),
        journal_filters(AdminOp::new(Get, "/admin/journal/count", "countJournal"))
            .summary("Count journal entries")
            .answers("200", count("count"))
            .fails(&["400"]),
        AdminOp::new(Post, "/admin/reset", "reset")
            .summary("Everything back to empty: store, journal, rules, receiver")
            .answers(
                "200",
                Some(RefOr::from(ObjectBuilder::new().property(
                    "reset",
                    ObjectBuilder::new().schema_type(Type::Boolean),
                ))),
            ),
    ];
    for op in ops {
        let (method, path) = (op.method.clone(), op.path);
        paths.add_path_operation(path, vec![method], op.build());
    }
}

fn service_paths(paths: &mut Paths) {
    let status = |required: &[&str]| {
        let mut object = ObjectBuilder::new()
            .property("status", string())
            .property("store", string())
            .property("error", string());
        for name in required {
            object = object.required(*name);
        }
        ContentBuilder::new().schema(Some(object)).build()
    };
    let get = |id: &str, summary: &str| {
        OperationBuilder::new()
            .operation_id(Some(id))
            .tag("service")
            .summary(Some(summary))
    };
    paths.add_path_operation(
        "/healthz",
        vec![HttpMethod::Get],
        get("healthz", "The process answers")
            .response(
                "200",
                ResponseBuilder::new()
                    .description("Up")
                    .content("application/json", status(&["status"])),
            )
            .build(),
    );
    paths.add_path_operation(
        "/readyz",
        vec![HttpMethod::Get],
        get("readyz", "The store answers, so requests can be served")
            .response(
                "200",
                ResponseBuilder::new()
                    .description("Ready")
                    .content("application/json", status(&["status", "store"])),
            )
            .response(
                "503",
                ResponseBuilder::new()
                    .description("The store does not answer")
                    .content("application/json", status(&["status", "store", "error"])),
            )
            .build(),
    );
    paths.add_path_operation(
        "/metrics",
        vec![HttpMethod::Get],
        get("metrics", "Prometheus metrics")
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The Prometheus text exposition format")
                    .content(
                        "text/plain",
                        ContentBuilder::new().schema(Some(string())).build(),
                    ),
            )
            .build(),
    );
    paths.add_path_operation(
        "/openapi.json",
        vec![HttpMethod::Get],
        get("openapi", "This document")
            .response(
                "200",
                ResponseBuilder::new()
                    .description("The OpenAPI 3.1 document")
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(ObjectBuilder::new()))
                            .build(),
                    ),
            )
            .build(),
    );
}
