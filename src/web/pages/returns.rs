//! Quarterly occurrence returns (SPEC §4), the organisation CD lead's pages: the last eight
//! quarters with what was filed for each, and the form that files a return, a nil return or a
//! correction. They call `crate::returns::file`, as the API does.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Datelike;
use serde_json::{Map, Value};

use crate::domain::report::IncidentCategory;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::records::OccurrenceReturn;
use crate::reports;
use crate::returns::{self, ReturnInput};
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_date;
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::pages::reports::{Posted, Problems, Shown, show_errors, title};
use crate::web::session::{RequestAuth, set_flash, take_flash};

/// How many quarters the list shows: the current one and the seven before it.
const QUARTERS_SHOWN: usize = 8;

const MONTHS: [&str; 4] = [
    "January to March",
    "April to June",
    "July to September",
    "October to December",
];

/// "July to September 2026".
pub fn quarter_label(year: i32, quarter: i16) -> String {
    let months = usize::try_from(quarter - 1)
        .ok()
        .and_then(|i| MONTHS.get(i))
        .copied()
        .unwrap_or("Quarter");
    format!("{months} {year}")
}

fn current_quarter(state: &AppState) -> (i32, i16) {
    let today = reports::uk_today(state);
    (
        today.year(),
        i16::try_from(today.month0() / 3 + 1).unwrap_or(4),
    )
}

fn previous((year, quarter): (i32, i16)) -> (i32, i16) {
    if quarter == 1 {
        (year - 1, 4)
    } else {
        (year, quarter - 1)
    }
}

pub struct QuarterRow {
    pub label: String,
    pub href: String,
    pub state_text: String,
    pub state_colour: String,
    pub state_detail: String,
    pub action_text: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "returns/list.html")]
struct ReturnsPage {
    layout: Layout,
    rows: Vec<QuarterRow>,
    flash: Option<String>,
}

fn state_of(r: Option<&OccurrenceReturn>) -> (String, String, String) {
    match r {
        None => ("Not returned".into(), "grey".into(), String::new()),
        Some(r) if r.version > 1 => (
            "Corrected".into(),
            "purple".into(),
            format!(
                "version {}, on {}{}",
                r.version,
                uk_date(r.declared_at),
                if r.nil_return { " (nil return)" } else { "" }
            ),
        ),
        Some(r) if r.nil_return => (
            "Nil return".into(),
            "blue".into(),
            format!("on {}", uk_date(r.declared_at)),
        ),
        Some(r) => (
            "Returned".into(),
            "green".into(),
            format!("on {}", uk_date(r.declared_at)),
        ),
    }
}

pub async fn list(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    policy::file_occurrence_return(&actor)?;
    let filed = crate::returns::list(&state, &actor, None).await?;
    let now = current_quarter(&state);
    let mut q = now;
    let mut rows = Vec::new();
    for _ in 0..QUARTERS_SHOWN {
        let found = filed.iter().find(|r| (r.year, r.quarter) == q);
        let (state_text, state_colour, state_detail) = state_of(found);
        rows.push(QuarterRow {
            label: quarter_label(q.0, q.1),
            href: format!("/returns/{}/{}", q.0, q.1),
            state_text,
            state_colour,
            state_detail,
            action_text: if found.is_some() {
                "Correct the return".into()
            } else {
                "File a return".into()
            },
            current: q == now,
        });
        q = previous(q);
    }
    let flash = take_flash(&state, &auth).await?;
    page(&ReturnsPage {
        layout: for_actor(&actor, "Occurrence returns", "/returns"),
        rows,
        flash,
    })
}

pub struct CountRow {
    pub id: String,
    pub label_text: String,
    pub count_value: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "returns/form.html")]
struct ReturnFormPage {
    layout: Layout,
    errors: crate::domain::validation::FieldErrors,
    summary: Vec<(String, String)>,
    heading: String,
    action: String,
    nil_return: String,
    counts: Vec<CountRow>,
    declaration: Vec<String>,
    previous_text: Option<String>,
}

const ORDER: &[&str] = &["quarter", "year", "nil_return", "counts", "declaration"];

fn anchor(field: &str) -> Option<String> {
    match field {
        "year" | "quarter" => Some("quarter".into()),
        "counts" => IncidentCategory::ALL
            .first()
            .map(|c| format!("counts.{}", c.code())),
        _ => None,
    }
}

/// The quarter of the path, if it is one a return can be made for (not one still to come).
fn quarter_of(state: &AppState, year: &str, quarter: &str) -> AppResult<(i32, i16)> {
    let (Ok(year), Ok(quarter)) = (year.parse::<i32>(), quarter.parse::<i16>()) else {
        return Err(AppError::NotFound);
    };
    if !(1..=4).contains(&quarter) || year < 2013 || (year, quarter) > current_quarter(state) {
        return Err(AppError::NotFound);
    }
    Ok((year, quarter))
}

async fn existing(
    state: &AppState,
    actor: &Actor,
    year: i32,
    quarter: i16,
) -> AppResult<Option<OccurrenceReturn>> {
    Ok(crate::returns::list(state, actor, Some(year))
        .await?
        .into_iter()
        .find(|r| r.quarter == quarter))
}

