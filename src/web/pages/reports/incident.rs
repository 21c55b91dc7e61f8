//! The incident form: reading, renumbering and checking what was posted (the steps are in
//! `incident_steps`).

use std::collections::HashMap;

use uuid::Uuid;

use super::form::{Choice, Posted, Problems, choices, read_date, read_number};
use crate::domain::report::{DrugItemInput, Harm, Incident, IncidentInput, Schedule};
use crate::domain::validation::FieldError;
use crate::reports::{self, Catalogue};
use crate::state::AppState;
use crate::web::pages::report_facts::{self};

pub(crate) const INCIDENT_ORDER: &[&str] = &[
    "occurred_on",
    "occurred_time",
    "discovered_on",
    "location",
    "categories",
    "online_supply",
    "cbpm",
    "drugs",
    "harm",
    "near_miss",
    "description",
    "actions_taken",
    "identity_checked",
    "police_informed",
    "police_reference",
    "patient_involved",
];
pub(crate) const INCIDENT_DATES: &[&str] = &["occurred_on", "discovered_on"];
pub(crate) const MAX_DRUGS: usize = crate::domain::report::MAX_DRUG_ITEMS;
pub(crate) const UNLISTED: &str = "unlisted";
pub(crate) const DRUG_PARTS: &[&str] = &[
    "drug_id",
    "name",
    "schedule",
    "formulation",
    "strength",
    "quantity",
    "unit",
    "daily_dose_mg",
    "patch_micrograms_per_hour",
];

pub(crate) fn incident_anchor(field: &str) -> Option<String> {
    if let Some(a) = report_facts::anchor(field) {
        Some(a)
    } else if field.starts_with("categories[") {
        Some("categories".into())
    } else if field == "drugs" {
        Some("drugs[0].drug_id".into())
    } else {
        None
    }
}

/// The incident as the domain parses it, with what the page found on its own.
pub(crate) struct IncidentDraft {
    pub(crate) input: IncidentInput,
    pub(crate) problems: Problems,
    /// The form row of each drug handed to the domain (blank rows are left out).
    pub(crate) drug_rows: Vec<usize>,
}

pub(crate) fn drug_row_count(p: &Posted) -> usize {
    let highest =
        p.0.iter()
            .filter_map(|(n, _)| {
                n.strip_prefix("drugs[")
                    .and_then(|r| r.split(']').next())
                    .and_then(|i| i.parse::<usize>().ok())
            })
            .max()
            .map_or(0, |i| i + 1);
    p.trimmed("drug_rows")
        .parse::<usize>()
        .unwrap_or(1)
        .max(highest)
        .clamp(1, MAX_DRUGS)
}

/// Renumbers a domain error about the i-th drug given to it to the form's row, and says
/// which drug it is.
pub(crate) fn renumber(e: FieldError, list: &str, rows: &[usize], what: &str) -> FieldError {
    let Some(rest) = e.field.strip_prefix(&format!("{list}[")) else {
        return e;
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return e;
    };
    let Some(row) = index
        .parse::<usize>()
        .ok()
        .and_then(|i| rows.get(i).copied())
    else {
        return e;
    };
    FieldError {
        field: format!("{list}[{row}]{tail}"),
        message: format!("{what} {}: {}", row + 1, lower_first(&e.message)),
    }
}

fn lower_first(s: &str) -> String {
    // "Enter the unit" becomes "enter the unit"; "GPhC number …" and "NHS …" stay.
    let mut c = s.chars();
    match (c.next(), s.chars().nth(1)) {
        (Some(first), Some(second)) if !second.is_uppercase() => {
            first.to_lowercase().collect::<String>() + c.as_str()
        }
        _ => s.to_string(),
    }
}

pub(crate) fn read_incident(p: &Posted) -> IncidentDraft {
    let mut problems = Problems::default();
    let occurred_on = read_date(p, "occurred_on", "it happened", &mut problems);
    let discovered_on = read_date(p, "discovered_on", "it was discovered", &mut problems);
    let mut drugs = Vec::new();
    let mut drug_rows = Vec::new();
    for i in 0..drug_row_count(p) {
        let field = |part: &str| format!("drugs[{i}].{part}");
        let blank = DRUG_PARTS
            .iter()
            .all(|part| p.trimmed(&field(part)).is_empty());
        if blank {
            continue;
        }
        let prefix = format!("Drug {}: ", i + 1);
        let choice = p.trimmed(&field("drug_id"));
        let drug_id = match choice {
            "" | UNLISTED => None,
            id => match Uuid::parse_str(id) {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.add(
                        field("drug_id"),
                        format!("{prefix}choose a drug from the list"),
                    );
                    None
                }
            },
        };
        if choice == UNLISTED && p.trimmed(&field("name")).is_empty() {
            problems.add(
                field("name"),
                format!("{prefix}enter the name of the drug that is not in the list"),
            );
        }
        let item = DrugItemInput {
            drug_id,
            name: p.opt(&field("name")),
            schedule: p.opt(&field("schedule")),
            formulation: p.opt(&field("formulation")),
            strength: p.opt(&field("strength")),
            quantity: read_number(p, &field("quantity"), "quantity", &prefix, &mut problems),
            unit: p.opt(&field("unit")),
            daily_dose_mg: read_number(
                p,
                &field("daily_dose_mg"),
                "daily dose",
                &prefix,
                &mut problems,
            ),
            patch_micrograms_per_hour: read_number(
                p,
                &field("patch_micrograms_per_hour"),
                "patch strength",
                &prefix,
                &mut problems,
            ),
        };
        drugs.push(item);
        drug_rows.push(i);
    }
    let near_miss = p.yes_no("near_miss");
    if near_miss.is_none() {
        problems.add("near_miss", "Select yes if it was a near miss");
    }
    let police_informed = p.yes_no("police_informed");
    if police_informed.is_none() {
        problems.add("police_informed", "Select yes if the police have been told");
    }
    let patient_involved = p.yes_no("patient_involved");
    if patient_involved.is_none() {
        problems.add("patient_involved", "Select yes if a patient was involved");
    }
    let categories = p.all("categories");
    IncidentDraft {
        input: IncidentInput {
            online_supply: report_facts::online_supply_input(p, &categories),
            cbpm: report_facts::cbpm_input(p, &categories, false),
            occurred_on,
            occurred_time: p.opt("occurred_time"),
            discovered_on,
            location: p.opt("location"),
            categories: (!categories.is_empty()).then_some(categories),
            drugs: Some(drugs),
            harm: p.opt("harm"),
            near_miss,
            description: p.opt("description"),
            actions_taken: p.opt("actions_taken"),
            police_informed,
            police_reference: p.opt("police_reference"),
            patient_involved,
        },
        problems,
        drug_rows,
    }
}

