//! The audit trail (SPEC §4 "Audit event"): the vocabulary of actions and the one function
//! that records an event, inside the caller's transaction, so an action and its audit event
//! commit together or not at all.
//!
//! Tamper evidence: events form hash chains. There are `STRIPES` chains; a transaction
//! appends to the chain picked by its database connection (`pg_backend_pid() % STRIPES`), so
//! every event of one transaction lands in one chain and concurrent transactions mostly lock
//! different chain heads instead of queueing behind one. Each event stores `prev_hash` (the
//! hash of the previous event of its chain) and `hash` = SHA-256 of its canonical content,
//! which includes `prev_hash`. Events hold ids and action names, never identity values.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

mod recorder;
mod search;
pub use recorder::Recorder;
pub use search::*;

pub const STRIPES: i32 = 16;

/// Action names (stable: auditors search by them).
pub mod action {
    pub const SIGN_IN: &str = "auth.sign_in";
    pub const SIGN_IN_FAILED: &str = "auth.sign_in_failed";
    pub const SIGN_IN_LOCKED: &str = "auth.account_locked";
    pub const MFA_ENROLLED: &str = "auth.mfa_enrolled";
    pub const MFA_FAILED: &str = "auth.mfa_failed";
    pub const SIGN_OUT: &str = "auth.sign_out";
    pub const PASSWORD_SET: &str = "auth.password_set";
    pub const PASSWORD_CHANGED: &str = "auth.password_changed";
    pub const PASSWORD_RESET_REQUESTED: &str = "auth.password_reset_requested";
    pub const PASSWORD_RESET: &str = "auth.password_reset";
    pub const RECOVERY_CODE_USED: &str = "auth.recovery_code_used";
    pub const RECOVERY_CODES_CREATED: &str = "auth.recovery_codes_created";
    pub const REAUTHENTICATED: &str = "auth.reauthenticated";
    pub const REAUTH_FAILED: &str = "auth.reauthentication_failed";
    pub const SESSION_ENDED: &str = "auth.session_ended";
    pub const USER_APPROVED: &str = "user.approved";
    pub const USER_UNLOCKED: &str = "user.unlocked";
    pub const TOKEN_CREATED: &str = "token.created";
    pub const TOKEN_REVOKED: &str = "token.revoked";
    pub const TOKEN_ISSUED_CLI: &str = "token.issued_by_operator";
    pub const AREA_CREATED: &str = "area.created";
    pub const AREA_UPDATED: &str = "area.updated";
    pub const ORG_CREATED: &str = "organisation.created";
    pub const ORG_UPDATED: &str = "organisation.updated";
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_INVITED: &str = "user.invitation_issued";
    pub const USER_MFA_RESET: &str = "user.mfa_reset";
    pub const AUDIT_VIEWED: &str = "audit.viewed";
    pub const AUDIT_VERIFIED: &str = "audit.verified";
    pub const AUDIT_EXPORTED: &str = "audit.exported";
    pub const REPORT_SUBMITTED: &str = "case.submitted";
    pub const REPORT_AMENDED: &str = "case.amended";
    pub const ATTACHMENT_ADDED: &str = "case.attachment_added";
    pub const ATTACHMENT_DOWNLOADED: &str = "case.attachment_downloaded";
    pub const ATTACHMENT_MARKED: &str = "case.attachment_marked";
    pub const ACCESS_REFUSED: &str = "access.refused";
    pub const CASE_VIEWED: &str = "case.viewed";
    pub const IDENTITY_VIEWED: &str = "case.identity_viewed";
    pub const RETURN_FILED: &str = "occurrence_return.filed";
    pub const RETURN_CORRECTED: &str = "occurrence_return.corrected";
}

/// What happened, by whom, to what. `details` holds only codes, ids, counts and flags:
/// never names, emails, identifiers or free text.
#[derive(Debug, Clone)]
pub struct Event {
    pub actor_id: Option<Uuid>,
    pub action: &'static str,
    pub subject_type: &'static str,
    pub subject_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub details: Value,
}

