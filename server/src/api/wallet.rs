//! OpenID for Verifiable Credential Issuance 1.0 (pre-authorized code flow) over HTTP:
//! the issuer and authorization server metadata, the token, nonce and credential
//! endpoints a wallet calls, and the offer a member asks for. The wallet endpoints answer
//! errors as OAuth does (`application/json` with `error` and `error_description`, which
//! wallets read), carrying the RFC 9457 members too.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::MaybeCaller;
use super::AppState;
use crate::node::wallet::{Offer, WalletError};
use crate::problem::{Problem, TYPE_PREFIX};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-credential-issuer",
            get(issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server),
        )
        .route("/oid4vci/token", post(token))
        .route("/oid4vci/nonce", post(nonce))
        .route("/oid4vci/credential", post(credential))
        .route("/api/v1/credentials/{uuid}/offer", post(offer))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for WalletError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({
            "error": self.code,
            "error_description": self.description,
            "type": format!("{TYPE_PREFIX}{}", self.code.replace('_', "-")),
            "title": "OpenID4VCI request refused",
            "status": self.status,
            "detail": self.description,
        });
        let mut response = no_store((status, Json(body)).into_response());
        if self.status == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
        }
        response
    }
}

/// `GET /.well-known/openid-credential-issuer`
async fn issuer_metadata(State(state): State<AppState>) -> Json<Value> {
    Json(state.node.issuer_metadata())
}

/// `GET /.well-known/oauth-authorization-server`
async fn authorization_server(State(state): State<AppState>) -> Json<Value> {
    Json(state.node.authorization_server_metadata())
}

/// A token request (form-encoded).
#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    #[serde(rename = "pre-authorized_code")]
    pre_authorized_code: Option<String>,
}

/// `POST /oid4vci/token`: a pre-authorized code for an access token.
async fn token(
    State(state): State<AppState>,
    request: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, WalletError> {
    let Form(request) = request.map_err(|e| WalletError {
        code: "invalid_request",
        description: format!("the token request must be application/x-www-form-urlencoded: {e}"),
        status: 400,
    })?;
    let grant_type = request.grant_type.ok_or(WalletError {
        code: "invalid_request",
        description: "grant_type is required".into(),
        status: 400,
    })?;
    let code = request.pre_authorized_code.unwrap_or_default();
    let answer = state.node.redeem_code(&grant_type, &code).await?;
    Ok(no_store(Json(answer).into_response()))
}

/// `POST /oid4vci/nonce`
async fn nonce(State(state): State<AppState>) -> Result<Response, WalletError> {
    Ok(no_store(
        Json(state.node.wallet_nonce().await?).into_response(),
    ))
}

/// `POST /oid4vci/credential`: with the access token, a badge bound to the proven key.
async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, WalletError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("DPoP "))
        })
        .ok_or(WalletError {
            code: "invalid_token",
            description: "send the access token: Authorization: Bearer …".into(),
            status: 401,
        })?;
    let request: Value = serde_json::from_slice(&body).map_err(|e| WalletError {
        code: "invalid_credential_request",
        description: format!("the body is not JSON: {e}"),
        status: 400,
    })?;
    let (record, _) = state.node.wallet_credential(token.trim(), &request).await?;
    Ok(no_store(
        Json(json!({"credentials": [{"credential": record.credential}]})).into_response(),
    ))
}

/// Offer one of your badges to your wallet (logged in, the badge's holder).
#[utoipa::path(post, path = "/api/v1/credentials/{uuid}/offer", tag = "badges", responses((status = 201, body = Offer), (status = 401), (status = 404)))]
async fn offer(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(uuid): Path<String>,
) -> Result<(StatusCode, Json<Offer>), Problem> {
    let offer = state.node.offer_badge(caller.get(), &uuid).await?;
    Ok((StatusCode::CREATED, Json(offer)))
}
