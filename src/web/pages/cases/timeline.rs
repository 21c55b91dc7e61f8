//! The timeline and who has viewed the case, as far as the CDAO team may know who did what.

use std::collections::HashMap;

use serde_json::Value;
use uuid::Uuid;

use crate::domain::share::ActionTaken;

use super::risk::grade_label;
use super::rows::text_lines;
use crate::domain::report::CaseStatus;
use crate::domain::triage::{self as rules, Outcome, Priority, WellFounded};
use crate::records::TimelineEvent;
use crate::web::pages::account::uk_time;

pub struct EventRow {
    pub at: String,
    pub who: String,
    pub title: String,
    pub lines: Vec<String>,
    pub internal: bool,
    /// Where to answer it (a member's response: the alert's conversation).
    pub reply_href: Option<String>,
}
pub struct LogRow {
    pub at: String,
    pub who: String,
    pub role_text: String,
    pub action_text: String,
    pub purpose: String,
}
/// Timeline events only the CDAO team makes.
const CDAO_ONLY: &[&str] = &[
    "shared",
    "share_approved",
    "share_revoked",
    "note",
    "triaged",
    "outcome",
    "closed",
    "reopened",
    "linked",
    "access_requested",
    "access_decided",
];

/// Who did something on the timeline, as far as the CDAO may know it.
fn who(
    e: &TimelineEvent,
    cdaos: &HashMap<Uuid, String>,
    organisation: &str,
    from_reporting_side: bool,
) -> String {
    match e.actor_id.and_then(|a| cdaos.get(&a)) {
        Some(n) => format!("{n}, CDAO team"),
        None if e.actor_id.is_none() => "CD Concerns".into(),
        // Someone the CDAO cannot name: the reporting side, unless only the team does this.
        None if from_reporting_side || !CDAO_ONLY.contains(&e.kind.as_str()) => {
            format!("{organisation} (reporting organisation)")
        }
        None => "Lead CDAO team".into(),
    }
}

fn change_lines(data: &Value, cdaos: &HashMap<Uuid, String>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(s) = data.get("status") {
        let label = |k: &str| {
            s.get(k)
                .and_then(Value::as_str)
                .and_then(CaseStatus::parse)
                .map(|x| x.label().to_lowercase())
                .unwrap_or_default()
        };
        out.push(format!("Status: {} to {}", label("from"), label("to")));
    }
    if let Some(p) = data.get("priority") {
        let label = |k: &str| {
            p.get(k)
                .and_then(Value::as_str)
                .and_then(Priority::parse)
                .map(|x| x.label().to_string())
                .unwrap_or_else(|| "not set".into())
        };
        out.push(format!("Priority: {} to {}", label("from"), label("to")));
    }
    if let Some(a) = data.get("assignee_id") {
        out.push(
            match a
                .get("to")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
            {
                Some(id) => format!(
                    "Assigned to {}",
                    cdaos.get(&id).cloned().unwrap_or_else(|| "a CDAO".into())
                ),
                None => "No longer assigned".into(),
            },
        );
    }
    if let Some(r) = data.get("risk") {
        let c = r.get("consequence").and_then(Value::as_u64).unwrap_or(0);
        let l = r.get("likelihood").and_then(Value::as_u64).unwrap_or(0);
        if let Some(g) =
            rules::risk_grade(u8::try_from(c).unwrap_or(0), u8::try_from(l).unwrap_or(0))
        {
            out.push(format!(
                "Risk: consequence {c} × likelihood {l} = {} ({})",
                g.score,
                grade_label(g.grade).to_lowercase()
            ));
        }
    }
    out
}

fn status_label(v: Option<&Value>) -> String {
    v.and_then(Value::as_str)
        .and_then(CaseStatus::parse)
        .map(|s| s.label().to_lowercase())
        .unwrap_or_default()
}

pub(super) struct Names<'a> {
    pub(super) member_orgs: &'a HashMap<Uuid, String>,
    pub(super) cdaos: &'a HashMap<Uuid, String>,
    pub(super) areas: &'a HashMap<Uuid, String>,
    pub(super) links: &'a HashMap<Uuid, String>,
    pub(super) amendments: &'a HashMap<Uuid, Vec<String>>,
    pub(super) attachments: &'a HashMap<Uuid, String>,
    pub(super) organisation: &'a str,
}

