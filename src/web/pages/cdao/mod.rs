//! The lead CDAO team's pages (SPEC §6 "CDAO"): the dashboard of what needs them, the case
//! list with its filters and CSV export, and access requests between areas. They call the
//! same functions as the JSON API (`web::api::cases::case_page`, `crate::triage`,
//! `statistics::dashboard`), so scope, rules and audit are the same.

mod access_requests;
mod case_list;
mod dashboard;

pub use access_requests::{access_requests, decide};
pub use case_list::{cases, cases_csv, query_without};
pub use dashboard::dashboard;

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::domain::catalogue::Catalogue;
use crate::domain::directory::{Role, Sector};
use crate::domain::report::{CaseStatus, ConcernCategory, Harm, IncidentCategory, Schedule};
use crate::domain::triage::Priority;
use crate::domain::validation::{FieldError, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::records::{self as dir, CaseFilter, CaseSummary};
use crate::state::AppState;
use crate::triage::{self, DecisionInput};
use crate::web::api::cases::{case_page, case_page_with_total, parse_case_filter};
use crate::web::api::stats::{cases_csv_body, csv_response};
use crate::web::extract::{PageForm, Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_time;
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

// ---------------------------------------------------------------------------------------------
// Shared by the CDAO pages
// ---------------------------------------------------------------------------------------------

/// One reader of posted forms for every page (the report forms' own).
pub(crate) use crate::web::pages::reports::Posted;

/// Renames the fields of an action's errors to the ids of the page's inputs.
pub fn errors_as(errors: Vec<FieldError>, rename: &(dyn Fn(&str) -> String + Sync)) -> FieldErrors {
    let mut out = FieldErrors::new();
    for e in errors {
        out.add(rename(&e.field), e.message);
    }
    out
}

pub fn page_title(base: &str, has_errors: bool) -> String {
    if has_errors {
        format!("Error: {base}")
    } else {
        base.to_string()
    }
}

/// The status of a case as an NHS tag: (text, colour).
pub fn status_tag(code: &str) -> (String, String) {
    let colour = match code {
        "new" => "blue",
        "in_review" => "purple",
        "awaiting_information" => "yellow",
        "investigating" => "orange",
        "closed" => "grey",
        _ => "white",
    };
    (
        CaseStatus::parse(code)
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| code.to_string()),
        colour.into(),
    )
}

/// A priority as an NHS tag: (text, colour); empty text when none is set.
pub fn priority_tag(code: Option<&str>) -> (String, String) {
    match code.and_then(Priority::parse) {
        None => (String::new(), String::new()),
        Some(p) => (
            p.label().to_string(),
            match p {
                Priority::Urgent => "red",
                Priority::High => "orange",
                Priority::Medium => "yellow",
                Priority::Low => "grey",
            }
            .into(),
        ),
    }
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "incident" => "Incident",
        "person_concern" => "Person of concern",
        _ => "Report",
    }
}

pub fn sector_label(code: &str) -> String {
    Sector::parse(code)
        .map(|s| s.label().to_string())
        .unwrap_or_else(|| code.to_string())
}

/// The sectors of providers (the organisations that report).
const PROVIDER_SECTORS: &[Sector] = &[
    Sector::CommunityPharmacy,
    Sector::GpPractice,
    Sector::NhsHospital,
    Sector::IndependentHospital,
    Sector::CareHome,
    Sector::DentalPractice,
    Sector::Hospice,
    Sector::PrisonHealthcare,
    Sector::AmbulanceService,
    Sector::OnlineProvider,
    Sector::SubstanceMisuseService,
    Sector::Veterinary,
    Sector::Other,
];

/// One case in a table of cases.
pub struct CaseRow {
    pub id: Uuid,
    pub reference: String,
    pub kind_text: String,
    pub organisation: String,
    pub sector_text: String,
    pub area_name: String,
    pub submitted: String,
    pub status_text: String,
    pub status_colour: String,
    pub priority_text: String,
    pub priority_colour: String,
    pub overdue: bool,
    pub high_dose: bool,
    pub assignee_text: String,
    /// What the case is about, on one line (never a name).
    pub summary: String,
}

