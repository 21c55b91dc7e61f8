//! The API document is the contract (issue 13): text is checked once at the edge for every
//! way input arrives, query parameters are validated as declared, unknown fields are refused,
//! and the served document is well formed, complete and built from the server's own types.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp};
use crate::reports::{incident, person_concern};

// ---- Control characters: each way text arrives --------------------------------------

#[tokio::test]
async fn a_nul_in_a_json_body_is_a_422_naming_the_field_not_a_500() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let mut body = incident();
    body["description"] = json!("Tablets missing\u{0}from the register");
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["description"]);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    // Nested and listed fields are named by their path.
    let mut body = person_concern();
    body["person"]["work_addresses"] = json!(["1 High Street", "2 Low\u{1b}Street"]);
    body["person"]["full_name"] = json!("Dr\u{7f} Example");
    let r = app
        .post("/api/v1/person-concerns")
        .token(u)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.error_fields(),
        vec!["person.full_name", "person.work_addresses[1]"]
    );
}

#[tokio::test]
async fn tabs_and_line_breaks_are_allowed_in_free_text_only() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let mut body = incident();
    body["description"] = json!("First line\r\nsecond line\twith a tab");
    body["actions_taken"] = json!("Checked.\nRechecked.");
    app.post("/api/v1/incidents")
        .token(u)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let mut body = incident();
    body["location"] = json!("Dispensary\tshelf 2");
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["location"]);
    assert!(
        r.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("U+0009")
    );
}

#[tokio::test]
async fn a_nul_in_a_query_string_is_a_422_naming_the_parameter() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao");
    let r = app.get("/api/v1/cases?q=%00abc").token(cdao).send().await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["q"]);
    let admin = app.world.user("admin");
    let r = app
        .get("/api/v1/users?status=%00")
        .token(admin)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["status"]);
    // On a page: the same refusal, as an error summary.
    let r = app.get("/cases?q=%00abc").session(cdao).send().await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(
        html.contains("nhsuk-error-summary") && html.contains("href=\"#q\""),
        "{html}"
    );
}

#[tokio::test]
async fn a_nul_in_the_sign_in_form_is_a_422_with_an_error_summary() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let email = format!("{}\u{0}", u.email);
    let r = app
        .post("/sign-in")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text();
    assert!(html.contains("nhsuk-error-summary"), "{html}");
    assert!(html.contains("href=\"#email\""), "{html}");
    assert!(r.session_cookie().is_none());
}

#[tokio::test]
async fn control_characters_in_headers_and_file_names_are_refused() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .header("idempotency-key", "key\twith-tab")
        .json(&incident())
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["Idempotency-Key"]);

    let created = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&incident())
        .send()
        .await;
    created.assert_status(StatusCode::CREATED);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let boundary = "cdcboundaryCTRL";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\u{85}b.txt\"\r\nContent-Type: text/plain\r\n\r\nhello"
    )
    .into_bytes();
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .post(&format!("/api/v1/cases/{id}/attachments"))
        .token(u)
        .raw(&format!("multipart/form-data; boundary={boundary}"), body)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["file"]);
}

// ---- Query parameters as declared; unknown fields refused ------------------------------

#[tokio::test]
async fn query_parameters_are_validated_as_declared() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin");
    for (query, field) in [
        ("area_id=", "area_id"),
        ("area_id=not-a-uuid", "area_id"),
        ("kind=shop", "kind"),
        ("colour=red", "colour"),
    ] {
        let r = app
            .get(&format!("/api/v1/organisations?{query}"))
            .token(admin)
            .send()
            .await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.error_fields(), vec![field], "{query}");
    }
    let cdao = app.world.user("cdao");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("status=new,open", "status"),
        ("organisation_id=", "organisation_id"),
        ("from=yesterday", "from"),
    ] {
        let r = app
            .get(&format!("/api/v1/cases?{query}"))
            .token(cdao)
            .send()
            .await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.error_fields(), vec![field], "{query}");
    }
    app.get("/api/v1/cases?status=new,in_review&limit=200")
        .token(cdao)
        .send()
        .await
        .assert_status(StatusCode::OK);
    // Not signed in: 401 comes first.
    app.get("/api/v1/cases?limit=0")
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_body_fields_are_refused_everywhere() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let mut body = incident();
    body["occured_on"] = json!("2026-11-02");
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["occured_on"]);
    let mut body = incident();
    body["drugs"][0]["dose"] = json!(5);
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["drugs[0].dose"]);
    let admin = app.world.user("admin");
    let r = app
        .post("/api/v1/areas")
        .token(admin)
        .json(&json!({"name": "Kent", "region": "South East", "colour": "blue"}))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["colour"]);
}

