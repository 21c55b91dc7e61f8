//! Accounts waiting for a second person (admins and CDAOs) to approve them.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::organisations::{area_names, label_of};
use crate::directory::{self};
use crate::domain::directory::Role;
use crate::error::AppResult;
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::extract::PathId;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{page, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

pub struct PendingRow {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation: String,
    pub areas: String,
}

#[derive(Template)]
#[template(path = "admin/pending.html")]
struct PendingPage {
    layout: Layout,
    rows: Vec<PendingRow>,
    flash: Option<String>,
}

/// The accounts that the actor may approve: for a CDAO, CDAO and LIN member accounts of
/// their areas; for an admin, those another admin asked for.
pub async fn pending(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    let users = directory::pending_for(&state, &actor).await?;
    let areas = directory::areas(&state).await?;
    let rows = users
        .into_iter()
        .map(|u| PendingRow {
            role: label_of(&u.role, Role::parse, Role::label),
            organisation: u.organisation_name.unwrap_or_else(|| "—".into()),
            areas: area_names(&areas, &u.area_ids),
            id: u.id,
            name: u.name,
            email: u.email,
        })
        .collect();
    let flash = take_flash(&state, &auth).await?;
    page(&PendingPage {
        layout: for_actor(&actor, "Accounts to approve", "/users/pending"),
        rows,
        flash,
    })
}

/// Approves an account (the page's button): back to where it was pressed.
pub async fn approve_user(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    let u = directory::approve_user(&state, &actor, id).await?;
    let what = if u.status == "invited" {
        "Their invitation link works now."
    } else {
        "They can sign in now."
    };
    set_flash(
        &state,
        &auth,
        &format!("You approved the account of {}. {what}", u.name),
    )
    .await?;
    Ok(redirect(if actor.is(Role::Admin) {
        "/admin/users"
    } else {
        "/users/pending"
    }))
}
