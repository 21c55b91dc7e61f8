//! The LIN member's alerts: the inbox, an alert exactly as shared, acknowledging and
//! responding.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::report::{
    CaseStatus, ConcernCategory, ConcernStatus, Harm, IncidentCategory, Provenance,
};
use crate::domain::share::{ActionRequired, ActionTaken, Disclosure, LawfulBasis};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::shares::{self, AlertItem, AlertView, InboxFilter, ResponseInput};
use crate::state::AppState;
use crate::web::extract::{PageForm, Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::{uk_date, uk_time};
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

pub struct Row {
    pub id: Uuid,
    pub reference: String,
    pub received: String,
    pub disclosure: String,
    pub action_required: String,
    pub respond_by: String,
    pub tags: Vec<(String, &'static str)>,
    /// What the alert is about, as far as its share discloses (never a name).
    pub summary: String,
}

#[derive(Template)]
#[template(path = "alerts/list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    filter: String,
    unread: usize,
    /// This page follows newer ones (it came from a cursor).
    older: bool,
    /// The link to the page of older alerts, if any follow.
    next_href: Option<String>,
    /// The link back to the newest alerts, on a later page.
    first_href: Option<String>,
    /// The page link's cursor was not one this service made: this is the first page.
    bad_cursor: bool,
    flash: Option<String>,
}

/// The inbox's address with this filter, after a cursor if given.
fn inbox_href(filter: InboxFilter, cursor: Option<&str>) -> String {
    let mut query = Vec::new();
    if filter != InboxFilter::All {
        query.push(format!("filter={}", filter.code()));
    }
    if let Some(c) = cursor {
        query.push(format!("cursor={c}"));
    }
    if query.is_empty() {
        "/alerts".into()
    } else {
        format!("/alerts?{}", query.join("&"))
    }
}

fn tags(a: &AlertItem) -> Vec<(String, &'static str)> {
    let mut t = Vec::new();
    match a.state.as_str() {
        "expired" => t.push(("Expired".to_string(), "grey")),
        "revoked" => t.push(("Withdrawn".to_string(), "grey")),
        _ => {}
    }
    if a.read_at.is_none() {
        t.push(("Unread".to_string(), "blue"));
    }
    if a.acknowledged_at.is_some() {
        t.push(("Acknowledged".to_string(), "green"));
    } else if a.overdue {
        t.push(("Acknowledgement overdue".to_string(), "red"));
    } else if a.state == "live" {
        t.push(("Not acknowledged".to_string(), "orange"));
    }
    t
}

pub async fn list(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let filter = params
        .get("filter")
        .and_then(InboxFilter::parse)
        .unwrap_or(InboxFilter::All);
    let cursor = params.get("cursor");
    let after = cursor.and_then(crate::web::api::cursor::decode);
    let (list, cat) = tokio::try_join!(
        shares::list_alerts(&state, &actor, filter, after, true),
        crate::reports::catalogue(&state)
    )?;
    let facts = &list.facts;
    let rows = list
        .items
        .iter()
        .map(|a| Row {
            summary: facts.get(&a.id).map_or_else(String::new, |f| {
                crate::web::pages::cdao::summary_text(
                    &f.kind,
                    &f.categories,
                    &f.drug_ids,
                    &cat,
                    f.harm.as_deref(),
                    &f.subject_types,
                )
            }),
            id: a.id,
            reference: a.case_reference.clone(),
            received: a.received_at.map(uk_time).unwrap_or_default(),
            disclosure: if a.disclosure == "identified" {
                "Identified"
            } else {
                "Summary"
            }
            .to_string(),
            action_required: ActionRequired::parse(&a.action_required)
                .map(|x| x.label())
                .unwrap_or("")
                .to_string(),
            respond_by: a
                .respond_by
                .map(|d| d.format("%-d %B %Y").to_string())
                .unwrap_or_else(|| "—".into()),
            tags: tags(a),
        })
        .collect();
    let flash = take_flash(&state, &auth).await?;
    page(&ListPage {
        layout: for_actor(&actor, "Alerts", "/alerts"),
        rows,
        filter: filter.code().to_string(),
        unread: list.unread,
        older: after.is_some(),
        next_href: crate::web::api::shares::next_alerts_cursor(&list)
            .map(|c| inbox_href(filter, Some(&c))),
        first_href: after.map(|_| inbox_href(filter, None)),
        bad_cursor: cursor.is_some() && after.is_none(),
        flash,
    })
}

/// One message of an alert's conversation, as shown.
pub struct MessageRow {
    pub at: String,
    pub from_cdao: bool,
    pub author: String,
    pub action_taken: String,
    pub body: String,
}

pub fn message_rows(messages: Vec<crate::alert_conversation::Message>) -> Vec<MessageRow> {
    messages
        .into_iter()
        .map(|m| MessageRow {
            at: uk_time(m.at),
            from_cdao: m.from_cdao,
            author: m.author,
            action_taken: m
                .action_taken
                .as_deref()
                .and_then(ActionTaken::parse)
                .map(|x| x.label().to_string())
                .unwrap_or_default(),
            body: m.body,
        })
        .collect()
}

pub struct PersonRows {
    pub heading: String,
    pub rows: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "alerts/show.html")]
