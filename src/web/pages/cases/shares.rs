//! Sharing a case with member organisations: the rows the case page shows, and declining a
//! share.

use std::collections::HashMap;

use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::actions::{Form, answer};
use super::page::Again;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::reports::CaseView;
use crate::state::AppState;
use crate::web::extract::{PageForm, PathId};
use crate::web::pages::auth::redirect;
use crate::web::pages::cdao::Posted;
use crate::web::session::{RequestAuth, set_flash};

/// A share as the case page shows it.
pub struct ShareRow {
    pub id: Uuid,
    pub heading: String,
    pub state: &'static str,
    pub state_colour: &'static str,
    pub facts: Vec<(String, String)>,
    pub recipients: Vec<(String, String)>,
    pub responses: Vec<(String, String, String)>,
    pub can_approve: bool,
    pub can_revoke: bool,
    pub can_decline: bool,
    /// The decline form's reason field (its id names the share), its value and error.
    pub decline_field: String,
    pub decline_value: String,
    pub decline_error: Option<String>,
}

pub(super) fn share_rows(
    state: &AppState,
    actor: &Actor,
    c: &CaseView,
    again: &Again,
) -> Vec<ShareRow> {
    let now = state.now();
    let Some(t) = &c.triage else { return vec![] };
    let evidence: HashMap<Uuid, &str> = c
        .attachments
        .iter()
        .map(|a| (a.id, a.filename.as_str()))
        .collect();
    t.shares
        .iter()
        .map(|d| {
            let s = &d.share;
            let (state_text, colour) = if s.revoked_at.is_some() {
                ("Revoked", "grey")
            } else if s.approval == "declined" {
                ("Declined", "red")
            } else if s.expires_at <= now {
                ("Expired", "grey")
            } else if s.approval == "pending" {
                ("Waiting for a second CDAO", "orange")
            } else {
                ("Live", "green")
            };
            let mut facts = vec![
                (
                    "Shared by".to_string(),
                    format!(
                        "{} on {}",
                        s.created_by_name,
                        crate::web::pages::account::uk_time(s.created_at)
                    ),
                ),
                (
                    "Disclosure".to_string(),
                    format!(
                        "{}{}",
                        crate::domain::share::Disclosure::parse(&s.disclosure)
                            .map(|x| x.label())
                            .unwrap_or(""),
                        if s.include_patient_data {
                            ", with patient data"
                        } else {
                            ""
                        }
                    ),
                ),
                ("Purpose".to_string(), s.purpose.clone()),
                (
                    "Lawful basis".to_string(),
                    crate::domain::share::LawfulBasis::parse(&s.lawful_basis)
                        .map(|x| x.label())
                        .unwrap_or("")
                        .to_string(),
                ),
                ("Summary".to_string(), s.summary.clone()),
                (
                    "Available until".to_string(),
                    crate::web::pages::account::uk_date(s.expires_at),
                ),
            ];
            if let Some(reason) = &s.patient_data_reason {
                facts.push(("Why patient data".to_string(), reason.clone()));
            }
            facts.push((
                "Evidence".to_string(),
                if s.attachment_ids.is_empty() {
                    "None".to_string()
                } else {
                    s.attachment_ids
                        .iter()
                        .map(|a| evidence.get(a).copied().unwrap_or("a file"))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            ));
            if let Some(reason) = &s.decline_reason {
                facts.push(("Why it was declined".to_string(), reason.clone()));
            }
            let recipients = d
                .recipients
                .iter()
                .map(|r| {
                    let status = if let Some(a) = r.acknowledged_at {
                        format!("Acknowledged {}", crate::web::pages::account::uk_time(a))
                    } else if r.received_at.is_none() {
                        "Not yet sent".to_string()
                    } else if r.ack_due_at.is_some_and(|due| due < now) {
                        format!("Not acknowledged: overdue ({} reminders)", r.reminders)
                    } else if let Some(read) = r.read_at {
                        format!(
                            "Read {}, not yet acknowledged",
                            crate::web::pages::account::uk_time(read)
                        )
                    } else {
                        "Not yet read".to_string()
                    };
                    (r.organisation_name.clone(), status)
                })
                .collect();
            let responses = d
                .responses
                .iter()
                .map(|r| {
                    let org = d
                        .recipients
                        .iter()
                        .find(|x| x.alert_id == r.alert_id)
                        .map(|x| x.organisation_name.clone())
                        .unwrap_or_default();
                    let action = r
                        .action_taken
                        .as_deref()
                        .and_then(crate::domain::share::ActionTaken::parse)
                        .map(|a| format!(" · {}", a.label()))
                        .unwrap_or_default();
                    (
                        format!("{org}{action}"),
                        crate::web::pages::account::uk_time(r.created_at),
                        r.body.clone(),
                    )
                })
                .collect();
            let heading = match &s.recipient_area_name {
                Some(area) => format!("Shared with the {area} CDAO team"),
                None => format!(
                    "Shared with {}",
                    d.recipients
                        .iter()
                        .map(|r| r.organisation_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let pending = s.approval == "pending" && s.revoked_at.is_none();
            let decline_field = format!("decline-reason-{}", s.id);
            ShareRow {
                id: s.id,
                heading,
                state: state_text,
                state_colour: colour,
                facts,
                recipients,
                responses,
                can_approve: pending && s.created_by != actor.user_id,
                can_decline: pending && s.created_by != actor.user_id,
                can_revoke: s.revoked_at.is_none()
                    && s.approval != "declined"
                    && s.expires_at > now,
                decline_value: again.posted.get(&decline_field).to_string(),
                decline_error: again.errors.get(&decline_field).map(str::to_string),
                decline_field,
            }
        })
        .collect()
}

/// A second CDAO declines a pending share from the case page, with a reason its author sees.
pub async fn decline_share(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(share_id): PathId,
    PageForm(form): Form,
) -> AppResult<Response> {
    let case_id = crate::shares::case_of_share(&state, &actor, share_id).await?;
    let f = Posted(form);
    let field = format!("decline-reason-{share_id}");
    let input = crate::shares::DeclineInput {
        reason: f.opt(&field),
    };
    let r = crate::shares::decline(&state, &actor, share_id, &input)
        .await
        .map(|_| {
            "You declined the share. Its author can see your reason; nothing was sent.".to_string()
        });
    if let Err(AppError::Forbidden(m)) = &r {
        set_flash(&state, &auth, m).await?;
        return Ok(redirect(&format!("/cases/{case_id}#shares")));
    }
    answer(&state, &auth, &actor, case_id, r, f, &|_| field.clone()).await
}
