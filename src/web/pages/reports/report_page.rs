//! The report page: the report as sent, amendments, messages, evidence, timeline.

use std::collections::HashMap;

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::Response;
use futures_util::StreamExt;
use uuid::Uuid;

use super::form::{Posted, Problems, Shown, show_errors, title};
use super::summary::{Section, incident_sections, person_sections, row, text_lines};
use crate::attachments;
use crate::domain::directory::Role;
use crate::domain::report::{CaseStatus, Incident, IncidentCategory, PersonConcern};
use crate::domain::validation::{FieldError, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::records::{self as cdb};
use crate::reports::{self};
use crate::state::AppState;
use crate::web::api::cases::{download as download_file, read_file_part};
use crate::web::extract::{PageForm, Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::{uk_date, uk_time};
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

pub fn status_tag(status: &str) -> (String, String) {
    let (label, colour) = match CaseStatus::parse(status) {
        Some(CaseStatus::New) => ("New", "blue"),
        Some(CaseStatus::InReview) => ("In review", "aqua-green"),
        Some(CaseStatus::AwaitingInformation) => ("Information requested", "orange"),
        Some(CaseStatus::Investigating) => ("Investigating", "purple"),
        Some(CaseStatus::Closed) => ("Closed", "grey"),
        None => (status, "grey"),
    };
    (label.to_string(), colour.to_string())
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "incident" => "Incident",
        "person_concern" => "Concern about a person",
        _ => "Report",
    }
}

pub struct AmendmentView {
    pub heading: String,
    pub lines: Vec<String>,
}

pub struct AttachmentView {
    pub href: String,
    pub filename: String,
    pub details: String,
}

pub struct EventView {
    pub at: String,
    pub what: String,
    pub who: String,
}

/// A message between the CDAO team and the reporting side.
pub struct MessageView {
    pub heading: String,
    pub lines: Vec<String>,
    /// The CDAO team asked for more information.
    pub request: bool,
}

#[derive(Template)]
#[template(path = "reports/show.html")]
struct ReportPage {
    layout: Layout,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    flash: Option<String>,
    id: Uuid,
    reference: String,
    kind: String,
    status_label: String,
    status_colour: String,
    submitted_at: String,
    organisation: String,
    submitted: bool,
    sections: Vec<Section>,
    with_changes: bool,
    form_action: String,
    amendments: Vec<AmendmentView>,
    attachments: Vec<AttachmentView>,
    timeline: Vec<EventView>,
    messages: Vec<MessageView>,
    awaiting_information: bool,
    can_amend: bool,
    can_message: bool,
    amend_text: String,
    message_text: String,
}

fn file_size(bytes: i32) -> String {
    let b = f64::from(bytes);
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.0} KB", (b / 1024.0).ceil())
    } else {
        format!("{bytes} bytes")
    }
}

fn event_label(e: &cdb::TimelineEvent) -> String {
    let to_status = || {
        e.data
            .pointer("/status/to")
            .and_then(|v| v.as_str())
            .map(|s| status_tag(s).0)
    };
    match e.kind.as_str() {
        "submitted" => "Report sent".into(),
        "amended" => "Correction or more information added".into(),
        "attachment_added" => "Evidence added".into(),
        "status_changed" => match to_status() {
            Some(s) => format!("Status changed to {s}"),
            None => "Status changed".into(),
        },
        "message" if from_cdao(e) && requests_information(e) => "More information requested".into(),
        "message" if from_cdao(e) => "Message from the CDAO team".into(),
        "message" => "Message to the CDAO team".into(),
        "closed" => "Closed".into(),
        "reopened" => "Reopened".into(),
        other => crate::domain::validation::capitalise(&other.replace('_', " ")),
    }
}

fn from_cdao(e: &cdb::TimelineEvent) -> bool {
    e.data.get("from").and_then(|v| v.as_str()) == Some("cdao")
}

fn requests_information(e: &cdb::TimelineEvent) -> bool {
    e.data
        .get("request_information")
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Who did what the timeline shows, when the viewer may not see their name: the CDAO team
/// for what only it does, otherwise someone on the reporting side.
fn unnamed_actor(e: &cdb::TimelineEvent, actor: &Actor, organisation: &str) -> String {
    let by_cdao = matches!(e.kind.as_str(), "status_changed" | "closed" | "reopened")
        || (e.kind == "message" && from_cdao(e));
    if by_cdao {
        "the CDAO team".into()
    } else {
        reporting_side(actor, organisation)
    }
}

fn reporting_side(actor: &Actor, organisation: &str) -> String {
    if actor.role == Role::Reporter {
        "your organisation's CD lead".into()
    } else {
        format!("someone at {organisation}")
    }
}

/// The names the viewer may see of those who did something on a case ("you" for
/// themselves); the others are described by what they did.
async fn names(state: &AppState, actor: &Actor, ids: &[Uuid]) -> AppResult<HashMap<Uuid, String>> {
    crate::directory::names(state, actor, ids).await
}

struct PageState {
    submitted: bool,
    shown: Shown,
    flash: Option<String>,
    amend_text: String,
    message_text: String,
    status: StatusCode,
}

impl PageState {
    fn plain(status: StatusCode, shown: Shown) -> Self {
        PageState {
            submitted: false,
            shown,
            flash: None,
            amend_text: String::new(),
            message_text: String::new(),
            status,
        }
    }

    /// The page again with the errors of the one field its form posts.
    fn rejected(errors: Vec<FieldError>, field: &str) -> Self {
        let mut problems = Problems::default();
        problems.extend(errors);
        Self::plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            show_errors(&problems, &[field], &[], &|_| None),
        )
    }
}

