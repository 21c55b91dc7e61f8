//! Routing cases (SPEC §3, §4 "Share"): shares to LIN members with a preview of exactly what
//! each member will see, or to another area's CDAO team in answer to an access request; the
//! two-person rule, decline with a reason, expiry and revocation enforced on every read; the
//! member's alerts, acknowledgements and responses flowing back to the case; the evidence a
//! share names, and no other.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::{self, CaseRef, TriageCase};
use crate::app::db::{cases as cdb, shares as sdb};
use crate::audit::{self, Event};
use crate::disclosure::{self, ReportingOrganisation, SharedPerson, SharedReport, Terms};
use crate::domain::share::{Evidence, ShareInput, ShareSpec};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

mod alerts;
pub use crate::app::db::shares::{INBOX_LIMIT, InboxFilter};
pub use alerts::{
    AlertItem, InboxList, ResponseInput, acknowledge, alert_attachment, list_alerts, respond,
    view_alert,
};

pub mod action {
    pub const SHARE_CREATED: &str = "share.created";
    pub const SHARE_PREVIEWED: &str = "share.previewed";
    pub const SHARE_APPROVED: &str = "share.approved";
    pub const SHARE_DECLINED: &str = "share.declined";
    pub const SHARE_REVOKED: &str = "share.revoked";
    pub const ALERT_VIEWED: &str = "alert.viewed";
    pub const ALERT_IDENTITY_VIEWED: &str = "alert.identity_viewed";
    pub const ALERT_ACKNOWLEDGED: &str = "alert.acknowledged";
    pub const ALERT_RESPONDED: &str = "alert.responded";
    pub const ALERT_ATTACHMENT_DOWNLOADED: &str = "alert.attachment_downloaded";
}

/// Exactly what a member sees of an alert (and what the CDAO's preview shows).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertView {
    pub id: Option<Uuid>,
    pub share_id: Option<Uuid>,
    pub case_reference: String,
    pub received_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledge_by: Option<DateTime<Utc>>,
    pub disclosure: String,
    pub action_required: String,
    pub respond_by: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
    /// `live`, `expired` or `revoked`: only a live alert shows its content.
    pub state: String,
    pub lawful_basis: String,
    /// The CDAO's purpose for sharing: free text, so shown only while the alert is live.
    pub purpose: Option<String>,
    pub summary: Option<String>,
    pub reporting_organisation: ReportingOrganisation,
    pub report: Option<SharedReport>,
    pub persons: Vec<SharedPerson>,
    pub attachments: Vec<cdb::AttachmentInfo>,
    pub responses: Vec<sdb::Response>,
    /// The case's outcome once it is closed, while the alert is live or expired (so that a
    /// recipient can correct its own records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_outcome: Option<CaseOutcome>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseOutcome {
    /// `yes`, `no` or `undetermined`.
    pub well_founded: String,
    pub closed_at: DateTime<Utc>,
}

/// What a live share of `case` discloses, given its terms.
pub(crate) async fn disclose(
    state: &AppState,
    conn: &mut PgConnection,
    case: &impl CaseRef,
    kind: &str,
    report: &serde_json::Value,
    t: Terms<'_>,
    attachment_ids: &[Uuid],
) -> AppResult<(SharedReport, Vec<SharedPerson>, Vec<cdb::AttachmentInfo>)> {
    let mut report = disclosure::shared_report(kind, report);
    // The overseas prescriber's registration is an identity: identified shares only.
    if t.disclosure == crate::domain::share::Disclosure::Identified.code()
        && let Some(o) = report.online_supply.as_mut()
    {
        o.prescriber_registration = crate::oversight::registration(state, conn, case).await?;
    }
    let persons = disclosure::shared_persons(disclosure::open_persons(state, conn, case).await?, t)
        .into_iter()
        .map(SharedPerson::from)
        .collect();
    let attachments = if attachment_ids.is_empty() {
        vec![]
    } else {
        disclosure::shared_attachments(cdb::attachments(conn, case).await?, attachment_ids)
    };
    Ok((report, persons, attachments))
}

