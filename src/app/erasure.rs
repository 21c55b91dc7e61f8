//! Erasure where the law allows (UK GDPR Art 17, Art 19): a CDAO of the holding area removes a
//! person record entered in error (the wrong person identified), with a reason, under the
//! area's two-person rule. Once approved, the identity and its blind indexes go at once, every
//! member organisation that received the case is told (without content), and the timeline and
//! the audit trail record it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::app::db::{cases as cdb, erasures as edb, shares as sdb};
use crate::audit::{self, Event};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

pub mod action {
    pub const REQUESTED: &str = "person.erasure_requested";
    pub const ERASED: &str = "person.erased";
    pub const DECLINED: &str = "person.erasure_declined";
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureInput {
    /// Why the record is wrong (for example, the wrong person was identified).
    #[schema(value_type = String, required = true, min_length = 1, max_length = 2_000)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErasureOutcome {
    pub id: Uuid,
    /// `pending` (waiting for a second CDAO of the area), `approved` (removed) or `declined`.
    pub status: String,
}

fn reason(input: &ErasureInput, what: &str) -> AppResult<String> {
    let mut e = FieldErrors::new();
    let r = e.text("reason", input.reason.as_deref(), what, 2_000);
    if e.is_empty() {
        Ok(r)
    } else {
        Err(AppError::Validation(e.into_vec()))
    }
}

/// Asks to remove a person record of a case the actor's team holds. Where the area's
/// two-person rule is off, it is removed at once.
pub async fn request(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    person_id: Uuid,
    input: &ErasureInput,
) -> AppResult<ErasureOutcome> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let case = access::case_locked(actor, &mut tx, case_id, now)
        .await?
        .triage()?;
    if !edb::person_held(&mut tx, &case, person_id).await? {
        return Err(AppError::NotFound);
    }
    let why = reason(input, "why the record was entered in error")?;
    let rule = sdb::two_person_rule(&state.db, case.area_id()).await?;
    let id = Uuid::now_v7();
    let record = edb::Erasure {
        id,
        person_id,
        case_id,
        area_id: case.area_id(),
        requested_by: actor.user_id,
        reason: why.clone(),
        status: if rule { "pending" } else { "approved" }.into(),
        decided_by: (!rule).then_some(actor.user_id),
        decided_at: (!rule).then_some(now),
        decision_reason: None,
        created_at: now,
    };
    edb::insert(&mut tx, &case, &record).await.map_err(|e| {
        match crate::app::db::violated_constraint(&e) {
            Some(_) => AppError::Conflict(
                "Removing this record is already waiting for a second CDAO.".into(),
            ),
            None => e.into(),
        }
    })?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::REQUESTED,
            "person",
            Some(person_id),
        )
        .case(case_id)
        .details(json!({"erasure_id": id})),
    )
    .await?;
    if rule {
        cdb::insert_event(
            &mut tx,
            &case,
            now,
            Some(actor.user_id),
            "erasure_requested",
            "cdao",
            json!({"erasure_id": id, "person_id": person_id, "reason": why}),
        )
        .await?;
        let others = sdb::other_cdaos(&mut tx, case.area_id(), actor.user_id).await?;
        crate::app::db::outbox::enqueue(
            &mut tx,
            "erasure_awaiting_approval",
            &others,
            Some(id),
            now,
        )
        .await?;
    } else {
        erase(&mut tx, actor, &case, id, person_id, &why, now).await?;
    }
    tx.commit().await?;
    Ok(ErasureOutcome {
        id,
        status: record.status,
    })
}

/// The identity and its blind indexes go; recipients are told; it is written down.
async fn erase(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    case: &access::TriageCase,
    erasure_id: Uuid,
    person_id: Uuid,
    why: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    edb::remove_person(tx, case, person_id, now).await?;
    cdb::insert_event(
        tx,
        case,
        now,
        Some(actor.user_id),
        "person_erased",
        "cdao",
        json!({"erasure_id": erasure_id, "person_id": person_id, "reason": why}),
    )
    .await?;
    crate::triage::tell_recipients(tx, case, "person_removed", now).await?;
    audit::record(
        tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::ERASED,
            "person",
            Some(person_id),
        )
        .case(case.id())
        .details(json!({"erasure_id": erasure_id})),
    )
    .await?;
    Ok(())
}

/// A second CDAO of the area approves: the record goes at once.
pub async fn approve(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<ErasureOutcome> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let erasure = access::managed_erasure(actor, &mut tx, id).await?;
    let r = erasure.row().clone();
    if r.requested_by == actor.user_id {
        return Err(AppError::Forbidden(
            "The CDAO who asked for a removal cannot approve it: a second CDAO of the area must."
                .into(),
        ));
    }
    if r.status != "pending" {
        return Err(AppError::Conflict(
            "This removal has already been decided.".into(),
        ));
    }
    let case = access::case_locked(actor, &mut tx, r.case_id, now)
        .await?
        .triage()?;
    edb::decide(&mut tx, &erasure, "approved", actor.user_id, None, now).await?;
    erase(&mut tx, actor, &case, id, r.person_id, &r.reason, now).await?;
    tx.commit().await?;
    Ok(ErasureOutcome {
        id,
        status: "approved".into(),
    })
}

/// A second CDAO declines, with a reason.
pub async fn decline(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &ErasureInput,
) -> AppResult<ErasureOutcome> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let erasure = access::managed_erasure(actor, &mut tx, id).await?;
    let r = erasure.row().clone();
    if r.requested_by == actor.user_id {
        return Err(AppError::Forbidden(
            "The CDAO who asked for a removal cannot decide it: a second CDAO of the area must."
                .into(),
        ));
    }
    let why = reason(input, "why the record should stay")?;
    if r.status != "pending" {
        return Err(AppError::Conflict(
            "This removal has already been decided.".into(),
        ));
    }
    edb::decide(
        &mut tx,
        &erasure,
        "declined",
        actor.user_id,
        Some(&why),
        now,
    )
    .await?;
    cdb::insert_event(
        &mut tx,
        &erasure,
        now,
        Some(actor.user_id),
        "erasure_declined",
        "cdao",
        json!({"erasure_id": id, "reason": why}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::DECLINED,
            "person",
            Some(r.person_id),
        )
        .case(r.case_id)
        .details(json!({"erasure_id": id})),
    )
    .await?;
    tx.commit().await?;
    Ok(ErasureOutcome {
        id,
        status: "declined".into(),
    })
}

/// The erasures of a case its team holds (for its page).
pub async fn of_case(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> AppResult<Vec<edb::Erasure>> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .triage()?;
    Ok(edb::of_case(&state.db, &case).await?)
}

/// The case an erasure is about, for pages that go back to it.
pub async fn case_of(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<Uuid> {
    let mut tx = state.db.begin().await?;
    let e = access::managed_erasure(actor, &mut tx, id).await?;
    tx.rollback().await?;
    Ok(e.row().case_id)
}
