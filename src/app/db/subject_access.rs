//! Subject access requests: finding one person's records through the blind indexes.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::access::AreaScope;

/// A person record found by its identifiers: (person, case, reference).
pub struct Found {
    pub person_id: Uuid,
    pub case_id: Uuid,
    pub reference: String,
}

/// Persons of cases held in `areas` with any of these blind indexes (kind, digest).
pub async fn find(
    pool: &PgPool,
    areas: &AreaScope,
    indexes: &[(String, Vec<u8>)],
) -> Result<Vec<Found>, sqlx::Error> {
    let kinds: Vec<String> = indexes.iter().map(|(k, _)| k.clone()).collect();
    let digests: Vec<Vec<u8>> = indexes.iter().map(|(_, d)| d.clone()).collect();
    sqlx::query_as!(
        Found,
        r#"SELECT DISTINCT pi.person_id AS "person_id!", pi.case_id AS "case_id!", c.reference AS "reference!"
           FROM person_identifiers pi JOIN cases c ON c.id = pi.case_id
           WHERE c.area_id = ANY($1)
             AND (pi.kind, pi.digest) IN (SELECT k, d FROM unnest($2::text[], $3::bytea[]) AS u(k, d))
           ORDER BY 3"#,
        areas.ids(),
        &kinds,
        &digests
    )
    .fetch_all(pool)
    .await
}

pub struct Request {
    pub id: Uuid,
    pub requested_by: Uuid,
    pub purpose: String,
    pub case_ids: Vec<Uuid>,
    pub person_ids: Vec<Uuid>,
    pub created_at: DateTime<Utc>,
    pub downloaded_at: Option<DateTime<Utc>>,
}

pub async fn insert(conn: &mut PgConnection, r: &Request) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO subject_access_requests (id, requested_by, purpose, case_ids, person_ids, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        r.id,
        r.requested_by,
        r.purpose,
        &r.case_ids,
        &r.person_ids,
        r.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A request its maker may download (anyone else: none).
pub async fn get(pool: &PgPool, id: Uuid, by: Uuid) -> Result<Option<Request>, sqlx::Error> {
    sqlx::query_as!(
        Request,
        "SELECT id, requested_by, purpose, case_ids, person_ids, created_at, downloaded_at
         FROM subject_access_requests WHERE id = $1 AND requested_by = $2",
        id,
        by
    )
    .fetch_optional(pool)
    .await
}

/// The maker's recent requests, newest first.
pub async fn recent(pool: &PgPool, by: Uuid) -> Result<Vec<Request>, sqlx::Error> {
    sqlx::query_as!(
        Request,
        "SELECT id, requested_by, purpose, case_ids, person_ids, created_at, downloaded_at
         FROM subject_access_requests WHERE requested_by = $1 ORDER BY created_at DESC LIMIT 20",
        by
    )
    .fetch_all(pool)
    .await
}

pub async fn mark_downloaded(
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE subject_access_requests SET downloaded_at = $2 WHERE id = $1",
        id,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
