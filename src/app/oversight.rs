//! The overseas prescriber's registration of an online supply (issue 12): an identity, so it
//! is sealed apart from the report as submitted (AES-256-GCM, bound to its case) and matched
//! only through its blind index, and it is put back into the report only for readers who may
//! see identities (SPEC §3).

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::CaseRef;
use crate::app::db;
use crate::app::db::cases::SealedIdentifier;
use crate::domain::oversight::normalise_registration;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The blind-index kind of an overseas prescriber's registration.
pub const REGISTRATION_INDEX: &str = "online_registration";

/// The bytes a registration is sealed under: bound to its case.
pub fn registration_context(case_id: Uuid) -> Vec<u8> {
    format!("cases.online_registration_enc:{case_id}").into_bytes()
}

/// Seals a registration for the case being written, with its blind index.
pub fn seal_registration(
    state: &AppState,
    case_id: Uuid,
    registration: &str,
) -> AppResult<SealedIdentifier> {
    Ok(SealedIdentifier {
        key_id: state.sealer.key_id(),
        enc: state
            .sealer
            .seal(registration.as_bytes(), &registration_context(case_id))?,
        digest: crate::reports::blind_index(
            state,
            REGISTRATION_INDEX,
            &normalise_registration(registration),
        ),
    })
}

/// The registration of a case's online supply, opened.
pub async fn registration(
    state: &AppState,
    conn: &mut PgConnection,
    case: &impl CaseRef,
) -> AppResult<Option<String>> {
    let Some((key_id, enc)) = db::oversight::sealed_registration(conn, case).await? else {
        return Ok(None);
    };
    let plain = state
        .sealer
        .open(key_id, &enc, &registration_context(case.case_id()))?;
    String::from_utf8(plain)
        .map(Some)
        .map_err(|e| AppError::Internal(e.into()))
}

/// Puts the case's sealed registration back into its report's `online_supply`, for a reader
/// who may see identities (the caller decides that). True when there was one to show.
pub async fn reveal_registration(
    state: &AppState,
    conn: &mut PgConnection,
    case: &impl CaseRef,
    report: &mut Value,
) -> AppResult<bool> {
    let Some(online) = report
        .get_mut("online_supply")
        .and_then(Value::as_object_mut)
    else {
        return Ok(false);
    };
    let registration = registration(state, conn, case).await?;
    let shown = registration.is_some();
    online.insert(
        "prescriber_registration".into(),
        registration.map(Value::String).unwrap_or(Value::Null),
    );
    Ok(shown)
}
