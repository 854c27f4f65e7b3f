//! Accounts, sessions, API tokens and holder keys.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use guildmark_credentials::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::{session_cookie, ClientAddress, MaybeCaller};
use super::body::StrictJson;
use super::AppState;
use crate::node::account::{Account, Token};
use crate::node::community::Role;
use crate::problem::Problem;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", post(create_account))
        .route(
            "/api/v1/accounts/{username}/badges",
            get(super::badges::badges_of),
        )
        .route("/api/v1/session", post(login).delete(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/tokens", post(create_token).get(tokens))
        .route("/api/v1/me/tokens/{id}", delete(revoke_token))
        .route("/api/v1/me/holder/challenge", get(holder_challenge))
        .route("/api/v1/me/holder", put(register_holder))
}

/// Username and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 2-32 of a-z 0-9 . _ -
    pub username: String,
    /// At least 10 characters.
    pub password: String,
}

/// An account as the API shows it (never its password hash).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// Login name.
    pub username: String,
    /// May create communities.
    pub operator: bool,
    /// The did:key badges are issued to.
    pub holder: String,
    /// Whether the node keeps the holder key.
    pub holder_managed: bool,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        AccountView {
            username: a.username.clone(),
            operator: a.operator,
            holder: a.holder.clone(),
            holder_managed: a.holder_managed,
        }
    }
}

/// Create an account (the node's first becomes its operator).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = Credentials,
    responses((status = 201, body = AccountView), (status = 409, description = "username taken"), (status = 422, description = "bad username or password"), (status = 429, description = "too many accounts created from this network"), (status = 503, description = "too many passwords being checked at once")))]
async fn create_account(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    StrictJson(body): StrictJson<Credentials>,
) -> Result<(StatusCode, Json<AccountView>), Problem> {
    let account = state
        .node
        .create_account(&body.username, &body.password, Some(&address))
        .await?;
    Ok((StatusCode::CREATED, Json(AccountView::from(&account))))
}

/// A new session.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// Who logged in.
    pub username: String,
    /// Send this in `X-CSRF-Token` with every write made with the session cookie.
    pub csrf_token: String,
}

/// Log in: sets the HttpOnly, SameSite=Lax session cookie.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = Credentials,
    responses((status = 200, body = SessionView), (status = 401, description = "wrong username or password"), (status = 429, description = "too many failed attempts"), (status = 503, description = "too many passwords being checked at once")))]
async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    StrictJson(body): StrictJson<Credentials>,
) -> Result<Response, Problem> {
    let (cookie, csrf) = state
        .node
        .login(&body.username, &body.password, &address)
        .await?;
    let set = crate::cookie::start_session(&state.node, &cookie);
    let mut response = Json(SessionView {
        username: body.username,
        csrf_token: csrf,
    })
    .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set).map_err(Problem::internal)?,
    );
    Ok(response)
}

/// Log out.
#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts", responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Result<Response, Problem> {
    let (parts, _) = request.into_parts();
    if let Some(cookie) = session_cookie(&parts) {
        state.node.logout(&cookie)?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(crate::cookie::CLEAR_SESSION),
    );
    Ok(response)
}

/// A membership as `me` shows it.
#[derive(Serialize, ToSchema)]
pub struct MembershipView {
    /// The community's slug.
    pub community: String,
    /// Roles there.
    pub roles: Vec<Role>,
}

/// The caller's account and memberships.
#[derive(Serialize, ToSchema)]
pub struct MeView {
    /// The account.
    pub account: AccountView,
    /// Where they are a member.
    pub memberships: Vec<MembershipView>,
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = MeView), (status = 401)))]
async fn me(State(state): State<AppState>, caller: MaybeCaller) -> Result<Json<MeView>, Problem> {
    let caller = caller.required()?;
    let memberships = state
        .node
        .memberships(&caller.account().username)?
        .into_iter()
        .map(|(community, roles)| MembershipView {
            community,
            roles: roles.into_iter().collect(),
        })
        .collect();
    Ok(Json(MeView {
        account: AccountView::from(caller.account()),
        memberships,
    }))
}

/// A token request.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewToken {
    /// What it is for.
    pub name: String,
    /// When it stops working (RFC 3339), if ever.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
}

/// A token as listed (no secret).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// Its id (for revoking).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Created.
    pub created: String,
    /// Expiry, if any.
    pub expires_at: Option<String>,
    /// The secret: present only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl TokenView {
    fn of(token: &Token, secret: Option<String>) -> Self {
        TokenView {
            id: token.id.clone(),
            name: token.name.clone(),
            created: token.created.to_string(),
            expires_at: token.expires.map(|t| t.to_string()),
            token: secret,
        }
    }
}

/// Create an API token; its secret is shown only in this response.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "accounts", request_body = NewToken, responses((status = 201, body = TokenView)))]
async fn create_token(
    State(state): State<AppState>,
    caller: MaybeCaller,
    StrictJson(body): StrictJson<NewToken>,
) -> Result<(StatusCode, Json<TokenView>), Problem> {
    let (secret, token) = state
        .node
        .create_token(caller.required()?, &body.name, body.expires_at)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenView::of(&token, Some(secret))),
    ))
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "accounts", responses((status = 200, body = Vec<TokenView>)))]
async fn tokens(
    State(state): State<AppState>,
    caller: MaybeCaller,
) -> Result<Json<Vec<TokenView>>, Problem> {
    let tokens = state.node.tokens(caller.required()?)?;
    Ok(Json(
        tokens.iter().map(|t| TokenView::of(t, None)).collect(),
    ))
}

/// Revoke one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "accounts", responses((status = 204), (status = 404)))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.node.revoke_token(caller.required()?, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a holder-key presentation must be bound to.
#[derive(Serialize, ToSchema)]
pub struct ChallengeView {
    /// The presentation proof's `challenge`.
    pub challenge: String,
    /// The presentation proof's `domain`.
    pub domain: String,
}

/// A challenge for registering one's own holder key.
#[utoipa::path(get, path = "/api/v1/me/holder/challenge", tag = "accounts", responses((status = 200, body = ChallengeView)))]
async fn holder_challenge(
    State(state): State<AppState>,
    caller: MaybeCaller,
) -> Result<Json<ChallengeView>, Problem> {
    Ok(Json(ChallengeView {
        challenge: state.node.holder_challenge(caller.required()?)?,
        domain: state.node.public_url().to_owned(),
    }))
}

/// A holder-key registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderRegistration {
    /// A verifiable presentation whose holder is the new did:key, signed by it with the
    /// challenge and domain.
    #[schema(value_type = Object)]
    pub presentation: Value,
}

/// Bring your own key: badges issued from now on go to this did:key.
#[utoipa::path(put, path = "/api/v1/me/holder", tag = "accounts", request_body = HolderRegistration, responses((status = 200, body = AccountView), (status = 422)))]
async fn register_holder(
    State(state): State<AppState>,
    caller: MaybeCaller,
    StrictJson(body): StrictJson<HolderRegistration>,
) -> Result<Json<AccountView>, Problem> {
    let account = state
        .node
        .register_holder(caller.required()?, &body.presentation)
        .await?;
    Ok(Json(AccountView::from(&account)))
}
