//! The person-of-concern form.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use uuid::Uuid;

use super::form::{
    DateValue, Posted, Problems, and_list, date_value, read_date, require_reporter, show_errors,
    status_for, title,
};
use super::identifiers::{MOVED, Warning, move_identifiers, remove_identifiers, warning_for};
use super::incident::{removed_notice, renumber};
use super::summary::{check_page, idempotency, person_sections};
use crate::domain::identifiers::Register;
use crate::domain::report::{
    ConcernCategory, ConcernStatus, Identity, IncidentCategory, PersonConcern, PersonConcernInput,
    PersonInput, Provenance, RegistrationInput, SubjectType,
};
use crate::domain::validation::{FieldError, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::records::CaseFilter;
use crate::reports::{self};
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_date;
use crate::web::pages::auth::{page_with_status, redirect};
use crate::web::pages::report_facts::{self, FactsForm};

const PERSON_ORDER: &[&str] = &[
    "subject_type",
    "person.full_name",
    "person.date_of_birth",
    "person.nhs_number",
    "person.registrations",
    "person.prescriber_code",
    "person.job_role",
    "person.work_addresses",
    "concern_categories",
    "online_supply",
    "provenance",
    "status",
    "description",
    "identity_checked",
    "linked_case_ids",
    "cbpm",
];
const PERSON_DATES: &[&str] = &["person.date_of_birth"];
pub(super) const MAX_REGISTRATIONS: usize = 3;
const MAX_ADDRESSES: usize = 3;

fn person_anchor(field: &str) -> Option<String> {
    if let Some(a) = report_facts::anchor(field) {
        Some(a)
    } else if field.starts_with("concern_categories[") {
        Some("concern_categories".into())
    } else if field.starts_with("linked_case_ids") {
        Some("linked_case_ids".into())
    } else if field == "person.work_addresses" {
        Some("person.work_addresses[0]".into())
    } else if field == "person.registrations" {
        Some("person.registrations[0].register".into())
    } else {
        None
    }
}

fn row_count(p: &Posted, counter: &str, max: usize) -> usize {
    p.trimmed(counter)
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, max)
}

struct PersonDraft {
    input: PersonConcernInput,
    problems: Problems,
    reg_rows: Vec<usize>,
    addr_rows: Vec<usize>,
}

fn read_person(p: &Posted) -> PersonDraft {
    let mut problems = Problems::default();
    let date_of_birth = read_date(p, "person.date_of_birth", "of birth", &mut problems);
    let mut registrations = Vec::new();
    let mut reg_rows = Vec::new();
    for i in 0..MAX_REGISTRATIONS {
        let register = p.opt(&format!("person.registrations[{i}].register"));
        let number = p.opt(&format!("person.registrations[{i}].number"));
        if register.is_none() && number.is_none() {
            continue;
        }
        registrations.push(RegistrationInput { register, number });
        reg_rows.push(i);
    }
    let mut work_addresses = Vec::new();
    let mut addr_rows = Vec::new();
    for i in 0..MAX_ADDRESSES {
        if let Some(a) = p.opt(&format!("person.work_addresses[{i}]")) {
            work_addresses.push(a);
            addr_rows.push(i);
        }
    }
    let mut linked = Vec::new();
    for v in p.all("linked_case_ids") {
        match Uuid::parse_str(&v) {
            Ok(id) => linked.push(id),
            Err(_) => problems.add("linked_case_ids", "Select reports from the list"),
        }
    }
    let categories = p.all("concern_categories");
    let online_supply = report_facts::online_supply_input(p, &categories);
    let cbpm = report_facts::cbpm_input(p, &categories, true);
    PersonDraft {
        input: PersonConcernInput {
            subject_type: p.opt("subject_type"),
            person: Some(PersonInput {
                full_name: p.opt("person.full_name"),
                date_of_birth,
                nhs_number: p.opt("person.nhs_number"),
                registrations: Some(registrations),
                prescriber_code: p.opt("person.prescriber_code"),
                job_role: p.opt("person.job_role"),
                work_addresses: Some(work_addresses),
            }),
            concern_categories: (!categories.is_empty()).then_some(categories),
            provenance: p.opt("provenance"),
            status: p.opt("status"),
            description: p.opt("description"),
            linked_case_ids: Some(linked),
            online_supply,
            cbpm,
        },
        problems,
        reg_rows,
        addr_rows,
    }
}

