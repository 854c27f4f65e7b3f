//! Badge issuance end to end over HTTP: the real `guildmark serve` binary, 64 concurrent
//! clients each issuing badges one after another (authenticate, check, sign, log, wait
//! for the ledger's acknowledgement). Prints throughput, latency percentiles, and the ledger's
//! bytes on disk against its entries' own bytes, after the run and after a restart.
//!
//! `cargo bench -p guildmark-server --bench issuance` (GUILDMARK_BENCH_SECONDS, default
//! 10; GUILDMARK_BENCH_CLIENTS, default 64; GUILDMARK_BENCH_POOL_MS, the ledger's pool
//! window, default 2 as in `serve`). Client and server share this machine's cores.

#[path = "support/node_process.rs"]
mod node_process;

use node_process::NodeProcess;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn main() {
    let seconds = env("GUILDMARK_BENCH_SECONDS", 10);
    let clients = env("GUILDMARK_BENCH_CLIENTS", 64) as usize;
    let window = env("GUILDMARK_BENCH_POOL_MS", 2).to_string();
    let node = NodeProcess::start(&["--pool-window-ms", &window]);
    let base = node.base.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();
        let (status, _) = post(&client, format!("{base}/api/v1/accounts"), None, json!({"username": "admin", "password": "bench-password"})).await;
        assert_eq!(status, 201);
        let token = node_process::token(&client, &base, "admin", "bench-password").await;
        let (status, _) = post(&client, format!("{base}/api/v1/communities"), Some(&token), json!({"slug": "forge", "name": "Forge"})).await;
        assert_eq!(status, 201);
        let (status, _) = post(&client, format!("{base}/api/v1/communities/forge/achievements"), Some(&token),
            json!({"name": "l1", "title": "Soldering, level 1", "description": "Solders through-hole parts cleanly.", "criteria": "Forty good joints on the practice board."})).await;
        assert_eq!(status, 201);
        let issue = Arc::new((client, format!("{base}/api/v1/communities/forge/badges"), token));

        let run = |duration: Duration| {
            let issue = issue.clone();
            async move {
                let deadline = Instant::now() + duration;
                let tasks: Vec<_> = (0..clients)
                    .map(|i| {
                        let issue = issue.clone();
                        tokio::spawn(async move {
                            let (client, url, token) = &*issue;
                            let mut latencies = Vec::new();
                            while Instant::now() < deadline {
                                let started = Instant::now();
                                let response = client
                                    .post(url.clone())
                                    .bearer_auth(token)
                                    .json(&json!({
                                        "recipient": "admin", "achievement": "l1",
                                        "narrative": format!("Client {i}, badge {}.", latencies.len()),
                                        "evidence": [{"narrative": "Forty joints, all wetted, no bridges."}]
                                    }))
                                    .send()
                                    .await
                                    .expect("request");
                                let status = response.status().as_u16();
                                // The whole answer is received; it is read as JSON only when
                                // it is not the 201 expected (the client shares the cores).
                                let body = response.bytes().await.expect("the answer");
                                assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
                                latencies.push(started.elapsed());
                            }
                            latencies
                        })
                    })
                    .collect();
                let mut all = Vec::new();
                for task in tasks {
                    all.extend(task.await.unwrap());
                }
                all
            }
        };
        run(Duration::from_secs(2)).await; // warm-up
        let started = Instant::now();
        let mut latencies = run(Duration::from_secs(seconds)).await;
        let elapsed = started.elapsed();
        latencies.sort();
        let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "badge issuance over HTTP, {clients} clients, {:.1} s: {} badges, {:.0} badges/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            elapsed.as_secs_f64(),
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            latencies.last().unwrap().as_secs_f64() * 1e3,
        );
    });
    // Disk use: the ledger's bytes on disk against its entries' own bytes.
    let mut node = node;
    let entries = runtime.block_on(entry_bytes(&reqwest::Client::new(), &node.base));
    let after_run = allocated(&node.data().join("ledger"));
    let blobs = node.data().join("ledger").join("blobs");
    let blob_bytes = if blobs.exists() { allocated(&blobs) } else { 0 };
    println!(
        "  of which sled blobs {:.1} MiB",
        blob_bytes as f64 / 1048576.0
    );
    node.restart(&["--pool-window-ms", &window]);
    let after_restart = allocated(&node.data().join("ledger"));
    println!(
        "ledger disk use: {} entries' bytes {:.1} MiB; on disk {:.1} MiB after the run ({:.1}×), {:.1} MiB after a restart ({:.1}×)",
        entries.1,
        entries.0 as f64 / 1048576.0,
        after_run as f64 / 1048576.0,
        after_run as f64 / entries.0 as f64,
        after_restart as f64 / 1048576.0,
        after_restart as f64 / entries.0 as f64,
    );
    drop(node);
}

/// Bytes the files under `dir` occupy on disk (allocated blocks).
fn allocated(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                allocated(&e.path())
            } else {
                meta.blocks() * 512
            }
        })
        .sum()
}

/// A tile index as a C2SP tile path: groups of three digits, all but the last `x`-prefixed.
fn tile_path(n: u64) -> String {
    let mut digits = n.to_string();
    while !digits.len().is_multiple_of(3) {
        digits.insert(0, '0');
    }
    let groups: Vec<&str> = (0..digits.len())
        .step_by(3)
        .map(|i| &digits[i..i + 3])
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g}")
            } else {
                (*g).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The bytes of every entry in the log (summed from its entry bundles) and how many.
async fn entry_bytes(client: &reqwest::Client, base: &str) -> (u64, u64) {
    let get =
        |url: String| async move { client.get(url).send().await.unwrap().bytes().await.unwrap() };
    let summary: Value =
        serde_json::from_slice(&get(format!("{base}/api/v1/ledger")).await).unwrap();
    let size = summary["size"].as_u64().unwrap();
    let mut bytes = 0u64;
    for bundle in 0..size.div_ceil(256) {
        let width = (size - bundle * 256).min(256);
        let path = if width == 256 {
            tile_path(bundle)
        } else {
            format!("{}.p/{width}", tile_path(bundle))
        };
        let body = get(format!("{base}/tile/entries/{path}")).await;
        bytes += body.len() as u64 - 2 * width;
    }
    (bytes, size)
}
