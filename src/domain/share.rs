//! Shares (routed alerts) to LIN members (SPEC §3, §4 "Share", §7.1).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::code_enum;
use super::report::required_code;
use super::validation::{FieldError, FieldErrors};

code_enum!(
    Disclosure {
        Summary => ("summary", "Summary (no identities)"),
        Identified => ("identified", "Identified (shows the person's identity)"),
    }
);

code_enum!(
    LawfulBasis {
        PublicTaskHealthCare => ("public_task_health_care", "UK GDPR 6(1)(e) and 9(2)(h): public task, health and social care"),
        LegalObligation => ("legal_obligation", "UK GDPR 6(1)(c): legal obligation (Controlled Drugs Regulations 2013)"),
        PreventingDetectingUnlawfulActs => ("preventing_detecting_unlawful_acts", "DPA 2018 Sch 1 para 10: preventing or detecting unlawful acts"),
        Safeguarding => ("safeguarding", "DPA 2018 Sch 1 para 18: safeguarding"),
    }
);

code_enum!(
    ActionRequired {
        ForInformation => ("for_information", "For information"),
        ForAction => ("for_action", "For action"),
    }
);

code_enum!(
    ActionTaken {
        InvestigationOpened => ("investigation_opened", "Investigation opened"),
        CrimeRecorded => ("crime_recorded", "Crime recorded"),
        RegulatorReferral => ("regulator_referral", "Referred to a regulator"),
        FitnessToPractise => ("fitness_to_practise", "Fitness to practise process opened"),
        Inspection => ("inspection", "Inspection arranged"),
        AdviceGiven => ("advice_given", "Advice given"),
        NoAction => ("no_action", "No action"),
        Other => ("other", "Other"),
    }
);

pub const DEFAULT_EXPIRY_DAYS: i64 = 90;
pub const MAX_EXPIRY_DAYS: i64 = 365;

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
pub struct ShareInput {
    pub organisation_ids: Option<Vec<Uuid>>,
    pub disclosure: Option<String>,
    pub include_patient_data: Option<bool>,
    pub patient_data_reason: Option<String>,
    /// Show the reporting organisation's name (otherwise only its sector and area).
    pub include_organisation_name: Option<bool>,
    pub lawful_basis: Option<String>,
    pub purpose: Option<String>,
    /// What the members will read.
    pub summary: Option<String>,
    pub action_required: Option<String>,
    pub respond_by: Option<String>,
    /// Default 90 days, at most a year.
    pub expires_at: Option<DateTime<Utc>>,
    /// The evidence files of the case the share carries (default none). A file the CDAO
    /// marked as holding patient data needs `include_patient_data`.
    pub attachment_ids: Option<Vec<Uuid>>,
}

/// A file of the case, as far as a share needs to know it.
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub id: Uuid,
    pub holds_patient_data: bool,
}

/// A checked share, before it is written.
#[derive(Debug, Clone)]
pub struct ShareSpec {
    pub organisation_ids: Vec<Uuid>,
    pub disclosure: Disclosure,
    pub include_patient_data: bool,
    pub patient_data_reason: Option<String>,
    pub include_organisation_name: bool,
    pub lawful_basis: LawfulBasis,
    pub purpose: String,
    pub summary: String,
    pub action_required: ActionRequired,
    pub respond_by: Option<NaiveDate>,
    pub expires_at: DateTime<Utc>,
    pub attachment_ids: Vec<Uuid>,
}