// ---- The property: no control character gets past the edge, on any route ---------------

/// Every C0 and C1 control character and DEL.
fn control_characters() -> Vec<char> {
    (0u32..0x20)
        .chain(0x7f..0xa0)
        .filter_map(char::from_u32)
        .collect()
}

fn encode(c: char) -> String {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf)
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect()
}

async fn document(app: &TestApp) -> Value {
    let r = app.get("/api/v1/openapi.json").send().await;
    r.assert_status(StatusCode::OK);
    r.json()
}

/// (method, path, query parameter names, body property names) of an operation.
type Operation = (Method, String, Vec<String>, Option<Vec<String>>);

/// Every operation of the document.
fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let query: Vec<String> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| p["name"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            let body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .map(|r| {
                    let name = r.rsplit('/').next().unwrap();
                    doc["components"]["schemas"][name]["properties"]
                        .as_object()
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default()
                });
            let path = path
                .replace("{id}", "0190c5a4-4c7e-7b4e-9b1a-1c2d3e4f5a6b")
                .replace("{attachment_id}", "0190c5a4-4c7e-7b4e-9b1a-1c2d3e4f5a6c");
            out.push((method.to_uppercase().parse().unwrap(), path, query, body));
        }
    }
    out
}

#[tokio::test]
async fn no_control_character_reaches_any_route_of_the_document() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 50, "{} operations", ops.len());
    let chars = control_characters();
    assert_eq!(chars.len(), 65);
    let roles = [
        "reporter", "org_lead", "cdao", "member", "admin", "auditor", "analyst",
    ];
    let mut requests = 0;
    for (i, (method, path, query, body)) in ops.iter().enumerate() {
        // Every character into every declared query parameter (or an undeclared one).
        let params = if query.is_empty() {
            vec!["q".to_string()]
        } else {
            query.clone()
        };
        for (j, c) in chars.iter().enumerate() {
            let user = app.world.user(roles[(i + j) % roles.len()]);
            let p = &params[j % params.len()];
            let r = app
                .req(method.clone(), &format!("{path}?{p}=a{}b", encode(*c)))
                .token(user)
                .send()
                .await;
            requests += 1;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {path}?{p}= with U+{:04X} as {}: {}",
                *c as u32,
                user.role.code(),
                r.text()
            );
            assert_eq!(r.error_fields(), vec![p.clone()]);
        }
        // Every character into a text property of the body (free text allows three).
        if let Some(props) = body {
            for (j, c) in chars.iter().enumerate() {
                let Some(prop) = props.get(j % props.len().max(1)) else {
                    break;
                };
                if cdconcerns::web::extract::is_free_text(prop) && matches!(c, '\t' | '\n' | '\r') {
                    continue;
                }
                let user = app.world.user(roles[(i + j) % roles.len()]);
                let r = app
                    .req(method.clone(), path)
                    .token(user)
                    .json(&json!({ prop: format!("a{c}b") }))
                    .send()
                    .await;
                requests += 1;
                assert_eq!(
                    r.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{method} {path} {prop} with U+{:04X} as {}: {}",
                    *c as u32,
                    user.role.code(),
                    r.text()
                );
                assert!(
                    r.error_fields().contains(prop),
                    "{method} {path} {prop}: {:?}",
                    r.error_fields()
                );
            }
        }
    }
    assert!(requests > 3000, "{requests} requests");
}

