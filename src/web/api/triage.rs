//! The CDAO team's API (SPEC §7, §7.1): triage, messages, links, close and reopen,
//! correlation matches, access requests, the access log.

use crate::web::api::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::error::{AppResult, Problem};
use crate::policy::Actor;
use crate::records as tdb;
use crate::reports::{self, CaseView};
use crate::state::AppState;
use crate::triage::{
    self, AccessRequestInput, CloseInput, DecisionInput, LinkInput, MatchList, MessageInput,
    MessageSent, ReopenInput, TriageInput,
};
use crate::web::extract::{ApiJson, PathId};

#[utoipa::path(post, operation_id = "triage_case", path = "/api/v1/cases/{id}/triage", tag = "triage", params(("id" = uuid::Uuid, Path)),
    request_body = TriageInput,
    responses((status = 200, body = CaseView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn triage(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<TriageInput>,
) -> AppResult<Json<CaseView>> {
    triage::triage(&state, &actor, id, &input).await?;
    Ok(Json(reports::view_case(&state, &actor, id).await?))
}

#[utoipa::path(post, operation_id = "send_case_message", path = "/api/v1/cases/{id}/messages", tag = "triage", params(("id" = uuid::Uuid, Path)),
    request_body = MessageInput,
    responses((status = 201, body = MessageSent), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn message(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<MessageInput>,
) -> AppResult<(StatusCode, Json<MessageSent>)> {
    Ok((
        StatusCode::CREATED,
        Json(triage::message(&state, &actor, id, &input).await?),
    ))
}

#[utoipa::path(post, operation_id = "link_case", path = "/api/v1/cases/{id}/links", tag = "triage", params(("id" = uuid::Uuid, Path)),
    request_body = LinkInput,
    responses((status = 201, body = CaseView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn link(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<LinkInput>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    triage::link(&state, &actor, id, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(reports::view_case(&state, &actor, id).await?),
    ))
}

#[utoipa::path(post, operation_id = "close_case", path = "/api/v1/cases/{id}/close", tag = "triage", params(("id" = uuid::Uuid, Path)),
    request_body = CloseInput,
    responses((status = 200, body = CaseView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn close(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<CloseInput>,
) -> AppResult<Json<CaseView>> {
    triage::close(&state, &actor, id, &input).await?;
    Ok(Json(reports::view_case(&state, &actor, id).await?))
}

#[utoipa::path(post, operation_id = "reopen_case", path = "/api/v1/cases/{id}/reopen", tag = "triage", params(("id" = uuid::Uuid, Path)),
    request_body = ReopenInput,
    responses((status = 200, body = CaseView), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reopen(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ReopenInput>,
) -> AppResult<Json<CaseView>> {
    triage::reopen(&state, &actor, id, &input).await?;
    Ok(Json(reports::view_case(&state, &actor, id).await?))
}

#[utoipa::path(get, operation_id = "list_case_matches", path = "/api/v1/cases/{id}/matches", tag = "triage", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = MatchList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn matches(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<MatchList>> {
    Ok(Json(triage::matches(&state, &actor, id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessLog {
    pub items: Vec<tdb::AccessLogEntry>,
}

#[utoipa::path(get, operation_id = "get_case_access_log", path = "/api/v1/cases/{id}/access-log", tag = "triage", params(("id" = uuid::Uuid, Path)),
    description = "Who viewed this case, from the audit trail (the case's area CDAOs).",
    responses((status = 200, body = AccessLog), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn access_log(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<AccessLog>> {
    Ok(Json(AccessLog {
        items: triage::access_log(&state, &actor, id).await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessRequestList {
    pub items: Vec<tdb::AccessRequest>,
}

#[utoipa::path(post, operation_id = "request_access", path = "/api/v1/access-requests", tag = "triage", request_body = AccessRequestInput,
    responses((status = 201, body = tdb::AccessRequest), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn request_access(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<AccessRequestInput>,
) -> AppResult<(StatusCode, Json<tdb::AccessRequest>)> {
    Ok((
        StatusCode::CREATED,
        Json(triage::request_access(&state, &actor, &input).await?),
    ))
}

#[utoipa::path(get, operation_id = "list_access_requests", path = "/api/v1/access-requests", tag = "triage",
    description = "Requests made by the caller's areas and requests to them.",
    responses((status = 200, body = AccessRequestList), (status = 403, body = Problem)))]
pub async fn list_access_requests(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<AccessRequestList>> {
    Ok(Json(AccessRequestList {
        items: triage::list_access_requests(&state, &actor).await?,
    }))
}

#[utoipa::path(post, operation_id = "decide_access_request", path = "/api/v1/access-requests/{id}/decide", tag = "triage", params(("id" = uuid::Uuid, Path)),
    request_body = DecisionInput,
    description = "The holding team decides. An approval creates one share per matched case to the requesting area's CDAO team (identified, the request's reason as purpose, 90 days, under the two-person rule); `share_ids` lists them.",
    responses((status = 200, body = triage::Decided), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decide(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<DecisionInput>,
) -> AppResult<Json<triage::Decided>> {
    Ok(Json(
        triage::decide_access(&state, &actor, id, &input).await?,
    ))
}
