//! "Check your answers" and the report page: the report as summary lists.

use askama::Template;
use axum::response::Response;
use chrono::NaiveDate;
use uuid::Uuid;

use super::form::{Posted, number_text};
use crate::domain::identifiers::{NhsNumber, Register};
use crate::domain::report::{Identity, Incident, PersonConcern, Schedule};
use crate::error::AppResult;
use crate::policy::Actor;
use crate::reports::{self};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::auth::page;
use crate::web::pages::report_facts::{self};

pub struct Row {
    pub key: String,
    pub lines: Vec<String>,
    /// (text, colour) tags after the lines, such as the high-dose flag.
    pub tags: Vec<(String, String)>,
    /// The field the "Change" button returns to.
    pub anchor: String,
}

pub struct Section {
    pub heading: String,
    pub rows: Vec<Row>,
}

pub(super) fn row(key: &str, lines: Vec<String>, anchor: &str) -> Row {
    Row {
        key: key.to_string(),
        lines: if lines.iter().all(|l| l.trim().is_empty()) {
            vec!["Not given".to_string()]
        } else {
            lines
        },
        tags: Vec::new(),
        anchor: anchor.to_string(),
    }
}

pub(super) fn text_lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

fn opt_lines(text: Option<&str>) -> Vec<String> {
    text.map(text_lines).unwrap_or_default()
}

fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn yes_no_label(v: bool) -> String {
    if v { "Yes" } else { "No" }.to_string()
}

fn schedule_text(code: &str, class: Option<&str>) -> String {
    let schedule = Schedule::parse(code)
        .map(|s| s.label().to_string())
        .unwrap_or_else(|| format!("Schedule {code}"));
    match class {
        Some(c) => format!("{schedule}, class {c}"),
        None => schedule,
    }
}

/// The online supply and CBPM parts of a report as summary lists.
fn facts_sections(
    online: Option<&crate::domain::oversight::OnlineSupply>,
    cbpm: Option<&crate::domain::oversight::Cbpm>,
) -> Vec<Section> {
    report_facts::sections(online, cbpm)
        .into_iter()
        .map(|(heading, rows)| Section {
            heading: heading.into(),
            rows: rows
                .into_iter()
                .map(|(key, lines, field)| row(&key, lines, field))
                .collect(),
        })
        .collect()
}

