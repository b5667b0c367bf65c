//! The dashboard: who may open it, that it escapes what requests carry, that its controls go
//! through the admin API, and, in headless Chromium driven over WebDriver, the whole tour: sign
//! in, a pushed payment appears, a failing notification's attempts appear on its timeline as
//! the clock is advanced, it is redelivered from the page, a bad signature's diagnosis is read
//! from the live journal, a rule added from the page fires.
//!
//! The browser test needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium`
//! and `chromium-driver`; `bash .ci/run` installs them) and says SKIPPED without them.
//! `GATEWAY_SCREENSHOTS=docs/screenshots cargo test --test dashboard` also saves the README's
//! screenshots there.

#[path = "../api/helpers/mod.rs"]
#[expect(
    dead_code,
    reason = "the API suite's helpers, of which the dashboard tests use a part"
)]
mod helpers;
mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use helpers::{
    ADMIN_TOKEN, Answer, Key, MERCHANT, TestApp, TestReceiver, paths, spawn_app, spawn_app_with,
    unique_id,
};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use webdriver::Browser;

// ------------------------------------------------------------------------------------------
// Over plain HTTP
// ------------------------------------------------------------------------------------------

/// An HTTP client that shows redirects instead of following them.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client")
}

/// A URL-encoded form body, as a browser posts it.
trait FormBody {
    fn form_body(self, pairs: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body(self, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        self.header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    }
}

/// A signed-in browser's cookie and the CSRF token its pages carry.
struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &TestApp) -> Session {
    let answer = http()
        .post(format!("{}/dashboard/login", app.address))
        .form_body(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let set_cookie = answer.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let page = http()
        .get(format!("{}/dashboard/controls", app.address))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token in the page's forms")
        .to_owned();
    Session { cookie, csrf }
}

/// A dashboard page read with the admin token.
async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let answer = http()
        .get(format!("{}{path}", app.address))
        .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    (answer.status(), answer.text().await.unwrap())
}

