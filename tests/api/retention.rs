//! Kept no longer than needed, and fair to the person named (issue 10): case data retention,
//! outcomes passed on to recipients.

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

use cdconcerns::domain::directory::Role;
use cdconcerns::domain::retention::Periods;

use crate::harness::{TestApp, TestUser};
use crate::reports::{incident, person_concern, submit};

const PERIODS: Periods = Periods {
    years: 10,
    unfounded_years: 2,
};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn close(app: &TestApp, cdao: &TestUser, case: &str, well_founded: &str) {
    app.post(&format!("/api/v1/cases/{case}/close"))
        .token(cdao)
        .json(&json!({"outcome": "local_learning", "well_founded": well_founded, "note": "Closed after review of Jane Doe"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
}

fn share(app: &TestApp, disclosure: &str) -> Value {
    json!({"organisation_ids": [app.world.police_gm], "disclosure": disclosure,
           "lawful_basis": "public_task_health_care", "purpose": "Secret purpose text",
           "summary": "Secret summary text", "action_required": "for_information"})
}

async fn upload(app: &TestApp, who: &TestUser, case: &str) {
    let boundary = "cdcretentionboundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"jane doe.pdf\"\r\n\r\n%PDF-1.4\nSECRET\n%%EOF\r\n--{boundary}--\r\n"
    );
    app.post(&format!("/api/v1/cases/{case}/attachments"))
        .token(who)
        .raw(&format!("multipart/form-data; boundary={boundary}"), body)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
}

async fn stats(app: &TestApp, who: &TestUser) -> Vec<Value> {
    let mut all = Vec::new();
    for g in [
        "category", "harm", "month", "kind", "status", "sector", "schedule",
    ] {
        all.push(
            app.get(&format!("/api/v1/stats?group_by={g}"))
                .token(who)
                .send()
                .await
                .json(),
        );
    }
    all
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn retention_removes_exactly_what_it_says_keeps_statistics_and_a_dry_run_changes_nothing() {
    let app = TestApp::new().await;
    let w = &app.world;
    let reporter = w.user("reporter").clone();
    let cdao = w.user("cdao").clone();
    let member = w.user("member").clone();
    let cdao2 = app
        .create_user("cdao2", Role::Cdao, Some(w.nhse_nw), vec![w.gm])
        .await;
    // A: an incident with an amendment, a message, evidence, a share and a member's response;
    // closed. B: a person of concern closed as not well founded. C: open. D: closed, with a
    // share still waiting for approval. E: a person of concern closed as well founded.
    let a = id(&submit(&app, &reporter, "/api/v1/incidents", &incident()).await);
    app.post(&format!("/api/v1/cases/{a}/amendments"))
        .token(&reporter)
        .json(&json!({"text": "Jane Doe was on shift."}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    app.post(&format!("/api/v1/cases/{a}/messages"))
        .token(&cdao)
        .json(&json!({"body": "Which register page?"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    upload(&app, &reporter, &a).await;
    app.post(&format!("/api/v1/cases/{a}/shares"))
        .token(&cdao)
        .json(&share(&app, "summary"))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let alert = app.get("/api/v1/alerts").token(&member).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/alerts/{alert}/responses"))
        .token(&member)
        .json(&json!({"body": "We spoke to Jane Doe."}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    close(&app, &cdao, &a, "undetermined").await;
    let b = id(&submit(
        &app,
        &reporter,
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    close(&app, &cdao, &b, "no").await;
    let c = id(&submit(&app, &reporter, "/api/v1/incidents", &incident()).await);
    let d = id(&submit(
        &app,
        &reporter,
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    app.post(&format!("/api/v1/cases/{d}/shares"))
        .token(&cdao)
        .json(&share(&app, "identified"))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    close(&app, &cdao, &d, "yes").await;
    let e = id(&submit(
        &app,
        &reporter,
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    close(&app, &cdao, &e, "yes").await;

    // Three years on: only the unfounded allegation is past its period.
    app.clock.advance(TimeDelta::days(3 * 366));
    let now = app.state.now();
    let dry = cdconcerns::retention::run(&app.pool, PERIODS, now, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dry.removed.cases, 1);
    assert_eq!(dry.references.len(), 1);
    // Eleven years on: everything closed is past its period, but D waits for its open share.
    app.clock.advance(TimeDelta::days(8 * 366));
    let now = app.state.now();
    let viewer = app
        .create_user("cdao_later", Role::Cdao, Some(w.nhse_nw), vec![w.gm])
        .await;
    let before = stats(&app, &viewer).await;
    let snapshot = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
                   SELECT report::text || coalesce(details_removed_at::text, '') AS x FROM cases
                   UNION ALL SELECT coalesce(encode(identity_enc, 'hex'), 'null') FROM persons
                   UNION ALL SELECT text FROM case_amendments
                   UNION ALL SELECT data::text FROM case_events
                   UNION ALL SELECT coalesce(encode(data_enc, 'hex'), 'null') FROM attachments
                   UNION ALL SELECT purpose || summary FROM shares
                   UNION ALL SELECT body FROM alert_responses
                   UNION ALL SELECT encode(digest, 'hex') FROM person_identifiers) t",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let untouched = snapshot(&app).await;
    let dry = cdconcerns::retention::run(&app.pool, PERIODS, now, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snapshot(&app).await, untouched, "a dry run changes nothing");
    assert_eq!(dry.removed.cases, 3, "{dry}");
    assert_eq!(dry.waiting, 1, "the case with an open share waits");
    let printed = dry.to_string();
    assert!(printed.starts_with("Would remove: "), "{printed}");
    for secret in ["Jane", "Example-Smith", "1234567"] {
        assert!(!printed.contains(secret), "{secret} in: {printed}");
    }
    let audits = count(
        &app,
        "SELECT count(*) FROM audit_events WHERE action = 'retention.run'",
    )
    .await;
    assert_eq!(audits, 0, "a dry run records nothing");

    let run = cdconcerns::retention::run(&app.pool, PERIODS, now, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.removed, dry.removed, "it removes what the dry run said");
    assert_eq!(run.removed.identities, 2);
    assert_eq!(run.removed.evidence_files, 1);
    assert_eq!(run.removed.responses, 1);
    assert_eq!(
        stats(&app, &viewer).await,
        before,
        "statistics do not change"
    );
    // What went, and what stayed.
    let texts = count(
        &app,
        "SELECT count(*) FROM (
           SELECT report::text AS t FROM cases UNION ALL SELECT text FROM case_amendments
           UNION ALL SELECT data::text FROM case_events UNION ALL SELECT body FROM alert_responses
           UNION ALL SELECT purpose || summary FROM shares) x
         WHERE t LIKE '%Jane Doe%' OR t LIKE '%Which register page%' OR t LIKE '%Secret summary text%'
            OR t LIKE '%Repeated prescriptions%'",
    )
    .await;
    // Only the waiting case D keeps its texts (its description and its share's).
    assert_eq!(texts, 3);
    let identities = count(
        &app,
        "SELECT count(*) FROM persons WHERE identity_enc IS NOT NULL",
    )
    .await;
    assert_eq!(identities, 1, "only D keeps its person");
    let indexes = count(
        &app,
        &format!("SELECT count(*) FROM person_identifiers WHERE case_id <> '{d}'"),
    )
    .await;
    assert_eq!(indexes, 0);
    let open = app
        .get(&format!("/api/v1/cases/{c}"))
        .token(&viewer)
        .send()
        .await
        .json();
    assert!(
        open.get("details_removed_at").is_none(),
        "an open case is untouched"
    );
    let removed = app
        .get(&format!("/api/v1/cases/{a}"))
        .token(&viewer)
        .send()
        .await
        .json();
    assert!(removed["details_removed_at"].is_string());
    assert_eq!(
        removed["report"]["categories"],
        json!(["theft_or_diversion", "stock_discrepancy"])
    );
    assert!(removed["report"].get("description").is_none());
    assert_eq!(removed["attachments"], json!([]));
    let page = app
        .get(&format!("/cases/{a}"))
        .session(&viewer)
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("Details removed on"));
    let reporter_later = app
        .create_user(
            "reporter_later",
            Role::Reporter,
            Some(w.pharmacy_gm),
            vec![],
        )
        .await;
    let _ = reporter_later;
    // One audit event with the counts; the chain still verifies.
    let (details,): (Value,) =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = 'retention.run'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(details["removed"]["cases"], 3);
    let auditor = app
        .create_user("auditor_later", Role::Auditor, None, vec![])
        .await;
    let v = app
        .get("/api/v1/audit/verify")
        .token(&auditor)
        .send()
        .await
        .json();
    assert_eq!(v["ok"], true);
    let _ = (b, e, cdao2);
    // Nothing more to do on a second run.
    let again = cdconcerns::retention::run(&app.pool, PERIODS, now, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.removed.cases, 0);
}

#[tokio::test]
async fn two_instances_never_run_the_daily_retention_twice() {
    let app = TestApp::new().await;
    // Due now (the migration made it due from when it ran, by the real clock).
    sqlx::query("UPDATE scheduled_jobs SET next_run_at = '2000-01-01'")
        .execute(&app.pool)
        .await
        .unwrap();
    let other = app.state.clone();
    let (x, y) = tokio::join!(
        cdconcerns::retention::run_if_due(&app.state),
        cdconcerns::retention::run_if_due(&other)
    );
    let ran = [x.unwrap(), y.unwrap()]
        .iter()
        .filter(|r| r.is_some())
        .count();
    assert_eq!(ran, 1);
    // Not again until tomorrow.
    assert!(
        cdconcerns::retention::run_if_due(&app.state)
            .await
            .unwrap()
            .is_none()
    );
    app.clock.advance(TimeDelta::days(1));
    assert!(
        cdconcerns::retention::run_if_due(&app.state)
            .await
            .unwrap()
            .is_some()
    );
    let runs = count(
        &app,
        "SELECT count(*) FROM audit_events WHERE action = 'retention.run'",
    )
    .await;
    assert_eq!(runs, 2);
}

#[tokio::test]
async fn members_are_told_when_a_concern_they_received_is_found_not_well_founded() {
    let app = TestApp::new().await;
    let w = &app.world;
    let cdao = w.user("cdao").clone();
    let member = w.user("member").clone();
    let gphc = app
        .create_user("gphc_member", Role::Member, Some(w.gphc), vec![])
        .await;
    let case = id(&submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    let mut to_both = share(&app, "summary");
    to_both["organisation_ids"] = json!([w.police_gm, w.gphc]);
    app.post(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .json(&to_both)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let shares = app
        .get(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(shares["items"].as_array().unwrap().len(), 1);
    let police_alert =
        app.get("/api/v1/alerts").token(&member).send().await.json()["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let before = app
        .get(&format!("/api/v1/alerts/{police_alert}"))
        .token(&member)
        .send()
        .await
        .json();
    assert!(before.get("case_outcome").is_none());
    close(&app, &cdao, &case, "no").await;
    let after = app
        .get(&format!("/api/v1/alerts/{police_alert}"))
        .token(&member)
        .send()
        .await
        .json();
    assert_eq!(after["case_outcome"]["well_founded"], "no");
    assert!(after["case_outcome"]["closed_at"].is_string());
    // Each member user of each recipient is told, by a notification with no content.
    let told: Vec<(uuid::Uuid, Option<uuid::Uuid>)> = sqlx::query_as(
        "SELECT user_id, subject_id FROM notification_outbox WHERE kind = 'case_outcome' ORDER BY user_id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut users: Vec<uuid::Uuid> = told.iter().map(|t| t.0).collect();
    users.sort();
    let mut expected = vec![member.id, gphc.id];
    expected.sort();
    assert_eq!(users, expected);
    // The CDAO sees who was told, on the timeline.
    let view = app
        .get(&format!("/api/v1/cases/{case}"))
        .token(&cdao)
        .send()
        .await
        .json();
    let event = view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "outcome_passed_on")
        .expect("the timeline says who was told")
        .clone();
    assert_eq!(
        event["data"]["organisation_ids"].as_array().unwrap().len(),
        2
    );
    let page = app
        .get(&format!("/cases/{case}"))
        .session(&cdao)
        .send()
        .await;
    assert!(page.text().contains("Outcome passed on"));
    let alert_page = app
        .get(&format!("/alerts/{police_alert}"))
        .session(&member)
        .send()
        .await;
    assert!(alert_page.text().contains("Well founded: no"));
    // A well-founded close tells nobody.
    let other = id(&submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    app.post(&format!("/api/v1/cases/{other}/shares"))
        .token(&cdao)
        .json(&share(&app, "summary"))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    close(&app, &cdao, &other, "yes").await;
    let n = count(
        &app,
        "SELECT count(*) FROM notification_outbox WHERE kind = 'case_outcome'",
    )
    .await;
    assert_eq!(n, 2);
}
