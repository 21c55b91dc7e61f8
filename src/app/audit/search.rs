//! The audit search (who did what, when): the auditor's filters over the trail, newest first
//! with a keyset cursor, the actions in plain words, and the names shown beside the ids of a
//! page of events (events themselves keep ids only).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

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

/// Events matching `f` for someone who may read the audit trail (403 otherwise).
pub async fn read(
    state: &crate::state::AppState,
    actor: &crate::policy::Actor,
    f: &AuditFilter,
) -> crate::error::AppResult<Vec<AuditItem>> {
    crate::policy::read_audit(actor)?;
    Ok(search(&state.db, f).await?)
}

/// The actions in plain words, grouped, for the auditor's search: (group, [(name, words)]).
/// A group's prefix (`auth.`), where it has one, finds every action of the group.
/// (prefix or name, the group in words, [(action, in words)]).
pub type ActionGroup = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

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

pub async fn names_for(
    state: &crate::state::AppState,
    items: &[AuditItem],
) -> Result<Names, sqlx::Error> {
    let pool = &state.db;
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
        users: crate::app::db::audit::user_names(pool, &dedup(users)).await?,
        cases: crate::app::db::audit::case_references(pool, &dedup(cases)).await?,
        others: crate::app::db::audit::directory_names(pool, &dedup(others)).await?,
    })
}

/// The case an auditor means by a reference (`CD-2026-000009`).
pub async fn case_by_reference(
    state: &crate::state::AppState,
    reference: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    crate::app::db::audit::case_by_reference(&state.db, reference).await
}

/// The users an auditor means by an email or (part of) a name.
pub async fn users_matching(
    state: &crate::state::AppState,
    text: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    crate::app::db::audit::users_matching(&state.db, text).await
}
