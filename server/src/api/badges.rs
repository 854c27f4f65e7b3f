//! Badges and endorsements: issuing, standing changes, fetching credentials with their
//! receipts, the status lists and files credentials point at, and verification.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use guildmark_credentials::receipt::Receipt;
use guildmark_credentials::Report;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::MaybeCaller;
use super::body::StrictJson;
use super::AppState;
use crate::node::badge::{CredentialKind, CredentialRecord, IssueRequest, Standing, StatusChange};
use crate::node::claim::{is_email, ClaimOffer};
use crate::node::endorsement::EndorseRequest;
use crate::node::status::Purpose;
use crate::node::Node;
use crate::problem::Problem;
use guildmark_credentials::baked::ImageFormat;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/communities/{slug}/badges", post(issue))
        .route(
            "/api/v1/communities/{slug}/badges/{uuid}/revoke",
            post(revoke),
        )
        .route(
            "/api/v1/communities/{slug}/badges/{uuid}/suspend",
            post(suspend),
        )
        .route(
            "/api/v1/communities/{slug}/badges/{uuid}/reinstate",
            post(reinstate),
        )
        .route("/api/v1/credentials/{uuid}", get(credential))
        .route("/api/v1/claims/{token}", get(claim_info).post(claim_badge))
        .route("/api/v1/endorsements", post(endorse))
        .route("/api/v1/verify", post(verify))
        .route("/credentials/{uuid}", get(raw_credential))
        .route("/credentials/{uuid}/baked/{format}", get(baked_badge))
        .route(
            "/communities/{slug}/status/{epoch}/{purpose}/{number}",
            get(status_list),
        )
        .route("/files/{sha256}", get(file))
}

/// A credential with what a holder needs to prove it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CredentialView {
    /// Its UUID.
    pub uuid: String,
    /// Badge or endorsement.
    pub kind: CredentialKind,
    /// A badge's standing now.
    pub standing: Option<Standing>,
    /// The achievement (badges) or endorsed thing (endorsements).
    pub subject: String,
    /// The signed credential.
    #[schema(value_type = Object)]
    pub credential: Value,
    /// Its ledger receipt: inclusion proof and signed checkpoint.
    #[schema(value_type = Object)]
    pub receipt: Receipt,
    /// For a badge just awarded to an email address: how the person gets the claim link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<ClaimOffer>,
}

fn view(
    node: &Node,
    record: CredentialRecord,
    receipt: Option<Receipt>,
) -> Result<CredentialView, Problem> {
    let receipt = match receipt {
        Some(r) => r,
        None => node.receipt(&record)?,
    };
    Ok(CredentialView {
        standing: match record.kind {
            CredentialKind::Badge => Some(node.standing(&record)?),
            CredentialKind::Endorsement | CredentialKind::Attestation => None,
        },
        uuid: record.uuid,
        kind: record.kind,
        subject: record.subject,
        credential: record.credential,
        receipt,
        claim: None,
    })
}

/// Issue a badge (admin, assessor; overriding prerequisites: admin). Returns once the
/// ledger has acknowledged it.
#[utoipa::path(post, path = "/api/v1/communities/{slug}/badges", tag = "badges", request_body = IssueRequest,
    responses((status = 201, body = CredentialView), (status = 409, description = "prerequisite missing"), (status = 422)))]
async fn issue(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(slug): Path<String>,
    StrictJson(request): StrictJson<IssueRequest>,
) -> Result<(StatusCode, Json<CredentialView>), Problem> {
    if is_email(&request.recipient) {
        let (record, receipt, offer) = state
            .node
            .award_to_email(caller.get(), &slug, request)
            .await?;
        let mut answer = view(&state.node, record, Some(receipt))?;
        answer.claim = Some(offer);
        return Ok((StatusCode::CREATED, Json(answer)));
    }
    let (record, receipt) = state.node.issue_badge(caller.get(), &slug, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state.node, record, Some(receipt))?),
    ))
}

/// What a claim link is for (anyone with the link).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimView {
    /// The badge awarded to an email address.
    pub badge: String,
    /// Its achievement's title.
    pub title: String,
    /// The awarding community.
    pub community: String,
    /// `open`, `claimed` or `expired`.
    pub state: String,
    /// When the link stops working.
    pub expires: String,
}

