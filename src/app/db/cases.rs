//! Cases: their reports as submitted, persons, identifiers, timeline, amendments, evidence.
//! Reads and changes of a case take a handle from `access` (a `CaseRef`), never a bare id;
//! lists take the opaque `CaseScope` that `access` hands out.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::access::{CaseRef, ReportingCase};

mod batch;
mod list;
pub use batch::*;
pub use list::*;

pub struct NewCase {
    pub id: Uuid,
    pub kind: &'static str,
    pub organisation_id: Uuid,
    pub area_id: Uuid,
    pub reporter_id: Uuid,
    pub submitted_at: DateTime<Utc>,
    /// The year of the reference (submission, in UK time).
    pub year: i32,
    pub occurred_on: Option<NaiveDate>,
    pub harm: Option<String>,
    pub categories: Vec<String>,
    pub schedules: Vec<String>,
    pub drug_ids: Vec<Uuid>,
    pub high_dose: bool,
    pub report: Value,
    pub search_text: String,
    pub priority_suggested: String,
    pub triage_due_at: DateTime<Utc>,
    /// The overseas prescriber's registration of an online supply: sealed, with its blind index.
    pub online_registration: Option<SealedIdentifier>,
}

/// An identifier kept apart from a report: (key id, nonce || AES-256-GCM ciphertext, HMAC).
pub struct SealedIdentifier {
    pub key_id: i16,
    pub enc: Vec<u8>,
    pub digest: Vec<u8>,
}

/// Inserts the case with its first timeline event ("submitted", by `actor`) and its audit
/// event, in one statement (one round trip; committed on its own when run outside a
/// transaction), and returns its new reference, `CD-YYYY-NNNNNN` (more digits from a year's
/// millionth case on: `case_reference` in the migrations).
pub async fn insert_case(
    conn: &mut PgConnection,
    c: &NewCase,
    event_id: Uuid,
    audit: &crate::audit::Appended,
) -> Result<String, sqlx::Error> {
    sqlx::query!(
        r#"WITH c AS (
               INSERT INTO cases (id, reference, kind, organisation_id, area_id, reporter_id, submitted_at,
                                  updated_at, occurred_on, harm, categories, schedules, drug_ids, high_dose,
                                  report, search_text, sector, priority_suggested, triage_due_at,
                                  online_registration_key_id, online_registration_enc, online_registration_digest)
               VALUES ($1, case_reference($2::int),
                       $3, $4, $5, $6, $7, $7, $8, $9, $10, $11, $12, $13, $14, to_tsvector('english', $15),
                       (SELECT sector FROM organisations WHERE id = $4), $17, $18, $19, $20, $21)
               RETURNING id, reference, reporter_id, submitted_at
           ), e AS (
               INSERT INTO case_events (id, case_id, at, actor_id, kind, audience, data)
               SELECT $16, c.id, c.submitted_at, c.reporter_id, 'submitted', 'reporter',
                      jsonb_build_object('reference', c.reference)
               FROM c
           )
           SELECT c.reference AS "reference!",
                  audit_append($22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32) AS "audit_id!"
           FROM c"#,
        c.id,
        c.year,
        c.kind,
        c.organisation_id,
        c.area_id,
        c.reporter_id,
        c.submitted_at,
        c.occurred_on,
        c.harm,
        &c.categories,
        &c.schedules,
        &c.drug_ids,
        c.high_dose,
        c.report,
        c.search_text,
        event_id,
        c.priority_suggested,
        c.triage_due_at,
        c.online_registration.as_ref().map(|r| r.key_id),
        c.online_registration.as_ref().map(|r| r.enc.as_slice()),
        c.online_registration.as_ref().map(|r| r.digest.as_slice()),
        audit.id,
        audit.stripes,
        audit.at,
        audit.actor_id,
        audit.action,
        audit.subject_type,
        audit.subject_id,
        audit.case_id,
        audit.details,
        audit.prefix,
        audit.middle,
    )
    .fetch_one(conn)
    .await
    .map(|r| r.reference)
}

