//! `POST /admin/payments` seeds a payment in any state; `GET /admin/payments/{paymentRequestId}`
//! reads one back; `GET /admin/payments` lists them, newest first, a page at a time (filters
//! `status`, `clientId`, `id`: a paymentRequestId or paymentId; `offset`, `limit`). What is
//! seeded is what inquiryPayment answers.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};

use super::{AdminBody, AdminError, AdminPath, AdminQuery, ErrorBody};
use crate::api::notify_payment::QUOTE;
use crate::api::state::AppState;
use crate::domain::message;
use crate::protocol::codes::{self, INQUIRY_PAYMENT_RESULT};
use crate::protocol::schema::{self, Field, Kind, text};
use crate::protocol::{Amount, ResultStatus, amount, datetime};
use crate::store::{
    Payment, PaymentQuery, PaymentStatus, PushReport, Quote, ReportOutcome, SeedOutcome,
};

/// The seed body's rules; the same checks as the wire fields (and the OpenAPI document's).
pub(crate) const SEED: &[Field] = &[
    Field::required("paymentRequestId", text(64)),
    Field::optional("paymentId", text(64)),
    Field::optional(
        "status",
        Kind::Enum {
            allowed: &["PROCESSING", "SUCCESS", "FAIL"],
        },
    ),
    Field::optional("resultCode", text(64)),
    Field::optional("resultMessage", text(256)),
    Field::optional("paymentAmount", Kind::Amount),
    Field::optional("payToCurrency", text(3)),
    Field::optional("paymentQuote", Kind::Object(QUOTE)),
    Field::optional("customerId", text(64)),
    Field::optional("pspName", text(64)),
    Field::optional("customsDeclarationAmount", Kind::Amount),
    Field::optional("passThroughInfo", text(20000)),
    Field::optional("paymentTime", Kind::Datetime),
    Field::optional("paymentCreateTime", Kind::Datetime),
    Field::optional("clientId", text(64)),
    Field::optional("notifyUrl", text(2048)),
];

/// A payment to seed; its schema is [`SEED`]'s.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SeedRequest {
    payment_request_id: String,
    payment_id: Option<String>,
    status: Option<PaymentStatus>,
    result_code: Option<String>,
    result_message: Option<String>,
    payment_amount: Option<Amount>,
    pay_to_currency: Option<String>,
    payment_quote: Option<serde_json::Value>,
    customer_id: Option<String>,
    psp_name: Option<String>,
    customs_declaration_amount: Option<Amount>,
    pass_through_info: Option<String>,
    payment_time: Option<String>,
    payment_create_time: Option<String>,
    client_id: Option<String>,
    notify_url: Option<String>,
}

/// The seed body is checked against [`SEED`] before it is read, so its schema is built from
/// that table, like the four APIs' bodies.
impl utoipa::PartialSchema for SeedRequest {
    fn schema() -> RefOr<Schema> {
        let currencies = crate::api::openapi::currencies();
        crate::api::openapi::body_schema(SEED, &currencies).into()
    }
}

impl utoipa::ToSchema for SeedRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "SeedPayment".into()
    }
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/payments", post(seed).get(list))
        .route("/payments/{payment_request_id}", get(read))
        .route("/payments/{payment_request_id}/complete", post(complete))
        .route("/payments/{payment_request_id}/fail", post(fail))
}

fn bad(message: impl Into<String>) -> AdminError {
    AdminError::new(StatusCode::BAD_REQUEST, message)
}