impl Event {
    pub fn new(
        actor_id: Option<Uuid>,
        action: &'static str,
        subject_type: &'static str,
        subject_id: Option<Uuid>,
    ) -> Self {
        Self {
            actor_id,
            action,
            subject_type,
            subject_id,
            case_id: None,
            details: json!({}),
        }
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn case(mut self, case_id: Uuid) -> Self {
        self.case_id = Some(case_id);
        self
    }
}

/// The bytes that are hashed: a JSON array in a fixed order. `details` is serialised with
/// sorted keys (serde_json's map), which is also how it reads back from `jsonb`.
#[allow(clippy::too_many_arguments)]
fn canonical(
    id: Uuid,
    stripe: i16,
    seq: i64,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    action: &str,
    subject_type: &str,
    subject_id: Option<Uuid>,
    case_id: Option<Uuid>,
    details: &Value,
    prev_hash: &[u8],
) -> Vec<u8> {
    json!([
        "cdc-audit-v1",
        id,
        stripe,
        seq,
        at.timestamp_micros(),
        actor_id,
        action,
        subject_type,
        subject_id,
        case_id,
        details,
        hex::encode(prev_hash),
    ])
    .to_string()
    .into_bytes()
}

/// The canonical content of an event around the three parts only its chain head knows
/// (stripe, sequence number, previous hash), for `audit_append` in the database to hash:
/// `prefix || stripe || ',' || seq || ',' || middle || ',"' || hex(prev) || '"]'` is exactly
/// [`canonical`]'s output (serde_json writes an array as its elements joined by commas).
#[allow(clippy::too_many_arguments)]
fn canonical_parts(
    id: Uuid,
    at: DateTime<Utc>,
    actor_id: Option<Uuid>,
    action: &str,
    subject_type: &str,
    subject_id: Option<Uuid>,
    case_id: Option<Uuid>,
    details: &Value,
) -> (String, String) {
    let head = json!(["cdc-audit-v1", id]).to_string();
    let prefix = format!("{},", head.strip_suffix(']').unwrap_or(&head));
    let middle = json!([
        at.timestamp_micros(),
        actor_id,
        action,
        subject_type,
        subject_id,
        case_id,
        details
    ])
    .to_string();
    let middle = middle
        .strip_prefix('[')
        .and_then(|m| m.strip_suffix(']'))
        .unwrap_or(&middle)
        .to_string();
    (prefix, middle)
}

/// An event ready to append: what `audit_append` (a database function) takes.
pub struct Appended {
    pub id: Uuid,
    pub stripes: i32,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub action: &'static str,
    pub subject_type: &'static str,
    pub subject_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    pub details: Value,
    /// The canonical content before the stripe, and between the sequence number and the
    /// previous hash (see `canonical_parts`).
    pub prefix: String,
    pub middle: String,
}

impl Appended {
    pub fn new(at: DateTime<Utc>, event: Event) -> Self {
        let id = Uuid::now_v7();
        // jsonb drops nothing we store, but normalise through Value so the hash matches a
        // re-read.
        let details: Value =
            serde_json::from_str(&event.details.to_string()).unwrap_or(Value::Null);
        let (prefix, middle) = canonical_parts(
            id,
            at,
            event.actor_id,
            event.action,
            event.subject_type,
            event.subject_id,
            event.case_id,
            &details,
        );
        Self {
            id,
            stripes: STRIPES,
            at,
            actor_id: event.actor_id,
            action: event.action,
            subject_type: event.subject_type,
            subject_id: event.subject_id,
            case_id: event.case_id,
            details,
            prefix,
            middle,
        }
    }
}

/// Several events as `audit_append_many` takes them: one array per column, in the order the
/// events join the chain.
pub(crate) struct Columns<'a> {
    pub ids: Vec<Uuid>,
    pub at: Vec<DateTime<Utc>>,
    pub actor_ids: Vec<Option<Uuid>>,
    pub actions: Vec<&'a str>,
    pub subject_types: Vec<&'a str>,
    pub subject_ids: Vec<Option<Uuid>>,
    pub case_ids: Vec<Option<Uuid>>,
    pub details: Vec<sqlx::types::Json<&'a Value>>,
    pub prefixes: Vec<&'a str>,
    pub middles: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    pub fn of(events: impl Iterator<Item = &'a Appended> + Clone) -> Self {
        Self {
            ids: events.clone().map(|a| a.id).collect(),
            at: events.clone().map(|a| a.at).collect(),
            actor_ids: events.clone().map(|a| a.actor_id).collect(),
            actions: events.clone().map(|a| a.action).collect(),
            subject_types: events.clone().map(|a| a.subject_type).collect(),
            subject_ids: events.clone().map(|a| a.subject_id).collect(),
            case_ids: events.clone().map(|a| a.case_id).collect(),
            details: events
                .clone()
                .map(|a| sqlx::types::Json(&a.details))
                .collect(),
            prefixes: events.clone().map(|a| a.prefix.as_str()).collect(),
            middles: events.map(|a| a.middle.as_str()).collect(),
        }
    }
}

