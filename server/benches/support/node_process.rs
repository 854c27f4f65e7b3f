//! Starting the real `guildmark serve` binary for a benchmark (shared by the benches
//! that drive a node over HTTP).

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

/// A node on a fresh data directory and a loopback port; stopped on drop.
pub struct NodeProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    _data: tempfile::TempDir,
}

/// Starts `guildmark serve` on `data` with `extra` arguments; the child and its URL.
fn spawn(data: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guildmark"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .env("GUILDMARK_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the node");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map(|l| l.unwrap())
        .find_map(|l| {
            l.strip_prefix("listening on ")
                .map(|r| r.split_whitespace().next().unwrap().to_owned())
        })
        .expect("the node's address");
    // Keep draining stdout so the node never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

impl NodeProcess {
    /// Starts `guildmark serve` with `extra` arguments (e.g. `--demo`).
    pub fn start(extra: &[&str]) -> NodeProcess {
        let data = tempfile::tempdir().unwrap();
        let (child, base) = spawn(&data.path().join("data"), extra);
        NodeProcess {
            child,
            base,
            _data: data,
        }
    }

    /// The node's process id.
    #[allow(dead_code)] // not every bench looks at it
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The node's data directory.
    #[allow(dead_code)]
    pub fn data(&self) -> std::path::PathBuf {
        self._data.path().join("data")
    }

    /// Stops the node with SIGTERM and starts it again on the same data directory.
    #[allow(dead_code)]
    pub fn restart(&mut self, extra: &[&str]) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        let (child, base) = spawn(&self.data(), extra);
        self.child = child;
        self.base = base;
    }
}

/// An API token for an account (session, then a token made with the session's CSRF).
#[allow(dead_code)]
pub async fn token(client: &reqwest::Client, base: &str, username: &str, password: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let session: serde_json::Value = response.json().await.unwrap();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/me/tokens"))
        .header("cookie", cookie)
        .header("x-csrf-token", session["csrfToken"].as_str().unwrap())
        .json(&serde_json::json!({"name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["token"].as_str().unwrap().to_owned()
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