/// Checks a share request for a case the CDAO's team holds.
async fn checked(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &ShareInput,
) -> AppResult<(TriageCase, ShareSpec)> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .triage()?;
    let allowed: Vec<Uuid> = sdb::member_organisations(&state.db, case.area_id())
        .await?
        .into_iter()
        .map(|o| o.0)
        .collect();
    let evidence: Vec<Evidence> = cdb::attachments(&state.db, &case)
        .await?
        .into_iter()
        .map(|a| Evidence {
            id: a.id,
            holds_patient_data: a.holds_patient_data,
        })
        .collect();
    let spec = input
        .parse(state.now(), state.uk_today(), &allowed, &evidence)
        .map_err(AppError::Validation)?;
    Ok((case, spec))
}

/// What the share form offers for a case the actor's team holds.
pub struct FormFacts {
    pub reference: String,
    /// Member organisations of the case's area: (id, name, sector).
    pub members: Vec<(Uuid, String, String)>,
    pub evidence: Vec<cdb::AttachmentInfo>,
    pub two_person_rule: bool,
}

pub async fn form_facts(state: &AppState, actor: &Actor, case_id: Uuid) -> AppResult<FormFacts> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .triage()?;
    let (members, evidence, two_person_rule) = tokio::try_join!(
        sdb::member_organisations(&state.db, case.area_id()),
        cdb::attachments(&state.db, &case),
        sdb::two_person_rule(&state.db, case.area_id()),
    )?;
    Ok(FormFacts {
        reference: case.reference().to_string(),
        members,
        evidence,
        two_person_rule,
    })
}