fn renumber_person(e: FieldError, reg_rows: &[usize], addr_rows: &[usize]) -> FieldError {
    if e.field.starts_with("person.registrations[") {
        renumber(e, "person.registrations", reg_rows, "Registration")
    } else if e.field.starts_with("person.work_addresses[") {
        renumber(e, "person.work_addresses", addr_rows, "Work address")
    } else {
        e
    }
}

/// The reporter's incident reports that a concern may link to: the newest 20 they can see.
async fn linkable(state: &AppState, actor: &Actor) -> AppResult<Vec<(Uuid, String)>> {
    let f = CaseFilter {
        kind: Some("incident".into()),
        limit: 20,
        ..CaseFilter::default()
    };
    Ok(reports::list_cases(state, actor, &f)
        .await?
        .0
        .into_iter()
        .map(|c| {
            let kinds: Vec<&str> = c
                .categories
                .iter()
                .filter_map(|code| IncidentCategory::parse(code).map(IncidentCategory::label))
                .collect();
            let mut label = format!("{}, sent {}", c.reference, uk_date(c.submitted_at));
            if !kinds.is_empty() {
                label.push_str(&format!(": {}", kinds.join(", ")));
            }
            (c.id, label)
        })
        .collect())
}

async fn check_person(
    state: &AppState,
    actor: &Actor,
    draft: &mut PersonDraft,
) -> AppResult<Option<(PersonConcern, Identity)>> {
    let wanted = draft.input.linked_case_ids.clone().unwrap_or_default();
    let linked_ok: Vec<Uuid> = reports::briefs(state, actor, &wanted)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    match draft.input.parse(reports::uk_today(state), &linked_ok) {
        Ok(parsed) if draft.problems.is_empty() => Ok(Some(parsed)),
        Ok(_) => Ok(None),
        Err(errors) => {
            let (r, a) = (draft.reg_rows.clone(), draft.addr_rows.clone());
            draft.problems.extend(
                errors
                    .into_iter()
                    .map(|e| renumber_person(e, &r, &a))
                    .collect(),
            );
            Ok(None)
        }
    }
}

pub struct RegRow {
    pub idx: usize,
    pub n: usize,
    pub register: String,
    pub number: String,
    pub register_error: Option<String>,
    pub number_error: Option<String>,
}

impl RegRow {
    pub fn register_id(&self) -> String {
        format!("person.registrations[{}].register", self.idx)
    }

    pub fn number_id(&self) -> String {
        format!("person.registrations[{}].number", self.idx)
    }
}

pub struct AddressRow {
    pub id: String,
    pub label_text: String,
    pub text_value: String,
    pub error: Option<String>,
}

pub struct PersonValues {
    pub subject_type: String,
    pub full_name: String,
    pub date_of_birth: DateValue,
    pub nhs_number: String,
    pub prescriber_code: String,
    pub job_role: String,
    pub concern_categories: Vec<String>,
    pub provenance: String,
    pub status: String,
    pub description: String,
    pub linked: Vec<String>,
}

#[derive(Template)]
#[template(path = "reports/person_form.html")]
struct PersonFormPage {
    layout: Layout,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    notice: Option<String>,
    warning: Option<Warning>,
    f: PersonValues,
    registrations: Vec<RegRow>,
    can_add_registration: bool,
    next_registration: usize,
    addresses: Vec<AddressRow>,
    can_add_address: bool,
    next_address: usize,
    subject_options: Vec<(String, String)>,
    register_options: Vec<(String, String)>,
    register_hints: Vec<(String, String)>,
    concern_options: Vec<(String, String)>,
    provenance_options: Vec<(String, String)>,
    status_options: Vec<(String, String)>,
    linked_options: Vec<(String, String)>,
    form_action: &'static str,
    identity_checked: bool,
    facts: FactsForm,
}

