//! Accounts: inviting, changing, approving (the second person), unlocking and resetting
//! users, the operator's first administrator and tokens, and reading users within the
//! reader's scope.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::db::{self, directory as dir};
use crate::audit::{self, Event, action};
use crate::auth;
use crate::crypto;
use crate::domain::directory::{OrgKind, Role, UserStatus};
use crate::domain::validation::{FieldErrors, parse_email};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor, OrgScope, UserScope};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    #[schema(value_type = String, required = true, format = Email)]
    pub email: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(value_type = crate::domain::directory::Role, required = true)]
    pub role: Option<String>,
    pub organisation_id: Option<Uuid>,
    /// For `cdao` users only: the LIN areas they hold.
    pub area_ids: Option<Vec<Uuid>>,
    /// PATCH only: `active` or `disabled` (an invited user becomes active by setting a password).
    #[schema(value_type = Option<crate::domain::directory::UserStatus>)]
    pub status: Option<String>,
}

async fn parse_user(
    state: &AppState,
    input: &UserInput,
    id: Uuid,
    status: &str,
) -> AppResult<dir::UserRecord> {
    let mut e = FieldErrors::new();
    let email = match input.email.as_deref().map(str::trim) {
        None | Some("") => {
            e.add("email", "Enter the user's email address");
            String::new()
        }
        Some(v) => parse_email(v).unwrap_or_else(|| {
            e.add(
                "email",
                "Enter an email address in the correct format, like name@nhs.net",
            );
            String::new()
        }),
    };
    let name = e.line("name", input.name.as_deref(), "the user's full name", 200);
    let role = match input.role.as_deref().map(str::trim) {
        None | Some("") => {
            e.add("role", "Select the user's role");
            None
        }
        Some(r) => {
            let p = Role::parse(r);
            if p.is_none() {
                e.add("role", "Select a role from the list");
            }
            p
        }
    };
    let mut organisation_id = input.organisation_id;
    let mut area_ids = Vec::new();
    if let Some(role) = role {
        let kinds = role.organisation_kinds();
        if kinds.is_empty() {
            // Service-wide roles belong to no organisation.
            organisation_id = None;
        } else {
            match organisation_id {
                None => e.add("organisation_id", "Select the user's organisation"),
                Some(org_id) => match dir::get_organisation(&state.db, &OrgScope::All, org_id)
                    .await?
                {
                    None => e.add("organisation_id", "Select an organisation from the list"),
                    Some(org) => {
                        let fits = OrgKind::parse(&org.kind).is_some_and(|k| kinds.contains(&k));
                        if !fits {
                            e.add(
                                "organisation_id",
                                format!(
                                    "A {} must belong to {}",
                                    role.label().to_lowercase(),
                                    kinds_phrase(kinds)
                                ),
                            );
                        }
                    }
                },
            }
        }
        if role == Role::Cdao {
            area_ids = input.area_ids.clone().unwrap_or_default();
            area_ids.sort();
            area_ids.dedup();
            if area_ids.is_empty() {
                e.add("area_ids", "Select the area or areas this CDAO holds");
            } else if dir::existing_area_ids(&state.db, &area_ids).await?.len() != area_ids.len() {
                e.add("area_ids", "Select areas from the list");
            }
        }
    }
    let status = match input.status.as_deref().map(str::trim) {
        None | Some("") => status.to_string(),
        Some(s) => match UserStatus::parse(s) {
            Some(UserStatus::Disabled) => "disabled".into(),
            Some(UserStatus::Active) if status == "disabled" => "active".into(),
            Some(UserStatus::Active) | Some(UserStatus::Invited) if status != "disabled" => {
                status.to_string()
            }
            _ => {
                e.add("status", "Status must be active or disabled");
                status.to_string()
            }
        },
    };
    match role {
        Some(role) if e.is_empty() => Ok(dir::UserRecord {
            id,
            email,
            name,
            role: role.code().to_string(),
            organisation_id,
            area_ids,
            status,
        }),
        _ => Err(AppError::Validation(e.into_vec())),
    }
}

