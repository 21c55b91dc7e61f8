//! Issue 11: work waiting in `GET /api/v1/me`, the capped total of the case list, partial
//! references, the "Not assigned" filter, and a request for information that does not mark
//! the case triaged.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::TestApp;
use crate::reports::{incident, submit};

async fn new_case(app: &TestApp, who: &str) -> serde_json::Value {
    submit(app, app.world.user(who), "/api/v1/incidents", &incident()).await
}

#[tokio::test]
async fn me_counts_the_work_waiting_for_each_role() {
    let app = TestApp::new().await;
    let c = new_case(&app, "reporter").await;
    let id = c["id"].as_str().unwrap();
    let me = |who: &'static str| {
        let app = &app;
        async move {
            let r = app
                .get("/api/v1/me")
                .token(app.world.user(who))
                .send()
                .await;
            r.assert_status(StatusCode::OK);
            r.json()["waiting"].clone()
        }
    };
    let w = me("cdao").await;
    assert_eq!(w["new_cases"], 1, "{w}");
    assert_eq!(w["overdue"], 0);
    assert_eq!(w["shares_to_approve"], 0);
    assert_eq!(w["access_requests"], 0);
    assert_eq!(w["member_responses"], 0);
    assert!(w.get("unread_alerts").is_none());
    assert_eq!(me("member").await, json!({"unread_alerts": 0}));
    assert_eq!(me("reporter").await, json!({"questions_to_answer": 0}));
    assert_eq!(me("admin").await, json!({}));
    // A question to the reporter: waiting for them, and the case is not marked triaged.
    app.post(&format!("/api/v1/cases/{id}/messages"))
        .token(app.world.user("cdao"))
        .json(&json!({"body": "Which shift found it?", "request_information": true}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    assert_eq!(me("reporter").await, json!({"questions_to_answer": 1}));
    assert_eq!(me("cdao").await["new_cases"], 0);
    let case = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(app.world.user("cdao"))
        .send()
        .await
        .json();
    assert_eq!(case["status"], "awaiting_information");
    assert!(case["triage"]["triaged_at"].is_null(), "{case}");
}

#[tokio::test]
async fn the_case_list_has_a_total_and_finds_partial_references_and_unassigned_cases() {
    let app = TestApp::new().await;
    let a = new_case(&app, "reporter").await;
    new_case(&app, "reporter").await;
    let list = |q: &str| {
        let app = &app;
        let q = q.to_string();
        async move {
            let r = app
                .get(&format!("/api/v1/cases?{q}"))
                .token(app.world.user("cdao"))
                .send()
                .await;
            r.assert_status(StatusCode::OK);
            r.json()
        }
    };
    let all = list("limit=1").await;
    assert_eq!(all["total"], 2, "{all}");
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    let reference = a["reference"].as_str().unwrap();
    let tail = &reference[reference.len() - 6..];
    let found = list(&format!("q={tail}")).await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["reference"], reference);
    let unassigned = list("assignee_id=none").await;
    assert_eq!(unassigned["total"], 2);
    // A reporter's total covers their own reports only.
    let r = app
        .get("/api/v1/cases")
        .token(app.world.user("reporter"))
        .send()
        .await
        .json();
    assert_eq!(r["total"], 2, "{r}");
}
