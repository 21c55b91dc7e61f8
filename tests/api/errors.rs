//! Every error code of SPEC §7, the headers, and cross-site posts.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn bad_input_gets_the_right_problem_never_a_500() {
    let app = TestApp::with_config(|c| c.api_rate_limit = 0).await;
    let admin = app.world.user("admin").clone();
    // 400: not JSON.
    let r = app
        .post("/api/v1/areas")
        .token(&admin)
        .raw("application/json", "{not json")
        .send()
        .await;
    r.assert_status(StatusCode::BAD_REQUEST);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let p = r.json();
    assert_eq!(p["status"], 400);
    assert!(p["type"].is_string() && p["title"].is_string() && p["detail"].is_string());
    // 415: not declared as JSON.
    app.post("/api/v1/areas")
        .token(&admin)
        .raw("text/plain", "{}")
        .send()
        .await
        .assert_status(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // 413: too large.
    let big = format!(
        "{{\"name\": \"{}\", \"region\": \"x\"}}",
        "a".repeat(2 * 1024 * 1024)
    );
    app.post("/api/v1/areas")
        .token(&admin)
        .raw("application/json", big)
        .send()
        .await
        .assert_status(StatusCode::PAYLOAD_TOO_LARGE);
    // 422: every failing field listed.
    let r = app
        .post("/api/v1/users")
        .token(&admin)
        .json(&json!({}))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["email", "name", "role"]);
    let r = app
        .post("/api/v1/organisations")
        .token(&admin)
        .json(&json!({"name": "", "kind": "shop", "sector": "bakery", "ods_code": "!!", "area_ids": []}))
        .send()
        .await;
    assert_eq!(
        r.error_fields(),
        vec!["name", "kind", "sector", "ods_code", "area_ids"]
    );
    // 422: a value of the wrong type names its field.
    let r = app
        .post("/api/v1/areas")
        .token(&admin)
        .json(&json!({"name": 5, "region": "x"}))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["name"]);
    // 404: nothing there, or not a valid id.
    app.get("/api/v1/users/00000000-0000-0000-0000-000000000000")
        .token(&admin)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/api/v1/users/not-a-uuid")
        .token(&admin)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let r = app.get("/api/v1/nothing-here").token(&admin).send().await;
    r.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    // 409: a change that cannot be made now.
    app.patch(&format!("/api/v1/users/{}", admin.id))
        .token(&admin)
        .json(&json!({"role": "auditor"}))
        .send()
        .await
        .assert_status(StatusCode::CONFLICT);
    // 405 is a problem too.
    let r = app
        .req(axum::http::Method::PUT, "/api/v1/areas")
        .token(&admin)
        .send()
        .await;
    r.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
}

#[tokio::test]
async fn api_requests_past_the_limit_get_429_with_retry_after() {
    let app = TestApp::with_config(|c| c.api_rate_limit = 3).await;
    let u = app.world.user("reporter").clone();
    for _ in 0..3 {
        app.get("/api/v1/me")
            .token(&u)
            .send()
            .await
            .assert_status(StatusCode::OK);
    }
    let r = app.get("/api/v1/me").token(&u).send().await;
    r.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(r.header("retry-after").is_some());
    // Another token has its own allowance.
    app.get("/api/v1/me")
        .token(app.world.user("admin"))
        .send()
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn errors_carry_the_request_id_and_pages_get_an_nhs_error_page() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let r = app.get("/no/such/page").session(&u).send().await;
    r.assert_status(StatusCode::NOT_FOUND);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let id = r.header("x-request-id").unwrap().to_string();
    assert!(r.text().contains("Page not found") && r.text().contains(&id));
    assert!(
        r.text().contains("nhsuk-header"),
        "the error page uses the service layout"
    );
    let api = app
        .get("/api/v1/users/00000000-0000-0000-0000-000000000000")
        .token(&u)
        .send()
        .await;
    assert_eq!(
        api.json()["request_id"],
        api.header("x-request-id").unwrap()
    );
    // A role that may not use a page gets a 403 page, not a blank.
    let r = app.get("/admin/users").session(&u).send().await;
    r.assert_status(StatusCode::FORBIDDEN);
    assert!(r.text().contains("You cannot do this"));
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    for r in [
        app.get("/sign-in").send().await,
        app.get("/").session(&u).send().await,
        app.get("/api/v1/me").token(&u).send().await,
        app.get("/nope").send().await,
    ] {
        let csp = r.header("content-security-policy").unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert!(r.header("x-request-id").is_some());
        assert!(
            r.header("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
    let css = app.get("/static/css/nhsuk-frontend.min.css").send().await;
    css.assert_status(StatusCode::OK);
    assert!(css.header("cache-control").unwrap().contains("max-age"));
    // No page has inline script.
    let page = app.get("/").session(&u).send().await.text();
    for chunk in page.split("<script").skip(1) {
        assert!(
            chunk.trim_start().starts_with("src=") || chunk.contains(" src="),
            "inline script: {chunk}"
        );
    }
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let app = TestApp::new().await;
    let u = app.world.user("admin").clone();
    let body = "name=Evil&region=X&two_person_rule=no";
    let evil = app
        .post("/admin/areas/new")
        .session(&u)
        .raw("application/x-www-form-urlencoded", body)
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .send()
        .await;
    evil.assert_status(StatusCode::FORBIDDEN);
    let old_browser = app
        .post("/admin/areas/new")
        .session(&u)
        .raw("application/x-www-form-urlencoded", body)
        .header("origin", "https://evil.example")
        .send()
        .await;
    old_browser.assert_status(StatusCode::FORBIDDEN);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM areas WHERE name = 'Evil'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    // The same post from the service's own page goes through.
    let ok = app
        .post("/admin/areas/new")
        .session(&u)
        .form(&[("name", "Good"), ("region", "X"), ("two_person_rule", "no")])
        .send()
        .await;
    ok.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    app.get("/healthz")
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/readyz")
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.pool.close().await;
    app.get("/readyz")
        .send()
        .await
        .assert_status(StatusCode::SERVICE_UNAVAILABLE);
    app.get("/healthz")
        .send()
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route() {
    let app = TestApp::new().await;
    let doc = app.get("/api/v1/openapi.json").send().await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/me",
        "/api/v1/me/tokens",
        "/api/v1/me/tokens/{id}",
        "/api/v1/areas",
        "/api/v1/areas/{id}",
        "/api/v1/organisations",
        "/api/v1/organisations/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/drugs",
        "/api/v1/incidents",
        "/api/v1/person-concerns",
        "/api/v1/cases",
        "/api/v1/cases/{id}",
        "/api/v1/cases/{id}/amendments",
        "/api/v1/cases/{id}/attachments",
        "/api/v1/cases/{id}/attachments/{attachment_id}",
        "/api/v1/occurrence-returns",
        "/api/v1/cases/{id}/triage",
        "/api/v1/cases/{id}/messages",
        "/api/v1/cases/{id}/links",
        "/api/v1/cases/{id}/close",
        "/api/v1/cases/{id}/reopen",
        "/api/v1/cases/{id}/matches",
        "/api/v1/cases/{id}/access-log",
        "/api/v1/access-requests",
        "/api/v1/access-requests/{id}/decide",
        "/api/v1/stats",
        "/api/v1/cases.csv",
        "/api/v1/cases/{id}/shares",
        "/api/v1/shares/{id}/approve",
        "/api/v1/alerts",
        "/api/v1/alerts/{id}/acknowledge",
        "/api/v1/stats/responsiveness",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
