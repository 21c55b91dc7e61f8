//! Shares, alerts and responses (the notification outbox is `db::outbox`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::access::{AreaScope, CaseRef, ManagedShare, TriageCase};

mod alerts;
pub use alerts::*;

/// Member organisations of an area (who a case of that area may be shared with).
pub async fn member_organisations(
    pool: &PgPool,
    area_id: Uuid,
) -> Result<Vec<(Uuid, String, String)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT o.id, o.name, o.sector FROM organisations o JOIN organisation_areas oa ON oa.organisation_id = o.id
         WHERE oa.area_id = $1 AND o.kind = 'member' AND o.disabled_at IS NULL ORDER BY o.name",
        area_id
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name, r.sector))
    .collect())
}

pub async fn two_person_rule(pool: &PgPool, area_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar!("SELECT two_person_rule FROM areas WHERE id = $1", area_id)
            .fetch_optional(pool)
            .await?
            .unwrap_or(true),
    )
}

pub struct NewShare<'a> {
    pub id: Uuid,
    pub created_by: Uuid,
    pub disclosure: &'a str,
    pub include_patient_data: bool,
    pub patient_data_reason: Option<&'a str>,
    pub include_organisation_name: bool,
    pub lawful_basis: &'a str,
    pub purpose: &'a str,
    pub summary: &'a str,
    pub action_required: &'a str,
    pub respond_by: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
    pub approved: bool,
    pub now: DateTime<Utc>,
    /// A share to another area's CDAO team (an approved access request) instead of members.
    pub recipient_area_id: Option<Uuid>,
    pub access_request_id: Option<Uuid>,
}

