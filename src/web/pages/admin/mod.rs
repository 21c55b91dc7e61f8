//! The administrator's pages: areas, organisations and users. They call the same actions
//! as the API (`crate::directory`), so the rules and the audit are the same.
//!
//! One submodule a list: `areas`, `organisations`, `users` and `pending` (accounts waiting for
//! a second person); the helpers they share are here.

mod areas;
mod organisations;
mod pending;
mod users;

pub use areas::{areas, create_area, edit_area, new_area, update_area};
pub use organisations::{
    create_organisation, edit_organisation, new_organisation, organisations, update_organisation,
};
pub use pending::{approve_user, pending};
pub use users::{
    create_user, edit_user, new_user, reinvite_user, reset_mfa, unlock_user, update_user, users,
};

use uuid::Uuid;

use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};

fn parse_ids(raw: &[String], field: &str, errors: &mut FieldErrors) -> Vec<Uuid> {
    raw.iter()
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| match Uuid::parse_str(s.trim()) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add(field, "Select from the list");
                None
            }
        })
        .collect()
}

fn yes_no(v: Option<&str>) -> Option<bool> {
    match v {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

fn title(base: &str, errors: &FieldErrors) -> String {
    if errors.is_empty() {
        base.to_string()
    } else {
        format!("Error: {base}")
    }
}

/// The service's answer to a form, unless the page's own reading of it already found errors
/// (then the service is not called, and the page shows what it found).
async fn unless_rejected<T>(
    pre: &FieldErrors,
    call: impl std::future::Future<Output = AppResult<T>>,
) -> AppResult<T> {
    if pre.is_empty() {
        call.await
    } else {
        Err(AppError::Validation(vec![]))
    }
}
