//! Closing a case with its outcome, reopening it, and telling the members who received its
//! alerts.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{action, lock_for_triage};
use crate::access::TriageCase;
use crate::app::db::{cases as cdb, triage as tdb};
use crate::audit::{self, Event};
use crate::domain::triage::{Outcome, WellFounded};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    #[schema(value_type = crate::domain::triage::Outcome, required = true)]
    pub outcome: Option<String>,
    #[schema(value_type = crate::domain::triage::WellFounded, required = true)]
    pub well_founded: Option<String>,
    #[schema(max_length = 10_000)]
    pub note: Option<String>,
}

pub async fn close(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &CloseInput,
) -> AppResult<()> {
    let (mut tx, case) = lock_for_triage(state, actor, case_id).await?;
    let c = case.row().clone();
    let mut e = FieldErrors::new();
    let outcome = crate::domain::report::required_code(
        &mut e,
        "outcome",
        input.outcome.as_deref(),
        Outcome::parse,
        "Select the outcome",
        "Select an outcome from the list",
    );
    let well_founded = crate::domain::report::required_code(
        &mut e,
        "well_founded",
        input.well_founded.as_deref(),
        WellFounded::parse,
        "Say whether the concern was well founded",
        "Well founded must be yes, no or undetermined",
    );
    let note = e.optional_text("note", input.note.as_deref(), "the note", 10_000);
    let (Some(outcome), Some(well_founded)) = (outcome, well_founded) else {
        return Err(AppError::Validation(e.into_vec()));
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    if c.status == "closed" {
        return Err(AppError::Conflict("The case is already closed.".into()));
    }
    let now = state.now();
    tdb::close(&mut tx, &case, outcome.code(), well_founded.code(), now).await?;
    // A concern found not well founded is passed on to every member organisation that
    // received it, so that it can correct its own records (UK GDPR Art 19).
    if c.kind == "person_concern" && well_founded == WellFounded::No {
        tell_recipients(&mut tx, &case, "case_outcome", now).await?;
    }
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "closed",
        "reporter",
        json!({"status": {"from": c.status, "to": "closed"}}),
    )
    .await?;
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "outcome",
        "cdao",
        json!({"outcome": outcome.code(), "well_founded": well_founded.code(), "note": note}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::CLOSED, "case", Some(case_id))
            .case(case_id)
            .details(json!({"outcome": outcome.code(), "well_founded": well_founded.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 5_000)]
    pub reason: Option<String>,
}

pub async fn reopen(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &ReopenInput,
) -> AppResult<()> {
    let (mut tx, case) = lock_for_triage(state, actor, case_id).await?;
    let c = case.row().clone();
    let mut e = FieldErrors::new();
    let reason = e.text(
        "reason",
        input.reason.as_deref(),
        "why the case is reopened",
        5_000,
    );
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    if c.status != "closed" {
        return Err(AppError::Conflict(
            "Only a closed case can be reopened.".into(),
        ));
    }
    let now = state.now();
    tdb::reopen(&mut tx, &case, now).await?;
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "reopened",
        "reporter",
        json!({"status": {"from": "closed", "to": "in_review"}}),
    )
    .await?;
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "note",
        "cdao",
        json!({"text": format!("Reopened: {reason}")}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::REOPENED, "case", Some(case_id)).case(case_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Tells every member organisation that received a case's alerts (live or expired, not
/// revoked), by a notification without content, and notes on the timeline who was told.
pub(crate) async fn tell_recipients(
    tx: &mut sqlx::PgConnection,
    case: &TriageCase,
    kind: &'static str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<Uuid>> {
    let alerts = crate::app::db::shares::received_alerts(tx, case).await?;
    let mut told = Vec::new();
    for (alert_id, org) in &alerts {
        let users = crate::app::db::shares::member_users(tx, &[*org]).await?;
        crate::app::db::outbox::enqueue(tx, kind, &users, Some(*alert_id), now).await?;
        if !told.contains(org) {
            told.push(*org);
        }
    }
    if !told.is_empty() {
        let event = if kind == "case_outcome" {
            "outcome_passed_on"
        } else {
            "recipients_told"
        };
        cdb::insert_event(
            tx,
            case,
            now,
            None,
            event,
            "cdao",
            json!({"organisation_ids": told, "notice": kind}),
        )
        .await?;
    }
    Ok(told)
}
