//! Reporting: the drug catalogue, incidents and persons of concern, validation, idempotency,
//! identities sealed at rest, visibility, amendments, evidence and occurrence returns.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestUser};

pub fn incident() -> Value {
    json!({
        "occurred_on": "2026-11-02", "occurred_time": "14:30", "discovered_on": "2026-11-03",
        "location": "Dispensary", "categories": ["theft_or_diversion", "stock_discrepancy"],
        "drugs": [{"drug_id": null, "name": "unlisted product", "schedule": "2", "quantity": 1, "unit": "vial"}],
        "harm": "none", "near_miss": false, "description": "28 morphine sulfate 10 mg tablets missing from the CD register balance.",
        "actions_taken": "Balance rechecked; superintendent informed.",
        "police_informed": true, "police_reference": "CRI/123/26", "patient_involved": false
    })
}

pub fn person_concern() -> Value {
    json!({
        "subject_type": "registered_professional",
        "person": {"full_name": "Dr Jonathan Example-Smith", "date_of_birth": "1970-01-31", "nhs_number": "943 476 5919",
                   "registrations": [{"register": "gmc", "number": "1234567"}], "prescriber_code": null,
                   "job_role": "GP", "work_addresses": ["Riverside Medical Practice, 1 High Street, Salford"]},
        "concern_categories": ["self_or_family_prescribing"], "provenance": "colleague", "status": "alleged",
        "description": "Repeated prescriptions of oxycodone for family members.", "linked_case_ids": []
    })
}

async fn drug_id(app: &TestApp, user: &TestUser, q: &str) -> String {
    let r = app
        .get(&format!("/api/v1/drugs?q={q}"))
        .token(user)
        .send()
        .await;
    r.json()["items"][0]["id"].as_str().unwrap().to_string()
}

pub async fn submit(app: &TestApp, user: &TestUser, path: &str, body: &Value) -> Value {
    let r = app.post(path).token(user).json(body).send().await;
    r.assert_status(StatusCode::CREATED);
    r.json()
}

#[tokio::test]
async fn the_catalogue_knows_the_common_controlled_drugs_and_their_schedules() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let all = app.get("/api/v1/drugs?q=").token(u).send().await.json();
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        50,
        "the list is capped"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM drugs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(n >= 80, "{n} drugs");
    let schedules: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT schedule FROM drugs ORDER BY 1")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(schedules, ["1", "2", "3", "4-1", "4-2", "5"]);
    for (q, schedule) in [
        ("gabapentin", "3"),
        ("pregabalin", "3"),
        ("oxycodone", "2"),
        ("diazepam", "4-1"),
        ("tramadol", "3"),
    ] {
        let r = app
            .get(&format!("/api/v1/drugs?q={q}"))
            .token(u)
            .send()
            .await
            .json();
        let first = &r["items"][0];
        assert!(
            first["name"].as_str().unwrap().to_lowercase().contains(q),
            "{q}: {first}"
        );
        assert_eq!(first["schedule"], schedule, "{q}");
    }
    let cbpm = app
        .get("/api/v1/drugs?q=cannabis-based")
        .token(u)
        .send()
        .await
        .json();
    assert_eq!(cbpm["items"][0]["schedule"], "2");
    let oxy = app
        .get("/api/v1/drugs?q=oxycodone")
        .token(u)
        .send()
        .await
        .json();
    assert_eq!(oxy["items"][0]["ome_factor"], 1.5);
    assert_eq!(oxy["items"][0]["class"], "A");
    // Brand names find their drug.
    let brand = app
        .get("/api/v1/drugs?q=oxycontin")
        .token(u)
        .send()
        .await
        .json();
    assert!(
        brand["items"][0]["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("oxycodone")
    );
}

