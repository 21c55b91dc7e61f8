//! Oversight the regulators ask for (issue 12): the online supply and CBPM facts of reports,
//! who sees them, and the datasets counted from them.

use axum::http::StatusCode;
use serde_json::{Value, json};

use cdconcerns::domain::directory::Role;

use crate::harness::{TestApp, TestUser};
use crate::reports::{incident, person_concern, submit};

pub fn online_incident(domain: &str, country: &str) -> Value {
    let mut i = incident();
    i["categories"] = json!(["overseas_online_prescribing"]);
    i["police_informed"] = json!(false);
    i["police_reference"] = Value::Null;
    i["online_supply"] = json!({
        "service_name": "Meds Express", "web_address": format!("https://www.{domain}/order?x=1"),
        "prescriber_country": country, "prescriber_registration": "NMC-IN 778812",
        "found_via": "social_media", "supplied_by": "post"
    });
    i
}

pub fn cbpm_incident(issue: &str, prescriber_type: &str, setting: &str) -> Value {
    let mut i = incident();
    i["categories"] = json!(["cbpm"]);
    i["police_informed"] = json!(false);
    i["police_reference"] = Value::Null;
    i["cbpm"] = json!({"product_type": "flower", "prescriber_type": prescriber_type,
                       "setting": setting, "issue": issue});
    i
}

async fn case(app: &TestApp, user: &TestUser, id: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(user)
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    r.json()
}

#[tokio::test]
async fn every_online_supply_and_cbpm_field_is_validated_by_name() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let mut bad = online_incident("example.com", "IN");
    bad["categories"] = json!(["overseas_online_prescribing", "cbpm"]);
    bad["online_supply"] = json!({"service_name": "x".repeat(201), "web_address": "http://192.168.0.1/",
        "prescriber_country": "Narnia", "prescriber_registration": "r".repeat(101),
        "found_via": "carrier_pigeon", "supplied_by": "drone"});
    bad["cbpm"] = json!({"product_type": "resin", "prescriber_type": "vet", "setting": "pub", "issue": "not_known"});
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&bad)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.error_fields(),
        [
            "online_supply.service_name",
            "online_supply.web_address",
            "online_supply.prescriber_country",
            "online_supply.prescriber_registration",
            "online_supply.found_via",
            "online_supply.supplied_by",
            "cbpm.product_type",
            "cbpm.prescriber_type",
            "cbpm.setting",
            "cbpm.issue",
        ]
    );
    // The facts belong to their category.
    let mut wrong = online_incident("example.com", "IN");
    wrong["categories"] = json!(["stock_discrepancy"]);
    wrong["cbpm"] = json!({"issue": "diversion"});
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&wrong)
        .send()
        .await;
    assert_eq!(r.error_fields(), ["online_supply", "cbpm"]);
    let mut concern = person_concern();
    concern["online_supply"] = json!({"prescriber_country": "PK"});
    let r = app
        .post("/api/v1/person-concerns")
        .token(u)
        .json(&concern)
        .send()
        .await;
    assert_eq!(r.error_fields(), ["online_supply"]);
    // Wrong JSON types are a 422 too, never a 500.
    let mut typed = online_incident("example.com", "IN");
    typed["online_supply"]["prescriber_country"] = json!(12);
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&typed)
        .send()
        .await;
    assert!(
        r.status == StatusCode::UNPROCESSABLE_ENTITY || r.status == StatusCode::BAD_REQUEST,
        "{}",
        r.status
    );
}