/// Parses the draft with the domain; every problem, the page's and the domain's, together.
pub(crate) fn check_incident(
    state: &AppState,
    cat: &Catalogue,
    draft: &mut IncidentDraft,
) -> Option<Incident> {
    match draft.input.parse_at(
        reports::uk_today(state),
        &|id| cat.find(id),
        state.config.high_dose_ome_mg,
    ) {
        Ok(inc) if draft.problems.is_empty() => Some(inc),
        Ok(_) => None,
        Err(errors) => {
            let rows = draft.drug_rows.clone();
            draft.problems.extend(
                errors
                    .into_iter()
                    .map(|e| renumber(e, "drugs", &rows, "Drug"))
                    .collect(),
            );
            None
        }
    }
}

pub struct DrugGroup {
    pub label: String,
    pub drugs: Vec<(String, String)>,
}

pub(crate) fn drug_groups(cat: &Catalogue) -> Vec<DrugGroup> {
    Schedule::ALL
        .iter()
        .map(|s| {
            let mut drugs: Vec<(String, String)> = cat
                .drugs
                .iter()
                .filter(|d| d.schedule == s.code())
                .map(|d| (d.id.to_string(), d.name.clone()))
                .collect();
            drugs.sort_by_key(|a| a.1.to_lowercase());
            DrugGroup {
                label: s.label().to_string(),
                drugs,
            }
        })
        .filter(|g| !g.drugs.is_empty())
        .collect()
}

/// One drug row of the form, as typed, with its errors.
pub struct DrugRow {
    pub idx: usize,
    pub n: usize,
    pub values: HashMap<String, String>,
    pub errs: HashMap<String, String>,
}

impl DrugRow {
    /// The id and name of one of its fields: `drugs[1].quantity`.
    pub fn id(&self, part: &str) -> String {
        format!("drugs[{}].{part}", self.idx)
    }

    pub fn v(&self, part: &str) -> &str {
        self.values.get(part).map(String::as_str).unwrap_or("")
    }

    pub fn e(&self, part: &str) -> Option<&str> {
        self.errs.get(part).map(String::as_str)
    }

    pub fn described(&self, part: &str, hint: bool) -> String {
        let id = self.id(part);
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{id}-hint"));
        }
        if self.e(part).is_some() {
            ids.push(format!("{id}-error"));
        }
        ids.join(" ")
    }
}

pub(crate) fn harm_choices() -> Vec<Choice> {
    choices(
        "harm",
        &[
            (
                "none",
                Harm::None.label(),
                "No one was harmed: the incident was stopped in time, or ran its course without harm.",
            ),
            (
                "low",
                Harm::Low.label(),
                "Someone needed extra observation or minor treatment, and was harmed only a little.",
            ),
            (
                "moderate",
                Harm::Moderate.label(),
                "Someone needed a moderate increase in treatment, and was harmed significantly but not permanently.",
            ),
            (
                "severe",
                Harm::Severe.label(),
                "Someone appears to have been harmed permanently.",
            ),
            (
                "death",
                Harm::Death.label(),
                "The incident directly caused the death of one or more people.",
            ),
        ],
    )
}

pub(crate) fn removed_notice(n: usize) -> String {
    if n == 1 {
        "We removed 1 identifier and put [removed] in its place. Check the text still makes sense."
            .into()
    } else {
        format!(
            "We removed {n} identifiers and put [removed] in their place. Check the text still makes sense."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::form::show_errors;
    use super::*;

    #[test]
    fn errors_sort_in_page_order_and_rows_are_renumbered() {
        let mut pr = Problems::default();
        pr.add("harm", "h");
        pr.add("drugs[3].unit", "u");
        pr.add("drugs[1].quantity", "q");
        pr.add("occurred_on", "o");
        let shown = show_errors(&pr, INCIDENT_ORDER, INCIDENT_DATES, &incident_anchor);
        let ids: Vec<&str> = shown.summary.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(
            ids,
            [
                "occurred_on-day",
                "drugs[1].quantity",
                "drugs[3].unit",
                "harm"
            ]
        );
        let e = renumber(
            FieldError {
                field: "drugs[1].unit".into(),
                message: "Enter the unit".into(),
            },
            "drugs",
            &[0, 3],
            "Drug",
        );
        assert_eq!(e.field, "drugs[3].unit");
        assert_eq!(e.message, "Drug 4: enter the unit");
    }
}
