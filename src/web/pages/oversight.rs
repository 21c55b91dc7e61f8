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

use crate::domain::directory::{Role, Sector};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Dataset};
use crate::state::AppState;
use crate::statistics::{self, GroupBy, Measure, Population, StatsQuery};
use crate::web::api::stats::{csv_response, parse_spc_query, parse_stats_query};
use crate::web::charts::{self, Orientation, Svg, XmrDatum};
use crate::web::extract::{PageForm, Params};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::pages::cdao::{Posted, and_list, area_names, page_title, query_without};
use crate::web::pages::stats::{
    GroupSpec, Section, count_text, mg_text, section, stats_error, whole_months_text,
};
use crate::web::session::{RequestAuth, set_flash, take_flash};

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
    let id = params
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

fn opt_num<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
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

pub struct SpcRow {
    pub month: String,
    pub value: String,
    pub mean: String,
    pub lower: String,
    pub upper: String,
    pub signal: String,
    pub phase_start: bool,
}

pub struct InitiativeRow {
    pub name: String,
    pub area: String,
    pub start: String,
    pub change: String,
    pub outcome: String,
}

#[derive(Template)]
#[template(path = "stats/opioids.html")]
struct OpioidsPage {
    layout: Layout,
    flash: Option<String>,
    errors: FieldErrors,
    f: Posted,
    /// The initiative form, as posted (kept after an error).
    i: Posted,
    scope_text: String,
    suppressed: bool,
    period_text: String,
    area_options: Vec<(String, String)>,
    measure_options: Vec<(String, String)>,
    sector_options: Vec<(String, String)>,
    measure_label: String,
    high_dose_text: String,
    chart: Svg,
    rows: Vec<SpcRow>,
    csv_href: String,
    initiatives: Vec<InitiativeRow>,
    single_area: bool,
    /// The initiative form: CDAOs, for their own areas.
    can_record: bool,
    own_area_options: Vec<(String, String)>,
}

fn signal_words(s: statistics::Signal) -> &'static str {
    match s {
        statistics::Signal::OutsideLimits => "Outside the process limits",
        statistics::Signal::RunAbove => "Run above the mean",
        statistics::Signal::RunBelow => "Run below the mean",
        statistics::Signal::TrendUp => "Trend up",
        statistics::Signal::TrendDown => "Trend down",
    }
}

fn decimal(x: f64) -> String {
    format!("{x:.2}")
}

async fn opioids_page(
    state: &AppState,
    actor: &Actor,
    auth: &RequestAuth,
    params: &Params,
    initiative: (Posted, FieldErrors),
) -> AppResult<Response> {
    policy::may_see(actor, Dataset::Outcomes, None)?;
    let (posted, mut errors) = initiative;
    // The chart defaults to high-dose opioids.
    let mut query_params = Params(params.0.clone());
    if query_params
        .get("measure")
        .is_none_or(|m| m.trim().is_empty())
    {
        query_params
            .0
            .push(("measure".into(), Measure::HighDoseOpioid.code().into()));
    }
    let query = page_errors(parse_spc_query(&query_params), &mut errors)?;
    let areas = area_names(state).await?;
    let measure = query
        .as_ref()
        .map(|q| q.measure)
        .unwrap_or(Measure::HighDoseOpioid);
    let chart = match &query {
        Some(q) => Some(statistics::spc(state, actor, q).await?),
        None => None,
    };
    let area_id = query.as_ref().and_then(|q| q.area_id);
    let single_area = area_id.is_some() || (actor.role == Role::Cdao && actor.area_ids.len() == 1);
    let mut rows = Vec::new();
    let mut svg = Svg::default();
    let mut initiatives = Vec::new();
    if let Some(c) = &chart {
        let data: Vec<XmrDatum> = c
            .points
            .iter()
            .map(|p| XmrDatum {
                label: crate::web::pages::stats::short_month(&p.month),
                value: p.value,
                mean: p.mean,
                upper: p.upper,
                lower: p.lower,
                signal: p.signal.map(|s| signal_words(s).to_lowercase()),
                phase_start: p.phase_start,
            })
            .collect();
        svg = charts::render_xmr(
            "chart-spc",
            measure.label(),
            "Incidents a month",
            "incident",
            &data,
        );
        rows = c
            .points
            .iter()
            .map(|p| SpcRow {
                month: statistics::label(GroupBy::Month, &p.month),
                value: count_text(p.value),
                mean: decimal(p.mean),
                lower: decimal(p.lower),
                upper: decimal(p.upper),
                signal: p
                    .signal
                    .map(|s| signal_words(s).to_string())
                    .unwrap_or_default(),
                phase_start: p.phase_start,
            })
            .collect();
        initiatives = c
            .initiatives
            .iter()
            .map(|i| InitiativeRow {
                name: i.initiative.name.clone(),
                area: i.initiative.area_name.clone(),
                start: i.initiative.start_month.format("%B %Y").to_string(),
                change: i.initiative.change.clone(),
                outcome: i.outcome.clone().unwrap_or_else(|| {
                    "Choose its area to see the chart recalculated from its start.".into()
                }),
            })
            .collect();
    }
    let keep = query_without(&query_params, &[]);
    let can_record = policy::may_record_initiatives(actor);
    let mut own_area_options: Vec<(String, String)> = actor
        .area_ids
        .iter()
        .filter_map(|id| areas.get(id).map(|n| (id.to_string(), n.clone())))
        .collect();
    own_area_options.sort_by(|a, b| a.1.cmp(&b.1));
    let mut sector_options = vec![(String::new(), "All sectors".to_string())];
    sector_options.extend(
        Sector::ALL
            .iter()
            .filter(|s| s.fits(crate::domain::directory::OrgKind::Provider))
            .map(|s| (s.code().to_string(), s.label().to_string())),
    );
    let mut i = posted;
    if i.get("initiative-measure").is_empty() {
        i.fill("initiative-measure", measure.code());
    }
    if i.get("initiative-area_id").is_empty()
        && let Some(a) = area_id
    {
        i.fill("initiative-area_id", a.to_string());
    }
    let layout = for_actor(
        actor,
        page_title("Opioid outcomes over time", !errors.is_empty()),
        "/statistics",
    )
    .with_back("/statistics");
    page_with_status(
        status_of(&errors),
        &OpioidsPage {
            layout,
            flash: take_flash(state, auth).await?,
            f: Posted(query_params.0.clone()),
            i,
            scope_text: scope_text(actor, area_id, &areas),
            suppressed: policy::suppress_small_numbers(actor),
            period_text: String::new(),
            area_options: area_options(actor, &areas),
            measure_options: Measure::options(),
            sector_options,
            measure_label: measure.label().to_string(),
            high_dose_text: format!(
                "{} mg oral morphine equivalent a day or more",
                mg_text(state.config.high_dose_ome_mg)
            ),
            chart: svg,
            rows,
            csv_href: format!("/statistics/opioids.csv?{keep}"),
            initiatives,
            single_area,
            can_record,
            own_area_options,
            errors,
        },
    )
}

