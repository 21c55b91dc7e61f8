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
use crate::web::api::audit::{page as audit_page, read_filter, with_names};
use crate::web::extract::Params;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_time;
use crate::web::pages::auth::page_with_status;

pub struct Row {
    pub at: String,
    pub action: String,
    pub action_words: String,
    /// The user's name (or "The service" for events without one), and their email.
    pub who: String,
    pub who_email: String,
    pub actor_id: String,
    pub subject: String,
    pub subject_id: String,
    pub case_reference: String,
    pub case_id: String,
    pub details: String,
}

/// An option group of the action select: (label, [(value, text)]).
pub struct ActionGroup {
    pub label: String,
    pub options: Vec<(String, String)>,
}

fn action_groups() -> Vec<ActionGroup> {
    audit::ACTION_WORDS
        .iter()
        .map(|(prefix, label, actions)| {
            let mut options = Vec::new();
            if !prefix.is_empty() {
                options.push((
                    (*prefix).to_string(),
                    format!("Any: {}", label.to_lowercase()),
                ));
            }
            options.extend(
                actions
                    .iter()
                    .map(|(name, words)| ((*name).to_string(), (*words).to_string())),
            );
            ActionGroup {
                label: (*label).to_string(),
                options,
            }
        })
        .collect()
}

/// A date input's three parts as typed.
pub struct DateParts {
    pub day: String,
    pub month: String,
    pub year: String,
}

