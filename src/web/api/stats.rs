//! Statistics (SPEC §7.1 "Stats") and the CSV export of the case list.

use axum::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult, Problem};
use crate::policy::Actor;
use crate::state::AppState;
use crate::statistics::{self, GroupBy, Period, Population, Stats, StatsQuery};
use crate::web::extract::Params;

/// Reads `group_by`, `from`, `to` and `area_id` (and, for the dataset pages, `dataset`).
pub fn parse_stats_query(params: &Params, default_group: GroupBy) -> AppResult<StatsQuery> {
    let mut e = FieldErrors::new();
    let group = match params.get("group_by") {
        None => default_group,
        Some(g) => GroupBy::parse(g.trim()).unwrap_or_else(|| {
            e.add(
                "group_by",
                format!("group_by must be {}", GroupBy::codes_text()),
            );
            default_group
        }),
    };
    let date = |key: &str, e: &mut FieldErrors| {
        params
            .get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .and_then(|v| match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
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
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| match Uuid::parse_str(v) {
            Ok(id) => Some(id),
            Err(_) => {
                e.add("area_id", "area_id must be a UUID");
                None
            }
        });
    let population = match params.get("dataset").map(str::trim) {
        None => Population::All,
        Some(d) => Population::parse(d).unwrap_or_else(|| {
            e.add("dataset", "dataset must be all, online or cbpm");
            Population::All
        }),
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    Ok(StatsQuery {
        group,
        period: Period { from, to },
        area_id,
        population,
    })
}

#[utoipa::path(get, path = "/api/v1/stats", tag = "statistics",
    description = "Counts of reports, grouped. CDAOs: their areas (or the one chosen); organisation leads and reporters: their organisation; national analysts: England, with counts from 1 to 4 given as null and `suppressed: true`, and dates widened to whole calendar months (`from` to the first day of its month, `to` to the last), so that two overlapping ranges cannot be differenced to single out a case; `from` and `to` in the answer are the dates applied. The oversight groupings (`online_service`: the registrable domain of the online service; `prescriber_country`: ISO 3166-1 alpha-2; `cbpm_issue`, `cbpm_prescriber_type`, `cbpm_setting`: the CBPM codes; `not_known` where not given) count the overseas online prescribing and CBPM datasets, for CDAOs and analysts only.",
    params(("group_by" = Option<String>, Query, description = "month, category, schedule, sector, harm, drug, kind, status, online_service, prescriber_country, cbpm_issue, cbpm_prescriber_type or cbpm_setting (default category)"),
           ("from" = Option<String>, Query, description = "first day submitted, like 2026-01-01 (analysts: whole calendar months)"),
           ("to" = Option<String>, Query, description = "last day submitted, like 2026-12-31 (analysts: whole calendar months)"),
           ("area_id" = Option<Uuid>, Query)),
    responses((status = 200, body = Stats), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn stats(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<Stats>> {
    let q = parse_stats_query(&params, GroupBy::Category)?;
    Ok(Json(statistics::stats(&state, &actor, &q).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ResponsivenessList {
    pub items: Vec<statistics::Responsiveness>,
}

#[utoipa::path(get, path = "/api/v1/stats/responsiveness", tag = "statistics",
    description = "Per member organisation: alerts received, acknowledged, acknowledged on time, median hours to acknowledge and to respond. CDAOs: alerts of their areas; national analysts: England, with counts from 1 to 4 null and `suppressed: true`, and no median over fewer than 5 alerts.",
    responses((status = 200, body = ResponsivenessList), (status = 403, body = Problem)))]
pub async fn responsiveness(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<ResponsivenessList>> {
    let items = statistics::responsiveness(&state, &actor).await?;
    Ok(Json(ResponsivenessList { items }))
}

/// The CSV of the filtered case list (no identities, no free text).
pub async fn cases_csv_body(
    state: &AppState,
    actor: &Actor,
    params: &Params,
) -> AppResult<(Vec<u8>, usize)> {
    crate::policy::export_cases(actor)?;
    let f = crate::web::api::cases::parse_case_filter(params)?;
    statistics::cases_csv(state, actor, f).await
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

#[utoipa::path(get, path = "/api/v1/cases.csv", tag = "cases",
    description = "The filtered case list as CSV (same filters as GET /api/v1/cases), without identities or free text. CDAOs only.",
    responses((status = 200, content_type = "text/csv", description = "the CSV"), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn cases_csv(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let (body, _) = cases_csv_body(&state, &actor, &params).await?;
    Ok(csv_response(body, "cases.csv"))
}
