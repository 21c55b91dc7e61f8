//! Access requests: asking to see a match another area holds, the holding team's decision
//! (and the shares an approval makes), and a case's access log.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::action;
use crate::access;
use crate::app::db::{cases as cdb, triage as tdb};
use crate::audit::{self, Event};
use crate::domain::share::{ActionRequired, Disclosure, LawfulBasis, ShareSpec};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequestInput {
    /// The caller's own case whose person matched.
    #[schema(value_type = uuid::Uuid, required = true)]
    pub case_id: Option<Uuid>,
    /// The area whose CDAO team holds the match.
    #[schema(value_type = uuid::Uuid, required = true)]
    pub area_id: Option<Uuid>,
    /// Why the team needs to see it: the purpose of the shares an approval makes.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 5_000)]
    pub reason: Option<String>,
    /// The requesting team's lawful basis (default `public_task_health_care`).
    #[schema(value_type = Option<crate::domain::share::LawfulBasis>)]
    pub lawful_basis: Option<String>,
}

pub async fn request_access(
    state: &AppState,
    actor: &Actor,
    input: &AccessRequestInput,
) -> AppResult<tdb::AccessRequest> {
    access::cdao_areas(actor)?;
    let now = state.now();
    let mut e = FieldErrors::new();
    let reason = e.text(
        "reason",
        input.reason.as_deref(),
        "why your team needs to see the matched case",
        5_000,
    );
    let lawful_basis = match input
        .lawful_basis
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => Some(LawfulBasis::PublicTaskHealthCare),
        Some(b) => {
            let parsed = LawfulBasis::parse(b);
            if parsed.is_none() {
                e.add("lawful_basis", "Select a lawful basis from the list");
            }
            parsed
        }
    };
    let case = match input.case_id {
        None => {
            e.add("case_id", "Enter your case whose person matched");
            None
        }
        // Only a case the team holds can ask on its own behalf.
        Some(id) => match access::case(actor, &state.db, id, now).await {
            Ok(c) => match c.triage() {
                Ok(t) => Some(t),
                Err(_) => {
                    e.add("case_id", "Enter a case of your own area");
                    None
                }
            },
            Err(AppError::NotFound) => {
                e.add("case_id", "Enter a case of your own area");
                None
            }
            Err(err) => return Err(err),
        },
    };
    let holding = input.area_id;
    if holding.is_none() {
        e.add("area_id", "Enter the area holding the match");
    }
    let (Some(case), Some(holding), Some(lawful_basis)) = (case, holding, lawful_basis) else {
        return Err(AppError::Validation(e.into_vec()));
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    // There must be a match held there that the caller cannot already see.
    let hidden_there = tdb::matches(&state.db, &case)
        .await?
        .into_iter()
        .filter(|m| m.area_id == holding)
        .map(|m| m.case_id)
        .collect::<Vec<_>>();
    let visible: Vec<Uuid> = access::visible_cases(actor, &state.db, &hidden_there, now)
        .await?
        .iter()
        .map(|c| c.id())
        .collect();
    if hidden_there.iter().all(|id| visible.contains(id)) {
        return Err(AppError::validation(
            "area_id",
            "That area holds no match you cannot already see",
        ));
    }
    let id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    tdb::insert_access_request(
        &mut tx,
        id,
        &case,
        actor.user_id,
        holding,
        &reason,
        lawful_basis.code(),
        now,
    )
    .await
    .map_err(|err| match crate::app::db::violated_constraint(&err) {
        Some(_) => {
            AppError::Conflict("A request for this match is already waiting for a decision.".into())
        }
        None => err.into(),
    })?;
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "access_requested",
        "cdao",
        json!({"access_request_id": id, "holding_area_id": holding}),
    )
    .await?;
    // The holding team is told there is a request to decide (without its content).
    let holders = crate::app::db::shares::area_cdaos(&mut tx, holding).await?;
    crate::app::db::outbox::enqueue(&mut tx, "access_request_received", &holders, Some(id), now)
        .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::ACCESS_REQUESTED,
            "access_request",
            Some(id),
        )
        .case(case.id()),
    )
    .await?;
    tx.commit().await?;
    Ok(access::access_request(actor, &state.db, id)
        .await?
        .row()
        .clone())
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `approve` or `decline`.
    #[schema(value_type = crate::web::api::AccessDecision, required = true)]
    pub decision: Option<String>,
    /// Required to decline.
    #[schema(max_length = 5_000)]
    pub reason: Option<String>,
}

/// The decision, and the shares an approval made (one per matched case).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Decided {
    #[serde(flatten)]
    pub request: tdb::AccessRequest,
    pub share_ids: Vec<Uuid>,
}