/// Seed a payment in any state: what inquiryPayment then answers
///
/// Answers 201 with the payment, or 409 with the one that already has that id.
#[utoipa::path(
    post,
    path = "/admin/payments",
    operation_id = "seedPayment",
    request_body(
        content = SeedRequest,
        example = json!({
            "paymentRequestId": "pay-example-0001",
            "status": "SUCCESS",
            "paymentAmount": {"currency": "JPY", "value": "200"},
            "payToCurrency": "CNY",
            "paymentQuote": {"quoteCurrencyPair": "JPY/CNY", "quotePrice": "0.064622"},
            "pspName": "ALIPAY_CN",
            "customerId": "2088000000000001"
        }),
    ),
    responses(
        (status = 201, description = "Seeded", body = PaymentView, links(
            ("readPayment" = (operation_id = "readPayment",
                parameters(("paymentRequestId" = "$response.body#/paymentRequestId")))),
            ("completePayment" = (operation_id = "completePayment",
                parameters(("paymentRequestId" = "$response.body#/paymentRequestId")))),
            ("failPayment" = (operation_id = "failPayment",
                parameters(("paymentRequestId" = "$response.body#/paymentRequestId")))),
            ("listNotifications" = (operation_id = "listNotifications",
                parameters(("paymentRequestId" = "$response.body#/paymentRequestId")))),
        )),
        (status = 409, body = Payment,
            description = "It exists already: the payment that has that id"),
        (status = 400, body = ErrorBody,
            description = "The body breaks a field rule; the message names the field"),
    ),
)]
pub(super) async fn seed(
    State(state): State<AppState>,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("the body is not valid JSON: {e}")))?;
    schema::validate(&value, SEED).map_err(|e| bad(e.to_string()))?;
    let seed: SeedRequest = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    if let Some(url) = &seed.notify_url {
        state
            .outbound()
            .check_url(url)
            .map_err(|e| bad(format!("notifyUrl: {e}")))?;
    }
    if let Some(client_id) = &seed.client_id {
        own_client(&state, client_id).await?;
    }
    if let Some(namespace) = &state.namespace
        && let Some(max) = namespace.max_payments
        && state.store.held().await? >= max
    {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!(
                "namespace {} holds its limit of {max} payments and risk reports (maxPayments)",
                namespace.name
            ),
        ));
    }
    let payment = build(seed)?;
    let caller = payment.client_id.clone().unwrap_or_default();
    let urls = state.clients.notify_urls();
    let plan = state.notify_plan(&caller, &urls);
    let written = state.store.seed_payment(payment, &plan).await?;
    match written.outcome {
        SeedOutcome::Created(p) => {
            let not_queued = written.queuing.reason().map(str::to_owned);
            Ok((StatusCode::CREATED, view(p, not_queued)).into_response())
        }
        SeedOutcome::Exists(p) => Ok((StatusCode::CONFLICT, axum::Json(p)).into_response()),
    }
}

/// The most payments one listing answers.
pub const MAX_LISTED: u32 = 1000;

/// `GET /admin/payments`'s filters and page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub(super) struct Listing {
    /// Only payments in this state.
    #[param(inline)]
    status: Option<PaymentStatus>,
    /// Only this merchant's payments.
    client_id: Option<String>,
    /// Only the payment with this paymentRequestId or paymentId.
    id: Option<String>,
    /// How many to skip, newest first.
    offset: Option<u32>,
    /// At most this many (default 50).
    #[param(maximum = 1000)]
    limit: Option<u32>,
}

/// Refuses a `clientId` that is another namespace's client: its notifications would go out
/// signed as that client, to its notify URL.
async fn own_client(state: &AppState, client_id: &str) -> Result<(), AdminError> {
    let here = state.namespace_name();
    let elsewhere = if state.clients.in_config(client_id) {
        (here != crate::domain::namespace::DEFAULT_NAMESPACE)
            .then(|| crate::domain::namespace::DEFAULT_NAMESPACE.to_owned())
    } else {
        state
            .registry
            .client(client_id)
            .await?
            .map(|c| c.namespace)
            .filter(|namespace| namespace != here)
    };
    match elsewhere {
        Some(_) => Err(bad(format!(
            "clientId: {client_id} is a client of another namespace"
        ))),
        None => Ok(()),
    }
}

