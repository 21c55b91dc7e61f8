//! Statistics (SPEC §7.1 "Stats") and the CSV export of the case list.

use crate::web::api::json::Json;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::Serialize;

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
    let area_id = params.uuid("area_id", &mut e);
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

#[utoipa::path(get, operation_id = "get_stats", path = "/api/v1/stats", tag = "statistics",
    description = "Counts of reports, grouped. CDAOs: their areas (or the one chosen); organisation leads and reporters: their organisation; national analysts: England, with counts from 1 to 4 given as null and `suppressed: true`, and dates widened to whole calendar months (`from` to the first day of its month, `to` to the last), so that two overlapping ranges cannot be differenced to single out a case; `from` and `to` in the answer are the dates applied. The oversight groupings (`online_service`: the registrable domain of the online service; `prescriber_country`: ISO 3166-1 alpha-2; `cbpm_issue`, `cbpm_prescriber_type`, `cbpm_setting`: the CBPM codes; `not_known` where not given) count the overseas online prescribing and CBPM datasets, for CDAOs and analysts only.",
    params(crate::web::api::params::StatsParams),
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

#[utoipa::path(get, operation_id = "get_member_responsiveness", path = "/api/v1/stats/responsiveness", tag = "statistics",
    description = "Per member organisation: alerts received, acknowledged, acknowledged on time, median hours to acknowledge and to respond. CDAOs: alerts of their areas; national analysts: England, with counts from 1 to 4 null and `suppressed: true`, and no median over fewer than 5 alerts.",
    responses((status = 200, body = ResponsivenessList), (status = 403, body = Problem)))]
pub async fn responsiveness(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<ResponsivenessList>> {
    let items = statistics::responsiveness(&state, &actor).await?;
    Ok(Json(ResponsivenessList { items }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CdloList {
    pub items: Vec<statistics::CdloItem>,
}

#[utoipa::path(get, operation_id = "get_cdlo_cover", path = "/api/v1/stats/cdlo", tag = "statistics",
    description = "Police CD liaison (CDLO) cover: per area and police force member organisation, active member users, alerts received, the percentage acknowledged within target, median hours to acknowledge and to respond, and alerts past their respond-by date with no response; an area with no police force has one row with a null organisation, and `uncovered` marks areas with no active police member user. CDAOs: their areas (or the one chosen); national analysts: every area, by region, with counts from 1 to 4 null and `suppressed: true`, and no percentage or median over fewer than 5 alerts.",
    params(crate::web::api::params::AreaParams),
    responses((status = 200, body = CdloList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn cdlo(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<CdloList>> {
    let mut e = FieldErrors::new();
    let area_id = params.uuid("area_id", &mut e);
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    Ok(Json(CdloList {
        items: statistics::cdlo(&state, &actor, area_id).await?,
    }))
}

/// Reads `measure` (required), `area_id` and `sector`.
pub fn parse_spc_query(params: &Params) -> AppResult<statistics::SpcQuery> {
    let mut e = FieldErrors::new();
    let measure = crate::domain::report::required_code(
        &mut e,
        "measure",
        params.get("measure"),
        statistics::Measure::parse,
        "measure is required: high_dose_opioid, opioid_harm, ost_serious_harm or all_incidents",
        "measure must be high_dose_opioid, opioid_harm, ost_serious_harm or all_incidents",
    );
    let area_id = params.uuid("area_id", &mut e);
    let sector = match params
        .get("sector")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) => {
            let s = crate::domain::directory::Sector::parse(v);
            if s.is_none() {
                e.add(
                    "sector",
                    "sector must be one of the sector codes, like community_pharmacy",
                );
            }
            s
        }
    };
    match measure {
        Some(measure) if e.is_empty() => Ok(statistics::SpcQuery {
            measure,
            area_id,
            sector,
        }),
        _ => Err(AppError::Validation(e.into_vec())),
    }
}

#[utoipa::path(get, operation_id = "get_opioid_spc_chart", path = "/api/v1/stats/spc", tag = "statistics",
    description = "An XmR statistical process control chart of an opioid outcome measure, per month of the date incidents happened (complete months, up to the last 24, from the first month with an incident): `high_dose_opioid` (incidents with an opioid item at or above CDC_HIGH_DOSE_OME_MG mg oral morphine equivalent a day), `opioid_harm` (opioid incidents with moderate harm or worse), `ost_serious_harm` (incidents involving opioid substitution treatment, methadone, buprenorphine or diamorphine, with severe harm or death), `all_incidents`. As NHS England's Making Data Count draws it: the mean, and process limits at the mean ± 2.66 × the mean moving range (the lower floored at 0); `signal` is `outside_limits`, `run_above` or `run_below` (7 or more points on one side of the mean), `trend_up` or `trend_down` (6 or more points each higher or lower than the last), or null. On one area's chart its improvement initiatives for the measure recalculate the limits from their start month (`phase_start`), and each says whether a signal followed. CDAOs: their areas (or the one chosen); national analysts: England or any area, with counts from 1 to 4 null and `suppressed: true`.",
    params(crate::web::api::params::SpcParams),
    responses((status = 200, body = statistics::SpcChart), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn spc(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<statistics::SpcChart>> {
    let q = parse_spc_query(&params)?;
    Ok(Json(statistics::spc(&state, &actor, &q).await?))
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