#[tokio::test]
async fn the_dashboard_opens_only_with_the_admin_token_in_an_http_only_same_site_strict_cookie() {
    let app = spawn_app().await;

    let anonymous = http()
        .get(format!("{}/dashboard/payments", app.address))
        .send()
        .await
        .unwrap();
    let wrong = http()
        .post(format!("{}/dashboard/login", app.address))
        .form_body(&[("token", "not-the-token")])
        .send()
        .await
        .unwrap();
    let right = http()
        .post(format!("{}/dashboard/login", app.address))
        .form_body(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    let (bearer, _) = page(&app, "/dashboard/payments").await;

    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/dashboard/login");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    let cookie = right.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert_eq!(bearer, StatusCode::OK);
}

#[tokio::test]
async fn the_dashboard_is_off_when_the_admin_api_is_off() {
    let app = spawn_app_with(|s| s.admin.token = String::new()).await;

    let (_, body) = page(&app, "/dashboard/payments").await;
    let login = http()
        .get(format!("{}/dashboard/login", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(!body.contains("<html"), "{body}");
    assert!(body.contains("NO_INTERFACE_DEF"), "{body}");
    assert!(login.contains("NO_INTERFACE_DEF"), "{login}");
}

#[tokio::test]
async fn a_control_from_a_session_needs_its_csrf_token() {
    let app = spawn_app().await;
    let session = sign_in(&app).await;
    let advance = |csrf: Option<&str>| {
        let mut form = vec![("s.by", "1m"), ("back", "/dashboard/controls")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        http()
            .post(format!("{}/dashboard/admin/clock/advance", app.address))
            .header(COOKIE, &session.cookie)
            .form_body(&form)
            .send()
    };

    let without = advance(None).await.unwrap();
    let forged = advance(Some("0000")).await.unwrap();
    let with = advance(Some(&session.csrf)).await.unwrap();

    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(with.status(), StatusCode::SEE_OTHER);
    assert_eq!(with.headers()[LOCATION], "/dashboard/controls");
}

#[tokio::test]
async fn a_control_goes_through_the_admin_api_and_shows_its_refusal() {
    let app = spawn_app().await;
    let rid = unique_id("DASH-DONE-");
    app.seed_payment(json!({"paymentRequestId": rid, "status": "SUCCESS"}))
        .await;

    let again = http()
        .post(format!(
            "{}/dashboard/admin/payments/{rid}/complete",
            app.address
        ))
        .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .form_body(&[("back", "/dashboard/payments")])
        .send()
        .await
        .unwrap();
    let status = again.status();
    let body = again.text().await.unwrap();

    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("is already final (SUCCESS)"), "{body}");
}

#[tokio::test]
async fn a_script_in_a_request_or_a_payment_renders_as_text() {
    let app = spawn_app().await;
    let script = "<script>alert(1)</script>";
    let rid = unique_id("DASH-XSS-");
    app.seed_payment(json!({"paymentRequestId": rid, "customerId": script}))
        .await;
    app.post_signed(
        paths::INQUIRY_PAYMENT,
        json!({"paymentRequestId": rid, "acquirerId": script}),
    )
    .await;
    let entries = app.admin().journal_entries("inquiryPayment").await;
    let seq = entries[0]["seq"].as_u64().unwrap();

    let (_, entry) = page(&app, &format!("/dashboard/journal/{seq}")).await;
    let (_, journal) = page(&app, "/dashboard/journal").await;
    let (_, payment) = page(&app, &format!("/dashboard/payments/{rid}")).await;

    for html in [&entry, &payment] {
        assert!(!html.contains(script), "unescaped: {html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }
    assert!(!journal.contains(script));
}

#[tokio::test]
async fn the_payments_list_filters_by_status_and_client_and_finds_any_id() {
    let app = spawn_app().await;
    let done = unique_id("DASH-S-");
    let open = unique_id("DASH-P-");
    app.seed_payment(json!({"paymentRequestId": done, "paymentId": format!("PID-{done}"), "status": "SUCCESS", "clientId": MERCHANT}))
        .await;
    app.seed_payment(json!({"paymentRequestId": open})).await;

    let (_, succeeded) = page(&app, "/dashboard/payments?status=SUCCESS").await;
    let (_, of_merchant) = page(&app, &format!("/dashboard/payments?client={MERCHANT}")).await;
    let (_, by_payment_id) = page(&app, &format!("/dashboard/payments?q=PID-{done}")).await;

    assert!(succeeded.contains(&done) && !succeeded.contains(&open));
    assert!(of_merchant.contains(&done) && !of_merchant.contains(&open));
    assert!(by_payment_id.contains(&done) && !by_payment_id.contains(&open));
}

// ------------------------------------------------------------------------------------------
// In a real browser
// ------------------------------------------------------------------------------------------

/// Where to save the README's screenshots, when asked to.
fn screenshots() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("GATEWAY_SCREENSHOTS")?);
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    Some(dir)
}

async fn snap(browser: &Browser, name: &str) {
    if let Some(dir) = screenshots() {
        browser.screenshot(&dir.join(format!("{name}.png"))).await;
    }
}

/// A few payments in every state, so the list looks like a day's work.
async fn some_payments(app: &TestApp) {
    for (i, (status, value)) in [
        ("SUCCESS", "1999"),
        ("PROCESSING", "4500"),
        ("FAIL", "120"),
        ("SUCCESS", "88000"),
        ("PROCESSING", "650"),
    ]
    .into_iter()
    .enumerate()
    {
        app.seed_payment(json!({
            "paymentRequestId": unique_id(&format!("order-{i}-")),
            "status": status,
            "paymentAmount": {"currency": "USD", "value": value},
            "clientId": MERCHANT,
        }))
        .await;
    }
}

const SOON: Duration = Duration::from_secs(15);

#[tokio::test]
async fn in_a_browser_payments_timelines_the_journal_and_rules_show_and_act() {
    if let Some(why) = webdriver::missing() {
        helpers::skip::skipped("dashboard::in_a_browser", &why);
        return;
    }
    // Arrange: a merchant webhook that asks for a retry, a gateway on its real schedule.
    let merchant = TestReceiver::start().await;
    merchant.answer_always(Answer::Unknown);
    let app = spawn_app().await;
    some_payments(&app).await;
    let rid = unique_id("order-pushed-");
    app.seed_payment(json!({
        "paymentRequestId": rid,
        "paymentAmount": {"currency": "USD", "value": "12500"},
        "clientId": MERCHANT,
        "notifyUrl": merchant.url(),
    }))
    .await;
    let browser = Browser::start().await;
    let base = &app.address;

    // Sign in.
    browser.go(&format!("{base}/dashboard/payments")).await;
    assert!(browser.url().await.ends_with("/dashboard/login"));
    browser
        .type_into(&browser.get("#token").await, ADMIN_TOKEN)
        .await;
    browser.press("#sign-in").await;
    browser.get("#payment-filters").await;

    // A payment pushed by a signed request appears in the list.
    let pushed = app
        .post_signed(
            paths::NOTIFY_PUSH_PAYMENT,
            json!({
                "paymentResult": {"resultCode": "SUCCESS", "resultStatus": "S", "resultMessage": "success"},
                "paymentRequestId": rid,
                "paymentId": unique_id("2026120400"),
                "paymentTime": "2026-12-04T12:01:01+08:00",
            }),
        )
        .await;
    assert_eq!(pushed.json["result"]["resultStatus"], "S", "{pushed:?}");
    browser.go(&format!("{base}/dashboard/payments")).await;
    let link = format!("#payments a[href$=\"{rid}\"]");
    browser.get(&link).await;
    snap(&browser, "payments").await;
    browser.press(&link).await;

    // Its notification fails at 0s; advancing the clock brings attempt 2 onto the timeline.
    browser.get("#payment-id").await;
    browser
        .wait_for("li.slot.failed[data-attempt=\"1\"]", SOON)
        .await;
    browser.press("button.advance").await;
    browser
        .wait_for("li.slot.failed[data-attempt=\"2\"]", SOON)
        .await;

    // Redelivered from the page once the merchant is fixed, it is delivered.
    merchant.answer_always(Answer::Success);
    browser.press("button.redeliver").await;
    browser
        .wait_for(
            ".notification[data-status=\"DELIVERED\"] li.slot.delivered",
            SOON,
        )
        .await;
    snap(&browser, "payment").await;

    // The journal is live: a request with a bad signature appears without a reload.
    browser
        .go(&format!("{base}/dashboard/journal?endpoint=inquiryPayment"))
        .await;
    browser.wait_for("#live-state.on", SOON).await;
    let forged = app
        .post(
            paths::INQUIRY_PAYMENT,
            json!({"paymentRequestId": rid, "acquirerId": "1022188000000000001"}),
        )
        .signed_with(Key::Other)
        .send()
        .await;
    assert_eq!(forged.json["result"]["resultCode"], "INVALID_SIGNATURE");
    browser.wait_for("tr.entry.refused a", SOON).await;
    browser.press("tr.entry.refused a").await;
    let mistake = browser.get("#mistake").await;
    assert_eq!(browser.text(&mistake).await, "Wrong key");
    browser.get("#verified").await;
    browser.get("#probably-signed").await;
    snap(&browser, "signature").await;
    browser.go(&format!("{base}/dashboard/journal")).await;
    browser.get("tr.entry").await;
    snap(&browser, "journal").await;

    // A rule added from the page fires.
    browser.go(&format!("{base}/dashboard/controls")).await;
    browser
        .type_into(
            &browser.get("#rule").await,
            r#"{"name": "balance too low", "endpoint": "inquiryPayment", "field": "paymentRequestId", "equals": "order-rule", "payment_result": "USER_BALANCE_NOT_ENOUGH"}"#,
        )
        .await;
    browser.press("#add-rule").await;
    browser.get("tr.rule").await;
    let inquiry = app
        .post_signed(
            paths::INQUIRY_PAYMENT,
            json!({"paymentRequestId": "order-rule", "acquirerId": "1022188000000000001", "pspId": "1022172000000000001"}),
        )
        .await;
    assert_eq!(
        inquiry.json["paymentResult"]["resultCode"], "USER_BALANCE_NOT_ENOUGH",
        "{inquiry:?}"
    );
    browser.go(&format!("{base}/dashboard/controls")).await;
    let hits = browser.get("tr.rule td.hits").await;
    assert_eq!(browser.text(&hits).await, "1");
    snap(&browser, "controls").await;

    browser.quit().await;
}