/// Payments, newest first, a page at a time (the dashboard's list)
#[utoipa::path(
    get,
    path = "/admin/payments",
    operation_id = "listPayments",
    params(Listing),
    responses(
        (status = 200, description = "The page", body = Vec<Payment>),
        (status = 400, body = ErrorBody,
            description = "A parameter breaks a rule; the message names it"),
    ),
)]
pub(super) async fn list(
    State(state): State<AppState>,
    AdminQuery(listing): AdminQuery<Listing>,
) -> Result<Response, AdminError> {
    let limit = listing.limit.unwrap_or(50);
    if limit > MAX_LISTED {
        return Err(bad(format!("limit: at most {MAX_LISTED}")));
    }
    let found = state
        .store
        .list_payments(&PaymentQuery {
            status: listing.status,
            client_id: listing.client_id.filter(|c| !c.is_empty()),
            id: listing.id.filter(|i| !i.is_empty()),
            offset: listing.offset.unwrap_or(0),
            limit,
        })
        .await?;
    Ok(axum::Json(found).into_response())
}

/// Read a payment back
#[utoipa::path(
    get,
    path = "/admin/payments/{paymentRequestId}",
    operation_id = "readPayment",
    params(("paymentRequestId" = String, Path)),
    responses(
        (status = 200, description = "The payment", body = PaymentView),
        (status = 404, description = "No such payment", body = ErrorBody),
    ),
)]
pub(super) async fn read(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    match state.store.payment(&id).await? {
        Some(p) => {
            let not_queued =
                if p.status.is_final() && state.store.notifications_for(&id).await?.is_empty() {
                    not_queued_reason(&state, &p)
                } else {
                    None
                };
            Ok(view(p, not_queued).into_response())
        }
        None => Err(AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no payment with paymentRequestId {id}"),
        )),
    }
}

/// Why a final payment with no notification on file has none, judged with today's config.
pub(super) fn not_queued_reason(state: &AppState, payment: &Payment) -> Option<String> {
    let caller = payment.client_id.as_deref().unwrap_or_default();
    message::why_not_queued(
        payment,
        &state.notify_plan(caller, &state.clients.notify_urls()),
    )
}

/// A payment as the admin API shows it: its fields, and `notQueued` with the reason when it is
/// final and no notification was queued for it.
fn view(payment: Payment, not_queued: Option<String>) -> axum::Json<PaymentView> {
    axum::Json(PaymentView {
        payment,
        not_queued,
    })
}

/// A stored payment; `notQueued` says why a final one has no notification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct PaymentView {
    #[serde(flatten)]
    payment: Payment,
    /// Why no notification was queued for this final payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    not_queued: Option<String>,
}

