//! Reporting in the browser (issue 3): choosing what to report, the incident and
//! person-of-concern forms with their errors, the identity warning, "Check your answers",
//! sending once, the report page with corrections and evidence, "Your reports", quarterly
//! returns, and who may open each page.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{Resp, TestApp, TestUser};

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of an attribute in a tag's text (`name="..."`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The hidden inputs of a page, as a form would send them.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\"")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}

/// The `#ids` the error summary links to.
fn summary_links(html: &str) -> Vec<String> {
    let Some(start) = html.find("nhsuk-error-summary__list") else {
        return vec![];
    };
    let end = html[start..]
        .find("</ul>")
        .map_or(html.len(), |e| start + e);
    html[start..end]
        .split("href=\"#")
        .skip(1)
        .map(|s| unescape(s.split('"').next().unwrap()))
        .collect()
}

/// Every error-summary link lands on an element of the page.
#[track_caller]
fn assert_links_land(html: &str) {
    let links = summary_links(html);
    assert!(!links.is_empty(), "no error summary");
    for id in links {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "the summary links to #{id}, which is not on the page"
        );
    }
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

async fn post_form(app: &TestApp, user: &TestUser, path: &str, form: &[(String, String)]) -> Resp {
    app.post(path).session(user).form(&pairs(form)).send().await
}

fn owned(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, x)| ((*k).to_string(), (*x).to_string()))
        .collect()
}

fn with(mut form: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    form.retain(|(k, _)| k != name);
    form.push((name.to_string(), value.to_string()));
    form
}

async fn drug_id(app: &TestApp, user: &TestUser, q: &str) -> String {
    app.get(&format!("/api/v1/drugs?q={q}"))
        .token(user)
        .send()
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn case_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM cases")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// 28 morphine tablets missing from the CD register, as a pharmacist would type it.
fn incident_form(morphine: &str) -> Vec<(String, String)> {
    owned(&[
        ("occurred_on-day", "2"),
        ("occurred_on-month", "11"),
        ("occurred_on-year", "2026"),
        ("occurred_time", "14:30"),
        ("discovered_on-day", "3"),
        ("discovered_on-month", "11"),
        ("discovered_on-year", "2026"),
        ("location", "Dispensary CD cabinet"),
        ("categories", "lost_missing"),
        ("categories", "stock_discrepancy"),
        ("drug_rows", "2"),
        ("drugs[0].drug_id", morphine),
        ("drugs[0].name", ""),
        ("drugs[0].schedule", ""),
        ("drugs[0].formulation", "tablets"),
        ("drugs[0].strength", "10 mg"),
        ("drugs[0].quantity", "28"),
        ("drugs[0].unit", "tablets"),
        ("drugs[0].daily_dose_mg", "60"),
        ("drugs[1].drug_id", ""),
        ("drugs[1].quantity", ""),
        ("harm", "none"),
        ("near_miss", "no"),
        (
            "description",
            "Running balance of morphine sulfate 10 mg tablets 28 short at the weekly check.",
        ),
        (
            "actions_taken",
            "Balance rechecked; superintendent informed.",
        ),
        ("police_informed", "no"),
        ("police_reference", ""),
        ("patient_involved", "no"),
        ("action", "continue"),
    ])
}

#[tokio::test]
async fn a_reporter_chooses_what_to_report() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let r = app.get("/reports/new").session(u).send().await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("An incident involving controlled drugs"));
    assert!(html.contains("A concern about a person"));
    assert!(html.contains("call 999") && html.contains("101") && html.contains("48 hours"));
    let r = app.post("/reports/new").session(u).form(&[]).send().await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["kind"]);
    assert_links_land(&r.text());
    for (kind, to) in [
        ("incident", "/reports/new/incident"),
        ("person_concern", "/reports/new/person-concern"),
    ] {
        let r = app
            .post("/reports/new")
            .session(u)
            .form(&[("kind", kind)])
            .send()
            .await;
        r.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(r.location(), to);
    }
}

