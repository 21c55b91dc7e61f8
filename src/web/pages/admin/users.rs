//! Users: the list, the form to add or change one, invitations, MFA resets and unlocking.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::organisations::{area_options, label_of, merge};
use super::{parse_ids, title, unless_rejected};
use crate::directory::{self, UserInput};
use crate::domain::directory::{OrgKind, Role};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::records as dir;
use crate::state::AppState;
use crate::web::extract::PathId;
use crate::web::extract::{PageForm, Params};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_time;
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

pub struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub organisation: String,
    pub status: String,
    pub status_colour: &'static str,
    pub locked: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    rows: Vec<UserRow>,
    q: String,
    role: String,
    status: String,
    role_options: Vec<(String, String)>,
    status_options: Vec<(String, String)>,
    flash: Option<String>,
}

fn status_colour(s: &str) -> &'static str {
    match s {
        "active" => "green",
        "invited" => "blue",
        "pending_approval" => "orange",
        _ => "grey",
    }
}

pub fn status_label(s: &str) -> String {
    match s {
        "pending_approval" => "Pending approval".to_string(),
        other => crate::domain::validation::capitalise(other),
    }
}

pub async fn users(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let role = params
        .get("role")
        .filter(|r| Role::parse(r).is_some())
        .map(str::to_string);
    let status = params
        .get("status")
        .filter(|s| matches!(*s, "invited" | "active" | "disabled" | "pending_approval"))
        .map(str::to_string);
    let filter = dir::UserFilter {
        q: params.get("q").map(str::to_string),
        role: role.clone(),
        organisation_id: None,
        status: status.clone(),
    };
    let now = state.now();
    let rows = directory::users(&state, &actor, &filter)
        .await?
        .into_iter()
        .map(|u| {
            // A locked account is shown as locked, not as "Active" (issue 11).
            let locked = u.locked_until.is_some_and(|t| t > now) && u.status != "disabled";
            UserRow {
                role: label_of(&u.role, Role::parse, Role::label),
                organisation: u.organisation_name.unwrap_or_else(|| "—".into()),
                status_colour: if locked {
                    "red"
                } else {
                    status_colour(&u.status)
                },
                status: if locked {
                    "Locked".to_string()
                } else {
                    status_label(&u.status)
                },
                locked,
                id: u.id,
                name: u.name,
                email: u.email,
            }
        })
        .collect();
    let mut role_options = vec![(String::new(), "All roles".to_string())];
    role_options.extend(Role::options());
    let status_options = vec![
        (String::new(), "Any status".to_string()),
        ("invited".into(), "Invited".into()),
        ("pending_approval".into(), "Pending approval".into()),
        ("active".into(), "Active".into()),
        ("disabled".into(), "Disabled".into()),
    ];
    let flash = take_flash(&state, &auth).await?;
    page(&UsersPage {
        layout: for_actor(&actor, "Users", "/admin/users"),
        rows,
        q: params.get("q").unwrap_or("").to_string(),
        role: role.unwrap_or_default(),
        status: status.unwrap_or_default(),
        role_options,
        status_options,
        flash,
    })
}

#[derive(Template)]
#[template(path = "admin/user_form.html")]
struct UserFormPage {
    layout: Layout,
    errors: FieldErrors,
    heading: String,
    action: String,
    is_new: bool,
    user_id: String,
    email: String,
    name_value: String,
    role: String,
    organisation_id: String,
    area_ids: Vec<String>,
    status: String,
    facts: Vec<(String, String)>,
    role_options: Vec<(String, String)>,
    organisation_options: Vec<(String, String)>,
    area_options: Vec<(String, String)>,
    invitation_url: Option<String>,
    flash: Option<String>,
    can_approve: bool,
    locked_until: Option<String>,
    can_reinvite: bool,
}

#[derive(Deserialize, Default)]
pub struct UserForm {
    email: Option<String>,
    name: Option<String>,
    role: Option<String>,
    organisation_id: Option<String>,
    #[serde(default)]
    area_ids: Vec<String>,
    status: Option<String>,
}

struct UserFormExtras {
    facts: Vec<(String, String)>,
    invitation_url: Option<String>,
    flash: Option<String>,
    can_approve: bool,
    locked_until: Option<String>,
    can_reinvite: bool,
}

#[allow(clippy::too_many_arguments)]
async fn user_form(
    state: &AppState,
    actor: &Actor,
    status: StatusCode,
    errors: FieldErrors,
    heading: &str,
    user_id: Option<Uuid>,
    f: &UserForm,
    extras: UserFormExtras,
) -> AppResult<Response> {
    let mut role_options = vec![(String::new(), "Select a role".to_string())];
    role_options.extend(Role::options());
    let mut organisation_options = vec![(String::new(), "None (service-wide roles)".to_string())];
    organisation_options.extend(
        directory::organisation_choices(state, actor)
            .await?
            .into_iter()
            .map(|(id, name, kind)| {
                let kind = OrgKind::parse(&kind).map(|k| k.label()).unwrap_or("");
                (id.to_string(), format!("{name} ({kind})"))
            }),
    );
    let mut layout = for_actor(actor, title(heading, &errors), "/admin/users");
    layout.back_href = Some("/admin/users".into());
    page_with_status(
        status,
        &UserFormPage {
            layout,
            errors,
            heading: heading.into(),
            action: match user_id {
                Some(id) => format!("/admin/users/{id}"),
                None => "/admin/users/new".into(),
            },
            is_new: user_id.is_none(),
            user_id: user_id.map(|u| u.to_string()).unwrap_or_default(),
            email: f.email.clone().unwrap_or_default(),
            name_value: f.name.clone().unwrap_or_default(),
            role: f.role.clone().unwrap_or_default(),
            organisation_id: f.organisation_id.clone().unwrap_or_default(),
            area_ids: f.area_ids.clone(),
            status: f.status.clone().unwrap_or_default(),
            facts: extras.facts,
            role_options,
            organisation_options,
            area_options: area_options(state).await?,
            invitation_url: extras.invitation_url,
            flash: extras.flash,
            can_approve: extras.can_approve,
            locked_until: extras.locked_until,
            can_reinvite: extras.can_reinvite,
        },
    )
}

