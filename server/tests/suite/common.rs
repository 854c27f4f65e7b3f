//! Running the real `guildmark` binary, and paths shared by the tests. Shared with the
//! `e2e` crate's tests (included there by path).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The real `guildmark` executable: the one cargo built for this package's tests, or
/// for tests of another package (`e2e`), the one in this build's target directory
/// (`cargo test --workspace` builds it), rebuilt first if it is missing or older than
/// the sources it is made of.
pub fn bin() -> PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_guildmark") {
        return PathBuf::from(path);
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // target/<profile>/deps/<test binary> → target/<profile>/guildmark
            let exe = std::env::current_exe().unwrap();
            let binary = exe
                .parent()
                .and_then(Path::parent)
                .unwrap()
                .join("guildmark");
            let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
            let built = std::fs::metadata(&binary).and_then(|m| m.modified()).ok();
            let sources = [
                "server/src",
                "credentials/src",
                "review-protocols/src",
                "frontend/src",
                // The in-browser verifier the node embeds.
                "browser-verifier/pkg",
                "Cargo.lock",
            ]
            .iter()
            .filter_map(|dir| newest(&repo.join(dir)))
            .max();
            if built.is_none() || sources > built {
                let mut build =
                    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
                build
                    .args([
                        "build",
                        "--quiet",
                        "-p",
                        "guildmark-server",
                        "--bin",
                        "guildmark",
                    ])
                    .current_dir(&repo);
                if !cfg!(debug_assertions) {
                    build.arg("--release");
                }
                let status = build.status().expect("cargo build the guildmark binary");
                assert!(status.success(), "building the guildmark binary failed");
            }
            binary
        })
        .clone()
}

/// The newest modification time of a file, or of any file under a directory.
fn newest(path: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|entry| newest(&entry.ok()?.path()))
        .max()
}

/// `testdata/` at the repository root: the standards' vectors (sources in its README.md).
pub fn vectors() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata"))
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, printing both streams if it differs.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `guildmark ARGS` in `dir`, with `stdin` as standard input.
pub fn guildmark(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut command = Command::new(bin());
    command
        .args(args)
        .current_dir(dir)
        .env_remove("GUILDMARK_CONTEXTS")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run guildmark");
    if let Some(input) = stdin {
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    Run::from(child.wait_with_output().unwrap())
}

/// A `guildmark serve` process on a loopback port, with its data directory.
pub struct Server {
    child: Option<std::process::Child>,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// What the server printed at startup.
    pub banner: String,
    data: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a node on a fresh data directory.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server::start_in(&dir.path().join("data"), extra);
        server._dir = Some(dir);
        server
    }

    /// Starts a node on `data`.
    pub fn start_in(data: &Path, extra: &[&str]) -> Server {
        use std::io::BufRead as _;
        let mut child = Command::new(bin())
            .arg("serve")
            .arg("--data")
            .arg(data)
            // A test that needs a fixed address (peers name each other) gives its own.
            .args(if extra.contains(&"--listen") {
                &["--pool-window-ms", "1"][..]
            } else {
                &["--listen", "127.0.0.1:0", "--pool-window-ms", "1"][..]
            })
            // Every test client is 127.0.0.1; tests that check the default pass their own.
            .args(if extra.contains(&"--sign-ups-per-hour") {
                &[][..]
            } else {
                &["--sign-ups-per-hour", "100000"][..]
            })
            .args(extra)
            .env("GUILDMARK_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start guildmark serve");
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut banner = String::new();
        let mut url = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line.strip_prefix("listening on ") {
                url = Some(rest.split_whitespace().next().unwrap().to_owned());
            }
            if line.starts_with("API: ") {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child: Some(child),
            url: url.unwrap_or_else(|| panic!("the server did not start:\n{banner}")),
            banner,
            data: data.to_owned(),
            _dir: None,
        }
    }

    /// Stops the node with SIGTERM (graceful) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            let status = child.wait().unwrap();
            assert!(status.success(), "the node exited with {status}");
        }
    }

    /// Kills the node with SIGKILL: no shutdown work at all.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts the node again on the same data directory (same URL is not kept: the port
    /// is new, so only a node started with --public-url keeps its credential ids).
    pub fn restart(&mut self, extra: &[&str]) {
        self.stop();
        let mut again = Server::start_in(&self.data, extra);
        self.child = again.child.take();
        self.url = std::mem::take(&mut again.url);
        self.banner = std::mem::take(&mut again.banner);
    }

    /// The node's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The most memory the node's process has held so far (VmHWM), in MiB.
    pub fn peak_mib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmHWM in /proc/<pid>/status");
        kib / 1024
    }

    /// The data directory.
    pub fn data(&self) -> &Path {
        &self.data
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `guildmark keygen --out FILE` in `dir`; returns the key's did:key.
pub fn keygen(dir: &Path, file: &str) -> String {
    let run = guildmark(dir, &["keygen", "--out", file], None).expect(0);
    run.stdout
        .split_whitespace()
        .find(|w| w.starts_with("did:key:"))
        .expect("keygen prints the DID")
        .to_owned()
}

/// The example MPPT20 protocol with its reviewer achievements at `public`'s communities
/// (the example's ironbridge, lumen and kestrel, in that order).
pub fn mppt_protocol(public: &str, communities: [&str; 3]) -> String {
    let mut source =
        include_str!("../../../review-protocols/protocols/mppt20-batch-qa.toml").to_owned();
    for (example, slug) in ["ironbridge", "lumen", "kestrel"]
        .into_iter()
        .zip(communities)
    {
        source = source.replace(
            &format!("https://guildmark.example/{example}/"),
            &format!("{public}/communities/{slug}/"),
        );
    }
    source
}

/// Results within every MPPT20 limit for the `sampled` units, as API and attestation
/// JSON carry them.
pub fn mppt_passing_results(sampled: &[String]) -> serde_json::Value {
    let mut results = Vec::new();
    for serial in sampled {
        for (step, key, value) in [
            ("visual-solder", "passed", serde_json::json!(true)),
            ("battery-detect", "passed", serde_json::json!(true)),
            ("no-load-current", "value", serde_json::json!("11.9 mA")),
            (
                "efficiency-rated-load",
                "value",
                serde_json::json!("95.6 %"),
            ),
            ("absorption-voltage", "value", serde_json::json!("14.42 V")),
            ("float-voltage", "value", serde_json::json!("13.81 V")),
            (
                "low-voltage-disconnect",
                "value",
                serde_json::json!("11.07 V"),
            ),
            (
                "reverse-polarity-battery",
                "passed",
                serde_json::json!(true),
            ),
            ("reverse-polarity-pv", "passed", serde_json::json!(true)),
            ("temperature-rise", "value", serde_json::json!("33 °C")),
        ] {
            results.push(serde_json::json!({"serial": serial, "step": step, key: value}));
        }
    }
    serde_json::Value::Array(results)
}
