//! What lists say about each item on one line (issue 11): the facts a reader of the list may
//! already see of it. For a member, only what the alert's share discloses (SPEC §3): a live
//! alert's kind, categories, drugs and harm, and the subject type unless it is patient data the
//! share does not carry.

use std::collections::HashMap;

use uuid::Uuid;

use crate::app::db::shares as sdb;
use crate::app::db::summaries as smdb;
use crate::error::AppResult;
use crate::state::AppState;

pub use crate::app::db::summaries::CaseFacts;

/// The facts of each live alert of these inbox rows (read from the member's own inbox), by
/// alert id.
pub async fn alert_facts(
    state: &AppState,
    rows: &[sdb::AlertRow],
) -> AppResult<HashMap<Uuid, CaseFacts>> {
    let now = state.now();
    let live: Vec<&sdb::AlertRow> = rows
        .iter()
        .filter(|r| r.revoked_at.is_none() && r.expires_at > now)
        .collect();
    let ids: Vec<Uuid> = live.iter().map(|r| r.case_id).collect();
    let facts: HashMap<Uuid, CaseFacts> = smdb::case_facts(&state.db, &ids)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    Ok(live
        .into_iter()
        .filter_map(|r| {
            let mut f = facts.get(&r.case_id)?.clone();
            if !r.include_patient_data {
                f.subject_types
                    .retain(|t| !crate::disclosure::is_patient(t));
            }
            Some((r.id, f))
        })
        .collect())
}