/// Turns a seed into a payment, filling what a final state needs and checking what spans fields.
fn build(seed: SeedRequest) -> Result<Payment, AdminError> {
    let status = seed.status.unwrap_or(PaymentStatus::Processing);
    let now = Utc::now();
    // Fields that contradict the status are refused rather than dropped.
    if status != PaymentStatus::Fail
        && (seed.result_code.is_some() || seed.result_message.is_some())
    {
        return Err(bad(
            "resultCode: only a FAIL payment carries a result code or message",
        ));
    }
    if status == PaymentStatus::Processing && seed.payment_time.is_some() {
        return Err(bad(
            "paymentTime: a PROCESSING payment has not reached its final state yet",
        ));
    }
    let result_code = match (status, seed.result_code) {
        (PaymentStatus::Success, _) => "SUCCESS".to_owned(),
        (PaymentStatus::Processing, _) => "PAYMENT_IN_PROCESS".to_owned(),
        (PaymentStatus::Fail, None) => "PROCESS_FAIL".to_owned(),
        (PaymentStatus::Fail, Some(code)) => {
            if codes::find(INQUIRY_PAYMENT_RESULT, &code)
                .is_none_or(|c| c.status != ResultStatus::F)
            {
                return Err(bad(format!(
                    "resultCode: must be a failure code of inquiryPayment's payment result table ({})",
                    codes::list(INQUIRY_PAYMENT_RESULT, ResultStatus::F)
                )));
            }
            code
        }
    };
    if let Some(currency) = &seed.pay_to_currency {
        amount::check_currency(currency).map_err(|e| bad(format!("payToCurrency: {e}")))?;
    }
    let quote = seed
        .payment_quote
        .map(|q| {
            let price = match &q["quotePrice"] {
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                _ => return Err(bad("paymentQuote.quotePrice: required")),
            };
            Ok(Quote {
                quote_id: q["quoteId"].as_str().map(str::to_owned),
                quote_currency_pair: q["quoteCurrencyPair"].as_str().map(str::to_owned),
                quote_price: price,
            })
        })
        .transpose()?;
    if let (Some(target), Some(amount)) = (&seed.pay_to_currency, &seed.payment_amount)
        && target != &amount.currency
        && quote.is_none()
    {
        return Err(bad(
            "paymentQuote: required when payToCurrency differs from paymentAmount.currency",
        ));
    }
    if let Some(q) = &quote
        && schema::parse_decimal(&q.quote_price).is_none_or(|p| p <= rust_decimal::Decimal::ZERO)
    {
        return Err(bad("paymentQuote.quotePrice: must be a number above 0"));
    }
    if let (Some(target), Some(amount), Some(q)) =
        (&seed.pay_to_currency, &seed.payment_amount, &quote)
        && target != &amount.currency
    {
        let price = schema::parse_decimal(&q.quote_price).unwrap_or_default();
        amount.convert(target, price).map_err(|e| {
            bad(format!(
                "paymentAmount: cannot be converted to {target} at {price}: {e}"
            ))
        })?;
    }
    if let Some(url) = &seed.notify_url {
        crate::config::check_notify_url(url).map_err(|e| bad(format!("notifyUrl: {e}")))?;
    }
    if seed.pay_to_currency.is_some() && seed.payment_amount.is_none() {
        return Err(bad("paymentAmount: required with payToCurrency"));
    }
    let payment_id = match (status, seed.payment_id) {
        (PaymentStatus::Success, None) => Some(crate::ids::payment_id()),
        (_, id) => id,
    };
    let payment_time = match (status, seed.payment_time) {
        (PaymentStatus::Processing, _) => None,
        (_, Some(t)) => Some(t),
        (_, None) => Some(datetime::format_seconds(now.fixed_offset())),
    };
    Ok(Payment {
        payment_request_id: Some(seed.payment_request_id),
        payment_id,
        status,
        result_code,
        result_message: seed.result_message,
        payment_time,
        payment_create_time: seed.payment_create_time,
        payment_amount: seed.payment_amount,
        pay_to_currency: seed.pay_to_currency,
        payment_quote: quote,
        customer_id: seed.customer_id,
        psp_name: seed.psp_name,
        customs_declaration_amount: seed.customs_declaration_amount,
        pass_through_info: seed.pass_through_info,
        client_id: seed.client_id,
        notify_url: seed.notify_url,
        created_at: now,
        updated_at: now,
    })
}

/// `POST .../complete` and `.../fail`: what the final state is to be; no body (or `null`)
/// takes the defaults.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Completion {
    /// The processor's payment id; default: the payment's, else a new one.
    payment_id: Option<String>,
    /// When it became final; default: now.
    #[schema(format = DateTime)]
    payment_time: Option<String>,
    /// `fail` only: a failure code of inquiryPayment's payment result table (default
    /// PROCESS_FAIL).
    result_code: Option<String>,
    /// The message that goes with the code.
    result_message: Option<String>,
}

/// Complete a processing payment with success; its notification is queued
///
/// The notification is queued as a push result's would be.
#[utoipa::path(
    post,
    path = "/admin/payments/{paymentRequestId}/complete",
    operation_id = "completePayment",
    params(("paymentRequestId" = String, Path)),
    request_body(content = Option<Completion>),
    responses(
        (status = 200, description = "Completed", body = PaymentView, links(
            ("listNotifications" = (operation_id = "listNotifications",
                parameters(("paymentRequestId" = "$response.body#/paymentRequestId")))),
        )),
        (status = 400, body = ErrorBody,
            description = "The body breaks a rule; the message names the field"),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "The payment is final already, or conflicts with another"),
    ),
)]
pub(super) async fn complete(
    state: State<AppState>,
    id: AdminPath,
    body: AdminBody,
) -> Result<Response, AdminError> {
    finish(state, id, body, PaymentStatus::Success).await
}

