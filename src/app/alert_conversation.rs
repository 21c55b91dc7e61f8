//! Alerts a police officer can act on (issue 11): who to contact about an alert (the CDAO
//! team's mailbox and the sharing CDAO), who else received it, who in their organisation
//! acknowledged it, and a two-way conversation between the member organisation and the CDAO
//! team (members ask or respond through `shares::respond`; the team replies here). The
//! conversation goes on only while the share is live; a reply lands on the case timeline for
//! the CDAO team, is audited with ids only and tells the members by an email without content.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::access::{self, Alert, AlertState, TeamAlert};
use crate::app::db::{cases as cdb, conversation as conv, shares as sdb};
use crate::audit::{self, Event};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

pub const ALERT_REPLIED: &str = "alert.replied";

pub use crate::app::db::conversation::Contacts;

/// One message of an alert's conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// From the CDAO team (a reply); otherwise from the member organisation.
    pub from_cdao: bool,
    /// The author's name.
    pub author: String,
    pub body: String,
    /// What the member organisation did, when it said (members only).
    pub action_taken: Option<String>,
}

/// An alert's conversation as either side sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertConversation {
    pub alert_id: Uuid,
    pub case_reference: String,
    /// The member organisation the alert went to.
    pub organisation: String,
    /// The case (for the CDAO team only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<Uuid>,
    /// `live`, `expired` or `revoked`: only a live alert's conversation goes on.
    pub state: String,
    pub messages: Vec<Message>,
}

/// A reply from the CDAO team.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10000)]
    pub body: Option<String>,
}

/// Who a member can contact about their alert, and who else received it (organisation names
/// only, and only while the share is live).
pub async fn contacts(state: &AppState, alert: &Alert) -> AppResult<Contacts> {
    let mut c = conv::contacts(&state.db, alert).await?;
    if alert.state() != AlertState::Live {
        c.co_recipients.clear();
    }
    Ok(c)
}

async fn messages(state: &AppState, alert_id: Uuid) -> AppResult<Vec<Message>> {
    let mut rows = sdb::responses(&state.db, alert_id).await?;
    // Oldest first; ids are time-ordered (v7) where two share a timestamp.
    rows.sort_by_key(|r| (r.created_at, r.id));
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.author_id).collect();
    ids.sort();
    ids.dedup();
    let names = conv::author_names(&state.db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| Message {
            id: r.id,
            at: r.created_at,
            from_cdao: r.from_cdao,
            author: names
                .get(&r.author_id)
                .cloned()
                .unwrap_or_else(|| "A former user".into()),
            body: r.body,
            action_taken: r.action_taken,
        })
        .collect())
}

/// What the member's alert page shows besides the alert: its contacts and its conversation
/// (after `shares::view_alert`, which records the view).
pub async fn for_member(
    state: &AppState,
    actor: &Actor,
    alert_id: Uuid,
) -> AppResult<(Contacts, Vec<Message>)> {
    let alert = access::alert(actor, &state.db, alert_id, state.now()).await?;
    Ok((
        contacts(state, &alert).await?,
        messages(state, alert_id).await?,
    ))
}

/// The conversation of an alert: for a member, their organisation's alert; for a CDAO, an
/// alert of a share of their areas. 404 for anyone else.
pub async fn conversation(
    state: &AppState,
    actor: &Actor,
    alert_id: Uuid,
) -> AppResult<AlertConversation> {
    let now = state.now();
    if actor.role == crate::domain::directory::Role::Member {
        let alert = access::alert(actor, &state.db, alert_id, now).await?;
        let r = alert.row();
        let case_reference = r.case_reference.clone();
        let state_code = alert.state().code().to_string();
        return Ok(AlertConversation {
            alert_id,
            case_reference,
            organisation: "Your organisation".into(),
            case_id: None,
            state: state_code,
            messages: messages(state, alert_id).await?,
        });
    }
    team_conversation(state, actor, alert_id).await
}

/// The conversation of an alert of a share of the CDAO's areas; 404 for anyone else.
pub async fn team_conversation(
    state: &AppState,
    actor: &Actor,
    alert_id: Uuid,
) -> AppResult<AlertConversation> {
    let alert = access::team_alert(actor, &state.db, alert_id, state.now()).await?;
    let r = alert.row().clone();
    Ok(AlertConversation {
        alert_id,
        case_reference: r.case_reference,
        organisation: r.organisation_name,
        case_id: Some(r.case_id),
        state: alert.state().code().to_string(),
        messages: messages(state, alert_id).await?,
    })
}

/// The CDAO team replies to a member organisation on its alert.
pub async fn reply(
    state: &AppState,
    actor: &Actor,
    alert_id: Uuid,
    input: &ReplyInput,
) -> AppResult<Message> {
    let now = state.now();
    let alert: TeamAlert = access::team_alert(actor, &state.db, alert_id, now).await?;
    let mut e = FieldErrors::new();
    let body = e.text("body", input.body.as_deref(), "your reply", 10_000);
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    alert.live()?;
    let r = alert.row().clone();
    let id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    conv::insert_reply(&mut tx, id, &alert, actor.user_id, &body, now).await?;
    cdb::insert_event(
        &mut tx,
        &alert,
        now,
        Some(actor.user_id),
        "cdao_reply",
        "cdao",
        json!({"alert_id": alert_id, "organisation_id": r.organisation_id, "body": body}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), ALERT_REPLIED, "alert", Some(alert_id))
            .case(r.case_id)
            .details(json!({"share_id": r.share_id, "organisation_id": r.organisation_id})),
    )
    .await?;
    // The members are told there is a reply, never what it says.
    let users = sdb::member_users(&mut tx, &[r.organisation_id]).await?;
    crate::app::db::outbox::enqueue(&mut tx, "alert_reply", &users, Some(alert_id), now).await?;
    tx.commit().await?;
    Ok(Message {
        id,
        at: now,
        from_cdao: true,
        author: actor_name(state, actor).await?,
        body,
        action_taken: None,
    })
}

async fn actor_name(state: &AppState, actor: &Actor) -> AppResult<String> {
    Ok(conv::author_names(&state.db, &[actor.user_id])
        .await?
        .remove(&actor.user_id)
        .unwrap_or_default())
}