#[tokio::test]
async fn a_reporter_files_an_incident_and_gets_a_reference() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let morphine = drug_id(&app, &u, "morphine").await;
    let mut body = incident();
    body["drugs"] = json!([
        {"drug_id": morphine, "formulation": "tablet", "strength": "10 mg", "quantity": 28, "unit": "tablet", "daily_dose_mg": 60},
        {"name": "unlisted product", "schedule": "2", "quantity": 1, "unit": "vial"}
    ]);
    let first = submit(&app, &u, "/api/v1/incidents", &body).await;
    assert_eq!(first["reference"], "CD-2026-000001");
    assert_eq!(first["status"], "new");
    let second = submit(&app, &u, "/api/v1/incidents", &incident()).await;
    assert_eq!(second["reference"], "CD-2026-000002");
    let case = app
        .get(&format!("/api/v1/cases/{}", first["id"].as_str().unwrap()))
        .token(&u)
        .send()
        .await;
    case.assert_status(StatusCode::OK);
    let c = case.json();
    assert_eq!(c["kind"], "incident");
    assert_eq!(c["report"]["location"], "Dispensary");
    assert_eq!(
        c["report"]["categories"],
        json!(["theft_or_diversion", "stock_discrepancy"])
    );
    assert_eq!(c["report"]["drugs"][0]["schedule"], "2");
    assert_eq!(c["report"]["drugs"][0]["ome_mg_per_day"], 60.0);
    assert_eq!(c["report"]["drugs"][0]["high_dose"], false);
    assert_eq!(c["report"]["drugs"][1]["name"], "unlisted product");
    assert_eq!(c["timeline"][0]["kind"], "submitted");
    assert!(c["priority"].is_null());
    assert!(
        app.audit_actions()
            .await
            .contains(&"case.submitted".to_string())
    );
}

/// Sends `n` incidents at once, the i-th described as "incident i of the batch" (plus `mark`
/// on the `marked` one), and returns each answer's status and body, in order.
async fn submit_together(
    app: &TestApp,
    u: &TestUser,
    n: usize,
    marked: Option<(usize, &str)>,
) -> Vec<(StatusCode, Value)> {
    let bodies: Vec<Value> = (0..n)
        .map(|i| {
            let mut b = incident();
            let mark = marked.filter(|(m, _)| *m == i).map_or("", |(_, m)| m);
            b["description"] = json!(format!("incident {i} of the batch{mark}"));
            b
        })
        .collect();
    let sent = bodies
        .iter()
        .map(|b| async move { app.post("/api/v1/incidents").token(u).json(b).send().await });
    futures_util::future::join_all(sent)
        .await
        .into_iter()
        .map(|r| (r.status, r.json()))
        .collect()
}

/// What was filed: cases, their "submitted" timeline events, `case.submitted` audit events,
/// and the cases those audit events name.
async fn filed(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM cases), \
                (SELECT count(*) FROM case_events WHERE kind = 'submitted'), \
                (SELECT count(*) FROM audit_events WHERE action = 'case.submitted'), \
                (SELECT count(DISTINCT subject_id) FROM audit_events WHERE action = 'case.submitted')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// Submissions that arrive together are written in one statement (`reports::writer`): each
/// still gets its own case, reference, first timeline event and audit event, in an intact chain.
#[tokio::test]
async fn submissions_sent_together_are_each_filed_once_with_their_own_reference() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let answers = submit_together(&app, &u, 40, None).await;
    let mut references = std::collections::BTreeSet::new();
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "{i}: {body}");
        assert!(references.insert(body["reference"].as_str().unwrap().to_string()));
        let case = app
            .get(&format!("/api/v1/cases/{}", body["id"].as_str().unwrap()))
            .token(&u)
            .send()
            .await
            .json();
        assert_eq!(case["reference"], body["reference"]);
        assert_eq!(
            case["report"]["description"],
            format!("incident {i} of the batch")
        );
        assert_eq!(case["timeline"][0]["kind"], "submitted");
    }
    let expected: std::collections::BTreeSet<String> =
        (1..=40).map(|n| format!("CD-2026-{n:06}")).collect();
    assert_eq!(references, expected, "one number each, none skipped");
    assert_eq!(filed(&app).await, (40, 40, 40, 40));
    let v = cdconcerns::audit::verify(&app.pool).await.unwrap();
    assert!(v.ok, "{v:?}");
}

