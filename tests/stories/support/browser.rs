//! Real-browser stories: Debian's Chromium driven through chromedriver (WebDriver) by
//! fantoccini. Every page a story reaches is checked at phone (390×844) and desktop
//! (1366×768) width: nothing may scroll sideways and axe-core must find no violation.
//! Screenshots of each step go to `target/screenshots/`.
//!
//! chromedriver and Chromium come from Debian's `chromium-driver` and `chromium` packages,
//! axe-core from the npm registry into `target/axe/` (`.ci/run` installs all three; the
//! stories install axe-core themselves where npm is available). A browser that cannot
//! start fails the story: it is never skipped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::TestApp;
use super::process::{detached_shell, free_port, shell_quote};

pub const PHONE: (u32, u32) = (390, 844);
pub const DESKTOP: (u32, u32) = (1366, 768);
const AXE_VERSION: &str = "4.10.3";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver, started once for the whole test process; its URL.
fn driver() -> &'static Result<String, String> {
    static DRIVER: OnceLock<Result<String, String>> = OnceLock::new();
    DRIVER.get_or_init(start_driver)
}

fn start_driver() -> Result<String, String> {
    let program = find_program(&["chromedriver"]).ok_or(
        "chromedriver is not installed (Debian: apt-get install chromium chromium-driver)",
    )?;
    let port = free_port()?;
    // Started by a detached shell that stops it when the tests end.
    detached_shell(&format!(
        "{} --port={port} --allowed-ips=127.0.0.1 >/dev/null 2>&1 & driver=$!; \
         while kill -0 {pid} 2>/dev/null; do sleep 1; done; kill $driver",
        shell_quote(&program.display().to_string()),
        pid = std::process::id(),
    ))
    .map_err(|e| format!("cannot start chromedriver: {e}"))?;
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!("chromedriver did not listen on port {port}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(format!("http://127.0.0.1:{port}"))
}

/// The axe-core script, installed into `target/axe/` from the npm registry when missing.
fn axe_source() -> &'static Result<String, String> {
    static AXE: OnceLock<Result<String, String>> = OnceLock::new();
    AXE.get_or_init(|| {
        let dir = manifest_dir().join("target").join("axe");
        let file = dir.join("node_modules/axe-core/axe.min.js");
        if !file.is_file() {
            let npm = find_program(&["npm"])
                .ok_or("axe-core is not in target/axe and npm is not installed")?;
            let status = std::process::Command::new(npm)
                .args([
                    "install",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                ])
                .arg(&dir)
                .arg(format!("axe-core@{AXE_VERSION}"))
                .stdout(std::process::Stdio::null())
                .status()
                .map_err(|e| format!("npm install axe-core: {e}"))?;
            if !status.success() {
                return Err(format!("npm install axe-core failed: {status}"));
            }
        }
        std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))
    })
}

fn chromium() -> Result<PathBuf, String> {
    find_program(&["chromium", "chromium-browser", "google-chrome"])
        .ok_or_else(|| "Chromium is not installed (Debian: apt-get install chromium)".into())
}

/// A browser window on the app, for one story.
pub struct Browser {
    client: Client,
    base: String,
    story: String,
    step: u32,
}

impl Browser {
    pub async fn open(app: &TestApp, story: &str) -> Self {
        let driver = driver()
            .as_ref()
            .unwrap_or_else(|e| panic!("the browser cannot start: {e}"));
        let binary = chromium().unwrap_or_else(|e| panic!("the browser cannot start: {e}"));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": binary.display().to_string(),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--hide-scrollbars",
                         format!("--window-size={},{}", DESKTOP.0, DESKTOP.1)]
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!("capabilities are an object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(driver)
            .await
            .unwrap_or_else(|e| panic!("the browser cannot start: {e}"));
        Self {
            client,
            base: app.url.clone(),
            story: format!("{story}-{:?}", app.backend).to_lowercase(),
            step: 0,
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.client.goto(&url).await.expect("navigate");
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} on the page: {e}"))
            .text()
            .await
            .expect("text")
    }

