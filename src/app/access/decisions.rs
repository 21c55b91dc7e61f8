//! Handles on what a holding CDAO team decides: a [`ManagedShare`], a [`ManagedErasure`] and
//! an access request ([`VisibleRequest`], narrowed to a [`DecidableRequest`]).

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::scopes::{cdao_areas, holding_team};
use super::{CaseRef, sealed};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// A share its holding area's CDAO team manages (approve, decline, revoke), locked until the
/// caller's transaction ends; 404 for anyone else.
#[derive(Debug, Clone)]
pub struct ManagedShare {
    row: crate::app::db::shares::ShareRow,
}

impl sealed::Sealed for ManagedShare {}
impl CaseRef for ManagedShare {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl ManagedShare {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub(crate) fn row(&self) -> &crate::app::db::shares::ShareRow {
        &self.row
    }
}

pub async fn managed_share(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
) -> AppResult<ManagedShare> {
    let areas = holding_team(a)?;
    let row = crate::app::db::shares::lock_share(conn, id)
        .await?
        .filter(|row| areas.contains(&row.area_id))
        .ok_or(AppError::NotFound)?;
    Ok(ManagedShare { row })
}

/// A request to remove a person record entered in error, which its case's holding CDAO team
/// decides; locked until the caller's transaction ends. 404 for anyone else.
#[derive(Debug, Clone)]
pub struct ManagedErasure {
    row: crate::app::db::erasures::Erasure,
}

impl sealed::Sealed for ManagedErasure {}
impl CaseRef for ManagedErasure {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl ManagedErasure {
    pub fn row(&self) -> &crate::app::db::erasures::Erasure {
        &self.row
    }
}

pub async fn managed_erasure(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
) -> AppResult<ManagedErasure> {
    let areas = holding_team(a)?;
    let row = crate::app::db::erasures::lock(conn, id)
        .await?
        .filter(|row| areas.contains(&row.area_id))
        .ok_or(AppError::NotFound)?;
    Ok(ManagedErasure { row })
}

/// An access request made by, or to, one of the actor's areas; 404 for anyone else.
#[derive(Debug, Clone)]
pub struct VisibleRequest {
    row: crate::app::db::triage::AccessRequest,
}

impl VisibleRequest {
    pub fn row(&self) -> &crate::app::db::triage::AccessRequest {
        &self.row
    }
    /// Deciding: the team holding the match. The requesting team: 403.
    pub fn decision(self, a: &Actor) -> AppResult<DecidableRequest> {
        if a.area_ids.contains(&self.row.holding_area_id) {
            Ok(DecidableRequest { row: self.row })
        } else {
            Err(AppError::Forbidden(
                "Only the team holding the match can decide.".into(),
            ))
        }
    }
}

/// An access request its holding team decides.
#[derive(Debug, Clone)]
pub struct DecidableRequest {
    row: crate::app::db::triage::AccessRequest,
}

impl sealed::Sealed for DecidableRequest {}
impl CaseRef for DecidableRequest {
    /// The requesting team's own case (the one whose person matched).
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl DecidableRequest {
    pub fn row(&self) -> &crate::app::db::triage::AccessRequest {
        &self.row
    }
}

pub async fn access_request(a: &Actor, db: &PgPool, id: Uuid) -> AppResult<VisibleRequest> {
    // Access requests are the CDAO teams' business: other roles are refused outright.
    let areas = cdao_areas(a)?;
    let row = crate::app::db::triage::access_requests(db, &areas, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok(VisibleRequest { row })
}