/// Exactly what each recipient would see, before anything is shared. Showing identities to
/// the CDAO is itself a view of them, so it is audited (`share.previewed`).
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &ShareInput,
) -> AppResult<AlertView> {
    let (case, spec) = checked(state, actor, case_id, input).await?;
    let c = case.row();
    let t = Terms {
        disclosure: spec.disclosure.code(),
        include_patient_data: spec.include_patient_data,
        include_organisation_name: spec.include_organisation_name,
    };
    let (report, persons, attachments) = disclose(
        state,
        &mut *state.db.acquire().await?,
        &case,
        &c.kind,
        &c.report,
        t,
        &spec.attachment_ids,
    )
    .await?;
    audit::record_alone(
        &state.db,
        state.now(),
        Event::new(
            Some(actor.user_id),
            action::SHARE_PREVIEWED,
            "case",
            Some(case.id()),
        )
        .case(case.id())
        .details(
            json!({"purpose": "share preview", "disclosure": spec.disclosure.code(),
                        "patient_data": spec.include_patient_data, "persons": persons.len(),
                        "attachments": attachments.len()}),
        ),
    )
    .await?;
    Ok(AlertView {
        id: None,
        share_id: None,
        case_reference: c.reference.clone(),
        received_at: None,
        read_at: None,
        acknowledged_at: None,
        acknowledge_by: None,
        disclosure: spec.disclosure.code().to_string(),
        action_required: spec.action_required.code().to_string(),
        respond_by: spec.respond_by,
        expires_at: spec.expires_at,
        state: "live".into(),
        lawful_basis: spec.lawful_basis.code().to_string(),
        purpose: Some(spec.purpose),
        summary: Some(spec.summary),
        reporting_organisation: disclosure::reporting_organisation(
            &c.sector,
            &c.area_name,
            &c.organisation_name,
            t,
        ),
        report: Some(report),
        persons,
        attachments,
        responses: vec![],
        case_outcome: None,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: Uuid,
    /// `approved` (delivered now) or `pending` (waiting for a second CDAO of the area).
    pub approval: String,
}

/// Delivers an approved share: to members, alerts received now and their users told; to
/// another area's team, its CDAOs told. Never with content.
async fn deliver(
    tx: &mut sqlx::PgConnection,
    share_id: Uuid,
    recipient_area: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(area) = recipient_area {
        let users = sdb::area_cdaos(tx, area).await?;
        crate::app::db::outbox::enqueue(tx, "case_shared_with_team", &users, Some(share_id), now)
            .await?;
        return Ok(());
    }
    let due = crate::domain::triage::add_working_days(now, 2);
    let orgs = sdb::deliver(tx, share_id, now, due).await?;
    let alerts = sdb::alerts_of_share(tx, share_id).await?;
    for (alert_id, org) in alerts.into_iter().filter(|(_, o)| orgs.contains(o)) {
        let users = sdb::member_users(tx, &[org]).await?;
        crate::app::db::outbox::enqueue(tx, "new_alert", &users, Some(alert_id), now).await?;
    }
    Ok(())
}

/// Writes a checked share of a case the actor's team holds, under the area's two-person
/// rule, with its timeline entry and audit event, in the caller's transaction.
pub(crate) async fn insert(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    actor: &Actor,
    case: &TriageCase,
    spec: &ShareSpec,
    recipient: Recipient,
) -> AppResult<Created> {
    let rule = sdb::two_person_rule(&state.db, case.area_id()).await?;
    let approved = !spec.needs_second_approval(rule);
    let now = state.now();
    let id = Uuid::now_v7();
    let (recipient_area_id, access_request_id) = match recipient {
        Recipient::Members => (None, None),
        Recipient::Team {
            area_id,
            access_request_id,
        } => (Some(area_id), Some(access_request_id)),
    };
    sdb::insert_share(
        tx,
        case,
        &sdb::NewShare {
            id,
            created_by: actor.user_id,
            disclosure: spec.disclosure.code(),
            include_patient_data: spec.include_patient_data,
            patient_data_reason: spec.patient_data_reason.as_deref(),
            include_organisation_name: spec.include_organisation_name,
            lawful_basis: spec.lawful_basis.code(),
            purpose: &spec.purpose,
            summary: &spec.summary,
            action_required: spec.action_required.code(),
            respond_by: spec.respond_by,
            expires_at: spec.expires_at,
            approved,
            now,
            recipient_area_id,
            access_request_id,
        },
        &spec.organisation_ids,
        &spec.attachment_ids,
    )
    .await?;
    if approved {
        deliver(tx, id, recipient_area_id, now).await?;
    } else {
        let others = sdb::other_cdaos(tx, case.area_id(), actor.user_id).await?;
        crate::app::db::outbox::enqueue(tx, "share_awaiting_approval", &others, Some(id), now)
            .await?;
    }
    cdb::insert_event(
        tx,
        case,
        now,
        Some(actor.user_id),
        "shared",
        "cdao",
        json!({"share_id": id, "organisation_ids": spec.organisation_ids, "recipient_area_id": recipient_area_id,
               "disclosure": spec.disclosure.code(), "include_patient_data": spec.include_patient_data,
               "attachments": spec.attachment_ids.len(),
               "approval": if approved { "approved" } else { "pending" }}),
    )
    .await?;
    audit::record(
        tx,
        now,
        Event::new(Some(actor.user_id), action::SHARE_CREATED, "share", Some(id))
            .case(case.id())
            .details(json!({"disclosure": spec.disclosure.code(), "patient_data": spec.include_patient_data,
                            "recipients": spec.organisation_ids.len(), "recipient_area_id": recipient_area_id,
                            "attachments": spec.attachment_ids.len(), "lawful_basis": spec.lawful_basis.code()})),
    )
    .await?;
    Ok(Created {
        id,
        approval: if approved { "approved" } else { "pending" }.into(),
    })
}

/// Who a share goes to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Recipient {
    /// The member organisations named in the spec (one alert each).
    Members,
    /// Another area's CDAO team, in answer to its access request.
    Team {
        area_id: Uuid,
        access_request_id: Uuid,
    },
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &ShareInput,
) -> AppResult<Created> {
    let (case, spec) = checked(state, actor, case_id, input).await?;
    let mut tx = state.db.begin().await?;
    let created = insert(&mut tx, state, actor, &case, &spec, Recipient::Members).await?;
    tx.commit().await?;
    Ok(created)
}

/// The second CDAO of the area approves: the recipients are told.
pub async fn approve(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<Created> {
    let mut tx = state.db.begin().await?;
    let share = access::managed_share(actor, &mut tx, id).await?;
    let s = share.row().clone();
    if s.created_by == actor.user_id {
        return Err(AppError::Forbidden(
            "The CDAO who created a share cannot approve it: a second CDAO of the area must."
                .into(),
        ));
    }
    if s.revoked_at.is_some() {
        return Err(AppError::Conflict("The share was revoked.".into()));
    }
    match s.approval.as_str() {
        "approved" => return Err(AppError::Conflict("The share is already approved.".into())),
        "declined" => return Err(AppError::Conflict("The share was declined.".into())),
        _ => {}
    }
    let now = state.now();
    if s.expires_at <= now {
        return Err(AppError::Conflict(
            "The share expired before it was approved.".into(),
        ));
    }
    sdb::approve(&mut tx, &share, actor.user_id, now).await?;
    deliver(&mut tx, id, s.recipient_area_id, now).await?;
    cdb::insert_event(
        &mut tx,
        &share,
        now,
        Some(actor.user_id),
        "share_approved",
        "cdao",
        json!({"share_id": id}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::SHARE_APPROVED,
            "share",
            Some(id),
        )
        .case(s.case_id),
    )
    .await?;
    tx.commit().await?;
    // A share to another area's team is in force from now (see `reports::SharesIn`).
    state.shares_in.forget();
    Ok(Created {
        id,
        approval: "approved".into(),
    })
}

#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    /// Why the share should not go ahead: its author sees it.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 2_000)]
    pub reason: Option<String>,
}

/// A second CDAO of the area declines a pending share, with a reason its author sees.
pub async fn decline(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &DeclineInput,
) -> AppResult<Created> {
    let mut e = FieldErrors::new();
    let reason = e.text(
        "reason",
        input.reason.as_deref(),
        "why you are declining the share",
        2_000,
    );
    let mut tx = state.db.begin().await?;
    let share = access::managed_share(actor, &mut tx, id).await?;
    let s = share.row().clone();
    if s.created_by == actor.user_id {
        return Err(AppError::Forbidden(
            "The CDAO who created a share cannot decline it: withdraw it by revoking it.".into(),
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    if s.approval != "pending" || s.revoked_at.is_some() {
        return Err(AppError::Conflict(
            "Only a share waiting for approval can be declined.".into(),
        ));
    }
    let now = state.now();
    sdb::decline(&mut tx, &share, actor.user_id, &reason, now).await?;
    cdb::insert_event(
        &mut tx,
        &share,
        now,
        Some(actor.user_id),
        "share_declined",
        "cdao",
        json!({"share_id": id, "reason": reason}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::SHARE_DECLINED,
            "share",
            Some(id),
        )
        .case(s.case_id),
    )
    .await?;
    tx.commit().await?;
    Ok(Created {
        id,
        approval: "declined".into(),
    })
}

pub async fn revoke(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let share = access::managed_share(actor, &mut tx, id).await?;
    if share.row().revoked_at.is_some() {
        return Err(AppError::Conflict("The share is already revoked.".into()));
    }
    let now = state.now();
    sdb::revoke(&mut tx, &share, actor.user_id, now).await?;
    cdb::insert_event(
        &mut tx,
        &share,
        now,
        Some(actor.user_id),
        "share_revoked",
        "cdao",
        json!({"share_id": id}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::SHARE_REVOKED,
            "share",
            Some(id),
        )
        .case(share.case_id()),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The case a share is about, for pages that go back to it after acting on the share.
pub async fn case_of_share(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<Uuid> {
    let mut tx = state.db.begin().await?;
    let share = access::managed_share(actor, &mut tx, id).await?;
    tx.rollback().await?;
    Ok(share.case_id())
}

pub use sdb::ShareDetail;

pub async fn shares_of_case(
    conn: &mut PgConnection,
    case: &TriageCase,
) -> AppResult<Vec<ShareDetail>> {
    Ok(sdb::shares_for_case(conn, case).await?)
}

/// A case's shares: its holding team.
pub async fn list_for_case(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> AppResult<Vec<ShareDetail>> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .triage()?;
    shares_of_case(&mut *state.db.acquire().await?, &case).await
}

/// Shares of the actor's areas waiting for a second CDAO (not their own).
pub async fn pending(state: &AppState, actor: &Actor) -> AppResult<Vec<sdb::PendingShare>> {
    let areas = access::cdao_areas(actor)?;
    Ok(sdb::pending_for(&state.db, &areas, actor.user_id).await?)
}

/// Alerts of the actor's areas not acknowledged by their target.
pub async fn late(
    state: &AppState,
    actor: &Actor,
) -> AppResult<Vec<crate::app::db::stats::LateAlert>> {
    let areas = access::cdao_areas(actor)?;
    Ok(crate::app::db::stats::late_alerts(&state.db, areas.ids(), state.now()).await?)
}
