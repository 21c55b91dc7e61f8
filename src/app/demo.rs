//! `cdconcerns demo`: a seeded demonstration (three LIN areas, organisations of every kind,
//! one user per role) whose sign-in details are printed and kept in the data dir.

use anyhow::Context;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::app::db::directory as dir;
use crate::audit::{self, Event};
use crate::auth::{self, Totp};
use crate::state::AppState;

mod oversight;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoUser {
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation: Option<String>,
    pub password: String,
    /// Base32 TOTP secret, for the roles that need a second factor.
    pub totp_secret: Option<String>,
}

struct Org {
    name: &'static str,
    kind: &'static str,
    sector: &'static str,
    ods: Option<&'static str>,
    areas: &'static [&'static str],
}

const AREAS: &[(&str, &str)] = &[
    ("Greater Manchester", "North West"),
    ("Cheshire and Merseyside", "North West"),
    ("London", "London"),
];

const ALL: &[&str] = &["Greater Manchester", "Cheshire and Merseyside", "London"];

const ORGS: &[Org] = &[
    Org {
        name: "Northbrook Community Pharmacy",
        kind: "provider",
        sector: "community_pharmacy",
        ods: Some("FQ101"),
        areas: &["Greater Manchester"],
    },
    Org {
        name: "Riverside Medical Practice",
        kind: "provider",
        sector: "gp_practice",
        ods: Some("P84001"),
        areas: &["Greater Manchester"],
    },
    Org {
        name: "Irwell Valley NHS Foundation Trust",
        kind: "provider",
        sector: "nhs_hospital",
        ods: Some("RZ1"),
        areas: &["Greater Manchester"],
    },
    Org {
        name: "Moorside Care Home",
        kind: "provider",
        sector: "care_home",
        ods: None,
        areas: &["Greater Manchester"],
    },
    Org {
        name: "Pennine Hospice",
        kind: "provider",
        sector: "hospice",
        ods: None,
        areas: &["Greater Manchester"],
    },
    Org {
        name: "Wirral Dental Care",
        kind: "provider",
        sector: "dental_practice",
        ods: Some("V01234"),
        areas: &["Cheshire and Merseyside"],
    },
    Org {
        name: "Mersey Recovery Service",
        kind: "provider",
        sector: "substance_misuse_service",
        ods: None,
        areas: &["Cheshire and Merseyside"],
    },
    Org {
        name: "Dee Valley Independent Hospital",
        kind: "provider",
        sector: "independent_hospital",
        ods: None,
        areas: &["Cheshire and Merseyside"],
    },
    Org {
        name: "HMP Thameside Healthcare",
        kind: "provider",
        sector: "prison_healthcare",
        ods: None,
        areas: &["London"],
    },
    Org {
        name: "Capital Ambulance Service",
        kind: "provider",
        sector: "ambulance_service",
        ods: None,
        areas: &["London"],
    },
    Org {
        name: "QuickMeds Online",
        kind: "provider",
        sector: "online_provider",
        ods: None,
        areas: &["London"],
    },
    Org {
        name: "Camden Veterinary Surgery",
        kind: "provider",
        sector: "veterinary",
        ods: None,
        areas: &["London"],
    },
    Org {
        name: "Greater Manchester Police",
        kind: "member",
        sector: "police",
        ods: None,
        areas: &["Greater Manchester"],
    },
    Org {
        name: "Merseyside Police",
        kind: "member",
        sector: "police",
        ods: None,
        areas: &["Cheshire and Merseyside"],
    },
    Org {
        name: "Metropolitan Police Service",
        kind: "member",
        sector: "police",
        ods: None,
        areas: &["London"],
    },
    Org {
        name: "General Pharmaceutical Council",
        kind: "member",
        sector: "regulator",
        ods: None,
        areas: ALL,
    },
    Org {
        name: "General Medical Council",
        kind: "member",
        sector: "regulator",
        ods: None,
        areas: ALL,
    },
    Org {
        name: "Care Quality Commission",
        kind: "member",
        sector: "cqc",
        ods: None,
        areas: ALL,
    },
    Org {
        name: "NHS Counter Fraud Authority",
        kind: "member",
        sector: "counter_fraud",
        ods: None,
        areas: ALL,
    },
    Org {
        name: "NHS Greater Manchester Integrated Care Board",
        kind: "member",
        sector: "icb",
        ods: Some("QOP"),
        areas: &["Greater Manchester"],
    },
    Org {
        name: "Manchester City Council",
        kind: "member",
        sector: "local_authority",
        ods: None,
        areas: &["Greater Manchester"],
    },
    Org {
        name: "NHS England North West",
        kind: "nhse",
        sector: "nhs_england",
        ods: None,
        areas: &["Greater Manchester", "Cheshire and Merseyside"],
    },
    Org {
        name: "NHS England London",
        kind: "nhse",
        sector: "nhs_england",
        ods: None,
        areas: &["London"],
    },
];

