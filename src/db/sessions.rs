//! Sessions, API tokens and invitations: the credentials that name a user.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::directory::Role;
use crate::policy::{Actor, Via};

/// A session row with the user it belongs to, as the authentication middleware needs it.
pub struct SessionUser {
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
        r#"SELECT s.user_id, s.mfa_verified, s.last_seen_at, s.created_at, s.data,
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
    sqlx::query!(
        "INSERT INTO sessions (id_hash, user_id, mfa_verified, created_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $4)",
        id_hash,
        user_id,
        mfa_verified,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
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

pub async fn delete_user_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id)
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

pub struct TokenUser {
    pub token_id: Uuid,
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
        r#"SELECT t.id AS token_id, t.last_used_at, u.id, u.role, u.name, u.email, u.organisation_id,
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

/// A live invitation (unused, unexpired) of a user who is not disabled.
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
             AND u.status <> 'disabled'"#,
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
