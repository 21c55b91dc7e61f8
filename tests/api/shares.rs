//! Routing to LIN members: shares, the two-person rule, what members see, expiry and
//! revocation, acknowledgements and responses, notifications sent exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use cdconcerns::domain::directory::Role;

use crate::harness::{TestApp, TestUser};
use crate::reports::{person_concern, submit};

fn share(orgs: &[uuid::Uuid], disclosure: &str) -> Value {
    json!({"organisation_ids": orgs, "disclosure": disclosure, "include_patient_data": false,
           "lawful_basis": "preventing_detecting_unlawful_acts", "purpose": "Police to consider a crime of theft",
           "summary": "A GP may be diverting oxycodone prescribed to relatives.", "action_required": "for_action",
           "respond_by": "2026-12-01"})
}

struct World {
    case_id: String,
    cdao2: TestUser,
    gphc_member: TestUser,
}

async fn world(app: &TestApp) -> World {
    let case_id = submit(
        app,
        app.world.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cdao2 = app
        .create_user(
            "cdao2",
            Role::Cdao,
            Some(app.world.nhse_nw),
            vec![app.world.gm],
        )
        .await;
    let gphc_member = app
        .create_user("gphc", Role::Member, Some(app.world.gphc), vec![])
        .await;
    World {
        case_id,
        cdao2,
        gphc_member,
    }
}

#[tokio::test]
async fn a_summary_share_reaches_the_member_at_once_and_shows_no_identity() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cdao = app.world.user("cdao").clone();
    let member = app.world.user("member").clone();
    let r = app
        .post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&share(&[app.world.police_gm], "summary"))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["approval"], "approved");
    let inbox = app.get("/api/v1/alerts").token(&member).send().await.json();
    assert_eq!(inbox["unread"], 1);
    let item = &inbox["items"][0];
    assert_eq!(item["disclosure"], "summary");
    assert!(item["read_at"].is_null());
    let id = item["id"].as_str().unwrap().to_string();
    let a = app
        .get(&format!("/api/v1/alerts/{id}"))
        .token(&member)
        .send()
        .await;
    a.assert_status(StatusCode::OK);
    let v = a.json();
    assert_eq!(
        v["summary"],
        "A GP may be diverting oxycodone prescribed to relatives."
    );
    assert_eq!(v["persons"], json!([]));
    assert_eq!(v["report"]["concern_status"], "alleged");
    assert!(v["reporting_organisation"]["name"].is_null());
    assert_eq!(v["reporting_organisation"]["sector"], "Community pharmacy");
    let text = a.text();
    for secret in [
        "Example-Smith",
        "1234567",
        "9434765919",
        "GM Pharmacy",
        "Test reporter",
        "Repeated prescriptions",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} leaked into a summary alert"
        );
    }
    let inbox = app
        .get("/api/v1/alerts?filter=unread")
        .token(&member)
        .send()
        .await
        .json();
    assert_eq!(
        inbox["items"].as_array().unwrap().len(),
        0,
        "read on first open"
    );
    // Another member organisation, and everyone else, cannot see it.
    app.get(&format!("/api/v1/alerts/{id}"))
        .token(&w.gphc_member)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    for who in [
        "reporter", "org_lead", "cdao", "admin", "auditor", "analyst",
    ] {
        app.get(&format!("/api/v1/alerts/{id}"))
            .token(app.world.user(who))
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    // The reporter never learns who it was shared with.
    let seen = app
        .get(&format!("/api/v1/cases/{}", w.case_id))
        .token(app.world.user("reporter"))
        .send()
        .await
        .text();
    assert!(
        !seen.contains("GM Police")
            && !seen.contains(&app.world.police_gm.to_string())
            && !seen.contains("shared")
    );
}

