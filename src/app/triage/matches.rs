//! Correlation: other reports naming the same person.

use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::action;
use crate::access;
use crate::app::db::triage as tdb;
use crate::audit::{self, Event};
use crate::error::AppResult;
use crate::policy::Actor;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Match {
    /// Null where the caller may not see the case: only its existence and holder are shown.
    pub case_id: Option<Uuid>,
    pub case_reference: Option<String>,
    pub area_id: Uuid,
    pub area_name: String,
    pub matched_on: Vec<String>,
    /// The caller's pending or decided access request to the holding area for this case, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_request: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatchList {
    pub items: Vec<Match>,
}

/// Other reports naming the same person: in full inside the caller's areas (and cases shared
/// with their team); elsewhere only "a possible match is held by the <area> CDAO team".
pub async fn matches(state: &AppState, actor: &Actor, case_id: Uuid) -> AppResult<MatchList> {
    let now = state.now();
    let case = access::case(actor, &state.db, case_id, now)
        .await?
        .triage()?;
    let areas = access::cdao_areas(actor)?;
    let rows = tdb::matches(&state.db, &case).await?;
    let others: Vec<Uuid> = rows.iter().map(|r| r.case_id).collect();
    let visible: Vec<Uuid> = access::visible_cases(actor, &state.db, &others, now)
        .await?
        .iter()
        .map(|c| c.id())
        .collect();
    let requests = tdb::access_requests(&state.db, &areas, None).await?;
    let mut items: Vec<Match> = Vec::new();
    for r in rows {
        if visible.contains(&r.case_id) {
            items.push(Match {
                case_id: Some(r.case_id),
                case_reference: Some(r.reference),
                area_id: r.area_id,
                area_name: r.area_name,
                matched_on: r.matched_on,
                access_request: None,
            });
        } else {
            // One line per holding area: several hidden cases there reveal no more than one.
            if let Some(m) = items
                .iter_mut()
                .find(|m| m.case_id.is_none() && m.area_id == r.area_id)
            {
                for k in r.matched_on {
                    if !m.matched_on.contains(&k) {
                        m.matched_on.push(k);
                    }
                }
                m.matched_on.sort();
                continue;
            }
            let request = requests
                .iter()
                .find(|q| q.case_id == case_id && q.holding_area_id == r.area_id)
                .map(|q| q.status.clone());
            items.push(Match {
                case_id: None,
                case_reference: None,
                area_id: r.area_id,
                area_name: r.area_name,
                matched_on: r.matched_on,
                access_request: request,
            });
        }
    }
    audit::record_alone(
        &state.db,
        state.now(),
        Event::new(
            Some(actor.user_id),
            action::MATCHES_VIEWED,
            "case",
            Some(case_id),
        )
        .case(case_id)
        .details(json!({"matches": items.len()})),
    )
    .await?;
    Ok(MatchList { items })
}
