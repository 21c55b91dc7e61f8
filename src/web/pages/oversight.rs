//! The oversight pages the regulators ask for (issue 12), for the lead CDAO team (their
//! areas) and national analysts (England, suppressed, whole months): the overseas online
//! prescribing and CBPM datasets, police CD liaison (CDLO) cover, and opioid outcomes as XmR
//! charts with improvement initiatives. Each chart is server-drawn SVG beside its data table,
//! with a CSV; every figure comes from `crate::statistics`, which asks `policy`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::domain::directory::Role;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Dataset};
use crate::state::AppState;
use crate::statistics::{self, GroupBy, Population, StatsQuery};
use crate::web::api::stats::parse_stats_query;
use crate::web::charts::Orientation;
use crate::web::extract::Params;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::page_with_status;
use crate::web::pages::cdao::{Posted, and_list, area_names, page_title, query_without};
use crate::web::pages::stats::{GroupSpec, Section, section, stats_error, whole_months_text};

mod cdlo;
mod opioids;
pub use cdlo::{cdlo, cdlo_csv};
pub use opioids::{opioids, opioids_csv, record_initiative};

/// The areas an actor may choose between on these pages: a CDAO's own (when more than one),
/// every area for an analyst. The first option is "all".
fn area_options(actor: &Actor, areas: &HashMap<Uuid, String>) -> Vec<(String, String)> {
    let mut own: Vec<(String, String)> = match actor.role {
        Role::Cdao if actor.area_ids.len() > 1 => actor
            .area_ids
            .iter()
            .filter_map(|id| areas.get(id).map(|n| (id.to_string(), n.clone())))
            .collect(),
        Role::Analyst => areas
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone()))
            .collect(),
        _ => return vec![],
    };
    own.sort_by(|a, b| a.1.cmp(&b.1));
    let all = if actor.role == Role::Analyst {
        "England"
    } else {
        "All your areas"
    };
    let mut out = vec![(String::new(), all.to_string())];
    out.extend(own);
    out
}

/// Whose figures these are, for the caption.
fn scope_text(actor: &Actor, area_id: Option<Uuid>, areas: &HashMap<Uuid, String>) -> String {
    match (area_id.and_then(|a| areas.get(&a)), actor.role) {
        (Some(name), _) => name.clone(),
        (None, Role::Analyst) => "England".into(),
        (None, _) => {
            let mut names: Vec<String> = actor
                .area_ids
                .iter()
                .filter_map(|a| areas.get(a).cloned())
                .collect();
            names.sort();
            and_list(&names)
        }
    }
}

