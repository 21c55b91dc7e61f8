//! Statistics (SPEC §3 "aggregate statistics", §6): a CDAO sees their areas, an organisation
//! lead or reporter their organisation, a national analyst the whole of England with counts
//! from 1 to 4 shown only as "fewer than 5". Each grouping is a server-drawn SVG chart with
//! its data table (the accessible source of the figures) and a CSV. CDAOs also see which
//! organisations of their areas have filed their quarterly occurrence returns.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::domain::directory::Role;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;
use crate::statistics::{self, GroupBy, HighlightCounts, StatItem, Stats, StatsQuery};
use crate::web::api::stats::{csv_response, parse_stats_query};
use crate::web::charts::{self, ChartSpec, Datum, Orientation, Svg};
use crate::web::extract::Params;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::page_with_status;
use crate::web::pages::cdao::{Posted, and_list, area_names, own_area_names, page_title};

/// How many drugs the drug chart shows.
const TOP_DRUGS: usize = 15;

pub struct StatRow {
    pub label_text: String,
    pub count_text: String,
}

pub struct Section {
    pub id: String,
    pub heading: String,
    pub item_header: String,
    pub chart: Svg,
    /// When suppression leaves the chart with nothing to draw, the chart is left out and this
    /// says why (the table shows what can be shown).
    pub chart_note: String,
    pub rows: Vec<StatRow>,
    pub note: String,
    pub csv_href: String,
}

pub struct Highlight {
    pub title: String,
    pub count_text: String,
    pub description: String,
}

pub struct ReturnCell {
    pub cell_text: String,
    pub colour: String,
}

pub struct ReturnRow {
    pub organisation: String,
    pub cells: Vec<ReturnCell>,
}

#[derive(Template)]
#[template(path = "stats/statistics.html")]
struct StatisticsPage {
    layout: Layout,
    errors: FieldErrors,
    f: Posted,
    scope_text: String,
    suppressed: bool,
    /// For an analyst who chose dates: the whole months counted, in words.
    period_text: String,
    area_options: Vec<(String, String)>,
    highlights: Vec<Highlight>,
    sections: Vec<Section>,
    show_returns: bool,
    quarter_headers: Vec<String>,
    returns: Vec<ReturnRow>,
    returns_summary: String,
    /// Member organisations' responsiveness to alerts (CDAOs: their areas; analysts: national).
    responsiveness: Vec<Vec<String>>,
    /// Links to the oversight pages (CDAOs and analysts).
    show_oversight: bool,
    /// A link to the prescriber look-up (CDAOs).
    show_prescribers: bool,
}

pub(crate) fn count_text(n: Option<i64>) -> String {
    match n {
        Some(n) => n.to_string(),
        None => "fewer than 5".into(),
    }
}

pub(crate) fn short_month(key: &str) -> String {
    NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
        .map(|d| d.format("%b %Y").to_string())
        .unwrap_or_else(|_| key.to_string())
}

/// The `(year, quarter)` of today in the UK and the three before it, oldest first.
fn last_quarters(state: &AppState) -> Vec<(i32, i16)> {
    let today = crate::reports::uk_today(state);
    let mut q = (
        today.year(),
        i16::try_from(today.month0() / 3 + 1).unwrap_or(4),
    );
    let mut out = vec![q];
    for _ in 0..3 {
        q = if q.1 == 1 {
            (q.0 - 1, 4)
        } else {
            (q.0, q.1 - 1)
        };
        out.push(q);
    }
    out.reverse();
    out
}

fn quarter_text((year, quarter): (i32, i16)) -> String {
    let months = match quarter {
        1 => "January to March",
        2 => "April to June",
        3 => "July to September",
        _ => "October to December",
    };
    format!("Q{quarter} {year} ({months})")
}

pub(crate) struct GroupSpec {
    pub group: GroupBy,
    pub heading: &'static str,
    pub item: &'static str,
    pub orientation: Orientation,
}

const GROUPS: &[GroupSpec] = &[
    GroupSpec {
        group: GroupBy::Month,
        heading: "Reports by month",
        item: "Month",
        orientation: Orientation::Vertical,
    },
    GroupSpec {
        group: GroupBy::Category,
        heading: "Reports by category",
        item: "Category",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::Schedule,
        heading: "Reports by schedule of the drugs involved",
        item: "Schedule",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::Sector,
        heading: "Reports by sector of the reporting organisation",
        item: "Sector",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::Harm,
        heading: "Incidents by level of harm",
        item: "Level of harm",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::Drug,
        heading: "The 15 drugs most often reported",
        item: "Drug",
        orientation: Orientation::Horizontal,
    },
];

