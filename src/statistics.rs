//! Statistics, as the pages and the API share them: counts of reports, the oversight
//! datasets (overseas online prescribing, CBPM), member responsiveness and police CD liaison
//! cover, opioid outcomes as XmR charts with improvement initiatives, and the case-list CSV.
//!
//! Every figure goes through `policy` twice: who may see the dataset (and for which areas),
//! and how: a national analyst gets counts from 1 to 4 as "suppressed", medians and
//! percentages only of 5 or more alerts, and date ranges widened to whole calendar months
//! (SPEC §3 "Aggregates stay aggregates").

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::db;
use crate::db::cases::CaseFilter;
use crate::domain::directory::Sector;
use crate::domain::report::{CaseStatus, ConcernCategory, Harm, IncidentCategory, Schedule};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Dataset, StatsScope};
use crate::state::AppState;

use crate::db::stats::Highlights;
pub use crate::domain::stats::{GroupBy, Period, Population};

/// A count an analyst may see: 1 to 4 is hidden.
pub fn shown(n: i64, suppress: bool) -> Option<i64> {
    (!(suppress && is_small(n))).then_some(n)
}

/// A count from 1 to 4: small enough to point at someone.
pub fn is_small(n: i64) -> bool {
    (1..5).contains(&n)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatItem {
    pub key: String,
    pub label: String,
    /// Null when suppressed.
    pub count: Option<i64>,
    /// For national figures: a count from 1 to 4 is hidden so nobody can be identified.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stats {
    pub group_by: String,
    /// The first day counted, as applied (an analyst's is the first of its month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// The last day counted, as applied (an analyst's is the last of its month).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<NaiveDate>,
    pub items: Vec<StatItem>,
}

/// A human label for a key of a grouping.
pub fn label(group: GroupBy, key: &str) -> String {
    use crate::domain::oversight::{CbpmIssue, CbpmPrescriberType, CbpmSetting};
    if key == "not_known" {
        return "Not known".into();
    }
    let l = match group {
        GroupBy::Category => IncidentCategory::parse(key)
            .map(|c| c.label())
            .or_else(|| ConcernCategory::parse(key).map(|c| c.label())),
        GroupBy::Schedule => Schedule::parse(key).map(|s| s.label()),
        GroupBy::Sector => Sector::parse(key).map(|s| s.label()),
        GroupBy::Harm => Harm::parse(key)
            .map(|h| h.label())
            .or((key == "not_recorded").then_some("Not recorded")),
        GroupBy::Status => CaseStatus::parse(key).map(|s| s.label()),
        GroupBy::Kind => match key {
            "incident" => Some("Incidents"),
            "person_concern" => Some("Persons of concern"),
            _ => None,
        },
        GroupBy::Month => {
            return crate::domain::spc::parse_month(key)
                .map(|d| d.format("%B %Y").to_string())
                .unwrap_or_else(|| key.to_string());
        }
        GroupBy::PrescriberCountry => crate::domain::countries::name(key),
        GroupBy::CbpmIssue => CbpmIssue::parse(key).map(|c| c.label()),
        GroupBy::CbpmPrescriberType => CbpmPrescriberType::parse(key).map(|c| c.label()),
        GroupBy::CbpmSetting => CbpmSetting::parse(key).map(|c| c.label()),
        GroupBy::Drug | GroupBy::OnlineService => None,
    };
    l.map(str::to_string).unwrap_or_else(|| key.to_string())
}

/// What to count.
#[derive(Debug, Clone)]
pub struct StatsQuery {
    pub group: GroupBy,
    pub period: Period,
    pub area_id: Option<Uuid>,
    /// Which reports (the dataset pages count months, drugs and schedules of their dataset).
    pub population: Population,
}

impl StatsQuery {
    pub fn new(group: GroupBy) -> Self {
        Self {
            group,
            period: Period::default(),
            area_id: None,
            population: Population::All,
        }
    }

    /// The dataset the figures belong to, for `policy`.
    pub fn dataset(&self) -> Dataset {
        if self.group.population().or(self.population) == Population::All {
            Dataset::Reports
        } else {
            Dataset::Oversight
        }
    }
}

/// Counts for the caller's scope, with small numbers suppressed for national analysts.
pub async fn stats(state: &AppState, actor: &Actor, q: &StatsQuery) -> AppResult<Stats> {
    let scope = policy::dataset_scope(actor, q.dataset(), q.area_id)?;
    let suppress = policy::suppress_small_numbers(actor);
    let (from, to) = policy::stats_period(actor, q.period.from, q.period.to);
    let period = Period { from, to };
    let mut rows = db::stats::counts(&state.db, &scope, q.group, &period, q.population).await?;
    if suppress && q.group != GroupBy::Month {
        // Suppressed counts go last, in key order: their order must not tell which is larger.
        rows.sort_by(|a, b| {
            is_small(a.1).cmp(&is_small(b.1)).then_with(|| {
                if is_small(a.1) && is_small(b.1) {
                    a.0.cmp(&b.0)
                } else {
                    std::cmp::Ordering::Equal
                }
            })
        });
    }
    Ok(Stats {
        group_by: q.group.code().to_string(),
        from,
        to,
        items: rows
            .into_iter()
            .map(|(key, n)| {
                let count = shown(n, suppress);
                StatItem {
                    label: label(q.group, &key),
                    key,
                    suppressed: count.is_none(),
                    count,
                }
            })
            .collect(),
    })
}

/// The counts the statistics page highlights, as the caller may see them (`None`: 1 to 4,
/// suppressed for an analyst).
#[derive(Debug, Clone, Default)]
pub struct HighlightCounts {
    pub total: Option<i64>,
    pub overseas_online_prescribing: Option<i64>,
    pub cbpm: Option<i64>,
    pub high_dose_opioids: Option<i64>,
    pub persons_of_concern: Option<i64>,
}

pub async fn highlights(
    state: &AppState,
    actor: &Actor,
    area_id: Option<Uuid>,
    period: &Period,
) -> AppResult<HighlightCounts> {
    let scope = policy::dataset_scope(actor, Dataset::Reports, area_id)?;
    let (from, to) = policy::stats_period(actor, period.from, period.to);
    let suppress = policy::suppress_small_numbers(actor);
    let h: Highlights = db::stats::highlights(&state.db, &scope, &Period { from, to }).await?;
    Ok(HighlightCounts {
        total: shown(h.total, suppress),
        overseas_online_prescribing: shown(h.overseas_online_prescribing, suppress),
        cbpm: shown(h.cbpm, suppress),
        high_dose_opioids: shown(h.high_dose_opioids, suppress),
        persons_of_concern: shown(h.persons_of_concern, suppress),
    })
}

/// One member organisation's responsiveness to alerts, as the caller may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Responsiveness {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub sector: String,
    /// Null when suppressed (1 to 4, for analysts).
    pub alerts_received: Option<i64>,
    pub acknowledged: Option<i64>,
    pub acknowledged_on_time: Option<i64>,
    /// Null when there is none, or (for analysts) fewer than 5 alerts to take it over.
    pub median_hours_to_acknowledge: Option<f64>,
    pub median_hours_to_respond: Option<f64>,
    /// For national figures: some of this organisation's figures are hidden.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

/// Per member organisation: how quickly alerts were acknowledged and answered. CDAOs see
/// alerts of their areas; analysts national figures, suppressed.
pub async fn responsiveness(state: &AppState, actor: &Actor) -> AppResult<Vec<Responsiveness>> {
    let areas = match policy::dataset_scope(actor, Dataset::Members, None)? {
        StatsScope::Areas(ids) => Some(ids),
        StatsScope::National => None,
        StatsScope::Organisation(_) => return Err(AppError::NotFound),
    };
    let suppress = policy::suppress_small_numbers(actor);
    let rows = db::shares::responsiveness(&state.db, areas.as_deref()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            // A median of fewer than 5 alerts is one alert's time, or close to it.
            let few = suppress && is_small(r.alerts_received);
            let received = shown(r.alerts_received, suppress);
            let acknowledged = shown(r.acknowledged, suppress);
            let on_time = shown(r.acknowledged_on_time, suppress);
            Responsiveness {
                suppressed: received.is_none() || acknowledged.is_none() || on_time.is_none(),
                organisation_id: r.organisation_id,
                organisation_name: r.organisation_name,
                sector: r.sector,
                alerts_received: received,
                acknowledged,
                acknowledged_on_time: on_time,
                median_hours_to_acknowledge: r.median_hours_to_acknowledge.filter(|_| !few),
                median_hours_to_respond: r.median_hours_to_respond.filter(|_| !few),
            }
        })
        .collect())
}

