//! Demo data for the oversight pages (issue 12): a year of complete months of incidents in
//! each area, so that the opioid outcome charts, the online prescribing and CBPM datasets and
//! the CDLO cover have something to show, with an improvement initiative whose signal follows;
//! and a prescriber code reported at several work addresses, once in another area.
//!
//! The incidents of past months are written as they would have been submitted then (their
//! reports parsed by the domain, their overseas registrations sealed) and closed by the area's
//! team, so the dashboards show only what needs attention now. The figures come from a fixed
//! pseudo-random sequence: every demo shows the same picture.

use anyhow::Context;
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::db::cases as cdb;
use crate::app::db::directory as dir;
use crate::audit::{self, Event};
use crate::domain::report::IncidentInput;
use crate::domain::spc::{month_start, next_month};
use crate::policy::Actor;
use crate::state::AppState;

/// A fixed pseudo-random sequence (a linear congruential generator).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.roll(hi - lo + 1)
    }

    /// One of `items` (not empty).
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let i = usize::try_from(self.roll(items.len() as u64)).unwrap_or(0);
        items[i.min(items.len().saturating_sub(1))]
    }
}

pub async fn actor(state: &AppState, email: &str) -> anyhow::Result<Actor> {
    let id = dir::user_id_by_email(&state.db, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo user {email} missing"))?;
    let u = dir::get_user(&state.db, &crate::policy::UserScope::All, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo user {email} missing"))?;
    Ok(Actor {
        user_id: u.id,
        role: crate::domain::directory::Role::parse(&u.role)
            .unwrap_or(crate::domain::directory::Role::Reporter),
        name: u.name,
        email: u.email,
        organisation_id: u.organisation_id,
        organisation_name: u.organisation_name,
        area_ids: u.area_ids,
        via: crate::policy::Via::Session,
    })
}

/// Writes an incident as if `reporter` had sent it at `at` (parsed exactly as a submission).
async fn backdated_incident(
    state: &AppState,
    reporter: &Actor,
    body: Value,
    at: DateTime<Utc>,
) -> anyhow::Result<Uuid> {
    let cat = crate::reports::catalogue(state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let input: IncidentInput = serde_json::from_value(body)?;
    let today = at.with_timezone(&chrono_tz::Europe::London).date_naive();
    let mut inc = input
        .parse_at(today, &|id| cat.find(id), state.config.high_dose_ome_mg)
        .map_err(|e| anyhow::anyhow!("demo incident: {e:?}"))?;
    let registration = inc
        .online_supply
        .as_mut()
        .and_then(|o| o.prescriber_registration.take());
    let organisation_id = reporter
        .organisation_id
        .context("demo reporter without an organisation")?;
    let area_id = *reporter
        .area_ids
        .first()
        .context("demo reporter without an area")?;
    let categories: Vec<String> = inc
        .categories
        .iter()
        .map(|c| c.code().to_string())
        .collect();
    let schedules = inc.schedules();
    let suggested = crate::domain::triage::suggest_priority(
        Some(inc.harm),
        &schedules,
        &categories,
        "incident",
    );
    let id = Uuid::now_v7();
    let online_registration = registration
        .as_deref()
        .map(|r| crate::oversight::seal_registration(state, id, r))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let audit = audit::Appended::new(
        state.now(),
        Event::new(
            Some(reporter.user_id),
            audit::action::REPORT_SUBMITTED,
            "case",
            Some(id),
        )
        .case(id)
        .details(json!({"kind": "incident", "demo": true})),
    );
    let mut conn = state.db.acquire().await?;
    cdb::insert_case(
        &mut conn,
        &cdb::NewCase {
            id,
            kind: "incident",
            organisation_id,
            area_id,
            reporter_id: reporter.user_id,
            submitted_at: at,
            year: at.with_timezone(&chrono_tz::Europe::London).year(),
            occurred_on: Some(inc.occurred_on),
            harm: Some(inc.harm.code().to_string()),
            categories,
            schedules,
            drug_ids: inc.drugs.iter().filter_map(|d| d.drug_id).collect(),
            high_dose: inc.high_dose(),
            search_text: inc.search_text(),
            report: serde_json::to_value(&inc)?,
            priority_suggested: suggested.code().to_string(),
            triage_due_at: crate::domain::triage::triage_due(at, suggested),
            online_registration,
        },
        Uuid::now_v7(),
        &audit,
    )
    .await?;
    Ok(id)
}

const SERVICES: &[(&str, &str, &str)] = &[
    (
        "MedsDirect24",
        "https://www.meds-direct24.com/tramadol",
        "IN",
    ),
    ("PainFree Pharmacy", "painfree-pharmacy.net", "PK"),
    (
        "Sleepwell Online",
        "http://shop.sleepwell-online.co/order",
        "US",
    ),
    ("EuroMeds Express", "euromeds-express.eu", "RO"),
    ("Bangkok Health Store", "www.bkk-health.store", "TH"),
];
const ONLINE_DRUGS: &[(&str, &str, f64)] = &[
    ("Tramadol hydrochloride", "capsule", 60.0),
    ("Zopiclone", "tablet", 28.0),
    ("Diazepam", "tablet", 100.0),
    ("Pregabalin", "capsule", 56.0),
    ("Codeine phosphate", "tablet", 100.0),
];
const FOUND_VIA: &[&str] = &[
    "search_engine",
    "social_media",
    "social_media",
    "messaging_app",
    "email",
    "not_known",
];
const SUPPLIED_BY: &[&str] = &["post", "post", "courier", "not_known"];
const CBPM_PRODUCTS: &[&str] = &["flower", "flower", "oil", "capsule", "not_known"];
const CBPM_PRESCRIBERS: &[&str] = &[
    "gmc_specialist",
    "gmc_specialist",
    "other_doctor",
    "non_medical_prescriber",
    "not_known",
];
const CBPM_SETTINGS: &[&str] = &[
    "online_clinic",
    "online_clinic",
    "independent_clinic",
    "nhs",
    "not_known",
];
const CBPM_ISSUES: &[&str] = &[
    "outside_guidance",
    "outside_guidance",
    "supply_dispensing",
    "diversion",
    "adverse_effect",
    "advertising",
    "other",
];

/// Incidents of one month of one area.
struct MonthPlan {
    ordinary: u64,
    high_dose: u64,
    opioid_harm: u64,
    ost_harm: u64,
    online: u64,
    cbpm: u64,
}

fn drug_id(cat: &crate::domain::catalogue::Catalogue, name: &str) -> Value {
    cat.drugs
        .iter()
        .find(|d| d.name == name)
        .map(|d| json!(d.id))
        .unwrap_or(Value::Null)
}

/// A year of incidents in each area, closed by the area's team, and the initiative.
pub async fn seed(state: &AppState) -> anyhow::Result<()> {
    let cat = crate::reports::catalogue(state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let areas = [
        (
            "hospital.reporter@demo.cdconcerns.test",
            "cdao@demo.cdconcerns.test",
            "Ward controlled drugs cupboard",
        ),
        (
            "recovery.reporter@demo.cdconcerns.test",
            "cdao2@demo.cdconcerns.test",
            "Supervised consumption room",
        ),
        (
            "ambulance.reporter@demo.cdconcerns.test",
            "cdao.london@demo.cdconcerns.test",
            "Ambulance station CD safe",
        ),
    ];
    let this_month = month_start(crate::reports::uk_today(state));
    let mut dice = Dice(20_261_128);
    let mut to_close: Vec<(Uuid, usize)> = Vec::new();
    for (k, (reporter, _, location)) in areas.iter().enumerate() {
        let reporter = actor(state, reporter).await?;
        let mut month = this_month;
        for _ in 0..12 {
            month = month_start(month.pred_opt().unwrap_or(month));
        }
        for m in 0..12 {
            let months_ago = 12 - m;
            let plan = MonthPlan {
                ordinary: dice.between(1, 2),
                high_dose: match (k, months_ago) {
                    // Greater Manchester: high-dose incidents fall after the initiative began
                    // four months ago.
                    (0, 1..=4) => dice.between(0, 2),
                    (0, _) => dice.between(5, 7),
                    (1, _) => dice.between(2, 4),
                    _ => dice.between(1, 3),
                },
                opioid_harm: dice.between(0, 2),
                ost_harm: if k == 1 {
                    dice.between(0, 2)
                } else {
                    dice.between(0, 1) * dice.between(0, 1)
                },
                online: dice.between(1, 3),
                cbpm: dice.between(0, 2),
            };
            let mut bodies: Vec<Value> = Vec::new();
            let base = |categories: Value, drugs: Value, harm: &str, description: &str| {
                json!({"location": location, "categories": categories, "drugs": drugs, "harm": harm,
                       "near_miss": false, "description": description, "police_informed": false,
                       "patient_involved": harm != "none"})
            };
            for _ in 0..plan.ordinary {
                bodies.push(base(
                    json!([dice.pick(&["stock_discrepancy", "recording_error", "destruction_disposal", "storage_safe_custody"])]),
                    json!([{"drug_id": drug_id(&cat, "Morphine sulfate"), "quantity": dice.between(1, 20), "unit": "tablet"}]),
                    "none",
                    "Running balance did not match the stock at the weekly check; resolved on investigation.",
                ));
            }
            for _ in 0..plan.high_dose {
                bodies.push(base(
                    json!(["prescribing_error"]),
                    json!([{"drug_id": drug_id(&cat, "Oxycodone hydrochloride"), "quantity": 56, "unit": "capsule",
                            "daily_dose_mg": dice.between(90, 160)}]),
                    dice.pick(&["none", "low"]),
                    "Oxycodone prescribed above 120 mg oral morphine equivalent a day without a documented review.",
                ));
            }
            for _ in 0..plan.opioid_harm {
                bodies.push(base(
                    json!(["administration_error"]),
                    json!([{"drug_id": drug_id(&cat, "Morphine sulfate oral solution 10 mg/5 mL (Oramorph)"), "quantity": 10, "unit": "mL",
                            "daily_dose_mg": dice.between(20, 60)}]),
                    dice.pick(&["moderate", "moderate", "severe"]),
                    "A double dose of oral morphine solution was given; the patient needed naloxone.",
                ));
            }
            for _ in 0..plan.ost_harm {
                bodies.push(base(
                    json!(["administration_error", "theft_or_diversion"]),
                    json!([{"drug_id": drug_id(&cat, dice.pick(&["Methadone hydrochloride", "Buprenorphine (sublingual)"])),
                            "quantity": 100, "unit": "mL"}]),
                    dice.pick(&["severe", "severe", "death"]),
                    "A client on opioid substitution treatment was found unresponsive after an unsupervised dose.",
                ));
            }
            for _ in 0..plan.online {
                let (service, web, country) = dice.pick(SERVICES);
                let (drug, unit, quantity) = dice.pick(ONLINE_DRUGS);
                let mut online = json!({"service_name": service, "web_address": web, "prescriber_country": country,
                    "found_via": dice.pick(FOUND_VIA), "supplied_by": dice.pick(SUPPLIED_BY)});
                if dice.roll(3) == 0 {
                    online["prescriber_registration"] = json!(format!(
                        "{country} medical council {}",
                        dice.between(100_000, 999_999)
                    ));
                }
                let mut b = base(
                    json!(["overseas_online_prescribing"]),
                    json!([{"drug_id": drug_id(&cat, drug), "quantity": quantity, "unit": unit}]),
                    dice.pick(&["none", "none", "low", "moderate"]),
                    "A patient told us they bought these from a website abroad after an online questionnaire.",
                );
                b["online_supply"] = online;
                bodies.push(b);
            }
            for _ in 0..plan.cbpm {
                let mut b = base(
                    json!(["cbpm"]),
                    json!([{"drug_id": drug_id(&cat, "Cannabis-based product for medicinal use (CBPM)"), "quantity": 10, "unit": "g"}]),
                    dice.pick(&["none", "none", "low"]),
                    "A cannabis-based product for medicinal use was prescribed and supplied in a way that needs review.",
                );
                b["cbpm"] = json!({"product_type": dice.pick(CBPM_PRODUCTS), "prescriber_type": dice.pick(CBPM_PRESCRIBERS),
                    "setting": dice.pick(CBPM_SETTINGS), "issue": dice.pick(CBPM_ISSUES)});
                bodies.push(b);
            }
            for mut b in bodies {
                // Days 1 to 20: a week or more before today, whatever today is.
                let day = u32::try_from(dice.between(1, 20)).unwrap_or(1);
                let occurred =
                    NaiveDate::from_ymd_opt(month.year(), month.month(), day).unwrap_or(month);
                b["occurred_on"] = json!(occurred.to_string());
                let at = occurred
                    .succ_opt()
                    .unwrap_or(occurred)
                    .and_hms_opt(10, u32::try_from(dice.roll(60)).unwrap_or(0), 0)
                    .map(|t| t.and_utc())
                    .unwrap_or_else(|| state.now() - TimeDelta::days(30));
                let id = backdated_incident(state, &reporter, b, at).await?;
                to_close.push((id, k));
            }
            month = next_month(month);
        }
    }
    // Two of Greater Manchester's to the police: one acknowledged and answered.
    let cdao = actor(state, "cdao@demo.cdconcerns.test").await?;
    let member = actor(state, "member@demo.cdconcerns.test").await?;
    let police = member
        .organisation_id
        .context("demo police member without an organisation")?;
    let mut shared = 0;
    for (id, _) in to_close.iter().rev().filter(|(_, k)| *k == 0).take(2) {
        let input: crate::domain::share::ShareInput = serde_json::from_value(json!({
            "organisation_ids": [police], "disclosure": "summary",
            "lawful_basis": "preventing_detecting_unlawful_acts",
            "purpose": "To consider whether a crime was committed",
            "summary": "Controlled drugs from a hospital ward unaccounted for.",
            "action_required": "for_action"}))?;
        crate::shares::create(state, &cdao, *id, &input)
            .await
            .map_err(|e| anyhow::anyhow!("demo share: {e:?}"))?;
        shared += 1;
    }
    let inbox =
        crate::shares::list_alerts(state, &member, crate::shares::InboxFilter::All, None, false)
            .await
            .map_err(|e| anyhow::anyhow!("demo alerts: {e:?}"))?;
    if let Some(first) = inbox.items.first().filter(|_| shared > 0) {
        crate::shares::acknowledge(state, &member, first.id)
            .await
            .map_err(|e| anyhow::anyhow!("demo acknowledgement: {e:?}"))?;
        crate::shares::respond(
            state,
            &member,
            first.id,
            &crate::shares::ResponseInput {
                body: Some(
                    "Recorded on our intelligence system; no further action for now.".into(),
                ),
                action_taken: Some("no_action".into()),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo response: {e:?}"))?;
    }
    // The past months' reports were dealt with long ago.
    for (id, k) in &to_close {
        let closer = actor(state, areas[*k].1).await?;
        crate::triage::close(
            state,
            &closer,
            *id,
            &crate::triage::CloseInput {
                outcome: Some("local_learning".into()),
                well_founded: Some("yes".into()),
                note: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo close: {e:?}"))?;
    }
    // Greater Manchester's initiative, four months ago.
    let mut start = this_month;
    for _ in 0..4 {
        start = month_start(start.pred_opt().unwrap_or(start));
    }
    crate::statistics::record_initiative(
        state,
        &cdao,
        &crate::statistics::InitiativeInput {
            name: Some("High-dose opioid review at hospital discharge".into()),
            area_id: cdao.area_ids.first().map(Uuid::to_string),
            measure: Some("high_dose_opioid".into()),
            start_month: Some(start.format("%Y-%m").to_string()),
            change: Some(
                "Every discharge prescription above 120 mg oral morphine equivalent a day is reviewed by a pain team pharmacist before the patient leaves.".into(),
            ),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("demo initiative: {e:?}"))?;
    prescriber_reports(state).await
}

/// One prescriber code, reported by two Greater Manchester organisations at three work
/// addresses, and once in London.
async fn prescriber_reports(state: &AppState) -> anyhow::Result<()> {
    let concern = |addresses: &[&str], note: &str| {
        json!({
            "subject_type": "registered_professional",
            "person": {"full_name": "Dr Alan Price", "date_of_birth": "1971-09-03", "prescriber_code": "611203",
                       "job_role": "Sessional GP", "work_addresses": addresses},
            "concern_categories": ["inappropriate_prescribing", "multiple_sourcing"],
            "provenance": "own_observation", "status": "alleged", "description": note, "linked_case_ids": []
        })
    };
    for (who, addresses, note) in [
        (
            "hospital.reporter@demo.cdconcerns.test",
            &["Irwell Valley Hospital, Bury"][..],
            "Discharge prescriptions for large quantities of diazepam under this prescriber code, for patients not under his care.",
        ),
        (
            "hospice.reporter@demo.cdconcerns.test",
            &["Pennine Hospice, Oldham", "Moor Lane Surgery, Rochdale"][..],
            "Controlled drug prescriptions from this prescriber code arrived from two different surgeries in one week.",
        ),
        (
            "ambulance.reporter@demo.cdconcerns.test",
            &["Thames Walk-in Centre, Greenwich"][..],
            "A crew was shown a prescription under this prescriber code for oxycodone written the day before.",
        ),
    ] {
        let reporter = actor(state, who).await?;
        let input: crate::domain::report::PersonConcernInput =
            serde_json::from_value(concern(addresses, note))?;
        crate::reports::submit_person_concern(state, &reporter, &input, None)
            .await
            .map_err(|e| anyhow::anyhow!("demo concern: {e:?}"))?;
    }
    Ok(())
}
