//! The witness's `add-checkpoint` (C2SP tlog-witness), printed: p50/p99 of the whole
//! call as the HTTP handler makes it — parse, verify the log's signature, check the
//! consistency proof, store the checkpoint in sled and flush it to disk, sign the
//! cosignature — for a log that grows by 16 entries between submissions.
//!
//! Run: `cargo bench -p guildmark-server --bench witness` (`GUILDMARK_BENCH_ROUNDS`,
//! default 1000). The node's data lives in a temporary directory on the same disk as /tmp.

use std::time::{Duration, Instant};

use guildmark_credentials::merkle::{consistency_proof, leaf_hash, root_of, Hash};
use guildmark_credentials::note::{Note, NoteSigner};
use guildmark_credentials::KeyPair;
use guildmark_server::cli::serve::open_ledger;
use guildmark_server::node::witness::{Added, Witness};
use guildmark_server::node::Node;

const ORIGIN: &str = "bench.example/log";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let rounds: usize = std::env::var("GUILDMARK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let log = NoteSigner::ed25519(ORIGIN, KeyPair::from_seed(&[5; 32])).unwrap();
    // Every request, made before the clock starts.
    let step = 16usize;
    let mut leaves: Vec<Hash> = Vec::new();
    let mut requests = Vec::with_capacity(rounds);
    let mut old = 0usize;
    for _ in 0..rounds {
        for _ in 0..step {
            leaves.push(leaf_hash(&(leaves.len() as u64).to_be_bytes()));
        }
        let new = leaves.len();
        let proof = if old == 0 {
            Vec::new()
        } else {
            consistency_proof(&mut leaves[..], old as u64, new as u64).unwrap()
        };
        let mut note = Note::new(format!(
            "{ORIGIN}\n{new}\n{}\n",
            root_of(&leaves).to_base64()
        ))
        .unwrap();
        note.sign(&log, 0);
        let mut body = format!("old {old}\n");
        for hash in &proof {
            body.push_str(&hash.to_base64());
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&note.to_string());
        requests.push(body);
        old = new;
    }

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let public = "https://witness.example";
    let samples = runtime.block_on(async {
        let ledger = open_ledger(&data, None, public, Duration::from_millis(1)).unwrap();
        let node = Node::open(&data, ledger, public).unwrap();
        let signer =
            NoteSigner::cosigner("witness.example/witness", KeyPair::from_seed(&[6; 32])).unwrap();
        node.set_witness(Witness::new(signer, vec![log.verifier().clone()]));
        let mut samples = Vec::with_capacity(rounds);
        for body in &requests {
            let started = Instant::now();
            let added = node.add_checkpoint(body).await.unwrap();
            samples.push(started.elapsed());
            assert!(matches!(added, Added::Cosigned(_)), "{added:?}");
        }
        samples
    });
    let mut sorted = samples;
    sorted.sort();
    println!(
        "witness add-checkpoint (verify, consistency, sled write + flush, cosign): p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms   ({rounds} checkpoints, +{step} entries each, log of {} entries at the end)",
        percentile(&sorted, 0.5).as_secs_f64() * 1e3,
        percentile(&sorted, 0.99).as_secs_f64() * 1e3,
        sorted[sorted.len() - 1].as_secs_f64() * 1e3,
        rounds * step
    );
}
