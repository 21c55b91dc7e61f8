//! Accounts (issue 8, findings 3, 4 and 7; issue 9): four eyes on accounts that read cases,
//! credentials that die together, redirects that stay on the site, and what a person needs
//! to keep an account (change, reset, recovery codes, sessions, notices, fresh proof, locks).

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{Value, json};

use cdconcerns::domain::directory::Role;

use crate::harness::{PASSWORD, TestApp, TestUser};

async fn me_status_with_token(app: &TestApp, u: &TestUser) -> StatusCode {
    app.get("/api/v1/me").token(u).send().await.status
}

async fn me_status_with_session(app: &TestApp, u: &TestUser) -> StatusCode {
    app.get("/api/v1/me").session(u).send().await.status
}

async fn second_admin(app: &TestApp) -> TestUser {
    app.create_user("admin2", Role::Admin, None, vec![]).await
}

fn path_of(url: &str) -> String {
    url.strip_prefix("http://cdc.test").unwrap().to_string()
}

async fn create_user(app: &TestApp, admin: &TestUser, body: Value) -> Value {
    let r = app
        .post("/api/v1/users")
        .token(admin)
        .json(&body)
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    r.json()
}

async fn approve(app: &TestApp, by: &TestUser, id: &str) -> crate::harness::Resp {
    app.post(&format!("/api/v1/users/{id}/approve"))
        .token(by)
        .send()
        .await
}

// ----- Finding 7: sign-in redirects stay on the site -----

#[tokio::test]
async fn next_with_a_control_character_cannot_leave_the_site() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    for evil in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r//evil.example",
        "/ /evil.example",
        "/%09/evil.example",
        "/.//evil.example",
        "/\\/evil.example",
        "///evil.example",
    ] {
        let r = app
            .post("/sign-in")
            .form(&[("email", &u.email), ("password", PASSWORD), ("next", evil)])
            .send()
            .await;
        assert_eq!(r.location(), "/", "{evil:?}");
    }
    // A real path of the service is kept.
    let r = app
        .post("/sign-in")
        .form(&[
            ("email", &u.email),
            ("password", PASSWORD),
            ("next", "/reports?status=new"),
        ])
        .send()
        .await;
    assert_eq!(r.location(), "/reports?status=new");
    // The sign-in page does not carry a bad `next` into its form.
    let page = app.get("/sign-in?next=/%09/evil.example").send().await;
    assert!(!page.text().contains("evil.example"));
}

#[tokio::test]
async fn next_with_a_control_character_cannot_leave_the_site_through_the_second_factor() {
    let app = TestApp::new().await;
    let u = app.world.user("cdao").clone();
    let r = app
        .post("/sign-in")
        .form(&[
            ("email", &u.email),
            ("password", PASSWORD),
            ("next", "/\t/evil.example"),
        ])
        .send()
        .await;
    assert!(
        !r.location().contains("evil"),
        "the second-factor step must not carry it: {}",
        r.location()
    );
    let pending = r.session_cookie().unwrap();
    let page = app
        .get("/sign-in/mfa?next=/%09/evil.example")
        .cookie(&pending)
        .send()
        .await;
    assert!(!page.text().contains("evil.example"));
    let code = app.totp_now();
    let r = app
        .post("/sign-in/mfa")
        .cookie(&pending)
        .form(&[("code", &code), ("next", "/\t/evil.example")])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/");
}

// ----- Finding 3: four eyes on every account that can read cases -----

#[tokio::test]
async fn a_cdao_made_by_an_admin_waits_for_a_second_person() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let created = create_user(
        &app,
        &admin,
        json!({"email": "new.cdao@nhs.net", "name": "New CDAO", "role": "cdao",
               "organisation_id": app.world.nhse_nw, "area_ids": [app.world.gm]}),
    )
    .await;
    assert_eq!(created["status"], "pending_approval");
    let id = created["id"].as_str().unwrap().to_string();
    let link = path_of(created["invitation_url"].as_str().unwrap());
    // Until approved, the link does not work.
    app.get(&link)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let r = app
        .post(&link)
        .form(&[
            ("password", "velvet harbour juniper cascade"),
            ("confirm", "velvet harbour juniper cascade"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::NOT_FOUND);
    // The creator may not approve it; those who cannot see it get 404.
    approve(&app, &admin, &id)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    for who in ["reporter", "member", "cdao_london", "analyst"] {
        approve(&app, app.world.user(who), &id)
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    // A CDAO of its area approves it.
    let r = approve(&app, app.world.user("cdao"), &id).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"], "invited");
    // Approving again is a conflict, not a second approval.
    approve(&app, &second_admin(&app).await, &id)
        .await
        .assert_status(StatusCode::CONFLICT);
    // Now the link returned at creation works.
    app.get(&link).send().await.assert_status(StatusCode::OK);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"user.approved".to_string()));
}

