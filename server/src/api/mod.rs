//! The node's HTTP API (axum): one module per area, each exporting `routes()`, merged
//! here with the layers every request goes through.

pub mod accounts;
pub mod auth;
pub mod badges;
pub mod body;
pub mod communities;
pub mod ledger;
pub mod openapi;
pub mod peers;
pub mod reviews;
pub mod wallet;
pub mod witness;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::Router;

use crate::ledger::Ledger;
use crate::node::Node;
use crate::problem::Problem;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The node's transparency ledger.
    pub ledger: Ledger,
    /// The node's domain.
    pub node: Arc<Node>,
}

/// The API's routes (no fallback: `serve` composes them with the pages and gives the
/// whole node one).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(ledger::routes())
        .merge(accounts::routes())
        .merge(communities::routes())
        .merge(badges::routes())
        .merge(wallet::routes())
        .merge(witness::routes())
        .merge(peers::routes())
        .merge(reviews::routes())
        .merge(openapi::routes())
        .method_not_allowed_fallback(|| async {
            Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                "this resource does not support that method",
            )
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(body::MAX_JSON))
}