#[tokio::test]
async fn an_incident_is_reported_step_by_step_corrected_checked_and_sent_once() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let morphine = drug_id(&app, &u, "morphine").await;

    // The first step: what happened; no drugs or harm on it.
    let r = app.get("/reports/new/incident").session(&u).send().await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    for id in ["occurred_on-day", "location", "categories", "description"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(!html.contains("id=\"drugs[0].drug_id\"") && !html.contains("id=\"harm\""));
    assert!(html.contains("step 1 of 4"));

    // Its errors only: a date without its year, no kinds (the harm is not asked yet).
    let mut bad = with(incident_form(&morphine), "harm", "");
    bad = with(bad, "discovered_on-year", "");
    bad.retain(|(k, _)| k != "categories");
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(bad, "step", "what"),
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert_eq!(summary_links(&html), ["discovered_on-year", "categories"]);
    assert_links_land(&html);
    assert!(html.contains("<title>Error: "));
    assert!(html.contains("The date it was discovered must include a year"));
    assert!(
        html.contains("value=\"Dispensary CD cabinet\""),
        "what was typed is kept"
    );
    assert!(
        html.contains("name=\"drugs[0].quantity\" value=\"28\""),
        "other steps carried"
    );

    // On to the drugs: one row, the catalogue grouped by schedule; "Add another drug".
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(incident_form(&morphine), "step", "what"),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("Which controlled drugs were involved?"));
    assert!(html.contains("<optgroup label=\"Schedule 2\">"));
    assert!(html.contains(&format!("<option value=\"{morphine}\" selected>")));
    assert!(html.contains(">Not in the list</option>"));
    let drugs = with(incident_form(&morphine), "step", "drugs");
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(drugs.clone(), "action", "add_drug"),
    )
    .await;
    r.assert_status(StatusCode::OK);
    assert!(r.text().contains("id=\"drugs[2].drug_id\""));
    assert!(!r.text().contains("nhsuk-error-summary"));
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(drugs, "drugs[0].quantity", "lots"),
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["drugs[0].quantity"]);
    assert!(
        r.text()
            .contains("Drug 1: quantity must be a number, like 28")
    );

    // Harm and people: the harm missing.
    let harm = with(with(incident_form(&morphine), "step", "harm"), "harm", "");
    let r = post_form(&app, &u, "/reports/new/incident", &harm).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["harm"]);
    assert!(r.text().contains("Select the level of harm"));

    // The last step checks everything: a date in the future takes the reporter to its step.
    let mut bad = with(incident_form(&morphine), "occurred_on-year", "2027");
    bad = with(bad, "step", "police");
    let r = post_form(&app, &u, "/reports/new/incident", &bad).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert_eq!(summary_links(&html), ["occurred_on-day"]);
    assert!(html.contains("The date it happened must be today or in the past"));

    // The police step: the crime reference is inside the "Yes" reveal.
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(incident_form(&morphine), "step", "harm"),
    )
    .await;
    let html = r.text();
    assert!(html.contains("Have the police been told?"));
    assert!(html.contains("data-app-reveals=\"conditional-police_informed\""));

    // "Check your answers", with labels, the drug's schedule and its OME.
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(incident_form(&morphine), "step", "police"),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let check = r.text();
    assert!(check.contains("Check your answers before sending your report"));
    for shown in [
        "2 November 2026 at 14:30",
        "Lost or missing CDs",
        "Stock or running-balance discrepancy",
        "Schedule 2",
        "Quantity: 28 tablets",
        "Oral morphine equivalent: 60 mg a day",
        "No harm",
        "Dispensary CD cabinet",
    ] {
        assert!(check.contains(shown), "{shown}");
    }
    assert!(check.contains("value=\"change:harm\""));
    let hidden = hidden_inputs(&check);
    assert!(hidden.iter().any(|(k, _)| k == "submission_token"));

    // "Change" goes back to the answer's step with every value, then straight back.
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(hidden.clone(), "action", "change:location"),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("value=\"Dispensary CD cabinet\""));
    assert!(html.contains("name=\"return_to\" value=\"check\""));
    let back = with(
        with(hidden_form_values(&html), "action", "continue"),
        "location",
        "Dispensary, Northbrook",
    );
    let r = post_form(&app, &u, "/reports/new/incident", &back).await;
    assert!(r.text().contains("Check your answers") && r.text().contains("Dispensary, Northbrook"));

    // Sent: to the report page with its reference. Sent twice: still one report.
    let send = with(hidden, "action", "submit");
    assert_eq!(case_count(&app).await, 0);
    let r = post_form(&app, &u, "/reports/new/incident", &send).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let location = r.location().to_string();
    assert!(location.starts_with("/reports/") && location.ends_with("?submitted=1"));
    let again = post_form(&app, &u, "/reports/new/incident", &send).await;
    again.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(again.location(), location);
    assert_eq!(case_count(&app).await, 1);

    let r = app.get(&location).session(&u).send().await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("Report sent"));
    assert!(html.contains("CD-2026-000001"));
    // As submitted through the API, exactly.
    let id = location
        .trim_start_matches("/reports/")
        .trim_end_matches("?submitted=1");
    let c = app
        .get(&format!("/api/v1/cases/{id}"))
        .token(&u)
        .send()
        .await
        .json();
    assert_eq!(c["report"]["drugs"][0]["quantity"], 28.0);
    assert_eq!(c["report"]["drugs"][0]["ome_mg_per_day"], 60.0);
    assert_eq!(c["report"]["occurred_time"], "14:30");
    assert_eq!(
        c["report"]["categories"],
        json!(["lost_missing", "stock_discrepancy"])
    );
    assert_eq!(c["report"]["drugs"].as_array().unwrap().len(), 1);
    let r = app.get("/reports").session(&u).send().await;
    assert!(r.text().contains("CD-2026-000001"));
}

