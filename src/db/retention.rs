//! Removal of credentials past their use: idle sessions, expired invitations and tokens.
//! (Case data retention joins here when cases exist.)

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::PgPool;

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

pub async fn run(pool: &PgPool, now: DateTime<Utc>, dry_run: bool) -> Result<Report, sqlx::Error> {
    let idle = now - crate::auth::IDLE_TIMEOUT;
    let old = now - TimeDelta::days(90);
    let mut tx = pool.begin().await?;
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
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(Report {
        sessions,
        invitations,
        tokens,
    })
}