/// A case written in a batch (`insert_cases`, its columns sent as arrays) is the case the
/// one-case statement (`insert_case`) writes from the same report: the same categories,
/// schedules, drugs, harm, dates, sector, suggested priority and triage target, the same sealed
/// registration of an online supply, found by the same search words.
#[tokio::test]
async fn a_case_written_with_others_is_the_case_written_alone() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let oxycodone = app
        .get("/api/v1/drugs?q=oxycodone")
        .token(&u)
        .send()
        .await
        .json()["items"][0]["id"]
        .clone();
    // Two reports: an incident with a listed drug, high dose and harm; an online supply.
    let mut opioid = incident();
    opioid["harm"] = json!("severe");
    opioid["drugs"] =
        json!([{"drug_id": oxycodone, "quantity": 56, "unit": "capsule", "daily_dose_mg": 120}]);
    let online = crate::oversight::online_incident("Meds-Express.co.in", "in");
    let body = |i: usize| {
        if i.is_multiple_of(2) {
            &opioid
        } else {
            &online
        }
    };
    let sent = (0..16).map(|i| {
        let (app, u) = (&app, &u);
        async move {
            app.post("/api/v1/incidents")
                .token(u)
                .json(body(i))
                .send()
                .await
        }
    });
    let together: Vec<String> = futures_util::future::join_all(sent)
        .await
        .into_iter()
        .map(|r| {
            r.assert_status(StatusCode::CREATED);
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    let mut alone = Vec::new();
    for i in 0..2 {
        alone.push(
            submit(&app, &u, "/api/v1/incidents", body(i)).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let batches: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT xmin::text) FROM cases WHERE id = ANY($1::uuid[])",
    )
    .bind(&together)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(batches < 16, "some went together ({batches} transactions)");
    let written = |id: String| {
        let app = &app;
        async move {
            let row: (String,) = sqlx::query_as(
                "SELECT row(kind, categories, schedules, drug_ids, high_dose, harm, occurred_on, sector,
                            priority_suggested, triage_due_at - submitted_at, report,
                            search_text, online_registration_key_id,
                            online_registration_digest, online_registration_enc IS NULL)::text
                 FROM cases WHERE id = $1::uuid",
            )
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
            row.0
        }
    };
    let (opioid_alone, online_alone) = (
        written(alone[0].clone()).await,
        written(alone[1].clone()).await,
    );
    assert!(
        opioid_alone.contains("oxycodone") || opioid_alone.contains(oxycodone.as_str().unwrap())
    );
    assert_ne!(opioid_alone, online_alone);
    for (i, id) in together.iter().enumerate() {
        let expected = if i % 2 == 0 {
            &opioid_alone
        } else {
            &online_alone
        };
        assert_eq!(&written(id.clone()).await, expected, "case {i}");
    }
    // The sealed registration opens, and the search words find every one.
    let c = app
        .get(&format!("/api/v1/cases/{}", together[1]))
        .token(app.world.user("cdao"))
        .send()
        .await
        .json();
    assert_eq!(
        c["report"]["online_supply"]["prescriber_registration"],
        "NMC-IN 778812"
    );
    let found = app
        .get("/api/v1/cases?q=morphine&limit=50")
        .token(app.world.user("cdao"))
        .send()
        .await
        .json();
    assert_eq!(found["total"], 18, "{found}");
}

/// A year's numbering goes past 999,999 without two cases sharing a reference (each number
/// was cut to six characters, so every case after the 999,999th of a year was refused as a
/// duplicate): the millionth case of 2026 is CD-2026-1000000, sent with others or alone, and
/// the audit search finds it by that reference.
#[tokio::test]
async fn the_millionth_case_of_a_year_has_a_reference_of_its_own() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let mut su = app.superuser().await;
    sqlx::raw_sql("SELECT next_case_number(2026); SELECT setval('case_number_2026', 999990);")
        .execute(&mut su)
        .await
        .unwrap();
    let answers = submit_together(&app, &u, 20, None).await;
    let mut references = std::collections::BTreeSet::new();
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "{i}: {body}");
        references.insert(body["reference"].as_str().unwrap().to_string());
    }
    let expected: std::collections::BTreeSet<String> = (999_991..=1_000_010)
        .map(|n| format!("CD-2026-{n:06}"))
        .collect();
    assert_eq!(references, expected);
    assert!(references.contains("CD-2026-1000000"));
    let alone = submit(&app, &u, "/api/v1/incidents", &incident()).await;
    assert_eq!(alone["reference"], "CD-2026-1000011");
    let found = app
        .get("/api/v1/audit?case=CD-2026-1000011")
        .token(app.world.user("auditor"))
        .send()
        .await;
    found.assert_status(StatusCode::OK);
    let items = found.json()["items"].clone();
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["case_id"] == alone["id"]),
        "{items}"
    );
}

