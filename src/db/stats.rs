//! Aggregate statistics and the dashboard's counts. Only counts leave here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::domain::stats::{GroupBy, Period, Population};
use crate::policy::StatsScope;

fn push_scope(qb: &mut QueryBuilder<Postgres>, scope: &StatsScope) {
    match scope {
        StatsScope::Organisation(id) => {
            qb.push(" AND c.organisation_id = ").push_bind(*id);
        }
        StatsScope::Areas(ids) => {
            qb.push(" AND c.area_id = ANY(")
                .push_bind(ids.clone())
                .push(")");
        }
        StatsScope::National => {}
    }
}

fn push_period(qb: &mut QueryBuilder<Postgres>, p: &Period) {
    if let Some(d) = p.from {
        qb.push(" AND c.submitted_at >= ")
            .push_bind(d)
            .push("::date::timestamp AT TIME ZONE 'Europe/London'");
    }
    if let Some(d) = p.to {
        qb.push(" AND c.submitted_at < (")
            .push_bind(d)
            .push("::date + 1)::timestamp AT TIME ZONE 'Europe/London'");
    }
}

fn push_population(qb: &mut QueryBuilder<Postgres>, p: Population) {
    match p {
        Population::All => {}
        Population::OnlineSupply => {
            qb.push(
                " AND ('overseas_online_prescribing' = ANY(c.categories) OR c.report ? 'online_supply')",
            );
        }
        Population::Cbpm => {
            qb.push(" AND ('cbpm' = ANY(c.categories) OR c.report ? 'cbpm')");
        }
    }
}

/// (key, count) pairs of the reports of `population`, largest first (months in order).
pub async fn counts(
    pool: &PgPool,
    scope: &StatsScope,
    group: GroupBy,
    period: &Period,
    population: Population,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let (key, from) = match group {
        GroupBy::Month => (
            "to_char(date_trunc('month', c.submitted_at AT TIME ZONE 'Europe/London'), 'YYYY-MM')",
            "cases c",
        ),
        GroupBy::Category => ("k", "cases c CROSS JOIN LATERAL unnest(c.categories) AS k"),
        GroupBy::Schedule => ("k", "cases c CROSS JOIN LATERAL unnest(c.schedules) AS k"),
        GroupBy::Sector => ("c.sector", "cases c"),
        GroupBy::Harm => ("coalesce(c.harm, 'not_recorded')", "cases c"),
        GroupBy::Drug => (
            "d.name",
            "cases c CROSS JOIN LATERAL unnest(c.drug_ids) AS k JOIN drugs d ON d.id = k",
        ),
        GroupBy::Kind => ("c.kind", "cases c"),
        GroupBy::Status => ("c.status", "cases c"),
        // The oversight datasets: facts of the report as submitted ("not_known" where the
        // reporter did not give them). Never an identity: the prescriber's registration is
        // sealed apart from the report.
        GroupBy::OnlineService => (
            "coalesce(c.report #>> '{online_supply,web_address}', 'not_known')",
            "cases c",
        ),
        GroupBy::PrescriberCountry => (
            "coalesce(c.report #>> '{online_supply,prescriber_country}', 'not_known')",
            "cases c",
        ),
        GroupBy::CbpmIssue => (
            "coalesce(c.report #>> '{cbpm,issue}', 'not_known')",
            "cases c",
        ),
        GroupBy::CbpmPrescriberType => (
            "coalesce(c.report #>> '{cbpm,prescriber_type}', 'not_known')",
            "cases c",
        ),
        GroupBy::CbpmSetting => (
            "coalesce(c.report #>> '{cbpm,setting}', 'not_known')",
            "cases c",
        ),
    };
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {key} AS key, count(*) AS n FROM {from} WHERE true"
    ));
    push_scope(&mut qb, scope);
    push_period(&mut qb, period);
    push_population(&mut qb, group.population().or(population));
    if group == GroupBy::Harm {
        qb.push(" AND c.kind = 'incident'");
    }
    qb.push(" GROUP BY 1 ORDER BY ");
    qb.push(if group == GroupBy::Month {
        "1"
    } else {
        "2 DESC, 1"
    });
    qb.push(" LIMIT 500");
    let rows: Vec<(Option<String>, i64)> = qb.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(k, n)| (k.unwrap_or_default(), n))
        .collect())
}

/// Counts the statistics page highlights.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Highlights {
    pub total: i64,
    pub overseas_online_prescribing: i64,
    pub cbpm: i64,
    pub high_dose_opioids: i64,
    pub persons_of_concern: i64,
}

pub async fn highlights(
    pool: &PgPool,
    scope: &StatsScope,
    period: &Period,
) -> Result<Highlights, sqlx::Error> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT count(*),
                count(*) FILTER (WHERE 'overseas_online_prescribing' = ANY(c.categories)),
                count(*) FILTER (WHERE 'cbpm' = ANY(c.categories)),
                count(*) FILTER (WHERE c.high_dose),
                count(*) FILTER (WHERE c.kind = 'person_concern')
         FROM cases c WHERE true",
    );
    push_scope(&mut qb, scope);
    push_period(&mut qb, period);
    let (total, overseas, cbpm, high, persons): (i64, i64, i64, i64, i64) =
        qb.build_query_as().fetch_one(pool).await?;
    Ok(Highlights {
        total,
        overseas_online_prescribing: overseas,
        cbpm,
        high_dose_opioids: high,
        persons_of_concern: persons,
    })
}

