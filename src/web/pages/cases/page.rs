//! Drawing the case page, first and after an action that did not go through.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::attachments::size_text;
use super::risk::{CONSEQUENCES, LIKELIHOODS, MatrixRow, grade_colour, grade_label, matrix};
use super::rows::{
    DrugRow, PendingErasure, PersonCard, Row, concern_rows, incident_rows, matched_on_text,
    person_card, row, shared_rows, text_lines,
};
use super::shares::{ShareRow, share_rows};
use super::timeline::{EventRow, LogRow, Names, action_label, event_row};
use crate::domain::directory::Role;
use crate::domain::report::{CaseStatus, Incident, PersonConcern};
use crate::domain::triage::{self as rules, LinkRelation, Outcome, Priority, WellFounded};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::records::{self as dir};
use crate::reports::{self, CaseView};
use crate::state::AppState;
use crate::triage::{self};
use crate::web::extract::{Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::{uk_date, uk_time};
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::pages::cdao::{
    Posted, area_names, kind_label, page_title, priority_tag, sector_label, status_tag,
};
use crate::web::session::{RequestAuth, take_flash};

pub struct MatchView {
    /// A match the team can see: the case, in full.
    pub case_id: Option<Uuid>,
    pub reference: String,
    pub organisation: String,
    pub submitted: String,
    pub status_text: String,
    pub status_colour: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub matched_on: String,
    /// For a match held elsewhere: the state of the team's request, and whether to offer one.
    pub request_text: String,
    pub request_colour: String,
    pub can_request: bool,
    pub field_id: String,
    pub request_button: String,
    pub reason_value: String,
    pub reason_error: Option<String>,
}

pub struct LinkView {
    pub case_id: Uuid,
    pub reference: String,
    pub relation_text: String,
    pub created: String,
}
pub struct AttachmentRow {
    pub id: Uuid,
    pub filename: String,
    pub size_text: String,
    pub created: String,
    pub holds_patient_data: bool,
}

pub struct AmendmentRow {
    pub created: String,
    pub lines: Vec<String>,
}
#[derive(Template)]
#[template(path = "cdao/case.html")]
struct CasePage {
    layout: Layout,
    flash: Option<String>,
    errors: FieldErrors,
    conflict: Option<String>,
    v: Posted,
    id: Uuid,
    reference: String,
    kind_text: String,
    summary: Vec<Row>,
    status_text: String,
    status_colour: String,
    priority_text: String,
    priority_colour: String,
    overdue: bool,
    risk_text: String,
    risk_colour: String,
    /// A CDAO of the case's own area: may act on it. Otherwise a case granted to the team.
    own: bool,
    holding_team: String,
    /// When the retention policy removed the case's details (empty if it has not).
    details_removed: String,
    share_purpose: String,
    share_summary: String,
    share_expiry: String,
    is_closed: bool,
    report_rows: Vec<Row>,
    drugs: Vec<DrugRow>,
    high_dose_case: bool,
    alleged: bool,
    concern_status: String,
    persons: Vec<PersonCard>,
    amendments: Vec<AmendmentRow>,
    attachments: Vec<AttachmentRow>,
    timeline: Vec<EventRow>,
    has_persons: bool,
    /// Prescriber codes of the case reported at 3 or more work addresses: (text, link).
    prescriber_spread: Vec<(String, String)>,
    matches: Vec<MatchView>,
    visible_matches: usize,
    links: Vec<LinkView>,
    access_log: Vec<LogRow>,
    /// Shares of the case (own area only).
    shares: Vec<ShareRow>,
    matrix: Vec<MatrixRow>,
    status_options: Vec<(String, String)>,
    priority_options: Vec<(String, String)>,
    priority_hint: Option<String>,
    assignee_options: Vec<(String, String)>,
    consequence_options: Vec<(String, String)>,
    likelihood_options: Vec<(String, String)>,
    outcome_options: Vec<(String, String)>,
    well_founded_options: Vec<(String, String)>,
    relation_options: Vec<(String, String)>,
    can_request_information: bool,
    /// The posted "ask for information" checkbox, kept after an error.
    ask_selected: Vec<String>,
    /// Next and previous in the list the case was opened from: (href, reference).
    previous_case: Option<(String, String)>,
    next_case: Option<(String, String)>,
    /// Assigned to the reader already (no "Assign to me").
    assigned_to_me: bool,
    /// The reader's own id, for "Assign to me".
    me: Uuid,
    /// The list the case was opened from, as the forms carry it (None: not from a list).
    list: Option<String>,
}

/// What goes back to the page after an action did not go through.
pub struct Again {
    pub status: StatusCode,
    pub errors: FieldErrors,
    pub conflict: Option<String>,
    pub posted: Posted,
    /// The query string of the case list the case was opened from (next/previous, Back).
    pub list: Option<String>,
}

impl Again {
    fn none() -> Self {
        Again {
            status: StatusCode::OK,
            errors: FieldErrors::new(),
            conflict: None,
            posted: Posted::default(),
            list: None,
        }
    }
}
/// Draws the case page (after an action that did not go through, with its errors).
pub(super) async fn render(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    again: Again,
    flash: Option<String>,
) -> AppResult<Response> {
    let c: CaseView = reports::view_case(state, actor, id).await?;
    let own = c.triage.is_some();
    let (cdaos, areas) = tokio::try_join!(
        crate::directory::cdao_names(state, actor),
        area_names(state)
    )?;
    let status = CaseStatus::parse(&c.status).unwrap_or(CaseStatus::New);
    let is_closed = status == CaseStatus::Closed;
    let (status_text, status_colour) = status_tag(&c.status);
    let (priority_text, priority_colour) = if own {
        priority_tag(c.priority.as_deref())
    } else {
        (String::new(), String::new())
    };
    let area_name = areas.get(&c.area_id).cloned().unwrap_or_default();
    let triage_view = c.triage.as_ref();
    let suggested = triage_view
        .and_then(|t| t.facts.priority_suggested.as_deref())
        .and_then(Priority::parse);
    let risk = triage_view.and_then(|t| t.risk);
    let overdue = triage_view.is_some_and(|t| t.overdue);

    let mut summary = vec![
        row("Kind", vec![kind_label(&c.kind).into()]),
        row(
            "Reported by",
            vec![
                c.organisation_name
                    .clone()
                    .unwrap_or_else(|| "Not shared with your team".into()),
            ],
        ),
    ];
    if let Some(t) = triage_view {
        summary.push(row("Sector", vec![sector_label(&t.facts.sector)]));
    }
    summary.push(row("Area", vec![area_name.clone()]));
    summary.push(row("Submitted", vec![uk_time(c.submitted_at)]));
    let mut risk_text = String::new();
    let mut risk_colour = String::new();
    if let Some(t) = triage_view {
        let due = match (t.facts.triage_due_at, t.facts.triaged_at) {
            (_, Some(done)) => format!("Triaged {}", uk_time(done)),
            (_, None) if c.status == "awaiting_information" => {
                "Not triaged yet: information has been requested from the reporter".into()
            }
            (Some(due), None) if t.overdue => format!("Overdue: was due by {}", uk_time(due)),
            (Some(due), None) => format!("Due by {}", uk_time(due)),
            (None, None) => "No target".into(),
        };
        summary.push(row("Triage target", vec![due]));
        summary.push(row(
            "Assigned to",
            vec![
                t.facts
                    .assignee_name
                    .clone()
                    .unwrap_or_else(|| "Not assigned".into()),
            ],
        ));
        summary.push(row(
            "Priority",
            vec![
                if priority_text.is_empty() {
                    "Not set".to_string()
                } else {
                    priority_text.clone()
                },
                match suggested {
                    Some(p) => format!("Suggested from the report: {}", p.label()),
                    None => String::new(),
                },
            ]
            .into_iter()
            .filter(|l| !l.is_empty())
            .collect(),
        ));
        match risk {
            Some(r) => {
                risk_text = format!(
                    "{}: consequence {} ({}) × likelihood {} ({}) = {}",
                    grade_label(r.grade),
                    r.consequence,
                    CONSEQUENCES[usize::from(r.consequence.clamp(1, 5) - 1)].to_lowercase(),
                    r.likelihood,
                    LIKELIHOODS[usize::from(r.likelihood.clamp(1, 5) - 1)].to_lowercase(),
                    r.score
                );
                risk_colour = grade_colour(r.grade).into();
            }
            None => risk_text = "Not graded yet".into(),
        }
        if is_closed {
            summary.push(row(
                "Outcome",
                vec![
                    t.facts
                        .outcome
                        .as_deref()
                        .and_then(Outcome::parse)
                        .map(|o| o.label().to_string())
                        .unwrap_or_default(),
                    format!(
                        "Well founded: {}",
                        t.facts
                            .well_founded
                            .as_deref()
                            .and_then(WellFounded::parse)
                            .map(|w| w.label().to_string())
                            .unwrap_or_default()
                    ),
                    t.facts
                        .closed_at
                        .map(|at| format!("Closed {}", uk_time(at)))
                        .unwrap_or_default(),
                ],
            ));
        }
    }

    // The report as submitted.
    let mut report_rows = Vec::new();
    let mut drugs = Vec::new();
    let mut alleged = false;
    let mut concern_status = String::new();
    if c.details_removed_at.is_some() {
        let r = crate::disclosure::shared_report(&c.kind, &c.report);
        (report_rows, drugs) = shared_rows(&r);
        concern_status = r
            .concern_status
            .as_deref()
            .and_then(crate::domain::report::ConcernStatus::parse)
            .map(|s| s.label().to_string())
            .unwrap_or_default();
    } else if c.share.is_some() {
        if let Ok(r) = serde_json::from_value::<crate::disclosure::SharedReport>(c.report.clone()) {
            (report_rows, drugs) = shared_rows(&r);
            alleged = r.concern_status.as_deref() == Some("alleged");
            concern_status = r
                .concern_status
                .as_deref()
                .and_then(crate::domain::report::ConcernStatus::parse)
                .map(|s| s.label().to_string())
                .unwrap_or_default();
        }
    } else if c.kind == "incident" {
        if let Ok(inc) = serde_json::from_value::<Incident>(c.report.clone()) {
            (report_rows, drugs) = incident_rows(&inc);
        }
    } else if let Ok(pc) = serde_json::from_value::<PersonConcern>(c.report.clone()) {
        report_rows = concern_rows(state, actor, &pc).await?;
        alleged = pc.status == crate::domain::report::ConcernStatus::Alleged;
        concern_status = pc.status.label().to_string();
    }
    // Online prescribing from outside the UK and CBPM facts (issue 12).
    for (key, lines) in crate::web::pages::report_facts::report_rows(&c.report) {
        report_rows.push(row(&key, lines));
    }
    if report_rows.is_empty() {
        report_rows.push(row(
            "Report",
            vec!["The report could not be shown. Ask the service team for help.".into()],
        ));
    }
    let erasures = if own && !c.persons.is_empty() {
        crate::erasure::of_case(state, actor, id).await?
    } else {
        vec![]
    };
    let persons: Vec<PersonCard> = c
        .persons
        .iter()
        .map(|p| {
            let mut card = person_card(p);
            card.erasure_field = format!("erasure-reason-{}", p.id);
            card.erasure_value = again.posted.get(&card.erasure_field).to_string();
            card.erasure_error = again.errors.get(&card.erasure_field).map(str::to_string);
            card.pending = erasures
                .iter()
                .find(|e| e.person_id == p.id && e.status == "pending")
                .map(|e| {
                    let decline_field = format!("erasure-decline-{}", e.id);
                    PendingErasure {
                        id: e.id,
                        reason_lines: text_lines(&e.reason),
                        asked_by: cdaos
                            .get(&e.requested_by)
                            .cloned()
                            .unwrap_or_else(|| "A CDAO".into()),
                        asked_at: uk_time(e.created_at),
                        can_decide: e.requested_by != actor.user_id,
                        decline_value: again.posted.get(&decline_field).to_string(),
                        decline_error: again.errors.get(&decline_field).map(str::to_string),
                        decline_field,
                    }
                });
            card
        })
        .collect();
    let amendment_text: HashMap<Uuid, Vec<String>> = c
        .amendments
        .iter()
        .map(|a| (a.id, text_lines(&a.text)))
        .collect();
    let attachment_names: HashMap<Uuid, String> = c
        .attachments
        .iter()
        .map(|a| (a.id, a.filename.clone()))
        .collect();

    // A prescriber code of the case reported at many work addresses (issue 12).
    let prescriber_spread: Vec<(String, String)> = if own && !c.persons.is_empty() {
        crate::prescribers::spread_codes_of_case(state, actor, id)
            .await?
            .into_iter()
            .map(|s| {
                (
                    format!(
                        "This prescriber code has been reported at {} different work addresses in {} reports in your areas.",
                        s.addresses, s.reports
                    ),
                    s.href,
                )
            })
            .collect()
    } else {
        vec![]
    };
    // Matches (persons only), with what the team may see of each.
    let mut matches = Vec::new();
    if own && !c.persons.is_empty() {
        let matched = triage::matches(state, actor, id).await?.items;
        let seen: Vec<Uuid> = matched.iter().filter_map(|m| m.case_id).collect();
        let briefs = reports::briefs(state, actor, &seen).await?;
        for m in matched {
            let field_id = format!("access-reason-{}", m.area_id);
            let mut v = MatchView {
                case_id: m.case_id,
                reference: m.case_reference.clone().unwrap_or_default(),
                organisation: String::new(),
                submitted: String::new(),
                status_text: String::new(),
                status_colour: String::new(),
                area_id: m.area_id,
                area_name: m.area_name.clone(),
                matched_on: matched_on_text(&m.matched_on),
                request_text: String::new(),
                request_colour: String::new(),
                can_request: false,
                reason_value: if again.posted.get("area_id") == m.area_id.to_string() {
                    again.posted.get("reason").to_string()
                } else {
                    String::new()
                },
                reason_error: again.errors.get(&field_id).map(str::to_string),
                request_button: format!("Ask the {} CDAO team for access", m.area_name),
                field_id,
            };
            match m.case_id {
                Some(other) => {
                    if let Some(o) = briefs.iter().find(|b| b.id == other) {
                        v.organisation = o.organisation_name.clone().unwrap_or_default();
                        v.submitted = uk_date(o.submitted_at);
                        (v.status_text, v.status_colour) = status_tag(&o.status);
                    }
                }
                None => {
                    let (text, colour) = match m.access_request.as_deref() {
                        Some("pending") => (
                            "Your team asked for access: waiting for a decision",
                            "yellow",
                        ),
                        Some("approved") => ("Your team was given access", "green"),
                        Some("declined") => ("Your team's request was declined", "red"),
                        _ => ("", ""),
                    };
                    v.request_text = text.into();
                    v.request_colour = colour.into();
                    v.can_request = own && !matches!(m.access_request.as_deref(), Some("pending"));
                }
            }
            matches.push(v);
        }
    }

    let links: Vec<LinkView> = triage_view
        .map(|t| {
            t.links
                .iter()
                .map(|l| LinkView {
                    case_id: l.case_id,
                    reference: l.reference.clone(),
                    relation_text: match l.relation.as_str() {
                        "duplicate_of" => "This case is a duplicate of",
                        "duplicated_by" => "Duplicated by",
                        _ => "Related to",
                    }
                    .into(),
                    created: uk_date(l.created_at),
                })
                .collect()
        })
        .unwrap_or_default();
    let link_refs: HashMap<Uuid, String> = links
        .iter()
        .map(|l| (l.case_id, l.reference.clone()))
        .collect();
    // Member organisations the case was shared with, for naming their acknowledgements.
    let member_orgs: HashMap<Uuid, String> = c
        .triage
        .iter()
        .flat_map(|t| t.shares.iter())
        .flat_map(|sh| sh.recipients.iter())
        .map(|r| (r.organisation_id, r.organisation_name.clone()))
        .collect();
    let names = Names {
        member_orgs: &member_orgs,
        cdaos: &cdaos,
        areas: &areas,
        links: &link_refs,
        amendments: &amendment_text,
        attachments: &attachment_names,
        organisation: c
            .organisation_name
            .as_deref()
            .unwrap_or("the reporting organisation"),
    };
    // Another area's internal notes and triage stay with that area's team, even on a case
    // granted to this one (SPEC §3: internal notes, risk, assignment are own areas only).
    let timeline: Vec<EventRow> = c
        .timeline
        .iter()
        .rev()
        .map(|e| event_row(e, &names))
        .filter(|e| own || !e.internal)
        .collect();

    let access_log = if own {
        triage::access_log(state, actor, id)
            .await?
            .into_iter()
            .map(|e| LogRow {
                at: uk_time(e.at),
                who: e.actor_name.unwrap_or_else(|| "Unknown user".into()),
                role_text: e
                    .actor_role
                    .as_deref()
                    .and_then(Role::parse)
                    .map(|r| r.label().to_string())
                    .unwrap_or_default(),
                action_text: action_label(&e.action).into(),
                purpose: e.purpose.unwrap_or_default(),
            })
            .collect()
    } else {
        vec![]
    };

    // The forms: only what makes sense for this status.
    let mut status_options = vec![(
        status.code().to_string(),
        format!("Keep as {}", status.label().to_lowercase()),
    )];
    for next in [CaseStatus::InReview, CaseStatus::Investigating] {
        if rules::triage_move_allowed(status, next) {
            status_options.push((next.code().to_string(), next.label().to_string()));
        }
    }
    let priority_options: Vec<(String, String)> = Priority::ALL
        .iter()
        .map(|p| {
            (
                p.code().to_string(),
                if Some(*p) == suggested {
                    format!("{} (suggested)", p.label())
                } else {
                    p.label().to_string()
                },
            )
        })
        .collect();
    let mut assignee_options = vec![(String::new(), "Not assigned".to_string())];
    if own {
        let users = crate::directory::users(
            state,
            actor,
            &dir::UserFilter {
                role: Some("cdao".into()),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await?;
        assignee_options.extend(
            users
                .into_iter()
                .filter(|u| u.area_ids.contains(&c.area_id))
                .map(|u| (u.id.to_string(), u.name)),
        );
    }
    let scale = |labels: [&str; 5]| {
        let mut o = vec![(String::new(), "Not graded".to_string())];
        o.extend(
            labels
                .iter()
                .enumerate()
                .map(|(i, l)| ((i + 1).to_string(), format!("{} {l}", i + 1))),
        );
        o
    };
    let shares = share_rows(state, actor, &c, &again);
    let mut v = again.posted;
    v.fill("status", status.code());
    v.fill(
        "priority",
        c.priority
            .clone()
            .or(suggested.map(|p| p.code().to_string()))
            .unwrap_or_default(),
    );
    v.fill(
        "assignee_id",
        triage_view
            .and_then(|t| t.facts.assignee_id)
            .map(|a| a.to_string())
            .unwrap_or_default(),
    );
    let current_risk = risk.map(|r| (r.consequence, r.likelihood));
    v.fill(
        "risk_consequence",
        current_risk.map(|r| r.0.to_string()).unwrap_or_default(),
    );
    v.fill(
        "risk_likelihood",
        current_risk.map(|r| r.1.to_string()).unwrap_or_default(),
    );
    v.fill(
        "risk_was",
        current_risk
            .map(|(c, l)| format!("{c},{l}"))
            .unwrap_or_default(),
    );
    let has_errors = !again.errors.is_empty() || again.conflict.is_some();
    // Back to the list as it was (filters and order), and its next and previous cases.
    let (back, previous_case, next_case) = match again.list.as_deref() {
        Some(list) => {
            let params = Params(
                url::form_urlencoded::parse(list.as_bytes())
                    .into_owned()
                    .filter(|(k, _)| k != "cursor")
                    .collect(),
            );
            let link = |b: reports::Brief| {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("list", list);
                (format!("/cases/{}?{}", b.id, q.finish()), b.reference)
            };
            let (p, n) = match crate::web::api::cases::parse_case_filter(&params) {
                Ok(f) => reports::neighbours(state, actor, &f, c.submitted_at, c.id).await?,
                Err(_) => (None, None),
            };
            (
                if list.is_empty() {
                    "/cases".to_string()
                } else {
                    format!("/cases?{list}")
                },
                p.map(link),
                n.map(link),
            )
        }
        None => ("/cases".to_string(), None, None),
    };
    let layout = for_actor(actor, page_title(&c.reference, has_errors), "/cases").with_back(back);
    page_with_status(
        again.status,
        &CasePage {
            shares,
            layout,
            flash,
            errors: again.errors,
            conflict: again.conflict,
            id: c.id,
            reference: c.reference.clone(),
            kind_text: kind_label(&c.kind).into(),
            summary,
            status_text,
            status_colour,
            priority_text,
            priority_colour,
            overdue,
            risk_text,
            risk_colour,
            own,
            holding_team: area_name,
            details_removed: c.details_removed_at.map(uk_date).unwrap_or_default(),
            share_purpose: c
                .share
                .as_ref()
                .map(|s| s.purpose.clone())
                .unwrap_or_default(),
            share_summary: c
                .share
                .as_ref()
                .map(|s| s.summary.clone())
                .unwrap_or_default(),
            share_expiry: c
                .share
                .as_ref()
                .map(|s| uk_date(s.expires_at))
                .unwrap_or_default(),
            is_closed,
            previous_case,
            next_case,
            assigned_to_me: c
                .triage
                .as_ref()
                .is_some_and(|t| t.facts.assignee_id == Some(actor.user_id)),
            me: actor.user_id,
            list: again.list.clone(),
            report_rows,
            high_dose_case: drugs.iter().any(|d| d.high_dose),
            drugs,
            alleged,
            concern_status,
            persons,
            amendments: c
                .amendments
                .iter()
                .map(|a| AmendmentRow {
                    created: uk_time(a.created_at),
                    lines: text_lines(&a.text),
                })
                .collect(),
            attachments: c
                .attachments
                .iter()
                .map(|a| AttachmentRow {
                    id: a.id,
                    filename: a.filename.clone(),
                    size_text: size_text(a.size_bytes),
                    created: uk_time(a.created_at),
                    holds_patient_data: a.holds_patient_data,
                })
                .collect(),
            timeline,
            has_persons: !c.persons.is_empty(),
            prescriber_spread,
            visible_matches: matches.iter().filter(|x| x.case_id.is_some()).count(),
            matches,
            links,
            access_log,
            matrix: matrix(current_risk),
            status_options,
            priority_options,
            priority_hint: suggested.map(|p| {
                format!(
                    "Suggested from the harm, schedules and categories reported: {}.",
                    p.label()
                )
            }),
            assignee_options,
            consequence_options: scale(CONSEQUENCES),
            likelihood_options: scale(LIKELIHOODS),
            outcome_options: Outcome::options(),
            well_founded_options: WellFounded::options(),
            relation_options: vec![
                (
                    LinkRelation::Related.code().to_string(),
                    "Related to this case".to_string(),
                ),
                (
                    LinkRelation::DuplicateOf.code().to_string(),
                    "This case is a duplicate of it".to_string(),
                ),
            ],
            can_request_information: rules::can_request_information(status),
            ask_selected: v.all("request_information"),
            v,
        },
    )
}

/// The case page. A reporter or organisation lead reads their report on its own page.
pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    params: Params,
) -> AppResult<Response> {
    if matches!(actor.role, Role::Reporter | Role::OrgLead) {
        reports::briefs(&state, &actor, &[id])
            .await?
            .first()
            .ok_or(AppError::NotFound)?;
        return Ok(redirect(&format!("/reports/{id}")));
    }
    let flash = take_flash(&state, &auth).await?;
    let again = Again {
        list: params
            .get("list")
            .map(str::to_string)
            .or_else(|| params.0.iter().any(|(k, _)| k == "list").then(String::new)),
        ..Again::none()
    };
    render(&state, &actor, id, again, flash).await
}
