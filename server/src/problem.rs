//! RFC 9457 problem details: every API error is `application/problem+json` with a
//! stable `type`, and this module is the one place that picks a status for an error —
//! for the API's answers and for the pages' refused forms alike.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ledger::LedgerError;

/// The prefix of every problem `type` (a URN: stable, and not pretending to be a page).
pub const TYPE_PREFIX: &str = "urn:guildmark:problem:";

/// A problem details document.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// `urn:guildmark:problem:<slug>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem.
    pub title: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// The request member at fault (`recipient`, `validUntil`, …), when one is: an
    /// extension member, so that clients need not read `detail`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// Seconds to wait before retrying (429 and 503).
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

impl Problem {
    /// A problem with a slug, status, title and detail.
    pub fn new(
        status: StatusCode,
        slug: &str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            type_: format!("{TYPE_PREFIX}{slug}"),
            title,
            status: status.as_u16(),
            detail: detail.into(),
            field: None,
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// 404: nothing here.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 500: an internal failure, without its details (they are logged).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the node could not complete the request; the cause is in its log",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response =
            (status, serde_json::to_string(&self).unwrap_or_default()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<LedgerError> for Problem {
    fn from(error: LedgerError) -> Self {
        match error {
            LedgerError::NotFound(detail) => Problem::not_found(detail),
            LedgerError::BadRequest(detail) => Problem::bad_request(detail),
            LedgerError::EntryTooLarge(_) => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Too large",
                error.to_string(),
            ),
            LedgerError::Duplicate { .. } => Problem::new(
                StatusCode::CONFLICT,
                "duplicate",
                "Already logged",
                error.to_string(),
            ),
            LedgerError::Pushback => Problem {
                retry_after: Some(1),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "Busy",
                    error.to_string(),
                )
            },
            LedgerError::NoSpace(_) => Problem {
                retry_after: Some(60),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "insufficient-storage",
                    "Disk full",
                    error.to_string(),
                )
            },
            LedgerError::Stopped => Problem {
                retry_after: Some(60),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "stopped",
                    "Ledger stopped",
                    "the ledger stopped after a storage failure; the node must be restarted",
                )
            },
            LedgerError::Storage(_) | LedgerError::Corrupt(_) => Problem::internal(error),
        }
    }
}

impl From<crate::node::NodeError> for Problem {
    fn from(error: crate::node::NodeError) -> Self {
        use crate::node::NodeError as E;
        let detail = error.to_string();
        let field = error.field().map(|f| f.as_str());
        if let E::Storage(crate::node::error::StorageError::Durable(
            crate::durable::DurableError::NoSpace { .. },
        )) = &error
        {
            return LedgerError::NoSpace(detail).into();
        }
        let problem = match error {
            E::NotFound { .. } => Problem::not_found(detail),
            E::Invalid { .. } => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "Invalid request",
                detail,
            ),
            E::Conflict { .. } => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
            }
            E::PrerequisiteMissing { .. } => Problem::new(
                StatusCode::CONFLICT,
                "prerequisite-missing",
                "Prerequisite missing",
                detail,
            ),
            E::NotQualified(_) => Problem::new(
                StatusCode::FORBIDDEN,
                "not-qualified",
                "Reviewer not qualified",
                detail,
            ),
            E::NotIndependent(_) => Problem::new(
                StatusCode::FORBIDDEN,
                "not-independent",
                "Reviewer not independent",
                detail,
            ),
            E::Unauthenticated(_) => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                detail,
            ),
            E::Forbidden { .. } => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
            }
            E::Peer { .. } => Problem::new(
                StatusCode::BAD_GATEWAY,
                "peer-failed",
                "The other node failed",
                detail,
            ),
            E::Busy { retry_after, .. } => Problem {
                retry_after: Some(u32::try_from(retry_after).unwrap_or(u32::MAX)),
                ..Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy", detail)
            },
            E::RateLimited { retry_after, .. } => Problem {
                retry_after: Some(u32::try_from(retry_after).unwrap_or(u32::MAX)),
                ..Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many attempts",
                    detail,
                )
            },
            E::TooLarge { .. } => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Too large",
                detail,
            ),
            E::Ledger(e) => e.into(),
            E::Storage(_) | E::Keys(_) => Problem::internal(detail),
        };
        Problem { field, ..problem }
    }
}

/// Turns the framework's own error responses (a path segment that is not UTF-8, a bad
/// query string, …: plain text) into problem details, so every error has one shape.
pub async fn problems_only(request: Request, next: Next) -> Response {
    // OpenID4VCI's wallet endpoints answer errors as OAuth does (JSON with `error`).
    // And a witness's 409 carries the size it holds as text/x.tlog.size.
    let oauth =
        request.uri().path().starts_with("/oid4vci/") || request.uri().path() == "/add-checkpoint";
    let response = next.run(request).await;
    if oauth {
        return response;
    }
    let status = response.status();
    // Problems and the UI's own error pages pass as they are.
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
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
    Problem::new(status, slug, title, detail).into_response()
}
