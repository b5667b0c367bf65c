//! The admin API's part of the OpenAPI document: its operations and the schemas they answer,
//! beside the handlers they describe.

use serde_json::{Value, json};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    ArrayBuilder, ComponentsBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema,
    SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Paths, RefOr, Required, ResponseBuilder};

use crate::api::openapi::{
    ADMIN_AUTH, body_schema, closed, date_time, integer, list_of, nullable_string, schema_ref,
    string, types,
};
use crate::protocol::Endpoint;

/// The schemas the admin operations answer.
pub fn schemas(components: ComponentsBuilder) -> ComponentsBuilder {
    components
        .schema("AdminError", admin_error())
        .schema("Payment", payment_schema())
        .schema("Notification", notification_schema())
        .schema("NotQueued", not_queued_schema())
}

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
                "403" => "A namespace token, for another namespace",
                "404" => "No such payment, notification, rule, client or namespace",
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

/// What `parse_interval` reads: `0`, or humantime durations such as `90s`, `2m`, `1h 30m`.
const INTERVAL: &str = "^0$|^([0-9]+ ?(ms|s|sec|m|min|h|hr|hours?|d|days?|w|weeks?) ?)+$";

/// The admin API's operations.
pub fn paths(paths: &mut Paths, currencies: &[String]) {
    use HttpMethod::{Delete, Get, Post, Put};
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
                string().enum_values(Some(["inbound", "outbound", "upstream"])),
            )
            .query("verdict", string().enum_values(Some(["valid", "refused"])))
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
            string().enum_values(Some(["inbound", "outbound", "upstream"])),
        )
        .property("endpoint", string())
        .property("target", string())
        .property("verdict", string())
        .property("resultCode", string())
        .property("resultStatus", string());
    let by_payment = "$response.body#/paymentRequestId";
    let mode = || string().enum_values(Some(["mock", "proxy", "replay", "replay-or-proxy"]));
    let modes = || {
        ObjectBuilder::new()
            .property("mode", mode())
            .required("mode")
            .property(
                "routes",
                ArrayBuilder::new().items(
                    ObjectBuilder::new()
                        .property("api", string())
                        .property("client_id", string())
                        .property("mode", mode())
                        .required("api")
                        .required("mode"),
                ),
            )
    };
    let message = || {
        ObjectBuilder::new()
            .property("url", string())
            .property("status", integer())
            .property("headers", ObjectBuilder::new())
            .property("body", string())
    };
    let recording = || {
        ObjectBuilder::new()
            .property("id", integer())
            .property("recordedAtMs", integer())
            .property("api", string())
            .property("clientId", string())
            .property(
                "signing",
                string().enum_values(Some(["re-sign", "pass-through"])),
            )
            .property("matchKey", string())
            .property("request", message())
            .property("response", message())
            .property("latencyMs", integer())
            .property("verdict", string())
    };

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
        AdminOp::new(Get, "/admin/payments", "listPayments")
            .summary("Payments, newest first, a page at a time (the dashboard's list)")
            .query(
                "status",
                string().enum_values(Some(["PROCESSING", "SUCCESS", "FAIL"])),
            )
            .query("clientId", string())
            .query("id", string())
            .query("offset", integer().minimum(Some(0)).maximum(Some(u32::MAX)))
            .query("limit", integer().minimum(Some(0)).maximum(Some(1000)))
            .answers("200", list_of(schema_ref("Payment")))
            .fails(&["400"]),
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
        AdminOp::new(Get, "/admin/recordings", "listRecordings")
            .summary(
                "Real mode: the forwarded requests and the upstream's answers, newest first \
                 (signature values left out)",
            )
            .query("api", string())
            .query("clientId", string())
            .query("matchKey", string())
            .query("verdict", string())
            .query("limit", integer().minimum(Some(0)).maximum(Some(u32::MAX)))
            .answers("200", list_of(recording()))
            .fails(&["400"]),
        AdminOp::new(Get, "/admin/drift", "driftReport")
            .summary(
                "Real mode: the stored recordings sent to this gateway's mock, each answer \
                 compared with the recorded real one field by field",
            )
            .query("api", string())
            .query("clientId", string())
            .query("matchKey", string())
            .query("limit", integer().minimum(Some(0)).maximum(Some(u32::MAX)))
            .answers(
                "200",
                Some(RefOr::from(
                    ObjectBuilder::new()
                        .property("drifting", integer())
                        .property(
                            "compared",
                            ArrayBuilder::new().items(
                                ObjectBuilder::new()
                                    .property("id", integer())
                                    .property("api", string())
                                    .property("matchKey", string())
                                    .property("differences", ArrayBuilder::new().items(string())),
                            ),
                        )
                        .property("skipped", ArrayBuilder::new().items(string())),
                )),
            )
            .fails(&["400"]),
        AdminOp::new(Get, "/admin/real/modes", "readModes")
            .summary("Real mode: the modes in force, per API and client")
            .answers("200", Some(RefOr::from(modes())))
            .fails(&["409"]),
        AdminOp::new(Put, "/admin/real/modes", "setModes")
            .summary("Real mode: replace the modes in force, written as in [real]")
            .body(
                modes(),
                Some(json!({"mode": "mock", "routes": [{"api": "inquiryPayment", "mode": "replay-or-proxy"}]})),
            )
            .answers("200", Some(RefOr::from(modes())))
            .fails(&["400", "409", "413"]),
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
    for op in ops.into_iter().chain(clients_and_namespaces()) {
        let (method, path) = (op.method.clone(), op.path);
        paths.add_path_operation(path, vec![method], op.build());
    }
}

