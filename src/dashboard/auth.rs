//! Who may see the dashboard: the holder of the admin token, by a sign-in form that sets a
//! session cookie (`HttpOnly`, `SameSite=Strict`), or by the admin API's own
//! `Authorization: Bearer` header. Every change a signed-in browser asks for carries the
//! session's CSRF token, checked in [`Visitor::check_csrf`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::Dashboard;
use crate::api::admin::same_secret;

/// The session cookie's name.
pub const COOKIE: &str = "gateway_dashboard";

/// How long a session lasts without a new sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// At most this many sessions are kept; the oldest goes first past it.
const MAX_SESSIONS: usize = 1024;

/// The signed-in browsers: a random token each (the cookie), with its CSRF token and expiry.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

#[derive(Debug, Clone)]
struct Session {
    csrf: String,
    expires: Instant,
}

impl Sessions {
    /// Opens a session: answers its cookie token.
    pub fn open(&self) -> String {
        let token = random_hex();
        let session = Session {
            csrf: random_hex(),
            expires: Instant::now() + SESSION_TTL,
        };
        if let Ok(mut sessions) = self.by_token.lock() {
            let now = Instant::now();
            sessions.retain(|_, s| s.expires > now);
            if sessions.len() >= MAX_SESSIONS
                && let Some(oldest) = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.expires)
                    .map(|(t, _)| t.clone())
            {
                sessions.remove(&oldest);
            }
            sessions.insert(token.clone(), session);
        }
        token
    }

    /// The CSRF token of a live session.
    fn csrf_of(&self, token: &str) -> Option<String> {
        let sessions = self.by_token.lock().ok()?;
        sessions
            .get(token)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
    }

    /// Ends a session.
    pub fn close(&self, token: &str) {
        if let Ok(mut sessions) = self.by_token.lock() {
            sessions.remove(token);
        }
    }
}

/// 32 random bytes from the system's CSPRNG, in hex.
fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    // aws-lc's generator fails only when the operating system has no entropy to give.
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A request extension: who is asking.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The session's cookie token and CSRF token; `None` for a bearer-token caller, whose
    /// header a browser never sends on its own, so it needs no CSRF token.
    pub session: Option<(String, String)>,
}

impl Visitor {
    /// The CSRF token the page's forms carry (empty for a bearer-token caller).
    pub fn csrf(&self) -> &str {
        self.session.as_ref().map_or("", |(_, csrf)| csrf.as_str())
    }

    /// Whether a change may go ahead: a bearer caller always, a session only with its token.
    pub fn check_csrf(&self, given: Option<&str>) -> bool {
        match &self.session {
            None => true,
            Some((_, csrf)) => given.is_some_and(|g| same_secret(g, csrf)),
        }
    }
}

/// The session token in the request's cookies.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Whether the request carries the admin token as `Authorization: Bearer`.
fn bearer_ok(headers: &HeaderMap, expected: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .is_some_and(|(_, token)| same_secret(token.trim(), expected))
}

/// Lets a signed-in request through with its [`Visitor`]; sends a browser to the sign-in form.
pub async fn require_sign_in(
    State(dashboard): State<Dashboard>,
    mut request: Request,
    next: Next,
) -> Response {
    let visitor = if bearer_ok(request.headers(), dashboard.token()) {
        Some(Visitor { session: None })
    } else {
        session_cookie(request.headers()).and_then(|token| {
            dashboard.sessions.csrf_of(&token).map(|csrf| Visitor {
                session: Some((token, csrf)),
            })
        })
    };
    match visitor {
        Some(visitor) => {
            request.extensions_mut().insert(visitor);
            let mut response = next.run(request).await;
            // Pages show what the gateway knows now; no cache keeps them.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        None if request.method() == axum::http::Method::GET => {
            Redirect::to("/dashboard/login").into_response()
        }
        None => (StatusCode::UNAUTHORIZED, "sign in first: /dashboard/login").into_response(),
    }
}

/// The `Set-Cookie` value that opens a session.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_TTL.as_secs()
    )
}

/// The `Set-Cookie` value that forgets it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_has_its_own_random_tokens_and_ends_when_closed() {
        let sessions = Sessions::default();
        let a = sessions.open();
        let b = sessions.open();

        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        let csrf = sessions.csrf_of(&a).unwrap();
        assert_ne!(csrf, a);
        sessions.close(&a);
        assert_eq!(sessions.csrf_of(&a), None);
        assert!(sessions.csrf_of(&b).is_some());
    }

    #[test]
    fn a_session_change_needs_its_csrf_token_and_a_bearer_caller_none() {
        let session = Visitor {
            session: Some(("t".into(), "c".into())),
        };

        assert!(session.check_csrf(Some("c")));
        assert!(!session.check_csrf(Some("x")));
        assert!(!session.check_csrf(None));
        assert!(Visitor { session: None }.check_csrf(None));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; gateway_dashboard=abc; b=2".parse().unwrap(),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
    }
}
