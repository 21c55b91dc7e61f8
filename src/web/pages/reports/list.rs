//! "Your reports".

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::form::{Problems, Shown, require_reporter, show_errors, status_for, title};
use super::report_page::status_tag;
use crate::domain::directory::Role;
use crate::domain::report::CaseStatus;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::api::cases::{case_page_with_total, parse_case_filter};
use crate::web::extract::Params;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_date;
use crate::web::pages::auth::page_with_status;

pub struct ListRow {
    pub href: String,
    pub reference: String,
    pub submitted: String,
    pub status_label: String,
    pub status_colour: String,
    /// What the report is about, on one line (never a name).
    pub summary: String,
}

#[derive(Template)]
#[template(path = "reports/list.html")]
struct ListPage {
    layout: Layout,
    heading: String,
    /// "12 reports" (all that match, not only this page); empty when the filters are wrong.
    total_text: String,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    rows: Vec<ListRow>,
    status: String,
    kind: String,
    status_options: Vec<(String, String)>,
    kind_options: Vec<(String, String)>,
    next_href: Option<String>,
    first_href: Option<String>,
    filtered: bool,
}

pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    require_reporter(&actor)?;
    let heading = if actor.role == Role::OrgLead {
        "Your organisation's reports"
    } else {
        "Your reports"
    };
    let status = params.get("status").unwrap_or("").to_string();
    let kind = params.get("kind").unwrap_or("").to_string();
    let filter_query = {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if !status.is_empty() {
            q.append_pair("status", &status);
        }
        if !kind.is_empty() {
            q.append_pair("kind", &kind);
        }
        q.finish()
    };
    let mut total_text = String::new();
    let (rows, next, shown) = match parse_case_filter(&params) {
        Ok(f) => {
            let (items, next, total) = case_page_with_total(&state, &actor, &f).await?;
            total_text = total.words().replace("case", "report");
            (items, next, Shown::none())
        }
        Err(AppError::Validation(errors)) => {
            let mut problems = Problems::default();
            problems.extend(errors);
            (
                vec![],
                None,
                show_errors(&problems, &["status", "kind", "cursor"], &[], &|f| {
                    Some(if f == "kind" { "kind" } else { "status" }.to_string())
                }),
            )
        }
        Err(e) => return Err(e),
    };
    let cat = crate::reports::catalogue(&state).await?;
    let rows = rows
        .into_iter()
        .map(|c| {
            let (status_label, status_colour) = status_tag(&c.status);
            ListRow {
                summary: crate::web::pages::cdao::summary_line(&c, &cat),
                href: format!("/reports/{}", c.id),
                reference: c.reference,
                submitted: uk_date(c.submitted_at),
                status_label,
                status_colour,
            }
        })
        .collect();
    let join = |extra: &str| {
        let mut parts: Vec<&str> = vec![];
        if !filter_query.is_empty() {
            parts.push(&filter_query);
        }
        if !extra.is_empty() {
            parts.push(extra);
        }
        if parts.is_empty() {
            "/reports".to_string()
        } else {
            format!("/reports?{}", parts.join("&"))
        }
    };
    let next_href = next.map(|c| {
        join(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("cursor", &c)
                .finish(),
        )
    });
    let first_href = params.get("cursor").map(|_| join(""));
    let mut status_options = vec![(String::new(), "All statuses".to_string())];
    status_options.extend(
        CaseStatus::ALL
            .iter()
            .map(|s| (s.code().to_string(), status_tag(s.code()).0)),
    );
    let kind_options = vec![
        (String::new(), "All kinds".to_string()),
        ("incident".to_string(), "Incidents".to_string()),
        (
            "person_concern".to_string(),
            "Concerns about a person".to_string(),
        ),
    ];
    let status_code = status_for(&shown);
    page_with_status(
        status_code,
        &ListPage {
            layout: for_actor(&actor, title(heading, &shown), "/reports"),
            heading: heading.to_string(),
            total_text,
            errors: shown.errors,
            summary: shown.summary,
            rows,
            filtered: !status.is_empty() || !kind.is_empty(),
            status,
            kind,
            status_options,
            kind_options,
            next_href,
            first_href,
        },
    )
}
