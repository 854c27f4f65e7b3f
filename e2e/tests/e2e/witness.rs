//! A node witnessing another node's log over real HTTP (C2SP tlog-witness v1.0.0): the
//! first contact from size 0, growth with a consistency proof, and every refusal the
//! spec names — 409 with the size held (a rolled-back log), 400, 403, 404, 422 — with the
//! cosignature checked as a C2SP cosignature/v1 note signature by the witness key the
//! node publishes, here and by tlog-scales (PyPI).

use guildmark_credentials::note::{Note, VerifierKey};
use serde_json::{json, Value};

use crate::common::Server;
use crate::http::Api;

async fn post(url: &str, body: String) -> (u16, String, String) {
    let reply = reqwest::Client::new()
        .post(format!("{url}/add-checkpoint"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let content_type = reply
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, reply.text().await.unwrap())
}

fn request(old: u64, proof: &[Value], checkpoint: &str) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(hash.as_str().unwrap());
        body.push('\n');
    }
    body.push('\n');
    body.push_str(checkpoint);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_witnesses_another_nodes_log() {
    let log = Server::start(&["--demo"]);
    let log_api = Api::new(&log.url);
    let summary = log_api.get("/api/v1/ledger").await.expect(200);
    let log_key = summary["verifierKey"].as_str().unwrap().to_owned();
    let witness = Server::start(&["--witness-log", &log_key]);
    let witness_api = Api::new(&witness.url);
    let witness_key: VerifierKey = witness_api.get("/api/v1/ledger").await.expect(200)
        ["witnessKey"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let first = summary["checkpoint"].as_str().unwrap().to_owned();
    let first_size = summary["size"].as_u64().unwrap();

    // First contact from size 0: cosigned, and the line verifies as a cosignature.
    let (status, _, lines) = post(&witness.url, request(0, &[], &first)).await;
    assert_eq!(status, 200, "{lines}");
    assert!(lines.starts_with('—') && lines.ends_with('\n'), "{lines}");
    let cosigned = Note::parse(format!("{first}{lines}").as_bytes()).unwrap();
    let opened = cosigned.open(std::slice::from_ref(&witness_key)).unwrap();
    assert_eq!(
        opened.verified.len(),
        1,
        "the witness's cosignature verifies"
    );
    assert!(opened.verified[0].1.is_some_and(|t| t > 0), "timestamped");

    // The log grows; the witness follows with a consistency proof.
    let noor = log_api.token("noor", "guildmark-demo").await;
    log_api
        .post(
            "/api/v1/communities/saltmarsh/badges",
            Some(&noor),
            json!({"recipient": "ines", "achievement": "soldering-l2"}),
        )
        .await
        .expect(201);
    let grown = log_api.get("/api/v1/ledger").await.expect(200);
    let second = grown["checkpoint"].as_str().unwrap().to_owned();
    let proof = log_api
        .get(&format!("/api/v1/ledger/consistency?from={first_size}"))
        .await
        .expect(200)["proof"]
        .as_array()
        .unwrap()
        .clone();
    // A stale old size (the log restored from an older copy): 409 with the size held.
    let (status, content_type, body) = post(&witness.url, request(0, &[], &second)).await;
    assert_eq!(
        (status, content_type.as_str(), body.as_str()),
        (409, "text/x.tlog.size", format!("{first_size}\n").as_str())
    );
    // A wrong proof: 422; old > new: 400.
    let mut wrong = proof.clone();
    wrong[0] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_eq!(
        post(&witness.url, request(first_size, &wrong, &second))
            .await
            .0,
        422
    );
    assert_eq!(
        post(&witness.url, request(first_size + 100, &proof, &second))
            .await
            .0,
        400
    );
    let (status, _, lines) = post(&witness.url, request(first_size, &proof, &second)).await;
    assert_eq!(status, 200, "{lines}");
    // tlog-scales (PyPI), an independent C2SP implementation, accepts the cosignature.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cosigned.txt");
    std::fs::write(&file, format!("{second}{lines}")).unwrap();
    let output = std::process::Command::new(crate::interop_tlog::interop_python())
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/cosignature_check.py"))
        .arg(&file)
        .arg(&log_key)
        .arg(witness_key.to_string())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tlog-scales: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The monitoring read serves the latest cosigned checkpoint.
    let origin = summary["origin"].as_str().unwrap();
    let hash: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(origin.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let held_text = reqwest::get(format!("{}/witness/{hash}/checkpoint", witness.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        held_text.starts_with(&second[..second.find('—').unwrap()]),
        "{held_text}"
    );

    // Refused outright: a signature not by the log's key (403), another log (404), garbage (400).
    let forged = second.replace(
        second.lines().last().unwrap(),
        &format!("— {origin} AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    );
    assert_eq!(
        post(
            &witness.url,
            request(grown["size"].as_u64().unwrap(), &[], &forged)
        )
        .await
        .0,
        403
    );
    let other = format!(
        "other.example/log\n1\n{}\n\n— other.example/log AAAA\n",
        "A".repeat(43) + "="
    );
    assert_eq!(post(&witness.url, request(0, &[], &other)).await.0, 404);
    assert_eq!(post(&witness.url, "old 01\n\n".into()).await.0, 400);
}
