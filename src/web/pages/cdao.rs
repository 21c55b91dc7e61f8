//! The lead CDAO team's pages (SPEC §6 "CDAO"): the dashboard of what needs them, the case
//! list with its filters and CSV export, and access requests between areas. They call the
//! same functions as the JSON API (`web::api::cases::case_page`, `crate::triage`,
//! `statistics::dashboard`), so scope, rules and audit are the same.

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
use crate::web::api::cases::{case_page, parse_case_filter};
use crate::web::api::stats::{cases_csv_body, csv_response};
use crate::web::extract::{PageForm, Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_time;
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

// ---------------------------------------------------------------------------------------------
// Shared by the CDAO pages
// ---------------------------------------------------------------------------------------------

/// A posted form as its (name, value) pairs.
#[derive(Debug, Default, Clone)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// The value of `name`, trimmed, or None when blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    /// Every value of `name` (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Sets `name` unless it was posted.
    pub fn fill(&mut self, name: &str, value: impl Into<String>) {
        if !self.0.iter().any(|(k, _)| k == name) {
            self.0.push((name.to_string(), value.into()));
        }
    }
}

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

// ---------------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------------

pub struct Card {
    pub title: String,
    pub count: i64,
    pub href: String,
    pub description: String,
    /// Overdue work: drawn as a warning.
    pub urgent: bool,
}

#[derive(Template)]
#[template(path = "cdao/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    flash: Option<String>,
    heading: String,
    cards: Vec<Card>,
    overdue: Vec<CaseRow>,
    newest: Vec<CaseRow>,
    show_area: bool,
    /// Prescriber codes of the areas reported at 3 or more work addresses: (text, link).
    prescriber_spread: Vec<(String, String)>,
    /// "Since your last visit (…)": the heading and its lines, None on a first visit.
    since_heading: String,
    changes: Vec<(String, String)>,
    /// The newest responses from members: (case id, reference, organisation, action, when).
    responses: Vec<ResponseRow>,
    /// Cards whose count is 0, folded away under one line.
    empty_cards: Vec<Card>,
}

pub struct ResponseRow {
    pub case_id: Uuid,
    pub reference: String,
    pub organisation: String,
    pub action: String,
    pub when: String,
    pub new: bool,
}

/// Monday 00:00 of the current UK week, as the case list's `from` filter reads a date.
fn week_start(now: DateTime<Utc>) -> chrono::NaiveDate {
    let today = now.with_timezone(&chrono_tz::Europe::London).date_naive();
    today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()))
}