/// `/admin/clients` and `/admin/namespaces` ([docs/namespaces.md](../../../docs/namespaces.md)).
/// A call with a `Gateway-Namespace` header acts within that namespace; the header is left out
/// of each operation, as every admin operation takes it alike.
fn clients_and_namespaces() -> Vec<AdminOp> {
    use HttpMethod::{Delete, Get, Patch, Post};
    let api_names =
        || ArrayBuilder::new().items(string().enum_values(Some(Endpoint::ALL.map(Endpoint::name))));
    let keys = || {
        ObjectBuilder::new()
            .description(Some(
                "Public keys by keyVersion: PEM or single-line base64 (X.509)",
            ))
            .additional_properties(Some(string()))
    };
    let registration = closed()
        .property(
            "clientId",
            string().min_length(Some(1)).max_length(Some(64)),
        )
        .required("clientId")
        .property("publicKeys", keys())
        .required("publicKeys")
        .property("endpoints", api_names())
        .property("notifyUrl", string())
        .property(
            "rateLimitPerSecond",
            integer().minimum(Some(1)).maximum(Some(u32::MAX)),
        );
    let change = closed()
        .property("publicKeys", keys())
        .property("removeKeyVersions", ArrayBuilder::new().items(string()))
        .property("endpoints", api_names())
        .property("notifyUrl", string())
        .property(
            "rateLimitPerSecond",
            integer().minimum(Some(1)).maximum(Some(u32::MAX)),
        );
    let client = || {
        ObjectBuilder::new()
            .property("clientId", string())
            .property("namespace", string())
            .property("source", string().enum_values(Some(["config", "runtime"])))
            .property("keyVersions", ArrayBuilder::new().items(string()))
            .property("endpoints", api_names())
            .property("notifyUrl", string())
            .property("rateLimitPerSecond", integer())
    };
    let creation = closed()
        .property(
            "name",
            string()
                .pattern(Some("^[a-z0-9][a-z0-9-]{0,31}$"))
                .description(Some("Lowercase letters, digits and dashes; not `default`")),
        )
        .required("name")
        .property(
            "ttlSeconds",
            integer().minimum(Some(1)).maximum(Some(30 * 24 * 3600)),
        )
        .property("maxPayments", integer().minimum(Some(1)))
        .property(
            "maxJournalEntries",
            integer().minimum(Some(1)).maximum(Some(1_000_000)),
        );
    let namespace = || {
        ObjectBuilder::new()
            .property("name", string())
            .property("createdAt", date_time())
            .property("expiresAt", date_time())
            .property("maxPayments", integer())
            .property("maxJournalEntries", integer())
    };
    let deleted = |what: &str| {
        Some(RefOr::from(
            ObjectBuilder::new()
                .property("deleted", string())
                .required("deleted"),
        ))
        .filter(|_| !what.is_empty())
    };
    vec![
        AdminOp::new(Post, "/admin/clients", "registerClient")
            .summary("Register a client at run time, in the namespace the call names")
            .body(
                registration,
                Some(json!({
                    "clientId": "CI_SHARD_1",
                    "publicKeys": {"1": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA..."},
                    "notifyUrl": "https://merchant.example/alipay/notify"
                })),
            )
            .answers("201", Some(client().into()))
            .links(
                &["readClient", "changeClient", "deleteClient"],
                "id",
                "$response.body#/clientId",
            )
            .fails(&["400", "404", "409", "413"]),
        AdminOp::new(Get, "/admin/clients", "listClients")
            .summary("The namespace's clients (the default namespace's include the config file's)")
            .answers("200", list_of(client())),
        AdminOp::new(Get, "/admin/clients/{id}", "readClient")
            .summary("One client")
            .answers("200", Some(client().into()))
            .fails(&["404", "409"]),
        AdminOp::new(Patch, "/admin/clients/{id}", "changeClient")
            .summary("Add or remove key versions (key rotation), change APIs, notify URL or rate")
            .body(
                change,
                Some(json!({"publicKeys": {"2": "MIIBIjANBgkqh..."}})),
            )
            .answers("200", Some(client().into()))
            .fails(&["400", "404", "409", "413"]),
        AdminOp::new(Delete, "/admin/clients/{id}", "deleteClient")
            .summary("Delete a run-time client")
            .answers("200", deleted("client"))
            .fails(&["404", "409"]),
        AdminOp::new(Post, "/admin/namespaces", "createNamespace")
            .summary("Create a namespace; answers its admin token, shown once")
            .body(
                creation,
                Some(json!({"name": "shard-1", "ttlSeconds": 3600})),
            )
            .answers(
                "201",
                Some(
                    namespace()
                        .property("token", string())
                        .required("token")
                        .into(),
                ),
            )
            .fails(&["400", "409", "413"]),
        AdminOp::new(Get, "/admin/namespaces", "listNamespaces")
            .summary("Every live namespace")
            .answers("200", list_of(namespace())),
        AdminOp::new(Get, "/admin/namespaces/{name}", "readNamespace")
            .summary("A namespace and what it holds")
            .answers(
                "200",
                Some(namespace().property("held", ObjectBuilder::new()).into()),
            )
            .fails(&["400", "403", "404"]),
        AdminOp::new(Delete, "/admin/namespaces/{name}", "deleteNamespace")
            .summary("Delete a namespace with everything it owns")
            .answers("200", deleted("namespace"))
            .fails(&["400", "403", "404"]),
    ]
}
