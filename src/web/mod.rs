//! HTTP: the router (every route in one place), middleware applied once, pages and API.

pub mod api;
pub mod charts;
pub mod errors;
pub mod extract;
pub mod layout;
pub mod pages;
pub mod refusals;
pub mod routes;
pub mod security;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
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
    let (api, doc) = api::router();
    let rules = Arc::new(api::query::QueryRules::from_document(&doc));
    let api = api.route_layer(middleware::from_fn_with_state(
        rules,
        api::query::check_query,
    ));
    let openapi = Arc::new(doc.to_pretty_json().unwrap_or_else(|_| "{}".into()));
    let request_id = HeaderName::from_static("x-request-id");

    let pages = routes::pages();

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
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refusals::record,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), fail_fast))
        // Before anything reads them: no control character in a path, query or header.
        .layer(middleware::from_fn(extract::refuse_control_characters))
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
                    .on_response(
                        DefaultOnResponse::new()
                            .level(tracing::Level::INFO)
                            .latency_unit(tower_http::LatencyUnit::Micros),
                    ),
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

/// Ready when the database answers (within a second; `fail_fast` answers first while the
/// watcher knows it is down).
async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    if crate::startup::ready(&state).await {
        (StatusCode::OK, "ready").into_response()
    } else {
        unavailable()
    }
}

fn unavailable() -> axum::response::Response {
    crate::error::AppError::Unavailable("the database is not answering".into()).into_response()
}

/// While the database does not answer, every request that needs it is refused at once
/// (503, `Retry-After`), and one in flight when it stops answering is answered so too,
/// instead of waiting for the pool (SPEC §10 "Outage").
async fn fail_fast(
    State(state): State<AppState>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path();
    if path == "/healthz" || path.starts_with("/static/") || path.starts_with("/assets/") {
        return next.run(req).await;
    }
    if !state.health.is_up() {
        return unavailable();
    }
    let health = state.health.clone();
    tokio::select! {
        res = next.run(req) => res,
        () = health.went_down() => unavailable(),
    }
}
