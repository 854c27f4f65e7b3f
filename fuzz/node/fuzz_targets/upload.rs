//! Multipart uploads through the node's real router: the API's file upload (as a demo
//! admin) and the Verify page's form. The first byte picks the endpoint; the rest is the
//! body, sent as `multipart/form-data; boundary=gmfuzz`. Any body must get an answer that
//! is not a server error (a 500 would mean input reached an internal failure), and a
//! stored file must be served back byte for byte.
#![no_main]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use guildmark_credentials::KeyPair;
use guildmark_server::api::AppState;
use guildmark_server::cli::serve::app;
use guildmark_server::ledger::{Ledger, LedgerConfig};
use guildmark_server::node::demo::DEMO_PASSWORD;
use guildmark_server::node::Node;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest as _, Sha256};
use std::net::SocketAddr;
use std::sync::OnceLock;
use tower::ServiceExt as _;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
    token: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (app, token) = runtime.block_on(async {
            let config = LedgerConfig {
                pool_window: std::time::Duration::ZERO,
                ..LedgerConfig::new("fuzz.example/log")
            };
            let ledger = Ledger::open(dir.path(), KeyPair::from_seed(&[5; 32]), config).unwrap();
            let node = Node::open(dir.path(), ledger.clone(), "http://fuzz.example").unwrap();
            node.seed_demo().await.unwrap();
            // Mira runs Kestrel in the demo.
            let (cookie, _) = node.login("mira", DEMO_PASSWORD, "127.0.0.1").await.unwrap();
            let mira = node.session(&cookie).unwrap();
            let (token, _) = node.create_token(&mira, "fuzz", None).await.unwrap();
            (app(AppState { ledger, node }), token)
        });
        Fixture {
            runtime,
            app,
            token,
            _dir: dir,
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let fixture = fixture();
    let to_page = pick & 1 == 1;
    let mut request = Request::post(if to_page {
        "/verify"
    } else {
        "/api/v1/communities/kestrel/files"
    })
    .header(header::CONTENT_TYPE, "multipart/form-data; boundary=gmfuzz")
    .header("sec-fetch-site", "same-origin");
    if !to_page {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", fixture.token));
    }
    let mut request = request.body(Body::from(body.to_vec())).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    fixture.runtime.block_on(async {
        let response = fixture.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        assert!(
            !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status} for a multipart body"
        );
        if status == StatusCode::CREATED {
            let answer = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
            let stored: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            let sha = stored["sha256"].as_str().unwrap();
            let served = fixture
                .app
                .clone()
                .oneshot(Request::get(format!("/files/{sha}")).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(served.status(), StatusCode::OK, "stored file {sha} not served");
            let content = axum::body::to_bytes(served.into_body(), 1 << 23).await.unwrap();
            assert_eq!(hex(&Sha256::digest(&content)), sha, "served other bytes");
        }
    });
});