/// A share of a case its holding team acts on, to member organisations (one alert each) or
/// to another area's CDAO team, carrying the evidence it names.
pub async fn insert_share(
    conn: &mut PgConnection,
    case: &TriageCase,
    s: &NewShare<'_>,
    organisation_ids: &[Uuid],
    attachment_ids: &[Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO shares (id, case_id, area_id, created_by, disclosure, include_patient_data, patient_data_reason,
                             include_organisation_name, lawful_basis, purpose, summary, action_required, respond_by,
                             expires_at, approval, approved_by, approved_at, created_at, recipient_area_id, access_request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                 CASE WHEN $15 THEN 'approved' ELSE 'pending' END,
                 CASE WHEN $15 THEN $4::uuid END, CASE WHEN $15 THEN $16::timestamptz END, $16, $17, $18)",
        s.id,
        case.case_id(),
        case.area_id(),
        s.created_by,
        s.disclosure,
        s.include_patient_data,
        s.patient_data_reason,
        s.include_organisation_name,
        s.lawful_basis,
        s.purpose,
        s.summary,
        s.action_required,
        s.respond_by,
        s.expires_at,
        s.approved,
        s.now,
        s.recipient_area_id,
        s.access_request_id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO alerts (id, share_id, organisation_id)
         SELECT gen_random_uuid(), $1, unnest($2::uuid[])",
        s.id,
        organisation_ids
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO share_attachments (share_id, attachment_id)
         SELECT $1, a.id FROM attachments a WHERE a.case_id = $2 AND a.id = ANY($3)",
        s.id,
        case.case_id(),
        attachment_ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Delivers a share's alerts: received now, acknowledgement due by `ack_due`.
pub async fn deliver(
    conn: &mut PgConnection,
    share_id: Uuid,
    now: DateTime<Utc>,
    ack_due: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "UPDATE alerts SET received_at = $2, ack_due_at = $3 WHERE share_id = $1 AND received_at IS NULL RETURNING organisation_id",
        share_id,
        now,
        ack_due
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone)]
pub struct ShareRow {
    pub id: Uuid,
    pub case_id: Uuid,
    pub area_id: Uuid,
    pub created_by: Uuid,
    pub approval: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    #[allow(dead_code)] // read with the row, for checks that weigh the disclosure level
    pub disclosure: String,
    pub recipient_area_id: Option<Uuid>,
}

/// A share, locked until the transaction ends (for `access::managed_share` only).
pub async fn lock_share(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ShareRow>, sqlx::Error> {
    sqlx::query_as!(
        ShareRow,
        "SELECT id, case_id, area_id, created_by, approval, revoked_at, expires_at, disclosure, recipient_area_id
         FROM shares WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn approve(
    conn: &mut PgConnection,
    share: &ManagedShare,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE shares SET approval = 'approved', approved_by = $2, approved_at = $3 WHERE id = $1",
        share.id(),
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The areas whose teams have a share in force from another area at `now` (approved, not
/// revoked, not expired).
pub async fn areas_with_shares_in(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT recipient_area_id AS "area_id!" FROM shares
           WHERE recipient_area_id IS NOT NULL AND approval = 'approved'
             AND revoked_at IS NULL AND expires_at > $1"#,
        now
    )
    .fetch_all(pool)
    .await
}

pub async fn revoke(
    conn: &mut PgConnection,
    share: &ManagedShare,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE shares SET revoked_at = $3, revoked_by = $2 WHERE id = $1",
        share.id(),
        by,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A second CDAO declines a pending share, with the reason its author sees.
pub async fn decline(
    conn: &mut PgConnection,
    share: &ManagedShare,
    by: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE shares SET approval = 'declined', declined_by = $2, decline_reason = $3, declined_at = $4 WHERE id = $1",
        share.id(),
        by,
        reason,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The active CDAOs of the areas a share to a team goes to (for telling them).
pub async fn area_cdaos(conn: &mut PgConnection, area_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT u.id FROM users u JOIN user_areas ua ON ua.user_id = u.id
         WHERE ua.area_id = $1 AND u.role = 'cdao' AND u.status = 'active'",
        area_id
    )
    .fetch_all(conn)
    .await
}

/// Active users of these organisations (the people an alert is for).
pub async fn member_users(
    conn: &mut PgConnection,
    organisation_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT id FROM users WHERE organisation_id = ANY($1) AND role = 'member' AND status = 'active'",
        organisation_ids
    )
    .fetch_all(conn)
    .await
}

/// Active CDAOs of an area other than `except`.
pub async fn other_cdaos(
    conn: &mut PgConnection,
    area_id: Uuid,
    except: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT u.id FROM users u JOIN user_areas ua ON ua.user_id = u.id
         WHERE ua.area_id = $1 AND u.role = 'cdao' AND u.status = 'active' AND u.id <> $2",
        area_id,
        except
    )
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Recipient {
    pub alert_id: Uuid,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub received_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub ack_due_at: Option<DateTime<Utc>>,
    pub reminders: i32,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShareSummary {
    pub id: Uuid,
    pub created_by: Uuid,
    pub created_by_name: String,
    pub disclosure: String,
    pub include_patient_data: bool,
    pub patient_data_reason: Option<String>,
    pub include_organisation_name: bool,
    pub lawful_basis: String,
    pub purpose: String,
    pub summary: String,
    pub action_required: String,
    pub respond_by: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
    pub approval: String,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Why a second CDAO declined it (then `approval` is `declined`).
    pub decline_reason: Option<String>,
    pub declined_at: Option<DateTime<Utc>>,
    /// A share to another area's CDAO team (an approved access request) instead of members.
    pub recipient_area_id: Option<Uuid>,
    pub recipient_area_name: Option<String>,
    pub access_request_id: Option<Uuid>,
    /// The evidence the share carries.
    pub attachment_ids: Vec<Uuid>,
}

/// A share with its recipients (its alerts, by organisation name) and their responses (oldest
/// first), for the CDAO's case page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShareDetail {
    #[serde(flatten)]
    pub share: ShareSummary,
    pub recipients: Vec<Recipient>,
    pub responses: Vec<Response>,
}

/// The case's shares, oldest first, each with its recipients and their answers, in one
/// statement (a case page reads them).
pub async fn shares_for_case(
    db: impl sqlx::PgExecutor<'_>,
    case: &TriageCase,
) -> Result<Vec<ShareDetail>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT s.id, s.created_by, u.name AS created_by_name, s.disclosure, s.include_patient_data, s.patient_data_reason,
                  s.include_organisation_name, s.lawful_basis, s.purpose, s.summary, s.action_required, s.respond_by,
                  s.expires_at, s.approval, s.approved_by, s.approved_at, s.revoked_at, s.created_at,
                  s.decline_reason, s.declined_at, s.recipient_area_id, ra.name AS "recipient_area_name?", s.access_request_id,
                  ARRAY(SELECT sa.attachment_id FROM share_attachments sa WHERE sa.share_id = s.id) AS "attachment_ids!",
                  COALESCE((SELECT json_agg(x ORDER BY x.organisation_name, x.alert_id)
                            FROM (SELECT a.id AS alert_id, a.organisation_id, o.name AS organisation_name, a.received_at,
                                         a.read_at, a.acknowledged_at, a.ack_due_at, a.reminders
                                  FROM alerts a JOIN organisations o ON o.id = a.organisation_id
                                  WHERE a.share_id = s.id) x),
                           '[]') AS "recipients!: Json<Vec<Recipient>>",
                  COALESCE((SELECT json_agg(x ORDER BY x.created_at, x.id)
                            FROM (SELECT r.id, r.alert_id, a.organisation_id, r.author_id, r.body, r.action_taken,
                                         r.created_at, r.from_cdao
                                  FROM alert_responses r JOIN alerts a ON a.id = r.alert_id
                                  WHERE a.share_id = s.id) x),
                           '[]') AS "responses!: Json<Vec<Response>>"
           FROM shares s JOIN users u ON u.id = s.created_by LEFT JOIN areas ra ON ra.id = s.recipient_area_id
           WHERE s.case_id = $1 ORDER BY s.created_at"#,
        case.case_id()
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ShareDetail {
            share: ShareSummary {
                id: r.id,
                created_by: r.created_by,
                created_by_name: r.created_by_name,
                disclosure: r.disclosure,
                include_patient_data: r.include_patient_data,
                patient_data_reason: r.patient_data_reason,
                include_organisation_name: r.include_organisation_name,
                lawful_basis: r.lawful_basis,
                purpose: r.purpose,
                summary: r.summary,
                action_required: r.action_required,
                respond_by: r.respond_by,
                expires_at: r.expires_at,
                approval: r.approval,
                approved_by: r.approved_by,
                approved_at: r.approved_at,
                revoked_at: r.revoked_at,
                created_at: r.created_at,
                decline_reason: r.decline_reason,
                declined_at: r.declined_at,
                recipient_area_id: r.recipient_area_id,
                recipient_area_name: r.recipient_area_name,
                access_request_id: r.access_request_id,
                attachment_ids: r.attachment_ids,
            },
            recipients: r.recipients.0,
            responses: r.responses.0,
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Response {
    pub id: Uuid,
    pub alert_id: Uuid,
    pub organisation_id: Uuid,
    pub author_id: Uuid,
    pub body: String,
    pub action_taken: Option<String>,
    pub created_at: DateTime<Utc>,
    /// A reply from the CDAO team (false: the member organisation's response or question).
    pub from_cdao: bool,
}

/// The responses to one alert.
pub async fn responses(
    db: impl sqlx::PgExecutor<'_>,
    alert_id: Uuid,
) -> Result<Vec<Response>, sqlx::Error> {
    sqlx::query_as!(
        Response,
        "SELECT r.id, r.alert_id, a.organisation_id, r.author_id, r.body, r.action_taken, r.created_at, r.from_cdao
         FROM alert_responses r JOIN alerts a ON a.id = r.alert_id WHERE r.alert_id = $1 ORDER BY r.created_at",
        alert_id
    )
    .fetch_all(db)
    .await
}

/// Alerts past their acknowledgement target and not reminded since `reminded_before`:
/// marked reminded in the same statement (so two instances never remind twice).
pub async fn take_due_reminders(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    reminded_before: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    Ok(sqlx::query!(
        r#"UPDATE alerts a SET reminded_at = $1, reminders = a.reminders + 1
           FROM shares s
           WHERE s.id = a.share_id AND a.id IN (
               SELECT a2.id FROM alerts a2 JOIN shares s2 ON s2.id = a2.share_id
               WHERE a2.acknowledged_at IS NULL AND a2.received_at IS NOT NULL AND a2.ack_due_at < $1
                 AND (a2.reminded_at IS NULL OR a2.reminded_at < $2)
                 AND s2.revoked_at IS NULL AND s2.expires_at > $1
               ORDER BY a2.ack_due_at LIMIT 500
               FOR UPDATE OF a2 SKIP LOCKED)
           RETURNING a.id, a.organisation_id"#,
        now,
        reminded_before
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.organisation_id))
    .collect())
}

/// Whether `user_id` may still see what a notification is about (checked at sending).
pub async fn may_see_alert(
    conn: &mut PgConnection,
    alert_id: Uuid,
    organisation_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM alerts a JOIN shares s ON s.id = a.share_id
                          WHERE a.id = $1 AND a.organisation_id = $2 AND s.approval = 'approved'
                            AND s.revoked_at IS NULL AND s.expires_at > $3) AS "e!""#,
        alert_id,
        organisation_id,
        now
    )
    .fetch_one(conn)
    .await
}

/// The delivered alerts of a case's shares that were not revoked (live or expired): who
/// received it and may still know of it (alert id, organisation).
pub async fn received_alerts(
    conn: &mut PgConnection,
    case: &impl CaseRef,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT a.id, a.organisation_id FROM alerts a JOIN shares s ON s.id = a.share_id
         WHERE s.case_id = $1 AND s.approval = 'approved' AND s.revoked_at IS NULL AND a.received_at IS NOT NULL
         ORDER BY a.received_at",
        case.case_id()
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.organisation_id))
    .collect())
}