#[tokio::test]
async fn the_identity_warning_appears_for_an_nhs_number_and_goes_once_acknowledged() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let morphine = drug_id(&app, &u, "morphine").await;
    let form = with(
        with(incident_form(&morphine), "step", "what"),
        "description",
        "Patient NHS number 943 476 5919 was given the wrong strength.",
    );
    let r = post_form(&app, &u, "/reports/new/incident", &form).await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("id=\"identity-warning\""));
    assert!(html.contains("Your description seems to contain an NHS number (943 476 5919)."));
    assert!(html.contains("value=\"remove_identifiers\""));
    assert!(
        html.contains("/reports/new/person-concern"),
        "points to the person form"
    );
    assert!(
        !html.contains("value=\"move_identifiers\""),
        "an incident has nowhere to move it"
    );
    assert!(!html.contains("Which controlled drugs"));

    // Remove it: the step again, the number blanked out.
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(form.clone(), "action", "remove_identifiers"),
    )
    .await;
    r.assert_status(StatusCode::OK);
    assert!(r.text().contains("Patient NHS number [removed] was given"));
    assert!(!r.text().contains("943 476 5919"));
    assert!(!r.text().contains("id=\"identity-warning\""));

    // Or say it identifies nobody: no warning, on to the next step, and it stays acknowledged
    // through the check page and "Change".
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(with(form, "identity_checked", "yes"), "return_to", "check"),
    )
    .await;
    r.assert_status(StatusCode::OK);
    assert!(r.text().contains("Check your answers"));
    let hidden = hidden_inputs(&r.text());
    let r = post_form(
        &app,
        &u,
        "/reports/new/incident",
        &with(hidden, "action", "change:description"),
    )
    .await;
    assert!(r.text().contains("name=\"identity_checked\" value=\"yes\""));
    let back = with(hidden_form_values(&r.text()), "action", "continue");
    let r = post_form(&app, &u, "/reports/new/incident", &back).await;
    r.assert_status(StatusCode::OK);
    assert!(r.text().contains("Check your answers"), "not warned again");
}

