//! The conversation on an alert between a member organisation and the CDAO team that shared
//! it, and the contacts the alert shows (issue 11). Reads and writes take handles from
//! `access`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::access::{Alert, TeamAlert};

/// A delivered alert as the CDAO team of its share's area knows it.
#[derive(Debug, Clone)]
pub struct TeamAlertRow {
    pub id: Uuid,
    pub share_id: Uuid,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub case_id: Uuid,
    pub case_reference: String,
    pub area_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A delivered alert by id (for `access::team_alert` only).
pub async fn team_alert(pool: &PgPool, id: Uuid) -> Result<Option<TeamAlertRow>, sqlx::Error> {
    sqlx::query_as!(
        TeamAlertRow,
        r#"SELECT a.id, a.share_id, a.organisation_id, o.name AS organisation_name,
                  c.id AS case_id, c.reference AS case_reference, s.area_id,
                  s.expires_at, s.revoked_at
           FROM alerts a
           JOIN shares s ON s.id = a.share_id
           JOIN cases c ON c.id = s.case_id
           JOIN organisations o ON o.id = a.organisation_id
           WHERE a.id = $1 AND s.approval = 'approved' AND a.received_at IS NOT NULL"#,
        id
    )
    .fetch_optional(pool)
    .await
}

pub async fn insert_reply(
    conn: &mut PgConnection,
    id: Uuid,
    alert: &TeamAlert,
    author_id: Uuid,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO alert_responses (id, alert_id, author_id, body, action_taken, created_at, from_cdao)
         VALUES ($1, $2, $3, $4, NULL, $5, true)",
        id,
        alert.id(),
        author_id,
        body,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Who a member can turn to about an alert, and who else received it.
#[derive(Debug, Clone, Default)]
pub struct Contacts {
    pub area_name: String,
    pub cdao_mailbox: Option<String>,
    pub shared_by: String,
    /// The member of the alert's organisation who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// The other organisations the share was delivered to, by name.
    pub co_recipients: Vec<String>,
}

/// The contacts of a member's alert.
pub async fn contacts(pool: &PgPool, alert: &Alert) -> Result<Contacts, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT ar.name AS area_name, ar.cdao_mailbox, cu.name AS shared_by, ku.name AS "acknowledged_by?",
                  ARRAY(SELECT o.name FROM alerts other JOIN organisations o ON o.id = other.organisation_id
                        WHERE other.share_id = a.share_id AND other.id <> a.id AND other.received_at IS NOT NULL
                        ORDER BY o.name) AS "co_recipients!"
           FROM alerts a
           JOIN shares s ON s.id = a.share_id
           JOIN areas ar ON ar.id = s.area_id
           JOIN users cu ON cu.id = s.created_by
           LEFT JOIN users ku ON ku.id = a.acknowledged_by
           WHERE a.id = $1"#,
        alert.id()
    )
    .fetch_optional(pool)
    .await?;
    Ok(row
        .map(|r| Contacts {
            area_name: r.area_name,
            cdao_mailbox: r.cdao_mailbox,
            shared_by: r.shared_by,
            acknowledged_by: r.acknowledged_by,
            co_recipients: r.co_recipients,
        })
        .unwrap_or_default())
}

/// Names of the authors of a conversation, by id.
pub async fn author_names(
    pool: &PgPool,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, String>, sqlx::Error> {
    Ok(
        sqlx::query!("SELECT id, name FROM users WHERE id = ANY($1)", ids)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.id, r.name))
            .collect(),
    )
}
