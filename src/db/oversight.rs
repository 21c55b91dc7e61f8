//! Oversight (issue 12): the overseas prescriber's sealed registration, improvement
//! initiatives, and what is reported about one prescriber.

use sqlx::PgPool;

use crate::access::CaseRef;
use uuid::Uuid;

/// The sealed registration of a case's online supply: (key id, nonce || ciphertext).
pub async fn sealed_registration(
    pool: &PgPool,
    case: &impl CaseRef,
) -> Result<Option<(i16, Vec<u8>)>, sqlx::Error> {
    let r = sqlx::query!(
        "SELECT online_registration_key_id, online_registration_enc FROM cases WHERE id = $1",
        case.case_id()
    )
    .fetch_optional(pool)
    .await?;
    Ok(r.and_then(|r| r.online_registration_key_id.zip(r.online_registration_enc)))
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Initiative {
    pub id: Uuid,
    pub area_id: Uuid,
    pub area_name: String,
    pub measure: String,
    pub name: String,
    pub start_month: chrono::NaiveDate,
    pub change: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub struct NewInitiative<'a> {
    pub id: Uuid,
    pub area_id: Uuid,
    pub measure: &'a str,
    pub name: &'a str,
    pub start_month: chrono::NaiveDate,
    pub change: &'a str,
    pub created_by: Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn insert_initiative(
    conn: &mut sqlx::PgConnection,
    i: &NewInitiative<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO improvement_initiatives (id, area_id, measure, name, start_month, change, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        i.id,
        i.area_id,
        i.measure,
        i.name,
        i.start_month,
        i.change,
        i.created_by,
        i.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Initiatives of these areas for a measure, oldest first.
pub async fn initiatives(
    pool: &PgPool,
    areas: &[Uuid],
    measure: &str,
) -> Result<Vec<Initiative>, sqlx::Error> {
    sqlx::query_as!(
        Initiative,
        r#"SELECT i.id, i.area_id, a.name AS area_name, i.measure, i.name, i.start_month, i.change, i.created_at
           FROM improvement_initiatives i JOIN areas a ON a.id = i.area_id
           WHERE i.area_id = ANY($1) AND i.measure = $2
           ORDER BY i.start_month, i.created_at"#,
        areas,
        measure
    )
    .fetch_all(pool)
    .await
}
