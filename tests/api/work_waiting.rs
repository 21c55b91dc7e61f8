//! Issue 11: work waiting in `GET /api/v1/me`, the capped total of the case list, partial
//! references, the "Not assigned" filter, and a request for information that does not mark
//! the case triaged.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::TestApp;
use crate::reports::{incident, person_concern, submit};

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
    // The second page (a cursor) still says the whole list's total, and a page that holds
    // the whole list (its total taken from the page itself) says the same.
    let cursor = all["next_cursor"].as_str().expect("a second page");
    let second = list(&format!("limit=1&cursor={cursor}")).await;
    assert_eq!(second["total"], 2, "{second}");
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert!(second["next_cursor"].is_null(), "{second}");
    assert_eq!(list("limit=2").await["total"], 2);
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

#[tokio::test]
async fn the_case_list_total_stops_counting_after_a_thousand() {
    let app = TestApp::new().await;
    let c = new_case(&app, "reporter").await;
    // A thousand more of the same report, each with its own id and reference.
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_name = 'cases' AND is_generated = 'NEVER' AND column_name NOT IN ('id', 'reference')
         ORDER BY ordinal_position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let columns = columns.join(", ");
    let mut conn = app.superuser().await;
    // The column names come from the catalogue.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO cases (id, reference, {columns})
         SELECT gen_random_uuid(), 'CD-2026-' || (900000 + g)::text, {columns}
         FROM cases, generate_series(1, 1000) g WHERE id = $1"
    )))
    .bind(uuid::Uuid::parse_str(c["id"].as_str().unwrap()).unwrap())
    .execute(&mut conn)
    .await
    .unwrap();
    let total = |who: &'static str, q: String| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/api/v1/cases?{q}"))
                .token(app.world.user(who))
                .send()
                .await;
            r.assert_status(StatusCode::OK);
            r.json()["total"].clone()
        }
    };
    // 1,001 cases: more than the count goes to, for the team (its area's branch and the
    // shares' branch added) and for the reporter who filed them.
    assert_eq!(total("cdao", "limit=50".into()).await, "1000+");
    assert_eq!(total("cdao", "status=new&limit=5".into()).await, "1000+");
    assert_eq!(total("reporter", "limit=50".into()).await, "1000+");
    // Another area's team counts none of them.
    assert_eq!(total("cdao_london", "limit=50".into()).await, 0);
    // A thousand exactly is a number: at once for a list never counted past a thousand, and
    // for the lists that were (on any of their pages), once the few seconds they are
    // remembered for have passed.
    let first = app
        .get("/api/v1/cases?status=new&limit=5")
        .token(app.world.user("cdao"))
        .send()
        .await
        .json();
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    sqlx::query("DELETE FROM cases WHERE id = $1")
        .bind(uuid::Uuid::parse_str(c["id"].as_str().unwrap()).unwrap())
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(total("cdao", "kind=incident&limit=50".into()).await, 1000);
    assert_eq!(total("cdao", "limit=50".into()).await, "1000+");
    assert_eq!(
        total("cdao", format!("status=new&limit=5&cursor={cursor}")).await,
        "1000+"
    );
    app.clock.advance(chrono::TimeDelta::seconds(5));
    assert_eq!(total("cdao", "limit=50".into()).await, 1000);
    let page = app
        .get("/cases")
        .session(app.world.user("cdao"))
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.text().contains("1,000 cases in all"),
        "the page says the total"
    );
}

#[tokio::test]
async fn the_cdao_team_finds_people_through_the_blind_indexes_and_nobody_else_learns_a_thing() {
    let app = TestApp::new().await;
    let ours = submit(
        &app,
        app.world.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await;
    // The same person reported in London: the Greater Manchester team never finds it.
    submit(
        &app,
        app.world.user("reporter_london"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await;
    new_case(&app, "reporter").await;
    let total = |who: &'static str, q: &'static str| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/api/v1/cases?q={}", q.replace(' ', "%20")))
                .token(app.world.user(who))
                .send()
                .await;
            r.assert_status(StatusCode::OK);
            let body = r.json();
            (body["total"].clone(), body["items"].clone())
        }
    };
    for q in [
        "943 476 5919",
        "943-476-5919",
        "9434765919",
        "GMC 1234567",
        "1234567",
        "Jonathan Example-Smith 31/01/1970",
        "dr jonathan example smith 1970-01-31",
        "Jonathan Example-Smith 31 January 1970",
    ] {
        let (n, items) = total("cdao", q).await;
        assert_eq!(n, 1, "{q}: {items}");
        assert_eq!(items[0]["id"], ours["id"], "{q}");
    }
    // A name without its date of birth, or a wrong date, is not a person.
    assert_eq!(total("cdao", "Jonathan Example-Smith").await.0, 0);
    assert_eq!(
        total("cdao", "Jonathan Example-Smith 30/01/1970").await.0,
        0
    );
    // The other area's team finds only its own report.
    let (n, items) = total("cdao_london", "943 476 5919").await;
    assert_eq!(n, 1);
    assert_ne!(items[0]["id"], ours["id"]);
    // Nobody else's words reach the indexes: the reporter who made the report, their
    // organisation's lead and a member all find nothing by the person's identifiers.
    for who in ["reporter", "org_lead", "member"] {
        for q in [
            "943 476 5919",
            "GMC 1234567",
            "Jonathan Example-Smith 31/01/1970",
        ] {
            let r = app
                .get(&format!("/api/v1/cases?q={}", q.replace(' ', "%20")))
                .token(app.world.user(who))
                .send()
                .await;
            if r.status == StatusCode::OK {
                assert_eq!(r.json()["total"], 0, "{who}: {q}");
            } else {
                r.assert_status(StatusCode::FORBIDDEN);
            }
        }
    }
    // The page finds it the same way.
    let page = app
        .get("/cases?q=943%20476%205919")
        .session(app.world.user("cdao"))
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.text().contains(ours["reference"].as_str().unwrap()),
        "the case list page finds the person"
    );
    // The words are kept nowhere: not in the audit trail.
    let kept: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE details::text LIKE '%9434765919%' OR details::text LIKE '%943 476 5919%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(kept, 0);
}