/// Appends `event` to the audit trail within the caller's transaction, in one round trip:
/// `audit_append` locks the head of the connection's chain, hashes, inserts and moves the head.
pub async fn record(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    event: Event,
) -> Result<Uuid, sqlx::Error> {
    append(conn, &Appended::new(at, event)).await
}

/// Appends an event made ready beforehand (see [`record`]).
pub(crate) async fn append(conn: &mut PgConnection, a: &Appended) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) AS "id!""#,
        a.id,
        a.stripes,
        a.at,
        a.actor_id,
        a.action,
        a.subject_type,
        a.subject_id,
        a.case_id,
        a.details,
        a.prefix,
        a.middle,
    )
    .fetch_one(&mut *conn)
    .await
}

/// Records an event in a transaction of its own (for things that change nothing else,
/// such as a failed sign-in or a view).
pub async fn record_alone(
    pool: &PgPool,
    at: DateTime<Utc>,
    event: Event,
) -> Result<Uuid, sqlx::Error> {
    // One statement, committed on its own: the chain head is locked only while it runs, so
    // views recorded by many readers at once do not queue behind each other's transactions.
    let mut conn = pool.acquire().await?;
    record(&mut conn, at, event).await
}

/// Records a refused access (an invisible thing's 404, a 403): who, which route (its
/// template, never the raw path), which subject. At most one per actor and subject a minute,
/// so a client retrying in a loop cannot flood the trail.
pub async fn record_refusal(
    pool: &PgPool,
    at: DateTime<Utc>,
    actor_id: Uuid,
    route: &str,
    method: &str,
    status: u16,
    subject_id: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Refusals of one actor and subject queue here, so the check below sees the last one.
    let key = format!(
        "access.refused:{actor_id}:{}",
        subject_id.unwrap_or_default()
    );
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
        .execute(&mut *tx)
        .await?;
    let recent = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM audit_events
                          WHERE actor_id = $1 AND at > $2 AND action = 'access.refused'
                            AND subject_id IS NOT DISTINCT FROM $3) AS "e!""#,
        actor_id,
        at - chrono::TimeDelta::minutes(1),
        subject_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if recent {
        tx.rollback().await?;
        return Ok(false);
    }
    let subject_type = subject_type_of(route);
    record(
        &mut tx,
        at,
        Event::new(
            Some(actor_id),
            action::ACCESS_REFUSED,
            subject_type,
            subject_id,
        )
        .details(json!({"route": route, "method": method, "status": status})),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// What kind of thing a route template is about, from its first named segment.
fn subject_type_of(route: &str) -> &'static str {
    let parts: Vec<&str> = route
        .trim_start_matches("/api/v1")
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    match parts.first().copied() {
        Some("cases" | "reports") => "case",
        Some("alerts") => "alert",
        Some("shares") => "share",
        Some("users") | Some("admin") if route.contains("/users") => "user",
        Some("organisations") => "organisation",
        Some("areas") => "area",
        Some("access-requests") => "access_request",
        Some("returns" | "occurrence-returns") => "occurrence_return",
        Some("me") => "api_token",
        _ => "route",
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub events_checked: i64,
    pub first_broken_event_id: Option<Uuid>,
    /// Why the chain is broken, for people (not part of SPEC §7.1's shape, added beside it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Walks every chain and checks each event's hash and link, then each chain's head.
/// The first broken event reported is the earliest (by time) of the chains' first breaks.
///
/// The events and the heads are read in one snapshot (a read-only transaction at repeatable
/// read): read one after the other at read committed, an event appended between the two reads
/// looks like an event cut off the end of its chain.
pub async fn verify(pool: &PgPool) -> Result<Verification, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let v = verify_in_snapshot(&mut tx).await?;
    tx.commit().await?;
    Ok(v)
}

async fn verify_in_snapshot(conn: &mut sqlx::PgConnection) -> Result<Verification, sqlx::Error> {
    struct Break {
        at: DateTime<Utc>,
        id: Uuid,
        why: String,
    }
    let mut breaks: Vec<Break> = Vec::new();
    let mut checked: i64 = 0;
    let mut current_stripe: Option<i16> = None;
    let mut expected_seq: i64 = 1;
    let mut prev_hash: Vec<u8> = vec![0u8; 32];
    let mut last: Option<(Uuid, DateTime<Utc>)> = None;
    let mut stripe_broken = false;
    // Per chain: (stripe, last seq, last hash, last event, already broken).
    type Tail = (i16, i64, Vec<u8>, Option<(Uuid, DateTime<Utc>)>, bool);
    let mut tails: Vec<Tail> = Vec::new();

    let mut rows = sqlx::query!(
        r#"SELECT id, stripe, seq, at, actor_id, action, subject_type, subject_id, case_id,
                  details, prev_hash, hash
           FROM audit_events ORDER BY stripe, seq"#
    )
    .fetch(&mut *conn);
    while let Some(r) = rows.try_next().await? {
        checked += 1;
        if current_stripe != Some(r.stripe) {
            if let Some(s) = current_stripe {
                tails.push((s, expected_seq - 1, prev_hash.clone(), last, stripe_broken));
            }
            current_stripe = Some(r.stripe);
            expected_seq = 1;
            prev_hash = vec![0u8; 32];
            stripe_broken = false;
        }
        if !stripe_broken {
            let computed = crate::crypto::sha256(&canonical(
                r.id,
                r.stripe,
                r.seq,
                r.at,
                r.actor_id,
                &r.action,
                &r.subject_type,
                r.subject_id,
                r.case_id,
                &r.details,
                &r.prev_hash,
            ));
            let why = if r.seq != expected_seq {
                Some(format!(
                    "event {} of chain {} is missing",
                    expected_seq, r.stripe
                ))
            } else if r.prev_hash != prev_hash {
                Some("its link to the previous event does not match".to_string())
            } else if computed != r.hash {
                Some("its content does not match its hash".to_string())
            } else {
                None
            };
            if let Some(why) = why {
                breaks.push(Break {
                    at: r.at,
                    id: r.id,
                    why,
                });
                stripe_broken = true;
            }
        }
        expected_seq = r.seq + 1;
        prev_hash = r.hash.clone();
        last = Some((r.id, r.at));
    }
    drop(rows);
    if let Some(s) = current_stripe {
        tails.push((s, expected_seq - 1, prev_hash.clone(), last, stripe_broken));
    }

    // Each chain must end where its head says: events cut off the end are caught here.
    let heads =
        sqlx::query!("SELECT stripe, seq, head_hash FROM audit_chain_heads ORDER BY stripe")
            .fetch_all(&mut *conn)
            .await?;
    for h in heads {
        let tail = tails.iter().find(|t| t.0 == h.stripe);
        let (seq, hash, last, broken) = match tail {
            Some((_, seq, hash, last, broken)) => (*seq, hash.clone(), *last, *broken),
            None => (0, vec![0u8; 32], None, false),
        };
        if !broken && (seq != h.seq || hash != h.head_hash) {
            let (id, at) = last.unwrap_or((Uuid::nil(), DateTime::<Utc>::MIN_UTC));
            breaks.push(Break {
                at,
                id,
                why: format!(
                    "chain {} ends at event {seq} but its head says {}",
                    h.stripe, h.seq
                ),
            });
        }
    }

    breaks.sort_by_key(|b| (b.at, b.id));
    let first = breaks.into_iter().next();
    Ok(Verification {
        ok: first.is_none(),
        events_checked: checked,
        first_broken_event_id: first.as_ref().map(|b| b.id).filter(|id| !id.is_nil()),
        problem: first.map(|b| b.why),
    })
}

// ---------------------------------------------------------------------------------------------
// For the web layer: the same, with the reader's right checked here.
// ---------------------------------------------------------------------------------------------

/// Verifies the chain for someone who may read the audit trail, and records that they did.
pub async fn verify_for(
    state: &crate::state::AppState,
    actor: &crate::policy::Actor,
) -> crate::error::AppResult<Verification> {
    crate::policy::read_audit(actor)?;
    let v = verify(&state.db).await?;
    record_alone(
        &state.db,
        state.now(),
        Event::new(Some(actor.user_id), action::AUDIT_VERIFIED, "audit", None)
            .details(json!({"ok": v.ok, "events_checked": v.events_checked})),
    )
    .await?;
    Ok(v)
}

/// Records one event in its own transaction, now.
pub async fn note(state: &crate::state::AppState, event: Event) -> crate::error::AppResult<()> {
    record_alone(&state.db, state.now(), event).await?;
    Ok(())
}

/// Records a view's event in a transaction of its own, with the views of others waiting at
/// the same moment (see `recorder`), and returns once it is committed.
pub async fn record_view(
    state: &crate::state::AppState,
    at: DateTime<Utc>,
    event: Event,
) -> crate::error::AppResult<Uuid> {
    state.recorder().record(Appended::new(at, event)).await
}

/// Records a refused access (see `record_refusal`), now.
pub async fn refused(
    state: &crate::state::AppState,
    actor: Uuid,
    route: &str,
    method: &str,
    status: u16,
    subject: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    record_refusal(
        &state.db,
        state.now(),
        actor,
        route,
        method,
        status,
        subject,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::{canonical, canonical_parts};
    use chrono::Utc;
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn the_parts_hashed_in_the_database_make_the_canonical_content() {
        let id = Uuid::now_v7();
        let at = Utc::now();
        let actor = Some(Uuid::now_v7());
        let details = json!({"kind": "incident", "b": [1, "x\"y"], "a": null});
        let prev = [7u8; 32];
        let (prefix, middle) = canonical_parts(
            id,
            at,
            actor,
            "report.submitted",
            "case",
            Some(id),
            None,
            &details,
        );
        let joined = format!(
            "{prefix}{},{},{middle},\"{}\"]",
            5,
            123_456,
            hex::encode(prev)
        );
        let expected = canonical(
            id,
            5,
            123_456,
            at,
            actor,
            "report.submitted",
            "case",
            Some(id),
            None,
            &details,
            &prev,
        );
        assert_eq!(joined.into_bytes(), expected);
    }

    use super::subject_type_of;

    #[test]
    fn refusals_name_what_the_route_is_about() {
        assert_eq!(subject_type_of("/api/v1/cases/{id}"), "case");
        assert_eq!(subject_type_of("/reports/{id}"), "case");
        assert_eq!(subject_type_of("/api/v1/alerts/{id}/acknowledge"), "alert");
        assert_eq!(subject_type_of("/admin/users/{id}"), "user");
        assert_eq!(subject_type_of("/api/v1/users/{id}"), "user");
        assert_eq!(subject_type_of("/statistics"), "route");
    }
}
