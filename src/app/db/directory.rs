//! Areas, organisations and users.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::policy::{OrgScope, UserScope};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Area {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    /// Whether identified shares need a second CDAO's approval (SPEC §3; default on).
    pub two_person_rule: bool,
    /// The lead CDAO team's shared mailbox: the contact members see on their alerts.
    pub cdao_mailbox: Option<String>,
}

pub async fn list_areas(pool: &PgPool) -> Result<Vec<Area>, sqlx::Error> {
    sqlx::query_as!(
        Area,
        "SELECT id, name, region, two_person_rule, cdao_mailbox FROM areas ORDER BY name"
    )
    .fetch_all(pool)
    .await
}

/// The names of the organisations `ids` (those that exist).
pub async fn organisation_names(
    pool: &PgPool,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    Ok(
        sqlx::query!("SELECT id, name FROM organisations WHERE id = ANY($1)", ids)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect(),
    )
}

pub async fn get_area(pool: &PgPool, id: Uuid) -> Result<Option<Area>, sqlx::Error> {
    sqlx::query_as!(
        Area,
        "SELECT id, name, region, two_person_rule, cdao_mailbox FROM areas WHERE id = $1",
        id
    )
    .fetch_optional(pool)
    .await
}

pub async fn insert_area(
    conn: &mut PgConnection,
    a: &Area,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO areas (id, name, region, two_person_rule, created_at, updated_at, cdao_mailbox)
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
        a.id,
        a.name,
        a.region,
        a.two_person_rule,
        now,
        a.cdao_mailbox
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_area(
    conn: &mut PgConnection,
    a: &Area,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE areas SET name = $2, region = $3, two_person_rule = $4, updated_at = $5, cdao_mailbox = $6
         WHERE id = $1",
        a.id,
        a.name,
        a.region,
        a.two_person_rule,
        now,
        a.cdao_mailbox
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Which of `ids` exist.
pub async fn existing_area_ids(pool: &PgPool, ids: &[Uuid]) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM areas WHERE id = ANY($1)", ids)
        .fetch_all(pool)
        .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    /// `provider`, `member` or `nhse`.
    pub kind: String,
    pub sector: String,
    pub ods_code: Option<String>,
    pub area_ids: Vec<Uuid>,
    pub disabled: bool,
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub area_id: Option<Uuid>,
}

pub async fn list_organisations(
    pool: &PgPool,
    scope: &OrgScope,
    f: &OrgFilter,
) -> Result<Vec<Organisation>, sqlx::Error> {
    organisations(pool, scope, f, None).await
}

pub async fn get_organisation(
    pool: &PgPool,
    scope: &OrgScope,
    id: Uuid,
) -> Result<Option<Organisation>, sqlx::Error> {
    Ok(organisations(pool, scope, &OrgFilter::default(), Some(id))
        .await?
        .into_iter()
        .next())
}

/// The organisations `scope` may see that match `f` (with `id`, that one alone): who sees
/// which organisation is written here once, for the list and for one.
async fn organisations(
    pool: &PgPool,
    scope: &OrgScope,
    f: &OrgFilter,
    id: Option<Uuid>,
) -> Result<Vec<Organisation>, sqlx::Error> {
    let (kind, one, areas) = scope.binds();
    let q = f.q.as_deref().map(like_pattern);
    sqlx::query_as!(
        Organisation,
        r#"SELECT o.id, o.name, o.kind, o.sector, o.ods_code,
                  ARRAY(SELECT area_id FROM organisation_areas WHERE organisation_id = o.id ORDER BY area_id) AS "area_ids!",
                  o.disabled_at IS NOT NULL AS "disabled!"
           FROM organisations o
           WHERE ($7::uuid IS NULL OR o.id = $7)
             AND ($1 = 'all'
                  OR ($1 = 'one' AND o.id = $2)
                  OR ($1 = 'areas' AND (o.id = $2 OR EXISTS (
                        SELECT 1 FROM organisation_areas oa
                        WHERE oa.organisation_id = o.id AND oa.area_id = ANY($3)))))
             AND ($4::text IS NULL OR o.name ILIKE $4 OR o.ods_code ILIKE $4)
             AND ($5::text IS NULL OR o.kind = $5)
             AND ($6::uuid IS NULL OR EXISTS (
                   SELECT 1 FROM organisation_areas oa WHERE oa.organisation_id = o.id AND oa.area_id = $6))
           ORDER BY o.name
           LIMIT 1000"#,
        kind,
        one,
        &areas,
        q,
        f.kind,
        f.area_id,
        id,
    )
    .fetch_all(pool)
    .await
}

pub async fn save_organisation(
    conn: &mut PgConnection,
    o: &Organisation,
    now: DateTime<Utc>,
    is_new: bool,
) -> Result<(), sqlx::Error> {
    crate::authcache::changed();
    if is_new {
        sqlx::query!(
            "INSERT INTO organisations (id, name, kind, sector, ods_code, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
            o.id,
            o.name,
            o.kind,
            o.sector,
            o.ods_code,
            now
        )
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE organisations SET name = $2, kind = $3, sector = $4, ods_code = $5, updated_at = $6,
                    disabled_at = CASE WHEN $7 THEN COALESCE(disabled_at, $6) ELSE NULL END
             WHERE id = $1",
            o.id,
            o.name,
            o.kind,
            o.sector,
            o.ods_code,
            now,
            o.disabled
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query!(
            "DELETE FROM organisation_areas WHERE organisation_id = $1",
            o.id
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "INSERT INTO organisation_areas (organisation_id, area_id) SELECT $1, unnest($2::uuid[])",
        o.id,
        &o.area_ids
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A compact list of every organisation (id, name, kind), for choosing one on a form.
pub async fn organisation_choices(
    pool: &PgPool,
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT id, name, kind FROM organisations WHERE disabled_at IS NULL ORDER BY name"
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name, r.kind))
    .collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    pub area_ids: Vec<Uuid>,
    /// `invited`, `active`, `disabled` or `pending_approval` (waiting for a second person).
    pub status: String,
    pub mfa_enrolled: bool,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Who made the change that waits for approval (never its approver).
    pub approval_requested_by: Option<Uuid>,
    /// Set while the account is locked after repeated failed sign-ins.
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub q: Option<String>,
    pub role: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub status: Option<String>,
}

/// The CDAOs a CDAO sees (`UserScope::AreaCdaos`: those of their areas, and themselves), by
/// id and name only: the assignee names of the case pages, in a statement simple enough to be
/// planned once.
pub async fn area_cdao_names(
    pool: &PgPool,
    self_id: Uuid,
    area_ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id, u.name FROM users u
          WHERE u.role = 'cdao'
            AND (u.id = $1 OR EXISTS (SELECT 1 FROM user_areas ua
                                       WHERE ua.user_id = u.id AND ua.area_id = ANY($2)))",
    )
    .bind(self_id)
    .bind(area_ids)
    .fetch_all(pool)
    .await
}

pub async fn list_users(
    pool: &PgPool,
    scope: &UserScope,
    f: &UserFilter,
) -> Result<Vec<User>, sqlx::Error> {
    users(pool, scope, f, None).await
}

pub async fn get_user(
    pool: &PgPool,
    scope: &UserScope,
    id: Uuid,
) -> Result<Option<User>, sqlx::Error> {
    Ok(users(pool, scope, &UserFilter::default(), Some(id))
        .await?
        .into_iter()
        .next())
}

/// The users `scope` may see that match `f` (with `id`, that one alone): who sees which
/// user is written here once, for the list and for one.
async fn users(
    pool: &PgPool,
    scope: &UserScope,
    f: &UserFilter,
    id: Option<Uuid>,
) -> Result<Vec<User>, sqlx::Error> {
    let (kind, org, self_id, areas) = scope.binds();
    let q = f.q.as_deref().map(like_pattern);
    sqlx::query_as!(
        User,
        r#"SELECT u.id, u.email, u.name, u.role, u.organisation_id, o.name AS "organisation_name?",
                  CASE WHEN u.role = 'cdao'
                       THEN ARRAY(SELECT area_id FROM user_areas WHERE user_id = u.id ORDER BY area_id)
                       ELSE ARRAY(SELECT area_id FROM organisation_areas
                                  WHERE organisation_id = u.organisation_id ORDER BY area_id)
                  END AS "area_ids!",
                  u.status, u.totp_confirmed AS mfa_enrolled, u.last_sign_in_at, u.created_at,
                  u.approval_requested_by, u.locked_until
           FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE ($9::uuid IS NULL OR u.id = $9)
             AND ($1 = 'all'
                  OR u.id = $3
                  OR ($1 = 'organisation' AND u.organisation_id = $2)
                  OR ($1 = 'area_cdaos' AND u.role = 'cdao' AND EXISTS (
                        SELECT 1 FROM user_areas ua WHERE ua.user_id = u.id AND ua.area_id = ANY($4)))
                  -- A CDAO also sees the member accounts of their areas waiting for approval.
                  OR ($1 = 'area_cdaos' AND u.role = 'member' AND u.status = 'pending_approval'
                      AND EXISTS (SELECT 1 FROM organisation_areas oa
                                  WHERE oa.organisation_id = u.organisation_id AND oa.area_id = ANY($4))))
             AND ($5::text IS NULL OR u.name ILIKE $5 OR u.email ILIKE $5)
             AND ($6::text IS NULL OR u.role = $6)
             AND ($7::uuid IS NULL OR u.organisation_id = $7)
             AND ($8::text IS NULL OR u.status = $8)
           ORDER BY u.name, u.id
           LIMIT 1000"#,
        kind,
        org,
        self_id,
        &areas,
        q,
        f.role,
        f.organisation_id,
        f.status,
        id,
    )
    .fetch_all(pool)
    .await
}

/// What an admin sets on a user.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<Uuid>,
    /// Only for CDAOs; others take their organisation's areas.
    pub area_ids: Vec<Uuid>,
    pub status: String,
}

