//! Your account: details, password change, recovery codes, signed-in sessions and API
//! tokens (made, behind a fresh proof, and revoked only here or through the API from a
//! browser session, by their owner).

use askama::Template;
use axum::extract::State;
use axum::http::header::{SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use crate::accounts::{self, NewToken};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::extract::{PageForm, Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{RecoveryCodesPage, page, page_with_status, redirect};
use crate::web::session::{self, RequestAuth, set_flash, take_flash};

pub struct TokenRow {
    pub id: Uuid,
    pub name: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub state: &'static str,
    pub live: bool,
}

pub struct SessionRow {
    pub id: Uuid,
    pub browser: String,
    pub started: String,
    pub last_seen: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    layout: Layout,
    rows: Vec<(String, String)>,
    tokens: Vec<TokenRow>,
    sessions: Vec<SessionRow>,
    errors: FieldErrors,
    token_name: String,
    token_days: String,
    new_token: Option<String>,
    flash: Option<String>,
    /// The forms that mint credentials ask for the password (and code) again.
    needs_proof: bool,
    needs_code: bool,
    mfa_enrolled: bool,
    recovery_left: i64,
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

/// "Firefox on Windows", from a User-Agent header; "Unknown browser" otherwise.
pub fn browser_label(ua: Option<&str>) -> String {
    let Some(ua) = ua else {
        return "Unknown browser".into();
    };
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else if ua.starts_with("curl/") {
        "curl"
    } else {
        "Unknown browser"
    };
    let os = if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        Some("iOS")
    } else if ua.contains("Mac OS X") {
        Some("macOS")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_string(),
    }
}

struct Extra {
    status: StatusCode,
    errors: FieldErrors,
    form: (String, String),
    new_token: Option<String>,
    flash: Option<String>,
}

impl Extra {
    fn plain(flash: Option<String>) -> Self {
        Extra {
            status: StatusCode::OK,
            errors: FieldErrors::new(),
            form: (String::new(), "30".into()),
            new_token: None,
            flash,
        }
    }
}

async fn render(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    extra: Extra,
) -> AppResult<Response> {
    let user = accounts::own_record(state, actor).await?;
    let now = state.now();
    let tokens = accounts::list_tokens(state, actor)
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
    let current = auth.session_hash.clone().unwrap_or_default();
    let sessions = accounts::sessions(state, actor, &current)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            browser: browser_label(s.user_agent.as_deref()),
            started: uk_time(s.created_at),
            last_seen: uk_time(s.last_seen_at),
            current: s.current,
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
    let title = if extra.errors.is_empty() {
        "Your account"
    } else {
        "Error: Your account"
    };
    let recovery_left = if user.mfa_enrolled {
        accounts::recovery_codes_left(state, actor.user_id).await?
    } else {
        0
    };
    page_with_status(
        extra.status,
        &AccountPage {
            layout: for_actor(actor, title, "/account"),
            rows,
            tokens,
            sessions,
            errors: extra.errors,
            token_name: extra.form.0,
            token_days: extra.form.1,
            new_token: extra.new_token,
            flash: extra.flash,
            needs_proof: !accounts::proof_is_fresh(auth.proof_at, now),
            needs_code: user.mfa_enrolled,
            mfa_enrolled: user.mfa_enrolled,
            recovery_left,
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let mut flash = take_flash(&state, &auth).await?;
    if params.get("password_changed").is_some() {
        flash = Some(
            "Your password has been changed. Your other sessions and API tokens have ended."
                .to_string(),
        );
    }
    if let Some(left) = params.get("recovery_code_used") {
        let left: i64 = left.parse().unwrap_or(0);
        flash = Some(format!(
            "You signed in with a recovery code. You have {left} recovery code{} left. If you have lost your authenticator app, ask your administrator to reset your second factor, then set up a new one.",
            if left == 1 { "" } else { "s" }
        ));
    }
    render(&state, &auth, &actor, Extra::plain(flash)).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: Option<String>,
    days: Option<String>,
    password: Option<String>,
    code: Option<String>,
}

pub async fn create_token(
    State(state): State<AppState>,
    auth: RequestAuth,
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
        // The page always sends the fields it shows; empty ones count as not given.
        password: Some(form.password.clone().unwrap_or_default()),
        code: form.code.clone().filter(|c| !c.trim().is_empty()),
    };
    let again = |errs| Extra {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors: errs,
        form: (form.name.clone().unwrap_or_default(), days_text.clone()),
        new_token: None,
        flash: None,
    };
    match accounts::create_token(&state, &actor, auth.session(), &input).await {
        Ok(created) => {
            // The proof is fresh now: show the page as it is for the next 5 minutes.
            let mut auth = auth.clone();
            auth.proof_at = Some(state.now());
            render(
                &state,
                &auth,
                &actor,
                Extra {
                    status: StatusCode::CREATED,
                    new_token: Some(created.token),
                    ..Extra::plain(None)
                },
            )
            .await
        }
        Err(AppError::Validation(errs)) => {
            render(&state, &auth, &actor, again(FieldErrors::from_vec(errs))).await
        }
        Err(AppError::Forbidden(_)) => {
            let mut e = FieldErrors::new();
            e.add("password", "Enter your password");
            render(&state, &auth, &actor, again(e)).await
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
    accounts::revoke_token(&state, &actor, id).await?;
    set_flash(
        &state,
        &auth,
        "The token has been revoked. Systems using it can no longer sign in with it.",
    )
    .await?;
    Ok(redirect("/account"))
}

// ----- Sessions -----

pub async fn end_session(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    let current = auth.session_hash.clone().ok_or(AppError::Unauthorized)?;
    accounts::end_session(&state, &actor, &current, id).await?;
    set_flash(&state, &auth, "That session has been signed out.").await?;
    Ok(redirect("/account#sessions"))
}

pub async fn end_other_sessions(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    let current = auth.session_hash.clone().ok_or(AppError::Unauthorized)?;
    let n = accounts::end_other_sessions(&state, &actor, &current).await?;
    set_flash(
        &state,
        &auth,
        &format!(
            "{n} other session{} signed out.",
            if n == 1 { " has been" } else { "s have been" }
        ),
    )
    .await?;
    Ok(redirect("/account#sessions"))
}

// ----- Password change -----

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    layout: Layout,
    errors: FieldErrors,
}

fn password_page(actor: &Actor, status: StatusCode, errors: FieldErrors) -> AppResult<Response> {
    let title = if errors.is_empty() {
        "Change your password"
    } else {
        "Error: Change your password"
    };
    let mut layout = for_actor(actor, title, "/account");
    layout.back_href = Some("/account".into());
    page_with_status(status, &PasswordPage { layout, errors })
}

pub async fn password_form(actor: Actor) -> AppResult<Response> {
    password_form_page(&actor)
}

fn password_form_page(actor: &Actor) -> AppResult<Response> {
    password_page(actor, StatusCode::OK, FieldErrors::new())
}

#[derive(Deserialize)]
pub struct PasswordChangeForm {
    current: Option<String>,
    password: Option<String>,
    confirm: Option<String>,
}

pub async fn change_password(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    headers: HeaderMap,
    PageForm(form): PageForm<PasswordChangeForm>,
) -> AppResult<Response> {
    let (hash, _) = auth.session().ok_or(AppError::Unauthorized)?;
    let ua = headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    match accounts::change_password(
        &state,
        &actor,
        hash,
        form.current.unwrap_or_default(),
        form.password.unwrap_or_default(),
        &form.confirm.unwrap_or_default(),
        ua.as_deref(),
    )
    .await?
    {
        Err(errors) => password_page(&actor, StatusCode::UNPROCESSABLE_ENTITY, errors),
        Ok(cookie) => {
            let mut r = redirect("/account?password_changed=1");
            r.headers_mut()
                .append(SET_COOKIE, session::session_cookie(&state, &cookie));
            Ok(r)
        }
    }
}

// ----- Recovery codes -----

#[derive(Deserialize)]
pub struct ProofForm {
    password: Option<String>,
    code: Option<String>,
}

pub async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PageForm(form): PageForm<ProofForm>,
) -> AppResult<Response> {
    let (hash, proof_at) = auth.session().ok_or(AppError::Unauthorized)?;
    if !accounts::proof_is_fresh(proof_at, state.now())
        && let Err(errors) = accounts::prove(
            &state,
            &actor,
            hash,
            form.password.as_deref(),
            form.code.as_deref(),
        )
        .await?
    {
        let mut shown = FieldErrors::new();
        for e in errors.into_vec() {
            shown.add(format!("recovery_{}", e.field), e.message);
        }
        return render(
            &state,
            &auth,
            &actor,
            Extra {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: shown,
                ..Extra::plain(None)
            },
        )
        .await;
    }
    let codes = accounts::regenerate_recovery_codes(&state, &actor).await?;
    let mut layout = for_actor(&actor, "Save your recovery codes", "/account");
    layout.back_href = Some("/account".into());
    page(&RecoveryCodesPage {
        layout,
        codes,
        continue_to: "/account".into(),
        first_time: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_plainly() {
        assert_eq!(
            browser_label(Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
            )),
            "Chrome on Linux"
        );
        assert_eq!(
            browser_label(Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
            )),
            "Firefox on Windows"
        );
        assert_eq!(browser_label(None), "Unknown browser");
    }
}
