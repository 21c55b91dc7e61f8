//! The prescriber view (issue 12): for the lead CDAO team, everything reported in their areas
//! about one prescriber code or registration number, reached from a person on a case or by
//! searching the identifier. The identifier never travels in a URL: a search is posted, and
//! the view's address holds its blind index. Matches held by other areas show only which team
//! holds them, with the access request of the case page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::prescribers::{self, Kind};
use crate::state::AppState;
use crate::web::extract::{PageForm, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_date;
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::pages::cdao::{Posted, kind_label, page_title, status_tag};
use crate::web::session::{RequestAuth, set_flash, take_flash};

#[derive(Template)]
#[template(path = "prescribers/search.html")]
struct SearchPage {
    layout: Layout,
    flash: Option<String>,
    errors: FieldErrors,
    f: Posted,
    kind_options: Vec<(String, String)>,
}

async fn search_page(
    state: &AppState,
    actor: &Actor,
    auth: &RequestAuth,
    f: Posted,
    errors: FieldErrors,
) -> AppResult<Response> {
    crate::access::cdao_areas(actor)?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let layout = for_actor(
        actor,
        page_title("Look up a prescriber", !errors.is_empty()),
        "/statistics",
    );
    page_with_status(
        status,
        &SearchPage {
            layout,
            flash: take_flash(state, auth).await?,
            errors,
            f,
            kind_options: Kind::options(),
        },
    )
}

pub async fn search_form(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    let mut f = Posted::default();
    f.fill("kind", "prescriber_code");
    search_page(&state, &actor, &auth, f, FieldErrors::new()).await
}

pub async fn search(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Posted(form);
    match prescribers::search(&state, &actor, f.get("kind"), f.get("identifier")) {
        Ok(path) => Ok(redirect(&path)),
        Err(AppError::Validation(e)) => {
            let mut errors = FieldErrors::new();
            for err in e {
                errors.add(err.field, err.message);
            }
            search_page(&state, &actor, &auth, f, errors).await
        }
        Err(e) => Err(e),
    }
}

pub struct ReportRow {
    pub case_id: Uuid,
    pub reference: String,
    pub kind_text: String,
    pub submitted: String,
    pub organisation: String,
    pub area: String,
    pub status_text: String,
    pub status_colour: String,
    pub categories: String,
}

pub struct ElsewhereRow {
    pub area_id: Uuid,
    pub area_name: String,
    pub via_case_id: Uuid,
    pub via_reference: String,
    pub request_text: String,
    pub can_request: bool,
    pub field_id: String,
    pub request_button: String,
}

#[derive(Template)]
#[template(path = "prescribers/show.html")]
struct ShowPage {
    layout: Layout,
    kind_label: String,
    identifier: String,
    names: Vec<String>,
    addresses: Vec<(String, String)>,
    summary: String,
    spread: bool,
    reports: Vec<ReportRow>,
    elsewhere: Vec<ElsewhereRow>,
}

fn category_label(code: &str) -> String {
    crate::statistics::label(crate::statistics::GroupBy::Category, code)
}

pub async fn show(
    State(state): State<AppState>,
    actor: Actor,
    Path((kind, digest)): Path<(String, String)>,
) -> AppResult<Response> {
    let v = prescribers::view(&state, &actor, &kind, &digest).await?;
    let n = v.reports.len();
    let summary = if n == 0 {
        "No report in your areas names it.".to_string()
    } else {
        format!(
            "{n} report{} from {} organisation{} in your areas, giving {} different work address{}.",
            if n == 1 { "" } else { "s" },
            v.organisations,
            if v.organisations == 1 { "" } else { "s" },
            v.addresses.len(),
            if v.addresses.len() == 1 { "" } else { "es" }
        )
    };
    let reports = v
        .reports
        .iter()
        .map(|r| {
            let (status_text, status_colour) = status_tag(&r.status);
            ReportRow {
                case_id: r.case_id,
                reference: r.reference.clone(),
                kind_text: kind_label(&r.kind).to_string(),
                submitted: uk_date(r.submitted_at),
                organisation: r.organisation_name.clone(),
                area: r.area_name.clone(),
                status_text,
                status_colour,
                categories: r
                    .categories
                    .iter()
                    .map(|c| category_label(c))
                    .collect::<Vec<_>>()
                    .join("; "),
            }
        })
        .collect();
    let elsewhere = v
        .held_elsewhere
        .iter()
        .map(|h| ElsewhereRow {
            area_id: h.area_id,
            area_name: h.area_name.clone(),
            via_case_id: h.via_case_id,
            via_reference: h.via_reference.clone(),
            request_text: match h.access_request.as_deref() {
                Some("pending") => "Your team asked for access: waiting for a decision".into(),
                Some("approved") => "Your team was given access".into(),
                Some("declined") => "Your team's request was declined".into(),
                _ => String::new(),
            },
            can_request: !matches!(h.access_request.as_deref(), Some("pending")),
            field_id: format!("access-reason-{}", h.area_id),
            request_button: format!("Ask the {} CDAO team for access", h.area_name),
        })
        .collect();
    let layout = for_actor(&actor, v.kind.label(), "/statistics").with_back("/prescribers");
    page_with_status(
        StatusCode::OK,
        &ShowPage {
            layout,
            kind_label: v.kind.label(),
            identifier: v.identifier.clone().unwrap_or_default(),
            names: v.names.clone(),
            addresses: v
                .addresses
                .iter()
                .map(|(a, n)| {
                    (
                        a.clone(),
                        format!("{n} report{}", if *n == 1 { "" } else { "s" }),
                    )
                })
                .collect(),
            summary,
            spread: v.spread,
            reports,
            elsewhere,
        },
    )
}

/// From a person on a case: the view of their prescriber code (or registration).
pub async fn from_case(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    match prescribers::path_for_case(&state, &actor, id).await? {
        Some(path) => Ok(redirect(&path)),
        None => {
            set_flash(
                &state,
                &auth,
                "That report names no prescriber code or registration number: search for one here.",
            )
            .await?;
            Ok(redirect("/prescribers"))
        }
    }
}