fn person_form() -> Vec<(String, String)> {
    owned(&[
        ("subject_type", "registered_professional"),
        ("person.full_name", "Dr Jonathan Example-Smith"),
        ("person.date_of_birth-day", ""),
        ("person.date_of_birth-month", ""),
        ("person.date_of_birth-year", ""),
        ("person.nhs_number", ""),
        ("registration_rows", "1"),
        ("person.registrations[0].register", ""),
        ("person.registrations[0].number", ""),
        ("person.prescriber_code", ""),
        ("person.job_role", "Pharmacist"),
        ("address_rows", "1"),
        (
            "person.work_addresses[0]",
            "High Street Pharmacy\n1 High Street, Salford",
        ),
        ("concern_categories", "diversion_or_theft"),
        ("provenance", "colleague"),
        ("status", "alleged"),
        (
            "description",
            "A colleague saw him take oxycodone 20 mg tablets home; the register was altered. His GMC number is 1234567 and his NHS no 943 476 5919.",
        ),
        ("action", "continue"),
    ])
}

#[tokio::test]
async fn a_person_concern_is_reported_with_its_identity_in_the_protected_details() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let earlier =
        crate::reports::submit(&app, &u, "/api/v1/incidents", &crate::reports::incident()).await;

    let r = app
        .get("/reports/new/person-concern")
        .session(&u)
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("Protected details"));
    assert!(html.contains("10 digits, like 943 476 5919"));
    assert!(html.contains("id=\"person.date_of_birth-day\""));
    assert!(
        html.contains("value=\"alleged\" checked"),
        "alleged by default"
    );
    assert!(
        html.contains("CD-2026-000001"),
        "the reporter's incidents can be linked"
    );

    // Everything missing, then a bad NHS number and registration.
    let r = post_form(
        &app,
        &u,
        "/reports/new/person-concern",
        &owned(&[("action", "continue")]),
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        summary_links(&r.text()),
        [
            "subject_type",
            "person.full_name",
            "concern_categories",
            "provenance",
            "status",
            "description"
        ]
    );
    assert_links_land(&r.text());
    let mut bad = with(person_form(), "person.nhs_number", "943 476 5918");
    bad = with(bad, "person.registrations[0].register", "gphc");
    bad = with(bad, "person.registrations[0].number", "1234567");
    bad = with(bad, "person.date_of_birth-day", "31");
    bad = with(bad, "person.date_of_birth-month", "2");
    bad = with(bad, "person.date_of_birth-year", "1970");
    let r = post_form(&app, &u, "/reports/new/person-concern", &bad).await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert_eq!(
        summary_links(&html),
        [
            "person.date_of_birth-day",
            "person.nhs_number",
            "person.registrations[0].number"
        ]
    );
    assert_links_land(&html);
    assert!(html.contains("check digit"));
    assert!(html.contains("Registration 1: GPhC number must be 7 digits"));
    assert!(html.contains("value=\"Dr Jonathan Example-Smith\""));

    // The description names him: warned, and offered the protected fields.
    let r = post_form(&app, &u, "/reports/new/person-concern", &person_form()).await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(html.contains("id=\"identity-warning\""));
    assert!(html.contains("an NHS number (943 476 5919)"));
    assert!(html.contains("a registration number (1234567)"));
    assert!(html.contains("value=\"move_identifiers\""));

    // Moved: the number in the NHS number field, the GMC number in a registration.
    let r = post_form(
        &app,
        &u,
        "/reports/new/person-concern",
        &with(person_form(), "action", "move_identifiers"),
    )
    .await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    assert!(
        !html.contains("id=\"identity-warning\""),
        "nothing left to warn about"
    );
    assert!(html.contains("value=\"943 476 5919\""));
    assert!(html.contains("<option value=\"gmc\" selected>"));
    assert!(html.contains("value=\"1234567\""));
    assert!(html.contains("His GMC number is [moved to the protected details]"));

    // Continue with what the page now holds, link the earlier incident, check and send.
    let mut moved = hidden_form_values(&html);
    moved.push((
        "linked_case_ids".into(),
        earlier["id"].as_str().unwrap().into(),
    ));
    moved = with(moved, "action", "continue");
    let r = post_form(&app, &u, "/reports/new/person-concern", &moved).await;
    r.assert_status(StatusCode::OK);
    let check = r.text();
    assert!(
        check.contains("Check your answers"),
        "{}",
        &check[..check.len().min(3000)]
    );
    for shown in [
        "Dr Jonathan Example-Smith",
        "943 476 5919",
        "GMC 1234567",
        "High Street Pharmacy",
        "Diversion or theft",
        "Alleged (not yet corroborated)",
        "CD-2026-000001",
    ] {
        assert!(check.contains(shown), "{shown}");
    }
    let send = with(hidden_inputs(&check), "action", "submit");
    let r = post_form(&app, &u, "/reports/new/person-concern", &send).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let location = r.location().to_string();
    let html = app.get(&location).session(&u).send().await.text();
    assert!(html.contains("CD-2026-000002"));
    assert!(html.contains("Protected details"));
    assert!(html.contains("943 476 5919"));
    // Kept sealed, not as text.
    let report: String =
        sqlx::query_scalar("SELECT report::text FROM cases WHERE kind = 'person_concern'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(!report.contains("9434765919") && !report.contains("Example-Smith"));
}

