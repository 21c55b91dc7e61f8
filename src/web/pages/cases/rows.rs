//! The report, its persons and its matches as the case page shows them: summary rows, drug
//! rows and person cards.

use uuid::Uuid;

use crate::domain::identifiers::Register;
use crate::domain::report::{Incident, PersonConcern, Schedule};
use crate::error::AppResult;
use crate::policy::Actor;
use crate::reports::{self};
use crate::state::AppState;

/// A row of a summary list: a key and its value as lines of text.
pub struct Row {
    pub key: String,
    pub lines: Vec<String>,
    /// Links drawn after the lines: (href, text).
    pub links: Vec<(String, String)>,
}

pub(super) fn row(key: &str, lines: Vec<String>) -> Row {
    Row {
        key: key.into(),
        lines,
        links: Vec::new(),
    }
}

pub(super) fn text_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn yes_no(v: bool) -> String {
    if v { "Yes" } else { "No" }.into()
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.1}")
    }
}

pub struct DrugRow {
    pub drug_name: String,
    pub schedule_text: String,
    pub formulation: String,
    pub strength: String,
    pub quantity: String,
    pub daily_dose: String,
    pub ome_text: String,
    pub high_dose: bool,
}

pub struct PersonCard {
    pub id: Uuid,
    pub full_name: String,
    pub rows: Vec<Row>,
    /// The form asking to remove the record (entered in error): its reason field.
    pub erasure_field: String,
    pub erasure_value: String,
    pub erasure_error: Option<String>,
    /// A removal waiting for a second CDAO.
    pub pending: Option<PendingErasure>,
}

pub struct PendingErasure {
    pub id: Uuid,
    pub reason_lines: Vec<String>,
    pub asked_by: String,
    pub asked_at: String,
    /// Not the CDAO who asked: they may approve or decline.
    pub can_decide: bool,
    pub decline_field: String,
    pub decline_value: String,
    pub decline_error: Option<String>,
}
pub(super) fn matched_on_text(keys: &[String]) -> String {
    let names: Vec<String> = keys
        .iter()
        .map(|k| match k.as_str() {
            "nhs_number" => "NHS number".to_string(),
            "prescriber_code" => "prescriber code".to_string(),
            "name_and_date_of_birth" => "name and date of birth".to_string(),
            other => match Register::ALL.iter().find(|r| r.code() == other) {
                Some(r) => format!("{} number", r.acronym()),
                None => other.to_string(),
            },
        })
        .collect();
    crate::web::pages::cdao::and_list(&names)
}

pub(super) fn incident_rows(inc: &Incident) -> (Vec<Row>, Vec<DrugRow>) {
    let mut rows = vec![row(
        "When it happened",
        vec![format!(
            "{}{}",
            inc.occurred_on.format("%-d %B %Y"),
            inc.occurred_time
                .as_deref()
                .map(|t| format!(" at {t}"))
                .unwrap_or_default()
        )],
    )];
    if let Some(d) = inc.discovered_on {
        rows.push(row(
            "When it was discovered",
            vec![d.format("%-d %B %Y").to_string()],
        ));
    }
    rows.push(row("Where", vec![inc.location.clone()]));
    rows.push(row(
        "Kind of incident",
        inc.categories
            .iter()
            .map(|c| c.label().to_string())
            .collect(),
    ));
    rows.push(row("Harm", vec![inc.harm.label().to_string()]));
    rows.push(row("Near miss", vec![yes_no(inc.near_miss)]));
    rows.push(row("What happened", text_lines(&inc.description)));
    if let Some(a) = &inc.actions_taken {
        rows.push(row("Actions taken", text_lines(a)));
    }
    rows.push(row(
        "Police informed",
        vec![match (&inc.police_informed, &inc.police_reference) {
            (true, Some(r)) => format!("Yes, crime reference {r}"),
            (true, None) => "Yes".into(),
            (false, _) => "No".into(),
        }],
    ));
    rows.push(row(
        "A patient was involved",
        vec![yes_no(inc.patient_involved)],
    ));
    (rows, drug_rows(&inc.drugs))
}

