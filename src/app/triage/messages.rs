//! Messages between the CDAO team and the reporting side, and requests for information.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::{action, status_of};
use crate::access;
use crate::app::db::{cases as cdb, triage as tdb};
use crate::audit::{self, Event};
use crate::domain::report::CaseStatus;
use crate::domain::triage::{self as rules};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10_000)]
    pub body: Option<String>,
    /// From the CDAO team: ask the reporter for more information (the case then awaits it).
    #[serde(default)]
    pub request_information: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageSent {
    pub id: Uuid,
    pub status: String,
}

/// A message between the CDAO team and the reporting side. A CDAO's request for information
/// sets `awaiting_information`; the reporter's answer returns the case to `in_review`.
pub async fn message(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &MessageInput,
) -> AppResult<MessageSent> {
    let mut tx = state.db.begin().await?;
    let conv = access::case_locked(actor, &mut tx, case_id, state.now())
        .await?
        .conversation()?;
    let c = conv.row().clone();
    let from_cdao = conv.from_cdao();
    let mut e = FieldErrors::new();
    let body = e.text("body", input.body.as_deref(), "your message", 10_000);
    if input.request_information && !from_cdao {
        e.add(
            "request_information",
            "Only the CDAO team can request information",
        );
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let current = status_of(&c.status)?;
    if current == CaseStatus::Closed {
        return Err(AppError::Conflict(
            "The case is closed: messages can no longer be sent on it.".into(),
        ));
    }
    let next = if input.request_information {
        if !rules::can_request_information(current) {
            return Err(AppError::Conflict(
                "Information has already been requested on this case.".into(),
            ));
        }
        CaseStatus::AwaitingInformation
    } else if !from_cdao && current == CaseStatus::AwaitingInformation {
        CaseStatus::InReview
    } else {
        current
    };
    let now = state.now();
    let id = Uuid::now_v7();
    if next != current {
        // A question to the reporter, or their answer, is not a triage decision: the case is
        // triaged when the team sets its status (issue 11).
        tdb::set_status(&mut tx, &conv, next.code(), c.triaged_at, now).await?;
    }
    cdb::insert_event(
        &mut tx,
        &conv,
        now,
        Some(actor.user_id),
        "message",
        "reporter",
        json!({
            "message_id": id,
            "from": if from_cdao { "cdao" } else { "reporter" },
            "body": body,
            "request_information": input.request_information,
        }),
    )
    .await?;
    if next != current {
        cdb::insert_event(
            &mut tx,
            &conv,
            now,
            Some(actor.user_id),
            "status_changed",
            "reporter",
            json!({"status": {"from": current.code(), "to": next.code()}}),
        )
        .await?;
    }
    if input.request_information {
        // The reporter is told there is a question; the question itself stays behind sign-in.
        crate::app::db::outbox::enqueue(
            &mut tx,
            "information_requested",
            &[c.reporter_id],
            Some(case_id),
            now,
        )
        .await?;
    }
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            if input.request_information {
                action::INFORMATION_REQUESTED
            } else {
                action::MESSAGE_SENT
            },
            "case",
            Some(case_id),
        )
        .case(case_id),
    )
    .await?;
    tx.commit().await?;
    Ok(MessageSent {
        id,
        status: next.code().to_string(),
    })
}
