//! Statistics, as the pages and the API share them: counts of reports, the oversight
//! datasets (overseas online prescribing, CBPM), member responsiveness and police CD liaison
//! cover, opioid outcomes as XmR charts with improvement initiatives, and the case-list CSV.
//!
//! Every figure goes through `policy` twice: who may see the dataset (and for which areas),
//! and how: a national analyst gets counts from 1 to 4 as "suppressed", medians and
//! percentages only of 5 or more alerts, and date ranges widened to whole calendar months
//! (SPEC §3 "Aggregates stay aggregates").

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::db;
use crate::audit::{self, Event};
use crate::domain::directory::Sector;
use crate::domain::report::{CaseStatus, ConcernCategory, Harm, IncidentCategory, Schedule};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Dataset, StatsScope};
use crate::state::AppState;

use crate::app::db::stats::Highlights;
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
        GroupBy::Drug | GroupBy::OnlineService | GroupBy::Region | GroupBy::Area => None,
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
    let mut rows =
        db::stats::counts(state.reads(actor), &scope, q.group, &period, q.population).await?;
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
    let h: Highlights =
        db::stats::highlights(state.reads(actor), &scope, &Period { from, to }).await?;
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
    let rows = db::shares::responsiveness(state.reads(actor), areas.as_deref()).await?;
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
    Ok(db::stats::return_status(state.reads(actor), &areas, since_year).await?)
}

pub use crate::app::db::stats::ReturnStatus;

