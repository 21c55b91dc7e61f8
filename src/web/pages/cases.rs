//! The case page of the lead CDAO team (SPEC §6 "CDAO"): the report as submitted with its
//! amendments and evidence, the persons it names (with OME flags), other reports naming the
//! same person, links, the timeline, who has viewed it, and the triage actions. Every
//! action is a form that posts to the same function the API calls (`crate::triage`); on a
//! validation error the page comes back with an error summary (422), on a conflict with a
//! clear message at the top (409), and on success it redirects back with a message.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::share::ActionTaken;

use crate::domain::directory::Role;
use crate::domain::identifiers::Register;
use crate::domain::report::{CaseStatus, Incident, PersonConcern, Schedule};
use crate::domain::triage::{self as rules, LinkRelation, Outcome, Priority, WellFounded};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::records::{self as dir, CaseFilter, TimelineEvent};
use crate::reports::{self, CaseView};
use crate::state::AppState;
use crate::triage::{
    self, AccessRequestInput, CloseInput, LinkInput, MessageInput, ReopenInput, RiskInput,
    TriageInput,
};
use crate::web::api::cases::{case_page, download};
use crate::web::extract::{PageForm, Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::{uk_date, uk_time};
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::pages::cdao::{
    Posted, area_names, cdao_names, errors_as, kind_label, page_title, priority_tag, sector_label,
    status_tag,
};
use crate::web::session::{RequestAuth, set_flash, take_flash};

/// A row of a summary list: a key and its value as lines of text.
pub struct Row {
    pub key: String,
    pub lines: Vec<String>,
    /// Links drawn after the lines: (href, text).
    pub links: Vec<(String, String)>,
}

fn row(key: &str, lines: Vec<String>) -> Row {
    Row {
        key: key.into(),
        lines,
        links: Vec::new(),
    }
}

fn text_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn yes_no(v: bool) -> String {
    if v { "Yes" } else { "No" }.into()
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.1}")
    }
}

pub struct DrugRow {
    pub drug_name: String,
    pub schedule_text: String,
    pub formulation: String,
    pub strength: String,
    pub quantity: String,
    pub daily_dose: String,
    pub ome_text: String,
    pub high_dose: bool,
}

pub struct PersonCard {
    pub id: Uuid,
    pub full_name: String,
    pub rows: Vec<Row>,
    /// The form asking to remove the record (entered in error): its reason field.
    pub erasure_field: String,
    pub erasure_value: String,
    pub erasure_error: Option<String>,
    /// A removal waiting for a second CDAO.
    pub pending: Option<PendingErasure>,
}

pub struct PendingErasure {
    pub id: Uuid,
    pub reason_lines: Vec<String>,
    pub asked_by: String,
    pub asked_at: String,
    /// Not the CDAO who asked: they may approve or decline.
    pub can_decide: bool,
    pub decline_field: String,
    pub decline_value: String,
    pub decline_error: Option<String>,
}

pub struct EventRow {
    pub at: String,
    pub who: String,
    pub title: String,
    pub lines: Vec<String>,
    pub internal: bool,
    /// Where to answer it (a member's response: the alert's conversation).
    pub reply_href: Option<String>,
}

pub struct MatchView {
    /// A match the team can see: the case, in full.
    pub case_id: Option<Uuid>,
    pub reference: String,
    pub organisation: String,
    pub submitted: String,
    pub status_text: String,
    pub status_colour: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub matched_on: String,
    /// For a match held elsewhere: the state of the team's request, and whether to offer one.
    pub request_text: String,
    pub request_colour: String,
    pub can_request: bool,
    pub field_id: String,
    pub request_button: String,
    pub reason_value: String,
    pub reason_error: Option<String>,
}

pub struct LinkView {
    pub case_id: Uuid,
    pub reference: String,
    pub relation_text: String,
    pub created: String,
}

pub struct LogRow {
    pub at: String,
    pub who: String,
    pub role_text: String,
    pub action_text: String,
    pub purpose: String,
}

pub struct AttachmentRow {
    pub id: Uuid,
    pub filename: String,
    pub size_text: String,
    pub created: String,
    pub holds_patient_data: bool,
}

pub struct AmendmentRow {
    pub created: String,
    pub lines: Vec<String>,
}

pub struct MatrixCell {
    pub score: u8,
    pub grade_text: String,
    pub current: bool,
}

pub struct MatrixRow {
    pub likelihood_text: String,
    pub cells: Vec<MatrixCell>,
}

const CONSEQUENCES: [&str; 5] = ["Negligible", "Minor", "Moderate", "Major", "Catastrophic"];
const LIKELIHOODS: [&str; 5] = ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"];

fn grade_label(grade: &str) -> &'static str {
    match grade {
        "low" => "Low",
        "moderate" => "Moderate",
        "high" => "High",
        _ => "Extreme",
    }
}

fn grade_colour(grade: &str) -> &'static str {
    match grade {
        "low" => "green",
        "moderate" => "yellow",
        "high" => "orange",
        _ => "red",
    }
}

#[derive(Template)]
#[template(path = "cdao/case.html")]
struct CasePage {
    layout: Layout,
    flash: Option<String>,
    errors: FieldErrors,
    conflict: Option<String>,
    v: Posted,
    id: Uuid,
    reference: String,
    kind_text: String,
    summary: Vec<Row>,
    status_text: String,
    status_colour: String,
    priority_text: String,
    priority_colour: String,
    overdue: bool,
    risk_text: String,
    risk_colour: String,
    /// A CDAO of the case's own area: may act on it. Otherwise a case granted to the team.
    own: bool,
    holding_team: String,
    /// When the retention policy removed the case's details (empty if it has not).
    details_removed: String,
    share_purpose: String,
    share_summary: String,
    share_expiry: String,
    is_closed: bool,
    report_rows: Vec<Row>,
    drugs: Vec<DrugRow>,
    high_dose_case: bool,
    alleged: bool,
    concern_status: String,
    persons: Vec<PersonCard>,
    amendments: Vec<AmendmentRow>,
    attachments: Vec<AttachmentRow>,
    timeline: Vec<EventRow>,
    has_persons: bool,
    /// Prescriber codes of the case reported at 3 or more work addresses: (text, link).
    prescriber_spread: Vec<(String, String)>,
    matches: Vec<MatchView>,
    visible_matches: usize,
    links: Vec<LinkView>,
    access_log: Vec<LogRow>,
    /// Shares of the case (own area only).
    shares: Vec<ShareRow>,
    matrix: Vec<MatrixRow>,
    status_options: Vec<(String, String)>,
    priority_options: Vec<(String, String)>,
    priority_hint: Option<String>,
    assignee_options: Vec<(String, String)>,
    consequence_options: Vec<(String, String)>,
    likelihood_options: Vec<(String, String)>,
    outcome_options: Vec<(String, String)>,
    well_founded_options: Vec<(String, String)>,
    relation_options: Vec<(String, String)>,
    can_request_information: bool,
    /// The posted "ask for information" checkbox, kept after an error.
    ask_selected: Vec<String>,
    /// Next and previous in the list the case was opened from: (href, reference).
    previous_case: Option<(String, String)>,
    next_case: Option<(String, String)>,
    /// Assigned to the reader already (no "Assign to me").
    assigned_to_me: bool,
    /// The reader's own id, for "Assign to me".
    me: Uuid,
    /// The list the case was opened from, as the forms carry it (None: not from a list).
    list: Option<String>,
}