/// National breakdowns (analysts; CDAOs holding more than one area see theirs by area).
const PLACES: &[GroupSpec] = &[
    GroupSpec {
        group: GroupBy::Region,
        heading: "Reports by NHS England region",
        item: "Region",
        orientation: Orientation::Horizontal,
    },
    GroupSpec {
        group: GroupBy::Area,
        heading: "Reports by local intelligence network area",
        item: "Area",
        orientation: Orientation::Horizontal,
    },
];

/// The items of a grouping, with suppressed counts last and in alphabetical order: the
/// query sorts by count, and that order would tell which suppressed count is larger.
pub(crate) fn neutral_order(stats: &Stats, group: GroupBy) -> Vec<StatItem> {
    if group == GroupBy::Month {
        return stats.items.clone();
    }
    let (mut hidden, mut shown): (Vec<StatItem>, Vec<StatItem>) =
        stats.items.iter().cloned().partition(|i| i.suppressed);
    hidden.sort_by(|a, b| a.label.cmp(&b.label));
    shown.extend(hidden);
    shown
}

pub(crate) fn section(spec: &GroupSpec, stats: &Stats, keep: &str) -> Section {
    let mut items = neutral_order(stats, spec.group);
    let mut note = String::new();
    if spec.group == GroupBy::Drug && items.len() > TOP_DRUGS {
        note = format!(
            "{} other drugs were reported less often; the CSV has them all.",
            items.len() - TOP_DRUGS
        );
        items.truncate(TOP_DRUGS);
    }
    let data: Vec<Datum> = items
        .iter()
        .map(|i| {
            let label = if spec.group == GroupBy::Month {
                short_month(&i.key)
            } else {
                i.label.clone()
            };
            Datum::new(label, i.count)
        })
        .collect();
    let id = format!("chart-{}", spec.group.code());
    let chart = charts::render(
        &ChartSpec {
            id: &id,
            title: spec.heading,
            item_axis: spec.item,
            count_axis: if spec.group == GroupBy::Harm {
                "Number of incidents"
            } else {
                "Number of reports"
            },
            unit: if spec.group == GroupBy::Harm {
                "incident"
            } else {
                "report"
            },
            orientation: spec.orientation,
        },
        &data,
    );
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("group_by", spec.group.code());
    let mut csv_href = format!("/statistics.csv?{}", s.finish());
    if !keep.is_empty() {
        csv_href.push('&');
        csv_href.push_str(keep);
    }
    let chart_note = if !items.is_empty() && items.iter().all(|i| i.count.is_none()) {
        "No chart: every count here is from 1 to 4, which national figures do not show, so the chart would be empty. The table lists what there is."
            .to_string()
    } else {
        String::new()
    };
    Section {
        id: spec.group.code().to_string(),
        heading: spec.heading.into(),
        item_header: spec.item.into(),
        chart,
        chart_note,
        rows: items
            .iter()
            .map(|i| StatRow {
                label_text: i.label.clone(),
                count_text: count_text(i.count),
            })
            .collect(),
        note,
        csv_href,
    }
}

/// What the statistics page's form says about a bad value.
pub(crate) fn stats_error(field: &str, message: &str) -> (String, String) {
    let text = match field {
        "from" => "From must be a real date, like 2026-01-01".to_string(),
        "to" => "To must be a real date, like 2026-12-31".to_string(),
        "area_id" => "Select one of your areas".to_string(),
        _ => message.to_string(),
    };
    (field.to_string(), text)
}

