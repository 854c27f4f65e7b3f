//! Web page renders over HTTP: the real `guildmark serve --demo` binary, every page of
//! the UI requested one after another by one client (so the figure is the time to serve
//! one page, not queueing), then by 8 concurrent clients for throughput. Prints p50 and
//! p99 per page. Times are client-observed over loopback, so they include HTTP on top of
//! the server-side render.
//!
//! `cargo bench -p guildmark-server --bench pages` (GUILDMARK_BENCH_REQUESTS per page,
//! default 400).

#[path = "support/node_process.rs"]
mod node_process;

use node_process::NodeProcess;
use std::time::{Duration, Instant};

use serde_json::Value;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let requests: usize = std::env::var("GUILDMARK_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let node = NodeProcess::start(&["--demo"]);
    let base = node.base.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let json = |path: String| {
            let client = client.clone();
            async move {
                client
                    .get(path)
                    .send()
                    .await
                    .unwrap()
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        let batches = json(format!("{base}/api/v1/batches")).await;
        let certified = batches
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["verdict"] == "certified")
            .map(|b| {
                b["id"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .unwrap();
        let badge = json(format!("{base}/api/v1/accounts/felix/badges")).await[0]["uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let signed_in = client
            .post(format!("{base}/signin"))
            .form(&[
                ("form", "sign-in"),
                ("username", "felix"),
                ("password", "guildmark-demo"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303, "sign in");
        let cookie = signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();

        let pages: Vec<(String, bool)> = [
            ("/", false),
            ("/c/saltmarsh", false),
            ("/c/saltmarsh/a/soldering-l2", false),
            ("/m/felix", false),
            (&format!("/cred/{badge}"), false),
            (&format!("/b/{certified}"), false),
            (&format!("/b/{certified}/attest"), true),
            (&format!("/b/{certified}/labels"), false),
            ("/d/MPPT20-2026-0007", false),
            ("/verify", false),
            ("/ledger", false),
            ("/ledger/e/5", false),
            ("/ledger/consistency?old=5&new=30", false),
            ("/signin", false),
            ("/account", true),
            ("/d/NO-SUCH-SERIAL", false),
        ]
        .into_iter()
        .map(|(p, s)| (p.to_owned(), s))
        .collect();

        println!("{requests} sequential requests per page, release build, loopback, one client");
        println!(
            "{:<44} {:>8} {:>8} {:>8} {:>8}",
            "page", "p50 ms", "p99 ms", "max ms", "KiB"
        );
        let mut medians = Vec::new();
        for (path, as_felix) in &pages {
            let get = || {
                let mut request = client
                    .get(format!("{base}{path}"))
                    .header("accept", "text/html");
                if *as_felix {
                    request = request.header("cookie", &cookie);
                }
                request
            };
            let mut size = 0;
            for _ in 0..20 {
                let reply = get().send().await.unwrap();
                assert!(
                    reply.status() == 200 || reply.status() == 404,
                    "{path}: {}",
                    reply.status()
                );
                size = reply.bytes().await.unwrap().len();
            }
            let mut times = Vec::with_capacity(requests);
            for _ in 0..requests {
                let started = Instant::now();
                let reply = get().send().await.unwrap();
                reply.bytes().await.unwrap();
                times.push(started.elapsed());
            }
            times.sort();
            let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
            medians.push(p50);
            println!(
                "{path:<44} {p50:>8.2} {p99:>8.2} {:>8.2} {:>8.1}",
                percentile(&times, 1.0),
                size as f64 / 1024.0
            );
        }
        medians.sort_by(f64::total_cmp);
        println!("slowest page p50: {:.2} ms", medians.last().unwrap());

        // Throughput: 8 clients over all pages for 5 s.
        let deadline = Instant::now() + Duration::from_secs(5);
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let client = client.clone();
                let pages = pages.clone();
                let base = base.clone();
                let cookie = cookie.clone();
                tokio::spawn(async move {
                    let mut served = 0usize;
                    let mut k = i;
                    while Instant::now() < deadline {
                        let (path, as_felix) = &pages[k % pages.len()];
                        let mut request = client.get(format!("{base}{path}"));
                        if *as_felix {
                            request = request.header("cookie", &cookie);
                        }
                        request.send().await.unwrap().bytes().await.unwrap();
                        served += 1;
                        k += 1;
                    }
                    served
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        println!(
            "8 concurrent clients, all pages in turn: {:.0} pages/s",
            total as f64 / 5.0
        );
    });
    drop(node);
}
