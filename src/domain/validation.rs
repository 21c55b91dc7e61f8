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
    fn each_field_is_reported_once() {
        let mut e = FieldErrors::new();
        e.text("name", Some("  "), "a name", 10);
        e.text("name", Some("x"), "a name", 10);
        e.text("region", None, "a region", 10);
        assert_eq!(e.as_slice().len(), 2);
        assert_eq!(e.get("name"), Some("Enter a name"));
    }
}
