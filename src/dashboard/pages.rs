//! The pages: payments (a filtered, paginated list), one payment (its fields, the requests that
//! touched it, its notification timeline), the journal (live), one journal entry (its bodies
//! and, for a refused signature, the diagnosis beside what the client probably signed), and
//! the rules and controls. Each reads what the admin API reads.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::Dashboard;
use super::auth::Visitor;
use super::diagnosis::{self, visible};
use super::view::{self, badge, control, from_now, journal_row, page, segment, span, time};
use crate::domain::message;
use crate::journal::{Entry, Filter, VerdictFilter};
use crate::store::{
    Attempt, Notification, NotificationStatus, Payment, PaymentQuery, PaymentStatus, StoreError,
};

/// Payments a page.
const PAGE: u32 = 50;

/// Journal entries the page shows.
const JOURNAL_ROWS: usize = 200;

/// An empty form field is no filter.
fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn store_failed(e: StoreError) -> Response {
    tracing::error!(error = %e, "a dashboard page could not read the store");
    view::failed(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("store: {e}"),
        None,
    )
}

// ------------------------------------------------------------------------------------------
// Payments
// ------------------------------------------------------------------------------------------

/// The payments page's filters.
#[derive(Debug, Default, Deserialize)]
pub struct PaymentsQuery {
    status: Option<String>,
    client: Option<String>,
    q: Option<String>,
    page: Option<u32>,
}

impl PaymentsQuery {
    /// The query string of these filters on page `page`.
    fn link(&self, page: u32) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("status", &self.status),
            ("client", &self.client),
            ("q", &self.q),
        ] {
            if let Some(v) = given(value) {
                pairs.append_pair(name, &v);
            }
        }
        if page > 1 {
            pairs.append_pair("page", &page.to_string());
        }
        format!("/dashboard/payments?{}", pairs.finish())
    }
}

fn status_of(text: &str) -> Option<PaymentStatus> {
    match text {
        "PROCESSING" => Some(PaymentStatus::Processing),
        "SUCCESS" => Some(PaymentStatus::Success),
        "FAIL" => Some(PaymentStatus::Fail),
        _ => None,
    }
}

fn amount(p: &Payment) -> String {
    p.payment_amount
        .as_ref()
        .map_or_else(|| "—".to_owned(), |a| format!("{} {}", a.value, a.currency))
}

