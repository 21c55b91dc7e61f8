//! The member's alert pages.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestUser};
use crate::reports::{person_concern, submit};

/// A person of concern reported, and shared by the CDAO with the member's organisation (the
/// share needs no approval): the app, the CDAO and the member.
async fn shared_with_member() -> (TestApp, TestUser, TestUser) {
    let app = TestApp::new().await;
    let case = submit(
        &app,
        app.world.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cdao = app.world.user("cdao").clone();
    let member = app.world.user("member").clone();
    let body = json!({"organisation_ids": [app.world.police_gm], "disclosure": "summary", "lawful_basis": "public_task_health_care",
                      "purpose": "To consider", "summary": "Please check your records for this GP.", "action_required": "for_action"});
    app.post(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    (app, cdao, member)
}

#[tokio::test]
async fn a_member_reads_acknowledges_and_responds_in_the_browser() {
    let (app, cdao, member) = shared_with_member().await;
    let list = app.get("/alerts").session(&member).send().await;
    list.assert_status(StatusCode::OK);
    assert!(list.text().contains("1 unread") && list.text().contains("CD-2026-000001"));
    let id: String = sqlx::query_scalar("SELECT id::text FROM alerts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let page = app
        .get(&format!("/alerts/{id}"))
        .session(&member)
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Please check your records for this GP."));
    assert!(html.contains("A community pharmacy in Greater Manchester"));
    assert!(!html.contains("Example-Smith") && !html.contains("GM Pharmacy"));
    app.post(&format!("/alerts/{id}/acknowledge"))
        .session(&member)
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let r = app
        .post(&format!("/alerts/{id}/responses"))
        .session(&member)
        .form(&[("body", ""), ("action_taken", "")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("href=\"#body\""));
    app.post(&format!("/alerts/{id}/responses"))
        .session(&member)
        .form(&[
            ("body", "Crime recorded."),
            ("action_taken", "crime_recorded"),
        ])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/alerts/{id}"))
        .session(&member)
        .send()
        .await
        .text();
    assert!(page.contains("acknowledged this alert on") && page.contains("Crime recorded."));
    let stats = app.get("/statistics").session(&cdao).send().await.text();
    assert!(
        stats.contains("How member organisations respond to alerts") && stats.contains("GM Police")
    );
    for who in [
        "reporter", "org_lead", "cdao", "admin", "auditor", "analyst",
    ] {
        let status = app
            .get(&format!("/alerts/{id}"))
            .session(app.world.user(who))
            .send()
            .await
            .status;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        let status = app
            .get("/alerts")
            .session(app.world.user(who))
            .send()
            .await
            .status;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
}

#[tokio::test]
async fn the_cdao_previews_then_shares_and_a_second_cdao_approves_in_the_browser() {
    let app = TestApp::new().await;
    let case = submit(
        &app,
        app.world.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cdao = app.world.user("cdao").clone();
    let cdao2 = app
        .create_user(
            "cdao2",
            cdconcerns::domain::directory::Role::Cdao,
            Some(app.world.nhse_nw),
            vec![app.world.gm],
        )
        .await;
    let form = app
        .get(&format!("/cases/{case}/share"))
        .session(&cdao)
        .send()
        .await;
    form.assert_status(StatusCode::OK);
    assert!(form.text().contains("GM Police"));
    let police = app.world.police_gm.to_string();
    let empty = app
        .post(&format!("/cases/{case}/share"))
        .session(&cdao)
        .form(&[("action", "preview")])
        .send()
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    for f in [
        "organisation_ids",
        "lawful_basis",
        "purpose",
        "summary",
        "action_required",
    ] {
        assert!(empty.text().contains(&format!("href=\"#{f}\"")), "{f}");
    }
    let fields = [
        ("organisation_ids", police.as_str()),
        ("disclosure", "identified"),
        ("include_patient_data", "no"),
        ("lawful_basis", "preventing_detecting_unlawful_acts"),
        ("purpose", "To consider a crime"),
        ("summary", "A GP may be diverting oxycodone."),
        ("action_required", "for_action"),
        ("expiry_days", "30"),
    ];
    let mut preview: Vec<(&str, &str)> = fields.to_vec();
    preview.push(("action", "preview"));
    let p = app
        .post(&format!("/cases/{case}/share"))
        .session(&cdao)
        .form(&preview)
        .send()
        .await;
    p.assert_status(StatusCode::OK);
    let html = p.text();
    assert!(
        html.contains("Check what the members will see")
            && html.contains("Dr Jonathan Example-Smith")
    );
    assert!(html.contains("wait for a second CDAO"));
    assert!(
        !html.contains("943 476 5919"),
        "no patient data in the preview"
    );
    let mut share: Vec<(&str, &str)> = fields.to_vec();
    share.push(("action", "share"));
    app.post(&format!("/cases/{case}/share"))
        .session(&cdao)
        .form(&share)
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let pending = app.get("/shares/pending").session(&cdao2).send().await;
    assert!(pending.text().contains("CD-2026-000001"));
    assert!(
        !app.get("/shares/pending")
            .session(&cdao)
            .send()
            .await
            .text()
            .contains("CD-2026-000001"),
        "not one's own"
    );
    let id: String = sqlx::query_scalar("SELECT id::text FROM shares")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.post(&format!("/shares/{id}/approve"))
        .session(&cdao2)
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let alerts = app
        .get("/alerts")
        .session(app.world.user("member"))
        .send()
        .await
        .text();
    assert!(alerts.contains("CD-2026-000001"));
    for who in ["reporter", "member", "admin", "cdao_london"] {
        let s = app
            .get(&format!("/cases/{case}/share"))
            .session(app.world.user(who))
            .send()
            .await
            .status;
        assert!(
            s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
            "{who}: {s}"
        );
    }
}

/// Found reading the inbox's statement (issue 14): the inbox lists at most 500 alerts, and its
/// filters and unread count were applied to the newest 500 of all, so an older alert nobody
/// had read or acknowledged disappeared from "Unread" and "Not acknowledged".
/// 500 alerts of the same case, each received (all at one time) a minute after the member's
/// one alert, and read and acknowledged.
async fn five_hundred_newer_alerts_read_and_acknowledged(app: &TestApp) {
    let mut db = app.superuser().await;
    sqlx::query(
        "WITH n AS (SELECT g FROM generate_series(1, 500) g),
              s AS (INSERT INTO shares
                    SELECT (jsonb_populate_record(NULL::shares, to_jsonb(s) || jsonb_build_object('id', gen_random_uuid()))).*
                    FROM shares s, n RETURNING id)
         INSERT INTO alerts (id, share_id, organisation_id, received_at, read_at, acknowledged_at, ack_due_at)
         SELECT gen_random_uuid(), s.id, a.organisation_id, a.received_at + interval '1 minute',
                a.received_at + interval '2 minutes', a.received_at + interval '3 minutes', a.ack_due_at
         FROM s, (SELECT * FROM alerts LIMIT 1) a",
    )
    .execute(&mut db)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_member_pages_back_through_an_inbox_of_more_than_500_alerts() {
    let (app, _, member) = shared_with_member().await;
    let oldest: String = sqlx::query_scalar("SELECT id::text FROM alerts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    five_hundred_newer_alerts_read_and_acknowledged(&app).await;
    // The API: 500 on the first page and a cursor; the one older alert on the next, and no
    // cursor after it. The 500 share one received time, so the cursor must carry the id.
    let first = app.get("/api/v1/alerts").token(&member).send().await;
    first.assert_status(StatusCode::OK);
    let first = first.json();
    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(seen.len(), 500);
    assert!(!seen.contains(&oldest));
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let next = app
        .get(&format!("/api/v1/alerts?cursor={cursor}"))
        .token(&member)
        .send()
        .await;
    next.assert_status(StatusCode::OK);
    let next = next.json();
    let items = next["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], oldest.as_str());
    assert!(next["next_cursor"].is_null());
    assert_eq!(
        next["unread"], 1,
        "the count is of every alert, not of the page"
    );
    seen.push(oldest.clone());
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 501, "no alert on two pages");
    // A filter keeps its own pages: the one unacknowledged alert, and nothing after it.
    let r = app
        .get("/api/v1/alerts?filter=unacknowledged")
        .token(&member)
        .send()
        .await;
    assert_eq!(r.json()["items"].as_array().unwrap().len(), 1);
    assert!(r.json()["next_cursor"].is_null());
    // A cursor this service did not make is a 422 naming it.
    let r = app
        .get("/api/v1/alerts?cursor=yesterday")
        .token(&member)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), ["cursor"]);
    // The page: a link to the older alerts, which shows the old one and a way back.
    let page = app.get("/alerts").session(&member).send().await;
    let html = page.text();
    assert!(html.contains("Older ones are on the next pages."));
    assert!(html.contains("Older alerts</span>"));
    let href = format!("/alerts?cursor={cursor}");
    assert!(html.contains(&format!("href=\"{href}\"")), "{html}");
    let older = app.get(&href).session(&member).send().await;
    older.assert_status(StatusCode::OK);
    let html = older.text();
    assert!(html.contains("1 older alert here."));
    assert!(html.contains(&format!("/alerts/{oldest}")));
    assert!(html.contains("Back to the newest alerts"));
    assert!(!html.contains("Older alerts</span>"));
    // A page link that was tampered with: the newest alerts, saying so.
    let page = app
        .get("/alerts?cursor=yesterday")
        .session(&member)
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.text()
            .contains("That page link is not one this service made")
    );
    assert!(page.text().contains("Older ones are on the next pages."));
}

#[tokio::test]
async fn an_old_alert_not_yet_acknowledged_stays_in_the_filtered_inbox() {
    let (app, _, member) = shared_with_member().await;
    five_hundred_newer_alerts_read_and_acknowledged(&app).await;
    let all = app.get("/api/v1/alerts").token(&member).send().await;
    all.assert_status(StatusCode::OK);
    assert_eq!(all.json()["items"].as_array().unwrap().len(), 500);
    assert_eq!(all.json()["unread"], 1);
    for filter in ["unread", "unacknowledged"] {
        let r = app
            .get(&format!("/api/v1/alerts?filter={filter}"))
            .token(&member)
            .send()
            .await;
        r.assert_status(StatusCode::OK);
        let items = r.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1, "{filter}");
        assert_eq!(r.json()["unread"], 1);
    }
    let page = app.get("/alerts").session(&member).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("1 unread"));
    assert!(
        page.text()
            .contains("The newest 500 alerts here. Older ones are on the next pages.")
    );
    let page = app
        .get("/alerts?filter=unacknowledged")
        .session(&member)
        .send()
        .await;
    assert!(page.text().contains("1 alert here."));
    assert!(page.text().contains("CD-2026-000001"));
}

#[tokio::test]
async fn the_first_view_of_an_alert_is_its_read_receipt_and_every_view_is_audited() {
    let (app, _, member) = shared_with_member().await;
    let id: String = sqlx::query_scalar("SELECT id::text FROM alerts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let read_at = || async {
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
            "SELECT read_at FROM alerts WHERE id = $1::uuid",
        )
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    assert_eq!(read_at().await, None);
    for _ in 0..2 {
        app.get(&format!("/api/v1/alerts/{id}"))
            .token(&member)
            .send()
            .await
            .assert_status(StatusCode::OK);
    }
    let first = read_at().await.expect("read on the first view");
    app.get(&format!("/alerts/{id}"))
        .session(&member)
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        read_at().await,
        Some(first),
        "a later view does not move it"
    );
    let views: Vec<Value> = sqlx::query_scalar(
        "SELECT details FROM audit_events WHERE action LIKE 'alert.%viewed' AND subject_id = $1::uuid
         ORDER BY stripe, seq",
    )
    .bind(&id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let mut first_reads: Vec<bool> = views
        .iter()
        .map(|d| d["first_read"].as_bool().unwrap())
        .collect();
    first_reads.sort();
    assert_eq!(
        first_reads,
        [false, false, true],
        "three views, one receipt"
    );
}
