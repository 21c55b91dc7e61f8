//! The records the services answer with (rows as the web layer shows them). Types only: the
//! functions that read and write them stay private to the service layer.

pub use super::db::cases::{Amendment, AttachmentInfo, CaseFilter, CaseSummary, TimelineEvent};
pub use super::db::directory::{Area, OrgFilter, Organisation, User, UserFilter};
pub use super::db::returns::OccurrenceReturn;
pub use super::db::shares::Response;
pub use super::db::stats::Dashboard;
pub use super::db::triage::{AccessLogEntry, AccessRequest};