/// `GET /dashboard/payments`.
pub async fn payments(
    State(dashboard): State<Dashboard>,
    Extension(visitor): Extension<Visitor>,
    Query(query): Query<PaymentsQuery>,
) -> Response {
    let page_number = query.page.unwrap_or(1).max(1);
    let status = given(&query.status);
    let found = dashboard
        .app
        .store
        .list_payments(&PaymentQuery {
            status: status.as_deref().and_then(status_of),
            client_id: given(&query.client),
            id: given(&query.q),
            offset: (page_number - 1).saturating_mul(PAGE),
            limit: PAGE + 1,
        })
        .await;
    let mut found = match found {
        Ok(found) => found,
        Err(e) => return store_failed(e),
    };
    let more = found.len() > PAGE as usize;
    found.truncate(PAGE as usize);
    let clients: Vec<&String> = {
        let mut ids: Vec<&String> = dashboard.app.config.clients.keys().collect();
        ids.sort();
        ids
    };
    let body = html! {
        h1 { "Payments" }
        form.filters #payment-filters method="get" action="/dashboard/payments" {
            label { "Status "
                select name="status" {
                    option value="" { "any" }
                    @for s in ["PROCESSING", "SUCCESS", "FAIL"] {
                        option value=(s) selected[status.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            label { "Client "
                input type="text" name="client" list="client-ids" size="18" value=(query.client.clone().unwrap_or_default());
                datalist #client-ids { @for c in &clients { option value=(c) {} } }
            }
            label { "Id " input #search type="search" name="q" value=(query.q.clone().unwrap_or_default()) placeholder="paymentRequestId or paymentId"; }
            button type="submit" { "Filter" }
        }
        table #payments {
            thead { tr { th { "paymentRequestId" } th { "paymentId" } th { "Status" } th { "Amount" } th { "Client" } th { "Last change" } } }
            tbody {
                @for p in &found {
                    @let rid = p.payment_request_id.clone().unwrap_or_default();
                    tr {
                        td { @if rid.is_empty() { "—" } @else { a href={ "/dashboard/payments/" (segment(&rid)) } { (rid) } } }
                        td { (p.payment_id.as_deref().unwrap_or("—")) }
                        td { (badge(p.status.as_str())) }
                        td.num { (amount(p)) }
                        td { (p.client_id.as_deref().unwrap_or("—")) }
                        td { (time(p.updated_at.timestamp_millis())) }
                    }
                }
                @if found.is_empty() { tr { td.empty colspan="6" { "No payment matches." } } }
            }
        }
        nav.pages {
            @if page_number > 1 { a #prev href=(query.link(page_number - 1)) { "← Newer" } }
            span { "Page " (page_number) }
            @if more { a #next href=(query.link(page_number + 1)) { "Older →" } }
        }
    };
    page("Payments", "/dashboard/payments", visitor.csrf(), body)
}

/// `GET /dashboard/payments/{id}`.
pub async fn payment(
    State(dashboard): State<Dashboard>,
    Extension(visitor): Extension<Visitor>,
    Path(id): Path<String>,
) -> Response {
    let app = &dashboard.app;
    let payment = match app.store.payment(&id).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return view::failed(
                StatusCode::NOT_FOUND,
                &format!("no payment with paymentRequestId {id}"),
                Some("/dashboard/payments"),
            );
        }
        Err(e) => return store_failed(e),
    };
    let notifications = match app.store.notifications_for(&id).await {
        Ok(n) => n,
        Err(e) => return store_failed(e),
    };
    let received = app.store.received(Some(&id), 20).await.unwrap_or_default();
    let caller = payment.client_id.clone().unwrap_or_default();
    let not_queued = if notifications.is_empty() {
        message::why_not_queued(
            &payment,
            &app.notify_plan(&caller, &app.clients.notify_urls()),
        )
    } else {
        None
    };
    // Every request that named it: by paymentRequestId and by paymentId, newest first.
    let mut requests: Vec<Entry> = Vec::new();
    for key in [Some(id.clone()), payment.payment_id.clone()]
        .into_iter()
        .flatten()
    {
        requests.extend(app.journal.list(&Filter {
            payment_id: Some(key),
            limit: Some(JOURNAL_ROWS),
            ..Filter::default()
        }));
    }
    requests.sort_by_key(|e| std::cmp::Reverse(e.seq));
    requests.dedup_by_key(|e| e.seq);
    let csrf = visitor.csrf();
    let back = format!("/dashboard/payments/{}", segment(&id));
    let fields: Vec<(&str, String)> = vec![
        ("paymentRequestId", id.clone()),
        ("paymentId", payment.payment_id.clone().unwrap_or_default()),
        ("status", payment.status.as_str().to_owned()),
        ("resultCode", payment.result_code.clone()),
        (
            "resultMessage",
            payment.result_message.clone().unwrap_or_default(),
        ),
        ("paymentAmount", amount(&payment)),
        (
            "payToCurrency",
            payment.pay_to_currency.clone().unwrap_or_default(),
        ),
        (
            "paymentTime",
            payment.payment_time.clone().unwrap_or_default(),
        ),
        (
            "paymentCreateTime",
            payment.payment_create_time.clone().unwrap_or_default(),
        ),
        (
            "customerId",
            payment.customer_id.clone().unwrap_or_default(),
        ),
        ("pspName", payment.psp_name.clone().unwrap_or_default()),
        ("clientId", caller.clone()),
        ("notifyUrl", payment.notify_url.clone().unwrap_or_default()),
        (
            "passThroughInfo",
            payment.pass_through_info.clone().unwrap_or_default(),
        ),
        ("created", time(payment.created_at.timestamp_millis())),
        ("last change", time(payment.updated_at.timestamp_millis())),
    ];
    let body = html! {
        h1 { "Payment " span.id #payment-id { (id) } " " (badge(payment.status.as_str())) }
        @if payment.status == PaymentStatus::Processing {
            div.actions {
                (control(csrf, &back, &format!("/payments/{}/complete", segment(&id)), "POST", html! {
                    button #complete type="submit" { "Complete (SUCCESS)" }
                }))
                (control(csrf, &back, &format!("/payments/{}/fail", segment(&id)), "POST", html! {
                    input type="text" name="s.resultCode" placeholder="PROCESS_FAIL" size="24";
                    button #fail type="submit" { "Fail" }
                }))
            }
        }
        section.grid2 {
            div {
                h2 { "Fields" }
                dl.fields {
                    @for (name, value) in &fields {
                        @if !value.is_empty() { dt { (name) } dd { (value) } }
                    }
                }
            }
            div {
                h2 { "Requests that touched it" }
                table.compact {
                    thead { tr { th { "#" } th { "At" } th { "API" } th { "Result" } th { "Verdict" } } }
                    tbody {
                        @for e in &requests {
                            tr {
                                td { a href={ "/dashboard/journal/" (e.seq) } { "#" (e.seq) } }
                                td { (time(e.at_ms)) }
                                td { (e.endpoint) }
                                td { (e.result_code.as_deref().unwrap_or("—")) }
                                td { (badge(view::verdict_word(&e.verdict))) }
                            }
                        }
                        @if requests.is_empty() { tr { td.empty colspan="5" { "None in the journal." } } }
                    }
                }
            }
        }
        section #notifications data-refresh="1500" {
            h2 { "Notification" }
            @if let Some(reason) = &not_queued {
                p.notqueued #not-queued { "No notification was queued: " (reason) }
            } @else if notifications.is_empty() {
                p.empty { "None yet: a notification is queued when the payment reaches its final state." }
            }
            @for (n, attempts) in &notifications {
                (timeline(&dashboard, csrf, &back, n, attempts))
            }
            @if !received.is_empty() {
                h3 { "What the gateway's own receiver got for it" }
                table.compact {
                    thead { tr { th { "At" } th { "Client" } th { "Verdict" } th { "Answered" } } }
                    tbody {
                        @for r in &received {
                            tr { td { (time(r.received_at_ms)) } td { (r.client_id) } td { (r.verdict) } td { (r.answered) } }
                        }
                    }
                }
            }
        }
    };
    page(&format!("Payment {id}"), "/dashboard/payments", csrf, body)
}

/// One notification: its state at a glance, its attempts on the schedule's axis, the attempts
/// in detail, and its controls.
fn timeline(
    dashboard: &Dashboard,
    csrf: &str,
    back: &str,
    n: &Notification,
    attempts: &[Attempt],
) -> Markup {
    let schedule = &dashboard.app.config.schedule;
    let slots = schedule
        .attempts()
        .max(attempts.iter().map(|a| a.number).max().unwrap_or(0));
    let pending = n.status == NotificationStatus::Pending;
    html! {
        div.notification data-status=(n.status.as_str()) {
            p {
                (badge(n.status.as_str())) " "
                span.id { (n.id) } " → " code { (n.url) } " · "
                (n.attempts_made) " of " (schedule.attempts()) " attempts made"
                @if pending { " · next due " (time(n.next_due_ms)) " (" (from_now(n.next_due_ms)) ")" }
            }
            ol.timeline {
                @for number in 1..=slots {
                    @let attempt = attempts.iter().rev().find(|a| a.number == number);
                    @let offset = span(schedule.offset(number).as_secs());
                    @let state = slot_state(attempt, pending && number == n.attempts_made + 1);
                    li class={ "slot " (state) } data-attempt=(number) {
                        span.offset { (offset) }
                        span.dot {}
                        span.label {
                            "#" (number)
                            @if let Some(a) = attempt {
                                br; (a.http_status.map_or_else(|| "no answer".to_owned(), |s| format!("HTTP {s}")))
                                br; (a.ack_status.as_deref().unwrap_or("—")) " " (a.ack_code.as_deref().unwrap_or(""))
                                br; (a.latency_ms) " ms"
                            } @else if state == "next" {
                                br; "due " (from_now(n.next_due_ms))
                            }
                        }
                    }
                }
            }
            @if !attempts.is_empty() {
                table.compact.attempts {
                    thead { tr { th { "#" } th { "Schedule" } th { "Due" } th { "Started" } th { "HTTP" } th { "Acknowledgement" } th { "Latency" } th { "Error" } } }
                    tbody {
                        @for a in attempts {
                            tr class=(if a.delivered { "attempt delivered" } else { "attempt" }) {
                                td { (a.number) }
                                td { (span(schedule.offset(a.number).as_secs())) }
                                td { (time(a.due_ms)) }
                                td { (time(a.started_ms)) }
                                td { (a.http_status.map_or_else(|| "—".to_owned(), |s| s.to_string())) }
                                td { (a.ack_status.as_deref().unwrap_or("—")) " " (a.ack_code.as_deref().unwrap_or("")) }
                                td.num { (a.latency_ms) " ms" }
                                td { (a.error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
            div.actions {
                (control(csrf, back, &format!("/notifications/{}/redeliver", segment(&n.id)), "POST", html! {
                    button.redeliver type="submit" { "Redeliver now" }
                }))
                @if pending {
                    (control(csrf, back, &format!("/notifications/{}/cancel", segment(&n.id)), "POST", html! {
                        button.cancel type="submit" { "Cancel" }
                    }))
                }
                (control(csrf, back, "/clock/advance", "POST", html! {
                    input type="text" name="s.by" value="10m" size="6";
                    button.advance type="submit" { "Advance the clock" }
                }))
            }
        }
    }
}

/// How a slot of the schedule stands: `delivered`, `failed`, `next` (the attempt due next) or
/// `later`.
fn slot_state(attempt: Option<&Attempt>, is_next: bool) -> &'static str {
    match attempt {
        Some(a) if a.delivered => "delivered",
        Some(_) => "failed",
        None if is_next => "next",
        None => "later",
    }
}

// ------------------------------------------------------------------------------------------
// The journal
// ------------------------------------------------------------------------------------------

/// The journal page's filters (also the live feed's).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalQuery {
    endpoint: Option<String>,
    client_id: Option<String>,
    result_code: Option<String>,
    verdict: Option<String>,
    payment_id: Option<String>,
}

impl JournalQuery {
    /// The journal's filter.
    pub fn filter(&self) -> Filter {
        Filter {
            endpoint: given(&self.endpoint),
            client_id: given(&self.client_id),
            result_code: given(&self.result_code),
            payment_id: given(&self.payment_id),
            verdict: match given(&self.verdict).as_deref() {
                Some("valid") => Some(VerdictFilter::Valid),
                Some("refused") => Some(VerdictFilter::Refused),
                _ => None,
            },
            direction: None,
            limit: Some(JOURNAL_ROWS),
        }
    }

    fn query_string(&self) -> String {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("endpoint", &self.endpoint),
            ("clientId", &self.client_id),
            ("resultCode", &self.result_code),
            ("verdict", &self.verdict),
            ("paymentId", &self.payment_id),
        ] {
            if let Some(v) = given(value) {
                pairs.append_pair(name, &v);
            }
        }
        pairs.finish()
    }
}

/// `GET /dashboard/journal`.
pub async fn journal(
    State(dashboard): State<Dashboard>,
    Extension(visitor): Extension<Visitor>,
    Query(query): Query<JournalQuery>,
) -> Response {
    let entries = dashboard.app.journal.list(&query.filter());
    let mut endpoints: Vec<&str> = crate::protocol::Endpoint::ALL
        .iter()
        .map(|e| e.name())
        .collect();
    endpoints.push("unknown");
    let chosen = |v: &Option<String>, s: &str| given(v).as_deref() == Some(s);
    let body = html! {
        h1 { "Journal " span.live #live-state { "live" } }
        form.filters #journal-filters method="get" action="/dashboard/journal" {
            label { "API "
                select name="endpoint" {
                    option value="" { "any" }
                    @for e in &endpoints { option value=(e) selected[chosen(&query.endpoint, e)] { (e) } }
                }
            }
            label { "Client " input type="text" name="clientId" value=(query.client_id.clone().unwrap_or_default()) size="16"; }
            label { "Result code " input type="text" name="resultCode" value=(query.result_code.clone().unwrap_or_default()) size="18"; }
            label { "Verdict "
                select name="verdict" {
                    option value="" { "any" }
                    option value="valid" selected[chosen(&query.verdict, "valid")] { "valid" }
                    option value="refused" selected[chosen(&query.verdict, "refused")] { "refused" }
                }
            }
            label { "Payment id " input type="text" name="paymentId" value=(query.payment_id.clone().unwrap_or_default()) size="18"; }
            button type="submit" { "Filter" }
        }
        table #journal {
            thead { tr { th { "#" } th { "At" } th { "Direction" } th { "API" } th { "Client" } th { "Payment ids" } th { "Result" } th { "Verdict" } th { "Latency" } } }
            tbody #journal-rows data-live={ "/dashboard/journal/live?" (query.query_string()) } data-keep=(JOURNAL_ROWS) {
                @for e in &entries { (journal_row(e)) }
            }
        }
        @if entries.is_empty() { p.empty #journal-empty { "Nothing yet: requests appear here as they arrive." } }
    };
    page("Journal", "/dashboard/journal", visitor.csrf(), body)
}

/// `GET /dashboard/journal/{seq}`.
pub async fn entry(
    State(dashboard): State<Dashboard>,
    Extension(visitor): Extension<Visitor>,
    Path(seq): Path<u64>,
) -> Response {
    let Some(e) = dashboard.app.journal.get(seq) else {
        return view::failed(
            StatusCode::NOT_FOUND,
            &format!("journal entry #{seq} is not kept (any more)"),
            Some("/dashboard/journal"),
        );
    };
    let diagnosis = diagnosis::diagnose(&e.verdict, e.string_to_sign.as_deref());
    let body = html! {
        h1 { "Journal entry #" (e.seq) " " (badge(view::verdict_word(&e.verdict))) }
        dl.fields {
            dt { "At" } dd { (time(e.at_ms)) }
            dt { "Direction" } dd { (format!("{:?}", e.direction).to_lowercase()) }
            dt { "API" } dd { (e.endpoint) }
            dt { "Target" } dd { code { (e.target) } }
            dt { "Client-Id" } dd { (e.client_id.as_deref().unwrap_or("—")) }
            dt { "HTTP status" } dd { (e.http_status.map_or_else(|| "—".to_owned(), |s| s.to_string())) }
            dt { "Result" } dd { (e.result_status.as_deref().unwrap_or("—")) " " (e.result_code.as_deref().unwrap_or("")) }
            dt { "Latency" } dd { (format!("{:.1} ms", e.latency_ms)) }
            dt { "Verdict" } dd #verdict { (e.verdict) }
            @if let Some(rule) = &e.rule { dt { "Scenario" } dd { (rule) } }
            @if let Some(note) = &e.note { dt { "Note" } dd { (note) } }
            @if !e.payment_ids.is_empty() {
                dt { "Payments" }
                dd { @for id in &e.payment_ids { a href={ "/dashboard/payments/" (segment(id)) } { (id) } " " } }
            }
        }
        @if let Some(d) = &diagnosis {
            section.diagnosis #diagnosis {
                h2 { "Signature diagnosis: " span #mistake { (d.mistake.title()) } }
                p { (d.mistake.advice()) }
                @if let Some(verified) = &e.string_to_sign {
                    div.grid2 {
                        div {
                            h3 { "What the gateway verified" }
                            pre #verified { (visible(verified)) }
                        }
                        div {
                            h3 { "What the client probably signed" }
                            @match &d.probably_signed {
                                Some(signed) => { pre #probably-signed { (visible(signed)) } }
                                None => { p.empty { "The gateway cannot tell: compare this with the string your client signs." } }
                            }
                        }
                    }
                    p.hint { "↵ marks a line feed, ␍ a carriage return." }
                }
            }
        }
        section.grid2 {
            div { h2 { "Request body" } (view::pre(&e.request_body.text())) }
            div { h2 { "Response body" } (view::pre(&e.response_body.text())) }
        }
    };
    page(
        &format!("Journal #{seq}"),
        "/dashboard/journal",
        visitor.csrf(),
        body,
    )
}

// ------------------------------------------------------------------------------------------
// Rules and controls
// ------------------------------------------------------------------------------------------

/// An example rule for the form.
const RULE_EXAMPLE: &str = r#"{"name": "reject big amounts", "endpoint": "notifyPushPayment", "field": "paymentAmount.value", "equals": "999999", "result": {"code": "RISK_REJECT"}}"#;

/// `GET /dashboard/controls`.
pub async fn controls(
    State(dashboard): State<Dashboard>,
    Extension(visitor): Extension<Visitor>,
) -> Response {
    let app = &dashboard.app;
    let csrf = visitor.csrf();
    let back = "/dashboard/controls";
    let rules = app.scenarios.list();
    let received = app.store.received(None, 20).await.unwrap_or_default();
    let pending = app.store.pending_count().await.ok();
    let next_due = app.store.next_due_ms().await.ok().flatten();
    // The config file's clients and those registered at run time in the default namespace.
    let mut clients: Vec<_> = app
        .clients
        .config_clients()
        .values()
        .cloned()
        .chain(
            app.clients
                .run_time_in(crate::domain::namespace::DEFAULT_NAMESPACE)
                .into_iter()
                .map(|c| c.client),
        )
        .collect();
    clients.sort_by(|a, b| a.id.cmp(&b.id));
    let notify_urls = app.clients.notify_urls();
    let notify = &app.config.settings.notify;
    let body = html! {
        h1 { "Rules & controls" }
        section {
            h2 { "Scenario rules" }
            table #rules {
                thead { tr { th { "Id" } th { "Name" } th { "API" } th { "Rule" } th { "Hits" } th {} } }
                tbody {
                    @for rule in &rules {
                        tr.rule data-id=(rule.id) {
                            td { (rule.id) }
                            td { (rule.spec.name.as_deref().unwrap_or("")) }
                            td { (rule.spec.endpoint) }
                            td { code { (serde_json::to_string(&rule.spec).unwrap_or_default()) } }
                            td.num.hits { (rule.hits) }
                            td { (control(csrf, back, &format!("/rules/{}", segment(&rule.id)), "DELETE", html! {
                                button.remove type="submit" { "Remove" }
                            })) }
                        }
                    }
                    @if rules.is_empty() { tr { td.empty colspan="6" { "No rules: answers follow the convention and the header." } } }
                }
            }
            (control(csrf, back, "/rules", "POST", html! {
                label.block { "Add a rule (JSON, as " code { "POST /admin/rules" } " takes it)"
                    textarea #rule name="body" rows="3" cols="100" placeholder=(RULE_EXAMPLE) {}
                }
                button #add-rule type="submit" { "Add rule" }
            }))
        }
        section.grid2 {
            div {
                h2 { "Notification queue and clock" }
                dl.fields {
                    dt { "Now" } dd { (time(Utc::now().timestamp_millis())) }
                    dt { "Time scale" } dd { (notify.time_scale) "× (schedule time runs this much faster)" }
                    dt { "Pending notifications" } dd #queue-depth { (pending.map_or_else(|| "?".to_owned(), |p| p.to_string())) }
                    dt { "Next due" } dd { (next_due.map_or_else(|| "—".to_owned(), |d| format!("{} ({})", time(d), from_now(d)))) }
                    dt { "Sender" } dd { (if notify.enabled { "on" } else { "off" }) }
                }
                (control(csrf, back, "/clock/advance", "POST", html! {
                    input #advance-by type="text" name="s.by" value="10m" size="8";
                    button #advance type="submit" { "Advance the clock" }
                }))
            }
            div {
                h2 { "Store and clients" }
                dl.fields {
                    dt { "Store" } dd #backend { (app.store.backend()) }
                    dt { "Journal" } dd { (app.journal.len()) " entries kept" }
                }
                table.compact #clients {
                    thead { tr { th { "Client-Id" } th { "Key versions" } th { "APIs" } th { "Notify URL" } } }
                    tbody {
                        @for c in &clients {
                            tr {
                                td { (c.id) }
                                td { (c.keys.versions().join(", ")) }
                                td { (c.allowed.as_ref().map_or_else(|| "all".to_owned(), |a| {
                                    let mut names: Vec<&str> = a.iter().map(|e| e.name()).collect();
                                    names.sort_unstable();
                                    names.join(", ")
                                })) }
                                td { (notify_urls.get(&c.id).map_or("—", String::as_str)) }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "The gateway's notification receiver" }
            p { "Scripted failures left: " span #fail-next-left { (app.receiver.pending()) } }
            (control(csrf, back, "/receiver/fail-next", "POST", html! {
                label { "Fail the next " input #fail-count type="number" name="n.count" value="1" min="0" size="4"; }
                label { " answering " select name="s.resultStatus" { option value="U" { "U" } option value="F" { "F" } } }
                label { " with " input type="text" name="s.resultCode" placeholder="UNKNOWN_EXCEPTION" size="20"; }
                button #fail-next type="submit" { "Set" }
            }))
            table.compact #received {
                thead { tr { th { "At" } th { "Client" } th { "paymentRequestId" } th { "Verdict" } th { "Answered" } } }
                tbody {
                    @for r in &received {
                        tr {
                            td { (time(r.received_at_ms)) }
                            td { (r.client_id) }
                            td { (r.payment_request_id.as_deref().unwrap_or("—")) }
                            td { (r.verdict) }
                            td { (r.answered) }
                        }
                    }
                    @if received.is_empty() { tr { td.empty colspan="5" { "Nothing received." } } }
                }
            }
        }
        section {
            h2 { "Reset" }
            (control(csrf, back, "/reset", "POST", html! {
                button #reset.danger type="submit" data-confirm="Forget every payment, notification, journal entry and added rule?" { "Reset everything" }
            }))
        }
    };
    page("Rules & controls", "/dashboard/controls", csrf, body)
}
