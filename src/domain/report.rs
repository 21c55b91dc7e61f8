//! Reports (SPEC §4, §5, §7.1): the codes, and parsing a submitted report into a checked one.
//! Every failing field is named, with a path such as `drugs[1].schedule`.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::code_enum;
use super::validation::FieldErrors;

code_enum!(
    IncidentCategory {
        PrescribingError => ("prescribing_error", "Prescribing error"),
        DispensingError => ("dispensing_error", "Dispensing error"),
        AdministrationError => ("administration_error", "Administration error"),
        RecordingError => ("recording_error", "Recording or transcription error"),
        DeliveryTransport => ("delivery_transport", "Delivery or transport"),
        DestructionDisposal => ("destruction_disposal", "Destruction or disposal"),
        StorageSafeCustody => ("storage_safe_custody", "Storage or safe custody"),
        StockDiscrepancy => ("stock_discrepancy", "Stock or running-balance discrepancy"),
        LostMissing => ("lost_missing", "Lost or missing CDs"),
        PrescriptionLostStolenForged => ("prescription_lost_stolen_forged", "Lost, stolen or forged prescriptions or requisitions"),
        TheftOrDiversion => ("theft_or_diversion", "Theft or diversion (of CDs, CD keys or registers)"),
        FraudulentAttempt => ("fraudulent_attempt", "Fraudulent attempt to obtain CDs"),
        PersonOfConcernPublic => ("person_of_concern_public", "Patient or member of the public of concern"),
        OverseasOnlinePrescribing => ("overseas_online_prescribing", "Online prescribing from outside the UK"),
        Cbpm => ("cbpm", "Cannabis-based product for medicinal use (CBPM) issue"),
        Other => ("other", "Other"),
    }
);

code_enum!(
    Harm {
        None => ("none", "No harm"),
        Low => ("low", "Low harm"),
        Moderate => ("moderate", "Moderate harm"),
        Severe => ("severe", "Severe harm"),
        Death => ("death", "Death"),
    }
);

code_enum!(
    Schedule {
        S1 => ("1", "Schedule 1"),
        S2 => ("2", "Schedule 2"),
        S3 => ("3", "Schedule 3"),
        S4Part1 => ("4-1", "Schedule 4 part 1"),
        S4Part2 => ("4-2", "Schedule 4 part 2"),
        S5 => ("5", "Schedule 5"),
    }
);

code_enum!(
    SubjectType {
        RegisteredProfessional => ("registered_professional", "Registered professional"),
        UnregisteredStaff => ("unregistered_staff", "Staff member who is not registered with a regulator"),
        Patient => ("patient", "Patient"),
        MemberOfPublic => ("member_of_public", "Member of the public"),
    }
);

code_enum!(
    ConcernCategory {
        SelfOrFamilyPrescribing => ("self_or_family_prescribing", "Self- or family-prescribing"),
        DiversionOrTheft => ("diversion_or_theft", "Diversion or theft"),
        Impairment => ("impairment", "Impairment at work"),
        ForgedPrescriptions => ("forged_prescriptions", "Forged or fraudulent prescriptions"),
        MultipleSourcing => ("multiple_sourcing", "Multiple sourcing or drug seeking"),
        InappropriatePrescribing => ("inappropriate_prescribing", "Inappropriate prescribing"),
        RecordFalsification => ("record_falsification", "Record falsification"),
        OverseasOnlinePrescribing => ("overseas_online_prescribing", "Online prescribing from outside the UK"),
        Other => ("other", "Other"),
    }
);

code_enum!(
    Provenance {
        OwnObservation => ("own_observation", "I saw it myself"),
        Colleague => ("colleague", "A colleague told me"),
        PatientOrPublic => ("patient_or_public", "A patient or member of the public complained"),
        Police => ("police", "The police"),
        Anonymous => ("anonymous", "An anonymous source"),
        Other => ("other", "Other"),
    }
);

code_enum!(
    ConcernStatus {
        Alleged => ("alleged", "Alleged (not yet corroborated)"),
        Corroborated => ("corroborated", "Corroborated"),
        Substantiated => ("substantiated", "Substantiated"),
        Unfounded => ("unfounded", "Unfounded"),
    }
);

