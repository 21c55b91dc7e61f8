//! CDAO triage: the status machine, requests for information, priority and targets, risk,
//! links, correlation across areas with access requests, statistics and the export.

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::reports::{incident, person_concern, submit};

async fn new_case(app: &TestApp, who: &str) -> String {
    submit(app, app.world.user(who), "/api/v1/incidents", &incident()).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn triage(app: &TestApp, who: &str, id: &str, body: Value) -> crate::harness::Resp {
    app.post(&format!("/api/v1/cases/{id}/triage"))
        .token(app.world.user(who))
        .json(&body)
        .send()
        .await
}

#[tokio::test]
async fn the_status_machine_refuses_illegal_moves_with_409() {
    let app = TestApp::new().await;
    let id = new_case(&app, "reporter").await;
    triage(&app, "cdao", &id, json!({"status": "investigating"}))
        .await
        .assert_status(StatusCode::CONFLICT);
    let r = triage(
        &app,
        "cdao",
        &id,
        json!({"status": "in_review", "priority": "high", "note": "Looks like diversion."}),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let c = r.json();
    assert_eq!(c["status"], "in_review");
    assert_eq!(c["priority"], "high");
    assert!(c["triage"]["triaged_at"].is_string());
    triage(&app, "cdao", &id, json!({"status": "new"}))
        .await
        .assert_status(StatusCode::CONFLICT);
    triage(&app, "cdao", &id, json!({"status": "closed"}))
        .await
        .assert_status(StatusCode::CONFLICT);
    triage(&app, "cdao", &id, json!({"status": "investigating"}))
        .await
        .assert_status(StatusCode::OK);
    let close = json!({"outcome": "referred_to_police", "well_founded": "yes", "note": "Crime reference given."});
    app.post(&format!("/api/v1/cases/{id}/close"))
        .token(app.world.user("cdao"))
        .json(&close)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/api/v1/cases/{id}/close"))
        .token(app.world.user("cdao"))
        .json(&close)
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    triage(&app, "cdao", &id, json!({"priority": "low"}))
        .await
        .assert_status(StatusCode::CONFLICT);
    let r = app
        .post(&format!("/api/v1/cases/{id}/reopen"))
        .token(app.world.user("cdao"))
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["reason"]);
    let r = app
        .post(&format!("/api/v1/cases/{id}/reopen"))
        .token(app.world.user("cdao"))
        .json(&json!({"reason": "New evidence"}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"], "in_review");
    app.post(&format!("/api/v1/cases/{id}/reopen"))
        .token(app.world.user("cdao"))
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    // Closing needs its outcome.
    let r = app
        .post(&format!("/api/v1/cases/{id}/close"))
        .token(app.world.user("cdao"))
        .json(&json!({"outcome": "shrug"}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["outcome", "well_founded"]);
    // Only a CDAO of the area triages; the reporter sees the case but may not (403); others 404.
    triage(&app, "reporter", &id, json!({"priority": "low"}))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    triage(&app, "cdao_london", &id, json!({"priority": "low"}))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    triage(&app, "member", &id, json!({"priority": "low"}))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let actions = app.audit_actions().await;
    for a in ["case.triaged", "case.closed", "case.reopened"] {
        assert!(actions.contains(&a.to_string()), "{a}");
    }
}

#[tokio::test]
async fn a_request_for_information_is_answered_by_the_reporter_and_the_case_comes_back() {
    let app = TestApp::new().await;
    let id = new_case(&app, "reporter").await;
    let cdao = app.world.user("cdao").clone();
    let reporter = app.world.user("reporter").clone();
    triage(
        &app,
        "cdao",
        &id,
        json!({"note": "Internal: check the GMC number."}),
    )
    .await
    .assert_status(StatusCode::OK);
    let r = app
        .post(&format!("/api/v1/cases/{id}/messages"))
        .token(&cdao)
        .json(&json!({"body": "Which shift found the discrepancy?", "request_information": true}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["status"], "awaiting_information");
    // The reporter sees the request and its status, never internal notes.
    let seen = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(&reporter)
        .send()
        .await
        .json();
    assert_eq!(seen["status"], "awaiting_information");
    let timeline = seen["timeline"].as_array().unwrap();
    assert!(
        timeline
            .iter()
            .any(|e| e["kind"] == "message" && e["data"]["request_information"] == true)
    );
    assert!(
        !timeline.iter().any(|e| e["kind"] == "note"),
        "internal notes stay internal"
    );
    assert!(seen.get("triage").is_none());
    // The reporter cannot ask for information, only answer.
    let r = app
        .post(&format!("/api/v1/cases/{id}/messages"))
        .token(&reporter)
        .json(&json!({"body": "x", "request_information": true}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["request_information"]);
    let r = app
        .post(&format!("/api/v1/cases/{id}/messages"))
        .token(&reporter)
        .json(&json!({"body": "The night shift."}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["status"], "in_review");
    let c = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(c["status"], "in_review");
    assert!(
        c["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "note")
    );
    // Others cannot write on the case.
    app.post(&format!("/api/v1/cases/{id}/messages"))
        .token(app.world.user("member"))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn priority_is_suggested_and_overdue_triage_stands_out() {
    let app = TestApp::new().await;
    let mut body = incident();
    body["harm"] = json!("death");
    let urgent = submit(&app, app.world.user("reporter"), "/api/v1/incidents", &body).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let routine = new_case(&app, "reporter").await;
    let cdao = app.world.user("cdao").clone();
    let c = app
        .get(&format!("/api/v1/cases/{urgent}"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(c["triage"]["priority_suggested"], "urgent");
    assert_eq!(c["triage"]["overdue"], false);
    // Submitted on Saturday 21 Nov 2026, so the clock starts on Monday at 09:00: urgent is due
    // Tuesday 09:00 (1 working day), the rest Wednesday 09:00 (2).
    app.clock.advance(TimeDelta::days(2) + TimeDelta::hours(1));
    let none = app
        .get("/api/v1/cases?overdue=true")
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    app.clock.advance(TimeDelta::days(1));
    let overdue = app
        .get("/api/v1/cases?overdue=true")
        .token(&cdao)
        .send()
        .await
        .json();
    let refs: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(refs, vec![urgent.as_str()]);
    app.clock.advance(TimeDelta::days(1));
    let overdue = app
        .get("/api/v1/cases?overdue=true")
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(overdue["items"].as_array().unwrap().len(), 2);
    // Triaging it takes it off the overdue list.
    triage(&app, "cdao", &routine, json!({"status": "in_review"}))
        .await
        .assert_status(StatusCode::OK);
    let overdue = app
        .get("/api/v1/cases?overdue=true")
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn assignment_risk_and_links_follow_the_rules() {
    let app = TestApp::new().await;
    let a = new_case(&app, "reporter").await;
    let b = new_case(&app, "reporter").await;
    let london = new_case(&app, "reporter_london").await;
    let cdao = app.world.user("cdao").clone();
    let r = triage(
        &app,
        "cdao",
        &a,
        json!({"assignee_id": app.world.user("cdao_london").id}),
    )
    .await;
    assert_eq!(r.error_fields(), vec!["assignee_id"]);
    let r = triage(
        &app,
        "cdao",
        &a,
        json!({"assignee_id": cdao.id, "risk": {"consequence": 4, "likelihood": 4}}),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let c = r.json();
    assert_eq!(c["triage"]["assignee_id"], cdao.id.to_string());
    assert_eq!(c["triage"]["risk"]["score"], 16);
    assert_eq!(c["triage"]["risk"]["grade"], "extreme");
    let r = triage(
        &app,
        "cdao",
        &a,
        json!({"risk": {"consequence": 6, "likelihood": 1}}),
    )
    .await;
    assert_eq!(r.error_fields(), vec!["risk"]);
    let mine = app
        .get(&format!("/api/v1/cases?assignee_id={}", cdao.id))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    // Links.
    let link = |other: &str, relation: &str| json!({"case_id": other, "relation": relation});
    app.post(&format!("/api/v1/cases/{b}/links"))
        .token(&cdao)
        .json(&link(&a, "duplicate_of"))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    app.post(&format!("/api/v1/cases/{b}/links"))
        .token(&cdao)
        .json(&link(&a, "related"))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let r = app
        .post(&format!("/api/v1/cases/{b}/links"))
        .token(&cdao)
        .json(&link(&london, "related"))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["case_id"]);
    let r = app
        .post(&format!("/api/v1/cases/{b}/links"))
        .token(&cdao)
        .json(&link(&b, "related"))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["case_id"]);
    let c = app
        .get(&format!("/api/v1/cases/{a}"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(c["triage"]["links"][0]["relation"], "duplicated_by");
}

#[tokio::test]
async fn reports_naming_the_same_person_are_connected_without_leaking_across_areas() {
    let app = TestApp::new().await;
    let w = &app.world;
    let mine = submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The same doctor, written differently, by the org lead; and by a London reporter by GMC number only.
    let mut again = person_concern();
    again["person"]["full_name"] = json!("jonathan example smith");
    again["person"]["nhs_number"] = Value::Null;
    let gm_match = submit(&app, w.user("org_lead"), "/api/v1/person-concerns", &again).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut london = person_concern();
    london["person"]["full_name"] = json!("J Smith");
    london["person"]["date_of_birth"] = Value::Null;
    london["person"]["nhs_number"] = Value::Null;
    let london_case = submit(
        &app,
        w.user("reporter_london"),
        "/api/v1/person-concerns",
        &london,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let unrelated = new_case(&app, "reporter").await;

    let cdao = w.user("cdao").clone();
    let m = app
        .get(&format!("/api/v1/cases/{mine}/matches"))
        .token(&cdao)
        .send()
        .await;
    m.assert_status(StatusCode::OK);
    let items = m.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{items:?}");
    let full = items
        .iter()
        .find(|i| i["case_id"] == gm_match.as_str())
        .unwrap();
    assert_eq!(full["matched_on"], json!(["gmc", "name_and_date_of_birth"]));
    assert!(
        full["case_reference"]
            .as_str()
            .unwrap()
            .starts_with("CD-2026-")
    );
    let hidden = items.iter().find(|i| i["case_id"].is_null()).unwrap();
    assert_eq!(hidden["area_name"], "London");
    assert!(hidden["case_reference"].is_null());
    assert_eq!(hidden["matched_on"], json!(["gmc"]));
    assert!(
        !m.text().contains(&london_case),
        "the hidden case's id never leaves"
    );
    let none = app
        .get(&format!("/api/v1/cases/{unrelated}/matches"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // Reporters see the case but never matches; others do not see the case.
    app.get(&format!("/api/v1/cases/{mine}/matches"))
        .token(w.user("reporter"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    for who in ["member", "admin", "analyst", "cdao_london"] {
        app.get(&format!("/api/v1/cases/{mine}/matches"))
            .token(w.user(who))
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }

    // GM asks London for access; London decides.
    let req = json!({"case_id": mine, "area_id": w.london, "reason": "Same GMC number reported in our area."});
    let r = app
        .post("/api/v1/access-requests")
        .token(&cdao)
        .json(&req)
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let request_id = r.json()["id"].as_str().unwrap().to_string();
    app.post("/api/v1/access-requests")
        .token(&cdao)
        .json(&req)
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let bad = json!({"case_id": mine, "area_id": w.gm, "reason": "x"});
    assert_eq!(
        app.post("/api/v1/access-requests")
            .token(&cdao)
            .json(&bad)
            .send()
            .await
            .error_fields(),
        vec!["area_id"]
    );
    app.get(&format!("/api/v1/cases/{london_case}"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The requester cannot approve their own request; declining needs a reason.
    app.post(&format!("/api/v1/access-requests/{request_id}/decide"))
        .token(&cdao)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let london_cdao = w.user("cdao_london").clone();
    let inbox = app
        .get("/api/v1/access-requests")
        .token(&london_cdao)
        .send()
        .await
        .json();
    assert_eq!(inbox["items"][0]["status"], "pending");
    let r = app
        .post(&format!("/api/v1/access-requests/{request_id}/decide"))
        .token(&london_cdao)
        .json(&json!({"decision": "decline"}))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["reason"]);
    let r = app
        .post(&format!("/api/v1/access-requests/{request_id}/decide"))
        .token(&london_cdao)
        .json(&json!({"decision": "approve"}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"], "approved");
    // Approval makes one identified share per matched case to the GM team, which waits for
    // a second London CDAO (the two-person rule) before the GM team sees anything.
    let share_ids = r.json()["share_ids"].as_array().unwrap().clone();
    assert_eq!(share_ids.len(), 1);
    app.post(&format!("/api/v1/access-requests/{request_id}/decide"))
        .token(&london_cdao)
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    app.get(&format!("/api/v1/cases/{london_case}"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let second = app
        .create_user(
            "cdao_london_2",
            cdconcerns::domain::directory::Role::Cdao,
            Some(w.nhse_london),
            vec![w.london],
        )
        .await;
    app.post(&format!(
        "/api/v1/shares/{}/approve",
        share_ids[0].as_str().unwrap()
    ))
    .token(&second)
    .send()
    .await
    .assert_status(StatusCode::OK);
    // Now the GM team sees the London case as the share allows, but may not triage it.
    let c = app
        .get(&format!("/api/v1/cases/{london_case}"))
        .token(&cdao)
        .send()
        .await;
    c.assert_status(StatusCode::OK);
    assert_eq!(c.json()["persons"][0]["full_name"], "J Smith");
    triage(&app, "cdao", &london_case, json!({"priority": "low"}))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // A team reading through a share sees what it carries: the share's terms, the facts
    // of the report without free text, no timeline and not the holding team's triage.
    let granted = app
        .get(&format!("/api/v1/cases/{london_case}"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert!(granted.get("triage").is_none());
    assert!(granted["priority"].is_null());
    assert!(granted.get("suggested_priority").is_none());
    assert_eq!(granted["share"]["share_id"], share_ids[0]);
    assert_eq!(granted["share"]["disclosure"], "identified");
    assert!(granted["report"].get("description").is_none(), "{granted}");
    assert_eq!(granted["timeline"], json!([]));
    assert_eq!(granted["amendments"], json!([]));
    let m = app
        .get(&format!("/api/v1/cases/{mine}/matches"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert!(
        m["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["case_id"].is_string())
    );
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"access_request.created".to_string())
            && actions.contains(&"access_request.approved".to_string())
    );
}

/// Matching is exact and explained: a namesake (same name, another date of birth, no shared
/// number) is no match, names in another order are no match, and marking a report as a
/// duplicate links the cases without merging the people in them.
#[tokio::test]
async fn a_namesake_is_not_a_match_and_a_duplicate_keeps_both_people() {
    let app = TestApp::new().await;
    let w = &app.world;
    let first = submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut namesake = person_concern();
    namesake["person"] = json!({"full_name": "Dr Jonathan Example-Smith", "date_of_birth": "1982-06-15",
        "nhs_number": null, "registrations": [{"register": "gmc", "number": "7654321"}],
        "prescriber_code": null, "job_role": "GP", "work_addresses": []});
    let namesake = submit(
        &app,
        w.user("org_lead"),
        "/api/v1/person-concerns",
        &namesake,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut reversed = person_concern();
    reversed["person"] = json!({"full_name": "Example-Smith Jonathan", "date_of_birth": "1970-01-31",
        "nhs_number": null, "registrations": [], "prescriber_code": null, "job_role": null,
        "work_addresses": []});
    submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &reversed,
    )
    .await;
    let cdao = w.user("cdao").clone();
    for case in [&first, &namesake] {
        let m = app
            .get(&format!("/api/v1/cases/{case}/matches"))
            .token(&cdao)
            .send()
            .await;
        m.assert_status(StatusCode::OK);
        assert_eq!(
            m.json()["items"],
            json!([]),
            "a namesake matched: {}",
            m.text()
        );
    }
    // The CDAO decides they are the same report: the cases are linked, each keeps its person.
    app.post(&format!("/api/v1/cases/{namesake}/links"))
        .token(&cdao)
        .json(&json!({"case_id": first, "relation": "duplicate_of"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let person = |case: &str| {
        let app = &app;
        let cdao = cdao.clone();
        let case = case.to_string();
        async move {
            let c = app
                .get(&format!("/api/v1/cases/{case}"))
                .token(&cdao)
                .send()
                .await
                .json();
            assert_eq!(c["persons"].as_array().unwrap().len(), 1, "{c}");
            (
                c["persons"][0]["date_of_birth"].clone(),
                c["persons"][0]["registrations"][0]["number"].clone(),
            )
        }
    };
    assert_eq!(
        person(&first).await,
        (json!("1970-01-31"), json!("1234567"))
    );
    assert_eq!(
        person(&namesake).await,
        (json!("1982-06-15"), json!("7654321"))
    );
}

#[tokio::test]
async fn the_cdao_sees_who_viewed_a_case() {
    let app = TestApp::new().await;
    let id = new_case(&app, "reporter").await;
    app.get(&format!("/api/v1/cases/{id}"))
        .token(app.world.user("org_lead"))
        .send()
        .await;
    app.get(&format!("/api/v1/cases/{id}"))
        .token(app.world.user("cdao"))
        .send()
        .await;
    let log = app
        .get(&format!("/api/v1/cases/{id}/access-log"))
        .token(app.world.user("cdao"))
        .send()
        .await;
    log.assert_status(StatusCode::OK);
    let items = log.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["actor_role"], "cdao");
    assert_eq!(items[0]["purpose"], "case review");
    assert_eq!(items[1]["purpose"], "organisation oversight");
    app.get(&format!("/api/v1/cases/{id}/access-log"))
        .token(app.world.user("reporter"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn statistics_are_scoped_and_small_numbers_are_suppressed_nationally() {
    let app = TestApp::new().await;
    for _ in 0..6 {
        new_case(&app, "reporter").await;
    }
    new_case(&app, "reporter_london").await;
    submit(
        &app,
        app.world.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await;
    let w = &app.world;
    let cdao = app
        .get("/api/v1/stats?group_by=category")
        .token(w.user("cdao"))
        .send()
        .await
        .json();
    let theft = cdao["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "theft_or_diversion")
        .unwrap();
    assert_eq!(theft["count"], 6);
    assert_eq!(
        theft["label"],
        "Theft or diversion (of CDs, CD keys or registers)"
    );
    let analyst = app
        .get("/api/v1/stats?group_by=kind")
        .token(w.user("analyst"))
        .send()
        .await
        .json();
    let items = analyst["items"].as_array().unwrap();
    let incidents = items.iter().find(|i| i["key"] == "incident").unwrap();
    assert_eq!(incidents["count"], 7);
    let persons = items.iter().find(|i| i["key"] == "person_concern").unwrap();
    assert!(persons["count"].is_null());
    assert_eq!(persons["suppressed"], true);
    let lead = app
        .get("/api/v1/stats?group_by=month")
        .token(w.user("org_lead"))
        .send()
        .await
        .json();
    assert_eq!(lead["items"][0]["key"], "2026-11");
    assert_eq!(lead["items"][0]["count"], 7);
    app.get(&format!("/api/v1/stats?area_id={}", w.london))
        .token(w.user("cdao"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    for who in ["member", "admin", "auditor"] {
        app.get("/api/v1/stats")
            .token(w.user(who))
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    let bad = app
        .get("/api/v1/stats?group_by=colour")
        .token(w.user("cdao"))
        .send()
        .await;
    assert_eq!(bad.error_fields(), vec!["group_by"]);
    // The export: the CDAO's areas, no identities, no free text.
    let csv = app
        .get("/api/v1/cases.csv?kind=person_concern")
        .token(w.user("cdao"))
        .send()
        .await;
    csv.assert_status(StatusCode::OK);
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    let text = csv.text();
    assert_eq!(text.lines().count(), 2);
    assert!(!text.contains("Example-Smith") && !text.contains("oxycodone for family"));
    app.get("/api/v1/cases.csv")
        .token(w.user("reporter"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
}
