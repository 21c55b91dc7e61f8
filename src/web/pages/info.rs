//! Pages every NHS service links from its footer. The accessibility statement and the privacy
//! notice say what is true of this build, with the contacts and retention periods the
//! deployment configures (`CDC_ACCESSIBILITY_CONTACT`, `CDC_PRIVACY_CONTACT`, `CDC_CONTROLLER`,
//! `CDC_RETENTION_YEARS`, `CDC_RETENTION_UNFOUNDED_YEARS`).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::error::AppResult;
use crate::state::AppState;
use crate::web::layout::{Layout, for_auth};
use crate::web::pages::auth::page;
use crate::web::session::RequestAuth;

#[derive(Template)]
#[template(path = "info/accessibility.html")]
struct Accessibility {
    layout: Layout,
    contact: Option<String>,
}

#[derive(Template)]
#[template(path = "info/privacy.html")]
struct Privacy {
    layout: Layout,
    controller: String,
    contact: Option<String>,
    retention_years: u32,
    unfounded_years: u32,
}

#[derive(Template)]
#[template(path = "info/help.html")]
struct Help {
    layout: Layout,
}

pub async fn accessibility(
    State(state): State<AppState>,
    auth: RequestAuth,
) -> AppResult<Response> {
    page(&Accessibility {
        layout: for_auth(&auth, "Accessibility statement"),
        contact: state.config.accessibility_contact.clone(),
    })
}

pub async fn privacy(State(state): State<AppState>, auth: RequestAuth) -> AppResult<Response> {
    let periods = state.config.retention();
    page(&Privacy {
        layout: for_auth(&auth, "Privacy notice"),
        controller: state.config.controller.clone(),
        contact: state.config.privacy_contact.clone(),
        retention_years: periods.years,
        // The shorter period never outlasts the longer one (domain::retention::Periods).
        unfounded_years: periods.unfounded_years.min(periods.years),
    })
}

pub async fn help(auth: RequestAuth) -> AppResult<Response> {
    page(&Help {
        layout: for_auth(&auth, "Help"),
    })
}
