//! Evidence on the case page: downloading it and marking what holds patient data.

use axum::extract::{Path, State};
use axum::response::Response;
use uuid::Uuid;

use super::actions::Form;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::api::cases::download;
use crate::web::extract::PageForm;
use crate::web::pages::auth::redirect;
use crate::web::pages::cdao::Posted;
use crate::web::session::{RequestAuth, set_flash};

pub(super) fn size_text(bytes: i32) -> String {
    let b = f64::from(bytes);
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else if b >= 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}
/// A file of evidence, as a download.
pub async fn attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let (name, ct, data) = crate::attachments::get(&state, &actor, id, att).await?;
    Ok(download(&name, &ct, data))
}
/// The holding team marks a file as holding patient data, or not.
pub async fn mark_attachment(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
    PageForm(form): Form,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let f = Posted(form);
    let holds = f.get("holds_patient_data") == "yes";
    let a = crate::attachments::mark_patient_data(&state, &actor, id, att, holds).await?;
    let msg = if holds {
        format!(
            "{} is marked as holding patient data: it travels on a share only with patient data.",
            a.filename
        )
    } else {
        format!(
            "{} is no longer marked as holding patient data.",
            a.filename
        )
    };
    set_flash(&state, &auth, &msg).await?;
    Ok(redirect(&format!("/cases/{id}#evidence")))
}
