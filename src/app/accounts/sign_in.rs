//! Signing in: the password, the second step, and signing out.

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::factors::{Factor, check_second_factor};
use super::{clip_agent, count_failure, start_session};
use crate::app::db::{directory as dir, sessions as sdb};
use crate::audit::{self, Event, action};
use crate::auth;
use crate::domain::directory::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

/// What the browser gets after a password.
pub enum SignIn {
    /// Wrong email or password, locked, or not active: the same answer for each.
    Refused,
    /// A new session (`cookie` is its secret), complete or waiting for the next step.
    Started { cookie: String, next: NextStep },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    Done,
    Code,
    Enrol,
}

pub async fn sign_in(
    state: &AppState,
    email: &str,
    password: String,
    old_session: Option<&[u8]>,
    user_agent: Option<&str>,
) -> AppResult<SignIn> {
    let now = state.now();
    let creds = dir::credentials_by_email(&state.db, email).await?;
    let stored = creds.as_ref().and_then(|c| c.password_hash.clone());
    let password_ok = auth::verify_password(stored, password).await?;
    let Some(c) = creds else {
        audit::record_alone(
            &state.db,
            now,
            Event::new(None, action::SIGN_IN_FAILED, "user", None)
                .details(json!({"reason": "unknown_account"})),
        )
        .await?;
        return Ok(SignIn::Refused);
    };
    let locked = c.locked_until.is_some_and(|t| t > now);
    let usable = c.status == "active" && !c.organisation_disabled;
    if !password_ok || locked || !usable {
        let reason = if locked {
            "locked"
        } else if !usable {
            "account_not_active"
        } else {
            "bad_password"
        };
        let mut tx = state.db.begin().await?;
        if !locked {
            count_failure(&mut tx, c.id, now).await?;
        }
        audit::record(
            &mut tx,
            now,
            Event::new(Some(c.id), action::SIGN_IN_FAILED, "user", Some(c.id))
                .details(json!({ "reason": reason })),
        )
        .await?;
        tx.commit().await?;
        return Ok(SignIn::Refused);
    }
    let role =
        Role::parse(&c.role).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown role")))?;
    let next = if c.totp_confirmed {
        NextStep::Code
    } else if role.requires_mfa() {
        NextStep::Enrol
    } else {
        NextStep::Done
    };
    let ua = clip_agent(user_agent);
    let mut tx = state.db.begin().await?;
    if let Some(old) = old_session {
        sdb::delete_session(&mut tx, old).await?;
    }
    let cookie = start_session(&mut tx, state, c.id, next == NextStep::Done, ua.as_deref()).await?;
    if next == NextStep::Done {
        dir::record_sign_in(&mut tx, c.id, now).await?;
        audit::record(
            &mut tx,
            now,
            Event::new(Some(c.id), action::SIGN_IN, "user", Some(c.id))
                .details(json!({"mfa": false})),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(SignIn::Started { cookie, next })
}

pub enum SecondFactor {
    Refused,
    NotEnrolled,
    Done { cookie: String, factor: Factor },
}

/// The second step of signing in: a code from the authenticator app or a recovery code.
pub async fn second_factor(
    state: &AppState,
    user_id: Uuid,
    pending_hash: &[u8],
    code: &str,
    user_agent: Option<&str>,
) -> AppResult<SecondFactor> {
    let c = dir::credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !c.totp_confirmed {
        return Ok(SecondFactor::NotEnrolled);
    }
    let now = state.now();
    let locked = c.locked_until.is_some_and(|t| t > now);
    let mut tx = state.db.begin().await?;
    let factor = if locked {
        None
    } else {
        check_second_factor(state, &mut tx, &c, code, now).await?
    };
    let Some(factor) = factor else {
        if !locked {
            count_failure(&mut tx, user_id, now).await?;
        }
        audit::record(
            &mut tx,
            now,
            Event::new(Some(user_id), action::MFA_FAILED, "user", Some(user_id)),
        )
        .await?;
        tx.commit().await?;
        return Ok(SecondFactor::Refused);
    };
    let cookie = finish_sign_in(state, &mut tx, user_id, pending_hash, false, user_agent).await?;
    tx.commit().await?;
    Ok(SecondFactor::Done { cookie, factor })
}

/// Replaces the half-signed-in session with a new, complete one (a new id again).
pub(super) async fn finish_sign_in(
    state: &AppState,
    tx: &mut PgConnection,
    user_id: Uuid,
    pending_hash: &[u8],
    enrolled: bool,
    user_agent: Option<&str>,
) -> AppResult<String> {
    let now = state.now();
    sdb::delete_session(&mut *tx, pending_hash).await?;
    let ua = clip_agent(user_agent);
    let cookie = start_session(&mut *tx, state, user_id, true, ua.as_deref()).await?;
    dir::record_sign_in(&mut *tx, user_id, now).await?;
    if enrolled {
        audit::record(
            &mut *tx,
            now,
            Event::new(Some(user_id), action::MFA_ENROLLED, "user", Some(user_id)),
        )
        .await?;
    }
    audit::record(
        &mut *tx,
        now,
        Event::new(Some(user_id), action::SIGN_IN, "user", Some(user_id))
            .details(json!({"mfa": true})),
    )
    .await?;
    Ok(cookie)
}

pub async fn sign_out(
    state: &AppState,
    session_hash: &[u8],
    actor: Option<&Actor>,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    sdb::delete_session(&mut tx, session_hash).await?;
    if let Some(a) = actor {
        audit::record(
            &mut tx,
            state.now(),
            Event::new(Some(a.user_id), action::SIGN_OUT, "user", Some(a.user_id)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
