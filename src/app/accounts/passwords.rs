//! Passwords: the first one from an invitation, changing it, and a self-service reset.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{RESET_VALIDITY, clip_agent, count_failure, end_credentials, notice, start_session};
use crate::app::db::{directory as dir, sessions as sdb};
use crate::audit::{self, Event, action};
use crate::auth;
use crate::crypto;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

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
    let who = (inv.user_id, inv.email.as_str(), inv.name.as_str());
    set_from_link(
        state,
        now,
        Link::Invitation(inv.invitation_id),
        who,
        password,
        confirm,
    )
    .await
}

/// The single-use link a password is set from.
#[derive(Clone, Copy)]
enum Link {
    Invitation(Uuid),
    Reset(Uuid),
}

/// Sets a password from a live link for `who` (user id, email, name): the link is used up
/// (a link used first by someone else is `Invalid`), every session and API token ends, and
/// the change is audited; a reset also sends its notice.
async fn set_from_link(
    state: &AppState,
    now: DateTime<Utc>,
    link: Link,
    (user_id, email, name): (Uuid, &str, &str),
    password: String,
    confirm: &str,
) -> AppResult<SetPassword> {
    if let Err(p) = auth::check_new_password(&password, confirm, email, name) {
        return Ok(SetPassword::Weak(p));
    }
    let hash = auth::hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    let used = match link {
        Link::Invitation(id) => sdb::use_invitation(&mut tx, id, now).await?,
        Link::Reset(id) => sdb::use_reset(&mut tx, id, now).await?,
    };
    if !used {
        return Ok(SetPassword::Invalid);
    }
    dir::set_password(&mut tx, user_id, &hash, now).await?;
    end_credentials(&mut tx, user_id, None, now).await?;
    let what = match link {
        Link::Invitation(_) => action::PASSWORD_SET,
        Link::Reset(_) => {
            sdb::enqueue_notice(&mut tx, user_id, notice::PASSWORD_RESET, None, now).await?;
            action::PASSWORD_RESET
        }
    };
    audit::record(
        &mut tx,
        now,
        Event::new(Some(user_id), what, "user", Some(user_id)),
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

pub(super) fn reset_context(id: Uuid) -> Vec<u8> {
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
    let who = (r.user_id, r.email.as_str(), r.name.as_str());
    set_from_link(state, now, Link::Reset(r.reset_id), who, password, confirm).await
}
