//! Sign-in (password, then a second factor where the role needs one), sign-out, and
//! setting a password from an invitation link.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::audit::{self, Event, action};
use crate::auth::{self, Totp};
use crate::crypto;
use crate::db;
use crate::domain::directory::Role;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::extract::{ClientIp, PageForm, Params};
use crate::web::layout::Layout;
use crate::web::session::{self, RequestAuth};

pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(LOCATION, v);
    }
    r
}

fn render<T: Template>(t: &T) -> AppResult<Html<String>> {
    t.render()
        .map(Html)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))
}

pub fn page<T: Template>(t: &T) -> AppResult<Response> {
    Ok(render(t)?.into_response())
}

pub fn page_with_status<T: Template>(status: StatusCode, t: &T) -> AppResult<Response> {
    Ok((status, render(t)?).into_response())
}

/// Only a path of this service: never an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/sign-") =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInPage {
    layout: Layout,
    errors: FieldErrors,
    email: String,
    next: String,
    notice: Option<String>,
}

pub async fn sign_in_form(auth: RequestAuth, params: Params) -> AppResult<Response> {
    if auth.actor.is_some() {
        return Ok(redirect("/"));
    }
    if auth.pending_mfa.is_some() {
        return Ok(redirect("/sign-in/mfa"));
    }
    let notice = if auth.session_expired {
        Some("You were signed out because you had not used the service for 30 minutes. Sign in again to continue.".to_string())
    } else if params.get("signed_out").is_some() {
        Some("You have signed out.".to_string())
    } else if params.get("password_set").is_some() {
        Some(
            "Your password has been set. Sign in with your email address and new password."
                .to_string(),
        )
    } else {
        None
    };
    page(&SignInPage {
        layout: Layout::new("Sign in"),
        errors: FieldErrors::new(),
        email: String::new(),
        next: safe_next(params.get("next")),
        notice,
    })
}

#[derive(Deserialize)]
pub struct SignInForm {
    email: Option<String>,
    password: Option<String>,
    next: Option<String>,
}

const BAD_CREDENTIALS: &str = "Enter a correct email address and password. After 5 failed attempts an account is locked for 15 minutes.";

