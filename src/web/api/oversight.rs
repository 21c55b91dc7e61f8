//! Oversight operations beyond the figures: improvement initiatives on the opioid outcome
//! charts, and the prescriber view (issue 12).

use crate::web::api::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppResult, Problem};
use crate::policy::Actor;
use crate::prescribers;
use crate::state::AppState;
use crate::statistics::{self, Initiative, InitiativeInput};
use crate::web::extract::ApiJson;

#[utoipa::path(post, operation_id = "record_improvement_initiative", path = "/api/v1/stats/spc/initiatives", tag = "statistics",
    request_body = InitiativeInput,
    description = "A CDAO records an improvement initiative for one of their areas: the XmR chart of its measure (`GET /api/v1/stats/spc` with the area) recalculates its limits from the start month and says whether a signal followed. Audited.",
    responses((status = 201, body = Initiative), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn record_initiative(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<InitiativeInput>,
) -> AppResult<(StatusCode, Json<Initiative>)> {
    Ok((
        StatusCode::CREATED,
        Json(statistics::record_initiative(&state, &actor, &input).await?),
    ))
}

/// A prescriber to look up. Posted, so the identifier never appears in an address or a log.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrescriberLookup {
    /// `prescriber_code`, a register (`gmc`, `gphc`, `nmc`, `hcpc`, `gdc`, …) or
    /// `online_registration` (an overseas prescriber's registration).
    #[schema(value_type = String, required = true)]
    pub kind: Option<String>,
    /// The code or registration number as written (spaces and case do not matter).
    #[schema(value_type = String, required = true, min_length = 1, max_length = 40)]
    pub identifier: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReportedItem {
    pub case_id: Uuid,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub organisation_name: String,
    pub area_name: String,
    pub categories: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkAddress {
    pub address: String,
    /// How many reports gave it.
    pub reports: usize,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HeldElsewhereItem {
    /// The area whose CDAO team holds a possible match (nothing of it is shown).
    pub area_id: Uuid,
    pub area_name: String,
    /// The report of the caller's own an access request would start from.
    pub via_case_id: Uuid,
    pub via_reference: String,
    /// `pending`, `approved` or `declined`: the team's request for it, if any.
    pub access_request: Option<String>,
}

/// Everything reported in the caller's areas about one prescriber.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PrescriberFound {
    pub kind: String,
    /// The identifier as first reported.
    pub identifier: Option<String>,
    pub names: Vec<String>,
    pub work_addresses: Vec<WorkAddress>,
    /// How many organisations reported the prescriber.
    pub organisations: usize,
    pub reports: Vec<ReportedItem>,
    /// Reported at 3 or more work addresses.
    pub spread: bool,
    pub held_elsewhere: Vec<HeldElsewhereItem>,
}

#[utoipa::path(post, operation_id = "look_up_prescriber", path = "/api/v1/prescribers/lookup", tag = "statistics",
    request_body = PrescriberLookup,
    description = "For the lead CDAO team: everything reported in their areas about one prescriber code or registration number, matched through the blind indexes, with every work address and how many organisations reported it; possible matches held by other areas name only the holding team, for an access request (`POST /api/v1/cases/{id}/access-requests`). Each report whose identity is shown is audited as viewed.",
    responses((status = 200, body = PrescriberFound), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn look_up_prescriber(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(input): ApiJson<PrescriberLookup>,
) -> AppResult<Json<PrescriberFound>> {
    let (kind, digest) = prescribers::search_index(
        &state,
        &actor,
        input.kind.as_deref().unwrap_or(""),
        input.identifier.as_deref().unwrap_or(""),
    )?;
    let v = prescribers::view(&state, &actor, &kind, &digest).await?;
    Ok(Json(PrescriberFound {
        kind: v.kind.code().to_string(),
        identifier: v.identifier,
        names: v.names,
        work_addresses: v
            .addresses
            .into_iter()
            .map(|(address, reports)| WorkAddress { address, reports })
            .collect(),
        organisations: v.organisations,
        reports: v
            .reports
            .into_iter()
            .map(|r| ReportedItem {
                case_id: r.case_id,
                reference: r.reference,
                kind: r.kind,
                status: r.status,
                submitted_at: r.submitted_at,
                organisation_name: r.organisation_name,
                area_name: r.area_name,
                categories: r.categories,
            })
            .collect(),
        spread: v.spread,
        held_elsewhere: v
            .held_elsewhere
            .into_iter()
            .map(|h| HeldElsewhereItem {
                area_id: h.area_id,
                area_name: h.area_name,
                via_case_id: h.via_case_id,
                via_reference: h.via_reference,
                access_request: h.access_request,
            })
            .collect(),
    }))
}
