//! The dashboard's controls, and signing in and out. A control is a form posted to
//! `/dashboard/admin/<admin route>`: it is checked for its CSRF token, turned into the admin
//! call it stands for (the same path, a JSON body) and sent through the admin API's own router,
//! so it passes every check an API call passes and can do nothing the API cannot.

use axum::Extension;
use axum::Form;
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};
use tower::ServiceExt;

use super::Dashboard;
use super::auth::{self, Visitor};
use super::view;
use crate::api::admin::same_secret;

/// A control's form: `csrf`, `back` (the dashboard page to return to), `method` (`DELETE`, else
/// POST), `body` (a JSON body as typed) or fields `s.<name>` (a string) and `n.<name>` (a
/// number) that make one.
type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Why a form makes no JSON body; the page shows the text.
#[derive(Debug, thiserror::Error)]
enum FormError {
    /// An `n.<name>` field that is no whole number.
    #[error("{key}: {value:?} is not a whole number")]
    NotANumber { key: String, value: String },
    /// The body could not be written.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
}

/// The admin call's JSON body, from the form.
fn body_of(fields: &Fields) -> Result<Vec<u8>, FormError> {
    if let Some(raw) = field(fields, "body") {
        return Ok(raw.as_bytes().to_vec());
    }
    let mut object = Map::new();
    for (name, value) in fields {
        if let Some(key) = name.strip_prefix("s.") {
            if !value.is_empty() {
                object.insert(key.to_owned(), Value::String(value.clone()));
            }
        } else if let Some(key) = name.strip_prefix("n.") {
            let number: u64 = value.trim().parse().map_err(|_| FormError::NotANumber {
                key: key.to_owned(),
                value: value.clone(),
            })?;
            object.insert(key.to_owned(), Value::from(number));
        }
    }
    if object.is_empty() {
        return Ok(Vec::new());
    }
    Ok(serde_json::to_vec(&object)?)
}

/// Where to go after a control: a dashboard page, never another site.
fn back_to(fields: &Fields) -> String {
    field(fields, "back")
        .filter(|b| b.starts_with("/dashboard") && !b.contains("//") && !b.contains('\\'))
        .unwrap_or("/dashboard/payments")
        .to_owned()
}

/// `POST /dashboard/admin/<path>`: the admin call `POST|DELETE /admin/<path>`.
pub async fn forward(
    State(dashboard): State<Dashboard>,
    Extension(visitor): Extension<Visitor>,
    request: Request,
) -> Response {
    // The path as received, still percent-encoded, is the admin route's.
    let admin_path = request
        .uri()
        .path()
        .strip_prefix("/dashboard/admin")
        .unwrap_or("/")
        .to_owned();
    let query = request
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let Ok(Form(fields)) = Form::<Fields>::from_request(request, &()).await else {
        return view::failed(StatusCode::BAD_REQUEST, "the form could not be read", None);
    };
    if !visitor.check_csrf(field(&fields, "csrf")) {
        return view::failed(
            StatusCode::FORBIDDEN,
            "the form's CSRF token is missing or stale: reload the page and try again",
            None,
        );
    }
    let back = back_to(&fields);
    let body = match body_of(&fields) {
        Ok(body) => body,
        Err(e) => return view::failed(StatusCode::BAD_REQUEST, &e.to_string(), Some(&back)),
    };
    let method = match field(&fields, "method") {
        Some("DELETE") => Method::DELETE,
        _ => Method::POST,
    };
    let call = Request::builder()
        .method(method)
        .uri(format!("{admin_path}{query}"))
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", dashboard.token()),
        )
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body));
    let Ok(call) = call else {
        return view::failed(StatusCode::BAD_REQUEST, "not an admin route", Some(&back));
    };
    let answer = match dashboard.admin.clone().oneshot(call).await {
        Ok(answer) => answer,
        Err(never) => match never {},
    };
    if answer.status().is_success() {
        return Redirect::to(&back).into_response();
    }
    let status = answer.status();
    let bytes = axum::body::to_bytes(answer.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let message = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    view::failed(status, &message, Some(&back))
}

/// `GET /dashboard/login`.
pub async fn sign_in_form() -> Response {
    view::sign_in(None)
}

/// `POST /dashboard/login` with the admin token: opens a session.
pub async fn sign_in(State(dashboard): State<Dashboard>, Form(fields): Form<Fields>) -> Response {
    let given = field(&fields, "token").unwrap_or_default();
    if !same_secret(given.trim(), dashboard.token()) {
        let mut page = view::sign_in(Some("That is not the admin token."));
        *page.status_mut() = StatusCode::UNAUTHORIZED;
        return page;
    }
    let token = dashboard.sessions.open();
    (
        [(header::SET_COOKIE, auth::set_cookie(&token))],
        Redirect::to("/dashboard/payments"),
    )
        .into_response()
}

/// `POST /dashboard/logout`: ends the session.
pub async fn sign_out(
    State(dashboard): State<Dashboard>,
    Extension(visitor): Extension<Visitor>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    if !visitor.check_csrf(field(&fields, "csrf")) {
        return view::failed(StatusCode::FORBIDDEN, "stale form: reload the page", None);
    }
    if let Some(token) = auth::session_cookie(&headers) {
        dashboard.sessions.close(&token);
    }
    (
        [(header::SET_COOKIE, auth::clear_cookie())],
        Redirect::to("/dashboard/login"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_form_becomes_the_json_body_of_its_admin_call() {
        let fields = form(&[
            ("csrf", "x"),
            ("n.count", "2"),
            ("s.resultStatus", "F"),
            ("s.resultCode", ""),
        ]);

        let body: Value = serde_json::from_slice(&body_of(&fields).unwrap()).unwrap();

        assert_eq!(body, serde_json::json!({"count": 2, "resultStatus": "F"}));
        assert!(body_of(&form(&[("n.count", "two")])).is_err());
        assert!(body_of(&form(&[("csrf", "x")])).unwrap().is_empty());
    }

    #[test]
    fn a_control_returns_only_to_a_dashboard_page() {
        assert_eq!(
            back_to(&form(&[("back", "/dashboard/journal?x=1")])),
            "/dashboard/journal?x=1"
        );
        assert_eq!(
            back_to(&form(&[("back", "https://evil.example/")])),
            "/dashboard/payments"
        );
        assert_eq!(
            back_to(&form(&[("back", "/dashboard//evil.example")])),
            "/dashboard/payments"
        );
    }
}
