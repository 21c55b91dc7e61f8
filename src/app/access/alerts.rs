//! Handles on a delivered alert: a member organisation's [`Alert`] and [`LiveAlert`], and the
//! CDAO team's [`TeamAlert`] of its own share.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::scopes::holding_team;
use super::{CaseRef, sealed};
use crate::domain::directory::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// Whether a delivered alert still shows its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    Live,
    Expired,
    Revoked,
}

impl AlertState {
    pub fn code(self) -> &'static str {
        match self {
            AlertState::Live => "live",
            AlertState::Expired => "expired",
            AlertState::Revoked => "revoked",
        }
    }

    pub fn of(
        revoked_at: Option<DateTime<Utc>>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        if revoked_at.is_some() {
            AlertState::Revoked
        } else if expires_at <= now {
            AlertState::Expired
        } else {
            AlertState::Live
        }
    }
}

/// A delivered alert of the actor's organisation: its existence, reference and the
/// organisation's own responses, whatever its state.
#[derive(Debug, Clone)]
pub struct Alert {
    row: crate::app::db::shares::AlertRow,
    state: AlertState,
}

impl sealed::Sealed for Alert {}
impl CaseRef for Alert {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl Alert {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub fn state(&self) -> AlertState {
        self.state
    }
    pub(crate) fn row(&self) -> &crate::app::db::shares::AlertRow {
        &self.row
    }
    /// The alert while its share is live (what may show content, and be acted on);
    /// 409 once it has expired or been revoked.
    pub fn live(self) -> AppResult<LiveAlert> {
        match self.state {
            AlertState::Live => Ok(LiveAlert { row: self.row }),
            _ => Err(AppError::Conflict(
                "This alert has expired or been revoked.".into(),
            )),
        }
    }
}

/// An alert whose share is live: what the share discloses may be shown.
#[derive(Debug, Clone)]
pub struct LiveAlert {
    row: crate::app::db::shares::AlertRow,
}

impl sealed::Sealed for LiveAlert {}
impl CaseRef for LiveAlert {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl LiveAlert {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub(crate) fn row(&self) -> &crate::app::db::shares::AlertRow {
        &self.row
    }
}

/// A delivered alert of the actor's organisation; 404 for anyone else.
pub async fn alert(
    a: &Actor,
    db: impl sqlx::PgExecutor<'_>,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Alert> {
    let org = match (a.role, a.organisation_id) {
        (Role::Member, Some(org)) => org,
        _ => return Err(AppError::NotFound),
    };
    let row = crate::app::db::shares::alert_of(db, org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let state = AlertState::of(row.revoked_at, row.expires_at, now);
    Ok(Alert { row, state })
}

/// A delivered alert seen from the CDAO team of its share's area: the conversation with the
/// member organisation (issue 11). 404 for anyone else.
#[derive(Debug, Clone)]
pub struct TeamAlert {
    row: crate::app::db::conversation::TeamAlertRow,
    state: AlertState,
}

impl sealed::Sealed for TeamAlert {}
impl CaseRef for TeamAlert {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl TeamAlert {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub fn state(&self) -> AlertState {
        self.state
    }
    pub fn row(&self) -> &crate::app::db::conversation::TeamAlertRow {
        &self.row
    }
    /// The conversation goes on only while the share is live; 409 once it has expired or
    /// been revoked.
    pub fn live(&self) -> AppResult<()> {
        match self.state {
            AlertState::Live => Ok(()),
            _ => Err(AppError::Conflict(
                "This alert has expired or been revoked: the conversation is closed.".into(),
            )),
        }
    }
}

pub async fn team_alert(
    a: &Actor,
    db: &PgPool,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<TeamAlert> {
    let areas = holding_team(a)?;
    let row = crate::app::db::conversation::team_alert(db, id)
        .await?
        .filter(|row| areas.contains(&row.area_id))
        .ok_or(AppError::NotFound)?;
    let state = AlertState::of(row.revoked_at, row.expires_at, now);
    Ok(TeamAlert { row, state })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_show_content_only_while_live() {
        let now = Utc::now();
        let later = now + chrono::TimeDelta::days(1);
        assert_eq!(AlertState::of(None, later, now), AlertState::Live);
        assert_eq!(AlertState::of(None, now, now), AlertState::Expired);
        assert_eq!(AlertState::of(Some(now), later, now), AlertState::Revoked);
    }
}