/// An incident as summary lists; `drug_anchor(i)` is the form field of its i-th drug.
pub(crate) fn incident_sections(
    inc: &Incident,
    drug_anchor: &dyn Fn(usize) -> String,
) -> Vec<Section> {
    let mut when = vec![long_date(inc.occurred_on)];
    if let Some(t) = &inc.occurred_time {
        when.push(format!("at {t}"));
    }
    let when = vec![when.join(" ")];
    let mut drugs = Vec::new();
    for (i, d) in inc.drugs.iter().enumerate() {
        let mut lines = vec![
            d.name.clone(),
            schedule_text(&d.schedule, d.class.as_deref()),
        ];
        let form: Vec<&str> = [d.strength.as_deref(), d.formulation.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !form.is_empty() {
            lines.push(form.join(" "));
        }
        if let Some(q) = d.quantity {
            lines.push(format!(
                "Quantity: {} {}",
                number_text(q),
                d.unit.as_deref().unwrap_or("")
            ));
        }
        if let Some(dose) = d.daily_dose_mg {
            lines.push(format!("Daily dose: {} mg", number_text(dose)));
        }
        if let Some(ug) = d.patch_micrograms_per_hour {
            lines.push(format!(
                "Patch strength: {} micrograms an hour",
                number_text(ug)
            ));
        }
        if let Some(ome) = d.ome_mg_per_day {
            lines.push(format!(
                "Oral morphine equivalent: {} mg a day",
                number_text(ome)
            ));
        }
        let mut r = row(&format!("Drug {}", i + 1), lines, &drug_anchor(i));
        if d.high_dose == Some(true) {
            r.tags.push(("High dose of opioid".into(), "red".into()));
        }
        drugs.push(r);
    }
    if drugs.is_empty() {
        drugs.push(row("Drugs", vec![], "drugs[0].drug_id"));
    }
    let police = if inc.police_informed {
        let mut l = vec!["Yes".to_string()];
        if let Some(r) = &inc.police_reference {
            l.push(format!("Crime reference: {r}"));
        }
        l
    } else {
        vec!["No".to_string()]
    };
    vec![
        Section {
            heading: "When and where".into(),
            rows: vec![
                row("Date it happened", when, "occurred_on-day"),
                row(
                    "Date it was discovered",
                    inc.discovered_on.map(long_date).into_iter().collect(),
                    "discovered_on-day",
                ),
                row("Where it happened", vec![inc.location.clone()], "location"),
            ],
        },
        Section {
            heading: "Drugs involved".into(),
            rows: drugs,
        },
        Section {
            heading: "What happened".into(),
            rows: vec![
                row(
                    "Kind of incident",
                    inc.categories
                        .iter()
                        .map(|c| c.label().to_string())
                        .collect(),
                    "categories",
                ),
                row("Harm", vec![inc.harm.label().to_string()], "harm"),
                row("Near miss", vec![yes_no_label(inc.near_miss)], "near_miss"),
                row("What happened", text_lines(&inc.description), "description"),
                row(
                    "Actions taken",
                    opt_lines(inc.actions_taken.as_deref()),
                    "actions_taken",
                ),
                row("Police told", police, "police_informed"),
                row(
                    "Patient involved",
                    vec![yes_no_label(inc.patient_involved)],
                    "patient_involved",
                ),
            ],
        },
    ]
    .into_iter()
    .chain(facts_sections(
        inc.online_supply.as_ref(),
        inc.cbpm.as_ref(),
    ))
    .collect()
}

/// A person-of-concern report as summary lists; `identity` only for those who may see it.
pub(super) fn person_sections(
    pc: &PersonConcern,
    identity: Option<&Identity>,
    linked: &[(Uuid, String)],
) -> Vec<Section> {
    let mut sections = vec![Section {
        heading: "Who the concern is about".into(),
        rows: vec![row(
            "The person is",
            vec![pc.subject_type.label().to_string()],
            "subject_type",
        )],
    }];
    if let Some(id) = identity {
        let nhs = id.nhs_number.as_deref().map(|n| {
            NhsNumber::parse(n)
                .map(|x| x.to_string())
                .unwrap_or_else(|_| n.to_string())
        });
        sections.push(Section {
            heading: "Protected details".into(),
            rows: vec![
                row("Full name", vec![id.full_name.clone()], "person.full_name"),
                row(
                    "Date of birth",
                    id.date_of_birth.map(long_date).into_iter().collect(),
                    "person.date_of_birth-day",
                ),
                row("NHS number", nhs.into_iter().collect(), "person.nhs_number"),
                row(
                    "Professional registration",
                    id.registrations
                        .iter()
                        .map(|r| {
                            let reg = Register::parse(&r.register)
                                .map(|x| x.acronym().to_string())
                                .unwrap_or_else(|| r.register.clone());
                            format!("{reg} {}", r.number)
                        })
                        .collect(),
                    "person.registrations[0].register",
                ),
                row(
                    "Prescriber code",
                    id.prescriber_code.clone().into_iter().collect(),
                    "person.prescriber_code",
                ),
                row(
                    "Job role",
                    id.job_role.clone().into_iter().collect(),
                    "person.job_role",
                ),
                row(
                    "Work addresses",
                    id.work_addresses
                        .iter()
                        .flat_map(|a| text_lines(a))
                        .collect(),
                    "person.work_addresses[0]",
                ),
            ],
        });
    }
    let linked_lines: Vec<String> = pc
        .linked_case_ids
        .iter()
        .map(|id| {
            linked
                .iter()
                .find(|(l, _)| l == id)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| "A report you cannot see".to_string())
        })
        .collect();
    sections.push(Section {
        heading: "The concern".into(),
        rows: vec![
            row(
                "Kind of concern",
                pc.concern_categories
                    .iter()
                    .map(|c| c.label().to_string())
                    .collect(),
                "concern_categories",
            ),
            row(
                "How you know",
                vec![pc.provenance.label().to_string()],
                "provenance",
            ),
            row("Status", vec![pc.status.label().to_string()], "status"),
            row("The concern", text_lines(&pc.description), "description"),
            row("Linked reports", linked_lines, "linked_case_ids"),
        ],
    });
    sections.extend(facts_sections(pc.online_supply.as_ref(), pc.cbpm.as_ref()));
    sections
}

#[derive(Template)]
#[template(path = "reports/check.html")]
struct CheckPage {
    layout: Layout,
    heading: String,
    form_action: String,
    carried: Vec<(String, String)>,
    token: String,
    sections: Vec<Section>,
    with_changes: bool,
}

pub(crate) fn check_page(
    actor: &Actor,
    form_action: &str,
    p: &Posted,
    sections: Vec<Section>,
) -> AppResult<Response> {
    // A fresh token per check page: sending it twice (a double click, a resent form) makes
    // one report, never two.
    let (token, _) = crate::crypto::new_token("")?;
    page(&CheckPage {
        layout: for_actor(
            actor,
            "Check your answers before sending your report",
            "/reports/new",
        ),
        heading: "Check your answers before sending your report".into(),
        form_action: form_action.to_string(),
        carried: p.carried(),
        token,
        sections,
        with_changes: true,
    })
}

/// The submission's idempotency key and request hash, from the check page's token.
pub(crate) fn idempotency(p: &Posted, kind: &str) -> AppResult<Option<(String, Vec<u8>)>> {
    let token = p.trimmed("submission_token");
    if token.is_empty() {
        return Ok(None);
    }
    let key = reports::parse_idempotency_key(Some(&format!("page:{token}")))?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(p.carried())
        .finish();
    Ok(key.map(|k| (k, reports::request_hash(kind, body.as_bytes()))))
}
