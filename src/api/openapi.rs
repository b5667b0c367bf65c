//! The OpenAPI 3.1 document, served at `GET /openapi.json`. The request bodies of the four APIs
//! are generated from the field-rule tables the validators run (`WireRequest::FIELDS`,
//! `schema::RESULT`, the notification's `QUOTE`), so what the document says a field must be
//! (required, `maxLength`, `enum`, format) is what the gateway enforces; `tests/openapi.rs`
//! holds the two to each other. The admin API's part is derived from its handlers and DTOs
//! (`api::admin::openapi`) and merged in, as is what a higher layer serves (`/admin/namespaces`,
//! given to [`serve`]). The document depends only on `server.notify_payment_path`, so it is
//! built once per path and kept.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    ComponentsBuilder, KnownFormat, ObjectBuilder, Ref, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, RefOr, Required,
    ResponseBuilder, Tag,
};

use super::Api;
use crate::protocol::amount;
use crate::protocol::schema::{DATETIME_MAX, Field, Kind, Presence, RESULT};

/// `GET /openapi.json`: the document for a gateway whose notifyPayment receiver is at
/// `notify_payment_path`, with `more` merged in: the operations of a higher layer, which this
/// one cannot name. `more` is the same in every call of a process, so the path alone keys the
/// cache.
pub fn serve(notify_payment_path: &str, more: fn() -> OpenApi) -> Response {
    let body = cached(notify_payment_path, more);
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The serialised document for `notify_payment_path`, built on first use.
fn cached(notify_payment_path: &str, more: fn() -> OpenApi) -> Bytes {
    static DOCUMENTS: OnceLock<Mutex<HashMap<String, Bytes>>> = OnceLock::new();
    let mut documents = DOCUMENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    documents
        .entry(notify_payment_path.to_owned())
        .or_insert_with(|| {
            let mut doc = document(notify_payment_path);
            doc.merge(more());
            Bytes::from(serde_json::to_vec(&doc).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the OpenAPI document did not serialise");
                b"{}".to_vec()
            }))
        })
        .clone()
}

/// The admin bearer-token security scheme's name.
pub(crate) const ADMIN_AUTH: &str = "adminToken";

/// The document of this layer's routes, for a gateway whose notifyPayment receiver is at
/// `notify_payment_path`.
pub fn document(notify_payment_path: &str) -> OpenApi {
    let currencies = currencies();
    let mut paths = Paths::new();
    let mut schemas = ComponentsBuilder::new();
    for api in super::all() {
        schemas = schemas
            .schema(
                api.schemas.0,
                body_schema(api.request, &currencies).description(Some(api.spec.summary)),
            )
            .schema(api.schemas.1, answer_schema(api.response));
        for (i, path) in api.paths(notify_payment_path).iter().enumerate() {
            paths.add_path_operation(*path, vec![HttpMethod::Post], api_operation(api, path, i));
        }
    }
    service_paths(&mut paths);

    let components = schemas
        .schema("Result", result_schema())
        .schema("Amount", amount_schema(false, &currencies))
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

    let mut doc = OpenApiBuilder::new()
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
        .build();
    doc.merge(super::admin::openapi::document());
    doc
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
pub(crate) fn currencies() -> Vec<String> {
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
pub(crate) fn body_schema(fields: &[Field], currencies: &[String]) -> ObjectBuilder {
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

/// The `Amount` component, for derived schemas too: the stored payments the admin API answers
/// carry amounts that passed these same rules.
impl utoipa::PartialSchema for crate::protocol::Amount {
    fn schema() -> RefOr<Schema> {
        amount_schema(false, &currencies()).into()
    }
}

impl utoipa::ToSchema for crate::protocol::Amount {}

// ------------------------------------------------------------------------------------------
// The four APIs
// ------------------------------------------------------------------------------------------

fn schema_ref(name: &str) -> Ref {
    Ref::from_schema_name(name)
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
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
    let name = api.spec.name;
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
        .description(Some(api.spec.summary))
        .parameters(Some(signed_headers()))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(schema_ref(api.schemas.0)))
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
                api.schemas.1,
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

/// An answer's schema, from its field rules: the `result` objects and amounts as references,
/// and no length bounds, since an answer carries what the store holds. Optional fields are
/// left out of an answer, never null.
fn answer_schema(fields: &[Field]) -> ObjectBuilder {
    let mut object = ObjectBuilder::new();
    for field in fields {
        let schema: RefOr<Schema> = match field.kind {
            Kind::Object(children) if children == RESULT => schema_ref("Result").into(),
            Kind::Amount => schema_ref("Amount").into(),
            Kind::Datetime => string()
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .into(),
            Kind::Enum { allowed } => string().enum_values(Some(allowed.iter().copied())).into(),
            _ => string().into(),
        };
        object = object.property(field.name, schema);
        if field.presence == Presence::Required {
            object = object.required(field.name);
        }
    }
    object
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
