//! The report forms' parts for the oversight datasets (issue 12): how a drug was prescribed
//! online from outside the UK, and what a report about a cannabis-based product for medicinal
//! use (CBPM) is about. Each part belongs to a category: its questions show under the category
//! (revealed when it is ticked, with JavaScript; always shown, and said to be for that
//! category, without) and are read only when the category is ticked.
//!
//! Field names are the API's (`online_supply.prescriber_country`), so the domain's errors land
//! on their fields.

use crate::domain::countries;
use crate::domain::oversight::{
    Cbpm, CbpmInput, CbpmIssue, CbpmPrescriberType, CbpmProductType, CbpmSetting, FoundVia,
    OnlineSupply, OnlineSupplyInput, SuppliedBy, cbpm_rows, online_supply_rows,
};
use crate::web::pages::reports::Posted;

pub const ONLINE: &str = "overseas_online_prescribing";
pub const CBPM: &str = "cbpm";

/// The id of the block of questions a category's checkbox reveals.
pub const ONLINE_BLOCK: &str = "conditional-online-supply";
pub const CBPM_BLOCK: &str = "conditional-cbpm";

/// The form's fields of both parts, in page order (for the error summary).
pub const FIELDS: &[&str] = &[
    "online_supply",
    "online_supply.service_name",
    "online_supply.web_address",
    "online_supply.prescriber_country",
    "online_supply.prescriber_registration",
    "online_supply.found_via",
    "online_supply.supplied_by",
    "cbpm",
    "cbpm.product_type",
    "cbpm.prescriber_type",
    "cbpm.setting",
    "cbpm.issue",
];

/// Where an error about a whole part takes the reader.
pub fn anchor(field: &str) -> Option<String> {
    match field {
        "online_supply" => Some("online_supply.service_name".into()),
        "cbpm" => Some("cbpm.product_type".into()),
        _ => None,
    }
}

fn ticked(categories: &[String], code: &str) -> bool {
    categories.iter().any(|c| c == code)
}

/// The online supply questions as posted, if their category is ticked.
pub fn online_supply_input(p: &Posted, categories: &[String]) -> Option<OnlineSupplyInput> {
    ticked(categories, ONLINE).then(|| OnlineSupplyInput {
        service_name: p.opt("online_supply.service_name"),
        web_address: p.opt("online_supply.web_address"),
        prescriber_country: p.opt("online_supply.prescriber_country"),
        prescriber_registration: p.opt("online_supply.prescriber_registration"),
        found_via: p.opt("online_supply.found_via"),
        supplied_by: p.opt("online_supply.supplied_by"),
    })
}

/// The CBPM questions as posted: for an incident if its category is ticked (`always` for a
/// concern about a person, which has no CBPM category).
pub fn cbpm_input(p: &Posted, categories: &[String], always: bool) -> Option<CbpmInput> {
    (always || ticked(categories, CBPM)).then(|| CbpmInput {
        product_type: p.opt("cbpm.product_type"),
        prescriber_type: p.opt("cbpm.prescriber_type"),
        setting: p.opt("cbpm.setting"),
        issue: p.opt("cbpm.issue"),
    })
}

/// What the template needs to draw both parts.
pub struct FactsForm {
    pub values: Posted,
    /// The online part is revealed (its category ticked).
    pub online_open: bool,
    pub cbpm_open: bool,
    /// Whether the CBPM part belongs to a category (incidents) or is always asked (persons).
    pub cbpm_conditional: bool,
    pub countries: Vec<(String, String)>,
    pub found_via: Vec<(String, String)>,
    pub supplied_by: Vec<(String, String)>,
    pub product_types: Vec<(String, String)>,
    pub prescriber_types: Vec<(String, String)>,
    pub settings: Vec<(String, String)>,
    pub issues: Vec<(String, String)>,
}

impl FactsForm {
    pub fn new(p: &Posted, categories: &[String], cbpm_conditional: bool) -> Self {
        let mut countries = vec![(String::new(), "Select a country".to_string())];
        countries.extend(countries::options());
        FactsForm {
            values: p.clone(),
            online_open: ticked(categories, ONLINE),
            cbpm_open: !cbpm_conditional || ticked(categories, CBPM),
            cbpm_conditional,
            countries,
            found_via: FoundVia::options(),
            supplied_by: SuppliedBy::options(),
            product_types: CbpmProductType::options(),
            prescriber_types: CbpmPrescriberType::options(),
            settings: CbpmSetting::options(),
            issues: CbpmIssue::options(),
        }
    }

    pub fn v(&self, name: &str) -> &str {
        self.values.get(name)
    }

    /// The `aria-controls` of a category's checkbox, if it reveals a part.
    pub fn controls(&self, code: &str) -> &'static str {
        match code {
            ONLINE => ONLINE_BLOCK,
            CBPM if self.cbpm_conditional => CBPM_BLOCK,
            _ => "",
        }
    }
}

/// A summary-list row: its key, its lines, and the form field a "Change" link returns to.
pub type FactRow = (String, Vec<String>, &'static str);

/// The parts as (heading, rows) for "Check your answers" and the report page.
pub fn sections(
    online: Option<&OnlineSupply>,
    cbpm: Option<&Cbpm>,
) -> Vec<(&'static str, Vec<FactRow>)> {
    let mut out = Vec::new();
    if let Some(o) = online {
        let fields = [
            "online_supply.service_name",
            "online_supply.web_address",
            "online_supply.prescriber_country",
            "online_supply.prescriber_registration",
            "online_supply.found_via",
            "online_supply.supplied_by",
        ];
        let rows = online_supply_rows(o)
            .into_iter()
            .map(|(k, lines)| {
                let field = match k.as_str() {
                    "Online service" => fields[0],
                    "Web address" => fields[1],
                    "Prescriber's country" => fields[2],
                    "Prescriber's registration" => fields[3],
                    "How the person found it" => fields[4],
                    _ => fields[5],
                };
                (k, lines, field)
            })
            .collect();
        out.push(("Online prescribing from outside the UK", rows));
    }
    if let Some(c) = cbpm {
        let fields = [
            "cbpm.product_type",
            "cbpm.prescriber_type",
            "cbpm.setting",
            "cbpm.issue",
        ];
        let rows = cbpm_rows(c)
            .into_iter()
            .zip(fields)
            .map(|((k, lines), f)| (k, lines, f))
            .collect();
        out.push(("Cannabis-based product for medicinal use", rows));
    }
    out
}

/// The parts as summary-list rows of one line each (a member's alert and the share preview).
pub fn flat_rows(online: Option<&OnlineSupply>, cbpm: Option<&Cbpm>) -> Vec<(String, String)> {
    sections(online, cbpm)
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .map(|(key, lines, _)| (key, lines.join(", ")))
        .collect()
}

/// The parts of a report as submitted (JSON), as rows of the case page.
pub fn report_rows(report: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    let online: Option<OnlineSupply> = report
        .get("online_supply")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let cbpm: Option<Cbpm> = report
        .get("cbpm")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    sections(online.as_ref(), cbpm.as_ref())
        .into_iter()
        .flat_map(|(_, rows)| rows)
        .map(|(key, lines, _)| (key, lines))
        .collect()
}
