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

/// Appends `event` to the audit trail within the caller's transaction.
pub async fn record(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    event: Event,
) -> Result<Uuid, sqlx::Error> {
    let head = sqlx::query!(
        r#"SELECT stripe, seq, head_hash FROM audit_chain_heads
           WHERE stripe = (pg_backend_pid() % $1)::smallint FOR UPDATE"#,
        STRIPES
    )
    .fetch_one(&mut *conn)
    .await?;
    let id = Uuid::now_v7();
    let seq = head.seq + 1;
    // jsonb drops nothing we store, but normalise through Value so the hash matches a re-read.
    let details: Value = serde_json::from_str(&event.details.to_string()).unwrap_or(Value::Null);
    let hash = crate::crypto::sha256(&canonical(
        id,
        head.stripe,
        seq,
        at,
        event.actor_id,
        event.action,
        event.subject_type,
        event.subject_id,
        event.case_id,
        &details,
        &head.head_hash,
    ));
    sqlx::query!(
        r#"WITH ins AS (
               INSERT INTO audit_events (id, stripe, seq, at, actor_id, action, subject_type,
                                         subject_id, case_id, details, prev_hash, hash)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           )
           UPDATE audit_chain_heads SET seq = $3, head_hash = $12 WHERE stripe = $2"#,
        id,
        head.stripe,
        seq,
        at,
        event.actor_id,
        event.action,
        event.subject_type,
        event.subject_id,
        event.case_id,
        details,
        head.head_hash,
        hash,
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Records an event in a transaction of its own (for things that change nothing else,
/// such as a failed sign-in or a view).
pub async fn record_alone(
    pool: &PgPool,
    at: DateTime<Utc>,
    event: Event,
) -> Result<Uuid, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let id = record(&mut tx, at, event).await?;
    tx.commit().await?;
    Ok(id)
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
pub async fn verify(pool: &PgPool) -> Result<Verification, sqlx::Error> {
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
    .fetch(pool);
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
            .fetch_all(pool)
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditItem {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub subject_type: String,
    pub subject_id: Option<Uuid>,
    pub case_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub details: Value,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    /// Any of these users (a search by email or name).
    pub actor_ids: Option<Vec<Uuid>>,
    pub case_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Keyset cursor: events strictly older than (at, id).
    pub before: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// Newest first. `action` matches a whole name or a prefix ending in '.' (e.g. `auth.`).
pub async fn search(pool: &PgPool, f: &AuditFilter) -> Result<Vec<AuditItem>, sqlx::Error> {
    let action_prefix = f
        .action
        .as_deref()
        .filter(|a| a.ends_with('.'))
        .map(|a| format!("{}%", a.replace('%', "").replace('_', "\\_")));
    let action_exact = f.action.as_deref().filter(|a| !a.ends_with('.'));
    let (before_at, before_id) = match f.before {
        Some((at, id)) => (Some(at), Some(id)),
        None => (None, None),
    };
    sqlx::query_as!(
        AuditItem,
        r#"SELECT id, at, actor_id, action, subject_type, subject_id, case_id, details
           FROM audit_events
           WHERE ($1::uuid IS NULL OR actor_id = $1)
             AND ($2::uuid IS NULL OR case_id = $2)
             AND ($3::uuid IS NULL OR subject_id = $3)
             AND ($4::text IS NULL OR action = $4)
             AND ($5::text IS NULL OR action LIKE $5)
             AND ($6::timestamptz IS NULL OR at >= $6)
             AND ($7::timestamptz IS NULL OR at < $7)
             AND ($8::timestamptz IS NULL OR (at, id) < ($8, $9::uuid))
             AND ($11::uuid[] IS NULL OR actor_id = ANY($11))
           ORDER BY at DESC, id DESC
           LIMIT $10"#,
        f.actor_id,
        f.case_id,
        f.subject_id,
        action_exact,
        action_prefix,
        f.from,
        f.to,
        before_at,
        before_id,
        f.limit,
        f.actor_ids.as_deref(),
    )
    .fetch_all(pool)
    .await
}

/// A group of actions: (prefix or "", its name, [(action, plain words)]).
pub type ActionGroup = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// The actions in plain words, grouped, for the auditor's search: (group, [(name, words)]).
/// A group's prefix (`auth.`), where it has one, finds every action of the group.
pub const ACTION_WORDS: &[ActionGroup] = &[
    (
        "auth.",
        "Signing in and out",
        &[
            ("auth.sign_in", "Signed in"),
            ("auth.sign_in_failed", "Sign-in failed"),
            (
                "auth.account_locked",
                "Account locked after failed sign-ins",
            ),
            ("auth.mfa_enrolled", "Authenticator app set up"),
            ("auth.mfa_failed", "Authenticator code wrong"),
            ("auth.sign_out", "Signed out"),
            ("auth.password_set", "Password set from an invitation"),
            ("auth.password_changed", "Password changed"),
            ("auth.password_reset_requested", "Password reset asked for"),
            ("auth.password_reset", "Password reset"),
            ("auth.recovery_code_used", "Recovery code used"),
            ("auth.recovery_codes_created", "Recovery codes made"),
            ("auth.reauthenticated", "Password given again"),
            (
                "auth.reauthentication_failed",
                "Password given again: wrong",
            ),
            ("auth.session_ended", "Session ended"),
        ],
    ),
    (
        "case.",
        "Cases",
        &[
            ("case.submitted", "Report sent"),
            ("case.viewed", "Case viewed"),
            ("case.identity_viewed", "Protected details viewed"),
            ("case.amended", "Report corrected or added to"),
            ("case.attachment_added", "Evidence added"),
            ("case.attachment_downloaded", "Evidence downloaded"),
            (
                "case.attachment_marked",
                "Evidence marked as holding patient data",
            ),
            ("case.triaged", "Case triaged"),
            ("case.note_added", "Internal note added"),
            ("case.message_sent", "Message sent"),
            ("case.information_requested", "More information asked for"),
            ("case.linked", "Cases linked"),
            ("case.closed", "Case closed"),
            ("case.reopened", "Case reopened"),
            (
                "case.matches_viewed",
                "Other reports about the person viewed",
            ),
            ("case.exported", "Cases downloaded as CSV"),
        ],
    ),
    (
        "share.",
        "Sharing with LIN members",
        &[
            ("share.previewed", "Share previewed"),
            ("share.created", "Share made"),
            ("share.approved", "Share approved"),
            ("share.declined", "Share declined"),
            ("share.revoked", "Share withdrawn"),
        ],
    ),
    (
        "alert.",
        "Alerts",
        &[
            ("alert.viewed", "Alert read"),
            ("alert.identity_viewed", "Alert's protected details read"),
            ("alert.acknowledged", "Alert acknowledged"),
            ("alert.responded", "Member responded"),
            ("alert.replied", "CDAO team replied on an alert"),
            ("alert.attachment_downloaded", "Alert evidence downloaded"),
        ],
    ),
    (
        "",
        "Access",
        &[
            ("access.refused", "Access refused"),
            ("access_request.created", "Access to a case asked for"),
            ("access_request.approved", "Access to a case given"),
            ("access_request.declined", "Access to a case refused"),
        ],
    ),
    (
        "",
        "People's rights",
        &[
            ("subject_access.requested", "Subject access request made"),
            (
                "subject_access.exported",
                "Subject access request downloaded",
            ),
            ("person.erasure_requested", "Erasure asked for"),
            ("person.erasure_declined", "Erasure declined"),
            ("person.erased", "Person erased"),
        ],
    ),
    (
        "",
        "Accounts",
        &[
            ("user.created", "Account made"),
            ("user.updated", "Account changed"),
            ("user.approved", "Account approved"),
            ("user.unlocked", "Account unlocked"),
            ("user.invitation_issued", "Invitation link made"),
            ("user.mfa_reset", "Authenticator reset"),
            ("token.created", "API token made"),
            ("token.revoked", "API token revoked"),
            (
                "token.issued_by_operator",
                "API token issued by the operator",
            ),
        ],
    ),
    (
        "",
        "Areas and organisations",
        &[
            ("area.created", "Area made"),
            ("area.updated", "Area changed"),
            ("organisation.created", "Organisation made"),
            ("organisation.updated", "Organisation changed"),
        ],
    ),
    (
        "occurrence_return.",
        "Occurrence returns",
        &[
            ("occurrence_return.filed", "Occurrence return filed"),
            ("occurrence_return.corrected", "Occurrence return corrected"),
        ],
    ),
    (
        "audit.",
        "The audit trail",
        &[
            ("audit.viewed", "Audit trail searched"),
            ("audit.verified", "Audit trail verified"),
            ("audit.exported", "Audit trail downloaded"),
        ],
    ),
    (
        "retention.",
        "Retention",
        &[("retention.run", "Retention run")],
    ),
    (
        "initiative.",
        "Improvement initiatives",
        &[("initiative.recorded", "Initiative recorded")],
    ),
];

/// An action in plain words ("Signed in"), or its name when it has none.
pub fn action_words(name: &str) -> &str {
    ACTION_WORDS
        .iter()
        .flat_map(|(_, _, actions)| actions.iter())
        .find(|(n, _)| *n == name)
        .map(|(_, w)| *w)
        .unwrap_or(name)
}

/// What the audit search shows beside the ids of a page of events (users by name and email,
/// cases by reference, organisations and areas by name). Looked up when shown; events keep ids.
#[derive(Debug, Default)]
pub struct Names {
    pub users: std::collections::HashMap<Uuid, (String, String)>,
    pub cases: std::collections::HashMap<Uuid, String>,
    pub others: std::collections::HashMap<Uuid, String>,
}

pub async fn names_for(pool: &PgPool, items: &[AuditItem]) -> Result<Names, sqlx::Error> {
    let mut users: Vec<Uuid> = items.iter().filter_map(|i| i.actor_id).collect();
    users.extend(
        items
            .iter()
            .filter(|i| i.subject_type == "user")
            .filter_map(|i| i.subject_id),
    );
    let cases: Vec<Uuid> = items.iter().filter_map(|i| i.case_id).collect();
    let others: Vec<Uuid> = items
        .iter()
        .filter(|i| matches!(i.subject_type.as_str(), "organisation" | "area"))
        .filter_map(|i| i.subject_id)
        .collect();
    let dedup = |mut v: Vec<Uuid>| {
        v.sort();
        v.dedup();
        v
    };
    Ok(Names {
        users: crate::db::audit::user_names(pool, &dedup(users)).await?,
        cases: crate::db::audit::case_references(pool, &dedup(cases)).await?,
        others: crate::db::audit::directory_names(pool, &dedup(others)).await?,
    })
}

/// The case an auditor means by a reference (`CD-2026-000009`).
pub async fn case_by_reference(
    pool: &PgPool,
    reference: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    crate::db::audit::case_by_reference(pool, reference).await
}

/// The users an auditor means by an email or (part of) a name.
pub async fn users_matching(pool: &PgPool, text: &str) -> Result<Vec<Uuid>, sqlx::Error> {
    crate::db::audit::users_matching(pool, text).await
}

#[cfg(test)]
mod tests {
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
