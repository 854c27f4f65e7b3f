//! The node store across releases: a store written by an earlier release opens, is
//! migrated to this release's layout, and serves everything it held.
//!
//! `testdata/node-store-v0` is a whole data directory (`keys/`, `ledger/`, `node/`)
//! that `guildmark serve --demo --public-url http://fixture.example` wrote at commit
//! 36ce778, before the node store recorded a layout version; the sled files are gzipped.

use std::path::Path;
use std::time::Duration;

use guildmark_credentials::Contexts;
use guildmark_review_protocols::provenance::verify_bundle;
use guildmark_review_protocols::Verdict;
use guildmark_server::cli::serve::open_ledger;
use guildmark_server::node::badge::{IssueRequest, Standing};
use guildmark_server::node::demo::{demo_serial, DEMO_PASSWORD};
use guildmark_server::node::migrate::LAYOUT_VERSION;
use guildmark_server::node::Node;

use crate::common::vectors;

const PUBLIC: &str = "http://fixture.example";

/// Copies the fixture into `data`, unzipping the stores and giving the keys the modes
/// the node insists on (git keeps neither 0600 nor 0700).
fn unpack(from: &Path, data: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(data).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_dir() {
            let dir = data.join(&name);
            unpack(&path, &dir);
            if path.components().any(|c| c.as_os_str() == "keys") {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
            }
        } else if let Some(plain) = name.strip_suffix(".gz") {
            let bytes = std::fs::read(&path).unwrap();
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
                .unwrap();
            std::fs::write(data.join(plain), out).unwrap();
        } else {
            std::fs::copy(&path, data.join(&name)).unwrap();
            if name.ends_with(".key") {
                let mode = std::fs::Permissions::from_mode(0o600);
                std::fs::set_permissions(data.join(&name), mode).unwrap();
            }
        }
    }
}

fn open(data: &Path) -> std::sync::Arc<Node> {
    let ledger = open_ledger(data, None, PUBLIC, Duration::from_millis(1)).unwrap();
    Node::open(data, ledger, PUBLIC).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_written_before_layout_versions_opens_migrated_with_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    unpack(&vectors().join("node-store-v0"), &data);
    let node = open(&data);
    assert_eq!(
        node.opened_layout(),
        Some(0),
        "the fixture predates layout versions"
    );
    assert_eq!(node.layout_version().unwrap(), Some(LAYOUT_VERSION));

    // Everything the demo wrote reads back: communities, members, badges, batches.
    let slugs: Vec<String> = node
        .communities()
        .unwrap()
        .into_iter()
        .map(|c| c.slug)
        .collect();
    assert_eq!(slugs, ["kestrel", "lumen", "saltmarsh"]);
    assert_eq!(node.members("saltmarsh").unwrap().len(), 5);
    let felix: Vec<String> = node
        .badges_of("felix")
        .unwrap()
        .into_iter()
        .map(|b| b.subject.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        felix,
        [
            "soldering-l1",
            "soldering-l2",
            "battery-safety",
            "electrical-safety",
            "power-electronics-reviewer"
        ]
    );
    let verdicts: Vec<Verdict> = node.batches().unwrap().iter().map(|b| b.verdict).collect();
    assert_eq!(
        verdicts,
        [Verdict::Certified, Verdict::Pending, Verdict::Rejected]
    );

    // The certified device's bundle, assembled from the migrated records, verifies.
    let bundle = node.bundle(&demo_serial(7)).unwrap();
    // As of its assembly (a fixed date failed once the bundle was assembled after it).
    let now = bundle.assembled_at;
    let verified = verify_bundle(&bundle, None, &Contexts::bundled(), now);
    assert!(verified.report.verified, "{}", verified.report);

    // Status lists written before lists were signed eddsa-rdfc-2022 with a validUntil are
    // re-signed (`serve` does it at start), keeping every bit; badges issued then, with
    // their two status entries and eddsa-jcs-2022 proofs, keep verifying against them,
    // and the suspension lists they point at stay served.
    let old = node.badges_of("felix").unwrap().remove(0);
    assert_eq!(
        old.credential["credentialStatus"].as_array().unwrap().len(),
        2
    );
    let standings = |node: &Node| -> Vec<_> {
        [
            "mira", "tomas", "jun", "ada", "noor", "felix", "ines", "oskar", "priya", "bo", "lea",
        ]
        .iter()
        .flat_map(|u| node.badges_of(u).unwrap())
        .map(|b| (b.uuid.clone(), node.standing(&b).unwrap()))
        .collect()
    };
    let before = standings(&node);
    assert!(
        before.iter().any(|(_, s)| *s == Standing::Revoked),
        "{before:?}"
    );
    let lists = node.lists_for(&old.credential);
    assert_eq!(lists.len(), 2);
    for list in &lists {
        assert_eq!(list["proof"]["cryptosuite"], "eddsa-jcs-2022", "{list:#}");
        assert!(list.get("validUntil").is_none());
    }
    let refreshed = node.refresh_lists().await.unwrap();
    assert_eq!(
        refreshed, 6,
        "three communities' revocation and suspension lists"
    );
    assert_eq!(
        node.refresh_lists().await.unwrap(),
        0,
        "nothing left to re-sign"
    );
    for list in node.lists_for(&old.credential) {
        assert_eq!(
            list["proof"][0]["cryptosuite"], "eddsa-rdfc-2022",
            "{list:#}"
        );
        assert!(list.get("validUntil").is_some());
    }
    assert_eq!(standings(&node), before);
    let report = node.verify_document(old.credential.clone()).unwrap();
    assert!(report.verified, "{report}");
    let bundle = node.bundle(&demo_serial(7)).unwrap();
    let verified = verify_bundle(&bundle, None, &Contexts::bundled(), now);
    assert!(verified.report.verified, "{}", verified.report);

    // The store is writable as this release writes: Noor signs in and issues a badge.
    let (session, _) = node.login("noor", DEMO_PASSWORD, "test").await.unwrap();
    let noor = node.session(&session).unwrap();
    let request = IssueRequest {
        recipient: "ines".into(),
        achievement: "soldering-l2".into(),
        narrative: Some("After the migration.".into()),
        evidence: Vec::new(),
        valid_from: None,
        valid_until: None,
        override_prerequisites: None,
    };
    let (badge, _) = node
        .issue_badge(Some(&noor), "saltmarsh", request)
        .await
        .unwrap();
    node.ledger().shutdown();
    node.shutdown().unwrap();
    drop(node);

    // Reopened, it is at this release's layout with nothing to migrate.
    let node = open(&data);
    assert_eq!(node.opened_layout(), Some(LAYOUT_VERSION));
    assert_eq!(node.credential(&badge.uuid).unwrap().subject, badge.subject);
}