code_enum!(
    CaseStatus {
        New => ("new", "New"),
        InReview => ("in_review", "In review"),
        AwaitingInformation => ("awaiting_information", "Awaiting information"),
        Investigating => ("investigating", "Investigating"),
        Closed => ("closed", "Closed"),
    }
);

/// Parses a required enumerated code.
pub fn required_code<T>(
    e: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    missing: &str,
    invalid: &str,
) -> Option<T> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            e.add(field, missing);
            None
        }
        Some(v) => {
            let p = parse(v);
            if p.is_none() {
                e.add(field, invalid);
            }
            p
        }
    }
}

/// Parses a list of codes: at least one, each known, no repeats (kept in the order given).
pub fn code_list<T: PartialEq + Copy>(
    e: &mut FieldErrors,
    field: &str,
    values: Option<&[String]>,
    parse: fn(&str) -> Option<T>,
    missing: &str,
) -> Vec<T> {
    let values = values.unwrap_or(&[]);
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match parse(v.trim()) {
            Some(c) => {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            None => e.add(
                format!("{field}[{i}]"),
                format!("'{}' is not one of the choices", v.trim()),
            ),
        }
    }
    if values.is_empty() {
        e.add(field, missing);
    }
    out
}

/// A date `YYYY-MM-DD` that is not after `today`.
pub fn past_date(
    e: &mut FieldErrors,
    field: &str,
    value: Option<&str>,
    what: &str,
    required: bool,
    today: NaiveDate,
) -> Option<NaiveDate> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            if required {
                e.add(field, format!("Enter the date {what}"));
            }
            None
        }
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Err(_) => {
                e.add(
                    field,
                    format!("The date {what} must be a real date, like 2026-11-02"),
                );
                None
            }
            Ok(d) if d > today => {
                e.add(
                    field,
                    format!("The date {what} must be today or in the past"),
                );
                None
            }
            Ok(d) if d < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(d) => {
                e.add(field, format!("The date {what} must be after 1900"));
                None
            }
            Ok(d) => Some(d),
        },
    }
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrugItemInput {
    /// A drug from the catalogue (`GET /api/v1/drugs`)...
    pub drug_id: Option<Uuid>,
    /// ...or, when it is not listed, its name and schedule.
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[schema(value_type = Option<Schedule>)]
    pub schedule: Option<String>,
    #[schema(max_length = 100)]
    pub formulation: Option<String>,
    #[schema(max_length = 100)]
    pub strength: Option<String>,
    #[schema(exclusive_minimum = 0.0, maximum = 10_000_000.0)]
    pub quantity: Option<f64>,
    #[schema(max_length = 50)]
    pub unit: Option<String>,
    /// Total daily dose in mg, for an opioid: gives its oral morphine equivalent.
    #[schema(exclusive_minimum = 0.0, maximum = 100_000.0)]
    pub daily_dose_mg: Option<f64>,
    /// For a fentanyl or buprenorphine patch: its strength in micrograms an hour.
    #[schema(exclusive_minimum = 0.0, maximum = 1_000.0)]
    pub patch_micrograms_per_hour: Option<f64>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    #[schema(value_type = String, format = Date, required = true)]
    pub occurred_on: Option<String>,
    #[schema(value_type = Option<String>, example = "14:30")]
    pub occurred_time: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub discovered_on: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub location: Option<String>,
    #[schema(value_type = Vec<IncidentCategory>, required = true, min_items = 1)]
    pub categories: Option<Vec<String>>,
    #[schema(max_items = 20)]
    pub drugs: Option<Vec<DrugItemInput>>,
    #[schema(value_type = Harm, required = true)]
    pub harm: Option<String>,
    pub near_miss: Option<bool>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10_000)]
    pub description: Option<String>,
    #[schema(max_length = 5_000)]
    pub actions_taken: Option<String>,
    pub police_informed: Option<bool>,
    #[schema(max_length = 50)]
    pub police_reference: Option<String>,
    pub patient_involved: Option<bool>,
    /// With the category `overseas_online_prescribing`: how it was prescribed and supplied.
    pub online_supply: Option<super::oversight::OnlineSupplyInput>,
    /// With the category `cbpm`: what the report about a cannabis-based product is about.
    pub cbpm: Option<super::oversight::CbpmInput>,
}