/// A query's problems as the page shows them (and the query, when there are none).
fn page_errors<T>(r: AppResult<T>, errors: &mut FieldErrors) -> AppResult<Option<T>> {
    match r {
        Ok(q) => Ok(Some(q)),
        Err(AppError::Validation(e)) => {
            for err in e {
                let (field, message) = stats_error(&err.field, &err.message);
                errors.add(field, message);
            }
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn status_of(errors: &FieldErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

// =============================================================================================
// The datasets: overseas online prescribing and CBPM
// =============================================================================================

#[derive(Template)]
#[template(path = "stats/dataset.html")]
struct DatasetPage {
    layout: Layout,
    errors: FieldErrors,
    f: Posted,
    action: &'static str,
    heading: &'static str,
    intro: Vec<&'static str>,
    scope_text: String,
    suppressed: bool,
    period_text: String,
    area_options: Vec<(String, String)>,
    total_text: String,
    sections: Vec<Section>,
}

const ONLINE_GROUPS: &[GroupSpec] = &[
    GroupSpec {
        group: GroupBy::Month,
        heading: "Reports of online prescribing from outside the UK by month",
        item: "Month",
        orientation: Orientation::Vertical,
    },
    GroupSpec {
        group: GroupBy::OnlineService,
        heading: "By online service (its web address)",
        item: "Online service",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::PrescriberCountry,
        heading: "By the prescriber's country",
        item: "Country",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::Drug,
        heading: "By drug",
        item: "Drug",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::Schedule,
        heading: "By schedule of the drugs",
        item: "Schedule",
        orientation: Orientation::Horizontal,
    },
];

const CBPM_GROUPS: &[GroupSpec] = &[
    GroupSpec {
        group: GroupBy::Month,
        heading: "Reports about cannabis-based products by month",
        item: "Month",
        orientation: Orientation::Vertical,
    },
    GroupSpec {
        group: GroupBy::CbpmIssue,
        heading: "By issue",
        item: "Issue",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::CbpmPrescriberType,
        heading: "By who prescribed",
        item: "Prescriber",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::CbpmSetting,
        heading: "By setting",
        item: "Setting",
        orientation: Orientation::Horizontal,
    },
];

async fn dataset_page(
    state: &AppState,
    actor: &Actor,
    params: &Params,
    population: Population,
) -> AppResult<Response> {
    let (action, heading, intro, groups): (_, _, Vec<&'static str>, _) = match population {
        Population::Cbpm => (
            "/statistics/cbpm",
            "Cannabis-based products for medicinal use (CBPM)",
            vec![
                "CBPMs have been Schedule 2 controlled drugs since 1 November 2018, and only doctors on the GMC Specialist Register may prescribe them. The CQC asks for accurate and up-to-date CBPM data as models of care change, including non-medical prescribers.",
                "These are reports in the CBPM category, or with CBPM details, by what they were about. \"Not known\" means the reporter did not say.",
            ],
            CBPM_GROUPS,
        ),
        _ => (
            "/statistics/online-prescribing",
            "Online prescribing from outside the UK",
            vec![
                "There is no national dataset of controlled drugs (Schedules 4 and 5 included) prescribed online from outside the UK. These are the reports of it, by the online service (counted by the domain of its web address, whatever page was given), the prescriber's country, and the drugs.",
                "The prescriber's registration is never counted here: it is protected like a person's identity. \"Not known\" means the reporter did not say.",
            ],
            ONLINE_GROUPS,
        ),
    };
    policy::may_see(actor, Dataset::Oversight, None)?;
    let suppress = policy::suppress_small_numbers(actor);
    let mut errors = FieldErrors::new();
    let query = page_errors(parse_stats_query(params, GroupBy::Month), &mut errors)?;
    let areas = area_names(state).await?;
    let mut sections = Vec::new();
    let mut period_text = String::new();
    let mut total_text = String::new();
    if let Some(q) = &query {
        policy::may_see(actor, Dataset::Oversight, q.area_id)?;
        let mut keep = query_without(params, &["group_by", "dataset"]);
        if !keep.is_empty() {
            keep.push('&');
        }
        keep.push_str(&format!("dataset={}", population.code()));
        for spec in groups {
            let stats = statistics::stats(
                state,
                actor,
                &StatsQuery {
                    group: spec.group,
                    period: q.period.clone(),
                    area_id: q.area_id,
                    population,
                },
            )
            .await?;
            if spec.group == GroupBy::Month {
                if suppress {
                    period_text = whole_months_text(stats.from, stats.to);
                }
                let shown: i64 = stats.items.iter().filter_map(|i| i.count).sum();
                let hidden = stats.items.iter().any(|i| i.suppressed);
                total_text = match (shown, hidden) {
                    (0, false) => "There are no reports in this period.".into(),
                    (n, false) => format!("{n} report{} in this period.", plural(n)),
                    (n, true) => format!(
                        "{n} report{} in this period, not counting months with fewer than 5.",
                        plural(n)
                    ),
                };
            }
            sections.push(section(spec, &stats, &keep));
        }
    }
    let layout = for_actor(
        actor,
        page_title(heading, !errors.is_empty()),
        "/statistics",
    )
    .with_back("/statistics");
    page_with_status(
        status_of(&errors),
        &DatasetPage {
            layout,
            f: Posted(params.0.clone()),
            action,
            heading,
            intro,
            scope_text: scope_text(actor, query.as_ref().and_then(|q| q.area_id), &areas),
            suppressed: suppress,
            period_text,
            area_options: area_options(actor, &areas),
            total_text,
            sections,
            errors,
        },
    )
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub async fn online_prescribing(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    dataset_page(&state, &actor, &params, Population::OnlineSupply).await
}

pub async fn cbpm(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    dataset_page(&state, &actor, &params, Population::Cbpm).await
}

// =============================================================================================
// Police CD liaison (CDLO) cover
// =============================================================================================

fn opt_num<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}