/// What a claim link is for.
#[utoipa::path(get, path = "/api/v1/claims/{token}", tag = "badges", responses((status = 200, body = ClaimView), (status = 404)))]
async fn claim_info(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<ClaimView>, Problem> {
    let (claim, record) = state.node.claim(&token)?;
    Ok(Json(ClaimView {
        badge: record.credential["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        title: record.credential["credentialSubject"]["achievement"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        community: record.community.unwrap_or_default(),
        state: claim.state().into(),
        expires: claim.expires.to_string(),
    }))
}

/// Claim a badge awarded to your email address (logged in): a new badge bound to your
/// DID, citing the emailed one. A link works once.
#[utoipa::path(post, path = "/api/v1/claims/{token}", tag = "badges", responses((status = 201, body = CredentialView), (status = 401), (status = 404), (status = 409)))]
async fn claim_badge(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(token): Path<String>,
) -> Result<(StatusCode, Json<CredentialView>), Problem> {
    let (record, receipt) = state.node.claim_badge(caller.get(), &token).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state.node, record, Some(receipt))?),
    ))
}

/// The result of a standing change.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StandingView {
    /// The badge's standing now.
    pub standing: Standing,
    /// The re-signed, logged status list.
    #[schema(value_type = Object)]
    pub status_list: Value,
}

async fn change(
    state: AppState,
    caller: MaybeCaller,
    slug: String,
    uuid: String,
    change: StatusChange,
) -> Result<Json<StandingView>, Problem> {
    let list = state
        .node
        .set_standing(caller.get(), Some(&slug), &uuid, change)
        .await?;
    let record = state.node.credential(&uuid)?;
    Ok(Json(StandingView {
        standing: state.node.standing(&record)?,
        status_list: list,
    }))
}

/// Revoke a badge for good (admin).
#[utoipa::path(post, path = "/api/v1/communities/{slug}/badges/{uuid}/revoke", tag = "badges", responses((status = 200, body = StandingView), (status = 409)))]
async fn revoke(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path((slug, uuid)): Path<(String, String)>,
) -> Result<Json<StandingView>, Problem> {
    change(state, caller, slug, uuid, StatusChange::Revoke).await
}

/// Withdrawn: badges are no longer suspended (410 Gone). Open Badges verifiers read one
/// revocation entry; a suspension they do not see would let a withdrawn badge look valid
/// to them. Revoke instead; a suspension set earlier can still be lifted (`reinstate`).
#[utoipa::path(post, path = "/api/v1/communities/{slug}/badges/{uuid}/suspend", tag = "badges", responses((status = 410)))]
async fn suspend(Path((_slug, _uuid)): Path<(String, String)>) -> Problem {
    Problem::new(
        StatusCode::GONE,
        "suspension-withdrawn",
        "Suspension withdrawn",
        "badges can no longer be suspended: Open Badges verifiers check only revocation, so a suspended badge would look valid to them; revoke it instead (a suspension set earlier can still be lifted with reinstate)",
    )
}

/// Lift a badge's suspension (admin, assessor).
#[utoipa::path(post, path = "/api/v1/communities/{slug}/badges/{uuid}/reinstate", tag = "badges", responses((status = 200, body = StandingView), (status = 409)))]
async fn reinstate(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path((slug, uuid)): Path<(String, String)>,
) -> Result<Json<StandingView>, Problem> {
    change(state, caller, slug, uuid, StatusChange::Reinstate).await
}