#[tokio::test]
async fn the_web_address_is_kept_as_its_domain_and_the_registration_is_sealed() {
    let app = TestApp::new().await;
    let w = &app.world;
    let id = submit(
        &app,
        w.user("reporter"),
        "/api/v1/incidents",
        &online_incident("Meds-Express.co.in", "in"),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for who in ["reporter", "org_lead", "cdao"] {
        let c = case(&app, w.user(who), &id).await;
        let o = &c["report"]["online_supply"];
        assert_eq!(o["web_address"], "meds-express.co.in", "{who}");
        assert_eq!(o["prescriber_country"], "IN");
        assert_eq!(o["service_name"], "Meds Express");
        assert_eq!(o["found_via"], "social_media");
        assert_eq!(o["supplied_by"], "post");
        assert_eq!(o["prescriber_registration"], "NMC-IN 778812", "{who}");
    }
    // At rest: not in the report, sealed beside it.
    let (report, enc): (String, Vec<u8>) = sqlx::query_as(
        "SELECT report::text, online_registration_enc FROM cases WHERE id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!report.contains("778812"), "{report}");
    assert!(report.contains("meds-express.co.in"));
    assert!(!String::from_utf8_lossy(&enc).contains("778812"));
    // Viewing it is viewing an identity.
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().any(|a| a == "case.identity_viewed"),
        "{actions:?}"
    );
    // The case page shows the facts to the CDAO team and the report page to the reporter.
    let page = app
        .get(&format!("/cases/{id}"))
        .session(w.user("cdao"))
        .send()
        .await
        .text();
    for text in [
        "Online service",
        "Meds Express",
        "meds-express.co.in",
        "India (IN)",
        "NMC-IN 778812",
        "Social media",
        "By post",
    ] {
        assert!(page.contains(text), "case page lacks {text}");
    }
    let page = app
        .get(&format!("/reports/{id}"))
        .session(w.user("reporter"))
        .send()
        .await
        .text();
    assert!(page.contains("NMC-IN 778812") && page.contains("India (IN)"));
}

#[tokio::test]
async fn members_see_the_prescribers_registration_only_on_identified_shares() {
    let app = TestApp::new().await;
    let w = &app.world;
    let id = submit(
        &app,
        w.user("reporter"),
        "/api/v1/incidents",
        &online_incident("meds-express.com", "IN"),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let share = |disclosure: &str| {
        json!({"organisation_ids": [w.police_gm], "disclosure": disclosure,
               "lawful_basis": "preventing_detecting_unlawful_acts", "purpose": "Police to consider",
               "summary": "Tramadol bought online from abroad.", "action_required": "for_information"})
    };
    app.post(&format!("/api/v1/cases/{id}/shares"))
        .token(w.user("cdao"))
        .json(&share("summary"))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let member = w.user("member");
    let inbox = app.get("/api/v1/alerts").token(member).send().await.json();
    let alert = inbox["items"][0]["id"].as_str().unwrap().to_string();
    let a = app
        .get(&format!("/api/v1/alerts/{alert}"))
        .token(member)
        .send()
        .await;
    let v = a.json();
    assert_eq!(
        v["report"]["online_supply"]["web_address"],
        "meds-express.com"
    );
    assert_eq!(v["report"]["online_supply"]["prescriber_country"], "IN");
    assert!(
        v["report"]["online_supply"]
            .get("prescriber_registration")
            .is_none()
    );
    assert!(!a.text().contains("778812"));
    let page = app
        .get(&format!("/alerts/{alert}"))
        .session(member)
        .send()
        .await
        .text();
    assert!(page.contains("meds-express.com") && !page.contains("778812"));
    // An identified share, approved by a second CDAO of the area.
    let cdao2 = app
        .create_user("cdao2", Role::Cdao, Some(w.nhse_nw), vec![w.gm])
        .await;
    let s = app
        .post(&format!("/api/v1/cases/{id}/shares"))
        .token(w.user("cdao"))
        .json(&json!({"organisation_ids": [w.gphc], "disclosure": "identified",
               "lawful_basis": "preventing_detecting_unlawful_acts", "purpose": "Regulator to consider",
               "summary": "A prescriber abroad.", "action_required": "for_action"}))
        .send()
        .await
        .json();
    app.post(&format!(
        "/api/v1/shares/{}/approve",
        s["id"].as_str().unwrap()
    ))
    .token(&cdao2)
    .send()
    .await
    .assert_status(StatusCode::OK);
    let gphc = app
        .create_user("gphc", Role::Member, Some(w.gphc), vec![])
        .await;
    let inbox = app.get("/api/v1/alerts").token(&gphc).send().await.json();
    let alert = inbox["items"][0]["id"].as_str().unwrap().to_string();
    let v = app
        .get(&format!("/api/v1/alerts/{alert}"))
        .token(&gphc)
        .send()
        .await
        .json();
    assert_eq!(
        v["report"]["online_supply"]["prescriber_registration"],
        "NMC-IN 778812"
    );
    let actions = app.audit_actions().await;
    assert!(
        actions.iter().any(|a| a == "alert.identity_viewed"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_concern_about_a_person_carries_online_supply_and_cbpm_facts() {
    let app = TestApp::new().await;
    let w = &app.world;
    let mut concern = person_concern();
    concern["concern_categories"] =
        json!(["overseas_online_prescribing", "inappropriate_prescribing"]);
    concern["online_supply"] =
        json!({"web_address": "cannaclinic.example.co.uk", "prescriber_country": "GB"});
    concern["cbpm"] = json!({"prescriber_type": "other_doctor", "setting": "online_clinic", "issue": "outside_guidance"});
    let id = submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &concern,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = case(&app, w.user("cdao"), &id).await;
    assert_eq!(c["report"]["online_supply"]["web_address"], "example.co.uk");
    assert!(c["report"]["online_supply"]["prescriber_registration"].is_null());
    assert_eq!(c["report"]["cbpm"]["issue"], "outside_guidance");
    assert!(c["report"]["cbpm"]["product_type"].is_null());
}

/// Six Greater Manchester reports and one from London for each dataset.
async fn datasets(app: &TestApp) {
    let w = &app.world;
    for _ in 0..6 {
        submit(
            app,
            w.user("reporter"),
            "/api/v1/incidents",
            &online_incident("meds-express.com", "IN"),
        )
        .await;
        submit(
            app,
            w.user("reporter"),
            "/api/v1/incidents",
            &cbpm_incident("outside_guidance", "gmc_specialist", "online_clinic"),
        )
        .await;
    }
    submit(
        app,
        w.user("reporter_london"),
        "/api/v1/incidents",
        &online_incident("pills-abroad.com", "PK"),
    )
    .await;
    submit(
        app,
        w.user("reporter_london"),
        "/api/v1/incidents",
        &cbpm_incident(
            "advertising",
            "non_medical_prescriber",
            "independent_clinic",
        ),
    )
    .await;
    let mut unknown = online_incident("x.com", "IN");
    unknown["online_supply"] = json!({"found_via": "not_known"});
    submit(
        app,
        w.user("reporter_london"),
        "/api/v1/incidents",
        &unknown,
    )
    .await;
}

fn items(v: &Value) -> Vec<(String, Value, bool)> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_string(),
                i["count"].clone(),
                i["suppressed"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_online_and_cbpm_datasets_are_counted_per_role_with_suppression() {
    let app = TestApp::new().await;
    datasets(&app).await;
    let w = &app.world;
    let get = |who: &str, q: &str| {
        let user = w.user(who).clone();
        let path = format!("/api/v1/stats?group_by={q}");
        let app = &app;
        async move { app.get(&path).token(&user).send().await }
    };
    // A CDAO: their own area, in full.
    let r = get("cdao", "online_service").await.json();
    assert_eq!(items(&r), [("meds-express.com".into(), json!(6), false)]);
    assert_eq!(r["items"][0]["label"], "meds-express.com");
    let r = get("cdao_london", "online_service").await.json();
    assert_eq!(
        items(&r),
        [
            ("not_known".into(), json!(1), false),
            ("pills-abroad.com".into(), json!(1), false)
        ]
    );
    let r = get("cdao", "prescriber_country").await.json();
    assert_eq!(items(&r), [("IN".into(), json!(6), false)]);
    assert_eq!(r["items"][0]["label"], "India");
    for (group, key, label) in [
        (
            "cbpm_issue",
            "outside_guidance",
            "Prescribing outside guidance",
        ),
        (
            "cbpm_prescriber_type",
            "gmc_specialist",
            "A doctor on the GMC Specialist Register",
        ),
        ("cbpm_setting", "online_clinic", "An online clinic"),
    ] {
        let r = get("cdao", group).await.json();
        assert_eq!(items(&r), [(key.into(), json!(6), false)], "{group}");
        assert_eq!(r["items"][0]["label"], label);
    }
    // An analyst: England, counts from 1 to 4 suppressed (and listed after the others).
    let r = get("analyst", "online_service").await.json();
    assert_eq!(
        items(&r),
        [
            ("meds-express.com".into(), json!(6), false),
            ("not_known".into(), Value::Null, true),
            ("pills-abroad.com".into(), Value::Null, true)
        ]
    );
    let r = get("analyst", "prescriber_country").await.json();
    assert_eq!(
        items(&r),
        [
            ("IN".into(), json!(6), false),
            ("PK".into(), Value::Null, true),
            ("not_known".into(), Value::Null, true)
        ]
    );
    let r = get("analyst", "cbpm_setting").await.json();
    assert_eq!(
        items(&r),
        [
            ("online_clinic".into(), json!(6), false),
            ("independent_clinic".into(), Value::Null, true)
        ]
    );
    // Nobody else sees these datasets, and a CDAO sees no other area's.
    for who in ["reporter", "org_lead", "member", "admin", "auditor"] {
        for group in [
            "online_service",
            "prescriber_country",
            "cbpm_issue",
            "cbpm_prescriber_type",
            "cbpm_setting",
        ] {
            get(who, group).await.assert_status(StatusCode::FORBIDDEN);
        }
    }
    app.get(&format!(
        "/api/v1/stats?group_by=cbpm_issue&area_id={}",
        w.london
    ))
    .token(w.user("cdao"))
    .send()
    .await
    .assert_status(StatusCode::FORBIDDEN);
    // The registration is never a statistic.
    let all = get("cdao", "online_service").await.text();
    assert!(!all.contains("778812"));
}

fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&"),
        )
    };
    html.split("<input type=\"hidden\"")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}

fn incident_page_form(categories: &[&str], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("occurred_on-day", "2"),
        ("occurred_on-month", "11"),
        ("occurred_on-year", "2026"),
        ("location", "Patient's home"),
        ("drug_rows", "1"),
        ("drugs[0].drug_id", "unlisted"),
        ("drugs[0].name", "Tramadol 50 mg capsules (foreign pack)"),
        ("drugs[0].schedule", "3"),
        ("harm", "low"),
        ("near_miss", "no"),
        (
            "description",
            "A patient showed us tramadol bought from a website abroad.",
        ),
        ("police_informed", "no"),
        ("patient_involved", "yes"),
        // The form is in steps: answers of every step at once, straight to the check page.
        ("return_to", "check"),
        ("action", "continue"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for c in categories {
        f.push(("categories".into(), c.to_string()));
    }
    for (k, v) in extra {
        f.push((k.to_string(), v.to_string()));
    }
    f
}

async fn post_page(
    app: &TestApp,
    user: &TestUser,
    form: &[(String, String)],
) -> crate::harness::Resp {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post("/reports/new/incident")
        .session(user)
        .form(&pairs)
        .send()
        .await
}

#[tokio::test]
async fn the_incident_form_asks_the_online_and_cbpm_questions_under_their_categories() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let html = app
        .get("/reports/new/incident")
        .session(&u)
        .send()
        .await
        .text();
    // Each category's checkbox reveals its questions (hidden until ticked, with JavaScript).
    assert!(html.contains(
        "value=\"overseas_online_prescribing\" aria-controls=\"conditional-online-supply\""
    ));
    assert!(html.contains("value=\"cbpm\" aria-controls=\"conditional-cbpm\""));
    assert!(html.contains("nhsuk-checkboxes__conditional nhsuk-checkboxes__conditional--hidden\" id=\"conditional-online-supply\""));
    for id in [
        "online_supply.service_name",
        "online_supply.web_address",
        "online_supply.prescriber_country",
        "online_supply.prescriber_registration",
        "online_supply.found_via",
        "online_supply.supplied_by",
        "cbpm.product_type",
        "cbpm.prescriber_type",
        "cbpm.setting",
        "cbpm.issue",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(html.contains("<option value=\"IN\">India</option>"));

    // A wrong web address is named, and the summary link lands on its field.
    let online = [
        ("online_supply.service_name", "Meds Express"),
        ("online_supply.web_address", "localhost"),
        ("online_supply.prescriber_country", "IN"),
        ("online_supply.prescriber_registration", "NMC 4455"),
        ("online_supply.found_via", "search_engine"),
        ("online_supply.supplied_by", "courier"),
    ];
    let r = post_page(
        &app,
        &u,
        &incident_page_form(&["overseas_online_prescribing"], &online),
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("href=\"#online_supply.web_address\""),
        "{html}"
    );
    assert!(html.contains("Enter the web address of the online service"));
    assert!(
        html.contains("value=\"Meds Express\""),
        "what was typed is kept"
    );
    assert!(
        !html.contains("nhsuk-checkboxes__conditional--hidden\" id=\"conditional-online-supply\""),
        "its category is ticked, so the questions show"
    );

    // Corrected: the check page shows the answers, and the report keeps them.
    let mut online = online.to_vec();
    online[1] = (
        "online_supply.web_address",
        "https://shop.meds-express.com/tramadol",
    );
    let r = post_page(
        &app,
        &u,
        &incident_page_form(&["overseas_online_prescribing"], &online),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let check = r.text();
    for shown in [
        "Meds Express",
        "meds-express.com",
        "India (IN)",
        "NMC 4455",
        "A search engine",
        "By courier",
    ] {
        assert!(check.contains(shown), "{shown}");
    }
    let mut send = hidden_inputs(&check);
    send.push(("action".into(), "submit".into()));
    let r = post_page(&app, &u, &send).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let id = r
        .location()
        .trim_start_matches("/reports/")
        .trim_end_matches("?submitted=1")
        .to_string();
    let c = case(&app, &u, &id).await;
    assert_eq!(
        c["report"]["online_supply"]["web_address"],
        "meds-express.com"
    );
    assert_eq!(
        c["report"]["online_supply"]["prescriber_registration"],
        "NMC 4455"
    );

    // Answers under a category that is not ticked are not read.
    let cbpm = [("cbpm.issue", "diversion"), ("cbpm.setting", "nhs")];
    let r = post_page(
        &app,
        &u,
        &incident_page_form(&["theft_or_diversion"], &cbpm),
    )
    .await;
    r.assert_status(StatusCode::OK);
    assert!(
        !r.text()
            .contains("Cannabis-based product for medicinal use")
    );
    let r = post_page(&app, &u, &incident_page_form(&["cbpm"], &cbpm)).await;
    assert!(
        r.text()
            .contains("Cannabis-based product for medicinal use")
    );
    assert!(r.text().contains("Diversion"));
}

/// An incident in `month` (`2026-03`) in the Greater Manchester pharmacy, with an oxycodone
/// dose of `daily_mg` (OME 1.5 × daily_mg) and the given harm.
async fn opioid_incident(app: &TestApp, user: &TestUser, month: &str, daily_mg: f64, harm: &str) {
    let oxycodone = app
        .get("/api/v1/drugs?q=oxycodone")
        .token(user)
        .send()
        .await
        .json()["items"][0]["id"]
        .clone();
    let mut i = incident();
    i["occurred_on"] = json!(format!("{month}-10"));
    i["discovered_on"] = Value::Null;
    i["harm"] = json!(harm);
    i["drugs"] = json!([{"drug_id": oxycodone, "quantity": 56, "unit": "capsule", "daily_dose_mg": daily_mg}]);
    submit(app, user, "/api/v1/incidents", &i).await;
}

#[tokio::test]
async fn the_spc_chart_shows_xmr_points_per_role_and_an_initiative_splits_it() {
    let app = TestApp::new().await;
    let w = &app.world;
    let reporter = w.user("reporter").clone();
    // Seven months of 5 or 6 high-dose incidents, then three months of 1.
    let counts = [5, 6, 5, 6, 5, 6, 5, 1, 1, 1];
    for (i, n) in counts.iter().enumerate() {
        let month = format!("2026-{:02}", i + 1);
        for _ in 0..*n {
            opioid_incident(&app, &reporter, &month, 100.0, "none").await;
        }
    }
    // November is not complete on 21 November: not charted.
    opioid_incident(&app, &reporter, "2026-11", 100.0, "none").await;
    let spc = |who: &str, q: &str| {
        let user = w.user(who).clone();
        let path = format!("/api/v1/stats/spc?{q}");
        let app = &app;
        async move { app.get(&path).token(&user).send().await }
    };
    let r = spc("cdao", "measure=high_dose_opioid").await;
    r.assert_status(StatusCode::OK);
    let c = r.json();
    assert_eq!(c["measure"], "high_dose_opioid");
    let points = c["points"].as_array().unwrap();
    assert_eq!(points.len(), 10);
    assert_eq!(points[0]["month"], "2026-01");
    assert_eq!(points[9]["month"], "2026-10");
    assert_eq!(points[1]["value"], 6);
    // Mean 41/10; mean moving range 10/9; limits 4.1 ± 2.66 × 1.111.
    assert_eq!(points[0]["mean"], 4.1);
    assert_eq!(points[0]["upper"], 7.06);
    assert_eq!(points[0]["lower"], 1.14);
    // The first seven months are all above the mean: a run; the last three are below the
    // lower limit.
    for p in &points[..7] {
        assert_eq!(p["signal"], "run_above", "{p}");
    }
    for p in &points[7..] {
        assert_eq!(p["signal"], "outside_limits", "{p}");
    }
    // Nothing else counts as high dose: 100 mg oxycodone is 150 mg OME; 60 mg is 90.
    opioid_incident(&app, &reporter, "2026-10", 60.0, "none").await;
    let c = spc("cdao", "measure=high_dose_opioid").await.json();
    assert_eq!(c["points"][9]["value"], 1);
    let c = spc("cdao", "measure=all_incidents").await.json();
    assert_eq!(c["points"][9]["value"], 2);
    assert_eq!(c["points"][0]["value"], 5);

    // A national analyst: the counts of 1 are suppressed, and so are their signals.
    let c = spc("analyst", "measure=high_dose_opioid").await.json();
    let points = c["points"].as_array().unwrap();
    assert_eq!(points[0]["value"], 5);
    assert!(points[8]["value"].is_null());
    assert_eq!(points[8]["suppressed"], true);
    assert!(points[8]["signal"].is_null());
    assert_eq!(points[8]["mean"], 4.1, "limits are aggregates, shown");

    // The CDAO records an initiative from August: the limits are recalculated from then on
    // and the chart says a signal followed.
    let r = app
        .post("/statistics/opioids/initiatives")
        .session(w.user("cdao"))
        .form(&[
            (
                "initiative-name",
                "High-dose opioid reviews in community pharmacies",
            ),
            ("initiative-area_id", &w.gm.to_string()),
            ("initiative-measure", "high_dose_opioid"),
            ("initiative-start_month", "2026-08"),
            (
                "initiative-change",
                "Pharmacists refer every prescription above 120 mg OME a day for review.",
            ),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let c = spc("cdao", "measure=high_dose_opioid").await.json();
    let points = c["points"].as_array().unwrap();
    assert_eq!(points[7]["phase_start"], true);
    assert_eq!(points[7]["mean"], 1.0);
    assert_eq!(points[0]["mean"], 5.43);
    let i = &c["initiatives"][0];
    assert_eq!(
        i["name"],
        "High-dose opioid reviews in community pharmacies"
    );
    assert_eq!(i["start_month"], "2026-08-01");
    let outcome = i["outcome"].as_str().unwrap();
    assert!(outcome.contains("A signal followed"), "{outcome}");
    assert!(
        outcome.contains("August 2026") && outcome.contains("fewer than before"),
        "{outcome}"
    );
    // A client records one through the API as well; every wrong field is named.
    let r = app
        .post("/api/v1/stats/spc/initiatives")
        .token(w.user("cdao"))
        .json(
            &json!({"name": "All-incident huddles", "area_id": w.gm, "measure": "all_incidents",
                      "start_month": "2026-09", "change": "A weekly incident huddle."}),
        )
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["measure"], "all_incidents");
    let c = spc("cdao", "measure=all_incidents").await.json();
    assert_eq!(c["initiatives"][0]["name"], "All-incident huddles");
    let bad = app
        .post("/api/v1/stats/spc/initiatives")
        .token(w.user("cdao"))
        .json(
            &json!({"name": "", "area_id": w.london, "measure": "colour",
                      "start_month": "2026-13", "change": ""}),
        )
        .send()
        .await;
    assert_eq!(
        bad.error_fields(),
        ["name", "area_id", "measure", "start_month", "change"]
    );
    app.post("/api/v1/stats/spc/initiatives")
        .token(w.user("analyst"))
        .json(&json!({"name": "x", "measure": "all_incidents", "start_month": "2026-01", "change": "y"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // The page shows the chart, its table and the initiative in words.
    let page = app
        .get("/statistics/opioids?measure=high_dose_opioid")
        .session(w.user("cdao"))
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<svg") && html.contains("role=\"img\""));
    assert!(html.contains("High-dose opioid reviews in community pharmacies"));
    assert!(html.contains("A signal followed"));
    assert!(html.contains("October 2026"));

    // Who may see the charts, and the parameters named when wrong.
    for who in ["reporter", "org_lead", "member", "admin", "auditor"] {
        spc(who, "measure=all_incidents")
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    spc(
        "cdao",
        &format!("measure=all_incidents&area_id={}", w.london),
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    let c = spc(
        "analyst",
        &format!("measure=all_incidents&area_id={}", w.london),
    )
    .await
    .json();
    assert_eq!(c["points"], json!([]), "London has no incidents");
    assert_eq!(spc("cdao", "").await.error_fields(), ["measure"]);
    assert_eq!(
        spc("cdao", "measure=colour&sector=moon&area_id=x")
            .await
            .error_fields(),
        ["measure", "area_id", "sector"]
    );
    let c = spc("cdao", "measure=all_incidents&sector=gp_practice")
        .await
        .json();
    assert_eq!(c["points"], json!([]), "no GP practice incidents");
}

#[tokio::test]
async fn the_high_dose_threshold_is_configuration() {
    let app = TestApp::with_config(|c| c.high_dose_ome_mg = 90.0).await;
    let reporter = app.world.user("reporter").clone();
    // 60 mg oxycodone a day is 90 mg OME: high dose at 90, not at 120.
    opioid_incident(&app, &reporter, "2026-10", 60.0, "none").await;
    let list = app
        .get("/api/v1/cases")
        .token(&reporter)
        .send()
        .await
        .json();
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let c = case(&app, &reporter, &id).await;
    assert_eq!(c["report"]["drugs"][0]["ome_mg_per_day"], 90.0);
    assert_eq!(c["report"]["drugs"][0]["high_dose"], true);
    let chart = app
        .get("/api/v1/stats/spc?measure=high_dose_opioid")
        .token(app.world.user("cdao"))
        .send()
        .await
        .json();
    assert_eq!(chart["high_dose_ome_mg"], 90.0);
    assert_eq!(chart["points"][0]["value"], 1);
    let page = app
        .get("/statistics")
        .session(app.world.user("cdao"))
        .send()
        .await
        .text();
    assert!(page.contains("90 mg oral morphine equivalent a day"));
}

#[tokio::test]
async fn opioid_harm_and_opioid_substitution_harm_are_measured() {
    let app = TestApp::new().await;
    let reporter = app.world.user("reporter").clone();
    opioid_incident(&app, &reporter, "2026-09", 10.0, "moderate").await;
    opioid_incident(&app, &reporter, "2026-09", 10.0, "low").await;
    let methadone = app
        .get("/api/v1/drugs?q=methadone")
        .token(&reporter)
        .send()
        .await
        .json()["items"][0]["id"]
        .clone();
    let mut i = incident();
    i["occurred_on"] = json!("2026-09-20");
    i["discovered_on"] = Value::Null;
    i["harm"] = json!("death");
    i["drugs"] = json!([{"drug_id": methadone, "quantity": 100, "unit": "mL"}]);
    submit(&app, &reporter, "/api/v1/incidents", &i).await;
    let value = |measure: &str| {
        let app = &app;
        let path = format!("/api/v1/stats/spc?measure={measure}");
        async move {
            app.get(&path)
                .token(app.world.user("cdao"))
                .send()
                .await
                .json()["points"][0]["value"]
                .clone()
        }
    };
    assert_eq!(
        value("opioid_harm").await,
        2,
        "moderate oxycodone and methadone death"
    );
    assert_eq!(value("ost_serious_harm").await, 1);
    assert_eq!(value("all_incidents").await, 3);
    assert_eq!(value("high_dose_opioid").await, 0);
}

#[tokio::test]
async fn cdlo_cover_is_shown_per_area_and_police_force_with_suppression() {
    let app = TestApp::new().await;
    let w = &app.world;
    let id = submit(&app, w.user("reporter"), "/api/v1/incidents", &incident()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/cases/{id}/shares"))
        .token(w.user("cdao"))
        .json(&json!({"organisation_ids": [w.police_gm, w.gphc], "disclosure": "summary",
            "lawful_basis": "preventing_detecting_unlawful_acts", "purpose": "Police to consider",
            "summary": "Stock missing.", "action_required": "for_action", "respond_by": "2026-11-25"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let inbox = app
        .get("/api/v1/alerts")
        .token(w.user("member"))
        .send()
        .await
        .json();
    let alert = inbox["items"][0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/alerts/{alert}/acknowledge"))
        .token(w.user("member"))
        .send()
        .await
        .assert_status(StatusCode::OK);
    // A week later the alert is past its respond-by date with no response.
    app.clock.advance(chrono::TimeDelta::days(7));
    let cdlo = |who: &str| {
        let user = w.user(who).clone();
        let app = &app;
        async move { app.get("/api/v1/stats/cdlo").token(&user).send().await }
    };
    let r = cdlo("cdao").await;
    r.assert_status(StatusCode::OK);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    let gm = &items[0];
    assert_eq!(gm["area_name"], "Greater Manchester");
    assert_eq!(gm["organisation_name"], "GM Police");
    assert_eq!(gm["organisation_id"], w.police_gm.to_string());
    assert_eq!(gm["active_users"], 1);
    assert_eq!(gm["alerts"], 1);
    assert_eq!(gm["acknowledged_on_time_pct"], 100.0);
    assert!(gm["median_hours_to_acknowledge"].is_number());
    assert!(gm["median_hours_to_respond"].is_null());
    assert_eq!(gm["overdue"], 1);
    assert_eq!(gm["uncovered"], false);
    // The analyst sees every area: London has no police force at all, and stands out; the
    // Greater Manchester figures of 1 are suppressed.
    let items = cdlo("analyst").await.json()["items"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 2);
    let gm = items
        .iter()
        .find(|i| i["area_name"] == "Greater Manchester")
        .unwrap();
    for field in [
        "active_users",
        "alerts",
        "overdue",
        "acknowledged_on_time_pct",
        "median_hours_to_acknowledge",
    ] {
        assert!(gm[field].is_null(), "{field}: {gm}");
    }
    assert_eq!(gm["suppressed"], true);
    let london = items.iter().find(|i| i["area_name"] == "London").unwrap();
    assert!(london["organisation_id"].is_null());
    assert_eq!(london["active_users"], 0);
    assert_eq!(london["uncovered"], true);
    for who in ["reporter", "org_lead", "member", "admin", "auditor"] {
        cdlo(who).await.assert_status(StatusCode::FORBIDDEN);
    }
    app.get(&format!("/api/v1/stats/cdlo?area_id={}", w.london))
        .token(w.user("cdao"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_dataset_and_cover_pages_show_charts_tables_and_csv() {
    let app = TestApp::new().await;
    datasets(&app).await;
    let w = &app.world;
    let page = |who: &str, path: &str| {
        let user = w.user(who).clone();
        let path = path.to_string();
        let app = &app;
        async move {
            let r = app.get(&path).session(&user).send().await;
            r.assert_status(StatusCode::OK);
            r.text()
                .replace("&#38;", "&")
                .replace("&amp;", "&")
                .replace("&#39;", "'")
        }
    };
    let html = page("cdao", "/statistics/online-prescribing").await;
    for text in [
        "Online prescribing from outside the UK",
        "<svg",
        "role=\"img\"",
        "By online service (its web address)",
        "meds-express.com",
        "By the prescriber's country",
        "India",
        "6 reports in this period.",
        "/statistics.csv?group_by=online_service&dataset=online",
    ] {
        assert!(html.contains(text), "online page lacks {text}");
    }
    assert!(
        !html.contains("pills-abroad.com"),
        "London's are not the GM team's"
    );
    let csv = app
        .get("/statistics.csv?group_by=prescriber_country&dataset=online")
        .session(w.user("cdao"))
        .send()
        .await
        .text();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        ["key,label,count,suppressed", "IN,India,6,false"]
    );
    let csv = app
        .get("/statistics.csv?group_by=drug&dataset=cbpm")
        .session(w.user("analyst"))
        .send()
        .await
        .text();
    assert!(csv.starts_with("key,label,count,suppressed"), "{csv}");
    let html = page("analyst", "/statistics/online-prescribing?from=2026-11-03").await;
    assert!(html.contains("fewer than 5") && html.contains("whole calendar months"));
    assert!(
        html.contains("1 November 2026 onwards"),
        "the month of the date given"
    );
    let html = page("cdao", "/statistics/cbpm").await;
    for text in [
        "Cannabis-based products for medicinal use",
        "By issue",
        "Prescribing outside guidance",
        "An online clinic",
        "A doctor on the GMC Specialist Register",
    ] {
        assert!(html.contains(text), "CBPM page lacks {text}");
    }
    let html = page("analyst", "/statistics/cdlo").await;
    assert!(html.contains("No active police user") && html.contains("Areas without police cover"));
    assert!(html.contains("London"));
    let csv = page("analyst", "/statistics/cdlo.csv").await;
    assert!(
        csv.starts_with("region,area,police_force,active_users"),
        "{csv}"
    );
    let html = page("cdao", "/statistics").await;
    assert!(
        html.contains("href=\"/statistics/opioids\"") && html.contains("href=\"/statistics/cdlo\"")
    );
    // A bad date is named on the page, never a 500.
    let r = app
        .get("/statistics/cbpm?from=yesterday")
        .session(w.user("cdao"))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("href=\"#from\""));
}

fn prescriber_concern(addresses: &[&str]) -> Value {
    let mut c = person_concern();
    c["person"]["registrations"] = json!([]);
    c["person"]["nhs_number"] = Value::Null;
    c["person"]["prescriber_code"] = json!("PC-12345");
    c["person"]["work_addresses"] = json!(addresses);
    c
}

#[tokio::test]
async fn the_prescriber_view_shows_every_report_address_and_organisation_in_the_teams_areas() {
    let app = TestApp::new().await;
    let w = &app.world;
    // A second provider in Greater Manchester, with a reporter.
    let org = app
        .post("/api/v1/organisations")
        .token(w.user("admin"))
        .json(&json!({"name": "Salford GP", "kind": "provider", "sector": "gp_practice", "area_ids": [w.gm]}))
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let gp = app
        .create_user("gp", Role::Reporter, Some(org), vec![])
        .await;
    let first = submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &prescriber_concern(&["1 High St, Salford"]),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &prescriber_concern(&["2 Low Rd, Bolton", "1 high st  salford"]),
    )
    .await;
    submit(
        &app,
        &gp,
        "/api/v1/person-concerns",
        &prescriber_concern(&["3 Mill Lane, Wigan"]),
    )
    .await;
    submit(
        &app,
        w.user("reporter_london"),
        "/api/v1/person-concerns",
        &prescriber_concern(&["9 Thames St, London"]),
    )
    .await;
    let cdao = w.user("cdao").clone();

    // From the person on a case, to the view (the identifier is not in the address).
    let r = app
        .get(&format!("/cases/{first}/prescriber"))
        .session(&cdao)
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let view = r.location().to_string();
    assert!(view.starts_with("/prescribers/prescriber_code/"), "{view}");
    assert!(!view.contains("PC12345"));
    let html = app.get(&view).session(&cdao).send().await;
    html.assert_status(StatusCode::OK);
    let html = html.text();
    for text in [
        "PC12345",
        "3 reports from 2 organisations in your areas, giving 3 different work addresses.",
        "Reported at many addresses",
        "1 High St, Salford",
        "2 Low Rd, Bolton",
        "3 Mill Lane, Wigan",
        "Salford GP",
        "Dr Jonathan Example-Smith",
        "A possible match is held by the London CDAO team",
    ] {
        assert!(html.contains(text), "prescriber view lacks {text}");
    }
    assert!(
        !html.contains("Thames"),
        "another area's report is not shown"
    );
    assert!(
        html.contains("/access-requests\""),
        "an access request can be made"
    );
    let actions = app.audit_actions().await;
    assert!(
        actions
            .iter()
            .filter(|a| *a == "case.identity_viewed")
            .count()
            >= 3
    );

    // Searching: the identifier is posted, and lands on the same view.
    let r = app
        .post("/prescribers")
        .session(&cdao)
        .form(&[("kind", "prescriber_code"), ("identifier", "pc 12345")])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), view);
    let r = app
        .post("/prescribers")
        .session(&cdao)
        .form(&[("kind", "prescriber_code"), ("identifier", "x")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("href=\"#identifier\""));

    // Through the API: the identifier is posted too, and the answer is the same view.
    let found = app
        .post("/api/v1/prescribers/lookup")
        .token(&cdao)
        .json(&json!({"kind": "prescriber_code", "identifier": "pc-12345"}))
        .send()
        .await;
    found.assert_status(StatusCode::OK);
    let found = found.json();
    assert_eq!(found["identifier"], "PC12345");
    assert_eq!(found["reports"].as_array().unwrap().len(), 3);
    assert_eq!(found["organisations"], 2);
    assert_eq!(found["spread"], true);
    assert_eq!(found["work_addresses"].as_array().unwrap().len(), 3);
    assert_eq!(found["held_elsewhere"][0]["area_name"], "London");
    assert!(!found.to_string().contains("Thames"));
    let bad = app
        .post("/api/v1/prescribers/lookup")
        .token(&cdao)
        .json(&json!({"kind": "shoe_size", "identifier": ""}))
        .send()
        .await;
    assert_eq!(bad.error_fields(), ["kind", "identifier"]);
    for who in [
        "reporter", "org_lead", "member", "admin", "auditor", "analyst",
    ] {
        app.post("/api/v1/prescribers/lookup")
            .token(w.user(who))
            .json(&json!({"kind": "prescriber_code", "identifier": "PC12345"}))
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }

    // The London team sees only its own report, and the GM reports as held elsewhere.
    let html = app
        .get(&view)
        .session(w.user("cdao_london"))
        .send()
        .await
        .text();
    assert!(
        html.contains("1 report from 1 organisation in your areas"),
        "{html}"
    );
    assert!(html.contains("held by the Greater Manchester CDAO team"));
    assert!(!html.contains("Mill Lane"));

    // Flagged on the case page and the dashboard.
    let page = app
        .get(&format!("/cases/{first}"))
        .session(&cdao)
        .send()
        .await
        .text();
    assert!(page.contains("This prescriber code has been reported at 3 different work addresses in 3 reports in your areas."), "case page");
    assert!(page.contains(&format!("href=\"{view}\"")));
    let dash = app.get("/").session(&cdao).send().await.text();
    assert!(dash.contains("Prescribers reported at many addresses"));
    assert!(dash.contains(&format!("href=\"{view}\"")));
    let dash = app
        .get("/")
        .session(w.user("cdao_london"))
        .send()
        .await
        .text();
    assert!(
        !dash.contains("Prescribers reported at many addresses"),
        "1 address in London"
    );

    // Only the lead CDAO team looks prescribers up.
    for who in [
        "reporter", "org_lead", "member", "admin", "auditor", "analyst",
    ] {
        app.get(&view)
            .session(w.user(who))
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    // The access request is the case page's own.
    let r = app
        .post(&format!("/cases/{first}/access-requests"))
        .session(&cdao)
        .form(&[
            ("area_id", &w.london.to_string()),
            ("reason", "The same prescriber code."),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let html = app.get(&view).session(&cdao).send().await.text();
    assert!(
        html.contains("Your team asked for access: waiting for a decision"),
        "{html}"
    );
}