struct PersonExtras {
    notice: Option<String>,
    warning: Option<Warning>,
    add_registration: bool,
    add_address: bool,
}

impl PersonExtras {
    fn none() -> Self {
        PersonExtras {
            notice: None,
            warning: None,
            add_registration: false,
            add_address: false,
        }
    }
}

async fn person_form(
    state: &AppState,
    actor: &Actor,
    p: &Posted,
    problems: &Problems,
    extras: PersonExtras,
) -> AppResult<Response> {
    let shown = show_errors(problems, PERSON_ORDER, PERSON_DATES, &person_anchor);
    let status = status_for(&shown);
    let filled_regs = (0..MAX_REGISTRATIONS)
        .filter(|i| {
            !p.trimmed(&format!("person.registrations[{i}].register"))
                .is_empty()
                || !p
                    .trimmed(&format!("person.registrations[{i}].number"))
                    .is_empty()
        })
        .max()
        .map_or(0, |i| i + 1);
    let reg_count = (row_count(p, "registration_rows", MAX_REGISTRATIONS)
        + usize::from(extras.add_registration))
    .max(filled_regs)
    .min(MAX_REGISTRATIONS);
    let filled_addrs = (0..MAX_ADDRESSES)
        .filter(|i| !p.trimmed(&format!("person.work_addresses[{i}]")).is_empty())
        .max()
        .map_or(0, |i| i + 1);
    let addr_count = (row_count(p, "address_rows", MAX_ADDRESSES)
        + usize::from(extras.add_address))
    .max(filled_addrs)
    .min(MAX_ADDRESSES);
    let registrations = (0..reg_count)
        .map(|i| {
            let reg = format!("person.registrations[{i}].register");
            let num = format!("person.registrations[{i}].number");
            RegRow {
                idx: i,
                n: i + 1,
                register: p.trimmed(&reg).to_string(),
                number: p.get(&num).to_string(),
                register_error: shown.errors.get(&reg).map(str::to_string),
                number_error: shown.errors.get(&num).map(str::to_string),
            }
        })
        .collect();
    let addresses = (0..addr_count)
        .map(|i| {
            let id = format!("person.work_addresses[{i}]");
            AddressRow {
                label_text: format!("Work address {} (optional)", i + 1),
                text_value: p.get(&id).to_string(),
                error: shown.errors.get(&id).map(str::to_string),
                id,
            }
        })
        .collect();
    let mut register_options = vec![(String::new(), "Select a register".to_string())];
    register_options.extend(
        Register::ALL
            .iter()
            .map(|r| (r.code().to_string(), r.label().to_string())),
    );
    let register_hints = Register::ALL
        .iter()
        .map(|r| (r.acronym().to_string(), r.hint().to_string()))
        .collect();
    let linked_options = linkable(state, actor)
        .await?
        .into_iter()
        .map(|(id, label)| (id.to_string(), label))
        .collect();
    let status_value = if p.0.is_empty() {
        ConcernStatus::Alleged.code().to_string()
    } else {
        p.trimmed("status").to_string()
    };
    let mut layout = for_actor(
        actor,
        title("Report a concern about a person", &shown),
        "/reports/new",
    );
    layout.back_href = Some("/reports/new".into());
    page_with_status(
        status,
        &PersonFormPage {
            layout,
            f: PersonValues {
                subject_type: p.trimmed("subject_type").to_string(),
                full_name: p.get("person.full_name").to_string(),
                date_of_birth: date_value(p, "person.date_of_birth", problems),
                nhs_number: p.get("person.nhs_number").to_string(),
                prescriber_code: p.get("person.prescriber_code").to_string(),
                job_role: p.get("person.job_role").to_string(),
                concern_categories: p.all("concern_categories"),
                provenance: p.trimmed("provenance").to_string(),
                status: status_value,
                description: p.get("description").to_string(),
                linked: p.all("linked_case_ids"),
            },
            errors: shown.errors,
            summary: shown.summary,
            notice: extras.notice,
            warning: extras.warning,
            registrations,
            can_add_registration: reg_count < MAX_REGISTRATIONS,
            next_registration: reg_count,
            addresses,
            can_add_address: addr_count < MAX_ADDRESSES,
            next_address: addr_count,
            subject_options: SubjectType::options(),
            register_options,
            register_hints,
            concern_options: ConcernCategory::options(),
            provenance_options: Provenance::options(),
            status_options: ConcernStatus::options(),
            linked_options,
            form_action: "/reports/new/person-concern",
            identity_checked: p.trimmed("identity_checked") == "yes",
            facts: FactsForm::new(p, &p.all("concern_categories"), false),
        },
    )
}

