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
        GroupBy::Region => ("ar.region", "cases c JOIN areas ar ON ar.id = c.area_id"),
        GroupBy::Area => ("ar.name", "cases c JOIN areas ar ON ar.id = c.area_id"),
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

/// One police force member organisation of an area (or the area alone, where it has none),
/// with its CD liaison cover: active member users and how it handled the area's alerts.
#[derive(Debug, Clone)]
pub struct CdloRow {
    pub area_id: Uuid,
    pub area_name: String,
    pub region: String,
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    pub active_users: i64,
    pub alerts: i64,
    pub acknowledged_on_time: i64,
    pub median_hours_to_acknowledge: Option<f64>,
    pub median_hours_to_respond: Option<f64>,
    /// Alerts past their respond-by date with no response yet (live shares).
    pub overdue: i64,
}

/// CDLO cover of the areas (`None`: every area).
pub async fn cdlo(
    pool: &PgPool,
    areas: Option<&[Uuid]>,
    today: chrono::NaiveDate,
) -> Result<Vec<CdloRow>, sqlx::Error> {
    let all = areas.is_none();
    let areas = areas.unwrap_or(&[]).to_vec();
    sqlx::query_as!(
        CdloRow,
        r#"WITH police AS (
               SELECT oa.area_id, o.id, o.name
               FROM organisations o JOIN organisation_areas oa ON oa.organisation_id = o.id
               WHERE o.kind = 'member' AND o.sector = 'police' AND o.disabled_at IS NULL
           ), active AS (
               SELECT organisation_id, count(*) AS n FROM users
               WHERE role = 'member' AND status = 'active' AND organisation_id IS NOT NULL
               GROUP BY organisation_id
           ), handled AS (
               SELECT s.area_id, a.organisation_id,
                      count(*) AS alerts,
                      count(*) FILTER (WHERE a.acknowledged_at <= a.ack_due_at) AS on_time,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.received_at) / 3600) AS ack_hours,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fr.first_at - a.received_at) / 3600) AS respond_hours,
                      count(*) FILTER (WHERE s.respond_by < $3 AND fr.first_at IS NULL AND s.revoked_at IS NULL) AS overdue
               FROM alerts a
               JOIN shares s ON s.id = a.share_id
               LEFT JOIN LATERAL (SELECT min(r.created_at) AS first_at FROM alert_responses r WHERE r.alert_id = a.id) fr ON true
               WHERE a.received_at IS NOT NULL
               GROUP BY s.area_id, a.organisation_id
           )
           SELECT ar.id AS "area_id!", ar.name AS "area_name!", ar.region AS "region!",
                  p.id AS "organisation_id?", p.name AS "organisation_name?",
                  coalesce(ac.n, 0) AS "active_users!",
                  coalesce(h.alerts, 0) AS "alerts!",
                  coalesce(h.on_time, 0) AS "acknowledged_on_time!",
                  h.ack_hours AS "median_hours_to_acknowledge?",
                  h.respond_hours AS "median_hours_to_respond?",
                  coalesce(h.overdue, 0) AS "overdue!"
           FROM areas ar
           LEFT JOIN police p ON p.area_id = ar.id
           LEFT JOIN active ac ON ac.organisation_id = p.id
           LEFT JOIN handled h ON h.area_id = ar.id AND h.organisation_id = p.id
           WHERE ($1 OR ar.id = ANY($2))
           ORDER BY ar.region, ar.name, p.name NULLS FIRST"#,
        all,
        &areas,
        today
    )
    .fetch_all(pool)
    .await
}

/// What a monthly measure counts.
pub struct MeasureFilter {
    pub measure: crate::domain::stats::Measure,
    /// An opioid item at or above this OME (mg a day) makes a high-dose incident.
    pub high_dose_mg: f64,
    pub opioid_ids: Vec<Uuid>,
    pub ost_ids: Vec<Uuid>,
    pub sector: Option<String>,
}

fn push_measure(qb: &mut QueryBuilder<Postgres>, m: &MeasureFilter) {
    use crate::domain::stats::Measure;
    qb.push(" AND c.kind = 'incident' AND c.occurred_on IS NOT NULL");
    if let Some(s) = &m.sector {
        qb.push(" AND c.sector = ").push_bind(s.clone());
    }
    match m.measure {
        Measure::AllIncidents => {}
        Measure::HighDoseOpioid => {
            // Judged on the OME kept with each drug item, so the threshold in force applies
            // to every report, whenever it was sent.
            qb.push(
                " AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.report->'drugs') = 'array' \
                 THEN c.report->'drugs' ELSE '[]'::jsonb END) AS d \
                 WHERE jsonb_typeof(d->'ome_mg_per_day') = 'number' AND (d->>'ome_mg_per_day')::float8 >= ",
            )
            .push_bind(m.high_dose_mg)
            .push(")");
        }
        Measure::OpioidHarm => {
            qb.push(" AND c.harm IN ('moderate', 'severe', 'death') AND c.drug_ids && ")
                .push_bind(m.opioid_ids.clone());
        }
        Measure::OstSeriousHarm => {
            qb.push(" AND c.harm IN ('severe', 'death') AND c.drug_ids && ")
                .push_bind(m.ost_ids.clone());
        }
    }
}

/// Incidents of the measure per month of `occurred_on`, from `from` (a first of the month)
/// to before `until`: (first day of the month, count), months with none left out.
pub async fn monthly(
    pool: &PgPool,
    scope: &StatsScope,
    m: &MeasureFilter,
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
) -> Result<Vec<(chrono::NaiveDate, i64)>, sqlx::Error> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT date_trunc('month', c.occurred_on)::date AS month, count(*) AS n FROM cases c WHERE c.occurred_on >= ",
    );
    qb.push_bind(from)
        .push(" AND c.occurred_on < ")
        .push_bind(until);
    push_scope(&mut qb, scope);
    push_measure(&mut qb, m);
    qb.push(" GROUP BY 1 ORDER BY 1");
    qb.build_query_as().fetch_all(pool).await
}

/// The first month with any incident in the scope (and sector) since `from`.
pub async fn first_incident_month(
    pool: &PgPool,
    scope: &StatsScope,
    sector: Option<&str>,
    from: chrono::NaiveDate,
) -> Result<Option<chrono::NaiveDate>, sqlx::Error> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(
        "SELECT date_trunc('month', min(c.occurred_on))::date FROM cases c WHERE c.kind = 'incident' AND c.occurred_on >= ",
    );
    qb.push_bind(from);
    push_scope(&mut qb, scope);
    if let Some(s) = sector {
        qb.push(" AND c.sector = ").push_bind(s.to_string());
    }
    let (first,): (Option<chrono::NaiveDate>,) = qb.build_query_as().fetch_one(pool).await?;
    Ok(first)
}