/// What goes back to the page after an action did not go through.
pub struct Again {
    pub status: StatusCode,
    pub errors: FieldErrors,
    pub conflict: Option<String>,
    pub posted: Posted,
    /// The query string of the case list the case was opened from (next/previous, Back).
    pub list: Option<String>,
}

impl Again {
    fn none() -> Self {
        Again {
            status: StatusCode::OK,
            errors: FieldErrors::new(),
            conflict: None,
            posted: Posted::default(),
            list: None,
        }
    }
}

fn matched_on_text(keys: &[String]) -> String {
    let names: Vec<String> = keys
        .iter()
        .map(|k| match k.as_str() {
            "nhs_number" => "NHS number".to_string(),
            "prescriber_code" => "prescriber code".to_string(),
            "name_and_date_of_birth" => "name and date of birth".to_string(),
            other => match Register::ALL.iter().find(|r| r.code() == other) {
                Some(r) => format!("{} number", r.acronym()),
                None => other.to_string(),
            },
        })
        .collect();
    crate::web::pages::cdao::and_list(&names)
}

fn incident_rows(inc: &Incident) -> (Vec<Row>, Vec<DrugRow>) {
    let mut rows = vec![row(
        "When it happened",
        vec![format!(
            "{}{}",
            inc.occurred_on.format("%-d %B %Y"),
            inc.occurred_time
                .as_deref()
                .map(|t| format!(" at {t}"))
                .unwrap_or_default()
        )],
    )];
    if let Some(d) = inc.discovered_on {
        rows.push(row(
            "When it was discovered",
            vec![d.format("%-d %B %Y").to_string()],
        ));
    }
    rows.push(row("Where", vec![inc.location.clone()]));
    rows.push(row(
        "Kind of incident",
        inc.categories
            .iter()
            .map(|c| c.label().to_string())
            .collect(),
    ));
    rows.push(row("Harm", vec![inc.harm.label().to_string()]));
    rows.push(row("Near miss", vec![yes_no(inc.near_miss)]));
    rows.push(row("What happened", text_lines(&inc.description)));
    if let Some(a) = &inc.actions_taken {
        rows.push(row("Actions taken", text_lines(a)));
    }
    rows.push(row(
        "Police informed",
        vec![match (&inc.police_informed, &inc.police_reference) {
            (true, Some(r)) => format!("Yes, crime reference {r}"),
            (true, None) => "Yes".into(),
            (false, _) => "No".into(),
        }],
    ));
    rows.push(row(
        "A patient was involved",
        vec![yes_no(inc.patient_involved)],
    ));
    (rows, drug_rows(&inc.drugs))
}

/// What a share carries of a report (no free text), as rows.
fn shared_rows(r: &crate::disclosure::SharedReport) -> (Vec<Row>, Vec<DrugRow>) {
    let mut rows = Vec::new();
    if let Some(d) = r.occurred_on {
        rows.push(row(
            "When it happened",
            vec![d.format("%-d %B %Y").to_string()],
        ));
    }
    rows.push(row(
        "Kind",
        r.categories
            .iter()
            .map(|c| {
                crate::domain::report::IncidentCategory::parse(c)
                    .map(|x| x.label())
                    .or_else(|| crate::domain::report::ConcernCategory::parse(c).map(|x| x.label()))
                    .unwrap_or(c)
                    .to_string()
            })
            .collect(),
    ));
    if let Some(h) = r
        .harm
        .as_deref()
        .and_then(crate::domain::report::Harm::parse)
    {
        rows.push(row("Harm", vec![h.label().to_string()]));
    }
    if let Some(st) = r
        .concern_status
        .as_deref()
        .and_then(crate::domain::report::ConcernStatus::parse)
    {
        rows.push(row("Status of the concern", vec![st.label().to_string()]));
    }
    if let Some(p) = r
        .provenance
        .as_deref()
        .and_then(crate::domain::report::Provenance::parse)
    {
        rows.push(row("How the reporter knows", vec![p.label().to_string()]));
    }
    (rows, drug_rows(&r.drugs))
}

fn drug_rows(items: &[crate::domain::report::DrugItem]) -> Vec<DrugRow> {
    items
        .iter()
        .map(|d| DrugRow {
            drug_name: d.name.clone(),
            schedule_text: format!(
                "{}{}",
                Schedule::parse(&d.schedule)
                    .map(|s| s.label().to_string())
                    .unwrap_or_else(|| d.schedule.clone()),
                d.class
                    .as_deref()
                    .map(|c| format!(", class {c}"))
                    .unwrap_or_default()
            ),
            formulation: d.formulation.clone().unwrap_or_default(),
            strength: d.strength.clone().unwrap_or_default(),
            quantity: match (d.quantity, &d.unit) {
                (Some(q), Some(u)) => format!("{} {u}", number(q)),
                (Some(q), None) => number(q),
                _ => String::new(),
            },
            daily_dose: match (d.daily_dose_mg, d.patch_micrograms_per_hour) {
                (Some(mg), _) => format!("{} mg a day", number(mg)),
                (None, Some(ug)) => format!("{} micrograms an hour (patch)", number(ug)),
                _ => String::new(),
            },
            ome_text: d
                .ome_mg_per_day
                .map(|o| format!("{} mg a day", number(o)))
                .unwrap_or_default(),
            high_dose: d.high_dose == Some(true),
        })
        .collect()
}

async fn concern_rows(state: &AppState, actor: &Actor, pc: &PersonConcern) -> AppResult<Vec<Row>> {
    let mut rows = vec![
        row("About", vec![pc.subject_type.label().to_string()]),
        row(
            "Concerns",
            pc.concern_categories
                .iter()
                .map(|c| c.label().to_string())
                .collect(),
        ),
        row(
            "How the reporter knows",
            vec![pc.provenance.label().to_string()],
        ),
        row(
            "What the reporter saw or was told",
            text_lines(&pc.description),
        ),
    ];
    if !pc.linked_case_ids.is_empty() {
        // Only the cases the reader may see, each a link to it.
        let links: Vec<(String, String)> = reports::briefs(state, actor, &pc.linked_case_ids)
            .await?
            .into_iter()
            .map(|b| (format!("/cases/{}", b.id), b.reference))
            .collect();
        if !links.is_empty() {
            let mut r = row("Linked by the reporter to", vec![]);
            r.links = links;
            rows.push(r);
        }
    }
    Ok(rows)
}

fn person_card(p: &reports::PersonView) -> PersonCard {
    let i = &p.identity;
    let mut rows = vec![row(
        "Who they are",
        vec![
            crate::domain::report::SubjectType::parse(&p.subject_type)
                .map(|s| s.label().to_string())
                .unwrap_or_else(|| p.subject_type.clone()),
        ],
    )];
    if let Some(d) = i.date_of_birth {
        rows.push(row(
            "Date of birth",
            vec![d.format("%-d %B %Y").to_string()],
        ));
    }
    if let Some(n) = &i.nhs_number {
        rows.push(row("NHS number", vec![n.clone()]));
    }
    for r in &i.registrations {
        let reg = Register::ALL.iter().find(|x| x.code() == r.register);
        rows.push(row(
            &reg.map(|x| format!("{} number", x.acronym()))
                .unwrap_or_else(|| "Registration".into()),
            vec![r.number.clone()],
        ));
    }
    if let Some(c) = &i.prescriber_code {
        rows.push(row("Prescriber code", vec![c.clone()]));
    }
    if let Some(j) = &i.job_role {
        rows.push(row("Job role", vec![j.clone()]));
    }
    if !i.work_addresses.is_empty() {
        rows.push(row("Work addresses", i.work_addresses.clone()));
    }
    PersonCard {
        id: p.id,
        full_name: i.full_name.clone(),
        rows,
        erasure_field: String::new(),
        erasure_value: String::new(),
        erasure_error: None,
        pending: None,
    }
}