/// A catalogue entry as parsing needs it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Drug {
    pub id: Uuid,
    pub name: String,
    pub schedule: String,
    pub class: Option<String>,
    pub ome_factor: Option<f64>,
    #[serde(skip)]
    pub is_opioid: bool,
    #[serde(skip)]
    pub patch: Option<String>,
    #[serde(skip)]
    pub synonyms: Vec<String>,
}

/// One drug of a report, as kept with the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct DrugItem {
    pub drug_id: Option<Uuid>,
    pub name: String,
    pub schedule: String,
    pub class: Option<String>,
    pub formulation: Option<String>,
    pub strength: Option<String>,
    pub quantity: Option<f64>,
    pub unit: Option<String>,
    pub daily_dose_mg: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_micrograms_per_hour: Option<f64>,
    /// Oral morphine equivalent, mg a day, for an opioid with a daily dose or a patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ome_mg_per_day: Option<f64>,
    /// OME at or above the high-dose threshold (`CDC_HIGH_DOSE_OME_MG`, 120 mg a day by
    /// default, Opioids Aware) when the report was submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_dose: Option<bool>,
}

/// An incident report as kept (SPEC §4).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Incident {
    pub occurred_on: NaiveDate,
    pub occurred_time: Option<String>,
    pub discovered_on: Option<NaiveDate>,
    pub location: String,
    pub categories: Vec<IncidentCategory>,
    pub drugs: Vec<DrugItem>,
    pub harm: Harm,
    pub near_miss: bool,
    pub description: String,
    pub actions_taken: Option<String>,
    pub police_informed: bool,
    pub police_reference: Option<String>,
    pub patient_involved: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_supply: Option<super::oversight::OnlineSupply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cbpm: Option<super::oversight::Cbpm>,
}

pub const MAX_DRUG_ITEMS: usize = 20;
pub const MAX_DESCRIPTION: usize = 10_000;

fn positive(e: &mut FieldErrors, field: &str, v: Option<f64>, what: &str, max: f64) -> Option<f64> {
    match v {
        None => None,
        Some(x) if x.is_finite() && x > 0.0 && x <= max => Some(x),
        Some(_) => {
            e.add(
                field,
                format!("{what} must be a number greater than 0 and at most {max}"),
            );
            None
        }
    }
}

