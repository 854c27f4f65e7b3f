//! The ledger across process deaths: a real appender process is SIGKILLed at random
//! moments, and after every restart nothing it acknowledged may be missing or changed,
//! and the tree must extend every checkpoint it acknowledged.
//!
//! 20 rounds by default; `GUILDMARK_CRASH_ROUNDS=200` for a longer run.

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use guildmark_credentials::checkpoint::{check_consistency, Checkpoint};
use guildmark_credentials::note::VerifierKey;
use guildmark_credentials::receipt::Receipt;
use guildmark_server::cli::ledger::stress_entry;
use guildmark_server::keys;
use guildmark_server::ledger::{audit, Ledger, LedgerConfig};

const ORIGIN: &str = "stress.example/log";

/// A small deterministic generator, seeded from the clock (the seed is printed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_entry() {
    let rounds: u32 = std::env::var("GUILDMARK_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test: {rounds} rounds, seed {seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut acked: BTreeMap<u64, String> = BTreeMap::new();
    let mut checkpoints: BTreeMap<u64, Checkpoint> = BTreeMap::new();
    let mut verifier: Option<VerifierKey> = None;
    let mut kills_mid_batch = 0;
    for round in 0..rounds {
        let mut child = Command::new(crate::common::bin())
            .args([
                "ledger",
                "stress",
                "--data",
                data.to_str().unwrap(),
                "--origin",
                ORIGIN,
                "--writers",
                "8",
                "--entry-size",
                "300",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        // Let it run a random while (at least long enough to open the ledger sometimes).
        std::thread::sleep(Duration::from_millis(30 + rng.below(700)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        if verifier.is_none() && data.join("keys/log.key").exists() {
            let key = keys::load_or_create(&data.join("keys/log.key")).unwrap();
            verifier = Some(VerifierKey::ed25519(ORIGIN, *key.did_key().public_key()).unwrap());
        }
        let Some(verifier) = verifier.clone() else {
            continue; // killed before it even created its key
        };
        for line in &lines {
            // A line cut by the kill was never fully acknowledged; skip it.
            let Ok(ack) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let id = ack["id"].as_str().unwrap().to_owned();
            let text = base64::engine::general_purpose::STANDARD
                .decode(ack["receipt"].as_str().unwrap())
                .unwrap();
            let receipt = Receipt::from_tlog_proof(std::str::from_utf8(&text).unwrap()).unwrap();
            let verified = receipt
                .verify(&stress_entry(&id, 300), &verifier, &[])
                .unwrap();
            assert!(
                acked.insert(receipt.index, id).is_none(),
                "index {} acknowledged twice",
                receipt.index
            );
            checkpoints.insert(verified.checkpoint.size, verified.checkpoint);
        }
        if !lines.is_empty() {
            kills_mid_batch += 1;
        }

        // Restart: opens without repair, keeps every acknowledged entry, extends every
        // acknowledged checkpoint.
        let started = Instant::now();
        let key = keys::load_or_create(&data.join("keys/log.key")).unwrap();
        let ledger = Ledger::open(&data.join("ledger"), key, LedgerConfig::new(ORIGIN))
            .unwrap_or_else(|e| panic!("round {round}: the ledger does not reopen: {e}"));
        let current = ledger.published().checkpoint;
        for (index, id) in &acked {
            assert_eq!(
                ledger.entry(*index).unwrap(),
                stress_entry(id, 300),
                "round {round}: entry {index}"
            );
        }
        for old in checkpoints.values() {
            let proof = ledger.consistency_proof(old.size, current.size).unwrap();
            check_consistency(old, &current, &proof).unwrap_or_else(|e| {
                panic!(
                    "round {round}: inconsistent with checkpoint {}: {e}",
                    old.size
                )
            });
        }
        drop(ledger);
        eprintln!(
            "round {round}: {} acknowledged in total, log size {}, reopened and checked in {:?}",
            acked.len(),
            current.size,
            started.elapsed()
        );
    }
    assert!(
        kills_mid_batch >= rounds / 2,
        "only {kills_mid_batch} rounds were killed while appending"
    );
    assert!(
        acked.len() > 100,
        "only {} entries were acknowledged",
        acked.len()
    );
    let report = audit::audit(&data.join("ledger"), verifier.as_ref().unwrap(), |_, _| {}).unwrap();
    assert!(report.is_sound(), "{:?}", report.damage);
}