/// Timeline events only the CDAO team makes.
const CDAO_ONLY: &[&str] = &[
    "shared",
    "share_approved",
    "share_revoked",
    "note",
    "triaged",
    "outcome",
    "closed",
    "reopened",
    "linked",
    "access_requested",
    "access_decided",
];

/// Who did something on the timeline, as far as the CDAO may know it.
fn who(
    e: &TimelineEvent,
    cdaos: &HashMap<Uuid, String>,
    organisation: &str,
    from_reporting_side: bool,
) -> String {
    match e.actor_id.and_then(|a| cdaos.get(&a)) {
        Some(n) => format!("{n}, CDAO team"),
        None if e.actor_id.is_none() => "CD Concerns".into(),
        // Someone the CDAO cannot name: the reporting side, unless only the team does this.
        None if from_reporting_side || !CDAO_ONLY.contains(&e.kind.as_str()) => {
            format!("{organisation} (reporting organisation)")
        }
        None => "Lead CDAO team".into(),
    }
}

fn change_lines(data: &Value, cdaos: &HashMap<Uuid, String>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = data.get("status") {
        let label = |k: &str| {
            s.get(k)
                .and_then(Value::as_str)
                .and_then(CaseStatus::parse)
                .map(|x| x.label().to_lowercase())
                .unwrap_or_default()
        };
        out.push(format!("Status: {} to {}", label("from"), label("to")));
    }
    if let Some(p) = data.get("priority") {
        let label = |k: &str| {
            p.get(k)
                .and_then(Value::as_str)
                .and_then(Priority::parse)
                .map(|x| x.label().to_string())
                .unwrap_or_else(|| "not set".into())
        };
        out.push(format!("Priority: {} to {}", label("from"), label("to")));
    }
    if let Some(a) = data.get("assignee_id") {
        out.push(
            match a
                .get("to")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                Some(id) => format!(
                    "Assigned to {}",
                    cdaos.get(&id).cloned().unwrap_or_else(|| "a CDAO".into())
                ),
                None => "No longer assigned".into(),
            },
        );
    }
    if let Some(r) = data.get("risk") {
        let c = r.get("consequence").and_then(Value::as_u64).unwrap_or(0);
        let l = r.get("likelihood").and_then(Value::as_u64).unwrap_or(0);
        if let Some(g) =
            rules::risk_grade(u8::try_from(c).unwrap_or(0), u8::try_from(l).unwrap_or(0))
        {
            out.push(format!(
                "Risk: consequence {c} × likelihood {l} = {} ({})",
                g.score,
                grade_label(g.grade).to_lowercase()
            ));
        }
    }
    out
}

fn status_label(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .and_then(CaseStatus::parse)
        .map(|s| s.label().to_lowercase())
        .unwrap_or_default()
}

struct Names<'a> {
    member_orgs: &'a HashMap<Uuid, String>,
    cdaos: &'a HashMap<Uuid, String>,
    areas: &'a HashMap<Uuid, String>,
    links: &'a HashMap<Uuid, String>,
    amendments: &'a HashMap<Uuid, Vec<String>>,
    attachments: &'a HashMap<Uuid, String>,
    organisation: &'a str,
}

/// The member organisation an alert event names.
fn member_name(n: &Names<'_>, d: &Value) -> Option<String> {
    let id = d
        .get("organisation_id")
        .and_then(Value::as_str)
        .and_then(|x| Uuid::parse_str(x).ok());
    Some(
        id.and_then(|id| n.member_orgs.get(&id).cloned())
            .unwrap_or_else(|| "a member organisation".into()),
    )
}

