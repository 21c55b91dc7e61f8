//! Choosing what to report.

use askama::Template;
use axum::response::Response;

use super::form::{
    Choice, Posted, Problems, Shown, choices, require_reporter, show_errors, status_for, title,
};
use crate::domain::validation::FieldErrors;
use crate::error::AppResult;
use crate::policy::Actor;
use crate::web::extract::PageForm;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::{page_with_status, redirect};

#[derive(Template)]
#[template(path = "reports/new.html")]
struct NewReportPage {
    layout: Layout,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    kind: String,
    kinds: Vec<Choice>,
}

fn kind_choices() -> Vec<Choice> {
    choices(
        "kind",
        &[
            (
                "incident",
                "An incident involving controlled drugs",
                "For example, stock missing from the CD register, a dispensing or administration error, a lost or forged prescription, or a theft.",
            ),
            (
                "person_concern",
                "A concern about a person",
                "For example, a colleague who may be diverting oxycodone, a prescriber prescribing for themselves or their family, or a patient obtaining controlled drugs from several places.",
            ),
        ],
    )
}

fn new_report_page(actor: &Actor, kind: &str, shown: Shown) -> AppResult<Response> {
    let status = status_for(&shown);
    let mut layout = for_actor(
        actor,
        title("What do you want to report?", &shown),
        "/reports/new",
    );
    layout.back_href = Some("/".into());
    page_with_status(
        status,
        &NewReportPage {
            layout,
            errors: shown.errors,
            summary: shown.summary,
            kind: kind.to_string(),
            kinds: kind_choices(),
        },
    )
}

pub async fn new_report(actor: Actor) -> AppResult<Response> {
    require_reporter(&actor)?;
    new_report_page(&actor, "", Shown::none())
}

pub async fn choose_kind(
    actor: Actor,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    require_reporter(&actor)?;
    let p = Posted(form);
    match p.trimmed("kind") {
        "incident" => Ok(redirect("/reports/new/incident")),
        "person_concern" => Ok(redirect("/reports/new/person-concern")),
        _ => {
            let mut problems = Problems::default();
            problems.add("kind", "Select what you want to report");
            let shown = show_errors(&problems, &["kind"], &[], &|_| None);
            new_report_page(&actor, "", shown)
        }
    }
}