pub async fn sign_in(
    State(state): State<AppState>,
    auth: RequestAuth,
    ClientIp(ip): ClientIp,
    PageForm(form): PageForm<SignInForm>,
) -> AppResult<Response> {
    let email = form.email.unwrap_or_default().trim().to_string();
    let password = form.password.unwrap_or_default();
    let next = safe_next(form.next.as_deref());
    let mut errors = FieldErrors::new();
    if email.is_empty() {
        errors.add("email", "Enter your email address");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    let again = |errors: FieldErrors, status: StatusCode| {
        page_with_status(
            status,
            &SignInPage {
                layout: Layout::new("Error: Sign in"),
                errors,
                email: email.clone(),
                next: next.clone(),
                notice: None,
            },
        )
    };
    if !errors.is_empty() {
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    if let Err(wait) = state.signin_limiter.check(&format!("ip:{ip}")) {
        let mut e = FieldErrors::new();
        e.add(
            "email",
            format!("Too many sign-in attempts from your network. Try again in {wait} seconds."),
        );
        return again(e, StatusCode::TOO_MANY_REQUESTS);
    }

    let now = state.now();
    let creds = db::directory::credentials_by_email(&state.db, &email).await?;
    let stored = creds.as_ref().and_then(|c| c.password_hash.clone());
    let password_ok = auth::verify_password(stored, password).await?;

    let Some(c) = creds else {
        audit::record_alone(
            &state.db,
            now,
            Event::new(None, action::SIGN_IN_FAILED, "user", None)
                .details(json!({"reason": "unknown_account"})),
        )
        .await?;
        let mut e = FieldErrors::new();
        e.add("email", BAD_CREDENTIALS);
        return again(e, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let locked = c.locked_until.is_some_and(|t| t > now);
    let usable = c.status == "active" && !c.organisation_disabled;
    if !password_ok || locked || !usable {
        let reason = if locked {
            "locked"
        } else if !usable {
            "account_not_active"
        } else {
            "bad_password"
        };
        let mut tx = state.db.begin().await?;
        if !locked {
            let now_locked = db::directory::record_failed_sign_in(
                &mut tx,
                c.id,
                now,
                auth::MAX_FAILED_ATTEMPTS,
                now + auth::LOCKOUT,
            )
            .await?;
            if now_locked {
                audit::record(
                    &mut tx,
                    now,
                    Event::new(Some(c.id), action::SIGN_IN_LOCKED, "user", Some(c.id)),
                )
                .await?;
            }
        }
        audit::record(
            &mut tx,
            now,
            Event::new(Some(c.id), action::SIGN_IN_FAILED, "user", Some(c.id))
                .details(json!({ "reason": reason })),
        )
        .await?;
        tx.commit().await?;
        let mut e = FieldErrors::new();
        e.add("email", BAD_CREDENTIALS);
        return again(e, StatusCode::UNPROCESSABLE_ENTITY);
    }

    let role =
        Role::parse(&c.role).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown role")))?;
    let needs_second_step = role.requires_mfa() || c.totp_confirmed;
    let mut tx = state.db.begin().await?;
    if let Some(old) = &auth.session_hash {
        db::sessions::delete_session(&mut tx, old).await?;
    }
    let cookie = session::start_session(&mut tx, &state, c.id, !needs_second_step).await?;
    if !needs_second_step {
        db::directory::record_sign_in(&mut tx, c.id, now).await?;
        audit::record(
            &mut tx,
            now,
            Event::new(Some(c.id), action::SIGN_IN, "user", Some(c.id))
                .details(json!({"mfa": false})),
        )
        .await?;
    }
    tx.commit().await?;
    let to = if !needs_second_step {
        next
    } else if c.totp_confirmed {
        format!("/sign-in/mfa?next={}", encode(&next))
    } else {
        format!("/sign-in/mfa/setup?next={}", encode(&next))
    };
    let mut r = redirect(&to);
    r.headers_mut().append(SET_COOKIE, cookie);
    Ok(r)
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "auth/mfa.html")]
struct MfaPage {
    layout: Layout,
    errors: FieldErrors,
    next: String,
}

pub async fn mfa_form(
    State(state): State<AppState>,
    auth: RequestAuth,
    params: Params,
) -> AppResult<Response> {
    let Some(user_id) = auth.pending_mfa else {
        return Ok(redirect(if auth.actor.is_some() {
            "/"
        } else {
            "/sign-in"
        }));
    };
    let next = safe_next(params.get("next"));
    let c = db::directory::credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if !c.totp_confirmed {
        return Ok(redirect(&format!(
            "/sign-in/mfa/setup?next={}",
            encode(&next)
        )));
    }
    page(&MfaPage {
        layout: Layout::new("Enter your security code"),
        errors: FieldErrors::new(),
        next,
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: Option<String>,
    next: Option<String>,
}

pub async fn mfa(
    State(state): State<AppState>,
    auth: RequestAuth,
    PageForm(form): PageForm<CodeForm>,
) -> AppResult<Response> {
    let (Some(user_id), Some(pending_hash)) = (auth.pending_mfa, auth.session_hash.clone()) else {
        return Ok(redirect("/sign-in"));
    };
    let next = safe_next(form.next.as_deref());
    let c = db::directory::credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let (Some(key_id), Some(sealed), true) = (
        c.totp_key_id,
        c.totp_secret_enc.as_deref(),
        c.totp_confirmed,
    ) else {
        return Ok(redirect(&format!(
            "/sign-in/mfa/setup?next={}",
            encode(&next)
        )));
    };
    let secret = auth::open_totp(&state.sealer, user_id, key_id, sealed)?;
    let totp = Totp::from_secret(&secret, "")?;
    let now = state.now();
    let code = form.code.unwrap_or_default();
    let step = totp.check(&code, now);
    let mut tx = state.db.begin().await?;
    let accepted = match step {
        Some(s) => db::directory::use_totp_step(&mut tx, user_id, s).await?,
        None => false,
    };
    let locked = c.locked_until.is_some_and(|t| t > now);
    if !accepted || locked {
        if !locked {
            db::directory::record_failed_sign_in(
                &mut tx,
                user_id,
                now,
                auth::MAX_FAILED_ATTEMPTS,
                now + auth::LOCKOUT,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            now,
            Event::new(Some(user_id), action::MFA_FAILED, "user", Some(user_id)),
        )
        .await?;
        tx.commit().await?;
        let mut errors = FieldErrors::new();
        errors.add(
            "code",
            if code.trim().is_empty() {
                "Enter the 6-digit code from your authenticator app"
            } else {
                "The code is not correct or has been used already. Enter the code your app shows now"
            },
        );
        return page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &MfaPage {
                layout: Layout::new("Error: Enter your security code"),
                errors,
                next,
            },
        );
    }
    finish_sign_in(&state, tx, user_id, &pending_hash, &next, false).await
}

/// Replaces the half-signed-in session with a new, complete one (a new id again).
async fn finish_sign_in(
    state: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    user_id: uuid::Uuid,
    pending_hash: &[u8],
    next: &str,
    enrolled: bool,
) -> AppResult<Response> {
    let now = state.now();
    db::sessions::delete_session(&mut tx, pending_hash).await?;
    let cookie = session::start_session(&mut tx, state, user_id, true).await?;
    db::directory::record_sign_in(&mut tx, user_id, now).await?;
    if enrolled {
        audit::record(
            &mut tx,
            now,
            Event::new(Some(user_id), action::MFA_ENROLLED, "user", Some(user_id)),
        )
        .await?;
    }
    audit::record(
        &mut tx,
        now,
        Event::new(Some(user_id), action::SIGN_IN, "user", Some(user_id))
            .details(json!({"mfa": true})),
    )
    .await?;
    tx.commit().await?;
    let mut r = redirect(next);
    r.headers_mut().append(SET_COOKIE, cookie);
    Ok(r)
}

#[derive(Template)]
#[template(path = "auth/mfa_setup.html")]
struct MfaSetupPage {
    layout: Layout,
    errors: FieldErrors,
    next: String,
    secret_grouped: String,
    otpauth_url: String,
}

/// The pending enrolment's secret: made (and kept, sealed, unconfirmed) on first view.
async fn enrolment_secret(
    state: &AppState,
    user_id: uuid::Uuid,
) -> AppResult<Option<(Totp, String)>> {
    let c = db::directory::credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::Unauthorized)?;
    if c.totp_confirmed {
        return Ok(None);
    }
    let email = db::directory::get_user(&state.db, &crate::policy::UserScope::All, user_id)
        .await?
        .map(|u| u.email)
        .unwrap_or_default();
    let secret = match (c.totp_key_id, c.totp_secret_enc) {
        (Some(k), Some(sealed)) => auth::open_totp(&state.sealer, user_id, k, &sealed)?,
        _ => {
            let s = Totp::new_secret()?;
            let sealed = auth::seal_totp(&state.sealer, user_id, &s)?;
            let mut conn = state.db.acquire().await?;
            db::directory::set_totp(
                &mut conn,
                user_id,
                Some(state.sealer.key_id()),
                Some(&sealed),
                false,
                None,
                state.now(),
            )
            .await?;
            s
        }
    };
    Ok(Some((Totp::from_secret(&secret, &email)?, email)))
}

fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn mfa_setup_form(
    State(state): State<AppState>,
    auth: RequestAuth,
    params: Params,
) -> AppResult<Response> {
    let Some(user_id) = auth.pending_mfa else {
        return Ok(redirect(if auth.actor.is_some() {
            "/"
        } else {
            "/sign-in"
        }));
    };
    let next = safe_next(params.get("next"));
    let Some((totp, _)) = enrolment_secret(&state, user_id).await? else {
        return Ok(redirect(&format!("/sign-in/mfa?next={}", encode(&next))));
    };
    page(&MfaSetupPage {
        layout: Layout::new("Set up your authenticator app"),
        errors: FieldErrors::new(),
        next,
        secret_grouped: group(&totp.secret_base32()),
        otpauth_url: totp.url(),
    })
}

pub async fn mfa_setup(
    State(state): State<AppState>,
    auth: RequestAuth,
    PageForm(form): PageForm<CodeForm>,
) -> AppResult<Response> {
    let (Some(user_id), Some(pending_hash)) = (auth.pending_mfa, auth.session_hash.clone()) else {
        return Ok(redirect("/sign-in"));
    };
    let next = safe_next(form.next.as_deref());
    let Some((totp, _)) = enrolment_secret(&state, user_id).await? else {
        return Ok(redirect(&format!("/sign-in/mfa?next={}", encode(&next))));
    };
    let now = state.now();
    let code = form.code.unwrap_or_default();
    if let Some(step) = totp.check(&code, now) {
        let mut tx = state.db.begin().await?;
        let c = db::directory::credentials_by_id(&state.db, user_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        db::directory::set_totp(
            &mut tx,
            user_id,
            c.totp_key_id,
            c.totp_secret_enc.as_deref(),
            true,
            Some(step),
            now,
        )
        .await?;
        return finish_sign_in(&state, tx, user_id, &pending_hash, &next, true).await;
    }
    let mut errors = FieldErrors::new();
    errors.add(
        "code",
        if code.trim().is_empty() {
            "Enter the 6-digit code from your authenticator app"
        } else {
            "The code is not correct. Check the setup key was entered exactly and enter the code your app shows now"
        },
    );
    page_with_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &MfaSetupPage {
            layout: Layout::new("Error: Set up your authenticator app"),
            errors,
            next,
            secret_grouped: group(&totp.secret_base32()),
            otpauth_url: totp.url(),
        },
    )
}

pub async fn sign_out(State(state): State<AppState>, auth: RequestAuth) -> AppResult<Response> {
    if let Some(hash) = &auth.session_hash {
        let mut tx = state.db.begin().await?;
        db::sessions::delete_session(&mut tx, hash).await?;
        if let Some(a) = &auth.actor {
            audit::record(
                &mut tx,
                state.now(),
                Event::new(Some(a.user_id), action::SIGN_OUT, "user", Some(a.user_id)),
            )
            .await?;
        }
        tx.commit().await?;
    }
    let mut r = redirect("/sign-in?signed_out=1");
    r.headers_mut()
        .append(SET_COOKIE, session::clear_cookie(&state));
    Ok(r)
}

#[derive(Template)]
#[template(path = "auth/invitation.html")]
struct InvitationPage {
    layout: Layout,
    errors: FieldErrors,
    token: String,
    name: String,
    email: String,
    role_label: String,
}

#[derive(Template)]
#[template(path = "auth/invitation_invalid.html")]
struct InvitationInvalidPage {
    layout: Layout,
}

fn invalid_invitation() -> AppResult<Response> {
    page_with_status(
        StatusCode::NOT_FOUND,
        &InvitationInvalidPage {
            layout: Layout::new("This invitation link cannot be used"),
        },
    )
}

pub async fn invitation_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(inv) =
        db::sessions::find_invitation(&state.db, &crypto::sha256(token.as_bytes()), state.now())
            .await?
    else {
        return invalid_invitation();
    };
    page(&InvitationPage {
        layout: Layout::new("Set your password"),
        errors: FieldErrors::new(),
        token,
        role_label: Role::parse(&inv.role)
            .map(|r| r.label())
            .unwrap_or("")
            .to_string(),
        name: inv.name,
        email: inv.email,
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: Option<String>,
    confirm: Option<String>,
}

pub async fn invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    PageForm(form): PageForm<PasswordForm>,
) -> AppResult<Response> {
    let now = state.now();
    let Some(inv) =
        db::sessions::find_invitation(&state.db, &crypto::sha256(token.as_bytes()), now).await?
    else {
        return invalid_invitation();
    };
    let password = form.password.unwrap_or_default();
    let confirm = form.confirm.unwrap_or_default();
    if let Err(msg) = auth::check_new_password(&password, &confirm, &inv.email) {
        let mut errors = FieldErrors::new();
        if msg.contains("do not match") {
            errors.add("confirm", msg);
        } else {
            errors.add("password", msg);
        }
        return page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &InvitationPage {
                layout: Layout::new("Error: Set your password"),
                errors,
                token,
                role_label: Role::parse(&inv.role)
                    .map(|r| r.label())
                    .unwrap_or("")
                    .to_string(),
                name: inv.name,
                email: inv.email,
            },
        );
    }
    let hash = auth::hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    if !db::sessions::use_invitation(&mut tx, inv.invitation_id, now).await? {
        return invalid_invitation();
    }
    db::directory::set_password(&mut tx, inv.user_id, &hash, now).await?;
    db::sessions::delete_user_sessions(&mut tx, inv.user_id).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(inv.user_id),
            action::PASSWORD_SET,
            "user",
            Some(inv.user_id),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(redirect("/sign-in?password_set=1"))
}
