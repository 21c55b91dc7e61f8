//! Keeping an account (issue 9): signing in with a password and a second factor (an
//! authenticator code or a recovery code), enrolment, password change and self-service
//! reset, recovery codes, the list of one's sessions, API tokens behind a fresh proof, and
//! the content-free notices that tell a person their credentials changed.
//!
//! The pages and the API call these; only this module (and `directory`) runs their SQL.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::app::db::{self, directory as dir, sessions as sdb};
use crate::audit::{self, Event, action};
use crate::auth::{self, Totp, recovery};
use crate::crypto;
use crate::domain::directory::Role;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

/// How long a fresh proof (password, and code where needed) lets a session mint tokens.
pub const PROOF_VALIDITY: TimeDelta = TimeDelta::minutes(5);
/// How long a reset link works.
pub const RESET_VALIDITY: TimeDelta = TimeDelta::hours(1);
pub const MAX_TOKEN_DAYS: i64 = 365;

/// The kinds of notice a person gets about their own credentials.
pub mod notice {
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const PASSWORD_RESET: &str = "password_reset";
    pub const PASSWORD_RESET_LINK: &str = "password_reset_link";
    pub const MFA_RESET: &str = "mfa_reset";
    pub const RECOVERY_CODE_USED: &str = "recovery_code_used";
    pub const TOKEN_CREATED: &str = "token_created";
}

/// Ends every session (but `keep`, the browser making the change) and every API token of a
/// user, inside the caller's transaction (SPEC §3: credentials die together).
pub async fn end_credentials(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sdb::delete_other_sessions(&mut *conn, user_id, keep).await?;
    sdb::revoke_all_tokens(conn, user_id, now).await?;
    Ok(())
}

/// A new session; returns the secret for the cookie (only its hash is stored).
async fn start_session(
    conn: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
    complete: bool,
    user_agent: Option<&str>,
) -> AppResult<String> {
    let (token, hash) = crypto::new_token("")?;
    sdb::create_session_from(conn, &hash, user_id, complete, state.now(), user_agent).await?;
    Ok(token)
}

fn clip_agent(ua: Option<&str>) -> Option<String> {
    ua.map(|s| s.chars().filter(|c| !c.is_control()).take(300).collect())
}

// ----- Signing in -----

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

