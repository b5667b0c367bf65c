//! The pieces every page is made of: the page shell with its navigation, badges, times, forms
//! for controls, and the pages that are not about one thing (sign-in, a failed control). All
//! markup is `maud`'s, which escapes every value it is given.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

use crate::journal::Entry;

/// The security headers of every page: nothing but the gateway's own script and stylesheet
/// run, and no other site may frame it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The navigation: (path, label).
const NAV: [(&str, &str); 3] = [
    ("/dashboard/payments", "Payments"),
    ("/dashboard/journal", "Journal"),
    ("/dashboard/controls", "Rules & controls"),
];

/// What every page's head holds: charset, viewport, an empty icon (no `/favicon.ico` request),
/// the title and the stylesheet.
fn head_of(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        link rel="icon" href="data:,";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · alipay-gateway" }
        link rel="stylesheet" href="/dashboard/assets/dashboard.css";
    }
}

/// A whole page: `title`, the navigation with `current` marked, the sign-out form, `body`.
pub fn page(title: &str, current: &str, csrf: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                (head_of(title))
                script src="/dashboard/assets/dashboard.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/dashboard/payments" { "alipay-gateway" }
                    nav {
                        @for (path, label) in NAV {
                            a.current[path == current] href=(path) { (label) }
                        }
                    }
                    @if !csrf.is_empty() {
                        form.signout method="post" action="/dashboard/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    respond(StatusCode::OK, markup)
}

/// An HTML answer with the page's security headers.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// The sign-in form, with a complaint when the last token was wrong.
pub fn sign_in(complaint: Option<&str>) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head { (head_of("Sign in")) }
            body.signin {
                form.card method="post" action="/dashboard/login" {
                    h1 { "alipay-gateway" }
                    p { "The dashboard opens with the admin token (" code { "admin.token" } ")." }
                    @if let Some(c) = complaint { p.error { (c) } }
                    label { "Admin token" input #token type="password" name="token" autocomplete="current-password" autofocus required; }
                    button #sign-in type="submit" { "Sign in" }
                }
            }
        }
    };
    respond(StatusCode::OK, markup)
}

/// A control the admin API refused: its status and message, and the way back.
pub fn failed(status: StatusCode, message: &str, back: Option<&str>) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head { (head_of("Refused")) }
            body.signin {
                div.card {
                    h1 { "Refused: " (status.as_u16()) }
                    p.error #refusal { (message) }
                    a href=(back.unwrap_or("/dashboard/payments")) { "Back" }
                }
            }
        }
    };
    respond(status, markup)
}

/// A form that runs one admin call: `POST|DELETE /admin/<path>` with the fields in `inner`.
pub fn control(csrf: &str, back: &str, admin_path: &str, method: &str, inner: Markup) -> Markup {
    html! {
        form.control method="post" action={ "/dashboard/admin" (admin_path) } {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="back" value=(back);
            @if method != "POST" { input type="hidden" name="method" value=(method); }
            (inner)
        }
    }
}

/// What a path segment keeps as it is: letters, digits and `-._~` (RFC 3986 unreserved).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One path segment, percent-encoded for a URL.
pub fn segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

/// A status as a coloured badge.
pub fn badge(text: &str) -> Markup {
    let tone = match text {
        "SUCCESS" | "DELIVERED" | "S" | "valid" | "delivered" => "ok",
        "FAIL" | "EXHAUSTED" | "F" | "refused" => "bad",
        "PROCESSING" | "PENDING" | "U" => "wait",
        _ => "muted",
    };
    html! { span class={ "badge " (tone) } { (text) } }
}

/// Epoch milliseconds as UTC date and time.
pub fn time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// A span of schedule time, the way the page writes it: `0s`, `2m`, `1h 30m`.
pub fn span(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

/// How far `ms` is from now: `in 3.2 s`, `12.0 s ago`.
pub fn from_now(ms: i64) -> String {
    let delta = ms - Utc::now().timestamp_millis();
    let seconds = delta.abs() as f64 / 1000.0;
    if delta >= 0 {
        format!("in {seconds:.1} s")
    } else {
        format!("{seconds:.1} s ago")
    }
}

/// The verdict's short form: `valid`, `delivered` (a notification attempt), `refused` (a
/// signature or an acknowledgement) or `not checked`.
pub fn verdict_word(verdict: &str) -> &'static str {
    match verdict {
        "valid" => "valid",
        "delivered" => "delivered",
        "not checked" => "not checked",
        _ => "refused",
    }
}

/// A journal entry as a table row, as the page lists it and the live feed sends it.
pub fn journal_row(e: &Entry) -> Markup {
    let refused = verdict_word(&e.verdict) == "refused";
    html! {
        tr class=(if refused { "entry refused" } else { "entry" }) data-seq=(e.seq) {
            td { a href={ "/dashboard/journal/" (e.seq) } { "#" (e.seq) } }
            td { (time(e.at_ms)) }
            td { (format!("{:?}", e.direction).to_lowercase()) }
            td { (e.endpoint) }
            td { (e.client_id.as_deref().unwrap_or("—")) }
            td { @for id in &e.payment_ids { span.id { (id) } " " } }
            td { (e.result_code.as_deref().unwrap_or("—")) }
            td { (badge(verdict_word(&e.verdict))) }
            td.num { (format!("{:.1}", e.latency_ms)) " ms" }
        }
    }
}

/// Preformatted text, escaped.
pub fn pre(text: &str) -> Markup {
    html! { pre { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_spans_read_like_the_page() {
        assert_eq!(span(0), "0s");
        assert_eq!(span(120), "2m");
        assert_eq!(span(1320), "22m");
        assert_eq!(span(4920), "1h 22m");
        assert_eq!(span(87720), "24h 22m");
    }

    #[test]
    fn an_id_is_one_path_segment() {
        assert_eq!(segment("pay-1_a.b~c/d e"), "pay-1_a.b~c%2Fd%20e");
    }
}
