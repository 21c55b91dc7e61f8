//! HTTP: the router (every route in one place), middleware applied once, pages and API.

pub mod api;
pub mod charts;
pub mod errors;
pub mod extract;
pub mod layout;
pub mod pages;
pub mod security;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::state::AppState;

/// Bodies larger than this are refused with 413 (attachments raise it on their own routes).
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Uploads of evidence: a 10 MiB file and the multipart framing around it.
pub const UPLOAD_LIMIT: usize = crate::attachments::MAX_BYTES + 64 * 1024;

/// The whole service as one `Router`: the seam the tests drive.
pub fn build_router(state: AppState) -> Router {
    let (api, _doc) = api::router();
    let openapi = Arc::new(api::openapi_document());
    let request_id = HeaderName::from_static("x-request-id");

    let pages = Router::new()
        .route("/", get(pages::home::home))
        .route(
            "/sign-in",
            get(pages::auth::sign_in_form).post(pages::auth::sign_in),
        )
        .route(
            "/sign-in/mfa",
            get(pages::auth::mfa_form).post(pages::auth::mfa),
        )
        .route(
            "/sign-in/mfa/setup",
            get(pages::auth::mfa_setup_form).post(pages::auth::mfa_setup),
        )
        .route("/sign-out", post(pages::auth::sign_out))
        .route(
            "/invitation/{token}",
            get(pages::auth::invitation_form).post(pages::auth::invitation),
        )
        .route("/account", get(pages::account::show))
        .route("/account/tokens", post(pages::account::create_token))
        .route(
            "/account/tokens/{id}/revoke",
            post(pages::account::revoke_token),
        )
        .route("/admin/areas", get(pages::admin::areas))
        .route(
            "/admin/areas/new",
            get(pages::admin::new_area).post(pages::admin::create_area),
        )
        .route(
            "/admin/areas/{id}",
            get(pages::admin::edit_area).post(pages::admin::update_area),
        )
        .route("/admin/organisations", get(pages::admin::organisations))
        .route(
            "/admin/organisations/new",
            get(pages::admin::new_organisation).post(pages::admin::create_organisation),
        )
        .route(
            "/admin/organisations/{id}",
            get(pages::admin::edit_organisation).post(pages::admin::update_organisation),
        )
        .route("/admin/users", get(pages::admin::users))
        .route(
            "/admin/users/new",
            get(pages::admin::new_user).post(pages::admin::create_user),
        )
        .route(
            "/admin/users/{id}",
            get(pages::admin::edit_user).post(pages::admin::update_user),
        )
        .route(
            "/admin/users/{id}/invitation",
            post(pages::admin::reinvite_user),
        )
        .route("/admin/users/{id}/reset-mfa", post(pages::admin::reset_mfa))
        .route("/audit", get(pages::audit::search))
        .route("/audit/verify", get(pages::audit::verify))
        .route("/audit/export.csv", get(pages::audit::export))
        .route("/reports", get(pages::reports::list))
        .route(
            "/reports/new",
            get(pages::reports::new_report).post(pages::reports::choose_kind),
        )
        .route(
            "/reports/new/incident",
            get(pages::reports::new_incident).post(pages::reports::post_incident),
        )
        .route(
            "/reports/new/person-concern",
            get(pages::reports::new_person_concern).post(pages::reports::post_person_concern),
        )
        .route("/reports/{id}", get(pages::reports::show))
        .route("/reports/{id}/amendments", post(pages::reports::amend))
        .route("/reports/{id}/messages", post(pages::reports::message))
        .route(
            "/reports/{id}/attachments",
            post(pages::reports::upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route(
            "/reports/{id}/attachments/{attachment_id}",
            get(pages::reports::attachment),
        )
        .route("/returns", get(pages::returns::list))
        .route(
            "/returns/{year}/{quarter}",
            get(pages::returns::form).post(pages::returns::file),
        )
        .route(
            "/cases/{id}/share",
            get(pages::sharing::form).post(pages::sharing::submit),
        )
        .route("/shares/pending", get(pages::sharing::pending))
        .route("/shares/late", get(pages::sharing::late))
        .route("/shares/{id}/approve", post(pages::sharing::approve))
        .route("/shares/{id}/revoke", post(pages::sharing::revoke))
        .route("/alerts", get(pages::alerts::list))
        .route("/alerts/{id}", get(pages::alerts::show))
        .route("/alerts/{id}/acknowledge", post(pages::alerts::acknowledge))
        .route("/alerts/{id}/responses", post(pages::alerts::respond))
        .route(
            "/alerts/{id}/attachments/{attachment_id}",
            get(pages::alerts::attachment),
        )
        .route("/accessibility", get(pages::info::accessibility))
        .route("/privacy", get(pages::info::privacy))
        .route("/help", get(pages::info::help))
        // The lead CDAO team: the dashboard is their "/" (pages::home), cases, triage,
        // access requests between areas; statistics for every role that has them.
        .route("/cases", get(pages::cdao::cases))
        .route("/cases.csv", get(pages::cdao::cases_csv))
        .route("/cases/{id}", get(pages::cases::show))
        .route("/cases/{id}/triage", post(pages::cases::triage))
        .route("/cases/{id}/messages", post(pages::cases::message))
        .route("/cases/{id}/links", post(pages::cases::link))
        .route("/cases/{id}/close", post(pages::cases::close))
        .route("/cases/{id}/reopen", post(pages::cases::reopen))
        .route(
            "/cases/{id}/access-requests",
            post(pages::cases::request_access),
        )
        .route(
            "/cases/{id}/attachments/{attachment_id}",
            get(pages::cases::attachment),
        )
        .route("/access-requests", get(pages::cdao::access_requests))
        .route("/access-requests/{id}/decide", post(pages::cdao::decide))
        .route("/statistics", get(pages::stats::statistics))
        .route("/statistics.csv", get(pages::stats::csv))
        // What the regulators ask for (issue 12).
        .route(
            "/statistics/online-prescribing",
            get(pages::oversight::online_prescribing),
        )
        .route("/statistics/cbpm", get(pages::oversight::cbpm))
        .route("/statistics/cdlo", get(pages::oversight::cdlo))
        .route("/statistics/cdlo.csv", get(pages::oversight::cdlo_csv))
        .route("/statistics/opioids", get(pages::oversight::opioids))
        .route(
            "/statistics/opioids.csv",
            get(pages::oversight::opioids_csv),
        )
        .route(
            "/statistics/opioids/initiatives",
            post(pages::oversight::record_initiative),
        );

    let app = Router::new()
        .merge(pages)
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            get(api::openapi_json).with_state(openapi),
        )
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest_service("/static", ServeDir::new(static_dir()))
        .nest_service("/assets", ServeDir::new(static_dir().join("assets")))
        .fallback(errors::not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::authenticate,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state.clone());

    app.layer(
        ServiceBuilder::new()
            .layer(SetSensitiveRequestHeadersLayer::new([
                axum::http::header::AUTHORIZATION,
                axum::http::header::COOKIE,
            ]))
            .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &axum::http::Request<_>| {
                        let id = req
                            .headers()
                            .get("x-request-id")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        // `route` (the template, never the raw path: paths hold ids and
                        // tokens) is filled in after routing, by `session::authenticate`.
                        tracing::info_span!("request", request_id = %id, method = %req.method(),
                        route = tracing::field::Empty, user.id = tracing::field::Empty)
                    })
                    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(request_id))
            .layer(CatchPanicLayer::new())
            .layer(middleware::from_fn_with_state(state, security::headers))
            .layer(CompressionLayer::new())
            .layer(middleware::from_fn(errors::render))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(30),
            ))
            .layer(CsrfLayer::new()),
    )
}

/// Where the vendored front end lives: beside the binary's working directory, or the crate.
fn static_dir() -> std::path::PathBuf {
    let here = std::path::PathBuf::from("static");
    if here.join("css").exists() {
        here
    } else {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("static")
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.db)
        .await
    {
        Ok(_) => (StatusCode::OK, "ready"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}