pub async fn new_person_concern(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Response> {
    require_reporter(&actor)?;
    person_form(
        &state,
        &actor,
        &Posted::default(),
        &Problems::default(),
        PersonExtras::none(),
    )
    .await
}

pub async fn post_person_concern(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    require_reporter(&actor)?;
    let mut p = Posted(form);
    let quiet = Problems::default();
    match p.action() {
        "add_registration" | "add_address" | "change" => {
            let extras = PersonExtras {
                add_registration: p.action() == "add_registration",
                add_address: p.action() == "add_address",
                ..PersonExtras::none()
            };
            return person_form(&state, &actor, &p, &quiet, extras).await;
        }
        "remove_identifiers" => {
            let n = remove_identifiers(&mut p, &["description"]);
            let extras = PersonExtras {
                notice: (n > 0).then(|| removed_notice(n)),
                ..PersonExtras::none()
            };
            return person_form(&state, &actor, &p, &quiet, extras).await;
        }
        "move_identifiers" => {
            let moved = move_identifiers(&mut p, reports::uk_today(&state));
            let notice = if moved.is_empty() {
                "Nothing could be moved: the protected details already hold other values. Remove it from the description instead, or change the protected details.".to_string()
            } else {
                format!(
                    "We moved {} into the protected details and put {MOVED} in the description. Check the protected details and the description before you continue.",
                    and_list(&moved)
                )
            };
            // If something could not move, say so again.
            let warning = warning_for(&[("description", p.get("description"))], true);
            let extras = PersonExtras {
                notice: Some(notice),
                warning,
                ..PersonExtras::none()
            };
            return person_form(&state, &actor, &p, &quiet, extras).await;
        }
        _ => {}
    }
    let mut draft = read_person(&p);
    if p.action() == "submit" {
        if !draft.problems.is_empty() {
            return person_form(&state, &actor, &p, &draft.problems, PersonExtras::none()).await;
        }
        let key = idempotency(&p, "person-concern-page")?;
        return match reports::submit_person_concern(&state, &actor, &draft.input, key).await {
            Ok((s, _)) => Ok(redirect(&format!("/reports/{}?submitted=1", s.id))),
            Err(AppError::Validation(errors)) => {
                let (r, a) = (draft.reg_rows.clone(), draft.addr_rows.clone());
                draft.problems.extend(
                    errors
                        .into_iter()
                        .map(|e| renumber_person(e, &r, &a))
                        .collect(),
                );
                person_form(&state, &actor, &p, &draft.problems, PersonExtras::none()).await
            }
            Err(e) => Err(e),
        };
    }
    let Some((concern, identity)) = check_person(&state, &actor, &mut draft).await? else {
        return person_form(&state, &actor, &p, &draft.problems, PersonExtras::none()).await;
    };
    if p.trimmed("identity_checked") != "yes"
        && let Some(w) = warning_for(&[("description", p.get("description"))], true)
    {
        let extras = PersonExtras {
            warning: Some(w),
            ..PersonExtras::none()
        };
        return person_form(&state, &actor, &p, &quiet, extras).await;
    }
    let linked = linkable(&state, &actor).await?;
    let sections = person_sections(&concern, Some(&identity), &linked);
    check_page(&actor, "/reports/new/person-concern", &p, sections)
}
