//! The CDAO team's side of an alert's conversation (issue 11): what the member organisation
//! asked or answered, and a reply, while the share is live.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::alert_conversation::{self, AlertConversation, ReplyInput};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::extract::{PageForm, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::alerts::{MessageRow, message_rows};
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

#[derive(Template)]
#[template(path = "alerts/conversation.html")]
struct ConversationPage {
    layout: Layout,
    errors: FieldErrors,
    flash: Option<String>,
    id: Uuid,
    case_href: String,
    reference: String,
    organisation: String,
    live: bool,
    messages: Vec<MessageRow>,
    body_value: String,
    reply_label: String,
}

async fn render(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    id: Uuid,
    errors: FieldErrors,
    body_value: String,
) -> AppResult<Response> {
    let c: AlertConversation = alert_conversation::team_conversation(state, actor, id).await?;
    let case_href = c
        .case_id
        .map(|cid| format!("/cases/{cid}"))
        .unwrap_or_else(|| "/cases".into());
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = format!(
        "{}Conversation with {}: {}",
        if errors.is_empty() { "" } else { "Error: " },
        c.organisation,
        c.case_reference
    );
    let mut layout = for_actor(actor, title, "/cases");
    layout.back_href = Some(format!("{case_href}#shares"));
    let flash = take_flash(state, auth).await?;
    let reply_label = format!("Reply to {}", c.organisation);
    page_with_status(
        status,
        &ConversationPage {
            layout,
            errors,
            flash,
            id,
            case_href,
            reference: c.case_reference,
            organisation: c.organisation,
            live: c.state == "live",
            messages: message_rows(c.messages),
            body_value,
            reply_label,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    render(&state, &auth, &actor, id, FieldErrors::new(), String::new()).await
}

#[derive(Deserialize)]
pub struct ReplyForm {
    body: Option<String>,
}

pub async fn reply(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<ReplyForm>,
) -> AppResult<Response> {
    let input = ReplyInput {
        body: form.body.clone(),
    };
    match alert_conversation::reply(&state, &actor, id, &input).await {
        Ok(_) => {
            set_flash(
                &state,
                &auth,
                "Your reply has been sent. The members have been told there is a reply (without its content).",
            )
            .await?;
            Ok(redirect(&format!("/alerts/{id}/conversation#messages")))
        }
        Err(AppError::Validation(e)) => {
            render(
                &state,
                &auth,
                &actor,
                id,
                FieldErrors::from_vec(e),
                form.body.unwrap_or_default(),
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            set_flash(&state, &auth, &m).await?;
            Ok(redirect(&format!("/alerts/{id}/conversation")))
        }
        Err(e) => Err(e),
    }
}
