//! The lead CDAO team's pages: the dashboard, the case list, the case page and its forms,
//! access requests, statistics, and every new page for every role.

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

use crate::harness::{Resp, TestApp, TestUser};
use crate::reports::{incident, person_concern, submit};

async fn new_incident(app: &TestApp, who: &str) -> (String, String) {
    let r = submit(app, app.world.user(who), "/api/v1/incidents", &incident()).await;
    (
        r["id"].as_str().unwrap().to_string(),
        r["reference"].as_str().unwrap().to_string(),
    )
}

async fn new_concern(app: &TestApp, who: &str, body: &Value) -> (String, String) {
    let r = submit(app, app.world.user(who), "/api/v1/person-concerns", body).await;
    (
        r["id"].as_str().unwrap().to_string(),
        r["reference"].as_str().unwrap().to_string(),
    )
}

async fn page(app: &TestApp, user: &TestUser, path: &str) -> Resp {
    app.get(path).session(user).send().await
}

async fn post(app: &TestApp, user: &TestUser, path: &str, fields: &[(&str, &str)]) -> Resp {
    app.post(path).session(user).form(fields).send().await
}

/// The same doctor reported in Greater Manchester twice (reporter, org lead) and once in
/// London: (GM case, GM match, London case), each (id, reference).
async fn three_reports_of_one_doctor(
    app: &TestApp,
) -> ((String, String), (String, String), (String, String)) {
    let mine = new_concern(app, "reporter", &person_concern()).await;
    let mut again = person_concern();
    again["person"]["full_name"] = json!("jonathan example smith");
    again["person"]["nhs_number"] = Value::Null;
    let gm = new_concern(app, "org_lead", &again).await;
    let mut london = person_concern();
    london["person"]["full_name"] = json!("J Smith");
    london["person"]["date_of_birth"] = Value::Null;
    london["person"]["nhs_number"] = Value::Null;
    let ldn = new_concern(app, "reporter_london", &london).await;
    (mine, gm, ldn)
}

#[track_caller]
fn assert_has(r: &Resp, needle: &str) {
    let t = r.text();
    if !t.contains(needle) {
        let _ = std::fs::write(std::env::temp_dir().join("cdao-page-failure.html"), &t);
    }
    assert!(
        t.contains(needle),
        "expected {needle:?} in the page ({}):\n{}",
        r.status,
        t.chars().take(4000).collect::<String>()
    );
}

#[track_caller]
fn assert_lacks(r: &Resp, needle: &str) {
    assert!(
        !r.text().contains(needle),
        "did not expect {needle:?} in the page"
    );
}

