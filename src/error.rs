//! One error type. Handlers return it; `IntoResponse` makes an RFC 9457 problem document
//! and tags the response so that `web::errors::render` can turn it into an NHS-styled error
//! page for the browser and add the request id. Internal errors are logged once, here.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("not signed in")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        // What failed is said (never a value: these errors carry none); the answer is 503.
        let unavailable = |e: &sqlx::Error| {
            tracing::warn!(error = %e, "the database did not answer");
            AppError::Unavailable("the database is not answering".into())
        };
        match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => unavailable(&e),
            // The connection was cut off; or the server is shutting down, starting or in
            // recovery; or the connection failed. The others may be cut off too.
            sqlx::Error::Io(_) => {
                crate::app::health::connection_lost();
                unavailable(&e)
            }
            sqlx::Error::Database(d)
                if d.code()
                    .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
            {
                crate::app::health::connection_lost();
                unavailable(&e)
            }
            _ => AppError::Internal(e.into()),
        }
    }
}

impl From<crate::crypto::CryptoError> for AppError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        AppError::Internal(e.into())
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn validation(field: &str, message: &str) -> Self {
        AppError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    fn detail(&self) -> String {
        match self {
            AppError::BadRequest(d)
            | AppError::Forbidden(d)
            | AppError::Conflict(d)
            | AppError::UnsupportedMediaType(d) => d.clone(),
            AppError::Unauthorized => {
                "Sign in, or send a valid API token as `Authorization: Bearer <token>`.".into()
            }
            AppError::NotFound => "There is nothing here, or you do not have access to it.".into(),
            AppError::PayloadTooLarge => "The request is larger than this service accepts.".into(),
            AppError::Validation(errors) => format!(
                "{} field{} need{} correcting.",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" },
                if errors.len() == 1 { "s" } else { "" }
            ),
            AppError::TooManyRequests { retry_after_secs } => {
                format!("Too many requests. Try again in {retry_after_secs} seconds.")
            }
            AppError::Unavailable(_) => {
                "The service cannot answer right now. Try again shortly.".into()
            }
            AppError::Internal(_) => "Something went wrong on our side. It has been logged.".into(),
        }
    }
}

/// What a 503 asks the client to wait before trying again.
pub const UNAVAILABLE_RETRY_SECS: u64 = 2;

/// An RFC 9457 problem document (SPEC §7).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"type": "about:blank", "title": "Unprocessable Entity", "status": 422,
    "detail": "1 field needs correcting.",
    "errors": [{"field": "harm", "message": "Select the level of harm"}],
    "request_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A 422's failing fields, each named by its path, query parameter or header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Quote it to support: it finds the request in the service's logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            type_: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            request_id: None,
        }
    }

    pub fn into_response_with_status(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, Json(&self)).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res.extensions_mut().insert(self);
        res
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            AppError::Internal(e) => tracing::error!(error = %format!("{e:#}"), "internal error"),
            AppError::Unavailable(why) => tracing::warn!(reason = %why, "service unavailable"),
            _ => {}
        }
        let mut problem = Problem::new(status, self.detail());
        let retry_after = match &self {
            AppError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
            AppError::Unavailable(_) => Some(UNAVAILABLE_RETRY_SECS),
            _ => None,
        };
        if let AppError::Validation(errors) = self {
            problem.errors = errors;
        }
        let mut res = problem.into_response_with_status();
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"cdconcerns\""),
            );
        }
        res
    }
}

pub type AppResult<T> = Result<T, AppError>;
