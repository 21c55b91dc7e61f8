//! Quarterly occurrence returns.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::policy::ReturnScope;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OccurrenceReturn {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub year: i32,
    pub quarter: i16,
    pub nil_return: bool,
    #[schema(value_type = Object)]
    pub counts: Value,
    pub declared_by: Uuid,
    pub declared_at: DateTime<Utc>,
    /// 1 for the first return; each correction adds one (earlier versions are kept).
    pub version: i32,
}

pub async fn find(
    conn: &mut PgConnection,
    organisation_id: Uuid,
    year: i32,
    quarter: i16,
) -> Result<Option<OccurrenceReturn>, sqlx::Error> {
    sqlx::query_as!(
        OccurrenceReturn,
        r#"SELECT r.id, r.organisation_id, o.name AS organisation_name, r.year, r.quarter, r.nil_return, r.counts,
                  r.declared_by, r.declared_at, r.version
           FROM occurrence_returns r JOIN organisations o ON o.id = r.organisation_id
           WHERE r.organisation_id = $1 AND r.year = $2 AND r.quarter = $3
           FOR UPDATE OF r"#,
        organisation_id,
        year,
        quarter
    )
    .fetch_optional(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, r: &OccurrenceReturn) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO occurrence_returns (id, organisation_id, year, quarter, nil_return, counts, declared_by, declared_at, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
        r.id,
        r.organisation_id,
        r.year,
        r.quarter,
        r.nil_return,
        r.counts,
        r.declared_by,
        r.declared_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps the current version, then replaces it with the correction.
pub async fn correct(
    conn: &mut PgConnection,
    previous: &OccurrenceReturn,
    next: &OccurrenceReturn,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO occurrence_return_versions (return_id, version, nil_return, counts, declared_by, declared_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        previous.id,
        previous.version,
        previous.nil_return,
        previous.counts,
        previous.declared_by,
        previous.declared_at
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE occurrence_returns SET nil_return = $2, counts = $3, declared_by = $4, declared_at = $5, version = $6
         WHERE id = $1",
        previous.id,
        next.nil_return,
        next.counts,
        next.declared_by,
        next.declared_at,
        next.version
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn list(
    pool: &PgPool,
    scope: &ReturnScope,
    year: Option<i32>,
) -> Result<Vec<OccurrenceReturn>, sqlx::Error> {
    let (org, areas) = match scope {
        ReturnScope::Organisation(id) => (Some(*id), vec![]),
        ReturnScope::Areas(a) => (None, a.clone()),
    };
    sqlx::query_as!(
        OccurrenceReturn,
        r#"SELECT r.id, r.organisation_id, o.name AS organisation_name, r.year, r.quarter, r.nil_return, r.counts,
                  r.declared_by, r.declared_at, r.version
           FROM occurrence_returns r JOIN organisations o ON o.id = r.organisation_id
           WHERE (($1::uuid IS NOT NULL AND r.organisation_id = $1)
                  OR ($1::uuid IS NULL AND EXISTS (SELECT 1 FROM organisation_areas oa
                                                   WHERE oa.organisation_id = r.organisation_id AND oa.area_id = ANY($2))))
             AND ($3::int IS NULL OR r.year = $3)
           ORDER BY r.year DESC, r.quarter DESC, o.name"#,
        org,
        &areas,
        year
    )
    .fetch_all(pool)
    .await
}
