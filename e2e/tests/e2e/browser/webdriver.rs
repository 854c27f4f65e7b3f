//! Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium through
//! `chromedriver`: sessions, navigation, elements, scripts, screenshots.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The key WebDriver names element references by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `chromedriver`, stopped on drop.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// Starts chromedriver on a free loopback port. Fails with what to do when
    /// Chromium is not installed (`scripts/test` installs it).
    pub async fn start() -> Driver {
        for (program, package) in [
            ("/usr/bin/chromium", "chromium"),
            ("/usr/bin/chromedriver", "chromium-driver"),
        ] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: the browser tests need Debian's {package} package (scripts/test installs it)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            let ready = reqwest::get(format!("{}/status", driver.url)).await;
            if let Ok(reply) = ready {
                if reply
                    .json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true)
                {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        driver
    }

    /// A new headless browser that saves downloads in `downloads`.
    pub async fn browser(&self, downloads: &Path) -> Browser {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                // The closed network refuses Chromium's background connections; these
                // keep it from trying (see the machine notes).
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,1000"],
                "prefs": {
                    "download.default_directory": downloads.to_str().unwrap(),
                    "download.prompt_for_download": false,
                    "safebrowsing.enabled": false
                }
            }
        }}});
        let client = reqwest::Client::new();
        let reply: Value = client
            .post(format!("{}/session", self.url))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = reply["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {reply}"))
            .to_owned();
        Browser {
            client,
            base: format!("{}/session/{session}", self.url),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
pub struct Browser {
    client: reqwest::Client,
    base: String,
}

/// An element on the current page.
#[derive(Clone)]
pub struct Element(String);

impl Element {
    /// Its WebDriver reference, for passing it to scripts.
    pub fn id(&self) -> &str {
        &self.0
    }
}

impl Browser {
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.unwrap().json().await.unwrap();
        if reply["value"]["error"].is_string() {
            panic!("WebDriver {method} {path}: {}", reply["value"]);
        }
        reply["value"].clone()
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The current page's title.
    pub async fn title(&self) -> String {
        self.command(reqwest::Method::GET, "/title", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The visible text of the whole page.
    pub async fn text(&self) -> String {
        let body = self.find("body").await;
        self.text_of(&body).await
    }

    /// The first element matching a CSS selector (panics if there is none).
    pub async fn find(&self, css: &str) -> Element {
        let value = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        Element(
            value[ELEMENT]
                .as_str()
                .unwrap_or_else(|| panic!("no element {css}"))
                .to_owned(),
        )
    }

    /// How many elements match a CSS selector.
    pub async fn count(&self, css: &str) -> usize {
        let value = self
            .command(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        value.as_array().map_or(0, Vec::len)
    }

    /// Types `text` into an element, as keystrokes.
    pub async fn type_into(&self, element: &Element, text: &str) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Clears an input.
    pub async fn clear(&self, element: &Element) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/clear", element.0),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks an element (and waits for a navigation it starts).
    pub async fn click(&self, element: &Element) {
        self.command(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            Some(json!({})),
        )
        .await;
    }

    /// Clicks a submit button and waits until the next page has loaded (a refused form
    /// answers at the same URL, so the URL cannot tell).
    pub async fn submit(&self, button: &Element) {
        self.script("window.__guildmarkOldPage = true;", json!([]))
            .await;
        self.click(button).await;
        let started = Instant::now();
        loop {
            let loaded = self
                .script(
                    "return window.__guildmarkOldPage === undefined && document.readyState === 'complete';",
                    json!([]),
                )
                .await;
            if loaded == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the form's answer did not load"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An element's visible text.
    pub async fn text_of(&self, element: &Element) -> String {
        self.command(
            reqwest::Method::GET,
            &format!("/element/{}/text", element.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// An element's property (e.g. `value`).
    pub async fn property(&self, element: &Element, name: &str) -> Value {
        self.command(
            reqwest::Method::GET,
            &format!("/element/{}/property/{name}", element.0),
            None,
        )
        .await
    }

    /// Runs a script in the page.
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Resizes the window (e.g. to a phone's size).
    pub async fn set_window(&self, width: u32, height: u32) {
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Forgets every cookie (signs out without the form).
    pub async fn clear_cookies(&self) {
        self.command(reqwest::Method::DELETE, "/cookie", None).await;
    }

    /// Saves a PNG screenshot of the page.
    pub async fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, bytes).unwrap();
    }

    /// Runs `condition` (a script returning a value) until it is truthy; returns it.
    pub async fn wait_for(&self, condition: &str, what: &str) -> Value {
        let started = Instant::now();
        loop {
            let value = self.script(condition, json!([])).await;
            if !(value.is_null() || value == json!(false) || value == json!("")) {
                return value;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "waited 30 s for {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's in-browser verifier module has loaded (and says if it failed).
    pub async fn wait_for_verifier(&self) {
        let state = self
            .wait_for(
                "return document.documentElement.dataset.verifier;",
                "the in-browser verifier to load",
            )
            .await;
        assert_eq!(state, json!("ready"), "the verifier failed to start");
    }

    /// Cuts the browser off the network (Chromium's network emulation), or reconnects it.
    pub async fn set_offline(&self, offline: bool) {
        self.command(
            reqwest::Method::POST,
            "/chromium/network_conditions",
            Some(json!({"network_conditions": {
                "offline": offline, "latency": 0,
                "download_throughput": -1, "upload_throughput": -1
            }})),
        )
        .await;
    }

    /// Ends the session.
    pub async fn quit(self) {
        let _ = self.client.delete(&self.base).send().await;
    }
}
