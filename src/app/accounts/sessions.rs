//! One's own sessions and account record.

use serde_json::json;
use uuid::Uuid;

use crate::app::db::{directory as dir, sessions as sdb};
use crate::audit::{self, Event, action};
use crate::auth;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

pub use crate::app::db::sessions::SessionInfo;

pub async fn sessions(
    state: &AppState,
    actor: &Actor,
    current: &[u8],
) -> AppResult<Vec<SessionInfo>> {
    Ok(sdb::list_sessions(
        &state.db,
        actor.user_id,
        current,
        state.now() - auth::IDLE_TIMEOUT,
    )
    .await?)
}

/// Signs out one of the person's other sessions (404 if it is not theirs).
pub async fn end_session(
    state: &AppState,
    actor: &Actor,
    current: &[u8],
    id: Uuid,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !sdb::delete_session_by_id(&mut tx, actor.user_id, id, current).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::SESSION_ENDED,
            "session",
            Some(id),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Signs out every other session of the person; returns how many.
pub async fn end_other_sessions(state: &AppState, actor: &Actor, current: &[u8]) -> AppResult<u64> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let n = sdb::delete_other_sessions(&mut tx, actor.user_id, Some(current)).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::SESSION_ENDED,
            "user",
            Some(actor.user_id),
        )
        .details(json!({"others": n})),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// The person's own record.
pub async fn own_record(state: &AppState, actor: &Actor) -> AppResult<dir::User> {
    dir::get_user(
        &state.db,
        &policy::UserScope::Itself(actor.user_id),
        actor.user_id,
    )
    .await?
    .ok_or(AppError::NotFound)
}
