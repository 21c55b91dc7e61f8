//! The caller and their own API tokens.

use crate::web::api::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use uuid::Uuid;

use crate::accounts;
use crate::error::{AppResult, Problem};
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::extract::ApiJson;
use crate::web::extract::PathId;
use crate::web::session::RequestAuth;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<Uuid>,
    pub area_ids: Vec<Uuid>,
    /// Work waiting for the caller (issue 11), a flat object of integers: a CDAO's
    /// `new_cases`, `overdue`, `shares_to_approve`, `access_requests`, `member_responses`
    /// (since they last opened the dashboard); a member's `unread_alerts`; a reporter's or
    /// organisation lead's `questions_to_answer`; `{}` for other roles.
    pub waiting: crate::waiting::Waiting,
}

#[utoipa::path(get, operation_id = "get_me", path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Me>> {
    let waiting = crate::waiting::counts(&state, &actor).await?;
    Ok(Json(Me {
        waiting,
        id: actor.user_id,
        email: actor.email,
        name: actor.name,
        role: actor.role.code().to_string(),
        organisation_id: actor.organisation_id,
        area_ids: actor.area_ids,
    }))
}

pub use crate::accounts::{CreatedToken, MAX_TOKEN_DAYS, NewToken};

#[utoipa::path(post, operation_id = "create_token", path = "/api/v1/me/tokens", tag = "account", request_body = NewToken,
    description = "Only from a signed-in browser session (a token cannot create tokens), and only with a fresh proof of identity: either the session proved it within the last 5 minutes (on the account page, or with an earlier request here), or this request carries `password` and, where the account has a second factor, `code` (a code from the authenticator app or a recovery code). Without either: 403. A wrong password or code: 422 naming `password` or `code`, counted towards the lockout.",
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn post_token(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    ApiJson(input): ApiJson<NewToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(accounts::create_token(&state, &actor, auth.session(), &input).await?),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<accounts::TokenInfo>,
}

#[utoipa::path(get, operation_id = "list_tokens", path = "/api/v1/me/tokens", tag = "account",
    responses((status = 200, body = TokenList), (status = 403, body = Problem)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<TokenList>> {
    Ok(Json(TokenList {
        items: accounts::list_tokens(&state, &actor).await?,
    }))
}

#[utoipa::path(delete, operation_id = "delete_token", path = "/api/v1/me/tokens/{id}", tag = "account",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_token(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    accounts::revoke_token(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
