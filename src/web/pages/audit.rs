//! The auditor's pages: search the trail, verify the chain, export.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::audit::{self, Event, Verification, action};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;
use crate::web::api::audit::{page as audit_page, parse_filter};
use crate::web::extract::Params;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_time;
use crate::web::pages::auth::page_with_status;

pub struct Row {
    pub at: String,
    pub action: String,
    pub actor_id: String,
    pub subject: String,
    pub case_id: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "audit/search.html")]
struct SearchPage {
    layout: Layout,
    errors: FieldErrors,
    actor_id: String,
    case_id: String,
    action: String,
    from: String,
    to: String,
    rows: Vec<Row>,
    next_href: Option<String>,
    export_href: String,
}

fn query_without_cursor(params: &Params) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            params
                .0
                .iter()
                .filter(|(k, v)| k != "cursor" && !v.is_empty()),
        )
        .finish()
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::read_audit(&actor)?;
    let (errors, rows, next) = match parse_filter(&params, 200) {
        Ok(f) => {
            let (items, next) = audit_page(&state, &actor, &f).await?;
            audit::note(
                &state,
                Event::new(Some(actor.user_id), action::AUDIT_VIEWED, "audit", None)
                    .details(json!({"results": items.len()})),
            )
            .await?;
            let rows = items
                .into_iter()
                .map(|i| Row {
                    at: uk_time(i.at),
                    action: i.action,
                    actor_id: i
                        .actor_id
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "—".into()),
                    subject: match i.subject_id {
                        Some(id) => format!("{} {}", i.subject_type, id),
                        None => i.subject_type,
                    },
                    case_id: i.case_id.map(|c| c.to_string()).unwrap_or_default(),
                    details: if i.details.as_object().is_some_and(|o| o.is_empty()) {
                        String::new()
                    } else {
                        i.details.to_string()
                    },
                })
                .collect();
            (FieldErrors::new(), rows, next)
        }
        Err(AppError::Validation(e)) => (FieldErrors::from_vec(e), vec![], None),
        Err(e) => return Err(e),
    };
    let base = query_without_cursor(&params);
    let next_href = next.map(|c| {
        if base.is_empty() {
            format!("/audit?cursor={c}")
        } else {
            format!("/audit?{base}&cursor={c}")
        }
    });
    let export_href = if base.is_empty() {
        "/audit/export.csv".to_string()
    } else {
        format!("/audit/export.csv?{base}")
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = if errors.is_empty() {
        "Audit trail"
    } else {
        "Error: Audit trail"
    };
    page_with_status(
        status,
        &SearchPage {
            layout: for_actor(&actor, title, "/audit"),
            errors,
            actor_id: params.get("actor_id").unwrap_or("").into(),
            case_id: params.get("case_id").unwrap_or("").into(),
            action: params.get("action").unwrap_or("").into(),
            from: params.get("from").unwrap_or("").into(),
            to: params.get("to").unwrap_or("").into(),
            rows,
            next_href,
            export_href,
        },
    )
}

#[derive(Template)]
#[template(path = "audit/verify.html")]
struct VerifyPage {
    layout: Layout,
    v: Verification,
}

pub async fn verify(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    policy::read_audit(&actor)?;
    let v = audit::verify_for(&state, &actor).await?;
    let mut layout = for_actor(&actor, "Verify the audit trail", "/audit");
    layout.back_href = Some("/audit".into());
    page_with_status(StatusCode::OK, &VerifyPage { layout, v })
}

/// CSV of the filtered events (at most 50,000, newest first).
pub async fn export(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::read_audit(&actor)?;
    let mut f = parse_filter(&params, 50_000)?;
    f.limit = 50_000;
    let items = audit::read(&state, &actor, &f).await?;
    let mut w = crate::csv_export::SafeWriter::new();
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record([
        "id",
        "at",
        "actor_id",
        "action",
        "subject_type",
        "subject_id",
        "case_id",
        "details",
    ])
    .map_err(io)?;
    for i in &items {
        w.write_record([
            i.id.to_string(),
            i.at.to_rfc3339(),
            i.actor_id.map(|a| a.to_string()).unwrap_or_default(),
            i.action.clone(),
            i.subject_type.clone(),
            i.subject_id.map(|a| a.to_string()).unwrap_or_default(),
            i.case_id.map(|a| a.to_string()).unwrap_or_default(),
            i.details.to_string(),
        ])
        .map_err(io)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    audit::note(
        &state,
        Event::new(Some(actor.user_id), action::AUDIT_EXPORTED, "audit", None)
            .details(json!({"rows": items.len()})),
    )
    .await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"audit-trail.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