/// A credential with its standing and ledger receipt.
#[utoipa::path(get, path = "/api/v1/credentials/{uuid}", tag = "badges", responses((status = 200, body = CredentialView), (status = 404)))]
async fn credential(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Json<CredentialView>, Problem> {
    let record = state.node.credential(&uuid)?;
    Ok(Json(view(&state.node, record, None)?))
}

/// A member's badges.
#[utoipa::path(get, path = "/api/v1/accounts/{username}/badges", tag = "badges", responses((status = 200, body = Vec<CredentialView>)))]
pub(crate) async fn badges_of(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Vec<CredentialView>>, Problem> {
    if state.node.account(&username)?.is_none() {
        return Err(Problem::not_found(format!(
            "there is no account {username:?}"
        )));
    }
    let records = state.node.badges_of(&username)?;
    let views = records
        .into_iter()
        .map(|r| view(&state.node, r, None))
        .collect::<Result<_, _>>()?;
    Ok(Json(views))
}

/// Endorse a badge or achievement (members holding that achievement).
#[utoipa::path(post, path = "/api/v1/endorsements", tag = "badges", request_body = EndorseRequest, responses((status = 201, body = CredentialView), (status = 403)))]
async fn endorse(
    State(state): State<AppState>,
    caller: MaybeCaller,
    StrictJson(request): StrictJson<EndorseRequest>,
) -> Result<(StatusCode, Json<CredentialView>), Problem> {
    let node = &state.node;
    let (record, receipt) = node.endorse(caller.get(), request).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(node, record, Some(receipt))?),
    ))
}

/// Verify a credential or presentation: the same report as `guildmark verify`, with
/// this node's status lists supplied for its own credentials.
#[utoipa::path(post, path = "/api/v1/verify", tag = "verify", request_body(content = Object, description = "a credential or presentation"),
    responses((status = 200, description = "the verification report"), (status = 503, description = "every core is verifying; retry")))]
async fn verify(
    State(state): State<AppState>,
    StrictJson(document): StrictJson<Value>,
) -> Result<Json<Report>, Problem> {
    if !document.is_object() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "Invalid request body",
            "send a credential, presentation or provenance bundle: a JSON object",
        ));
    }
    Ok(Json(state.node.verify_untrusted(document).await?))
}

fn json_response(value: &Value, cache: &'static str) -> Response {
    let mut response = Json(value).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// `GET /credentials/{uuid}`: the credential at its id.
async fn raw_credential(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Response, Problem> {
    let record = state.node.credential(&uuid)?;
    Ok(json_response(&record.credential, "public, max-age=86400"))
}

/// `GET /credentials/{uuid}/baked/{png|svg}`: the badge baked into its achievement's
/// image (Open Badges 3.0 §5.3), as a download.
async fn baked_badge(
    State(state): State<AppState>,
    Path((uuid, format)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let format = match format.as_str() {
        "png" => ImageFormat::Png,
        "svg" => ImageFormat::Svg,
        other => {
            return Err(Problem::not_found(format!(
                "badges are baked as png or svg, not {other:?}"
            )))
        }
    };
    let bytes = state.node.baked_badge(&uuid, format)?;
    let extension = match format {
        ImageFormat::Png => "png",
        ImageFormat::Svg => "svg",
    };
    let mut response = inert(bytes, format.media_type(), "no-cache");
    // The UUID was found, so it is a plain UUID: safe in a header.
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"badge-{uuid}.{extension}\""
    )) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /communities/{slug}/status/{epoch}/{purpose}/{n}`: the latest signed list.
async fn status_list(
    State(state): State<AppState>,
    Path((slug, epoch, purpose, number)): Path<(String, usize, String, u64)>,
) -> Result<Response, Problem> {
    let purpose = Purpose::parse(&purpose)
        .ok_or_else(|| Problem::not_found(format!("there are no {purpose:?} lists")))?;
    let list = state.node.status_list(&slug, epoch, purpose, number)?;
    Ok(json_response(&list, "no-cache"))
}

/// `GET /files/{sha256}`: an upload, served inert (no sniffing, sandboxed).
async fn file(
    State(state): State<AppState>,
    Path(sha256): Path<String>,
) -> Result<Response, Problem> {
    let (file, bytes) = state.node.file_bytes(&sha256)?;
    Ok(inert(
        bytes,
        file.kind.media_type(),
        "public, max-age=31536000, immutable",
    ))
}

/// Bytes from users (uploads, images baked from them) served inert: their type, no
/// sniffing, and a sandbox so that an SVG's script cannot run as this site.
fn inert(bytes: Vec<u8>, media_type: &'static str, cache: &'static str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