/// (email, name, role, organisation, CDAO areas)
type DemoUserSpec = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
);
const USERS: &[DemoUserSpec] = &[
    (
        "gp.reporter@demo.cdconcerns.test",
        "Dr Amira Haddad",
        "reporter",
        Some("Riverside Medical Practice"),
        &[],
    ),
    (
        "london.reporter@demo.cdconcerns.test",
        "Grace Mensah",
        "reporter",
        Some("HMP Thameside Healthcare"),
        &[],
    ),
    (
        "reporter@demo.cdconcerns.test",
        "Priya Shah",
        "reporter",
        Some("Northbrook Community Pharmacy"),
        &[],
    ),
    (
        "orglead@demo.cdconcerns.test",
        "Tom Okafor",
        "org_lead",
        Some("Northbrook Community Pharmacy"),
        &[],
    ),
    (
        "cdao@demo.cdconcerns.test",
        "Helen Marsh",
        "cdao",
        Some("NHS England North West"),
        &["Greater Manchester"],
    ),
    (
        "cdao2@demo.cdconcerns.test",
        "Sam Whitworth",
        "cdao",
        Some("NHS England North West"),
        &["Greater Manchester", "Cheshire and Merseyside"],
    ),
    (
        "cdao.london@demo.cdconcerns.test",
        "Ade Bello",
        "cdao",
        Some("NHS England London"),
        &["London"],
    ),
    (
        "cdao2.london@demo.cdconcerns.test",
        "Priya Raman",
        "cdao",
        Some("NHS England London"),
        &["London"],
    ),
    (
        "member@demo.cdconcerns.test",
        "DC Lisa Hart",
        "member",
        Some("Greater Manchester Police"),
        &[],
    ),
    (
        "gphc@demo.cdconcerns.test",
        "Mark Ellis",
        "member",
        Some("General Pharmaceutical Council"),
        &[],
    ),
    ("admin@demo.cdconcerns.test", "Jo Admin", "admin", None, &[]),
    (
        "auditor@demo.cdconcerns.test",
        "Ravi Patel",
        "auditor",
        None,
        &[],
    ),
    (
        "analyst@demo.cdconcerns.test",
        "Chris Lee",
        "analyst",
        None,
        &[],
    ),
    // Reporters of the oversight demo data (demo/oversight.rs), one per area and a second in
    // Greater Manchester.
    (
        "hospital.reporter@demo.cdconcerns.test",
        "Nadia Rahman",
        "reporter",
        Some("Irwell Valley NHS Foundation Trust"),
        &[],
    ),
    (
        "hospice.reporter@demo.cdconcerns.test",
        "Owen Briggs",
        "reporter",
        Some("Pennine Hospice"),
        &[],
    ),
    (
        "recovery.reporter@demo.cdconcerns.test",
        "Liam Doyle",
        "reporter",
        Some("Mersey Recovery Service"),
        &[],
    ),
    (
        "ambulance.reporter@demo.cdconcerns.test",
        "Sofia Costa",
        "reporter",
        Some("Capital Ambulance Service"),
        &[],
    ),
];

