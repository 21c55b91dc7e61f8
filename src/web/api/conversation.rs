//! The conversation on an alert between a member organisation and the CDAO team (issue 11).

use crate::web::api::json::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::alert_conversation::{self, AlertConversation, Message, ReplyInput};
use crate::error::{AppResult, Problem};
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::extract::{ApiJson, PathId};

#[utoipa::path(get, operation_id = "get_alert_conversation", path = "/api/v1/alerts/{id}/conversation", tag = "alerts",
    params(("id" = Uuid, Path)),
    description = "The messages on one alert, oldest first: the member organisation's responses and questions \
(`POST /api/v1/alerts/{id}/responses`) and the CDAO team's replies (`POST /api/v1/alerts/{id}/replies`). \
For members, an alert of their organisation; for CDAOs, an alert of a share of their areas.",
    responses((status = 200, body = AlertConversation), (status = 404, body = Problem)))]
pub async fn conversation(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<AlertConversation>> {
    Ok(Json(
        alert_conversation::conversation(&state, &actor, id).await?,
    ))
}

#[utoipa::path(post, operation_id = "reply_to_alert", path = "/api/v1/alerts/{id}/replies", tag = "alerts",
    params(("id" = Uuid, Path)), request_body = ReplyInput,
    description = "The CDAO team of the share's area replies to the member organisation on its alert, while the \
share is live. The reply shows on the case timeline; the members get an email without its content; \
the audit event (`alert.replied`) holds ids only.",
    responses((status = 201, body = Message), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn reply(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    ApiJson(input): ApiJson<ReplyInput>,
) -> AppResult<(StatusCode, Json<Message>)> {
    Ok((
        StatusCode::CREATED,
        Json(alert_conversation::reply(&state, &actor, id, &input).await?),
    ))
}