/// Whether a member may still know of an alert's case (a notice about its outcome): the
/// alert's share was approved and not revoked; it may have expired.
pub async fn may_know_of_alert(
    conn: &mut PgConnection,
    alert_id: Uuid,
    organisation_id: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM alerts a JOIN shares s ON s.id = a.share_id
                          WHERE a.id = $1 AND a.organisation_id = $2 AND s.approval = 'approved'
                            AND s.revoked_at IS NULL) AS "e!""#,
        alert_id,
        organisation_id
    )
    .fetch_one(conn)
    .await
}

/// Alerts of a share, for notifying (alert id, organisation).
pub async fn alerts_of_share(
    conn: &mut PgConnection,
    share_id: Uuid,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    Ok(sqlx::query!(
        "SELECT id, organisation_id FROM alerts WHERE share_id = $1",
        share_id
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(|r| (r.id, r.organisation_id))
    .collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Responsiveness {
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub sector: String,
    pub alerts_received: i64,
    pub acknowledged: i64,
    pub acknowledged_on_time: i64,
    pub median_hours_to_acknowledge: Option<f64>,
    pub median_hours_to_respond: Option<f64>,
}

/// Per member organisation: how quickly alerts from these areas were acknowledged and answered.
pub async fn responsiveness(
    pool: &PgPool,
    areas: Option<&[Uuid]>,
) -> Result<Vec<Responsiveness>, sqlx::Error> {
    let all = areas.is_none();
    let areas = areas.unwrap_or(&[]).to_vec();
    sqlx::query_as!(
        Responsiveness,
        r#"SELECT o.id AS "organisation_id!", o.name AS "organisation_name!", o.sector AS "sector!",
                  count(*) AS "alerts_received!",
                  count(a.acknowledged_at) AS "acknowledged!",
                  count(*) FILTER (WHERE a.acknowledged_at <= a.ack_due_at) AS "acknowledged_on_time!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - a.received_at) / 3600)
                      AS median_hours_to_acknowledge,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM fr.first_at - a.received_at) / 3600)
                      AS median_hours_to_respond
           FROM alerts a
           JOIN shares s ON s.id = a.share_id
           JOIN organisations o ON o.id = a.organisation_id
           LEFT JOIN LATERAL (SELECT min(r.created_at) AS first_at FROM alert_responses r WHERE r.alert_id = a.id) fr ON true
           WHERE a.received_at IS NOT NULL AND ($1 OR s.area_id = ANY($2))
           GROUP BY o.id, o.name, o.sector
           ORDER BY o.name"#,
        all,
        &areas
    )
    .fetch_all(pool)
    .await
}

/// Shares of these areas waiting for a second CDAO (not created by `except`).
pub struct PendingShare {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_reference: String,
    pub created_by_name: String,
    pub disclosure: String,
    pub include_patient_data: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn pending_for(
    pool: &PgPool,
    areas: &AreaScope,
    except: Uuid,
) -> Result<Vec<PendingShare>, sqlx::Error> {
    sqlx::query_as!(
        PendingShare,
        r#"SELECT s.id, s.case_id, c.reference AS case_reference, u.name AS created_by_name, s.disclosure,
                  s.include_patient_data, s.created_at
           FROM shares s JOIN cases c ON c.id = s.case_id JOIN users u ON u.id = s.created_by
           WHERE s.area_id = ANY($1) AND s.approval = 'pending' AND s.revoked_at IS NULL AND s.created_by <> $2
           ORDER BY s.created_at"#,
        areas.ids(),
        except
    )
    .fetch_all(pool)
    .await
}
