//! The API's OpenAPI document, generated from the handlers' annotations.

use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Guildmark node API",
        description = "Accounts, communities, achievements, badges, endorsements, status lists, review protocols, batches, attestations, provenance bundles and verification. Every error is RFC 9457 problem+json with a `type` of urn:guildmark:problem:<slug>."
    ),
    paths(
        super::accounts::create_account,
        super::accounts::login,
        super::accounts::logout,
        super::accounts::me,
        super::accounts::create_token,
        super::accounts::tokens,
        super::accounts::revoke_token,
        super::accounts::holder_challenge,
        super::accounts::register_holder,
        super::communities::list,
        super::communities::create,
        super::communities::show,
        super::communities::update,
        super::communities::rotate_key,
        super::communities::members,
        super::communities::set_member,
        super::communities::remove_member,
        super::communities::achievements,
        super::communities::create_achievement,
        super::communities::achievement,
        super::communities::update_achievement,
        super::communities::upload,
        super::badges::issue,
        super::badges::revoke,
        super::badges::suspend,
        super::badges::claim_info,
        super::badges::claim_badge,
        super::wallet::offer,
        super::badges::reinstate,
        super::badges::credential,
        super::badges::badges_of,
        super::badges::endorse,
        super::badges::verify,
        super::reviews::publish,
        super::reviews::protocols,
        super::reviews::protocol,
        super::reviews::protocol_version,
        super::reviews::register,
        super::reviews::batches,
        super::reviews::batch,
        super::reviews::attest,
        super::reviews::device,
        super::reviews::bundle,
        super::reviews::trust,
        super::peers::list,
        super::reviews::take_review,
        super::reviews::review_on_peer,
        super::peers::add,
        super::peers::remove,
    ),
    components(schemas(crate::node::badge::EvidenceInput))
)]
struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /api/v1/openapi.json`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(|| async { Json(document()) }))
}
