//! The node's ledger read by tlog-scales (PyPI), an independent tlog-tiles client: the
//! checkpoint's signature with the node's verifier key, the root recomputed from the
//! tiles, every entry's inclusion, and a consistency proof between two checkpoints that
//! must equal the node's own. The client is installed into a virtualenv under `target/`
//! on first use (Python ≥ 3.11 is on the machine; pip reaches PyPI).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::common::Server;
use crate::http::Api;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The node's verifier key, as `guildmark serve` printed it.
pub fn verifier_key(server: &Server) -> String {
    server
        .banner
        .lines()
        .find_map(|l| l.strip_prefix("ledger verifier key: "))
        .unwrap()
        .to_owned()
}

/// Runs tlog-scales over the node's log now: the checkpoint, every entry's inclusion, and
/// consistency with the `old` checkpoint (whose proof must equal the node's own).
pub async fn check(server: &Server, old: &str) -> Value {
    let python = interop_python();
    let dir = tempfile::tempdir().unwrap();
    let api = Api::new(&server.url);
    let old_size: u64 = old.lines().nth(1).unwrap().parse().unwrap();
    std::fs::write(dir.path().join("old.checkpoint"), old).unwrap();
    let size = api.get("/api/v1/ledger").await.expect(200)["size"]
        .as_u64()
        .unwrap();
    let ours = api
        .get(&format!(
            "/api/v1/ledger/consistency?from={old_size}&to={size}"
        ))
        .await
        .expect(200);
    std::fs::write(dir.path().join("ours.json"), ours.to_string()).unwrap();
    let output = Command::new(&python)
        .arg(repo().join("e2e/interop/tlog_check.py"))
        .arg(&server.url)
        .arg(verifier_key(server))
        .arg(dir.path().join("old.checkpoint"))
        .arg(dir.path().join("ours.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "tlog-scales refused the ledger:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["size"], size);
    assert_eq!(summary["inclusionProofsChecked"], size);
    assert_eq!(summary["consistency"]["sameProofAsNode"], true);
    summary
}

/// The virtualenv's python with tlog-scales, Pillow and aiosmtpd, created when missing. Tests that
/// need it run at the same time (the story, the tlog and Open Badges tests): one creates
/// it, the others wait.
pub(crate) fn interop_python() -> PathBuf {
    static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = CREATING.lock().unwrap_or_else(|p| p.into_inner());
    let venv = repo().join("target/interop/venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import tlog_scales, PIL, aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&python) {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is needed for the interoperability tests");
        assert!(status.success(), "creating {}", venv.display());
        let status = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "-r"])
            .arg(repo().join("e2e/interop/requirements.txt"))
            .status()
            .expect("pip");
        assert!(
            status.success(),
            "installing tlog-scales and Pillow from PyPI"
        );
    }
    assert!(
        ready(&python),
        "tlog-scales, Pillow or aiosmtpd is not importable in {}",
        venv.display()
    );
    python
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tlog_scales_verifies_the_ledger() {
    let server = Server::start(&["--demo"]);
    let api = Api::new(&server.url);
    let old = reqwest::get(format!("{}/checkpoint", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let old_size: u64 = old.lines().nth(1).unwrap().parse().unwrap();

    // Grow the log past a full entry bundle (256), so full and partial tiles are read.
    let noor = api.token("noor", "guildmark-demo").await;
    for _ in 0..(300 - old_size.min(300)) {
        api.post(
            "/api/v1/communities/saltmarsh/badges",
            Some(&noor),
            json!({"recipient": "ines", "achievement": "battery-safety"}),
        )
        .await
        .expect(201);
    }
    let size = api.get("/api/v1/ledger").await.expect(200)["size"]
        .as_u64()
        .unwrap();
    assert!(size >= 300);
    let summary = check(&server, &old).await;
    println!("tlog-scales: {summary}");
    assert_eq!(summary["size"], size);
    assert_eq!(summary["inclusionProofsChecked"], size);
    assert_eq!(summary["consistency"]["sameProofAsNode"], true);
}
