//! The facts of cases that lists summarise on one line (issue 11): kind, categories, drugs
//! with their schedule, harm, subject types. Never a name, never free text.

use uuid::Uuid;

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct CaseFacts {
    pub id: Uuid,
    pub kind: String,
    pub categories: Vec<String>,
    pub harm: Option<String>,
    /// The drugs named, in the report's order.
    pub drug_ids: Vec<Uuid>,
    pub subject_types: Vec<String>,
}

/// The facts of these cases (the caller has already scoped the ids).
pub async fn case_facts(pool: &sqlx::PgPool, ids: &[Uuid]) -> Result<Vec<CaseFacts>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id, c.kind, c.categories, c.harm,
                c.drug_ids,
                CASE WHEN c.kind = 'person_concern'
                     THEN ARRAY(SELECT p.subject_type FROM persons p WHERE p.case_id = c.id ORDER BY p.created_at)
                     ELSE '{}' END AS subject_types
           FROM cases c WHERE c.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}