/// What a share carries of a report (no free text), as rows.
pub(super) fn shared_rows(r: &crate::disclosure::SharedReport) -> (Vec<Row>, Vec<DrugRow>) {
    let mut rows = Vec::new();
    if let Some(d) = r.occurred_on {
        rows.push(row(
            "When it happened",
            vec![d.format("%-d %B %Y").to_string()],
        ));
    }
    rows.push(row(
        "Kind",
        r.categories
            .iter()
            .map(|c| {
                crate::domain::report::IncidentCategory::parse(c)
                    .map(|x| x.label())
                    .or_else(|| crate::domain::report::ConcernCategory::parse(c).map(|x| x.label()))
                    .unwrap_or(c)
                    .to_string()
            })
            .collect(),
    ));
    if let Some(h) = r
        .harm
        .as_deref()
        .and_then(crate::domain::report::Harm::parse)
    {
        rows.push(row("Harm", vec![h.label().to_string()]));
    }
    if let Some(st) = r
        .concern_status
        .as_deref()
        .and_then(crate::domain::report::ConcernStatus::parse)
    {
        rows.push(row("Status of the concern", vec![st.label().to_string()]));
    }
    if let Some(p) = r
        .provenance
        .as_deref()
        .and_then(crate::domain::report::Provenance::parse)
    {
        rows.push(row("How the reporter knows", vec![p.label().to_string()]));
    }
    (rows, drug_rows(&r.drugs))
}

fn drug_rows(items: &[crate::domain::report::DrugItem]) -> Vec<DrugRow> {
    items
        .iter()
        .map(|d| DrugRow {
            drug_name: d.name.clone(),
            schedule_text: format!(
                "{}{}",
                Schedule::parse(&d.schedule)
                    .map(|s| s.label().to_string())
                    .unwrap_or_else(|| d.schedule.clone()),
                d.class
                    .as_deref()
                    .map(|c| format!(", class {c}"))
                    .unwrap_or_default()
            ),
            formulation: d.formulation.clone().unwrap_or_default(),
            strength: d.strength.clone().unwrap_or_default(),
            quantity: match (d.quantity, &d.unit) {
                (Some(q), Some(u)) => format!("{} {u}", number(q)),
                (Some(q), None) => number(q),
                _ => String::new(),
            },
            daily_dose: match (d.daily_dose_mg, d.patch_micrograms_per_hour) {
                (Some(mg), _) => format!("{} mg a day", number(mg)),
                (None, Some(ug)) => format!("{} micrograms an hour (patch)", number(ug)),
                _ => String::new(),
            },
            ome_text: d
                .ome_mg_per_day
                .map(|o| format!("{} mg a day", number(o)))
                .unwrap_or_default(),
            high_dose: d.high_dose == Some(true),
        })
        .collect()
}

pub(super) async fn concern_rows(
    state: &AppState,
    actor: &Actor,
    pc: &PersonConcern,
) -> AppResult<Vec<Row>> {
    let mut rows = vec![
        row("About", vec![pc.subject_type.label().to_string()]),
        row(
            "Concerns",
            pc.concern_categories
                .iter()
                .map(|c| c.label().to_string())
                .collect(),
        ),
        row(
            "How the reporter knows",
            vec![pc.provenance.label().to_string()],
        ),
        row(
            "What the reporter saw or was told",
            text_lines(&pc.description),
        ),
    ];
    if !pc.linked_case_ids.is_empty() {
        // Only the cases the reader may see, each a link to it.
        let links: Vec<(String, String)> = reports::briefs(state, actor, &pc.linked_case_ids)
            .await?
            .into_iter()
            .map(|b| (format!("/cases/{}", b.id), b.reference))
            .collect();
        if !links.is_empty() {
            let mut r = row("Linked by the reporter to", vec![]);
            r.links = links;
            rows.push(r);
        }
    }
    Ok(rows)
}

pub(super) fn person_card(p: &reports::PersonView) -> PersonCard {
    let i = &p.identity;
    let mut rows = vec![row(
        "Who they are",
        vec![
            crate::domain::report::SubjectType::parse(&p.subject_type)
                .map(|s| s.label().to_string())
                .unwrap_or_else(|| p.subject_type.clone()),
        ],
    )];
    if let Some(d) = i.date_of_birth {
        rows.push(row(
            "Date of birth",
            vec![d.format("%-d %B %Y").to_string()],
        ));
    }
    if let Some(n) = &i.nhs_number {
        rows.push(row("NHS number", vec![n.clone()]));
    }
    for r in &i.registrations {
        let reg = Register::ALL.iter().find(|x| x.code() == r.register);
        rows.push(row(
            &reg.map(|x| format!("{} number", x.acronym()))
                .unwrap_or_else(|| "Registration".into()),
            vec![r.number.clone()],
        ));
    }
    if let Some(c) = &i.prescriber_code {
        rows.push(row("Prescriber code", vec![c.clone()]));
    }
    if let Some(j) = &i.job_role {
        rows.push(row("Job role", vec![j.clone()]));
    }
    if !i.work_addresses.is_empty() {
        rows.push(row("Work addresses", i.work_addresses.clone()));
    }
    PersonCard {
        id: p.id,
        full_name: i.full_name.clone(),
        rows,
        erasure_field: String::new(),
        erasure_value: String::new(),
        erasure_error: None,
        pending: None,
    }
}