    async fn script(&self, js: &str) -> Value {
        self.client.execute(js, Vec::new()).await.expect("script")
    }

    /// The page as people see it: at phone and desktop width no horizontal scrolling and
    /// no axe-core violation; a screenshot of each.
    pub async fn check(&mut self, what: &str) {
        self.step += 1;
        for (w, h) in [PHONE, DESKTOP] {
            self.client
                .set_window_size(w, h)
                .await
                .expect("window size");
            let overflow = self
                .script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                )
                .await;
            assert!(
                overflow.as_i64().unwrap_or(0) <= 0,
                "{what} at {w}px scrolls sideways by {overflow}px"
            );
            let violations = self.axe().await;
            assert!(
                violations.is_empty(),
                "{what} at {w}px: axe-core finds {violations:#?}"
            );
            self.screenshot(&format!("{:02}-{what}-{w}", self.step))
                .await;
        }
    }

    async fn axe(&self) -> Vec<String> {
        let source = axe_source()
            .as_ref()
            .unwrap_or_else(|e| panic!("axe-core is not available: {e}"));
        let injected = self
            .script("return typeof window.axe !== 'undefined';")
            .await;
        if injected != Value::Bool(true) {
            self.client
                .execute(source, Vec::new())
                .await
                .expect("axe-core loads");
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] })
                   .then(r => done({ passes: r.passes.length, violations: r.violations.map(v =>
                        v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')) }))
                   .catch(e => done({ passes: 0, violations: ['axe failed: ' + e] }));",
                Vec::new(),
            )
            .await
            .expect("axe-core runs");
        // A run that passed no rule did not look at the page.
        assert!(
            result["passes"].as_u64().unwrap_or(0) > 0,
            "axe-core checked nothing: {result}"
        );
        result["violations"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = manifest_dir().join("target").join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self.client.screenshot().await.expect("screenshot");
        let file: PathBuf = dir.join(format!("{}-{name}.png", self.story));
        std::fs::write(Path::new(&file), png).expect("screenshot saved");
    }

    /// Keyboard only: Tab until the element matching `css` has focus (failing after
    /// `limit` presses), then press `key` (Enter or Space) on it.
    pub async fn tab_to_and_press(&self, css: &str, key: Key) {
        self.tab_to(css).await;
        self.press(key).await;
    }

    pub async fn tab_to(&self, css: &str) {
        let probe = format!(
            "return document.activeElement && document.activeElement.matches({});",
            json!(css)
        );
        for _ in 0..80 {
            if self.script(&probe).await == Value::Bool(true) {
                return;
            }
            self.press(Key::Tab).await;
        }
        panic!("{css} is not reachable with Tab");
    }

    pub async fn press(&self, key: Key) {
        let focused = self.client.active_element().await.expect("focus");
        focused
            .send_keys(&char::from(key).to_string())
            .await
            .expect("key");
    }

    /// Types into the focused element.
    pub async fn type_text(&self, text: &str) {
        let focused = self.client.active_element().await.expect("focus");
        focused.send_keys(text).await.expect("typing");
    }

    /// With a select focused, presses ArrowDown until its option `label` is chosen.
    pub async fn choose_with_arrows(&self, label: &str) {
        let probe = "const s = document.activeElement; return s.options[s.selectedIndex].text;";
        for _ in 0..40 {
            if self.script(probe).await.as_str() == Some(label) {
                return;
            }
            self.press(Key::Down).await;
        }
        panic!("{label} is not an option of the focused select");
    }

    /// Waits until `js` (an expression) is true: for lists that fill in from the API.
    pub async fn wait_until(&self, js: &str) {
        let probe = format!("return !!({js});");
        let started = Instant::now();
        while self.script(&probe).await != Value::Bool(true) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "waited for {js}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
