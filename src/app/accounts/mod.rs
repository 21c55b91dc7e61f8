//! Keeping an account (issue 9): signing in with a password and a second factor (an
//! authenticator code or a recovery code), enrolment, password change and self-service
//! reset, recovery codes, the list of one's sessions, API tokens behind a fresh proof, and
//! the content-free notices that tell a person their credentials changed.
//!
//! The pages and the API call these; only this module (and `directory`) runs their SQL.
//!
//! By job: `sign_in` (password, second step, signing out), `factors` (the authenticator,
//! enrolment and recovery codes), `passwords` (invitation, change, reset), `proof` (proving
//! again who one is), `sessions`, `tokens` and `notices`.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::app::db::{self, directory as dir, sessions as sdb};
use crate::audit::{self, Event, action};
use crate::auth;
use crate::crypto;
use crate::error::AppResult;
use crate::state::AppState;

mod factors;
mod notices;
mod passwords;
mod proof;
mod sessions;
mod sign_in;
mod tokens;

pub use factors::{
    Enrolment, Factor, enrol, enrolment, has_second_factor, recovery_codes_left,
    regenerate_recovery_codes,
};
pub use notices::send_notices;
pub use passwords::{
    Invitee, SetPassword, accept_invitation, change_password, complete_reset, invitation,
    request_reset, reset_link,
};
pub use proof::{proof_is_fresh, proof_needs_code, prove};
pub use sessions::{SessionInfo, end_other_sessions, end_session, own_record, sessions};
pub use sign_in::{NextStep, SecondFactor, SignIn, second_factor, sign_in, sign_out};
pub use tokens::{
    CreatedToken, NewToken, TokenInfo, create_token, issue_token, list_tokens, revoke_token,
};

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

/// Counts a failed password or code; the failure that reaches the limit locks the account.
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

/// Re-exported for the operator's command.
pub use db::directory::Credentials;
