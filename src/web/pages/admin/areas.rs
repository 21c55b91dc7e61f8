//! Areas: the list, and the form to add or change one.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{title, yes_no};
use crate::directory::{self, AreaInput};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::records as dir;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::extract::PathId;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

#[derive(Template)]
#[template(path = "admin/areas.html")]
struct AreasPage {
    layout: Layout,
    areas: Vec<dir::Area>,
    flash: Option<String>,
}

pub async fn areas(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let flash = take_flash(&state, &auth).await?;
    page(&AreasPage {
        layout: for_actor(&actor, "Areas", "/admin/areas"),
        areas: directory::areas(&state).await?,
        flash,
    })
}

#[derive(Template)]
#[template(path = "admin/area_form.html")]
struct AreaFormPage {
    layout: Layout,
    errors: FieldErrors,
    heading: String,
    action: String,
    name_value: String,
    region: String,
    two_person_rule: String,
    cdao_mailbox: String,
}

#[derive(Deserialize)]
pub struct AreaForm {
    name: Option<String>,
    region: Option<String>,
    two_person_rule: Option<String>,
    cdao_mailbox: Option<String>,
}

fn area_form(
    actor: &Actor,
    errors: FieldErrors,
    heading: &str,
    action: String,
    f: &AreaForm,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut layout = for_actor(actor, title(heading, &errors), "/admin/areas");
    layout.back_href = Some("/admin/areas".into());
    page_with_status(
        status,
        &AreaFormPage {
            layout,
            errors,
            heading: heading.into(),
            action,
            name_value: f.name.clone().unwrap_or_default(),
            region: f.region.clone().unwrap_or_default(),
            two_person_rule: f.two_person_rule.clone().unwrap_or_else(|| "yes".into()),
            cdao_mailbox: f.cdao_mailbox.clone().unwrap_or_default(),
        },
    )
}

pub async fn new_area(actor: Actor) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    area_form(
        &actor,
        FieldErrors::new(),
        "Add an area",
        "/admin/areas/new".into(),
        &AreaForm {
            name: None,
            region: None,
            two_person_rule: None,
            cdao_mailbox: None,
        },
    )
}

pub async fn create_area(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PageForm(form): PageForm<AreaForm>,
) -> AppResult<Response> {
    let input = AreaInput {
        name: form.name.clone(),
        region: form.region.clone(),
        two_person_rule: yes_no(form.two_person_rule.as_deref()),
        cdao_mailbox: form.cdao_mailbox.clone(),
    };
    match directory::create_area(&state, &actor, &input).await {
        Ok(a) => {
            set_flash(&state, &auth, &format!("{} has been added.", a.name)).await?;
            Ok(redirect("/admin/areas"))
        }
        Err(AppError::Validation(e)) => area_form(
            &actor,
            FieldErrors::from_vec(e),
            "Add an area",
            "/admin/areas/new".into(),
            &form,
        ),
        Err(e) => Err(e),
    }
}

pub async fn edit_area(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let a = directory::area(&state, id).await?;
    area_form(
        &actor,
        FieldErrors::new(),
        &format!("Change {}", a.name),
        format!("/admin/areas/{id}"),
        &AreaForm {
            name: Some(a.name.clone()),
            region: Some(a.region),
            two_person_rule: Some(if a.two_person_rule { "yes" } else { "no" }.into()),
            cdao_mailbox: a.cdao_mailbox.clone(),
        },
    )
}

pub async fn update_area(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<AreaForm>,
) -> AppResult<Response> {
    let input = AreaInput {
        name: Some(form.name.clone().unwrap_or_default()),
        region: Some(form.region.clone().unwrap_or_default()),
        two_person_rule: yes_no(form.two_person_rule.as_deref()),
        cdao_mailbox: Some(form.cdao_mailbox.clone().unwrap_or_default()),
    };
    match directory::update_area(&state, &actor, id, &input).await {
        Ok(a) => {
            set_flash(&state, &auth, &format!("{} has been updated.", a.name)).await?;
            Ok(redirect("/admin/areas"))
        }
        Err(AppError::Validation(e)) => area_form(
            &actor,
            FieldErrors::from_vec(e),
            "Change area",
            format!("/admin/areas/{id}"),
            &form,
        ),
        Err(e) => Err(e),
    }
}
