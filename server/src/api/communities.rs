//! Communities, their members, achievements and uploads.

use std::collections::BTreeSet;

use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::auth::MaybeCaller;
use super::body::StrictJson;
use super::AppState;
use crate::node::achievement::{Achievement, AchievementFields};
use crate::node::community::{Community, Member, Role};
use crate::node::file::{too_large_file, StoredFile, MAX_FILE};
use crate::problem::Problem;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/communities", get(list).post(create))
        .route("/api/v1/communities/{slug}", get(show).patch(update))
        .route("/api/v1/communities/{slug}/key-rotation", post(rotate_key))
        .route("/api/v1/communities/{slug}/members", get(members))
        .route(
            "/api/v1/communities/{slug}/members/{username}",
            put(set_member).delete(remove_member),
        )
        .route(
            "/api/v1/communities/{slug}/achievements",
            get(achievements).post(create_achievement),
        )
        .route(
            "/api/v1/communities/{slug}/achievements/{name}",
            get(achievement).patch(update_achievement),
        )
        .route(
            "/api/v1/communities/{slug}/files",
            post(upload).layer(DefaultBodyLimit::max(MAX_FILE + 64 * 1024)),
        )
}

/// The communities on this node.
#[utoipa::path(get, path = "/api/v1/communities", tag = "communities", responses((status = 200, body = Vec<Community>)))]
async fn list(State(state): State<AppState>) -> Result<Json<Vec<Community>>, Problem> {
    Ok(Json(state.node.communities()?))
}

/// A new community.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCommunity {
    /// Short name used in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
}

/// Create a community (operator only); the caller becomes its admin.
#[utoipa::path(post, path = "/api/v1/communities", tag = "communities", request_body = NewCommunity,
    responses((status = 201, body = Community), (status = 401), (status = 403), (status = 409)))]
async fn create(
    State(state): State<AppState>,
    caller: MaybeCaller,
    StrictJson(body): StrictJson<NewCommunity>,
) -> Result<(StatusCode, Json<Community>), Problem> {
    let community = state
        .node
        .create_community(caller.get(), &body.slug, &body.name, &body.description)
        .await?;
    Ok((StatusCode::CREATED, Json(community)))
}

/// A community.
#[utoipa::path(get, path = "/api/v1/communities/{slug}", tag = "communities", responses((status = 200, body = Community), (status = 404)))]
async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Community>, Problem> {
    Ok(Json(state.node.community(&slug)?))
}

/// Changes to a community.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommunityChange {
    /// New display name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// Change a community's name or description (admin).
#[utoipa::path(patch, path = "/api/v1/communities/{slug}", tag = "communities", request_body = CommunityChange, responses((status = 200, body = Community)))]
async fn update(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(slug): Path<String>,
    StrictJson(body): StrictJson<CommunityChange>,
) -> Result<Json<Community>, Problem> {
    let community = state
        .node
        .update_community(
            caller.get(),
            &slug,
            body.name.as_deref(),
            body.description.as_deref(),
        )
        .await?;
    Ok(Json(community))
}

/// A key rotation's result.
#[derive(Serialize, ToSchema)]
pub struct RotationView {
    /// The community with its new key.
    pub community: Community,
    /// The logged rotation credential, signed by the old key.
    #[schema(value_type = Object)]
    pub rotation: Value,
}

/// Rotate the community's issuer key (admin). Logged, signed by the old key.
#[utoipa::path(post, path = "/api/v1/communities/{slug}/key-rotation", tag = "communities", responses((status = 200, body = RotationView)))]
async fn rotate_key(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(slug): Path<String>,
) -> Result<Json<RotationView>, Problem> {
    let (community, rotation) = state.node.rotate_key(caller.get(), &slug).await?;
    Ok(Json(RotationView {
        community,
        rotation,
    }))
}

/// A community's members.
#[utoipa::path(get, path = "/api/v1/communities/{slug}/members", tag = "communities", responses((status = 200, body = Vec<Member>)))]
async fn members(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<Member>>, Problem> {
    Ok(Json(state.node.members(&slug)?))
}

/// A member's roles.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// One or more of admin, assessor, reviewer, producer, apprentice.
    pub roles: BTreeSet<Role>,
}

/// Add a member or change their roles (admin).
#[utoipa::path(put, path = "/api/v1/communities/{slug}/members/{username}", tag = "communities", request_body = Roles, responses((status = 200, body = Member)))]
async fn set_member(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path((slug, username)): Path<(String, String)>,
    StrictJson(body): StrictJson<Roles>,
) -> Result<Json<Member>, Problem> {
    let member = state
        .node
        .set_member(caller.get(), &slug, &username, body.roles)
        .await?;
    Ok(Json(member))
}