fn form_page(
    actor: &Actor,
    (year, quarter): (i32, i16),
    p: &Posted,
    shown: Shown,
    previous: Option<&OccurrenceReturn>,
) -> AppResult<Response> {
    let status = if shown.summary.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let label = quarter_label(year, quarter);
    let heading = match previous {
        Some(_) => format!("Correct your return for {label}"),
        None => format!("Occurrence return for {label}"),
    };
    let counts = IncidentCategory::ALL
        .iter()
        .map(|c| {
            let id = format!("counts.{}", c.code());
            CountRow {
                label_text: c.label().to_string(),
                count_value: p.get(&id).to_string(),
                error: shown.errors.get(&id).map(str::to_string),
                id,
            }
        })
        .collect();
    let mut layout = for_actor(actor, title(&heading, &shown), "/returns");
    layout.back_href = Some("/returns".into());
    page_with_status(
        status,
        &ReturnFormPage {
            layout,
            errors: shown.errors,
            summary: shown.summary,
            heading,
            action: format!("/returns/{year}/{quarter}"),
            nil_return: p.trimmed("nil_return").to_string(),
            counts,
            declaration: p.all("declaration"),
            previous_text: previous.map(|r| {
                let (text, _, detail) = state_of(Some(r));
                format!("{text} {detail}. Filing again corrects it: the earlier version is kept.")
            }),
        },
    )
}

/// The form filled in with what was filed before (a correction starts from it).
fn prefilled(r: Option<&OccurrenceReturn>) -> Posted {
    let mut p = Posted::default();
    if let Some(r) = r {
        p.set("nil_return", if r.nil_return { "yes" } else { "no" }.into());
        if let Some(counts) = r.counts.as_object() {
            for (code, n) in counts {
                p.set(&format!("counts.{code}"), n.to_string());
            }
        }
    }
    p
}

pub async fn form(
    State(state): State<AppState>,
    actor: Actor,
    Path((year, quarter)): Path<(String, String)>,
) -> AppResult<Response> {
    policy::file_occurrence_return(&actor)?;
    let q = quarter_of(&state, &year, &quarter)?;
    let previous = existing(&state, &actor, q.0, q.1).await?;
    form_page(
        &actor,
        q,
        &prefilled(previous.as_ref()),
        Shown::none(),
        previous.as_ref(),
    )
}

pub async fn file(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    Path((year, quarter)): Path<(String, String)>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    policy::file_occurrence_return(&actor)?;
    let q = quarter_of(&state, &year, &quarter)?;
    let p = Posted(form);
    let mut problems = Problems::default();
    let nil_return = p.yes_no("nil_return");
    if nil_return.is_none() {
        problems.add(
            "nil_return",
            "Select whether your organisation had any controlled drug occurrences this quarter",
        );
    }
    let mut counts = Map::new();
    for c in IncidentCategory::ALL {
        let id = format!("counts.{}", c.code());
        let raw = p.trimmed(&id);
        if raw.is_empty() {
            continue;
        }
        match raw.parse::<u64>() {
            Ok(n) => {
                counts.insert(c.code().to_string(), Value::from(n));
            }
            Err(_) => problems.add(&id, format!("{}: enter a whole number, like 3", c.label())),
        }
    }
    if !problems.is_empty() && p.trimmed("declaration") != "yes" {
        // The action is not called while the page has problems of its own: name this one
        // here too, so that every problem shows at once.
        problems.add(
            "declaration",
            "Confirm that the return is complete and accurate",
        );
    }
    let input = ReturnInput {
        year: Some(q.0),
        quarter: Some(q.1),
        nil_return,
        counts: Some(counts),
        declaration: Some(p.trimmed("declaration") == "yes"),
    };
    let result = if problems.is_empty() {
        returns::file(&state, &actor, &input).await
    } else {
        Err(AppError::Validation(vec![]))
    };
    match result {
        Ok((r, new)) => {
            let label = quarter_label(r.year, r.quarter);
            let message = if new {
                format!("Your return for {label} has been filed.")
            } else {
                format!(
                    "Your return for {label} has been corrected (version {}).",
                    r.version
                )
            };
            set_flash(&state, &auth, &message).await?;
            Ok(redirect("/returns"))
        }
        Err(AppError::Validation(errors)) => {
            problems.extend(
                errors
                    .into_iter()
                    .map(|mut e| {
                        if let Some(code) = e.field.strip_prefix("counts.")
                            && let Some(c) = IncidentCategory::parse(code)
                        {
                            e.message = format!("{}: {}", c.label(), e.message.to_lowercase());
                        }
                        e
                    })
                    .collect(),
            );
            let previous = existing(&state, &actor, q.0, q.1).await?;
            let shown = show_errors(&problems, ORDER, &[], &anchor);
            form_page(&actor, q, &p, shown, previous.as_ref())
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_are_named_by_their_months() {
        assert_eq!(quarter_label(2026, 3), "July to September 2026");
        assert_eq!(previous((2026, 1)), (2025, 4));
        assert_eq!(previous((2026, 3)), (2026, 2));
    }
}
