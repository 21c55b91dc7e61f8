//! The findings of issue 8 ("Access you cannot get round"), one test each: each failed on
//! the code before the capability handles and passes after.

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

use cdconcerns::domain::directory::Role;

use crate::harness::{TestApp, TestUser};
use crate::reports::{incident, person_concern, submit};

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

async fn upload(app: &TestApp, who: &TestUser, case: &str, name: &str, text: &str) -> String {
    let (ct, body) = multipart(name, format!("%PDF-1.4\n{text}\n%%EOF").as_bytes());
    let r = app
        .post(&format!("/api/v1/cases/{case}/attachments"))
        .token(who)
        .raw(&ct, body)
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    r.json()["id"].as_str().unwrap().to_string()
}

async fn second_cdao(app: &TestApp) -> TestUser {
    app.create_user(
        "cdao_gm_2",
        Role::Cdao,
        Some(app.world.nhse_nw),
        vec![app.world.gm],
    )
    .await
}

fn share_body(app: &TestApp, disclosure: &str, attachments: &[&str]) -> Value {
    json!({"organisation_ids": [app.world.police_gm], "disclosure": disclosure,
           "lawful_basis": "preventing_detecting_unlawful_acts", "purpose": "Police to consider theft",
           "summary": "Oxycodone may be diverted.", "action_required": "for_action",
           "attachment_ids": attachments})
}

