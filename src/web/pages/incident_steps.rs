//! The incident form in steps (issue 11): GOV.UK "one thing per page" where it helps — what
//! happened; the drugs; harm and the people involved; the police — then "Check your answers"
//! with a Change link on every answer, and the one `POST` that sends the report through the
//! same action as `POST /api/v1/incidents`.
//!
//! Nothing is kept on the server before the report is sent: each step carries the answers of
//! the other steps in hidden inputs (as the check page always did), so there is no draft to
//! leak or to outlive the session, and the journey works without JavaScript. Each step checks
//! its own answers with the domain's parse of the whole report (errors of later steps are not
//! shown yet); the check page parses everything again, and an error there takes the reporter
//! to the step that holds it.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::domain::report::{IncidentCategory, Schedule};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::reports;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::layout::for_actor;
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::pages::report_facts::FactsForm;
use crate::web::pages::reports::{
    Choice, DRUG_PARTS, DateValue, DrugGroup, DrugRow, INCIDENT_DATES, INCIDENT_ORDER, MAX_DRUGS,
    Posted, Problems, Warning, check_incident, check_page, date_value, drug_groups, drug_row_count,
    harm_choices, idempotency, incident_anchor, incident_sections, read_incident,
    remove_identifiers, removed_notice, renumber, require_reporter, show_errors, status_for, title,
    warning_for, yes_no_text,
};

const FORM_ACTION: &str = "/reports/new/incident";

/// The steps of the incident form, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    What,
    Drugs,
    Harm,
    Police,
}

impl Step {
    const ALL: [Step; 4] = [Step::What, Step::Drugs, Step::Harm, Step::Police];

    pub fn code(self) -> &'static str {
        match self {
            Step::What => "what",
            Step::Drugs => "drugs",
            Step::Harm => "harm",
            Step::Police => "police",
        }
    }

    fn parse(s: &str) -> Option<Step> {
        Self::ALL.into_iter().find(|x| x.code() == s)
    }

    fn number(self) -> usize {
        Self::ALL.iter().position(|x| *x == self).unwrap_or(0) + 1
    }

    fn heading(self) -> &'static str {
        match self {
            Step::What => "What happened",
            Step::Drugs => "Which controlled drugs were involved?",
            Step::Harm => "Harm and the people involved",
            Step::Police => "Have the police been told?",
        }
    }

    fn next(self) -> Option<Step> {
        Self::ALL.get(self.number()).copied()
    }

    fn previous(self) -> Option<Step> {
        self.number()
            .checked_sub(2)
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// The step a field (or an error about it) belongs to.
    pub fn of(field: &str) -> Step {
        if field.starts_with("drugs") || field == "drug_rows" {
            Step::Drugs
        } else if matches!(field, "harm" | "near_miss" | "patient_involved") {
            Step::Harm
        } else if field.starts_with("police_") {
            Step::Police
        } else {
            Step::What
        }
    }
}

/// The answers of the other steps, carried in hidden inputs.
fn carried_except(p: &Posted, step: Step) -> Vec<(String, String)> {
    p.carried()
        .into_iter()
        .filter(|(n, _)| Step::of(n) != step)
        .collect()
}

/// The problems that belong to one step.
fn problems_of(all: &Problems, step: Step) -> Problems {
    let mut mine = Problems::default();
    for e in all.list.iter().filter(|e| Step::of(&e.field) == step) {
        mine.add(e.field.clone(), e.message.clone());
        if let Some(parts) = all.date_parts.get(&e.field) {
            mine.date_parts.insert(e.field.clone(), parts.clone());
        }
    }
    mine
}

/// The first step holding a problem.
fn first_with_problems(all: &Problems) -> Option<Step> {
    Step::ALL
        .into_iter()
        .find(|s| all.list.iter().any(|e| Step::of(&e.field) == *s))
}

#[derive(Template)]
#[template(path = "reports/incident_step.html")]
struct StepPage {
    layout: crate::web::layout::Layout,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    notice: Option<String>,
    warning: Option<Warning>,
    step: &'static str,
    step_number: usize,
    heading: &'static str,
    back_step: bool,
    return_to_check: bool,
    carried: Vec<(String, String)>,
    form_action: &'static str,
    identity_checked: bool,
    // What happened
    occurred_on: DateValue,
    occurred_time: String,
    discovered_on: DateValue,
    location: String,
    categories: Vec<String>,
    category_options: Vec<(String, String)>,
    description: String,
    actions_taken: String,
    facts: FactsForm,
    // Drugs
    drugs: Vec<DrugRow>,
    can_add_drug: bool,
    next_drug: usize,
    drug_groups: Vec<DrugGroup>,
    schedule_options: Vec<(String, String)>,
    // Harm and people
    harm: String,
    harm_choices: Vec<Choice>,
    near_miss: String,
    patient_involved: String,
    // Police
    police_informed: String,
    police_reference: String,
}

