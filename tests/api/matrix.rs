//! SPEC §3 as one table: every route of the router (the page table and the OpenAPI document)
//! for every role, and the status each must get. The test fails when a route has no row, so
//! a new route cannot arrive without its access rule being written down here.
//!
//! `MATRIX_PRINT=1 cargo test --test api matrix::` prints the statuses actually seen, as rows,
//! to help write a new row (then check every status against SPEC §3 before pasting it).

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::{Value, json};

use cdconcerns::domain::directory::Role;

use crate::harness::TestApp;
use crate::reports::{incident, person_concern, submit};

const ROLES: [&str; 7] = [
    "reporter", "org_lead", "cdao", "member", "admin", "auditor", "analyst",
];

#[derive(Clone, Copy, Debug)]
enum Auth {
    /// The role's API token.
    Token,
    /// The role's browser session.
    Session,
}

#[derive(Clone, Debug)]
enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    /// A multipart upload of a small PDF named `file`.
    Upload,
}

const BOUNDARY: &str = "cdcmatrixboundary";

fn upload_body() -> Vec<u8> {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\n%%EOF\r\n--{BOUNDARY}--\r\n"
    )
    .into_bytes()
}

struct Row {
    method: Method,
    /// The route's template, as the router and the OpenAPI document name it.
    template: &'static str,
    path: String,
    auth: Auth,
    body: Body,
    /// The status for each role, in the order of ROLES.
    expect: [u16; 7],
}

fn row(
    method: Method,
    template: &'static str,
    path: impl Into<String>,
    auth: Auth,
    body: Body,
    expect: [u16; 7],
) -> Row {
    Row {
        method,
        template,
        path: path.into(),
        auth,
        body,
        expect,
    }
}

fn api_get(template: &'static str, path: impl Into<String>, expect: [u16; 7]) -> Row {
    row(Method::GET, template, path, Auth::Token, Body::None, expect)
}

fn api_post(template: &'static str, path: impl Into<String>, body: Value, expect: [u16; 7]) -> Row {
    row(
        Method::POST,
        template,
        path,
        Auth::Token,
        Body::Json(body),
        expect,
    )
}

fn api_patch(
    template: &'static str,
    path: impl Into<String>,
    body: Value,
    expect: [u16; 7],
) -> Row {
    row(
        Method::PATCH,
        template,
        path,
        Auth::Token,
        Body::Json(body),
        expect,
    )
}

fn page(template: &'static str, path: impl Into<String>, expect: [u16; 7]) -> Row {
    row(
        Method::GET,
        template,
        path,
        Auth::Session,
        Body::None,
        expect,
    )
}

