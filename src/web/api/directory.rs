//! Areas, organisations and users (SPEC §7, §7.1).

use crate::web::api::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::directory::{self, AreaInput, OrganisationInput, UserInput};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult, Problem};
use crate::policy::Actor;
use crate::records as dir;
use crate::state::AppState;
use crate::web::extract::PathId;
use crate::web::extract::{ApiJson, Params};

#[derive(Serialize, utoipa::ToSchema)]
pub struct AreaList {
    pub items: Vec<dir::Area>,
}

#[utoipa::path(get, operation_id = "list_areas", path = "/api/v1/areas", tag = "directory",
    responses((status = 200, body = AreaList), (status = 401, body = Problem)))]
pub async fn list_areas(State(state): State<AppState>, _actor: Actor) -> AppResult<Json<AreaList>> {
    Ok(Json(AreaList {
        items: directory::areas(&state).await?,
    }))
}

#[utoipa::path(post, operation_id = "create_area", path = "/api/v1/areas", tag = "directory", request_body = AreaInput,
    responses((status = 201, body = dir::Area), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_area(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<AreaInput>,
) -> AppResult<(StatusCode, Json<dir::Area>)> {
    Ok((
        StatusCode::CREATED,
        Json(directory::create_area(&state, &actor, &input).await?),
    ))
}

#[utoipa::path(get, operation_id = "get_area", path = "/api/v1/areas/{id}", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = dir::Area), (status = 404, body = Problem)))]
pub async fn get_area(
    State(state): State<AppState>,
    _actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<dir::Area>> {
    Ok(Json(directory::area(&state, id).await?))
}

#[utoipa::path(patch, operation_id = "update_area", path = "/api/v1/areas/{id}", tag = "directory", params(("id" = Uuid, Path)), request_body = AreaInput,
    responses((status = 200, body = dir::Area), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_area(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<AreaInput>,
) -> AppResult<Json<dir::Area>> {
    Ok(Json(
        directory::update_area(&state, &actor, id, &input).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OrganisationList {
    pub items: Vec<dir::Organisation>,
}

#[utoipa::path(get, operation_id = "list_organisations", path = "/api/v1/organisations", tag = "directory",
    params(crate::web::api::params::OrganisationQuery),
    responses((status = 200, body = OrganisationList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_organisations(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<OrganisationList>> {
    let mut e = FieldErrors::new();
    let area_id = params.uuid("area_id", &mut e);
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let filter = dir::OrgFilter {
        q: params.get("q").map(str::to_string),
        kind: params.get("kind").map(str::to_string),
        area_id,
    };
    Ok(Json(OrganisationList {
        items: directory::organisations(&state, &actor, &filter).await?,
    }))
}

#[utoipa::path(post, operation_id = "create_organisation", path = "/api/v1/organisations", tag = "directory", request_body = OrganisationInput,
    responses((status = 201, body = dir::Organisation), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_organisation(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> AppResult<(StatusCode, Json<dir::Organisation>)> {
    Ok((
        StatusCode::CREATED,
        Json(directory::create_organisation(&state, &actor, &input).await?),
    ))
}

#[utoipa::path(get, operation_id = "get_organisation", path = "/api/v1/organisations/{id}", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = dir::Organisation), (status = 404, body = Problem)))]
pub async fn get_organisation(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<dir::Organisation>> {
    Ok(Json(directory::organisation(&state, &actor, id).await?))
}

#[utoipa::path(patch, operation_id = "update_organisation", path = "/api/v1/organisations/{id}", tag = "directory", params(("id" = Uuid, Path)),
    request_body = OrganisationInput,
    responses((status = 200, body = dir::Organisation), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_organisation(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<OrganisationInput>,
) -> AppResult<Json<dir::Organisation>> {
    Ok(Json(
        directory::update_organisation(&state, &actor, id, &input).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<dir::User>,
}

#[utoipa::path(get, operation_id = "list_users", path = "/api/v1/users", tag = "directory",
    params(crate::web::api::params::UserQuery),
    responses((status = 200, body = UserList), (status = 422, body = Problem)))]
pub async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<UserList>> {
    let mut e = FieldErrors::new();
    let organisation_id = params.uuid("organisation_id", &mut e);
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let filter = dir::UserFilter {
        q: params.get("q").map(str::to_string),
        role: params.get("role").map(str::to_string),
        organisation_id,
        status: params.get("status").map(str::to_string),
    };
    Ok(Json(UserList {
        items: directory::users(&state, &actor, &filter).await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: dir::User,
    /// One-time link (72 hours) with which the user sets their password.
    pub invitation_url: String,
}

#[utoipa::path(post, operation_id = "create_user", path = "/api/v1/users", tag = "directory", request_body = UserInput,
    responses((status = 201, body = CreatedUser), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<UserInput>,
) -> AppResult<(StatusCode, Json<CreatedUser>)> {
    let invited = directory::create_user(&state, &actor, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: invited.user,
            invitation_url: invited.invitation_url,
        }),
    ))
}

#[utoipa::path(get, operation_id = "get_user", path = "/api/v1/users/{id}", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 200, body = dir::User), (status = 404, body = Problem)))]
pub async fn get_user(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<dir::User>> {
    Ok(Json(directory::user(&state, &actor, id).await?))
}

#[utoipa::path(patch, operation_id = "update_user", path = "/api/v1/users/{id}", tag = "directory", params(("id" = Uuid, Path)), request_body = UserInput,
    responses((status = 200, body = dir::User), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn patch_user(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<UserInput>,
) -> AppResult<Json<dir::User>> {
    Ok(Json(
        directory::update_user(&state, &actor, id, &input).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub invitation_url: String,
}

#[utoipa::path(post, operation_id = "reinvite_user", path = "/api/v1/users/{id}/invitation", tag = "directory", params(("id" = Uuid, Path)),
    description = "A new one-time link (72 hours) to set a first password; earlier unused links stop working. 409 for an account that has a password already (an active account): people reset their own password.",
    responses((status = 201, body = Invitation), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn reinvite_user(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<(StatusCode, Json<Invitation>)> {
    let invitation_url = directory::reinvite_user(&state, &actor, id).await?;
    Ok((StatusCode::CREATED, Json(Invitation { invitation_url })))
}

#[utoipa::path(post, operation_id = "reset_user_mfa", path = "/api/v1/users/{id}/reset-mfa", tag = "directory", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn reset_mfa(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    directory::reset_mfa(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, operation_id = "approve_user", path = "/api/v1/users/{id}/approve", tag = "directory", params(("id" = Uuid, Path)),
    description = "Approves an account waiting for a second person (`status: pending_approval`): a `cdao`, `member` or `org_lead` account made by an admin or changed into such a role. Another admin may approve any; a CDAO of one of its areas may approve `cdao` and `member` accounts; whoever made the change may not (403). Its invitation link works from then on. 404 for an account the caller cannot see; 409 if it is not waiting.",
    responses((status = 200, body = dir::User), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve_user(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<dir::User>> {
    Ok(Json(directory::approve_user(&state, &actor, id).await?))
}
