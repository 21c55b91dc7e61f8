//! The person's rights, as pages: subject access for the CDAO team, and removing a person
//! record entered in error from the case page (the same functions as the API).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::domain::identifiers::Register;
use crate::domain::report::RegistrationInput;
use crate::domain::subject_access::{IdentifiersInput, SubjectAccessInput};
use crate::domain::validation::FieldErrors;
use crate::erasure::{self, ErasureInput};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;
use crate::subject_access::{self, EXEMPTIONS_NOTE};
use crate::web::extract::{PageForm, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_time;
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::pages::cdao::{Posted, errors_as, page_title};
use crate::web::session::{RequestAuth, set_flash};

#[derive(Template)]
#[template(path = "subject_access/form.html")]
struct FormPage {
    layout: Layout,
    errors: FieldErrors,
    v: Posted,
    note: &'static str,
    register_options: Vec<(String, String)>,
    /// (made, purpose, cases, id)
    recent: Vec<(String, String, usize, Uuid)>,
}

#[derive(Template)]
#[template(path = "subject_access/result.html")]
struct ResultPage {
    layout: Layout,
    id: Uuid,
    note: &'static str,
    cases: Vec<(Uuid, String)>,
}

async fn form_page(
    state: &AppState,
    actor: &Actor,
    errors: FieldErrors,
    v: Posted,
) -> AppResult<Response> {
    let recent = subject_access::recent(state, actor)
        .await?
        .into_iter()
        .map(|r| (uk_time(r.created_at), r.purpose, r.cases, r.id))
        .collect();
    let mut register_options = vec![(String::new(), "Not known".to_string())];
    register_options.extend(
        Register::ALL
            .iter()
            .map(|r| (r.code().to_string(), r.label().to_string())),
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = page_title("Subject access", !errors.is_empty());
    page_with_status(
        status,
        &FormPage {
            layout: for_actor(actor, title, "/subject-access"),
            errors,
            v,
            note: EXEMPTIONS_NOTE,
            register_options,
            recent,
        },
    )
}

pub async fn form(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    form_page(&state, &actor, FieldErrors::new(), Posted::default()).await
}

/// Where an API field's error shows on the page.
fn field_on_page(field: &str) -> String {
    match field {
        "identifiers" | "identifiers.nhs_number" => "nhs_number".into(),
        "identifiers.prescriber_code" => "prescriber_code".into(),
        "identifiers.full_name" => "full_name".into(),
        "identifiers.date_of_birth" => "date_of_birth-day".into(),
        f if f.ends_with(".register") => "register".into(),
        f if f.starts_with("identifiers.registrations") => "registration_number".into(),
        other => other.to_string(),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let v = Posted(form);
    let date = match (
        v.opt("date_of_birth-day"),
        v.opt("date_of_birth-month"),
        v.opt("date_of_birth-year"),
    ) {
        (None, None, None) => None,
        (d, m, y) => Some(format!(
            "{}-{:0>2}-{:0>2}",
            y.unwrap_or_default(),
            m.unwrap_or_default(),
            d.unwrap_or_default()
        )),
    };
    let input = SubjectAccessInput {
        purpose: v.opt("purpose"),
        identifiers: Some(IdentifiersInput {
            nhs_number: v.opt("nhs_number"),
            registrations: Some(vec![RegistrationInput {
                register: v.opt("register"),
                number: v.opt("registration_number"),
            }]),
            prescriber_code: v.opt("prescriber_code"),
            full_name: v.opt("full_name"),
            date_of_birth: date,
        }),
    };
    match subject_access::create(&state, &actor, &input).await {
        Ok(created) => page(&ResultPage {
            layout: for_actor(&actor, "Subject access: cases found", "/subject-access"),
            id: created.id,
            note: EXEMPTIONS_NOTE,
            cases: created
                .cases
                .into_iter()
                .map(|c| (c.id, c.reference))
                .collect(),
        }),
        Err(AppError::Validation(e)) => {
            form_page(&state, &actor, errors_as(e, &field_on_page), v).await
        }
        Err(e) => Err(e),
    }
}

pub async fn download(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    let (name, zip) = subject_access::download(&state, &actor, id).await?;
    Ok(crate::web::api::cases::download(
        &name,
        "application/zip",
        zip,
    ))
}

/// Asks to remove a person record from the case page.
pub async fn request_erasure(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    Path((id, person)): Path<(String, String)>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (Ok(id), Ok(person)) = (Uuid::parse_str(&id), Uuid::parse_str(&person)) else {
        return Err(AppError::NotFound);
    };
    let f = Posted(form);
    let field = format!("erasure-reason-{person}");
    let input = ErasureInput {
        reason: f.opt(&field),
    };
    let r = erasure::request(&state, &actor, id, person, &input)
        .await
        .map(|o| {
            if o.status == "pending" {
                "Removing the person record is waiting for a second CDAO of the area to approve it.".to_string()
            } else {
                "The person record was removed. Members that received the case have been told, without content.".to_string()
            }
        });
    crate::web::pages::cases::answer_case(&state, &auth, &actor, id, r, f, &|_| field.clone()).await
}

async fn decide(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    id: Uuid,
    form: Vec<(String, String)>,
    approve: bool,
) -> AppResult<Response> {
    let case_id = erasure::case_of(state, actor, id).await?;
    let f = Posted(form);
    let field = format!("erasure-decline-{id}");
    let r = if approve {
        erasure::approve(state, actor, id)
            .await
            .map(|_| "The person record was removed. Members that received the case have been told, without content.".to_string())
    } else {
        let input = ErasureInput {
            reason: f.opt(&field),
        };
        erasure::decline(state, actor, id, &input)
            .await
            .map(|_| "You declined the removal. The record stays.".to_string())
    };
    if let Err(AppError::Forbidden(m)) = &r {
        set_flash(state, auth, m).await?;
        return Ok(redirect(&format!("/cases/{case_id}#persons")));
    }
    crate::web::pages::cases::answer_case(state, auth, actor, case_id, r, f, &|_| field.clone())
        .await
}

pub async fn approve_erasure(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    decide(&state, &auth, &actor, id, form, true).await
}

pub async fn decline_erasure(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    decide(&state, &auth, &actor, id, form, false).await
}
