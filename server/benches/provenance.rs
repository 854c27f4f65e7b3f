//! Provenance bundles: assembly on the node, offline verification on one core, and the
//! byte-flip count over every signed position of a real bundle.
//!
//! `cargo bench -p guildmark-server --bench provenance` builds the demo world in a
//! temporary data directory (the real node on sled and the real ledger) — the certified
//! batch as the demo leaves it (a reviewer may attest a batch once) — then measures:
//! - assembly: `Node::bundle` (records, receipts against one checkpoint, the node's own
//!   evaluation) and its JSON serialisation, p50/p99 over `GUILDMARK_BENCH_ROUNDS` (500);
//! - verification: `verify_bundle` of the parsed bundle (one batch of signatures,
//!   receipts, status, recomputed verdict), and parse + verify from bytes;
//! - tampering: every byte of every logged part flipped (XOR 1), each must fail.

use std::time::{Duration, Instant};

use guildmark_credentials::{Contexts, Timestamp};
use guildmark_review_protocols::provenance::{verify_bundle, Bundle};
use guildmark_server::cli::serve::open_ledger;
use guildmark_server::node::demo::demo_serial;
use guildmark_server::node::Node;
use serde_json::Value;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<34} p50 {:>8.3} ms   p99 {:>8.3} ms   min {:>8.3} ms   ({} runs)",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples.len()
    );
}

fn main() {
    let rounds: usize = std::env::var("GUILDMARK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let public = "https://bench.example";
    let node = runtime.block_on(async {
        let ledger = open_ledger(&data, None, public, Duration::from_millis(1)).unwrap();
        let node = Node::open(&data, ledger, public).unwrap();
        node.seed_demo().await.unwrap();
        node
    });
    let serial = demo_serial(7);

    let mut assembly = Vec::with_capacity(rounds);
    let mut bytes = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let bundle = node.bundle(&serial).unwrap();
        bytes = serde_json::to_vec(&bundle).unwrap();
        assembly.push(started.elapsed());
    }
    let bundle: Bundle = serde_json::from_slice(&bytes).unwrap();
    println!(
        "bundle of {serial}: {} bytes, {} attestations, {} badges, {} status lists, verdict {}",
        bytes.len(),
        bundle.attestations.len(),
        bundle.badges.len(),
        bundle.status_lists.len(),
        bundle.evaluation.as_ref().unwrap().verdict
    );
    report("assembly (node, incl. evaluation)", assembly);

    let contexts = Contexts::bundled();
    let now = Timestamp::parse("2027-01-01T00:00:00Z").unwrap();
    let check = verify_bundle(&bundle, None, &contexts, now);
    assert!(check.report.verified, "{}", check.report);
    let mut verify = Vec::with_capacity(rounds);
    let mut parse_verify = Vec::with_capacity(rounds);
    for _ in 0..rounds.max(1000) {
        let started = Instant::now();
        let verification = verify_bundle(&bundle, None, &contexts, now);
        verify.push(started.elapsed());
        assert!(verification.report.verified);
        let started = Instant::now();
        let parsed: Bundle = serde_json::from_slice(&bytes).unwrap();
        let verification = verify_bundle(&parsed, None, &contexts, now);
        parse_verify.push(started.elapsed());
        assert!(verification.report.verified);
    }
    report("verify (parsed bundle, one core)", verify);
    report("parse + verify (from bytes)", parse_verify);
    floors(&bundle, rounds.max(1000));

    if std::env::var("GUILDMARK_BENCH_FLIPS").as_deref() == Ok("0") {
        return;
    }
    // Tampering: every position inside the logged parts.
    let value: Value = serde_json::from_slice(&bytes).unwrap();
    let text = std::str::from_utf8(&bytes).unwrap();
    let mut parts: Vec<&Value> = vec![&value["batch"], &value["protocol"]];
    for list in ["attestations", "badges", "statusLists"] {
        parts.extend(value[list].as_array().unwrap());
    }
    let mut positions = Vec::new();
    for part in parts {
        let serialized = serde_json::to_string(part).unwrap();
        let at = text.find(&serialized).unwrap();
        positions.extend(at..at + serialized.len());
    }
    let started = Instant::now();
    let mut unnoticed = Vec::new();
    for &position in &positions {
        let mut tampered = bytes.clone();
        tampered[position] ^= 0x01;
        let accepted = serde_json::from_slice::<Bundle>(&tampered)
            .map(|b| verify_bundle(&b, None, &contexts, now).report.verified)
            .unwrap_or(false);
        if accepted {
            unnoticed.push(position);
        }
    }
    println!(
        "byte flips: {} signed positions of {} bytes flipped, {} failed verification, {} went unnoticed ({:.1} s)",
        positions.len(),
        bytes.len(),
        positions.len() - unnoticed.len(),
        unnoticed.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(unnoticed.is_empty(), "unnoticed flips at {unnoticed:?}");
}

/// What no bundle verifier can avoid: one Ed25519 batch over the bundle's signatures, and
/// canonicalizing its credentials once (JCS) — the floor under the verification figure.
fn floors(bundle: &Bundle, rounds: usize) {
    use ed25519_dalek::{Signer, SigningKey};
    let parts: Vec<&Value> = [&bundle.batch, &bundle.protocol]
        .into_iter()
        .chain(&bundle.attestations)
        .chain(&bundle.badges)
        .chain(&bundle.status_lists)
        .map(|l| &*l.credential)
        .collect();
    let keys: Vec<SigningKey> = (0..parts.len())
        .map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32]))
        .collect();
    let messages: Vec<[u8; 64]> = (0..parts.len()).map(|i| [i as u8; 64]).collect();
    let signatures: Vec<_> = keys.iter().zip(&messages).map(|(k, m)| k.sign(m)).collect();
    let verifying: Vec<_> = keys.iter().map(|k| k.verifying_key()).collect();
    let refs: Vec<&[u8]> = messages.iter().map(|m| &m[..]).collect();
    let mut batch = Vec::with_capacity(rounds);
    let mut jcs = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        ed25519_dalek::verify_batch(&refs, &signatures, &verifying).unwrap();
        batch.push(started.elapsed());
        let started = Instant::now();
        let bytes: usize = parts
            .iter()
            .map(|p| guildmark_credentials::jcs::canonicalize(p).len())
            .sum();
        std::hint::black_box(bytes);
        jcs.push(started.elapsed());
    }
    report(&format!("floor: Ed25519 batch of {}", parts.len()), batch);
    report("floor: JCS of every credential once", jcs);
}
