//! What the audit search needs besides the events: turning what an auditor types (a case
//! reference, an email or a name) into ids, and the names shown beside ids. The events
//! themselves hold ids only.

use std::collections::HashMap;

use sqlx::PgPool;
use uuid::Uuid;

/// The case with this reference (`CD-2026-000009`).
pub async fn case_by_reference(pool: &PgPool, reference: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "SELECT id FROM cases WHERE reference = $1",
        reference.to_uppercase()
    )
    .fetch_optional(pool)
    .await
}

/// Users whose email is this (case-insensitive) or whose name contains this text; at most 100.
pub async fn users_matching(pool: &PgPool, text: &str) -> sqlx::Result<Vec<Uuid>> {
    let pattern = format!(
        "%{}%",
        text.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    sqlx::query_scalar!(
        r#"SELECT id FROM users
           WHERE lower(email) = lower($1) OR name ILIKE $2
           ORDER BY name, id
           LIMIT 100"#,
        text,
        pattern
    )
    .fetch_all(pool)
    .await
}

/// Names and emails of users, by id.
pub async fn user_names(
    pool: &PgPool,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, (String, String)>> {
    let rows = sqlx::query!("SELECT id, name, email FROM users WHERE id = ANY($1)", ids)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, (r.name, r.email)))
        .collect())
}

/// Case references, by id.
pub async fn case_references(pool: &PgPool, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows = sqlx::query!("SELECT id, reference FROM cases WHERE id = ANY($1)", ids)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.reference)).collect())
}

/// Organisation and area names, by id (subjects of admin events).
pub async fn directory_names(pool: &PgPool, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, String>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id!", name AS "name!" FROM organisations WHERE id = ANY($1)
           UNION ALL
           SELECT id, name FROM areas WHERE id = ANY($1)"#,
        ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}