/// The CDAO's home page: what needs them now.
pub async fn dashboard(state: &AppState, auth: &RequestAuth, actor: &Actor) -> AppResult<Response> {
    policy::see_matches(actor)?;
    let now = state.now();
    let monday = week_start(now);
    let most_overdue = CaseFilter {
        overdue: true,
        oldest_first: true,
        limit: 10,
        ..Default::default()
    };
    let newest = CaseFilter {
        limit: 10,
        ..Default::default()
    };
    // The page's reads do not depend on one another (only "since your last visit" waits for
    // the visit to be marked): asked at once, the page costs its slowest read, not their sum.
    let news = async {
        let since = crate::waiting::see_dashboard(state, actor).await?;
        let (changes, recent) = crate::waiting::dashboard_news(state, actor, since).await?;
        Ok::<_, AppError>((since, changes, recent))
    };
    let ((since, changes, recent), counts, (overdue, _), (newest, _), cdaos, areas, spread) = tokio::try_join!(
        news,
        crate::statistics::dashboard(state, actor, monday.and_time(NaiveTime::MIN).and_utc()),
        case_page(state, actor, &most_overdue),
        case_page(state, actor, &newest),
        crate::directory::cdao_names(state, actor),
        area_names(state),
        crate::prescribers::spread_codes(state, actor),
    )?;
    let cat = crate::reports::catalogue(state).await?;
    let show_area = needs_area_column(actor, &overdue) || needs_area_column(actor, &newest);
    let card = |one: &str, many: &str, count: i64, href: &str, description: &str| Card {
        title: if count == 1 { one } else { many }.into(),
        count,
        href: href.into(),
        description: description.into(),
        urgent: false,
    };
    let mut cards = vec![
        card(
            "case overdue for triage",
            "cases overdue for triage",
            counts.overdue,
            "/cases?overdue=true&sort=oldest",
            "Still new after their triage target: 2 working days, or 1 for urgent cases.",
        ),
        card(
            "new case",
            "new cases",
            counts.new,
            "/cases?status=new&sort=oldest",
            "Not yet triaged.",
        ),
        card(
            "case awaiting information",
            "cases awaiting information",
            counts.awaiting_information,
            "/cases?status=awaiting_information",
            "Waiting for the reporter to answer a request for information.",
        ),
        card(
            "case in review",
            "cases in review",
            counts.in_review,
            "/cases?status=in_review",
            "Being reviewed by the team, including answers that have come back.",
        ),
        card(
            "case under investigation",
            "cases under investigation",
            counts.investigating,
            "/cases?status=investigating",
            "Under investigation.",
        ),
        card(
            "open case not assigned",
            "open cases not assigned",
            counts.unassigned_open,
            "/cases?status=new&status=in_review&status=awaiting_information&status=investigating&assignee_id=none&sort=oldest",
            "Open cases nobody is assigned to, oldest first.",
        ),
        card(
            "case submitted this week",
            "cases submitted this week",
            counts.new_this_week,
            &format!("/cases?from={monday}"),
            &format!("Submitted since Monday {}.", monday.format("%-d %B")),
        ),
        card(
            "alert not acknowledged in time",
            "alerts not acknowledged in time",
            counts.unacknowledged_alerts,
            "/shares/late",
            "Members have not acknowledged these alerts by their target (2 working days); they have been reminded.",
        ),
        card(
            "share waiting for your approval",
            "shares waiting for your approval",
            counts.shares_to_approve,
            "/shares/pending",
            "Identified shares need a second CDAO of the area before the members are told.",
        ),
        card(
            "access request to decide",
            "access requests to decide",
            counts.pending_access_requests,
            "/access-requests",
            "Other areas' CDAO teams asking to see cases of yours that name the same person.",
        ),
    ];
    let new_responses = match since {
        Some(t) => recent.iter().filter(|r| r.created_at > t).count() as i64,
        None => recent.len() as i64,
    };
    cards.push(card(
        "response received since your last visit",
        "responses received since your last visit",
        changes
            .as_ref()
            .map_or(new_responses, |c| c.member_responses),
        "#responses",
        "Members' answers to your areas' alerts: the newest are listed below.",
    ));
    if let Some(first) = cards.first_mut() {
        first.urgent = counts.overdue > 0;
    }
    if let Some(late) = cards.iter_mut().find(|c| c.href == "/shares/late") {
        late.urgent = counts.unacknowledged_alerts > 0;
    }
    // Overdue work leads; cards with nothing in them fold away.
    let (cards, empty_cards): (Vec<Card>, Vec<Card>) = cards.into_iter().partition(|c| c.count > 0);
    let since_heading = match since {
        Some(t) => format!("Since your last visit ({})", uk_time(t)),
        None => String::new(),
    };
    let changes: Vec<(String, String)> = changes
        .map(|c| {
            let line = |n: i64, one: &str, many: &str, href: &str| {
                (
                    format!("{n} {}", if n == 1 { one } else { many }),
                    href.to_string(),
                )
            };
            vec![
                line(
                    c.cases_submitted,
                    "case submitted",
                    "cases submitted",
                    &format!(
                        "/cases?from={}",
                        since
                            .map(|t| t.with_timezone(&chrono_tz::Europe::London).date_naive())
                            .unwrap_or(monday)
                    ),
                ),
                line(
                    c.reporter_answers,
                    "answer from a reporter",
                    "answers from reporters",
                    "/cases?status=in_review",
                ),
                line(
                    c.member_responses,
                    "response from members",
                    "responses from members",
                    "#responses",
                ),
                line(
                    c.shares_decided,
                    "share approved or declined",
                    "shares approved or declined",
                    "",
                ),
            ]
        })
        .unwrap_or_default();
    let responses = recent
        .iter()
        .map(|r| ResponseRow {
            case_id: r.case_id,
            reference: r.case_reference.clone(),
            organisation: r.organisation_name.clone(),
            action: r
                .action_taken
                .as_deref()
                .and_then(crate::domain::share::ActionTaken::parse)
                .map_or("No action recorded", |a| a.label())
                .to_string(),
            when: uk_time(r.created_at),
            new: since.is_none_or(|t| r.created_at > t),
        })
        .collect();
    let names = own_area_names(actor, &areas);
    let heading = if names.is_empty() {
        "Your case dashboard".to_string()
    } else {
        format!("{}: case dashboard", and_list(&names))
    };
    let flash = take_flash(state, auth).await?;
    let prescriber_spread = spread
        .into_iter()
        .map(|s| {
            (
                format!(
                    "A prescriber code reported at {} different work addresses, in {} reports",
                    s.addresses, s.reports
                ),
                s.href,
            )
        })
        .collect();
    page(&DashboardPage {
        since_heading,
        changes,
        responses,
        empty_cards,
        prescriber_spread,
        layout: for_actor(actor, heading.clone(), "/"),
        flash,
        heading,
        cards,
        overdue: overdue
            .iter()
            .map(|c| case_row(c, now, &cdaos, &areas, &cat))
            .collect(),
        newest: newest
            .iter()
            .map(|c| case_row(c, now, &cdaos, &areas, &cat))
            .collect(),
        show_area,
    })
}

