//! What hostile requests cost the node now (issue 17's probe, as figures): a credential
//! whose subject is a complete graph of 100 blank nodes (a canonicalization poison graph),
//! a Verify post carrying 30 GZIP-bomb status lists, and the label sheets of a
//! 100,000-unit batch. Each against the real `guildmark serve` over loopback; prints the
//! time each answer took and the node's peak memory (VmHWM) around it.
//!
//! `cargo bench -p guildmark-server --bench hostile`

#[path = "support/node_process.rs"]
mod node_process;

use std::io::Write as _;
use std::time::Instant;

use node_process::NodeProcess;
use serde_json::{json, Value};

fn peak_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap()
        / 1024
}

/// A credential whose subject links `n` blank nodes each to every other, with an
/// eddsa-rdfc-2022 proof (whose check must canonicalize it first).
fn poison_graph(n: usize) -> Value {
    let nodes: Vec<Value> = (0..n)
        .map(|i| {
            let others: Vec<Value> = (0..n)
                .filter(|j| *j != i)
                .map(|j| json!({"@id": format!("_:n{j}")}))
                .collect();
            json!({"@id": format!("_:n{i}"), "https://schema.org/knows": others})
        })
        .collect();
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://example.com/s", "https://schema.org/about": nodes},
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2026-01-01T00:00:00Z",
            "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22gkfUKKiZUMaTDDMwjnP4Kk"
        }
    })
}

/// Sends `request` and reads its answer as JSON.
async fn json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

fn main() {
    let node = NodeProcess::start(&["--demo"]);
    let base = node.base.clone();
    let pid = node.pid();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();

        // Poison graphs through the API: the probe's 100 nodes, and 32 (992 blank node
        // references, just under the limit checked before expansion).
        for n in [100, 32] {
            let document = poison_graph(n);
            let size = document.to_string().len();
            let before = peak_mib(pid);
            let started = Instant::now();
            let report = json(
                client
                .post(format!("{base}/api/v1/verify"))
                .json(&document),
            ).await;
            let took = started.elapsed();
            let text = report.to_string();
            let refused = text.contains("work limit") || text.contains("blank node identifiers");
            println!(
                "poison graph ({n} blank nodes, {} KiB): answered in {:.1} ms, refused as too complex: {refused}; peak {} MiB (from {before})",
                size / 1024,
                took.as_secs_f64() * 1e3,
                peak_mib(pid)
            );
        }

        // Thirty status lists of 16 MiB (16 KiB compressed) in a bundle, through Verify.
        let mut bundle = json(
            client
            .get(format!("{base}/api/v1/devices/MPPT20-2026-0007/bundle")),
        ).await;
        let dir = tempfile::tempdir().unwrap();
        let bin = env!("CARGO_BIN_EXE_guildmark");
        let keygen = std::process::Command::new(bin)
            .args(["keygen", "--out", "lists.key"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let did = String::from_utf8_lossy(&keygen.stdout)
            .split_whitespace()
            .find(|w| w.starts_with("did:key:"))
            .unwrap()
            .to_owned();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 16 << 20]).unwrap();
        use base64::Engine as _;
        let encoded = format!(
            "u{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(gz.finish().unwrap())
        );
        let template = bundle["statusLists"][0].clone();
        for i in 0..30 {
            let list = json!({
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": format!("https://lists.example/{i}"),
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": did, "validFrom": "2026-01-01T00:00:00Z",
                "credentialSubject": {"id": format!("https://lists.example/{i}#list"), "type": "BitstringStatusList",
                    "statusPurpose": "revocation", "encodedList": encoded}
            });
            let mut sign = std::process::Command::new(bin)
                .args(["sign", "--key", "lists.key"])
                .current_dir(dir.path())
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            sign.stdin.take().unwrap().write_all(list.to_string().as_bytes()).unwrap();
            let signed = sign.wait_with_output().unwrap();
            let mut logged = template.clone();
            logged["credential"] = serde_json::from_slice(&signed.stdout).unwrap();
            bundle["statusLists"].as_array_mut().unwrap().push(logged);
        }
        let before = peak_mib(pid);
        let started = Instant::now();
        let response = client
            .post(format!("{base}/verify"))
            .form(&[("document", bundle.to_string())])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let _ = response.bytes().await.unwrap();
        println!(
            "30 GZIP-bomb status lists in one Verify post: {status} in {:.1} ms; peak {} MiB (from {before})",
            started.elapsed().as_secs_f64() * 1e3,
            peak_mib(pid)
        );

        // A 100,000-unit batch's labels: one sheet, and the batch page.
        let api = node_process::token(&client, &base, "jun", "guildmark-demo").await;
        let protocols = json(client.get(format!("{base}/api/v1/protocols"))).await;
        let batch = json(
            client
            .post(format!("{base}/api/v1/communities/kestrel/batches"))
            .bearer_auth(&api)
            .json(&json!({"product": "MPPT20", "protocol": protocols[0]["hash"], "lotSize": 100000,
                          "serials": ["HUGE-000001..100000"], "productionDate": "2026-11-02"})),
        ).await;
        let uuid = batch["id"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        for path in [format!("/b/{uuid}/labels?sheet=417"), format!("/b/{uuid}")] {
            let before = peak_mib(pid);
            let started = Instant::now();
            let body = client.get(format!("{base}{path}")).send().await.unwrap().bytes().await.unwrap();
            println!(
                "{path} of a 100,000-unit batch: {:.0} KiB in {:.1} ms; peak {} MiB (from {before})",
                body.len() as f64 / 1024.0,
                started.elapsed().as_secs_f64() * 1e3,
                peak_mib(pid)
            );
        }
    });
    drop(node);
}