impl ShareInput {
    /// `allowed` are the member organisations of the case's area; `evidence` the case's files.
    pub fn parse(
        &self,
        now: DateTime<Utc>,
        today: NaiveDate,
        allowed: &[Uuid],
        evidence: &[Evidence],
    ) -> Result<ShareSpec, Vec<FieldError>> {
        let mut e = FieldErrors::new();
        let mut organisation_ids: Vec<Uuid> = Vec::new();
        let given = self.organisation_ids.as_deref().unwrap_or(&[]);
        if given.is_empty() {
            e.add(
                "organisation_ids",
                "Select at least one member organisation to share with",
            );
        }
        for (i, id) in given.iter().enumerate() {
            if !allowed.contains(id) {
                e.add(
                    format!("organisation_ids[{i}]"),
                    "Select member organisations of this case's area",
                );
            } else if !organisation_ids.contains(id) {
                organisation_ids.push(*id);
            }
        }
        let disclosure = required_code(
            &mut e,
            "disclosure",
            self.disclosure.as_deref(),
            Disclosure::parse,
            "Select what to disclose",
            "Disclosure must be summary or identified",
        );
        let include_patient_data = self.include_patient_data.unwrap_or(false);
        let patient_data_reason = e.optional_text(
            "patient_data_reason",
            self.patient_data_reason.as_deref(),
            "why patient data is needed",
            2_000,
        );
        if include_patient_data && patient_data_reason.is_none() {
            e.add("patient_data_reason", "Say why the members need patient-identifiable data (reg 15(2): remove it unless it is needed)");
        }
        if include_patient_data && disclosure == Some(Disclosure::Summary) {
            e.add("include_patient_data", "A summary share carries no identities: choose identified disclosure to include patient data");
        }
        let lawful_basis = required_code(
            &mut e,
            "lawful_basis",
            self.lawful_basis.as_deref(),
            LawfulBasis::parse,
            "Select the lawful basis for sharing",
            "Select a lawful basis from the list",
        );
        let purpose = e.text(
            "purpose",
            self.purpose.as_deref(),
            "the purpose of sharing",
            1_000,
        );
        let summary = e.text(
            "summary",
            self.summary.as_deref(),
            "the summary the members will read",
            5_000,
        );
        let action_required = required_code(
            &mut e,
            "action_required",
            self.action_required.as_deref(),
            ActionRequired::parse,
            "Say whether this is for information or for action",
            "Action required must be for_information or for_action",
        );
        let respond_by = match self
            .respond_by
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                Ok(d) if d >= today => Some(d),
                Ok(_) => {
                    e.add("respond_by", "The respond-by date must be today or later");
                    None
                }
                Err(_) => {
                    e.add(
                        "respond_by",
                        "The respond-by date must be a real date, like 2026-12-01",
                    );
                    None
                }
            },
        };
        let expires_at = match self.expires_at {
            None => now + TimeDelta::days(DEFAULT_EXPIRY_DAYS),
            Some(t) if t <= now => {
                e.add("expires_at", "The expiry must be in the future");
                now
            }
            Some(t) if t > now + TimeDelta::days(MAX_EXPIRY_DAYS) => {
                e.add("expires_at", "A share can last a year at most");
                now
            }
            Some(t) => t,
        };
        if let (Some(r), true) = (respond_by, e.get("expires_at").is_none())
            && r > expires_at.date_naive()
        {
            e.add(
                "respond_by",
                "The respond-by date must be before the share expires",
            );
        }
        let mut attachment_ids: Vec<Uuid> = Vec::new();
        let named = self.attachment_ids.as_deref().unwrap_or(&[]);
        if named.len() > 100 {
            e.add("attachment_ids", "A share can carry at most 100 files");
        }
        for (i, id) in named.iter().enumerate().take(100) {
            match evidence.iter().find(|f| f.id == *id) {
                None => e.add(
                    format!("attachment_ids[{i}]"),
                    "Select evidence files of this case",
                ),
                Some(f) if f.holds_patient_data && !include_patient_data => e.add(
                    format!("attachment_ids[{i}]"),
                    "This file holds patient data: include patient data, with the reason, to share it",
                ),
                Some(_) if !attachment_ids.contains(id) => attachment_ids.push(*id),
                Some(_) => {}
            }
        }
        match (disclosure, lawful_basis, action_required) {
            (Some(disclosure), Some(lawful_basis), Some(action_required)) if e.is_empty() => {
                Ok(ShareSpec {
                    organisation_ids,
                    disclosure,
                    include_patient_data,
                    patient_data_reason,
                    include_organisation_name: self.include_organisation_name.unwrap_or(false),
                    lawful_basis,
                    purpose,
                    summary,
                    action_required,
                    respond_by,
                    expires_at,
                    attachment_ids,
                })
            }
            _ => Err(e.into_vec()),
        }
    }
}

impl ShareSpec {
    /// Whether a second CDAO must approve (SPEC §3 two-person rule, when the area has it on).
    pub fn needs_second_approval(&self, area_rule_on: bool) -> bool {
        area_rule_on && (self.disclosure == Disclosure::Identified || self.include_patient_data)
    }
}