struct ShowPage {
    layout: Layout,
    a: AlertView,
    id: Uuid,
    state_note: Option<String>,
    facts: Vec<(String, String)>,
    report_rows: Vec<(String, String)>,
    persons: Vec<PersonRows>,
    messages: Vec<MessageRow>,
    contacts: crate::alert_conversation::Contacts,
    can_act: bool,
    acknowledged: Option<String>,
    errors: FieldErrors,
    body_value: String,
    action_value: String,
    action_options: Vec<(String, String)>,
    flash: Option<String>,
}

fn label_category(code: &str) -> String {
    IncidentCategory::parse(code)
        .map(|c| c.label())
        .or_else(|| ConcernCategory::parse(code).map(|c| c.label()))
        .unwrap_or(code)
        .to_string()
}

/// Summary-list rows: (key, value).
pub type Rows = Vec<(String, String)>;

/// What an alert shows, as summary-list rows (also the CDAO's preview of a share).
pub fn sections(a: &AlertView) -> (Rows, Rows, Vec<PersonRows>) {
    let mut facts = vec![
        ("Reference".to_string(), a.case_reference.clone()),
        (
            "Received".to_string(),
            a.received_at.map(uk_time).unwrap_or_default(),
        ),
        (
            "Disclosure".to_string(),
            Disclosure::parse(&a.disclosure)
                .map(|d| d.label())
                .unwrap_or("")
                .to_string(),
        ),
        (
            "Action required".to_string(),
            ActionRequired::parse(&a.action_required)
                .map(|d| d.label())
                .unwrap_or("")
                .to_string(),
        ),
    ];
    if let Some(d) = a.respond_by {
        facts.push(("Respond by".to_string(), d.format("%-d %B %Y").to_string()));
    }
    if let Some(d) = a.acknowledge_by {
        facts.push(("Acknowledge by".to_string(), uk_time(d)));
    }
    facts.push(("Available until".to_string(), uk_date(a.expires_at)));
    if let Some(p) = &a.purpose {
        facts.push(("Purpose".to_string(), p.clone()));
    }
    if let Some(o) = &a.case_outcome {
        facts.push((
            "Outcome".to_string(),
            format!(
                "The CDAO team closed the case on {}. Well founded: {}.{}",
                uk_date(o.closed_at),
                crate::domain::triage::WellFounded::parse(&o.well_founded)
                    .map(|w| w.label().to_lowercase())
                    .unwrap_or_default(),
                if o.well_founded == "no" {
                    " Correct your own records if you hold this concern."
                } else {
                    ""
                }
            ),
        ));
    }
    facts.push((
        "Lawful basis".to_string(),
        LawfulBasis::parse(&a.lawful_basis)
            .map(|d| d.label())
            .unwrap_or("")
            .to_string(),
    ));
    let o = &a.reporting_organisation;
    facts.push((
        "Reported by".to_string(),
        match &o.name {
            Some(n) => format!(
                "{}, {}",
                crate::domain::validation::name_with_sector(n, &o.sector),
                o.area
            ),
            None => crate::domain::validation::capitalise(&format!(
                "{} in {}",
                crate::domain::validation::with_article(&o.sector),
                o.area
            )),
        },
    ));
    let mut report_rows = Vec::new();
    if let Some(r) = &a.report {
        report_rows.push((
            "Kind".to_string(),
            if r.kind == "incident" {
                "Incident"
            } else {
                "Concern about a person"
            }
            .to_string(),
        ));
        report_rows.push((
            "Categories".to_string(),
            r.categories
                .iter()
                .map(|c| label_category(c))
                .collect::<Vec<_>>()
                .join("; "),
        ));
        if let Some(d) = r.occurred_on {
            report_rows.push(("Happened on".to_string(), d.format("%-d %B %Y").to_string()));
        }
        if let Some(h) = &r.harm {
            report_rows.push((
                "Harm".to_string(),
                Harm::parse(h).map(|x| x.label()).unwrap_or(h).to_string(),
            ));
        }
        for d in &r.drugs {
            let mut text = format!(
                "{} (Schedule {})",
                d.name,
                d.schedule
                    .replace("4-1", "4 part 1")
                    .replace("4-2", "4 part 2")
            );
            if let (Some(q), Some(u)) = (d.quantity, &d.unit) {
                text.push_str(&format!(", {q} {u}"));
            }
            if let Some(ome) = d.ome_mg_per_day {
                text.push_str(&format!(", {ome} mg oral morphine equivalent a day"));
                if d.high_dose == Some(true) {
                    text.push_str(" (high dose)");
                }
            }
            report_rows.push(("Drug".to_string(), text));
        }
        if let Some(s) = &r.concern_status {
            report_rows.push((
                "Status of the concern".to_string(),
                ConcernStatus::parse(s)
                    .map(|x| x.label())
                    .unwrap_or(s)
                    .to_string(),
            ));
        }
        if let Some(p) = &r.provenance {
            report_rows.push((
                "Source".to_string(),
                Provenance::parse(p)
                    .map(|x| x.label())
                    .unwrap_or(p)
                    .to_string(),
            ));
        }
        // Online prescribing from outside the UK and CBPM facts (issue 12).
        report_rows.extend(crate::web::pages::report_facts::flat_rows(
            r.online_supply.as_ref(),
            r.cbpm.as_ref(),
        ));
    }
    let persons = a
        .persons
        .iter()
        .map(|p| {
            let mut rows = vec![("Full name".to_string(), p.full_name.clone())];
            if let Some(d) = p.date_of_birth {
                rows.push((
                    "Date of birth".to_string(),
                    d.format("%-d %B %Y").to_string(),
                ));
            }
            if let Some(n) = &p.nhs_number {
                rows.push((
                    "NHS number".to_string(),
                    format!(
                        "{} {} {}",
                        &n[..3.min(n.len())],
                        &n[3.min(n.len())..6.min(n.len())],
                        &n[6.min(n.len())..]
                    ),
                ));
            }
            for r in &p.registrations {
                rows.push((
                    "Registration".to_string(),
                    format!("{} {}", r.register.to_uppercase(), r.number),
                ));
            }
            if let Some(c) = &p.prescriber_code {
                rows.push(("Prescriber code".to_string(), c.clone()));
            }
            if let Some(j) = &p.job_role {
                rows.push(("Job role".to_string(), j.clone()));
            }
            for w in &p.work_addresses {
                rows.push(("Work address".to_string(), w.clone()));
            }
            PersonRows {
                heading: match p.subject_type.as_str() {
                    "registered_professional" => "Registered professional",
                    "unregistered_staff" => "Staff member",
                    "patient" => "Patient",
                    _ => "Member of the public",
                }
                .to_string(),
                rows,
            }
        })
        .collect();
    (facts, report_rows, persons)
}