#[tokio::test]
async fn an_identified_share_waits_for_a_second_cdao_of_the_area() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cdao = app.world.user("cdao").clone();
    let member = app.world.user("member").clone();
    // Patient data needs a written reason.
    let mut body = share(&[app.world.police_gm], "identified");
    body["include_patient_data"] = json!(true);
    let r = app
        .post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&body)
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["patient_data_reason"]);
    // Only member organisations of the case's area.
    let r = app
        .post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&share(&[app.world.pharmacy_gm], "identified"))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["organisation_ids[0]"]);
    // The preview shows exactly what the member will see.
    let p = app
        .post(&format!("/api/v1/cases/{}/shares/preview", w.case_id))
        .token(&cdao)
        .json(&share(&[app.world.police_gm], "identified"))
        .send()
        .await;
    p.assert_status(StatusCode::OK);
    assert_eq!(
        p.json()["persons"][0]["full_name"],
        "Dr Jonathan Example-Smith"
    );
    assert!(p.json()["persons"][0].get("nhs_number").is_none());
    let r = app
        .post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&share(&[app.world.police_gm], "identified"))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["approval"], "pending");
    let share_id = r.json()["id"].as_str().unwrap().to_string();
    // Pending: nothing for the member.
    assert_eq!(
        app.get("/api/v1/alerts").token(&member).send().await.json()["items"],
        json!([])
    );
    // The author cannot approve; another area's CDAO does not see it; a second GM CDAO can.
    app.post(&format!("/api/v1/shares/{share_id}/approve"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post(&format!("/api/v1/shares/{share_id}/approve"))
        .token(app.world.user("cdao_london"))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/api/v1/shares/{share_id}/approve"))
        .token(&member)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/api/v1/shares/{share_id}/approve"))
        .token(&w.cdao2)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/api/v1/shares/{share_id}/approve"))
        .token(&w.cdao2)
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let inbox = app.get("/api/v1/alerts").token(&member).send().await.json();
    let id = inbox["items"][0]["id"].as_str().unwrap().to_string();
    let v = app
        .get(&format!("/api/v1/alerts/{id}"))
        .token(&member)
        .send()
        .await
        .json();
    assert_eq!(v["persons"][0]["full_name"], "Dr Jonathan Example-Smith");
    assert_eq!(
        v["persons"][0]["registrations"],
        json!([{"register": "gmc", "number": "1234567"}])
    );
    assert!(
        v["persons"][0].get("nhs_number").is_none(),
        "no patient data unless the share includes it"
    );
    // Every view of identity names the share (whose purpose it was) and its lawful basis;
    // audit details hold ids and codes only, never the CDAO's free-text purpose.
    let (action, details): (String, Value) =
        sqlx::query_as("SELECT action, details FROM audit_events WHERE action LIKE 'alert.%viewed' ORDER BY at DESC LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(action, "alert.identity_viewed");
    assert_eq!(details["share_id"], share_id.as_str());
    assert_eq!(
        details["lawful_basis"],
        "preventing_detecting_unlawful_acts"
    );
    assert!(details.get("purpose").is_none(), "{details}");
    // The CDAOs were asked, by a notification with no content.
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM notification_outbox ORDER BY created_at")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(kinds, ["share_awaiting_approval", "new_alert"]);
}

#[tokio::test]
async fn members_acknowledge_and_respond_and_it_flows_back_to_the_case() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cdao = app.world.user("cdao").clone();
    let member = app.world.user("member").clone();
    app.post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&share(&[app.world.police_gm], "summary"))
        .send()
        .await;
    let id = app.get("/api/v1/alerts").token(&member).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let a1 = app
        .post(&format!("/api/v1/alerts/{id}/acknowledge"))
        .token(&member)
        .send()
        .await;
    a1.assert_status(StatusCode::OK);
    app.clock.advance(TimeDelta::minutes(5));
    let a2 = app
        .post(&format!("/api/v1/alerts/{id}/acknowledge"))
        .token(&member)
        .send()
        .await;
    assert_eq!(
        a1.json()["acknowledged_at"],
        a2.json()["acknowledged_at"],
        "acknowledged once"
    );
    let r = app
        .post(&format!("/api/v1/alerts/{id}/responses"))
        .token(&member)
        .json(
            &json!({"body": "Crime reference opened: GMP/123.", "action_taken": "crime_recorded"}),
        )
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let bad = app
        .post(&format!("/api/v1/alerts/{id}/responses"))
        .token(&member)
        .json(&json!({"body": "", "action_taken": "shrug"}))
        .send()
        .await;
    assert_eq!(bad.error_fields(), vec!["body", "action_taken"]);
    app.post(&format!("/api/v1/alerts/{id}/responses"))
        .token(&w.gphc_member)
        .json(&json!({"body": "x"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let c = app
        .get(&format!("/api/v1/cases/{}", w.case_id))
        .token(&cdao)
        .send()
        .await
        .json();
    let kinds: Vec<&str> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"alert_acknowledged") && kinds.contains(&"member_response"),
        "{kinds:?}"
    );
    let s = &c["triage"]["shares"][0];
    assert!(s["recipients"][0]["acknowledged_at"].is_string());
    assert_eq!(s["responses"][0]["action_taken"], "crime_recorded");
    let stats = app
        .get("/api/v1/stats/responsiveness")
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(stats["items"][0]["alerts_received"], 1);
    assert_eq!(stats["items"][0]["acknowledged_on_time"], 1);
    app.get("/api/v1/stats/responsiveness")
        .token(app.world.user("analyst"))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/api/v1/stats/responsiveness")
        .token(&member)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

/// An alert nobody acknowledges does not go unnoticed: past its target (2 working days) the
/// member organisation is reminded and the holding CDAO team sees it on the late alerts page
/// until it is acknowledged.
#[tokio::test]
async fn an_alert_not_acknowledged_in_time_is_chased_and_stands_out_for_the_cdao_team() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cdao = app.world.user("cdao").clone();
    let member = app.world.user("member").clone();
    let reference = app
        .get(&format!("/api/v1/cases/{}", w.case_id))
        .token(&cdao)
        .send()
        .await
        .json()["reference"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&share(&[app.world.police_gm], "summary"))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let late = |who: TestUser| {
        let app = &app;
        async move {
            let r = app.get("/shares/late").session(&who).send().await;
            r.assert_status(StatusCode::OK);
            r.text()
        }
    };
    assert!(!late(cdao.clone()).await.contains(&reference));
    assert_eq!(cdconcerns::jobs::remind(&app.state).await.unwrap(), 0);
    // Five days on (past the target), with a fresh session for the CDAO.
    app.clock.advance(TimeDelta::days(5));
    let cdao_later = app
        .create_user(
            "cdao_later",
            Role::Cdao,
            Some(app.world.nhse_nw),
            vec![app.world.gm],
        )
        .await;
    let page = late(cdao_later.clone()).await;
    assert!(page.contains(&reference), "{page}");
    assert!(page.contains("GM Police"), "{page}");
    assert_eq!(cdconcerns::jobs::remind(&app.state).await.unwrap(), 1);
    let reminded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_outbox WHERE kind = 'alert_reminder' AND user_id = $1",
    )
    .bind(member.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(reminded, 1);
    // Acknowledged, it leaves the page.
    let alerts = app.get("/api/v1/alerts").token(&member).send().await.json();
    let alert = alerts["items"][0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/alerts/{alert}/acknowledge"))
        .token(&member)
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert!(!late(cdao_later).await.contains(&reference));
}

#[tokio::test]
async fn expired_and_revoked_shares_lose_their_content_but_keep_the_members_responses() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cdao = app.world.user("cdao").clone();
    let member = app.world.user("member").clone();
    let mut body = share(&[app.world.police_gm], "identified");
    body["expires_at"] = json!("2026-12-05T09:00:00Z");
    body["respond_by"] = json!("2026-12-01");
    let share_id = app
        .post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&body)
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/shares/{share_id}/approve"))
        .token(&w.cdao2)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let id = app.get("/api/v1/alerts").token(&member).send().await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/alerts/{id}/responses"))
        .token(&member)
        .json(&json!({"body": "Looking into it."}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    app.clock.advance(TimeDelta::days(15));
    let v = app
        .get(&format!("/api/v1/alerts/{id}"))
        .token(&member)
        .send()
        .await
        .json();
    assert_eq!(v["state"], "expired");
    assert!(v["summary"].is_null());
    assert_eq!(v["persons"], json!([]));
    assert!(v["report"].is_null());
    assert_eq!(v["case_reference"], "CD-2026-000001");
    assert_eq!(v["responses"][0]["body"], "Looking into it.");
    app.post(&format!("/api/v1/alerts/{id}/acknowledge"))
        .token(&member)
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);

    // Revocation does the same at once.
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cdao = app.world.user("cdao").clone();
    let member = app.world.user("member").clone();
    let share_id = app
        .post(&format!("/api/v1/cases/{}/shares", w.case_id))
        .token(&cdao)
        .json(&share(&[app.world.police_gm], "summary"))
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/shares/{share_id}/revoke"))
        .token(app.world.user("reporter"))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/api/v1/shares/{share_id}/revoke"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/api/v1/shares/{share_id}/revoke"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let item = &app.get("/api/v1/alerts").token(&member).send().await.json()["items"][0];
    assert_eq!(item["state"], "revoked");
    let v = app
        .get(&format!("/api/v1/alerts/{}", item["id"].as_str().unwrap()))
        .token(&member)
        .send()
        .await
        .json();
    assert!(v["summary"].is_null());
}

/// A minimal SMTP server on loopback that counts messages and keeps their text.
async fn smtp_sink() -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (c, b) = (count.clone(), bodies.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (c, b) = (c.clone(), b.clone());
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                let mut body = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            c.fetch_add(1, Ordering::SeqCst);
                            b.lock().await.push(std::mem::take(&mut body));
                            let _ = w.write_all(b"250 OK queued\r\n").await;
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-sink\r\n250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (format!("smtp://{addr}"), count, bodies)
}

#[tokio::test]
async fn two_instances_send_each_notification_exactly_once_and_without_content() {
    let (url, count, bodies) = smtp_sink().await;
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cdao = app.world.user("cdao").clone();
    // Three members of GM Police, so one alert makes three notifications; and a request for
    // information to the reporter.
    app.create_user("member2", Role::Member, Some(app.world.police_gm), vec![])
        .await;
    app.create_user("member3", Role::Member, Some(app.world.police_gm), vec![])
        .await;
    for _ in 0..5 {
        app.post(&format!("/api/v1/cases/{}/shares", w.case_id))
            .token(&cdao)
            .json(&share(&[app.world.police_gm], "summary"))
            .send()
            .await
            .assert_status(StatusCode::CREATED);
    }
    app.post(&format!("/api/v1/cases/{}/messages", w.case_id))
        .token(&cdao)
        .json(&json!({"body": "Which day?", "request_information": true}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM notification_outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 16);
    // Two instances of the service on one database, each with its own mailer, at once.
    let mut config = crate::harness::test_config();
    config.smtp_url = Some(cdconcerns::config::Secret::new(url));
    let mailer = cdconcerns::jobs::Mailer::from_config(&config).unwrap();
    let second = cdconcerns::state::AppState::new(
        app.pool.clone(),
        config.clone(),
        app.clock.clone(),
        config.identity_key.as_ref().unwrap(),
        config.index_key.clone().unwrap(),
    );
    let mut tasks = Vec::new();
    for s in [app.state.clone(), second] {
        let m = mailer.clone();
        tasks.push(tokio::spawn(async move {
            let mut sent = 0;
            for _ in 0..10 {
                sent += cdconcerns::jobs::send_due(&s, &m).await.unwrap();
            }
            sent
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 16);
    assert_eq!(
        count.load(Ordering::SeqCst),
        16,
        "each notification sent exactly once"
    );
    let unsent: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notification_outbox WHERE sent_at IS NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(unsent, 0);
    for body in bodies.lock().await.iter() {
        for secret in [
            "CD-2026",
            "Example-Smith",
            "oxycodone",
            "diverting",
            "GM Pharmacy",
            "Which day",
        ] {
            assert!(!body.contains(secret), "{secret} in an email:\n{body}");
        }
    }
    // Reminders: after the acknowledgement target, once a day, only for live alerts.
    app.clock.advance(TimeDelta::days(5));
    assert_eq!(cdconcerns::jobs::remind(&app.state).await.unwrap(), 5);
    assert_eq!(cdconcerns::jobs::remind(&app.state).await.unwrap(), 0);
    let reminders: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_outbox WHERE kind = 'alert_reminder'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(reminders, 15);
    // A notification is only sent to someone who may still see it: revoke, then send.
    let share_id: String = sqlx::query_scalar("SELECT id::text FROM shares LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.post(&format!("/api/v1/shares/{share_id}/revoke"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::OK);
    cdconcerns::jobs::send_due(&app.state, &mailer)
        .await
        .unwrap();
    assert_eq!(
        count.load(Ordering::SeqCst),
        16 + 12,
        "the revoked share's reminders are not sent"
    );
}