/// Parses one drug item against the catalogue.
pub fn parse_drug(
    e: &mut FieldErrors,
    i: usize,
    d: &DrugItemInput,
    find: &dyn Fn(Uuid) -> Option<Drug>,
    high_dose_mg: f64,
) -> Option<DrugItem> {
    let f = |name: &str| format!("drugs[{i}].{name}");
    let formulation = e.optional_text(
        &f("formulation"),
        d.formulation.as_deref(),
        "the formulation",
        100,
    );
    let strength = e.optional_text(&f("strength"), d.strength.as_deref(), "the strength", 100);
    let unit = e.optional_text(&f("unit"), d.unit.as_deref(), "the unit", 50);
    let quantity = match d.quantity {
        None => None,
        Some(q) if q.is_finite() && q > 0.0 && q <= 10_000_000.0 => Some(q),
        Some(_) => {
            e.add(f("quantity"), "Quantity must be a number greater than 0");
            None
        }
    };
    if quantity.is_some() && unit.is_none() {
        e.add(
            f("unit"),
            "Enter the unit of the quantity, like tablet, mL or ampoule",
        );
    }
    let daily_dose_mg = positive(
        e,
        &f("daily_dose_mg"),
        d.daily_dose_mg,
        "Daily dose",
        100_000.0,
    );
    let patch_ug = positive(
        e,
        &f("patch_micrograms_per_hour"),
        d.patch_micrograms_per_hour,
        "Patch strength",
        1_000.0,
    );
    let (drug_id, name, schedule, class, factor, patch) = match (
        d.drug_id,
        d.name.as_deref().map(str::trim).filter(|n| !n.is_empty()),
    ) {
        (Some(id), _) => match find(id) {
            Some(drug) => (
                Some(drug.id),
                drug.name,
                drug.schedule,
                drug.class,
                drug.ome_factor,
                drug.patch,
            ),
            None => {
                e.add(f("drug_id"), "Choose a drug from the list");
                return None;
            }
        },
        (None, Some(name)) => {
            if name.chars().count() > 200 {
                e.add(f("name"), "The drug's name must be 200 characters or fewer");
            }
            let schedule = match d
                .schedule
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                None => {
                    e.add(
                        f("schedule"),
                        "Select the schedule of a drug that is not in the list",
                    );
                    None
                }
                Some(s) => {
                    let p = Schedule::parse(s);
                    if p.is_none() {
                        e.add(f("schedule"), "Schedule must be 1, 2, 3, 4-1, 4-2 or 5");
                    }
                    p
                }
            }?;
            (
                None,
                name.to_string(),
                schedule.code().to_string(),
                None,
                None,
                None,
            )
        }
        (None, None) => {
            e.add(
                f("drug_id"),
                "Choose the drug, or enter its name if it is not in the list",
            );
            return None;
        }
    };
    let ome = super::ome::ome_mg_per_day(factor, patch.as_deref(), daily_dose_mg, patch_ug);
    Some(DrugItem {
        drug_id,
        name,
        schedule,
        class,
        formulation,
        strength,
        quantity,
        unit,
        daily_dose_mg,
        patch_micrograms_per_hour: patch_ug,
        ome_mg_per_day: ome.map(|o| (o * 10.0).round() / 10.0),
        high_dose: ome.map(|o| o >= high_dose_mg),
    })
}

impl IncidentInput {
    /// Parses the report with the default high-dose threshold (120 mg OME a day).
    pub fn parse(
        &self,
        today: NaiveDate,
        find: &dyn Fn(Uuid) -> Option<Drug>,
    ) -> Result<Incident, Vec<super::validation::FieldError>> {
        self.parse_at(today, find, super::ome::HIGH_DOSE_MG)
    }