/// The values a form page holds in its text inputs, textareas, checked radios and
/// checkboxes, selected options and hidden inputs (enough for these forms).
fn hidden_form_values(html: &str) -> Vec<(String, String)> {
    let mut out = hidden_inputs(html)
        .into_iter()
        .filter(|(k, _)| k != "action")
        .collect::<Vec<_>>();
    for chunk in html.split("<input ").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap()];
        let (Some(name), Some(kind)) = (attr(tag, "name"), attr(tag, "type")) else {
            continue;
        };
        match kind.as_str() {
            "text" => out.push((name, attr(tag, "value").unwrap_or_default())),
            "radio" | "checkbox" if tag.contains(" checked") => {
                out.push((name, attr(tag, "value").unwrap_or_default()))
            }
            _ => {}
        }
    }
    for chunk in html.split("<textarea ").skip(1) {
        let open_end = chunk.find('>').unwrap();
        let name = attr(&chunk[..open_end], "name").unwrap();
        let close = chunk.find("</textarea>").unwrap();
        out.push((name, unescape(&chunk[open_end + 1..close])));
    }
    for chunk in html.split("<select ").skip(1) {
        let name = attr(&chunk[..chunk.find('>').unwrap()], "name").unwrap();
        let body = &chunk[..chunk.find("</select>").unwrap()];
        let selected = body
            .split("<option ")
            .skip(1)
            .find(|o| o[..o.find('>').unwrap()].contains(" selected"))
            .and_then(|o| attr(&format!(" {}", &o[..o.find('>').unwrap()]), "value"))
            .unwrap_or_default();
        out.push((name, selected));
    }
    out
}

