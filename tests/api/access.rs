//! SPEC §3 as a table: every route, every role, the status each must get.
//! Grows with every route the service gains.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::harness::TestApp;

const ROLES: [&str; 7] = [
    "reporter", "org_lead", "cdao", "member", "admin", "auditor", "analyst",
];

#[derive(Clone, Copy)]
enum Auth {
    Token,
    Session,
}

struct Case {
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
    form: Option<Vec<(&'static str, String)>>,
    auth: Auth,
    /// Expected status per role, in the order of ROLES.
    expect: [u16; 7],
}

fn api(method: Method, path: String, body: Option<serde_json::Value>, expect: [u16; 7]) -> Case {
    Case {
        method,
        path,
        body,
        form: None,
        auth: Auth::Token,
        expect,
    }
}

fn page(path: String, expect: [u16; 7]) -> Case {
    Case {
        method: Method::GET,
        path,
        body: None,
        form: None,
        auth: Auth::Session,
        expect,
    }
}

fn form(path: String, fields: Vec<(&'static str, String)>, expect: [u16; 7]) -> Case {
    Case {
        method: Method::POST,
        path,
        body: None,
        form: Some(fields),
        auth: Auth::Session,
        expect,
    }
}

const ALL_200: [u16; 7] = [200; 7];

fn share_body(org: uuid::Uuid) -> serde_json::Value {
    json!({"organisation_ids": [org], "disclosure": "summary", "lawful_basis": "public_task_health_care",
           "purpose": "To consider", "summary": "A summary.", "action_required": "for_information"})
}
const ADMIN_ONLY_201: [u16; 7] = [403, 403, 403, 403, 201, 403, 403];
const ADMIN_ONLY_200: [u16; 7] = [403, 403, 403, 403, 200, 403, 403];
const AUDITOR_ONLY: [u16; 7] = [403, 403, 403, 403, 403, 200, 403];
const CDAO_ANALYST_200: [u16; 7] = [403, 403, 200, 403, 403, 403, 200];

#[tokio::test]
async fn every_route_answers_every_role_as_the_access_matrix_says() {
    let app = TestApp::new().await;
    let w = &app.world;
    let reporter = w.user("reporter").id;
    let cdao_london = w.user("cdao_london").id;
    // A report of the Greater Manchester pharmacy's reporter, and one from London.
    let case_id = crate::reports::submit(
        &app,
        w.user("reporter"),
        "/api/v1/incidents",
        &crate::reports::incident(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let london_case = crate::reports::submit(
        &app,
        w.user("reporter_london"),
        "/api/v1/incidents",
        &crate::reports::incident(),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let new_org = |n: &str| json!({"name": format!("Org {n}"), "kind": "provider", "sector": "gp_practice", "area_ids": [w.gm]});

    let cases = vec![
        api(Method::GET, "/api/v1/me".into(), None, ALL_200),
        api(Method::GET, "/api/v1/areas".into(), None, ALL_200),
        api(
            Method::POST,
            "/api/v1/areas".into(),
            Some(json!({"name": "Kent", "region": "South East"})),
            ADMIN_ONLY_201,
        ),
        api(
            Method::GET,
            format!("/api/v1/areas/{}", w.gm),
            None,
            ALL_200,
        ),
        api(
            Method::PATCH,
            format!("/api/v1/areas/{}", w.gm),
            Some(json!({"region": "North West"})),
            ADMIN_ONLY_200,
        ),
        // Organisations: the directory in scope; analysts see none.
        api(
            Method::GET,
            "/api/v1/organisations".into(),
            None,
            [200, 200, 200, 200, 200, 200, 403],
        ),
        api(
            Method::POST,
            "/api/v1/organisations".into(),
            Some(new_org("new")),
            ADMIN_ONLY_201,
        ),
        api(
            Method::GET,
            format!("/api/v1/organisations/{}", w.pharmacy_gm),
            None,
            [200, 200, 200, 404, 200, 200, 404],
        ),
        api(
            Method::GET,
            format!("/api/v1/organisations/{}", w.pharmacy_london),
            None,
            [404, 404, 404, 404, 200, 200, 404],
        ),
        api(
            Method::GET,
            format!("/api/v1/organisations/{}", w.police_gm),
            None,
            [404, 404, 200, 200, 200, 200, 404],
        ),
        api(
            Method::PATCH,
            format!("/api/v1/organisations/{}", w.pharmacy_gm),
            Some(json!({"ods_code": "FX999"})),
            [403, 403, 403, 404, 200, 403, 404],
        ),
        // Users: own record; an org lead their organisation's; a CDAO the CDAOs of their areas.
        api(Method::GET, "/api/v1/users".into(), None, ALL_200),
        api(
            Method::POST,
            "/api/v1/users".into(),
            Some(
                json!({"email": "new.person@nhs.net", "name": "New Person", "role": "reporter", "organisation_id": w.pharmacy_gm}),
            ),
            ADMIN_ONLY_201,
        ),
        api(
            Method::GET,
            format!("/api/v1/users/{reporter}"),
            None,
            [200, 200, 404, 404, 200, 200, 404],
        ),
        api(
            Method::GET,
            format!("/api/v1/users/{cdao_london}"),
            None,
            [404, 404, 404, 404, 200, 200, 404],
        ),
        api(
            Method::PATCH,
            format!("/api/v1/users/{reporter}"),
            Some(json!({"name": "Renamed Reporter"})),
            [403, 403, 404, 404, 200, 403, 404],
        ),
        api(
            Method::POST,
            format!("/api/v1/users/{reporter}/invitation"),
            None,
            [403, 403, 404, 404, 201, 403, 404],
        ),
        api(
            Method::POST,
            format!("/api/v1/users/{cdao_london}/reset-mfa"),
            None,
            [404, 404, 404, 404, 204, 403, 404],
        ),
        // Tokens are managed only from a browser session, never with a token.
        api(Method::GET, "/api/v1/me/tokens".into(), None, [403; 7]),
        api(
            Method::POST,
            "/api/v1/me/tokens".into(),
            Some(json!({"name": "x", "days": 1})),
            [403; 7],
        ),
        Case {
            method: Method::GET,
            path: "/api/v1/me/tokens".into(),
            body: None,
            form: None,
            auth: Auth::Session,
            expect: ALL_200,
        },
        Case {
            method: Method::POST,
            path: "/api/v1/me/tokens".into(),
            body: Some(json!({"name": "system", "days": 7})),
            form: None,
            auth: Auth::Session,
            expect: [201; 7],
        },
        api(Method::GET, "/api/v1/audit".into(), None, AUDITOR_ONLY),
        api(
            Method::GET,
            "/api/v1/audit/verify".into(),
            None,
            AUDITOR_ONLY,
        ),
        api(Method::GET, "/api/v1/openapi.json".into(), None, ALL_200),
        // Reports and cases: reporters and org leads report; the reporter, their org lead and
        // the area's CDAO see the case; nobody else knows it exists.
        api(Method::GET, "/api/v1/drugs?q=morph".into(), None, ALL_200),
        api(
            Method::POST,
            "/api/v1/incidents".into(),
            Some(crate::reports::incident()),
            [201, 201, 403, 403, 403, 403, 403],
        ),
        api(
            Method::POST,
            "/api/v1/person-concerns".into(),
            Some(crate::reports::person_concern()),
            [201, 201, 403, 403, 403, 403, 403],
        ),
        api(
            Method::GET,
            "/api/v1/cases".into(),
            None,
            [200, 200, 200, 403, 403, 403, 403],
        ),
        api(
            Method::GET,
            format!("/api/v1/cases/{case_id}"),
            None,
            [200, 200, 200, 404, 404, 404, 404],
        ),
        api(
            Method::GET,
            format!("/api/v1/cases/{london_case}"),
            None,
            [404; 7],
        ),
        api(
            Method::POST,
            format!("/api/v1/cases/{case_id}/amendments"),
            Some(json!({"text": "More detail."})),
            [201, 201, 403, 404, 404, 404, 404],
        ),
        api(
            Method::POST,
            format!("/api/v1/cases/{london_case}/amendments"),
            Some(json!({"text": "More detail."})),
            [404; 7],
        ),
        api(
            Method::GET,
            format!("/api/v1/cases/{case_id}/attachments/00000000-0000-0000-0000-000000000000"),
            None,
            [404; 7],
        ),
        api(
            Method::POST,
            "/api/v1/occurrence-returns".into(),
            Some(json!({"year": 2026, "quarter": 1, "nil_return": true, "declaration": true})),
            [403, 201, 403, 403, 403, 403, 403],
        ),
        api(
            Method::GET,
            "/api/v1/occurrence-returns".into(),
            None,
            [403, 200, 200, 403, 403, 403, 403],
        ),
        // Triage: the area's CDAO acts; the reporting side sees the case but may not (403).
        api(
            Method::POST,
            format!("/api/v1/cases/{case_id}/triage"),
            Some(json!({"priority": "medium"})),
            [403, 403, 200, 404, 404, 404, 404],
        ),
        api(
            Method::POST,
            format!("/api/v1/cases/{london_case}/triage"),
            Some(json!({"priority": "medium"})),
            [404; 7],
        ),
        api(
            Method::POST,
            format!("/api/v1/cases/{case_id}/messages"),
            Some(json!({"body": "Hello"})),
            [201, 201, 201, 404, 404, 404, 404],
        ),
        api(
            Method::POST,
            format!("/api/v1/cases/{case_id}/links"),
            Some(json!({"case_id": london_case, "relation": "related"})),
            [403, 403, 422, 404, 404, 404, 404],
        ),
        api(
            Method::POST,
            format!("/api/v1/cases/{case_id}/reopen"),
            Some(json!({"reason": "x"})),
            [403, 403, 409, 404, 404, 404, 404],
        ),
        api(
            Method::GET,
            format!("/api/v1/cases/{case_id}/matches"),
            None,
            [403, 403, 200, 404, 404, 404, 404],
        ),
        api(
            Method::GET,
            format!("/api/v1/cases/{case_id}/access-log"),
            None,
            [403, 403, 200, 404, 404, 404, 404],
        ),
        api(
            Method::GET,
            "/api/v1/access-requests".into(),
            None,
            [403, 403, 200, 403, 403, 403, 403],
        ),
        api(
            Method::POST,
            "/api/v1/access-requests".into(),
            Some(json!({"case_id": case_id, "area_id": w.london, "reason": "x"})),
            [403, 403, 422, 403, 403, 403, 403],
        ),
        api(
            Method::POST,
            "/api/v1/access-requests/00000000-0000-0000-0000-000000000000/decide".into(),
            Some(json!({"decision": "approve"})),
            [403, 403, 404, 403, 403, 403, 403],
        ),
        api(
            Method::GET,
            "/api/v1/stats?group_by=harm".into(),
            None,
            [200, 200, 200, 403, 403, 403, 200],
        ),
        api(
            Method::GET,
            "/api/v1/cases.csv".into(),
            None,
            [403, 403, 200, 403, 403, 403, 403],
        ),
        // Sharing: the area's CDAO routes; members see only alerts addressed to them.
        api(
            Method::POST,
            format!("/api/v1/cases/{case_id}/shares/preview"),
            Some(share_body(w.police_gm)),
            [403, 403, 200, 404, 404, 404, 404],
        ),
        api(
            Method::GET,
            format!("/api/v1/cases/{case_id}/shares"),
            None,
            [403, 403, 200, 404, 404, 404, 404],
        ),
        api(
            Method::POST,
            format!("/api/v1/cases/{london_case}/shares"),
            Some(share_body(w.police_gm)),
            [404; 7],
        ),
        api(
            Method::GET,
            "/api/v1/alerts".into(),
            None,
            [403, 403, 403, 200, 403, 403, 403],
        ),
        api(
            Method::GET,
            "/api/v1/alerts/00000000-0000-0000-0000-000000000000".into(),
            None,
            [404; 7],
        ),
        api(
            Method::POST,
            "/api/v1/shares/00000000-0000-0000-0000-000000000000/approve".into(),
            None,
            [404; 7],
        ),
        api(
            Method::GET,
            "/api/v1/stats/responsiveness".into(),
            None,
            [403, 403, 200, 403, 403, 403, 200],
        ),
        // Oversight (issue 12): the lead CDAO team and national analysts.
        api(
            Method::GET,
            "/api/v1/stats?group_by=online_service".into(),
            None,
            CDAO_ANALYST_200,
        ),
        api(
            Method::GET,
            "/api/v1/stats?group_by=cbpm_issue".into(),
            None,
            CDAO_ANALYST_200,
        ),
        api(
            Method::GET,
            "/api/v1/stats/cdlo".into(),
            None,
            CDAO_ANALYST_200,
        ),
        api(
            Method::GET,
            "/api/v1/stats/spc?measure=all_incidents".into(),
            None,
            CDAO_ANALYST_200,
        ),
        page("/statistics/online-prescribing".into(), CDAO_ANALYST_200),
        page("/statistics/cbpm".into(), CDAO_ANALYST_200),
        page("/statistics/cdlo".into(), CDAO_ANALYST_200),
        page("/statistics/cdlo.csv".into(), CDAO_ANALYST_200),
        page("/statistics/opioids".into(), CDAO_ANALYST_200),
        page(
            "/statistics/opioids.csv?measure=opioid_harm".into(),
            CDAO_ANALYST_200,
        ),
        form(
            "/statistics/opioids/initiatives".into(),
            vec![],
            [403, 403, 422, 403, 403, 403, 403],
        ),
        // The case is closed last (what follows does not depend on it).
        api(
            Method::POST,
            format!("/api/v1/cases/{case_id}/close"),
            Some(json!({"outcome": "other", "well_founded": "no"})),
            [403, 403, 200, 404, 404, 404, 404],
        ),
        // Pages of triage, sharing and alerts.
        page("/alerts".into(), [403, 403, 403, 200, 403, 403, 403]),
        page(
            "/shares/pending".into(),
            [403, 403, 200, 403, 403, 403, 403],
        ),
        page(
            format!("/cases/{case_id}/share"),
            [403, 403, 200, 404, 404, 404, 404],
        ),
        // Pages.
        page("/".into(), ALL_200),
        page("/account".into(), ALL_200),
        page("/help".into(), ALL_200),
        page("/admin/areas".into(), ADMIN_ONLY_200),
        page("/admin/areas/new".into(), ADMIN_ONLY_200),
        page(format!("/admin/areas/{}", w.gm), ADMIN_ONLY_200),
        page("/admin/organisations".into(), ADMIN_ONLY_200),
        page("/admin/organisations/new".into(), ADMIN_ONLY_200),
        page(
            format!("/admin/organisations/{}", w.pharmacy_gm),
            ADMIN_ONLY_200,
        ),
        page("/admin/users".into(), ADMIN_ONLY_200),
        page("/admin/users/new".into(), ADMIN_ONLY_200),
        page(format!("/admin/users/{reporter}"), ADMIN_ONLY_200),
        page("/audit".into(), AUDITOR_ONLY),
        page("/audit/verify".into(), AUDITOR_ONLY),
        page("/audit/export.csv".into(), AUDITOR_ONLY),
        form(
            "/admin/areas/new".into(),
            vec![
                ("name", "Page Area".into()),
                ("region", "R".into()),
                ("two_person_rule", "yes".into()),
            ],
            [403, 403, 403, 403, 303, 403, 403],
        ),
        form(
            format!("/admin/users/{reporter}/reset-mfa"),
            vec![],
            [403, 403, 403, 403, 303, 403, 403],
        ),
    ];

    let mut failures = Vec::new();
    for case in &cases {
        for (i, role) in ROLES.iter().enumerate() {
            let user = w.user(role);
            let mut req = app.req(case.method.clone(), &case.path);
            req = match case.auth {
                Auth::Token => req.token(user),
                Auth::Session => req.session(user),
            };
            if let Some(b) = &case.body {
                req = req.json(b);
            }
            if let Some(f) = &case.form {
                let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
                req = req.form(&pairs);
            }
            let res = req.send().await;
            if res.status.as_u16() != case.expect[i] {
                failures.push(format!(
                    "{} {} as {role}: got {}, expected {} — {}",
                    case.method,
                    case.path,
                    res.status.as_u16(),
                    case.expect[i],
                    res.text().chars().take(200).collect::<String>()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn nobody_signed_in_gets_401_from_the_api_and_is_sent_to_sign_in_from_pages() {
    let app = TestApp::new().await;
    for path in [
        "/api/v1/me",
        "/api/v1/areas",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/me/tokens",
    ] {
        let r = app.get(path).send().await;
        r.assert_status(StatusCode::UNAUTHORIZED);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert!(r.header("www-authenticate").is_some());
    }
    for path in ["/", "/account", "/admin/users", "/audit"] {
        let r = app.get(path).send().await;
        r.assert_status(StatusCode::SEE_OTHER);
        assert!(
            r.location().starts_with("/sign-in?next="),
            "{path} -> {}",
            r.location()
        );
    }
    // Public pages need no sign-in.
    for path in [
        "/sign-in",
        "/help",
        "/privacy",
        "/accessibility",
        "/healthz",
        "/readyz",
        "/api/v1/openapi.json",
    ] {
        app.get(path).send().await.assert_status(StatusCode::OK);
    }
}

#[tokio::test]
async fn a_bad_token_is_401_even_with_a_good_session() {
    let app = TestApp::new().await;
    let u = app.world.user("admin");
    let r = app
        .get("/api/v1/me")
        .session(u)
        .header("authorization", "Bearer cdc_not-a-real-token")
        .send()
        .await;
    r.assert_status(StatusCode::UNAUTHORIZED);
    let r = app
        .get("/api/v1/me")
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await;
    r.assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn scoped_lists_hold_only_what_the_caller_may_see() {
    let app = TestApp::new().await;
    let w = &app.world;
    let ids = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    // A reporter sees only their own organisation and themselves.
    let r = app
        .get("/api/v1/organisations")
        .token(w.user("reporter"))
        .send()
        .await;
    assert_eq!(ids(r.json()), vec![w.pharmacy_gm.to_string()]);
    let r = app
        .get("/api/v1/users")
        .token(w.user("reporter"))
        .send()
        .await;
    assert_eq!(ids(r.json()), vec![w.user("reporter").id.to_string()]);
    // An org lead sees their organisation's users, not another's.
    let r = app
        .get("/api/v1/users")
        .token(w.user("org_lead"))
        .send()
        .await;
    let seen = ids(r.json());
    assert!(seen.contains(&w.user("reporter").id.to_string()));
    assert!(!seen.contains(&w.user("reporter_london").id.to_string()));
    // A Greater Manchester CDAO sees GM organisations and members, not London's providers.
    let r = app
        .get("/api/v1/organisations")
        .token(w.user("cdao"))
        .send()
        .await;
    let seen = ids(r.json());
    assert!(seen.contains(&w.pharmacy_gm.to_string()));
    assert!(seen.contains(&w.police_gm.to_string()));
    assert!(seen.contains(&w.gphc.to_string()));
    assert!(!seen.contains(&w.pharmacy_london.to_string()));
    // An admin sees all.
    let r = app.get("/api/v1/users").token(w.user("admin")).send().await;
    assert_eq!(ids(r.json()).len(), w.users.len());
}
