//! The reporter's pages (SPEC §6 "Reporter / org lead"): choosing what to report, the incident
//! and person-of-concern forms with their "Check your answers" step, the report page with
//! corrections and evidence, and "Your reports". They call the same actions as the API
//! (`crate::reports`, `crate::attachments`), so the rules, the parsing and the audit are the
//! same.
//!
//! Nothing is kept on the server until the report is sent: the form, the identity warning and
//! the check page carry every value in the page itself (hidden inputs on the check page), and
//! every step parses all of it again. Field ids are the domain's error field names
//! (`occurred_on-day`, `drugs[1].quantity`, `person.registrations[0].number`), so every link
//! of an error summary lands on its field.

use std::collections::HashMap;
use std::ops::Range;

use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::Response;
use chrono::NaiveDate;
use futures_util::StreamExt;
use uuid::Uuid;

use crate::attachments;
use crate::domain::directory::Role;
use crate::domain::identifiers::{
    Found, IdentifierKind, NhsNumber, Register, find_identifiers_in_text,
};
use crate::domain::report::{
    CaseStatus, ConcernCategory, ConcernStatus, DrugItemInput, Harm, Identity, Incident,
    IncidentCategory, IncidentInput, PersonConcern, PersonConcernInput, PersonInput, Provenance,
    RegistrationInput, Schedule, SubjectType,
};
use crate::domain::validation::{FieldError, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::records::{self as cdb, CaseFilter};
use crate::reports::{self, Catalogue};
use crate::state::AppState;
use crate::web::api::cases::{
    case_page, download as download_file, parse_case_filter, read_file_part,
};
use crate::web::extract::{PageForm, Params, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::{uk_date, uk_time};
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::pages::report_facts::{self, FactsForm};
use crate::web::session::{RequestAuth, set_flash, take_flash};

// =============================================================================================
// The posted form, dates and error summaries (shared with the returns pages)
// =============================================================================================

/// A posted form as its (name, value) pairs, in order. Names such as `drugs[1].quantity` are
/// kept as they are: the handlers read them by name.
#[derive(Debug, Default, Clone)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn trimmed(&self, name: &str) -> &str {
        self.get(name).trim()
    }

    /// The trimmed value, None when blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.trimmed(name);
        (!v.is_empty()).then(|| v.to_string())
    }

    /// Every non-blank value of a repeated name (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    pub fn set(&mut self, name: &str, value: String) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }

    /// `yes` / `no` radios.
    pub fn yes_no(&self, name: &str) -> Option<bool> {
        match self.trimmed(name) {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        }
    }

    /// The button pressed. A "Change" button of a check page says which answer
    /// (`change:drugs[0].drug_id`): that is the action `change`, with `change_target`.
    pub fn action(&self) -> &str {
        let a = self.trimmed("action");
        if a.starts_with("change:") {
            "change"
        } else {
            a
        }
    }

    /// The field a "Change" button returns to.
    pub fn change_target(&self) -> Option<&str> {
        self.trimmed("action").strip_prefix("change:")
    }

    /// What the check page carries back in hidden inputs: everything but the buttons' own
    /// values and the submission token.
    pub(crate) fn carried(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(n, _)| {
                !matches!(
                    n.as_str(),
                    "action" | "submission_token" | "step" | "return_to"
                )
            })
            .cloned()
            .collect()
    }
}

/// Problems found while reading a form, before and after the domain's parse: one message per
/// field (the first found), and which parts of a date input are wrong.
#[derive(Debug, Default)]
pub struct Problems {
    pub list: Vec<FieldError>,
    pub date_parts: HashMap<String, String>,
}

impl Problems {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        if !self.list.iter().any(|e| e.field == field) {
            self.list.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    fn add_date(&mut self, field: &str, message: String, parts: &str) {
        if !self.list.iter().any(|e| e.field == field) {
            self.date_parts.insert(field.to_string(), parts.to_string());
        }
        self.add(field, message);
    }