#[tokio::test]
async fn no_control_character_reaches_a_page_through_a_form_or_a_query() {
    let app = TestApp::new().await;
    let reporter = app.world.user("reporter");
    let cdao = app.world.user("cdao");
    let case = app
        .post("/api/v1/incidents")
        .token(reporter)
        .json(&incident())
        .send()
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let forms: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "reporter",
            "/reports/new/incident".into(),
            vec!["location", "description"],
        ),
        (
            "reporter",
            format!("/reports/{case}/amendments"),
            vec!["text"],
        ),
        (
            "reporter",
            format!("/reports/{case}/messages"),
            vec!["body"],
        ),
        (
            "cdao",
            format!("/cases/{case}/triage"),
            vec!["note", "status"],
        ),
        (
            "cdao",
            format!("/cases/{case}/close"),
            vec!["close_note", "outcome"],
        ),
        (
            "cdao",
            format!("/cases/{case}/share"),
            vec!["purpose", "summary"],
        ),
        ("admin", "/admin/areas/new".into(), vec!["name", "region"]),
        ("reporter", "/account/tokens".into(), vec!["name"]),
    ];
    for (who, path, fields) in &forms {
        let user = app.world.user(who);
        for field in fields {
            for c in control_characters() {
                if cdconcerns::web::extract::is_free_text(field) && matches!(c, '\t' | '\n' | '\r')
                {
                    continue;
                }
                let value = format!("a{c}b");
                let r = app
                    .post(path)
                    .session(user)
                    .form(&[(field, value.as_str())])
                    .send()
                    .await;
                assert_eq!(
                    r.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{path} {field} U+{:04X}",
                    c as u32
                );
                assert!(
                    r.text().contains(&format!("href=\"#{field}\"")),
                    "{path} {field}"
                );
            }
        }
    }
    for c in control_characters() {
        let r = app
            .get(&format!("/cases?status={}", encode(c)))
            .session(cdao)
            .send()
            .await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

// ---- The document ---------------------------------------------------------------------

#[tokio::test]
async fn the_document_is_complete_unique_and_says_how_errors_look() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            assert!(ids.insert(id.clone()), "operationId {id} is used twice");
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "403", "429", "503"] {
                assert!(responses.contains_key(status), "{id} lacks {status}");
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{id} lacks 404");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{id} lacks {status}");
                }
            }
            for (status, r) in responses {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{id} {status} has no description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        r["content"]["application/problem+json"]["schema"]["$ref"],
                        "#/components/schemas/Problem",
                        "{id} {status}"
                    );
                }
            }
            assert!(responses["429"]["headers"].get("Retry-After").is_some());
        }
    }
    for id in [
        "list_cases",
        "list_case_shares",
        "submit_incident",
        "get_case",
    ] {
        assert!(ids.contains(id), "{id}");
    }
    let problem = &doc["components"]["schemas"]["Problem"];
    assert!(problem["properties"]["errors"].is_object());
}