fn kinds_phrase(kinds: &[OrgKind]) -> &'static str {
    match kinds.first() {
        Some(OrgKind::Provider) => "a provider organisation",
        Some(OrgKind::Member) => "a LIN member organisation",
        Some(OrgKind::Nhse) => "NHS England",
        None => "no organisation",
    }
}

fn user_unique(e: sqlx::Error) -> AppError {
    match db::violated_constraint(&e) {
        Some(_) => AppError::validation("email", "A user with this email address already exists"),
        None => e.into(),
    }
}

/// A new user and the one-time link with which they set their password.
pub struct Invited {
    pub user: dir::User,
    pub invitation_url: String,
}

pub async fn create_user(state: &AppState, actor: &Actor, input: &UserInput) -> AppResult<Invited> {
    policy::manage_directory(actor)?;
    let rec = parse_user(state, input, Uuid::now_v7(), "invited").await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    dir::insert_user(&mut tx, &rec, now)
        .await
        .map_err(user_unique)?;
    // An account that reads cases waits for a second person; its link works once approved.
    if Role::parse(&rec.role).is_some_and(policy::needs_second_person) {
        dir::request_approval(&mut tx, rec.id, actor.user_id, now).await?;
    }
    let url = issue_invitation(state, &mut tx, rec.id, Some(actor.user_id)).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::USER_CREATED,
            "user",
            Some(rec.id),
        )
        .details(json!({"role": rec.role})),
    )
    .await?;
    tx.commit().await?;
    let user = dir::get_user(&state.db, &UserScope::All, rec.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Invited {
        user,
        invitation_url: url,
    })
}

/// Makes a one-time invitation link (72 hours) and records that it was issued.
pub async fn issue_invitation(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    user_id: Uuid,
    by: Option<Uuid>,
) -> AppResult<String> {
    let now = state.now();
    let (token, hash) = crypto::new_token("")?;
    db::sessions::insert_invitation(
        conn,
        user_id,
        &hash,
        by,
        now,
        now + auth::INVITATION_VALIDITY,
    )
    .await?;
    audit::record(
        conn,
        now,
        Event::new(by, action::USER_INVITED, "user", Some(user_id)),
    )
    .await?;
    Ok(format!("{}/invitation/{token}", state.config.public_url))
}