struct Extras {
    notice: Option<String>,
    warning: Option<Warning>,
    add_rows: usize,
}

impl Extras {
    fn none() -> Self {
        Extras {
            notice: None,
            warning: None,
            add_rows: 0,
        }
    }
}

async fn step_page(
    state: &AppState,
    actor: &Actor,
    step: Step,
    p: &Posted,
    problems: &Problems,
    extras: Extras,
) -> AppResult<Response> {
    let cat = reports::catalogue(state).await?;
    let shown = show_errors(problems, INCIDENT_ORDER, INCIDENT_DATES, &incident_anchor);
    let status = status_for(&shown);
    let rows = (drug_row_count(p) + extras.add_rows).min(MAX_DRUGS);
    let drugs = (0..rows)
        .map(|i| {
            let mut values = HashMap::new();
            let mut errs = HashMap::new();
            for part in DRUG_PARTS {
                let field = format!("drugs[{i}].{part}");
                values.insert((*part).to_string(), p.get(&field).to_string());
                if let Some(m) = shown.errors.get(&field) {
                    errs.insert((*part).to_string(), m.to_string());
                }
            }
            DrugRow {
                idx: i,
                n: i + 1,
                values,
                errs,
            }
        })
        .collect();
    let mut schedule_options = vec![(String::new(), "Select a schedule".to_string())];
    schedule_options.extend(Schedule::options());
    let mut layout = for_actor(
        actor,
        title(
            &format!(
                "{} (step {} of 4): report an incident",
                step.heading(),
                step.number()
            ),
            &shown,
        ),
        "/reports/new",
    );
    // The first step goes back to choosing what to report; the others go back a step with a
    // button (a link would lose the answers carried in the form).
    if step == Step::What {
        layout.back_href = Some("/reports/new".into());
    }
    page_with_status(
        status,
        &StepPage {
            layout,
            errors: shown.errors,
            summary: shown.summary,
            notice: extras.notice,
            warning: extras.warning,
            step: step.code(),
            step_number: step.number(),
            heading: step.heading(),
            back_step: step != Step::What,
            return_to_check: p.trimmed("return_to") == "check",
            carried: carried_except(p, step),
            form_action: FORM_ACTION,
            identity_checked: p.trimmed("identity_checked") == "yes",
            occurred_on: date_value(p, "occurred_on", problems),
            occurred_time: p.get("occurred_time").to_string(),
            discovered_on: date_value(p, "discovered_on", problems),
            location: p.get("location").to_string(),
            categories: p.all("categories"),
            category_options: IncidentCategory::options(),
            description: p.get("description").to_string(),
            actions_taken: p.get("actions_taken").to_string(),
            facts: FactsForm::new(p, &p.all("categories"), true),
            drugs,
            can_add_drug: rows < MAX_DRUGS,
            next_drug: rows,
            drug_groups: drug_groups(&cat),
            schedule_options,
            harm: p.trimmed("harm").to_string(),
            harm_choices: harm_choices(),
            near_miss: yes_no_text(p.yes_no("near_miss")).to_string(),
            patient_involved: yes_no_text(p.yes_no("patient_involved")).to_string(),
            police_informed: yes_no_text(p.yes_no("police_informed")).to_string(),
            police_reference: p.get("police_reference").to_string(),
        },
    )
}

pub async fn new_incident(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    require_reporter(&actor)?;
    step_page(
        &state,
        &actor,
        Step::What,
        &Posted::default(),
        &Problems::default(),
        Extras::none(),
    )
    .await
}

/// Every answer parsed, then "Check your answers"; or the first step with a problem.
async fn check_or_first_problem(
    state: &AppState,
    actor: &Actor,
    p: &Posted,
) -> AppResult<Response> {
    let cat = reports::catalogue(state).await?;
    let mut draft = read_incident(p);
    match check_incident(state, &cat, &mut draft) {
        Some(incident) => {
            let rows = draft.drug_rows.clone();
            let sections = incident_sections(&incident, &|i| {
                format!("drugs[{}].drug_id", rows.get(i).copied().unwrap_or(0))
            });
            check_page(actor, FORM_ACTION, p, sections)
        }
        None => {
            let step = first_with_problems(&draft.problems).unwrap_or(Step::What);
            let mine = problems_of(&draft.problems, step);
            step_page(state, actor, step, p, &mine, Extras::none()).await
        }
    }
}

