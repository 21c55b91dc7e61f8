//! Managing areas, organisations and users: the actions shared by the admin API and the
//! admin pages. Each takes raw input, parses it (naming every failing field), checks the
//! actor through `policy`, writes, and records its audit event in the same transaction.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::db::{self, directory as dir};
use crate::audit::{self, Event, action};
use crate::domain::directory::{OrgKind, Sector, parse_ods_code};
use crate::domain::validation::{FieldErrors, parse_email};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

mod areas;
mod users;
pub use areas::{AreaInput, create_area, update_area};
pub use users::{
    Invited, UserInput, approve_user, cdao_names, create_first_admin, create_user,
    issue_invitation, may_approve, names, operator_token, pending_for, reinvite_user, reset_mfa,
    unlock_user, update_user, user, users,
};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// `provider`, `member` or `nhse`.
    #[schema(value_type = crate::domain::directory::OrgKind, required = true)]
    pub kind: Option<String>,
    #[schema(value_type = crate::domain::directory::Sector, required = true)]
    pub sector: Option<String>,
    #[schema(pattern = "^\\s*[A-Za-z0-9]{3,10}\\s*$")]
    pub ods_code: Option<String>,
    pub area_ids: Option<Vec<Uuid>>,
    /// PATCH only: disable (true) or re-enable (false) the organisation and its users' access.
    pub disabled: Option<bool>,
}

async fn parse_organisation(
    state: &AppState,
    input: &OrganisationInput,
    id: Uuid,
    disabled: bool,
) -> AppResult<dir::Organisation> {
    let mut e = FieldErrors::new();
    let name = e.line(
        "name",
        input.name.as_deref(),
        "the organisation's name",
        200,
    );
    let kind = match input.kind.as_deref().map(str::trim) {
        None | Some("") => {
            e.add("kind", "Select the kind of organisation");
            None
        }
        Some(k) => {
            let parsed = OrgKind::parse(k);
            if parsed.is_none() {
                e.add(
                    "kind",
                    "Select provider, LIN member organisation or NHS England",
                );
            }
            parsed
        }
    };
    let sector = match input.sector.as_deref().map(str::trim) {
        None | Some("") => {
            e.add("sector", "Select the sector");
            None
        }
        Some(s) => match Sector::parse(s) {
            None => {
                e.add("sector", "Select a sector from the list");
                None
            }
            Some(sec) => {
                if let Some(k) = kind
                    && !sec.fits(k)
                {
                    e.add(
                        "sector",
                        format!(
                            "{} is not a sector for {}",
                            sec.label(),
                            k.label().to_lowercase()
                        ),
                    );
                }
                Some(sec)
            }
        },
    };
    let ods_code = match input
        .ods_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(c) => {
            let p = parse_ods_code(c);
            if p.is_none() {
                e.add(
                    "ods_code",
                    "ODS code must be 3 to 10 letters and numbers, like FA123",
                );
            }
            p
        }
    };
    let mut area_ids = input.area_ids.clone().unwrap_or_default();
    area_ids.sort();
    area_ids.dedup();
    if area_ids.is_empty() {
        e.add(
            "area_ids",
            "Select the area or areas the organisation belongs to",
        );
    } else {
        let existing = dir::existing_area_ids(&state.db, &area_ids).await?;
        if existing.len() != area_ids.len() {
            e.add("area_ids", "Select areas from the list");
        } else if kind == Some(OrgKind::Provider) && area_ids.len() != 1 {
            e.add("area_ids", "A provider belongs to exactly one area");
        }
    }
    match (kind, sector) {
        (Some(kind), Some(sector)) if e.is_empty() => Ok(dir::Organisation {
            id,
            name,
            kind: kind.code().to_string(),
            sector: sector.code().to_string(),
            ods_code,
            area_ids,
            disabled,
        }),
        _ => Err(AppError::Validation(e.into_vec())),
    }
}

