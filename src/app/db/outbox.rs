//! The notification outbox: notifications queued inside the transaction that causes them,
//! and taken, leased and marked by the sending job (`jobs`), so two instances never send one
//! twice.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Queues one notification of `kind` for each of `user_ids`, about `subject_id`.
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    user_ids: &[Uuid],
    subject_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO notification_outbox (id, kind, user_id, subject_id, created_at, available_at)
         SELECT gen_random_uuid(), $1, u, $3, $4, $4 FROM unnest($2::uuid[]) AS u",
        kind,
        user_ids,
        subject_id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A notification due for sending.
pub struct Due {
    pub id: Uuid,
    pub kind: String,
    #[allow(dead_code)] // the addressee, by id (the email is what is sent to)
    pub user_id: Uuid,
    pub subject_id: Option<Uuid>,
    pub attempts: i32,
    pub email: String,
    pub user_active: bool,
    pub organisation_id: Option<Uuid>,
}

/// Takes up to `limit` due notifications, locked until the transaction ends; other
/// instances skip them.
pub async fn take_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    sqlx::query_as!(
        Due,
        r#"SELECT n.id, n.kind, n.user_id, n.subject_id, n.attempts, u.email, (u.status = 'active') AS "user_active!",
                  u.organisation_id
           FROM notification_outbox n JOIN users u ON u.id = n.user_id
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

/// Holds a notification back from the other instances until `until` (it is being sent).
pub async fn lease(
    conn: &mut PgConnection,
    id: Uuid,
    until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE notification_outbox SET available_at = $2 WHERE id = $1")
        .bind(id)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_sent(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE notification_outbox SET sent_at = $2, attempts = attempts + 1 WHERE id = $1",
        id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried after `retry_at`, or given up.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $2,
                available_at = COALESCE($3, available_at), failed_at = CASE WHEN $3::timestamptz IS NULL THEN $4::timestamptz END
         WHERE id = $1",
        id,
        error,
        retry_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
