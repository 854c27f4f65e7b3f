//! The ledger's read API: C2SP tlog-tiles static paths (`/checkpoint`, `/tile/…`) and
//! JSON views of the log, an entry with its receipt, and consistency proofs.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use guildmark_credentials::merkle::{leaf_hash, Hash};
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::tile::Tile;
use serde::Serialize;

use super::AppState;
use crate::problem::Problem;

/// The ledger routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/api/v1/ledger", get(summary))
        .route("/api/v1/ledger/entries/{index}", get(entry))
        .route("/api/v1/ledger/consistency", get(consistency))
}

fn with_headers(
    body: impl IntoResponse,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// `GET /checkpoint`: the latest witnessed checkpoint with its cosignatures, or, on a
/// node without witnesses, the latest signed one (C2SP tlog-tiles).
async fn checkpoint(State(state): State<AppState>) -> Response {
    with_headers(
        state.node.served_checkpoint().note,
        "text/plain; charset=utf-8",
        "no-cache",
    )
}

/// `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/entries/<N>[.p/<W>]`. Tiles never change
/// once they exist, so they are cacheable forever.
async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, Problem> {
    let tile =
        Tile::parse(&format!("tile/{path}")).map_err(|e| Problem::bad_request(e.to_string()))?;
    let ledger = state.ledger.clone();
    let bytes = tokio::task::spawn_blocking(move || ledger.tile(&tile))
        .await
        .map_err(Problem::internal)??;
    Ok(with_headers(
        bytes,
        "application/octet-stream",
        "public, max-age=31536000, immutable",
    ))
}

/// The log at a glance, and what to pin to check it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    origin: String,
    verifier_key: String,
    size: u64,
    root: Hash,
    checkpoint: String,
    /// The node's witness key (C2SP note verifier key, cosignature/v1), when it witnesses.
    #[serde(skip_serializing_if = "Option::is_none")]
    witness_key: Option<String>,
    /// Who witnesses this log, and the latest witnessed checkpoint.
    witnessing: crate::node::cosigning::Witnessing,
}

/// `GET /api/v1/ledger`.
async fn summary(State(state): State<AppState>) -> Result<Json<Summary>, Problem> {
    let published = state.ledger.published();
    Ok(Json(Summary {
        origin: published.checkpoint.origin.clone(),
        verifier_key: state.ledger.verifier_key().to_string(),
        size: published.checkpoint.size,
        root: published.checkpoint.root,
        checkpoint: published.note,
        witness_key: state.node.witness().map(|w| w.verifier_key().to_string()),
        witnessing: state.node.witnessing()?,
    }))
}

/// One entry, its leaf hash and its receipt against the latest checkpoint.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryView {
    index: u64,
    /// The entry's bytes, base64.
    entry: String,
    /// The entry parsed as JSON, when it is JSON (Guildmark entries are).
    #[serde(skip_serializing_if = "Option::is_none")]
    entry_json: Option<serde_json::Value>,
    leaf_hash: Hash,
    receipt: Receipt,
}

fn parse_u64(what: &str, text: &str) -> Result<u64, Problem> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::bad_request(format!(
            "{what} must be a non-negative integer, not {text:?}"
        )));
    }
    text.parse()
        .map_err(|_| Problem::bad_request(format!("{what} {text} is too large")))
}

/// `GET /api/v1/ledger/entries/{index}`.
async fn entry(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> Result<Json<EntryView>, Problem> {
    let index = parse_u64("the entry index", &index)?;
    let node = state.node.clone();
    let (bytes, receipt) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::node::NodeError>((
            node.ledger().entry(index)?,
            node.receipts(&[index])?.remove(0),
        ))
    })
    .await
    .map_err(Problem::internal)??;
    Ok(Json(EntryView {
        index,
        entry: base64::engine::general_purpose::STANDARD.encode(&bytes),
        entry_json: serde_json::from_slice(&bytes).ok(),
        leaf_hash: leaf_hash(&bytes),
        receipt,
    }))
}

/// A consistency proof between two sizes.
#[derive(Serialize)]
struct ConsistencyView {
    from: u64,
    to: u64,
    proof: Vec<Hash>,
}

/// `GET /api/v1/ledger/consistency?from=A[&to=B]` (B defaults to the current size).
async fn consistency(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ConsistencyView>, Problem> {
    if let Some(unknown) = query.keys().find(|k| *k != "from" && *k != "to") {
        return Err(Problem::bad_request(format!(
            "unknown parameter {unknown:?} (use from and to)"
        )));
    }
    let from = parse_u64(
        "from",
        query
            .get("from")
            .ok_or_else(|| Problem::bad_request("the from parameter is required"))?,
    )?;
    let to = match query.get("to") {
        Some(to) => parse_u64("to", to)?,
        None => state.ledger.published().checkpoint.size,
    };
    let ledger = state.ledger.clone();
    let proof = tokio::task::spawn_blocking(move || ledger.consistency_proof(from, to))
        .await
        .map_err(Problem::internal)??;
    Ok(Json(ConsistencyView { from, to, proof }))
}