/// The member organisations an event names in its `organisation_ids`.
fn member_orgs(n: &Names<'_>, d: &Value) -> Vec<String> {
    d.get("organisation_ids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().and_then(|x| Uuid::parse_str(x).ok()))
                .map(|id| {
                    n.member_orgs
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| "a member organisation".into())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The member organisation an alert event names.
fn member_name(n: &Names<'_>, d: &Value) -> Option<String> {
    let id = d
        .get("organisation_id")
        .and_then(Value::as_str)
        .and_then(|x| Uuid::parse_str(x).ok());
    Some(
        id.and_then(|id| n.member_orgs.get(&id).cloned())
            .unwrap_or_else(|| "a member organisation".into()),
    )
}

pub(super) fn event_row(e: &TimelineEvent, n: &Names<'_>) -> EventRow {
    let d = &e.data;
    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut from_reporter = false;
    let mut member_org: Option<String> = None;
    let (title, lines, internal) = match e.kind.as_str() {
        "submitted" => {
            from_reporter = true;
            (
                format!("Report submitted: {}", s("reference")),
                vec![],
                false,
            )
        }
        "status_changed" if d.get("status").is_some() => {
            let st = d.get("status");
            (
                format!(
                    "Status changed from {} to {}",
                    status_label(st.and_then(|x| x.get("from"))),
                    status_label(st.and_then(|x| x.get("to")))
                ),
                vec![],
                false,
            )
        }
        "status_changed" | "triaged" => ("Triage updated".into(), change_lines(d, n.cdaos), true),
        "note" => ("Internal note".into(), text_lines(&s("text")), true),
        "message" => {
            let from_cdao = s("from") == "cdao";
            from_reporter = !from_cdao;
            let title = if !from_cdao {
                "Message from the reporter"
            } else if d.get("request_information").and_then(Value::as_bool) == Some(true) {
                "Request for information sent to the reporter"
            } else {
                "Message sent to the reporter"
            };
            (title.into(), text_lines(&s("body")), false)
        }
        "closed" => ("Case closed".into(), vec![], false),
        "outcome" => {
            let mut lines = vec![
                format!(
                    "Outcome: {}",
                    Outcome::parse(&s("outcome"))
                        .map(|o| o.label().to_string())
                        .unwrap_or_default()
                ),
                format!(
                    "Well founded: {}",
                    WellFounded::parse(&s("well_founded"))
                        .map(|o| o.label().to_string())
                        .unwrap_or_default()
                ),
            ];
            lines.extend(text_lines(&s("note")));
            ("Outcome recorded".into(), lines, true)
        }
        "reopened" => ("Case reopened: back in review".into(), vec![], false),
        "amended" => {
            from_reporter = true;
            let text = Uuid::parse_str(&s("amendment_id"))
                .ok()
                .and_then(|id| n.amendments.get(&id).cloned())
                .unwrap_or_default();
            ("Report amended".into(), text, false)
        }
        "attachment_added" => {
            from_reporter = true;
            let name = Uuid::parse_str(&s("attachment_id"))
                .ok()
                .and_then(|id| n.attachments.get(&id).cloned())
                .unwrap_or_default();
            ("Evidence added".into(), vec![name], false)
        }
        "linked" => {
            let other = Uuid::parse_str(&s("case_id"))
                .ok()
                .and_then(|id| n.links.get(&id).cloned())
                .unwrap_or_else(|| "another case".into());
            let title = if s("relation") == "duplicate_of" {
                format!("Marked as a duplicate of {other}")
            } else {
                format!("Linked to {other}")
            };
            (title, vec![], true)
        }
        "access_requested" => {
            let area = Uuid::parse_str(&s("holding_area_id"))
                .ok()
                .and_then(|id| n.areas.get(&id).cloned())
                .unwrap_or_else(|| "another".into());
            (
                format!("Access to a possible match requested from the {area} CDAO team"),
                vec![],
                true,
            )
        }
        "access_decided" => {
            let decision = s("decision");
            let mut lines = text_lines(&s("reason"));
            if decision == "approved" {
                let cases = d
                    .get("share_ids")
                    .and_then(Value::as_array)
                    .map(|a| a.len())
                    .or_else(|| d.get("cases").and_then(Value::as_u64).map(|n| n as usize))
                    .unwrap_or(0);
                lines.push(format!(
                    "{cases} case{} shared with the requesting team",
                    if cases == 1 { "" } else { "s" }
                ));
            }
            (format!("Access request {decision}"), lines, true)
        }
        "shared" => {
            let orgs = member_orgs(n, d);
            let mut lines = vec![format!(
                "{} disclosure{}",
                if s("disclosure") == "identified" {
                    "Identified"
                } else {
                    "Summary"
                },
                if d.get("include_patient_data").and_then(Value::as_bool) == Some(true) {
                    ", with patient data"
                } else {
                    ""
                }
            )];
            let to = match Uuid::parse_str(&s("recipient_area_id"))
                .ok()
                .and_then(|id| n.areas.get(&id).cloned())
            {
                Some(area) => format!("the {area} CDAO team"),
                None => orgs.join(", "),
            };
            // A share waiting for approval has reached nobody yet: say so, not "shared with".
            // Its recipients are named once it is approved, not before.
            let title = if s("approval") == "pending" {
                lines.push("Nothing is sent until a second CDAO approves it".into());
                "Share prepared: waiting for a second CDAO's approval".to_string()
            } else {
                format!("Shared with {to}")
            };
            (title, lines, true)
        }
        "share_declined" => (
            "Share declined by a second CDAO: nothing was sent".into(),
            text_lines(&s("reason")),
            true,
        ),
        "outcome_passed_on" => {
            let orgs = member_orgs(n, d);
            (
                format!(
                    "Outcome passed on: {} told the concern was not well founded",
                    orgs.join(", ")
                ),
                vec!["They were told by a notification without content, and see the outcome on their alert.".into()],
                true,
            )
        }
        "erasure_requested" => (
            "Removal of a person record entered in error asked for: waiting for a second CDAO"
                .into(),
            text_lines(&s("reason")),
            true,
        ),
        "erasure_declined" => (
            "Removal of a person record declined".into(),
            text_lines(&s("reason")),
            true,
        ),
        "person_erased" => (
            "Person record removed as entered in error".into(),
            text_lines(&s("reason")),
            true,
        ),
        "share_approved" => (
            "Share approved by a second CDAO: the members were told".into(),
            vec![],
            true,
        ),
        "share_revoked" => ("Share revoked".into(), vec![], true),
        "alert_acknowledged" => {
            member_org = member_name(n, d);
            (
                format!(
                    "Alert acknowledged by {}",
                    member_org.clone().unwrap_or_default()
                ),
                vec![],
                true,
            )
        }
        "member_response" => {
            member_org = member_name(n, d);
            let mut lines = Vec::new();
            if let Some(a) = ActionTaken::parse(&s("action_taken")) {
                lines.push(format!("Action taken: {}", a.label()));
            }
            lines.extend(text_lines(&s("body")));
            (
                format!("Response from {}", member_org.clone().unwrap_or_default()),
                lines,
                true,
            )
        }
        // The CDAO team's reply in an alert's conversation (issue 11).
        "cdao_reply" => (
            format!(
                "Reply to {} on its alert",
                member_name(n, d).unwrap_or_default()
            ),
            text_lines(&s("body")),
            true,
        ),
        other => (other.replace('_', " "), vec![], false),
    };
    EventRow {
        at: uk_time(e.at),
        who: match member_org {
            Some(org) => format!("{org} (LIN member)"),
            None => who(e, n.cdaos, n.organisation, from_reporter),
        },
        reply_href: (e.kind == "member_response")
            .then(|| d.get("alert_id").and_then(Value::as_str))
            .flatten()
            .and_then(|a| Uuid::parse_str(a).ok())
            .map(|a| format!("/alerts/{a}/conversation")),
        title,
        lines,
        internal,
    }
}

pub(super) fn action_label(a: &str) -> &'static str {
    match a {
        "case.viewed" => "Viewed the case",
        "case.identity_viewed" => "Viewed the case and the identities in it",
        "case.attachment_downloaded" => "Downloaded evidence",
        "case.exported" => "Exported it in a list",
        _ => "Looked at it",
    }
}