#[tokio::test]
async fn the_dashboard_shows_what_needs_the_team_with_links_to_the_cases() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let (a, ref_a) = new_incident(&app, "reporter").await;
    let (_, ref_b) = new_incident(&app, "reporter").await;
    let (_, ref_london) = new_incident(&app, "reporter_london").await;
    let r = page(&app, &cdao, "/").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "Greater Manchester: case dashboard");
    assert_has(&r, r#"href="/cases?status=new&#38;sort=oldest""#);
    assert_has(&r, ">2</span> new cases</a>");
    assert_has(&r, "No cases overdue for triage</a>");
    assert_has(&r, ">2</span> cases submitted this week</a>");
    assert_has(&r, ">2</span> open cases not assigned</a>");
    assert_has(&r, &ref_a);
    assert_has(&r, &ref_b);
    assert_lacks(&r, &ref_london);
    assert_has(&r, "No case is overdue for triage.");
    assert_has(
        &r,
        r#"aria-current="page"><strong class="nhsuk-header__navigation-item-current-fallback">Dashboard"#,
    );
    // Other roles keep their home page; the analyst's leads to statistics.
    let r = page(&app, app.world.user("reporter"), "/").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "Hello, Test reporter");
    let r = page(&app, app.world.user("analyst"), "/").await;
    assert_has(&r, r#"href="/statistics""#);
    // Three working days later both are overdue and stand out (a fresh session: the first
    // one timed out while the clock moved).
    app.clock.advance(TimeDelta::days(4) + TimeDelta::hours(1));
    let cdao = app
        .create_user(
            "cdao_later",
            cdconcerns::domain::directory::Role::Cdao,
            Some(app.world.nhse_nw),
            vec![app.world.gm],
        )
        .await;
    let r = page(&app, &cdao, "/").await;
    assert_has(&r, ">2</span> cases overdue for triage</a>");
    assert_has(&r, "nhsuk-card--warning");
    assert_has(&r, "Action needed");
    assert_has(&r, "Overdue</strong>");
    assert_has(&r, "The 10 cases waiting longest past their triage target");
    // Triaged, one leaves the overdue list and the new count.
    post(
        &app,
        &cdao,
        &format!("/cases/{a}/triage"),
        &[("status", "in_review")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &cdao, "/").await;
    assert_has(&r, ">1</span> case overdue for triage</a>");
    assert_has(&r, ">1</span> case in review</a>");
}

#[tokio::test]
async fn the_case_list_filters_pages_exports_and_names_a_bad_filter() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let (_, first) = new_incident(&app, "reporter").await;
    let (_, second) = new_incident(&app, "reporter").await;
    let (_, third) = new_incident(&app, "reporter").await;
    let (_, concern) = new_concern(&app, "reporter", &person_concern()).await;
    let r = page(&app, &cdao, "/cases").await;
    r.assert_status(StatusCode::OK);
    for reference in [&first, &second, &third, &concern] {
        assert_has(&r, reference);
    }
    assert_has(&r, "4 cases in all. 4 on the first page, newest first.");
    // Each row's summary names a person of concern's subject type (never a name), and an
    // incident's none: the list reads subject types for persons of concern only.
    assert_eq!(
        r.text()
            .matches("Registered professional, the subject of the report")
            .count(),
        1
    );
    let r = page(&app, &cdao, "/cases?kind=person_concern").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, &concern);
    assert_lacks(&r, &first);
    assert_has(&r, "Registered professional, the subject of the report");
    assert_has(&r, r#"<option value="person_concern" selected>"#);
    assert_has(&r, r#"href="/cases.csv?kind=person_concern""#);
    let r = page(&app, &cdao, "/cases?status=new&priority=urgent").await;
    assert_has(&r, "No cases match these filters.");
    assert_has(&r, r#"value="new" checked"#);
    let r = page(&app, &cdao, &format!("/cases?q={first}")).await;
    assert_has(&r, &first);
    assert_lacks(&r, &second);
    // Pages: the next page keeps the filters and carries the cursor.
    let r = page(&app, &cdao, "/cases?kind=incident&limit=2").await;
    assert_has(
        &r,
        "3 cases in all. 2 on the first page, newest first; there are more on the next page.",
    );
    assert_has(&r, &third);
    assert_lacks(&r, &first);
    let text = r.text();
    let start = text
        .find("/cases?kind=incident&#38;limit=2&#38;cursor=")
        .unwrap();
    let href = text[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let r = page(&app, &cdao, &href).await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, &first);
    assert_lacks(&r, &third);
    assert_has(&r, "First</span>");
    // A bad filter: the form again, with an error summary that links to the field (422).
    let r = page(&app, &cdao, "/cases?from=2026-13-01&status=lost").await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, "nhsuk-error-summary");
    assert_has(&r, r##"href="#from""##);
    assert_has(&r, "Submitted from must be a real date, like 2026-11-02");
    assert_has(&r, r##"href="#status""##);
    assert_has(&r, r#"value="2026-13-01""#);
    assert_has(&r, "<title>Error: Cases");
    let r = page(&app, &cdao, "/cases?from=2026-11-20&to=2026-11-01").await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(
        &r,
        "Submitted to must be the same as or after submitted from",
    );
    // The CSV of the same filters, without identities.
    let r = page(&app, &cdao, "/cases.csv?kind=incident").await;
    r.assert_status(StatusCode::OK);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.text().lines().count(), 4);
    // Reporters and organisation leads have their own list.
    let r = page(&app, app.world.user("reporter"), "/cases").await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/reports");
}

#[tokio::test]
async fn the_case_page_shows_matches_in_full_and_a_hidden_match_without_leaking_it() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let ((mine, mine_ref), (gm, gm_ref), (london, london_ref)) =
        three_reports_of_one_doctor(&app).await;
    let r = page(&app, &cdao, &format!("/cases/{mine}")).await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, &mine_ref);
    assert_has(&r, "Dr Jonathan Example-Smith");
    assert_has(&r, "GMC number");
    assert_has(&r, "Other reports naming the same person");
    assert_has(&r, &format!(r#"href="/cases/{gm}""#));
    assert_has(&r, &gm_ref);
    assert_has(&r, "GM Pharmacy");
    assert_has(&r, "GMC number and name and date of birth");
    assert_has(&r, "A possible match is held by the London CDAO team");
    assert_has(&r, "Ask the London CDAO team for access");
    assert_lacks(&r, &london);
    assert_lacks(&r, &london_ref);
    assert_has(&r, "Alleged (not yet corroborated)");
    assert_has(&r, "app-tag--alleged");
    // The suggestion (a person of concern: medium) and the risk matrix are shown.
    assert_has(&r, "Medium (suggested)");
    assert_has(
        &r,
        "Risk score and grade by likelihood (rows) and consequence (columns)",
    );
    // Who viewed it, from the audit trail: this very view.
    assert_has(&r, "Who has viewed this case");
    assert_has(&r, "Viewed the case and the identities in it");
    assert_has(&r, "case review");
    // The case of another area is not there at all; reporters read theirs elsewhere.
    page(&app, &cdao, &format!("/cases/{london}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let r = page(&app, app.world.user("reporter"), &format!("/cases/{mine}")).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), format!("/reports/{mine}"));
    page(&app, app.world.user("reporter"), &format!("/cases/{gm}"))
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_cdao_triages_through_the_form_and_the_timeline_tells_it() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let (id, _) = new_incident(&app, "reporter").await;
    let path = format!("/cases/{id}");
    let cdao_id = cdao.id.to_string();
    let r = post(
        &app,
        &cdao,
        &format!("{path}/triage"),
        &[
            ("status", "in_review"),
            ("priority", "urgent"),
            ("assignee_id", &cdao_id),
            ("risk_was", ""),
            ("risk_consequence", "4"),
            ("risk_likelihood", "4"),
            ("note", "Looks like diversion: check the CD register."),
        ],
    )
    .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), path);
    let r = page(&app, &cdao, &path).await;
    assert_has(&r, "Triage saved.");
    assert_has(&r, "In review</strong>");
    assert_has(&r, "Urgent priority");
    assert_has(
        &r,
        "Extreme: consequence 4 (major) × likelihood 4 (likely) = 16",
    );
    assert_has(&r, "16 Extreme (this case)");
    assert_has(&r, "Test cdao");
    assert_has(&r, "Internal note");
    assert_has(&r, "Looks like diversion: check the CD register.");
    assert_has(&r, "Status changed from new to in review");
    assert_has(&r, "Priority: not set to Urgent");
    assert_has(&r, "Internal</strong>");
    // The status select offers only the moves that make sense from here.
    assert_has(
        &r,
        r#"<option value="investigating">Investigating</option>"#,
    );
    assert_lacks(&r, r#"<option value="new">"#);
    // The reporter sees the status, never the note.
    let seen = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(app.world.user("reporter"))
        .send()
        .await
        .text();
    assert!(seen.contains("in_review") && !seen.contains("Looks like diversion"));
    // Saving again with the grade unchanged does not grade it again.
    post(
        &app,
        &cdao,
        &format!("{path}/triage"),
        &[
            ("status", "in_review"),
            ("risk_was", "4,4"),
            ("risk_consequence", "4"),
            ("risk_likelihood", "4"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let graded: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM case_events WHERE case_id = $1::uuid AND data ? 'risk'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(graded, 1);
    // Mistakes come back on the page with an error summary.
    let r = post(
        &app,
        &cdao,
        &format!("{path}/triage"),
        &[
            ("priority", "whenever"),
            ("risk_consequence", "3"),
            ("risk_likelihood", ""),
            ("note", "kept when the form comes back"),
        ],
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, "nhsuk-error-summary");
    assert_has(&r, r##"href="#priority""##);
    assert_has(&r, r##"href="#risk_consequence""##);
    assert_has(&r, "kept when the form comes back");
    assert_has(&r, "<title>Error: CD-");
    // "Not assigned" clears the assignment.
    post(
        &app,
        &cdao,
        &format!("{path}/triage"),
        &[("assignee_id", "")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &cdao, &path).await;
    assert_has(&r, "No longer assigned");
    // A move the status machine refuses is a clear message, not an error page.
    let (other, _) = new_incident(&app, "reporter").await;
    let r = post(
        &app,
        &cdao,
        &format!("/cases/{other}/triage"),
        &[("status", "investigating")],
    )
    .await;
    r.assert_status(StatusCode::CONFLICT);
    assert_has(&r, "This could not be done");
    assert_has(&r, "A case cannot move from new to investigating.");
}

#[tokio::test]
async fn the_cdao_asks_for_information_through_the_form_and_the_answer_brings_the_case_back() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let (id, _) = new_incident(&app, "reporter").await;
    let path = format!("/cases/{id}");
    let r = post(&app, &cdao, &format!("{path}/messages"), &[("body", "")]).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, r##"href="#body""##);
    let r = post(
        &app,
        &cdao,
        &format!("{path}/messages"),
        &[
            ("body", "Which shift found the discrepancy?"),
            ("request_information", "true"),
        ],
    )
    .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &cdao, &path).await;
    assert_has(
        &r,
        "Your request for information has been sent to the reporter.",
    );
    assert_has(&r, "Awaiting information</strong>");
    assert_has(&r, "Request for information sent to the reporter");
    assert_has(&r, "Which shift found the discrepancy?");
    assert_has(&r, "Information has already been requested");
    // Asking again is refused with a clear message.
    let r = post(
        &app,
        &cdao,
        &format!("{path}/messages"),
        &[("body", "And?"), ("request_information", "true")],
    )
    .await;
    r.assert_status(StatusCode::CONFLICT);
    assert_has(&r, "Information has already been requested on this case.");
    // The reporter answers; the case is back in review.
    app.post(&format!("/api/v1/cases/{id}/messages"))
        .token(app.world.user("reporter"))
        .json(&json!({"body": "The night shift."}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let r = page(&app, &cdao, &path).await;
    assert_has(&r, "In review</strong>");
    assert_has(&r, "Message from the reporter");
    assert_has(&r, "The night shift.");
    assert_has(&r, "GM Pharmacy (reporting organisation)");
}

#[tokio::test]
async fn closing_and_reopening_through_forms_with_clear_conflicts() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let (id, _) = new_incident(&app, "reporter").await;
    let (other, other_ref) = new_incident(&app, "reporter").await;
    let path = format!("/cases/{id}");
    // Link by reference first.
    let r = post(
        &app,
        &cdao,
        &format!("{path}/links"),
        &[("link_case", "CD-2026-999999"), ("relation", "related")],
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, r##"href="#link_case""##);
    assert_has(&r, "There is no case with this reference that you can see");
    let lower = other_ref.to_lowercase();
    post(
        &app,
        &cdao,
        &format!("{path}/links"),
        &[("link_case", lower.as_str()), ("relation", "related")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &cdao, &path).await;
    assert_has(&r, "Related to <a class=\"app-reference\"");
    assert_has(&r, &format!(r#"href="/cases/{other}""#));
    assert_has(&r, &format!("Linked to {other_ref}"));
    // Close: the outcome and whether it was well founded are needed.
    let r = post(
        &app,
        &cdao,
        &format!("{path}/close"),
        &[("close_note", "x")],
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, r##"href="#outcome""##);
    assert_has(&r, r##"href="#well_founded""##);
    let close = [
        ("outcome", "referred_to_police"),
        ("well_founded", "yes"),
        ("close_note", "Crime reference given."),
    ];
    post(&app, &cdao, &format!("{path}/close"), &close)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &cdao, &path).await;
    assert_has(&r, "The case has been closed.");
    assert_has(&r, "Closed</strong>");
    assert_has(&r, "Referred to the police");
    assert_has(&r, "Reopen the case");
    assert_lacks(&r, "Save triage");
    assert_lacks(&r, "Close case");
    // Closing twice, or triaging a closed case: a clear message at the top, status 409.
    let r = post(&app, &cdao, &format!("{path}/close"), &close).await;
    r.assert_status(StatusCode::CONFLICT);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert_has(&r, "This could not be done");
    assert_has(&r, "The case is already closed.");
    assert_has(&r, "Reopen the case");
    let r = post(
        &app,
        &cdao,
        &format!("{path}/triage"),
        &[("priority", "low")],
    )
    .await;
    r.assert_status(StatusCode::CONFLICT);
    assert_has(&r, "The case is closed: reopen it first.");
    // Reopen needs a reason.
    let r = post(
        &app,
        &cdao,
        &format!("{path}/reopen"),
        &[("reopen_reason", " ")],
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, r##"href="#reopen_reason""##);
    post(
        &app,
        &cdao,
        &format!("{path}/reopen"),
        &[("reopen_reason", "New evidence from the police.")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &cdao, &path).await;
    assert_has(&r, "In review</strong>");
    assert_has(&r, "Reopened: New evidence from the police.");
    assert_has(&r, "Save triage");
    let r = post(
        &app,
        &cdao,
        &format!("{path}/reopen"),
        &[("reopen_reason", "again")],
    )
    .await;
    r.assert_status(StatusCode::CONFLICT);
    assert_has(&r, "Only a closed case can be reopened.");
}

#[tokio::test]
async fn access_is_requested_and_decided_through_the_forms() {
    let app = TestApp::new().await;
    let w = &app.world;
    let cdao = w.user("cdao").clone();
    let london_cdao = w.user("cdao_london").clone();
    let ((mine, _), _, (london, london_ref)) = three_reports_of_one_doctor(&app).await;
    let ask = format!("/cases/{mine}/access-requests");
    let area = w.london.to_string();
    let r = post(&app, &cdao, &ask, &[("area_id", &area), ("reason", "")]).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, &format!(r##"href="#access-reason-{area}""##));
    let reason = "The same GMC number was reported here by two organisations.";
    post(&app, &cdao, &ask, &[("area_id", &area), ("reason", reason)])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &cdao, &format!("/cases/{mine}")).await;
    assert_has(&r, "Your request has been sent to the London CDAO team.");
    assert_has(&r, "Your team asked for access: waiting for a decision");
    assert_lacks(&r, "Ask the London CDAO team for access");
    let r = post(&app, &cdao, &ask, &[("area_id", &area), ("reason", reason)]).await;
    r.assert_status(StatusCode::CONFLICT);
    assert_has(
        &r,
        "A request for this match is already waiting for a decision.",
    );
    // The requests page of each team.
    let r = page(&app, &cdao, "/access-requests").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "Requests your team made");
    assert_has(&r, "Waiting for a decision");
    let r = page(&app, &london_cdao, "/access-requests").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "From Test cdao, Greater Manchester CDAO team");
    assert_has(&r, reason);
    assert_has(&r, &format!(r#"href="/cases/{london}""#));
    assert_has(&r, &london_ref);
    let r = page(&app, &london_cdao, "/").await;
    assert_has(&r, ">1</span> access request to decide</a>");
    let list = app
        .get("/api/v1/access-requests")
        .token(&london_cdao)
        .send()
        .await
        .json();
    let request = list["items"][0]["id"].as_str().unwrap().to_string();
    let decide = format!("/access-requests/{request}/decide");
    let field = format!("reason-{request}");
    let r = post(&app, &london_cdao, &decide, &[("decision", "decline")]).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, &format!(r##"href="#{field}""##));
    assert_has(&r, "Give the reason for declining");
    // The London team's internal note stays with them, even once access is granted.
    post(
        &app,
        &london_cdao,
        &format!("/cases/{london}/triage"),
        &[("note", "London only: the locum agency is cooperating.")],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // The requester cannot decide their own request.
    post(&app, &cdao, &decide, &[("decision", "approve")])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    post(&app, &london_cdao, &decide, &[("decision", "approve")])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let r = page(&app, &london_cdao, "/access-requests").await;
    assert_has(
        &r,
        "You approved the request from the Greater Manchester CDAO team",
    );
    assert_has(&r, "Approved</strong>");
    let r = post(&app, &london_cdao, &decide, &[("decision", "approve")]).await;
    r.assert_status(StatusCode::CONFLICT);
    assert_has(&r, "This request has already been decided.");
    // The approval made an identified share to the Greater Manchester team, which waits for
    // a second London CDAO to approve it.
    let r = page(&app, &cdao, &format!("/cases/{london}")).await;
    r.assert_status(StatusCode::NOT_FOUND);
    let second = app
        .create_user(
            "cdao_london_2",
            cdconcerns::domain::directory::Role::Cdao,
            Some(w.nhse_london),
            vec![w.london],
        )
        .await;
    let pending = page(&app, &second, "/shares/pending").await;
    assert_has(&pending, &london_ref);
    let share: String = sqlx::query_scalar("SELECT id::text FROM shares WHERE case_id = $1")
        .bind(uuid::Uuid::parse_str(&london).unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    post(&app, &second, &format!("/shares/{share}/approve"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // The Greater Manchester team now sees the London case, read-only, as the share allows.
    let r = page(&app, &cdao, &format!("/cases/{mine}")).await;
    assert_has(&r, &format!(r#"href="/cases/{london}""#));
    assert_lacks(&r, "A possible match is held by");
    let r = page(&app, &cdao, &format!("/cases/{london}")).await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "This case belongs to the London CDAO team");
    assert_has(&r, "J Smith");
    assert_lacks(&r, "London only: the locum agency");
    assert_lacks(&r, "Internal note");
    assert_lacks(&r, "Save triage");
    assert_lacks(&r, "Who has viewed this case");
    post(
        &app,
        &cdao,
        &format!("/cases/{london}/triage"),
        &[("priority", "low")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    let r = page(&app, &cdao, "/access-requests").await;
    assert_has(&r, "Approved</strong>");
}

#[tokio::test]
async fn statistics_are_drawn_for_each_role_with_national_small_numbers_suppressed() {
    let app = TestApp::new().await;
    for _ in 0..6 {
        new_incident(&app, "reporter").await;
    }
    new_incident(&app, "reporter_london").await;
    new_concern(&app, "reporter", &person_concern()).await;
    let w = &app.world;
    let r = page(&app, w.user("cdao"), "/statistics").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "Greater Manchester");
    for h in [
        "Reports by month",
        "Reports by category",
        "Reports by schedule of the drugs involved",
        "Reports by sector of the reporting organisation",
        "Incidents by level of harm",
        "The 15 drugs most often reported",
    ] {
        assert_has(&r, h);
    }
    assert_has(&r, r#"role="img""#);
    assert_has(
        &r,
        r#"<title id="chart-category-title">Reports by category</title>"#,
    );
    assert_has(
        &r,
        "Theft or diversion (of CDs, CD keys or registers): 6 reports",
    );
    assert_has(&r, "<caption");
    assert_has(&r, r#"href="/statistics.csv?group_by=category""#);
    assert_has(&r, "Quarterly occurrence returns");
    assert_has(&r, "GM Pharmacy");
    assert_has(&r, "Not returned");
    assert_lacks(&r, "London Pharmacy");
    assert_lacks(&r, "fewer than 5");
    let r = page(&app, w.user("analyst"), "/statistics").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "England");
    assert_has(&r, "fewer than 5");
    assert_lacks(&r, "Quarterly occurrence returns");
    let csv = page(&app, w.user("analyst"), "/statistics.csv?group_by=kind").await;
    csv.assert_status(StatusCode::OK);
    assert!(
        csv.text()
            .contains("person_concern,Persons of concern,,true")
    );
    assert!(csv.text().contains("incident,Incidents,7,false"));
    let r = page(&app, w.user("org_lead"), "/statistics").await;
    r.assert_status(StatusCode::OK);
    assert_has(&r, "GM Pharmacy");
    let r = page(&app, w.user("cdao"), "/statistics?from=2026-02-30").await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_has(&r, r##"href="#from""##);
    for who in ["member", "admin", "auditor"] {
        page(&app, w.user(who), "/statistics")
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
}
