//! Storage limitation (UK GDPR Art 5(1)(e)): when a closed case's details are past their
//! period, and what of a report survives (the codes, dates and counts that statistics use;
//! never free text). Pure rules, no I/O.

use chrono::{DateTime, Months, Utc};
use serde_json::{Map, Value};

/// The periods, in whole years from closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Periods {
    /// Every closed case (NHS Records Management Code of Practice: set from the
    /// organisation's records policy).
    pub years: u32,
    /// A person-of-concern case closed as not well founded: an unfounded allegation should
    /// not outlive its use.
    pub unfounded_years: u32,
}

impl Periods {
    /// Whether a case closed at `closed_at` is past its period at `now`.
    pub fn due(&self, closed_at: DateTime<Utc>, unfounded: bool, now: DateTime<Utc>) -> bool {
        let years = if unfounded {
            self.unfounded_years.min(self.years)
        } else {
            self.years
        };
        closed_at
            .checked_add_months(Months::new(years.saturating_mul(12)))
            .is_some_and(|end| end <= now)
    }

    /// The latest closing time that is past its period at `now` (for the query).
    pub fn cutoff(&self, unfounded: bool, now: DateTime<Utc>) -> DateTime<Utc> {
        let years = if unfounded {
            self.unfounded_years.min(self.years)
        } else {
            self.years
        };
        now.checked_sub_months(Months::new(years.saturating_mul(12)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// The fields of a report that hold codes, dates, numbers or flags: what retention keeps.
const KEPT: &[&str] = &[
    "occurred_on",
    "occurred_time",
    "discovered_on",
    "categories",
    "harm",
    "near_miss",
    "police_informed",
    "patient_involved",
    "subject_type",
    "concern_categories",
    "provenance",
    "status",
    "linked_case_ids",
    "cbpm",
];

/// The fields of a drug item that are codes or numbers.
const DRUG_KEPT: &[&str] = &[
    "drug_id",
    "schedule",
    "class",
    "quantity",
    "unit",
    "daily_dose_mg",
    "patch_micrograms_per_hour",
    "ome_mg_per_day",
    "high_dose",
    "ome_factor",
];

/// A report without its free text: descriptions, actions, places, crime references and
/// typed-in drug names go; codes, dates, flags and catalogue drugs stay, so statistics do not
/// change.
pub fn redact_report(report: &Value) -> Value {
    let Some(obj) = report.as_object() else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if KEPT.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        } else if k == "drugs" {
            let items = v
                .as_array()
                .map(|a| a.iter().map(redact_drug).collect())
                .unwrap_or_default();
            out.insert(k.clone(), Value::Array(items));
        } else if k == "online_supply" {
            // The service and country are facts for the national dataset; the prescriber's
            // registration is an identity.
            if let Some(o) = v.as_object() {
                let mut kept = o.clone();
                kept.remove("prescriber_registration");
                out.insert(k.clone(), Value::Object(kept));
            }
        }
    }
    out.insert("details_removed".into(), Value::Bool(true));
    Value::Object(out)
}

fn redact_drug(item: &Value) -> Value {
    let Some(obj) = item.as_object() else {
        return Value::Null;
    };
    let mut out = Map::new();
    for (k, v) in obj {
        if DRUG_KEPT.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    // A catalogue drug keeps its name (it is the catalogue's); a typed-in name goes.
    let from_catalogue = obj.get("drug_id").is_some_and(|d| !d.is_null());
    let name = if from_catalogue {
        obj.get("name").cloned().unwrap_or(Value::Null)
    } else {
        Value::String("Not in the catalogue".into())
    };
    out.insert("name".into(), name);
    Value::Object(out)
}

/// The free-text keys timeline entries carry.
pub const EVENT_TEXT_KEYS: &[&str] = &["body", "text", "note", "reason"];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn periods_count_whole_years_from_closure() {
        let p = Periods {
            years: 10,
            unfounded_years: 2,
        };
        let closed = at(2020, 3, 1);
        assert!(!p.due(closed, false, at(2030, 2, 28)));
        assert!(p.due(closed, false, at(2030, 3, 1)));
        assert!(!p.due(closed, true, at(2022, 2, 28)));
        assert!(p.due(closed, true, at(2022, 3, 1)));
        // An unfounded period never outlasts the general one.
        let short = Periods {
            years: 1,
            unfounded_years: 2,
        };
        assert!(short.due(closed, true, at(2021, 3, 1)));
        assert_eq!(p.cutoff(false, at(2030, 3, 1)), closed);
    }

    #[test]
    fn redaction_keeps_codes_and_removes_free_text() {
        let report = json!({
            "occurred_on": "2026-11-02", "location": "Dispensary at 1 High Street",
            "categories": ["theft_or_diversion"], "harm": "none", "near_miss": false,
            "description": "Jane Smith took 28 tablets.", "actions_taken": "Told the police",
            "police_informed": true, "police_reference": "CRI/123/26", "patient_involved": false,
            "drugs": [
                {"drug_id": "0195...", "name": "Morphine sulfate", "schedule": "2", "quantity": 28, "strength": "10 mg"},
                {"drug_id": null, "name": "mystery pills from Jane", "schedule": "2", "quantity": 1}
            ],
            "online_supply": {"service_name": "Pills Online", "prescriber_country": "IN",
                              "prescriber_registration": "MCI 12345"}
        });
        let r = redact_report(&report);
        let text = r.to_string();
        for gone in [
            "Jane",
            "High Street",
            "Told the police",
            "CRI/123/26",
            "10 mg",
            "MCI 12345",
        ] {
            assert!(!text.contains(gone), "{gone} survived: {text}");
        }
        assert_eq!(r["categories"], json!(["theft_or_diversion"]));
        assert_eq!(r["harm"], "none");
        assert_eq!(r["occurred_on"], "2026-11-02");
        assert_eq!(r["drugs"][0]["name"], "Morphine sulfate");
        assert_eq!(r["drugs"][0]["quantity"], 28);
        assert_eq!(r["drugs"][1]["name"], "Not in the catalogue");
        assert_eq!(r["online_supply"]["prescriber_country"], "IN");
        assert_eq!(r["details_removed"], true);
        let concern = json!({"subject_type": "registered_professional", "concern_categories": ["impairment"],
                             "provenance": "colleague", "status": "alleged", "description": "Dr X smelled of drink",
                             "linked_case_ids": []});
        let r = redact_report(&concern);
        assert!(r.get("description").is_none());
        assert_eq!(r["status"], "alleged");
    }
}
