//! Peer nodes: listed for everyone, added and removed by the operator.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::MaybeCaller;
use super::body::StrictJson;
use super::AppState;
use crate::node::peer::{NewPeer, Peer};
use crate::problem::Problem;

/// The peer routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/peers", get(list).post(add))
        .route("/api/v1/peers/{*origin}", delete(remove))
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

/// The peers this node trusts.
#[utoipa::path(get, path = "/api/v1/peers", tag = "federation", responses((status = 200, body = [Peer])))]
pub(super) async fn list(State(state): State<AppState>) -> Result<Json<Vec<Peer>>, Problem> {
    Ok(Json(state.node.peers()?))
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