/// Fail a processing payment with a code of inquiryPayment's table
///
/// The code defaults to PROCESS_FAIL.
#[utoipa::path(
    post,
    path = "/admin/payments/{paymentRequestId}/fail",
    operation_id = "failPayment",
    params(("paymentRequestId" = String, Path)),
    request_body(
        content = Option<Completion>,
        example = json!({"resultCode": "USER_BALANCE_NOT_ENOUGH"}),
    ),
    responses(
        (status = 200, description = "Failed", body = PaymentView),
        (status = 400, body = ErrorBody,
            description = "The body breaks a rule; the message names the field"),
        (status = 404, description = "No such payment", body = ErrorBody),
        (status = 409, body = ErrorBody,
            description = "The payment is final already, or conflicts with another"),
    ),
)]
pub(super) async fn fail(
    state: State<AppState>,
    id: AdminPath,
    body: AdminBody,
) -> Result<Response, AdminError> {
    finish(state, id, body, PaymentStatus::Fail).await
}

async fn finish(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
    AdminBody(body): AdminBody,
    status: PaymentStatus,
) -> Result<Response, AdminError> {
    // No body and `null` both take the defaults, as the document's optional body says.
    let completion: Completion = if body.iter().all(u8::is_ascii_whitespace) {
        Completion::default()
    } else {
        serde_json::from_slice::<Option<Completion>>(&body)
            .map_err(|e| bad(format!("the body is not a completion: {e}")))?
            .unwrap_or_default()
    };
    if let Some(t) = &completion.payment_time
        && datetime::parse(t).is_none()
    {
        return Err(bad(
            "paymentTime: must be an ISO 8601 date-time with offset",
        ));
    }
    let payment = state.store.payment(&id).await?.ok_or_else(|| {
        AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no payment with paymentRequestId {id}"),
        )
    })?;
    if payment.status.is_final() {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            format!(
                "payment {id} is already final ({})",
                payment.status.as_str()
            ),
        ));
    }
    let result_code = match status {
        PaymentStatus::Success => "SUCCESS".to_owned(),
        _ => {
            let code = completion
                .result_code
                .unwrap_or_else(|| "PROCESS_FAIL".into());
            if codes::find(INQUIRY_PAYMENT_RESULT, &code)
                .is_none_or(|c| c.status != ResultStatus::F)
            {
                return Err(bad(format!(
                    "resultCode: must be a failure code of inquiryPayment's payment result table ({})",
                    codes::list(INQUIRY_PAYMENT_RESULT, ResultStatus::F)
                )));
            }
            code
        }
    };
    let report = PushReport {
        payment_id: completion
            .payment_id
            .or(payment.payment_id)
            .unwrap_or_else(crate::ids::payment_id),
        payment_request_id: Some(id.clone()),
        status,
        result_code,
        result_message: completion.result_message,
        payment_time: Some(
            completion
                .payment_time
                .unwrap_or_else(|| datetime::format_seconds(Utc::now().fixed_offset())),
        ),
    };
    let caller = payment.client_id.clone().unwrap_or_default();
    let urls = state.clients.notify_urls();
    let plan = state.notify_plan(&caller, &urls);
    let written = state.store.record_push_result(report, &plan).await?;
    match written.outcome {
        ReportOutcome::Recorded(p) => {
            let not_queued = written.queuing.reason().map(str::to_owned);
            Ok(view(p, not_queued).into_response())
        }
        // Nothing was written now; the view still says why the payment has no notification.
        ReportOutcome::Repeated(p) => {
            let not_queued = message::why_not_queued(&p, &plan);
            Ok(view(p, not_queued).into_response())
        }
        ReportOutcome::Contradicts(p) => Err(AdminError::new(
            StatusCode::CONFLICT,
            format!(
                "payment {id} conflicts with payment {} ({})",
                p.payment_id.unwrap_or_default(),
                p.status.as_str()
            ),
        )),
        ReportOutcome::Foreign => Err(AdminError::new(
            StatusCode::CONFLICT,
            format!("payment {id}: the paymentId given belongs to another merchant's payment"),
        )),
    }
}
