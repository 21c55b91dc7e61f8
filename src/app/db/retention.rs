//! Retention: removal of credentials past their use (idle sessions, expired invitations and
//! tokens) and of case details past their period (see `crate::retention`).

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{PgConnection, PgPool};

#[derive(Debug)]
pub struct Report {
    pub sessions: i64,
    pub invitations: i64,
    pub tokens: i64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} idle sessions, {} expired invitations, {} API tokens expired or revoked over 90 days ago",
            self.sessions, self.invitations, self.tokens
        )
    }
}

/// Removes credentials past their use, in the caller's transaction.
pub async fn credentials(tx: &mut PgConnection, now: DateTime<Utc>) -> Result<Report, sqlx::Error> {
    let idle = now - crate::auth::IDLE_TIMEOUT;
    let old = now - TimeDelta::days(90);
    let sessions = sqlx::query_scalar!(r#"WITH d AS (DELETE FROM sessions WHERE last_seen_at < $1 RETURNING 1) SELECT count(*) AS "n!" FROM d"#, idle)
        .fetch_one(&mut *tx)
        .await?;
    let invitations = sqlx::query_scalar!(
        r#"WITH d AS (DELETE FROM invitations WHERE expires_at < $1 RETURNING 1) SELECT count(*) AS "n!" FROM d"#,
        old
    )
    .fetch_one(&mut *tx)
    .await?;
    let tokens = sqlx::query_scalar!(
        r#"WITH d AS (DELETE FROM api_tokens WHERE expires_at < $1 OR revoked_at < $1 RETURNING 1) SELECT count(*) AS "n!" FROM d"#,
        old
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(Report {
        sessions,
        invitations,
        tokens,
    })
}

/// What retention removed (or, on a dry run, would remove) from cases past their period.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    pub cases: i64,
    pub identities: i64,
    pub blind_indexes: i64,
    pub amendments: i64,
    pub timeline_texts: i64,
    pub evidence_files: i64,
    pub shares: i64,
    pub responses: i64,
    pub access_requests: i64,
}

/// Counts what removing the details of these cases touches.
pub async fn count(
    conn: &mut PgConnection,
    cases: &[crate::access::RetainedCase],
) -> Result<Removed, sqlx::Error> {
    use crate::access::CaseRef;
    let ids: Vec<uuid::Uuid> = cases.iter().map(|c| c.case_id()).collect();
    let r = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM persons WHERE case_id = ANY($1) AND identity_enc IS NOT NULL) AS "identities!",
             (SELECT count(*) FROM person_identifiers WHERE case_id = ANY($1)) AS "blind_indexes!",
             (SELECT count(*) FROM case_amendments WHERE case_id = ANY($1) AND text <> '') AS "amendments!",
             (SELECT count(*) FROM case_events WHERE case_id = ANY($1)
                AND (data ? 'body' OR data ? 'text' OR data ? 'note' OR data ? 'reason')) AS "timeline_texts!",
             (SELECT count(*) FROM attachments WHERE case_id = ANY($1) AND removed_at IS NULL) AS "evidence_files!",
             (SELECT count(*) FROM shares WHERE case_id = ANY($1) AND (purpose <> '' OR summary <> '')) AS "shares!",
             (SELECT count(*) FROM alert_responses r JOIN alerts a ON a.id = r.alert_id JOIN shares s ON s.id = a.share_id
                WHERE s.case_id = ANY($1) AND r.body <> '') AS "responses!",
             (SELECT count(*) FROM access_requests WHERE case_id = ANY($1) AND reason <> '') AS "access_requests!""#,
        &ids
    )
    .fetch_one(conn)
    .await?;
    Ok(Removed {
        cases: i64::try_from(cases.len()).unwrap_or(i64::MAX),
        identities: r.identities,
        blind_indexes: r.blind_indexes,
        amendments: r.amendments,
        timeline_texts: r.timeline_texts,
        evidence_files: r.evidence_files,
        shares: r.shares,
        responses: r.responses,
        access_requests: r.access_requests,
    })
}

