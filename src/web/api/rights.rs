//! The person's rights (SPEC §7.2): subject access exports and the removal of a person
//! record entered in error.

use crate::web::api::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::domain::subject_access::SubjectAccessInput;
use crate::erasure::{self, ErasureInput, ErasureOutcome};
use crate::error::{AppError, AppResult, Problem};
use crate::policy::Actor;
use crate::state::AppState;
use crate::subject_access::{self, SubjectAccessCreated};
use crate::web::extract::{ApiJson, PathId};

#[utoipa::path(post, operation_id = "create_subject_access", path = "/api/v1/subject-access", tag = "rights", request_body = SubjectAccessInput,
    description = "A CDAO finds everything held about one person in their areas, through the blind indexes (the identifiers are not kept), and keeps the request with its purpose. Download the export with the returned id. Exemptions (e.g. DPA 2018 Sch 2 para 2) are for the Caldicott guardian to apply before anything is released.",
    responses((status = 201, body = SubjectAccessCreated), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create_subject_access(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<SubjectAccessInput>,
) -> AppResult<(StatusCode, Json<SubjectAccessCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(subject_access::create(&state, &actor, &input).await?),
    ))
}

#[utoipa::path(get, operation_id = "download_subject_access", path = "/api/v1/subject-access/{id}/download", tag = "rights", params(("id" = Uuid, Path)),
    description = "The export of a request the caller made: a zip of subject-access.json and subject-access.html. Audited.",
    responses((status = 200, content_type = "application/zip", description = "the zip"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn download_subject_access(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    let (name, zip) = subject_access::download(&state, &actor, id).await?;
    Ok(crate::web::api::cases::download(
        &name,
        "application/zip",
        zip,
    ))
}

#[utoipa::path(post, operation_id = "request_person_erasure", path = "/api/v1/cases/{id}/persons/{person_id}/erasure", tag = "rights",
    params(("id" = Uuid, Path), ("person_id" = Uuid, Path)), request_body = ErasureInput,
    description = "The holding CDAO team asks to remove a person record entered in error. Under the area's two-person rule it waits for a second CDAO (`pending`); otherwise the identity and its blind indexes go at once (`approved`), and recipients are told.",
    responses((status = 201, body = ErasureOutcome), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_erasure(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, person)): Path<(String, String)>,
    ApiJson(input): ApiJson<ErasureInput>,
) -> AppResult<(StatusCode, Json<ErasureOutcome>)> {
    let (Ok(id), Ok(person)) = (Uuid::parse_str(&id), Uuid::parse_str(&person)) else {
        return Err(AppError::NotFound);
    };
    Ok((
        StatusCode::CREATED,
        Json(erasure::request(&state, &actor, id, person, &input).await?),
    ))
}

#[utoipa::path(post, operation_id = "approve_erasure", path = "/api/v1/erasures/{id}/approve", tag = "rights", params(("id" = Uuid, Path)),
    description = "A second CDAO of the area approves (the one who asked may not: 403): the identity and its blind indexes go at once, and the members that received the case are told without content.",
    responses((status = 200, body = ErasureOutcome), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve_erasure(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<ErasureOutcome>> {
    Ok(Json(erasure::approve(&state, &actor, id).await?))
}

#[utoipa::path(post, operation_id = "decline_erasure", path = "/api/v1/erasures/{id}/decline", tag = "rights", params(("id" = Uuid, Path)),
    request_body = ErasureInput,
    responses((status = 200, body = ErasureOutcome), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decline_erasure(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ErasureInput>,
) -> AppResult<Json<ErasureOutcome>> {
    Ok(Json(erasure::decline(&state, &actor, id, &input).await?))
}