fn event_row(e: &TimelineEvent, n: &Names<'_>) -> EventRow {
    let d = &e.data;
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut from_reporter = false;
    let mut member_org: Option<String> = None;
    let (title, lines, internal) = match e.kind.as_str() {
        "submitted" => {
            from_reporter = true;
            (
                format!("Report submitted: {}", s("reference")),
                vec![],
                false,
            )
        }
        "status_changed" if d.get("status").is_some() => {
            let st = d.get("status");
            (
                format!(
                    "Status changed from {} to {}",
                    status_label(st.and_then(|x| x.get("from"))),
                    status_label(st.and_then(|x| x.get("to")))
                ),
                vec![],
                false,
            )
        }
        "status_changed" | "triaged" => ("Triage updated".into(), change_lines(d, n.cdaos), true),
        "note" => ("Internal note".into(), text_lines(&s("text")), true),
        "message" => {
            let from_cdao = s("from") == "cdao";
            from_reporter = !from_cdao;
            let title = if !from_cdao {
                "Message from the reporter"
            } else if d.get("request_information").and_then(Value::as_bool) == Some(true) {
                "Request for information sent to the reporter"
            } else {
                "Message sent to the reporter"
            };
            (title.into(), text_lines(&s("body")), false)
        }
        "closed" => ("Case closed".into(), vec![], false),
        "outcome" => {
            let mut lines = vec![
                format!(
                    "Outcome: {}",
                    Outcome::parse(&s("outcome"))
                        .map(|o| o.label().to_string())
                        .unwrap_or_default()
                ),
                format!(
                    "Well founded: {}",
                    WellFounded::parse(&s("well_founded"))
                        .map(|o| o.label().to_string())
                        .unwrap_or_default()
                ),
            ];
            lines.extend(text_lines(&s("note")));
            ("Outcome recorded".into(), lines, true)
        }
        "reopened" => ("Case reopened: back in review".into(), vec![], false),
        "amended" => {
            from_reporter = true;
            let text = Uuid::parse_str(&s("amendment_id"))
                .ok()
                .and_then(|id| n.amendments.get(&id).cloned())
                .unwrap_or_default();
            ("Report amended".into(), text, false)
        }
        "attachment_added" => {
            from_reporter = true;
            let name = Uuid::parse_str(&s("attachment_id"))
                .ok()
                .and_then(|id| n.attachments.get(&id).cloned())
                .unwrap_or_default();
            ("Evidence added".into(), vec![name], false)
        }
        "linked" => {
            let other = Uuid::parse_str(&s("case_id"))
                .ok()
                .and_then(|id| n.links.get(&id).cloned())
                .unwrap_or_else(|| "another case".into());
            let title = if s("relation") == "duplicate_of" {
                format!("Marked as a duplicate of {other}")
            } else {
                format!("Linked to {other}")
            };
            (title, vec![], true)
        }
        "access_requested" => {
            let area = Uuid::parse_str(&s("holding_area_id"))
                .ok()
                .and_then(|id| n.areas.get(&id).cloned())
                .unwrap_or_else(|| "another".into());
            (
                format!("Access to a possible match requested from the {area} CDAO team"),
                vec![],
                true,
            )
        }
        "access_decided" => {
            let decision = s("decision");
            let mut lines = text_lines(&s("reason"));
            if decision == "approved" {
                let cases = d
                    .get("share_ids")
                    .and_then(Value::as_array)
                    .map(|a| a.len())
                    .or_else(|| d.get("cases").and_then(Value::as_u64).map(|n| n as usize))
                    .unwrap_or(0);
                lines.push(format!(
                    "{cases} case{} shared with the requesting team",
                    if cases == 1 { "" } else { "s" }
                ));
            }
            (format!("Access request {decision}"), lines, true)
        }
        "shared" => {
            let orgs: Vec<String> = d
                .get("organisation_ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().and_then(|x| Uuid::parse_str(x).ok()))
                        .map(|id| {
                            n.member_orgs
                                .get(&id)
                                .cloned()
                                .unwrap_or_else(|| "a member organisation".into())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut lines = vec![format!(
                "{} disclosure{}",
                if s("disclosure") == "identified" {
                    "Identified"
                } else {
                    "Summary"
                },
                if d.get("include_patient_data").and_then(Value::as_bool) == Some(true) {
                    ", with patient data"
                } else {
                    ""
                }
            )];
            let to = match Uuid::parse_str(&s("recipient_area_id"))
                .ok()
                .and_then(|id| n.areas.get(&id).cloned())
            {
                Some(area) => format!("the {area} CDAO team"),
                None => orgs.join(", "),
            };
            // A share waiting for approval has reached nobody yet: say so, not "shared with".
            // Its recipients are named once it is approved, not before.
            let title = if s("approval") == "pending" {
                lines.push("Nothing is sent until a second CDAO approves it".into());
                "Share prepared: waiting for a second CDAO's approval".to_string()
            } else {
                format!("Shared with {to}")
            };
            (title, lines, true)
        }
        "share_declined" => (
            "Share declined by a second CDAO: nothing was sent".into(),
            text_lines(&s("reason")),
            true,
        ),
        "outcome_passed_on" => {
            let orgs: Vec<String> = d
                .get("organisation_ids")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().and_then(|x| Uuid::parse_str(x).ok()))
                        .map(|id| {
                            n.member_orgs
                                .get(&id)
                                .cloned()
                                .unwrap_or_else(|| "a member organisation".into())
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                format!(
                    "Outcome passed on: {} told the concern was not well founded",
                    orgs.join(", ")
                ),
                vec!["They were told by a notification without content, and see the outcome on their alert.".into()],
                true,
            )
        }
        "erasure_requested" => (
            "Removal of a person record entered in error asked for: waiting for a second CDAO"
                .into(),
            text_lines(&s("reason")),
            true,
        ),
        "erasure_declined" => (
            "Removal of a person record declined".into(),
            text_lines(&s("reason")),
            true,
        ),
        "person_erased" => (
            "Person record removed as entered in error".into(),
            text_lines(&s("reason")),
            true,
        ),
        "share_approved" => (
            "Share approved by a second CDAO: the members were told".into(),
            vec![],
            true,
        ),
        "share_revoked" => ("Share revoked".into(), vec![], true),
        "alert_acknowledged" => {
            member_org = member_name(n, d);
            (
                format!(
                    "Alert acknowledged by {}",
                    member_org.clone().unwrap_or_default()
                ),
                vec![],
                true,
            )
        }
        "member_response" => {
            member_org = member_name(n, d);
            let mut lines = Vec::new();
            if let Some(a) = ActionTaken::parse(&s("action_taken")) {
                lines.push(format!("Action taken: {}", a.label()));
            }
            lines.extend(text_lines(&s("body")));
            (
                format!("Response from {}", member_org.clone().unwrap_or_default()),
                lines,
                true,
            )
        }
        // The CDAO team's reply in an alert's conversation (issue 11).
        "cdao_reply" => (
            format!(
                "Reply to {} on its alert",
                member_name(n, d).unwrap_or_default()
            ),
            text_lines(&s("body")),
            true,
        ),
        other => (other.replace('_', " "), vec![], false),
    };
    EventRow {
        at: uk_time(e.at),
        who: match member_org {
            Some(org) => format!("{org} (LIN member)"),
            None => who(e, n.cdaos, n.organisation, from_reporter),
        },
        reply_href: (e.kind == "member_response")
            .then(|| d.get("alert_id").and_then(Value::as_str))
            .flatten()
            .and_then(|a| Uuid::parse_str(a).ok())
            .map(|a| format!("/alerts/{a}/conversation")),
        title,
        lines,
        internal,
    }
}

fn action_label(a: &str) -> &'static str {
    match a {
        "case.viewed" => "Viewed the case",
        "case.identity_viewed" => "Viewed the case and the identities in it",
        "case.attachment_downloaded" => "Downloaded evidence",
        "case.exported" => "Exported it in a list",
        _ => "Looked at it",
    }
}

fn size_text(bytes: i32) -> String {
    let b = f64::from(bytes);
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

fn matrix(current: Option<(u8, u8)>) -> Vec<MatrixRow> {
    (1..=5u8)
        .rev()
        .map(|l| MatrixRow {
            likelihood_text: format!("{l} {}", LIKELIHOODS[usize::from(l - 1)]),
            cells: (1..=5u8)
                .map(|c| {
                    let g = rules::risk_grade(c, l);
                    MatrixCell {
                        score: c * l,
                        grade_text: g.map(|g| grade_label(g.grade)).unwrap_or("").into(),
                        current: current == Some((c, l)),
                    }
                })
                .collect(),
        })
        .collect()
}

/// Draws the case page (after an action that did not go through, with its errors).
async fn render(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    again: Again,
    flash: Option<String>,
) -> AppResult<Response> {
    let c: CaseView = reports::view_case(state, actor, id).await?;
    let own = c.triage.is_some();
    let (cdaos, areas) = tokio::try_join!(cdao_names(state, actor), area_names(state))?;
    let status = CaseStatus::parse(&c.status).unwrap_or(CaseStatus::New);
    let is_closed = status == CaseStatus::Closed;
    let (status_text, status_colour) = status_tag(&c.status);
    let (priority_text, priority_colour) = if own {
        priority_tag(c.priority.as_deref())
    } else {
        (String::new(), String::new())
    };
    let area_name = areas.get(&c.area_id).cloned().unwrap_or_default();
    let triage_view = c.triage.as_ref();
    let suggested = triage_view
        .and_then(|t| t.facts.priority_suggested.as_deref())
        .and_then(Priority::parse);
    let risk = triage_view.and_then(|t| t.risk);
    let overdue = triage_view.is_some_and(|t| t.overdue);

    let mut summary = vec![
        row("Kind", vec![kind_label(&c.kind).into()]),
        row(
            "Reported by",
            vec![
                c.organisation_name
                    .clone()
                    .unwrap_or_else(|| "Not shared with your team".into()),
            ],
        ),
    ];
    if let Some(t) = triage_view {
        summary.push(row("Sector", vec![sector_label(&t.facts.sector)]));
    }
    summary.push(row("Area", vec![area_name.clone()]));
    summary.push(row("Submitted", vec![uk_time(c.submitted_at)]));
    let mut risk_text = String::new();
    let mut risk_colour = String::new();
    if let Some(t) = triage_view {
        let due = match (t.facts.triage_due_at, t.facts.triaged_at) {
            (_, Some(done)) => format!("Triaged {}", uk_time(done)),
            (_, None) if c.status == "awaiting_information" => {
                "Not triaged yet: information has been requested from the reporter".into()
            }
            (Some(due), None) if t.overdue => format!("Overdue: was due by {}", uk_time(due)),
            (Some(due), None) => format!("Due by {}", uk_time(due)),
            (None, None) => "No target".into(),
        };
        summary.push(row("Triage target", vec![due]));
        summary.push(row(
            "Assigned to",
            vec![
                t.facts
                    .assignee_name
                    .clone()
                    .unwrap_or_else(|| "Not assigned".into()),
            ],
        ));
        summary.push(row(
            "Priority",
            vec![
                if priority_text.is_empty() {
                    "Not set".to_string()
                } else {
                    priority_text.clone()
                },
                match suggested {
                    Some(p) => format!("Suggested from the report: {}", p.label()),
                    None => String::new(),
                },
            ]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect(),
        ));
        match risk {
            Some(r) => {
                risk_text = format!(
                    "{}: consequence {} ({}) × likelihood {} ({}) = {}",
                    grade_label(r.grade),
                    r.consequence,
                    CONSEQUENCES[usize::from(r.consequence.clamp(1, 5) - 1)].to_lowercase(),
                    r.likelihood,
                    LIKELIHOODS[usize::from(r.likelihood.clamp(1, 5) - 1)].to_lowercase(),
                    r.score
                );
                risk_colour = grade_colour(r.grade).into();
            }
            None => risk_text = "Not graded yet".into(),
        }
        if is_closed {
            summary.push(row(
                "Outcome",
                vec![
                    t.facts
                        .outcome
                        .as_deref()
                        .and_then(Outcome::parse)
                        .map(|o| o.label().to_string())
                        .unwrap_or_default(),
                    format!(
                        "Well founded: {}",
                        t.facts
                            .well_founded
                            .as_deref()
                            .and_then(WellFounded::parse)
                            .map(|w| w.label().to_string())
                            .unwrap_or_default()
                    ),
                    t.facts
                        .closed_at
                        .map(|at| format!("Closed {}", uk_time(at)))
                        .unwrap_or_default(),
                ],
            ));
        }
    }

    // The report as submitted.
    let mut report_rows = Vec::new();
    let mut drugs = Vec::new();
    let mut alleged = false;
    let mut concern_status = String::new();
    if c.details_removed_at.is_some() {
        let r = crate::disclosure::shared_report(&c.kind, &c.report);
        (report_rows, drugs) = shared_rows(&r);
        concern_status = r
            .concern_status
            .as_deref()
            .and_then(crate::domain::report::ConcernStatus::parse)
            .map(|s| s.label().to_string())
            .unwrap_or_default();
    } else if c.share.is_some() {
        if let Ok(r) = serde_json::from_value::<crate::disclosure::SharedReport>(c.report.clone()) {
            (report_rows, drugs) = shared_rows(&r);
            alleged = r.concern_status.as_deref() == Some("alleged");
            concern_status = r
                .concern_status
                .as_deref()
                .and_then(crate::domain::report::ConcernStatus::parse)
                .map(|s| s.label().to_string())
                .unwrap_or_default();
        }
    } else if c.kind == "incident" {
        if let Ok(inc) = serde_json::from_value::<Incident>(c.report.clone()) {
            (report_rows, drugs) = incident_rows(&inc);
        }
    } else if let Ok(pc) = serde_json::from_value::<PersonConcern>(c.report.clone()) {
        report_rows = concern_rows(state, actor, &pc).await?;
        alleged = pc.status == crate::domain::report::ConcernStatus::Alleged;
        concern_status = pc.status.label().to_string();
    }
    // Online prescribing from outside the UK and CBPM facts (issue 12).
    for (key, lines) in crate::web::pages::report_facts::report_rows(&c.report) {
        report_rows.push(row(&key, lines));
    }
    if report_rows.is_empty() {
        report_rows.push(row(
            "Report",
            vec!["The report could not be shown. Ask the service team for help.".into()],
        ));
    }
    let erasures = if own && !c.persons.is_empty() {
        crate::erasure::of_case(state, actor, id).await?
    } else {
        vec![]
    };
    let persons: Vec<PersonCard> = c
        .persons
        .iter()
        .map(|p| {
            let mut card = person_card(p);
            card.erasure_field = format!("erasure-reason-{}", p.id);
            card.erasure_value = again.posted.get(&card.erasure_field).to_string();
            card.erasure_error = again.errors.get(&card.erasure_field).map(str::to_string);
            card.pending = erasures
                .iter()
                .find(|e| e.person_id == p.id && e.status == "pending")
                .map(|e| {
                    let decline_field = format!("erasure-decline-{}", e.id);
                    PendingErasure {
                        id: e.id,
                        reason_lines: text_lines(&e.reason),
                        asked_by: cdaos
                            .get(&e.requested_by)
                            .cloned()
                            .unwrap_or_else(|| "A CDAO".into()),
                        asked_at: uk_time(e.created_at),
                        can_decide: e.requested_by != actor.user_id,
                        decline_value: again.posted.get(&decline_field).to_string(),
                        decline_error: again.errors.get(&decline_field).map(str::to_string),
                        decline_field,
                    }
                });
            card
        })
        .collect();
    let amendment_text: HashMap<Uuid, Vec<String>> = c
        .amendments
        .iter()
        .map(|a| (a.id, text_lines(&a.text)))
        .collect();
    let attachment_names: HashMap<Uuid, String> = c
        .attachments
        .iter()
        .map(|a| (a.id, a.filename.clone()))
        .collect();

    // A prescriber code of the case reported at many work addresses (issue 12).
    let prescriber_spread: Vec<(String, String)> = if own && !c.persons.is_empty() {
        crate::prescribers::spread_codes_of_case(state, actor, id)
            .await?
            .into_iter()
            .map(|s| {
                (
                    format!(
                        "This prescriber code has been reported at {} different work addresses in {} reports in your areas.",
                        s.addresses, s.reports
                    ),
                    s.href,
                )
            })
            .collect()
    } else {
        vec![]
    };
    // Matches (persons only), with what the team may see of each.
    let mut matches = Vec::new();
    if own && !c.persons.is_empty() {
        let matched = triage::matches(state, actor, id).await?.items;
        let seen: Vec<Uuid> = matched.iter().filter_map(|m| m.case_id).collect();
        let briefs = reports::briefs(state, actor, &seen).await?;
        for m in matched {
            let field_id = format!("access-reason-{}", m.area_id);
            let mut v = MatchView {
                case_id: m.case_id,
                reference: m.case_reference.clone().unwrap_or_default(),
                organisation: String::new(),
                submitted: String::new(),
                status_text: String::new(),
                status_colour: String::new(),
                area_id: m.area_id,
                area_name: m.area_name.clone(),
                matched_on: matched_on_text(&m.matched_on),
                request_text: String::new(),
                request_colour: String::new(),
                can_request: false,
                reason_value: if again.posted.get("area_id") == m.area_id.to_string() {
                    again.posted.get("reason").to_string()
                } else {
                    String::new()
                },
                reason_error: again.errors.get(&field_id).map(str::to_string),
                request_button: format!("Ask the {} CDAO team for access", m.area_name),
                field_id,
            };
            match m.case_id {
                Some(other) => {
                    if let Some(o) = briefs.iter().find(|b| b.id == other) {
                        v.organisation = o.organisation_name.clone().unwrap_or_default();
                        v.submitted = uk_date(o.submitted_at);
                        (v.status_text, v.status_colour) = status_tag(&o.status);
                    }
                }
                None => {
                    let (text, colour) = match m.access_request.as_deref() {
                        Some("pending") => (
                            "Your team asked for access: waiting for a decision",
                            "yellow",
                        ),
                        Some("approved") => ("Your team was given access", "green"),
                        Some("declined") => ("Your team's request was declined", "red"),
                        _ => ("", ""),
                    };
                    v.request_text = text.into();
                    v.request_colour = colour.into();
                    v.can_request = own && !matches!(m.access_request.as_deref(), Some("pending"));
                }
            }
            matches.push(v);
        }
    }

    let links: Vec<LinkView> = triage_view
        .map(|t| {
            t.links
                .iter()
                .map(|l| LinkView {
                    case_id: l.case_id,
                    reference: l.reference.clone(),
                    relation_text: match l.relation.as_str() {
                        "duplicate_of" => "This case is a duplicate of",
                        "duplicated_by" => "Duplicated by",
                        _ => "Related to",
                    }
                    .into(),
                    created: uk_date(l.created_at),
                })
                .collect()
        })
        .unwrap_or_default();
    let link_refs: HashMap<Uuid, String> = links
        .iter()
        .map(|l| (l.case_id, l.reference.clone()))
        .collect();
    // Member organisations the case was shared with, for naming their acknowledgements.
    let member_orgs: HashMap<Uuid, String> = c
        .triage
        .iter()
        .flat_map(|t| t.shares.iter())
        .flat_map(|sh| sh.recipients.iter())
        .map(|r| (r.organisation_id, r.organisation_name.clone()))
        .collect();
    let names = Names {
        member_orgs: &member_orgs,
        cdaos: &cdaos,
        areas: &areas,
        links: &link_refs,
        amendments: &amendment_text,
        attachments: &attachment_names,
        organisation: c
            .organisation_name
            .as_deref()
            .unwrap_or("the reporting organisation"),
    };
    // Another area's internal notes and triage stay with that area's team, even on a case
    // granted to this one (SPEC §3: internal notes, risk, assignment are own areas only).
    let timeline: Vec<EventRow> = c
        .timeline
        .iter()
        .rev()
        .map(|e| event_row(e, &names))
        .filter(|e| own || !e.internal)
        .collect();

    let access_log = if own {
        triage::access_log(state, actor, id)
            .await?
            .into_iter()
            .map(|e| LogRow {
                at: uk_time(e.at),
                who: e.actor_name.unwrap_or_else(|| "Unknown user".into()),
                role_text: e
                    .actor_role
                    .as_deref()
                    .and_then(Role::parse)
                    .map(|r| r.label().to_string())
                    .unwrap_or_default(),
                action_text: action_label(&e.action).into(),
                purpose: e.purpose.unwrap_or_default(),
            })
            .collect()
    } else {
        vec![]
    };

    // The forms: only what makes sense for this status.
    let mut status_options = vec![(
        status.code().to_string(),
        format!("Keep as {}", status.label().to_lowercase()),
    )];
    for next in [CaseStatus::InReview, CaseStatus::Investigating] {
        if rules::triage_move_allowed(status, next) {
            status_options.push((next.code().to_string(), next.label().to_string()));
        }
    }
    let priority_options: Vec<(String, String)> = Priority::ALL
        .iter()
        .map(|p| {
            (
                p.code().to_string(),
                if Some(*p) == suggested {
                    format!("{} (suggested)", p.label())
                } else {
                    p.label().to_string()
                },
            )
        })
        .collect();
    let mut assignee_options = vec![(String::new(), "Not assigned".to_string())];
    if own {
        let users = crate::directory::users(
            state,
            actor,
            &dir::UserFilter {
                role: Some("cdao".into()),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await?;
        assignee_options.extend(
            users
                .into_iter()
                .filter(|u| u.area_ids.contains(&c.area_id))
                .map(|u| (u.id.to_string(), u.name)),
        );
    }
    let scale = |labels: [&str; 5]| {
        let mut o = vec![(String::new(), "Not graded".to_string())];
        o.extend(
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| ((i + 1).to_string(), format!("{} {l}", i + 1))),
        );
        o
    };
    let shares = share_rows(state, actor, &c, &again);
    let mut v = again.posted;
    v.fill("status", status.code());
    v.fill(
        "priority",
        c.priority
            .clone()
            .or(suggested.map(|p| p.code().to_string()))
            .unwrap_or_default(),
    );
    v.fill(
        "assignee_id",
        triage_view
            .and_then(|t| t.facts.assignee_id)
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    let current_risk = risk.map(|r| (r.consequence, r.likelihood));
    v.fill(
        "risk_consequence",
        current_risk.map(|r| r.0.to_string()).unwrap_or_default(),
    );
    v.fill(
        "risk_likelihood",
        current_risk.map(|r| r.1.to_string()).unwrap_or_default(),
    );
    v.fill(
        "risk_was",
        current_risk
            .map(|(c, l)| format!("{c},{l}"))
            .unwrap_or_default(),
    );
    let has_errors = !again.errors.is_empty() || again.conflict.is_some();
    // Back to the list as it was (filters and order), and its next and previous cases.
    let (back, previous_case, next_case) = match again.list.as_deref() {
        Some(list) => {
            let params = Params(
                url::form_urlencoded::parse(list.as_bytes())
                    .into_owned()
                    .filter(|(k, _)| k != "cursor")
                    .collect(),
            );
            let link = |b: reports::Brief| {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("list", list);
                (format!("/cases/{}?{}", b.id, q.finish()), b.reference)
            };
            let (p, n) = match crate::web::api::cases::parse_case_filter(&params) {
                Ok(f) => reports::neighbours(state, actor, &f, c.submitted_at, c.id).await?,
                Err(_) => (None, None),
            };
            (
                if list.is_empty() {
                    "/cases".to_string()
                } else {
                    format!("/cases?{list}")
                },
                p.map(link),
                n.map(link),
            )
        }
        None => ("/cases".to_string(), None, None),
    };
    let layout = for_actor(actor, page_title(&c.reference, has_errors), "/cases").with_back(back);
    page_with_status(
        again.status,
        &CasePage {
            shares,
            layout,
            flash,
            errors: again.errors,
            conflict: again.conflict,
            id: c.id,
            reference: c.reference.clone(),
            kind_text: kind_label(&c.kind).into(),
            summary,
            status_text,
            status_colour,
            priority_text,
            priority_colour,
            overdue,
            risk_text,
            risk_colour,
            own,
            holding_team: area_name,
            details_removed: c.details_removed_at.map(uk_date).unwrap_or_default(),
            share_purpose: c
                .share
                .as_ref()
                .map(|s| s.purpose.clone())
                .unwrap_or_default(),
            share_summary: c
                .share
                .as_ref()
                .map(|s| s.summary.clone())
                .unwrap_or_default(),
            share_expiry: c
                .share
                .as_ref()
                .map(|s| uk_date(s.expires_at))
                .unwrap_or_default(),
            is_closed,
            previous_case,
            next_case,
            assigned_to_me: c
                .triage
                .as_ref()
                .is_some_and(|t| t.facts.assignee_id == Some(actor.user_id)),
            me: actor.user_id,
            list: again.list.clone(),
            report_rows,
            high_dose_case: drugs.iter().any(|d| d.high_dose),
            drugs,
            alleged,
            concern_status,
            persons,
            amendments: c
                .amendments
                .iter()
                .map(|a| AmendmentRow {
                    created: uk_time(a.created_at),
                    lines: text_lines(&a.text),
                })
                .collect(),
            attachments: c
                .attachments
                .iter()
                .map(|a| AttachmentRow {
                    id: a.id,
                    filename: a.filename.clone(),
                    size_text: size_text(a.size_bytes),
                    created: uk_time(a.created_at),
                    holds_patient_data: a.holds_patient_data,
                })
                .collect(),
            timeline,
            has_persons: !c.persons.is_empty(),
            prescriber_spread,
            visible_matches: matches.iter().filter(|x| x.case_id.is_some()).count(),
            matches,
            links,
            access_log,
            matrix: matrix(current_risk),
            status_options,
            priority_options,
            priority_hint: suggested.map(|p| {
                format!(
                    "Suggested from the harm, schedules and categories reported: {}.",
                    p.label()
                )
            }),
            assignee_options,
            consequence_options: scale(CONSEQUENCES),
            likelihood_options: scale(LIKELIHOODS),
            outcome_options: Outcome::options(),
            well_founded_options: WellFounded::options(),
            relation_options: vec![
                (
                    LinkRelation::Related.code().to_string(),
                    "Related to this case".to_string(),
                ),
                (
                    LinkRelation::DuplicateOf.code().to_string(),
                    "This case is a duplicate of it".to_string(),
                ),
            ],
            can_request_information: rules::can_request_information(status),
            ask_selected: v.all("request_information"),
            v,
        },
    )
}

/// The case page. A reporter or organisation lead reads their report on its own page.
pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    params: Params,
) -> AppResult<Response> {
    if matches!(actor.role, Role::Reporter | Role::OrgLead) {
        reports::briefs(&state, &actor, &[id])
            .await?
            .first()
            .ok_or(AppError::NotFound)?;
        return Ok(redirect(&format!("/reports/{id}")));
    }
    let flash = take_flash(&state, &auth).await?;
    let again = Again {
        list: params
            .get("list")
            .map(str::to_string)
            .or_else(|| params.0.iter().any(|(k, _)| k == "list").then(String::new)),
        ..Again::none()
    };
    render(&state, &actor, id, again, flash).await
}

/// The answer to an action on a case, for other page modules.
pub async fn answer_case(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    id: Uuid,
    result: AppResult<String>,
    posted: Posted,
    rename: &(dyn Fn(&str) -> String + Sync),
) -> AppResult<Response> {
    answer(state, auth, actor, id, result, posted, rename).await
}

/// The answer to an action: back to the case with a message, or the page with what failed.
async fn answer(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    id: Uuid,
    result: AppResult<String>,
    posted: Posted,
    rename: &(dyn Fn(&str) -> String + Sync),
) -> AppResult<Response> {
    // The list the case was opened from, carried by the forms (see `list_field`).
    let list = posted
        .0
        .iter()
        .find(|(k, _)| k == "list")
        .map(|(_, v)| v.clone());
    match result {
        Ok(message) => {
            set_flash(state, auth, &message).await?;
            Ok(redirect(&match list {
                Some(l) => {
                    let mut q = url::form_urlencoded::Serializer::new(String::new());
                    q.append_pair("list", &l);
                    format!("/cases/{id}?{}", q.finish())
                }
                None => format!("/cases/{id}"),
            }))
        }
        Err(AppError::Validation(e)) => {
            let again = Again {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: errors_as(e, rename),
                conflict: None,
                posted,
                list,
            };
            render(state, actor, id, again, None).await
        }
        Err(AppError::Conflict(m)) => {
            let again = Again {
                status: StatusCode::CONFLICT,
                errors: FieldErrors::new(),
                conflict: Some(m),
                posted,
                list,
            };
            render(state, actor, id, again, None).await
        }
        Err(e) => Err(e),
    }
}

type Form = PageForm<Vec<(String, String)>>;

pub async fn triage(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let f = Posted(form);
    let assignee = f.opt("assignee_id");
    let assignee_id = match &assignee {
        None => None,
        Some(a) => match Uuid::parse_str(a) {
            Ok(u) => Some(u),
            Err(_) => {
                let r = Err(AppError::validation(
                    "assignee_id",
                    "Select a CDAO of the case's area from the list",
                ));
                return answer(&state, &auth, &actor, id, r, f, &|k| k.to_string()).await;
            }
        },
    };
    // "Not assigned" clears the assignment; a form without the field leaves it alone.
    let unassign =
        f.0.iter()
            .any(|(k, v)| k == "assignee_id" && v.trim().is_empty());
    let grade = |k: &str| f.opt(k).map(|v| v.parse::<u8>().unwrap_or(0));
    let (cq, lk) = (grade("risk_consequence"), grade("risk_likelihood"));
    // The form shows the current grade: send it only when it changed, so the timeline
    // records a new grading and not every save.
    let unchanged = match (cq, lk) {
        (None, None) => true,
        (Some(c), Some(l)) => format!("{c},{l}") == f.get("risk_was"),
        _ => false,
    };
    let risk = (!unchanged).then_some(RiskInput {
        consequence: cq,
        likelihood: lk,
    });
    let input = TriageInput {
        status: f.opt("status"),
        priority: f.opt("priority"),
        assignee_id,
        unassign,
        risk,
        note: f.opt("note"),
    };
    let r = triage::triage(&state, &actor, id, &input)
        .await
        .map(|()| "Triage saved.".to_string());
    answer(&state, &auth, &actor, id, r, f, &|k| match k {
        "risk" => "risk_consequence".into(),
        other => other.into(),
    })
    .await
}

pub async fn message(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let f = Posted(form);
    let input = MessageInput {
        body: f.opt("body"),
        request_information: f.get("request_information") == "true",
    };
    let r = triage::message(&state, &actor, id, &input).await.map(|sent| {
        if sent.status == "awaiting_information" && input.request_information {
            "Your request for information has been sent to the reporter. The case is awaiting information until they answer.".to_string()
        } else {
            "Your message has been sent to the reporter.".to_string()
        }
    });
    answer(&state, &auth, &actor, id, r, f, &|k| k.to_string()).await
}

/// Finds a case by its reference (or id) among those the actor may see.
async fn resolve_case(state: &AppState, actor: &Actor, text: &str) -> AppResult<Option<Uuid>> {
    let text = text.trim();
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok(Some(id));
    }
    let reference = text.to_uppercase();
    if !reference.starts_with("CD-") {
        return Ok(None);
    }
    let f = CaseFilter {
        q: Some(reference.clone()),
        limit: 5,
        ..Default::default()
    };
    let (items, _) = case_page(state, actor, &f).await?;
    Ok(items
        .into_iter()
        .find(|c| c.reference == reference)
        .map(|c| c.id))
}

pub async fn link(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let f = Posted(form);
    let wanted = f.opt("link_case");
    let other = match &wanted {
        Some(t) => resolve_case(&state, &actor, t).await?,
        None => None,
    };
    let input = LinkInput {
        case_id: other,
        relation: f.opt("relation"),
    };
    let mut r = triage::link(&state, &actor, id, &input)
        .await
        .map(|()| "The cases are linked.".to_string());
    if wanted.is_some()
        && other.is_none()
        && let Err(AppError::Validation(errors)) = &mut r
    {
        for e in errors.iter_mut() {
            if e.field == "case_id" {
                e.message =
                    "There is no case with this reference that you can see: enter a reference like CD-2026-000123".into();
            }
        }
    }
    answer(&state, &auth, &actor, id, r, f, &|k| match k {
        "case_id" => "link_case".into(),
        other => other.into(),
    })
    .await
}

pub async fn close(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let f = Posted(form);
    let input = CloseInput {
        outcome: f.opt("outcome"),
        well_founded: f.opt("well_founded"),
        note: f.opt("close_note"),
    };
    let r = triage::close(&state, &actor, id, &input)
        .await
        .map(|()| "The case has been closed.".to_string());
    answer(&state, &auth, &actor, id, r, f, &|k| match k {
        "note" => "close_note".into(),
        other => other.into(),
    })
    .await
}

pub async fn reopen(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let f = Posted(form);
    let input = ReopenInput {
        reason: f.opt("reopen_reason"),
    };
    let r = triage::reopen(&state, &actor, id, &input)
        .await
        .map(|()| "The case has been reopened and is back in review.".to_string());
    answer(&state, &auth, &actor, id, r, f, &|_| "reopen_reason".into()).await
}

/// Asks the team holding a possible match for access to it.
pub async fn request_access(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let f = Posted(form);
    let area_id = f.opt("area_id").and_then(|a| Uuid::parse_str(&a).ok());
    let input = AccessRequestInput {
        case_id: Some(id),
        area_id,
        reason: f.opt("reason"),
        lawful_basis: None,
    };
    let r = triage::request_access(&state, &actor, &input)
        .await
        .map(|req| {
            format!(
                "Your request has been sent to the {} CDAO team. You will see their decision on this page and under Access requests.",
                req.holding_area_name
            )
        });
    let field = format!(
        "access-reason-{}",
        area_id.map(|a| a.to_string()).unwrap_or_default()
    );
    answer(&state, &auth, &actor, id, r, f, &|_| field.clone()).await
}

/// A file of evidence, as a download.
pub async fn attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let (name, ct, data) = crate::attachments::get(&state, &actor, id, att).await?;
    Ok(download(&name, &ct, data))
}

/// A share as the case page shows it.
pub struct ShareRow {
    pub id: Uuid,
    pub heading: String,
    pub state: &'static str,
    pub state_colour: &'static str,
    pub facts: Vec<(String, String)>,
    pub recipients: Vec<(String, String)>,
    pub responses: Vec<(String, String, String)>,
    pub can_approve: bool,
    pub can_revoke: bool,
    pub can_decline: bool,
    /// The decline form's reason field (its id names the share), its value and error.
    pub decline_field: String,
    pub decline_value: String,
    pub decline_error: Option<String>,
}

fn share_rows(state: &AppState, actor: &Actor, c: &CaseView, again: &Again) -> Vec<ShareRow> {
    let now = state.now();
    let Some(t) = &c.triage else { return vec![] };
    let evidence: HashMap<Uuid, &str> = c
        .attachments
        .iter()
        .map(|a| (a.id, a.filename.as_str()))
        .collect();
    t.shares
        .iter()
        .map(|d| {
            let s = &d.share;
            let (state_text, colour) = if s.revoked_at.is_some() {
                ("Revoked", "grey")
            } else if s.approval == "declined" {
                ("Declined", "red")
            } else if s.expires_at <= now {
                ("Expired", "grey")
            } else if s.approval == "pending" {
                ("Waiting for a second CDAO", "orange")
            } else {
                ("Live", "green")
            };
            let mut facts = vec![
                (
                    "Shared by".to_string(),
                    format!(
                        "{} on {}",
                        s.created_by_name,
                        crate::web::pages::account::uk_time(s.created_at)
                    ),
                ),
                (
                    "Disclosure".to_string(),
                    format!(
                        "{}{}",
                        crate::domain::share::Disclosure::parse(&s.disclosure)
                            .map(|x| x.label())
                            .unwrap_or(""),
                        if s.include_patient_data {
                            ", with patient data"
                        } else {
                            ""
                        }
                    ),
                ),
                ("Purpose".to_string(), s.purpose.clone()),
                (
                    "Lawful basis".to_string(),
                    crate::domain::share::LawfulBasis::parse(&s.lawful_basis)
                        .map(|x| x.label())
                        .unwrap_or("")
                        .to_string(),
                ),
                ("Summary".to_string(), s.summary.clone()),
                (
                    "Available until".to_string(),
                    crate::web::pages::account::uk_date(s.expires_at),
                ),
            ];
            if let Some(reason) = &s.patient_data_reason {
                facts.push(("Why patient data".to_string(), reason.clone()));
            }
            facts.push((
                "Evidence".to_string(),
                if s.attachment_ids.is_empty() {
                    "None".to_string()
                } else {
                    s.attachment_ids
                        .iter()
                        .map(|a| evidence.get(a).copied().unwrap_or("a file"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ));
            if let Some(reason) = &s.decline_reason {
                facts.push(("Why it was declined".to_string(), reason.clone()));
            }
            let recipients = d
                .recipients
                .iter()
                .map(|r| {
                    let status = if let Some(a) = r.acknowledged_at {
                        format!("Acknowledged {}", crate::web::pages::account::uk_time(a))
                    } else if r.received_at.is_none() {
                        "Not yet sent".to_string()
                    } else if r.ack_due_at.is_some_and(|due| due < now) {
                        format!("Not acknowledged: overdue ({} reminders)", r.reminders)
                    } else if let Some(read) = r.read_at {
                        format!(
                            "Read {}, not yet acknowledged",
                            crate::web::pages::account::uk_time(read)
                        )
                    } else {
                        "Not yet read".to_string()
                    };
                    (r.organisation_name.clone(), status)
                })
                .collect();
            let responses = d
                .responses
                .iter()
                .map(|r| {
                    let org = d
                        .recipients
                        .iter()
                        .find(|x| x.alert_id == r.alert_id)
                        .map(|x| x.organisation_name.clone())
                        .unwrap_or_default();
                    let action = r
                        .action_taken
                        .as_deref()
                        .and_then(crate::domain::share::ActionTaken::parse)
                        .map(|a| format!(" · {}", a.label()))
                        .unwrap_or_default();
                    (
                        format!("{org}{action}"),
                        crate::web::pages::account::uk_time(r.created_at),
                        r.body.clone(),
                    )
                })
                .collect();
            let heading = match &s.recipient_area_name {
                Some(area) => format!("Shared with the {area} CDAO team"),
                None => format!(
                    "Shared with {}",
                    d.recipients
                        .iter()
                        .map(|r| r.organisation_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let pending = s.approval == "pending" && s.revoked_at.is_none();
            let decline_field = format!("decline-reason-{}", s.id);
            ShareRow {
                id: s.id,
                heading,
                state: state_text,
                state_colour: colour,
                facts,
                recipients,
                responses,
                can_approve: pending && s.created_by != actor.user_id,
                can_decline: pending && s.created_by != actor.user_id,
                can_revoke: s.revoked_at.is_none()
                    && s.approval != "declined"
                    && s.expires_at > now,
                decline_value: again.posted.get(&decline_field).to_string(),
                decline_error: again.errors.get(&decline_field).map(str::to_string),
                decline_field,
            }
        })
        .collect()
}

/// A second CDAO declines a pending share from the case page, with a reason its author sees.
pub async fn decline_share(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(share_id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let case_id = crate::shares::case_of_share(&state, &actor, share_id).await?;
    let f = Posted(form);
    let field = format!("decline-reason-{share_id}");
    let input = crate::shares::DeclineInput {
        reason: f.opt(&field),
    };
    let r = crate::shares::decline(&state, &actor, share_id, &input)
        .await
        .map(|_| {
            "You declined the share. Its author can see your reason; nothing was sent.".to_string()
        });
    if let Err(AppError::Forbidden(m)) = &r {
        set_flash(&state, &auth, m).await?;
        return Ok(redirect(&format!("/cases/{case_id}#shares")));
    }
    answer(&state, &auth, &actor, case_id, r, f, &|_| field.clone()).await
}

/// The holding team marks a file as holding patient data, or not.
pub async fn mark_attachment(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
    PageForm(form): Form,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let f = Posted(form);
    let holds = f.get("holds_patient_data") == "yes";
    let a = crate::attachments::mark_patient_data(&state, &actor, id, att, holds).await?;
    let msg = if holds {
        format!(
            "{} is marked as holding patient data: it travels on a share only with patient data.",
            a.filename
        )
    } else {
        format!(
            "{} is no longer marked as holding patient data.",
            a.filename
        )
    };
    set_flash(&state, &auth, &msg).await?;
    Ok(redirect(&format!("/cases/{id}#evidence")))
}