/// Seeds the demo if it is not there yet; returns the sign-in details.
pub async fn seed(state: &AppState, password: Option<&str>) -> anyhow::Result<Vec<DemoUser>> {
    let creds_path = state.config.data_dir.join("demo-credentials.json");
    let seeded = dir::user_id_by_email(&state.db, USERS[0].0)
        .await?
        .is_some();
    if seeded {
        if let Ok(text) = std::fs::read_to_string(&creds_path)
            && let Ok(users) = serde_json::from_str::<Vec<DemoUser>>(&text)
        {
            return Ok(users);
        }
        anyhow::bail!(
            "the demo data exists but {} is missing: remove {} to start the demo afresh",
            creds_path.display(),
            state.config.data_dir.display()
        );
    }
    let password = match password {
        Some(p) => p.to_string(),
        None => {
            let bytes = crate::crypto::random_bytes::<12>()?;
            format!(
                "demo-{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            )
        }
    };
    let hash = auth::hash_password(password.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let mut area_ids = std::collections::HashMap::new();
    for (name, region) in AREAS {
        let area = dir::Area {
            id: Uuid::now_v7(),
            name: name.to_string(),
            region: region.to_string(),
            two_person_rule: true,
            cdao_mailbox: Some(format!(
                "england.cdao.{}@nhs.net",
                name.to_lowercase().replace(' ', "")
            )),
        };
        dir::insert_area(&mut tx, &area, now).await?;
        area_ids.insert(*name, area.id);
    }
    let mut org_ids = std::collections::HashMap::new();
    for o in ORGS {
        let org = dir::Organisation {
            id: Uuid::now_v7(),
            name: o.name.to_string(),
            kind: o.kind.to_string(),
            sector: o.sector.to_string(),
            ods_code: o.ods.map(str::to_string),
            area_ids: o
                .areas
                .iter()
                .filter_map(|a| area_ids.get(a).copied())
                .collect(),
            disabled: false,
        };
        dir::save_organisation(&mut tx, &org, now, true).await?;
        org_ids.insert(o.name, org.id);
    }
    let mut out = Vec::new();
    for (email, name, role, org, areas) in USERS {
        let id = Uuid::now_v7();
        let rec = dir::UserRecord {
            id,
            email: email.to_string(),
            name: name.to_string(),
            role: role.to_string(),
            organisation_id: org.and_then(|o| org_ids.get(o).copied()),
            area_ids: areas
                .iter()
                .filter_map(|a| area_ids.get(a).copied())
                .collect(),
            status: "active".into(),
        };
        dir::insert_user(&mut tx, &rec, now).await?;
        dir::set_password(&mut tx, id, &hash, now).await?;
        let needs_mfa =
            crate::domain::directory::Role::parse(role).is_some_and(|r| r.requires_mfa());
        let totp_secret = if needs_mfa {
            let secret = Totp::new_secret().map_err(|e| anyhow::anyhow!("{e}"))?;
            let sealed =
                auth::seal_totp(&state.sealer, id, &secret).map_err(|e| anyhow::anyhow!("{e}"))?;
            dir::set_totp(
                &mut tx,
                id,
                Some(state.sealer.key_id()),
                Some(&sealed),
                true,
                None,
                now,
            )
            .await?;
            Some(
                Totp::from_secret(&secret, email)
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .secret_base32(),
            )
        } else {
            None
        };
        audit::record(
            &mut tx,
            now,
            Event::new(None, audit::action::USER_CREATED, "user", Some(id))
                .details(json!({"role": role, "demo": true})),
        )
        .await?;
        out.push(DemoUser {
            email: email.to_string(),
            name: name.to_string(),
            role: role.to_string(),
            organisation: org.map(str::to_string),
            password: password.clone(),
            totp_secret,
        });
    }
    tx.commit().await?;
    sample_cases(state).await?;
    oversight::seed(state).await?;
    std::fs::create_dir_all(&state.config.data_dir)?;
    crate::startup::write_private(&creds_path, &serde_json::to_string_pretty(&out)?)
        .context("keeping the demo sign-in details")?;
    Ok(out)
}

pub fn print_banner(url: &str, users: &[DemoUser], creds_file: &std::path::Path) {
    println!();
    println!("CD Concerns demo is ready at {url}");
    println!();
    println!(
        "Sign in as any of these (password for all: {}):",
        users.first().map(|u| u.password.as_str()).unwrap_or("")
    );
    for u in users {
        let org = u.organisation.as_deref().unwrap_or("no organisation");
        println!("  {:<34} {:<9} {}", u.email, u.role, org);
        if let Some(s) = &u.totp_secret {
            println!(
                "  {:<34} second factor: add TOTP key {s} to an authenticator app",
                ""
            );
        }
    }
    println!();
    println!("These details are kept in {}.", creds_file.display());
    println!("Press Ctrl-C to stop.");
    println!();
}

/// A few reports, so that every role has something to look at: incidents of several kinds,
/// and the same prescriber reported by two organisations (and once in another area).
async fn sample_cases(state: &AppState) -> anyhow::Result<()> {
    use crate::domain::report::{IncidentInput, PersonConcernInput};
    let actor = |email: &str| {
        let email = email.to_string();
        async move {
            let id = dir::user_id_by_email(&state.db, &email)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo user {email} missing"))?;
            let u = dir::get_user(&state.db, &crate::policy::UserScope::All, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo user {email} missing"))?;
            Ok::<_, anyhow::Error>(crate::policy::Actor {
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
    };
    let pharmacy = actor("reporter@demo.cdconcerns.test").await?;
    let gp = actor("gp.reporter@demo.cdconcerns.test").await?;
    let prison = actor("london.reporter@demo.cdconcerns.test").await?;
    let cat = crate::reports::catalogue(state)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let drug = |q: &str| cat.search(q, 1).first().map(|d| d.id);
    let today = crate::reports::uk_today(state);
    let days_ago = |n: i64| {
        (today - chrono::TimeDelta::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    let incidents = [
        (
            &pharmacy,
            json!({
            "occurred_on": days_ago(3), "discovered_on": days_ago(2), "location": "Dispensary CD cabinet",
            "categories": ["stock_discrepancy", "lost_missing"],
            "drugs": [{"drug_id": drug("morphine sulfate"), "formulation": "tablet", "strength": "10 mg", "quantity": 28, "unit": "tablet"}],
            "harm": "none", "near_miss": false,
            "description": "At the weekly balance check the CD register showed 28 morphine sulfate 10 mg MR tablets more than were in the cabinet.",
            "actions_taken": "Recounted with a second pharmacist; checked deliveries and returns for the month; superintendent informed.",
            "police_informed": false, "patient_involved": false}),
        ),
        (
            &pharmacy,
            json!({
            "occurred_on": days_ago(10), "location": "Pharmacy counter",
            "categories": ["fraudulent_attempt", "prescription_lost_stolen_forged"],
            "drugs": [{"drug_id": drug("oxycodone"), "formulation": "capsule", "strength": "20 mg", "quantity": 56, "unit": "capsule", "daily_dose_mg": 80}],
            "harm": "none", "near_miss": true,
            "description": "A prescription for oxycodone 20 mg capsules was presented that the prescriber's surgery said they had not issued.",
            "actions_taken": "Not dispensed. Police called.", "police_informed": true, "police_reference": "GMP/CRI/4471/26", "patient_involved": false}),
        ),
        (
            &gp,
            json!({
            "occurred_on": days_ago(6), "location": "Treatment room",
            "categories": ["administration_error"],
            "drugs": [{"drug_id": drug("fentanyl transdermal"), "formulation": "transdermal patch", "quantity": 1, "unit": "patch", "patch_micrograms_per_hour": 50}],
            "harm": "moderate", "near_miss": false,
            "description": "A new fentanyl patch was applied without removing the old one; the patient was drowsy at the next visit.",
            "actions_taken": "Old patch removed, patient monitored, GP informed, family apologised to.", "police_informed": false, "patient_involved": true}),
        ),
        (
            &prison,
            json!({
            "occurred_on": days_ago(1), "location": "Wing medication hatch",
            "categories": ["theft_or_diversion"],
            "drugs": [{"drug_id": drug("pregabalin"), "formulation": "capsule", "strength": "300 mg", "quantity": 14, "unit": "capsule"}],
            "harm": "low", "near_miss": false,
            "description": "Pregabalin capsules held back by a patient at supervised administration were found in another cell.",
            "police_informed": false, "patient_involved": true}),
        ),
    ];
    for (who, body) in incidents {
        let input: IncidentInput = serde_json::from_value(body)?;
        crate::reports::submit_incident(state, who, &input, None)
            .await
            .map_err(|e| anyhow::anyhow!("demo incident: {e:?}"))?;
    }
    let concern = |reporter_note: &str, provenance: &str| {
        json!({
            "subject_type": "registered_professional",
            "person": {"full_name": "Dr Martin Keel", "date_of_birth": "1968-04-12",
                       "registrations": [{"register": "gmc", "number": "4123456"}],
                       "job_role": "Locum GP", "work_addresses": ["Riverside Medical Practice, Salford"]},
            "concern_categories": ["self_or_family_prescribing", "inappropriate_prescribing"],
            "provenance": provenance, "status": "alleged", "description": reporter_note, "linked_case_ids": []
        })
    };
    for (who, note, provenance) in [
        (
            &pharmacy,
            "The same locum GP has written oxycodone prescriptions for two relatives within a month.",
            "own_observation",
        ),
        (
            &gp,
            "A colleague saw the locum take a box of diamorphine ampoules from the doctor's bag stock.",
            "colleague",
        ),
        (
            &prison,
            "A locum with this GMC number worked two sessions here; CD stock was short after each.",
            "colleague",
        ),
    ] {
        let input: PersonConcernInput = serde_json::from_value(concern(note, provenance))?;
        crate::reports::submit_person_concern(state, who, &input, None)
            .await
            .map_err(|e| anyhow::anyhow!("demo concern: {e:?}"))?;
    }
    Ok(())
}
