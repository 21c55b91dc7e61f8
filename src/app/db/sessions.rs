//! Sessions, API tokens and invitations: the credentials that name a user.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::directory::Role;
use crate::policy::{Actor, Via};

/// A session row with the user it belongs to, as the authentication middleware needs it.
pub struct SessionUser {
    /// The session's public handle (its id hash stays the secret).
    pub id: Uuid,
    /// When the holder last proved again who they are (password, and code where needed).
    pub proof_at: Option<DateTime<Utc>>,
    pub user_id: Uuid,
    pub mfa_verified: bool,
    pub last_seen_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub data: serde_json::Value,
    pub actor: Actor,
}

struct ActorRow {
    id: Uuid,
    role: String,
    name: String,
    email: String,
    organisation_id: Option<Uuid>,
    organisation_name: Option<String>,
    area_ids: Vec<Uuid>,
}

impl ActorRow {
    fn into_actor(self, via: Via) -> Option<Actor> {
        Some(Actor {
            user_id: self.id,
            role: Role::parse(&self.role)?,
            name: self.name,
            email: self.email,
            organisation_id: self.organisation_id,
            organisation_name: self.organisation_name,
            area_ids: self.area_ids,
            via,
        })
    }
}

pub async fn load_session(
    pool: &PgPool,
    id_hash: &[u8],
) -> Result<Option<SessionUser>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT s.id AS session_id, s.proof_at, s.user_id, s.mfa_verified, s.last_seen_at, s.created_at, s.data,
                  u.role, u.name, u.email, u.organisation_id, o.name AS "organisation_name?",
                  CASE WHEN u.role = 'cdao'
                       THEN ARRAY(SELECT area_id FROM user_areas WHERE user_id = u.id ORDER BY area_id)
                       ELSE ARRAY(SELECT area_id FROM organisation_areas
                                  WHERE organisation_id = u.organisation_id ORDER BY area_id)
                  END AS "area_ids!"
           FROM sessions s
           JOIN users u ON u.id = s.user_id
           LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE s.id_hash = $1 AND u.status = 'active'
             AND (o.id IS NULL OR o.disabled_at IS NULL)"#,
        id_hash
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        let actor = ActorRow {
            id: r.user_id,
            role: r.role,
            name: r.name,
            email: r.email,
            organisation_id: r.organisation_id,
            organisation_name: r.organisation_name,
            area_ids: r.area_ids,
        }
        .into_actor(Via::Session)?;
        Some(SessionUser {
            id: r.session_id,
            proof_at: r.proof_at,
            user_id: r.user_id,
            mfa_verified: r.mfa_verified,
            last_seen_at: r.last_seen_at,
            created_at: r.created_at,
            data: r.data,
            actor,
        })
    }))
}

pub async fn create_session(
    conn: &mut PgConnection,
    id_hash: &[u8],
    user_id: Uuid,
    mfa_verified: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    create_session_from(conn, id_hash, user_id, mfa_verified, now, None).await
}

