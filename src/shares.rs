//! Routing cases to LIN members (SPEC §3, §4 "Share"): shares with a preview of exactly
//! what each member will see, the two-person rule, expiry and revocation enforced on every
//! read, the member's alerts, acknowledgements and responses flowing back to the case.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::db::{cases as cdb, shares as sdb};
use crate::domain::directory::Role;
use crate::domain::report::{DrugItem, Identity};
use crate::domain::share::{ActionTaken, Disclosure, ShareInput, ShareSpec};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

pub mod action {
    pub const SHARE_CREATED: &str = "share.created";
    pub const SHARE_APPROVED: &str = "share.approved";
    pub const SHARE_REVOKED: &str = "share.revoked";
    pub const ALERT_VIEWED: &str = "alert.viewed";
    pub const ALERT_IDENTITY_VIEWED: &str = "alert.identity_viewed";
    pub const ALERT_ACKNOWLEDGED: &str = "alert.acknowledged";
    pub const ALERT_RESPONDED: &str = "alert.responded";
}

/// A person as a share discloses them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SharedPerson {
    pub subject_type: String,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub registrations: Vec<crate::domain::report::RegistrationOut>,
    pub prescriber_code: Option<String>,
    pub job_role: Option<String>,
    pub work_addresses: Vec<String>,
    /// Only when the share includes patient data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<String>,
}

/// The facts of the report a live share carries (never free text, never the reporter).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SharedReport {
    pub kind: String,
    pub categories: Vec<String>,
    pub occurred_on: Option<NaiveDate>,
    pub harm: Option<String>,
    pub drugs: Vec<DrugItem>,
    /// For a person of concern: alleged, corroborated, substantiated or unfounded.
    pub concern_status: Option<String>,
    pub provenance: Option<String>,
    /// Online prescribing from outside the UK: the service, its domain and the prescriber's
    /// country; the prescriber's registration only on an `identified` share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_supply: Option<crate::domain::oversight::OnlineSupply>,
    /// What a report about a cannabis-based product for medicinal use is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cbpm: Option<crate::domain::oversight::Cbpm>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportingOrganisation {
    pub sector: String,
    pub area: String,
    /// Only when the CDAO chose to include it.
    pub name: Option<String>,
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
    pub purpose: String,
    pub summary: Option<String>,
    pub reporting_organisation: ReportingOrganisation,
    pub report: Option<SharedReport>,
    pub persons: Vec<SharedPerson>,
    pub attachments: Vec<cdb::AttachmentInfo>,
    pub responses: Vec<sdb::Response>,
}

fn person_is_patient(subject_type: &str) -> bool {
    matches!(subject_type, "patient" | "member_of_public")
}

/// What a share of `case` discloses, given the share's terms.
#[allow(clippy::too_many_arguments)]
async fn disclose(
    state: &AppState,
    case: &cdb::CaseRow,
    sector: &str,
    area_name: &str,
    disclosure: &str,
    include_patient_data: bool,
    include_organisation_name: bool,
    live: bool,
) -> AppResult<(
    Option<SharedReport>,
    Vec<SharedPerson>,
    Vec<cdb::AttachmentInfo>,
    ReportingOrganisation,
)> {
    let org = ReportingOrganisation {
        sector: crate::domain::directory::Sector::parse(sector)
            .map(|s| s.label())
            .unwrap_or(sector)
            .to_string(),
        area: area_name.to_string(),
        name: (live && include_organisation_name).then(|| case.organisation_name.clone()),
    };
    if !live {
        return Ok((None, vec![], vec![], org));
    }
    let r = &case.report;
    let text = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut report = SharedReport {
        kind: case.kind.clone(),
        categories: r
            .get("categories")
            .or_else(|| r.get("concern_categories"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        occurred_on: r
            .get("occurred_on")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        harm: text("harm"),
        drugs: r
            .get("drugs")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        concern_status: text("status"),
        provenance: text("provenance"),
        online_supply: r
            .get("online_supply")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        cbpm: r
            .get("cbpm")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
    };
    let mut persons = Vec::new();
    let mut attachments = Vec::new();
    if disclosure == Disclosure::Identified.code() {
        // The overseas prescriber's registration is an identity: identified shares only.
        if let Some(o) = report.online_supply.as_mut() {
            o.prescriber_registration = crate::oversight::registration(state, case.id).await?;
        }
        for p in cdb::persons(&state.db, case.id).await? {
            if person_is_patient(&p.subject_type) && !include_patient_data {
                continue;
            }
            let plain = state.sealer.open(
                p.key_id,
                &p.identity_enc,
                &crate::reports::identity_context(p.id),
            )?;
            let i: Identity =
                serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))?;
            persons.push(SharedPerson {
                subject_type: p.subject_type,
                full_name: i.full_name,
                date_of_birth: i.date_of_birth,
                registrations: i.registrations,
                prescriber_code: i.prescriber_code,
                job_role: i.job_role,
                work_addresses: i.work_addresses,
                nhs_number: if include_patient_data {
                    i.nhs_number
                } else {
                    None
                },
            });
        }
        attachments = cdb::attachments(&state.db, case.id).await?;
    }
    Ok((Some(report), persons, attachments, org))
}