async fn count_failure(conn: &mut PgConnection, id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let now_locked = dir::record_failed_sign_in(
        &mut *conn,
        id,
        now,
        auth::MAX_FAILED_ATTEMPTS,
        now + auth::LOCKOUT,
    )
    .await?;
    if now_locked {
        audit::record(
            conn,
            now,
            Event::new(Some(id), action::SIGN_IN_LOCKED, "user", Some(id)),
        )
        .await?;
    }
    Ok(())
}

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
async fn check_second_factor(
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
async fn finish_sign_in(
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

// ----- Passwords: invitation, change, reset -----

/// Who an invitation link is for, while it works.
pub struct Invitee {
    pub name: String,
    pub email: String,
    pub role: String,
}

pub async fn invitation(state: &AppState, token: &str) -> AppResult<Option<Invitee>> {
    Ok(
        sdb::find_invitation(&state.db, &crypto::sha256(token.as_bytes()), state.now())
            .await?
            .map(|i| Invitee {
                name: i.name,
                email: i.email,
                role: i.role,
            }),
    )
}

pub enum SetPassword {
    /// The link does not work (used, expired, unknown, or the account is not ready).
    Invalid,
    Weak(auth::PasswordProblem),
    Done,
}

/// Sets the first password from an invitation link.
pub async fn accept_invitation(
    state: &AppState,
    token: &str,
    password: String,
    confirm: &str,
) -> AppResult<SetPassword> {
    let now = state.now();
    let Some(inv) = sdb::find_invitation(&state.db, &crypto::sha256(token.as_bytes()), now).await?
    else {
        return Ok(SetPassword::Invalid);
    };
    if let Err(p) = auth::check_new_password(&password, confirm, &inv.email, &inv.name) {
        return Ok(SetPassword::Weak(p));
    }
    let hash = auth::hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    if !sdb::use_invitation(&mut tx, inv.invitation_id, now).await? {
        return Ok(SetPassword::Invalid);
    }
    dir::set_password(&mut tx, inv.user_id, &hash, now).await?;
    end_credentials(&mut tx, inv.user_id, None, now).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(inv.user_id),
            action::PASSWORD_SET,
            "user",
            Some(inv.user_id),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(SetPassword::Done)
}

/// Changes the signed-in person's password: the current one is needed; every other session
/// and every API token ends, and this browser gets a new session id.
pub async fn change_password(
    state: &AppState,
    actor: &Actor,
    session_hash: &[u8],
    current: String,
    password: String,
    confirm: &str,
    user_agent: Option<&str>,
) -> AppResult<Result<String, FieldErrors>> {
    let c = dir::credentials_by_id(&state.db, actor.user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let mut errors = FieldErrors::new();
    if current.is_empty() {
        errors.add("current", "Enter your current password");
    }
    if let Err(p) = auth::check_new_password(&password, confirm, &c.email, &c.name) {
        errors.add(p.field, p.message);
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    let now = state.now();
    if !auth::verify_password(c.password_hash.clone(), current).await? {
        let mut tx = state.db.begin().await?;
        count_failure(&mut tx, c.id, now).await?;
        audit::record(
            &mut tx,
            now,
            Event::new(Some(c.id), action::REAUTH_FAILED, "user", Some(c.id))
                .details(json!({"for": "password_change"})),
        )
        .await?;
        tx.commit().await?;
        let mut e = FieldErrors::new();
        e.add("current", "Your current password is not correct");
        return Ok(Err(e));
    }
    let hash = auth::hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    dir::set_password(&mut tx, c.id, &hash, now).await?;
    end_credentials(&mut tx, c.id, None, now).await?;
    // This browser stays signed in, under a new session id.
    let cookie = start_session(
        &mut tx,
        state,
        c.id,
        true,
        clip_agent(user_agent).as_deref(),
    )
    .await?;
    let _ = session_hash;
    sdb::enqueue_notice(&mut tx, c.id, notice::PASSWORD_CHANGED, None, now).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(c.id), action::PASSWORD_CHANGED, "user", Some(c.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(cookie))
}

/// "Forgotten your password?": emails a one-time link (1 hour) to an active account with
/// that address. The caller answers the same whether or not there is one; the work that
/// differs (the email) happens later, in the notice worker.
pub async fn request_reset(state: &AppState, email: &str) -> AppResult<()> {
    let now = state.now();
    let Some(c) = dir::credentials_by_email(&state.db, email).await? else {
        audit::record_alone(
            &state.db,
            now,
            Event::new(None, action::PASSWORD_RESET_REQUESTED, "user", None)
                .details(json!({"sent": false})),
        )
        .await?;
        return Ok(());
    };
    let usable = c.status == "active" && !c.organisation_disabled;
    let mut tx = state.db.begin().await?;
    if usable {
        let (token, hash) = crypto::new_token("")?;
        let id = Uuid::now_v7();
        let sealed = state.sealer.seal(token.as_bytes(), &reset_context(id))?;
        sdb::insert_reset(
            &mut tx,
            id,
            c.id,
            &hash,
            (state.sealer.key_id(), &sealed),
            now,
            now + RESET_VALIDITY,
        )
        .await?;
        sdb::enqueue_notice(&mut tx, c.id, notice::PASSWORD_RESET_LINK, Some(id), now).await?;
    }
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(c.id),
            action::PASSWORD_RESET_REQUESTED,
            "user",
            Some(c.id),
        )
        .details(json!({"sent": usable})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn reset_context(id: Uuid) -> Vec<u8> {
    format!("password_resets.token_enc:{id}").into_bytes()
}

/// Who a reset link is for, while it works.
pub async fn reset_link(state: &AppState, token: &str) -> AppResult<Option<String>> {
    Ok(
        sdb::find_reset(&state.db, &crypto::sha256(token.as_bytes()), state.now())
            .await?
            .map(|r| r.email),
    )
}

/// Sets a new password from a reset link: single use; the second factor stays; every
/// session and token ends; a notice is sent.
pub async fn complete_reset(
    state: &AppState,
    token: &str,
    password: String,
    confirm: &str,
) -> AppResult<SetPassword> {
    let now = state.now();
    let Some(r) = sdb::find_reset(&state.db, &crypto::sha256(token.as_bytes()), now).await? else {
        return Ok(SetPassword::Invalid);
    };
    if let Err(p) = auth::check_new_password(&password, confirm, &r.email, &r.name) {
        return Ok(SetPassword::Weak(p));
    }
    let hash = auth::hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    if !sdb::use_reset(&mut tx, r.reset_id, now).await? {
        return Ok(SetPassword::Invalid);
    }
    dir::set_password(&mut tx, r.user_id, &hash, now).await?;
    end_credentials(&mut tx, r.user_id, None, now).await?;
    sdb::enqueue_notice(&mut tx, r.user_id, notice::PASSWORD_RESET, None, now).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(r.user_id),
            action::PASSWORD_RESET,
            "user",
            Some(r.user_id),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(SetPassword::Done)
}

// ----- Fresh proof -----

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

// ----- Recovery codes, sessions, account facts -----

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

// ----- API tokens -----

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

// ----- Notices -----

/// The text of a notice: what changed and when, and whom to tell if it was not them.
/// Content-free like every notification: no names, no case facts.
fn notice_text(
    kind: &str,
    at: DateTime<Utc>,
    base: &str,
    link: Option<&str>,
) -> (&'static str, String) {
    let when = at
        .with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y at %H:%M (UK time)")
        .to_string();
    let not_you = format!(
        "If this was not you, contact your CD Concerns administrator or the NHS England controlled drugs team at once, and reset your password: {base}/sign-in/forgotten\n"
    );
    match kind {
        notice::PASSWORD_RESET_LINK => (
            "Reset your CD Concerns password",
            format!(
                "Someone asked to reset the password of your CD Concerns account on {when}.\n\nTo choose a new password, open this link within 1 hour. It works once:\n{}\n\nIf you did not ask, ignore this email: your password has not changed.\n",
                link.unwrap_or("")
            ),
        ),
        notice::PASSWORD_CHANGED => (
            "Your CD Concerns password was changed",
            format!(
                "The password of your CD Concerns account was changed on {when}. Your other sessions and API tokens have ended.\n\n{not_you}"
            ),
        ),
        notice::PASSWORD_RESET => (
            "Your CD Concerns password was reset",
            format!(
                "The password of your CD Concerns account was reset with an emailed link on {when}. Your sessions and API tokens have ended.\n\n{not_you}"
            ),
        ),
        notice::MFA_RESET => (
            "Your CD Concerns second factor was reset",
            format!(
                "An administrator reset the second factor of your CD Concerns account on {when}. You will set up an authenticator app again when you next sign in.\n\n{not_you}"
            ),
        ),
        notice::RECOVERY_CODE_USED => (
            "A recovery code was used to sign in to CD Concerns",
            format!(
                "One of your recovery codes was used to sign in to your CD Concerns account on {when}. Each code works once; you can make new ones on your account page.\n\n{not_you}"
            ),
        ),
        _ => (
            "A new API token was made for your CD Concerns account",
            format!(
                "A new API token was made for your CD Concerns account on {when}. You can see and revoke your tokens on your account page: {base}/account\n\n{not_you}"
            ),
        ),
    }
}

/// Sends the notices that are due; returns how many were sent. Run by the worker loop of
/// `jobs`, taking work with SKIP LOCKED like the notification outbox.
pub async fn send_notices(state: &AppState, mailer: &crate::jobs::Mailer) -> AppResult<usize> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let due = sdb::take_due_notices(&mut tx, now, 20).await?;
    let mut sent = 0;
    for n in due {
        if n.user_status == "disabled" {
            sdb::mark_notice(&mut tx, n.id, now, Err(("account disabled", None))).await?;
            continue;
        }
        let link = if n.kind == notice::PASSWORD_RESET_LINK {
            let taken = match n.reset_id {
                Some(id) => sdb::take_reset_link(&mut tx, id, now)
                    .await?
                    .map(|(key_id, sealed)| (id, key_id, sealed)),
                None => None,
            };
            let Some((id, key_id, sealed)) = taken else {
                sdb::mark_notice(&mut tx, n.id, now, Err(("link no longer valid", None))).await?;
                continue;
            };
            let token = state.sealer.open(key_id, &sealed, &reset_context(id))?;
            Some(format!(
                "{}/reset-password/{}",
                state.config.public_url,
                String::from_utf8_lossy(&token)
            ))
        } else {
            None
        };
        let (subject, body) = notice_text(
            &n.kind,
            n.created_at,
            &state.config.public_url,
            link.as_deref(),
        );
        match mailer.send(&n.email, subject, body).await {
            Ok(()) => {
                sdb::mark_notice(&mut tx, n.id, now, Ok(())).await?;
                sent += 1;
            }
            Err(e) => {
                // A reset link is not retried: its sealed copy is gone; the person asks again.
                let retry = (n.kind != notice::PASSWORD_RESET_LINK
                    && n.attempts + 1 < crate::jobs::MAX_ATTEMPTS)
                    .then(|| now + TimeDelta::seconds(30 * (1i64 << n.attempts.clamp(0, 10))));
                tracing::warn!(notice.id = %n.id, error = %e, "account notice not sent");
                sdb::mark_notice(&mut tx, n.id, now, Err((&e, retry))).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(sent)
}

/// Re-exported for the operator's command.
pub use db::directory::Credentials;

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

    #[test]
    fn notices_hold_no_names_and_say_what_to_do() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for kind in [
            notice::PASSWORD_CHANGED,
            notice::PASSWORD_RESET,
            notice::MFA_RESET,
            notice::RECOVERY_CODE_USED,
            notice::TOKEN_CREATED,
        ] {
            let (subject, body) = notice_text(kind, now, "https://cd.example", None);
            assert!(subject.contains("CD Concerns"));
            assert!(body.contains("If this was not you"), "{kind}");
        }
        let (_, body) = notice_text(
            notice::PASSWORD_RESET_LINK,
            now,
            "https://cd.example",
            Some("https://cd.example/reset-password/abc"),
        );
        assert!(body.contains("/reset-password/abc") && body.contains("1 hour"));
    }
}
