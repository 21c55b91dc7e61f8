//! Sign-in (password, then a second factor where the role needs one: a code from the
//! authenticator app or a recovery code), enrolment with a QR code, sign-out, setting a
//! password from an invitation link, and the self-service password reset.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header::{LOCATION, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::{self, Enrolment, NextStep, SecondFactor, SetPassword, SignIn};
use crate::auth::Totp;
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

/// Only a path of this service, never an open redirect: a single `/` followed by a letter
/// or digit, with no control characters, spaces or backslashes anywhere (a browser drops
/// tabs and newlines from URLs, so `/\t/evil.example` would become `//evil.example`).
pub fn safe_next(next: Option<&str>) -> String {
    let ok = |n: &str| {
        let mut chars = n.chars();
        chars.next() == Some('/')
            && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
            && !n
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
            && !n.starts_with("/sign-")
    };
    match next {
        Some(n) if ok(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn with_cookie(mut r: Response, state: &AppState, token: &str) -> Response {
    r.headers_mut()
        .append(SET_COOKIE, session::session_cookie(state, token));
    r
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
    headers: HeaderMap,
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
    let outcome = accounts::sign_in(
        &state,
        &email,
        password,
        auth.session_hash.as_deref(),
        user_agent(&headers).as_deref(),
    )
    .await?;
    let SignIn::Started { cookie, next: step } = outcome else {
        let mut e = FieldErrors::new();
        e.add("email", BAD_CREDENTIALS);
        return again(e, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let to = match step {
        NextStep::Done => next,
        NextStep::Code => format!("/sign-in/mfa?next={}", encode(&next)),
        NextStep::Enrol => format!("/sign-in/mfa/setup?next={}", encode(&next)),
    };
    Ok(with_cookie(redirect(&to), &state, &cookie))
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
    if !accounts::has_second_factor(&state, user_id).await? {
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
    headers: HeaderMap,
    PageForm(form): PageForm<CodeForm>,
) -> AppResult<Response> {
    let (Some(user_id), Some(pending_hash)) = (auth.pending_mfa, auth.session_hash.clone()) else {
        return Ok(redirect("/sign-in"));
    };
    let next = safe_next(form.next.as_deref());
    let code = form.code.unwrap_or_default();
    let outcome = accounts::second_factor(
        &state,
        user_id,
        &pending_hash,
        &code,
        user_agent(&headers).as_deref(),
    )
    .await?;
    match outcome {
        SecondFactor::NotEnrolled => Ok(redirect(&format!(
            "/sign-in/mfa/setup?next={}",
            encode(&next)
        ))),
        SecondFactor::Done { cookie, factor } => {
            let to = match factor {
                accounts::Factor::RecoveryCode { left } => {
                    format!("/account?recovery_code_used={left}")
                }
                accounts::Factor::Totp => next,
            };
            Ok(with_cookie(redirect(&to), &state, &cookie))
        }
        SecondFactor::Refused => {
            let mut errors = FieldErrors::new();
            errors.add(
                "code",
                if code.trim().is_empty() {
                    "Enter the 6-digit code from your authenticator app, or a recovery code"
                } else {
                    "The code is not correct or has been used already. Enter the code your app shows now, or a recovery code you have not used"
                },
            );
            page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &MfaPage {
                    layout: Layout::new("Error: Enter your security code"),
                    errors,
                    next,
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "auth/mfa_setup.html")]
struct MfaSetupPage {
    layout: Layout,
    errors: FieldErrors,
    next: String,
    secret_grouped: String,
    otpauth_url: String,
    qr_svg: String,
}

fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The setup link as a QR code: an SVG drawn on the server (no script; the CSP forbids it),
/// labelled for screen readers, which are pointed to the key written beside it.
pub fn qr_svg(data: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let svg = match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => return String::new(),
    };
    svg.replacen(
        "<svg ",
        "<svg role=\"img\" aria-label=\"QR code to scan with your authenticator app. If you cannot scan it, enter the setup key instead.\" focusable=\"false\" class=\"app-qr\" ",
        1,
    )
}

fn setup_page(errors: FieldErrors, next: String, totp: &Totp) -> MfaSetupPage {
    let url = totp.url();
    MfaSetupPage {
        layout: Layout::new(if errors.is_empty() {
            "Set up your authenticator app"
        } else {
            "Error: Set up your authenticator app"
        }),
        errors,
        next,
        secret_grouped: group(&totp.secret_base32()),
        qr_svg: qr_svg(&url),
        otpauth_url: url,
    }
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
    let Some(totp) = accounts::enrolment(&state, user_id).await? else {
        return Ok(redirect(&format!("/sign-in/mfa?next={}", encode(&next))));
    };
    page(&setup_page(FieldErrors::new(), next, &totp))
}

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
pub struct RecoveryCodesPage {
    pub layout: Layout,
    pub codes: Vec<String>,
    pub continue_to: String,
    pub first_time: bool,
}

pub async fn mfa_setup(
    State(state): State<AppState>,
    auth: RequestAuth,
    headers: HeaderMap,
    PageForm(form): PageForm<CodeForm>,
) -> AppResult<Response> {
    let (Some(user_id), Some(pending_hash)) = (auth.pending_mfa, auth.session_hash.clone()) else {
        return Ok(redirect("/sign-in"));
    };
    let next = safe_next(form.next.as_deref());
    let code = form.code.unwrap_or_default();
    match accounts::enrol(
        &state,
        user_id,
        &pending_hash,
        &code,
        user_agent(&headers).as_deref(),
    )
    .await?
    {
        Enrolment::AlreadyEnrolled => Ok(redirect(&format!("/sign-in/mfa?next={}", encode(&next)))),
        Enrolment::Done {
            cookie,
            recovery_codes,
        } => {
            // Shown once, on this response only; the new session is complete.
            let r = page(&RecoveryCodesPage {
                layout: Layout::new("Save your recovery codes"),
                codes: recovery_codes,
                continue_to: next,
                first_time: true,
            })?;
            Ok(with_cookie(r, &state, &cookie))
        }
        Enrolment::Refused(totp) => {
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
                &setup_page(errors, next, &totp),
            )
        }
    }
}

pub async fn sign_out(State(state): State<AppState>, auth: RequestAuth) -> AppResult<Response> {
    if let Some(hash) = &auth.session_hash {
        accounts::sign_out(&state, hash, auth.actor.as_ref()).await?;
    }
    let mut r = redirect("/sign-in?signed_out=1");
    r.headers_mut()
        .append(SET_COOKIE, session::clear_cookie(&state));
    Ok(r)
}

// ----- Invitation -----

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

fn role_label(role: &str) -> String {
    Role::parse(role)
        .map(|r| r.label())
        .unwrap_or("")
        .to_string()
}

pub async fn invitation_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(inv) = accounts::invitation(&state, &token).await? else {
        return invalid_invitation();
    };
    page(&InvitationPage {
        layout: Layout::new("Set your password"),
        errors: FieldErrors::new(),
        token,
        role_label: role_label(&inv.role),
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
    let password = form.password.unwrap_or_default();
    let confirm = form.confirm.unwrap_or_default();
    match accounts::accept_invitation(&state, &token, password, &confirm).await? {
        SetPassword::Invalid => invalid_invitation(),
        SetPassword::Done => Ok(redirect("/sign-in?password_set=1")),
        SetPassword::Weak(p) => {
            let Some(inv) = accounts::invitation(&state, &token).await? else {
                return invalid_invitation();
            };
            let mut errors = FieldErrors::new();
            errors.add(p.field, p.message);
            page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &InvitationPage {
                    layout: Layout::new("Error: Set your password"),
                    errors,
                    token,
                    role_label: role_label(&inv.role),
                    name: inv.name,
                    email: inv.email,
                },
            )
        }
    }
}

// ----- Forgotten password -----

#[derive(Template)]
#[template(path = "auth/forgotten.html")]
struct ForgottenPage {
    layout: Layout,
    errors: FieldErrors,
    email: String,
}

#[derive(Template)]
#[template(path = "auth/forgotten_sent.html")]
struct ForgottenSentPage {
    layout: Layout,
}

pub async fn forgotten_form() -> AppResult<Response> {
    page(&ForgottenPage {
        layout: Layout::new("Reset your password"),
        errors: FieldErrors::new(),
        email: String::new(),
    })
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: Option<String>,
}

/// Sends a reset link if there is an active account with that address; the answer is the
/// same either way, and so is the work done before answering (the email goes later).
pub async fn forgotten(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    PageForm(form): PageForm<EmailForm>,
) -> AppResult<Response> {
    let email = form.email.unwrap_or_default().trim().to_string();
    let mut errors = FieldErrors::new();
    match crate::domain::validation::parse_email(&email) {
        _ if email.is_empty() => errors.add("email", "Enter your email address"),
        None => errors.add(
            "email",
            "Enter an email address in the correct format, like name@nhs.net",
        ),
        Some(_) => {}
    }
    if errors.is_empty()
        && let Err(wait) = state.signin_limiter.check(&format!("ip:{ip}"))
    {
        errors.add(
            "email",
            format!("Too many attempts from your network. Try again in {wait} seconds."),
        );
        return page_with_status(
            StatusCode::TOO_MANY_REQUESTS,
            &ForgottenPage {
                layout: Layout::new("Error: Reset your password"),
                errors,
                email,
            },
        );
    }
    if !errors.is_empty() {
        return page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ForgottenPage {
                layout: Layout::new("Error: Reset your password"),
                errors,
                email,
            },
        );
    }
    accounts::request_reset(&state, &email).await?;
    page(&ForgottenSentPage {
        layout: Layout::new("Check your email"),
    })
}

#[derive(Template)]
#[template(path = "auth/reset.html")]
struct ResetPage {
    layout: Layout,
    errors: FieldErrors,
    token: String,
    email: String,
}

#[derive(Template)]
#[template(path = "auth/reset_invalid.html")]
struct ResetInvalidPage {
    layout: Layout,
}

fn invalid_reset() -> AppResult<Response> {
    page_with_status(
        StatusCode::NOT_FOUND,
        &ResetInvalidPage {
            layout: Layout::new("This reset link cannot be used"),
        },
    )
}

pub async fn reset_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(email) = accounts::reset_link(&state, &token).await? else {
        return invalid_reset();
    };
    page(&ResetPage {
        layout: Layout::new("Choose a new password"),
        errors: FieldErrors::new(),
        token,
        email,
    })
}

pub async fn reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    PageForm(form): PageForm<PasswordForm>,
) -> AppResult<Response> {
    let password = form.password.unwrap_or_default();
    let confirm = form.confirm.unwrap_or_default();
    match accounts::complete_reset(&state, &token, password, &confirm).await? {
        SetPassword::Invalid => invalid_reset(),
        SetPassword::Done => Ok(redirect("/sign-in?password_set=1")),
        SetPassword::Weak(p) => {
            let Some(email) = accounts::reset_link(&state, &token).await? else {
                return invalid_reset();
            };
            let mut errors = FieldErrors::new();
            errors.add(p.field, p.message);
            page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage {
                    layout: Layout::new("Error: Choose a new password"),
                    errors,
                    token,
                    email,
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_only_ever_a_path_of_this_service() {
        for good in ["/", "/reports", "/cases/1?x=y", "/a/b#c", "/9"] {
            let want = if good == "/" { "/" } else { good };
            assert_eq!(safe_next(Some(good)), want, "{good:?}");
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/%09/evil.example".replace("%09", "\u{0009}").as_str(),
            "/./evil",
            "/-x",
            "/a\\b",
            "/a\u{7f}b",
            "/a\u{85}b",
            "/sign-in",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_qr_code_is_an_svg_without_script_or_style() {
        let svg =
            qr_svg("otpauth://totp/CD%20Concerns:a%40b.c?secret=ABCDEFGH&issuer=CD%20Concerns");
        assert!(svg.starts_with("<svg role=\"img\""));
        assert!(!svg.contains("<script") && !svg.contains("style="));
    }
}
