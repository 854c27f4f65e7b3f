//! Peer nodes: listed for everyone, added and removed by the operator; and the
//! mirrors of their logs.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use guildmark_credentials::tile::Tile;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::MaybeCaller;
use super::body::StrictJson;
use super::AppState;
use crate::node::mirror::FollowView;
use crate::node::peer::{NewPeer, Peer};
use crate::problem::Problem;

/// The peer routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/peers", get(list).post(add))
        .route("/api/v1/peers/{*origin}", delete(remove))
        .route("/mirror/{*path}", get(mirror))
}

/// A peer, and how following its log stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeerView {
    /// The peer.
    #[serde(flatten)]
    pub peer: Peer,
    /// Its mirror here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<FollowView>,
}

/// `GET /mirror/<origin>/checkpoint` and `GET /mirror/<origin>/tile/…`: this node's
/// verified copy of a peer's log, served as the peer serves it (C2SP tlog-tiles).
async fn mirror(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, Problem> {
    let (origin, rest) = if let Some(origin) = path.strip_suffix("/checkpoint") {
        (origin, None)
    } else if let Some(at) = path.find("/tile/") {
        (&path[..at], Some(&path[at + 1..]))
    } else {
        return Err(Problem::not_found(
            "a mirror serves <origin>/checkpoint and <origin>/tile/…",
        ));
    };
    let mirror = state
        .node
        .mirror(origin)?
        .ok_or_else(|| Problem::not_found(format!("this node mirrors no log {origin:?}")))?;
    let Some(tile_path) = rest else {
        let published = mirror
            .published()
            .ok_or_else(|| Problem::not_found("nothing of this log is mirrored yet"))?;
        return Ok(typed(
            published.note.into_bytes(),
            "text/plain; charset=utf-8",
            "no-cache",
        ));
    };
    let tile = Tile::parse(tile_path).map_err(|e| Problem::bad_request(e.to_string()))?;
    let bytes = tokio::task::spawn_blocking(move || mirror.tile(&tile))
        .await
        .map_err(Problem::internal)??;
    Ok(typed(
        bytes,
        "application/octet-stream",
        "public, max-age=31536000, immutable",
    ))
}

fn typed(body: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

/// A peer to add.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeerInput {
    /// The peer's base URL.
    pub url: String,
    /// Its log's verifier key (`origin+id+base64`), which the operator got from the
    /// peer's operator.
    pub log_key: String,
    /// Its witness key; read from the peer's `/api/v1/ledger` when absent.
    #[serde(default)]
    pub witness_key: Option<String>,
}

/// The peers this node trusts, with how following their logs stands.
#[utoipa::path(get, path = "/api/v1/peers", tag = "federation", responses((status = 200, body = [PeerView])))]
pub(super) async fn list(State(state): State<AppState>) -> Result<Json<Vec<PeerView>>, Problem> {
    let peers = state.node.peers()?;
    Ok(Json(
        peers
            .into_iter()
            .map(|peer| PeerView {
                mirror: state.node.following(peer.origin()),
                peer,
            })
            .collect(),
    ))
}

/// Add a peer (operator only): this node then witnesses its log, and its witness
/// cosigns this node's checkpoints.
#[utoipa::path(post, path = "/api/v1/peers", tag = "federation", request_body = PeerInput,
    responses((status = 201, body = Peer), (status = 401), (status = 403), (status = 422), (status = 502)))]
pub(super) async fn add(
    State(state): State<AppState>,
    caller: MaybeCaller,
    StrictJson(body): StrictJson<PeerInput>,
) -> Result<(StatusCode, Json<Peer>), Problem> {
    let peer = state
        .node
        .add_peer(
            caller.get(),
            NewPeer {
                url: body.url,
                log_key: body.log_key,
                witness_key: body.witness_key,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(peer)))
}

/// Remove a peer (operator only), by its log's origin.
#[utoipa::path(delete, path = "/api/v1/peers/{origin}", tag = "federation",
    responses((status = 200, body = Peer), (status = 401), (status = 403), (status = 404)))]
pub(super) async fn remove(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(origin): Path<String>,
) -> Result<Json<Peer>, Problem> {
    Ok(Json(state.node.remove_peer(caller.get(), &origin).await?))
}