fn user_input(form: &UserForm, errors: &mut FieldErrors) -> UserInput {
    let organisation_id = match form.organisation_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => match Uuid::parse_str(v) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("organisation_id", "Select an organisation from the list");
                None
            }
        },
    };
    UserInput {
        email: Some(form.email.clone().unwrap_or_default()),
        name: Some(form.name.clone().unwrap_or_default()),
        role: Some(form.role.clone().unwrap_or_default()),
        organisation_id,
        area_ids: Some(parse_ids(&form.area_ids, "area_ids", errors)),
        status: form.status.clone(),
    }
}

fn no_extras() -> UserFormExtras {
    UserFormExtras {
        facts: vec![],
        invitation_url: None,
        flash: None,
        can_approve: false,
        locked_until: None,
        can_reinvite: false,
    }
}

pub async fn new_user(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    user_form(
        &state,
        &actor,
        StatusCode::OK,
        FieldErrors::new(),
        "Invite a user",
        None,
        &UserForm::default(),
        no_extras(),
    )
    .await
}

pub async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<UserForm>,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let mut pre = FieldErrors::new();
    let input = user_input(&form, &mut pre);
    let result = unless_rejected(&pre, directory::create_user(&state, &actor, &input)).await;
    match result {
        Ok(invited) => {
            show_user(
                &state,
                &actor,
                StatusCode::CREATED,
                invited.user.id,
                Some(invited.invitation_url),
                None,
            )
            .await
        }
        Err(AppError::Validation(e)) => {
            user_form(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                merge(pre, e),
                "Invite a user",
                None,
                &form,
                no_extras(),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

async fn show_user(
    state: &AppState,
    actor: &Actor,
    status: StatusCode,
    id: Uuid,
    invitation_url: Option<String>,
    flash: Option<String>,
) -> AppResult<Response> {
    let u = directory::user(state, actor, id).await?;
    let now = state.now();
    let locked_until = u.locked_until.filter(|t| *t > now).map(uk_time);
    let status_text = match &locked_until {
        Some(t) if u.status != "disabled" => format!("Locked until {t}"),
        _ => status_label(&u.status),
    };
    let mut facts = vec![("Status".to_string(), status_text)];
    facts.extend([
        (
            "Second factor".to_string(),
            if u.mfa_enrolled {
                "Set up".to_string()
            } else {
                "Not set up".to_string()
            },
        ),
        (
            "Last signed in".to_string(),
            u.last_sign_in_at
                .map(uk_time)
                .unwrap_or_else(|| "Never".into()),
        ),
    ]);
    facts.push(("Created".to_string(), uk_time(u.created_at)));
    if u.status == "pending_approval" {
        facts.push((
            "Approval".to_string(),
            if u.approval_requested_by == Some(actor.user_id) {
                "You made this change: another administrator, or for a CDAO or LIN member a CDAO of its areas, must approve it".to_string()
            } else {
                "Waiting for a second person to approve it".to_string()
            },
        ));
    }
    let can_approve = directory::may_approve(actor, &u);
    let can_reinvite = u.status == "invited" || u.status == "pending_approval";
    let form = UserForm {
        email: Some(u.email.clone()),
        name: Some(u.name.clone()),
        role: Some(u.role.clone()),
        organisation_id: u.organisation_id.map(|o| o.to_string()),
        area_ids: if u.role == "cdao" {
            u.area_ids.iter().map(Uuid::to_string).collect()
        } else {
            vec![]
        },
        status: Some(u.status.clone()),
    };
    user_form(
        state,
        actor,
        status,
        FieldErrors::new(),
        &u.name,
        Some(id),
        &form,
        UserFormExtras {
            facts,
            invitation_url,
            flash,
            can_approve,
            locked_until,
            can_reinvite,
        },
    )
    .await
}

pub async fn edit_user(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let flash = take_flash(&state, &auth).await?;
    show_user(&state, &actor, StatusCode::OK, id, None, flash).await
}

pub async fn update_user(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<UserForm>,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let mut pre = FieldErrors::new();
    let input = user_input(&form, &mut pre);
    let result = unless_rejected(&pre, directory::update_user(&state, &actor, id, &input)).await;
    match result {
        Ok(u) => {
            set_flash(&state, &auth, &format!("{} has been updated.", u.name)).await?;
            Ok(redirect(&format!("/admin/users/{id}")))
        }
        Err(AppError::Validation(e)) => {
            user_form(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                merge(pre, e),
                "Change user",
                Some(id),
                &form,
                no_extras(),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn reinvite_user(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    let url = directory::reinvite_user(&state, &actor, id).await?;
    show_user(&state, &actor, StatusCode::OK, id, Some(url), None).await
}

pub async fn reset_mfa(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    directory::reset_mfa(&state, &actor, id).await?;
    set_flash(
        &state,
        &auth,
        "Their second factor has been reset and they have been signed out. They will set up a new authenticator app at their next sign-in.",
    )
    .await?;
    Ok(redirect(&format!("/admin/users/{id}")))
}

pub async fn unlock_user(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    policy::manage_directory(&actor)?;
    directory::unlock_user(&state, &actor, id).await?;
    set_flash(
        &state,
        &auth,
        "The account has been unlocked. They can sign in again now.",
    )
    .await?;
    Ok(redirect(&format!("/admin/users/{id}")))
}