    /// Parses the report, flagging opioid items at or above `high_dose_mg` OME a day.
    pub fn parse_at(
        &self,
        today: NaiveDate,
        find: &dyn Fn(Uuid) -> Option<Drug>,
        high_dose_mg: f64,
    ) -> Result<Incident, Vec<super::validation::FieldError>> {
        let mut e = FieldErrors::new();
        let occurred_on = past_date(
            &mut e,
            "occurred_on",
            self.occurred_on.as_deref(),
            "it happened",
            true,
            today,
        );
        let occurred_time = match self
            .occurred_time
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            None => None,
            Some(t) => match NaiveTime::parse_from_str(t, "%H:%M") {
                Ok(time) => Some(time.format("%H:%M").to_string()),
                Err(_) => {
                    e.add(
                        "occurred_time",
                        "Enter the time as hours and minutes, like 14:30",
                    );
                    None
                }
            },
        };
        let discovered_on = past_date(
            &mut e,
            "discovered_on",
            self.discovered_on.as_deref(),
            "it was discovered",
            false,
            today,
        );
        if let (Some(o), Some(d)) = (occurred_on, discovered_on)
            && d < o
        {
            e.add(
                "discovered_on",
                "The date it was discovered must be the same as or after the date it happened",
            );
        }
        let location = e.text(
            "location",
            self.location.as_deref(),
            "where it happened",
            200,
        );
        let categories = code_list(
            &mut e,
            "categories",
            self.categories.as_deref(),
            IncidentCategory::parse,
            "Select at least one kind of incident",
        );
        let inputs = self.drugs.as_deref().unwrap_or(&[]);
        if inputs.len() > MAX_DRUG_ITEMS {
            e.add("drugs", format!("Enter at most {MAX_DRUG_ITEMS} drugs"));
        }
        let drugs: Vec<DrugItem> = inputs
            .iter()
            .take(MAX_DRUG_ITEMS)
            .enumerate()
            .filter_map(|(i, d)| parse_drug(&mut e, i, d, find, high_dose_mg))
            .collect();
        let harm = required_code(
            &mut e,
            "harm",
            self.harm.as_deref(),
            Harm::parse,
            "Select the level of harm",
            "Select a level of harm from the list",
        );
        let near_miss = self.near_miss.unwrap_or(false);
        if near_miss && harm.is_some_and(|h| h != Harm::None) {
            e.add(
                "near_miss",
                "A near miss caused no harm: select no harm, or say it was not a near miss",
            );
        }
        let description = e.text(
            "description",
            self.description.as_deref(),
            "what happened",
            MAX_DESCRIPTION,
        );
        let actions_taken = e.optional_text(
            "actions_taken",
            self.actions_taken.as_deref(),
            "the actions taken",
            5_000,
        );
        let police_informed = self.police_informed.unwrap_or(false);
        let police_reference = e.optional_text(
            "police_reference",
            self.police_reference.as_deref(),
            "the crime reference",
            50,
        );
        if police_reference.is_some() && !police_informed {
            e.add(
                "police_reference",
                "Only give a crime reference if the police were told",
            );
        }
        let patient_involved = self.patient_involved.unwrap_or(false);
        let online_supply = self.online_supply.as_ref().and_then(|o| o.parse(&mut e));
        if online_supply.is_some()
            && !categories.contains(&IncidentCategory::OverseasOnlinePrescribing)
        {
            e.add(
                "online_supply",
                "Give details of online prescribing only for an incident of online prescribing from outside the UK",
            );
        }
        let cbpm = self.cbpm.as_ref().and_then(|c| c.parse(&mut e));
        if cbpm.is_some() && !categories.contains(&IncidentCategory::Cbpm) {
            e.add(
                "cbpm",
                "Give CBPM details only for an incident about a cannabis-based product for medicinal use",
            );
        }
        match (occurred_on, harm) {
            (Some(occurred_on), Some(harm)) if e.is_empty() => Ok(Incident {
                occurred_on,
                occurred_time,
                discovered_on,
                location,
                categories,
                drugs,
                harm,
                near_miss,
                description,
                actions_taken,
                police_informed,
                police_reference,
                patient_involved,
                online_supply,
                cbpm,
            }),
            _ => Err(e.into_vec()),
        }
    }
}

impl Incident {
    pub fn schedules(&self) -> Vec<String> {
        let mut s: Vec<String> = self.drugs.iter().map(|d| d.schedule.clone()).collect();
        s.sort();
        s.dedup();
        s
    }

    pub fn high_dose(&self) -> bool {
        self.drugs.iter().any(|d| d.high_dose == Some(true))
    }

    pub fn search_text(&self) -> String {
        let mut t = vec![self.location.clone(), self.description.clone()];
        t.extend(self.actions_taken.clone());
        t.extend(self.drugs.iter().map(|d| d.name.clone()));
        t.join(" ")
    }
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// `gmc`, `gphc`, `nmc`, `hcpc` or `gdc`.
    #[schema(value_type = crate::domain::identifiers::Register, required = true)]
    pub register: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub number: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<String>,
    #[schema(example = "943 476 5919")]
    pub nhs_number: Option<String>,
    pub registrations: Option<Vec<RegistrationInput>>,
    pub prescriber_code: Option<String>,
    #[schema(max_length = 100)]
    pub job_role: Option<String>,
    #[schema(max_items = 5, value_type = Option<Vec<String>>)]
    pub work_addresses: Option<Vec<String>>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonConcernInput {
    #[schema(value_type = SubjectType, required = true)]
    pub subject_type: Option<String>,
    #[schema(value_type = PersonInput, required = true)]
    pub person: Option<PersonInput>,
    #[schema(value_type = Vec<ConcernCategory>, required = true, min_items = 1)]
    pub concern_categories: Option<Vec<String>>,
    #[schema(value_type = Provenance, required = true)]
    pub provenance: Option<String>,
    #[schema(value_type = ConcernStatus, required = true)]
    pub status: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 10_000)]
    pub description: Option<String>,
    pub linked_case_ids: Option<Vec<Uuid>>,
    /// With the concern category `overseas_online_prescribing`: how it was prescribed.
    pub online_supply: Option<super::oversight::OnlineSupplyInput>,
    /// If the concern is about cannabis-based products for medicinal use.
    pub cbpm: Option<super::oversight::CbpmInput>,
}

