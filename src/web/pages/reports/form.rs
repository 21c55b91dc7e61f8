//! The posted form, dates and error summaries, shared by the reporter's forms, the incident steps
//! and the returns pages.

use std::collections::HashMap;

use axum::http::StatusCode;
use chrono::NaiveDate;

use crate::domain::validation::{FieldError, FieldErrors};
use crate::error::AppResult;
use crate::policy::{self, Actor};

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

    /// Sets `name` unless it was posted.
    pub fn fill(&mut self, name: &str, value: impl Into<String>) {
        if !self.0.iter().any(|(n, _)| n == name) {
            self.0.push((name.to_string(), value.into()));
        }
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
pub(super) fn and_list(items: &[String]) -> String {
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
pub(super) fn read_date(
    p: &Posted,
    name: &str,
    what: &str,
    problems: &mut Problems,
) -> Option<String> {
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
pub(super) fn read_number(
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
pub(super) fn number_text(x: f64) -> String {
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

pub(super) fn choices(name: &str, items: &[(&str, &str, &str)]) -> Vec<Choice> {
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

/// A posted form from (name, value) pairs, for the tests of these pages.
#[cfg(test)]
pub(super) fn posted(pairs: &[(&str, &str)]) -> Posted {
    Posted(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