pub async fn insert_user(
    conn: &mut PgConnection,
    u: &UserRecord,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO users (id, email, name, role, organisation_id, status, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        u.id,
        u.email,
        u.name,
        u.role,
        u.organisation_id,
        u.status,
        now
    )
    .execute(&mut *conn)
    .await?;
    set_user_areas(conn, u.id, &u.area_ids).await
}

pub async fn update_user(
    conn: &mut PgConnection,
    u: &UserRecord,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    crate::authcache::changed();
    sqlx::query!(
        "UPDATE users SET email = $2, name = $3, role = $4, organisation_id = $5, status = $6, updated_at = $7
         WHERE id = $1",
        u.id,
        u.email,
        u.name,
        u.role,
        u.organisation_id,
        u.status,
        now
    )
    .execute(&mut *conn)
    .await?;
    set_user_areas(conn, u.id, &u.area_ids).await
}

async fn set_user_areas(
    conn: &mut PgConnection,
    user_id: Uuid,
    area_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    crate::authcache::changed();
    sqlx::query!("DELETE FROM user_areas WHERE user_id = $1", user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "INSERT INTO user_areas (user_id, area_id) SELECT $1, unnest($2::uuid[])",
        user_id,
        area_ids
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Everything sign-in needs about an account, looked up by email.
pub struct Credentials {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub status: String,
    pub password_hash: Option<String>,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub totp_key_id: Option<i16>,
    pub totp_secret_enc: Option<Vec<u8>>,
    pub totp_confirmed: bool,
    pub totp_last_step: Option<i64>,
    pub organisation_disabled: bool,
}

pub async fn credentials_by_email(
    pool: &PgPool,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"SELECT u.id, u.email, u.name, u.role, u.status, u.password_hash, u.failed_attempts, u.locked_until,
                  u.totp_key_id, u.totp_secret_enc, u.totp_confirmed, u.totp_last_step,
                  COALESCE(o.disabled_at IS NOT NULL, false) AS "organisation_disabled!"
           FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE lower(u.email) = lower($1)"#,
        email
    )
    .fetch_optional(pool)
    .await
}

pub async fn credentials_by_id(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"SELECT u.id, u.email, u.name, u.role, u.status, u.password_hash, u.failed_attempts, u.locked_until,
                  u.totp_key_id, u.totp_secret_enc, u.totp_confirmed, u.totp_last_step,
                  COALESCE(o.disabled_at IS NOT NULL, false) AS "organisation_disabled!"
           FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id
           WHERE u.id = $1"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// Counts a failed attempt; locks the account for `lock_for` once `max` failures are reached.
/// Returns whether the account is now locked.
pub async fn record_failed_sign_in(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
    max: i32,
    lock_until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query!(
        r#"UPDATE users SET failed_attempts = failed_attempts + 1,
                  locked_until = CASE WHEN failed_attempts + 1 >= $3 THEN $4 ELSE locked_until END
           WHERE id = $1
           RETURNING (locked_until IS NOT NULL AND locked_until > $2) AS "locked!""#,
        id,
        now,
        max,
        lock_until
    )
    .fetch_one(conn)
    .await?;
    Ok(r.locked)
}

pub async fn record_sign_in(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_sign_in_at = $2 WHERE id = $1",
        id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, status = CASE WHEN status = 'invited' THEN 'active' ELSE status END,
                failed_attempts = 0, locked_until = NULL, updated_at = $3, password_changed_at = $3
         WHERE id = $1",
        id,
        hash,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_totp(
    conn: &mut PgConnection,
    id: Uuid,
    key_id: Option<i16>,
    secret_enc: Option<&[u8]>,
    confirmed: bool,
    last_step: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET totp_key_id = $2, totp_secret_enc = $3, totp_confirmed = $4,
                totp_last_step = $5, updated_at = $6 WHERE id = $1",
        id,
        key_id,
        secret_enc,
        confirmed,
        last_step,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the time step of a code that was accepted, so the same code cannot be replayed.
/// False if that step (or a later one) was used already.
pub async fn use_totp_step(
    conn: &mut PgConnection,
    id: Uuid,
    step: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        id,
        step
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Puts an account in `pending_approval`, naming who asked.
pub async fn request_approval(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    crate::authcache::changed();
    sqlx::query!(
        "UPDATE users SET status = 'pending_approval', approval_requested_by = $2,
                approval_requested_at = $3, approved_by = NULL, approved_at = NULL, updated_at = $3
         WHERE id = $1",
        id,
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Approves an account waiting for it: `invited` until it has a password, else `active`.
/// None if it was not waiting (someone approved it first).
pub async fn approve_user(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    crate::authcache::changed();
    sqlx::query_scalar!(
        "UPDATE users SET status = CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END,
                approved_by = $2, approved_at = $3, updated_at = $3
         WHERE id = $1 AND status = 'pending_approval'
         RETURNING status",
        id,
        by,
        now
    )
    .fetch_optional(conn)
    .await
}

/// Clears a lockout and the count of failures.
pub async fn unlock(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE users SET failed_attempts = 0, locked_until = NULL
         WHERE id = $1 AND (locked_until IS NOT NULL OR failed_attempts > 0)",
        id
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn user_id_by_email(pool: &PgPool, email: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("SELECT id FROM users WHERE lower(email) = lower($1)", email)
        .fetch_optional(pool)
        .await
}

/// `%text%` for ILIKE, with the pattern characters escaped.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
