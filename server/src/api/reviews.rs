//! Peer review: protocols, batches, attestations, devices and their provenance bundles,
//! and the trust file a buyer can start from.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use guildmark_review_protocols::provenance::Trust;
use guildmark_review_protocols::Verdict;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::MaybeCaller;
use super::body::StrictJson;
use super::AppState;
use crate::node::attestation::AttestRequest;
use crate::node::batch::{BatchRecord, RegisterRequest};
use crate::node::peer_review::{PeerReview, PeerReviewRequest, ReviewAccepted};
use crate::node::protocol::{ProtocolRecord, PublishRequest};
use crate::node::Node;
use crate::problem::Problem;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/communities/{slug}/protocols", post(publish))
        .route("/api/v1/protocols", get(protocols))
        .route("/api/v1/protocols/{hash}", get(protocol))
        .route("/api/v1/protocols/{id}/{version}", get(protocol_version))
        .route("/protocols/{hex}", get(raw_protocol))
        .route("/api/v1/communities/{slug}/batches", post(register))
        .route("/api/v1/batches", get(batches))
        .route("/api/v1/batches/{uuid}", get(batch))
        .route("/api/v1/batches/{uuid}/attestations", post(attest))
        .route("/api/v1/batches/{uuid}/reviews", post(take_review))
        .route("/api/v1/reviews", post(review_on_peer))
        .route("/batches/{uuid}", get(batch))
        .route("/api/v1/devices/{serial}", get(device))
        .route("/api/v1/devices/{serial}/bundle", get(bundle))
        .route("/api/v1/trust", get(trust))
}

/// Publish a protocol (admin): validated, signed by the community, logged.
#[utoipa::path(post, path = "/api/v1/communities/{slug}/protocols", tag = "reviews", request_body = PublishRequest,
    responses((status = 201, body = ProtocolRecord), (status = 409, description = "already published"), (status = 422, description = "the protocol is not valid")))]
async fn publish(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(slug): Path<String>,
    StrictJson(request): StrictJson<PublishRequest>,
) -> Result<(StatusCode, Json<ProtocolRecord>), Problem> {
    let record = state
        .node
        .publish_protocol(caller.get(), &slug, request)
        .await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// Every published protocol (all versions).
#[utoipa::path(get, path = "/api/v1/protocols", tag = "reviews", responses((status = 200, body = Vec<ProtocolRecord>)))]
async fn protocols(State(state): State<AppState>) -> Result<Json<Vec<ProtocolRecord>>, Problem> {
    Ok(Json(state.node.protocols()?))
}

/// A protocol by content hash (`sha256:…`).
#[utoipa::path(get, path = "/api/v1/protocols/{hash}", tag = "reviews", responses((status = 200, body = ProtocolRecord), (status = 404)))]
async fn protocol(
    State(state): State<AppState>,
    Path(hash): Path<String>,
) -> Result<Json<ProtocolRecord>, Problem> {
    Ok(Json(state.node.protocol(&hash)?))
}

/// A protocol by id and version.
#[utoipa::path(get, path = "/api/v1/protocols/{id}/{version}", tag = "reviews", responses((status = 200, body = ProtocolRecord), (status = 404)))]
async fn protocol_version(
    State(state): State<AppState>,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<ProtocolRecord>, Problem> {
    Ok(Json(state.node.protocol_version(&id, &version)?))
}

/// `GET /protocols/{hex}`: the protocol credential at its id.
async fn raw_protocol(
    State(state): State<AppState>,
    Path(hex): Path<String>,
) -> Result<Response, Problem> {
    let record = state.node.protocol(&hex)?;
    Ok(Json(record.credential).into_response())
}

/// A batch as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchView {
    /// Its UUID (used in API paths).
    pub id: String,
    /// Its URL (the subject attestations name).
    pub url: String,
    /// The producing community.
    pub community: String,
    /// The product.
    pub product: String,
    /// The protocol's content hash.
    pub protocol: String,
    /// Units in the lot.
    pub lot_size: u64,
    /// Every serial number.
    pub serials: Vec<String>,
    /// When it was produced.
    pub production_date: String,
    /// The producer's notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// `certified`, `rejected` or `pending`.
    #[schema(value_type = String)]
    pub verdict: Verdict,
    /// UUIDs of its attestations, in ledger order.
    pub attestations: Vec<String>,
    /// The evaluation behind the verdict: a reason per rule, what is missing.
    #[schema(value_type = Object)]
    pub evaluation: Option<Value>,
    /// The signed batch credential.
    #[schema(value_type = Object)]
    pub credential: Value,
}

fn view(record: BatchRecord) -> Result<BatchView, Problem> {
    let registration = record.registration()?;
    Ok(BatchView {
        id: record.uuid.clone(),
        url: record.url().to_owned(),
        community: record.community,
        product: registration.product,
        protocol: record.protocol,
        lot_size: registration.lot_size,
        serials: record.serials,
        production_date: registration.production_date,
        notes: registration.notes,
        verdict: record.verdict,
        attestations: record.attestations,
        evaluation: record
            .evaluation
            .map(|e| serde_json::to_value(e).unwrap_or_default()),
        credential: record.credential,
    })
}

/// Register a batch (admin, producer): signed by the community, logged.
#[utoipa::path(post, path = "/api/v1/communities/{slug}/batches", tag = "reviews", request_body = RegisterRequest,
    responses((status = 201, body = BatchView), (status = 409, description = "a serial number is taken"), (status = 422)))]
