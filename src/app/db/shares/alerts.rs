//! The member organisation's side of a share: its alerts as it knows them, the inbox (paged,
//! filtered, planned for the organisation), one alert for the access check, the case report
//! the disclosure cuts down, read receipts, acknowledgements and responses.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::access::{Alert, CaseRef, Inbox, LiveAlert};

/// An alert as its member organisation knows it, with its share.
#[derive(Debug, Clone)]
pub struct AlertRow {
    pub id: Uuid,
    pub share_id: Uuid,
    /// The recipient organisation.
    pub organisation_id: Uuid,
    pub case_id: Uuid,
    pub case_reference: String,
    pub case_kind: String,
    pub case_area_name: String,
    pub case_sector: String,
    pub case_organisation_name: String,
    pub received_at: Option<DateTime<Utc>>,
    pub read_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub ack_due_at: Option<DateTime<Utc>>,
    pub disclosure: String,
    pub include_patient_data: bool,
    pub include_organisation_name: bool,
    pub lawful_basis: String,
    pub purpose: String,
    pub summary: String,
    pub action_required: String,
    pub respond_by: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The evidence the share carries.
    pub attachment_ids: Vec<Uuid>,
    /// The sharing CDAO (the member's contact).
    #[allow(dead_code)]
    pub created_by: Uuid,
    /// The case's outcome, once it is closed.
    pub case_closed_at: Option<DateTime<Utc>>,
    pub case_well_founded: Option<String>,
}

/// The alerts of an organisation that were delivered (approved shares only; pending ones do
/// not exist for it), read by `inbox` (a page of the newest) and `alert_of` (one, for
/// `access::alert` only). One statement for each use: with one statement and an optional id
/// (`$2 IS NULL OR a.id = $2`), one alert was planned like a whole inbox and read every alert
/// of the organisation. (The inbox is planned for its organisation each time: see `inbox`.)
macro_rules! alerts_query {
    ($($which:literal)+ ; $($arg:expr),+) => {
        sqlx::query_as!(
            AlertRow,
            r#"SELECT a.id, a.share_id, a.organisation_id, c.id AS case_id, c.reference AS case_reference, c.kind AS case_kind,
                  ar.name AS case_area_name, c.sector AS case_sector, o.name AS case_organisation_name,
                  a.received_at, a.read_at, a.acknowledged_at, a.ack_due_at,
                  s.disclosure, s.include_patient_data, s.include_organisation_name, s.lawful_basis, s.purpose, s.summary,
                  s.action_required, s.respond_by, s.expires_at, s.revoked_at,
                  ARRAY(SELECT sa.attachment_id FROM share_attachments sa WHERE sa.share_id = s.id) AS "attachment_ids!",
                  s.created_by, c.closed_at AS case_closed_at, c.well_founded AS case_well_founded
           FROM alerts a
           JOIN shares s ON s.id = a.share_id
           JOIN cases c ON c.id = s.case_id
           JOIN areas ar ON ar.id = c.area_id
           JOIN organisations o ON o.id = c.organisation_id
           WHERE a.organisation_id = $1 AND s.approval = 'approved' AND a.received_at IS NOT NULL "# $(+ $which)+
            $(, $arg)+
        )
    };
}

/// A page of the inbox with one filter: the first (newest) page, or the page after a cursor's
/// alert. The limit is `INBOX_LIMIT` + 1: the extra row says whether there is a page after.
macro_rules! inbox_page {
    ($pool:expr, $org:expr, $after:expr, $filter:literal) => {
        match $after {
            None => {
                alerts_query!($filter " ORDER BY a.received_at DESC, a.id DESC LIMIT 501"; $org)
                    .fetch_all($pool)
                    .await
            }
            Some((at, id)) => {
                alerts_query!(
                    $filter
                    " AND (a.received_at, a.id) < ($2, $3) ORDER BY a.received_at DESC, a.id DESC LIMIT 501";
                    $org, at, id
                )
                .fetch_all($pool)
                .await
            }
        }
    };
}

/// The most alerts a page of the inbox lists: the newest, of those its filter keeps.
pub const INBOX_LIMIT: usize = 500;

/// Which of an organisation's alerts its inbox lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxFilter {
    All,
    /// Nobody in the organisation has opened them yet.
    Unread,
    /// Nobody has acknowledged them yet.
    Unacknowledged,
}