/// The codes of SPEC §7.1, from the enumerations the server parses.
fn server_enumerations() -> BTreeMap<&'static str, Vec<&'static str>> {
    use cdconcerns::domain::directory::{OrgKind, Role, Sector, UserStatus};
    use cdconcerns::domain::identifiers::Register;
    use cdconcerns::domain::report::*;
    use cdconcerns::domain::share::{ActionRequired, ActionTaken, Disclosure, LawfulBasis};
    use cdconcerns::domain::triage::{LinkRelation, Outcome, Priority, WellFounded};
    fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| code(*v)).collect()
    }
    BTreeMap::from([
        (
            "IncidentCategory",
            codes(IncidentCategory::ALL, IncidentCategory::code),
        ),
        ("Harm", codes(Harm::ALL, Harm::code)),
        ("Schedule", codes(Schedule::ALL, Schedule::code)),
        ("SubjectType", codes(SubjectType::ALL, SubjectType::code)),
        (
            "ConcernCategory",
            codes(ConcernCategory::ALL, ConcernCategory::code),
        ),
        ("Provenance", codes(Provenance::ALL, Provenance::code)),
        (
            "ConcernStatus",
            codes(ConcernStatus::ALL, ConcernStatus::code),
        ),
        ("CaseStatus", codes(CaseStatus::ALL, CaseStatus::code)),
        ("Role", codes(Role::ALL, Role::code)),
        ("OrgKind", codes(OrgKind::ALL, OrgKind::code)),
        ("Sector", codes(Sector::ALL, Sector::code)),
        ("UserStatus", codes(UserStatus::ALL, UserStatus::code)),
        ("Disclosure", codes(Disclosure::ALL, Disclosure::code)),
        ("LawfulBasis", codes(LawfulBasis::ALL, LawfulBasis::code)),
        (
            "ActionRequired",
            codes(ActionRequired::ALL, ActionRequired::code),
        ),
        ("ActionTaken", codes(ActionTaken::ALL, ActionTaken::code)),
        ("Priority", codes(Priority::ALL, Priority::code)),
        ("Outcome", codes(Outcome::ALL, Outcome::code)),
        ("WellFounded", codes(WellFounded::ALL, WellFounded::code)),
        ("LinkRelation", codes(LinkRelation::ALL, LinkRelation::code)),
        ("Register", codes(Register::ALL, Register::code)),
    ])
}

#[tokio::test]
async fn the_documents_enumerations_are_the_servers() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];
    for (name, codes) in server_enumerations() {
        let declared: Vec<&str> = schemas[name]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} is not in the document"))
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(declared, codes, "{name}");
    }
    // The inputs use them: a generated client cannot send a code the server refuses.
    let prop = |schema: &str, field: &str| schemas[schema]["properties"][field].to_string();
    for (schema, field, enumeration) in [
        ("IncidentInput", "harm", "Harm"),
        ("IncidentInput", "categories", "IncidentCategory"),
        ("DrugItemInput", "schedule", "Schedule"),
        ("PersonConcernInput", "subject_type", "SubjectType"),
        (
            "PersonConcernInput",
            "concern_categories",
            "ConcernCategory",
        ),
        ("PersonConcernInput", "provenance", "Provenance"),
        ("PersonConcernInput", "status", "ConcernStatus"),
        ("RegistrationInput", "register", "Register"),
        ("CloseInput", "outcome", "Outcome"),
        ("CloseInput", "well_founded", "WellFounded"),
        ("TriageInput", "status", "CaseStatus"),
        ("TriageInput", "priority", "Priority"),
        ("LinkInput", "relation", "LinkRelation"),
        ("ShareInput", "disclosure", "Disclosure"),
        ("ShareInput", "lawful_basis", "LawfulBasis"),
        ("ShareInput", "action_required", "ActionRequired"),
        ("ResponseInput", "action_taken", "ActionTaken"),
        ("OrganisationInput", "kind", "OrgKind"),
        ("OrganisationInput", "sector", "Sector"),
        ("UserInput", "role", "Role"),
    ] {
        assert!(
            prop(schema, field).contains(&format!("#/components/schemas/{enumeration}\"")),
            "{schema}.{field} should use {enumeration}: {}",
            prop(schema, field)
        );
    }
    // Inputs refuse unknown fields, and say which fields are required.
    for (schema, required) in [
        (
            "IncidentInput",
            &[
                "occurred_on",
                "location",
                "categories",
                "harm",
                "description",
            ][..],
        ),
        (
            "PersonConcernInput",
            &[
                "subject_type",
                "person",
                "concern_categories",
                "provenance",
                "status",
                "description",
            ][..],
        ),
        ("CloseInput", &["outcome", "well_founded"][..]),
        (
            "ShareInput",
            &[
                "organisation_ids",
                "disclosure",
                "lawful_basis",
                "purpose",
                "summary",
                "action_required",
            ][..],
        ),
    ] {
        assert_eq!(schemas[schema]["additionalProperties"], false, "{schema}");
        let declared: BTreeSet<&str> = schemas[schema]["required"]
            .as_array()
            .map(|a| a.iter().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(declared, required.iter().copied().collect(), "{schema}");
    }
}

