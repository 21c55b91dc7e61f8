//! Opioid outcomes as XmR charts (statistical process control), with the improvement
//! initiatives a team records against them, as a page and a CSV.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::{area_options, opt_num, page_errors, scope_text, status_of};
use crate::domain::directory::{Role, Sector};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, Dataset};
use crate::state::AppState;
use crate::statistics::{self, GroupBy, Measure};
use crate::web::api::stats::{csv_response, parse_spc_query};
use crate::web::charts::{self, Svg, XmrDatum};
use crate::web::extract::{PageForm, Params};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::pages::cdao::{Posted, area_names, page_title, query_without};
use crate::web::pages::stats::{count_text, mg_text};
use crate::web::session::{RequestAuth, set_flash, take_flash};

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
