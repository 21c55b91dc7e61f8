//! Removing a person record entered in error (under the two-person rule).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::access::{CaseRef, ManagedErasure, TriageCase};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    pub id: Uuid,
    pub person_id: Uuid,
    pub case_id: Uuid,
    pub area_id: Uuid,
    pub requested_by: Uuid,
    pub reason: String,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Whether the case names this person, with an identity still held.
pub async fn person_held(
    conn: &mut PgConnection,
    case: &TriageCase,
    person_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM persons WHERE id = $1 AND case_id = $2 AND identity_enc IS NOT NULL) AS "e!""#,
        person_id,
        case.case_id()
    )
    .fetch_one(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    case: &TriageCase,
    e: &Erasure,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO person_erasures (id, person_id, case_id, area_id, requested_by, reason, status, decided_by, decided_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        e.id,
        e.person_id,
        case.case_id(),
        case.area_id(),
        e.requested_by,
        e.reason,
        e.status,
        e.decided_by,
        e.decided_at,
        e.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An erasure, locked until the transaction ends (for `access::managed_erasure` only).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<Option<Erasure>, sqlx::Error> {
    sqlx::query_as!(
        Erasure,
        "SELECT id, person_id, case_id, area_id, requested_by, reason, status, decided_by, decided_at,
                decision_reason, created_at
         FROM person_erasures WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn decide(
    conn: &mut PgConnection,
    e: &ManagedErasure,
    status: &str,
    by: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE person_erasures SET status = $2, decided_by = $3, decision_reason = $4, decided_at = $5 WHERE id = $1",
        e.row().id,
        status,
        by,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the person's identity and blind indexes at once.
pub async fn remove_person(
    conn: &mut PgConnection,
    case: &impl CaseRef,
    person_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE persons SET identity_enc = NULL, removed_at = $3, removal_reason = 'entered_in_error'
         WHERE id = $1 AND case_id = $2",
        person_id,
        case.case_id(),
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM person_identifiers WHERE person_id = $1 AND case_id = $2",
        person_id,
        case.case_id()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM prescriber_addresses WHERE person_id = $1",
        person_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The erasures of a case, newest first.
pub async fn of_case(pool: &PgPool, case: &TriageCase) -> Result<Vec<Erasure>, sqlx::Error> {
    sqlx::query_as!(
        Erasure,
        "SELECT id, person_id, case_id, area_id, requested_by, reason, status, decided_by, decided_at,
                decision_reason, created_at
         FROM person_erasures WHERE case_id = $1 ORDER BY created_at DESC",
        case.case_id()
    )
    .fetch_all(pool)
    .await
}