/// If PostgreSQL refuses one submission of a batch, the others are written and answered as if
/// it had been sent alone; the refused one leaves nothing behind.
#[tokio::test]
async fn a_submission_the_database_refuses_does_not_take_the_others_with_it() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.report->>'description' LIKE '%(refuse me)' THEN
                 RAISE EXCEPTION 'refused by the test';
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_marked BEFORE INSERT ON cases
             FOR EACH ROW EXECUTE FUNCTION refuse_marked();",
    )
    .execute(&mut app.superuser().await)
    .await
    .unwrap();
    let answers = submit_together(&app, &u, 20, Some((7, " (refuse me)"))).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        if i == 7 {
            assert_eq!(*status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        } else {
            assert_eq!(*status, StatusCode::CREATED, "{i}: {body}");
        }
    }
    assert_eq!(filed(&app).await, (19, 19, 19, 19));
    let v = cdconcerns::audit::verify(&app.pool).await.unwrap();
    assert!(v.ok, "{v:?}");
}

#[tokio::test]
async fn opioid_doses_show_their_oral_morphine_equivalent_and_high_doses_are_flagged() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let oxy = drug_id(&app, &u, "oxycodone").await;
    let fentanyl: String =
        sqlx::query_scalar("SELECT id::text FROM drugs WHERE patch = 'fentanyl' LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let mut body = incident();
    body["drugs"] = json!([
        {"drug_id": oxy, "quantity": 56, "unit": "tablet", "daily_dose_mg": 100},
        {"drug_id": fentanyl, "quantity": 5, "unit": "patch", "patch_micrograms_per_hour": 25}
    ]);
    let s = submit(&app, &u, "/api/v1/incidents", &body).await;
    let c = app
        .get(&format!("/api/v1/cases/{}", s["id"].as_str().unwrap()))
        .token(&u)
        .send()
        .await
        .json();
    assert_eq!(c["report"]["drugs"][0]["ome_mg_per_day"], 150.0);
    assert_eq!(c["report"]["drugs"][0]["high_dose"], true);
    assert_eq!(c["report"]["drugs"][1]["ome_mg_per_day"], 60.0);
    assert_eq!(c["report"]["drugs"][1]["high_dose"], false);
}

#[tokio::test]
async fn every_failing_incident_field_is_named() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({}),
            vec![
                "occurred_on",
                "location",
                "categories",
                "harm",
                "description",
            ],
        ),
        (json!({"occurred_on": "2026-12-25"}), vec!["occurred_on"]),
        (json!({"occurred_on": "2026-02-30"}), vec!["occurred_on"]),
        (json!({"occurred_time": "25:99"}), vec!["occurred_time"]),
        (
            json!({"discovered_on": "2026-11-01"}),
            vec!["discovered_on"],
        ),
        (
            json!({"categories": ["theft", "lost_missing"]}),
            vec!["categories[0]"],
        ),
        (json!({"categories": []}), vec!["categories"]),
        (json!({"harm": "catastrophic"}), vec!["harm"]),
        (
            json!({"near_miss": true, "harm": "moderate"}),
            vec!["near_miss"],
        ),
        (
            json!({"drugs": [{"name": "mystery"}]}),
            vec!["drugs[0].schedule"],
        ),
        (
            json!({"drugs": [{"drug_id": "00000000-0000-0000-0000-000000000000"}]}),
            vec!["drugs[0].drug_id"],
        ),
        (
            json!({"drugs": [{}, {"name": "x", "schedule": "9"}]}),
            vec!["drugs[0].drug_id", "drugs[1].schedule"],
        ),
        (
            json!({"drugs": [{"name": "x", "schedule": "2", "quantity": -1}]}),
            vec!["drugs[0].quantity"],
        ),
        (
            json!({"drugs": [{"name": "x", "schedule": "2", "quantity": 3}]}),
            vec!["drugs[0].unit"],
        ),
        (
            json!({"police_informed": false, "police_reference": "CRI/1"}),
            vec!["police_reference"],
        ),
        (
            json!({"description": "x".repeat(10_001)}),
            vec!["description"],
        ),
        (json!({"location": "  "}), vec!["location"]),
    ];
    for (patch, expected) in cases {
        let mut body = if patch.as_object().unwrap().is_empty() {
            json!({})
        } else {
            incident()
        };
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app
            .post("/api/v1/incidents")
            .token(&u)
            .json(&body)
            .send()
            .await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.error_fields(), expected, "for {patch}");
    }
    // A value of the wrong type names its path.
    let mut body = incident();
    body["drugs"][0]["quantity"] = json!("twenty");
    let r = app
        .post("/api/v1/incidents")
        .token(&u)
        .json(&body)
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["drugs[0].quantity"]);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM cases")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing half-written");
}