    pub fn extend(&mut self, errors: Vec<FieldError>) {
        for e in errors {
            self.add(e.field, e.message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The parts of a date input to mark: those found wrong, or all three.
    pub fn parts_of(&self, field: &str) -> String {
        self.date_parts
            .get(field)
            .cloned()
            .unwrap_or_else(|| "day month year".to_string())
    }
}

/// The fields of a repeated row, in the order the page shows them (for sorting errors).
const ROW_FIELDS: &[&str] = &[
    "drug_id",
    "name",
    "schedule",
    "formulation",
    "strength",
    "quantity",
    "unit",
    "daily_dose_mg",
    "patch_micrograms_per_hour",
    "register",
    "number",
];

/// Where a field sits on its page: (question, row, field within the row).
fn rank(field: &str, order: &[&str]) -> (usize, usize, usize) {
    for (i, question) in order.iter().enumerate() {
        let Some(rest) = field.strip_prefix(question) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(['[', '.', '-'])) {
            continue;
        }
        let row = rest
            .strip_prefix('[')
            .and_then(|r| r.split(']').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let within = rest
            .rsplit_once('.')
            .and_then(|(_, f)| ROW_FIELDS.iter().position(|x| *x == f))
            .unwrap_or(0);
        return (i, row, within);
    }
    (order.len(), 0, 0)
}

/// The errors as the page shows them: in page order, each with the id its summary link
/// points at.
pub struct Shown {
    pub errors: FieldErrors,
    pub summary: Vec<(String, String)>,
}

impl Shown {
    pub fn none() -> Self {
        Shown {
            errors: FieldErrors::new(),
            summary: Vec::new(),
        }
    }
}

pub fn show_errors(
    problems: &Problems,
    order: &[&str],
    date_fields: &[&str],
    anchor: &dyn Fn(&str) -> Option<String>,
) -> Shown {
    let mut list = problems.list.clone();
    list.sort_by_key(|e| rank(&e.field, order));
    let summary = list
        .iter()
        .map(|e| {
            let id = if date_fields.contains(&e.field.as_str()) {
                let parts = problems.parts_of(&e.field);
                let first = parts.split_whitespace().next().unwrap_or("day");
                format!("{}-{first}", e.field)
            } else {
                anchor(&e.field).unwrap_or_else(|| e.field.clone())
            };
            (id, e.message.clone())
        })
        .collect();
    Shown {
        errors: FieldErrors::from_vec(list),
        summary,
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A date input's three parts, as typed, and which of them to mark as wrong.
#[derive(Debug, Clone, Default)]
pub struct DateValue {
    pub day: String,
    pub month: String,
    pub year: String,
    pub parts: String,
}

pub(crate) fn date_value(p: &Posted, name: &str, problems: &Problems) -> DateValue {
    DateValue {
        day: p.get(&format!("{name}-day")).to_string(),
        month: p.get(&format!("{name}-month")).to_string(),
        year: p.get(&format!("{name}-year")).to_string(),
        parts: problems.parts_of(name),
    }
}

/// Reads an NHS date input (`name-day`, `name-month`, `name-year`) into the `YYYY-MM-DD` the
/// domain parses. A date with a part missing or not a real date is named here, in the words of
/// the NHS pattern; whether it is required or in the future is the domain's to say.
fn read_date(p: &Posted, name: &str, what: &str, problems: &mut Problems) -> Option<String> {
    let day = p.trimmed(&format!("{name}-day"));
    let month = p.trimmed(&format!("{name}-month"));
    let year = p.trimmed(&format!("{name}-year"));
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return None;
    }
    let missing: Vec<String> = [("day", day), ("month", month), ("year", year)]
        .iter()
        .filter(|(_, v)| v.is_empty())
        .map(|(part, _)| part.to_string())
        .collect();
    if !missing.is_empty() {
        problems.add_date(
            name,
            format!("The date {what} must include a {}", and_list(&missing)),
            &missing.join(" "),
        );
        return None;
    }
    let number = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match (number(day), number(month), number(year)) {
        (Some(d), Some(m), Some(y)) if year.len() == 4 => {
            match NaiveDate::from_ymd_opt(i32::try_from(y).unwrap_or(0), m, d) {
                Some(date) => Some(date.format("%Y-%m-%d").to_string()),
                None => {
                    let part = if (1..=12).contains(&m) {
                        "day"
                    } else {
                        "month"
                    };
                    problems.add_date(name, format!("The date {what} must be a real date"), part);
                    None
                }
            }
        }
        (Some(_), Some(_), Some(_)) => {
            problems.add_date(name, "Year must include 4 numbers".to_string(), "year");
            None
        }
        (d, m, y) => {
            let wrong: Vec<&str> = [("day", d), ("month", m), ("year", y)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(part, _)| *part)
                .collect();
            problems.add_date(
                name,
                format!("The date {what} must be a real date"),
                &wrong.join(" "),
            );
            None
        }
    }
}

/// A number typed into a text input (`28`, `2.5`, `1,000`); None when blank.
fn read_number(
    p: &Posted,
    field: &str,
    what: &str,
    prefix: &str,
    problems: &mut Problems,
) -> Option<f64> {
    let raw = p.trimmed(field);
    if raw.is_empty() {
        return None;
    }
    match raw.replace(',', "").parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            problems.add(field, format!("{prefix}{what} must be a number, like 28"));
            None
        }
    }
}

/// `28` for 28.0, `2.5` for 2.5.
fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// "Error: " before a page's title when it shows an error summary.
pub fn title(base: &str, shown: &Shown) -> String {
    if shown.summary.is_empty() {
        base.to_string()
    } else {
        format!("Error: {base}")
    }
}

pub(crate) fn status_for(shown: &Shown) -> StatusCode {
    if shown.summary.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

/// A radio or checkbox with its own hint.
pub struct Choice {
    pub id: String,
    pub code: String,
    pub text: String,
    pub hint: String,
}

fn choices(name: &str, items: &[(&str, &str, &str)]) -> Vec<Choice> {
    items
        .iter()
        .enumerate()
        .map(|(i, (code, text, hint))| Choice {
            id: if i == 0 {
                name.to_string()
            } else {
                format!("{name}-{}", i + 1)
            },
            code: (*code).to_string(),
            text: (*text).to_string(),
            hint: (*hint).to_string(),
        })
        .collect()
}

pub(crate) fn yes_no_text(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// Reporting is for the staff of a provider (reporters and their CD lead).
pub(crate) fn require_reporter(actor: &Actor) -> AppResult<()> {
    policy::submit_report(actor).map(|_| ())
}

// =============================================================================================
// Choosing what to report
// =============================================================================================

#[derive(Template)]
#[template(path = "reports/new.html")]
struct NewReportPage {
    layout: Layout,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    kind: String,
    kinds: Vec<Choice>,
}

fn kind_choices() -> Vec<Choice> {
    choices(
        "kind",
        &[
            (
                "incident",
                "An incident involving controlled drugs",
                "For example, stock missing from the CD register, a dispensing or administration error, a lost or forged prescription, or a theft.",
            ),
            (
                "person_concern",
                "A concern about a person",
                "For example, a colleague who may be diverting oxycodone, a prescriber prescribing for themselves or their family, or a patient obtaining controlled drugs from several places.",
            ),
        ],
    )
}

fn new_report_page(actor: &Actor, kind: &str, shown: Shown) -> AppResult<Response> {
    let status = status_for(&shown);
    let mut layout = for_actor(
        actor,
        title("What do you want to report?", &shown),
        "/reports/new",
    );
    layout.back_href = Some("/".into());
    page_with_status(
        status,
        &NewReportPage {
            layout,
            errors: shown.errors,
            summary: shown.summary,
            kind: kind.to_string(),
            kinds: kind_choices(),
        },
    )
}

pub async fn new_report(actor: Actor) -> AppResult<Response> {
    require_reporter(&actor)?;
    new_report_page(&actor, "", Shown::none())
}

pub async fn choose_kind(
    actor: Actor,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    require_reporter(&actor)?;
    let p = Posted(form);
    match p.trimmed("kind") {
        "incident" => Ok(redirect("/reports/new/incident")),
        "person_concern" => Ok(redirect("/reports/new/person-concern")),
        _ => {
            let mut problems = Problems::default();
            problems.add("kind", "Select what you want to report");
            let shown = show_errors(&problems, &["kind"], &[], &|_| None);
            new_report_page(&actor, "", shown)
        }
    }
}

// =============================================================================================
// Identifiers in free text (SPEC §6): the warning, removing them, moving them
// =============================================================================================

/// What the warning counts: NHS numbers, registration numbers and dates said to be of birth.
fn flagged(text: &str) -> Vec<Found> {
    find_identifiers_in_text(text)
        .into_iter()
        .filter(|f| f.kind != IdentifierKind::Date || f.labelled)
        .collect()
}

fn describe(text: &str, f: &Found) -> String {
    let raw = text.get(f.range.clone()).unwrap_or("").trim();
    match f.kind {
        IdentifierKind::NhsNumber => {
            let shown = NhsNumber::parse(raw)
                .map(|n| n.to_string())
                .unwrap_or_else(|_| raw.to_string());
            format!("an NHS number ({shown})")
        }
        IdentifierKind::Date => format!("a date of birth ({raw})"),
        IdentifierKind::RegistrationNumber => format!("a registration number ({raw})"),
    }
}

/// The warning shown above the description.
pub struct Warning {
    /// "Your description seems to contain an NHS number (943 476 5919)."
    pub sentence: String,
    /// A person-of-concern form can move identifiers into its protected fields.
    pub can_move: bool,
    /// More than one identifier: "Move them", not "Move it".
    pub several: bool,
}

pub(crate) fn warning_for(texts: &[(&str, &str)], can_move: bool) -> Option<Warning> {
    let mut found = Vec::new();
    let mut places = Vec::new();
    for (place, text) in texts {
        let here: Vec<String> = flagged(text).iter().map(|f| describe(text, f)).collect();
        if !here.is_empty() {
            places.push(*place);
            found.extend(here);
        }
    }
    if found.is_empty() {
        return None;
    }
    let sentence = match places.as_slice() {
        ["description"] => format!("Your description seems to contain {}.", and_list(&found)),
        [place] => format!(
            "What you wrote in {place} seems to contain {}.",
            and_list(&found)
        ),
        _ => format!(
            "Your description and what you wrote in {} seem to contain {}.",
            places.get(1).copied().unwrap_or("another answer"),
            and_list(&found)
        ),
    };
    Some(Warning {
        sentence,
        can_move,
        several: found.len() > 1,
    })
}

/// Replaces byte ranges of `text` (in text order, not overlapping).
fn replace_ranges(text: &str, edits: &[(Range<usize>, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (r, with) in edits {
        if r.start < at || r.end > text.len() {
            continue;
        }
        out.push_str(text.get(at..r.start).unwrap_or(""));
        out.push_str(with);
        at = r.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

const REMOVED: &str = "[removed]";
const MOVED: &str = "[moved to the protected details]";

/// Blanks the flagged identifiers out of the named fields; returns how many went.
pub(crate) fn remove_identifiers(p: &mut Posted, fields: &[&str]) -> usize {
    let mut n = 0;
    for field in fields {
        let text = p.get(field).to_string();
        let found = flagged(&text);
        if found.is_empty() {
            continue;
        }
        n += found.len();
        let edits: Vec<(Range<usize>, &str)> =
            found.iter().map(|f| (f.range.clone(), REMOVED)).collect();
        p.set(field, replace_ranges(&text, &edits));
    }
    n
}

/// Which register a number found in text belongs to: the register named just before it, or
/// the one whose format only it fits (NMC PINs, HCPC letters); otherwise unknown (GMC and GPhC
/// numbers are both 7 digits), for the reporter to choose.
fn register_of(text: &str, range: &Range<usize>, number: &str) -> Option<Register> {
    let start = range.start.saturating_sub(30);
    let before = (start..range.start)
        .find_map(|s| text.get(s..range.start))
        .unwrap_or("")
        .to_lowercase();
    let named = before
        .split(|c: char| !c.is_alphanumeric())
        .filter_map(Register::parse)
        .next_back();
    if named.is_some() {
        return named;
    }
    let upper = number.to_uppercase();
    if upper
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
    {
        return Some(Register::Hcpc);
    }
    if crate::domain::identifiers::Registration::parse(Register::Nmc, &upper).is_ok() {
        return Some(Register::Nmc);
    }
    None
}

/// A date as people write it (`31/01/1970`, `1970-01-31`, `31 Jan 1970`, `January 31, 1970`).
fn written_date(s: &str, today: NaiveDate) -> Option<NaiveDate> {
    let words: Vec<String> = s
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("of"))
        .map(str::to_lowercase)
        .collect();
    let [a, b, c] = words.as_slice() else {
        return None;
    };
    let month_of = |w: &str| {
        const MONTHS: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        MONTHS
            .iter()
            .position(|m| w.starts_with(m))
            .and_then(|i| u32::try_from(i + 1).ok())
    };
    let day_of = |w: &str| {
        w.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .parse::<u32>()
            .ok()
    };
    let year_of = |w: &str| -> Option<i32> {
        let y: i32 = w.parse().ok()?;
        match w.len() {
            4 => Some(y),
            2 => {
                let this = chrono::Datelike::year(&today) % 100;
                Some(if y > this { 1900 + y } else { 2000 + y })
            }
            _ => None,
        }
    };
    let (y, m, d) = if a.len() == 4 && a.chars().all(|c| c.is_ascii_digit()) {
        (year_of(a)?, b.parse().ok()?, day_of(c)?)
    } else if let Some(m) =
        month_of(b).filter(|_| b.chars().next().is_some_and(char::is_alphabetic))
    {
        (year_of(c)?, m, day_of(a)?)
    } else if let Some(m) =
        month_of(a).filter(|_| a.chars().next().is_some_and(char::is_alphabetic))
    {
        (year_of(c)?, m, day_of(b)?)
    } else {
        (year_of(c)?, b.parse().ok()?, day_of(a)?)
    };
    NaiveDate::from_ymd_opt(y, m, d)
}

/// Moves identifiers found in the person-of-concern description into the protected fields
/// (where those are free) and takes them out of the text; returns what moved.
fn move_identifiers(p: &mut Posted, today: NaiveDate) -> Vec<String> {
    let text = p.get("description").to_string();
    let mut edits: Vec<(Range<usize>, &str)> = Vec::new();
    let mut moved = Vec::new();
    let mut reg_rows = p
        .trimmed("registration_rows")
        .parse::<usize>()
        .unwrap_or(1)
        .clamp(1, MAX_REGISTRATIONS);
    for f in flagged(&text) {
        let raw = text.get(f.range.clone()).unwrap_or("").trim().to_string();
        match f.kind {
            IdentifierKind::NhsNumber => {
                let Ok(n) = NhsNumber::parse(&raw) else {
                    continue;
                };
                let current = p.trimmed("person.nhs_number");
                let same = NhsNumber::parse(current).is_ok_and(|c| c == n);
                if current.is_empty() || same {
                    p.set("person.nhs_number", n.to_string());
                    edits.push((f.range.clone(), MOVED));
                    moved.push("the NHS number".to_string());
                }
            }
            IdentifierKind::RegistrationNumber => {
                let number: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
                let register = register_of(&text, &f.range, &number);
                let free = (0..MAX_REGISTRATIONS).find(|i| {
                    let n = p.trimmed(&format!("person.registrations[{i}].number"));
                    let r = p.trimmed(&format!("person.registrations[{i}].register"));
                    (n.is_empty() && r.is_empty()) || n.eq_ignore_ascii_case(&number)
                });
                if let Some(i) = free {
                    if let Some(reg) = register {
                        p.set(
                            &format!("person.registrations[{i}].register"),
                            reg.code().to_string(),
                        );
                    }
                    p.set(&format!("person.registrations[{i}].number"), number);
                    reg_rows = reg_rows.max(i + 1);
                    edits.push((f.range.clone(), MOVED));
                    moved.push("the registration number".to_string());
                }
            }
            IdentifierKind::Date => {
                let Some(dob) = written_date(&raw, today) else {
                    continue;
                };
                let blank = ["day", "month", "year"].iter().all(|part| {
                    p.trimmed(&format!("person.date_of_birth-{part}"))
                        .is_empty()
                });
                if blank {
                    p.set(
                        "person.date_of_birth-day",
                        chrono::Datelike::day(&dob).to_string(),
                    );
                    p.set(
                        "person.date_of_birth-month",
                        chrono::Datelike::month(&dob).to_string(),
                    );
                    p.set(
                        "person.date_of_birth-year",
                        chrono::Datelike::year(&dob).to_string(),
                    );
                    edits.push((f.range.clone(), MOVED));
                    moved.push("the date of birth".to_string());
                }
            }
        }
    }
    p.set("registration_rows", reg_rows.to_string());
    p.set("description", replace_ranges(&text, &edits));
    moved.dedup();
    moved
}

// =============================================================================================
// "Check your answers" and the report page: the report as summary lists
// =============================================================================================

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

fn row(key: &str, lines: Vec<String>, anchor: &str) -> Row {
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

fn text_lines(text: &str) -> Vec<String> {
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
fn person_sections(
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

// =============================================================================================
// The incident form
// =============================================================================================

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

// =============================================================================================
// The person-of-concern form
// =============================================================================================

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
const MAX_REGISTRATIONS: usize = 3;
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

// =============================================================================================
// The report page: the report as sent, amendments, evidence, timeline
// =============================================================================================

pub fn status_tag(status: &str) -> (String, String) {
    let (label, colour) = match CaseStatus::parse(status) {
        Some(CaseStatus::New) => ("New", "blue"),
        Some(CaseStatus::InReview) => ("In review", "aqua-green"),
        Some(CaseStatus::AwaitingInformation) => ("Information requested", "orange"),
        Some(CaseStatus::Investigating) => ("Investigating", "purple"),
        Some(CaseStatus::Closed) => ("Closed", "grey"),
        None => (status, "grey"),
    };
    (label.to_string(), colour.to_string())
}

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "incident" => "Incident",
        "person_concern" => "Concern about a person",
        _ => "Report",
    }
}

pub struct AmendmentView {
    pub heading: String,
    pub lines: Vec<String>,
}

pub struct AttachmentView {
    pub href: String,
    pub filename: String,
    pub details: String,
}

pub struct EventView {
    pub at: String,
    pub what: String,
    pub who: String,
}

/// A message between the CDAO team and the reporting side.
pub struct MessageView {
    pub heading: String,
    pub lines: Vec<String>,
    /// The CDAO team asked for more information.
    pub request: bool,
}

#[derive(Template)]
#[template(path = "reports/show.html")]
struct ReportPage {
    layout: Layout,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    flash: Option<String>,
    id: Uuid,
    reference: String,
    kind: String,
    status_label: String,
    status_colour: String,
    submitted_at: String,
    organisation: String,
    submitted: bool,
    sections: Vec<Section>,
    with_changes: bool,
    form_action: String,
    amendments: Vec<AmendmentView>,
    attachments: Vec<AttachmentView>,
    timeline: Vec<EventView>,
    messages: Vec<MessageView>,
    awaiting_information: bool,
    can_amend: bool,
    can_message: bool,
    amend_text: String,
    message_text: String,
}

fn file_size(bytes: i32) -> String {
    let b = f64::from(bytes);
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.0} KB", (b / 1024.0).ceil())
    } else {
        format!("{bytes} bytes")
    }
}

fn event_label(e: &cdb::TimelineEvent) -> String {
    let to_status = || {
        e.data
            .pointer("/status/to")
            .and_then(|v| v.as_str())
            .map(|s| status_tag(s).0)
    };
    match e.kind.as_str() {
        "submitted" => "Report sent".into(),
        "amended" => "Correction or more information added".into(),
        "attachment_added" => "Evidence added".into(),
        "status_changed" => match to_status() {
            Some(s) => format!("Status changed to {s}"),
            None => "Status changed".into(),
        },
        "message" if from_cdao(e) && requests_information(e) => "More information requested".into(),
        "message" if from_cdao(e) => "Message from the CDAO team".into(),
        "message" => "Message to the CDAO team".into(),
        "closed" => "Closed".into(),
        "reopened" => "Reopened".into(),
        other => crate::domain::validation::capitalise(&other.replace('_', " ")),
    }
}

fn from_cdao(e: &cdb::TimelineEvent) -> bool {
    e.data.get("from").and_then(|v| v.as_str()) == Some("cdao")
}

fn requests_information(e: &cdb::TimelineEvent) -> bool {
    e.data
        .get("request_information")
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Who did what the timeline shows, when the viewer may not see their name: the CDAO team
/// for what only it does, otherwise someone on the reporting side.
fn unnamed_actor(e: &cdb::TimelineEvent, actor: &Actor, organisation: &str) -> String {
    let by_cdao = matches!(e.kind.as_str(), "status_changed" | "closed" | "reopened")
        || (e.kind == "message" && from_cdao(e));
    if by_cdao {
        "the CDAO team".into()
    } else {
        reporting_side(actor, organisation)
    }
}

fn reporting_side(actor: &Actor, organisation: &str) -> String {
    if actor.role == Role::Reporter {
        "your organisation's CD lead".into()
    } else {
        format!("someone at {organisation}")
    }
}

/// The names the viewer may see of those who did something on a case ("you" for
/// themselves); the others are described by what they did.
async fn names(state: &AppState, actor: &Actor, ids: &[Uuid]) -> AppResult<HashMap<Uuid, String>> {
    crate::directory::names(state, actor, ids).await
}

struct PageState {
    submitted: bool,
    shown: Shown,
    flash: Option<String>,
    amend_text: String,
    message_text: String,
    status: StatusCode,
}

impl PageState {
    fn plain(status: StatusCode, shown: Shown) -> Self {
        PageState {
            submitted: false,
            shown,
            flash: None,
            amend_text: String::new(),
            message_text: String::new(),
            status,
        }
    }
}

async fn report_page(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    ps: PageState,
) -> AppResult<Response> {
    let view = reports::view_case(state, actor, id).await?;
    let can_amend = view.seen_as == reports::SeenAs::Reporting;
    let sections = match view.kind.as_str() {
        _ if view.details_removed_at.is_some() => removed_sections(&view),
        "incident" => {
            let inc: Incident = serde_json::from_value(view.report.clone())
                .map_err(|e| AppError::Internal(e.into()))?;
            incident_sections(&inc, &|_| String::new())
        }
        _ => {
            let pc: PersonConcern = serde_json::from_value(view.report.clone())
                .map_err(|e| AppError::Internal(e.into()))?;
            let linked: Vec<(Uuid, String)> = reports::briefs(state, actor, &pc.linked_case_ids)
                .await?
                .into_iter()
                .map(|b| (b.id, b.reference))
                .collect();
            person_sections(&pc, view.persons.first().map(|p| &p.identity), &linked)
        }
    };
    let mut people: Vec<Uuid> = view.amendments.iter().map(|a| a.author_id).collect();
    people.extend(view.timeline.iter().filter_map(|e| e.actor_id));
    let who = names(state, actor, &people).await?;
    let org = view.organisation_name.clone().unwrap_or_default();
    let amendments = view
        .amendments
        .iter()
        .map(|a| AmendmentView {
            heading: format!(
                "Added {} by {}",
                uk_time(a.created_at),
                who.get(&a.author_id)
                    .cloned()
                    .unwrap_or_else(|| reporting_side(actor, &org))
            ),
            lines: text_lines(&a.text),
        })
        .collect();
    let event_actor = |e: &cdb::TimelineEvent| match e.actor_id {
        Some(id) => who
            .get(&id)
            .cloned()
            .unwrap_or_else(|| unnamed_actor(e, actor, &org)),
        None => "CD Concerns".to_string(),
    };
    let messages = view
        .timeline
        .iter()
        .filter(|e| e.kind == "message")
        .map(|e| MessageView {
            heading: if from_cdao(e) {
                format!("From the CDAO team, {}", uk_time(e.at))
            } else {
                format!("From {}, {}", event_actor(e), uk_time(e.at))
            },
            lines: text_lines(e.data.get("body").and_then(|b| b.as_str()).unwrap_or("")),
            request: from_cdao(e) && requests_information(e),
        })
        .collect();
    let attachments = view
        .attachments
        .iter()
        .map(|a| AttachmentView {
            href: format!("/reports/{id}/attachments/{}", a.id),
            filename: a.filename.clone(),
            details: format!(
                "{}, added {}",
                file_size(a.size_bytes),
                uk_time(a.created_at)
            ),
        })
        .collect();
    let timeline = view
        .timeline
        .iter()
        .map(|e| EventView {
            at: uk_time(e.at),
            what: event_label(e),
            who: crate::domain::validation::capitalise(&event_actor(e)),
        })
        .collect();
    let (status_label, status_colour) = status_tag(&view.status);
    let base = format!("Report {}", view.reference);
    let mut layout = for_actor(actor, title(&base, &ps.shown), "/reports");
    layout.back_href = Some("/reports".into());
    page_with_status(
        ps.status,
        &ReportPage {
            layout,
            errors: ps.shown.errors,
            summary: ps.shown.summary,
            flash: ps.flash,
            id,
            reference: view.reference,
            kind: kind_label(&view.kind).to_string(),
            status_label,
            status_colour,
            submitted_at: uk_time(view.submitted_at),
            organisation: view.organisation_name.unwrap_or_default(),
            submitted: ps.submitted,
            sections,
            with_changes: false,
            form_action: String::new(),
            amendments,
            attachments,
            timeline,
            messages,
            awaiting_information: view.status == CaseStatus::AwaitingInformation.code(),
            can_message: can_amend && view.status != CaseStatus::Closed.code(),
            can_amend,
            amend_text: ps.amend_text,
            message_text: ps.message_text,
        },
    )
}

/// A report whose details the retention policy removed: what is kept of it.
fn removed_sections(view: &reports::CaseView) -> Vec<Section> {
    let r = crate::disclosure::shared_report(&view.kind, &view.report);
    let when = view.details_removed_at.map(uk_date).unwrap_or_default();
    let mut rows = vec![row(
        "Details",
        vec![format!(
            "Details removed on {when} under the retention policy. The reference, dates, kinds of concern and outcome are kept."
        )],
        "",
    )];
    if let Some(d) = r.occurred_on {
        rows.push(row(
            "When it happened",
            vec![d.format("%-d %B %Y").to_string()],
            "",
        ));
    }
    rows.push(row(
        "Kind",
        r.categories
            .iter()
            .map(|c| {
                IncidentCategory::parse(c)
                    .map(|x| x.label())
                    .or_else(|| crate::domain::report::ConcernCategory::parse(c).map(|x| x.label()))
                    .unwrap_or(c)
                    .to_string()
            })
            .collect(),
        "",
    ));
    vec![Section {
        heading: "What was reported".into(),
        rows,
    }]
}

pub async fn show(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    params: Params,
) -> AppResult<Response> {
    let flash = take_flash(&state, &auth).await?;
    report_page(
        &state,
        &actor,
        id,
        PageState {
            submitted: params.get("submitted") == Some("1"),
            shown: Shown::none(),
            flash,
            amend_text: String::new(),
            message_text: String::new(),
            status: StatusCode::OK,
        },
    )
    .await
}

fn one_error(field: &str, message: &str) -> Shown {
    let mut problems = Problems::default();
    problems.add(field, message);
    show_errors(&problems, &[field], &[], &|_| None)
}

pub async fn amend(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let p = Posted(form);
    match reports::amend(&state, &actor, id, Some(p.get("text"))).await {
        Ok(_) => {
            set_flash(
                &state,
                &auth,
                "Your correction or extra information has been added to the report.",
            )
            .await?;
            Ok(redirect(&format!("/reports/{id}")))
        }
        Err(AppError::Validation(errors)) => {
            let mut problems = Problems::default();
            problems.extend(errors);
            report_page(
                &state,
                &actor,
                id,
                PageState {
                    amend_text: p.get("text").to_string(),
                    ..PageState::plain(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        show_errors(&problems, &["text"], &[], &|_| None),
                    )
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// A message to the CDAO team, such as the answer to their request for information (which
/// returns the case to them for review).
pub async fn message(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let p = Posted(form);
    let input = crate::triage::MessageInput {
        body: Some(p.get("body").to_string()),
        request_information: false,
    };
    match crate::triage::message(&state, &actor, id, &input).await {
        Ok(_) => {
            set_flash(
                &state,
                &auth,
                "Your message has been sent to the CDAO team.",
            )
            .await?;
            Ok(redirect(&format!("/reports/{id}")))
        }
        Err(AppError::Validation(errors)) => {
            let mut problems = Problems::default();
            problems.extend(errors);
            report_page(
                &state,
                &actor,
                id,
                PageState {
                    message_text: p.get("body").to_string(),
                    ..PageState::plain(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        show_errors(&problems, &["body"], &[], &|_| None),
                    )
                },
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// Uploads are read whole (up to the limit) before anything answers: a browser still sending
/// a file that is too large may not show an answer sent before it finished. Past this, the
/// rest is not worth reading.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

async fn read_upload(req: Request) -> AppResult<(String, Vec<u8>)> {
    let (parts, body) = req.into_parts();
    let is_multipart = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(AppError::UnsupportedMediaType(
            "Expected a file upload (multipart/form-data).".into(),
        ));
    }
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| AppError::BadRequest("The upload could not be read.".into()))?;
        total += chunk.len();
        if total > crate::web::UPLOAD_LIMIT {
            buf = Vec::new();
            if total > DRAIN_LIMIT {
                break;
            }
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    if total > crate::web::UPLOAD_LIMIT {
        return Err(AppError::PayloadTooLarge);
    }
    let multipart = Multipart::from_request(Request::from_parts(parts, Body::from(buf)), &())
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("The upload could not be read.".into())
            }
        })?;
    let (name, data) = read_file_part(multipart).await?;
    if name.is_empty() && data.is_empty() {
        return Err(AppError::validation("file", "Select a file to upload"));
    }
    Ok((name, data))
}

pub async fn upload(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    req: Request,
) -> AppResult<Response> {
    // Only someone who may add to this report gets as far as sending a file.
    reports::check_reporting_side(&state, &actor, id).await?;
    let result = match read_upload(req).await {
        Ok((name, data)) => attachments::add(&state, &actor, id, &name, &data).await,
        Err(e) => Err(e),
    };
    let (shown, status) = match result {
        Ok(a) => {
            set_flash(
                &state,
                &auth,
                &format!("{} has been added to the report.", a.filename),
            )
            .await?;
            return Ok(redirect(&format!("/reports/{id}")));
        }
        Err(AppError::Validation(errors)) => {
            let mut problems = Problems::default();
            problems.extend(errors);
            (
                show_errors(&problems, &["file"], &[], &|_| Some("file".into())),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(AppError::PayloadTooLarge) => (
            one_error("file", "The selected file must be smaller than 10 MB"),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        Err(e) => return Err(e),
    };
    report_page(&state, &actor, id, PageState::plain(status, shown)).await
}

pub async fn attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let (name, content_type, data) = attachments::get(&state, &actor, id, att).await?;
    Ok(download_file(&name, &content_type, data))
}

// =============================================================================================
// Your reports
// =============================================================================================

pub struct ListRow {
    pub href: String,
    pub reference: String,
    pub kind: String,
    pub submitted: String,
    pub status_label: String,
    pub status_colour: String,
    /// What the report is about, on one line (never a name).
    pub summary: String,
}

#[derive(Template)]
#[template(path = "reports/list.html")]
struct ListPage {
    layout: Layout,
    heading: String,
    /// "12 reports" (all that match, not only this page); empty when the filters are wrong.
    total_text: String,
    errors: FieldErrors,
    summary: Vec<(String, String)>,
    rows: Vec<ListRow>,
    status: String,
    kind: String,
    status_options: Vec<(String, String)>,
    kind_options: Vec<(String, String)>,
    next_href: Option<String>,
    first_href: Option<String>,
    filtered: bool,
}

pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    require_reporter(&actor)?;
    let heading = if actor.role == Role::OrgLead {
        "Your organisation's reports"
    } else {
        "Your reports"
    };
    let status = params.get("status").unwrap_or("").to_string();
    let kind = params.get("kind").unwrap_or("").to_string();
    let filter_query = {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if !status.is_empty() {
            q.append_pair("status", &status);
        }
        if !kind.is_empty() {
            q.append_pair("kind", &kind);
        }
        q.finish()
    };
    let mut total_text = String::new();
    let (rows, next, shown) = match parse_case_filter(&params) {
        Ok(f) => {
            let ((items, next), total) = tokio::try_join!(
                case_page(&state, &actor, &f),
                crate::reports::count_cases(&state, &actor, &f)
            )?;
            total_text = total.words().replace("case", "report");
            (items, next, Shown::none())
        }
        Err(AppError::Validation(errors)) => {
            let mut problems = Problems::default();
            problems.extend(errors);
            (
                vec![],
                None,
                show_errors(&problems, &["status", "kind", "cursor"], &[], &|f| {
                    Some(if f == "kind" { "kind" } else { "status" }.to_string())
                }),
            )
        }
        Err(e) => return Err(e),
    };
    let rows = rows
        .into_iter()
        .map(|c| {
            let (status_label, status_colour) = status_tag(&c.status);
            ListRow {
                summary: crate::web::pages::cdao::summary_line(&c),
                href: format!("/reports/{}", c.id),
                reference: c.reference,
                kind: kind_label(&c.kind).to_string(),
                submitted: uk_date(c.submitted_at),
                status_label,
                status_colour,
            }
        })
        .collect();
    let join = |extra: &str| {
        let mut parts: Vec<&str> = vec![];
        if !filter_query.is_empty() {
            parts.push(&filter_query);
        }
        if !extra.is_empty() {
            parts.push(extra);
        }
        if parts.is_empty() {
            "/reports".to_string()
        } else {
            format!("/reports?{}", parts.join("&"))
        }
    };
    let next_href = next.map(|c| {
        join(
            &url::form_urlencoded::Serializer::new(String::new())
                .append_pair("cursor", &c)
                .finish(),
        )
    });
    let first_href = params.get("cursor").map(|_| join(""));
    let mut status_options = vec![(String::new(), "All statuses".to_string())];
    status_options.extend(
        CaseStatus::ALL
            .iter()
            .map(|s| (s.code().to_string(), status_tag(s.code()).0)),
    );
    let kind_options = vec![
        (String::new(), "All kinds".to_string()),
        ("incident".to_string(), "Incidents".to_string()),
        (
            "person_concern".to_string(),
            "Concerns about a person".to_string(),
        ),
    ];
    let status_code = status_for(&shown);
    page_with_status(
        status_code,
        &ListPage {
            layout: for_actor(&actor, title(heading, &shown), "/reports"),
            heading: heading.to_string(),
            total_text,
            errors: shown.errors,
            summary: shown.summary,
            rows,
            filtered: !status.is_empty() || !kind.is_empty(),
            status,
            kind,
            status_options,
            kind_options,
            next_href,
            first_href,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    #[test]
    fn dates_are_read_from_their_three_parts() {
        let mut pr = Problems::default();
        let p = posted(&[("d-day", "2"), ("d-month", "11"), ("d-year", "2026")]);
        assert_eq!(
            read_date(&p, "d", "x", &mut pr).as_deref(),
            Some("2026-11-02")
        );
        assert!(pr.is_empty());
        let p = posted(&[("d-day", "2"), ("d-year", "2026")]);
        assert_eq!(read_date(&p, "d", "it happened", &mut pr), None);
        assert_eq!(
            pr.list[0].message,
            "The date it happened must include a month"
        );
        assert_eq!(pr.parts_of("d"), "month");
        let mut pr = Problems::default();
        let p = posted(&[("d-day", "31"), ("d-month", "2"), ("d-year", "2026")]);
        assert_eq!(read_date(&p, "d", "x", &mut pr), None);
        assert_eq!(pr.parts_of("d"), "day");
        let mut pr = Problems::default();
        let p = posted(&[("d-day", "1"), ("d-month", "2"), ("d-year", "26")]);
        assert_eq!(read_date(&p, "d", "x", &mut pr), None);
        assert_eq!(pr.list[0].message, "Year must include 4 numbers");
    }

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

    #[test]
    fn identifiers_are_removed_or_moved_into_the_protected_details() {
        let mut p = posted(&[(
            "description",
            "Patient NHS no 943 476 5919, DOB 31/01/1970, GMC 1234567 prescribed it.",
        )]);
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default();
        let moved = move_identifiers(&mut p, today);
        assert_eq!(moved.len(), 3, "{moved:?}");
        assert_eq!(p.get("person.nhs_number"), "943 476 5919");
        assert_eq!(p.get("person.date_of_birth-year"), "1970");
        assert_eq!(p.get("person.registrations[0].register"), "gmc");
        assert_eq!(p.get("person.registrations[0].number"), "1234567");
        assert!(
            flagged(p.get("description")).is_empty(),
            "{}",
            p.get("description")
        );
        let mut p = posted(&[("description", "NHS number 9434765919 seen")]);
        assert_eq!(remove_identifiers(&mut p, &["description"]), 1);
        assert_eq!(p.get("description"), "NHS number [removed] seen");
    }

    #[test]
    fn written_dates_are_understood() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default();
        for s in [
            "31/01/1970",
            "1970-01-31",
            "31 Jan 1970",
            "January 31, 1970",
            "31st of January 1970",
        ] {
            assert_eq!(
                written_date(s, today),
                NaiveDate::from_ymd_opt(1970, 1, 31),
                "{s}"
            );
        }
    }
}
