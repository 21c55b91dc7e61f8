//! Capabilities (SPEC §3): the only code that turns an actor and an id into a handle on case
//! data. A handle's fields are private, so nothing else can make one; the functions that read
//! or change case data take a handle, never a bare id, so a forgotten check does not compile.
//!
//! - [`case`] hands out a [`VisibleCase`] (404 otherwise) saying how the actor sees it:
//!   as the CDAO team holding it, as its reporting side, or through a live share to another
//!   area's team. From it, [`VisibleCase::triage`], [`VisibleCase::reporting`] and
//!   [`VisibleCase::conversation`] narrow it to what an action needs (403 otherwise).
//! - [`alert`] hands out a member's [`Alert`]; [`Alert::live`] the [`LiveAlert`] whose content
//!   may be shown.
//! - [`managed_share`] and [`access_request`] hand out what the holding team may decide.
//! - [`CaseScope`] and [`AreaScope`] are opaque: only this module makes them.
//!
//! Who may see a case is written once, in [`CaseScope`]: [`CaseScope::view_of`] judges one
//! case and [`CaseScope::branches`] is the same rule as the branches of a list query.
//!
//! The handles live by kind — `cases`, `alerts`, `decisions` (what a holding team decides) —
//! and the scopes in `scopes`; each submodule alone can fill its handles' private fields.

use uuid::Uuid;

use crate::error::AppError;

mod alerts;
mod cases;
mod decisions;
mod scopes;

pub use alerts::{Alert, AlertState, LiveAlert, TeamAlert, alert, team_alert};
pub use cases::{
    CaseRow, Conversation, ReportingCase, RetainedCase, ShareTerms, TriageCase, View, VisibleCase,
    case, case_locked, case_on, cases_past_retention, visible_cases,
};
pub use decisions::{
    DecidableRequest, ManagedErasure, ManagedShare, VisibleRequest, access_request,
    managed_erasure, managed_share,
};
pub use scopes::{
    AreaScope, Branch, CaseScope, Inbox, case_scope, cdao_areas, check_case_filters, inbox,
};

mod sealed {
    pub trait Sealed {}
}

/// Anything naming a case its holder was allowed to reach. Functions that read or change
/// case data take one of these (or a narrower handle) instead of an id.
pub trait CaseRef: sealed::Sealed {
    fn case_id(&self) -> Uuid;
}

fn forbidden(what: &str) -> AppError {
    AppError::Forbidden(format!("Your role does not allow you to {what}."))
}

#[cfg(test)]
mod fixtures {
    use chrono::Utc;
    use serde_json::Value;
    use uuid::Uuid;

    use super::{CaseRow, ShareTerms};
    use crate::domain::directory::Role;
    use crate::policy::{Actor, Via};

    pub(super) fn actor(role: Role, org: Uuid, areas: Vec<Uuid>) -> Actor {
        Actor {
            user_id: Uuid::now_v7(),
            role,
            name: "T".into(),
            email: "t@example.org".into(),
            organisation_id: Some(org),
            organisation_name: None,
            area_ids: areas,
            via: Via::Session,
        }
    }

    pub(super) fn row(reporter: Uuid, org: Uuid, area: Uuid) -> CaseRow {
        CaseRow {
            id: Uuid::now_v7(),
            reference: "CD-2026-000001".into(),
            kind: "incident".into(),
            status: "new".into(),
            priority: None,
            priority_suggested: None,
            assignee_id: None,
            triaged_at: None,
            organisation_id: org,
            organisation_name: "Org".into(),
            sector: "community_pharmacy".into(),
            area_id: area,
            area_name: "Area".into(),
            reporter_id: reporter,
            submitted_at: Utc::now(),
            updated_at: Utc::now(),
            report: Value::Null,
            details_removed_at: None,
        }
    }

    pub(super) fn terms() -> ShareTerms {
        ShareTerms {
            share_id: Uuid::now_v7(),
            disclosure: "identified".into(),
            include_patient_data: false,
            include_organisation_name: true,
            lawful_basis: "public_task_health_care".into(),
            purpose: "p".into(),
            summary: "s".into(),
            expires_at: Utc::now(),
            attachment_ids: vec![],
        }
    }
}