async fn register(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(slug): Path<String>,
    StrictJson(request): StrictJson<RegisterRequest>,
) -> Result<(StatusCode, Json<BatchView>), Problem> {
    let record = state
        .node
        .register_batch(caller.get(), &slug, request)
        .await?;
    Ok((StatusCode::CREATED, Json(view(record)?)))
}

/// Every batch, oldest first.
#[utoipa::path(get, path = "/api/v1/batches", tag = "reviews", responses((status = 200, body = Vec<BatchView>)))]
async fn batches(State(state): State<AppState>) -> Result<Json<Vec<BatchView>>, Problem> {
    let all = state.node.batches()?;
    Ok(Json(all.into_iter().map(view).collect::<Result<_, _>>()?))
}

/// A batch with its verdict and evaluation.
#[utoipa::path(get, path = "/api/v1/batches/{uuid}", tag = "reviews", responses((status = 200, body = BatchView), (status = 404)))]
async fn batch(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
) -> Result<Json<BatchView>, Problem> {
    Ok(Json(view(state.node.batch(&uuid)?)?))
}

/// What an attestation did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttestationView {
    /// The attestation's UUID.
    pub uuid: String,
    /// The signed, logged attestation.
    #[schema(value_type = Object)]
    pub credential: Value,
    /// Its ledger receipt.
    #[schema(value_type = Object)]
    pub receipt: Value,
    /// The batch's verdict after it.
    #[schema(value_type = String)]
    pub verdict: Verdict,
    /// The evaluation behind the verdict.
    #[schema(value_type = Object)]
    pub evaluation: Option<Value>,
}

/// Submit an attestation (reviewers of another community holding a qualifying badge):
/// the results (the node signs with the reviewer's key) or a credential the reviewer
/// signed. Failing results are accepted and logged like passing ones.
#[utoipa::path(post, path = "/api/v1/batches/{uuid}/attestations", tag = "reviews", request_body = AttestRequest,
    responses((status = 201, body = AttestationView), (status = 403, description = "not a reviewer, not qualified or not independent"), (status = 422)))]
async fn attest(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(uuid): Path<String>,
    StrictJson(request): StrictJson<AttestRequest>,
) -> Result<(StatusCode, Json<AttestationView>), Problem> {
    let node = &state.node;
    let (record, batch) = node.attest(caller.get(), &uuid, request).await?;
    let receipt = node.receipt(&record)?;
    Ok((
        StatusCode::CREATED,
        Json(AttestationView {
            uuid: record.uuid,
            credential: record.credential,
            receipt: serde_json::to_value(receipt).unwrap_or_default(),
            verdict: batch.verdict,
            evaluation: batch
                .evaluation
                .map(|e| serde_json::to_value(e).unwrap_or_default()),
        }),
    ))
}

/// Take a review from a peer node: an attestation logged on the reviewer's node, with
/// the badges it cites, their status lists and their receipts from that node's log
/// (sent by the reviewer's node, not by people).
#[utoipa::path(post, path = "/api/v1/batches/{uuid}/reviews", tag = "federation", request_body = PeerReview,
    responses((status = 201, body = ReviewAccepted), (status = 403, description = "not a peer, not qualified or not independent"), (status = 409, description = "a split view, or a repeated attestation"), (status = 422)))]
