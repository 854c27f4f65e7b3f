//! The node's HTTP API (axum): one module per area, each exporting `routes()`, merged
//! here with the layers every request goes through.

pub mod accounts;
pub mod auth;
pub mod badges;
pub mod body;
pub mod communities;
pub mod ledger;
pub mod openapi;
pub mod problem;
pub mod reviews;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

use crate::ledger::Ledger;
use crate::node::Node;
use problem::Problem;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The node's transparency ledger.
    pub ledger: Ledger,
    /// The node's domain.
    pub node: Arc<Node>,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    let pages = guildmark_frontend::router(crate::web::WebNode::shared(state.node.clone()));
    Router::new()
        .merge(ledger::routes())
        .merge(accounts::routes())
        .merge(communities::routes())
        .merge(badges::routes())
        .merge(reviews::routes())
        .merge(openapi::routes())
        .fallback(not_found)
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
        .merge(pages)
        .layer(middleware::from_fn(problems_only))
        .layer(middleware::from_fn(log_requests))
}

/// Nothing here: a friendly page for browsers, a problem for everyone else.
async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !request.uri().path().starts_with("/api/") {
        let node = crate::web::WebNode::shared(state.node.clone());
        return guildmark_frontend::not_found(node, request).await;
    }
    axum::response::IntoResponse::into_response(Problem::not_found("no such resource"))
}

/// Turns the framework's own error responses (a path segment that is not UTF-8, a bad
/// query string, …: plain text) into problem details, so every error has one shape.
async fn problems_only(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Problems and the UI's own error pages pass as they are.
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json")
                || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let detail = match axum::body::to_bytes(response.into_body(), 64 * 1024).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).into_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let slug = match status.as_u16() {
        400 => "bad-request",
        404 => "not-found",
        405 => "method-not-allowed",
        413 => "too-large",
        415 => "unsupported-media-type",
        422 => "invalid",
        s if s >= 500 => "internal",
        _ => "error",
    };
    let title = status.canonical_reason().unwrap_or("Error");
    axum::response::IntoResponse::into_response(Problem::new(status, slug, title, detail))
}

/// Logs every request with its status and duration.
async fn log_requests(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}