#[tokio::test]
async fn nhs_numbers_and_registration_numbers_are_checked() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let cases: Vec<(Value, &str)> = vec![
        (json!({"nhs_number": "943 476 5918"}), "person.nhs_number"),
        (json!({"nhs_number": "12345"}), "person.nhs_number"),
        (
            json!({"registrations": [{"register": "gmc", "number": "123456"}]}),
            "person.registrations[0].number",
        ),
        (
            json!({"registrations": [{"register": "gphc", "number": "1234567"}]}),
            "person.registrations[0].number",
        ),
        (
            json!({"registrations": [{"register": "nmc", "number": "7A12998E"}]}),
            "person.registrations[0].number",
        ),
        (
            json!({"registrations": [{"register": "hcpc", "number": "12345"}]}),
            "person.registrations[0].number",
        ),
        (
            json!({"registrations": [{"register": "gdc", "number": "ABC"}]}),
            "person.registrations[0].number",
        ),
        (
            json!({"registrations": [{"register": "gmx", "number": "1234567"}]}),
            "person.registrations[0].register",
        ),
        (
            json!({"date_of_birth": "2030-01-01"}),
            "person.date_of_birth",
        ),
        (json!({"full_name": ""}), "person.full_name"),
    ];
    for (patch, field) in cases {
        let mut body = person_concern();
        for (k, v) in patch.as_object().unwrap() {
            body["person"][k] = v.clone();
        }
        let r = app
            .post("/api/v1/person-concerns")
            .token(&u)
            .json(&body)
            .send()
            .await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.error_fields(), vec![field], "for {patch}");
    }
    // Good numbers in their usual shapes are accepted.
    for (register, number) in [
        ("gmc", "1234567"),
        ("gphc", "2012345"),
        ("nmc", "71a2998e"),
        ("hcpc", "PH123456"),
        ("gdc", "81234"),
    ] {
        let mut body = person_concern();
        body["person"]["registrations"] = json!([{"register": register, "number": number}]);
        app.post("/api/v1/person-concerns")
            .token(&u)
            .json(&body)
            .send()
            .await
            .assert_status(StatusCode::CREATED);
    }
    let r = app
        .post("/api/v1/person-concerns")
        .token(&u)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(
        r.error_fields(),
        vec![
            "subject_type",
            "person.full_name",
            "concern_categories",
            "provenance",
            "status",
            "description"
        ]
    );
}

#[tokio::test]
async fn a_retried_submission_never_makes_a_second_case() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let send = |key: &'static str, body: Value| {
        let app = &app;
        let u = u.clone();
        async move {
            app.post("/api/v1/incidents")
                .token(&u)
                .header("idempotency-key", key)
                .json(&body)
                .send()
                .await
        }
    };
    let a = send("retry-1", incident()).await;
    a.assert_status(StatusCode::CREATED);
    let b = send("retry-1", incident()).await;
    b.assert_status(StatusCode::CREATED);
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(a.json()["reference"], b.json()["reference"]);
    let mut other = incident();
    other["location"] = json!("Somewhere else");
    send("retry-1", other)
        .await
        .assert_status(StatusCode::CONFLICT);
    // Many at once with one key: one case.
    let mut handles = Vec::new();
    for _ in 0..8 {
        let router = app.router.clone();
        let token = u.token.clone();
        handles.push(tokio::spawn(async move {
            use tower::ServiceExt;
            let req = axum::http::Request::post("/api/v1/incidents")
                .header("authorization", format!("Bearer {token}"))
                .header("idempotency-key", "burst")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(incident().to_string()))
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), StatusCode::CREATED);
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM cases")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 2);
    // The key is the caller's own: another user with the same key makes their own case.
    let other_user = app.world.user("org_lead").clone();
    let r = app
        .post("/api/v1/incidents")
        .token(&other_user)
        .header("idempotency-key", "retry-1")
        .json(&incident())
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_ne!(r.json()["id"], a.json()["id"]);
}

