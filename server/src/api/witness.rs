//! The witness endpoints (C2SP tlog-witness v1.0.0): `POST /add-checkpoint` and the
//! monitoring read `GET /witness/{origin hash}/checkpoint`. Refusals are problem
//! details, except 409, whose body the spec fixes (`text/x.tlog.size`: the size held).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::AppState;
use crate::node::witness::Added;
use crate::problem::Problem;
use guildmark_credentials::witness::Refusal;

/// The largest request: 63 proof lines and a checkpoint with many signatures fit.
const MAX_BODY: usize = 64 * 1024;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/witness/{origin_hash}/checkpoint", get(checkpoint))
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `POST /add-checkpoint`
async fn add_checkpoint(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    if body.len() > MAX_BODY {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Too large",
            format!("an add-checkpoint request is at most {MAX_BODY} bytes"),
        )
        .into_response();
    }
    let Ok(body) = std::str::from_utf8(&body) else {
        return Problem::bad_request("the request is not UTF-8 text").into_response();
    };
    match state.node.add_checkpoint(body).await {
        Ok(Added::Cosigned(lines)) => text(StatusCode::OK, "text/plain; charset=utf-8", lines),
        Ok(Added::Refused(Refusal::Conflict(size))) => text(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format!("{size}\n"),
        ),
        Ok(Added::Refused(refusal)) => {
            let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
            let (slug, title) = match refusal {
                Refusal::UnknownOrigin(_) => ("unknown-log", "Unknown log"),
                Refusal::Forbidden(_) => ("checkpoint-not-signed", "No trusted log signature"),
                Refusal::Unprocessable(_) => ("inconsistent-checkpoint", "Inconsistent checkpoint"),
                _ => ("bad-request", "Bad request"),
            };
            Problem::new(status, slug, title, refusal.to_string()).into_response()
        }
        Err(error) => Problem::from(error).into_response(),
    }
}

/// `GET /witness/{origin hash}/checkpoint`
async fn checkpoint(
    State(state): State<AppState>,
    Path(origin_hash): Path<String>,
) -> Result<Response, Problem> {
    match state.node.cosigned_checkpoint(&origin_hash)? {
        Some(note) => Ok(text(StatusCode::OK, "text/plain; charset=utf-8", note)),
        None => Err(Problem::not_found(
            "this witness has cosigned no checkpoint of that log",
        )),
    }
}
