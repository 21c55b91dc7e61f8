//! What each reader sees of a case's people and facts: identities opened from their seal, and
//! the one rule for what a share discloses (SPEC §3: identities only on `identified` shares,
//! patient data only when the share includes it, never the reporter, never free text but the
//! summary written for the recipients). Alerts, share previews and cases read through a share
//! all go through here.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::access::CaseRef;
use crate::app::db::cases as cdb;
use crate::domain::report::{DrugItem, Identity, RegistrationOut};
use crate::domain::share::Disclosure;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The bytes an identity is sealed under: bound to its person row.
pub fn identity_context(person_id: Uuid) -> Vec<u8> {
    format!("persons.identity_enc:{person_id}").into_bytes()
}

/// A person named in a case, as the viewer may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub subject_type: String,
    #[serde(flatten)]
    pub identity: Identity,
}

/// Every person of a case, opened. Callers decide what of them to show.
pub async fn open_persons(
    state: &AppState,
    conn: &mut PgConnection,
    case: &impl CaseRef,
) -> AppResult<Vec<PersonView>> {
    open(state, cdb::persons(conn, case).await?)
}

/// Persons read sealed (see `open_persons`), opened.
pub(crate) fn open(state: &AppState, sealed: Vec<cdb::PersonRow>) -> AppResult<Vec<PersonView>> {
    let mut out = Vec::new();
    for p in sealed {
        let plain = state
            .sealer
            .open(p.key_id, &p.identity_enc, &identity_context(p.id))?;
        let identity = serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))?;
        out.push(PersonView {
            id: p.id,
            subject_type: p.subject_type,
            identity,
        });
    }
    Ok(out)
}

/// What a share's terms say about disclosure.
#[derive(Clone, Copy, Debug)]
pub struct Terms<'a> {
    pub disclosure: &'a str,
    pub include_patient_data: bool,
    pub include_organisation_name: bool,
}

/// Patients and members of the public are patient data (SPEC §3).
pub fn is_patient(subject_type: &str) -> bool {
    matches!(subject_type, "patient" | "member_of_public")
}

/// The persons a share discloses: none on a summary share; on an identified one, the
/// professionals and staff, and patients only with patient data; NHS numbers only with
/// patient data.
pub fn shared_persons(persons: Vec<PersonView>, t: Terms<'_>) -> Vec<PersonView> {
    if t.disclosure != Disclosure::Identified.code() {
        return vec![];
    }
    persons
        .into_iter()
        .filter(|p| t.include_patient_data || !is_patient(&p.subject_type))
        .map(|mut p| {
            if !t.include_patient_data {
                p.identity.nhs_number = None;
            }
            p
        })
        .collect()
}

/// A person as a share discloses them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SharedPerson {
    pub subject_type: String,
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub registrations: Vec<RegistrationOut>,
    pub prescriber_code: Option<String>,
    pub job_role: Option<String>,
    pub work_addresses: Vec<String>,
    /// Only when the share includes patient data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nhs_number: Option<String>,
}

impl From<PersonView> for SharedPerson {
    fn from(p: PersonView) -> Self {
        let i = p.identity;
        SharedPerson {
            subject_type: p.subject_type,
            full_name: i.full_name,
            date_of_birth: i.date_of_birth,
            registrations: i.registrations,
            prescriber_code: i.prescriber_code,
            job_role: i.job_role,
            work_addresses: i.work_addresses,
            nhs_number: i.nhs_number,
        }
    }
}

/// The facts of the report a live share carries (never free text, never the reporter).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SharedReport {
    pub kind: String,
    pub categories: Vec<String>,
    pub occurred_on: Option<NaiveDate>,
    pub harm: Option<String>,
    pub drugs: Vec<DrugItem>,
    /// For a person of concern: alleged, corroborated, substantiated or unfounded.
    pub concern_status: Option<String>,
    pub provenance: Option<String>,
    /// Online prescribing from outside the UK: the service, its domain and the prescriber's
    /// country; the prescriber's registration (an identity) only on an `identified` share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_supply: Option<crate::domain::oversight::OnlineSupply>,
    /// What a report about a cannabis-based product for medicinal use is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cbpm: Option<crate::domain::oversight::Cbpm>,
}

