//! Ledger figures, printed: durable appends with 64 concurrent writers, inclusion proofs
//! in a 10,000,000-entry log, and disk bytes per entry.
//!
//! Run: `cargo bench -p guildmark-server --bench ledger` (add `-- --quick` for a
//! 1,000,000-entry log, `-- --appends-only` to skip the big log). The data lives in a temporary directory on the same disk as
//! /tmp and is deleted afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use guildmark_credentials::merkle::{leaf_hash, verify_inclusion};
use guildmark_credentials::KeyPair;
use guildmark_server::ledger::{Ledger, LedgerConfig};
use tokio::sync::Semaphore;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn open(dir: &std::path::Path) -> Ledger {
    open_with(dir, Duration::from_millis(2))
}

fn open_with(dir: &std::path::Path, window: Duration) -> Ledger {
    let config = LedgerConfig {
        pool_window: window,
        ..LedgerConfig::new("bench.example/log")
    };
    Ledger::open(dir, KeyPair::from_seed(&[9; 32]), config).unwrap()
}

/// `writers` tasks, each keeping `in_flight` appends of `size` bytes outstanding, for
/// `seconds`; returns (entries per second, sorted latencies).
async fn appends(
    ledger: &Ledger,
    writers: usize,
    in_flight: usize,
    size: usize,
    seconds: u64,
) -> (f64, Vec<Duration>) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let ledger = ledger.clone();
        tasks.push(tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(in_flight));
            let mut latencies = Vec::new();
            let mut pending = tokio::task::JoinSet::new();
            let mut seq = 0u64;
            while Instant::now() < deadline {
                let permit = permits.clone().acquire_owned().await.unwrap();
                let ledger = ledger.clone();
                let mut entry = format!("writer {w} entry {seq} ").into_bytes();
                entry.resize(size, b'.');
                seq += 1;
                pending.spawn(async move {
                    let t = Instant::now();
                    ledger.append(entry, vec![]).await.expect("append");
                    drop(permit);
                    t.elapsed()
                });
                while let Some(done) = pending.try_join_next() {
                    latencies.push(done.unwrap());
                }
            }
            while let Some(done) = pending.join_next().await {
                latencies.push(done.unwrap());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    (latencies.len() as f64 / elapsed, latencies)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    println!(
        "== durable appends (acknowledged = durable + under a signed checkpoint), 1 KB entries"
    );
    for window_ms in [2u64, 0] {
        for in_flight in [1usize, 4, 8, 16, 32] {
            let writers = 64;
            let dir = tempfile::tempdir().unwrap();
            let ledger = open_with(dir.path(), Duration::from_millis(window_ms));
            let (rate, latencies) = runtime.block_on(appends(&ledger, writers, in_flight, 1024, 8));
            let size = ledger.published().checkpoint.size;
            println!(
                "window {window_ms} ms, {writers} writers x {in_flight:>2} in flight: {:>7.0} entries/s   latency p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms   disk {:.0} B/entry",
                rate,
                percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                percentile(&latencies, 0.99).as_secs_f64() * 1e3,
                latencies.last().unwrap().as_secs_f64() * 1e3,
                ledger.size_on_disk().unwrap() as f64 / size as f64
            );
            ledger.shutdown();
        }
    }
    if std::env::args().any(|a| a == "--appends-only") {
        return;
    }

    let entries: u64 = if quick { 1_000_000 } else { 10_000_000 };
    println!("== inclusion proofs in a {entries}-entry log (32-byte entries)");
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path());
    let started = Instant::now();
    runtime.block_on(async {
        let permits = Arc::new(Semaphore::new(16_384));
        let mut pending = tokio::task::JoinSet::new();
        for i in 0..entries {
            let permit = permits.clone().acquire_owned().await.unwrap();
            let ledger = ledger.clone();
            pending.spawn(async move {
                ledger
                    .append(format!("{i:032}").into_bytes(), vec![])
                    .await
                    .expect("append");
                drop(permit);
            });
            while pending.try_join_next().is_some() {}
            if i % 1_000_000 == 999_999 {
                eprintln!("  {} entries after {:.0?}", i + 1, started.elapsed());
            }
        }
        while pending.join_next().await.is_some() {}
    });
    let size = ledger.published().checkpoint.size;
    println!(
        "built {size} entries in {:.1?} ({:.0} entries/s); disk {:.1} bytes per entry",
        started.elapsed(),
        size as f64 / started.elapsed().as_secs_f64(),
        ledger.size_on_disk().unwrap() as f64 / size as f64
    );
    let root = ledger.published().checkpoint.root;
    let rss_before = rss_mib();
    let mut latencies = Vec::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let index = x % size;
        let t = Instant::now();
        let proof = ledger.inclusion_proof(index, size).unwrap();
        latencies.push(t.elapsed());
        let entry = ledger.entry(index).unwrap();
        verify_inclusion(&leaf_hash(&entry), index, size, &proof, &root).unwrap();
    }
    latencies.sort();
    println!(
        "20000 random inclusion proofs: p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms; RSS {:.0} MiB before, {:.0} MiB after",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        rss_before,
        rss_mib()
    );
    ledger.shutdown();
}
