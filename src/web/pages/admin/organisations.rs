//! Organisations: the list, and the form to add or change one.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::{parse_ids, title, unless_rejected};
use crate::directory::{self, OrganisationInput};
use crate::domain::directory::{OrgKind, Sector};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::records as dir;
use crate::state::AppState;
use crate::web::extract::PathId;
use crate::web::extract::{PageForm, Params};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

pub struct OrgRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub sector: String,
    pub ods_code: String,
    pub areas: String,
    pub disabled: bool,
}

#[derive(Template)]
#[template(path = "admin/organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    rows: Vec<OrgRow>,
    q: String,
    kind: String,
    kind_options: Vec<(String, String)>,
    flash: Option<String>,
}

pub(super) fn area_names(areas: &[dir::Area], ids: &[Uuid]) -> String {
    let names: Vec<&str> = areas
        .iter()
        .filter(|a| ids.contains(&a.id))
        .map(|a| a.name.as_str())
        .collect();
    names.join(", ")
}

pub(super) fn label_of<T: Copy>(
    code: &str,
    parse: fn(&str) -> Option<T>,
    label: fn(T) -> &'static str,
) -> String {
    parse(code).map(label).unwrap_or(code).to_string()
}

pub async fn organisations(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let kind = params
        .get("kind")
        .filter(|k| OrgKind::parse(k).is_some())
        .map(str::to_string);
    let filter = dir::OrgFilter {
        q: params.get("q").map(str::to_string),
        kind: kind.clone(),
        area_id: None,
    };
    let areas = directory::areas(&state).await?;
    let rows = directory::organisations(&state, &actor, &filter)
        .await?
        .into_iter()
        .map(|o| OrgRow {
            areas: area_names(&areas, &o.area_ids),
            kind: label_of(&o.kind, OrgKind::parse, OrgKind::label),
            sector: label_of(&o.sector, Sector::parse, Sector::label),
            ods_code: o.ods_code.unwrap_or_default(),
            id: o.id,
            name: o.name,
            disabled: o.disabled,
        })
        .collect();
    let mut kind_options = vec![(String::new(), "All kinds".to_string())];
    kind_options.extend(OrgKind::options());
    let flash = take_flash(&state, &auth).await?;
    page(&OrganisationsPage {
        layout: for_actor(&actor, "Organisations", "/admin/organisations"),
        rows,
        q: params.get("q").unwrap_or("").to_string(),
        kind: kind.unwrap_or_default(),
        kind_options,
        flash,
    })
}

#[derive(Template)]
#[template(path = "admin/organisation_form.html")]
struct OrganisationFormPage {
    layout: Layout,
    errors: FieldErrors,
    heading: String,
    action: String,
    is_new: bool,
    name_value: String,
    kind: String,
    sector: String,
    ods_code: String,
    area_ids: Vec<String>,
    disabled_selected: Vec<String>,
    kind_options: Vec<(String, String)>,
    sector_options: Vec<(String, String)>,
    area_options: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
pub struct OrganisationForm {
    name: Option<String>,
    kind: Option<String>,
    sector: Option<String>,
    ods_code: Option<String>,
    #[serde(default)]
    area_ids: Vec<String>,
    disabled: Option<String>,
}

pub(super) async fn area_options(state: &AppState) -> AppResult<Vec<(String, String)>> {
    Ok(directory::areas(state)
        .await?
        .into_iter()
        .map(|a| (a.id.to_string(), format!("{} ({})", a.name, a.region)))
        .collect())
}

async fn organisation_form(
    state: &AppState,
    actor: &Actor,
    errors: FieldErrors,
    heading: &str,
    action: String,
    is_new: bool,
    f: &OrganisationForm,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut sector_options = vec![(String::new(), "Select a sector".to_string())];
    sector_options.extend(Sector::options());
    let mut layout = for_actor(actor, title(heading, &errors), "/admin/organisations");
    layout.back_href = Some("/admin/organisations".into());
    page_with_status(
        status,
        &OrganisationFormPage {
            layout,
            errors,
            heading: heading.into(),
            action,
            is_new,
            name_value: f.name.clone().unwrap_or_default(),
            kind: f.kind.clone().unwrap_or_default(),
            sector: f.sector.clone().unwrap_or_default(),
            ods_code: f.ods_code.clone().unwrap_or_default(),
            area_ids: f.area_ids.clone(),
            disabled_selected: f.disabled.iter().filter(|d| *d == "yes").cloned().collect(),
            kind_options: OrgKind::options(),
            sector_options,
            area_options: area_options(state).await?,
        },
    )
}

fn organisation_input(form: &OrganisationForm, errors: &mut FieldErrors) -> OrganisationInput {
    OrganisationInput {
        name: Some(form.name.clone().unwrap_or_default()),
        kind: Some(form.kind.clone().unwrap_or_default()),
        sector: Some(form.sector.clone().unwrap_or_default()),
        ods_code: Some(form.ods_code.clone().unwrap_or_default()),
        area_ids: Some(parse_ids(&form.area_ids, "area_ids", errors)),
        disabled: Some(form.disabled.as_deref() == Some("yes")),
    }
}

/// Field errors found while reading the form come first, then the action's own.
pub(super) fn merge(
    mut first: FieldErrors,
    rest: Vec<crate::domain::validation::FieldError>,
) -> FieldErrors {
    for e in rest {
        first.add(e.field, e.message);
    }
    first
}

pub async fn new_organisation(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    organisation_form(
        &state,
        &actor,
        FieldErrors::new(),
        "Add an organisation",
        "/admin/organisations/new".into(),
        true,
        &OrganisationForm::default(),
    )
    .await
}

pub async fn create_organisation(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PageForm(form): PageForm<OrganisationForm>,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let mut pre = FieldErrors::new();
    let input = organisation_input(&form, &mut pre);
    let result =
        unless_rejected(&pre, directory::create_organisation(&state, &actor, &input)).await;
    match result {
        Ok(o) => {
            set_flash(&state, &auth, &format!("{} has been added.", o.name)).await?;
            Ok(redirect("/admin/organisations"))
        }
        Err(AppError::Validation(e)) => {
            organisation_form(
                &state,
                &actor,
                merge(pre, e),
                "Add an organisation",
                "/admin/organisations/new".into(),
                true,
                &form,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn edit_organisation(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let o = directory::organisation(&state, &actor, id).await?;
    let form = OrganisationForm {
        name: Some(o.name.clone()),
        kind: Some(o.kind),
        sector: Some(o.sector),
        ods_code: o.ods_code,
        area_ids: o.area_ids.iter().map(Uuid::to_string).collect(),
        disabled: o.disabled.then(|| "yes".to_string()),
    };
    organisation_form(
        &state,
        &actor,
        FieldErrors::new(),
        &format!("Change {}", o.name),
        format!("/admin/organisations/{id}"),
        false,
        &form,
    )
    .await
}

pub async fn update_organisation(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<OrganisationForm>,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let mut pre = FieldErrors::new();
    let input = organisation_input(&form, &mut pre);
    let result = unless_rejected(
        &pre,
        directory::update_organisation(&state, &actor, id, &input),
    )
    .await;
    match result {
        Ok(o) => {
            set_flash(&state, &auth, &format!("{} has been updated.", o.name)).await?;
            Ok(redirect("/admin/organisations"))
        }
        Err(AppError::Validation(e)) => {
            organisation_form(
                &state,
                &actor,
                merge(pre, e),
                "Change organisation",
                format!("/admin/organisations/{id}"),
                false,
                &form,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
