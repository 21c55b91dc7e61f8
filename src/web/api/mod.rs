//! The JSON API (SPEC §7), with its OpenAPI 3.1 document generated from these handlers.

pub mod audit;
pub mod cases;
pub mod directory;
pub mod me;
pub mod shares;
pub mod stats;
pub mod triage;

use axum::Json;
use axum::extract::State;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CD Concerns API",
        description = "Report, triage and route concerns about controlled drugs in England. \
Authenticate with `Authorization: Bearer <token>` (create tokens from a signed-in browser session). \
Anything the caller may not see answers 404. Errors are RFC 9457 problem documents.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(crate::error::Problem, crate::domain::validation::FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The API's routes and their OpenAPI document.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me::me))
        .routes(routes!(me::post_token, me::list_tokens))
        .routes(routes!(me::delete_token))
        .routes(routes!(directory::list_areas, directory::create_area))
        .routes(routes!(directory::get_area, directory::patch_area))
        .routes(routes!(
            directory::list_organisations,
            directory::create_organisation
        ))
        .routes(routes!(
            directory::get_organisation,
            directory::patch_organisation
        ))
        .routes(routes!(directory::list_users, directory::create_user))
        .routes(routes!(directory::get_user, directory::patch_user))
        .routes(routes!(directory::reinvite_user))
        .routes(routes!(directory::reset_mfa))
        .routes(routes!(cases::drugs))
        .routes(routes!(cases::post_incident))
        .routes(routes!(cases::post_person_concern))
        .routes(routes!(cases::list))
        .routes(routes!(cases::get))
        .routes(routes!(cases::amend))
        .routes(
            routes!(cases::attach).layer(axum::extract::DefaultBodyLimit::max(
                crate::web::UPLOAD_LIMIT,
            )),
        )
        .routes(routes!(cases::get_attachment, cases::mark_attachment))
        .routes(routes!(cases::file_return, cases::list_returns))
        .routes(routes!(triage::triage))
        .routes(routes!(triage::message))
        .routes(routes!(triage::link))
        .routes(routes!(triage::close))
        .routes(routes!(triage::reopen))
        .routes(routes!(triage::matches))
        .routes(routes!(triage::access_log))
        .routes(routes!(
            triage::request_access,
            triage::list_access_requests
        ))
        .routes(routes!(triage::decide))
        .routes(routes!(stats::stats))
        .routes(routes!(stats::cases_csv))
        .routes(routes!(stats::responsiveness))
        .routes(routes!(stats::cdlo))
        .routes(routes!(stats::spc))
        .routes(routes!(shares::create, shares::list))
        .routes(routes!(shares::preview))
        .routes(routes!(shares::approve))
        .routes(routes!(shares::revoke))
        .routes(routes!(shares::decline))
        .routes(routes!(shares::alerts))
        .routes(routes!(shares::alert))
        .routes(routes!(shares::acknowledge))
        .routes(routes!(shares::respond))
        .routes(routes!(shares::attachment))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .split_for_parts()
}

pub async fn openapi_json(
    State(doc): State<std::sync::Arc<String>>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.as_ref().clone(),
    )
}

pub fn openapi_document() -> String {
    let (_, doc) = router();
    doc.to_pretty_json().unwrap_or_else(|_| "{}".into())
}

#[allow(dead_code)]
fn _assert_json<T: serde::Serialize>(_: Json<T>) {}
