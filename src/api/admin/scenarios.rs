//! Scenario rules at run time: `GET /admin/rules` lists them in the order they are tried (with
//! how often each matched), `POST /admin/rules` adds one (`?first=true` puts it before the
//! others), `DELETE /admin/rules/{id}` removes one.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{RefOr, Schema};

use super::{AdminBody, AdminError, AdminPath, AdminQuery, ErrorBody};
use crate::api::state::AppState;
use crate::scenario::{Rule, RuleSpec};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(list).post(add))
        .route("/rules/{id}", delete(remove))
}

/// A scenario rule as listed: its id, how often it matched, and the rule as written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ListedRule {
    /// Its id, for removal.
    id: String,
    /// How many requests it has matched.
    hits: u64,
    #[serde(flatten)]
    #[schema(schema_with = open_rule_spec)]
    spec: RuleSpec,
}

/// `RuleSpec`'s schema without `additionalProperties: false`: beside `id` and `hits` in a
/// [`ListedRule`], the spec's own closed schema would refuse them.
fn open_rule_spec() -> RefOr<Schema> {
    let mut spec = <RuleSpec as utoipa::PartialSchema>::schema();
    if let RefOr::T(Schema::Object(object)) = &mut spec {
        object.additional_properties = None;
    }
    spec
}

fn view(rule: Rule) -> ListedRule {
    ListedRule {
        id: rule.id,
        hits: rule.hits,
        spec: rule.spec,
    }
}

/// The scenario rules in the order they are tried, with their hits
#[utoipa::path(
    get,
    path = "/admin/rules",
    operation_id = "listRules",
    responses((status = 200, description = "In the order they are tried", body = Vec<ListedRule>)),
)]
pub(super) async fn list(State(state): State<AppState>) -> Response {
    let rules: Vec<ListedRule> = state.scenarios.list().into_iter().map(view).collect();
    axum::Json(rules).into_response()
}

/// Where a new rule goes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct Placement {
    /// Before the others, rather than after.
    first: Option<bool>,
}

/// Add a scenario rule; ?first=true puts it before the others
///
/// A rule is a match (endpoint; client_id, field with equals / starts_with / ends_with /
/// contains / matches, times) and an outcome (result, payment_result, latency, fault), written
/// as in `[[scenario.rules]]`.
#[utoipa::path(
    post,
    path = "/admin/rules",
    operation_id = "addRule",
    params(Placement),
    request_body(
        content = RuleSpec,
        example = json!({
            "endpoint": "inquiryPayment",
            "field": "paymentRequestId",
            "starts_with": "slow-",
            "latency": {"fixed_ms": 6000}
        }),
    ),
    responses(
        (status = 201, description = "Added", body = ListedRule),
        (status = 400, description = "Not a rule; the message names the setting", body = ErrorBody),
    ),
)]
pub(super) async fn add(
    State(state): State<AppState>,
    AdminQuery(placement): AdminQuery<Placement>,
    AdminBody(body): AdminBody,
) -> Result<Response, AdminError> {
    let bad = |m: String| AdminError::new(StatusCode::BAD_REQUEST, m);
    let spec: RuleSpec =
        serde_json::from_slice(&body).map_err(|e| bad(format!("not a rule: {e}")))?;
    let rule = Rule::compile(
        format!("rule-{}", &crate::ids::notification_id()[4..12]),
        spec,
    )
    .map_err(|e| bad(e.to_string()))?;
    state
        .scenarios
        .add(rule.clone(), placement.first.unwrap_or(false));
    Ok((StatusCode::CREATED, axum::Json(view(rule))).into_response())
}

/// Remove a scenario rule
#[utoipa::path(
    delete,
    path = "/admin/rules/{id}",
    operation_id = "removeRule",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such rule", body = ErrorBody),
    ),
)]
pub(super) async fn remove(
    State(state): State<AppState>,
    AdminPath(id): AdminPath,
) -> Result<Response, AdminError> {
    if state.scenarios.remove(&id) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(AdminError::new(
            StatusCode::NOT_FOUND,
            format!("no rule {id}"),
        ))
    }
}
