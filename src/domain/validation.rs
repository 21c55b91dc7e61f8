//! Field errors collected while parsing input at the edge: every failing field is named,
//! both in a 422 problem document and in a form's error summary.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let field = field.into();
        // One message per field: the first problem found is the one to fix first.
        if !self.0.iter().any(|e| e.field == field) {
            self.0.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    pub fn as_slice(&self) -> &[FieldError] {
        &self.0
    }

    /// (field id, message) pairs, for a form's error summary.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect()
    }

    /// The message for a date input called `name` (its parts are `name-day` and so on).
    pub fn get_date(&self, name: &str) -> Option<&str> {
        ["day", "month", "year"].iter().find_map(|part| {
            self.0
                .iter()
                .find(|e| e.field == format!("{name}-{part}"))
                .map(|e| e.message.as_str())
        })
    }

    /// Rebuilds the collection from errors found elsewhere (for re-rendering a form).
    pub fn from_vec(errors: Vec<FieldError>) -> Self {
        Self(errors)
    }

    /// Ok(value) when nothing failed.
    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0)
        }
    }

    /// A required, trimmed text of at most `max` characters.
    pub fn text(&mut self, field: &str, value: Option<&str>, what: &str, max: usize) -> String {
        let v = value.unwrap_or("").trim();
        if v.is_empty() {
            self.add(field, format!("Enter {what}"));
        } else if v.chars().count() > max {
            self.add(
                field,
                format!("{} must be {max} characters or fewer", capitalise(what)),
            );
        }
        v.to_string()
    }

    /// A required one-line name (an area, organisation or person): trimmed, runs of spaces
    /// made one, and no control character at all (no tab or line break either).
    pub fn line(&mut self, field: &str, value: Option<&str>, what: &str, max: usize) -> String {
        let raw = value.unwrap_or("");
        if raw.chars().any(char::is_control) {
            self.add(
                field,
                format!(
                    "{} must be on one line, without tabs or other control characters",
                    capitalise(what)
                ),
            );
            return raw.trim().to_string();
        }
        let v = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        self.text(field, Some(&v), what, max)
    }

    /// An optional trimmed text: None when blank.
    pub fn optional_text(
        &mut self,
        field: &str,
        value: Option<&str>,
        what: &str,
        max: usize,
    ) -> Option<String> {
        let v = value.unwrap_or("").trim();
        if v.is_empty() {
            return None;
        }
        if v.chars().count() > max {
            self.add(
                field,
                format!("{} must be {max} characters or fewer", capitalise(what)),
            );
        }
        Some(v.to_string())
    }
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A label in the middle of a sentence, with its article: "a GP practice", "an NHS hospital",
/// "a community pharmacy" — acronyms keep their capitals (sentence case, issue 11).
pub fn with_article(label: &str) -> String {
    let first = label.split_whitespace().next().unwrap_or("");
    let acronym = first.chars().filter(|c| c.is_alphabetic()).count() > 1
        && first
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(char::is_uppercase);
    let text = if acronym {
        label.to_string()
    } else {
        let mut c = label.chars();
        match c.next() {
            Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    };
    let an = match text.chars().next() {
        // Acronyms are read letter by letter: an NHS, an ICB, a GP.
        Some(f) if acronym => "AEFHILMNORSX".contains(f),
        Some(f) => "aeiou".contains(f),
        None => false,
    };
    format!("{} {text}", if an { "an" } else { "a" })
}

/// "Name (sector)", or only the name when it already says the sector ("Care Quality
/// Commission", not "Care Quality Commission (Care Quality Commission)").
pub fn name_with_sector(name: &str, sector: &str) -> String {
    if sector.is_empty() || name.to_lowercase().contains(&sector.to_lowercase()) {
        name.to_string()
    } else {
        format!("{name} ({sector})")
    }
}

/// A plausible email address, lowercased. Deliberately simple: the invitation email proves it.
pub fn parse_email(value: &str) -> Option<String> {
    let v = value.trim().to_lowercase();
    let (local, domain) = v.split_once('@')?;
    let ok = !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    ok.then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            parse_email(" Jo.Bloggs@NHS.net ").as_deref(),
            Some("jo.bloggs@nhs.net")
        );
        for bad in [
            "",
            "jo",
            "jo@",
            "@nhs.net",
            "jo@nhs",
            "jo @nhs.net",
            "a@b@c.d",
        ] {
            assert_eq!(parse_email(bad), None, "{bad}");
        }
    }

    #[test]
    fn labels_read_well_in_a_sentence() {
        assert_eq!(with_article("GP practice"), "a GP practice");
        assert_eq!(with_article("NHS hospital"), "an NHS hospital");
        assert_eq!(with_article("Community pharmacy"), "a community pharmacy");
        assert_eq!(
            with_article("Integrated care board"),
            "an integrated care board"
        );
        assert_eq!(
            name_with_sector("Care Quality Commission", "Care Quality Commission"),
            "Care Quality Commission"
        );
        assert_eq!(
            name_with_sector("Greater Manchester Police", "Police"),
            "Greater Manchester Police"
        );
        assert_eq!(
            name_with_sector("Northbrook", "Care home"),
            "Northbrook (Care home)"
        );
    }

    #[test]
    fn each_field_is_reported_once() {
        let mut e = FieldErrors::new();
        e.text("name", Some("  "), "a name", 10);
        e.text("name", Some("x"), "a name", 10);
        e.text("region", None, "a region", 10);
        e.line("area", Some("North\u{7}"), "the area's name", 100);
        assert_eq!(
            e.line("other", Some("  Greater   Manchester "), "x", 100),
            "Greater Manchester"
        );
        assert_eq!(e.as_slice().len(), 3);
        assert_eq!(e.get("name"), Some("Enter a name"));
        assert!(e.get("area").is_some_and(|m| m.contains("one line")));
    }
}
