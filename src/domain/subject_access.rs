//! A subject access request (UK GDPR Art 15): the identifiers that find one person, parsed and
//! normalised exactly as identities are at submission, so that their blind indexes match.
//! Nothing here is kept: only the indexes are looked up.

use chrono::NaiveDate;
use serde::Deserialize;

use super::identifiers::{
    NhsNumber, Register, Registration, normalise_name, normalise_prescriber_code,
};
use super::report::{RegistrationInput, past_date};
use super::validation::{FieldError, FieldErrors};

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifiersInput {
    pub nhs_number: Option<String>,
    #[schema(max_items = 5)]
    pub registrations: Option<Vec<RegistrationInput>>,
    pub prescriber_code: Option<String>,
    /// With `date_of_birth`: names match only with a date of birth.
    pub full_name: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectAccessInput {
    #[schema(value_type = IdentifiersInput, required = true)]
    pub identifiers: Option<IdentifiersInput>,
    /// Why the export is made (for example, the request's reference). Kept with the request.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 500)]
    pub purpose: Option<String>,
}

/// What to look up: (index kind, normalised value), as `Identity::index_values` makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub values: Vec<(String, String)>,
    pub purpose: String,
}

pub const MAX_REGISTRATIONS: usize = 5;

impl SubjectAccessInput {
    pub fn parse(&self, today: NaiveDate) -> Result<Lookup, Vec<FieldError>> {
        let mut e = FieldErrors::new();
        let purpose = e.text(
            "purpose",
            self.purpose.as_deref(),
            "why you are making the export, such as the request's reference",
            500,
        );
        let ids = self.identifiers.clone().unwrap_or_default();
        let values = ids.parse(&mut e, today);
        if values.is_empty() && e.is_empty() {
            e.add(
                "identifiers",
                "Enter at least one identifier: an NHS number, a registration, a prescriber code, or a full name with a date of birth",
            );
        }
        if e.is_empty() {
            Ok(Lookup { values, purpose })
        } else {
            Err(e.into_vec())
        }
    }
}

impl IdentifiersInput {
    /// The index inputs, naming every failing field under `identifiers.`.
    pub fn parse(&self, e: &mut FieldErrors, today: NaiveDate) -> Vec<(String, String)> {
        let mut v = Vec::new();
        let given = |x: &Option<String>| {
            x.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        if let Some(n) = given(&self.nhs_number) {
            match NhsNumber::parse(&n) {
                Ok(n) => v.push(("nhs_number".to_string(), n.as_str().to_string())),
                Err(msg) => e.add("identifiers.nhs_number", msg),
            }
        }
        let regs = self.registrations.as_deref().unwrap_or(&[]);
        if regs.len() > MAX_REGISTRATIONS {
            e.add(
                "identifiers.registrations",
                format!("Enter at most {MAX_REGISTRATIONS} registrations"),
            );
        }
        for (i, r) in regs.iter().take(MAX_REGISTRATIONS).enumerate() {
            let reg_field = format!("identifiers.registrations[{i}].register");
            let num_field = format!("identifiers.registrations[{i}].number");
            match (
                given(&r.register).as_deref().map(Register::parse),
                given(&r.number),
            ) {
                (None, None) => {}
                (None, Some(_)) => e.add(&reg_field, "Select the register"),
                (Some(None), _) => e.add(&reg_field, "Select a register from the list"),
                (Some(Some(_)), None) => e.add(&num_field, "Enter the registration number"),
                (Some(Some(reg)), Some(n)) => match Registration::parse(reg, &n) {
                    Ok(p) => v.push((p.register().code().to_string(), p.number().to_string())),
                    Err(msg) => e.add(&num_field, msg),
                },
            }
        }
        if let Some(p) = given(&self.prescriber_code) {
            match normalise_prescriber_code(&p) {
                Ok(p) => v.push(("prescriber_code".to_string(), p)),
                Err(msg) => e.add("identifiers.prescriber_code", msg),
            }
        }
        let name = given(&self.full_name);
        let dob = past_date(
            e,
            "identifiers.date_of_birth",
            self.date_of_birth.as_deref(),
            "of birth",
            false,
            today,
        );
        match (name, dob) {
            (Some(n), Some(d)) => {
                let n = normalise_name(&n);
                if n.is_empty() {
                    e.add("identifiers.full_name", "Enter the person's full name");
                } else {
                    v.push(("name_and_date_of_birth".to_string(), format!("{n}|{d}")));
                }
            }
            (Some(_), None) if e.get("identifiers.date_of_birth").is_none() => e.add(
                "identifiers.date_of_birth",
                "Enter the date of birth: a name is matched only with it",
            ),
            (None, Some(_)) => e.add(
                "identifiers.full_name",
                "Enter the full name: a date of birth is matched only with it",
            ),
            _ => {}
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    #[test]
    fn identifiers_are_normalised_as_at_submission() {
        let input = SubjectAccessInput {
            purpose: Some("SAR 2026/17".into()),
            identifiers: Some(IdentifiersInput {
                nhs_number: Some("943 476 5919".into()),
                registrations: Some(vec![RegistrationInput {
                    register: Some("gmc".into()),
                    number: Some("GMC 1234567".into()),
                }]),
                prescriber_code: Some("ab-123".into()),
                full_name: Some("Dr Jonathan Example-Smith".into()),
                date_of_birth: Some("1970-01-31".into()),
            }),
        };
        let l = input.parse(today()).unwrap();
        assert_eq!(
            l.values,
            vec![
                ("nhs_number".into(), "9434765919".into()),
                ("gmc".into(), "1234567".into()),
                ("prescriber_code".into(), "AB123".into()),
                (
                    "name_and_date_of_birth".into(),
                    format!("{}|1970-01-31", normalise_name("Dr Jonathan Example-Smith"))
                ),
            ]
        );
    }

    #[test]
    fn every_failing_identifier_is_named() {
        let bad = SubjectAccessInput {
            purpose: None,
            identifiers: Some(IdentifiersInput {
                nhs_number: Some("123".into()),
                registrations: Some(vec![RegistrationInput {
                    register: Some("gmc".into()),
                    number: Some("12".into()),
                }]),
                prescriber_code: None,
                full_name: Some("Jane".into()),
                date_of_birth: None,
            }),
        };
        let fields: Vec<String> = bad
            .parse(today())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            vec![
                "purpose",
                "identifiers.nhs_number",
                "identifiers.registrations[0].number",
                "identifiers.date_of_birth"
            ]
        );
        let none = SubjectAccessInput {
            purpose: Some("x".into()),
            identifiers: None,
        };
        let fields: Vec<String> = none
            .parse(today())
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["identifiers"]);
    }
}