/// One line saying what a case is about: kind; categories; drugs with their schedule; harm;
/// for a person of concern, the person's subject type and role. Never a name.
pub fn summary_line(c: &CaseSummary, cat: &Catalogue) -> String {
    summary_text(
        &c.kind,
        &c.categories,
        &c.drug_ids,
        cat,
        c.harm.as_deref(),
        &c.subject_types,
    )
}

/// The one-line summary of a case's facts (see `summary_line`).
pub fn summary_text(
    kind: &str,
    categories: &[String],
    drug_ids: &[Uuid],
    cat: &Catalogue,
    harm: Option<&str>,
    subject_types: &[String],
) -> String {
    let mut parts = vec![kind_label(kind).to_string()];
    if kind == "person_concern" {
        for t in subject_types {
            let label =
                crate::domain::report::SubjectType::parse(t).map_or(t.as_str(), |s| s.label());
            parts.push(format!("{label}, the subject of the report"));
        }
    }
    let categories: Vec<String> = categories
        .iter()
        .map(|code| {
            IncidentCategory::parse(code)
                .map(|x| x.label().to_string())
                .or_else(|| ConcernCategory::parse(code).map(|x| x.label().to_string()))
                .unwrap_or_else(|| code.clone())
        })
        .collect();
    if !categories.is_empty() {
        parts.push(categories.join(", "));
    }
    let drugs: Vec<String> = drug_ids
        .iter()
        .filter_map(|id| cat.get(*id))
        .map(|d| {
            format!(
                "{} ({})",
                d.name,
                Schedule::parse(&d.schedule).map_or(d.schedule.as_str(), |s| s.label())
            )
        })
        .collect();
    if !drugs.is_empty() {
        parts.push(drugs.join(", "));
    }
    if let Some(h) = harm.and_then(Harm::parse) {
        parts.push(h.label().to_string());
    }
    parts.join("; ")
}

pub fn case_row(
    c: &CaseSummary,
    now: DateTime<Utc>,
    cdaos: &HashMap<Uuid, String>,
    areas: &HashMap<Uuid, String>,
    cat: &Catalogue,
) -> CaseRow {
    let (status_text, status_colour) = status_tag(&c.status);
    let (priority_text, priority_colour) = priority_tag(c.priority.as_deref());
    CaseRow {
        id: c.id,
        reference: c.reference.clone(),
        kind_text: kind_label(&c.kind).into(),
        organisation: c.organisation_name.clone(),
        sector_text: sector_label(&c.sector),
        area_name: areas.get(&c.area_id).cloned().unwrap_or_default(),
        submitted: c
            .submitted_at
            .with_timezone(&chrono_tz::Europe::London)
            .format("%-d %b %Y, %H:%M")
            .to_string(),
        status_text,
        status_colour,
        priority_text,
        priority_colour,
        overdue: c.status == "new" && c.triage_due_at.is_some_and(|d| d < now),
        high_dose: c.high_dose,
        summary: summary_line(c, cat),
        assignee_text: match c.assignee_id {
            None => "Not assigned".into(),
            Some(id) => cdaos
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "Another CDAO".into()),
        },
    }
}

/// The CDAOs the actor may see (those sharing an area with them): id to name.
pub async fn area_names(state: &AppState) -> AppResult<HashMap<Uuid, String>> {
    Ok(crate::directory::areas(state)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

/// "Greater Manchester", "Greater Manchester and London", "A, B and C".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The names of the actor's own areas, in alphabetical order.
pub fn own_area_names(actor: &Actor, areas: &HashMap<Uuid, String>) -> Vec<String> {
    let mut names: Vec<String> = actor
        .area_ids
        .iter()
        .filter_map(|id| areas.get(id).cloned())
        .collect();
    names.sort();
    names
}

/// Whether a table of cases needs an area column: the actor holds several areas, or a
/// row belongs to another area (a case granted to the team).
fn needs_area_column(actor: &Actor, rows: &[CaseSummary]) -> bool {
    actor.area_ids.len() > 1 || rows.iter().any(|c| !actor.area_ids.contains(&c.area_id))
}
