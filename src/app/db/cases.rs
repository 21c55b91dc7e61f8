//! Cases: their reports as submitted, persons, identifiers, timeline, amendments, evidence.
//! Reads and changes of a case take a handle from `access` (a `CaseRef`), never a bare id;
//! lists take the opaque `CaseScope` that `access` hands out.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::access::{Branch, CaseRef, CaseScope, ReportingCase};

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
/// transaction), and returns its new reference, `CD-YYYY-NNNNNN`.
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
               VALUES ($1, format('CD-%s-%s', $2::int, lpad(next_case_number($2::int)::text, 6, '0')),
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

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub statuses: Vec<String>,
    pub kind: Option<String>,
    pub categories: Vec<String>,
    pub schedules: Vec<String>,
    pub harms: Vec<String>,
    pub organisation_id: Option<Uuid>,
    pub priorities: Vec<String>,
    pub sectors: Vec<String>,
    pub assignee_id: Option<Uuid>,
    /// Only cases nobody is assigned to.
    pub unassigned: bool,
    pub drug_id: Option<Uuid>,
    /// Only cases still new after their triage target.
    pub overdue: bool,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    pub now: Option<DateTime<Utc>>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub q: Option<String>,
    /// The blind indexes `q` could be (kind, digest), matched against the people named in the
    /// cases the scope holds. The service sets them from `q` for the CDAO team only, and
    /// replaces whatever a caller put here.
    pub q_identifiers: Vec<(String, Vec<u8>)>,
    /// Keyset cursor: cases strictly before (submitted_at, id) in newest-first order.
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

impl CaseFilter {
    /// Whether the best plan for the list depends on the filter's values, not only on which
    /// filters are set: a word searched for, or a category, schedule or drug (array and text
    /// indexes), can be rare or common, and only a plan made for the value knows which. The
    /// other filters are equalities and ranges on the columns of the list's indexes, which
    /// every plan walks the same way.
    pub fn plan_depends_on_values(&self) -> bool {
        self.q.as_deref().is_some_and(|q| !q.trim().is_empty())
            || !self.categories.is_empty()
            || !self.schedules.is_empty()
            || self.drug_id.is_some()
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CaseSummary {
    pub id: Uuid,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub area_id: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub occurred_on: Option<NaiveDate>,
    pub harm: Option<String>,
    pub categories: Vec<String>,
    pub schedules: Vec<String>,
    pub high_dose: bool,
    pub priority: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub sector: String,
    pub triage_due_at: Option<DateTime<Utc>>,
    /// The CDAO team's suggested priority (SPEC §4), for the team holding the case.
    pub suggested_priority: Option<String>,
    /// The drugs named, in the report's order (for the one-line summary of lists, which names
    /// them from the drug catalogue).
    #[serde(skip)]
    pub drug_ids: Vec<Uuid>,
    /// The subject types of the persons named (never a name); read for persons of concern
    /// only, the one kind whose summary line names them.
    #[serde(skip)]
    pub subject_types: Vec<String>,
    /// Whether the caller's team holds the case (not only sees it through a share).
    #[serde(skip)]
    pub holding: bool,
}

/// `column = value` for one value (so an index can be walked in order), `= ANY` for several.
fn push_in(qb: &mut QueryBuilder<Postgres>, column: &str, values: &[String]) {
    match values {
        [] => {}
        [one] => {
            qb.push(format!(" AND {column} = ")).push_bind(one.clone());
        }
        many => {
            qb.push(format!(" AND {column} = ANY("))
                .push_bind(many.to_vec())
                .push(")");
        }
    }
}

/// The filters, on one branch of the scope. People named are matched only on branches that
/// hold their cases, never on cases seen through a share.
fn push_filters(qb: &mut QueryBuilder<Postgres>, f: &CaseFilter, holding: bool) {
    push_in(qb, "c.status", &f.statuses);
    if let Some(k) = &f.kind {
        qb.push(" AND c.kind = ").push_bind(k.clone());
    }
    if !f.categories.is_empty() {
        qb.push(" AND c.categories && ")
            .push_bind(f.categories.clone());
    }
    if !f.schedules.is_empty() {
        qb.push(" AND c.schedules && ")
            .push_bind(f.schedules.clone());
    }
    push_in(qb, "c.harm", &f.harms);
    if let Some(o) = f.organisation_id {
        qb.push(" AND c.organisation_id = ").push_bind(o);
    }
    push_in(qb, "c.priority", &f.priorities);
    push_in(qb, "c.sector", &f.sectors);
    if let Some(a) = f.assignee_id {
        qb.push(" AND c.assignee_id = ").push_bind(a);
    }
    if f.unassigned {
        qb.push(" AND c.assignee_id IS NULL");
    }
    if let Some(d) = f.drug_id {
        qb.push(" AND c.drug_ids @> ARRAY[")
            .push_bind(d)
            .push("]::uuid[]");
    }
    if f.overdue {
        qb.push(" AND c.status = 'new' AND c.triage_due_at < ")
            .push_bind(f.now.unwrap_or_else(Utc::now));
    }
    if let Some(d) = f.from {
        qb.push(" AND c.submitted_at >= ")
            .push_bind(d)
            .push("::date::timestamp AT TIME ZONE 'Europe/London'");
    }
    if let Some(d) = f.to {
        qb.push(" AND c.submitted_at < (")
            .push_bind(d)
            .push("::date + 1)::timestamp AT TIME ZONE 'Europe/London'");
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let upper = q.to_uppercase();
        let digits = upper.trim_start_matches("CD-").replace('-', "");
        if upper.starts_with("CD-") {
            qb.push(" AND c.reference LIKE ")
                .push_bind(format!("{}%", upper.replace('%', "").replace('_', "\\_")));
        } else {
            qb.push(" AND (");
            if digits.len() >= 3 && digits.len() <= 10 && digits.bytes().all(|b| b.is_ascii_digit())
            {
                // A partial reference ("000008", "2026-000008"): the reference ends with it.
                qb.push("c.reference LIKE ")
                    .push_bind(format!("%{}", upper.trim_start_matches("CD-")));
            } else {
                qb.push("c.search_text @@ websearch_to_tsquery('english', ")
                    .push_bind(q.to_string())
                    .push(")");
            }
            if holding && !f.q_identifiers.is_empty() {
                let (kinds, digests): (Vec<String>, Vec<Vec<u8>>) =
                    f.q_identifiers.iter().cloned().unzip();
                qb.push(
                    " OR c.id IN (SELECT pi.case_id FROM person_identifiers pi
                         JOIN unnest(",
                )
                .push_bind(kinds)
                .push("::text[], ")
                .push_bind(digests)
                .push(
                    "::bytea[]) AS w(kind, digest) ON pi.kind = w.kind AND pi.digest = w.digest)",
                );
            }
            qb.push(")");
        }
    }
    if let Some((at, id)) = f.before {
        qb.push(if f.oldest_first {
            " AND (c.submitted_at, c.id) > ("
        } else {
            " AND (c.submitted_at, c.id) < ("
        })
        .push_bind(at)
        .push(", ")
        .push_bind(id)
        .push(")");
    }
}

/// Newest (or oldest) first, scoped and filtered. Each branch of the scope is its own
/// ordered, limited query, so PostgreSQL walks an index in order and stops after `limit`
/// rows (an `area_id = ANY(...)` would make it sort every match); the branches are then
/// merged. Every value is bound. `holding` on each row says whether the scope holds the case
/// (rather than seeing it through a share).
pub async fn list_cases(
    pool: &PgPool,
    scope: &CaseScope,
    f: &CaseFilter,
) -> Result<Vec<CaseSummary>, sqlx::Error> {
    let branches = scope.branches();
    let order = if f.oldest_first {
        " ORDER BY submitted_at ASC, id ASC LIMIT "
    } else {
        " ORDER BY submitted_at DESC, id DESC LIMIT "
    };
    let now = f.now.unwrap_or_else(Utc::now);
    // The limit is written into the statement, not bound: with a bound limit PostgreSQL's
    // generic plan never looks as cheap as a custom one, so it plans the statement afresh on
    // every call (measured: 1.5 ms of planning for a 0.4 ms read). An integer cannot inject.
    let limit = f.limit.to_string();
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT * FROM (");
    for (i, b) in branches.iter().enumerate() {
        if i > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push(
            "(SELECT c.id, c.reference, c.kind, c.status, c.organisation_id, o.name AS organisation_name, c.area_id,
                     c.submitted_at, c.occurred_on, c.harm, c.categories, c.schedules, c.high_dose,
                     c.priority, c.priority_suggested AS suggested_priority, c.assignee_id, c.sector, c.triage_due_at,
                     c.drug_ids,
                     CASE WHEN c.kind = 'person_concern'
                          THEN ARRAY(SELECT p.subject_type FROM persons p WHERE p.case_id = c.id ORDER BY p.created_at)
                          ELSE '{}' END AS subject_types, ",
        )
        .push(if matches!(b, Branch::SharedWith(_)) {
            "false"
        } else {
            "true"
        })
        .push(" AS holding FROM cases c JOIN organisations o ON o.id = c.organisation_id WHERE ");
        push_branch(&mut qb, b, now);
        push_filters(&mut qb, f, !matches!(b, Branch::SharedWith(_)));
        qb.push(
            order
                .replace("submitted_at", "c.submitted_at")
                .replace(" id ", " c.id "),
        )
        .push(&limit)
        .push(")");
    }
    qb.push(") x").push(order).push(&limit);
    qb.build_query_as::<CaseSummary>().fetch_all(pool).await
}

/// The case list's total: exact up to `cap`, else `cap + 1` (each branch stops counting there,
/// so a large total costs no more than `cap` index entries). The cursor is ignored.
pub async fn count_cases(
    pool: &PgPool,
    scope: &CaseScope,
    f: &CaseFilter,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let mut f = f.clone();
    f.before = None;
    let now = f.now.unwrap_or_else(Utc::now);
    // The branches are a derived table of their own: `(SELECT … LIMIT n) LIMIT m` with one
    // branch is "multiple LIMIT clauses" to PostgreSQL.
    // Written in, not bound, for the reason given in `list_cases`.
    let stop = (cap + 1).to_string();
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("SELECT count(*) FROM (SELECT 1 FROM (");
    for (i, b) in scope.branches().iter().enumerate() {
        if i > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push("(SELECT 1 FROM cases c WHERE ");
        push_branch(&mut qb, b, now);
        push_filters(&mut qb, &f, !matches!(b, Branch::SharedWith(_)));
        qb.push(" LIMIT ").push(&stop).push(")");
    }
    qb.push(") u LIMIT ").push(&stop).push(") x");
    if !f.plan_depends_on_values() {
        // PostgreSQL would plan this count afresh on every call: knowing the status, it can
        // use a partial index that a generic plan cannot, so the custom plan always looks
        // cheaper. Planning it took 0.5-0.7 ms, as long as counting the 1,001 entries. The
        // generic plan walks the list's own index and counts as fast, so it is forced here,
        // for this statement only (a read-only transaction; `SET LOCAL` ends with it).
        let mut tx = pool.begin_with(GENERIC_PLAN_READ).await?;
        let n = qb.build_query_scalar::<i64>().fetch_one(&mut *tx).await?;
        tx.commit().await?;
        return Ok(n);
    }
    qb.build_query_scalar::<i64>().fetch_one(pool).await
}

/// Opens a read-only transaction whose statements use generic plans (one round trip).
const GENERIC_PLAN_READ: &str = "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan";

/// The rows of one branch of a scope.
fn push_branch(qb: &mut QueryBuilder<Postgres>, b: &Branch, now: DateTime<Utc>) {
    {
        match b {
            Branch::Area(a) => qb.push("c.area_id = ").push_bind(*a),
            Branch::Reporter(r) => qb.push("c.reporter_id = ").push_bind(*r),
            Branch::Organisation(o) => qb.push("c.organisation_id = ").push_bind(*o),
            // Cases of other areas shared with the team are few.
            Branch::SharedWith(areas) => qb
                .push("c.id IN (SELECT s.case_id FROM shares s WHERE s.recipient_area_id = ANY(")
                .push_bind(areas.clone())
                .push(") AND s.approval = 'approved' AND s.revoked_at IS NULL AND s.expires_at > ")
                .push_bind(now)
                .push(") AND NOT c.area_id = ANY(")
                .push_bind(areas.clone())
                .push(")"),
        };
    }
}

pub struct PersonRow {
    pub id: Uuid,
    pub subject_type: String,
    pub key_id: i16,
    pub identity_enc: Vec<u8>,
}

pub async fn persons(pool: &PgPool, case: &impl CaseRef) -> Result<Vec<PersonRow>, sqlx::Error> {
    sqlx::query_as!(
        PersonRow,
        r#"SELECT id, subject_type, key_id, identity_enc AS "identity_enc!" FROM persons
           WHERE case_id = $1 AND identity_enc IS NOT NULL ORDER BY created_at, id"#,
        case.case_id()
    )
    .fetch_all(pool)
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
                        '[]') AS "timeline!: Json<Vec<TimelineEvent>>"
               FROM cases c "# + $tail,
            $($arg),+
        )
    };
}
pub(crate) use case_parts_query;

/// What the reporting side reads of a case besides the case row and the persons.
pub struct CaseParts {
    pub amendments: Vec<Amendment>,
    pub attachments: Vec<AttachmentInfo>,
    /// Only the events the reporting side may see.
    pub timeline: Vec<TimelineEvent>,
}

struct CasePartsRow {
    amendments: Json<Vec<Amendment>>,
    attachments: Json<Vec<AttachmentInfo>>,
    timeline: Json<Vec<TimelineEvent>>,
}

/// The reporting side's parts of a case (see [`CaseParts`]), in one statement.
pub async fn reporting_parts(
    pool: &PgPool,
    case: &ReportingCase,
) -> Result<CaseParts, sqlx::Error> {
    let r = case_parts_query!(
        CasePartsRow,
        "SELECT",
        "AND e.audience = 'reporter'",
        "WHERE c.id = $1";
        case.case_id()
    )
    .fetch_one(pool)
    .await?;
    Ok(CaseParts {
        amendments: r.amendments.0,
        attachments: r.attachments.0,
        timeline: r.timeline.0,
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
    pool: &PgPool,
    case: &impl CaseRef,
) -> Result<Vec<AttachmentInfo>, sqlx::Error> {
    sqlx::query_as!(
        AttachmentInfo,
        "SELECT id, filename, content_type, size_bytes, uploaded_by, created_at, holds_patient_data FROM attachments
         WHERE case_id = $1 AND removed_at IS NULL ORDER BY created_at, id",
        case.case_id()
    )
    .fetch_all(pool)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_searches_and_array_filters_make_the_plan_depend_on_their_values() {
        let plain = CaseFilter {
            statuses: vec!["new".into()],
            priorities: vec!["high".into(), "urgent".into()],
            sectors: vec!["community_pharmacy".into()],
            kind: Some("incident".into()),
            unassigned: true,
            overdue: true,
            from: NaiveDate::from_ymd_opt(2026, 1, 1),
            q: Some("  ".into()),
            ..Default::default()
        };
        assert!(!plain.plan_depends_on_values());
        for f in [
            CaseFilter {
                q: Some("morphine".into()),
                ..plain.clone()
            },
            CaseFilter {
                categories: vec!["theft_or_diversion".into()],
                ..plain.clone()
            },
            CaseFilter {
                schedules: vec!["2".into()],
                ..plain.clone()
            },
            CaseFilter {
                drug_id: Some(Uuid::nil()),
                ..plain.clone()
            },
        ] {
            assert!(f.plan_depends_on_values(), "{f:?}");
        }
    }
}
