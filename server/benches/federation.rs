//! Witnessing, measured with real node processes over loopback: node A peers with B and
//! C, whose witnesses must both cosign (2 of 2) before a checkpoint of A's counts as
//! witnessed. Prints
//!
//! 1. the time from a badge's issuance request to a witnessed checkpoint covering it
//!    (p50/p95; badges issued one at a time, 20 ms apart), and
//! 2. issuance throughput on A with witnessing on, against a fourth node without peers in
//!    the same run (64 clients for GUILDMARK_BENCH_SECONDS, default 10, each).
//!
//! `cargo bench -p guildmark-server --bench federation`. All four nodes and the clients
//! share this machine's cores; B and C also mirror A's log as it grows.

#[path = "support/node_process.rs"]
mod node_process;

use std::sync::Arc;
use std::time::{Duration, Instant};

use node_process::NodeProcess;
use serde_json::{json, Value};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An operator account, a community and an achievement on the node at `base`; returns
/// the operator's token.
async fn prepare(client: &reqwest::Client, base: &str) -> String {
    let post = reqwest::Method::POST;
    let (status, _) = call(
        client,
        post.clone(),
        format!("{base}/api/v1/accounts"),
        None,
        Some(json!({"username": "admin", "password": "bench-password"})),
    )
    .await;
    assert_eq!(status, 201);
    let token = node_process::token(client, base, "admin", "bench-password").await;
    let (status, _) = call(
        client,
        post.clone(),
        format!("{base}/api/v1/communities"),
        Some(&token),
        Some(json!({"slug": "forge", "name": "Forge"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = call(client, post, format!("{base}/api/v1/communities/forge/achievements"), Some(&token),
        Some(json!({"name": "l1", "title": "Soldering, level 1", "description": "Solders through-hole parts cleanly.", "criteria": "Forty good joints on the practice board."}))).await;
    assert_eq!(status, 201);
    token
}

fn badge(i: usize, n: usize) -> Value {
    json!({"recipient": "admin", "achievement": "l1", "narrative": format!("Client {i}, badge {n}."),
           "evidence": [{"narrative": "Forty joints, all wetted, no bridges."}]})
}

async fn witnessed_size(client: &reqwest::Client, base: &str) -> u64 {
    let (_, ledger) = call(
        client,
        reqwest::Method::GET,
        format!("{base}/api/v1/ledger"),
        None,
        None,
    )
    .await;
    ledger["witnessing"]["witnessedSize"].as_u64().unwrap_or(0)
}

/// Badges/s with `clients` concurrent clients for `duration` on the node at `base`.
async fn throughput(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    clients: usize,
    duration: Duration,
) -> f64 {
    let shared = Arc::new((
        client.clone(),
        format!("{base}/api/v1/communities/forge/badges"),
        token.to_owned(),
    ));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let (client, url, token) = &*shared;
                let mut n = 0;
                while Instant::now() < deadline {
                    let response = client
                        .post(url.clone())
                        .bearer_auth(token)
                        .json(&badge(i, n))
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(response.status().as_u16(), 201);
                    let _ = response.bytes().await;
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// CPU seconds (user + system) the process `pid` has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0 // USER_HZ is 100 on Linux
}

fn main() {
    let seconds = env("GUILDMARK_BENCH_SECONDS", 10);
    let clients = env("GUILDMARK_BENCH_CLIENTS", 64) as usize;
    let samples = env("GUILDMARK_BENCH_SAMPLES", 200) as usize;
    let a = NodeProcess::start(&["--witness-quorum", "2"]);
    let b = NodeProcess::start(&[]);
    let c = NodeProcess::start(&[]);
    let plain = NodeProcess::start(&[]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder().pool_max_idle_per_host(clients).build().unwrap();
        let mut tokens = Vec::new();
        for node in [&a, &b, &c, &plain] {
            tokens.push(prepare(&client, &node.base).await);
        }
        let key = |base: String| {
            let client = client.clone();
            async move {
                let (_, ledger) = call(&client, reqwest::Method::GET, format!("{base}/api/v1/ledger"), None, None).await;
                ledger["verifierKey"].as_str().unwrap().to_owned()
            }
        };
        for (i, from) in [&a, &b, &c].into_iter().enumerate() {
            for to in [&a, &b, &c] {
                if from.base == to.base || (i > 0 && to.base != a.base) {
                    continue; // A peers with B and C; B and C with A
                }
                let (status, body) = call(&client, reqwest::Method::POST, format!("{}/api/v1/peers", from.base), Some(&tokens[i]),
                    Some(json!({"url": to.base, "logKey": key(to.base.clone()).await}))).await;
                assert_eq!(status, 201, "{body}");
            }
        }
        // Until A's log is witnessed.
        let started = Instant::now();
        loop {
            let (_, ledger) = call(&client, reqwest::Method::GET, format!("{}/api/v1/ledger", a.base), None, None).await;
            if ledger["witnessing"]["witnessedSize"] == ledger["size"] {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "A's log was never witnessed: {ledger:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // 1. Issuance to a witnessed checkpoint.
        let url = format!("{}/api/v1/communities/forge/badges", a.base);
        let mut times = Vec::with_capacity(samples);
        for n in 0..samples {
            let started = Instant::now();
            let (status, issued) = call(&client, reqwest::Method::POST, url.clone(), Some(&tokens[0]), Some(badge(0, n))).await;
            assert_eq!(status, 201);
            let index = issued["receipt"]["index"].as_u64().unwrap();
            while witnessed_size(&client, &a.base).await <= index {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            times.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        times.sort();
        let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1e3;
        println!(
            "issuance to a witnessed checkpoint (2 of 2 witnesses, {samples} badges one at a time): p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            pct(0.5),
            pct(0.95),
            times.last().unwrap().as_secs_f64() * 1e3
        );

        // 2. Throughput with and without witnessing, in the same run.
        let duration = Duration::from_secs(seconds);
        throughput(&client, &plain.base, &tokens[3], clients, Duration::from_secs(2)).await; // warm-up
        let plain_before = cpu_seconds(plain.pid());
        let without = throughput(&client, &plain.base, &tokens[3], clients, duration).await;
        let plain_used = cpu_seconds(plain.pid()) - plain_before;
        throughput(&client, &a.base, &tokens[0], clients, Duration::from_secs(2)).await;
        let pids = [a.pid(), b.pid(), c.pid()];
        let before: Vec<f64> = pids.iter().map(|p| cpu_seconds(*p)).collect();
        let with = throughput(&client, &a.base, &tokens[0], clients, duration).await;
        let used: Vec<f64> = pids.iter().zip(&before).map(|(p, b)| cpu_seconds(*p) - b).collect();
        let lag = {
            let (_, ledger) = call(&client, reqwest::Method::GET, format!("{}/api/v1/ledger", a.base), None, None).await;
            ledger["size"].as_u64().unwrap_or(0).saturating_sub(witnessed_size(&client, &a.base).await)
        };
        println!(
            "issuance with {clients} clients, {seconds} s each: {without:.0} badges/s without witnessing, {with:.0} badges/s with 2 witnesses ({:.0} %); witnessed checkpoint {lag} entries behind at the end",
            with / without * 100.0
        );
        println!(
            "  node CPU per 1,000 badges: {:.2} s without witnessing, {:.2} s with; during the run with witnesses A used {:.1} s, its witnesses B {:.1} s and C {:.1} s (they verify and store A's log as it grows) of {:.0} s on this machine's cores",
            plain_used / (without * seconds as f64) * 1000.0,
            used[0] / (with * seconds as f64) * 1000.0,
            used[0],
            used[1],
            used[2],
            seconds as f64 * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64
        );
    });
}
