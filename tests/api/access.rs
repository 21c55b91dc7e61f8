//! Who may come in at all: 401 for the API, sign-in for pages, public pages open; scoped
//! lists. (The route-by-route table for every role is `matrix.rs`.)

use axum::http::StatusCode;

use crate::harness::TestApp;

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