/// Per provider organisation of the CDAO's areas: which quarters have an occurrence return.
pub async fn return_status(
    state: &AppState,
    actor: &Actor,
    areas: &[Uuid],
    since_year: i32,
) -> AppResult<Vec<db::stats::ReturnStatus>> {
    let own: Vec<Uuid> = policy::read_occurrence_returns(actor)
        .ok()
        .and_then(|s| match s {
            policy::ReturnScope::Areas(ids) => Some(ids),
            policy::ReturnScope::Organisation(_) => None,
        })
        .ok_or_else(|| {
            AppError::Forbidden("Your role does not allow you to see returns.".into())
        })?;
    let areas: Vec<Uuid> = areas.iter().copied().filter(|a| own.contains(a)).collect();
    Ok(db::stats::return_status(&state.db, &areas, since_year).await?)
}

pub use crate::db::stats::ReturnStatus;

/// The area names, by id (for labels).
pub async fn area_names(state: &AppState) -> AppResult<std::collections::HashMap<Uuid, String>> {
    Ok(db::directory::list_areas(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

/// The filtered case list as CSV (no identities, no free text), and its number of rows:
/// CDAOs only; the export is audited.
pub async fn cases_csv(
    state: &AppState,
    actor: &Actor,
    mut f: CaseFilter,
) -> AppResult<(Vec<u8>, usize)> {
    policy::export_cases(actor)?;
    f.limit = 100_000;
    f.before = None;
    f.now = Some(state.now());
    let scope = policy::list_cases(actor)?;
    let rows = db::cases::list_cases(&state.db, &scope, &f).await?;
    let areas = area_names(state).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record([
        "reference",
        "kind",
        "status",
        "priority",
        "submitted_at",
        "organisation",
        "sector",
        "area",
        "occurred_on",
        "harm",
        "categories",
        "schedules",
        "high_dose_opioid",
        "triage_due_at",
    ])
    .map_err(io)?;
    for c in &rows {
        w.write_record([
            c.reference.clone(),
            c.kind.clone(),
            c.status.clone(),
            c.priority.clone().unwrap_or_default(),
            c.submitted_at.to_rfc3339(),
            c.organisation_name.clone(),
            c.sector.clone(),
            areas.get(&c.area_id).cloned().unwrap_or_default(),
            c.occurred_on.map(|d| d.to_string()).unwrap_or_default(),
            c.harm.clone().unwrap_or_default(),
            c.categories.join(";"),
            c.schedules.join(";"),
            c.high_dose.to_string(),
            c.triage_due_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ])
        .map_err(io)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    audit::record_alone(
        &state.db,
        state.now(),
        Event::new(
            Some(actor.user_id),
            crate::triage::action::EXPORTED,
            "case_list",
            None,
        )
        .details(json!({"rows": rows.len()})),
    )
    .await?;
    Ok((body, rows.len()))
}

/// Rows of figures as CSV: a header, then each row.
pub fn csv_of(header: &[&str], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(header).map_err(io)?;
    for r in rows {
        w.write_record(r).map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}
