//! Links between cases: related, or a duplicate of another.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{action, lock_for_triage};
use crate::access;
use crate::app::db::{cases as cdb, triage as tdb};
use crate::audit::{self, Event};
use crate::domain::triage::LinkRelation;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    #[schema(value_type = uuid::Uuid, required = true)]
    pub case_id: Option<Uuid>,
    /// `related` or `duplicate_of` (this case is a duplicate of the other).
    #[schema(value_type = crate::domain::triage::LinkRelation, required = true)]
    pub relation: Option<String>,
}

pub async fn link(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    input: &LinkInput,
) -> AppResult<()> {
    let (mut tx, case) = lock_for_triage(state, actor, case_id).await?;
    let mut e = FieldErrors::new();
    let relation = crate::domain::report::required_code(
        &mut e,
        "relation",
        input.relation.as_deref(),
        LinkRelation::parse,
        "Select how the cases are related",
        "Relation must be related or duplicate_of",
    );
    let other = match input.case_id {
        None => {
            e.add("case_id", "Enter the case to link to");
            None
        }
        Some(o) if o == case_id => {
            e.add("case_id", "A case cannot be linked to itself");
            None
        }
        Some(o) => match access::case(actor, &state.db, o, state.now()).await {
            Ok(other) => Some(other),
            Err(AppError::NotFound) => {
                e.add("case_id", "There is no case with this id that you can see");
                None
            }
            Err(err) => return Err(err),
        },
    };
    let (Some(relation), Some(other_case)) = (relation, other) else {
        return Err(AppError::Validation(e.into_vec()));
    };
    let other = other_case.id();
    let now = state.now();
    if !tdb::insert_link(
        &mut tx,
        &case,
        &other_case,
        relation.code(),
        actor.user_id,
        now,
    )
    .await?
    {
        return Err(AppError::Conflict("These cases are already linked.".into()));
    }
    cdb::insert_event(
        &mut tx,
        &case,
        now,
        Some(actor.user_id),
        "linked",
        "cdao",
        json!({"case_id": other, "relation": relation.code()}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::LINKED, "case", Some(case_id))
            .case(case_id)
            .details(json!({"other_case_id": other, "relation": relation.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
