//! The member's side of a share: the inbox, the alert as its share discloses it, the evidence
//! it names, the acknowledgement and the response that flow back to the case.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{AlertView, CaseOutcome, action, disclose};
use crate::access::{self, Alert, AlertState, CaseRef, LiveAlert};
use crate::app::db::{cases as cdb, shares as sdb};
use crate::audit::{self, Event};
use crate::disclosure::{self, Terms};
use crate::domain::share::ActionTaken;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

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

/// The member's inbox as its list shows it: a page of the newest alerts the filter keeps,
/// whether older ones follow (the next page starts after the last item), how many of all the
/// organisation's alerts are unread, and (for the page) each live alert's one-line facts.
pub struct InboxList {
    pub items: Vec<AlertItem>,
    pub more: bool,
    pub unread: usize,
    pub facts: std::collections::HashMap<Uuid, crate::summaries::CaseFacts>,
}

/// A page of the member's inbox (see `InboxList`), after the alert a cursor names if given;
/// `with_facts` for the page's summary lines.
pub async fn list_alerts(
    state: &AppState,
    actor: &Actor,
    filter: sdb::InboxFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    with_facts: bool,
) -> AppResult<InboxList> {
    let inbox = access::inbox(actor)?;
    let now = state.now();
    let (rows, more) = sdb::inbox(&state.db, &inbox, filter, after).await?;
    // The unread count is the rows' own when they hold every alert it counts.
    let whole = after.is_none() && !more;
    let unread = match filter {
        sdb::InboxFilter::All if whole => rows.iter().filter(|r| r.read_at.is_none()).count(),
        sdb::InboxFilter::Unread if whole => rows.len(),
        _ => usize::try_from(sdb::unread_in_inbox(&state.db, &inbox).await?).unwrap_or(0),
    };
    let facts = if with_facts {
        crate::summaries::alert_facts(state, &rows).await?
    } else {
        Default::default()
    };
    let items = rows
        .into_iter()
        .map(|r| {
            let st = AlertState::of(r.revoked_at, r.expires_at, now);
            AlertItem {
                state: st.code().to_string(),
                overdue: r.acknowledged_at.is_none()
                    && r.ack_due_at.is_some_and(|d| d < now)
                    && st == AlertState::Live,
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
            }
        })
        .collect();
    Ok(InboxList {
        items,
        more,
        unread,
        facts,
    })
}

/// Exactly what the share discloses, while it is live; its existence, reference and the
/// organisation's own responses once it has expired or been revoked. The first view is the
/// read receipt; every view is audited, naming the share (whose purpose it was).
pub async fn view_alert(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<AlertView> {
    let now = state.now();
    // Every statement on one connection, one after another (see `reports::view`), of the pool
    // for pages of one case or alert (see `AppState::pages`).
    let mut conn = state.pages().acquire().await?;
    let alert = access::alert(actor, &mut *conn, id, now).await?;
    let r = alert.row().clone();
    let st = alert.state();
    let t = Terms {
        disclosure: &r.disclosure,
        include_patient_data: r.include_patient_data,
        include_organisation_name: r.include_organisation_name,
    };
    let (report, persons, attachments, reporting_org) = match alert.clone().live() {
        Ok(live) => {
            let case = crate::app::db::shares::case_report(&mut *conn, &live).await?;
            let (report, persons, attachments) = disclose(
                state,
                &mut conn,
                &live,
                &r.case_kind,
                &case,
                t,
                &r.attachment_ids,
            )
            .await?;
            let org = disclosure::reporting_organisation(
                &r.case_sector,
                &r.case_area_name,
                &r.case_organisation_name,
                t,
            );
            (Some(report), persons, attachments, org)
        }
        Err(_) => {
            let ended = Terms {
                include_organisation_name: false,
                ..t
            };
            let org =
                disclosure::reporting_organisation(&r.case_sector, &r.case_area_name, "", ended);
            (None, vec![], vec![], org)
        }
    };
    let responses = sdb::responses(&mut *conn, id).await?;
    let live = st == AlertState::Live;
    let action = if persons.is_empty()
        && report
            .as_ref()
            .and_then(|r| r.online_supply.as_ref())
            .is_none_or(|o| o.prescriber_registration.is_none())
    {
        action::ALERT_VIEWED
    } else {
        action::ALERT_IDENTITY_VIEWED
    };
    let event = |first_read: bool| {
        Event::new(Some(actor.user_id), action, "alert", Some(id))
            .case(r.case_id)
            .details(
                json!({"share_id": r.share_id, "lawful_basis": r.lawful_basis, "state": st.code(),
                        "first_read": first_read, "patient_data": live && r.include_patient_data}),
            )
    };
    if r.read_at.is_some() {
        // Read before (a read receipt is never taken back): the view's audit event is the
        // only write, committed with the views of others waiting at the same moment.
        conn.keep();
        audit::record_view(state, now, event(false)).await?;
    } else {
        // The first view is the read receipt: it and its audit event commit together.
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let first_read = sdb::mark_read(&mut tx, &alert, actor.user_id, now).await?;
        audit::record(&mut tx, now, event(first_read)).await?;
        tx.commit().await?;
        conn.keep();
    }
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
        state: st.code().to_string(),
        lawful_basis: r.lawful_basis,
        purpose: live.then_some(r.purpose),
        summary: live.then_some(r.summary),
        reporting_organisation: reporting_org,
        report,
        persons,
        attachments,
        responses,
        case_outcome: match (st, r.case_closed_at, r.case_well_founded) {
            (AlertState::Revoked, _, _) => None,
            (_, Some(closed_at), Some(well_founded)) => Some(CaseOutcome {
                well_founded,
                closed_at,
            }),
            _ => None,
        },
    })
}

