//! Your account: details and API tokens (made and revoked only here, by their owner).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::db;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, UserScope};
use crate::state::AppState;
use crate::web::api::me::{self, NewToken};
use crate::web::extract::PageForm;
use crate::web::extract::PathId;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
    pub live: bool,
}

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    layout: Layout,
    rows: Vec<(String, String)>,
    tokens: Vec<TokenRow>,
    errors: FieldErrors,
    token_name: String,
    token_days: String,
    new_token: Option<String>,
    flash: Option<String>,
}

pub fn uk_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y at %H:%M")
        .to_string()
}

pub fn uk_date(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::London)
        .format("%-d %B %Y")
        .to_string()
}

async fn render(
    state: &AppState,
    actor: &Actor,
    status: StatusCode,
    errors: FieldErrors,
    form: (String, String),
    new_token: Option<String>,
    flash: Option<String>,
) -> AppResult<Response> {
    let user = db::directory::get_user(&state.db, &UserScope::All, actor.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.now();
    let tokens = db::sessions::list_tokens(&state.db, actor.user_id)
        .await?
        .into_iter()
        .map(|t| {
            let (state, live) = if t.revoked_at.is_some() {
                ("Revoked", false)
            } else if t.expires_at <= now {
                ("Expired", false)
            } else {
                ("Active", true)
            };
            TokenRow {
                id: t.id,
                name: t.name,
                created: uk_date(t.created_at),
                expires: uk_date(t.expires_at),
                last_used: t
                    .last_used_at
                    .map(uk_time)
                    .unwrap_or_else(|| "Never".into()),
                state,
                live,
            }
        })
        .collect();
    let mut rows = vec![
        ("Name".to_string(), user.name.clone()),
        ("Email address".to_string(), user.email.clone()),
        ("Role".to_string(), actor.role.label().to_string()),
        (
            "Organisation".to_string(),
            user.organisation_name
                .clone()
                .unwrap_or_else(|| "None".into()),
        ),
        (
            "Second factor".to_string(),
            if user.mfa_enrolled {
                "Authenticator app set up".to_string()
            } else if actor.role.requires_mfa() {
                "Required: you will set it up at sign-in".to_string()
            } else {
                "Not set up".to_string()
            },
        ),
    ];
    if let Some(t) = user.last_sign_in_at {
        rows.push(("Signed in".to_string(), uk_time(t)));
    }
    let title = if errors.is_empty() {
        "Your account"
    } else {
        "Error: Your account"
    };
    page_with_status(
        status,
        &AccountPage {
            layout: for_actor(actor, title, "/account"),
            rows,
            tokens,
            errors,
            token_name: form.0,
            token_days: form.1,
            new_token,
            flash,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    let flash = take_flash(&state, &auth).await?;
    render(
        &state,
        &actor,
        StatusCode::OK,
        FieldErrors::new(),
        (String::new(), "30".into()),
        None,
        flash,
    )
    .await
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: Option<String>,
    days: Option<String>,
}

pub async fn create_token(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<TokenForm>,
) -> AppResult<Response> {
    let days_text = form.days.clone().unwrap_or_default();
    let days = match days_text.trim().parse::<i64>() {
        Ok(d) => Some(d),
        Err(_) if days_text.trim().is_empty() => None,
        Err(_) => Some(0),
    };
    let input = NewToken {
        name: form.name.clone(),
        days,
    };
    match me::create_token(&state, &actor, &input).await {
        Ok(created) => {
            render(
                &state,
                &actor,
                StatusCode::CREATED,
                FieldErrors::new(),
                (String::new(), "30".into()),
                Some(created.token),
                None,
            )
            .await
        }
        Err(AppError::Validation(errs)) => {
            render(
                &state,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                FieldErrors::from_vec(errs),
                (form.name.unwrap_or_default(), days_text),
                None,
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    me::revoke_token(&state, &actor, id).await?;
    set_flash(
        &state,
        &auth,
        "The token has been revoked. Systems using it can no longer sign in with it.",
    )
    .await?;
    Ok(redirect("/account"))
}
