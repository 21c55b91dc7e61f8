//! The drug catalogue (migration data).

use sqlx::PgPool;

use crate::domain::report::Drug;

pub async fn all(pool: &PgPool) -> Result<Vec<Drug>, sqlx::Error> {
    sqlx::query_as!(
        Drug,
        r#"SELECT id, name, schedule, class, ome_factor::float8 AS ome_factor, is_opioid, patch, synonyms
           FROM drugs ORDER BY name"#
    )
    .fetch_all(pool)
    .await
}