// ---- The reference page ---------------------------------------------------------------

#[tokio::test]
async fn the_api_reference_is_a_page_for_signed_in_users_with_nothing_from_elsewhere() {
    let app = TestApp::new().await;
    let r = app.get("/api/docs").send().await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/sign-in"), "{}", r.location());
    let u = app.world.user("reporter");
    let r = app.get("/api/docs").session(u).send().await;
    r.assert_status(StatusCode::OK);
    let html = r.text();
    for asset in [
        "/static/swagger-ui/swagger-ui-bundle.js",
        "/static/swagger-ui/swagger-ui.css",
        "/static/js/api-docs.js",
    ] {
        assert!(html.contains(asset), "{asset}");
        app.get(asset).send().await.assert_status(StatusCode::OK);
    }
    assert!(html.contains("data-url=\"/api/v1/openapi.json\""));
    for external in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!html.contains(external), "no CDN: {external}");
    }
    assert!(!html.contains("<script>"), "no inline script");
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let help = app.get("/help").send().await.text();
    assert!(help.contains("href=\"/api/docs\""));
}

#[tokio::test]
async fn a_blank_where_the_document_declares_a_date_or_a_code_is_refused() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter");
    let mut body = incident();
    body["discovered_on"] = json!("");
    body["drugs"][0]["schedule"] = json!(" ");
    let r = app
        .post("/api/v1/incidents")
        .token(u)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["discovered_on", "drugs[0].schedule"]);
    // null is how an optional field is left empty.
    body["discovered_on"] = json!(null);
    body["drugs"][0]["schedule"] = json!("2");
    app.post("/api/v1/incidents")
        .token(u)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_patch_documents_that_every_field_may_be_left_out() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    for (path, patch) in [
        ("/api/v1/areas/{id}", "AreaPatch"),
        ("/api/v1/organisations/{id}", "OrganisationPatch"),
        ("/api/v1/users/{id}", "UserPatch"),
    ] {
        assert_eq!(
            doc["paths"][path]["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{patch}")
        );
        let s = &doc["components"]["schemas"][patch];
        assert!(
            s["required"].as_array().is_none_or(|r| r.is_empty()),
            "{patch}"
        );
        assert_eq!(s["additionalProperties"], false);
    }
    let admin = app.world.user("admin");
    let r = app
        .patch(&format!("/api/v1/areas/{}", app.world.gm))
        .token(admin)
        .json(&json!({"region": null, "two_person_rule": false}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["name"], "Greater Manchester");
}

#[tokio::test]
async fn every_reference_of_the_document_resolves_and_every_operation_is_named() {
    // A schema named only by a query parameter must be listed in `components`, or the
    // reference dangles and the edge cannot check the parameter against it.
    fn walk(doc: &Value, v: &Value, at: &str, bad: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str)
                    && doc.pointer(r.trim_start_matches('#')).is_none()
                {
                    bad.push(format!("{at}: {r}"));
                }
                for (k, x) in m {
                    walk(doc, x, &format!("{at}/{k}"), bad);
                }
            }
            Value::Array(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    walk(doc, x, &format!("{at}/{i}"), bad);
                }
            }
            _ => {}
        }
    }
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let mut bad = Vec::new();
    walk(&doc, &doc, "", &mut bad);
    assert!(bad.is_empty(), "dangling references: {bad:#?}");
    // Operation ids say what they do (verb_object), not a bare handler name.
    let mut unnamed = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or("");
            if !id.contains('_') {
                unnamed.push(format!("{method} {path}: {id:?}"));
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "operations without a meaningful id: {unnamed:#?}"
    );
}
