//! The caller and their own API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event, action};
use crate::crypto;
use crate::db;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult, Problem};
use crate::policy::{self, Actor};
use crate::state::AppState;
use crate::web::extract::ApiJson;
use crate::web::extract::PathId;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<Uuid>,
    pub area_ids: Vec<Uuid>,
}

#[utoipa::path(get, operation_id = "get_me", path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
pub async fn me(actor: Actor) -> Json<Me> {
    Json(Me {
        id: actor.user_id,
        email: actor.email,
        name: actor.name,
        role: actor.role.code().to_string(),
        organisation_id: actor.organisation_id,
        area_ids: actor.area_ids,
    })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "pharmacy system".
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Days until it expires: 1 to 365 (default 30).
    #[schema(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub id: Uuid,
    /// Shown once: only its hash is kept.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub const MAX_TOKEN_DAYS: i64 = 365;

/// Creates an API token for the caller (shared by the API and the account page).
pub async fn create_token(
    state: &AppState,
    actor: &Actor,
    input: &NewToken,
) -> AppResult<CreatedToken> {
    policy::manage_own_tokens(actor)?;
    let mut e = FieldErrors::new();
    let name = e.text("name", input.name.as_deref(), "a name for the token", 100);
    let days = input.days.unwrap_or(30);
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        e.add(
            "days",
            format!("Days must be between 1 and {MAX_TOKEN_DAYS}"),
        );
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    issue_token(state, actor.user_id, &name, days, action::TOKEN_CREATED).await
}

/// Mints a token for `user_id` (the caller, or the operator's `token issue` command).
pub async fn issue_token(
    state: &AppState,
    user_id: Uuid,
    name: &str,
    days: i64,
    what: &'static str,
) -> AppResult<CreatedToken> {
    let now = state.now();
    let expires_at = now + TimeDelta::days(days);
    let (token, hash) = crypto::new_token("cdc_")?;
    let id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    db::sessions::insert_token(&mut tx, id, user_id, name, &hash, now, expires_at).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(user_id), what, "api_token", Some(id)).details(json!({ "days": days })),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken {
        id,
        token,
        expires_at,
    })
}

#[utoipa::path(post, operation_id = "create_token", path = "/api/v1/me/tokens", tag = "account", request_body = NewToken,
    description = "Only from a signed-in browser session: a token cannot create tokens.",
    responses((status = 201, body = CreatedToken), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn post_token(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<NewToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_token(&state, &actor, &input).await?),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<db::sessions::TokenInfo>,
}

#[utoipa::path(get, operation_id = "list_tokens", path = "/api/v1/me/tokens", tag = "account",
    responses((status = 200, body = TokenList), (status = 403, body = Problem)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<TokenList>> {
    policy::manage_own_tokens(&actor)?;
    Ok(Json(TokenList {
        items: db::sessions::list_tokens(&state.db, actor.user_id).await?,
    }))
}

/// Revokes one of the caller's tokens; someone else's is 404.
pub async fn revoke_token(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    policy::manage_own_tokens(actor)?;
    if !db::sessions::token_exists_for(&state.db, actor.user_id, id).await? {
        return Err(AppError::NotFound);
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if db::sessions::revoke_token(&mut tx, actor.user_id, id, now).await? {
        audit::record(
            &mut tx,
            now,
            Event::new(
                Some(actor.user_id),
                action::TOKEN_REVOKED,
                "api_token",
                Some(id),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[utoipa::path(delete, operation_id = "revoke_token", path = "/api/v1/me/tokens/{id}", tag = "account",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_token(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<StatusCode> {
    revoke_token(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