pub async fn opioids(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    opioids_page(
        &state,
        &actor,
        &auth,
        &params,
        (Posted::default(), FieldErrors::new()),
    )
    .await
}

pub async fn opioids_csv(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let q = parse_spc_query(&params)?;
    let chart = statistics::spc(&state, &actor, &q).await?;
    let rows: Vec<Vec<String>> = chart
        .points
        .iter()
        .map(|p| {
            vec![
                p.month.clone(),
                opt_num(p.value),
                p.mean.to_string(),
                p.lower.to_string(),
                p.upper.to_string(),
                p.signal.map(|s| s.code().to_string()).unwrap_or_default(),
                p.suppressed.to_string(),
                p.phase_start.to_string(),
            ]
        })
        .collect();
    let body = statistics::csv_of(
        &[
            "month",
            "value",
            "mean",
            "lower",
            "upper",
            "signal",
            "suppressed",
            "limits_recalculated",
        ],
        &rows,
    )?;
    Ok(csv_response(
        body,
        &format!("opioid-outcomes-{}.csv", q.measure.code()),
    ))
}

/// Records an improvement initiative (a CDAO of the area), then shows its area's chart.
pub async fn record_initiative(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Posted(form);
    let input = statistics::InitiativeInput {
        name: f.opt("initiative-name"),
        area_id: f.opt("initiative-area_id"),
        measure: f.opt("initiative-measure"),
        start_month: f.opt("initiative-start_month"),
        change: f.opt("initiative-change"),
    };
    match statistics::record_initiative(&state, &actor, &input).await {
        Ok(i) => {
            set_flash(
                &state,
                &auth,
                &format!(
                    "Initiative recorded: the chart now recalculates its limits from {}.",
                    i.start_month.format("%B %Y")
                ),
            )
            .await?;
            let mut s = url::form_urlencoded::Serializer::new(String::new());
            s.append_pair("measure", &i.measure);
            s.append_pair("area_id", &i.area_id.to_string());
            Ok(redirect(&format!(
                "/statistics/opioids?{}#initiatives",
                s.finish()
            )))
        }
        Err(AppError::Validation(e)) => {
            let mut errors = FieldErrors::new();
            for err in e {
                errors.add(format!("initiative-{}", err.field), err.message);
            }
            let mut params = Params(vec![]);
            if let Some(m) = f
                .opt("initiative-measure")
                .filter(|m| Measure::parse(m).is_some())
            {
                params.0.push(("measure".into(), m));
            }
            opioids_page(&state, &actor, &auth, &params, (f, errors)).await
        }
        Err(e) => Err(e),
    }
}