/// How long a share made by approving an access request lasts.
pub const ACCESS_SHARE_DAYS: i64 = 90;

/// The holding team decides. An approval creates one share per matched case to the
/// requesting area's CDAO team: identified, the request's reason as its purpose, the
/// requester's lawful basis, 90 days, revocable, under the holding area's two-person rule.
pub async fn decide_access(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &DecisionInput,
) -> AppResult<Decided> {
    let request = access::access_request(actor, &state.db, id)
        .await?
        .decision(actor)?;
    let r = request.row().clone();
    let mut e = FieldErrors::new();
    let approve = match input.decision.as_deref().map(str::trim) {
        Some("approve") => Some(true),
        Some("decline") => Some(false),
        _ => {
            e.add("decision", "Decision must be approve or decline");
            None
        }
    };
    let reason = e.optional_text("reason", input.reason.as_deref(), "the reason", 5_000);
    if approve == Some(false) && reason.is_none() {
        e.add("reason", "Give the reason for declining");
    }
    let Some(approve) = approve else {
        return Err(AppError::Validation(e.into_vec()));
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let status = if approve { "approved" } else { "declined" };
    if !tdb::decide(
        &mut tx,
        &request,
        status,
        actor.user_id,
        reason.as_deref(),
        now,
    )
    .await?
    {
        return Err(AppError::Conflict(
            "This request has already been decided.".into(),
        ));
    }
    let mut share_ids = Vec::new();
    if approve {
        let lawful_basis =
            LawfulBasis::parse(&r.lawful_basis).unwrap_or(LawfulBasis::PublicTaskHealthCare);
        for case_id in tdb::matched_cases(&mut tx, &request).await? {
            let case = access::case_on(actor, &mut tx, case_id, now)
                .await?
                .triage()?;
            let spec = ShareSpec {
                organisation_ids: vec![],
                disclosure: Disclosure::Identified,
                include_patient_data: false,
                patient_data_reason: None,
                include_organisation_name: true,
                lawful_basis,
                purpose: r.reason.clone(),
                summary: format!(
                    "Shared with the {} CDAO team in answer to its access request about a possible match with its case {}.",
                    r.requester_area_name, r.case_reference
                ),
                action_required: ActionRequired::ForInformation,
                respond_by: None,
                expires_at: now + chrono::TimeDelta::days(ACCESS_SHARE_DAYS),
                attachment_ids: vec![],
            };
            let created = crate::shares::insert(
                &mut tx,
                state,
                actor,
                &case,
                &spec,
                crate::shares::Recipient::Team {
                    area_id: r.requester_area_id,
                    access_request_id: id,
                },
            )
            .await?;
            share_ids.push(created.id);
        }
    }
    cdb::insert_event(
        &mut tx,
        &request,
        now,
        Some(actor.user_id),
        "access_decided",
        "cdao",
        json!({"access_request_id": id, "decision": status, "reason": reason, "share_ids": share_ids}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            if approve {
                action::ACCESS_APPROVED
            } else {
                action::ACCESS_DECLINED
            },
            "access_request",
            Some(id),
        )
        .case(r.case_id)
        .details(json!({"shares": share_ids.len()})),
    )
    .await?;
    tx.commit().await?;
    // A share it made may already be in force (see `reports::SharesIn`).
    state.shares_in.forget();
    let request = access::access_request(actor, &state.db, id)
        .await?
        .row()
        .clone();
    Ok(Decided { request, share_ids })
}

/// The access log of a case (who viewed it, from the audit trail): its area's CDAOs.
pub async fn access_log(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> AppResult<Vec<tdb::AccessLogEntry>> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .triage()?;
    Ok(tdb::access_log(&state.db, &case).await?)
}

/// Access requests made by the actor's areas and to them.
pub async fn list_access_requests(
    state: &AppState,
    actor: &Actor,
) -> AppResult<Vec<tdb::AccessRequest>> {
    let areas = access::cdao_areas(actor)?;
    Ok(tdb::access_requests(&state.db, &areas, None).await?)
}

/// What approving a pending request would share: the holding team's cases naming the same
/// person as the requester's case (reference and id).
pub async fn would_share(
    state: &AppState,
    actor: &Actor,
    request_id: Uuid,
) -> AppResult<Vec<(Uuid, String)>> {
    let request = access::access_request(actor, &state.db, request_id)
        .await?
        .decision(actor)?;
    let mut conn = state.db.acquire().await?;
    let ids = tdb::matched_cases(&mut conn, &request).await?;
    drop(conn);
    Ok(crate::reports::briefs(state, actor, &ids)
        .await?
        .into_iter()
        .map(|b| (b.id, b.reference))
        .collect())
}