async fn report_page(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    ps: PageState,
) -> AppResult<Response> {
    let view = reports::view_case(state, actor, id).await?;
    let can_amend = view.seen_as == reports::SeenAs::Reporting;
    let sections = match view.kind.as_str() {
        _ if view.details_removed_at.is_some() => removed_sections(&view),
        "incident" => {
            let inc: Incident = serde_json::from_value(view.report.clone())
                .map_err(|e| AppError::Internal(e.into()))?;
            incident_sections(&inc, &|_| String::new())
        }
        _ => {
            let pc: PersonConcern = serde_json::from_value(view.report.clone())
                .map_err(|e| AppError::Internal(e.into()))?;
            let linked: Vec<(Uuid, String)> = reports::briefs(state, actor, &pc.linked_case_ids)
                .await?
                .into_iter()
                .map(|b| (b.id, b.reference))
                .collect();
            person_sections(&pc, view.persons.first().map(|p| &p.identity), &linked)
        }
    };
    let mut people: Vec<Uuid> = view.amendments.iter().map(|a| a.author_id).collect();
    people.extend(view.timeline.iter().filter_map(|e| e.actor_id));
    let who = names(state, actor, &people).await?;
    let org = view.organisation_name.clone().unwrap_or_default();
    let amendments = view
        .amendments
        .iter()
        .map(|a| AmendmentView {
            heading: format!(
                "Added {} by {}",
                uk_time(a.created_at),
                who.get(&a.author_id)
                    .cloned()
                    .unwrap_or_else(|| reporting_side(actor, &org))
            ),
            lines: text_lines(&a.text),
        })
        .collect();
    let event_actor = |e: &cdb::TimelineEvent| match e.actor_id {
        Some(id) => who
            .get(&id)
            .cloned()
            .unwrap_or_else(|| unnamed_actor(e, actor, &org)),
        None => "CD Concerns".to_string(),
    };
    let messages = view
        .timeline
        .iter()
        .filter(|e| e.kind == "message")
        .map(|e| MessageView {
            heading: if from_cdao(e) {
                format!("From the CDAO team, {}", uk_time(e.at))
            } else {
                format!("From {}, {}", event_actor(e), uk_time(e.at))
            },
            lines: text_lines(e.data.get("body").and_then(|b| b.as_str()).unwrap_or("")),
            request: from_cdao(e) && requests_information(e),
        })
        .collect();
    let attachments = view
        .attachments
        .iter()
        .map(|a| AttachmentView {
            href: format!("/reports/{id}/attachments/{}", a.id),
            filename: a.filename.clone(),
            details: format!(
                "{}, added {}",
                file_size(a.size_bytes),
                uk_time(a.created_at)
            ),
        })
        .collect();
    let timeline = view
        .timeline
        .iter()
        .map(|e| EventView {
            at: uk_time(e.at),
            what: event_label(e),
            who: crate::domain::validation::capitalise(&event_actor(e)),
        })
        .collect();
    let (status_label, status_colour) = status_tag(&view.status);
    let base = format!("Report {}", view.reference);
    let mut layout = for_actor(actor, title(&base, &ps.shown), "/reports");
    layout.back_href = Some("/reports".into());
    page_with_status(
        ps.status,
        &ReportPage {
            layout,
            errors: ps.shown.errors,
            summary: ps.shown.summary,
            flash: ps.flash,
            id,
            reference: view.reference,
            kind: kind_label(&view.kind).to_string(),
            status_label,
            status_colour,
            submitted_at: uk_time(view.submitted_at),
            organisation: view.organisation_name.unwrap_or_default(),
            submitted: ps.submitted,
            sections,
            with_changes: false,
            form_action: String::new(),
            amendments,
            attachments,
            timeline,
            messages,
            awaiting_information: view.status == CaseStatus::AwaitingInformation.code(),
            can_message: can_amend && view.status != CaseStatus::Closed.code(),
            can_amend,
            amend_text: ps.amend_text,
            message_text: ps.message_text,
        },
    )
}

/// A report whose details the retention policy removed: what is kept of it.
fn removed_sections(view: &reports::CaseView) -> Vec<Section> {
    let r = crate::disclosure::shared_report(&view.kind, &view.report);
    let when = view.details_removed_at.map(uk_date).unwrap_or_default();
    let mut rows = vec![row(
        "Details",
        vec![format!(
            "Details removed on {when} under the retention policy. The reference, dates, kinds of concern and outcome are kept."
        )],
        "",
    )];
    if let Some(d) = r.occurred_on {
        rows.push(row(
            "When it happened",
            vec![d.format("%-d %B %Y").to_string()],
            "",
        ));
    }
    rows.push(row(
        "Kind",
        r.categories
            .iter()
            .map(|c| {
                IncidentCategory::parse(c)
                    .map(|x| x.label())
                    .or_else(|| crate::domain::report::ConcernCategory::parse(c).map(|x| x.label()))
                    .unwrap_or(c)
                    .to_string()
            })
            .collect(),
        "",
    ));
    vec![Section {
        heading: "What was reported".into(),
        rows,
    }]
}

pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    params: Params,
) -> AppResult<Response> {
    let flash = take_flash(&state, &auth).await?;
    report_page(
        &state,
        &actor,
        id,
        PageState {
            submitted: params.get("submitted") == Some("1"),
            shown: Shown::none(),
            flash,
            amend_text: String::new(),
            message_text: String::new(),
            status: StatusCode::OK,
        },
    )
    .await
}

fn one_error(field: &str, message: &str) -> Shown {
    let mut problems = Problems::default();
    problems.add(field, message);
    show_errors(&problems, &[field], &[], &|_| None)
}

pub async fn amend(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let p = Posted(form);
    let outcome = reports::amend(&state, &actor, id, Some(p.get("text"))).await;
    let done = "Your correction or extra information has been added to the report.";
    after_post(
        &state,
        &auth,
        &actor,
        id,
        outcome.map(|_| ()),
        done,
        |errors| PageState {
            amend_text: p.get("text").to_string(),
            ..PageState::rejected(errors, "text")
        },
    )
    .await
}

/// A message to the CDAO team, such as the answer to their request for information (which
/// returns the case to them for review).
pub async fn message(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let p = Posted(form);
    let input = crate::triage::MessageInput {
        body: Some(p.get("body").to_string()),
        request_information: false,
    };
    let outcome = crate::triage::message(&state, &actor, id, &input).await;
    let done = "Your message has been sent to the CDAO team.";
    after_post(
        &state,
        &auth,
        &actor,
        id,
        outcome.map(|_| ()),
        done,
        |errors| PageState {
            message_text: p.get("body").to_string(),
            ..PageState::rejected(errors, "body")
        },
    )
    .await
}

/// After a form on the report page: back to the report with `done` as its message, or, when
/// what was posted does not pass, the page again as `again` draws it (422).
async fn after_post(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    id: Uuid,
    outcome: AppResult<()>,
    done: &str,
    again: impl FnOnce(Vec<FieldError>) -> PageState,
) -> AppResult<Response> {
    match outcome {
        Ok(()) => {
            set_flash(state, auth, done).await?;
            Ok(redirect(&format!("/reports/{id}")))
        }
        Err(AppError::Validation(errors)) => report_page(state, actor, id, again(errors)).await,
        Err(e) => Err(e),
    }
}

/// Uploads are read whole (up to the limit) before anything answers: a browser still sending
/// a file that is too large may not show an answer sent before it finished. Past this, the
/// rest is not worth reading.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

async fn read_upload(req: Request) -> AppResult<(String, Vec<u8>)> {
    let (parts, body) = req.into_parts();
    let is_multipart = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(AppError::UnsupportedMediaType(
            "Expected a file upload (multipart/form-data).".into(),
        ));
    }
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| AppError::BadRequest("The upload could not be read.".into()))?;
        total += chunk.len();
        if total > crate::web::UPLOAD_LIMIT {
            buf = Vec::new();
            if total > DRAIN_LIMIT {
                break;
            }
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    if total > crate::web::UPLOAD_LIMIT {
        return Err(AppError::PayloadTooLarge);
    }
    let multipart = Multipart::from_request(Request::from_parts(parts, Body::from(buf)), &())
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("The upload could not be read.".into())
            }
        })?;
    let (name, data) = read_file_part(multipart).await?;
    if name.is_empty() && data.is_empty() {
        return Err(AppError::validation("file", "Select a file to upload"));
    }
    Ok((name, data))
}

pub async fn upload(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    req: Request,
) -> AppResult<Response> {
    // Only someone who may add to this report gets as far as sending a file.
    reports::check_reporting_side(&state, &actor, id).await?;
    let result = match read_upload(req).await {
        Ok((name, data)) => attachments::add(&state, &actor, id, &name, &data).await,
        Err(e) => Err(e),
    };
    let (shown, status) = match result {
        Ok(a) => {
            set_flash(
                &state,
                &auth,
                &format!("{} has been added to the report.", a.filename),
            )
            .await?;
            return Ok(redirect(&format!("/reports/{id}")));
        }
        Err(AppError::Validation(errors)) => {
            let mut problems = Problems::default();
            problems.extend(errors);
            (
                show_errors(&problems, &["file"], &[], &|_| Some("file".into())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(AppError::PayloadTooLarge) => (
            one_error("file", "The selected file must be smaller than 10 MB"),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        Err(e) => return Err(e),
    };
    report_page(&state, &actor, id, PageState::plain(status, shown)).await
}

pub async fn attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let (name, content_type, data) = attachments::get(&state, &actor, id, att).await?;
    Ok(download_file(&name, &content_type, data))
}
