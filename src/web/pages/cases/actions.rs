//! The triage actions: triage, message, link, close, reopen and asking for access. Each posts
//! to the function the API calls and comes back to the page with its errors or a message.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::page::{Again, render};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::records::CaseFilter;
use crate::state::AppState;
use crate::triage::{
    self, AccessRequestInput, CloseInput, LinkInput, MessageInput, ReopenInput, RiskInput,
    TriageInput,
};
use crate::web::api::cases::case_page;
use crate::web::extract::{PageForm, PathId};
use crate::web::pages::auth::redirect;
use crate::web::pages::cdao::{Posted, errors_as};
use crate::web::session::{RequestAuth, set_flash};

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
pub(super) async fn answer(
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

pub(super) type Form = PageForm<Vec<(String, String)>>;

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