/// The area names, by id (for labels).
pub async fn area_names(state: &AppState) -> AppResult<std::collections::HashMap<Uuid, String>> {
    Ok(db::directory::list_areas(&state.db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

/// Rows of figures as CSV: a header, then each row.
pub fn csv_of(header: &[&str], rows: &[Vec<String>]) -> AppResult<Vec<u8>> {
    let mut w = crate::csv_export::SafeWriter::new();
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(header).map_err(io)?;
    for r in rows {
        w.write_record(r).map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Police CD liaison (CDLO) cover
// ---------------------------------------------------------------------------------------------

/// One police force of an area (or an area without one) as the caller may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CdloItem {
    pub area_id: Uuid,
    pub area_name: String,
    pub region: String,
    /// Null for an area with no police force member organisation.
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    /// Active member users of the force (its CD liaison officers and their colleagues).
    pub active_users: Option<i64>,
    /// Alerts of the area the force received.
    pub alerts: Option<i64>,
    /// Of those, the percentage acknowledged within the target (null with no alerts, or for
    /// analysts fewer than 5).
    pub acknowledged_on_time_pct: Option<f64>,
    pub median_hours_to_acknowledge: Option<f64>,
    pub median_hours_to_respond: Option<f64>,
    /// Alerts past their respond-by date with no response.
    pub overdue: Option<i64>,
    /// The area has no active police member user at all.
    pub uncovered: bool,
    /// For national figures: some of this row's figures are hidden.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

/// CDLO cover per area and police force: CDAOs their areas, analysts England (suppressed).
pub async fn cdlo(
    state: &AppState,
    actor: &Actor,
    area_id: Option<Uuid>,
) -> AppResult<Vec<CdloItem>> {
    let areas = match policy::dataset_scope(actor, Dataset::Members, area_id)? {
        StatsScope::Areas(ids) => Some(ids),
        StatsScope::National => None,
        StatsScope::Organisation(_) => return Err(AppError::NotFound),
    };
    let suppress = policy::suppress_small_numbers(actor);
    let today = crate::reports::uk_today(state);
    let rows = db::stats::cdlo(state.reads(actor), areas.as_deref(), today).await?;
    let covered: std::collections::HashSet<Uuid> = rows
        .iter()
        .filter(|r| r.active_users > 0)
        .map(|r| r.area_id)
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let few = suppress && is_small(r.alerts);
            let active_users = shown(r.active_users, suppress);
            let alerts = shown(r.alerts, suppress);
            let overdue = shown(r.overdue, suppress);
            let pct = (r.alerts > 0 && !few).then(|| {
                ((r.acknowledged_on_time as f64) * 1000.0 / (r.alerts as f64)).round() / 10.0
            });
            CdloItem {
                uncovered: !covered.contains(&r.area_id),
                suppressed: active_users.is_none() || alerts.is_none() || overdue.is_none(),
                area_id: r.area_id,
                area_name: r.area_name,
                region: r.region,
                organisation_id: r.organisation_id,
                organisation_name: r.organisation_name,
                active_users,
                alerts,
                acknowledged_on_time_pct: pct,
                median_hours_to_acknowledge: r
                    .median_hours_to_acknowledge
                    .filter(|_| !few)
                    .map(round1),
                median_hours_to_respond: r.median_hours_to_respond.filter(|_| !few).map(round1),
                overdue,
            }
        })
        .collect())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

// ---------------------------------------------------------------------------------------------
// Opioid outcomes: XmR charts and improvement initiatives
// ---------------------------------------------------------------------------------------------

pub use crate::app::db::oversight::Initiative;
pub use crate::domain::spc::Signal;
pub use crate::domain::stats::Measure;

/// How many months a chart shows at most (the latest complete ones).
pub const SPC_MONTHS: usize = 24;

#[derive(Debug, Clone)]
pub struct SpcQuery {
    pub measure: Measure,
    pub area_id: Option<Uuid>,
    pub sector: Option<Sector>,
}

/// One month of an XmR chart.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpcPoint {
    /// `2026-01`.
    pub month: String,
    /// The count; null when suppressed (an analyst's 1 to 4).
    pub value: Option<i64>,
    pub mean: f64,
    pub upper: f64,
    pub lower: f64,
    /// `outside_limits`, `run_above`, `run_below`, `trend_up`, `trend_down` or null.
    pub signal: Option<Signal>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
    /// Limits recalculated from this month (an improvement initiative started).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub phase_start: bool,
}

/// An improvement initiative on the chart, with what followed it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InitiativeOnChart {
    #[serde(flatten)]
    pub initiative: Initiative,
    /// Whether a signal followed, in words (null when the chart covers several areas).
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpcChart {
    pub measure: String,
    pub points: Vec<SpcPoint>,
    /// Initiatives of the chart's area for this measure (an area's chart only).
    pub initiatives: Vec<InitiativeOnChart>,
    /// The high-dose threshold in force (mg oral morphine equivalent a day).
    pub high_dose_ome_mg: f64,
}

/// The XmR chart of a measure for the caller's scope.
pub async fn spc(state: &AppState, actor: &Actor, q: &SpcQuery) -> AppResult<SpcChart> {
    let scope = policy::dataset_scope(actor, Dataset::Outcomes, q.area_id)?;
    let suppress = policy::suppress_small_numbers(actor);
    let cat = crate::reports::catalogue(state).await?;
    let filter = db::stats::MeasureFilter {
        measure: q.measure,
        high_dose_mg: state.config.high_dose_ome_mg,
        opioid_ids: cat
            .drugs
            .iter()
            .filter(|d| d.is_opioid)
            .map(|d| d.id)
            .collect(),
        ost_ids: cat
            .drugs
            .iter()
            .filter(|d| crate::domain::stats::is_ost(&d.name, d.patch.as_deref()))
            .map(|d| d.id)
            .collect(),
        sector: q.sector.map(|s| s.code().to_string()),
    };
    // Complete months only: the month in progress would look like a fall.
    let this_month = crate::domain::spc::month_start(crate::reports::uk_today(state));
    let window: Vec<NaiveDate> = {
        let last = this_month.pred_opt().unwrap_or(this_month);
        let mut first = last;
        for _ in 1..SPC_MONTHS {
            first = crate::domain::spc::month_start(first.pred_opt().unwrap_or(first));
        }
        crate::domain::spc::months_between(first, last, SPC_MONTHS)
    };
    let Some(&window_start) = window.first() else {
        return Ok(empty_chart(state, q));
    };
    let start = db::stats::first_incident_month(
        state.reads(actor),
        &scope,
        filter.sector.as_deref(),
        window_start,
    )
    .await?;
    let Some(start) = start.filter(|s| *s < this_month) else {
        return Ok(empty_chart(state, q));
    };
    let months: Vec<NaiveDate> = window.into_iter().filter(|m| *m >= start).collect();
    let counts = db::stats::monthly(state.reads(actor), &scope, &filter, start, this_month).await?;
    let values: Vec<i64> = months
        .iter()
        .map(|m| {
            counts
                .iter()
                .find(|(c, _)| c == m)
                .map(|(_, n)| *n)
                .unwrap_or(0)
        })
        .collect();
    // Initiatives split the chart into phases only on one area's chart.
    let single_area = match &scope {
        StatsScope::Areas(ids) if ids.len() == 1 => ids.first().copied(),
        _ => None,
    };
    let initiatives = match &scope {
        StatsScope::Areas(ids) => {
            db::oversight::initiatives(&state.db, ids, q.measure.code()).await?
        }
        _ => vec![],
    };
    let index_of = |m: NaiveDate| months.iter().position(|x| *x == m);
    let breaks: Vec<usize> = if single_area.is_some() {
        initiatives
            .iter()
            .filter_map(|i| index_of(i.start_month))
            .collect()
    } else {
        vec![]
    };
    let xs: Vec<f64> = values.iter().map(|v| *v as f64).collect();
    let chart = crate::domain::spc::xmr(&xs, &breaks);
    let points = months
        .iter()
        .zip(values.iter())
        .zip(chart.iter())
        .map(|((m, v), p)| {
            let value = shown(*v, suppress);
            SpcPoint {
                month: crate::domain::spc::month_key(*m),
                suppressed: value.is_none(),
                signal: if value.is_some() { p.signal } else { None },
                value,
                mean: round2(p.mean),
                upper: round2(p.upper),
                lower: round2(p.lower),
                phase_start: p.phase_start,
            }
        })
        .collect();
    let mut sorted_breaks = breaks.clone();
    sorted_breaks.sort_unstable();
    sorted_breaks.dedup();
    let initiatives = initiatives
        .into_iter()
        .map(|i| {
            let outcome = single_area.map(|_| initiative_outcome(&i, &months, &xs, &sorted_breaks));
            InitiativeOnChart {
                initiative: i,
                outcome,
            }
        })
        .collect();
    Ok(SpcChart {
        measure: q.measure.code().to_string(),
        points,
        initiatives,
        high_dose_ome_mg: state.config.high_dose_ome_mg,
    })
}

fn empty_chart(state: &AppState, q: &SpcQuery) -> SpcChart {
    SpcChart {
        measure: q.measure.code().to_string(),
        points: vec![],
        initiatives: vec![],
        high_dose_ome_mg: state.config.high_dose_ome_mg,
    }
}

fn month_words(m: NaiveDate) -> String {
    m.format("%B %Y").to_string()
}

/// Whether a signal followed an initiative, in words: the months from its start judged
/// against the limits of the months before it (back to the previous change).
pub fn initiative_outcome(
    i: &Initiative,
    months: &[NaiveDate],
    values: &[f64],
    breaks: &[usize],
) -> String {
    let start_words = month_words(i.start_month);
    let Some(start) = months.iter().position(|m| *m == i.start_month) else {
        return if months.last().is_some_and(|l| i.start_month > *l) {
            format!(
                "It starts in {start_words}: there are no complete months since to judge it by yet."
            )
        } else {
            format!("It started in {start_words}, before the months on this chart.")
        };
    };
    let before_from = breaks
        .iter()
        .copied()
        .filter(|b| *b < start)
        .max()
        .unwrap_or(0);
    let Some(v) = crate::domain::spc::after_change(values, before_from, start) else {
        return format!(
            "It started in {start_words}, the first month on this chart: there are no months before it to compare with."
        );
    };
    let means = format!(
        "Since {start_words} the mean is {:.1} a month, against {:.1} before.",
        v.after_mean, v.before_mean
    );
    match v.signal {
        None => format!(
            "{means} No signal yet: the months since are within what the months before would lead you to expect."
        ),
        Some((s, at)) => {
            let when = months.get(at).map(|m| month_words(*m)).unwrap_or_default();
            let direction = match s {
                Signal::RunBelow | Signal::TrendDown => "fewer than before",
                Signal::RunAbove | Signal::TrendUp => "more than before",
                Signal::OutsideLimits => {
                    if values.get(at).is_some_and(|x| *x < v.before_mean) {
                        "fewer than before"
                    } else {
                        "more than before"
                    }
                }
            };
            format!(
                "{means} A signal followed: {} by {when}, against the limits of the months before ({direction}).",
                s.describe()
            )
        }
    }
}

/// The audit action of recording an initiative.
pub const INITIATIVE_RECORDED: &str = "initiative.recorded";

/// An initiative as a CDAO records it.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiativeInput {
    /// What the initiative is called.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// One of the CDAO's areas (may be left out by a CDAO of one area).
    #[schema(value_type = Option<Uuid>)]
    pub area_id: Option<String>,
    /// The outcome measure it means to change.
    #[schema(value_type = crate::domain::stats::Measure, required = true)]
    pub measure: Option<String>,
    /// The month it started, like `2026-03` (no later than next month).
    #[schema(value_type = String, required = true, pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub start_month: Option<String>,
    /// What will change, decided up front with how it will be judged.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 5000)]
    pub change: Option<String>,
}

/// Records an improvement initiative for one of the CDAO's areas (audited).
pub async fn record_initiative(
    state: &AppState,
    actor: &Actor,
    input: &InitiativeInput,
) -> AppResult<Initiative> {
    if !policy::may_record_initiatives(actor) {
        return Err(AppError::Forbidden(
            "Your role does not allow you to record improvement initiatives.".into(),
        ));
    }
    let mut e = crate::domain::validation::FieldErrors::new();
    let name = e.text(
        "name",
        input.name.as_deref(),
        "the name of the initiative",
        200,
    );
    let area_id = match input
        .area_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None if actor.area_ids.len() == 1 => actor.area_ids.first().copied(),
        None => {
            e.add("area_id", "Select the area of the initiative");
            None
        }
        Some(v) => match Uuid::parse_str(v) {
            Ok(id) if actor.area_ids.contains(&id) => Some(id),
            _ => {
                e.add("area_id", "Select one of your areas");
                None
            }
        },
    };
    let measure = crate::domain::report::required_code(
        &mut e,
        "measure",
        input.measure.as_deref(),
        Measure::parse,
        "Select the measure the initiative means to change",
        "Select a measure from the list",
    );
    let start_month = match input
        .start_month
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => {
            e.add("start_month", "Enter the month the initiative started");
            None
        }
        Some(v) => {
            let latest = crate::domain::spc::next_month(crate::reports::uk_today(state));
            match crate::domain::spc::parse_month(v) {
                Some(m) if m <= latest && m.year() >= 2013 => Some(m),
                Some(_) => {
                    e.add(
                        "start_month",
                        "The start month must be after 2012 and no later than next month",
                    );
                    None
                }
                None => {
                    e.add(
                        "start_month",
                        "Enter the start month as year and month, like 2026-03",
                    );
                    None
                }
            }
        }
    };
    let change = e.text("change", input.change.as_deref(), "what will change", 5_000);
    let (Some(area_id), Some(measure), Some(start_month)) = (area_id, measure, start_month) else {
        return Err(AppError::Validation(e.into_vec()));
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    policy::record_initiative(actor, area_id)?;
    let now = state.now();
    let id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    db::oversight::insert_initiative(
        &mut tx,
        &db::oversight::NewInitiative {
            id,
            area_id,
            measure: measure.code(),
            name: &name,
            start_month,
            change: &change,
            created_by: actor.user_id,
            created_at: now,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            INITIATIVE_RECORDED,
            "improvement_initiative",
            Some(id),
        )
        .details(json!({"area_id": area_id, "measure": measure.code()})),
    )
    .await?;
    tx.commit().await?;
    db::oversight::initiatives(&state.db, &[area_id], measure.code())
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(AppError::NotFound)
}

/// The CDAO dashboard's counts over the actor's areas (cases this week from `week_start`).
pub async fn dashboard(
    state: &AppState,
    actor: &Actor,
    week_start: chrono::DateTime<chrono::Utc>,
) -> AppResult<crate::app::db::stats::Dashboard> {
    let areas = crate::access::cdao_areas(actor)?;
    Ok(db::stats::dashboard(
        &state.db,
        areas.ids(),
        state.now(),
        week_start,
        actor.user_id,
    )
    .await?)
}
