//! The API reference page (`/api/docs`), for signed-in users: the vendored Swagger UI over
//! the served document. Nothing is loaded from elsewhere, and the page runs under the
//! service's Content-Security-Policy (no inline script).

use askama::Template;
use axum::response::Response;

use crate::error::AppResult;
use crate::policy::Actor;
use crate::web::layout::{Layout, for_auth};
use crate::web::pages::auth::page;
use crate::web::session::RequestAuth;

#[derive(Template)]
#[template(path = "api/docs.html")]
struct ApiDocsPage {
    layout: Layout,
}

/// `GET /api/docs`: signed-in users only (others are sent to sign in).
pub async fn page_handler(auth: RequestAuth, _actor: Actor) -> AppResult<Response> {
    page(&ApiDocsPage {
        layout: for_auth(&auth, "API reference"),
    })
}
