//! Triage: the CDAO team's changes to a case, links, correlation and access requests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::access::{AreaScope, CaseRef, DecidableRequest, TriageCase, VisibleCase};
use crate::app::db::cases::{Amendment, AttachmentInfo, PersonRow, TimelineEvent};

#[allow(clippy::too_many_arguments)]
pub async fn update(
    conn: &mut PgConnection,
    case: &TriageCase,
    status: &str,
    priority: Option<&str>,
    assignee_id: Option<Uuid>,
    risk: Option<(i16, i16)>,
    triaged_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET status = $2, priority = $3, assignee_id = $4,
                risk_consequence = COALESCE($5, risk_consequence), risk_likelihood = COALESCE($6, risk_likelihood),
                triaged_at = $7, updated_at = $8
         WHERE id = $1",
        case.case_id(),
        status,
        priority,
        assignee_id,
        risk.map(|r| r.0),
        risk.map(|r| r.1),
        triaged_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A status change that a message brings (a request for information, the reporter's answer).
pub async fn set_status(
    conn: &mut PgConnection,
    case: &crate::access::Conversation,
    status: &str,
    triaged_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET status = $2, triaged_at = $3, updated_at = $4 WHERE id = $1",
        case.case_id(),
        status,
        triaged_at,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_triage_due(
    conn: &mut PgConnection,
    case: &TriageCase,
    due: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET triage_due_at = $2 WHERE id = $1",
        case.case_id(),
        due
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn close(
    conn: &mut PgConnection,
    case: &TriageCase,
    outcome: &str,
    well_founded: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET status = 'closed', outcome = $2, well_founded = $3, closed_at = $4, updated_at = $4,
                triaged_at = COALESCE(triaged_at, $4)
         WHERE id = $1",
        case.case_id(),
        outcome,
        well_founded,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn reopen(
    conn: &mut PgConnection,
    case: &TriageCase,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE cases SET status = 'in_review', outcome = NULL, well_founded = NULL, closed_at = NULL, updated_at = $2
         WHERE id = $1",
        case.case_id(),
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The CDAO-only facts of a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TriageFacts {
    pub priority_suggested: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub risk_consequence: Option<i16>,
    pub risk_likelihood: Option<i16>,
    pub triage_due_at: Option<DateTime<Utc>>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub well_founded: Option<String>,
    pub sector: String,
}

/// What the holding team reads of a case besides the case row, the persons and the shares:
/// its triage facts, its corrections, evidence and whole timeline, and its links (both ways)
/// to cases of the team's areas (a link to another area's case is not shown), in one statement.
pub struct HoldingParts {
    pub facts: TriageFacts,
    pub parts: crate::app::db::cases::CaseParts,
    pub links: Vec<Link>,
    /// Whether the case has been shared (most have not, and need no look for shares).
    pub has_shares: bool,
}

struct HoldingPartsRow {
    priority_suggested: Option<String>,
    assignee_id: Option<Uuid>,
    assignee_name: Option<String>,
    risk_consequence: Option<i16>,
    risk_likelihood: Option<i16>,
    triage_due_at: Option<DateTime<Utc>>,
    triaged_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    well_founded: Option<String>,
    sector: String,
    links: Json<Vec<Link>>,
    amendments: Json<Vec<Amendment>>,
    attachments: Json<Vec<AttachmentInfo>>,
    timeline: Json<Vec<TimelineEvent>>,
    persons: Json<Vec<PersonRow>>,
    has_shares: bool,
}

/// The holding team's parts of a case (see [`HoldingParts`]).
pub async fn holding_parts(
    db: impl sqlx::PgExecutor<'_>,
    case: &TriageCase,
    areas: &AreaScope,
) -> Result<HoldingParts, sqlx::Error> {
    let r = crate::app::db::cases::case_parts_query!(
        HoldingPartsRow,
        r#"SELECT c.priority_suggested, c.assignee_id, u.name AS "assignee_name?", c.risk_consequence, c.risk_likelihood,
                  c.triage_due_at, c.triaged_at, c.closed_at, c.outcome, c.well_founded, c.sector,
                  COALESCE((SELECT json_agg(x ORDER BY x.created_at)
                            FROM (SELECT o.id AS case_id, o.reference, l.relation, l.created_at
                                  FROM case_links l JOIN cases o ON o.id = l.other_id
                                  WHERE l.case_id = c.id AND o.area_id = ANY($2)
                                  UNION ALL
                                  SELECT o.id, o.reference,
                                         CASE l.relation WHEN 'duplicate_of' THEN 'duplicated_by' ELSE 'related' END,
                                         l.created_at
                                  FROM case_links l JOIN cases o ON o.id = l.case_id
                                  WHERE l.other_id = c.id AND o.area_id = ANY($2)) x),
                           '[]') AS "links!: Json<Vec<Link>>",
                  EXISTS (SELECT 1 FROM shares s WHERE s.case_id = c.id) AS "has_shares!","#,
        "",
        "LEFT JOIN users u ON u.id = c.assignee_id WHERE c.id = $1";
        case.case_id(),
        areas.ids()
    )
    .fetch_one(db)
    .await?;
    Ok(HoldingParts {
        facts: TriageFacts {
            priority_suggested: r.priority_suggested,
            assignee_id: r.assignee_id,
            assignee_name: r.assignee_name,
            risk_consequence: r.risk_consequence,
            risk_likelihood: r.risk_likelihood,
            triage_due_at: r.triage_due_at,
            triaged_at: r.triaged_at,
            closed_at: r.closed_at,
            outcome: r.outcome,
            well_founded: r.well_founded,
            sector: r.sector,
        },
        parts: crate::app::db::cases::CaseParts {
            amendments: r.amendments.0,
            attachments: r.attachments.0,
            timeline: r.timeline.0,
            persons: r.persons.0,
        },
        links: r.links.0,
        has_shares: r.has_shares,
    })
}

/// Whether `user_id` is an active CDAO holding `area_id`.
pub async fn is_area_cdao(
    pool: &PgPool,
    user_id: Uuid,
    area_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM users u JOIN user_areas ua ON ua.user_id = u.id
                          WHERE u.id = $1 AND ua.area_id = $2 AND u.role = 'cdao' AND u.status = 'active') AS "e!""#,
        user_id,
        area_id
    )
    .fetch_one(pool)
    .await
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Link {
    pub case_id: Uuid,
    pub reference: String,
    /// `related`, `duplicate_of` (this case duplicates the other) or `duplicated_by`.
    pub relation: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_link(
    conn: &mut PgConnection,
    case: &TriageCase,
    other: &VisibleCase,
    relation: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "INSERT INTO case_links (case_id, other_id, relation, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
        case.case_id(),
        other.case_id(),
        relation,
        by,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub struct MatchRow {
    pub case_id: Uuid,
    pub reference: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub matched_on: Vec<String>,
}

/// Other cases naming a person of this case: equal blind indexes, one index look-up each.
pub async fn matches(pool: &PgPool, case: &TriageCase) -> Result<Vec<MatchRow>, sqlx::Error> {
    sqlx::query_as!(
        MatchRow,
        r#"SELECT o.case_id AS "case_id!", c.reference AS "reference!", c.area_id AS "area_id!", a.name AS "area_name!",
                  array_agg(DISTINCT o.kind ORDER BY o.kind) AS "matched_on!"
           FROM person_identifiers mine
           JOIN person_identifiers o ON o.kind = mine.kind AND o.digest = mine.digest AND o.case_id <> mine.case_id
           JOIN cases c ON c.id = o.case_id
           JOIN areas a ON a.id = c.area_id
           WHERE mine.case_id = $1
           GROUP BY o.case_id, c.reference, c.area_id, a.name, c.submitted_at
           ORDER BY c.submitted_at DESC"#,
        case.case_id()
    )
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessRequest {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_reference: String,
    pub requester_id: Uuid,
    pub requester_name: String,
    pub requester_area_id: Uuid,
    pub requester_area_name: String,
    pub holding_area_id: Uuid,
    pub holding_area_name: String,
    pub reason: String,
    /// The requesting team's lawful basis for the shares an approval makes.
    pub lawful_basis: String,
    /// `pending`, `approved` or `declined`.
    pub status: String,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_access_request(
    conn: &mut PgConnection,
    id: Uuid,
    case: &TriageCase,
    requester_id: Uuid,
    holding_area_id: Uuid,
    reason: &str,
    lawful_basis: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO access_requests (id, case_id, requester_id, requester_area_id, holding_area_id, reason, created_at, lawful_basis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id,
        case.case_id(),
        requester_id,
        case.area_id(),
        holding_area_id,
        reason,
        now,
        lawful_basis
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Requests made by, or to, any of `areas`.
pub async fn access_requests(
    pool: &PgPool,
    areas: &AreaScope,
    id: Option<Uuid>,
) -> Result<Vec<AccessRequest>, sqlx::Error> {
    sqlx::query_as!(
        AccessRequest,
        r#"SELECT r.id, r.case_id, c.reference AS case_reference, r.requester_id, u.name AS requester_name,
                  r.requester_area_id, ra.name AS requester_area_name, r.holding_area_id, ha.name AS holding_area_name,
                  r.reason, r.lawful_basis, r.status, r.decided_by, r.decided_at, r.decision_reason, r.created_at
           FROM access_requests r
           JOIN cases c ON c.id = r.case_id
           JOIN users u ON u.id = r.requester_id
           JOIN areas ra ON ra.id = r.requester_area_id
           JOIN areas ha ON ha.id = r.holding_area_id
           WHERE (r.requester_area_id = ANY($1) OR r.holding_area_id = ANY($1))
             AND ($2::uuid IS NULL OR r.id = $2)
           ORDER BY r.created_at DESC
           LIMIT 200"#,
        areas.ids(),
        id
    )
    .fetch_all(pool)
    .await
}

pub async fn decide(
    conn: &mut PgConnection,
    request: &DecidableRequest,
    status: &str,
    by: Uuid,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE access_requests SET status = $2, decided_by = $3, decision_reason = $4, decided_at = $5
         WHERE id = $1 AND status = 'pending'",
        request.row().id,
        status,
        by,
        reason,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// The holding area's cases naming a person of the requester's case: what an approved
/// request shares.
pub async fn matched_cases(
    conn: &mut PgConnection,
    request: &DecidableRequest,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT o.case_id AS "case_id!"
           FROM person_identifiers mine
           JOIN person_identifiers o ON o.kind = mine.kind AND o.digest = mine.digest AND o.case_id <> mine.case_id
           WHERE mine.case_id = $1 AND o.area_id = $2"#,
        request.case_id(),
        request.row().holding_area_id
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessLogEntry {
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub purpose: Option<String>,
}

/// Who looked at a case, from the audit trail.
pub async fn access_log(
    pool: &PgPool,
    case: &TriageCase,
) -> Result<Vec<AccessLogEntry>, sqlx::Error> {
    sqlx::query_as!(
        AccessLogEntry,
        r#"SELECT e.at, e.actor_id, u.name AS "actor_name?", u.role AS "actor_role?", e.action,
                  COALESCE(s.purpose, e.details->>'purpose') AS purpose
           FROM audit_events e
           LEFT JOIN users u ON u.id = e.actor_id
           LEFT JOIN shares s ON s.id = (e.details->>'share_id')::uuid
           WHERE e.case_id = $1
             AND e.action IN ('case.viewed', 'case.identity_viewed', 'case.attachment_downloaded', 'case.exported',
                              'share.previewed', 'alert.viewed', 'alert.identity_viewed', 'alert.attachment_downloaded')
           ORDER BY e.at DESC, e.id DESC
           LIMIT 500"#,
        case.case_id()
    )
    .fetch_all(pool)
    .await
}
