//! Handles on one case: [`VisibleCase`] and what it narrows to, and the retention run's
//! [`RetainedCase`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::scopes::{CaseScope, scope_of};
use super::{CaseRef, forbidden, sealed};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// The facts of a case the access decision and the services need.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: Uuid,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub priority: Option<String>,
    pub priority_suggested: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub sector: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub reporter_id: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub report: Value,
    /// When retention removed its details (identities, free text, evidence).
    pub details_removed_at: Option<DateTime<Utc>>,
}

/// What a live share to the actor's team discloses of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareTerms {
    pub share_id: Uuid,
    pub disclosure: String,
    pub include_patient_data: bool,
    pub include_organisation_name: bool,
    pub lawful_basis: String,
    pub purpose: String,
    pub summary: String,
    pub expires_at: DateTime<Utc>,
    /// The evidence the share names, and no other.
    pub attachment_ids: Vec<Uuid>,
}

/// How an actor sees a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The CDAO team of the case's own area: everything, and they act on it.
    Holding,
    /// Its reporter, or their organisation's CD lead: the report as submitted, its status and
    /// the messages addressed to the reporting side.
    Reporting,
    /// Another area's CDAO team, through a live share: exactly what the share discloses.
    Shared(ShareTerms),
}

/// A handle on one case row: sealed, a `CaseRef`, and its id, reference and area.
macro_rules! case_handle {
    ($t:ident) => {
        impl sealed::Sealed for $t {}
        impl CaseRef for $t {
            fn case_id(&self) -> Uuid {
                self.row.id
            }
        }
        impl $t {
            pub fn id(&self) -> Uuid {
                self.row.id
            }
            pub fn reference(&self) -> &str {
                &self.row.reference
            }
            pub fn area_id(&self) -> Uuid {
                self.row.area_id
            }
        }
    };
}

/// A case the actor may see.
#[derive(Debug, Clone)]
pub struct VisibleCase {
    row: CaseRow,
    view: View,
}

case_handle!(VisibleCase);

impl VisibleCase {
    pub fn view(&self) -> &View {
        &self.view
    }
    pub fn is_holding(&self) -> bool {
        self.view == View::Holding
    }
    /// The case's facts, for the services that decide what of them to show.
    pub(crate) fn row(&self) -> &CaseRow {
        &self.row
    }

    /// Triage and everything internal to the holding team (notes, matches, shares):
    /// the CDAO team of the case's own area. Anyone else who can see the case: 403.
    pub fn triage(self) -> AppResult<TriageCase> {
        match self.view {
            View::Holding => Ok(TriageCase { row: self.row }),
            _ => Err(forbidden(
                "act on this case: only its own area's CDAO team can",
            )),
        }
    }

    /// Corrections and evidence: the reporting side.
    pub fn reporting(self) -> AppResult<ReportingCase> {
        match self.view {
            View::Reporting => Ok(ReportingCase { row: self.row }),
            _ => Err(forbidden("amend this report")),
        }
    }

    /// Messages between the holding team and the reporting side.
    pub fn conversation(self) -> AppResult<Conversation> {
        match self.view {
            View::Holding => Ok(Conversation {
                row: self.row,
                from_cdao: true,
            }),
            View::Reporting => Ok(Conversation {
                row: self.row,
                from_cdao: false,
            }),
            View::Shared(_) => Err(forbidden("send messages on this case")),
        }
    }
}

/// A case its holding CDAO team acts on.
#[derive(Debug, Clone)]
pub struct TriageCase {
    row: CaseRow,
}

case_handle!(TriageCase);

impl TriageCase {
    pub(crate) fn row(&self) -> &CaseRow {
        &self.row
    }
}

/// A report its reporting side adds to.
#[derive(Debug, Clone)]
pub struct ReportingCase {
    row: CaseRow,
}

impl sealed::Sealed for ReportingCase {}
impl CaseRef for ReportingCase {
    fn case_id(&self) -> Uuid {
        self.row.id
    }
}

impl ReportingCase {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
}

/// A case on which the actor may write to the other side.
#[derive(Debug, Clone)]
pub struct Conversation {
    row: CaseRow,
    from_cdao: bool,
}

impl sealed::Sealed for Conversation {}
impl CaseRef for Conversation {
    fn case_id(&self) -> Uuid {
        self.row.id
    }
}