#[tokio::test]
async fn a_member_is_approved_by_a_cdao_of_its_organisations_areas_or_another_admin() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let created = create_user(
        &app,
        &admin,
        json!({"email": "new.officer@police.uk", "name": "New Officer", "role": "member",
               "organisation_id": app.world.police_gm}),
    )
    .await;
    assert_eq!(created["status"], "pending_approval");
    let id = created["id"].as_str().unwrap().to_string();
    approve(&app, app.world.user("cdao_london"), &id)
        .await
        .assert_status(StatusCode::NOT_FOUND);
    approve(&app, app.world.user("cdao"), &id)
        .await
        .assert_status(StatusCode::OK);

    // An org lead: another admin only (a CDAO does not approve provider accounts).
    let lead = create_user(
        &app,
        &admin,
        json!({"email": "new.lead@pharmacy.nhs.uk", "name": "New Lead", "role": "org_lead",
               "organisation_id": app.world.pharmacy_gm}),
    )
    .await;
    assert_eq!(lead["status"], "pending_approval");
    let lead_id = lead["id"].as_str().unwrap().to_string();
    let st = approve(&app, app.world.user("cdao"), &lead_id).await.status;
    assert!(
        st == StatusCode::NOT_FOUND || st == StatusCode::FORBIDDEN,
        "{st}"
    );
    approve(&app, &second_admin(&app).await, &lead_id)
        .await
        .assert_status(StatusCode::OK);

    // A reporter reads only their own reports: no second person needed.
    let rep = create_user(
        &app,
        &admin,
        json!({"email": "new.rep@pharmacy.nhs.uk", "name": "New Rep", "role": "reporter",
               "organisation_id": app.world.pharmacy_gm}),
    )
    .await;
    assert_eq!(rep["status"], "invited");
}

