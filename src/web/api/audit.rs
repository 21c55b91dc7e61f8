//! The audit trail, for auditors (SPEC §7.1).

use crate::web::api::json::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, AuditFilter, AuditItem, Event, Verification, action};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult, Problem};
use crate::policy::{self, Actor};
use crate::state::AppState;
use crate::web::extract::Params;

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

/// An audit event with the names shown beside its ids (looked up now: the event holds ids).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// The user's name, when the actor is a user of the service.
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    /// The action in plain words, like "Signed in".
    pub action_words: String,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    /// The subject's name: a user, organisation or area (or the case reference).
    pub subject_name: Option<String>,
    pub case_id: Option<Uuid>,
    /// Like CD-2026-000009.
    pub case_reference: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// The events with their names.
pub async fn with_names(state: &AppState, items: Vec<AuditItem>) -> AppResult<Vec<AuditEntry>> {
    let names = audit::names_for(state, &items).await?;
    Ok(items
        .into_iter()
        .map(|i| {
            let user = i.actor_id.and_then(|a| names.users.get(&a));
            let subject_name = i.subject_id.and_then(|s| match i.subject_type.as_str() {
                "user" => names.users.get(&s).map(|(n, _)| n.clone()),
                "case" => names.cases.get(&s).cloned(),
                _ => names.others.get(&s).cloned(),
            });
            AuditEntry {
                id: i.id,
                at: i.at,
                actor_id: i.actor_id,
                actor_name: user.map(|(n, _)| n.clone()),
                actor_email: user.map(|(_, e)| e.clone()),
                action_words: audit::action_words(&i.action).to_string(),
                action: i.action,
                subject_type: i.subject_type,
                subject_id: i.subject_id,
                subject_name,
                case_reference: i.case_id.and_then(|c| names.cases.get(&c).cloned()),
                case_id: i.case_id,
                details: i.details,
            }
        })
        .collect())
}

/// A case reference as people type it: `CD-2026-000009`, any case, spaces around (six digits,
/// or more from a year's millionth case on).
fn case_reference(text: &str) -> Option<String> {
    let t = text.trim().to_uppercase();
    let rest = t.strip_prefix("CD-")?;
    let (year, number) = rest.split_once('-')?;
    (year.len() == 4
        && (6..=10).contains(&number.len())
        && year.chars().all(|c| c.is_ascii_digit())
        && number.chars().all(|c| c.is_ascii_digit()))
    .then_some(t)
}

/// The audit search parameters shared by the API, the page and the export, with `case` (a
/// reference or a case id) and `user` (an email, a name or part of one, or a user id) looked up.
pub async fn read_filter(
    state: &AppState,
    params: &Params,
    max_limit: i64,
) -> Result<AuditFilter, AppError> {
    let (mut f, mut e) = parse_filter_parts(params, max_limit);
    if let Some(text) = params.get("case").map(str::trim).filter(|t| !t.is_empty()) {
        if let Ok(id) = Uuid::parse_str(text) {
            f.case_id = Some(id);
        } else if let Some(reference) = case_reference(text) {
            match audit::case_by_reference(state, &reference).await? {
                Some(id) => f.case_id = Some(id),
                None => e.add("case", format!("No case has the reference {reference}")),
            }
        } else {
            e.add(
                "case",
                "Enter a case reference like CD-2026-000009, or a case id",
            );
        }
    }
    if let Some(text) = params.get("user").map(str::trim).filter(|t| !t.is_empty()) {
        if let Ok(id) = Uuid::parse_str(text) {
            f.actor_id = Some(id);
        } else if text.chars().count() < 2 || text.chars().count() > 200 {
            e.add(
                "user",
                "Enter an email address, or 2 to 200 letters of a name",
            );
        } else {
            let ids = audit::users_matching(state, text).await?;
            if ids.is_empty() {
                e.add("user", "No user has this email address or name");
            }
            f.actor_ids = Some(ids);
        }
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    Ok(f)
}

fn parse_filter_parts(params: &Params, max_limit: i64) -> (AuditFilter, FieldErrors) {
    let mut e = FieldErrors::new();
    let actor_id = params.uuid("actor_id", &mut e);
    let case_id = params.uuid("case_id", &mut e);
    let subject_id = params.uuid("subject_id", &mut e);
    let date = |key: &str, e: &mut FieldErrors| -> Option<DateTime<Utc>> {
        let v = params.get(key)?.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(v) {
            return Some(t.with_timezone(&Utc));
        }
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
            Err(_) => {
                e.add(
                    key,
                    format!("{key} must be a date like 2026-11-21 or an RFC 3339 time"),
                );
                None
            }
        }
    };
    let from = date("from", &mut e);
    let mut to = date("to", &mut e);
    // A bare date as `to` includes that whole day.
    if let (Some(t), Some(raw)) = (to, params.get("to"))
        && !raw.contains('T')
    {
        to = Some(t + chrono::TimeDelta::days(1));
    }
    let limit = match params.get("limit") {
        None => 50,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (1..=max_limit).contains(&n) => n,
            _ => {
                e.add(
                    "limit",
                    format!("limit must be a whole number from 1 to {max_limit}"),
                );
                50
            }
        },
    };
    let before = crate::web::api::cursor::param(params.get("cursor"), &mut e);
    let action = params
        .get("action")
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    (
        AuditFilter {
            actor_id,
            actor_ids: None,
            case_id,
            subject_id,
            action,
            from,
            to,
            before,
            limit,
        },
        e,
    )
}

pub fn encode_cursor(item: &AuditItem) -> String {
    crate::web::api::cursor::encode(item.at, item.id)
}

/// One page of events, newest first, and the cursor for the next.
pub async fn page(
    state: &AppState,
    actor: &Actor,
    f: &AuditFilter,
) -> AppResult<(Vec<AuditItem>, Option<String>)> {
    let mut probe = f.clone();
    probe.limit = f.limit + 1;
    let mut items = audit::read(state, actor, &probe).await?;
    let more = items.len() as i64 > f.limit;
    items.truncate(f.limit as usize);
    let next = if more {
        items.last().map(encode_cursor)
    } else {
        None
    };
    Ok((items, next))
}

#[utoipa::path(get, operation_id = "list_audit_events", path = "/api/v1/audit", tag = "audit",
    params(crate::web::api::params::AuditQuery),
    responses((status = 200, body = AuditList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<AuditList>> {
    policy::read_audit(&actor)?;
    let f = read_filter(&state, &params, 500).await?;
    let (items, next_cursor) = page(&state, &actor, &f).await?;
    audit::note(
        &state,
        Event::new(Some(actor.user_id), action::AUDIT_VIEWED, "audit", None)
            .details(json!({"results": items.len()})),
    )
    .await?;
    let items = with_names(&state, items).await?;
    Ok(Json(AuditList { items, next_cursor }))
}

#[utoipa::path(get, operation_id = "verify_audit_trail", path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification), (status = 403, body = Problem)))]
pub async fn verify(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Verification>> {
    policy::read_audit(&actor)?;
    let v = audit::verify_for(&state, &actor).await?;
    Ok(Json(v))
}
