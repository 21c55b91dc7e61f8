//! Police CD liaison (CDLO) cover: for each police force in each area, its active liaison
//! officers, the alerts it received, how many were acknowledged on time, the hours to
//! acknowledge and to respond, and the overdue ones; a force with no officer is flagged. A page
//! and a CSV.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::{area_options, opt_num, page_errors, scope_text, status_of};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Dataset};
use crate::state::AppState;
use crate::statistics;
use crate::web::api::stats::csv_response;
use crate::web::charts::{self, Orientation, Svg};
use crate::web::extract::Params;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::page_with_status;
use crate::web::pages::cdao::{Posted, and_list, area_names, page_title, query_without};
use crate::web::pages::stats::count_text;

pub struct CdloRow {
    pub region: String,
    pub area: String,
    pub force: String,
    pub active_users: String,
    pub alerts: String,
    pub on_time: String,
    pub ack_hours: String,
    pub respond_hours: String,
    pub overdue: String,
    pub uncovered: bool,
}

#[derive(Template)]
#[template(path = "stats/cdlo.html")]
struct CdloPage {
    layout: Layout,
    errors: FieldErrors,
    f: Posted,
    scope_text: String,
    suppressed: bool,
    period_text: String,
    area_options: Vec<(String, String)>,
    chart: Svg,
    rows: Vec<CdloRow>,
    /// The areas with no active police member user, in words (empty: none).
    uncovered_text: String,
    csv_href: String,
}

fn hours(h: Option<f64>) -> String {
    h.map(|h| format!("{h:.1} hours"))
        .unwrap_or_else(|| "—".into())
}

fn cdlo_query(params: &Params) -> AppResult<Option<Uuid>> {
    let mut e = FieldErrors::new();
    let id = params.uuid("area_id", &mut e);
    if e.is_empty() {
        Ok(id)
    } else {
        Err(AppError::Validation(e.into_vec()))
    }
}

fn cdlo_rows(items: &[statistics::CdloItem]) -> Vec<CdloRow> {
    items
        .iter()
        .map(|i| CdloRow {
            region: i.region.clone(),
            area: i.area_name.clone(),
            force: i
                .organisation_name
                .clone()
                .unwrap_or_else(|| "No police force is a member of this area".into()),
            active_users: count_text(i.active_users),
            alerts: count_text(i.alerts),
            on_time: match (i.acknowledged_on_time_pct, i.alerts) {
                (Some(p), _) => format!("{p:.0}%"),
                (None, Some(0)) => "—".into(),
                (None, _) => "fewer than 5 alerts".into(),
            },
            ack_hours: hours(i.median_hours_to_acknowledge),
            respond_hours: hours(i.median_hours_to_respond),
            overdue: count_text(i.overdue),
            uncovered: i.uncovered,
        })
        .collect()
}

pub async fn cdlo(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::may_see(&actor, Dataset::Members, None)?;
    let mut errors = FieldErrors::new();
    let area_id = page_errors(cdlo_query(&params), &mut errors)?.flatten();
    let areas = area_names(&state).await?;
    let items = if errors.is_empty() {
        statistics::cdlo(&state, &actor, area_id).await?
    } else {
        vec![]
    };
    let data: Vec<charts::Datum> = items
        .iter()
        .filter(|i| i.organisation_id.is_some())
        .map(|i| {
            charts::Datum::new(
                format!(
                    "{} ({})",
                    i.organisation_name.clone().unwrap_or_default(),
                    i.area_name
                ),
                i.active_users,
            )
        })
        .collect();
    let chart = charts::render(
        &charts::ChartSpec {
            id: "chart-cdlo",
            title: "Active member users of each police force",
            item_axis: "Police force (area)",
            count_axis: "Active member users",
            unit: "user",
            orientation: Orientation::Horizontal,
        },
        &data,
    );
    let mut uncovered: Vec<String> = items
        .iter()
        .filter(|i| i.uncovered)
        .map(|i| i.area_name.clone())
        .collect();
    uncovered.dedup();
    let keep = query_without(&params, &[]);
    let layout = for_actor(
        &actor,
        page_title(
            "Police controlled drugs liaison officer (CDLO) cover",
            !errors.is_empty(),
        ),
        "/statistics",
    )
    .with_back("/statistics");
    page_with_status(
        status_of(&errors),
        &CdloPage {
            layout,
            f: Posted(params.0.clone()),
            scope_text: scope_text(&actor, area_id, &areas),
            suppressed: policy::suppress_small_numbers(&actor),
            period_text: String::new(),
            area_options: area_options(&actor, &areas),
            chart,
            rows: cdlo_rows(&items),
            uncovered_text: if uncovered.is_empty() {
                String::new()
            } else {
                format!(
                    "No police user is active in {}. Alerts to the police there reach nobody.",
                    and_list(&uncovered)
                )
            },
            csv_href: if keep.is_empty() {
                "/statistics/cdlo.csv".into()
            } else {
                format!("/statistics/cdlo.csv?{keep}")
            },
            errors,
        },
    )
}

pub async fn cdlo_csv(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let area_id = cdlo_query(&params)?;
    let items = statistics::cdlo(&state, &actor, area_id).await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            vec![
                i.region.clone(),
                i.area_name.clone(),
                i.organisation_name.clone().unwrap_or_default(),
                opt_num(i.active_users),
                opt_num(i.alerts),
                opt_num(i.acknowledged_on_time_pct),
                opt_num(i.median_hours_to_acknowledge),
                opt_num(i.median_hours_to_respond),
                opt_num(i.overdue),
                i.uncovered.to_string(),
                i.suppressed.to_string(),
            ]
        })
        .collect();
    let body = statistics::csv_of(
        &[
            "region",
            "area",
            "police_force",
            "active_users",
            "alerts",
            "acknowledged_on_time_pct",
            "median_hours_to_acknowledge",
            "median_hours_to_respond",
            "overdue",
            "no_active_police_user_in_area",
            "suppressed",
        ],
        &rows,
    )?;
    Ok(csv_response(body, "cdlo-cover.csv"))
}

// =============================================================================================
// Opioid outcomes: XmR charts and improvement initiatives
// =============================================================================================