#[tokio::test]
async fn a_change_into_a_role_that_reads_cases_waits_for_a_second_person() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let rep = app.world.user("reporter").clone();
    let r = app
        .patch(&format!("/api/v1/users/{}", rep.id))
        .token(&admin)
        .json(&json!({"role": "org_lead"}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"], "pending_approval");
    // Until approved they cannot sign in, and their credentials have ended.
    assert_eq!(
        me_status_with_token(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status_with_session(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post("/sign-in")
        .form(&[("email", &rep.email), ("password", PASSWORD)])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    approve(&app, &admin, &rep.id.to_string())
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let r = approve(&app, &second_admin(&app).await, &rep.id.to_string()).await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.json()["status"], "active");
    let r = app
        .post("/sign-in")
        .form(&[("email", &rep.email), ("password", PASSWORD)])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_new_invitation_link_for_an_active_account_is_refused() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    for who in ["cdao", "reporter"] {
        let u = app.world.user(who);
        app.post(&format!("/api/v1/users/{}/invitation", u.id))
            .token(&admin)
            .send()
            .await
            .assert_status(StatusCode::CONFLICT);
    }
    // An invited account that never set a password may get a new link.
    let rep = create_user(
        &app,
        &admin,
        json!({"email": "late.rep@pharmacy.nhs.uk", "name": "Late Rep", "role": "reporter",
               "organisation_id": app.world.pharmacy_gm}),
    )
    .await;
    app.post(&format!(
        "/api/v1/users/{}/invitation",
        rep["id"].as_str().unwrap()
    ))
    .token(&admin)
    .send()
    .await
    .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn the_operator_cannot_issue_a_token_for_an_account_waiting_for_approval() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let rep = app.world.user("reporter").clone();
    app.patch(&format!("/api/v1/users/{}", rep.id))
        .token(&admin)
        .json(&json!({"role": "org_lead"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let out = crate::cli::cdconcerns(&app, &["token", "issue", "--email", &rep.email], None);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn admins_and_cdaos_see_accounts_waiting_for_approval_on_their_pages() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let created = create_user(
        &app,
        &admin,
        json!({"email": "waiting.cdao@nhs.net", "name": "Waiting CDAO", "role": "cdao",
               "organisation_id": app.world.nhse_nw, "area_ids": [app.world.gm]}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let action = format!("/users/{id}/approve");
    // The creator sees it pending, without an Approve button.
    let list = app.get("/admin/users").session(&admin).send().await.text();
    assert!(list.contains("Waiting CDAO") && list.contains("Pending approval"));
    let page = app
        .get(&format!("/admin/users/{id}"))
        .session(&admin)
        .send()
        .await
        .text();
    assert!(!page.contains(&action), "no Approve for the creator");
    // Another admin sees the Approve action.
    let other = second_admin(&app).await;
    let page = app
        .get(&format!("/admin/users/{id}"))
        .session(&other)
        .send()
        .await
        .text();
    assert!(page.contains(&action));
    // A CDAO of the area sees it on their page of accounts to approve, and approves it.
    let cdao = app.world.user("cdao").clone();
    let page = app.get("/users/pending").session(&cdao).send().await;
    page.assert_status(StatusCode::OK);
    assert!(page.text().contains("Waiting CDAO") && page.text().contains(&action));
    let london = app
        .get("/users/pending")
        .session(app.world.user("cdao_london"))
        .send()
        .await;
    assert!(!london.text().contains("Waiting CDAO"));
    let r = app.post(&action).session(&cdao).form(&[]).send().await;
    r.assert_status(StatusCode::SEE_OTHER);
    let status: String = sqlx::query_scalar("SELECT status FROM users WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "invited");
}

// ----- Finding 4: credentials die together -----

#[tokio::test]
async fn a_token_made_as_a_reporter_does_not_work_once_the_account_is_a_cdao() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let rep = app.world.user("reporter").clone();
    assert_eq!(me_status_with_token(&app, &rep).await, StatusCode::OK);
    app.patch(&format!("/api/v1/users/{}", rep.id))
        .token(&admin)
        .json(&json!({"role": "cdao", "organisation_id": app.world.nhse_nw, "area_ids": [app.world.gm]}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    approve(&app, &second_admin(&app).await, &rep.id.to_string())
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        me_status_with_token(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status_with_session(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn tokens_and_sessions_end_when_areas_or_organisation_change() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let cdao = app.world.user("cdao").clone();
    app.patch(&format!("/api/v1/users/{}", cdao.id))
        .token(&admin)
        .json(&json!({"area_ids": [app.world.gm, app.world.london]}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        me_status_with_token(&app, &cdao).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status_with_session(&app, &cdao).await,
        StatusCode::UNAUTHORIZED
    );
    let rep = app.world.user("reporter").clone();
    app.patch(&format!("/api/v1/users/{}", rep.id))
        .token(&admin)
        .json(&json!({"organisation_id": app.world.pharmacy_london}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(
        me_status_with_token(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status_with_session(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_second_factor_reset_ends_tokens_as_well_as_sessions() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let member = app.world.user("member").clone();
    app.post(&format!("/api/v1/users/{}/reset-mfa", member.id))
        .token(&admin)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(
        me_status_with_token(&app, &member).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status_with_session(&app, &member).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_disabled_then_enabled_account_does_not_get_its_old_tokens_back() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let rep = app.world.user("reporter").clone();
    for status in ["disabled", "active"] {
        app.patch(&format!("/api/v1/users/{}", rep.id))
            .token(&admin)
            .json(&json!({ "status": status }))
            .send()
            .await
            .assert_status(StatusCode::OK);
    }
    assert_eq!(
        me_status_with_token(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status_with_session(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_new_password_ends_tokens_and_other_sessions() {
    let app = TestApp::new().await;
    let rep = app.world.user("reporter").clone();
    // A second session of the same person, in another browser.
    let other = app
        .post("/sign-in")
        .form(&[("email", &rep.email), ("password", PASSWORD)])
        .send()
        .await
        .session_cookie()
        .unwrap();
    let r = app
        .post("/account/password")
        .session(&rep)
        .form(&[
            ("current", PASSWORD),
            ("password", "marble orchard quill lantern"),
            ("confirm", "marble orchard quill lantern"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    // This browser stays signed in (with a new session id); the other and the token do not.
    let mine = r.session_cookie().unwrap_or(rep.cookie.clone());
    app.get("/api/v1/me")
        .cookie(&mine)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/api/v1/me")
        .cookie(&other)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(
        me_status_with_token(&app, &rep).await,
        StatusCode::UNAUTHORIZED
    );
    let _ = TimeDelta::zero();
}
