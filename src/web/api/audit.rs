//! The audit trail, for auditors (SPEC §7.1).

use axum::Json;
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
    pub items: Vec<AuditItem>,
    pub next_cursor: Option<String>,
}

/// Parses the audit search parameters shared by the API, the page and the export.
pub fn parse_filter(params: &Params, max_limit: i64) -> Result<AuditFilter, AppError> {
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
    let before = match params.get("cursor") {
        None => None,
        Some(c) => match decode_cursor(c) {
            Some(b) => Some(b),
            None => {
                e.add("cursor", "cursor is not one this service gave out");
                None
            }
        },
    };
    let action = params.get("action").map(|a| a.trim().to_string());
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    Ok(AuditFilter {
        actor_id,
        case_id,
        subject_id,
        action,
        from,
        to,
        before,
        limit,
    })
}

pub fn encode_cursor(item: &AuditItem) -> String {
    format!("{}_{}", item.at.timestamp_micros(), item.id.simple())
}

fn decode_cursor(c: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let (micros, id) = c.split_once('_')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        Uuid::parse_str(id).ok()?,
    ))
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
    let f = parse_filter(&params, 500)?;
    let (items, next_cursor) = page(&state, &actor, &f).await?;
    audit::note(
        &state,
        Event::new(Some(actor.user_id), action::AUDIT_VIEWED, "audit", None)
            .details(json!({"results": items.len()})),
    )
    .await?;
    Ok(Json(AuditList { items, next_cursor }))
}

#[utoipa::path(get, operation_id = "verify_audit_trail", path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = Verification), (status = 403, body = Problem)))]
pub async fn verify(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Verification>> {
    policy::read_audit(&actor)?;
    let v = audit::verify_for(&state, &actor).await?;
    Ok(Json(v))
}
