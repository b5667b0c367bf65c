//! Scenario rules at run time: `GET /admin/rules` lists them in the order they are tried (with
//! how often each matched), `POST /admin/rules` adds one (`?first=true` puts it before the
//! others), `DELETE /admin/rules/{id}` removes one.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};

use super::{AdminBody, AdminError, AdminPath, AdminQuery};
use crate::api::state::AppState;
use crate::scenario::{Rule, RuleSpec};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/rules", get(list).post(add))
        .route("/rules/{id}", delete(remove))
}

/// A rule as listed.
#[derive(Debug, Serialize)]
struct View {
    id: String,
    hits: u64,
    #[serde(flatten)]
    spec: RuleSpec,
}

fn view(rule: Rule) -> View {
    View {
        id: rule.id,
        hits: rule.hits,
        spec: rule.spec,
    }
}

async fn list(State(state): State<AppState>) -> Response {
    let rules: Vec<View> = state.scenarios.list().into_iter().map(view).collect();
    axum::Json(rules).into_response()
}

#[derive(Debug, Deserialize)]
struct Placement {
    first: Option<bool>,
}

async fn add(
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

async fn remove(
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
