//! Refusals leave a trace (SPEC §3): every refused access by a signed-in user (an invisible
//! thing's 404, a 403) is written to the audit trail with the route template and the subject's
//! id, at most once a minute for one actor and subject.

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

use crate::state::AppState;
use crate::web::session::RequestAuth;

/// The first id in a path: what the refused request was about.
fn subject_of(path: &str) -> Option<Uuid> {
    path.split('/').find_map(|seg| Uuid::parse_str(seg).ok())
}

pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let method = req.method().to_string();
    let subject = subject_of(req.uri().path());
    let res = next.run(req).await;
    if !matches!(res.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
        return res;
    }
    let actor = res
        .extensions()
        .get::<RequestAuth>()
        .and_then(|a| a.actor.as_ref())
        .map(|a| a.user_id);
    if let (Some(route), Some(actor)) = (route, actor)
        && let Err(e) = crate::audit::refused(
            &state,
            actor,
            &route,
            &method,
            res.status().as_u16(),
            subject,
        )
        .await
    {
        tracing::warn!(error = %e, "a refused access could not be recorded");
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_is_the_first_id_of_the_path() {
        let id = Uuid::now_v7();
        let att = Uuid::now_v7();
        assert_eq!(
            subject_of(&format!("/cases/{id}/attachments/{att}")),
            Some(id)
        );
        assert_eq!(subject_of("/statistics"), None);
    }
}