/// While the database cannot be reached a report is answered 503 with `Retry-After` (never a
/// 201 for something not stored) and nothing is half-written; once it is back, the retry with
/// the same `Idempotency-Key` files the report exactly once.
#[tokio::test]
async fn a_report_sent_while_the_database_is_down_is_refused_for_retry_then_filed_once() {
    use tower::ServiceExt;
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    // Another instance of the service, whose database has gone away.
    let gone = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy_with((*app.pool.connect_options()).clone());
    gone.close().await;
    let config = crate::harness::test_config();
    let down = cdconcerns::state::AppState::new(
        gone,
        config.clone(),
        app.clock.clone(),
        config.identity_key.as_ref().unwrap(),
        config.index_key.clone().unwrap(),
    );
    let req = axum::http::Request::post("/api/v1/incidents")
        .header("host", "cdc.test")
        .header("authorization", format!("Bearer {}", u.token))
        .header("idempotency-key", "outage-1")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(incident().to_string()))
        .unwrap();
    let res = cdconcerns::web::build_router(down)
        .oneshot(req)
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().get("retry-after").is_some());
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let cases = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM cases")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    assert_eq!(cases().await, 0);
    // Back: the client's retry files it, and a retry of the retry answers the same.
    let retry = || {
        app.post("/api/v1/incidents")
            .token(&u)
            .header("idempotency-key", "outage-1")
            .json(&incident())
            .send()
    };
    let first = retry().await;
    first.assert_status(StatusCode::CREATED);
    let again = retry().await;
    again.assert_status(StatusCode::CREATED);
    assert_eq!(first.json()["id"], again.json()["id"]);
    assert_eq!(cases().await, 1);
}

#[tokio::test]
async fn identities_are_sealed_at_rest_and_matched_by_blind_index() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let s = submit(&app, &u, "/api/v1/person-concerns", &person_concern()).await;
    // The reporter sees what they entered.
    let c = app
        .get(&format!("/api/v1/cases/{}", s["id"].as_str().unwrap()))
        .token(&u)
        .send()
        .await
        .json();
    let p = &c["persons"][0];
    assert_eq!(p["full_name"], "Dr Jonathan Example-Smith");
    assert_eq!(p["nhs_number"], "9434765919");
    assert_eq!(
        p["registrations"],
        json!([{"register": "gmc", "number": "1234567"}])
    );
    assert_eq!(c["report"]["status"], "alleged");
    assert!(
        c["report"].get("person").is_none(),
        "the kept report holds no identity"
    );
    // No table holds the name, NHS number, GMC number or date of birth in the clear.
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let mut su = app.superuser().await;
    for t in tables {
        for needle in [
            "Example-Smith",
            "Jonathan",
            "9434765919",
            "943 476 5919",
            "1234567",
            "1970-01-31",
            "Riverside Medical",
        ] {
            let sql = format!("SELECT count(*) FROM {t} x WHERE x::text ILIKE '%' || $1 || '%'");
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(needle)
                .fetch_one(&mut su)
                .await
                .unwrap();
            assert_eq!(n, 0, "{needle} found in table {t}");
        }
    }
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM person_identifiers ORDER BY kind")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["gmc", "name_and_date_of_birth", "nhs_number"]);
    // The same person reported again, written differently, lands on the same indexes.
    let mut again = person_concern();
    again["person"]["full_name"] = json!("JONATHAN  EXAMPLE SMITH");
    again["person"]["nhs_number"] = json!("9434765919");
    submit(&app, &u, "/api/v1/person-concerns", &again).await;
    let shared: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT kind, digest FROM person_identifiers GROUP BY kind, digest HAVING count(*) = 2) x",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(shared, 3);
    // Viewing identities is recorded, with the purpose.
    let purpose: String = sqlx::query_scalar(
        "SELECT details->>'purpose' FROM audit_events WHERE action = 'case.identity_viewed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(purpose, "own report");
}

