//! SPEC §3 "Aggregates stay aggregates" (issue 8, finding 6): every figure an analyst sees
//! hides counts from 1 to 4, and an analyst's date range is whole calendar months, so that
//! two overlapping queries cannot be differenced to isolate one case.

use axum::http::StatusCode;
use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::json;

use cdconcerns::domain::directory::Role;

use crate::harness::TestApp;
use crate::reports::{incident, submit};

/// One summary share of a new Greater Manchester case to GM Police, acknowledged at once.
async fn acknowledged_alert(app: &TestApp) {
    let w = &app.world;
    let case = submit(app, w.user("reporter"), "/api/v1/incidents", &incident()).await;
    let share = json!({"organisation_ids": [w.police_gm], "disclosure": "summary",
        "lawful_basis": "preventing_detecting_unlawful_acts", "purpose": "Police to consider",
        "summary": "A stock discrepancy.", "action_required": "for_information"});
    app.post(&format!(
        "/api/v1/cases/{}/shares",
        case["id"].as_str().unwrap()
    ))
    .token(w.user("cdao"))
    .json(&share)
    .send()
    .await
    .assert_status(StatusCode::CREATED);
    let inbox = app
        .get("/api/v1/alerts")
        .token(w.user("member"))
        .send()
        .await
        .json();
    let id = inbox["items"][0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/alerts/{id}/acknowledge"))
        .token(w.user("member"))
        .send()
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn analysts_see_member_responsiveness_only_as_aggregates() {
    let app = TestApp::new().await;
    acknowledged_alert(&app).await;
    let w = &app.world;
    // The CDAO of the area sees their own figures in full...
    let cdao = app
        .get("/api/v1/stats/responsiveness")
        .token(w.user("cdao"))
        .send()
        .await
        .json();
    assert_eq!(cdao["items"][0]["alerts_received"], 1);
    assert_eq!(cdao["items"][0]["acknowledged_on_time"], 1);
    assert!(cdao["items"][0]["median_hours_to_acknowledge"].is_number());
    // ... a national analyst sees that GM Police had fewer than 5 alerts, and nothing more:
    // no count from 1 to 4, and no median of fewer than 5 alerts (it would be one alert's time).
    let r = app
        .get("/api/v1/stats/responsiveness")
        .token(w.user("analyst"))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    let item = &r.json()["items"][0];
    assert_eq!(item["organisation_name"], "GM Police");
    assert_eq!(item["suppressed"], true);
    for field in [
        "alerts_received",
        "acknowledged",
        "acknowledged_on_time",
        "median_hours_to_acknowledge",
        "median_hours_to_respond",
    ] {
        assert!(item[field].is_null(), "{field} shown to an analyst: {item}");
    }
    // The statistics page says "fewer than 5" to the analyst too.
    let page = app
        .get("/statistics")
        .session(w.user("analyst"))
        .send()
        .await
        .text();
    let table = page
        .split("id=\"responsiveness\"")
        .nth(1)
        .expect("the responsiveness table");
    assert!(table.contains("fewer than 5"), "{table}");
    assert!(!table.contains("1 of 1"), "{table}");
}

#[tokio::test]
async fn analyst_date_ranges_snap_to_whole_calendar_months() {
    let app = TestApp::new().await;
    let w = &app.world;
    // Six reports on 5 October 2026 and one more on 20 October.
    let start = app.state.now();
    let at = |d: u32| Utc.with_ymd_and_hms(2026, 10, d, 10, 0, 0).unwrap();
    let mut october = incident();
    october["occurred_on"] = json!("2026-10-01");
    october["discovered_on"] = json!("2026-10-02");
    app.clock.advance(at(5) - start);
    for _ in 0..6 {
        submit(&app, w.user("reporter"), "/api/v1/incidents", &october).await;
    }
    app.clock.advance(at(20) - at(5));
    submit(&app, w.user("reporter"), "/api/v1/incidents", &october).await;
    app.clock.advance(TimeDelta::days(40));

    let kinds = |from: &str, to: &str, who: &str| {
        let path = format!("/api/v1/stats?group_by=kind&from={from}&to={to}");
        let user = w.user(who).clone();
        let app = &app;
        async move { app.get(&path).token(&user).send().await.json() }
    };
    // Two overlapping ranges that differ by the day of the seventh report: an analyst gets
    // the same whole month from both, so their difference isolates nobody.
    let a = kinds("2026-10-01", "2026-10-19", "analyst").await;
    let b = kinds("2026-10-03", "2026-10-31", "analyst").await;
    assert_eq!(a["items"], b["items"]);
    assert_eq!(a["items"][0]["key"], "incident");
    assert_eq!(a["items"][0]["count"], 7);
    assert_eq!(a["from"], "2026-10-01");
    assert_eq!(a["to"], "2026-10-31");
    // A CDAO sees their own areas' cases and keeps the exact days they asked for.
    let c = kinds("2026-10-01", "2026-10-19", "cdao").await;
    assert_eq!(c["items"][0]["count"], 6);
    assert_eq!(c["to"], "2026-10-19");
    // The page says so (to a new session: the clock moved past the first one's timeout), and
    // the OpenAPI document too.
    let analyst = app
        .create_user("analyst2", Role::Analyst, None, vec![])
        .await;
    let page = app
        .get("/statistics?from=2026-10-01&to=2026-10-19")
        .session(&analyst)
        .send()
        .await
        .text();
    assert!(page.contains("whole calendar months"), "{page}");
    assert!(page.contains("1 October 2026 to 31 October 2026"), "{page}");
    let doc = app.get("/api/v1/openapi.json").send().await.json();
    let stats = doc["paths"]["/api/v1/stats"]["get"].to_string();
    assert!(stats.contains("whole calendar months"), "{stats}");
}