/// A registration as kept in an identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RegistrationOut {
    pub register: String,
    pub number: String,
}

/// A person's identity. Kept only sealed (AES-256-GCM); shown only to those who may see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Identity {
    pub full_name: String,
    pub date_of_birth: Option<NaiveDate>,
    pub nhs_number: Option<String>,
    pub registrations: Vec<RegistrationOut>,
    pub prescriber_code: Option<String>,
    pub job_role: Option<String>,
    pub work_addresses: Vec<String>,
}

/// A person-of-concern report as kept with the case: everything but the identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PersonConcern {
    pub subject_type: SubjectType,
    pub concern_categories: Vec<ConcernCategory>,
    pub provenance: Provenance,
    pub status: ConcernStatus,
    pub description: String,
    pub linked_case_ids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_supply: Option<super::oversight::OnlineSupply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cbpm: Option<super::oversight::Cbpm>,
}

pub const MAX_WORK_ADDRESSES: usize = 5;

/// A prescriber code as kept and matched: spaces and hyphens dropped, upper case, 3 to 20
/// letters and numbers.
pub fn prescriber_code(value: &str) -> Option<String> {
    super::identifiers::normalise_prescriber_code(value).ok()
}

impl PersonInput {
    pub fn parse(&self, e: &mut FieldErrors, today: NaiveDate) -> Identity {
        use super::identifiers::{NhsNumber, Register, Registration};
        let full_name = e.text(
            "person.full_name",
            self.full_name.as_deref(),
            "the person's full name",
            200,
        );
        let date_of_birth = past_date(
            e,
            "person.date_of_birth",
            self.date_of_birth.as_deref(),
            "of birth",
            false,
            today,
        );
        let nhs_number = match self
            .nhs_number
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => match NhsNumber::parse(v) {
                Ok(n) => Some(n.as_str().to_string()),
                Err(msg) => {
                    e.add("person.nhs_number", msg);
                    None
                }
            },
        };
        let mut registrations: Vec<RegistrationOut> = Vec::new();
        for (i, r) in self
            .registrations
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let reg_field = format!("person.registrations[{i}].register");
            let num_field = format!("person.registrations[{i}].number");
            let register = match r
                .register
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                None => {
                    e.add(&reg_field, "Select the professional register");
                    None
                }
                Some(code) => {
                    let p = Register::parse(code);
                    if p.is_none() {
                        e.add(&reg_field, "Register must be gmc, gphc, nmc, hcpc or gdc");
                    }
                    p
                }
            };
            let number = r.number.as_deref().map(str::trim).filter(|v| !v.is_empty());
            match (register, number) {
                (Some(_), None) => e.add(&num_field, "Enter the registration number"),
                (Some(reg), Some(n)) => match Registration::parse(reg, n) {
                    Ok(parsed) => {
                        let out = RegistrationOut {
                            register: parsed.register().code().to_string(),
                            number: parsed.number().to_string(),
                        };
                        if registrations.iter().any(|x| x.register == out.register) {
                            e.add(&reg_field, "Give each register once");
                        } else {
                            registrations.push(out);
                        }
                    }
                    Err(msg) => e.add(&num_field, msg),
                },
                (None, _) => {}
            }
        }
        let prescriber_code = match self
            .prescriber_code
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => match super::identifiers::normalise_prescriber_code(v) {
                Ok(norm) => Some(norm),
                Err(msg) => {
                    e.add("person.prescriber_code", msg);
                    None
                }
            },
        };
        let job_role = e.optional_text(
            "person.job_role",
            self.job_role.as_deref(),
            "the job role",
            100,
        );
        let mut work_addresses = Vec::new();
        let addresses = self.work_addresses.as_deref().unwrap_or(&[]);
        if addresses.len() > MAX_WORK_ADDRESSES {
            e.add(
                "person.work_addresses",
                format!("Enter at most {MAX_WORK_ADDRESSES} work addresses"),
            );
        }
        for (i, a) in addresses.iter().take(MAX_WORK_ADDRESSES).enumerate() {
            if let Some(a) = e.optional_text(
                &format!("person.work_addresses[{i}]"),
                Some(a),
                "the address",
                300,
            ) {
                work_addresses.push(a);
            }
        }
        Identity {
            full_name,
            date_of_birth,
            nhs_number,
            registrations,
            prescriber_code,
            job_role,
            work_addresses,
        }
    }
}

