//! Every error leaves the service in one of two shapes: a problem document for the API, or
//! an NHS-styled error page for the browser, both carrying the request id. Responses that
//! did not come from `AppError` (the router's 404 and 405, the CSRF layer's 403, the body
//! limit's 413, a timeout, a panic) are brought into the same shapes here.

use askama::Template;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::error::{AppError, Problem};
use crate::web::layout::{Layout, for_auth};
use crate::web::session::RequestAuth;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    title: String,
    message: String,
    /// The fields a 422 names, for an error summary: (field, message).
    errors: Vec<(String, String)>,
}

/// The JSON API (the reference page `/api/docs` is a page like any other).
fn is_api(path: &str) -> bool {
    path.starts_with("/api/") && path != "/api/docs"
}

pub async fn render(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let method = req.method().clone();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // Pages: someone not signed in is sent to sign in, and brought back after.
    if status == StatusCode::UNAUTHORIZED && !is_api(&path) {
        let target = if method == Method::GET {
            let back = match &query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            format!(
                "/sign-in?next={}",
                url::form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
            )
        } else {
            "/sign-in".to_string()
        };
        let mut r = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&target) {
            r.headers_mut().insert(LOCATION, v);
        }
        copy_cookies(&res, &mut r);
        return r;
    }
    // A page the handler rendered itself (a form with its errors) is already final.
    let is_html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && res.extensions().get::<Problem>().is_none() {
        return res;
    }
    let problem = match res.extensions().get::<Problem>() {
        Some(p) => p.clone(),
        None => fallback_problem(status),
    };
    if is_api(&path) {
        if res.extensions().get::<Problem>().is_some() && request_id.is_none() {
            return res;
        }
        let mut p = problem;
        p.request_id = request_id;
        let mut r = p.into_response_with_status();
        copy_headers(&res, &mut r);
        return r;
    }
    let auth = res
        .extensions()
        .get::<RequestAuth>()
        .cloned()
        .unwrap_or_default();
    let (title, message) = page_text(status, &problem);
    let mut layout = for_auth(&auth, title);
    layout.request_id = request_id;
    let page = ErrorPage {
        layout,
        title: title.to_string(),
        message,
        errors: problem
            .errors
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect(),
    };
    let mut r = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, "Something went wrong").into_response(),
    };
    copy_headers(&res, &mut r);
    r
}

fn fallback_problem(status: StatusCode) -> Problem {
    let err = match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        StatusCode::FORBIDDEN => AppError::Forbidden(
            "The request was refused: forms must be sent from this service's own pages.".into(),
        ),
        _ => {
            return Problem::new(
                status,
                match status {
                    StatusCode::METHOD_NOT_ALLOWED => "That method is not allowed here.",
                    StatusCode::REQUEST_TIMEOUT => "The request took too long.",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "The content type is not accepted here.",
                    StatusCode::UNPROCESSABLE_ENTITY => "The request could not be processed.",
                    s if s.is_server_error() => {
                        "Something went wrong on our side. It has been logged."
                    }
                    _ => "The request could not be handled.",
                },
            );
        }
    };
    // Reuse AppError's wording without logging (these are not internal errors).
    let r = err.into_response();
    r.extensions()
        .get::<Problem>()
        .cloned()
        .unwrap_or_else(|| Problem::new(status, ""))
}

fn page_text(status: StatusCode, p: &Problem) -> (&'static str, String) {
    match status {
        StatusCode::NOT_FOUND => (
            "Page not found",
            "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address. You may also not have access to what it shows.".into(),
        ),
        StatusCode::FORBIDDEN => ("You cannot do this", p.detail.clone()),
        StatusCode::TOO_MANY_REQUESTS => ("Too many attempts", p.detail.clone()),
        StatusCode::PAYLOAD_TOO_LARGE => ("The file or form is too large", p.detail.clone()),
        StatusCode::CONFLICT => ("This cannot be done now", p.detail.clone()),
        StatusCode::SERVICE_UNAVAILABLE => (
            "Sorry, the service is unavailable",
            "The service cannot answer right now. Try again in a few minutes.".into(),
        ),
        s if s.is_server_error() => (
            "Sorry, there is a problem with the service",
            "Try again later. What you entered has not been saved.".into(),
        ),
        _ => ("There is a problem", p.detail.clone()),
    }
}

fn copy_headers(from: &Response, to: &mut Response) {
    for name in ["retry-after", "www-authenticate", "set-cookie", "allow"] {
        for v in from.headers().get_all(name) {
            to.headers_mut().append(name, v.clone());
        }
    }
    if to.headers().get(CONTENT_TYPE).is_none() {
        to.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
    }
}

fn copy_cookies(from: &Response, to: &mut Response) {
    for v in from.headers().get_all("set-cookie") {
        to.headers_mut().append("set-cookie", v.clone());
    }
}

/// The router's fallback: nothing is here.
pub async fn not_found() -> AppError {
    AppError::NotFound
}
