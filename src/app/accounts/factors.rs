//! The second factor: the authenticator app (enrolment, checking a code) and recovery codes.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::notice;
use super::proof::proof_needs_code;
use super::sign_in::finish_sign_in;
use crate::app::db::{directory as dir, sessions as sdb};
use crate::audit::{self, Event, action};
use crate::auth::{self, Totp, recovery};
use crate::crypto;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

/// Whether the half-signed-in user has an authenticator set up (else they enrol).
pub async fn has_second_factor(state: &AppState, user_id: Uuid) -> AppResult<bool> {
    Ok(dir::credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?
        .totp_confirmed)
}

/// Which second factor was accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    Totp,
    /// A recovery code, with how many are left.
    RecoveryCode {
        left: i64,
    },
}

/// Checks an authenticator code or a recovery code inside `tx`: a TOTP step is accepted
/// once (a replayed code is refused), a recovery code once. None when neither matched.
pub(super) async fn check_second_factor(
    state: &AppState,
    tx: &mut PgConnection,
    c: &dir::Credentials,
    code: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<Factor>> {
    if let Some(normalised) = recovery::normalise(code) {
        for stored in sdb::unused_recovery_codes(&mut *tx, c.id).await? {
            let candidate = recovery::hash(&stored.salt, &normalised);
            if candidate == stored.code_hash
                && sdb::use_recovery_code(&mut *tx, stored.id, now).await?
            {
                let left = i64::try_from(sdb::unused_recovery_codes(&mut *tx, c.id).await?.len())
                    .unwrap_or(0);
                audit::record(
                    &mut *tx,
                    now,
                    Event::new(Some(c.id), action::RECOVERY_CODE_USED, "user", Some(c.id))
                        .details(json!({ "codes_left": left })),
                )
                .await?;
                sdb::enqueue_notice(&mut *tx, c.id, notice::RECOVERY_CODE_USED, None, now).await?;
                return Ok(Some(Factor::RecoveryCode { left }));
            }
        }
        return Ok(None);
    }
    let (Some(key_id), Some(sealed), true) = (
        c.totp_key_id,
        c.totp_secret_enc.as_deref(),
        c.totp_confirmed,
    ) else {
        return Ok(None);
    };
    let secret = auth::open_totp(&state.sealer, c.id, key_id, sealed)?;
    let totp = Totp::from_secret(&secret, "")?;
    Ok(match totp.check(code, now) {
        Some(step) if dir::use_totp_step(&mut *tx, c.id, step).await? => Some(Factor::Totp),
        _ => None,
    })
}

/// The pending enrolment's authenticator: made (and kept, sealed, unconfirmed) on first
/// view. None once the person has one.
pub async fn enrolment(state: &AppState, user_id: Uuid) -> AppResult<Option<Totp>> {
    let c = dir::credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if c.totp_confirmed {
        return Ok(None);
    }
    let secret = match (c.totp_key_id, c.totp_secret_enc) {
        (Some(k), Some(sealed)) => auth::open_totp(&state.sealer, user_id, k, &sealed)?,
        _ => {
            let s = Totp::new_secret()?;
            let sealed = auth::seal_totp(&state.sealer, user_id, &s)?;
            let mut conn = state.db.acquire().await?;
            dir::set_totp(
                &mut conn,
                user_id,
                Some(state.sealer.key_id()),
                Some(&sealed),
                false,
                None,
                state.now(),
            )
            .await?;
            s
        }
    };
    Ok(Some(Totp::from_secret(&secret, &c.email)?))
}

pub enum Enrolment {
    Refused(Totp),
    AlreadyEnrolled,
    /// Signed in; the recovery codes are shown once.
    Done {
        cookie: String,
        recovery_codes: Vec<String>,
    },
}

/// Confirms the authenticator with its first code, signs in, and makes the recovery codes.
pub async fn enrol(
    state: &AppState,
    user_id: Uuid,
    pending_hash: &[u8],
    code: &str,
    user_agent: Option<&str>,
) -> AppResult<Enrolment> {
    let Some(totp) = enrolment(state, user_id).await? else {
        return Ok(Enrolment::AlreadyEnrolled);
    };
    let now = state.now();
    let Some(step) = totp.check(code, now) else {
        return Ok(Enrolment::Refused(totp));
    };
    let c = dir::credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut tx = state.db.begin().await?;
    dir::set_totp(
        &mut tx,
        user_id,
        c.totp_key_id,
        c.totp_secret_enc.as_deref(),
        true,
        Some(step),
        now,
    )
    .await?;
    let codes = store_recovery_codes(&mut tx, user_id, now).await?;
    let cookie = finish_sign_in(state, &mut tx, user_id, pending_hash, true, user_agent).await?;
    tx.commit().await?;
    Ok(Enrolment::Done {
        cookie,
        recovery_codes: codes,
    })
}

async fn store_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    let codes = recovery::generate()?;
    let mut stored = Vec::with_capacity(codes.len());
    for code in &codes {
        let salt = crypto::random_bytes::<16>()?.to_vec();
        let hash = recovery::hash(&salt, &recovery::normalise(code).unwrap_or_default());
        stored.push((salt, hash));
    }
    sdb::replace_recovery_codes(&mut *conn, user_id, &stored, now).await?;
    audit::record(
        conn,
        now,
        Event::new(
            Some(user_id),
            action::RECOVERY_CODES_CREATED,
            "user",
            Some(user_id),
        )
        .details(json!({"count": codes.len()})),
    )
    .await?;
    Ok(codes)
}

/// New recovery codes (the old ones stop working), after a fresh proof.
pub async fn regenerate_recovery_codes(state: &AppState, actor: &Actor) -> AppResult<Vec<String>> {
    if !proof_needs_code(state, actor.user_id).await? {
        return Err(AppError::Conflict(
            "Set up an authenticator app first: recovery codes stand in for its codes.".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let codes = store_recovery_codes(&mut tx, actor.user_id, state.now()).await?;
    tx.commit().await?;
    Ok(codes)
}

pub async fn recovery_codes_left(state: &AppState, user_id: Uuid) -> AppResult<i64> {
    Ok(sdb::count_recovery_codes(&state.db, user_id).await?)
}
