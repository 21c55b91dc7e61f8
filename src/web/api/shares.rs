//! Shares and alerts (SPEC §7, §7.1): the CDAO routes a case; members read, acknowledge and
//! respond.

use crate::web::api::json::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::share::ShareInput;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult, Problem};
use crate::policy::Actor;
use crate::records as sdb;
use crate::shares::{
    self, AlertItem, AlertView, Created, DeclineInput, InboxFilter, ResponseInput, ShareDetail,
};
use crate::state::AppState;
use crate::web::extract::{ApiJson, Params, PathId};

#[utoipa::path(post, operation_id = "create_share", path = "/api/v1/cases/{id}/shares", tag = "sharing", params(("id" = Uuid, Path)), request_body = ShareInput,
    description = "Routes the case to member organisations of its area. An identified share, or one with patient data, waits for a second CDAO of the area when the area's two-person rule is on.",
    responses((status = 201, body = Created), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ShareInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    Ok((
        StatusCode::CREATED,
        Json(shares::create(&state, &actor, id, &input).await?),
    ))
}

#[utoipa::path(post, operation_id = "preview_share", path = "/api/v1/cases/{id}/shares/preview", tag = "sharing", params(("id" = Uuid, Path)), request_body = ShareInput,
    description = "Exactly what each recipient would see, without sharing anything.",
    responses((status = 200, body = AlertView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ShareInput>,
) -> AppResult<Json<AlertView>> {
    Ok(Json(shares::preview(&state, &actor, id, &input).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ShareList {
    pub items: Vec<ShareDetail>,
}

#[utoipa::path(get, operation_id = "list_case_shares", path = "/api/v1/cases/{id}/shares", tag = "sharing", params(("id" = Uuid, Path)),
    description = "The case's shares, their recipients and responses (the case's area CDAOs).",
    responses((status = 200, body = ShareList), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<ShareList>> {
    Ok(Json(ShareList {
        items: shares::list_for_case(&state, &actor, id).await?,
    }))
}

#[utoipa::path(post, operation_id = "approve_share", path = "/api/v1/shares/{id}/approve", tag = "sharing", params(("id" = Uuid, Path)),
    description = "A second CDAO of the area approves (the creator may not: 403).",
    responses((status = 200, body = Created), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<Created>> {
    Ok(Json(shares::approve(&state, &actor, id).await?))
}

#[utoipa::path(post, operation_id = "decline_share", path = "/api/v1/shares/{id}/decline", tag = "sharing", params(("id" = Uuid, Path)),
    request_body = DeclineInput,
    description = "A second CDAO of the area declines a pending share, with a reason its author sees (the author may not: 403). A declined share cannot then be approved (409).",
    responses((status = 200, body = Created), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn decline(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<DeclineInput>,
) -> AppResult<Json<Created>> {
    Ok(Json(shares::decline(&state, &actor, id, &input).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Revoked {
    pub id: Uuid,
    pub revoked: bool,
}

#[utoipa::path(post, operation_id = "revoke_share", path = "/api/v1/shares/{id}/revoke", tag = "sharing", params(("id" = Uuid, Path)),
    description = "Members keep the alert, its reference and their responses, but lose identities, free text and attachments.",
    responses((status = 200, body = Revoked), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<Revoked>> {
    shares::revoke(&state, &actor, id).await?;
    Ok(Json(Revoked { id, revoked: true }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AlertList {
    /// Up to 500 alerts the filter keeps, newest first: the newest, or those after `cursor`.
    pub items: Vec<AlertItem>,
    /// Older alerts the filter keeps follow: pass this as `cursor` for the next page.
    pub next_cursor: Option<String>,
    /// How many of the organisation's delivered alerts nobody there has opened (all of them,
    /// not only those listed).
    pub unread: usize,
}

#[utoipa::path(get, operation_id = "list_alerts", path = "/api/v1/alerts", tag = "alerts",
    params(crate::web::api::params::AlertQuery),
    responses((status = 200, body = AlertList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn alerts(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<AlertList>> {
    let filter = InboxFilter::parse(params.get("filter").unwrap_or("all")).ok_or_else(|| {
        AppError::validation("filter", "filter must be all, unread or unacknowledged")
    })?;
    let mut e = FieldErrors::new();
    let after = crate::web::api::cursor::param(params.get("cursor"), &mut e);
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let list = shares::list_alerts(&state, &actor, filter, after, false).await?;
    Ok(Json(AlertList {
        next_cursor: next_alerts_cursor(&list),
        items: list.items,
        unread: list.unread,
    }))
}

/// The cursor of the inbox's page after this one, if older alerts follow.
pub fn next_alerts_cursor(list: &shares::InboxList) -> Option<String> {
    let last = list.items.last().filter(|_| list.more)?;
    Some(crate::web::api::cursor::encode(last.received_at?, last.id))
}

#[utoipa::path(get, operation_id = "get_alert", path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = AlertView), (status = 404, body = Problem)))]
pub async fn alert(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<AlertView>> {
    Ok(Json(shares::view_alert(&state, &actor, id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    pub acknowledged_at: DateTime<Utc>,
}

#[utoipa::path(post, operation_id = "acknowledge_alert", path = "/api/v1/alerts/{id}/acknowledge", tag = "alerts", params(("id" = Uuid, Path)),
    responses((status = 200, body = Acknowledged), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn acknowledge(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<Acknowledged>> {
    Ok(Json(Acknowledged {
        acknowledged_at: shares::acknowledge(&state, &actor, id).await?,
    }))
}

#[utoipa::path(post, operation_id = "respond_to_alert", path = "/api/v1/alerts/{id}/responses", tag = "alerts", params(("id" = Uuid, Path)), request_body = ResponseInput,
    responses((status = 201, body = sdb::Response), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn respond(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ResponseInput>,
) -> AppResult<(StatusCode, Json<sdb::Response>)> {
    Ok((
        StatusCode::CREATED,
        Json(shares::respond(&state, &actor, id, &input).await?),
    ))
}

#[utoipa::path(get, operation_id = "download_alert_attachment", path = "/api/v1/alerts/{id}/attachments/{attachment_id}", tag = "alerts",
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)),
    description = "A file the alert's share names, while the share is live. Each download is audited (`alert.attachment_downloaded`).",
    responses((status = 200, description = "the file, as an attachment"), (status = 404, body = Problem)))]
pub async fn attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let (name, ct, data) = shares::alert_attachment(&state, &actor, id, att).await?;
    Ok(crate::web::api::cases::download(&name, &ct, data))
}
