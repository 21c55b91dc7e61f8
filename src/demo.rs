//! `cdconcerns demo`: a seeded demonstration (three LIN areas, organisations of every kind,
//! one user per role) whose sign-in details are printed and kept in the data dir.

use anyhow::Context;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::auth::{self, Totp};
use crate::db::directory as dir;
use crate::state::AppState;

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