pub async fn insert_event(
    conn: &mut PgConnection,
    case: &impl CaseRef,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    kind: &str,
    audience: &str,
    data: Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO case_events (id, case_id, at, actor_id, kind, audience, data) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        Uuid::now_v7(),
        case.case_id(),
        at,
        actor_id,
        kind,
        audience,
        data
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_person(
    conn: &mut PgConnection,
    id: Uuid,
    case_id: Uuid,
    subject_type: &str,
    key_id: i16,
    identity_enc: &[u8],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO persons (id, case_id, role, subject_type, key_id, identity_enc, created_at)
         VALUES ($1, $2, 'subject', $3, $4, $5, $6)",
        id,
        case_id,
        subject_type,
        key_id,
        identity_enc,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_identifiers(
    conn: &mut PgConnection,
    person_id: Uuid,
    case_id: Uuid,
    area_id: Uuid,
    identifiers: &[(String, Vec<u8>)],
) -> Result<(), sqlx::Error> {
    let kinds: Vec<String> = identifiers.iter().map(|(k, _)| k.clone()).collect();
    let digests: Vec<Vec<u8>> = identifiers.iter().map(|(_, d)| d.clone()).collect();
    sqlx::query!(
        "INSERT INTO person_identifiers (person_id, case_id, area_id, kind, digest)
         SELECT $1, $2, $3, k, d FROM unnest($4::text[], $5::bytea[]) AS u(k, d)
         ON CONFLICT DO NOTHING",
        person_id,
        case_id,
        area_id,
        &kinds,
        &digests
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The case a retried request made, if this key was used before by this user.
pub struct Idempotent {
    pub request_hash: Vec<u8>,
    pub case_id: Uuid,
}

pub async fn find_idempotency(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
) -> Result<Option<Idempotent>, sqlx::Error> {
    sqlx::query_as!(
        Idempotent,
        "SELECT request_hash, case_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        user_id,
        key
    )
    .fetch_optional(conn)
    .await
}

/// Claims the key for a new case; false if another request claimed it first.
pub async fn claim_idempotency(
    conn: &mut PgConnection,
    user_id: Uuid,
    key: &str,
    request_hash: &[u8],
    case_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, case_id, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        user_id,
        key,
        request_hash,
        case_id,
        now
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// A person of a case, their identity still sealed.
#[derive(Deserialize)]
pub struct PersonRow {
    pub id: Uuid,
    pub subject_type: String,
    pub key_id: i16,
    /// Hex in the JSON of a case's parts (see `case_parts_query`).
    #[serde(deserialize_with = "from_hex")]
    pub identity_enc: Vec<u8>,
}

fn from_hex<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    hex::decode(text.as_ref()).map_err(serde::de::Error::custom)
}

pub async fn persons(
    db: impl sqlx::PgExecutor<'_>,
    case: &impl CaseRef,
) -> Result<Vec<PersonRow>, sqlx::Error> {
    sqlx::query_as!(
        PersonRow,
        r#"SELECT id, subject_type, key_id, identity_enc AS "identity_enc!" FROM persons
           WHERE case_id = $1 AND identity_enc IS NOT NULL ORDER BY created_at, id"#,
        case.case_id()
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Amendment {
    pub id: Uuid,
    pub author_id: Uuid,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_amendment(
    conn: &mut PgConnection,
    a: &Amendment,
    case: &ReportingCase,
) -> Result<(), sqlx::Error> {
    let case_id = case.case_id();
    sqlx::query!(
        "INSERT INTO case_amendments (id, case_id, author_id, text, created_at) VALUES ($1, $2, $3, $4, $5)",
        a.id,
        case_id,
        a.author_id,
        a.text,
        a.created_at
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE cases SET updated_at = $2 WHERE id = $1",
        case_id,
        a.created_at
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimelineEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// Who did it; null on the reporting side's view where it was the CDAO team.
    pub actor_id: Option<Uuid>,
    /// "CDAO team" where the reporting side's view hides who in the team it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_label: Option<String>,
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: Value,
    /// Whether its actor belongs to the reporting organisation (read from the database, never
    /// shown).
    #[serde(skip_serializing, default)]
    pub from_reporting_side: bool,
}

/// A case's corrections, evidence and timeline, each as one JSON array, in one statement with
/// the columns before them (`$head`, from `cases c`) and the conditions after (`$tail`), so that
/// the case page reads its parts in one round trip instead of one each (issue 14). `$audience`
/// narrows the timeline (to what the reporting side may see). The caller has `Json`,
/// `Amendment`, `AttachmentInfo` and `TimelineEvent` in scope (the columns' types are named
/// in the statement, whose column names PostgreSQL cuts at 63 bytes).
macro_rules! case_parts_query {
    ($row:ty, $head:literal, $audience:literal, $tail:literal; $($arg:expr),+) => {
        sqlx::query_as!(
            $row,
            $head + r#"
               COALESCE((SELECT json_agg(x ORDER BY x.created_at, x.id)
                         FROM (SELECT id, author_id, text, created_at FROM case_amendments WHERE case_id = c.id) x),
                        '[]') AS "amendments!: Json<Vec<Amendment>>",
               COALESCE((SELECT json_agg(x ORDER BY x.created_at, x.id)
                         FROM (SELECT id, filename, content_type, size_bytes, uploaded_by, created_at, holds_patient_data
                               FROM attachments WHERE case_id = c.id AND removed_at IS NULL) x),
                        '[]') AS "attachments!: Json<Vec<AttachmentInfo>>",
               COALESCE((SELECT json_agg(x ORDER BY x.at, x.id)
                         FROM (SELECT e.id, e.at, e.actor_id, e.kind, e.data,
                                      COALESCE(u.organisation_id = c.organisation_id, false) AS from_reporting_side
                               FROM case_events e LEFT JOIN users u ON u.id = e.actor_id
                               WHERE e.case_id = c.id "# + $audience + r#") x),
                        '[]') AS "timeline!: Json<Vec<TimelineEvent>>",
               COALESCE((SELECT json_agg(x ORDER BY x.created_at, x.id)
                         FROM (SELECT id, subject_type, key_id, encode(identity_enc, 'hex') AS identity_enc, created_at
                               FROM persons WHERE case_id = c.id AND identity_enc IS NOT NULL) x),
                        '[]') AS "persons!: Json<Vec<PersonRow>>"
               FROM cases c "# + $tail,
            $($arg),+
        )
    };
}
pub(crate) use case_parts_query;

/// What the reporting side reads of a case besides the case row.
pub struct CaseParts {
    pub amendments: Vec<Amendment>,
    pub attachments: Vec<AttachmentInfo>,
    /// Only the events the reporting side may see.
    pub timeline: Vec<TimelineEvent>,
    /// Its persons, sealed (as [`persons`] reads them).
    pub persons: Vec<PersonRow>,
}

struct CasePartsRow {
    amendments: Json<Vec<Amendment>>,
    attachments: Json<Vec<AttachmentInfo>>,
    timeline: Json<Vec<TimelineEvent>>,
    persons: Json<Vec<PersonRow>>,
}

/// The reporting side's parts of a case (see [`CaseParts`]), in one statement.
pub async fn reporting_parts(
    db: impl sqlx::PgExecutor<'_>,
    case: &ReportingCase,
) -> Result<CaseParts, sqlx::Error> {
    let r = case_parts_query!(
        CasePartsRow,
        "SELECT",
        "AND e.audience = 'reporter'",
        "WHERE c.id = $1";
        case.case_id()
    )
    .fetch_one(db)
    .await?;
    Ok(CaseParts {
        amendments: r.amendments.0,
        attachments: r.attachments.0,
        timeline: r.timeline.0,
        persons: r.persons.0,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttachmentInfo {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i32,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
    /// Marked by the CDAO team: it travels on a share only with patient data.
    pub holds_patient_data: bool,
}

pub async fn attachments(
    db: impl sqlx::PgExecutor<'_>,
    case: &impl CaseRef,
) -> Result<Vec<AttachmentInfo>, sqlx::Error> {
    sqlx::query_as!(
        AttachmentInfo,
        "SELECT id, filename, content_type, size_bytes, uploaded_by, created_at, holds_patient_data FROM attachments
         WHERE case_id = $1 AND removed_at IS NULL ORDER BY created_at, id",
        case.case_id()
    )
    .fetch_all(db)
    .await
}

pub struct AttachmentData {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub key_id: i16,
    pub data_enc: Vec<u8>,
}

pub async fn attachment(
    pool: &PgPool,
    case: &impl CaseRef,
    id: Uuid,
) -> Result<Option<AttachmentData>, sqlx::Error> {
    sqlx::query_as!(
        AttachmentData,
        r#"SELECT id, filename, content_type, key_id, data_enc AS "data_enc!" FROM attachments
           WHERE case_id = $1 AND id = $2 AND data_enc IS NOT NULL"#,
        case.case_id(),
        id
    )
    .fetch_optional(pool)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_attachment(
    conn: &mut PgConnection,
    id: Uuid,
    case: &ReportingCase,
    uploaded_by: Uuid,
    filename: &str,
    content_type: &str,
    size_bytes: i32,
    sha256: &[u8],
    key_id: i16,
    data_enc: &[u8],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO attachments (id, case_id, uploaded_by, filename, content_type, size_bytes, sha256, key_id, data_enc, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        id,
        case.case_id(),
        uploaded_by,
        filename,
        content_type,
        size_bytes,
        sha256,
        key_id,
        data_enc,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks (or unmarks) evidence as holding patient data: the holding team's call.
pub async fn mark_patient_data(
    conn: &mut PgConnection,
    case: &crate::access::TriageCase,
    id: Uuid,
    holds: bool,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE attachments SET holds_patient_data = $3 WHERE case_id = $1 AND id = $2",
        case.case_id(),
        id,
        holds
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}
