//! Triage proper: status, priority, assignee, risk grade and an internal note.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{action, lock_for_triage, status_of};
use crate::app::db::{cases as cdb, triage as tdb};
use crate::audit::{self, Event};
use crate::domain::report::CaseStatus;
use crate::domain::triage::{self as rules, Priority};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskInput {
    #[schema(minimum = 1, maximum = 5)]
    pub consequence: Option<u8>,
    #[schema(minimum = 1, maximum = 5)]
    pub likelihood: Option<u8>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageInput {
    #[schema(value_type = Option<crate::domain::report::CaseStatus>)]
    pub status: Option<String>,
    #[schema(value_type = Option<crate::domain::triage::Priority>)]
    pub priority: Option<String>,
    /// A CDAO of the case's area; `null` with `unassign: true` clears it.
    pub assignee_id: Option<Uuid>,
    #[serde(default)]
    pub unassign: bool,
    pub risk: Option<RiskInput>,
    /// An internal note (seen by the CDAO team only).
    #[schema(max_length = 10_000)]
    pub note: Option<String>,
}

/// Any of status, priority, assignee, risk grade and an internal note.
pub async fn triage(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &TriageInput,
) -> AppResult<()> {
    let (mut tx, case) = lock_for_triage(state, actor, case_id).await?;
    let c = case.row().clone();
    let current = status_of(&c.status)?;
    if current == CaseStatus::Closed {
        return Err(AppError::Conflict(
            "The case is closed: reopen it first.".into(),
        ));
    }
    let mut e = FieldErrors::new();
    let status = match input
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => current,
        Some(s) => {
            match CaseStatus::parse(s) {
                None => {
                    e.add("status", "Status must be new, in_review, awaiting_information, investigating or closed");
                    current
                }
                Some(next) => next,
            }
        }
    };
    let priority = match input
        .priority
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => c.priority.clone(),
        Some(p) => match Priority::parse(p) {
            Some(p) => Some(p.code().to_string()),
            None => {
                e.add("priority", "Priority must be low, medium, high or urgent");
                c.priority.clone()
            }
        },
    };
    let assignee_id = if input.unassign {
        None
    } else {
        match input.assignee_id {
            None => c.assignee_id,
            Some(a) => {
                if !tdb::is_area_cdao(&state.db, a, c.area_id).await? {
                    e.add("assignee_id", "Assign the case to a CDAO of its area");
                }
                Some(a)
            }
        }
    };
    let risk = match &input.risk {
        None => None,
        Some(r) => match (r.consequence, r.likelihood) {
            (Some(cq), Some(lk)) if rules::risk_grade(cq, lk).is_some() => {
                Some((i16::from(cq), i16::from(lk)))
            }
            _ => {
                e.add(
                    "risk",
                    "Risk needs a consequence and a likelihood, each from 1 to 5",
                );
                None
            }
        },
    };
    let note = e.optional_text("note", input.note.as_deref(), "the note", 10_000);
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    if status != current {
        if status == CaseStatus::Closed {
            return Err(AppError::Conflict(
                "Close a case with its outcome (the close action).".into(),
            ));
        }
        if status == CaseStatus::AwaitingInformation {
            return Err(AppError::Conflict(
                "Ask the reporter for information with a message that requests it.".into(),
            ));
        }
        if !rules::triage_move_allowed(current, status) {
            return Err(AppError::Conflict(format!(
                "A case cannot move from {} to {}.",
                current.label().to_lowercase(),
                status.label().to_lowercase()
            )));
        }
    }
    let now = state.now();
    let triaged_at = c.triaged_at.or((status != CaseStatus::New).then_some(now));
    tdb::update(
        &mut tx,
        &case,
        status.code(),
        priority.as_deref(),
        assignee_id,
        risk,
        triaged_at,
        now,
    )
    .await?;
    if priority != c.priority
        && let Some(p) = priority.as_deref().and_then(Priority::parse)
    {
        // An urgent case is due in one working day from when it arrived.
        tdb::set_triage_due(&mut tx, &case, rules::triage_due(c.submitted_at, p)).await?;
    }
    let mut changes = serde_json::Map::new();
    if status != current {
        changes.insert(
            "status".into(),
            json!({"from": current.code(), "to": status.code()}),
        );
    }
    if priority != c.priority {
        changes.insert(
            "priority".into(),
            json!({"from": c.priority, "to": priority}),
        );
    }
    if assignee_id != c.assignee_id {
        changes.insert(
            "assignee_id".into(),
            json!({"from": c.assignee_id, "to": assignee_id}),
        );
    }
    if let Some((cq, lk)) = risk {
        changes.insert("risk".into(), json!({"consequence": cq, "likelihood": lk}));
    }
    if !changes.is_empty() {
        // A status change is news for the reporter; the rest is internal.
        let audience = if status != current {
            "reporter"
        } else {
            "cdao"
        };
        let data = if audience == "reporter" {
            json!({"status": {"from": current.code(), "to": status.code()}})
        } else {
            serde_json::Value::Object(changes.clone())
        };
        cdb::insert_event(
            &mut tx,
            &case,
            now,
            Some(actor.user_id),
            "status_changed",
            audience,
            data,
        )
        .await?;
        if audience == "reporter" && changes.len() > 1 {
            cdb::insert_event(
                &mut tx,
                &case,
                now,
                Some(actor.user_id),
                "triaged",
                "cdao",
                serde_json::Value::Object(changes.clone()),
            )
            .await?;
        }
    }
    if let Some(n) = &note {
        cdb::insert_event(
            &mut tx,
            &case,
            now,
            Some(actor.user_id),
            "note",
            "cdao",
            json!({"text": n}),
        )
        .await?;
    }
    let mut details = serde_json::Map::new();
    for k in changes.keys() {
        details.insert(k.clone(), json!(true));
    }
    details.insert("note".into(), json!(note.is_some()));
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::TRIAGED, "case", Some(case_id))
            .case(case_id)
            .details(serde_json::Value::Object(details)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