/// Remove a member (admin). Their badges stay valid.
#[utoipa::path(delete, path = "/api/v1/communities/{slug}/members/{username}", tag = "communities", responses((status = 204)))]
async fn remove_member(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path((slug, username)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    state
        .node
        .remove_member(caller.get(), &slug, &username)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A community's achievements.
#[utoipa::path(get, path = "/api/v1/communities/{slug}/achievements", tag = "achievements", responses((status = 200, body = Vec<Achievement>)))]
async fn achievements(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<Vec<Achievement>>, Problem> {
    Ok(Json(state.node.achievements(&slug)?))
}

/// A new achievement.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAchievement {
    /// Short name used in URLs.
    pub name: String,
    /// Display title.
    pub title: String,
    /// What it stands for.
    pub description: String,
    /// How it is earned.
    pub criteria: String,
    /// SHA-256 of an uploaded PNG or SVG.
    pub image: Option<String>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Level.
    pub level: Option<String>,
    /// Prerequisites: achievement ids, or names in this community.
    pub prerequisites: Option<Vec<String>>,
    /// Assessment protocol (id or content hash).
    pub protocol: Option<String>,
}

/// Define an achievement (admin).
#[utoipa::path(post, path = "/api/v1/communities/{slug}/achievements", tag = "achievements", request_body = NewAchievement, responses((status = 201, body = Achievement)))]
async fn create_achievement(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(slug): Path<String>,
    StrictJson(body): StrictJson<NewAchievement>,
) -> Result<(StatusCode, Json<Achievement>), Problem> {
    let fields = AchievementFields {
        title: Some(body.title),
        description: Some(body.description),
        criteria: Some(body.criteria),
        image: body.image,
        tags: body.tags,
        level: body.level,
        prerequisites: body.prerequisites,
        protocol: body.protocol,
    };
    let achievement = state
        .node
        .create_achievement(caller.get(), &slug, &body.name, fields)
        .await?;
    Ok((StatusCode::CREATED, Json(achievement)))
}

/// An achievement with its endorsements.
#[derive(Serialize, ToSchema)]
pub struct AchievementView {
    /// The achievement.
    pub achievement: Achievement,
    /// Endorsement credentials of it.
    #[schema(value_type = Vec<Object>)]
    pub endorsements: Vec<Value>,
}

/// An achievement.
#[utoipa::path(get, path = "/api/v1/communities/{slug}/achievements/{name}", tag = "achievements", responses((status = 200, body = AchievementView)))]
async fn achievement(
    State(state): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
) -> Result<Json<AchievementView>, Problem> {
    let achievement = state.node.achievement(&slug, &name)?;
    let endorsements = state
        .node
        .endorsements_of(&achievement.id)?
        .into_iter()
        .map(|r| r.credential)
        .collect();
    Ok(Json(AchievementView {
        achievement,
        endorsements,
    }))
}

/// Change an achievement (admin).
#[utoipa::path(patch, path = "/api/v1/communities/{slug}/achievements/{name}", tag = "achievements", request_body = AchievementFields, responses((status = 200, body = Achievement)))]
async fn update_achievement(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path((slug, name)): Path<(String, String)>,
    StrictJson(body): StrictJson<AchievementFields>,
) -> Result<Json<Achievement>, Problem> {
    let achievement = state
        .node
        .update_achievement(caller.get(), &slug, &name, body)
        .await?;
    Ok(Json(achievement))
}

/// Upload evidence or an image (admin, assessor): multipart with one `file` field.
/// Stored by SHA-256; served at `/files/{sha256}`.
#[utoipa::path(post, path = "/api/v1/communities/{slug}/files", tag = "files", responses((status = 201, body = StoredFile), (status = 413)))]
async fn upload(
    State(state): State<AppState>,
    caller: MaybeCaller,
    Path(slug): Path<String>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<StoredFile>), Problem> {
    // Authorized before the body is read: nobody streams 5 MiB at a node for nothing.
    state.node.may_upload(caller.get(), &slug)?;
    let multipart_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::from(too_large_file())
        } else {
            Problem::bad_request(format!(
                "the multipart body is malformed: {}",
                e.body_text()
            ))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(multipart_error)?;
        let file = state
            .node
            .store_file(caller.get(), &slug, &name, &bytes)
            .await?;
        return Ok((StatusCode::CREATED, Json(file)));
    }
    Err(Problem::bad_request(
        "send the file in a multipart field named `file`",
    ))
}