// ---------------------------------------------------------------------------------------------
// Case list
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "cdao/cases.html")]
struct CasesPage {
    layout: Layout,
    errors: FieldErrors,
    f: Posted,
    status_options: Vec<(String, String)>,
    priority_options: Vec<(String, String)>,
    kind_options: Vec<(String, String)>,
    category_options: Vec<(String, String)>,
    schedule_options: Vec<(String, String)>,
    drug_options: Vec<(String, String)>,
    sector_options: Vec<(String, String)>,
    harm_options: Vec<(String, String)>,
    assignee_options: Vec<(String, String)>,
    organisation_options: Vec<(String, String)>,
    sort_options: Vec<(String, String)>,
    statuses: Vec<String>,
    priorities: Vec<String>,
    overdue: Vec<String>,
    rows: Vec<CaseRow>,
    show_area: bool,
    count_text: String,
    /// "?list=…": the filters, carried to the case page for next/previous and Back.
    list_query: String,
    next_href: Option<String>,
    first_href: Option<String>,
    csv_href: String,
    filtered: bool,
    /// The less used filters are folded away unless one is set or wrong.
    more_open: bool,
}

fn any(label: &str) -> Vec<(String, String)> {
    vec![(String::new(), label.to_string())]
}

/// The query string of `params` without `drop` and blank values, for links that keep the
/// filters (the next page, the CSV).
pub fn query_without(params: &Params, drop: &[&str]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params.0 {
        if !drop.contains(&k.as_str()) && !v.trim().is_empty() {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

/// What the case list's form says about a bad filter, in the words of its labels.
fn filter_error(field: &str, message: &str) -> (String, String) {
    let choose = |what: &str| format!("Select {what} from the list");
    let text = match field {
        "status" => choose("a status"),
        "priority" => choose("a priority"),
        "kind" => choose("a kind of report"),
        "category" => choose("a category"),
        "schedule" => choose("a schedule"),
        "harm" => choose("a level of harm"),
        "sector" => choose("a sector"),
        "organisation_id" => choose("an organisation"),
        "assignee_id" => choose("a CDAO"),
        "drug_id" => choose("a drug"),
        "sort" => choose("an order"),
        "overdue" => "Tick \"Only cases overdue for triage\" or leave it empty".into(),
        "from" => "Submitted from must be a real date, like 2026-11-02".into(),
        "to" if message.contains("after") => {
            "Submitted to must be the same as or after submitted from".into()
        }
        "to" => "Submitted to must be a real date, like 2026-11-02".into(),
        "cursor" => {
            "That page link is not one this service made: start again from the first page".into()
        }
        _ => message.to_string(),
    };
    let anchor = match field {
        "cursor" | "limit" => "filters",
        f => f,
    };
    (anchor.to_string(), text)
}

/// The case list (CDAOs). A reporter or organisation lead has their own list of reports.
pub async fn cases(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::may_list_cases(&actor)?;
    if actor.role != Role::Cdao {
        return Ok(redirect("/reports"));
    }
    let now = state.now();
    let (filter, errors) = match parse_case_filter(&params) {
        Ok(f) => (Some(f), FieldErrors::new()),
        Err(AppError::Validation(e)) => {
            let mut out = FieldErrors::new();
            for err in e {
                let (field, message) = filter_error(&err.field, &err.message);
                out.add(field, message);
            }
            (None, out)
        }
        Err(e) => return Err(e),
    };
    // The list, its total and the filters' options, asked at once.
    let list = async {
        match &filter {
            Some(f) => {
                let ((items, next), total) = tokio::try_join!(
                    case_page(&state, &actor, f),
                    crate::reports::count_cases(&state, &actor, f)
                )?;
                Ok::<_, AppError>((items, next, Some(total)))
            }
            None => Ok((vec![], None, None)),
        }
    };
    let org_filter = dir::OrgFilter {
        kind: Some("provider".into()),
        ..Default::default()
    };
    let ((items, next, total), cdaos, areas, cat, organisations) = tokio::try_join!(
        list,
        crate::directory::cdao_names(&state, &actor),
        area_names(&state),
        crate::reports::catalogue(&state),
        crate::directory::organisations(&state, &actor, &org_filter),
    )?;
    let mut category_options = any("Any category");
    category_options.extend(IncidentCategory::options());
    for (code, label) in ConcernCategory::options() {
        if !category_options.iter().any(|(c, _)| *c == code) {
            category_options.push((code, format!("{label} (person of concern)")));
        }
    }
    let mut kind_options = any("Any kind");
    kind_options.push(("incident".into(), "Incident".into()));
    kind_options.push(("person_concern".into(), "Person of concern".into()));
    let mut schedule_options = any("Any schedule");
    schedule_options.extend(Schedule::options());
    let mut drug_options = any("Any drug");
    let mut drugs: Vec<(String, String)> = cat
        .drugs
        .iter()
        .map(|d| (d.id.to_string(), d.name.clone()))
        .collect();
    drugs.sort_by(|a, b| a.1.cmp(&b.1));
    drug_options.extend(drugs);
    let mut sector_options = any("Any sector");
    sector_options.extend(
        PROVIDER_SECTORS
            .iter()
            .map(|s| (s.code().to_string(), s.label().to_string())),
    );
    let mut harm_options = any("Any level of harm");
    harm_options.extend(Harm::options());
    let mut assignee_options = any("Anyone");
    assignee_options.push(("none".into(), "Not assigned".into()));
    let mut people: Vec<(String, String)> = cdaos
        .iter()
        .map(|(id, n)| (id.to_string(), n.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    assignee_options.extend(people);
    let mut organisation_options = any("Any organisation");
    organisation_options.extend(
        organisations
            .iter()
            .map(|o| (o.id.to_string(), o.name.clone())),
    );
    let sort_options = vec![
        ("newest".to_string(), "Newest first".to_string()),
        ("oldest".to_string(), "Oldest first".to_string()),
    ];
    // Checkbox values may arrive repeated or comma-separated.
    let listed = |key: &str| -> Vec<String> {
        params
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(',').map(|p| p.trim().to_string()))
            .filter(|p| !p.is_empty())
            .collect()
    };
    let f = Posted(params.0.clone());
    let filtered = params
        .0
        .iter()
        .any(|(k, v)| k != "cursor" && k != "sort" && !v.trim().is_empty());
    const MORE: &[&str] = &[
        "kind",
        "category",
        "harm",
        "schedule",
        "drug_id",
        "sector",
        "organisation_id",
        "assignee_id",
        "from",
        "to",
    ];
    let more_open = MORE
        .iter()
        .any(|k| params.get(k).is_some() || errors.get(k).is_some());
    let show_area = needs_area_column(&actor, &items);
    let keep = query_without(&params, &["cursor"]);
    let n = items.len();
    let count_text = if !errors.is_empty() {
        "Correct the filters to see cases.".to_string()
    } else if n == 0 {
        if filtered {
            "No cases match these filters.".into()
        } else {
            "There are no cases yet.".into()
        }
    } else {
        let order = if filter.as_ref().is_some_and(|f| f.oldest_first) {
            "oldest first"
        } else {
            "newest first"
        };
        let page_no = if params.get("cursor").is_some() {
            "this page"
        } else {
            "the first page"
        };
        format!(
            "{} in all. {n} on {page_no}, {order}{}.",
            total.as_ref().map_or_else(String::new, |t| {
                let w = t.words();
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }),
            if next.is_some() {
                "; there are more on the next page"
            } else {
                ""
            }
        )
    };
    let next_href = next.map(|c| {
        let mut s = url::form_urlencoded::Serializer::new(keep.clone());
        s.append_pair("cursor", &c);
        format!("/cases?{}", s.finish())
    });
    let first_href = params.get("cursor").map(|_| {
        format!(
            "/cases{}",
            if keep.is_empty() {
                String::new()
            } else {
                format!("?{keep}")
            }
        )
    });
    let csv_href = format!(
        "/cases.csv{}",
        if keep.is_empty() {
            String::new()
        } else {
            format!("?{keep}")
        }
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let layout = for_actor(&actor, page_title("Cases", !errors.is_empty()), "/cases");
    page_with_status(
        status,
        &CasesPage {
            layout,
            errors,
            statuses: listed("status"),
            priorities: listed("priority"),
            overdue: listed("overdue"),
            f,
            status_options: CaseStatus::options(),
            priority_options: Priority::options(),
            kind_options,
            category_options,
            schedule_options,
            drug_options,
            sector_options,
            harm_options,
            assignee_options,
            organisation_options,
            sort_options,
            rows: items
                .iter()
                .map(|c| case_row(c, now, &cdaos, &areas, &cat))
                .collect(),
            show_area,
            count_text,
            list_query: {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("list", &keep);
                format!("?{}", q.finish())
            },
            next_href,
            first_href,
            csv_href,
            filtered,
            more_open,
        },
    )
}

/// The filtered case list as CSV (no identities, no free text), as the API exports it.
pub async fn cases_csv(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let (body, _) = cases_csv_body(&state, &actor, &params).await?;
    let today = crate::reports::uk_today(&state);
    Ok(csv_response(body, &format!("cases-{today}.csv")))
}

// ---------------------------------------------------------------------------------------------
// Access requests
// ---------------------------------------------------------------------------------------------

pub struct RequestRow {
    pub id: Uuid,
    /// The id (and name) of the request's reason textarea.
    pub field_id: String,
    pub case_reference: String,
    pub requester: String,
    pub requester_area: String,
    pub holding_area: String,
    pub reason_lines: Vec<String>,
    pub status_code: String,
    pub status_text: String,
    pub status_colour: String,
    pub created: String,
    pub decided_text: String,
    pub decision_reason: String,
    /// For a request to decide: the holding team's own cases that match (id, reference).
    pub matching: Vec<(Uuid, String)>,
    /// Where the requester's own case can be opened (requests made by the team).
    pub case_id: Uuid,
}

#[derive(Template)]
#[template(path = "cdao/access_requests.html")]
struct AccessRequestsPage {
    layout: Layout,
    flash: Option<String>,
    errors: FieldErrors,
    conflict: Option<String>,
    f: Posted,
    incoming: Vec<RequestRow>,
    outgoing: Vec<RequestRow>,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn request_status(code: &str) -> (String, String) {
    match code {
        "pending" => ("Waiting for a decision".into(), "yellow".into()),
        "approved" => ("Approved".into(), "green".into()),
        "declined" => ("Declined".into(), "red".into()),
        other => (other.to_string(), "grey".into()),
    }
}

async fn access_requests_page(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    status: StatusCode,
    errors: FieldErrors,
    conflict: Option<String>,
    f: Posted,
) -> AppResult<Response> {
    let all = triage::list_access_requests(state, actor).await?;
    let mut incoming = Vec::new();
    let mut outgoing = Vec::new();
    for r in &all {
        let (status_text, status_colour) = request_status(&r.status);
        let decided_text = match r.decided_at {
            Some(t) => uk_time(t),
            None => String::new(),
        };
        let mut row = RequestRow {
            id: r.id,
            field_id: format!("reason-{}", r.id),
            case_reference: r.case_reference.clone(),
            requester: r.requester_name.clone(),
            requester_area: r.requester_area_name.clone(),
            holding_area: r.holding_area_name.clone(),
            reason_lines: lines(&r.reason),
            status_code: r.status.clone(),
            status_text,
            status_colour,
            created: uk_time(r.created_at),
            decided_text,
            decision_reason: r.decision_reason.clone().unwrap_or_default(),
            matching: vec![],
            case_id: r.case_id,
        };
        if actor.area_ids.contains(&r.holding_area_id) {
            if r.status == "pending" {
                // What approving would share: the team's own cases naming the same person.
                row.matching = triage::would_share(state, actor, r.id).await?;
            }
            incoming.push(row);
        } else if actor.area_ids.contains(&r.requester_area_id) {
            outgoing.push(row);
        }
        // A team holding both areas sees its request once, as one to decide.
    }
    // Pending first, then newest (the query gives newest first).
    incoming.sort_by_key(|r| r.status_code != "pending");
    let flash = take_flash(state, auth).await?;
    let has_errors = !errors.is_empty() || conflict.is_some();
    page_with_status(
        status,
        &AccessRequestsPage {
            layout: for_actor(
                actor,
                page_title("Access requests", has_errors),
                "/access-requests",
            ),
            flash,
            errors,
            conflict,
            f,
            incoming,
            outgoing,
        },
    )
}

pub async fn access_requests(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    access_requests_page(
        &state,
        &auth,
        &actor,
        StatusCode::OK,
        FieldErrors::new(),
        None,
        Posted::default(),
    )
    .await
}

/// Approve or decline a request to see the team's cases (a reason is needed to decline).
pub async fn decide(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Posted(form);
    let reason_field = format!("reason-{id}");
    let input = DecisionInput {
        decision: f.opt("decision"),
        reason: f.opt(&reason_field),
    };
    match triage::decide_access(&state, &actor, id, &input).await {
        Ok(r) => {
            let message = if r.request.status == "approved" {
                format!(
                    "You approved the request from the {} CDAO team: {} {} made to their team. An identified share waits for a second CDAO of your area where the two-person rule is on; you can revoke a share at any time from its case.",
                    r.request.requester_area_name,
                    r.share_ids.len(),
                    if r.share_ids.len() == 1 {
                        "share was"
                    } else {
                        "shares were"
                    }
                )
            } else {
                format!(
                    "You declined the request from the {} CDAO team. They can see your reason.",
                    r.request.requester_area_name
                )
            };
            set_flash(&state, &auth, &message).await?;
            Ok(redirect("/access-requests"))
        }
        Err(AppError::Validation(e)) => {
            let errors = errors_as(e, &|_| reason_field.clone());
            access_requests_page(
                &state,
                &auth,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
                f,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            access_requests_page(
                &state,
                &auth,
                &actor,
                StatusCode::CONFLICT,
                FieldErrors::new(),
                Some(m),
                f,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