fn org_unique(e: sqlx::Error) -> AppError {
    match db::violated_constraint(&e).as_deref() {
        Some("organisations_ods_code_key") => {
            AppError::validation("ods_code", "Another organisation has this ODS code")
        }
        Some(_) => AppError::validation("name", "An organisation with this name already exists"),
        None => e.into(),
    }
}

pub async fn create_organisation(
    state: &AppState,
    actor: &Actor,
    input: &OrganisationInput,
) -> AppResult<dir::Organisation> {
    policy::manage_directory(actor)?;
    let org = parse_organisation(state, input, Uuid::now_v7(), false).await?;
    save_organisation(state, actor, org, true).await
}

pub async fn update_organisation(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &OrganisationInput,
) -> AppResult<dir::Organisation> {
    let scope = policy::org_scope(actor).map_err(|_| AppError::NotFound)?;
    let current = dir::get_organisation(&state.db, &scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::manage_directory(actor)?;
    let merged = OrganisationInput {
        name: input.name.clone().or(Some(current.name.clone())),
        kind: input.kind.clone().or(Some(current.kind.clone())),
        sector: input.sector.clone().or(Some(current.sector.clone())),
        ods_code: match &input.ods_code {
            Some(c) => Some(c.clone()),
            None => current.ods_code.clone(),
        },
        area_ids: input.area_ids.clone().or(Some(current.area_ids.clone())),
        disabled: None,
    };
    let org = parse_organisation(
        state,
        &merged,
        id,
        input.disabled.unwrap_or(current.disabled),
    )
    .await?;
    save_organisation(state, actor, org, false).await
}

/// Stores a new or changed organisation with its audit event, in one transaction.
async fn save_organisation(
    state: &AppState,
    actor: &Actor,
    org: dir::Organisation,
    is_new: bool,
) -> AppResult<dir::Organisation> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    dir::save_organisation(&mut tx, &org, now, is_new)
        .await
        .map_err(org_unique)?;
    let (what, details) = if is_new {
        (
            action::ORG_CREATED,
            json!({"kind": org.kind, "sector": org.sector}),
        )
    } else {
        (
            action::ORG_UPDATED,
            json!({"kind": org.kind, "sector": org.sector, "disabled": org.disabled}),
        )
    };
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), what, "organisation", Some(org.id)).details(details),
    )
    .await?;
    tx.commit().await?;
    Ok(org)
}

// ---------------------------------------------------------------------------------------------
// Reading the directory, each within the reader's scope (the scopes are made here, from the
// actor, never by a caller).
// ---------------------------------------------------------------------------------------------

/// Every area (the directory of areas is not sensitive: every signed-in user sees it).
pub async fn areas(state: &AppState) -> AppResult<Vec<dir::Area>> {
    Ok(dir::list_areas(&state.db).await?)
}

/// One area; 404 when there is none.
pub async fn area(state: &AppState, id: Uuid) -> AppResult<dir::Area> {
    dir::get_area(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The organisations the actor may see (403 for a role that sees none).
pub async fn organisations(
    state: &AppState,
    actor: &Actor,
    filter: &dir::OrgFilter,
) -> AppResult<Vec<dir::Organisation>> {
    let scope = policy::org_scope(actor)?;
    Ok(dir::list_organisations(&state.db, &scope, filter).await?)
}

/// One organisation the actor may see; 404 otherwise.
pub async fn organisation(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
) -> AppResult<dir::Organisation> {
    let scope = policy::org_scope(actor).map_err(|_| AppError::NotFound)?;
    dir::get_organisation(&state.db, &scope, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The active organisations as (id, name, kind), for the directory pages' choices: people
/// who manage the directory only.
pub async fn organisation_choices(
    state: &AppState,
    actor: &Actor,
) -> AppResult<Vec<(Uuid, String, String)>> {
    policy::manage_directory(actor)?;
    Ok(dir::organisation_choices(&state.db).await?)
}