#[derive(Template)]
#[template(path = "audit/search.html")]
struct SearchPage {
    layout: Layout,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    case: String,
    user: String,
    action: String,
    action_known: bool,
    action_groups: Vec<ActionGroup>,
    from: DateParts,
    to: DateParts,
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

/// The page's date inputs (`from-day`, …) as the `from` and `to` dates the search reads;
/// a date with a part missing or not a real date is an error on its day field.
fn with_dates(params: &Params) -> (Params, FieldErrors) {
    let mut e = FieldErrors::new();
    let mut out: Vec<(String, String)> = params
        .0
        .iter()
        .filter(|(k, _)| !k.ends_with("-day") && !k.ends_with("-month") && !k.ends_with("-year"))
        .cloned()
        .collect();
    for (name, what) in [("from", "from"), ("to", "to")] {
        let part = |p: &str| {
            params
                .get(&format!("{name}-{p}"))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let (d, m, y) = (part("day"), part("month"), part("year"));
        if d.is_empty() && m.is_empty() && y.is_empty() {
            continue;
        }
        let num = |v: &str| {
            v.chars()
                .all(|c| c.is_ascii_digit())
                .then(|| v.parse::<u32>().ok())
                .flatten()
        };
        let date = match (num(&d), num(&m), num(&y)) {
            (Some(d), Some(m), Some(yy)) if y.len() == 4 => {
                chrono::NaiveDate::from_ymd_opt(i32::try_from(yy).unwrap_or(0), m, d)
            }
            _ => None,
        };
        match date {
            Some(date) => {
                out.retain(|(k, _)| k != name);
                out.push((name.to_string(), date.format("%Y-%m-%d").to_string()));
            }
            None => e.add(
                format!("{name}-day"),
                format!("The date {what} must be a real date, like 21 11 2026"),
            ),
        }
    }
    (Params(out), e)
}

fn parts_of(params: &Params, name: &str) -> DateParts {
    let from_iso = params
        .get(name)
        .and_then(|v| chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok());
    let part = |p: &str| params.get(&format!("{name}-{p}")).map(str::to_string);
    match (part("day"), part("month"), part("year"), from_iso) {
        (None, None, None, Some(d)) => DateParts {
            day: chrono::Datelike::day(&d).to_string(),
            month: chrono::Datelike::month(&d).to_string(),
            year: chrono::Datelike::year(&d).to_string(),
        },
        (d, m, y, _) => DateParts {
            day: d.unwrap_or_default(),
            month: m.unwrap_or_default(),
            year: y.unwrap_or_default(),
        },
    }
}

/// The page's errors, each linked to its field (`from` and `to` are date inputs).
fn summary_of(errors: &FieldErrors) -> Vec<(String, String)> {
    errors
        .pairs()
        .into_iter()
        .map(|(field, message)| {
            let id = match field.as_str() {
                "from" | "to" => format!("{field}-day"),
                "actor_id" | "user" => "user".to_string(),
                "case_id" | "case" => "case".to_string(),
                "cursor" | "limit" | "subject_id" => "case".to_string(),
                _ => field,
            };
            (id, message)
        })
        .collect()
}

pub async fn search(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::read_audit(&actor)?;
    let (query, mut errors) = with_dates(&params);
    let (rows, next) = if errors.is_empty() {
        match read_filter(&state, &query, 200).await {
            Ok(f) => {
                let (items, next) = audit_page(&state, &actor, &f).await?;
                audit::note(
                    &state,
                    Event::new(Some(actor.user_id), action::AUDIT_VIEWED, "audit", None)
                        .details(json!({"results": items.len()})),
                )
                .await?;
                let rows = with_names(&state, items)
                    .await?
                    .into_iter()
                    .map(|i| Row {
                        at: uk_time(i.at),
                        who: i.actor_name.clone().unwrap_or_else(|| {
                            if i.actor_id.is_some() {
                                "A user no longer on the service".into()
                            } else {
                                "The service".into()
                            }
                        }),
                        who_email: i.actor_email.unwrap_or_default(),
                        actor_id: i.actor_id.map(|a| a.to_string()).unwrap_or_default(),
                        action_words: i.action_words,
                        action: i.action,
                        subject: match &i.subject_name {
                            Some(n) => format!("{} {n}", i.subject_type.replace('_', " ")),
                            None => i.subject_type.replace('_', " "),
                        },
                        subject_id: i.subject_id.map(|s| s.to_string()).unwrap_or_default(),
                        case_reference: i.case_reference.unwrap_or_default(),
                        case_id: i.case_id.map(|c| c.to_string()).unwrap_or_default(),
                        details: if i.details.as_object().is_some_and(|o| o.is_empty()) {
                            String::new()
                        } else {
                            i.details.to_string()
                        },
                    })
                    .collect();
                (rows, next)
            }
            Err(AppError::Validation(e)) => {
                errors = FieldErrors::from_vec(e);
                (vec![], None)
            }
            Err(e) => return Err(e),
        }
    } else {
        (vec![], None)
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
    let action_value = params.get("action").unwrap_or("").trim().to_string();
    let groups = action_groups();
    let action_known = action_value.is_empty()
        || groups
            .iter()
            .any(|g| g.options.iter().any(|(v, _)| *v == action_value));
    let summary = summary_of(&errors);
    // The old id fields still work from a link; the page shows them in its own fields.
    let case = params
        .get("case")
        .or(params.get("case_id"))
        .unwrap_or("")
        .to_string();
    let user = params
        .get("user")
        .or(params.get("actor_id"))
        .unwrap_or("")
        .to_string();
    page_with_status(
        status,
        &SearchPage {
            layout: for_actor(&actor, title, "/audit"),
            errors: FieldErrors::from_vec(
                summary
                    .iter()
                    .map(|(f, m)| crate::domain::validation::FieldError {
                        field: f.clone(),
                        message: m.clone(),
                    })
                    .collect(),
            ),
            summary,
            case,
            user,
            action: action_value,
            action_known,
            action_groups: groups,
            from: parts_of(&params, "from"),
            to: parts_of(&params, "to"),
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
    let (query, errors) = with_dates(&params);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors.into_vec()));
    }
    let mut f = read_filter(&state, &query, 50_000).await?;
    f.limit = 50_000;
    let items = with_names(&state, audit::read(&state, &actor, &f).await?).await?;
    let mut w = crate::csv_export::SafeWriter::new();
    let io = |e: csv::Error| AppError::Internal(e.into());
    // Every column of the event, and the names beside the ids.
    w.write_record([
        "id",
        "at",
        "actor_id",
        "actor_name",
        "actor_email",
        "action",
        "action_words",
        "subject_type",
        "subject_id",
        "subject_name",
        "case_id",
        "case_reference",
        "details",
    ])
    .map_err(io)?;
    for i in &items {
        w.write_record([
            i.id.to_string(),
            i.at.to_rfc3339(),
            i.actor_id.map(|a| a.to_string()).unwrap_or_default(),
            i.actor_name.clone().unwrap_or_default(),
            i.actor_email.clone().unwrap_or_default(),
            i.action.clone(),
            i.action_words.clone(),
            i.subject_type.clone(),
            i.subject_id.map(|a| a.to_string()).unwrap_or_default(),
            i.subject_name.clone().unwrap_or_default(),
            i.case_id.map(|a| a.to_string()).unwrap_or_default(),
            i.case_reference.clone().unwrap_or_default(),
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
