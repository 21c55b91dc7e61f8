//! Fresh proof: a signed-in person proving again who they are, before a sensitive change.

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use super::factors::check_second_factor;
use super::{PROOF_VALIDITY, count_failure};
use crate::app::db::{directory as dir, sessions as sdb};
use crate::audit::{self, Event, action};
use crate::auth;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

/// Whether the session proved who it is within the last 5 minutes.
pub fn proof_is_fresh(proof_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    proof_at.is_some_and(|t| now - t <= PROOF_VALIDITY && t <= now + TimeDelta::seconds(5))
}

/// What a person needs to give to prove again who they are.
pub async fn proof_needs_code(state: &AppState, user_id: Uuid) -> AppResult<bool> {
    Ok(dir::credentials_by_id(&state.db, user_id)
        .await?
        .is_some_and(|c| c.totp_confirmed))
}

/// Checks the password (and the code, where the account has a second factor) and records
/// the proof on the session. Field errors name `password` and `code`.
pub async fn prove(
    state: &AppState,
    actor: &Actor,
    session_hash: &[u8],
    password: Option<&str>,
    code: Option<&str>,
) -> AppResult<Result<(), FieldErrors>> {
    let c = dir::credentials_by_id(&state.db, actor.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let password = password.unwrap_or("");
    let code = code.map(str::trim).unwrap_or("");
    let mut errors = FieldErrors::new();
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if c.totp_confirmed && code.is_empty() {
        errors.add(
            "code",
            "Enter the 6-digit code from your authenticator app, or a recovery code",
        );
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let now = state.now();
    let locked = c.locked_until.is_some_and(|t| t > now);
    let password_ok = auth::verify_password(c.password_hash.clone(), password.to_string()).await?;
    let mut tx = state.db.begin().await?;
    let code_ok = if !c.totp_confirmed {
        true
    } else if password_ok && !locked {
        check_second_factor(state, &mut tx, &c, code, now)
            .await?
            .is_some()
    } else {
        false
    };
    if locked || !password_ok || !code_ok {
        if !locked {
            count_failure(&mut tx, c.id, now).await?;
        }
        audit::record(
            &mut tx,
            now,
            Event::new(Some(c.id), action::REAUTH_FAILED, "user", Some(c.id)),
        )
        .await?;
        tx.commit().await?;
        let mut e = FieldErrors::new();
        if locked {
            e.add(
                "password",
                "Your account is locked after too many attempts. Try again in 15 minutes",
            );
        } else if !password_ok {
            e.add("password", "Your password is not correct");
        } else {
            e.add(
                "code",
                "The code is not correct or has been used already. Enter the code your app shows now",
            );
        }
        return Ok(Err(e));
    }
    sdb::set_proof(&mut tx, session_hash, now).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(c.id), action::REAUTHENTICATED, "user", Some(c.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_lasts_five_minutes() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        assert!(!proof_is_fresh(None, now));
        assert!(proof_is_fresh(Some(now - TimeDelta::minutes(4)), now));
        assert!(proof_is_fresh(Some(now - TimeDelta::minutes(5)), now));
        assert!(!proof_is_fresh(Some(now - TimeDelta::minutes(6)), now));
    }
}