pub async fn statistics(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    // Whether the role sees statistics at all (403 for those who do not).
    policy::may_see(&actor, policy::Dataset::Reports, None)?;
    let suppress = policy::suppress_small_numbers(&actor);
    let mut errors = FieldErrors::new();
    let query = match parse_stats_query(&params, GroupBy::Category) {
        Ok(q) => Some(q),
        Err(AppError::Validation(e)) => {
            for err in e {
                let (field, message) = stats_error(&err.field, &err.message);
                errors.add(field, message);
            }
            None
        }
        Err(e) => return Err(e),
    };
    let areas = area_names(&state).await?;
    let scope = match &query {
        Some(q) => Some(policy::stats_areas(&actor, q.area_id)?),
        None => None,
    };
    let scope_text = match (&scope, actor.role) {
        (_, Role::Analyst) => "England".to_string(),
        (Some(Some(ids)), _) => {
            let mut names: Vec<String> = ids.iter().filter_map(|i| areas.get(i).cloned()).collect();
            names.sort();
            and_list(&names)
        }
        (None, Role::Cdao) => and_list(&own_area_names(&actor, &areas)),
        _ => actor
            .organisation_name
            .clone()
            .unwrap_or_else(|| "Your organisation".into()),
    };
    let keep = crate::web::pages::cdao::query_without(&params, &["group_by"]);
    let mut highlights = Vec::new();
    let mut sections = Vec::new();
    let mut period_text = String::new();
    if let Some(q) = &query {
        let at = |group: GroupBy| StatsQuery {
            group,
            period: q.period.clone(),
            area_id: q.area_id,
            population: statistics::Population::All,
        };
        let qs: Vec<StatsQuery> = GROUPS.iter().map(|g| at(g.group)).collect();
        let (h, month, category, schedule, sector, harm, drug) = tokio::try_join!(
            statistics::highlights(&state, &actor, q.area_id, &q.period),
            statistics::stats(&state, &actor, &qs[0]),
            statistics::stats(&state, &actor, &qs[1]),
            statistics::stats(&state, &actor, &qs[2]),
            statistics::stats(&state, &actor, &qs[3]),
            statistics::stats(&state, &actor, &qs[4]),
            statistics::stats(&state, &actor, &qs[5]),
        )?;
        if suppress {
            period_text = whole_months_text(month.from, month.to);
        }
        highlights = highlight_cards(&h, state.config.high_dose_ome_mg);
        for (spec, stats) in GROUPS
            .iter()
            .zip([&month, &category, &schedule, &sector, &harm, &drug])
        {
            sections.push(section(spec, stats, &keep));
        }
        // Where the reports come from: England by region and by area for analysts (suppressed
        // like every national figure); a CDAO of several areas, theirs by area.
        let places: &[GroupSpec] = match actor.role {
            Role::Analyst => PLACES,
            Role::Cdao if actor.area_ids.len() > 1 && q.area_id.is_none() => &PLACES[1..],
            _ => &[],
        };
        for spec in places {
            let stats = statistics::stats(&state, &actor, &at(spec.group)).await?;
            sections.push(section(spec, &stats, &keep));
        }
    }
    // How member organisations respond to alerts (CQC asks every police force to check its
    // CD liaison officer cover).
    let responsiveness = match policy::may_see(&actor, policy::Dataset::Members, None) {
        Ok(()) => statistics::responsiveness(&state, &actor)
            .await?
            .into_iter()
            .map(|r| {
                let hours = |h: Option<f64>| {
                    h.map(|h| format!("{h:.1} hours"))
                        .unwrap_or_else(|| "—".into())
                };
                vec![
                    r.organisation_name,
                    crate::domain::directory::Sector::parse(&r.sector)
                        .map(|x| x.label())
                        .unwrap_or("")
                        .to_string(),
                    count_text(r.alerts_received),
                    match (r.acknowledged_on_time, r.alerts_received) {
                        (Some(on_time), Some(received)) => format!("{on_time} of {received}"),
                        (None, _) | (_, None) => "fewer than 5".into(),
                    },
                    hours(r.median_hours_to_acknowledge),
                    hours(r.median_hours_to_respond),
                ]
            })
            .collect(),
        Err(_) => vec![],
    };
    // Quarterly occurrence returns: the CDAO's areas (or the one chosen).
    let show_returns = actor.role == Role::Cdao;
    let quarters = last_quarters(&state);
    let mut returns = Vec::new();
    let mut returns_summary = String::new();
    if show_returns {
        let return_areas: Vec<Uuid> = match &scope {
            Some(Some(ids)) => ids.clone(),
            _ => actor.area_ids.clone(),
        };
        let since = quarters.first().map(|q| q.0).unwrap_or(2026);
        let status = statistics::return_status(&state, &actor, &return_areas, since).await?;
        let latest = quarters.last().copied();
        let mut returned_latest = 0;
        for o in &status {
            let cells = quarters
                .iter()
                .map(|(y, q)| {
                    match o
                        .returns
                        .iter()
                        .rev()
                        .find(|(ry, rq, _)| ry == y && rq == q)
                    {
                        Some((_, _, true)) => ReturnCell {
                            cell_text: "Nil return".into(),
                            colour: "blue".into(),
                        },
                        Some(_) => ReturnCell {
                            cell_text: "Returned".into(),
                            colour: "green".into(),
                        },
                        None => ReturnCell {
                            cell_text: "Not returned".into(),
                            colour: "grey".into(),
                        },
                    }
                })
                .collect();
            if let Some((y, q)) = latest
                && o.returns.iter().any(|(ry, rq, _)| *ry == y && *rq == q)
            {
                returned_latest += 1;
            }
            returns.push(ReturnRow {
                organisation: o.organisation_name.clone(),
                cells,
            });
        }
        if let Some(l) = latest {
            returns_summary = format!(
                "{returned_latest} of {} organisation{} returned for {}.",
                status.len(),
                if status.len() == 1 { " has" } else { "s have" },
                quarter_text(l)
            );
        }
    }
    let mut area_options = Vec::new();
    if actor.role == Role::Cdao && actor.area_ids.len() > 1 {
        area_options.push((String::new(), "All your areas".to_string()));
        let mut own: Vec<(String, String)> = actor
            .area_ids
            .iter()
            .filter_map(|id| areas.get(id).map(|n| (id.to_string(), n.clone())))
            .collect();
        own.sort_by(|a, b| a.1.cmp(&b.1));
        area_options.extend(own);
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let layout = for_actor(
        &actor,
        page_title("Statistics", !errors.is_empty()),
        "/statistics",
    );
    page_with_status(
        status,
        &StatisticsPage {
            layout,
            errors,
            f: Posted(params.0.clone()),
            scope_text,
            suppressed: suppress,
            period_text,
            area_options,
            highlights,
            sections,
            show_returns,
            quarter_headers: quarters.into_iter().map(quarter_text).collect(),
            returns,
            returns_summary,
            responsiveness,
            show_oversight: policy::may_see(&actor, policy::Dataset::Oversight, None).is_ok(),
            show_prescribers: crate::access::cdao_areas(&actor).is_ok(),
        },
    )
}

fn highlight_cards(h: &HighlightCounts, high_dose_mg: f64) -> Vec<Highlight> {
    let card = |title: &str, n: Option<i64>, description: &str| Highlight {
        title: title.into(),
        count_text: count_text(n),
        description: description.into(),
    };
    vec![
        card("Reports", h.total, "Incidents and persons of concern."),
        card(
            "Online prescribing from outside the UK",
            h.overseas_online_prescribing,
            "Reports in this category (Schedules 4 and 5 included).",
        ),
        card(
            "Cannabis-based products (CBPM)",
            h.cbpm,
            "Reports about cannabis-based products for medicinal use.",
        ),
        card(
            "High-dose opioids",
            h.high_dose_opioids,
            &format!(
                "Reports with an opioid dose of {} mg oral morphine equivalent a day or more.",
                mg_text(high_dose_mg)
            ),
        ),
        card(
            "Persons of concern",
            h.persons_of_concern,
            "Reports about a person rather than an incident.",
        ),
    ]
}

/// A dose in mg without a needless ".0".
pub fn mg_text(mg: f64) -> String {
    if mg.fract() == 0.0 {
        format!("{mg:.0}")
    } else {
        format!("{mg}")
    }
}

/// "1 October 2026 to 31 October 2026": the whole months an analyst's figures cover.
pub fn whole_months_text(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    let d = |x: NaiveDate| x.format("%-d %B %Y").to_string();
    match (from, to) {
        (Some(f), Some(t)) => format!("{} to {}", d(f), d(t)),
        (Some(f), None) => format!("{} onwards", d(f)),
        (None, Some(t)) => format!("up to {}", d(t)),
        (None, None) => String::new(),
    }
}

/// One grouping as CSV (labels and counts; suppressed counts left empty for analysts).
pub async fn csv(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let q = parse_stats_query(&params, GroupBy::Category)?;
    let stats = statistics::stats(&state, &actor, &q).await?;
    let mut w = crate::csv_export::SafeWriter::new();
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record(["key", "label", "count", "suppressed"])
        .map_err(io)?;
    for i in &neutral_order(&stats, q.group) {
        w.write_record([
            i.key.clone(),
            i.label.clone(),
            i.count.map(|n| n.to_string()).unwrap_or_default(),
            i.suppressed.to_string(),
        ])
        .map_err(io)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    Ok(csv_response(
        body,
        &format!("statistics-by-{}.csv", q.group.code()),
    ))
}