/// An access request and the London case it asks about: (GM case, London case, request id).
async fn requested(app: &TestApp) -> (String, String, String) {
    let w = &app.world;
    let mine = submit(
        app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let london = submit(
        app,
        w.user("reporter_london"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post("/api/v1/access-requests")
        .token(w.user("cdao"))
        .json(&json!({"case_id": mine, "area_id": w.london, "reason": "Same GMC number reported here"}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    (mine, london, r.json()["id"].as_str().unwrap().to_string())
}

/// Finding 1: approving an access request makes a share (disclosure, purpose, lawful basis,
/// expiry, two-person rule) that the holding team can revoke, not a lasting grant.
#[tokio::test]
async fn an_approved_access_request_is_a_share_that_can_be_revoked_and_expires() {
    let app = TestApp::new().await;
    let w = &app.world;
    let (_, london, request) = requested(&app).await;
    let london_cdao = w.user("cdao_london").clone();
    let gm_cdao = w.user("cdao").clone();
    let r = app
        .post(&format!("/api/v1/access-requests/{request}/decide"))
        .token(&london_cdao)
        .json(&json!({"decision": "approve"}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    let share_ids = r.json()["share_ids"].as_array().unwrap().clone();
    assert_eq!(share_ids.len(), 1, "one share per matched case");
    let share = share_ids[0].as_str().unwrap().to_string();
    // The holding team sees it among the case's shares: identified, the request's reason as
    // its purpose, to the requesting area's team, expiring in 90 days, pending approval.
    let shares = app
        .get(&format!("/api/v1/cases/{london}/shares"))
        .token(&london_cdao)
        .send()
        .await
        .json();
    let s = &shares["items"][0];
    assert_eq!(s["id"], share.as_str());
    assert_eq!(s["disclosure"], "identified");
    assert_eq!(s["purpose"], "Same GMC number reported here");
    assert_eq!(s["lawful_basis"], "public_task_health_care");
    assert_eq!(s["recipient_area_id"], w.gm.to_string());
    assert_eq!(s["approval"], "pending");
    let expires: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(s["expires_at"].clone()).unwrap();
    assert_eq!(expires - app.state.now(), TimeDelta::days(90));
    // The same CDAO may not approve the share their decision made.
    app.post(&format!("/api/v1/shares/{share}/approve"))
        .token(&london_cdao)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let second = app
        .create_user(
            "cdao_london_2",
            Role::Cdao,
            Some(w.nhse_london),
            vec![w.london],
        )
        .await;
    // Before the share is approved, the requesting team's list does not hold the case (and
    // the service learns that the team has no share in force).
    let before = app.get("/api/v1/cases").token(&gm_cdao).send().await.json();
    assert_eq!(before["total"], 1, "{before}");
    assert!(
        before["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != london.as_str())
    );
    app.post(&format!("/api/v1/shares/{share}/approve"))
        .token(&second)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let c = app
        .get(&format!("/api/v1/cases/{london}"))
        .token(&gm_cdao)
        .send()
        .await;
    c.assert_status(StatusCode::OK);
    assert_eq!(c.json()["share"]["share_id"], share.as_str());
    let listed = app.get("/api/v1/cases").token(&gm_cdao).send().await.json();
    let item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == london.as_str())
        .expect("the shared case is in the team's list")
        .clone();
    // A case seen through a share shows no triage facts of the holding team.
    assert!(item["priority"].is_null() && item["assignee_id"].is_null());
    assert!(item["triage_due_at"].is_null());
    // The list's total counts the team's own case and the one shared with it, on every page.
    assert_eq!(listed["total"], 2, "{listed}");
    let first = app
        .get("/api/v1/cases?limit=1")
        .token(&gm_cdao)
        .send()
        .await
        .json();
    assert_eq!(first["total"], 2, "{first}");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = app
        .get(&format!("/api/v1/cases?limit=1&cursor={cursor}"))
        .token(&gm_cdao)
        .send()
        .await
        .json();
    assert_eq!(second["total"], 2, "{second}");
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);
    // Revocation takes effect on the next request.
    app.post(&format!("/api/v1/shares/{share}/revoke"))
        .token(&london_cdao)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get(&format!("/api/v1/cases/{london}"))
        .token(&gm_cdao)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The grants table is gone.
    let grants: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('case_access_grants')::text")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(grants, None);
}

#[tokio::test]
async fn a_share_to_another_team_ends_when_it_expires() {
    let app = TestApp::with_config(|_| {}).await;
    let w = &app.world;
    // Without the two-person rule, the share is live at once.
    sqlx::query("UPDATE areas SET two_person_rule = false")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, london, request) = requested(&app).await;
    let listed = async |user: &crate::harness::TestUser| -> bool {
        let page = app.get("/api/v1/cases").token(user).send().await.json();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == london.as_str())
    };
    assert!(!listed(w.user("cdao")).await, "listed before the decision");
    app.post(&format!("/api/v1/access-requests/{request}/decide"))
        .token(w.user("cdao_london"))
        .json(&json!({"decision": "approve"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get(&format!("/api/v1/cases/{london}"))
        .token(w.user("cdao"))
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert!(listed(w.user("cdao")).await, "not listed once shared");
    app.clock
        .advance(TimeDelta::days(90) + TimeDelta::seconds(1));
    // (The test users' own tokens have expired by now: a colleague signs in afresh.)
    let later = second_cdao(&app).await;
    app.get(&format!("/api/v1/cases/{london}"))
        .token(&later)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert!(!listed(&later).await, "still listed once the share expired");
}

/// Finding 2: members see and download only the evidence a share names, while it is live;
/// each download is audited.
#[tokio::test]
async fn members_get_only_the_evidence_a_share_names() {
    let app = TestApp::new().await;
    let w = &app.world;
    let reporter = w.user("reporter").clone();
    let cdao = w.user("cdao").clone();
    let member = w.user("member").clone();
    let case = submit(
        &app,
        &reporter,
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let named = upload(&app, &reporter, &case, "register.pdf", "NAMED-FILE").await;
    let other = upload(&app, &reporter, &case, "patient list.pdf", "OTHER-FILE").await;
    // A file the CDAO marks as holding patient data travels only with patient data.
    let r = app
        .req(
            axum::http::Method::PATCH,
            &format!("/api/v1/cases/{case}/attachments/{other}"),
        )
        .token(&cdao)
        .json(&json!({"holds_patient_data": true}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["holds_patient_data"], true);
    let r = app
        .post(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .json(&share_body(&app, "identified", &[&other]))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["attachment_ids[0]"]);
    let preview = app
        .post(&format!("/api/v1/cases/{case}/shares/preview"))
        .token(&cdao)
        .json(&share_body(&app, "identified", &[&named]))
        .send()
        .await
        .json();
    assert_eq!(preview["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(preview["attachments"][0]["id"], named.as_str());
    let r = app
        .post(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .json(&share_body(&app, "identified", &[&named]))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let share = r.json()["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/shares/{share}/approve"))
        .token(&second_cdao(&app).await)
        .send()
        .await
        .assert_status(StatusCode::OK);
    // Evidence added after the share was made does not travel with it.
    let later = upload(&app, &reporter, &case, "later.pdf", "LATER-FILE").await;
    let inbox = app.get("/api/v1/alerts").token(&member).send().await.json();
    let alert = inbox["items"][0]["id"].as_str().unwrap().to_string();
    let a = app
        .get(&format!("/api/v1/alerts/{alert}"))
        .token(&member)
        .send()
        .await
        .json();
    let ids: Vec<&str> = a["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![named.as_str()]);
    for not_named in [&other, &later] {
        app.get(&format!("/api/v1/alerts/{alert}/attachments/{not_named}"))
            .token(&member)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    let d = app
        .get(&format!("/api/v1/alerts/{alert}/attachments/{named}"))
        .token(&member)
        .send()
        .await;
    d.assert_status(StatusCode::OK);
    assert!(d.text().contains("NAMED-FILE"));
    let (subject, details): (Option<uuid::Uuid>, Value) = sqlx::query_as(
        "SELECT subject_id, details FROM audit_events WHERE action = 'alert.attachment_downloaded'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(subject.unwrap().to_string(), named);
    assert_eq!(details["share_id"], share.as_str());
    assert_eq!(details["attachment_id"], named.as_str());
    assert_eq!(
        details["lawful_basis"],
        "preventing_detecting_unlawful_acts"
    );
    // Once revoked, nothing can be downloaded.
    app.post(&format!("/api/v1/shares/{share}/revoke"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get(&format!("/api/v1/alerts/{alert}/attachments/{named}"))
        .token(&member)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

/// Finding 5: filters on triage facts are the CDAO team's; the reporting side gets 403 naming
/// the filter, does not see them on its page, and sees "CDAO team" instead of a CDAO's id.
/// The identities and free text of a report never travel in a spreadsheet: the case list
/// export (page and API) and the statistics exports hold references, codes and counts only.
#[tokio::test]
async fn case_and_statistics_exports_hold_no_identity_or_free_text() {
    let app = TestApp::new().await;
    let w = &app.world;
    let concern = submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await;
    submit(&app, w.user("reporter"), "/api/v1/incidents", &incident()).await;
    let reference = concern["reference"].as_str().unwrap();
    let secrets = [
        "Example-Smith",
        "1970-01-31",
        "9434765919",
        "943 476 5919",
        "1234567",
        "Riverside",
        "oxycodone for family",
        "morphine sulfate 10 mg tablets missing",
        "superintendent",
        "CRI/123/26",
        "Test reporter",
    ];
    let cdao = w.user("cdao").clone();
    let exports = [
        app.get("/cases.csv").session(&cdao).send().await,
        app.get("/api/v1/cases.csv").token(&cdao).send().await,
        app.get("/statistics.csv?group_by=category")
            .session(&cdao)
            .send()
            .await,
    ];
    for r in &exports {
        r.assert_status(StatusCode::OK);
        let text = r.text();
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in an export:\n{text}");
        }
    }
    // The case list export names the case by its reference, so the team can find it.
    assert!(exports[0].text().contains(reference));
    assert!(exports[1].text().contains(reference));
}

#[tokio::test]
async fn hidden_triage_facts_do_not_leak_through_filters() {
    let app = TestApp::new().await;
    let w = &app.world;
    let cdao = w.user("cdao").clone();
    let case = submit(&app, w.user("reporter"), "/api/v1/incidents", &incident()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for who in ["reporter", "org_lead"] {
        for (q, name) in [
            ("priority=urgent", "priority"),
            (&format!("assignee_id={}", cdao.id), "assignee_id"),
            ("assignee_id=none", "assignee_id"),
            ("overdue=true", "overdue"),
        ] {
            let r = app
                .get(&format!("/api/v1/cases?{q}"))
                .token(w.user(who))
                .send()
                .await;
            r.assert_status(StatusCode::FORBIDDEN);
            assert!(
                r.json()["detail"].as_str().unwrap().contains(name),
                "{who} {q}"
            );
        }
        let page = app.get("/reports").session(w.user(who)).send().await;
        page.assert_status(StatusCode::OK);
        for field in [
            r#"name="priority""#,
            r#"name="assignee_id""#,
            r#"name="overdue""#,
        ] {
            assert!(!page.text().contains(field), "{who}: {field} on /reports");
        }
    }
    app.get(&format!(
        "/api/v1/cases?priority=urgent&assignee_id={}",
        cdao.id
    ))
    .token(&cdao)
    .send()
    .await
    .assert_status(StatusCode::OK);
    app.post(&format!("/api/v1/cases/{case}/messages"))
        .token(&cdao)
        .json(&json!({"body": "Which register page?", "request_information": true}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let seen = app
        .get(&format!("/api/v1/cases/{case}"))
        .token(w.user("reporter"))
        .send()
        .await;
    assert!(
        !seen.text().contains(&cdao.id.to_string()),
        "a CDAO's user id reached the reporter"
    );
    let msg = seen.json()["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "message")
        .unwrap()
        .clone();
    assert!(msg["actor_id"].is_null());
    assert_eq!(msg["actor_label"], "CDAO team");
}

/// Finding 8: the preview is an identity view and is audited; an expired alert drops the
/// purpose like other free text; every refused access leaves a trace, once a minute.
#[tokio::test]
async fn previews_are_audited_ended_alerts_drop_the_purpose_and_refusals_leave_a_trace() {
    let app = TestApp::new().await;
    let w = &app.world;
    let cdao = w.user("cdao").clone();
    let member = w.user("member").clone();
    let case = submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/cases/{case}/shares/preview"))
        .token(&cdao)
        .json(&share_body(&app, "identified", &[]))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let (details,): (Value,) = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'share.previewed' AND case_id = $1",
    )
    .bind(uuid::Uuid::parse_str(&case).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(details["persons"], 1);
    assert_eq!(details["disclosure"], "identified");
    // A summary share for two days, live at once; then it expires.
    let mut body = share_body(&app, "summary", &[]);
    body["expires_at"] = json!(app.state.now() + TimeDelta::days(2));
    let r = app
        .post(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let alert = app.get("/api/v1/alerts").token(&member).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let live = app
        .get(&format!("/api/v1/alerts/{alert}"))
        .token(&member)
        .send()
        .await
        .json();
    assert_eq!(live["purpose"], "Police to consider theft");
    app.clock.advance(TimeDelta::days(3));
    let ended = app
        .get(&format!("/api/v1/alerts/{alert}"))
        .token(&member)
        .send()
        .await
        .json();
    assert_eq!(ended["state"], "expired");
    assert!(ended["purpose"].is_null() && ended["summary"].is_null());
    // No audit event holds the free-text purpose.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE details::text LIKE '%Police to consider theft%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);
    // A refused access: an invisible case (404) and a forbidden action (403).
    let london = submit(
        &app,
        w.user("reporter_london"),
        "/api/v1/incidents",
        &incident(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        app.get(&format!("/api/v1/cases/{london}"))
            .token(&cdao)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    app.get(&format!("/api/v1/cases/{case}/matches"))
        .token(w.user("reporter"))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let refusals = |actor: uuid::Uuid| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_as::<_, (Option<uuid::Uuid>, String, Value)>(
                "SELECT subject_id, subject_type, details FROM audit_events
                 WHERE action = 'access.refused' AND actor_id = $1 ORDER BY at, id",
            )
            .bind(actor)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let seen = refusals(cdao.id).await;
    assert_eq!(seen.len(), 1, "at most one a minute per actor and subject");
    assert_eq!(seen[0].0.unwrap().to_string(), london);
    assert_eq!(seen[0].1, "case");
    assert_eq!(seen[0].2["route"], "/api/v1/cases/{id}");
    assert_eq!(seen[0].2["status"], 404);
    let reporter = refusals(w.user("reporter").id).await;
    assert_eq!(reporter.len(), 1);
    assert_eq!(reporter[0].2["status"], 403);
    app.clock.advance(TimeDelta::seconds(61));
    app.get(&format!("/api/v1/cases/{london}"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    assert_eq!(refusals(cdao.id).await.len(), 2);
}

/// A second CDAO can decline a pending share with a reason its author sees; a declined share
/// cannot then be approved. The holding team marks evidence as holding patient data from the
/// case page.
#[tokio::test]
async fn a_pending_share_is_declined_with_a_reason_and_evidence_is_marked_on_the_page() {
    let app = TestApp::new().await;
    let w = &app.world;
    let reporter = w.user("reporter").clone();
    let cdao = w.user("cdao").clone();
    let second = second_cdao(&app).await;
    let case = submit(
        &app,
        &reporter,
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let file = upload(&app, &reporter, &case, "scan.pdf", "SCAN").await;
    let r = app
        .post(&format!("/cases/{case}/attachments/{file}/patient-data"))
        .session(&cdao)
        .form(&[("holds_patient_data", "yes")])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/cases/{case}"))
        .session(&cdao)
        .send()
        .await;
    assert!(page.text().contains("Holds patient data"));
    // The reporter cannot mark it (they see the case but do not triage it).
    app.post(&format!("/cases/{case}/attachments/{file}/patient-data"))
        .session(&reporter)
        .form(&[("holds_patient_data", "no")])
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let share = app
        .post(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .json(&share_body(&app, "identified", &[]))
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/shares/{share}/decline"))
        .token(&cdao)
        .json(&json!({"reason": "Mine"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let field = format!("decline-reason-{share}");
    let r = app
        .post(&format!("/shares/{share}/decline"))
        .session(&second)
        .form(&[(field.as_str(), "")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(&format!(r##"href="#{field}""##)));
    app.post(&format!("/shares/{share}/decline"))
        .session(&second)
        .form(&[(
            field.as_str(),
            "Summary disclosure is enough for the police",
        )])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let shares = app
        .get(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(shares["items"][0]["approval"], "declined");
    assert_eq!(
        shares["items"][0]["decline_reason"],
        "Summary disclosure is enough for the police"
    );
    let page = app
        .get(&format!("/cases/{case}"))
        .session(&cdao)
        .send()
        .await;
    assert!(
        page.text()
            .contains("Summary disclosure is enough for the police")
    );
    app.post(&format!("/api/v1/shares/{share}/approve"))
        .token(&second)
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    // Nobody was told: the member has no alert.
    let inbox = app
        .get("/api/v1/alerts")
        .token(w.user("member"))
        .send()
        .await
        .json();
    assert_eq!(inbox["items"], json!([]));
}
