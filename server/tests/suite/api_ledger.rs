//! The ledger read API through the real router: tile paths and proofs per C2SP, and every
//! malformed request a 4xx problem+json, never a panic or a 500.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use guildmark_credentials::merkle::{leaf_hash, Hash};
use guildmark_credentials::KeyPair;
use guildmark_server::api::AppState;
use guildmark_server::cli::serve::app as router;
use guildmark_server::ledger::{Ledger, LedgerConfig};
use serde_json::Value;
use tower::ServiceExt as _;

struct Fixture {
    app: axum::Router,
    ledger: Ledger,
    _dir: tempfile::TempDir,
}

fn fixture(entries: u32) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let config = LedgerConfig {
        pool_window: std::time::Duration::ZERO,
        ..LedgerConfig::new("api.example/log")
    };
    let ledger = Ledger::open(dir.path(), KeyPair::from_seed(&[3; 32]), config).unwrap();
    let handles: Vec<_> = (0..entries)
        .map(|i| {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                ledger
                    .append_blocking(format!("entry {i}").into_bytes(), vec![])
                    .unwrap()
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    Fixture {
        app: router(AppState {
            ledger: ledger.clone(),
            node: guildmark_server::node::Node::open(
                dir.path(),
                ledger.clone(),
                "http://api.example",
            )
            .unwrap(),
        }),
        ledger,
        _dir: dir,
    }
}

struct Reply {
    status: StatusCode,
    content_type: String,
    cache: String,
    body: Vec<u8>,
}

async fn get(app: &axum::Router, uri: &str) -> Reply {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    Reply {
        status: response.status(),
        content_type: header("content-type"),
        cache: header("cache-control"),
        body: axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap()
            .to_vec(),
    }
}

#[tokio::test]
async fn tiles_checkpoint_and_proofs_are_served_as_c2sp_says() {
    let f = fixture(300);
    let checkpoint = get(&f.app, "/checkpoint").await;
    assert_eq!(checkpoint.status, StatusCode::OK);
    assert_eq!(checkpoint.content_type, "text/plain; charset=utf-8");
    assert_eq!(
        String::from_utf8(checkpoint.body).unwrap(),
        f.ledger.published().note
    );

    let full = get(&f.app, "/tile/0/000").await;
    assert_eq!((full.status, full.body.len()), (StatusCode::OK, 8192));
    assert!(full.cache.contains("immutable"), "{}", full.cache);
    assert_eq!(full.content_type, "application/octet-stream");
    let partial = get(&f.app, "/tile/0/001.p/44").await;
    assert_eq!(partial.body.len(), 44 * 32);
    let bundle = get(&f.app, "/tile/entries/001.p/44").await;
    // The bundle's entries hash to the partial tile's leaf hashes.
    let mut at = 0;
    let mut leaves = Vec::new();
    while at < bundle.body.len() {
        let len = usize::from(u16::from_be_bytes([bundle.body[at], bundle.body[at + 1]]));
        leaves.extend(leaf_hash(&bundle.body[at + 2..at + 2 + len]).0);
        at += 2 + len;
    }
    assert_eq!(leaves, partial.body);

    let entry = get(&f.app, "/api/v1/ledger/entries/299").await;
    assert_eq!(entry.status, StatusCode::OK);
    let entry: Value = serde_json::from_slice(&entry.body).unwrap();
    let receipt: guildmark_credentials::receipt::Receipt =
        serde_json::from_value(entry["receipt"].clone()).unwrap();
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        entry["entry"].as_str().unwrap(),
    )
    .unwrap();
    receipt
        .verify(&bytes, f.ledger.verifier_key(), &[])
        .unwrap();

    let consistency = get(&f.app, "/api/v1/ledger/consistency?from=7&to=300").await;
    let proof: Value = serde_json::from_slice(&consistency.body).unwrap();
    let proof: Vec<Hash> = serde_json::from_value(proof["proof"].clone()).unwrap();
    guildmark_credentials::merkle::verify_consistency(
        7,
        300,
        &f.ledger.root(7).unwrap(),
        &f.ledger.published().checkpoint.root,
        &proof,
    )
    .unwrap();

    let summary: Value = serde_json::from_slice(&get(&f.app, "/api/v1/ledger").await.body).unwrap();
    assert_eq!(summary["size"], 300);
    assert_eq!(summary["verifierKey"], f.ledger.verifier_key().to_string());
}

#[tokio::test]
async fn malformed_requests_are_problems_not_errors() {
    let f = fixture(10);
    let cases: &[(&str, u16)] = &[
        ("/tile/0/abc", 400),
        ("/tile/0/00", 400),
        ("/tile/0/0000", 400),
        ("/tile/0/000.p/0", 400),
        ("/tile/0/000.p/256", 400),
        ("/tile/0/000.p/01", 400),
        ("/tile/64/000", 400),
        ("/tile/-1/000", 400),
        ("/tile/0/x000/001", 400),
        (
            "/tile/0/x999999/x999999/x999999/x999999/x999999/x999999/x999999/999",
            400,
        ),
        ("/tile/entries/abc", 400),
        ("/tile/0/000.p/11", 404),
        ("/tile/0/000", 404),
        ("/tile/0/001.p/1", 404),
        ("/tile/1/000.p/1", 404),
        ("/tile/entries/000", 404),
        ("/tile/entries/000.p/11", 404),
        ("/api/v1/ledger/entries/abc", 400),
        ("/api/v1/ledger/entries/-1", 400),
        ("/api/v1/ledger/entries/99999999999999999999999", 400),
        ("/api/v1/ledger/entries/10", 404),
        ("/api/v1/ledger/consistency", 400),
        ("/api/v1/ledger/consistency?from=x", 400),
        ("/api/v1/ledger/consistency?from=5&to=4", 400),
        ("/api/v1/ledger/consistency?from=5&to=11", 404),
        ("/api/v1/ledger/consistency?from=5&size=6", 400),
        ("/no/such/page", 404),
    ];
    for (uri, status) in cases {
        let reply = get(&f.app, uri).await;
        assert_eq!(
            reply.status.as_u16(),
            *status,
            "{uri}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.content_type, "application/problem+json", "{uri}");
        let problem: Value = serde_json::from_slice(&reply.body).unwrap();
        assert!(
            problem["type"]
                .as_str()
                .unwrap()
                .starts_with("urn:guildmark:problem:"),
            "{uri}"
        );
        assert_eq!(problem["status"], *status, "{uri}");
    }
    let post = f
        .app
        .clone()
        .oneshot(Request::post("/checkpoint").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
}
