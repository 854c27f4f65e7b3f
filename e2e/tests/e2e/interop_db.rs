//! Digital Bazaar's VC libraries (npm, installed from `interop/package-lock.json` on
//! first use) against Guildmark: they verify every credential a node logged — badges, the
//! endorsement, batch, protocol, attestations and status lists, as issued
//! (eddsa-rdfc-2022 for Open Badges credentials and status lists, eddsa-jcs-2022 for
//! Guildmark's own types) and re-signed with `guildmark sign --suite eddsa-rdfc-2022` — and
//! refuse tampered copies; Guildmark verifies credentials they sign with random content
//! and keys in both suites; and both decode the node's status lists to the same bits.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use guildmark_credentials::status_list::StatusListCredential;
use serde_json::{json, Value};

use crate::common::{guildmark, keygen, vectors, Server};
use crate::http::Api;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../e2e/interop")
}

/// `node db.mjs ARGS`, after `npm ci` when the packages are missing.
pub(crate) fn db(args: &[&str]) -> Value {
    node_script("db.mjs", args, &[])
}

/// `node SCRIPT ARGS` in `e2e/interop` with `env` added, after `npm ci` when the packages
/// are missing; its JSON output.
pub(crate) fn node_script(script: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    let dir = interop_dir();
    // Every package package.json names, so that a checkout that gained one installs again.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("package.json")).unwrap()).unwrap();
    let installed = manifest["dependencies"]
        .as_object()
        .unwrap()
        .keys()
        .all(|package| dir.join("node_modules").join(package).exists());
    if !installed {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("npm (Node 20) is needed for the interoperability tests");
        assert!(status.success(), "npm ci in {}", dir.display());
    }
    let output = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .env("GUILDMARK_CONTEXTS_DIR", vectors().join("contexts"))
        .env(
            "GUILDMARK_CONTEXT_FILE",
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../credentials/src/jsonld/guildmark-v1.jsonld"),
        )
        .env(
            "GUILDMARK_SCHEMAS_DIR",
            vectors().join("open-badges-3/schemas"),
        )
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node {script} {args:?}:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The last line is the answer (libraries may log before it).
    let last = stdout.trim().lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("node {script}: {e}: {stdout}"))
}