impl Conversation {
    pub fn from_cdao(&self) -> bool {
        self.from_cdao
    }
    pub(crate) fn row(&self) -> &CaseRow {
        &self.row
    }
}
/// A case the actor may see; 404 when there is none or they may not see it.
pub async fn case(a: &Actor, db: &PgPool, id: Uuid, now: DateTime<Utc>) -> AppResult<VisibleCase> {
    let mut conn = db.acquire().await?;
    case_on(a, &mut conn, id, now).await
}

/// As [`case`], on the caller's connection (inside its transaction).
pub async fn case_on(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<VisibleCase> {
    let Some(scope) = scope_of(a) else {
        return Err(AppError::NotFound);
    };
    load(conn, &scope, &[id], now)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// A case locked for a change until the caller's transaction ends.
pub async fn case_locked(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<VisibleCase> {
    if scope_of(a).is_none() {
        return Err(AppError::NotFound);
    }
    sqlx::query!("SELECT id FROM cases WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *conn)
        .await?;
    case_on(a, conn, id, now).await
}

/// Which of `ids` the actor may see (for links between cases), in no particular order.
pub async fn visible_cases(
    a: &Actor,
    db: &PgPool,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<VisibleCase>> {
    let Some(scope) = scope_of(a) else {
        return Ok(vec![]);
    };
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut conn = db.acquire().await?;
    load(&mut conn, &scope, ids, now).await
}

/// One row of [`load`]: a case and the newest live share of it to the actor's team, if any.
struct Loaded {
    id: Uuid,
    reference: String,
    kind: String,
    status: String,
    priority: Option<String>,
    priority_suggested: Option<String>,
    assignee_id: Option<Uuid>,
    triaged_at: Option<DateTime<Utc>>,
    organisation_id: Uuid,
    organisation_name: String,
    sector: String,
    area_id: Uuid,
    area_name: String,
    reporter_id: Uuid,
    submitted_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    report: Value,
    details_removed_at: Option<DateTime<Utc>>,
    share_id: Option<Uuid>,
    disclosure: Option<String>,
    include_patient_data: Option<bool>,
    include_organisation_name: Option<bool>,
    lawful_basis: Option<String>,
    purpose: Option<String>,
    summary: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    attachment_ids: Option<Vec<Uuid>>,
}

/// The statement of [`load`], ending in `$which`: `c.id = $1` for one case or
/// `c.id = ANY($1)` for several. One case has its own statement because PostgreSQL plans an
/// array parameter afresh on every call (its generic plan cannot know the array's length, so
/// never looks as cheap as a custom one): 0.8 ms of planning for every case page, measured.
macro_rules! load_query {
    ($which:tt, $ids:expr, $areas:expr, $now:expr) => {
        sqlx::query_as!(
            Loaded,
            r#"SELECT c.id, c.reference, c.kind, c.status, c.priority, c.priority_suggested, c.assignee_id, c.triaged_at,
                  c.organisation_id, o.name AS organisation_name, c.sector, c.area_id, ar.name AS area_name,
                  c.reporter_id, c.submitted_at, c.updated_at, c.report, c.details_removed_at,
                  s.id AS "share_id?", s.disclosure AS "disclosure?", s.include_patient_data AS "include_patient_data?",
                  s.include_organisation_name AS "include_organisation_name?", s.lawful_basis AS "lawful_basis?",
                  s.purpose AS "purpose?", s.summary AS "summary?", s.expires_at AS "expires_at?",
                  s.attachment_ids AS "attachment_ids?"
           FROM cases c
           JOIN organisations o ON o.id = c.organisation_id
           JOIN areas ar ON ar.id = c.area_id
           LEFT JOIN LATERAL (
               SELECT s.id, s.disclosure, s.include_patient_data, s.include_organisation_name, s.lawful_basis,
                      s.purpose, s.summary, s.expires_at,
                      ARRAY(SELECT sa.attachment_id FROM share_attachments sa WHERE sa.share_id = s.id) AS attachment_ids
               FROM shares s
               WHERE s.case_id = c.id AND s.recipient_area_id = ANY($2) AND s.approval = 'approved'
                 AND s.revoked_at IS NULL AND s.expires_at > $3
               ORDER BY s.created_at DESC LIMIT 1) s ON true
           WHERE "# + $which,
            $ids,
            $areas,
            $now
        )
    };
}

async fn load(
    conn: &mut PgConnection,
    scope: &CaseScope,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<VisibleCase>> {
    let rows = match ids {
        [id] => {
            load_query!("c.id = $1", *id, scope.team_areas(), now)
                .fetch_all(&mut *conn)
                .await?
        }
        _ => {
            load_query!("c.id = ANY($1)", ids, scope.team_areas(), now)
                .fetch_all(&mut *conn)
                .await?
        }
    };
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let share = match (
                r.share_id,
                r.disclosure,
                r.include_patient_data,
                r.include_organisation_name,
                r.lawful_basis,
                r.purpose,
                r.summary,
                r.expires_at,
            ) {
                (
                    Some(share_id),
                    Some(d),
                    Some(p),
                    Some(o),
                    Some(l),
                    Some(pu),
                    Some(su),
                    Some(e),
                ) => Some(ShareTerms {
                    share_id,
                    disclosure: d,
                    include_patient_data: p,
                    include_organisation_name: o,
                    lawful_basis: l,
                    purpose: pu,
                    summary: su,
                    expires_at: e,
                    attachment_ids: r.attachment_ids.unwrap_or_default(),
                }),
                _ => None,
            };
            let row = CaseRow {
                id: r.id,
                reference: r.reference,
                kind: r.kind,
                status: r.status,
                priority: r.priority,
                priority_suggested: r.priority_suggested,
                assignee_id: r.assignee_id,
                triaged_at: r.triaged_at,
                organisation_id: r.organisation_id,
                organisation_name: r.organisation_name,
                sector: r.sector,
                area_id: r.area_id,
                area_name: r.area_name,
                reporter_id: r.reporter_id,
                submitted_at: r.submitted_at,
                updated_at: r.updated_at,
                report: r.report,
                details_removed_at: r.details_removed_at,
            };
            scope
                .view_of(&row, share)
                .map(|view| VisibleCase { row, view })
        })
        .collect())
}
/// A closed case past its retention period, locked until the caller's transaction ends: what
/// the retention run may strip of its details. Only [`cases_past_retention`] makes one.
#[derive(Debug, Clone)]
pub struct RetainedCase {
    id: Uuid,
    reference: String,
    report: Value,
}

impl sealed::Sealed for RetainedCase {}
impl CaseRef for RetainedCase {
    fn case_id(&self) -> Uuid {
        self.id
    }
}

impl RetainedCase {
    pub fn reference(&self) -> &str {
        &self.reference
    }
    pub(crate) fn report(&self) -> &Value {
        &self.report
    }
}

/// Closed cases past their period (SPEC §7.2 `CDC_RETENTION_YEARS`,
/// `CDC_RETENTION_UNFOUNDED_YEARS`), oldest first, at most `limit`, locked (others skip them).
/// A case with a share that is still open (pending, or approved and live), a pending access
/// request or a pending erasure waits.
pub async fn cases_past_retention(
    conn: &mut PgConnection,
    periods: crate::domain::retention::Periods,
    now: DateTime<Utc>,
    limit: i64,
) -> AppResult<Vec<RetainedCase>> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.reference, c.report FROM cases c
           WHERE c.status = 'closed' AND c.details_removed_at IS NULL AND c.closed_at IS NOT NULL
             AND (c.closed_at <= $1
                  OR (c.kind = 'person_concern' AND c.well_founded = 'no' AND c.closed_at <= $2))
             AND NOT EXISTS (SELECT 1 FROM shares s WHERE s.case_id = c.id AND s.revoked_at IS NULL
                             AND (s.approval = 'pending' OR (s.approval = 'approved' AND s.expires_at > $3)))
             AND NOT EXISTS (SELECT 1 FROM access_requests r WHERE r.case_id = c.id AND r.status = 'pending')
             AND NOT EXISTS (SELECT 1 FROM person_erasures e WHERE e.case_id = c.id AND e.status = 'pending')
           ORDER BY c.closed_at, c.id
           LIMIT $4
           FOR UPDATE OF c SKIP LOCKED"#,
        periods.cutoff(false, now),
        periods.cutoff(true, now),
        now,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RetainedCase {
            id: r.id,
            reference: r.reference,
            report: r.report,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{row, terms};
    use super::*;

    /// What each view may do with a case.
    #[test]
    fn views_narrow_to_actions() {
        let r = row(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let v = |view: View| VisibleCase {
            row: r.clone(),
            view,
        };
        assert!(v(View::Holding).triage().is_ok());
        assert!(matches!(
            v(View::Reporting).triage(),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            v(View::Shared(terms())).triage(),
            Err(AppError::Forbidden(_))
        ));
        assert!(v(View::Reporting).reporting().is_ok());
        assert!(v(View::Holding).reporting().is_err());
        assert!(v(View::Shared(terms())).reporting().is_err());
        assert!(v(View::Holding).conversation().unwrap().from_cdao());
        assert!(!v(View::Reporting).conversation().unwrap().from_cdao());
        assert!(v(View::Shared(terms())).conversation().is_err());
    }
}
