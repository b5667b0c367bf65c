//! The dashboard at `/dashboard`: what the admin API knows (payments, their notification
//! timelines, the journal with its signature diagnoses, rules, the receiver, clients, the store,
//! the queue and the clock) as server-rendered pages, and its controls. Every control is
//! forwarded to the admin API's own router ([`actions`]), so the dashboard can do nothing the
//! API cannot. Off when the admin API is off. The pages are HTML from `maud` (escaped by
//! default), one stylesheet and one small script compiled into the binary: nothing is fetched
//! from elsewhere, and the pages work offline.

pub mod actions;
pub mod auth;
pub mod diagnosis;
mod live;
mod pages;
mod view;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::api::state::AppState;
use auth::Sessions;

/// What every dashboard handler reaches.
#[derive(Clone)]
pub struct Dashboard {
    /// The gateway's state, as the admin API sees it.
    app: AppState,
    /// The signed-in browsers.
    sessions: Arc<Sessions>,
    /// The admin API's router, which every control goes through.
    admin: Router,
    /// The admin token.
    token: Arc<str>,
}

impl Dashboard {
    fn token(&self) -> &str {
        &self.token
    }
}

/// The dashboard's routes, or `None` when the admin API is off (no `admin.token`): then there
/// is no dashboard either.
pub fn router(app: AppState) -> Option<Router> {
    let token: Arc<str> = app.config.admin_token.as_ref()?.expose().into();
    let dashboard = Dashboard {
        admin: crate::api::admin::router(app.clone()).with_state(app.clone()),
        app,
        sessions: Arc::new(Sessions::default()),
        token,
    };
    let signed_in = Router::new()
        .route(
            "/dashboard",
            get(|| async { Redirect::to("/dashboard/payments") }),
        )
        .route("/dashboard/payments", get(pages::payments))
        .route("/dashboard/payments/{id}", get(pages::payment))
        .route("/dashboard/journal", get(pages::journal))
        .route("/dashboard/journal/live", get(live::feed))
        .route("/dashboard/journal/{seq}", get(pages::entry))
        .route("/dashboard/controls", get(pages::controls))
        .route("/dashboard/admin/{*path}", post(actions::forward))
        .route("/dashboard/logout", post(actions::sign_out))
        .route_layer(from_fn_with_state(dashboard.clone(), auth::require_sign_in));
    Some(
        Router::new()
            .merge(signed_in)
            .route(
                "/dashboard/login",
                get(actions::sign_in_form).post(actions::sign_in),
            )
            .route("/dashboard/assets/{file}", get(asset))
            .with_state(dashboard),
    )
}

/// The stylesheet and the script, compiled in.
async fn asset(State(_): State<Dashboard>, Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "dashboard.css" => (
            include_str!("assets/dashboard.css"),
            "text/css; charset=utf-8",
        ),
        "dashboard.js" => (
            include_str!("assets/dashboard.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}