impl PersonConcernInput {
    /// Parses the report; `linked_ok` says which linked case ids the reporter may link to.
    pub fn parse(
        &self,
        today: NaiveDate,
        linked_ok: &[Uuid],
    ) -> Result<(PersonConcern, Identity), Vec<super::validation::FieldError>> {
        let mut e = FieldErrors::new();
        let subject_type = required_code(
            &mut e,
            "subject_type",
            self.subject_type.as_deref(),
            SubjectType::parse,
            "Select who the concern is about",
            "Select who the concern is about from the list",
        );
        let identity = match &self.person {
            Some(p) => p.parse(&mut e, today),
            None => {
                e.add("person.full_name", "Enter the person's full name");
                PersonInput::default().parse(&mut FieldErrors::new(), today)
            }
        };
        let concern_categories = code_list(
            &mut e,
            "concern_categories",
            self.concern_categories.as_deref(),
            ConcernCategory::parse,
            "Select at least one kind of concern",
        );
        let provenance = required_code(
            &mut e,
            "provenance",
            self.provenance.as_deref(),
            Provenance::parse,
            "Select how you came to know of the concern",
            "Select how you came to know of the concern from the list",
        );
        let status = required_code(
            &mut e,
            "status",
            self.status.as_deref(),
            ConcernStatus::parse,
            "Select whether the concern is alleged, corroborated, substantiated or unfounded",
            "Select a status from the list",
        );
        let description = e.text(
            "description",
            self.description.as_deref(),
            "what the concern is",
            MAX_DESCRIPTION,
        );
        let mut linked_case_ids = Vec::new();
        for (i, id) in self
            .linked_case_ids
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            if !linked_ok.contains(id) {
                e.add(
                    format!("linked_case_ids[{i}]"),
                    "There is no report of yours with this id",
                );
            } else if !linked_case_ids.contains(id) {
                linked_case_ids.push(*id);
            }
        }
        let online_supply = self.online_supply.as_ref().and_then(|o| o.parse(&mut e));
        if online_supply.is_some()
            && !concern_categories.contains(&ConcernCategory::OverseasOnlinePrescribing)
        {
            e.add(
                "online_supply",
                "Give details of online prescribing only for a concern about online prescribing from outside the UK",
            );
        }
        let cbpm = self.cbpm.as_ref().and_then(|c| c.parse(&mut e));
        match (subject_type, provenance, status) {
            (Some(subject_type), Some(provenance), Some(status)) if e.is_empty() => Ok((
                PersonConcern {
                    subject_type,
                    concern_categories,
                    provenance,
                    status,
                    description,
                    linked_case_ids,
                    online_supply,
                    cbpm,
                },
                identity,
            )),
            _ => Err(e.into_vec()),
        }
    }
}

impl Identity {
    /// The blind-index inputs: (kind, normalised value). Nothing here is stored as is.
    pub fn index_values(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        if let Some(n) = &self.nhs_number {
            v.push(("nhs_number".to_string(), n.clone()));
        }
        for r in &self.registrations {
            v.push((r.register.clone(), r.number.clone()));
        }
        if let Some(p) = &self.prescriber_code {
            v.push(("prescriber_code".to_string(), p.clone()));
        }
        if let Some(dob) = self.date_of_birth {
            let name = super::identifiers::normalise_name(&self.full_name);
            if !name.is_empty() {
                v.push((
                    "name_and_date_of_birth".to_string(),
                    format!("{name}|{dob}"),
                ));
            }
        }
        v
    }
}