fn multipart(filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "cdcpageboundary9f3K2";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(app: &TestApp, user: &TestUser, id: &str, filename: &str, data: &[u8]) -> Resp {
    let (ct, body) = multipart(filename, data);
    app.post(&format!("/reports/{id}/attachments"))
        .session(user)
        .header("origin", "http://cdc.test")
        .header("sec-fetch-site", "same-origin")
        .raw(&ct, body)
        .send()
        .await
}

#[tokio::test]
async fn corrections_and_evidence_are_added_on_the_report_page() {
    let app = TestApp::new().await;
    let w = &app.world;
    let u = w.user("reporter").clone();
    let s =
        crate::reports::submit(&app, &u, "/api/v1/incidents", &crate::reports::incident()).await;
    let id = s["id"].as_str().unwrap();
    let path = format!("/reports/{id}");

    let html = app.get(&path).session(&u).send().await.text();
    assert!(
        !html.contains("nhsuk-panel"),
        "the panel is only for a report just sent"
    );
    assert!(html.contains("Report CD-2026-000001"));
    assert!(html.contains("Add a correction or more information"));
    assert!(html.contains("enctype=\"multipart/form-data\""));

    // A correction: empty is an error on its field, then added with a message.
    let r = app
        .post(&format!("{path}/amendments"))
        .session(&u)
        .form(&[("text", "  ")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["text"]);
    assert_links_land(&r.text());
    let r = app
        .post(&format!("{path}/amendments"))
        .session(&u)
        .form(&[("text", "The count was 29, not 28.")])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), path);
    let html = app.get(&path).session(&u).send().await.text();
    assert!(html.contains("has been added to the report"));
    assert!(html.contains("The count was 29, not 28."));
    assert!(html.contains("by you"));

    // Evidence: a PDF is added and downloads as an attachment.
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF".to_vec();
    let r = upload(&app, &u, id, "register page.pdf", &pdf).await;
    r.assert_status(StatusCode::SEE_OTHER);
    let html = app.get(&path).session(&u).send().await.text();
    assert!(html.contains("register page.pdf has been added to the report."));
    let href_start = html
        .find(&format!("href=\"/reports/{id}/attachments/"))
        .unwrap()
        + 6;
    let href = &html[href_start..href_start + html[href_start..].find('"').unwrap()];
    let dl = app.get(href).session(&u).send().await;
    dl.assert_status(StatusCode::OK);
    assert_eq!(dl.body, pdf);
    assert!(
        dl.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    app.get(href)
        .session(w.user("reporter_london"))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // A larger file is fine (the page's body limit is the upload limit, not the default).
    let r = upload(&app, &u, id, "scan.txt", &vec![b'x'; 3 * 1024 * 1024]).await;
    r.assert_status(StatusCode::SEE_OTHER);

    // A program dressed as a PDF, no file, a file too large, a body over the limit: the page
    // again with the error on the file field.
    for (name, data, status, message) in [
        (
            "invoice.pdf",
            b"MZ\x90\x00 an executable".to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must be a PDF, PNG, JPEG",
        ),
        (
            "",
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "Select a file to upload",
        ),
        (
            "big.txt",
            vec![b'a'; 10 * 1024 * 1024 + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "must be smaller than 10 MB",
        ),
        (
            "bigger.txt",
            vec![b'a'; 11 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "must be smaller than 10 MB",
        ),
    ] {
        let r = upload(&app, &u, id, name, &data).await;
        r.assert_status(status);
        let html = r.text();
        assert!(html.contains(message), "{name}: {message}");
        assert_eq!(summary_links(&html), ["file"], "{name}");
        assert_links_land(&html);
    }

    // The CDAO of the area sees the page, without the reporter's forms.
    let r = app.get(&path).session(w.user("cdao")).send().await;
    r.assert_status(StatusCode::OK);
    assert!(r.text().contains("The count was 29, not 28."));
    assert!(!r.text().contains("Add evidence"));
    // The organisation's CD lead may add to it.
    let r = app.get(&path).session(w.user("org_lead")).send().await;
    assert!(r.text().contains("Add evidence"));
}

#[tokio::test]
async fn a_report_page_is_not_found_for_anyone_who_may_not_see_the_case() {
    let app = TestApp::new().await;
    let w = &app.world;
    let s = crate::reports::submit(
        &app,
        w.user("reporter"),
        "/api/v1/incidents",
        &crate::reports::incident(),
    )
    .await;
    let path = format!("/reports/{}", s["id"].as_str().unwrap());
    for who in [
        "reporter_london",
        "cdao_london",
        "member",
        "admin",
        "auditor",
        "analyst",
    ] {
        app.get(&path)
            .session(w.user(who))
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
        app.post(&format!("{path}/amendments"))
            .session(w.user(who))
            .form(&[("text", "x")])
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    for who in ["reporter", "org_lead", "cdao"] {
        app.get(&path)
            .session(w.user(who))
            .send()
            .await
            .assert_status(StatusCode::OK);
    }
    app.get("/reports/not-a-uuid")
        .session(w.user("reporter"))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn your_reports_lists_the_callers_scope_with_filters_and_pages() {
    let app = TestApp::new().await;
    let w = &app.world;
    let u = w.user("reporter").clone();
    let html = app.get("/reports").session(&u).send().await.text();
    assert!(html.contains("No reports have been sent yet."));
    assert!(html.contains("href=\"/reports/new\""));
    for _ in 0..2 {
        crate::reports::submit(&app, &u, "/api/v1/incidents", &crate::reports::incident()).await;
    }
    crate::reports::submit(
        &app,
        w.user("reporter_london"),
        "/api/v1/incidents",
        &crate::reports::incident(),
    )
    .await;
    let html = app.get("/reports").session(&u).send().await.text();
    assert!(html.contains("<h1>Your reports</h1>"));
    assert!(html.contains("CD-2026-000001") && html.contains("CD-2026-000002"));
    assert!(
        !html.contains("CD-2026-000003"),
        "another organisation's report"
    );
    assert!(html.contains("21 November 2026"));
    assert!(html.contains("nhsuk-tag--blue"));
    // One a page: the newest, then "Next page" to the older one.
    let html = app.get("/reports?limit=1").session(&u).send().await.text();
    assert!(html.contains("CD-2026-000002") && !html.contains("CD-2026-000001"));
    let next = unescape(
        html.split("rel=\"next\"")
            .next()
            .unwrap()
            .rsplit("href=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
    );
    assert!(next.contains("cursor="), "{next}");
    let html = app
        .get(&format!("{next}&limit=1"))
        .session(&u)
        .send()
        .await
        .text();
    assert!(html.contains("CD-2026-000001") && !html.contains("CD-2026-000002"));
    // Filters.
    let html = app
        .get("/reports?status=closed")
        .session(&u)
        .send()
        .await
        .text();
    assert!(html.contains("No reports match these filters."));
    let html = app
        .get("/reports?kind=person_concern")
        .session(&u)
        .send()
        .await
        .text();
    assert!(html.contains("No reports match these filters."));
    let r = app.get("/reports?status=bogus").session(&u).send().await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_links_land(&r.text());
    // The CD lead sees the organisation's reports.
    let html = app
        .get("/reports")
        .session(w.user("org_lead"))
        .send()
        .await
        .text();
    assert!(html.contains("<h1>Your organisation") && html.contains("s reports</h1>"));
    assert!(html.contains("CD-2026-000001") && html.contains("CD-2026-000002"));
}

#[tokio::test]
async fn the_cd_lead_files_a_nil_return_and_corrects_it_from_the_returns_pages() {
    let app = TestApp::new().await;
    let w = &app.world;
    let lead = w.user("org_lead").clone();
    let html = app.get("/returns").session(&lead).send().await.text();
    assert!(
        html.contains("October to December 2026"),
        "the current quarter"
    );
    assert!(html.contains("January to March 2025"), "eight quarters");
    assert!(!html.contains("October to December 2024"));
    assert!(html.contains("Not returned"));
    assert!(html.contains("href=\"/returns/2026/3\""));

    let r = app.get("/returns/2026/3").session(&lead).send().await;
    r.assert_status(StatusCode::OK);
    assert!(r.text().contains("id=\"counts.stock_discrepancy\""));
    // Nothing answered.
    let r = app
        .post("/returns/2026/3")
        .session(&lead)
        .form(&[])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["nil_return", "declaration"]);
    assert_links_land(&r.text());
    // Occurrences, one of them not a number.
    let r = app
        .post("/returns/2026/3")
        .session(&lead)
        .form(&[
            ("nil_return", "no"),
            ("counts.stock_discrepancy", "three"),
            ("declaration", "yes"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["counts.stock_discrepancy"]);
    assert!(r.text().contains("value=\"three\""));
    // A nil return with a count is the domain's error.
    let r = app
        .post("/returns/2026/3")
        .session(&lead)
        .form(&[
            ("nil_return", "yes"),
            ("counts.lost_missing", "2"),
            ("declaration", "yes"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["nil_return"]);
    // Filed: a nil return.
    let r = app
        .post("/returns/2026/3")
        .session(&lead)
        .form(&[("nil_return", "yes"), ("declaration", "yes")])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/returns");
    let html = app.get("/returns").session(&lead).send().await.text();
    assert!(html.contains("Your return for July to September 2026 has been filed."));
    assert!(html.contains("Nil return"));
    // Corrected: the form starts from the return, and the list says which version.
    let html = app
        .get("/returns/2026/3")
        .session(&lead)
        .send()
        .await
        .text();
    assert!(html.contains("Correct your return for July to September 2026"));
    assert!(html.contains("value=\"yes\" checked"));
    let r = app
        .post("/returns/2026/3")
        .session(&lead)
        .form(&[
            ("nil_return", "no"),
            ("counts.stock_discrepancy", "3"),
            ("declaration", "yes"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let html = app.get("/returns").session(&lead).send().await.text();
    assert!(html.contains("has been corrected (version 2)"));
    assert!(html.contains("Corrected"));
    // Not a quarter a return can be made for.
    for path in ["/returns/2027/1", "/returns/2026/5", "/returns/x/1"] {
        app.get(path)
            .session(&lead)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn reporting_pages_are_offered_to_the_roles_that_report() {
    let app = TestApp::new().await;
    let w = &app.world;
    // Signed out: to the sign-in page, and back after.
    let r = app.get("/reports/new").send().await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/sign-in?next=%2Freports%2Fnew");
    // The header offers the reporting pages to the roles that report.
    let reporter_home = app.get("/").session(w.user("reporter")).send().await.text();
    assert!(reporter_home.contains("href=\"/reports/new\""));
    assert!(!reporter_home.contains("href=\"/returns\""));
    let lead_home = app.get("/").session(w.user("org_lead")).send().await.text();
    assert!(lead_home.contains("href=\"/returns\""));
    let cdao_home = app.get("/").session(w.user("cdao")).send().await.text();
    assert!(!cdao_home.contains("href=\"/reports/new\""));
}

#[tokio::test]
async fn a_request_for_information_is_answered_on_the_report_page() {
    let app = TestApp::new().await;
    let w = &app.world;
    let u = w.user("reporter").clone();
    let s =
        crate::reports::submit(&app, &u, "/api/v1/incidents", &crate::reports::incident()).await;
    let id = s["id"].as_str().unwrap();
    let path = format!("/reports/{id}");
    app.post(&format!("/api/v1/cases/{id}/messages"))
        .token(w.user("cdao"))
        .json(&json!({"body": "Which shift found the shortfall?", "request_information": true}))
        .send()
        .await
        .assert_status(StatusCode::CREATED);

    let list = app.get("/reports").session(&u).send().await.text();
    assert!(list.contains("Information requested"));
    let html = app.get(&path).session(&u).send().await.text();
    assert!(html.contains("The CDAO team needs more information"));
    assert!(html.contains("Which shift found the shortfall?"));
    assert!(html.contains("From the CDAO team"));
    assert!(
        html.contains("More information requested"),
        "in the history"
    );
    assert!(html.contains("Send your answer"));

    let r = app
        .post(&format!("{path}/messages"))
        .session(&u)
        .form(&[("body", "")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(summary_links(&r.text()), ["body"]);
    assert_links_land(&r.text());
    let r = app
        .post(&format!("{path}/messages"))
        .session(&u)
        .form(&[("body", "The night shift, at the 06:00 count.")])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    let html = app.get(&path).session(&u).send().await.text();
    assert!(html.contains("Your message has been sent to the CDAO team."));
    assert!(html.contains("The night shift, at the 06:00 count."));
    assert!(html.contains("From you"));
    assert!(html.contains("Status changed to In review"));
    assert!(!html.contains("The CDAO team needs more information"));
    // The organisation's CD lead reads the exchange too; others cannot write into it.
    let lead = app
        .get(&path)
        .session(w.user("org_lead"))
        .send()
        .await
        .text();
    assert!(lead.contains("The night shift, at the 06:00 count."));
    for who in ["member", "reporter_london"] {
        app.post(&format!("{path}/messages"))
            .session(w.user(who))
            .form(&[("body", "x")])
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}
