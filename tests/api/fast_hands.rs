//! Issue 11, part B: alerts a police officer can act on (contacts, co-recipients, who
//! acknowledged, a conversation with the CDAO team), the audit search people can use, and the
//! small things (locked accounts, one-line names, the respond-by date input, organisation names
//! once).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::reports::{person_concern, submit};

/// A person concern of the GM reporter shared (summary) with GM Police; returns (case id, alert id).
async fn shared_alert(app: &TestApp) -> (String, String) {
    let case = submit(
        app,
        app.world.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"organisation_ids": [app.world.police_gm, app.world.gphc], "disclosure": "summary",
        "lawful_basis": "public_task_health_care", "purpose": "To consider a criminal investigation",
        "summary": "A pharmacist may be diverting oxycodone.", "action_required": "for_action"});
    app.post(&format!("/api/v1/cases/{case}/shares"))
        .token(app.world.user("cdao"))
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let alert = app
        .get("/api/v1/alerts")
        .token(app.world.user("member"))
        .send()
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    (case, alert)
}

#[tokio::test]
async fn a_member_sees_who_to_contact_and_talks_with_the_cdao_team_while_the_share_is_live() {
    let app = TestApp::new().await;
    let (case, alert) = shared_alert(&app).await;
    let member = app.world.user("member").clone();
    let cdao = app.world.user("cdao").clone();

    // The alert page: the summary before the details, the team's mailbox and the sharing
    // CDAO's name, the other recipient by its organisation name only.
    app.post(&format!("/alerts/{alert}/acknowledge"))
        .session(&member)
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let html = app
        .get(&format!("/alerts/{alert}"))
        .session(&member)
        .send()
        .await
        .text();
    let summary_at = html
        .find("A pharmacist may be diverting oxycodone.")
        .unwrap();
    let details_at = html.find("About this alert").unwrap();
    assert!(summary_at < details_at, "the summary comes first");
    assert!(
        html.contains("mailto:england.cdao@nhs.net"),
        "the team mailbox"
    );
    assert!(html.contains("Test cdao"), "the sharing CDAO's name");
    assert!(
        html.contains("Also sent to") && html.contains("GPhC"),
        "the co-recipient"
    );
    assert!(
        html.contains("Your organisation acknowledged this alert on")
            && html.contains("Test member acknowledged it"),
        "who acknowledged"
    );

    // The member asks; the CDAO team replies (API); the member reads the reply.
    app.post(&format!("/api/v1/alerts/{alert}/responses"))
        .token(&member)
        .json(&json!({"body": "Which store holds the CD register?"}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let bad = app
        .post(&format!("/api/v1/alerts/{alert}/replies"))
        .token(&cdao)
        .json(&json!({"body": "  "}))
        .send()
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["body"]);
    let r = app
        .post(&format!("/api/v1/alerts/{alert}/replies"))
        .token(&cdao)
        .json(&json!({"body": "The main dispensary: ask for the superintendent."}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["from_cdao"], true);
    // Only the CDAO team of the share's area replies; a member cannot.
    app.post(&format!("/api/v1/alerts/{alert}/replies"))
        .token(&member)
        .json(&json!({"body": "x"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&format!("/api/v1/alerts/{alert}/replies"))
        .token(app.world.user("cdao_london"))
        .json(&json!({"body": "x"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    for who in [&member, &cdao] {
        let c = app
            .get(&format!("/api/v1/alerts/{alert}/conversation"))
            .token(who)
            .send()
            .await;
        c.assert_status(StatusCode::OK);
        let messages = c.json()["messages"].as_array().unwrap().clone();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0]["from_cdao"], false);
        assert_eq!(messages[1]["from_cdao"], true);
        assert_eq!(messages[1]["author"], "Test cdao");
    }
    let html = app
        .get(&format!("/alerts/{alert}"))
        .session(&member)
        .send()
        .await
        .text();
    assert!(html.contains("The main dispensary: ask for the superintendent."));
    assert!(html.contains("CDAO team (Test cdao)"));

    // The CDAO's side: the conversation page, and the reply on the case timeline.
    let page = app
        .get(&format!("/alerts/{alert}/conversation"))
        .session(&cdao)
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("Which store holds the CD register?"));
    let empty = app
        .post(&format!("/alerts/{alert}/replies"))
        .session(&cdao)
        .form(&[("body", "")])
        .send()
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.text().contains("href=\"#body\""));
    let case_page = app
        .get(&format!("/cases/{case}"))
        .session(&cdao)
        .send()
        .await
        .text();
    assert!(
        case_page.contains("Reply to GM Police on its alert"),
        "on the timeline"
    );
    assert!(
        case_page.contains(&format!("href=\"/alerts/{alert}/conversation\"")),
        "the member's response links to the conversation"
    );

    // The members are emailed, without content; the audit holds ids only.
    let kinds: Vec<String> = sqlx::query_scalar(
        "SELECT kind FROM notification_outbox WHERE kind = 'alert_reply' AND user_id = $1",
    )
    .bind(member.id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(kinds.len(), 1);
    let details: Vec<Value> =
        sqlx::query_scalar("SELECT details FROM audit_events WHERE action = 'alert.replied'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(details.len(), 1);
    let text = details[0].to_string();
    assert!(
        !text.contains("dispensary") && !text.contains("superintendent"),
        "{text}"
    );

    // Once the share is revoked the conversation is closed (409), and the page says so.
    let share: String = sqlx::query_scalar("SELECT share_id::text FROM alerts WHERE id::text = $1")
        .bind(&alert)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    app.post(&format!("/api/v1/shares/{share}/revoke"))
        .token(&cdao)
        .json(&json!({}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/api/v1/alerts/{alert}/replies"))
        .token(&cdao)
        .json(&json!({"body": "One more thing."}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let closed = app
        .get(&format!("/alerts/{alert}/conversation"))
        .session(&cdao)
        .send()
        .await
        .text();
    assert!(closed.contains("The conversation is closed"));
}

#[tokio::test]
async fn auditors_search_by_case_reference_user_email_or_name_and_action_and_see_names() {
    let app = TestApp::new().await;
    let (_, alert) = shared_alert(&app).await;
    let auditor = app.world.user("auditor").clone();
    let member = app.world.user("member").clone();
    app.get(&format!("/api/v1/alerts/{alert}"))
        .token(&member)
        .send()
        .await
        .assert_status(StatusCode::OK);

    // By case reference (not only its id), with the names beside the ids.
    let r = app
        .get("/api/v1/audit?case=CD-2026-000001&limit=100")
        .token(&auditor)
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|i| i["case_reference"] == "CD-2026-000001")
    );
    let submitted = items
        .iter()
        .find(|i| i["action"] == "case.submitted")
        .unwrap();
    assert_eq!(submitted["actor_name"], "Test reporter");
    assert_eq!(submitted["action_words"], "Report sent");

    // By email, and by part of a name.
    let by_email = app
        .get(&format!(
            "/api/v1/audit?user={}",
            member.email.to_uppercase()
        ))
        .token(&auditor)
        .send()
        .await;
    by_email.assert_status(StatusCode::OK);
    let items = by_email.json()["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|i| i["action"] == "alert.viewed"));
    assert!(items.iter().all(|i| i["actor_id"] == member.id.to_string()));
    let by_name = app
        .get("/api/v1/audit?user=test%20memb&action=alert.")
        .token(&auditor)
        .send()
        .await;
    by_name.assert_status(StatusCode::OK);
    assert!(!by_name.json()["items"].as_array().unwrap().is_empty());

    // What does not exist is named.
    let r = app
        .get("/api/v1/audit?case=CD-2026-999999&user=nobody@example.org")
        .token(&auditor)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["case", "user"]);
    app.get("/api/v1/audit?case=000001")
        .token(&auditor)
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    // The page: a select of actions in plain words, dates as date inputs, names beside ids,
    // the details folded into each row.
    let page = app
        .get("/audit?case=CD-2026-000001&action=case.submitted&from-day=1&from-month=1&from-year=2026")
        .session(&auditor)
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    assert!(html.contains("<option value=\"case.submitted\" selected>Report sent</option>"));
    assert!(html.contains("Test reporter") && html.contains("nhsuk-details"));
    assert!(html.contains("id=\"from-day\""));
    let bad = app
        .get("/audit?from-day=31&from-month=2&from-year=2026")
        .session(&auditor)
        .send()
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("href=\"#from-day\""));

    // The CSV keeps every column, with the names too.
    let csv = app
        .get("/audit/export.csv?case=CD-2026-000001")
        .session(&auditor)
        .send()
        .await;
    csv.assert_status(StatusCode::OK);
    let text = csv.text();
    let header = text.lines().next().unwrap();
    assert_eq!(
        header,
        "id,at,actor_id,actor_name,actor_email,action,action_words,subject_type,subject_id,subject_name,case_id,case_reference,details"
    );
    assert!(text.contains("Test reporter"));
}

#[tokio::test]
async fn names_are_one_line_and_locked_accounts_show_as_locked() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    // A name with a line break is refused at the edge; the service trims and refuses too.
    let r = app
        .post("/api/v1/areas")
        .token(&admin)
        .json(&json!({"name": "North\nEast", "region": "North East"}))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), ["name"]);
    let r = app
        .post("/api/v1/areas")
        .token(&admin)
        .json(&json!({"name": "  North   East ", "region": "North East", "cdao_mailbox": "not an email"}))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), ["cdao_mailbox"]);
    let r = app
        .post("/api/v1/areas")
        .token(&admin)
        .json(&json!({"name": "  North   East ", "region": "North East", "cdao_mailbox": "England.CDAO.NE@nhs.net"}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["name"], "North East");
    assert_eq!(r.json()["cdao_mailbox"], "england.cdao.ne@nhs.net");
    let id = r.json()["id"].as_str().unwrap().to_string();

    // "" is no mailbox, and the document says so (the fuzzing gate sends it as an example of
    // a value that is not an email address): a create takes it as none, a PATCH clears with it,
    // and `null` in a PATCH keeps what is there.
    let r = app
        .patch(&format!("/api/v1/areas/{id}"))
        .token(&admin)
        .json(&json!({"cdao_mailbox": null}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["cdao_mailbox"], "england.cdao.ne@nhs.net");
    let r = app
        .patch(&format!("/api/v1/areas/{id}"))
        .token(&admin)
        .json(&json!({"cdao_mailbox": ""}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["cdao_mailbox"], serde_json::Value::Null);
    let r = app
        .post("/api/v1/areas")
        .token(&admin)
        .json(&json!({"name": "North Cumbria", "region": "North East", "cdao_mailbox": ""}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["cdao_mailbox"], serde_json::Value::Null);
    let doc = app.get("/api/v1/openapi.json").send().await.json();
    let mailbox = &doc["components"]["schemas"]["AreaInput"]["properties"]["cdao_mailbox"];
    assert_eq!(mailbox["oneOf"][0]["format"], "email", "{mailbox}");
    assert_eq!(mailbox["oneOf"][1]["enum"], json!([""]), "{mailbox}");
    assert_eq!(mailbox["oneOf"][2]["type"], "null", "{mailbox}");
    // The PATCH body's nullable fields say null once (twice would fail `oneOf` for null).
    for (body, field) in [("AreaPatch", "cdao_mailbox"), ("UserPatch", "status")] {
        let schema = &doc["components"]["schemas"][body]["properties"][field];
        let nulls = schema["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["type"] == "null")
            .count();
        assert_eq!(nulls, 1, "{body}.{field}: {schema}");
    }

    // A locked account is shown as locked, not as "Active".
    let member = app.world.user("member").clone();
    sqlx::query("UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = $1")
        .bind(member.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let list = app
        .get("/admin/users?role=member")
        .session(&admin)
        .send()
        .await
        .text();
    let row = list
        .split("<tr")
        .find(|r| r.contains("Test member"))
        .unwrap()
        .to_string();
    assert!(row.contains("Locked") && !row.contains(">Active<"), "{row}");
    let page = app
        .get(&format!("/admin/users/{}", member.id))
        .session(&admin)
        .send()
        .await
        .text();
    assert!(page.contains("Locked until"));
}

#[tokio::test]
async fn the_share_form_asks_respond_by_as_a_date_and_names_each_organisation_once() {
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
    let form = app
        .get(&format!("/cases/{case}/share"))
        .session(&cdao)
        .send()
        .await
        .text();
    assert!(form.contains("id=\"respond_by-day\"") && form.contains("id=\"respond_by-year\""));
    let police = app.world.police_gm.to_string();
    let base = [
        ("organisation_ids", police.as_str()),
        ("disclosure", "summary"),
        ("include_patient_data", "no"),
        ("lawful_basis", "public_task_health_care"),
        ("purpose", "To consider"),
        ("summary", "A summary."),
        ("action_required", "for_action"),
        ("expiry_days", "90"),
        ("action", "preview"),
    ];
    let mut bad = base.to_vec();
    bad.extend([
        ("respond_by-day", "31"),
        ("respond_by-month", "2"),
        ("respond_by-year", "2027"),
    ]);
    let r = app
        .post(&format!("/cases/{case}/share"))
        .session(&cdao)
        .form(&bad)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("href=\"#respond_by-day\""));
    let mut good = base.to_vec();
    good.extend([
        ("respond_by-day", "1"),
        ("respond_by-month", "1"),
        ("respond_by-year", "2027"),
    ]);
    let r = app
        .post(&format!("/cases/{case}/share"))
        .session(&cdao)
        .form(&good)
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(
        html.contains("name=\"respond_by\" value=\"2027-01-01\""),
        "carried to the share"
    );
    assert!(html.contains("1 January 2027"));
}

#[tokio::test]
async fn analysts_see_england_by_region_and_area_suppressed_with_the_table_when_no_chart_can_show()
{
    let app = TestApp::new().await;
    submit(
        &app,
        app.world.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await;
    let analyst = app.world.user("analyst").clone();
    for group in ["region", "area"] {
        let r = app
            .get(&format!("/api/v1/stats?group_by={group}"))
            .token(&analyst)
            .send()
            .await;
        r.assert_status(StatusCode::OK);
        let items = r.json()["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1, "{items:?}");
        // One report: a count from 1 to 4, hidden.
        assert_eq!(items[0]["count"], Value::Null);
        assert_eq!(items[0]["suppressed"], true);
    }
    let cdao = app
        .get("/api/v1/stats?group_by=area")
        .token(app.world.user("cdao"))
        .send()
        .await;
    cdao.assert_status(StatusCode::OK);
    assert_eq!(
        cdao.json()["items"][0]["count"],
        1,
        "CDAOs see their own counts"
    );
    let page = app.get("/statistics").session(&analyst).send().await;
    page.assert_status(StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Reports by NHS England region"));
    assert!(html.contains("Reports by local intelligence network area"));
    assert!(html.contains("No chart: every count here is from 1 to 4"));
    assert!(html.contains("fewer than 5"));
}