pub fn shared_report(kind: &str, r: &Value) -> SharedReport {
    let text = |k: &str| r.get(k).and_then(|v| v.as_str()).map(str::to_string);
    SharedReport {
        kind: kind.to_string(),
        categories: r
            .get("categories")
            .or_else(|| r.get("concern_categories"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        occurred_on: r
            .get("occurred_on")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        harm: text("harm"),
        drugs: r
            .get("drugs")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        concern_status: text("status"),
        provenance: text("provenance"),
        // The report as kept never holds the registration; this makes sure of it.
        online_supply: r
            .get("online_supply")
            .and_then(|v| {
                serde_json::from_value::<crate::domain::oversight::OnlineSupply>(v.clone()).ok()
            })
            .map(|o| crate::domain::oversight::OnlineSupply {
                prescriber_registration: None,
                ..o
            }),
        cbpm: r
            .get("cbpm")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportingOrganisation {
    pub sector: String,
    pub area: String,
    /// Only when the CDAO chose to include it.
    pub name: Option<String>,
}

pub fn reporting_organisation(
    sector: &str,
    area: &str,
    organisation_name: &str,
    t: Terms<'_>,
) -> ReportingOrganisation {
    ReportingOrganisation {
        sector: crate::domain::directory::Sector::parse(sector)
            .map(|s| s.label())
            .unwrap_or(sector)
            .to_string(),
        area: area.to_string(),
        name: t
            .include_organisation_name
            .then(|| organisation_name.to_string()),
    }
}

/// The evidence a share carries: the files it names, and no other.
pub fn shared_attachments(
    all: Vec<cdb::AttachmentInfo>,
    named: &[Uuid],
) -> Vec<cdb::AttachmentInfo> {
    all.into_iter().filter(|a| named.contains(&a.id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(subject_type: &str) -> PersonView {
        PersonView {
            id: Uuid::now_v7(),
            subject_type: subject_type.into(),
            identity: Identity {
                full_name: "A Person".into(),
                date_of_birth: None,
                nhs_number: Some("9434765919".into()),
                registrations: vec![],
                prescriber_code: None,
                job_role: None,
                work_addresses: vec![],
            },
        }
    }

    fn terms(disclosure: &str, patient: bool) -> Terms<'_> {
        Terms {
            disclosure,
            include_patient_data: patient,
            include_organisation_name: false,
        }
    }

    #[test]
    fn shares_disclose_people_only_as_far_as_their_terms() {
        let people = || vec![person("registered_professional"), person("patient")];
        assert!(shared_persons(people(), terms("summary", true)).is_empty());
        let identified = shared_persons(people(), terms("identified", false));
        assert_eq!(identified.len(), 1);
        assert_eq!(identified[0].subject_type, "registered_professional");
        assert_eq!(identified[0].identity.nhs_number, None);
        let with_patients = shared_persons(people(), terms("identified", true));
        assert_eq!(with_patients.len(), 2);
        assert!(with_patients[1].identity.nhs_number.is_some());
    }

    #[test]
    fn only_named_evidence_travels() {
        let a = |id: Uuid| cdb::AttachmentInfo {
            id,
            filename: "f.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 1,
            uploaded_by: Uuid::now_v7(),
            created_at: chrono::Utc::now(),
            holds_patient_data: false,
        };
        let (x, y) = (Uuid::now_v7(), Uuid::now_v7());
        let kept = shared_attachments(vec![a(x), a(y)], &[y]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].id, y);
        assert!(shared_attachments(vec![a(x)], &[]).is_empty());
    }
}
