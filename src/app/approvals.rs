//! What a second CDAO sees before approving a share (issue 11): the share's terms, its
//! recipients and evidence, and exactly what the members will see. Showing that opens the
//! identities the share carries, so it is audited as `share.previewed`, like the author's
//! preview.

use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::audit::{self, Event};
use crate::disclosure::{self, Terms};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::shares::action;
use crate::shares::{self, AlertView, ShareDetail};
use crate::state::AppState;

pub struct Approval {
    pub case_id: Uuid,
    pub case_reference: String,
    pub detail: ShareDetail,
    /// What each recipient will see once it is approved.
    pub preview: AlertView,
    /// The reader may approve or decline it: pending, live, and not their own.
    pub may_decide: bool,
}

/// A share of the reader's areas, for its approval page. 404 outside the reader's areas.
pub async fn approval(state: &AppState, actor: &Actor, share_id: Uuid) -> AppResult<Approval> {
    let case_id = shares::case_of_share(state, actor, share_id).await?;
    let now = state.now();
    let case = access::case(actor, &state.db, case_id, now)
        .await?
        .triage()?;
    let detail = shares::shares_of_case(&mut *state.db.acquire().await?, &case)
        .await?
        .into_iter()
        .find(|d| d.share.id == share_id)
        .ok_or(AppError::NotFound)?;
    let s = &detail.share;
    let c = case.row();
    let t = Terms {
        disclosure: &s.disclosure,
        include_patient_data: s.include_patient_data,
        include_organisation_name: s.include_organisation_name,
    };
    let (report, persons, attachments) = shares::disclose(
        state,
        &mut *state.db.acquire().await?,
        &case,
        &c.kind,
        &c.report,
        t,
        &s.attachment_ids,
    )
    .await?;
    audit::record_alone(
        &state.db,
        now,
        Event::new(
            Some(actor.user_id),
            action::SHARE_PREVIEWED,
            "share",
            Some(share_id),
        )
        .case(case_id)
        .details(
            json!({"purpose": "share approval", "disclosure": s.disclosure,
                        "patient_data": s.include_patient_data, "persons": persons.len(),
                        "attachments": attachments.len()}),
        ),
    )
    .await?;
    let preview = AlertView {
        id: None,
        share_id: Some(share_id),
        case_reference: c.reference.clone(),
        received_at: None,
        read_at: None,
        acknowledged_at: None,
        acknowledge_by: None,
        disclosure: s.disclosure.clone(),
        action_required: s.action_required.clone(),
        respond_by: s.respond_by,
        expires_at: s.expires_at,
        state: "live".into(),
        lawful_basis: s.lawful_basis.clone(),
        purpose: Some(s.purpose.clone()),
        summary: Some(s.summary.clone()),
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
    };
    let may_decide = s.approval == "pending"
        && s.revoked_at.is_none()
        && s.expires_at > now
        && s.created_by != actor.user_id;
    Ok(Approval {
        case_id,
        case_reference: c.reference.clone(),
        detail,
        preview,
        may_decide,
    })
}