impl InboxFilter {
    /// `all`, `unread` or `unacknowledged`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Self::All),
            "unread" => Some(Self::Unread),
            "unacknowledged" => Some(Self::Unacknowledged),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Unread => "unread",
            Self::Unacknowledged => "unacknowledged",
        }
    }
}

/// A page of an organisation's inbox: up to `INBOX_LIMIT` delivered alerts its filter keeps,
/// newest first, after `after` (the received time and id of the last alert of the page
/// before) if given, and whether older ones follow. The filter is applied here, not to a page
/// of all alerts, so that an older alert not yet read or acknowledged is still listed.
pub async fn inbox(
    pool: &PgPool,
    inbox: &Inbox,
    filter: InboxFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
) -> Result<(Vec<AlertRow>, bool), sqlx::Error> {
    let org = inbox.organisation_id();
    // Planned for this organisation every time. A generic plan is made for an organisation
    // with the average number of alerts: it joins every alert the organisation has and then
    // sorts them (27 ms by EXPLAIN ANALYZE for one with 1,669 alerts), where a plan for the
    // organisation walks the index in order and stops at the page's end (11 ms).
    let mut tx = pool.begin().await?;
    sqlx::query!("SET LOCAL plan_cache_mode = force_custom_plan")
        .execute(&mut *tx)
        .await?;
    let mut rows = match filter {
        InboxFilter::All => inbox_page!(&mut *tx, org, after, ""),
        InboxFilter::Unread => inbox_page!(&mut *tx, org, after, "AND a.read_at IS NULL"),
        InboxFilter::Unacknowledged => {
            inbox_page!(&mut *tx, org, after, "AND a.acknowledged_at IS NULL")
        }
    }?;
    tx.commit().await?;
    let more = rows.len() > INBOX_LIMIT;
    rows.truncate(INBOX_LIMIT);
    Ok((rows, more))
}

/// How many of an organisation's delivered alerts nobody there has opened, live or not (the
/// inbox's own count; the header's counts live alerts only).
pub async fn unread_in_inbox(pool: &PgPool, inbox: &Inbox) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM alerts a JOIN shares s ON s.id = a.share_id
           WHERE a.organisation_id = $1 AND a.read_at IS NULL AND a.received_at IS NOT NULL
             AND s.approval = 'approved'"#,
        inbox.organisation_id()
    )
    .fetch_one(pool)
    .await
}

/// One delivered alert of the organisation, for `access::alert` only.
pub async fn alert_of(
    db: impl sqlx::PgExecutor<'_>,
    organisation_id: Uuid,
    id: Uuid,
) -> Result<Option<AlertRow>, sqlx::Error> {
    alerts_query!("AND a.id = $2"; organisation_id, id)
        .fetch_optional(db)
        .await
}

/// The report of the case a live alert is about (for `disclosure` to cut down).
pub async fn case_report(
    db: impl sqlx::PgExecutor<'_>,
    alert: &LiveAlert,
) -> Result<serde_json::Value, sqlx::Error> {
    sqlx::query_scalar!("SELECT report FROM cases WHERE id = $1", alert.case_id())
        .fetch_one(db)
        .await
}

pub async fn mark_read(
    conn: &mut PgConnection,
    alert: &Alert,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE alerts SET read_at = $3, read_by = $2 WHERE id = $1 AND read_at IS NULL",
        alert.id(),
        by,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Acknowledges once; returns when it was acknowledged (now, or the first time).
pub async fn acknowledge(
    conn: &mut PgConnection,
    alert: &LiveAlert,
    by: Uuid,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, bool), sqlx::Error> {
    let r = sqlx::query!(
        r#"WITH u AS (
               UPDATE alerts SET acknowledged_at = $3, acknowledged_by = $2,
                                 read_at = COALESCE(read_at, $3), read_by = COALESCE(read_by, $2)
               WHERE id = $1 AND acknowledged_at IS NULL RETURNING acknowledged_at
           )
           SELECT COALESCE((SELECT acknowledged_at FROM u), (SELECT acknowledged_at FROM alerts WHERE id = $1)) AS "at!",
                  EXISTS (SELECT 1 FROM u) AS "first!""#,
        alert.id(),
        by,
        now
    )
    .fetch_one(conn)
    .await?;
    Ok((r.at, r.first))
}

pub async fn insert_response(
    conn: &mut PgConnection,
    id: Uuid,
    alert: &LiveAlert,
    author_id: Uuid,
    body: &str,
    action_taken: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO alert_responses (id, alert_id, author_id, body, action_taken, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        alert.id(),
        author_id,
        body,
        action_taken,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}