/// What needs the CDAO team now.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub new: i64,
    pub overdue: i64,
    pub in_review: i64,
    pub awaiting_information: i64,
    pub investigating: i64,
    pub unassigned_open: i64,
    pub new_this_week: i64,
    pub pending_access_requests: i64,
    /// Alerts of live shares not acknowledged by their target.
    pub unacknowledged_alerts: i64,
    /// Shares of the areas waiting for a second CDAO (other than the viewer's own).
    pub shares_to_approve: i64,
}

pub async fn dashboard(
    pool: &PgPool,
    areas: &[Uuid],
    now: DateTime<Utc>,
    week_start: DateTime<Utc>,
    viewer: Uuid,
) -> Result<Dashboard, sqlx::Error> {
    let r = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'new') AS "new!",
                  count(*) FILTER (WHERE status = 'new' AND triage_due_at < $2) AS "overdue!",
                  count(*) FILTER (WHERE status = 'in_review') AS "in_review!",
                  count(*) FILTER (WHERE status = 'awaiting_information') AS "awaiting!",
                  count(*) FILTER (WHERE status = 'investigating') AS "investigating!",
                  count(*) FILTER (WHERE status <> 'closed' AND assignee_id IS NULL) AS "unassigned!",
                  count(*) FILTER (WHERE submitted_at >= $3) AS "this_week!"
           FROM cases WHERE area_id = ANY($1) AND (status <> 'closed' OR submitted_at >= $3)"#,
        areas,
        now,
        week_start
    )
    .fetch_one(pool)
    .await?;
    let pending: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM access_requests WHERE holding_area_id = ANY($1) AND status = 'pending'"#,
        areas
    )
    .fetch_one(pool)
    .await?;
    let alerts = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE a.acknowledged_at IS NULL AND a.ack_due_at < $2) AS "late!",
                  (SELECT count(*) FROM shares p WHERE p.area_id = ANY($1) AND p.approval = 'pending'
                     AND p.revoked_at IS NULL AND p.created_by <> $3) AS "to_approve!"
           FROM alerts a JOIN shares s ON s.id = a.share_id
           WHERE s.area_id = ANY($1) AND a.received_at IS NOT NULL AND s.revoked_at IS NULL AND s.expires_at > $2"#,
        areas,
        now,
        viewer
    )
    .fetch_one(pool)
    .await?;
    Ok(Dashboard {
        unacknowledged_alerts: alerts.late,
        shares_to_approve: alerts.to_approve,
        new: r.new,
        overdue: r.overdue,
        in_review: r.in_review,
        awaiting_information: r.awaiting,
        investigating: r.investigating,
        unassigned_open: r.unassigned,
        new_this_week: r.this_week,
        pending_access_requests: pending,
    })
}

/// Per organisation of the areas: which quarters have a return.
pub struct ReturnStatus {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub returns: Vec<(i32, i16, bool)>,
}

pub async fn return_status(
    pool: &PgPool,
    areas: &[Uuid],
    since_year: i32,
) -> Result<Vec<ReturnStatus>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT o.id, o.name,
                  COALESCE(array_agg(r.year ORDER BY r.year, r.quarter) FILTER (WHERE r.id IS NOT NULL), '{}') AS "years!: Vec<i32>",
                  COALESCE(array_agg(r.quarter ORDER BY r.year, r.quarter) FILTER (WHERE r.id IS NOT NULL), '{}') AS "quarters!: Vec<i16>",
                  COALESCE(array_agg(r.nil_return ORDER BY r.year, r.quarter) FILTER (WHERE r.id IS NOT NULL), '{}') AS "nils!: Vec<bool>"
           FROM organisations o
           JOIN organisation_areas oa ON oa.organisation_id = o.id AND oa.area_id = ANY($1)
           LEFT JOIN occurrence_returns r ON r.organisation_id = o.id AND r.year >= $2
           WHERE o.kind = 'provider' AND o.disabled_at IS NULL
           GROUP BY o.id, o.name
           ORDER BY o.name"#,
        areas,
        since_year
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ReturnStatus {
            organisation_id: r.id,
            organisation_name: r.name,
            returns: r
                .years
                .into_iter()
                .zip(r.quarters)
                .zip(r.nils)
                .map(|((y, q), n)| (y, q, n))
                .collect(),
        })
        .collect())
}

/// Alerts of the areas' live shares past their acknowledgement target.
pub struct LateAlert {
    pub case_id: Uuid,
    pub case_reference: String,
    pub organisation_name: String,
    pub ack_due_at: Option<DateTime<Utc>>,
    pub reminders: i32,
}

pub async fn late_alerts(
    pool: &PgPool,
    areas: &[Uuid],
    now: DateTime<Utc>,
) -> Result<Vec<LateAlert>, sqlx::Error> {
    sqlx::query_as!(
        LateAlert,
        r#"SELECT c.id AS case_id, c.reference AS case_reference, o.name AS organisation_name, a.ack_due_at, a.reminders
           FROM alerts a JOIN shares s ON s.id = a.share_id JOIN cases c ON c.id = s.case_id
           JOIN organisations o ON o.id = a.organisation_id
           WHERE s.area_id = ANY($1) AND a.received_at IS NOT NULL AND a.acknowledged_at IS NULL AND a.ack_due_at < $2
             AND s.revoked_at IS NULL AND s.expires_at > $2
           ORDER BY a.ack_due_at LIMIT 200"#,
        areas,
        now
    )
    .fetch_all(pool)
    .await
}