/// A new session, with the browser that asked for it (for the person's list of sessions).
pub async fn create_session_from(
    conn: &mut PgConnection,
    id_hash: &[u8],
    user_id: Uuid,
    mfa_verified: bool,
    now: DateTime<Utc>,
    user_agent: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO sessions (id_hash, id, user_id, mfa_verified, created_at, last_seen_at, user_agent)
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
        id_hash,
        Uuid::now_v7(),
        user_id,
        mfa_verified,
        now,
        user_agent
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a fresh proof of identity on the session.
pub async fn set_proof(
    conn: &mut PgConnection,
    id_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sessions SET proof_at = $2 WHERE id_hash = $1",
        id_hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    /// This is the session asking.
    pub current: bool,
}

/// A person's signed-in sessions, the one asking first, then the most recently used.
pub async fn list_sessions(
    pool: &PgPool,
    user_id: Uuid,
    current_hash: &[u8],
    idle_since: DateTime<Utc>,
) -> Result<Vec<SessionInfo>, sqlx::Error> {
    sqlx::query_as!(
        SessionInfo,
        r#"SELECT id, created_at, last_seen_at, user_agent, (id_hash = $2) AS "current!"
           FROM sessions
           WHERE user_id = $1 AND mfa_verified AND last_seen_at >= $3
           ORDER BY (id_hash = $2) DESC, last_seen_at DESC"#,
        user_id,
        current_hash,
        idle_since
    )
    .fetch_all(pool)
    .await
}

/// Ends one of the person's other sessions; false if there is no such session of theirs.
pub async fn delete_session_by_id(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    current_hash: &[u8],
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM sessions WHERE id = $1 AND user_id = $2 AND id_hash <> $3",
        id,
        user_id,
        current_hash
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Ends every session of the user but `keep` (if given); returns how many ended.
pub async fn delete_other_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<&[u8]>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR id_hash <> $2)",
        user_id,
        keep
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// Revokes every live API token of the user.
pub async fn revoke_all_tokens(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    crate::authcache::changed();
    Ok(sqlx::query!(
        "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn touch_session(
    pool: &PgPool,
    id_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1",
        id_hash,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_session_data(
    pool: &PgPool,
    id_hash: &[u8],
    data: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE sessions SET data = $2 WHERE id_hash = $1",
        id_hash,
        data
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete_session(conn: &mut PgConnection, id_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE id_hash = $1", id_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes sessions idle for longer than the timeout.
pub async fn purge_idle_sessions(
    pool: &PgPool,
    idle_before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query!("DELETE FROM sessions WHERE last_seen_at < $1", idle_before)
            .execute(pool)
            .await?
            .rows_affected(),
    )
}

#[derive(Clone)]
pub struct TokenUser {
    pub token_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub actor: Actor,
}

/// A live token (not revoked, not expired) of an active user.
pub async fn load_token(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<TokenUser>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT t.id AS token_id, t.expires_at, t.last_used_at, u.id, u.role, u.name, u.email, u.organisation_id,
                  o.name AS "organisation_name?",
                  CASE WHEN u.role = 'cdao'
                       THEN ARRAY(SELECT area_id FROM user_areas WHERE user_id = u.id ORDER BY area_id)
                       ELSE ARRAY(SELECT area_id FROM organisation_areas
                                  WHERE organisation_id = u.organisation_id ORDER BY area_id)
                  END AS "area_ids!"
           FROM api_tokens t
           JOIN users u ON u.id = t.user_id
           LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2
             AND u.status = 'active' AND (o.id IS NULL OR o.disabled_at IS NULL)"#,
        token_hash,
        now
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|r| {
        let actor = ActorRow {
            id: r.id,
            role: r.role,
            name: r.name,
            email: r.email,
            organisation_id: r.organisation_id,
            organisation_name: r.organisation_name,
            area_ids: r.area_ids,
        }
        .into_actor(Via::Token(r.token_id))?;
        Some(TokenUser {
            token_id: r.token_id,
            expires_at: r.expires_at,
            last_used_at: r.last_used_at,
            actor,
        })
    }))
}

pub async fn touch_token(pool: &PgPool, id: Uuid, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
        id,
        now
    )
    .execute(pool)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn insert_token(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    name: &str,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        user_id,
        name,
        token_hash,
        now,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list_tokens(pool: &PgPool, user_id: Uuid) -> Result<Vec<TokenInfo>, sqlx::Error> {
    sqlx::query_as!(
        TokenInfo,
        "SELECT id, name, created_at, expires_at, revoked_at, last_used_at
         FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC",
        user_id
    )
    .fetch_all(pool)
    .await
}

/// Revokes the caller's own token; false when there is no such live token of theirs.
pub async fn revoke_token(
    conn: &mut PgConnection,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    crate::authcache::changed();
    Ok(sqlx::query!(
        "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        id,
        user_id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn token_exists_for(pool: &PgPool, user_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM api_tokens WHERE id = $1 AND user_id = $2) AS "e!""#,
        id,
        user_id
    )
    .fetch_one(pool)
    .await
}

pub async fn insert_invitation(
    conn: &mut PgConnection,
    user_id: Uuid,
    token_hash: &[u8],
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    // A new link replaces any earlier one that was not used.
    sqlx::query!(
        "UPDATE invitations SET expires_at = LEAST(expires_at, $2) WHERE user_id = $1 AND used_at IS NULL",
        user_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO invitations (id, user_id, token_hash, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        user_id,
        token_hash,
        created_by,
        now,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(id)
}

pub struct InvitationUser {
    pub invitation_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
}

/// A live invitation (unused, unexpired) of a user who has not set a password yet and is
/// not waiting for approval or disabled.
pub async fn find_invitation(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<InvitationUser>, sqlx::Error> {
    sqlx::query_as!(
        InvitationUser,
        r#"SELECT i.id AS invitation_id, u.id AS user_id, u.name, u.email, u.role
           FROM invitations i JOIN users u ON u.id = i.user_id
           WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > $2
             AND u.status = 'invited'"#,
        token_hash,
        now
    )
    .fetch_optional(pool)
    .await
}

/// Marks the invitation used; false if someone used it first.
pub async fn use_invitation(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE invitations SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2",
        id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

// ----- Password resets -----

pub async fn insert_reset(
    conn: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    token_hash: &[u8],
    sealed: (i16, &[u8]),
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    // A new link replaces any earlier one that was not used.
    sqlx::query!(
        "UPDATE password_resets SET expires_at = LEAST(expires_at, $2), token_enc = NULL
         WHERE user_id = $1 AND used_at IS NULL",
        user_id,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO password_resets (id, user_id, token_hash, token_key_id, token_enc, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        id,
        user_id,
        token_hash,
        sealed.0,
        sealed.1,
        now,
        expires_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct ResetUser {
    pub reset_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
}

/// A live reset link (unused, unexpired) of an active account.
pub async fn find_reset(
    pool: &PgPool,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<ResetUser>, sqlx::Error> {
    sqlx::query_as!(
        ResetUser,
        r#"SELECT r.id AS reset_id, u.id AS user_id, u.email, u.name
           FROM password_resets r JOIN users u ON u.id = r.user_id
           LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2
             AND u.status = 'active' AND (o.id IS NULL OR o.disabled_at IS NULL)"#,
        token_hash,
        now
    )
    .fetch_optional(pool)
    .await
}

/// Marks the link used; false if it was used (or expired) first.
pub async fn use_reset(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE password_resets SET used_at = $2, token_enc = NULL
         WHERE id = $1 AND used_at IS NULL AND expires_at > $2",
        id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Takes the sealed link of a live reset for its email (wiped in the same transaction).
pub async fn take_reset_link(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<(i16, Vec<u8>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"UPDATE password_resets r SET token_enc = NULL
           FROM (SELECT id, token_key_id, token_enc FROM password_resets
                 WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND token_enc IS NOT NULL
                 FOR UPDATE) old
           WHERE r.id = old.id
           RETURNING old.token_key_id AS "key_id!", old.token_enc AS "sealed!""#,
        id,
        now
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| (r.key_id, r.sealed)))
}

// ----- Recovery codes -----

/// Replaces the user's recovery codes (the old ones stop working).
pub async fn replace_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
    codes: &[(Vec<u8>, Vec<u8>)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
        .execute(&mut *conn)
        .await?;
    for (salt, hash) in codes {
        sqlx::query!(
            "INSERT INTO recovery_codes (id, user_id, salt, code_hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            Uuid::now_v7(),
            user_id,
            salt,
            hash,
            now
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub struct StoredCode {
    pub id: Uuid,
    pub salt: Vec<u8>,
    pub code_hash: Vec<u8>,
}

/// The unused codes, locked until the transaction ends (so one code is used once).
pub async fn unused_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<StoredCode>, sqlx::Error> {
    sqlx::query_as!(
        StoredCode,
        "SELECT id, salt, code_hash FROM recovery_codes
         WHERE user_id = $1 AND used_at IS NULL FOR UPDATE",
        user_id
    )
    .fetch_all(conn)
    .await
}

pub async fn use_recovery_code(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn count_recovery_codes(pool: &PgPool, user_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL"#,
        user_id
    )
    .fetch_one(pool)
    .await
}

pub async fn delete_recovery_codes(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM recovery_codes WHERE user_id = $1", user_id)
        .execute(conn)
        .await?;
    Ok(())
}

// ----- Notices about a person's own credentials -----

pub async fn enqueue_notice(
    conn: &mut PgConnection,
    user_id: Uuid,
    kind: &str,
    reset_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO account_notices (id, user_id, kind, reset_id, created_at, available_at)
         VALUES ($1, $2, $3, $4, $5, $5)",
        Uuid::now_v7(),
        user_id,
        kind,
        reset_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub struct DueNotice {
    pub id: Uuid,
    pub kind: String,
    pub reset_id: Option<Uuid>,
    pub attempts: i32,
    pub email: String,
    pub user_status: String,
    pub created_at: DateTime<Utc>,
}

pub async fn take_due_notices(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueNotice>, sqlx::Error> {
    sqlx::query_as!(
        DueNotice,
        r#"SELECT n.id, n.kind, n.reset_id, n.attempts, u.email, u.status AS user_status, n.created_at
           FROM account_notices n JOIN users u ON u.id = n.user_id
           WHERE n.sent_at IS NULL AND n.failed_at IS NULL AND n.available_at <= $1
           ORDER BY n.available_at
           LIMIT $2
           FOR UPDATE OF n SKIP LOCKED"#,
        now,
        limit
    )
    .fetch_all(conn)
    .await
}

pub async fn mark_notice(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    outcome: Result<(), (&str, Option<DateTime<Utc>>)>,
) -> Result<(), sqlx::Error> {
    match outcome {
        Ok(()) => {
            sqlx::query!(
                "UPDATE account_notices SET sent_at = $2, attempts = attempts + 1 WHERE id = $1",
                id,
                now
            )
            .execute(conn)
            .await?;
        }
        Err((error, retry_at)) => {
            sqlx::query!(
                "UPDATE account_notices SET attempts = attempts + 1, last_error = $2,
                        available_at = COALESCE($3, available_at),
                        failed_at = CASE WHEN $3::timestamptz IS NULL THEN $4::timestamptz ELSE NULL END
                 WHERE id = $1",
                id,
                error,
                retry_at,
                now
            )
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}