async fn area_name(state: &AppState, id: Uuid) -> AppResult<String> {
    Ok(crate::db::directory::get_area(&state.db, id)
        .await?
        .map(|a| a.name)
        .unwrap_or_default())
}

async fn case_sector(state: &AppState, case_id: Uuid) -> AppResult<String> {
    Ok(crate::db::triage::facts(&state.db, case_id).await?.sector)
}

/// Checks a share request for a case the CDAO triages.
async fn checked(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &ShareInput,
) -> AppResult<(cdb::CaseRow, ShareSpec)> {
    let case = cdb::get_case(&state.db, &policy::case_scope(actor), case_id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::triage_case(actor, case.area_id)?;
    let allowed: Vec<Uuid> = sdb::member_organisations(&state.db, case.area_id)
        .await?
        .into_iter()
        .map(|o| o.0)
        .collect();
    let spec = input
        .parse(state.now(), crate::reports::uk_today(state), &allowed)
        .map_err(AppError::Validation)?;
    Ok((case, spec))
}

/// Exactly what each recipient would see, before anything is shared.
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &ShareInput,
) -> AppResult<AlertView> {
    let (case, spec) = checked(state, actor, case_id, input).await?;
    let sector = case_sector(state, case.id).await?;
    let area = area_name(state, case.area_id).await?;
    let (report, persons, attachments, org) = disclose(
        state,
        &case,
        &sector,
        &area,
        spec.disclosure.code(),
        spec.include_patient_data,
        spec.include_organisation_name,
        true,
    )
    .await?;
    Ok(AlertView {
        id: None,
        share_id: None,
        case_reference: case.reference,
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
        purpose: spec.purpose,
        summary: Some(spec.summary),
        reporting_organisation: org,
        report,
        persons,
        attachments,
        responses: vec![],
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: Uuid,
    /// `approved` (delivered now) or `pending` (waiting for a second CDAO of the area).
    pub approval: String,
}

/// Delivers an approved share: alerts received now, members told (without content).
async fn deliver(tx: &mut sqlx::PgConnection, share_id: Uuid, now: DateTime<Utc>) -> AppResult<()> {
    let due = crate::domain::triage::add_working_days(now, 2);
    let orgs = sdb::deliver(tx, share_id, now, due).await?;
    let alerts = sdb::alerts_of_share(tx, share_id).await?;
    for (alert_id, org) in alerts.into_iter().filter(|(_, o)| orgs.contains(o)) {
        let users = sdb::member_users(tx, &[org]).await?;
        sdb::enqueue(tx, "new_alert", &users, Some(alert_id), now).await?;
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &ShareInput,
) -> AppResult<Created> {
    let (case, spec) = checked(state, actor, case_id, input).await?;
    let rule = sdb::two_person_rule(&state.db, case.area_id).await?;
    let approved = !spec.needs_second_approval(rule);
    let now = state.now();
    let id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    sdb::insert_share(
        &mut tx,
        &sdb::NewShare {
            id,
            case_id,
            area_id: case.area_id,
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
        },
        &spec.organisation_ids,
    )
    .await?;
    if approved {
        deliver(&mut tx, id, now).await?;
    } else {
        let others = sdb::other_cdaos(&mut tx, case.area_id, actor.user_id).await?;
        sdb::enqueue(&mut tx, "share_awaiting_approval", &others, Some(id), now).await?;
    }
    cdb::insert_event(
        &mut tx,
        case_id,
        now,
        Some(actor.user_id),
        "shared",
        "cdao",
        json!({"share_id": id, "organisation_ids": spec.organisation_ids, "disclosure": spec.disclosure.code(),
               "include_patient_data": spec.include_patient_data, "approval": if approved { "approved" } else { "pending" }}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::SHARE_CREATED, "share", Some(id))
            .case(case_id)
            .details(json!({"disclosure": spec.disclosure.code(), "patient_data": spec.include_patient_data,
                            "recipients": spec.organisation_ids.len(), "lawful_basis": spec.lawful_basis.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(Created {
        id,
        approval: if approved { "approved" } else { "pending" }.into(),
    })
}

/// A share the actor can see (the case's area CDAOs), locked.
async fn lock_share(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> AppResult<sdb::ShareRow> {
    let s = sdb::lock_share(tx, id).await?.ok_or(AppError::NotFound)?;
    if actor.role != Role::Cdao {
        return Err(AppError::NotFound);
    }
    cdb::get_case(&state.db, &policy::case_scope(actor), s.case_id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::triage_case(actor, s.area_id)?;
    Ok(s)
}

/// The second CDAO of the area approves: the members are told.
pub async fn approve(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<Created> {
    let mut tx = state.db.begin().await?;
    let s = lock_share(&mut tx, state, actor, id).await?;
    if s.created_by == actor.user_id {
        return Err(AppError::Forbidden(
            "The CDAO who created a share cannot approve it: a second CDAO of the area must."
                .into(),
        ));
    }
    if s.revoked_at.is_some() {
        return Err(AppError::Conflict("The share was revoked.".into()));
    }
    if s.approval == "approved" {
        return Err(AppError::Conflict("The share is already approved.".into()));
    }
    let now = state.now();
    if s.expires_at <= now {
        return Err(AppError::Conflict(
            "The share expired before it was approved.".into(),
        ));
    }
    sdb::approve(&mut tx, id, actor.user_id, now).await?;
    deliver(&mut tx, id, now).await?;
    cdb::insert_event(
        &mut tx,
        s.case_id,
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
    Ok(Created {
        id,
        approval: "approved".into(),
    })
}

pub async fn revoke(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let s = lock_share(&mut tx, state, actor, id).await?;
    if s.revoked_at.is_some() {
        return Err(AppError::Conflict("The share is already revoked.".into()));
    }
    let now = state.now();
    sdb::revoke(&mut tx, id, actor.user_id, now).await?;
    cdb::insert_event(
        &mut tx,
        s.case_id,
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
        .case(s.case_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A share with its recipients and their responses, for the CDAO's case page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShareDetail {
    #[serde(flatten)]
    pub share: sdb::ShareSummary,
    pub recipients: Vec<sdb::Recipient>,
    pub responses: Vec<sdb::Response>,
}

pub async fn shares_of_case(state: &AppState, case_id: Uuid) -> AppResult<Vec<ShareDetail>> {
    let shares = sdb::shares_for_case(&state.db, case_id).await?;
    let ids: Vec<Uuid> = shares.iter().map(|s| s.id).collect();
    let recipients = sdb::recipients(&state.db, &ids).await?;
    let alert_ids: Vec<Uuid> = recipients.iter().map(|(_, r)| r.alert_id).collect();
    let responses = sdb::responses(&state.db, &alert_ids).await?;
    Ok(shares
        .into_iter()
        .map(|s| {
            let rs: Vec<sdb::Recipient> = recipients
                .iter()
                .filter(|(sid, _)| *sid == s.id)
                .map(|(_, r)| r.clone())
                .collect();
            let resp = responses
                .iter()
                .filter(|x| rs.iter().any(|r| r.alert_id == x.alert_id))
                .cloned()
                .collect();
            ShareDetail {
                share: s,
                recipients: rs,
                responses: resp,
            }
        })
        .collect())
}

/// One line of a member's inbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertItem {
    pub id: Uuid,
    pub share_id: Uuid,
    pub case_reference: String,
    pub received_at: Option<DateTime<Utc>>,
    pub disclosure: String,
    pub action_required: String,
    pub respond_by: Option<NaiveDate>,
    pub read_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub state: String,
    /// Not acknowledged and past its acknowledgement target.
    pub overdue: bool,
}

fn alert_state(r: &sdb::AlertRow, now: DateTime<Utc>) -> &'static str {
    if r.revoked_at.is_some() {
        "revoked"
    } else if r.expires_at <= now {
        "expired"
    } else {
        "live"
    }
}

fn member_org(actor: &Actor) -> AppResult<Uuid> {
    match (actor.role, actor.organisation_id) {
        (Role::Member, Some(org)) => Ok(org),
        _ => Err(AppError::Forbidden(
            "Alerts are for members of the local intelligence network.".into(),
        )),
    }
}

/// The member's inbox: `filter` is `all`, `unread` or `unacknowledged`.
pub async fn list_alerts(
    state: &AppState,
    actor: &Actor,
    filter: &str,
) -> AppResult<Vec<AlertItem>> {
    let org = member_org(actor)?;
    let now = state.now();
    Ok(sdb::alerts_of(&state.db, org, None)
        .await?
        .into_iter()
        .filter(|r| match filter {
            "unread" => r.read_at.is_none(),
            "unacknowledged" => r.acknowledged_at.is_none(),
            _ => true,
        })
        .map(|r| AlertItem {
            state: alert_state(&r, now).to_string(),
            overdue: r.acknowledged_at.is_none()
                && r.ack_due_at.is_some_and(|d| d < now)
                && alert_state(&r, now) == "live",
            id: r.id,
            share_id: r.share_id,
            case_reference: r.case_reference,
            received_at: r.received_at,
            disclosure: r.disclosure,
            action_required: r.action_required,
            respond_by: r.respond_by,
            read_at: r.read_at,
            acknowledged_at: r.acknowledged_at,
            expires_at: r.expires_at,
        })
        .collect())
}

async fn alert_row(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<(Uuid, sdb::AlertRow)> {
    // Anyone but a member of the recipient organisation: there is no such alert.
    let org = match (actor.role, actor.organisation_id) {
        (Role::Member, Some(org)) => org,
        _ => return Err(AppError::NotFound),
    };
    let row = sdb::alerts_of(&state.db, org, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok((org, row))
}

/// Exactly what the share discloses, while it is live; its existence, reference and the
/// organisation's own responses once it has expired or been revoked. The first view is the
/// read receipt; every view is audited, naming the share and its purpose.
pub async fn view_alert(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<AlertView> {
    let (org, r) = alert_row(state, actor, id).await?;
    let now = state.now();
    let st = alert_state(&r, now);
    let live = st == "live";
    // The alert row is the member's access decision: the share, not the case scope.
    let case = cdb::case_for_share(&state.db, r.share_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (report, persons, attachments, reporting_org) = disclose(
        state,
        &case,
        &r.case_sector,
        &r.case_area_name,
        &r.disclosure,
        r.include_patient_data,
        r.include_organisation_name,
        live,
    )
    .await?;
    let responses = sdb::responses(&state.db, &[id]).await?;
    let mut tx = state.db.begin().await?;
    let first_read = sdb::mark_read(&mut tx, id, actor.user_id, now).await?;
    let shows_identity = !persons.is_empty()
        || report
            .as_ref()
            .and_then(|r| r.online_supply.as_ref())
            .is_some_and(|o| o.prescriber_registration.is_some());
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            if shows_identity { action::ALERT_IDENTITY_VIEWED } else { action::ALERT_VIEWED },
            "alert",
            Some(id),
        )
        .case(r.case_id)
        .details(json!({"share_id": r.share_id, "purpose": r.purpose, "state": st, "first_read": first_read,
                        "patient_data": live && r.include_patient_data})),
    )
    .await?;
    tx.commit().await?;
    let _ = org;
    Ok(AlertView {
        id: Some(r.id),
        share_id: Some(r.share_id),
        case_reference: r.case_reference,
        received_at: r.received_at,
        read_at: r.read_at.or(Some(now)),
        acknowledged_at: r.acknowledged_at,
        acknowledge_by: r.ack_due_at,
        disclosure: r.disclosure,
        action_required: r.action_required,
        respond_by: r.respond_by,
        expires_at: r.expires_at,
        state: st.to_string(),
        lawful_basis: r.lawful_basis,
        purpose: r.purpose,
        summary: live.then_some(r.summary),
        reporting_organisation: reporting_org,
        report,
        persons,
        attachments,
        responses,
    })
}

pub async fn acknowledge(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<DateTime<Utc>> {
    let (_, r) = alert_row(state, actor, id).await?;
    let now = state.now();
    if alert_state(&r, now) != "live" {
        return Err(AppError::Conflict(
            "This alert has expired or been revoked.".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let (at, first) = sdb::acknowledge(&mut tx, id, actor.user_id, now).await?;
    if first {
        cdb::insert_event(
            &mut tx,
            r.case_id,
            now,
            Some(actor.user_id),
            "alert_acknowledged",
            "cdao",
            json!({"alert_id": id, "share_id": r.share_id, "organisation_id": actor.organisation_id}),
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            Event::new(
                Some(actor.user_id),
                action::ALERT_ACKNOWLEDGED,
                "alert",
                Some(id),
            )
            .case(r.case_id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(at)
}

#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ResponseInput {
    pub body: Option<String>,
    /// investigation_opened, crime_recorded, regulator_referral, fitness_to_practise,
    /// inspection, advice_given, no_action or other.
    pub action_taken: Option<String>,
}

pub async fn respond(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &ResponseInput,
) -> AppResult<sdb::Response> {
    let (org, r) = alert_row(state, actor, id).await?;
    let mut e = FieldErrors::new();
    let body = e.text("body", input.body.as_deref(), "your response", 10_000);
    let action_taken = match input
        .action_taken
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(a) => match ActionTaken::parse(a) {
            Some(a) => Some(a),
            None => {
                e.add("action_taken", "Select the action taken from the list");
                None
            }
        },
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let now = state.now();
    if alert_state(&r, now) != "live" {
        return Err(AppError::Conflict(
            "This alert has expired or been revoked.".into(),
        ));
    }
    let rid = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    sdb::insert_response(
        &mut tx,
        rid,
        id,
        actor.user_id,
        &body,
        action_taken.map(|a| a.code()),
        now,
    )
    .await?;
    cdb::insert_event(
        &mut tx,
        r.case_id,
        now,
        Some(actor.user_id),
        "member_response",
        "cdao",
        json!({"alert_id": id, "organisation_id": org, "body": body, "action_taken": action_taken.map(|a| a.code())}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::ALERT_RESPONDED,
            "alert",
            Some(id),
        )
        .case(r.case_id)
        .details(json!({"action_taken": action_taken.map(|a| a.code())})),
    )
    .await?;
    tx.commit().await?;
    Ok(sdb::Response {
        id: rid,
        alert_id: id,
        organisation_id: org,
        author_id: actor.user_id,
        body,
        action_taken: action_taken.map(|a| a.code().to_string()),
        created_at: now,
    })
}
