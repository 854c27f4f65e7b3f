//! Who is calling: a Bearer API token or a session cookie (whose unsafe requests must
//! carry the session's CSRF token), resolved once per request.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};

use super::AppState;
use crate::node::account::{Caller, Credential};
use crate::node::error::AuthError;
use crate::problem::Problem;

/// The header carrying the CSRF token for cookie-authenticated writes.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller, if the request authenticated. A request with a bad Bearer token is
/// refused (401) rather than treated as anonymous.
pub struct MaybeCaller(pub Option<Caller>);

impl MaybeCaller {
    /// The caller as node operations take it (they decide what an anonymous one may do).
    pub fn get(&self) -> Option<&Caller> {
        self.0.as_ref()
    }

    /// The caller, or 401 for operations on one's own account.
    pub fn required(&self) -> Result<&Caller, Problem> {
        self.0
            .as_ref()
            .ok_or_else(|| crate::node::NodeError::from(AuthError::Missing).into())
    }
}

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(|| {
                    Problem::from(crate::node::NodeError::from(AuthError::MalformedHeader))
                })?;
            return Ok(MaybeCaller(Some(state.node.bearer(token.trim())?)));
        }
        let Some(cookie) = session_cookie(parts) else {
            return Ok(MaybeCaller(None));
        };
        // An ended session is simply no session; writes then get 401.
        let Ok(caller) = state.node.session(&cookie) else {
            return Ok(MaybeCaller(None));
        };
        if let Credential::Session { csrf } = caller.credential() {
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if !safe && sent != Some(csrf.as_str()) {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "CSRF token missing",
                    format!("requests authenticated by the session cookie must send the session's CSRF token in {CSRF_HEADER}"),
                ));
            }
        }
        Ok(MaybeCaller(Some(caller)))
    }
}

/// The value of the session cookie, if sent (the web UI reads it the same way).
pub fn session_cookie(parts: &Parts) -> Option<String> {
    guildmark_frontend::session_cookie(&parts.headers)
}

/// The client's address (for login rate limits); "unknown" without connection info.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_else(|| "unknown".into()),
        ))
    }
}