#[tokio::test]
async fn reports_are_seen_only_as_the_access_matrix_says() {
    let app = TestApp::new().await;
    let w = &app.world;
    let reporter = w.user("reporter").clone();
    let s = submit(
        &app,
        &reporter,
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await;
    let id = s["id"].as_str().unwrap().to_string();
    let colleague = app
        .create_user(
            "colleague",
            cdconcerns::domain::directory::Role::Reporter,
            Some(w.pharmacy_gm),
            vec![],
        )
        .await;
    for (who, status) in [
        ("reporter", 200),
        ("org_lead", 200),
        ("cdao", 200),
        ("reporter_london", 404),
        ("cdao_london", 404),
        ("member", 404),
        ("admin", 404),
        ("auditor", 404),
        ("analyst", 404),
    ] {
        let r = app
            .get(&format!("/api/v1/cases/{id}"))
            .token(w.user(who))
            .send()
            .await;
        assert_eq!(r.status.as_u16(), status, "{who}");
    }
    app.get(&format!("/api/v1/cases/{id}"))
        .token(&colleague)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let count = |v: Value| v["items"].as_array().unwrap().len();
    assert_eq!(
        count(
            app.get("/api/v1/cases")
                .token(&reporter)
                .send()
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(
            app.get("/api/v1/cases")
                .token(&colleague)
                .send()
                .await
                .json()
        ),
        0
    );
    assert_eq!(
        count(
            app.get("/api/v1/cases")
                .token(w.user("org_lead"))
                .send()
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(
            app.get("/api/v1/cases")
                .token(w.user("cdao"))
                .send()
                .await
                .json()
        ),
        1
    );
    assert_eq!(
        count(
            app.get("/api/v1/cases")
                .token(w.user("cdao_london"))
                .send()
                .await
                .json()
        ),
        0
    );
    for who in ["member", "admin", "auditor", "analyst"] {
        app.get("/api/v1/cases")
            .token(w.user(who))
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    // The CDAO views for case review.
    let purposes: Vec<String> = sqlx::query_scalar("SELECT details->>'purpose' FROM audit_events WHERE action = 'case.identity_viewed' ORDER BY at, id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert!(purposes.contains(&"case review".to_string()));
}

#[tokio::test]
async fn the_case_list_filters_and_pages() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    for i in 0..5 {
        let mut b = incident();
        b["harm"] = json!(if i % 2 == 0 { "none" } else { "low" });
        b["description"] = json!(format!("Incident number {i} with a missing balance"));
        submit(&app, &u, "/api/v1/incidents", &b).await;
        app.clock.advance(chrono::TimeDelta::seconds(1));
    }
    submit(&app, &u, "/api/v1/person-concerns", &person_concern()).await;
    let cdao = app.world.user("cdao").clone();
    let v = app
        .get("/api/v1/cases?kind=incident&harm=low")
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    let v = app
        .get("/api/v1/cases?q=CD-2026-000003")
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(v["items"][0]["reference"], "CD-2026-000003");
    let v = app
        .get("/api/v1/cases?q=oxycodone%20family")
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["kind"], "person_concern");
    let mut seen = Vec::new();
    let mut url = "/api/v1/cases?limit=2".to_string();
    loop {
        let v = app.get(&url).token(&cdao).send().await.json();
        seen.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["reference"].as_str().unwrap().to_string()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/cases?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], "CD-2026-000006", "newest first");
    let bad = app
        .get("/api/v1/cases?status=open&harm=bad&limit=900&from=yesterday")
        .token(&cdao)
        .send()
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), vec!["status", "harm", "from", "limit"]);
}