pub async fn post_incident(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    require_reporter(&actor)?;
    let mut p = Posted(form);
    let step = Step::parse(p.trimmed("step")).unwrap_or(Step::What);
    let quiet = Problems::default();
    match p.action() {
        "add_drug" => {
            let extras = Extras {
                add_rows: 1,
                ..Extras::none()
            };
            return step_page(&state, &actor, Step::Drugs, &p, &quiet, extras).await;
        }
        "back" => {
            let to = step.previous().unwrap_or(Step::What);
            return step_page(&state, &actor, to, &p, &quiet, Extras::none()).await;
        }
        "change" => {
            // Back to the step of the answer, and from there straight back to the check page.
            let to = p.change_target().map(Step::of).unwrap_or(Step::What);
            p.set("return_to", "check".into());
            return step_page(&state, &actor, to, &p, &quiet, Extras::none()).await;
        }
        "remove_identifiers" => {
            let n = remove_identifiers(&mut p, &["description", "actions_taken"]);
            let extras = Extras {
                notice: (n > 0).then(|| removed_notice(n)),
                ..Extras::none()
            };
            return step_page(&state, &actor, Step::What, &p, &quiet, extras).await;
        }
        "submit" => return submit(&state, &actor, &p).await,
        _ => {}
    }
    // Continue: this step's answers checked, then (first step) the identity warning, then the
    // next step, or the check page when the reporter came from it.
    let cat = reports::catalogue(&state).await?;
    let mut draft = read_incident(&p);
    let _ = check_incident(&state, &cat, &mut draft);
    let mine = problems_of(&draft.problems, step);
    if !mine.is_empty() {
        return step_page(&state, &actor, step, &p, &mine, Extras::none()).await;
    }
    if step == Step::What
        && p.trimmed("identity_checked") != "yes"
        && let Some(w) = warning_for(
            &[
                ("description", p.get("description")),
                ("the actions taken", p.get("actions_taken")),
            ],
            false,
        )
    {
        let extras = Extras {
            warning: Some(w),
            ..Extras::none()
        };
        return step_page(&state, &actor, Step::What, &p, &quiet, extras).await;
    }
    match step.next() {
        Some(next) if p.trimmed("return_to") != "check" => {
            step_page(&state, &actor, next, &p, &quiet, Extras::none()).await
        }
        _ => check_or_first_problem(&state, &actor, &p).await,
    }
}

/// "Send report" on the check page: the same action as the API, once per check page.
async fn submit(state: &AppState, actor: &Actor, p: &Posted) -> AppResult<Response> {
    let mut draft = read_incident(p);
    if !draft.problems.is_empty() {
        return check_or_first_problem(state, actor, p).await;
    }
    let key = idempotency(p, "incident-page")?;
    match reports::submit_incident(state, actor, &draft.input, key).await {
        Ok((s, _)) => Ok(redirect(&format!("/reports/{}?submitted=1", s.id))),
        Err(AppError::Validation(errors)) => {
            let rows = draft.drug_rows.clone();
            draft.problems.extend(
                errors
                    .into_iter()
                    .map(|e| renumber(e, "drugs", &rows, "Drug"))
                    .collect(),
            );
            let step = first_with_problems(&draft.problems).unwrap_or(Step::What);
            let mine = problems_of(&draft.problems, step);
            step_page(state, actor, step, p, &mine, Extras::none()).await
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_answer_belongs_to_one_step() {
        assert_eq!(Step::of("occurred_on-day"), Step::What);
        assert_eq!(Step::of("online_supply.web_address"), Step::What);
        assert_eq!(Step::of("drugs[1].quantity"), Step::Drugs);
        assert_eq!(Step::of("drug_rows"), Step::Drugs);
        assert_eq!(Step::of("patient_involved"), Step::Harm);
        assert_eq!(Step::of("police_reference"), Step::Police);
        assert_eq!(Step::What.next(), Some(Step::Drugs));
        assert_eq!(Step::Police.next(), None);
        assert_eq!(Step::Drugs.previous(), Some(Step::What));
        assert_eq!(Step::What.previous(), None);
    }

    #[test]
    fn a_step_carries_the_other_steps_answers() {
        let p = Posted(
            [
                ("step", "harm"),
                ("action", "continue"),
                ("location", "Ward 4"),
                ("drugs[0].quantity", "28"),
                ("harm", "none"),
                ("categories", "theft"),
                ("categories", "loss"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
        );
        let carried = carried_except(&p, Step::Harm);
        let names: Vec<&str> = carried.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["location", "drugs[0].quantity", "categories", "categories"]
        );
    }
}