fn form(
    template: &'static str,
    path: impl Into<String>,
    fields: &[(&str, &str)],
    expect: [u16; 7],
) -> Row {
    row(
        Method::POST,
        template,
        path,
        Auth::Session,
        Body::Form(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        expect,
    )
}

const ALL: [u16; 7] = [200; 7];
const ADMIN: [u16; 7] = [403, 403, 403, 403, 200, 403, 403];
const ADMIN_CREATES: [u16; 7] = [403, 403, 403, 403, 201, 403, 403];
const ADMIN_FORM: [u16; 7] = [403, 403, 403, 403, 303, 403, 403];
const AUDITOR: [u16; 7] = [403, 403, 403, 403, 403, 200, 403];
const CDAO: [u16; 7] = [403, 403, 200, 403, 403, 403, 403];
const CDAO_ANALYST: [u16; 7] = [403, 403, 200, 403, 403, 403, 200];
const MEMBER: [u16; 7] = [403, 403, 403, 200, 403, 403, 403];
const REPORTING: [u16; 7] = [200, 200, 403, 403, 403, 403, 403];
/// A case of the reporter's: the reporting side may see it but not act as the CDAO team;
/// the area's CDAO team acts; nobody else knows it exists.
const TRIAGE: [u16; 7] = [403, 403, 200, 404, 404, 404, 404];
const NOBODY: [u16; 7] = [404; 7];

/// The world every row runs against.
struct Ids {
    gm_case: String,
    gm_concern: String,
    london_case: String,
    attachment: String,
    alert: String,
    pending_share: String,
    request: String,
    reporter: String,
    /// Another reporter, whose account the administration rows act on.
    colleague: String,
    cdao_london: String,
    nobody: String,
}

async fn world(app: &TestApp) -> Ids {
    let w = &app.world;
    let id = |v: Value| v["id"].as_str().unwrap().to_string();
    let gm_case = id(submit(app, w.user("reporter"), "/api/v1/incidents", &incident()).await);
    let gm_concern = id(submit(
        app,
        w.user("reporter"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    let london_case = id(submit(
        app,
        w.user("reporter_london"),
        "/api/v1/person-concerns",
        &person_concern(),
    )
    .await);
    let r = app
        .post(&format!("/api/v1/cases/{gm_case}/attachments"))
        .token(w.user("reporter"))
        .raw(
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            upload_body(),
        )
        .send()
        .await;
    let attachment = id(r.json());
    let summary = json!({"organisation_ids": [w.police_gm], "disclosure": "summary",
        "lawful_basis": "public_task_health_care", "purpose": "To consider", "summary": "A summary.",
        "action_required": "for_information"});
    let r = app
        .post(&format!("/api/v1/cases/{gm_concern}/shares"))
        .token(w.user("cdao"))
        .json(&summary)
        .send()
        .await;
    assert_eq!(r.json()["approval"], "approved");
    let alert = app
        .get("/api/v1/alerts")
        .token(w.user("member"))
        .send()
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut identified = summary.clone();
    identified["disclosure"] = json!("identified");
    let pending_share = id(app
        .post(&format!("/api/v1/cases/{gm_concern}/shares"))
        .token(w.user("cdao"))
        .json(&identified)
        .send()
        .await
        .json());
    let request = id(app
        .post("/api/v1/access-requests")
        .token(w.user("cdao"))
        .json(&json!({"case_id": gm_concern, "area_id": w.london, "reason": "Same GMC number"}))
        .send()
        .await
        .json());
    Ids {
        gm_case,
        gm_concern,
        london_case,
        attachment,
        alert,
        pending_share,
        request,
        reporter: w.user("reporter").id.to_string(),
        colleague: app
            .create_user("colleague", Role::Reporter, Some(w.pharmacy_gm), vec![])
            .await
            .id
            .to_string(),
        cdao_london: w.user("cdao_london").id.to_string(),
        nobody: uuid::Uuid::now_v7().to_string(),
    }
}

fn share_body(org: uuid::Uuid) -> Value {
    json!({"organisation_ids": [org], "disclosure": "summary", "lawful_basis": "public_task_health_care",
           "purpose": "To consider", "summary": "A summary.", "action_required": "for_information"})
}

fn rows(app: &TestApp, i: &Ids) -> Vec<Row> {
    let w = &app.world;
    let Ids {
        gm_case,
        gm_concern,
        london_case,
        attachment,
        alert,
        pending_share,
        request,
        reporter,
        colleague,
        cdao_london,
        nobody,
    } = i;
    let new_org =
        json!({"name": "Org new", "kind": "provider", "sector": "gp_practice", "area_ids": [w.gm]});
    vec![
        // ---- API: the caller, areas, organisations, users, tokens ----------------------------
        api_get("/api/v1/me", "/api/v1/me", ALL),
        api_get("/api/v1/areas", "/api/v1/areas", ALL),
        api_post(
            "/api/v1/areas",
            "/api/v1/areas",
            json!({"name": "Kent", "region": "South East"}),
            ADMIN_CREATES,
        ),
        api_get("/api/v1/areas/{id}", format!("/api/v1/areas/{}", w.gm), ALL),
        api_patch(
            "/api/v1/areas/{id}",
            format!("/api/v1/areas/{}", w.gm),
            json!({"region": "North West"}),
            ADMIN,
        ),
        api_get(
            "/api/v1/organisations",
            "/api/v1/organisations",
            [200, 200, 200, 200, 200, 200, 403],
        ),
        api_post(
            "/api/v1/organisations",
            "/api/v1/organisations",
            new_org,
            ADMIN_CREATES,
        ),
        api_get(
            "/api/v1/organisations/{id}",
            format!("/api/v1/organisations/{}", w.pharmacy_gm),
            [200, 200, 200, 404, 200, 200, 404],
        ),
        api_get(
            "/api/v1/organisations/{id}",
            format!("/api/v1/organisations/{}", w.pharmacy_london),
            [404, 404, 404, 404, 200, 200, 404],
        ),
        api_get(
            "/api/v1/organisations/{id}",
            format!("/api/v1/organisations/{}", w.police_gm),
            [404, 404, 200, 200, 200, 200, 404],
        ),
        api_patch(
            "/api/v1/organisations/{id}",
            format!("/api/v1/organisations/{}", w.pharmacy_gm),
            json!({"ods_code": "FX999"}),
            [403, 403, 403, 404, 200, 403, 404],
        ),
        api_get("/api/v1/users", "/api/v1/users", ALL),
        api_post(
            "/api/v1/users",
            "/api/v1/users",
            json!({"email": "new.person@nhs.net", "name": "New Person", "role": "reporter", "organisation_id": w.pharmacy_gm}),
            ADMIN_CREATES,
        ),
        api_get(
            "/api/v1/users/{id}",
            format!("/api/v1/users/{reporter}"),
            [200, 200, 404, 404, 200, 200, 404],
        ),
        api_get(
            "/api/v1/users/{id}",
            format!("/api/v1/users/{cdao_london}"),
            [404, 404, 404, 404, 200, 200, 404],
        ),
        api_patch(
            "/api/v1/users/{id}",
            format!("/api/v1/users/{colleague}"),
            json!({"name": "Renamed Colleague"}),
            [404, 403, 404, 404, 200, 403, 404],
        ),
        // An active account gets no new invitation link (409): people reset their own password.
        api_post(
            "/api/v1/users/{id}/invitation",
            format!("/api/v1/users/{colleague}/invitation"),
            json!({}),
            [404, 403, 404, 404, 409, 403, 404],
        ),
        // Approving: only an account waiting for a second person (this one is active: 409).
        api_post(
            "/api/v1/users/{id}/approve",
            format!("/api/v1/users/{colleague}/approve"),
            json!({}),
            [404, 403, 404, 404, 409, 403, 404],
        ),
        api_post(
            "/api/v1/users/{id}/reset-mfa",
            format!("/api/v1/users/{colleague}/reset-mfa"),
            json!({}),
            [404, 403, 404, 404, 204, 403, 404],
        ),
        // Tokens are managed only from a browser session, never with a token.
        api_get("/api/v1/me/tokens", "/api/v1/me/tokens", [403; 7]),
        row(
            Method::GET,
            "/api/v1/me/tokens",
            "/api/v1/me/tokens",
            Auth::Session,
            Body::None,
            ALL,
        ),
        api_post(
            "/api/v1/me/tokens",
            "/api/v1/me/tokens",
            json!({"name": "x", "days": 1}),
            [403; 7],
        ),
        row(
            Method::POST,
            "/api/v1/me/tokens",
            "/api/v1/me/tokens",
            Auth::Session,
            // A fresh proof: the password, and the code for accounts with a second factor.
            Body::Json(
                json!({"name": "system", "days": 7, "password": crate::harness::PASSWORD, "code": app.totp_now()}),
            ),
            [201; 7],
        ),
        row(
            Method::DELETE,
            "/api/v1/me/tokens/{id}",
            format!("/api/v1/me/tokens/{nobody}"),
            Auth::Session,
            Body::None,
            NOBODY,
        ),
        row(
            Method::DELETE,
            "/api/v1/me/tokens/{id}",
            format!("/api/v1/me/tokens/{nobody}"),
            Auth::Token,
            Body::None,
            [403; 7],
        ),
        // ---- API: the audit trail --------------------------------------------------------------
        api_get("/api/v1/audit", "/api/v1/audit", AUDITOR),
        api_get("/api/v1/audit/verify", "/api/v1/audit/verify", AUDITOR),
        api_get("/api/v1/openapi.json", "/api/v1/openapi.json", ALL),
        // ---- API: reports and cases -----------------------------------------------------------
        api_get("/api/v1/drugs", "/api/v1/drugs?q=morph", ALL),
        api_post(
            "/api/v1/incidents",
            "/api/v1/incidents",
            incident(),
            [201, 201, 403, 403, 403, 403, 403],
        ),
        api_post(
            "/api/v1/person-concerns",
            "/api/v1/person-concerns",
            person_concern(),
            [201, 201, 403, 403, 403, 403, 403],
        ),
        api_get(
            "/api/v1/cases",
            "/api/v1/cases",
            [200, 200, 200, 403, 403, 403, 403],
        ),
        api_get(
            "/api/v1/cases",
            "/api/v1/cases?priority=urgent",
            [403, 403, 200, 403, 403, 403, 403],
        ),
        api_get(
            "/api/v1/cases/{id}",
            format!("/api/v1/cases/{gm_case}"),
            [200, 200, 200, 404, 404, 404, 404],
        ),
        api_get(
            "/api/v1/cases/{id}",
            format!("/api/v1/cases/{london_case}"),
            NOBODY,
        ),
        api_post(
            "/api/v1/cases/{id}/amendments",
            format!("/api/v1/cases/{gm_case}/amendments"),
            json!({"text": "More detail."}),
            [201, 201, 403, 404, 404, 404, 404],
        ),
        api_post(
            "/api/v1/cases/{id}/amendments",
            format!("/api/v1/cases/{london_case}/amendments"),
            json!({"text": "More detail."}),
            NOBODY,
        ),
        row(
            Method::POST,
            "/api/v1/cases/{id}/attachments",
            format!("/api/v1/cases/{london_case}/attachments"),
            Auth::Token,
            Body::Upload,
            NOBODY,
        ),
        row(
            Method::POST,
            "/api/v1/cases/{id}/attachments",
            format!("/api/v1/cases/{gm_case}/attachments"),
            Auth::Token,
            Body::Upload,
            [201, 201, 403, 404, 404, 404, 404],
        ),
        api_get(
            "/api/v1/cases/{id}/attachments/{attachment_id}",
            format!("/api/v1/cases/{gm_case}/attachments/{attachment}"),
            [200, 200, 200, 404, 404, 404, 404],
        ),
        api_get(
            "/api/v1/cases/{id}/attachments/{attachment_id}",
            format!("/api/v1/cases/{gm_case}/attachments/{nobody}"),
            NOBODY,
        ),
        api_patch(
            "/api/v1/cases/{id}/attachments/{attachment_id}",
            format!("/api/v1/cases/{gm_case}/attachments/{attachment}"),
            json!({"holds_patient_data": true}),
            TRIAGE,
        ),
        api_post(
            "/api/v1/occurrence-returns",
            "/api/v1/occurrence-returns",
            json!({"year": 2026, "quarter": 1, "nil_return": true, "declaration": true}),
            [403, 201, 403, 403, 403, 403, 403],
        ),
        api_get(
            "/api/v1/occurrence-returns",
            "/api/v1/occurrence-returns",
            [403, 200, 200, 403, 403, 403, 403],
        ),
        // ---- API: triage, matches, access requests, statistics --------------------------------
        api_post(
            "/api/v1/cases/{id}/triage",
            format!("/api/v1/cases/{gm_case}/triage"),
            json!({"priority": "medium"}),
            TRIAGE,
        ),
        api_post(
            "/api/v1/cases/{id}/triage",
            format!("/api/v1/cases/{london_case}/triage"),
            json!({"priority": "medium"}),
            NOBODY,
        ),
        api_post(
            "/api/v1/cases/{id}/messages",
            format!("/api/v1/cases/{gm_case}/messages"),
            json!({"body": "Hello"}),
            [201, 201, 201, 404, 404, 404, 404],
        ),
        api_post(
            "/api/v1/cases/{id}/links",
            format!("/api/v1/cases/{gm_case}/links"),
            json!({"case_id": london_case, "relation": "related"}),
            [403, 403, 422, 404, 404, 404, 404],
        ),
        api_post(
            "/api/v1/cases/{id}/reopen",
            format!("/api/v1/cases/{gm_case}/reopen"),
            json!({"reason": "x"}),
            [403, 403, 409, 404, 404, 404, 404],
        ),
        api_get(
            "/api/v1/cases/{id}/matches",
            format!("/api/v1/cases/{gm_concern}/matches"),
            TRIAGE,
        ),
        api_get(
            "/api/v1/cases/{id}/access-log",
            format!("/api/v1/cases/{gm_case}/access-log"),
            TRIAGE,
        ),
        api_get("/api/v1/access-requests", "/api/v1/access-requests", CDAO),
        api_post(
            "/api/v1/access-requests",
            "/api/v1/access-requests",
            json!({"case_id": gm_case, "area_id": w.london, "reason": "x"}),
            [403, 403, 422, 403, 403, 403, 403],
        ),
        api_post(
            "/api/v1/access-requests/{id}/decide",
            format!("/api/v1/access-requests/{request}/decide"),
            json!({"decision": "approve"}),
            // The requesting team sees its request but may not decide it.
            [403, 403, 403, 403, 403, 403, 403],
        ),
        api_post(
            "/api/v1/access-requests/{id}/decide",
            format!("/api/v1/access-requests/{nobody}/decide"),
            json!({"decision": "approve"}),
            [403, 403, 404, 403, 403, 403, 403],
        ),
        api_get(
            "/api/v1/stats",
            "/api/v1/stats?group_by=harm",
            [200, 200, 200, 403, 403, 403, 200],
        ),
        api_get("/api/v1/cases.csv", "/api/v1/cases.csv", CDAO),
        // The oversight datasets (issue 12): the lead CDAO team and national analysts.
        api_get(
            "/api/v1/stats",
            "/api/v1/stats?group_by=online_service",
            CDAO_ANALYST,
        ),
        api_get(
            "/api/v1/stats",
            "/api/v1/stats?group_by=cbpm_setting",
            CDAO_ANALYST,
        ),
        api_get("/api/v1/stats/cdlo", "/api/v1/stats/cdlo", CDAO_ANALYST),
        api_get(
            "/api/v1/stats/spc",
            "/api/v1/stats/spc?measure=opioid_harm",
            CDAO_ANALYST,
        ),
        api_post(
            "/api/v1/stats/spc/initiatives",
            "/api/v1/stats/spc/initiatives",
            json!({"name": "Opioid review", "area_id": w.gm, "measure": "high_dose_opioid",
                   "start_month": "2026-01", "change": "Monthly reviews of high-dose prescribing"}),
            [403, 403, 201, 403, 403, 403, 403],
        ),
        api_post(
            "/api/v1/prescribers/lookup",
            "/api/v1/prescribers/lookup",
            json!({"kind": "prescriber_code", "identifier": "ABC1234"}),
            CDAO,
        ),
        // ---- API: sharing and alerts ----------------------------------------------------------
        api_post(
            "/api/v1/cases/{id}/shares/preview",
            format!("/api/v1/cases/{gm_concern}/shares/preview"),
            share_body(w.police_gm),
            TRIAGE,
        ),
        api_get(
            "/api/v1/cases/{id}/shares",
            format!("/api/v1/cases/{gm_concern}/shares"),
            TRIAGE,
        ),
        api_post(
            "/api/v1/cases/{id}/shares",
            format!("/api/v1/cases/{london_case}/shares"),
            share_body(w.police_gm),
            NOBODY,
        ),
        api_get("/api/v1/alerts", "/api/v1/alerts", MEMBER),
        api_get(
            "/api/v1/alerts/{id}",
            format!("/api/v1/alerts/{alert}"),
            [404, 404, 404, 200, 404, 404, 404],
        ),
        api_get(
            "/api/v1/alerts/{id}/attachments/{attachment_id}",
            format!("/api/v1/alerts/{alert}/attachments/{attachment}"),
            NOBODY,
        ),
        api_post(
            "/api/v1/alerts/{id}/acknowledge",
            format!("/api/v1/alerts/{alert}/acknowledge"),
            json!({}),
            [404, 404, 404, 200, 404, 404, 404],
        ),
        api_post(
            "/api/v1/alerts/{id}/responses",
            format!("/api/v1/alerts/{alert}/responses"),
            json!({"body": "Investigating."}),
            [404, 404, 404, 201, 404, 404, 404],
        ),
        api_get(
            "/api/v1/alerts/{id}/conversation",
            format!("/api/v1/alerts/{alert}/conversation"),
            [404, 404, 200, 200, 404, 404, 404],
        ),
        api_post(
            "/api/v1/alerts/{id}/replies",
            format!("/api/v1/alerts/{alert}/replies"),
            json!({"body": "Thank you: please send the crime reference."}),
            [404, 404, 201, 404, 404, 404, 404],
        ),
        api_post(
            "/api/v1/shares/{id}/approve",
            format!("/api/v1/shares/{pending_share}/approve"),
            json!({}),
            // The CDAO made it: they may not approve it themselves.
            [404, 404, 403, 404, 404, 404, 404],
        ),
        api_post(
            "/api/v1/shares/{id}/decline",
            format!("/api/v1/shares/{pending_share}/decline"),
            json!({"reason": "No"}),
            [404, 404, 403, 404, 404, 404, 404],
        ),
        api_post(
            "/api/v1/shares/{id}/revoke",
            format!("/api/v1/shares/{nobody}/revoke"),
            json!({}),
            NOBODY,
        ),
        api_get(
            "/api/v1/stats/responsiveness",
            "/api/v1/stats/responsiveness",
            [403, 403, 200, 403, 403, 403, 200],
        ),
        // ---- API: the person's rights -----------------------------------------------------------
        api_post(
            "/api/v1/subject-access",
            "/api/v1/subject-access",
            json!({"identifiers": {"nhs_number": "943 476 5919"}, "purpose": "SAR 1"}),
            [403, 403, 201, 403, 403, 403, 403],
        ),
        api_get(
            "/api/v1/subject-access/{id}/download",
            format!("/api/v1/subject-access/{nobody}/download"),
            [403, 403, 404, 403, 403, 403, 403],
        ),
        api_post(
            "/api/v1/cases/{id}/persons/{person_id}/erasure",
            format!("/api/v1/cases/{gm_concern}/persons/{nobody}/erasure"),
            json!({"reason": "Entered in error"}),
            [403, 403, 404, 404, 404, 404, 404],
        ),
        api_post(
            "/api/v1/erasures/{id}/approve",
            format!("/api/v1/erasures/{nobody}/approve"),
            json!({}),
            NOBODY,
        ),
        api_post(
            "/api/v1/erasures/{id}/decline",
            format!("/api/v1/erasures/{nobody}/decline"),
            json!({"reason": "No"}),
            NOBODY,
        ),
        // ---- Pages: signing in, the account, help --------------------------------------------
        page("/", "/", ALL),
        page("/sign-in", "/sign-in", [303; 7]),
        form("/sign-in", "/sign-in", &[("email", "x@nhs.net")], [422; 7]),
        page("/sign-in/mfa", "/sign-in/mfa", [303; 7]),
        form(
            "/sign-in/mfa",
            "/sign-in/mfa",
            &[("code", "000000")],
            [303; 7],
        ),
        page("/sign-in/mfa/setup", "/sign-in/mfa/setup", [303; 7]),
        form(
            "/sign-in/mfa/setup",
            "/sign-in/mfa/setup",
            &[("code", "000000")],
            [303; 7],
        ),
        page(
            "/invitation/{token}",
            "/invitation/not-a-real-invitation",
            [404; 7],
        ),
        form(
            "/invitation/{token}",
            "/invitation/not-a-real-invitation",
            &[("password", "x")],
            [404; 7],
        ),
        page("/account", "/account", ALL),
        page("/account/password", "/account/password", ALL),
        form("/account/password", "/account/password", &[], [422; 7]),
        // New recovery codes, shown once: for accounts with a second factor (others have none).
        form(
            "/account/recovery-codes",
            "/account/recovery-codes",
            &[],
            [409, 409, 200, 200, 200, 200, 409],
        ),
        form(
            "/account/sessions/{id}/sign-out",
            format!("/account/sessions/{nobody}/sign-out"),
            &[],
            NOBODY,
        ),
        form(
            "/account/sessions/sign-out-others",
            "/account/sessions/sign-out-others",
            &[],
            [303; 7],
        ),
        // Open to anyone; the answer is the same whether or not the address has an account.
        page("/sign-in/forgotten", "/sign-in/forgotten", ALL),
        form(
            "/sign-in/forgotten",
            "/sign-in/forgotten",
            &[("email", "nobody@nhs.net")],
            ALL,
        ),
        page(
            "/reset-password/{token}",
            "/reset-password/not-a-real-link",
            [404; 7],
        ),
        form(
            "/reset-password/{token}",
            "/reset-password/not-a-real-link",
            &[],
            [404; 7],
        ),
        form(
            "/account/tokens",
            "/account/tokens",
            &[("name", "Pharmacy system"), ("days", "30")],
            [201; 7],
        ),
        form(
            "/account/tokens/{id}/revoke",
            format!("/account/tokens/{nobody}/revoke"),
            &[],
            NOBODY,
        ),
        page("/help", "/help", ALL),
        page("/api/docs", "/api/docs", ALL),
        page("/privacy", "/privacy", ALL),
        page("/accessibility", "/accessibility", ALL),
        // ---- Pages: administration -----------------------------------------------------------
        page("/admin/areas", "/admin/areas", ADMIN),
        page("/admin/areas/new", "/admin/areas/new", ADMIN),
        form(
            "/admin/areas/new",
            "/admin/areas/new",
            &[
                ("name", "Page Area"),
                ("region", "R"),
                ("two_person_rule", "yes"),
            ],
            ADMIN_FORM,
        ),
        page("/admin/areas/{id}", format!("/admin/areas/{}", w.gm), ADMIN),
        form(
            "/admin/areas/{id}",
            format!("/admin/areas/{}", w.gm),
            &[
                ("name", "Greater Manchester"),
                ("region", "North West"),
                ("two_person_rule", "yes"),
            ],
            ADMIN_FORM,
        ),
        page("/admin/organisations", "/admin/organisations", ADMIN),
        page(
            "/admin/organisations/new",
            "/admin/organisations/new",
            ADMIN,
        ),
        form(
            "/admin/organisations/new",
            "/admin/organisations/new",
            &[],
            [403, 403, 403, 403, 422, 403, 403],
        ),
        page(
            "/admin/organisations/{id}",
            format!("/admin/organisations/{}", w.pharmacy_gm),
            ADMIN,
        ),
        form(
            "/admin/organisations/{id}",
            format!("/admin/organisations/{}", w.pharmacy_gm),
            &[],
            [403, 403, 403, 403, 422, 403, 403],
        ),
        page("/admin/users", "/admin/users", ADMIN),
        page("/admin/users/new", "/admin/users/new", ADMIN),
        form(
            "/admin/users/new",
            "/admin/users/new",
            &[],
            [403, 403, 403, 403, 422, 403, 403],
        ),
        page(
            "/admin/users/{id}",
            format!("/admin/users/{reporter}"),
            ADMIN,
        ),
        form(
            "/admin/users/{id}",
            format!("/admin/users/{colleague}"),
            &[],
            [403, 403, 403, 403, 422, 403, 403],
        ),
        form(
            "/admin/users/{id}/invitation",
            format!("/admin/users/{colleague}/invitation"),
            &[],
            [403, 403, 403, 403, 409, 403, 403],
        ),
        form(
            "/admin/users/{id}/unlock",
            format!("/admin/users/{colleague}/unlock"),
            &[],
            ADMIN_FORM,
        ),
        page(
            "/users/pending",
            "/users/pending",
            [403, 403, 200, 403, 200, 403, 403],
        ),
        form(
            "/users/{id}/approve",
            format!("/users/{colleague}/approve"),
            &[],
            [404, 403, 404, 404, 409, 403, 404],
        ),
        form(
            "/admin/users/{id}/reset-mfa",
            format!("/admin/users/{colleague}/reset-mfa"),
            &[],
            ADMIN_FORM,
        ),
        // ---- Pages: the audit trail ----------------------------------------------------------
        page("/audit", "/audit", AUDITOR),
        page("/audit/verify", "/audit/verify", AUDITOR),
        page("/audit/export.csv", "/audit/export.csv", AUDITOR),
        // ---- Pages: reporting ----------------------------------------------------------------
        page("/reports", "/reports", REPORTING),
        page("/reports/new", "/reports/new", REPORTING),
        form(
            "/reports/new",
            "/reports/new",
            &[("kind", "incident")],
            [303, 303, 403, 403, 403, 403, 403],
        ),
        page("/reports/new/incident", "/reports/new/incident", REPORTING),
        form(
            "/reports/new/incident",
            "/reports/new/incident",
            &[("action", "continue")],
            [422, 422, 403, 403, 403, 403, 403],
        ),
        page(
            "/reports/new/person-concern",
            "/reports/new/person-concern",
            REPORTING,
        ),
        form(
            "/reports/new/person-concern",
            "/reports/new/person-concern",
            &[("action", "continue")],
            [422, 422, 403, 403, 403, 403, 403],
        ),
        page(
            "/reports/{id}",
            format!("/reports/{gm_case}"),
            [200, 200, 200, 404, 404, 404, 404],
        ),
        page("/reports/{id}", format!("/reports/{london_case}"), NOBODY),
        form(
            "/reports/{id}/amendments",
            format!("/reports/{gm_case}/amendments"),
            &[("text", "A correction.")],
            [303, 303, 403, 404, 404, 404, 404],
        ),
        form(
            "/reports/{id}/messages",
            format!("/reports/{gm_case}/messages"),
            &[("body", "A message.")],
            [303, 303, 303, 404, 404, 404, 404],
        ),
        row(
            Method::POST,
            "/reports/{id}/attachments",
            format!("/reports/{london_case}/attachments"),
            Auth::Session,
            Body::Upload,
            NOBODY,
        ),
        row(
            Method::POST,
            "/reports/{id}/attachments",
            format!("/reports/{gm_case}/attachments"),
            Auth::Session,
            Body::Upload,
            [303, 303, 403, 404, 404, 404, 404],
        ),
        page(
            "/reports/{id}/attachments/{attachment_id}",
            format!("/reports/{gm_case}/attachments/{attachment}"),
            [200, 200, 200, 404, 404, 404, 404],
        ),
        page("/returns", "/returns", [403, 200, 403, 403, 403, 403, 403]),
        page(
            "/returns/{year}/{quarter}",
            "/returns/2026/3",
            [403, 200, 403, 403, 403, 403, 403],
        ),
        form(
            "/returns/{year}/{quarter}",
            "/returns/2026/3",
            &[],
            [403, 422, 403, 403, 403, 403, 403],
        ),
        // ---- Pages: the CDAO team ------------------------------------------------------------
        page("/cases", "/cases", [303, 303, 200, 403, 403, 403, 403]),
        page(
            "/cases",
            "/cases?status=closed&sort=oldest",
            [303, 303, 200, 403, 403, 403, 403],
        ),
        page("/cases.csv", "/cases.csv", CDAO),
        page(
            "/cases/{id}",
            format!("/cases/{gm_case}"),
            [303, 303, 200, 404, 404, 404, 404],
        ),
        page("/cases/{id}", format!("/cases/{london_case}"), NOBODY),
        page("/cases/{id}", format!("/cases/{nobody}"), NOBODY),
        page(
            "/cases/{id}/attachments/{attachment_id}",
            format!("/cases/{gm_case}/attachments/{attachment}"),
            [200, 200, 200, 404, 404, 404, 404],
        ),
        page(
            "/cases/{id}/attachments/{attachment_id}",
            format!("/cases/{gm_case}/attachments/{nobody}"),
            NOBODY,
        ),
        form(
            "/cases/{id}/attachments/{attachment_id}/patient-data",
            format!("/cases/{gm_case}/attachments/{attachment}/patient-data"),
            &[("holds_patient_data", "no")],
            [403, 403, 303, 404, 404, 404, 404],
        ),
        form(
            "/cases/{id}/triage",
            format!("/cases/{gm_case}/triage"),
            &[("note", "Seen.")],
            [403, 403, 303, 404, 404, 404, 404],
        ),
        form(
            "/cases/{id}/triage",
            format!("/cases/{london_case}/triage"),
            &[("note", "Seen.")],
            NOBODY,
        ),
        form(
            "/cases/{id}/messages",
            format!("/cases/{gm_case}/messages"),
            &[("body", "A message.")],
            [303, 303, 303, 404, 404, 404, 404],
        ),
        form(
            "/cases/{id}/links",
            format!("/cases/{gm_case}/links"),
            &[],
            [403, 403, 422, 404, 404, 404, 404],
        ),
        form(
            "/cases/{id}/close",
            format!("/cases/{gm_case}/close"),
            &[],
            [403, 403, 422, 404, 404, 404, 404],
        ),
        form(
            "/cases/{id}/reopen",
            format!("/cases/{gm_case}/reopen"),
            &[("reopen_reason", "x")],
            [403, 403, 409, 404, 404, 404, 404],
        ),
        form(
            "/cases/{id}/access-requests",
            format!("/cases/{gm_case}/access-requests"),
            &[("reason", "x")],
            [403, 403, 422, 403, 403, 403, 403],
        ),
        page("/access-requests", "/access-requests", CDAO),
        page("/subject-access", "/subject-access", CDAO),
        form(
            "/subject-access",
            "/subject-access",
            &[("purpose", "")],
            [403, 403, 422, 403, 403, 403, 403],
        ),
        page(
            "/subject-access/{id}/download",
            format!("/subject-access/{nobody}/download"),
            [403, 403, 404, 403, 403, 403, 403],
        ),
        form(
            "/cases/{id}/persons/{person_id}/erasure",
            format!("/cases/{gm_concern}/persons/{nobody}/erasure"),
            &[],
            [403, 403, 404, 404, 404, 404, 404],
        ),
        form(
            "/erasures/{id}/approve",
            format!("/erasures/{nobody}/approve"),
            &[],
            NOBODY,
        ),
        form(
            "/erasures/{id}/decline",
            format!("/erasures/{nobody}/decline"),
            &[],
            NOBODY,
        ),
        form(
            "/access-requests/{id}/decide",
            format!("/access-requests/{nobody}/decide"),
            &[("decision", "approve")],
            [403, 403, 404, 403, 403, 403, 403],
        ),
        page(
            "/cases/{id}/share",
            format!("/cases/{gm_concern}/share"),
            TRIAGE,
        ),
        form(
            "/cases/{id}/share",
            format!("/cases/{gm_concern}/share"),
            &[("action", "preview")],
            [403, 403, 422, 404, 404, 404, 404],
        ),
        page("/shares/pending", "/shares/pending", CDAO),
        page(
            "/shares/{id}",
            format!("/shares/{pending_share}"),
            [404, 404, 200, 404, 404, 404, 404],
        ),
        page("/shares/late", "/shares/late", CDAO),
        form(
            "/shares/{id}/approve",
            format!("/shares/{pending_share}/approve"),
            &[],
            [404, 404, 303, 404, 404, 404, 404],
        ),
        form(
            "/shares/{id}/decline",
            format!("/shares/{pending_share}/decline"),
            &[],
            [404, 404, 303, 404, 404, 404, 404],
        ),
        form(
            "/shares/{id}/revoke",
            format!("/shares/{nobody}/revoke"),
            &[],
            NOBODY,
        ),
        page(
            "/statistics",
            "/statistics",
            [200, 200, 200, 403, 403, 403, 200],
        ),
        page(
            "/statistics.csv",
            "/statistics.csv?group_by=month",
            [200, 200, 200, 403, 403, 403, 200],
        ),
        page(
            "/statistics/online-prescribing",
            "/statistics/online-prescribing",
            CDAO_ANALYST,
        ),
        page("/statistics/cbpm", "/statistics/cbpm", CDAO_ANALYST),
        page("/statistics/cdlo", "/statistics/cdlo", CDAO_ANALYST),
        page("/statistics/cdlo.csv", "/statistics/cdlo.csv", CDAO_ANALYST),
        page("/statistics/opioids", "/statistics/opioids", CDAO_ANALYST),
        page(
            "/statistics/opioids.csv",
            "/statistics/opioids.csv?measure=all_incidents",
            CDAO_ANALYST,
        ),
        form(
            "/statistics/opioids/initiatives",
            "/statistics/opioids/initiatives",
            &[],
            [403, 403, 422, 403, 403, 403, 403],
        ),
        // The prescriber view: the lead CDAO team only.
        page("/prescribers", "/prescribers", CDAO),
        form(
            "/prescribers",
            "/prescribers",
            &[],
            [403, 403, 422, 403, 403, 403, 403],
        ),
        page(
            "/prescribers/{kind}/{digest}",
            format!("/prescribers/gmc/{}", "0".repeat(64)),
            CDAO,
        ),
        page(
            "/cases/{id}/prescriber",
            format!("/cases/{gm_concern}/prescriber"),
            [403, 403, 303, 404, 404, 404, 404],
        ),
        // ---- Pages: members' alerts ------------------------------------------------------------
        page("/alerts", "/alerts", MEMBER),
        page(
            "/alerts/{id}",
            format!("/alerts/{alert}"),
            [404, 404, 404, 200, 404, 404, 404],
        ),
        form(
            "/alerts/{id}/acknowledge",
            format!("/alerts/{alert}/acknowledge"),
            &[],
            [404, 404, 404, 303, 404, 404, 404],
        ),
        form(
            "/alerts/{id}/responses",
            format!("/alerts/{alert}/responses"),
            &[("body", "Done.")],
            [404, 404, 404, 303, 404, 404, 404],
        ),
        page(
            "/alerts/{id}/conversation",
            format!("/alerts/{alert}/conversation"),
            [404, 404, 200, 404, 404, 404, 404],
        ),
        form(
            "/alerts/{id}/replies",
            format!("/alerts/{alert}/replies"),
            &[("body", "Thank you.")],
            [404, 404, 303, 404, 404, 404, 404],
        ),
        page(
            "/alerts/{id}/attachments/{attachment_id}",
            format!("/alerts/{alert}/attachments/{attachment}"),
            NOBODY,
        ),
        // ---- Outside both tables ----------------------------------------------------------------
        page("/healthz", "/healthz", ALL),
        page("/readyz", "/readyz", ALL),
        // The case is closed near the end (what comes before does not depend on it).
        api_post(
            "/api/v1/cases/{id}/close",
            format!("/api/v1/cases/{gm_case}/close"),
            json!({"outcome": "other", "well_founded": "no"}),
            TRIAGE,
        ),
        api_post(
            "/api/v1/cases/{id}/reopen",
            format!("/api/v1/cases/{gm_case}/reopen"),
            json!({"reason": "More came in."}),
            TRIAGE,
        ),
        // Signing out last: it ends the sessions.
        form("/sign-out", "/sign-out", &[], [303; 7]),
    ]
}

/// Every (method, route template) the router serves: the page table, the API document, and
/// the few routes outside both.
fn served_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut all = BTreeSet::new();
    for (path, methods) in cdconcerns::web::routes::PAGE_ROUTES
        .iter()
        .chain(cdconcerns::web::routes::OTHER_ROUTES)
    {
        for m in *methods {
            all.insert((m.to_uppercase(), path.to_string()));
        }
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            if ["get", "post", "patch", "put", "delete"].contains(&m.as_str()) {
                all.insert((m.to_uppercase(), path.clone()));
            }
        }
    }
    all
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_access_matrix_says() {
    let app = TestApp::new().await;
    let ids = world(&app).await;
    // A second CDAO of the area (not one of the seven roles' users) exists for approvals.
    app.create_user(
        "cdao_b",
        Role::Cdao,
        Some(app.world.nhse_nw),
        vec![app.world.gm],
    )
    .await;
    let doc = app.get("/api/v1/openapi.json").send().await.json();
    let served = served_routes(&doc);
    let rows = rows(&app, &ids);
    let covered: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_string(), r.template.to_string()))
        .collect();
    let missing: Vec<_> = served.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the access matrix: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&served).collect();
    assert!(
        stale.is_empty(),
        "rows for routes that do not exist: {stale:?}"
    );

    let print = std::env::var("MATRIX_PRINT").is_ok();
    let mut failures = Vec::new();
    for r in &rows {
        let mut seen = [0u16; 7];
        for (i, role) in ROLES.iter().enumerate() {
            let user = app.world.user(role);
            let mut req = app.req(r.method.clone(), &r.path);
            req = match r.auth {
                Auth::Token => req.token(user),
                Auth::Session => req.session(user),
            };
            req = match &r.body {
                Body::None => req,
                Body::Json(v) => req.json(v),
                Body::Form(f) => {
                    let pairs: Vec<(&str, &str)> =
                        f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    req.form(&pairs)
                }
                Body::Upload => req.raw(
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                    upload_body(),
                ),
            };
            let res = req.send().await;
            seen[i] = res.status.as_u16();
            if seen[i] != r.expect[i] {
                failures.push(format!(
                    "{:>9} {} {} ({:?}): got {}, expected {} — {}",
                    role,
                    r.method,
                    r.path,
                    r.auth,
                    seen[i],
                    r.expect[i],
                    res.text().chars().take(160).collect::<String>()
                ));
            }
        }
        if print {
            println!("{} {} {:?}", r.method, r.template, seen);
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
