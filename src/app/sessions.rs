//! Who is asking: a bearer API token or a browser session, looked up for each request. The
//! web layer's `authenticate` middleware asks here; the session rows stay in `db`.

use chrono::TimeDelta;

use super::db::sessions as sdb;
use crate::auth;
use crate::crypto;
use crate::error::AppError;
use crate::policy::Actor;
use crate::state::AppState;

pub use super::db::sessions::SessionUser;

/// The actor behind a bearer token: 401 for an unknown, expired or revoked token, 429 past
/// the token's request rate.
pub async fn by_token(state: &AppState, token: &str) -> Result<Actor, AppError> {
    let now = state.now();
    let hash = crypto::sha256(token.as_bytes());
    // A short-lived cache, emptied by any change of what a token means (LISTEN/NOTIFY).
    let found = match state.tokens.get(&hash, now) {
        Some(found) => found,
        None => {
            let generation = crate::authcache::generation();
            let found = sdb::load_token(&state.db, &hash, now)
                .await?
                .ok_or(AppError::Unauthorized)?;
            state
                .tokens
                .put(&hash, &found, found.expires_at, generation);
            found
        }
    };
    state
        .api_limiter
        .check(&found.token_id.to_string())
        .map_err(|retry_after_secs| AppError::TooManyRequests { retry_after_secs })?;
    if found
        .last_used_at
        .is_none_or(|t| now - t > TimeDelta::minutes(1))
    {
        sdb::touch_token(&state.db, found.token_id, now).await?;
        state.tokens.touched(&hash, now);
    }
    Ok(found.actor)
}

/// The live session with this id hash, or `None` when there is none or it has timed out
/// (idle, absolute, or waiting too long for its second factor: then it is deleted).
pub async fn by_session(state: &AppState, hash: &[u8]) -> Result<Option<SessionUser>, AppError> {
    let now = state.now();
    let Some(s) = sdb::load_session(&state.db, hash).await? else {
        return Ok(None);
    };
    let timed_out = now - s.last_seen_at > auth::IDLE_TIMEOUT
        || now - s.created_at > auth::ABSOLUTE_TIMEOUT
        || (!s.mfa_verified && now - s.created_at > auth::MFA_PENDING_TIMEOUT);
    if timed_out {
        let mut conn = state.db.acquire().await?;
        sdb::delete_session(&mut conn, hash).await?;
        return Ok(None);
    }
    if now - s.last_seen_at > TimeDelta::minutes(1) {
        sdb::touch_session(&state.db, hash, now).await?;
    }
    Ok(Some(s))
}

/// Replaces the session's small data object (the flash message).
pub async fn set_data(
    state: &AppState,
    hash: &[u8],
    data: &serde_json::Value,
) -> Result<(), AppError> {
    sdb::set_session_data(&state.db, hash, data).await?;
    Ok(())
}