/// Removes the details of these cases: sealed identities and their blind indexes, free text
/// (report, amendments, timeline, shares, responses, access requests) and evidence files,
/// keeping the rows, their codes, dates and counts.
pub async fn remove(
    conn: &mut PgConnection,
    cases: &[crate::access::RetainedCase],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    use crate::access::CaseRef;
    let ids: Vec<uuid::Uuid> = cases.iter().map(|c| c.case_id()).collect();
    sqlx::query!(
        "UPDATE persons SET identity_enc = NULL, removed_at = $2, removal_reason = 'retention'
         WHERE case_id = ANY($1) AND identity_enc IS NOT NULL",
        &ids,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM person_identifiers WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "DELETE FROM prescriber_addresses WHERE person_id IN (SELECT id FROM persons WHERE case_id = ANY($1))",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE cases SET online_registration_key_id = NULL, online_registration_enc = NULL,
                          online_registration_digest = NULL
         WHERE id = ANY($1) AND online_registration_enc IS NOT NULL",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE case_amendments SET text = '' WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE case_events SET data = data - 'body' - 'text' - 'note' - 'reason' WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE attachments SET data_enc = NULL, filename = 'removed', removed_at = $2
         WHERE case_id = ANY($1) AND removed_at IS NULL",
        &ids,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE shares SET purpose = '', summary = '',
                patient_data_reason = CASE WHEN patient_data_reason IS NULL THEN NULL ELSE '' END,
                decline_reason = CASE WHEN decline_reason IS NULL THEN NULL ELSE '' END
         WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE alert_responses r SET body = '' FROM alerts a JOIN shares s ON s.id = a.share_id
         WHERE a.id = r.alert_id AND s.case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE access_requests SET reason = '',
                decision_reason = CASE WHEN decision_reason IS NULL THEN NULL ELSE '' END
         WHERE case_id = ANY($1)",
        &ids
    )
    .execute(&mut *conn)
    .await?;
    for c in cases {
        let report = crate::domain::retention::redact_report(c.report());
        sqlx::query!(
            "UPDATE cases SET report = $2, search_text = ''::tsvector, details_removed_at = $3 WHERE id = $1",
            c.case_id(),
            report,
            now
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Takes the retention job: `only_if_due` for the daily run (others skip it while one instance
/// holds it, and until it is due again). Held until the transaction ends.
pub async fn take_job(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    only_if_due: bool,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "SELECT name FROM scheduled_jobs WHERE name = 'retention' AND (NOT $2 OR next_run_at <= $1)
         FOR UPDATE SKIP LOCKED",
        now,
        only_if_due
    )
    .fetch_optional(conn)
    .await?
    .is_some())
}

pub async fn finish_job(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    next: DateTime<Utc>,
    result: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE scheduled_jobs SET last_run_at = $1, next_run_at = $2, last_result = $3 WHERE name = 'retention'",
        now,
        next,
        result
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Closed cases past their period that wait for an open share, access request or erasure.
pub async fn waiting(
    pool: &PgPool,
    periods: crate::domain::retention::Periods,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM cases c
           WHERE c.status = 'closed' AND c.details_removed_at IS NULL AND c.closed_at IS NOT NULL
             AND (c.closed_at <= $1
                  OR (c.kind = 'person_concern' AND c.well_founded = 'no' AND c.closed_at <= $2))
             AND (EXISTS (SELECT 1 FROM shares s WHERE s.case_id = c.id AND s.revoked_at IS NULL
                          AND (s.approval = 'pending' OR (s.approval = 'approved' AND s.expires_at > $3)))
                  OR EXISTS (SELECT 1 FROM access_requests r WHERE r.case_id = c.id AND r.status = 'pending')
                  OR EXISTS (SELECT 1 FROM person_erasures e WHERE e.case_id = c.id AND e.status = 'pending'))"#,
        periods.cutoff(false, now),
        periods.cutoff(true, now),
        now
    )
    .fetch_one(pool)
    .await
}
