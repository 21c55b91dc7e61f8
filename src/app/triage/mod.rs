//! The CDAO team's work on a case (SPEC §4 "Triage", "Access request"): triage, messages
//! with the reporter, links, closing and reopening, correlation matches and access requests.
//! Every step goes on the case's timeline and into the audit trail, in one transaction.
//!
//! By job: `status` (status, priority, assignment, risk and notes), `messages`, `links`,
//! `closure` (closing, reopening, telling the alerts' recipients), `matches` and
//! `access_requests` (asking to see a match held elsewhere, deciding, the access log).

use uuid::Uuid;

use crate::access::{self, TriageCase};
use crate::domain::report::CaseStatus;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

mod access_requests;
mod closure;
mod links;
mod matches;
mod messages;
mod status;

pub use access_requests::{
    ACCESS_SHARE_DAYS, AccessRequestInput, Decided, DecisionInput, access_log, decide_access,
    list_access_requests, request_access, would_share,
};
pub(crate) use closure::tell_recipients;
pub use closure::{CloseInput, ReopenInput, close, reopen};
pub use links::{LinkInput, link};
pub use matches::{Match, MatchList, matches};
pub use messages::{MessageInput, MessageSent, message};
pub use status::{RiskInput, TriageInput, triage};

pub mod action {
    pub const TRIAGED: &str = "case.triaged";
    pub const NOTE_ADDED: &str = "case.note_added";
    pub const MESSAGE_SENT: &str = "case.message_sent";
    pub const INFORMATION_REQUESTED: &str = "case.information_requested";
    pub const LINKED: &str = "case.linked";
    pub const CLOSED: &str = "case.closed";
    pub const REOPENED: &str = "case.reopened";
    pub const MATCHES_VIEWED: &str = "case.matches_viewed";
    pub const ACCESS_REQUESTED: &str = "access_request.created";
    pub const ACCESS_APPROVED: &str = "access_request.approved";
    pub const ACCESS_DECLINED: &str = "access_request.declined";
    pub const EXPORTED: &str = "case.exported";
}

fn status_of(s: &str) -> AppResult<CaseStatus> {
    CaseStatus::parse(s).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown status {s}")))
}

/// A transaction holding the case locked, once the actor is known to be a CDAO of its area
/// (404 if they cannot see it, 403 if they can but may not triage it).
async fn lock_for_triage(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
) -> AppResult<(sqlx::Transaction<'static, sqlx::Postgres>, TriageCase)> {
    let mut tx = state.db.begin().await?;
    let case = access::case_locked(actor, &mut tx, case_id, state.now())
        .await?
        .triage()?;
    Ok((tx, case))
}