async fn show_page(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    id: Uuid,
    errors: FieldErrors,
    form: (String, String),
) -> AppResult<Response> {
    let a = shares::view_alert(state, actor, id).await?;
    let state_note = match a.state.as_str() {
        "expired" => Some(format!(
            "This alert expired on {}. Its details are no longer available to you; your organisation's responses are kept.",
            uk_date(a.expires_at)
        )),
        "revoked" => Some("The CDAO team withdrew this alert. Its details are no longer available to you; your organisation's responses are kept.".to_string()),
        _ => None,
    };
    let (facts, report_rows, persons) = sections(&a);
    let (contacts, messages) = crate::alert_conversation::for_member(state, actor, id).await?;
    let messages = message_rows(messages);
    let can_act = a.state == "live";
    let acknowledged = a.acknowledged_at.map(|t| match &contacts.acknowledged_by {
        Some(who) => format!(
            "Your organisation acknowledged this alert on {}. {who} acknowledged it",
            uk_time(t)
        ),
        None => format!(
            "Your organisation acknowledged this alert on {}",
            uk_time(t)
        ),
    });
    let mut action_options = vec![(
        String::new(),
        "Select the action taken (optional)".to_string(),
    )];
    action_options.extend(ActionTaken::options());
    let flash = take_flash(state, auth).await?;
    let title = if errors.is_empty() {
        format!("Alert {}", a.case_reference)
    } else {
        format!("Error: Alert {}", a.case_reference)
    };
    let mut layout = for_actor(actor, title, "/alerts");
    layout.back_href = Some("/alerts".into());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let _ = CaseStatus::New;
    page_with_status(
        status,
        &ShowPage {
            layout,
            id,
            state_note,
            facts,
            report_rows,
            persons,
            messages,
            contacts,
            can_act,
            acknowledged,
            errors,
            body_value: form.0,
            action_value: form.1,
            action_options,
            flash,
            a,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    show_page(
        &state,
        &auth,
        &actor,
        id,
        FieldErrors::new(),
        (String::new(), String::new()),
    )
    .await
}

pub async fn acknowledge(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    match shares::acknowledge(&state, &actor, id).await {
        Ok(_) => {
            set_flash(
                &state,
                &auth,
                "You have acknowledged this alert. The CDAO team can see that you have.",
            )
            .await?;
            Ok(redirect(&format!("/alerts/{id}")))
        }
        Err(AppError::Conflict(m)) => {
            set_flash(&state, &auth, &m).await?;
            Ok(redirect(&format!("/alerts/{id}")))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct ResponseForm {
    body: Option<String>,
    action_taken: Option<String>,
}

pub async fn respond(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<ResponseForm>,
) -> AppResult<Response> {
    let input = ResponseInput {
        body: form.body.clone(),
        action_taken: form.action_taken.clone(),
    };
    match shares::respond(&state, &actor, id, &input).await {
        Ok(_) => {
            set_flash(
                &state,
                &auth,
                "Your response has been sent to the CDAO team.",
            )
            .await?;
            Ok(redirect(&format!("/alerts/{id}#responses")))
        }
        Err(AppError::Validation(e)) => {
            show_page(
                &state,
                &auth,
                &actor,
                id,
                FieldErrors::from_vec(e),
                (
                    form.body.unwrap_or_default(),
                    form.action_taken.unwrap_or_default(),
                ),
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            set_flash(&state, &auth, &m).await?;
            Ok(redirect(&format!("/alerts/{id}")))
        }
        Err(e) => Err(e),
    }
}

pub async fn attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
) -> AppResult<Response> {
    crate::web::api::shares::attachment(State(state), actor, Path((id, att))).await
}
