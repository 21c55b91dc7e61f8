//! The reporter's pages (SPEC §6 "Reporter / org lead"): choosing what to report, the incident
//! and person-of-concern forms with their "Check your answers" step, the report page with
//! corrections and evidence, and "Your reports". They call the same actions as the API
//! (`crate::reports`, `crate::attachments`), so the rules, the parsing and the audit are the
//! same.
//!
//! Nothing is kept on the server until the report is sent: the form, the identity warning and
//! the check page carry every value in the page itself (hidden inputs on the check page), and
//! every step parses all of it again. Field ids are the domain's error field names
//! (`occurred_on-day`, `drugs[1].quantity`, `person.registrations[0].number`), so every link
//! of an error summary lands on its field.
//!
//! One submodule a job: `form` (the posted form, dates, error summaries), `choose` (what to
//! report), `identifiers` (the identity warning), `summary` (the report as summary lists and
//! "Check your answers"), `incident` and `person` (the two forms), `report_page` (the report
//! with its corrections, messages and evidence) and `list` ("Your reports").

mod choose;
mod form;
mod identifiers;
mod incident;
mod list;
mod person;
mod report_page;
mod summary;

pub use choose::{choose_kind, new_report};
pub use list::list;
pub use person::{new_person_concern, post_person_concern};
pub use report_page::{amend, attachment, message, show, upload};

// What the incident steps, the facts form and the returns pages share with these pages.
pub(crate) use form::{
    Choice, DateValue, Posted, Problems, Shown, date_value, require_reporter, show_errors,
    status_for, title, yes_no_text,
};
pub(crate) use identifiers::{Warning, remove_identifiers, warning_for};
pub(crate) use incident::{
    DRUG_PARTS, DrugGroup, DrugRow, INCIDENT_DATES, INCIDENT_ORDER, MAX_DRUGS, check_incident,
    drug_groups, drug_row_count, harm_choices, incident_anchor, read_incident, removed_notice,
    renumber,
};
pub(crate) use summary::{check_page, idempotency, incident_sections};
