//! Each role's home page: who they are, where, and what they can do here.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::domain::directory::Role;
use crate::error::AppResult;
use crate::policy::Actor;
use crate::state::AppState;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::page;
use crate::web::session::{RequestAuth, take_flash};

pub struct Task {
    pub title: String,
    pub href: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    name: String,
    role_label: String,
    organisation: Option<String>,
    areas: Vec<String>,
    intro: &'static str,
    tasks: Vec<Task>,
    flash: Option<String>,
}

fn task(title: &str, href: &str, description: &str) -> Task {
    Task {
        title: title.into(),
        href: href.into(),
        description: description.into(),
    }
}

fn intro_and_tasks(role: Role) -> (&'static str, Vec<Task>) {
    let account = task(
        "Your account",
        "/account",
        "Your details, your second factor, and API tokens for systems that report for you.",
    );
    let (intro, mut tasks) = match role {
        Role::Reporter => (
            "Report controlled drug incidents and concerns about people to the NHS England controlled drugs team for your area. What you report is seen only by you, your organisation's CD lead and the lead CDAO team.",
            vec![
                task(
                    "Report a concern",
                    "/reports/new",
                    "An incident involving controlled drugs, such as missing stock, or a concern about a person. It takes about 5 minutes.",
                ),
                task(
                    "Your reports",
                    "/reports",
                    "The reports you have sent, their status, and any request for more information.",
                ),
            ],
        ),
        Role::OrgLead => (
            "As your organisation's controlled drugs lead you see every report your organisation makes and file its quarterly occurrence returns.",
            vec![
                task(
                    "Report a concern",
                    "/reports/new",
                    "An incident involving controlled drugs, such as missing stock, or a concern about a person.",
                ),
                task(
                    "Your organisation's reports",
                    "/reports",
                    "Every report your organisation has sent, with its status.",
                ),
                task(
                    "Occurrence returns",
                    "/returns",
                    "File each quarter's count of controlled drug occurrences, or a nil return.",
                ),
            ],
        ),
        Role::Cdao => (
            "As a member of the lead CDAO team you triage reports from your areas, connect reports that name the same person, and share what members of the local intelligence network need to know.",
            vec![],
        ),
        Role::Member => (
            "As a member of the local intelligence network you receive alerts the lead CDAO team routes to your organisation, acknowledge them and report back what you did.",
            vec![task(
                "Alerts",
                "/alerts",
                "Alerts routed to your organisation: read them, acknowledge them and respond.",
            )],
        ),
        Role::Admin => (
            "You manage the areas, organisations and user accounts of CD Concerns. You cannot open reports or cases: that separation is deliberate.",
            vec![
                task(
                    "Areas",
                    "/admin/areas",
                    "The local intelligence network areas and their sharing rules.",
                ),
                task(
                    "Organisations",
                    "/admin/organisations",
                    "Providers, member organisations and NHS England teams.",
                ),
                task(
                    "Users",
                    "/admin/users",
                    "Invite people, change their role or organisation, disable accounts and reset second factors.",
                ),
            ],
        ),
        Role::Auditor => (
            "You read and verify the audit trail: every sign-in, every change and every view of identity data is recorded, in a chain of hashes that shows any tampering.",
            vec![
                task(
                    "Search the audit trail",
                    "/audit",
                    "Find events by user, case, action and date, and export them.",
                ),
                task(
                    "Verify the audit trail",
                    "/audit/verify",
                    "Check every event's hash and link, and find the first broken one.",
                ),
            ],
        ),
        Role::Analyst => (
            "You see national statistics about controlled drug reports, with counts under 5 suppressed so that nobody can be identified.",
            vec![task(
                "Statistics",
                "/statistics",
                "National counts by month, category, schedule, sector, harm and drug, with charts, tables and CSV downloads.",
            )],
        ),
    };
    tasks.push(account);
    (intro, tasks)
}

pub async fn home(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    // The lead CDAO team's home is their dashboard of what needs them.
    if actor.role == Role::Cdao {
        return crate::web::pages::cdao::dashboard(&state, &auth, &actor).await;
    }
    let all_areas = crate::directory::areas(&state).await?;
    let areas = all_areas
        .into_iter()
        .filter(|a| actor.area_ids.contains(&a.id))
        .map(|a| a.name)
        .collect();
    let (intro, tasks) = intro_and_tasks(actor.role);
    let flash = take_flash(&state, &auth).await?;
    page(&HomePage {
        layout: for_actor(&actor, "Home", "/"),
        name: actor.name.clone(),
        role_label: actor.role.label().to_string(),
        organisation: actor.organisation_name.clone(),
        areas,
        intro,
        tasks,
        flash,
    })
}
