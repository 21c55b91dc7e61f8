//! The counts of work waiting for someone (issue 11): one query per page, counts only.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// A CDAO's waiting work in their areas: (new, overdue, shares to approve, access requests,
/// member responses since they last opened the dashboard).
pub async fn cdao(
    pool: &PgPool,
    user_id: Uuid,
    areas: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(i64, i64, i64, i64, i64), sqlx::Error> {
    // One function call (see the migration `waiting_function`): planned once per connection.
    sqlx::query_as(
        "SELECT new_cases, overdue, shares_to_approve, access_requests, member_responses
           FROM waiting_cdao($1, $3, $2)",
    )
    .bind(areas)
    .bind(now)
    .bind(user_id)
    .fetch_one(pool)
    .await
}

/// A member organisation's delivered alerts nobody there has opened yet.
pub async fn unread_alerts(
    pool: &PgPool,
    organisation_id: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM alerts a JOIN shares s ON s.id = a.share_id
          WHERE a.organisation_id = $1 AND a.read_at IS NULL AND a.received_at IS NOT NULL
            AND s.approval = 'approved' AND s.revoked_at IS NULL AND s.expires_at > $2",
    )
    .bind(organisation_id)
    .bind(now)
    .fetch_one(pool)
    .await
}

/// Reports waiting for an answer to the CDAO team's request for information: a reporter's own
/// (`organisation_id` None) or all of an organisation's.
pub async fn questions(
    pool: &PgPool,
    reporter_id: Uuid,
    organisation_id: Option<Uuid>,
) -> Result<i64, sqlx::Error> {
    match organisation_id {
        Some(o) => sqlx::query_scalar(
            "SELECT count(*) FROM cases WHERE organisation_id = $1 AND status = 'awaiting_information'",
        )
        .bind(o),
        None => sqlx::query_scalar(
            "SELECT count(*) FROM cases WHERE reporter_id = $1 AND status = 'awaiting_information'",
        )
        .bind(reporter_id),
    }
    .fetch_one(pool)
    .await
}

/// Marks the dashboard as seen now; returns the start of "since your last visit": the last time
/// it was seen when that was `visit_gap` ago or more (a new visit), else the window kept.
pub async fn see_dashboard(
    pool: &PgPool,
    user_id: Uuid,
    now: DateTime<Utc>,
    visit_gap: chrono::TimeDelta,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    // A mark of where the reader got to, not a record: losing the last few in a crash of the
    // machine costs a badge that shows again, so this commit does not wait for the disk
    // (`synchronous_commit` off for this statement's transaction alone).
    sqlx::query_scalar(
        "WITH no_wait AS (SELECT set_config('synchronous_commit', 'off', true))
         UPDATE users SET dashboard_since = CASE
                    WHEN dashboard_seen_at IS NULL OR dashboard_seen_at < $2::timestamptz - $3::interval
                    THEN dashboard_seen_at ELSE dashboard_since END,
                dashboard_seen_at = $2
           FROM no_wait
          WHERE id = $1
          RETURNING dashboard_since",
    )
    .bind(user_id)
    .bind(now)
    .bind(visit_gap)
    .fetch_one(pool)
    .await
}

/// What changed in a CDAO's areas since `since`: (cases submitted, members' responses,
/// reporters' answers, shares approved or declined).
pub async fn changes_since(
    pool: &PgPool,
    areas: &[Uuid],
    since: DateTime<Utc>,
) -> Result<(i64, i64, i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM cases WHERE area_id = ANY($1) AND submitted_at > $2),
                (SELECT count(*) FROM alert_responses r JOIN alerts a ON a.id = r.alert_id
                   JOIN shares s ON s.id = a.share_id WHERE s.area_id = ANY($1) AND r.created_at > $2),
                (SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id
                  WHERE c.area_id = ANY($1) AND e.kind = 'message' AND e.at > $2
                    AND e.data->>'from' = 'reporter'),
                (SELECT count(*) FROM shares WHERE area_id = ANY($1)
                   AND (approved_at > $2 OR declined_at > $2))",
    )
    .bind(areas)
    .bind(since)
    .fetch_one(pool)
    .await
}

/// One member response, as the dashboard lists it (no text: the case page has it).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RecentResponse {
    pub case_id: Uuid,
    pub case_reference: String,
    pub organisation_name: String,
    pub action_taken: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The newest responses from members to the alerts of a CDAO's areas.
pub async fn recent_responses(
    pool: &PgPool,
    areas: &[Uuid],
    limit: i64,
) -> Result<Vec<RecentResponse>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.id AS case_id, c.reference AS case_reference, o.name AS organisation_name,
                r.action_taken, r.created_at
           FROM alert_responses r JOIN alerts a ON a.id = r.alert_id
           JOIN shares s ON s.id = a.share_id JOIN cases c ON c.id = s.case_id
           JOIN organisations o ON o.id = a.organisation_id
          WHERE s.area_id = ANY($1)
          ORDER BY r.created_at DESC LIMIT $2",
    )
    .bind(areas)
    .bind(limit)
    .fetch_all(pool)
    .await
}