/// A file the alert's share names, while the share is live; each download is audited
/// (`alert.attachment_downloaded`, naming the share and the file).
pub async fn alert_attachment(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    attachment_id: Uuid,
) -> AppResult<(String, String, Vec<u8>)> {
    let now = state.now();
    let alert = access::alert(actor, &state.db, id, now)
        .await?
        .live()
        .map_err(|_| AppError::NotFound)?;
    let r = alert.row();
    if !r.attachment_ids.contains(&attachment_id) {
        return Err(AppError::NotFound);
    }
    let file = crate::attachments::open(state, &alert, attachment_id).await?;
    audit::record_alone(
        &state.db,
        now,
        Event::new(
            Some(actor.user_id),
            action::ALERT_ATTACHMENT_DOWNLOADED,
            "attachment",
            Some(attachment_id),
        )
        .case(r.case_id)
        .details(
            json!({"alert_id": id, "share_id": r.share_id, "attachment_id": attachment_id,
                        "lawful_basis": r.lawful_basis}),
        ),
    )
    .await?;
    Ok(file)
}

pub async fn acknowledge(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<DateTime<Utc>> {
    let now = state.now();
    let alert: LiveAlert = access::alert(actor, &state.db, id, now).await?.live()?;
    let r = alert.row().clone();
    let mut tx = state.db.begin().await?;
    let (at, first) = sdb::acknowledge(&mut tx, &alert, actor.user_id, now).await?;
    if first {
        cdb::insert_event(
            &mut tx,
            &alert,
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
#[serde(deny_unknown_fields)]
pub struct ResponseInput {
    pub body: Option<String>,
    /// investigation_opened, crime_recorded, regulator_referral, fitness_to_practise,
    /// inspection, advice_given, no_action or other.
    #[schema(value_type = Option<crate::domain::share::ActionTaken>)]
    pub action_taken: Option<String>,
}

pub async fn respond(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &ResponseInput,
) -> AppResult<sdb::Response> {
    let now = state.now();
    let alert: Alert = access::alert(actor, &state.db, id, now).await?;
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
    let alert = alert.live()?;
    let org = alert.row().organisation_id;
    let case_id = alert.case_id();
    let rid = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    sdb::insert_response(
        &mut tx,
        rid,
        &alert,
        actor.user_id,
        &body,
        action_taken.map(|a| a.code()),
        now,
    )
    .await?;
    cdb::insert_event(
        &mut tx,
        &alert,
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
        .case(case_id)
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
        from_cdao: false,
    })
}