pub async fn reinvite_user(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<String> {
    let user = managed_user(state, actor, id).await?;
    if user.status == "disabled" {
        return Err(AppError::Conflict(
            "Enable the user before sending a new invitation.".into(),
        ));
    }
    let has_password = dir::credentials_by_id(&state.db, id)
        .await?
        .is_some_and(|c| c.password_hash.is_some());
    if user.status == "active" || has_password {
        return Err(AppError::Conflict(
            "This person has set a password already. If they have forgotten it, they reset it themselves from the sign-in page.".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let url = issue_invitation(state, &mut tx, id, Some(actor.user_id)).await?;
    tx.commit().await?;
    Ok(url)
}

pub async fn update_user(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &UserInput,
) -> AppResult<dir::User> {
    let current = managed_user(state, actor, id).await?;
    let merged = UserInput {
        email: input.email.clone().or(Some(current.email.clone())),
        name: input.name.clone().or(Some(current.name.clone())),
        role: input.role.clone().or(Some(current.role.clone())),
        organisation_id: input.organisation_id.or(current.organisation_id),
        area_ids: input.area_ids.clone().or(Some(current.area_ids.clone())),
        status: input.status.clone(),
    };
    let rec = parse_user(state, &merged, id, &current.status).await?;
    if id == actor.user_id && (rec.status == "disabled" || rec.role != current.role) {
        return Err(AppError::Conflict(
            "You cannot disable your own account or change your own role: ask another administrator.".into(),
        ));
    }
    let now = state.now();
    let role = Role::parse(&rec.role);
    // Four eyes: a change into a role that reads cases, a new email address for such an
    // account (where its reset links would go), or enabling one again, waits for a second
    // person.
    let needs_approval = rec.status != "disabled"
        && role.is_some_and(policy::needs_second_person)
        && (rec.role != current.role
            || !rec.email.eq_ignore_ascii_case(&current.email)
            || current.status == "disabled");
    let mut tx = state.db.begin().await?;
    dir::update_user(&mut tx, &rec, now)
        .await
        .map_err(user_unique)?;
    if needs_approval {
        dir::request_approval(&mut tx, id, actor.user_id, now).await?;
    }
    // Access changes take effect at once: a changed role, organisation, areas, email or
    // status ends the user's sessions and API tokens.
    let access_changed = rec.role != current.role
        || rec.organisation_id != current.organisation_id
        || rec.status != current.status
        || needs_approval
        || (rec.role == "cdao" && rec.area_ids != current.area_ids);
    if access_changed {
        crate::accounts::end_credentials(&mut tx, id, None, now).await?;
    }
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::USER_UPDATED, "user", Some(id)).details(json!({
            "role": rec.role,
            "status": if needs_approval { "pending_approval" } else { rec.status.as_str() },
            "access_changed": access_changed,
        })),
    )
    .await?;
    tx.commit().await?;
    dir::get_user(&state.db, &UserScope::All, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Approves an account waiting for a second person (SPEC §7.2): another admin, or for
/// `cdao` and `member` accounts a CDAO of its areas; never whoever asked (403). Someone who
/// cannot see the account gets 404; an account not waiting, 409.
pub async fn approve_user(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<dir::User> {
    let user = dir::get_user(&state.db, &policy::user_scope(actor), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let role = Role::parse(&user.role)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown role")))?;
    policy::approve_account(
        actor,
        &policy::PendingAccount {
            id,
            role,
            area_ids: user.area_ids.clone(),
            requested_by: user.approval_requested_by,
        },
    )?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let Some(status) = dir::approve_user(&mut tx, id, actor.user_id, now).await? else {
        return Err(AppError::Conflict(
            "This account is not waiting for approval.".into(),
        ));
    };
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::USER_APPROVED, "user", Some(id)).details(json!({
            "role": user.role,
            "status": status,
            "requested_by": user.approval_requested_by,
        })),
    )
    .await?;
    tx.commit().await?;
    dir::get_user(&state.db, &UserScope::All, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The accounts waiting for a second person that `actor` may approve.
pub async fn pending_for(state: &AppState, actor: &Actor) -> AppResult<Vec<dir::User>> {
    policy::list_pending_accounts(actor)?;
    let users = dir::list_users(
        &state.db,
        &policy::user_scope(actor),
        &dir::UserFilter {
            status: Some("pending_approval".into()),
            ..Default::default()
        },
    )
    .await?;
    Ok(users
        .into_iter()
        .filter(|u| may_approve(actor, u))
        .collect())
}

/// Whether `actor` may approve this (visible) account now.
pub fn may_approve(actor: &Actor, u: &dir::User) -> bool {
    u.status == "pending_approval"
        && Role::parse(&u.role).is_some_and(|role| {
            policy::approve_account(
                actor,
                &policy::PendingAccount {
                    id: u.id,
                    role,
                    area_ids: u.area_ids.clone(),
                    requested_by: u.approval_requested_by,
                },
            )
            .is_ok()
        })
}

/// An account the actor manages: 404 when they cannot see it, 403 when they see it but may
/// not manage the directory.
async fn managed_user(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<dir::User> {
    let u = user(state, actor, id).await?;
    policy::manage_directory(actor)?;
    Ok(u)
}

/// Clears a lockout after repeated failed sign-ins (admins; audited).
pub async fn unlock_user(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    managed_user(state, actor, id).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if dir::unlock(&mut tx, id).await? {
        audit::record(
            &mut tx,
            now,
            Event::new(Some(actor.user_id), action::USER_UNLOCKED, "user", Some(id)),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Clears a user's second factor: they set up a new one at their next sign-in.
pub async fn reset_mfa(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    managed_user(state, actor, id).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    dir::set_totp(&mut tx, id, None, None, false, None, now).await?;
    db::sessions::delete_recovery_codes(&mut tx, id).await?;
    // Sessions and tokens end: the person enrols again after signing in with their own
    // password, which the admin does not know.
    crate::accounts::end_credentials(&mut tx, id, None, now).await?;
    db::sessions::enqueue_notice(&mut tx, id, crate::accounts::notice::MFA_RESET, None, now)
        .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::USER_MFA_RESET,
            "user",
            Some(id),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `cdconcerns admin create`: the first administrator (or another one), made by the
/// operator. With a password it is set at once; otherwise an invitation link is returned.
pub async fn create_first_admin(
    state: &AppState,
    email: &str,
    name: &str,
    password: Option<String>,
) -> anyhow::Result<String> {
    let email =
        parse_email(email).ok_or_else(|| anyhow::anyhow!("'{email}' is not an email address"))?;
    if dir::user_id_by_email(&state.db, &email).await?.is_some() {
        anyhow::bail!("a user with that email address already exists");
    }
    if let Some(p) = &password {
        auth::check_new_password(p, p, &email, name)
            .map_err(|m| anyhow::anyhow!("{}", m.message))?;
    }
    let now = state.now();
    let id = Uuid::now_v7();
    let rec = dir::UserRecord {
        id,
        email: email.clone(),
        name: name.trim().to_string(),
        role: Role::Admin.code().into(),
        organisation_id: None,
        area_ids: vec![],
        status: "invited".into(),
    };
    let hash = match password {
        Some(p) => Some(
            auth::hash_password(p)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    dir::insert_user(&mut tx, &rec, now).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(None, action::USER_CREATED, "user", Some(id))
            .details(json!({"role": "admin", "by": "operator"})),
    )
    .await?;
    let outcome = match hash {
        Some(h) => {
            dir::set_password(&mut tx, id, &h, now).await?;
            format!(
                "Administrator {email} created with the password given. They set up an authenticator app at first sign-in."
            )
        }
        None => {
            let url = issue_invitation(state, &mut tx, id, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            format!(
                "Administrator {email} created. Send them this one-time link (valid 72 hours) to set a password:\n{url}"
            )
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// `cdconcerns token issue`: the operator's way to give a system a token for a user.
pub async fn operator_token(state: &AppState, email: &str, days: i64) -> anyhow::Result<String> {
    if !(1..=crate::accounts::MAX_TOKEN_DAYS).contains(&days) {
        anyhow::bail!(
            "--days must be between 1 and {}",
            crate::accounts::MAX_TOKEN_DAYS
        );
    }
    let creds = dir::credentials_by_email(&state.db, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user has that email address"))?;
    match creds.status.as_str() {
        "active" => {}
        "pending_approval" => {
            anyhow::bail!("that account is waiting for a second person's approval")
        }
        _ => anyhow::bail!("that user's account is not active"),
    }
    let created = crate::accounts::issue_token(
        state,
        creds.id,
        "issued by the operator",
        days,
        action::TOKEN_ISSUED_CLI,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(created.token)
}

/// The users the actor may see.
pub async fn users(
    state: &AppState,
    actor: &Actor,
    filter: &dir::UserFilter,
) -> AppResult<Vec<dir::User>> {
    Ok(dir::list_users(&state.db, &policy::user_scope(actor), filter).await?)
}

/// The names of the CDAOs the actor may see, by id (assignees on case pages and lists).
pub async fn cdao_names(
    state: &AppState,
    actor: &Actor,
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let named = match policy::user_scope(actor) {
        UserScope::AreaCdaos { area_ids, self_id } => {
            dir::area_cdao_names(&state.db, self_id, &area_ids).await?
        }
        scope => dir::list_users(
            &state.db,
            &scope,
            &dir::UserFilter {
                role: Some("cdao".into()),
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect(),
    };
    Ok(named.into_iter().collect())
}

/// One user the actor may see; 404 otherwise.
pub async fn user(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<dir::User> {
    dir::get_user(&state.db, &policy::user_scope(actor), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The names the actor may see of these users ("you" for themselves); the others are left
/// out, for the caller to describe by what they did.
pub async fn names(
    state: &AppState,
    actor: &Actor,
    ids: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, String>> {
    let scope = policy::user_scope(actor);
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if out.contains_key(id) {
            continue;
        }
        if *id == actor.user_id {
            out.insert(*id, "you".to_string());
        } else if let Some(u) = dir::get_user(&state.db, &scope, *id).await? {
            out.insert(*id, u.name);
        }
    }
    Ok(out)
}
