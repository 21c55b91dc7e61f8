//! The CDAO team's work on a case (SPEC §4 "Triage", "Access request"): triage, messages
//! with the reporter, links, closing and reopening, correlation matches and access requests.
//! Every step goes on the case's timeline and into the audit trail, in one transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::access::{self, TriageCase};
use crate::app::db::{cases as cdb, triage as tdb};
use crate::audit::{self, Event};
use crate::domain::report::CaseStatus;
use crate::domain::share::{ActionRequired, Disclosure, LawfulBasis, ShareSpec};
use crate::domain::triage::{self as rules, LinkRelation, Outcome, Priority, WellFounded};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

pub mod action {
    pub const TRIAGED: &str = "case.triaged";
    pub const NOTE_ADDED: &str = "case.note_added";
    pub const MESSAGE_SENT: &str = "case.message_sent";
    pub const INFORMATION_REQUESTED: &str = "case.information_requested";
    pub const LINKED: &str = "case.linked";
    pub const CLOSED: &str = "case.closed";
    pub const REOPENED: &str = "case.reopened";
    pub const MATCHES_VIEWED: &str = "case.matches_viewed";
    pub const ACCESS_REQUESTED: &str = "access_request.created";
    pub const ACCESS_APPROVED: &str = "access_request.approved";
    pub const ACCESS_DECLINED: &str = "access_request.declined";
    pub const EXPORTED: &str = "case.exported";
}

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

fn status_of(s: &str) -> AppResult<CaseStatus> {
    CaseStatus::parse(s).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown status {s}")))
}

/// The case, locked, once the actor is known to be a CDAO of its area (404 if they cannot
/// see it, 403 if they can but may not triage it).
async fn lock_for_triage(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> AppResult<TriageCase> {
    access::case_locked(actor, tx, case_id, state.now())
        .await?
        .triage()
}

/// Any of status, priority, assignee, risk grade and an internal note.
pub async fn triage(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &TriageInput,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let case = lock_for_triage(&mut tx, state, actor, case_id).await?;
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
        crate::app::db::shares::enqueue(
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

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    #[schema(value_type = uuid::Uuid, required = true)]
    pub case_id: Option<Uuid>,
    /// `related` or `duplicate_of` (this case is a duplicate of the other).
    #[schema(value_type = crate::domain::triage::LinkRelation, required = true)]
    pub relation: Option<String>,
}

pub async fn link(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &LinkInput,
) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let case = lock_for_triage(&mut tx, state, actor, case_id).await?;
    let mut e = FieldErrors::new();
    let relation = crate::domain::report::required_code(
        &mut e,
        "relation",
        input.relation.as_deref(),
        LinkRelation::parse,
        "Select how the cases are related",
        "Relation must be related or duplicate_of",
    );
    let other = match input.case_id {
        None => {
            e.add("case_id", "Enter the case to link to");
            None
        }
        Some(o) if o == case_id => {
            e.add("case_id", "A case cannot be linked to itself");
            None
        }
        Some(o) => match access::case(actor, &state.db, o, state.now()).await {
            Ok(other) => Some(other),
            Err(AppError::NotFound) => {
                e.add("case_id", "There is no case with this id that you can see");
                None
            }
            Err(err) => return Err(err),
        },
    };
    let (Some(relation), Some(other_case)) = (relation, other) else {
        return Err(AppError::Validation(e.into_vec()));
    };
    let other = other_case.id();
    let now = state.now();
    if !tdb::insert_link(
        &mut tx,
        &case,
        &other_case,
        relation.code(),
        actor.user_id,
        now,
    )
    .await?
    {
        return Err(AppError::Conflict("These cases are already linked.".into()));
    }
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "linked",
        "cdao",
        json!({"case_id": other, "relation": relation.code()}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::LINKED, "case", Some(case_id))
            .case(case_id)
            .details(json!({"other_case_id": other, "relation": relation.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

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
    let mut tx = state.db.begin().await?;
    let case = lock_for_triage(&mut tx, state, actor, case_id).await?;
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
    let mut tx = state.db.begin().await?;
    let case = lock_for_triage(&mut tx, state, actor, case_id).await?;
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Match {
    /// Null where the caller may not see the case: only its existence and holder are shown.
    pub case_id: Option<Uuid>,
    pub case_reference: Option<String>,
    pub area_id: Uuid,
    pub area_name: String,
    pub matched_on: Vec<String>,
    /// The caller's pending or decided access request to the holding area for this case, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_request: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatchList {
    pub items: Vec<Match>,
}

/// Other reports naming the same person: in full inside the caller's areas (and cases shared
/// with their team); elsewhere only "a possible match is held by the <area> CDAO team".
pub async fn matches(state: &AppState, actor: &Actor, case_id: Uuid) -> AppResult<MatchList> {
    let now = state.now();
    let case = access::case(actor, &state.db, case_id, now)
        .await?
        .triage()?;
    let areas = access::cdao_areas(actor)?;
    let rows = tdb::matches(&state.db, &case).await?;
    let others: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
    let visible: Vec<Uuid> = access::visible_cases(actor, &state.db, &others, now)
        .await?
        .iter()
        .map(|c| c.id())
        .collect();
    let requests = tdb::access_requests(&state.db, &areas, None).await?;
    let mut items: Vec<Match> = Vec::new();
    for r in rows {
        if visible.contains(&r.case_id) {
            items.push(Match {
                case_id: Some(r.case_id),
                case_reference: Some(r.reference),
                area_id: r.area_id,
                area_name: r.area_name,
                matched_on: r.matched_on,
                access_request: None,
            });
        } else {
            // One line per holding area: several hidden cases there reveal no more than one.
            if let Some(m) = items
                .iter_mut()
                .find(|m| m.case_id.is_none() && m.area_id == r.area_id)
            {
                for k in r.matched_on {
                    if !m.matched_on.contains(&k) {
                        m.matched_on.push(k);
                    }
                }
                m.matched_on.sort();
                continue;
            }
            let request = requests
                .iter()
                .find(|q| q.case_id == case_id && q.holding_area_id == r.area_id)
                .map(|q| q.status.clone());
            items.push(Match {
                case_id: None,
                case_reference: None,
                area_id: r.area_id,
                area_name: r.area_name,
                matched_on: r.matched_on,
                access_request: request,
            });
        }
    }
    audit::record_alone(
        &state.db,
        state.now(),
        Event::new(
            Some(actor.user_id),
            action::MATCHES_VIEWED,
            "case",
            Some(case_id),
        )
        .case(case_id)
        .details(json!({"matches": items.len()})),
    )
    .await?;
    Ok(MatchList { items })
}

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
    crate::app::db::shares::enqueue(&mut tx, "access_request_received", &holders, Some(id), now)
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
        crate::app::db::shares::enqueue(tx, kind, &users, Some(*alert_id), now).await?;
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