/// Every credential in the node's ledger, by entry kind; status lists only as last logged.
pub(crate) async fn logged(api: &Api) -> Vec<(String, Value)> {
    let size = api.get("/api/v1/ledger").await.expect(200)["size"]
        .as_u64()
        .unwrap();
    let mut out = Vec::new();
    let mut lists = BTreeMap::new();
    for index in 0..size {
        let entry = api
            .get(&format!("/api/v1/ledger/entries/{index}"))
            .await
            .expect(200)["entryJson"]
            .clone();
        let kind = entry["kind"].as_str().unwrap().to_owned();
        let payload = entry["payload"].clone();
        if payload.get("proof").is_none() {
            continue; // verdict records are not credentials
        }
        if kind == "status-list" {
            lists.insert(payload["id"].as_str().unwrap().to_owned(), payload);
        } else {
            out.push((format!("{kind} {index}"), payload));
        }
    }
    out.extend(lists.into_values().map(|l| ("status-list".to_owned(), l)));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digital_bazaar_and_guildmark_verify_each_other() {
    let server = Server::start(&["--demo"]);
    let api = Api::new(&server.url);
    let dir = tempfile::tempdir().unwrap();
    let credentials = logged(&api).await;
    let kinds: BTreeMap<String, usize> =
        credentials.iter().fold(BTreeMap::new(), |mut m, (k, c)| {
            let kind = c["type"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned();
            *m.entry(format!("{} {kind}", k.split(' ').next().unwrap()))
                .or_default() += 1;
            m
        });
    println!("credentials the demo node logged: {kinds:?}");
    for wanted in [
        "OpenBadgeCredential",
        "EndorsementCredential",
        "ProductBatchCredential",
        "ReviewProtocolCredential",
        "ReviewAttestation",
        "BitstringStatusListCredential",
    ] {
        assert!(
            kinds.keys().any(|k| k.ends_with(wanted)),
            "no {wanted} among {kinds:?}"
        );
    }

    // The same credentials re-signed with eddsa-rdfc-2022 by the CLI, with its own key.
    let did = keygen(dir.path(), "k.key");
    let mut items = Vec::new();
    for (name, credential) in &credentials {
        items.push(json!({"name": format!("{name} jcs"), "credential": credential}));
        let mut unsigned = credential.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        match unsigned.get_mut("issuer") {
            Some(Value::Object(issuer)) => {
                issuer.insert("id".into(), did.clone().into());
            }
            _ => unsigned["issuer"] = did.clone().into(),
        }
        let signed = guildmark(
            dir.path(),
            &["sign", "--key", "k.key", "--suite", "eddsa-rdfc-2022"],
            Some(unsigned.to_string().as_bytes()),
        )
        .expect(0);
        let signed: Value = serde_json::from_str(&signed.stdout).unwrap();
        items.push(json!({"name": format!("{name} rdfc"), "credential": signed}));
    }
    // Tampered copies must be refused by them too.
    let mut tampered = Vec::new();
    for item in items.iter().step_by(5) {
        let mut copy = item.clone();
        copy["name"] = format!("{} tampered", item["name"].as_str().unwrap()).into();
        copy["credential"]["validFrom"] = "2020-01-01T00:00:00Z".into();
        tampered.push(copy);
    }
    let all: Vec<Value> = items.iter().chain(&tampered).cloned().collect();
    std::fs::write(
        dir.path().join("ours.json"),
        serde_json::to_vec(&all).unwrap(),
    )
    .unwrap();
    let results = db(&["verify", dir.path().join("ours.json").to_str().unwrap()]);
    let mut accepted = 0;
    for result in results.as_array().unwrap() {
        let name = result["name"].as_str().unwrap();
        let expected = !name.ends_with("tampered");
        assert_eq!(result["verified"], expected, "{result:#}");
        accepted += usize::from(expected);
    }
    assert_eq!(accepted, items.len());

    // Credentials they sign, with random content and keys, verify here.
    let signed_file = dir.path().join("theirs.json");
    db(&["sign", "60", signed_file.to_str().unwrap()]);
    let theirs: Value = serde_json::from_slice(&std::fs::read(&signed_file).unwrap()).unwrap();
    let contexts = vectors().join("contexts");
    for item in theirs.as_array().unwrap() {
        let file = dir.path().join("one.json");
        std::fs::write(&file, item["credential"].to_string()).unwrap();
        let run = guildmark(
            dir.path(),
            &[
                "verify",
                "--contexts",
                contexts.to_str().unwrap(),
                "one.json",
            ],
            None,
        );
        assert_eq!(
            run.code, 0,
            "{}: {}\n{:#}",
            item["name"], run.stdout, item["credential"]
        );
    }

    // Status lists: the same bits, all of them.
    let lists: Vec<&Value> = credentials
        .iter()
        .filter(|(k, _)| k == "status-list")
        .map(|(_, c)| c)
        .collect();
    std::fs::write(
        dir.path().join("lists.json"),
        serde_json::to_vec(&lists).unwrap(),
    )
    .unwrap();
    let decoded = db(&["status", dir.path().join("lists.json").to_str().unwrap()]);
    let mut bits = 0;
    for (list, theirs) in lists.iter().zip(decoded.as_array().unwrap()) {
        let ours = StatusListCredential::parse(list).unwrap();
        let set: Vec<usize> = ours.list.set_bits().collect();
        let their_set: Vec<usize> = serde_json::from_value(theirs["set"].clone()).unwrap();
        assert_eq!(set, their_set, "{}", list["id"]);
        assert_eq!(theirs["length"], ours.list.len());
        bits += ours.list.len();
    }
    assert!(
        decoded
            .as_array()
            .unwrap()
            .iter()
            .any(|l| !l["set"].as_array().unwrap().is_empty()),
        "the demo's revoked badge is set somewhere"
    );
    println!(
        "Digital Bazaar verified {} credentials ({} kinds, both suites) and refused {} tampered; Guildmark verified {} of theirs; {} lists ({bits} bits) decode alike",
        items.len(),
        kinds.len(),
        tampered.len(),
        theirs.as_array().unwrap().len(),
        lists.len()
    );
}
