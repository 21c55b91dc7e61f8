//! Identifiers in free text (SPEC §6): the warning, removing them, moving them.

use std::ops::Range;

use chrono::NaiveDate;

use super::form::{Posted, and_list};
use super::person::MAX_REGISTRATIONS;
use crate::domain::identifiers::{
    Found, IdentifierKind, NhsNumber, Register, find_identifiers_in_text,
};

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
pub(super) const MOVED: &str = "[moved to the protected details]";

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
pub(super) fn move_identifiers(p: &mut Posted, today: NaiveDate) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::super::form::posted;
    use super::*;

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
