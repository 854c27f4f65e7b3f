//! The in-browser verifier, measured in headless Chromium (Debian's, through
//! ChromeDriver) against the real node with the demo world:
//! - bundle verification of the demo bundle (`window.guildmark.verify`, trust file
//!   included, JSON in and out), p50/p95/min over `GUILDMARK_BENCH_ROUNDS` (200) calls,
//!   each timed in the page with `performance.now()`, beside the same bundle verified
//!   natively in this process (the same `verify_document`) as the anchor;
//! - the device page: navigation start → the browser's verdict shown (fetching the
//!   module, the bundle and the trust file included), p50 over 20 loads;
//! - sizes: the wasm module (raw and gzipped), the page script, the offline file.
//!
//! `cargo bench -p guildmark-e2e --bench browser`

#[allow(dead_code)]
#[path = "../../server/tests/suite/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/e2e/browser/webdriver.rs"]
mod webdriver;

use std::io::Write as _;
use std::time::{Duration, Instant};

use guildmark_credentials::{Contexts, KnownKeys, Timestamp};
use guildmark_review_protocols::document::{verify_document, Setup};
use guildmark_review_protocols::provenance::Trust;
use serde_json::{json, Value};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn line(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name:<46} p50 {:>7.3} ms   p95 {:>7.3} ms   min {:>7.3} ms   ({} runs)",
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        ms[0],
        ms.len()
    );
}

async fn get(url: &str) -> Vec<u8> {
    reqwest::get(url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("GUILDMARK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let server = common::Server::start(&["--demo"]);
    let base = server.url.clone();
    let serial = "MPPT20-2026-0007";
    let bundle = get(&format!("{base}/api/v1/devices/{serial}/bundle")).await;
    let trust = String::from_utf8(get(&format!("{base}/api/v1/trust")).await).unwrap();
    let offline = get(&format!("{base}/verify/offline.html")).await;
    let verify_page = String::from_utf8(get(&format!("{base}/verify")).await).unwrap();
    let asset = |marker: &str| {
        let rest = verify_page.split(marker).nth(1).unwrap();
        rest[..rest.find('"').unwrap()].to_owned()
    };
    let wasm = get(&format!("{base}{}", asset("data-wasm=\""))).await;
    let script = get(&format!("{base}{}", asset("<script src=\""))).await;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&wasm).unwrap();
    let gzipped = gzip.finish().unwrap();

    // The anchor: the same bundle, verified natively on one core.
    let contexts = Contexts::bundled();
    let keys = KnownKeys::default();
    let parsed_trust = Trust::parse(&trust).unwrap();
    let now = Timestamp::from_unix_seconds(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    );
    let setup = Setup {
        trust: Some(&parsed_trust),
        ..Setup::new(now, &contexts, &keys)
    };
    let mut native = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let verified = verify_document(&bundle, &setup, "bundle").unwrap();
        let json = serde_json::to_string_pretty(&verified.to_json()).unwrap();
        native.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(verified.report.verified && !json.is_empty());
    }

    let downloads = tempfile::tempdir().unwrap();
    let driver = webdriver::Driver::start().await;
    let browser = driver.browser(downloads.path()).await;
    browser.goto(&format!("{base}/verify")).await;
    browser.wait_for_verifier().await;
    let text = String::from_utf8(bundle.clone()).unwrap();
    let timings = browser
        .script(
            "const [text, trust, rounds] = arguments;
             const times = [];
             let verified = true;
             for (let i = 0; i < rounds; i++) {
                 const t0 = performance.now();
                 const json = await window.guildmark.verify(text, trust);
                 times.push(performance.now() - t0);
                 verified = verified && json.report.verified;
             }
             return {times, verified};",
            json!([text, trust, rounds]),
        )
        .await;
    assert_eq!(timings["verified"], json!(true), "the demo bundle verifies");
    let browser_ms: Vec<f64> = timings["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();

    // The device page, from navigation to the browser's verdict.
    let mut page = Vec::new();
    for _ in 0..20 {
        browser.goto(&format!("{base}/d/{serial}")).await;
        let started = Instant::now();
        let shown: Value = browser
            .wait_for(
                "const b = document.getElementById('browser-check');
                 if (!b.dataset.browserVerdict) return null;
                 const m = performance.getEntriesByName('guildmark-verdict')[0];
                 return {verdict: b.dataset.browserVerdict, at: m ? m.startTime : null};",
                "the browser's verdict",
            )
            .await;
        assert_eq!(shown["verdict"], "certified");
        assert!(started.elapsed() < Duration::from_secs(30));
        page.push(shown["at"].as_f64().expect("the page marks its verdict"));
    }
    browser.quit().await;

    println!(
        "in-browser verifier, headless Chromium (Debian's), demo bundle of {serial} ({} bytes)",
        bundle.len()
    );
    line("bundle verification, in the browser (wasm)", browser_ms);
    line("bundle verification, native (anchor)", native);
    line("device page: navigation → verdict shown", page);
    println!(
        "wasm module: {} bytes, {} gzipped (goal ≤ 400 KB = 409600 bytes)",
        wasm.len(),
        gzipped.len()
    );
    println!(
        "page script (wasm-bindgen glue + ours): {} bytes",
        script.len()
    );
    println!(
        "offline file /verify/offline.html: {} bytes (limit 1 MiB = 1048576 bytes)",
        offline.len()
    );
}