#[tokio::test]
async fn corrections_are_appended_and_the_report_never_changes() {
    let app = TestApp::new().await;
    let w = &app.world;
    let u = w.user("reporter").clone();
    let s = submit(&app, &u, "/api/v1/incidents", &incident()).await;
    let id = s["id"].as_str().unwrap();
    let before = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(&u)
        .send()
        .await
        .json()["report"]
        .clone();
    let r = app
        .post(&format!("/api/v1/cases/{id}/amendments"))
        .token(&u)
        .json(&json!({"text": "It was 26 tablets, not 28."}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    app.post(&format!("/api/v1/cases/{id}/amendments"))
        .token(w.user("org_lead"))
        .json(&json!({"text": "CD lead: confirmed."}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    app.post(&format!("/api/v1/cases/{id}/amendments"))
        .token(w.user("cdao"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post(&format!("/api/v1/cases/{id}/amendments"))
        .token(w.user("reporter_london"))
        .json(&json!({"text": "x"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let r = app
        .post(&format!("/api/v1/cases/{id}/amendments"))
        .token(&u)
        .json(&json!({"text": " "}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["text"]);
    let c = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(&u)
        .send()
        .await
        .json();
    assert_eq!(c["report"], before);
    assert_eq!(c["amendments"].as_array().unwrap().len(), 2);
    assert_eq!(c["amendments"][0]["text"], "It was 26 tablets, not 28.");
    // Not even the database owner can rewrite the report.
    let mut su = app.superuser().await;
    let e = sqlx::query("UPDATE cases SET report = '{}'")
        .execute(&mut su)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot be changed"), "{e}");
    assert!(
        app.audit_actions()
            .await
            .contains(&"case.amended".to_string())
    );
}

fn multipart(filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "cdcboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn evidence_is_checked_by_content_sealed_and_served_only_as_a_download() {
    let app = TestApp::new().await;
    let w = &app.world;
    let u = w.user("reporter").clone();
    let s = submit(&app, &u, "/api/v1/incidents", &incident()).await;
    let id = s["id"].as_str().unwrap();
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\nSECRET-EVIDENCE-TEXT\n%%EOF".to_vec();
    let (ct, body) = multipart("register page.pdf", &pdf);
    let r = app
        .post(&format!("/api/v1/cases/{id}/attachments"))
        .token(&u)
        .raw(&ct, body)
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let att = r.json();
    assert_eq!(att["content_type"], "application/pdf");
    let att_id = att["id"].as_str().unwrap();
    // A program dressed as a PDF, a file too large, no file at all.
    let (ct, body) = multipart("invoice.pdf", b"MZ\x90\x00 this is an executable");
    let r = app
        .post(&format!("/api/v1/cases/{id}/attachments"))
        .token(&u)
        .raw(&ct, body)
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["file"]);
    let (ct, body) = multipart("big.txt", &vec![b'a'; 10 * 1024 * 1024 + 1]);
    app.post(&format!("/api/v1/cases/{id}/attachments"))
        .token(&u)
        .raw(&ct, body)
        .send()
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    app.post(&format!("/api/v1/cases/{id}/attachments"))
        .token(&u)
        .json(&json!({}))
        .send()
        .await
        .assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Those who may see the case may download it; nobody else knows it exists.
    let dl = app
        .get(&format!("/api/v1/cases/{id}/attachments/{att_id}"))
        .token(w.user("cdao"))
        .send()
        .await;
    dl.assert_status(StatusCode::OK);
    assert_eq!(dl.body, pdf);
    assert!(
        dl.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(dl.header("content-type"), Some("application/pdf"));
    for who in ["cdao_london", "member", "admin", "reporter_london"] {
        app.get(&format!("/api/v1/cases/{id}/attachments/{att_id}"))
            .token(w.user(who))
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    let stored: Vec<u8> = sqlx::query_scalar("SELECT data_enc FROM attachments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!stored.windows(20).any(|w| w == b"SECRET-EVIDENCE-TEXT"));
    let c = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(&u)
        .send()
        .await
        .json();
    assert_eq!(c["attachments"][0]["filename"], "register page.pdf");
}

#[tokio::test]
async fn an_org_lead_files_quarterly_returns_and_corrections_are_kept() {
    let app = TestApp::new().await;
    let w = &app.world;
    let lead = w.user("org_lead").clone();
    let body = json!({"year": 2026, "quarter": 3, "nil_return": false, "counts": {"stock_discrepancy": 3, "lost_missing": 1}, "declaration": true});
    let r = app
        .post("/api/v1/occurrence-returns")
        .token(&lead)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["version"], 1);
    let corrected = json!({"year": 2026, "quarter": 3, "nil_return": false, "counts": {"stock_discrepancy": 4}, "declaration": true});
    let r = app
        .post("/api/v1/occurrence-returns")
        .token(&lead)
        .json(&corrected)
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["version"], 2);
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM occurrence_return_versions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept, 1);
    let nil = json!({"year": 2026, "quarter": 2, "nil_return": true, "declaration": true});
    app.post("/api/v1/occurrence-returns")
        .token(&lead)
        .json(&nil)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let bad = json!({"year": 2026, "quarter": 4, "nil_return": true, "counts": {"lost_missing": 2, "bogus": 1}});
    let r = app
        .post("/api/v1/occurrence-returns")
        .token(&lead)
        .json(&bad)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.error_fields(),
        vec!["counts.bogus", "nil_return", "declaration"]
    );
    let future = json!({"year": 2027, "quarter": 1, "nil_return": true, "declaration": true});
    assert_eq!(
        app.post("/api/v1/occurrence-returns")
            .token(&lead)
            .json(&future)
            .send()
            .await
            .error_fields(),
        vec!["year"]
    );
    app.post("/api/v1/occurrence-returns")
        .token(w.user("reporter"))
        .json(&nil)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let mine = app
        .get("/api/v1/occurrence-returns")
        .token(&lead)
        .send()
        .await
        .json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    let cdao = app
        .get("/api/v1/occurrence-returns?year=2026")
        .token(w.user("cdao"))
        .send()
        .await
        .json();
    assert_eq!(cdao["items"].as_array().unwrap().len(), 2);
    let london = app
        .get("/api/v1/occurrence-returns")
        .token(w.user("cdao_london"))
        .send()
        .await
        .json();
    assert_eq!(london["items"].as_array().unwrap().len(), 0);
    app.get("/api/v1/occurrence-returns")
        .token(w.user("member"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"occurrence_return.filed".to_string())
            && actions.contains(&"occurrence_return.corrected".to_string())
    );
}
