//! API tokens, made behind a fresh proof.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::proof::{proof_is_fresh, prove};
use super::{MAX_TOKEN_DAYS, notice};
use crate::app::db::sessions as sdb;
use crate::audit::{self, Event, action};
use crate::crypto;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "pharmacy system".
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// Days until it expires: 1 to 365 (default 30).
    #[schema(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
    /// Your password: needed unless this session proved who it is in the last 5 minutes.
    pub password: Option<String>,
    /// The code from your authenticator app (or a recovery code), where your account has one.
    pub code: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub id: Uuid,
    /// Shown once: only its hash is kept.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

pub use crate::app::db::sessions::TokenInfo;

/// Creates an API token for the caller, from a browser session with a fresh proof: one made
/// in the last 5 minutes, or the password (and code) given with the request.
pub async fn create_token(
    state: &AppState,
    actor: &Actor,
    session: Option<(&[u8], Option<DateTime<Utc>>)>,
    input: &NewToken,
) -> AppResult<CreatedToken> {
    policy::manage_own_tokens(actor)?;
    let Some((session_hash, proof_at)) = session else {
        return Err(AppError::Forbidden(
            "API tokens can only be managed from a signed-in browser session.".into(),
        ));
    };
    let mut e = FieldErrors::new();
    let name = e.line("name", input.name.as_deref(), "a name for the token", 100);
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
    if !proof_is_fresh(proof_at, state.now()) {
        if input.password.as_deref().is_none_or(str::is_empty) && input.code.is_none() {
            return Err(AppError::Forbidden(
                "Confirm it is you first: send your password (and the code from your authenticator app, where your account has one) as `password` and `code`, or confirm on your account page. A confirmation lasts 5 minutes.".into(),
            ));
        }
        if let Err(errors) = prove(
            state,
            actor,
            session_hash,
            input.password.as_deref(),
            input.code.as_deref(),
        )
        .await?
        {
            return Err(AppError::Validation(errors.into_vec()));
        }
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
    sdb::insert_token(&mut tx, id, user_id, name, &hash, now, expires_at).await?;
    sdb::enqueue_notice(&mut tx, user_id, notice::TOKEN_CREATED, None, now).await?;
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

pub async fn list_tokens(state: &AppState, actor: &Actor) -> AppResult<Vec<TokenInfo>> {
    policy::manage_own_tokens(actor)?;
    Ok(sdb::list_tokens(&state.db, actor.user_id).await?)
}

/// Revokes one of the caller's tokens; someone else's is 404.
pub async fn revoke_token(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    policy::manage_own_tokens(actor)?;
    if !sdb::token_exists_for(&state.db, actor.user_id, id).await? {
        return Err(AppError::NotFound);
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if sdb::revoke_token(&mut tx, actor.user_id, id, now).await? {
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