async fn take_review(
    State(state): State<AppState>,
    Path(uuid): Path<String>,
    StrictJson(review): StrictJson<PeerReview>,
) -> Result<(StatusCode, Json<ReviewAccepted>), Problem> {
    let (record, batch) = state.node.accept_peer_review(&uuid, review).await?;
    Ok((
        StatusCode::CREATED,
        Json(ReviewAccepted {
            attestation: record.credential["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            verdict: batch.verdict.to_string(),
            evaluation: batch
                .evaluation
                .map(|e| serde_json::to_value(e).unwrap_or_default())
                .unwrap_or_default(),
        }),
    ))
}

/// Review a batch registered on a peer node (reviewers): this node signs and logs the
/// attestation and sends it, with the cited badges and their receipts, to the
/// producer's node, and answers what that node answered.
#[utoipa::path(post, path = "/api/v1/reviews", tag = "federation", request_body = PeerReviewRequest,
    responses((status = 201, body = ReviewAccepted), (status = 403), (status = 422), (status = 502, description = "the producer's node failed or refused")))]
async fn review_on_peer(
    State(state): State<AppState>,
    caller: MaybeCaller,
    StrictJson(request): StrictJson<PeerReviewRequest>,
) -> Result<(StatusCode, Json<ReviewAccepted>), Problem> {
    let accepted = state.node.review_on_peer(caller.get(), request).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

/// A device: its batch and the batch's verdict.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeviceView {
    /// The serial number.
    pub serial: String,
    /// `certified`, `rejected` or `pending`.
    #[schema(value_type = String)]
    pub verdict: Verdict,
    /// Its batch.
    pub batch: BatchView,
    /// Where its provenance bundle is.
    pub bundle: String,
}

/// A device's batch and verdict.
#[utoipa::path(get, path = "/api/v1/devices/{serial}", tag = "reviews", responses((status = 200, body = DeviceView), (status = 404)))]
async fn device(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<Json<DeviceView>, Problem> {
    let record = state.node.batch_of_serial(&serial)?;
    Ok(Json(DeviceView {
        bundle: format!("{}/api/v1/devices/{serial}/bundle", state.node.public_url()),
        serial,
        verdict: record.verdict,
        batch: view(record)?,
    }))
}

/// A device's provenance bundle: everything needed to verify it offline with
/// `guildmark verify`.
#[utoipa::path(get, path = "/api/v1/devices/{serial}/bundle", tag = "reviews", responses((status = 200, description = "the provenance bundle (docs/provenance-bundle.md)"), (status = 404)))]
async fn bundle(
    State(state): State<AppState>,
    Path(serial): Path<String>,
) -> Result<Response, Problem> {
    let node = state.node.clone();
    let name = serial.clone();
    let bundle = tokio::task::spawn_blocking(move || node.bundle(&serial))
        .await
        .map_err(Problem::internal)??;
    let mut response = Json(bundle).into_response();
    let disposition = format!(
        "attachment; filename=\"{}.provenance.json\"",
        sanitize(&name)
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A trust file naming this node's communities (every key they have had) and its log
/// key, for `guildmark verify --trust`. Trusting it means trusting this node's operator.
#[utoipa::path(get, path = "/api/v1/trust", tag = "reviews", responses((status = 200, description = "TOML for guildmark verify --trust", content_type = "application/toml")))]
async fn trust(State(state): State<AppState>) -> Result<Response, Problem> {
    let text = trust_file(&state.node)?;
    Ok((
        [(header::CONTENT_TYPE, "application/toml; charset=utf-8")],
        text,
    )
        .into_response())
}

/// The trust file's text (see [`trust`]).
pub(crate) fn trust_file(node: &Node) -> Result<String, Problem> {
    let mut trust = Trust::default();
    let mut names = Vec::new();
    for community in node.communities()? {
        for epoch in &community.issuers {
            trust.communities.insert(epoch.did.clone());
            // A comment for people; a name cannot end it (stores made before names
            // were refused with control characters may hold one).
            let name: String = community
                .name
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect();
            names.push(format!("# {} = {name}", epoch.did));
        }
    }
    trust.logs.insert(node.ledger().verifier_key().to_string());
    // The federation: peers' logs and the communities their logs name.
    for peer in node.peers()? {
        trust.logs.insert(peer.log_key.to_string());
    }
    for community in node.peer_communities()? {
        for did in &community.dids {
            trust.communities.insert(did.clone());
            let name: String = community
                .name
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect();
            names.push(format!("# {did} = {name} (on {})", community.origin));
        }
    }
    let policy = node.witness_policy()?;
    if !policy.is_empty() {
        trust.witnesses = policy.witnesses.iter().map(ToString::to_string).collect();
        // This node witnesses its peers' logs: its own key counts for theirs.
        if let Some(witness) = node.witness() {
            trust.witnesses.insert(witness.verifier_key().to_string());
        }
        trust.witness_quorum = Some(policy.quorum);
    }
    let text = trust.to_toml();
    Ok(format!(
        "# Trust file for {} — communities, log and witnesses of this node.\n{}\n{text}",
        node.public_url(),
        names.join("\n")
    ))
}
