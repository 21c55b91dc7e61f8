//! The person's rights (issue 10): subject access exports, and removing a person record
//! entered in error.

use std::io::Read;

use axum::http::StatusCode;
use serde_json::{Value, json};

use cdconcerns::domain::directory::Role;

use crate::harness::TestApp;
use crate::reports::{person_concern, submit};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn unzip(bytes: &[u8]) -> (Value, String) {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut json = String::new();
    z.by_name("subject-access.json")
        .unwrap()
        .read_to_string(&mut json)
        .unwrap();
    let mut html = String::new();
    z.by_name("subject-access.html")
        .unwrap()
        .read_to_string(&mut html)
        .unwrap();
    (serde_json::from_str(&json).unwrap(), html)
}

#[tokio::test]
async fn a_subject_access_export_holds_every_case_naming_the_person_in_the_cdaos_areas_and_none_outside()
 {
    let app = TestApp::new().await;
    let w = &app.world;
    let cdao = w.user("cdao").clone();
    let a = id(&submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    let mut again = person_concern();
    again["person"]["full_name"] = json!("J E Smith");
    again["person"]["nhs_number"] = Value::Null;
    again["person"]["date_of_birth"] = Value::Null;
    let b = id(&submit(&app, w.user("org_lead"), "/api/v1/person-concerns", &again).await);
    let london = id(&submit(
        &app,
        w.user("reporter_london"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    let mut other = person_concern();
    other["person"] = json!({"full_name": "Someone Else", "registrations": [{"register": "gmc", "number": "7654321"}]});
    let unrelated = id(&submit(&app, w.user("reporter"), "/api/v1/person-concerns", &other).await);
    app.post(&format!("/api/v1/cases/{a}/amendments"))
        .token(w.user("reporter"))
        .json(&json!({"text": "He was seen again on Friday."}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);

    let r = app
        .post("/api/v1/subject-access")
        .token(&cdao)
        .json(&json!({"identifiers": {"registrations": [{"register": "gmc", "number": "GMC 1234567"}]},
                      "purpose": "SAR 2026/17"}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let created = r.json();
    let mut found: Vec<String> = created["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(found, expected, "inside the CDAO's areas, and nothing else");
    assert!(!r.text().contains(&london) && !r.text().contains(&unrelated));
    // A name with a date of birth finds the same person.
    let by_name = app
        .post("/api/v1/subject-access")
        .token(&cdao)
        .json(&json!({"identifiers": {"full_name": "jonathan example smith", "date_of_birth": "1970-01-31"},
                      "purpose": "SAR 2026/18"}))
        .send()
        .await
        .json();
    assert_eq!(by_name["cases"].as_array().unwrap().len(), 1);
    assert_eq!(by_name["cases"][0]["id"], a.as_str());

    let request = id(&created);
    let d = app
        .get(&format!("/api/v1/subject-access/{request}/download"))
        .token(&cdao)
        .send()
        .await;
    d.assert_status(StatusCode::OK);
    assert_eq!(d.header("content-type"), Some("application/zip"));
    let (export, html) = unzip(&d.body);
    assert_eq!(export["purpose"], "SAR 2026/17");
    let refs: Vec<&str> = export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap())
        .collect();
    assert_eq!(refs.len(), 2);
    assert!(
        export["person"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["full_name"] == "Dr Jonathan Example-Smith")
    );
    let case_a = export["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["report"]["description"] == "Repeated prescriptions of oxycodone for family members."
        })
        .expect("the report as submitted")
        .clone();
    assert_eq!(
        case_a["amendments"][0]["text"],
        "He was seen again on Friday."
    );
    assert!(case_a["timeline"].as_array().unwrap().len() >= 2);
    assert!(html.contains("Caldicott guardian"));
    assert!(html.contains("SAR 2026/17"));
    // Only its maker downloads it; other roles may not ask at all.
    app.get(&format!("/api/v1/subject-access/{request}/download"))
        .token(w.user("cdao_london"))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post("/api/v1/subject-access")
        .token(w.user("reporter"))
        .json(&json!({"identifiers": {"nhs_number": "9434765919"}, "purpose": "x"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let bad = app
        .post("/api/v1/subject-access")
        .token(&cdao)
        .json(&json!({"identifiers": {"nhs_number": "123", "full_name": "Jane"}}))
        .send()
        .await;
    assert_eq!(
        bad.error_fields(),
        vec![
            "purpose",
            "identifiers.nhs_number",
            "identifiers.date_of_birth"
        ]
    );
    // Audited with ids and counts; no identifier or purpose text reaches the trail.
    let (details,): (Value,) =
        sqlx::query_as("SELECT details FROM audit_events WHERE action = 'subject_access.exported'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(details["cases"], 2);
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE details::text LIKE '%1234567%' OR details::text LIKE '%SAR 2026%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);
    // The page: a form, the cases found, and the download.
    let page = app.get("/subject-access").session(&cdao).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("Caldicott guardian"));
    let r = app
        .post("/subject-access")
        .session(&cdao)
        .form(&[("nhs_number", "943 476 5919"), ("purpose", "SAR 2026/19")])
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert!(r.text().contains("1 case found"));
    let r = app
        .post("/subject-access")
        .session(&cdao)
        .form(&[("full_name", "Jane"), ("purpose", "")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(r##"href="#date_of_birth-day""##));
    assert!(r.text().contains(r##"href="#purpose""##));
}

/// The privacy notice and the accessibility statement say what this deployment does: its
/// controller, its retention periods and its contacts as configured, the lawful bases, the
/// WCAG level tested and the known issues; unconfigured, they say whom to ask instead.
#[tokio::test]
async fn the_privacy_notice_and_accessibility_statement_say_what_this_build_does() {
    let app = TestApp::with_config(|c| {
        c.controller = "NHS England (North West)".into();
        c.retention_years = 8;
        c.retention_unfounded_years = 3;
        c.privacy_contact = Some("dpo@example.nhs.uk".into());
        c.accessibility_contact = Some("access@example.nhs.uk".into());
    })
    .await;
    let text = |path: &'static str| {
        let app = &app;
        async move {
            let r = app.get(path).send().await;
            r.assert_status(StatusCode::OK);
            r.text()
        }
    };
    let privacy = text("/privacy").await;
    for needle in [
        "NHS England (North West) is responsible",
        "Article 6(1)(e)",
        "Article 9(2)(h)",
        "closed for 8 years",
        "3 years after it was closed",
        "<strong>alleged</strong>",
        r#"href="mailto:dpo@example.nhs.uk""#,
        "ico.org.uk",
    ] {
        assert!(
            privacy.contains(needle),
            "{needle} not in the privacy notice"
        );
    }
    let statement = text("/accessibility").await;
    for needle in [
        "WCAG) version 2.2 AA",
        "partially compliant",
        "2.2.1 (Timing Adjustable)",
        "axe-core",
        "375 pixels",
        r#"href="mailto:access@example.nhs.uk""#,
    ] {
        assert!(statement.contains(needle), "{needle} not in the statement");
    }
    // A deployment that has not set its contacts sends people to their area's team, and a
    // shorter period never shows longer than the main one.
    let bare = TestApp::with_config(|c| {
        c.retention_years = 1;
        c.retention_unfounded_years = 2;
    })
    .await;
    let r = bare.get("/privacy").send().await.text();
    assert!(r.contains("NHS England is responsible"));
    assert!(r.contains("controlled drugs team for your area"));
    assert!(r.contains("closed for 1 year,") && r.contains("1 year after it was closed"));
    assert!(!r.contains("mailto:"));
    let r = bare.get("/accessibility").send().await.text();
    assert!(r.contains("controlled drugs team for your area") && !r.contains("mailto:"));
}

#[tokio::test]
async fn a_person_entered_in_error_is_removed_under_the_two_person_rule_and_recipients_are_told() {
    let app = TestApp::new().await;
    let w = &app.world;
    let cdao = w.user("cdao").clone();
    let member = w.user("member").clone();
    let cdao2 = app
        .create_user("cdao2", Role::Cdao, Some(w.nhse_nw), vec![w.gm])
        .await;
    let case = id(&submit(
        &app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    let twin = id(&submit(
        &app,
        w.user("org_lead"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    app.post(&format!("/api/v1/cases/{case}/shares"))
        .token(&cdao)
        .json(
            &json!({"organisation_ids": [w.police_gm], "disclosure": "summary",
                      "lawful_basis": "public_task_health_care", "purpose": "To consider",
                      "summary": "A summary.", "action_required": "for_information"}),
        )
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let view = app
        .get(&format!("/api/v1/cases/{case}"))
        .token(&cdao)
        .send()
        .await
        .json();
    let person = view["persons"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/cases/{case}/persons/{person}/erasure");
    // The reporting side and others may not.
    app.post(&path)
        .token(w.user("reporter"))
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    app.post(&path)
        .token(&member)
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let r = app.post(&path).token(&cdao).json(&json!({})).send().await;
    assert_eq!(r.error_fields(), vec!["reason"]);
    let r = app
        .post(&path)
        .token(&cdao)
        .json(&json!({"reason": "The pharmacist named the wrong GP."}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert_eq!(r.json()["status"], "pending");
    let erasure = id(&r.json());
    app.post(&path)
        .token(&cdao)
        .json(&json!({"reason": "Again"}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    // Nothing is removed until a second CDAO approves; the one who asked may not.
    app.post(&format!("/api/v1/erasures/{erasure}/approve"))
        .token(&cdao)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let page = app
        .get(&format!("/cases/{case}"))
        .session(&cdao2)
        .send()
        .await;
    assert!(page.text().contains("Approve: remove this person record"));
    app.post(&format!("/api/v1/erasures/{erasure}/approve"))
        .token(&cdao2)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/api/v1/erasures/{erasure}/approve"))
        .token(&cdao2)
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    let after = app
        .get(&format!("/api/v1/cases/{case}"))
        .token(&cdao)
        .send()
        .await;
    assert_eq!(after.json()["persons"], json!([]));
    assert!(!after.text().contains("Example-Smith"));
    let indexes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM person_identifiers WHERE person_id = $1")
            .bind(uuid::Uuid::parse_str(&person).unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(indexes, 0);
    let m = app
        .get(&format!("/api/v1/cases/{twin}/matches"))
        .token(&cdao)
        .send()
        .await
        .json();
    assert_eq!(m["items"], json!([]), "the removed record matches nothing");
    let told: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM notification_outbox WHERE kind = 'person_removed' AND user_id = $1",
    )
    .bind(member.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(told, 1);
    let timeline = after.json()["timeline"].clone();
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "person_erased")
    );
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"person.erasure_requested".to_string()));
    assert!(actions.contains(&"person.erased".to_string()));
    // The page form names a missing reason.
    let twin_view = app
        .get(&format!("/api/v1/cases/{twin}"))
        .token(&cdao)
        .send()
        .await
        .json();
    let twin_person = twin_view["persons"][0]["id"].as_str().unwrap().to_string();
    let field = format!("erasure-reason-{twin_person}");
    let r = app
        .post(&format!("/cases/{twin}/persons/{twin_person}/erasure"))
        .session(&cdao)
        .form(&[(field.as_str(), "")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains(&format!(r##"href="#{field}""##)));
}
