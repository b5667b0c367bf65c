//! Just enough of the W3C WebDriver protocol to drive headless Chromium from a test: a
//! chromedriver process on a free port, one browser session, and the handful of commands the
//! dashboard tests use (go, find, click, type, read, screenshot), over plain HTTP and JSON.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian's `chromium` and `chromium-driver` packages put their binaries.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// chromedriver from `chromium-driver`.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Why the browser cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    let chromium = std::env::var("GATEWAY_TEST_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into());
    let driver = std::env::var("GATEWAY_TEST_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    [chromium, driver]
        .into_iter()
        .find(|p| !Path::new(p).exists())
        .map(|p| {
            format!(
                "needs headless Chromium: {p} is missing (apt-get install chromium chromium-driver; \
                 bash .ci/run installs them)"
            )
        })
}

/// A chromedriver process and one headless Chromium session. Dropping it ends both.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// An element on the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session on it.
    pub async fn start() -> Browser {
        let chromium: PathBuf = std::env::var("GATEWAY_TEST_CHROMIUM")
            .unwrap_or_else(|_| CHROMIUM.into())
            .into();
        let driver_path =
            std::env::var("GATEWAY_TEST_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(driver_path)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(answer) = ready
                && let Ok(status) = answer.json::<Value>().await
                && status["value"]["ready"] == true
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("a browser profile directory");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1400,1000",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args},
            }}}))
            .send()
            .await
            .expect("a browser session")
            .json()
            .await
            .expect("a WebDriver answer");
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{id}"),
            driver,
            _profile: profile,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a WebDriver answer");
        answer["value"].clone()
    }

    /// Opens `url` and waits for it to load.
    pub async fn go(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The page's URL.
    pub async fn url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML as the browser holds it now.
    pub async fn source(&self) -> String {
        self.command(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element `css` selects, if any.
    pub async fn find(&self, css: &str) -> Option<Element> {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT].as_str().map(|id| Element(id.to_owned()))
    }

    /// Waits up to `within` for an element `css` selects.
    pub async fn wait_for(&self, css: &str, within: Duration) -> Element {
        let deadline = Instant::now() + within;
        loop {
            if let Some(e) = self.find(css).await {
                return e;
            }
            assert!(
                Instant::now() < deadline,
                "no {css} on {} within {within:?}:\n{}",
                self.url().await,
                self.source().await
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The element `css` selects; fails the test when there is none.
    pub async fn get(&self, css: &str) -> Element {
        self.wait_for(css, Duration::from_secs(5)).await
    }

    /// Clicks it; answers the WebDriver error, if any.
    pub async fn click(&self, e: &Element) -> Option<String> {
        let answer = self
            .command(
                reqwest::Method::POST,
                &format!("/element/{}/click", e.0),
                Some(json!({})),
            )
            .await;
        answer["error"].as_str().map(str::to_owned)
    }

    /// Clicks what `css` selects, finding it again if the page replaced it meanwhile (the
    /// payment page refreshes its notification section every few seconds).
    pub async fn press(&self, css: &str) {
        let mut error = None;
        for _ in 0..5 {
            let e = self.get(css).await;
            error = self.click(&e).await;
            if error.is_none() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not click {css}: {error:?}");
    }

    /// Empties a field and types `text` into it.
    pub async fn type_into(&self, e: &Element, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.0),
            Some(json!({})),
        )
        .await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Its visible text.
    pub async fn text(&self, e: &Element) -> String {
        self.command(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// A PNG of the page as shown, saved to `path`.
    pub async fn screenshot(&self, path: &Path) {
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a base64 PNG"))
            .expect("base64");
        std::fs::write(path, bytes).expect("the screenshot is written");
    }
}

impl Browser {
    /// Closes the session, which ends Chromium.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver leads a process group of its own with the Chromium it started: ending
        // the group ends them all, even when a failed test never closed its session.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}
