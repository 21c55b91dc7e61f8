//! Statistics (SPEC §7.1 "Stats") and the CSV export of the case list.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::db::stats::{self as sdb, GroupBy, Period};
use crate::domain::directory::Sector;
use crate::domain::report::{CaseStatus, ConcernCategory, Harm, IncidentCategory, Schedule};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult, Problem};
use crate::policy::{self, Actor};
use crate::state::AppState;
use crate::web::extract::Params;

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
    pub items: Vec<StatItem>,
}

/// A human label for a key of a grouping.
pub fn label(group: GroupBy, key: &str) -> String {
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
            return NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
                .map(|d| d.format("%B %Y").to_string())
                .unwrap_or_else(|_| key.to_string());
        }
        GroupBy::Drug => None,
    };
    l.map(str::to_string).unwrap_or_else(|| key.to_string())
}

pub struct StatsQuery {
    pub group: GroupBy,
    pub period: Period,
    pub area_id: Option<Uuid>,
}

pub fn parse_stats_query(params: &Params, default_group: GroupBy) -> AppResult<StatsQuery> {
    let mut e = FieldErrors::new();
    let group = match params.get("group_by") {
        None => default_group,
        Some(g) => GroupBy::parse(g.trim()).unwrap_or_else(|| {
            e.add(
                "group_by",
                "group_by must be month, category, schedule, sector, harm, drug, kind or status",
            );
            default_group
        }),
    };
    let date = |key: &str, e: &mut FieldErrors| {
        params
            .get(key)
            .and_then(|v| match NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
                Ok(d) => Some(d),
                Err(_) => {
                    e.add(key, format!("{key} must be a date like 2026-11-02"));
                    None
                }
            })
    };
    let from = date("from", &mut e);
    let to = date("to", &mut e);
    let area_id = params
        .get("area_id")
        .and_then(|v| match Uuid::parse_str(v.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                e.add("area_id", "area_id must be a UUID");
                None
            }
        });
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    Ok(StatsQuery {
        group,
        period: Period { from, to },
        area_id,
    })
}

/// Counts for the caller's scope, with small numbers suppressed for national analysts.
pub async fn compute(state: &AppState, actor: &Actor, q: &StatsQuery) -> AppResult<Stats> {
    let scope = policy::stats_scope(actor, q.area_id)?;
    let suppress = policy::suppress_small_numbers(actor);
    let mut rows = sdb::counts(&state.db, &scope, q.group, &q.period).await?;
    if suppress && q.group != GroupBy::Month {
        // Suppressed counts go last, in key order: their order must not tell which is larger.
        rows.sort_by(|a, b| {
            let hidden = |n: i64| (1..5).contains(&n);
            hidden(a.1).cmp(&hidden(b.1)).then_with(|| {
                if hidden(a.1) && hidden(b.1) {
                    a.0.cmp(&b.0)
                } else {
                    std::cmp::Ordering::Equal
                }
            })
        });
    }
    Ok(Stats {
        group_by: q.group.code().to_string(),
        items: rows
            .into_iter()
            .map(|(key, n)| {
                let hidden = suppress && (1..5).contains(&n);
                StatItem {
                    label: label(q.group, &key),
                    key,
                    count: (!hidden).then_some(n),
                    suppressed: hidden,
                }
            })
            .collect(),
    })
}

#[utoipa::path(get, operation_id = "get_stats", path = "/api/v1/stats", tag = "statistics",
    params(crate::web::api::params::StatsParams),
    responses((status = 200, body = Stats), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn stats(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<Stats>> {
    let q = parse_stats_query(&params, GroupBy::Category)?;
    Ok(Json(compute(&state, &actor, &q).await?))
}

/// The CSV of the filtered case list (no identities, no free text).
pub async fn cases_csv_body(
    state: &AppState,
    actor: &Actor,
    params: &Params,
) -> AppResult<(Vec<u8>, usize)> {
    let f = crate::web::api::cases::parse_case_filter(params)?;
    crate::reports::export_cases(state, actor, &f).await
}

pub fn csv_response(body: Vec<u8>, filename: &str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}

#[utoipa::path(get, operation_id = "export_cases_csv", path = "/api/v1/cases.csv", tag = "cases",
    description = "The filtered case list as CSV (same filters as GET /api/v1/cases), without identities or free text. CDAOs only.",
    params(crate::web::api::params::CaseListQuery),
    responses((status = 200, content_type = "text/csv", description = "the CSV"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn cases_csv(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let (body, _) = cases_csv_body(&state, &actor, &params).await?;
    Ok(csv_response(body, "cases.csv"))
}
