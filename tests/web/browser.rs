//! `Browser`: headless Chromium driven through `chromedriver` (WebDriver, via fantoccini), for tests that
//! need a real browser: scripts, layout on a phone-sized screen, localStorage drafts.
//!
//! Each `Browser` starts its own `chromedriver` on a free port in its own process group, with a fresh
//! profile directory, and kills the whole group when dropped. At most one browser runs at a time in this
//! test binary (the machine is small). When Chromium or chromedriver is missing, [`Browser::start`] prints
//! a skip message and returns `None`, unless `WENJI_REQUIRE_BROWSER=1` (set in CI), where it panics.
//!
//! ```ignore
//! let Some(b) = Browser::start(390, 844).await else { return };
//! b.goto(&app.url("/f/zhengqiu")).await;
//! b.fill("textarea[name=q_team]", "意见").await;
//! b.click("button.submit").await;
//! assert_eq!(b.text("#receipt-code").await.len(), 12);
//! ```

#![allow(dead_code)]

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Chromium flags for a quiet, reproducible headless run (no network calls of its own).
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--lang=zh-CN",
];

/// One browser at a time in this process.
static SLOT: Semaphore = Semaphore::const_new(1);

/// A headless Chromium session with a phone- or desk-sized viewport.
pub struct Browser {
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
    _slot: SemaphorePermit<'static>,
}

fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn browser_required() -> bool {
    std::env::var("WENJI_REQUIRE_BROWSER").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium whose viewport is `width`×`height` CSS pixels, emulating
    /// a touch phone when `width < 800` (so `<meta name=viewport>` applies as on a real phone).
    ///
    /// Returns `None` (after printing why) when Chromium or chromedriver is not installed and
    /// `WENJI_REQUIRE_BROWSER` is unset. Override the programs with `WENJI_CHROMIUM` / `WENJI_CHROMEDRIVER`.
    pub async fn start(width: u32, height: u32) -> Option<Browser> {
        let chromium = find_program("WENJI_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
        let driver = find_program("WENJI_CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            let msg = "Chromium or chromedriver not found (apt-get install chromium chromium-driver)";
            assert!(!browser_required(), "{msg}, and WENJI_REQUIRE_BROWSER is set");
            // Written past the test harness's output capture, so the skip shows in a normal `cargo test`.
            let line = format!("SKIPPED browser test: {msg}; set WENJI_REQUIRE_BROWSER=1 to make this a failure\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            return None;
        };
        let slot = SLOT.acquire().await.expect("the browser semaphore is never closed");
        let profile = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::env::temp_dir().join(format!("wenji-chromedriver-{port}.log"));
        let mut cmd = Command::new(&driver);
        cmd.arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let mut browser = Browser { client: None, driver: child, _profile: profile, _slot: slot };
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_until_ready(&endpoint).await;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", browser._profile.path().display()));
        args.push(format!("--window-size={width},{height}"));
        let mut options = json!({ "binary": chromium.display().to_string(), "args": args });
        if width < 800 {
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0, "mobile": true, "touch": true }
            });
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "unhandledPromptBehavior": "accept",
            "pageLoadStrategy": "normal",
        });
        let serde_json::Value::Object(caps) = caps else { unreachable!() };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&endpoint)
            .await
            .unwrap_or_else(|e| panic!("chromedriver did not start Chromium (see {}): {e}", log.display()));
        browser.client = Some(client);
        if width >= 800 {
            browser.c().set_window_size(width, height).await.unwrap();
        }
        Some(browser)
    }

    /// The WebDriver client, for anything the helpers below do not cover.
    pub fn c(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.c().goto(url).await.unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// Reloads the current page.
    pub async fn reload(&self) {
        self.c().refresh().await.unwrap();
    }

    pub async fn current_url(&self) -> String {
        self.c().current_url().await.unwrap().to_string()
    }

    /// The first element matching `css`, waiting up to 5 s for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        self.c()
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?}: {e}"))
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.c().find_all(Locator::Css(css)).await.unwrap()
    }

    /// Clears the field matching `css` and types `text` into it, as a person would (real key events).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        el.clear().await.unwrap();
        el.send_keys(text).await.unwrap_or_else(|e| panic!("typing into {css:?}: {e}"));
    }

    /// Types keys into the element matching `css` without clearing it; special keys are
    /// `fantoccini::key::Key` values turned into a string (e.g. `&Key::Enter.to_string()`).
    pub async fn press(&self, css: &str, keys: &str) {
        self.find(css).await.send_keys(keys).await.unwrap();
    }

    /// Clicks (taps) the element matching `css`, after scrolling it into view.
    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.c().execute("arguments[0].scrollIntoView({block:'center'})", vec![json!(el)]).await.unwrap();
        el.click().await.unwrap_or_else(|e| panic!("clicking {css:?}: {e}"));
    }

    /// Clicks the submit button matching `css` and waits until the browser has left the current page.
    pub async fn click_and_wait_for_navigation(&self, css: &str) {
        let before = self.current_url().await;
        self.click(css).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.current_url().await == before {
            assert!(Instant::now() < deadline, "clicking {css:?} did not leave {before}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.c().wait().for_element(Locator::Css("body")).await.unwrap();
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// The current value of the form field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        self.find(css).await.prop("value").await.unwrap().unwrap_or_default()
    }

    pub async fn is_checked(&self, css: &str) -> bool {
        self.find(css).await.is_selected().await.unwrap()
    }

    /// Runs `script` (a function body; use `return`) in the page and returns its result.
    pub async fn js(&self, script: &str) -> Value {
        self.c().execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Saves a PNG screenshot of the viewport to `path` and returns the path.
    pub async fn screenshot(&self, path: impl AsRef<Path>) -> PathBuf {
        let png = self.c().screenshot().await.unwrap();
        std::fs::write(path.as_ref(), png).unwrap();
        path.as_ref().to_owned()
    }

    /// Saves a PNG of the whole page, beyond the viewport, to `path` and returns the path.
    pub async fn screenshot_full(&self, path: impl AsRef<Path>) -> PathBuf {
        let shot = self.cdp("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true })).await;
        let data = shot["data"].as_str().expect("a screenshot");
        let png = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).unwrap();
        std::fs::write(path.as_ref(), png).unwrap();
        path.as_ref().to_owned()
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver and returns its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.c().issue_cmd(Cdp { cmd: cmd.to_owned(), params }).await.unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
    }

    /// Ends the session (closes Chromium) and stops chromedriver.
    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

/// chromedriver's `goog/cdp/execute` extension command.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }
    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

async fn wait_until_ready(endpoint: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client.get(format!("{endpoint}/status")).send().await
            && let Ok(v) = r.json::<Value>().await
            && v["value"]["ready"] == true
        {
            return;
        }
        assert!(Instant::now() < deadline, "chromedriver at {endpoint} did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Kill chromedriver's whole process group (it and the Chromium it started), then reap it.
        let pgid = self.driver.id();
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pgid}")]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
