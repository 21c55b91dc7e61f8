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
        // Refused at the edge (a control character: 422), or sent home: never off the site.
        if r.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY {
            continue;
        }
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
            // (A control character is refused at the edge; this one gets through it.)
            ("next", "//evil.example"),
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
    // A control character is refused at the edge (422), so nothing leaves the site.
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post("/sign-in/mfa")
        .cookie(&pending)
        .form(&[("code", &code), ("next", "//evil.example")])
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

// ----- Issue 9: what a person needs to keep an account -----

/// Sends the account notices that are due into a fresh directory; returns the messages.
async fn mail(app: &TestApp) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("cdc-mail-{}", uuid::Uuid::now_v7()));
    let mailer = cdconcerns::jobs::Mailer::Dir(dir.clone());
    cdconcerns::accounts::send_notices(&app.state, &mailer)
        .await
        .unwrap();
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries {
            out.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn reset_path(messages: &[String]) -> String {
    let m = messages
        .iter()
        .find(|m| m.contains("/reset-password/"))
        .expect("a reset email");
    let start = m.find("http://cdc.test/reset-password/").unwrap();
    let url: String = m[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    path_of(&url)
}

#[tokio::test]
async fn a_reset_link_is_emailed_works_once_and_keeps_the_second_factor() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let known = app
        .post("/sign-in/forgotten")
        .form(&[("email", &cdao.email)])
        .send()
        .await;
    let unknown = app
        .post("/sign-in/forgotten")
        .form(&[("email", "nobody.here@nhs.net")])
        .send()
        .await;
    // The same answer whether or not there is an account.
    known.assert_status(StatusCode::OK);
    unknown.assert_status(StatusCode::OK);
    let strip = |t: String| t.split("request_id").next().unwrap_or("").to_string();
    assert_eq!(strip(known.text()), strip(unknown.text()));
    assert!(known.text().contains("Check your email"));
    let messages = mail(&app).await;
    assert_eq!(messages.len(), 1, "one email, to the known address only");
    assert!(messages[0].starts_with(&format!("To: {}", cdao.email)));
    let path = reset_path(&messages);
    // Only the hash of the link is kept, and its sealed copy is gone once the email is sent.
    let token = path.rsplit('/').next().unwrap().to_string();
    let raw: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM password_resets WHERE token_hash = $1 OR token_enc IS NOT NULL",
    )
    .bind(token.as_bytes())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(raw, 0);
    app.get(&path).send().await.assert_status(StatusCode::OK);
    // A weak password is refused in plain words.
    let weak = app
        .post(&path)
        .form(&[("password", "password1234"), ("confirm", "password1234")])
        .send()
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.text().contains("too easy to guess") && weak.text().contains("href=\"#password\"")
    );
    let ok = app
        .post(&path)
        .form(&[
            ("password", "copper meadow lantern violet"),
            ("confirm", "copper meadow lantern violet"),
        ])
        .send()
        .await;
    ok.assert_status(StatusCode::SEE_OTHER);
    // Single use.
    app.get(&path)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // The old sessions and tokens ended; the second factor is still asked for.
    assert_eq!(
        me_status_with_token(&app, &cdao).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        me_status_with_session(&app, &cdao).await,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post("/sign-in")
        .form(&[
            ("email", &cdao.email),
            ("password", "copper meadow lantern violet"),
        ])
        .send()
        .await;
    assert!(
        r.location().starts_with("/sign-in/mfa?"),
        "{}",
        r.location()
    );
    let notices = mail(&app).await;
    assert!(
        notices
            .iter()
            .any(|m| m.contains("password of your CD Concerns account was reset"))
    );
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"auth.password_reset_requested".to_string()));
    assert!(actions.contains(&"auth.password_reset".to_string()));
}

#[tokio::test]
async fn a_reset_link_expires_after_an_hour() {
    let app = TestApp::new().await;
    let rep = app.world.user("reporter").clone();
    app.post("/sign-in/forgotten")
        .form(&[("email", &rep.email)])
        .send()
        .await
        .assert_status(StatusCode::OK);
    let path = reset_path(&mail(&app).await);
    app.clock.advance(TimeDelta::minutes(59));
    app.get(&path).send().await.assert_status(StatusCode::OK);
    app.clock.advance(TimeDelta::minutes(2));
    app.get(&path)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post(&path)
        .form(&[
            ("password", "copper meadow lantern violet"),
            ("confirm", "copper meadow lantern violet"),
        ])
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_weak_password_is_refused_on_the_invitation_change_and_reset_pages() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let created = create_user(
        &app,
        &admin,
        json!({"email": "weak.one@pharmacy.nhs.uk", "name": "Weak One", "role": "reporter",
               "organisation_id": app.world.pharmacy_gm}),
    )
    .await;
    let invitation = path_of(created["invitation_url"].as_str().unwrap());
    let weak = [("password", "qwertyuiop123"), ("confirm", "qwertyuiop123")];
    let r = app.post(&invitation).form(&weak).send().await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("too easy to guess"));
    let rep = app.world.user("reporter").clone();
    let r = app
        .post("/account/password")
        .session(&rep)
        .form(&[("current", PASSWORD), weak[0], weak[1]])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("too easy to guess") && r.text().contains("nhsuk-error-summary"));
    // A wrong current password is refused too, and nothing changed.
    let r = app
        .post("/account/password")
        .session(&rep)
        .form(&[
            ("current", "not my password"),
            ("password", "copper meadow lantern violet"),
            ("confirm", "copper meadow lantern violet"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("href=\"#current\""));
    app.post("/sign-in/forgotten")
        .form(&[("email", &rep.email)])
        .send()
        .await;
    let reset = reset_path(&mail(&app).await);
    let r = app.post(&reset).form(&weak).send().await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("too easy to guess"));
    // The password change sends a notice; the page says what happened.
    let r = app
        .post("/account/password")
        .session(&rep)
        .form(&[
            ("current", PASSWORD),
            ("password", "copper meadow lantern violet"),
            ("confirm", "copper meadow lantern violet"),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(
        mail(&app)
            .await
            .iter()
            .any(|m| m.contains("password of your CD Concerns account was changed"))
    );
}

/// Signs a CDAO in through a fresh enrolment and returns (session cookie, recovery codes).
async fn enrol_afresh(app: &TestApp, who: &str) -> (String, Vec<String>) {
    let admin = app.world.user("admin").clone();
    let u = app.world.user(who).clone();
    app.post(&format!("/api/v1/users/{}/reset-mfa", u.id))
        .token(&admin)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let r = app
        .post("/sign-in")
        .form(&[("email", &u.email), ("password", PASSWORD)])
        .send()
        .await;
    let pending = r.session_cookie().unwrap();
    let page = app.get("/sign-in/mfa/setup").cookie(&pending).send().await;
    let text = page.text();
    // The QR code is an inline SVG beside the key as text.
    assert!(text.contains("<svg role=\"img\"") && text.contains("id=\"totp-secret\""));
    let start = text.find("id=\"totp-secret\">").unwrap() + "id=\"totp-secret\">".len();
    let secret: String = text[start..]
        .chars()
        .take_while(|c| *c != '<')
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = totp_rs::Secret::try_from_base32(&secret).unwrap();
    let code = cdconcerns::auth::Totp::from_secret(bytes.as_ref(), "")
        .unwrap()
        .code_at(app.state.now());
    let done = app
        .post("/sign-in/mfa/setup")
        .cookie(&pending)
        .form(&[("code", &code), ("next", "/")])
        .send()
        .await;
    done.assert_status(StatusCode::OK);
    let html = done.text();
    let codes: Vec<String> = html
        .split("<li><code>")
        .skip(1)
        .map(|s| s.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    (done.session_cookie().unwrap(), codes)
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_is_audited_and_emailed() {
    let app = TestApp::new().await;
    let (_, codes) = enrol_afresh(&app, "member").await;
    let u = app.world.user("member").clone();
    // Stored hashed: the codes appear nowhere in the table.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT code_hash FROM recovery_codes WHERE user_id = $1")
            .bind(u.id)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(
        stored
            .iter()
            .all(|h| h.len() == 32 && !String::from_utf8_lossy(h).contains(&codes[0]))
    );
    mail(&app).await;
    let sign_in_with = |code: String| {
        let email = u.email.clone();
        let app = &app;
        async move {
            let r = app
                .post("/sign-in")
                .form(&[("email", &email), ("password", PASSWORD)])
                .send()
                .await;
            let pending = r.session_cookie().unwrap();
            app.post("/sign-in/mfa")
                .cookie(&pending)
                .form(&[("code", &code), ("next", "/")])
                .send()
                .await
        }
    };
    let ok = sign_in_with(codes[3].to_uppercase()).await;
    ok.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/account?recovery_code_used=9");
    let page = app
        .get(ok.location())
        .cookie(&ok.session_cookie().unwrap())
        .send()
        .await;
    assert!(page.text().contains("You have 9 recovery codes left"));
    // The same code a second time is refused.
    sign_in_with(codes[3].clone())
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.recovery_code_used".to_string())
    );
    assert!(
        mail(&app)
            .await
            .iter()
            .any(|m| m.contains("recovery codes was used"))
    );
}

#[tokio::test]
async fn recovery_codes_are_regenerated_behind_a_fresh_proof_and_the_old_ones_stop_working() {
    let app = TestApp::new().await;
    let (cookie, old) = enrol_afresh(&app, "member").await;
    // The proof made at enrolment is not a fresh proof: the password and code are asked for.
    app.clock.advance(TimeDelta::minutes(1));
    let r = app
        .post("/account/recovery-codes")
        .cookie(&cookie)
        .form(&[("recovery_password", ""), ("recovery_code", "")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post("/account/recovery-codes")
        .cookie(&cookie)
        .form(&[("password", PASSWORD), ("code", &old[0])])
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(r.text().matches("<li><code>").count(), 10);
    assert!(!r.text().contains(&old[1]));
    let left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(app.world.user("member").id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(left, 10);
}

#[tokio::test]
async fn another_session_signed_out_ends_on_its_next_request() {
    let app = TestApp::new().await;
    let rep = app.world.user("reporter").clone();
    let other = app
        .post("/sign-in")
        .header("user-agent", "Mozilla/5.0 (Windows NT 10.0) Firefox/140.0")
        .form(&[("email", &rep.email), ("password", PASSWORD)])
        .send()
        .await
        .session_cookie()
        .unwrap();
    let page = app.get("/account").session(&rep).send().await.text();
    assert!(page.contains("Firefox on Windows") && page.contains("(this browser)"));
    let id_start = page.find("/account/sessions/").unwrap() + "/account/sessions/".len();
    let id: String = page[id_start..].chars().take(36).collect();
    app.get("/api/v1/me")
        .cookie(&other)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/account/sessions/{id}/sign-out"))
        .session(&rep)
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/api/v1/me")
        .cookie(&other)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me")
        .session(&rep)
        .send()
        .await
        .assert_status(StatusCode::OK);
    // Someone else's session cannot be signed out: to them it does not exist.
    let third = app
        .post("/sign-in")
        .form(&[("email", &rep.email), ("password", PASSWORD)])
        .send()
        .await
        .session_cookie()
        .unwrap();
    let page = app.get("/account").cookie(&third).send().await.text();
    let id_start = page.find("/account/sessions/").unwrap() + "/account/sessions/".len();
    let id: String = page[id_start..].chars().take(36).collect();
    app.post(&format!("/account/sessions/{id}/sign-out"))
        .session(app.world.user("org_lead"))
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.post("/account/sessions/sign-out-others")
        .session(&rep)
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    app.get("/api/v1/me")
        .cookie(&third)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_needs_a_fresh_proof_of_password_and_code() {
    let app = TestApp::new().await;
    let cdao = app.world.user("cdao").clone();
    let body = |extra: Value| {
        let mut b = json!({"name": "system", "days": 7});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    // No proof: 403 saying how to give one.
    let r = app
        .post("/api/v1/me/tokens")
        .session(&cdao)
        .json(&body(json!({})))
        .send()
        .await;
    r.assert_status(StatusCode::FORBIDDEN);
    // The password alone is not enough for a role with a second factor.
    let r = app
        .post("/api/v1/me/tokens")
        .session(&cdao)
        .json(&body(json!({"password": PASSWORD})))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["code"]);
    let r = app
        .post("/api/v1/me/tokens")
        .session(&cdao)
        .json(&body(
            json!({"password": "wrong one", "code": app.totp_now()}),
        ))
        .send()
        .await;
    assert_eq!(r.error_fields(), vec!["password"]);
    let r = app
        .post("/api/v1/me/tokens")
        .session(&cdao)
        .json(&body(json!({"password": PASSWORD, "code": app.totp_now()})))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    // Within 5 minutes the proof holds...
    app.clock.advance(TimeDelta::minutes(4));
    app.post("/api/v1/me/tokens")
        .session(&cdao)
        .json(&body(json!({})))
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    // ...then it is needed again.
    app.clock.advance(TimeDelta::minutes(2));
    app.post("/api/v1/me/tokens")
        .session(&cdao)
        .json(&body(json!({})))
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    // Each new token sends a notice.
    assert_eq!(
        mail(&app)
            .await
            .iter()
            .filter(|m| m.contains("new API token"))
            .count(),
        2
    );
}

#[tokio::test]
async fn an_admin_sees_a_locked_account_and_unlocks_it() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let rep = app.world.user("reporter").clone();
    for _ in 0..5 {
        app.post("/sign-in")
            .form(&[("email", &rep.email), ("password", "not the password")])
            .send()
            .await;
    }
    let page = app
        .get(&format!("/admin/users/{}", rep.id))
        .session(&admin)
        .send()
        .await
        .text();
    assert!(
        page.contains("Locked until 21 November 2026 at 09:15"),
        "{page}"
    );
    let list = app.get("/admin/users").session(&admin).send().await.text();
    assert!(list.contains("Locked"));
    app.post(&format!("/admin/users/{}/unlock", rep.id))
        .session(&admin)
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = app
        .get(&format!("/admin/users/{}", rep.id))
        .session(&admin)
        .send()
        .await
        .text();
    assert!(!page.contains("Locked until"));
    app.post("/sign-in")
        .form(&[("email", &rep.email), ("password", PASSWORD)])
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert!(
        app.audit_actions()
            .await
            .contains(&"user.unlocked".to_string())
    );
    // Only admins unlock.
    app.post(&format!("/admin/users/{}/unlock", rep.id))
        .session(app.world.user("org_lead"))
        .form(&[])
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

// ----- Issue 9: uploads and exports -----

fn multipart(filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "cdcboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn text_files_with_markup_and_fake_office_files_are_refused_with_a_clear_422() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let s =
        crate::reports::submit(&app, &u, "/api/v1/incidents", &crate::reports::incident()).await;
    let id = s["id"].as_str().unwrap();
    let upload = |name: &'static str, data: Vec<u8>| {
        let app = &app;
        let u = u.clone();
        async move {
            let (ct, body) = multipart(name, &data);
            app.post(&format!("/api/v1/cases/{id}/attachments"))
                .token(&u)
                .raw(&ct, body)
                .send()
                .await
        }
    };
    for (name, data) in [
        (
            "notes.txt",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        (
            "drawing.txt",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        ),
        ("data.txt", b"<?xml version=\"1.0\"?><a/>".to_vec()),
    ] {
        let r = upload(name, data).await;
        r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.error_fields(), vec!["file"]);
        assert!(r.text().contains("markup"), "{}", r.text());
    }
    let r = upload(
        "report.docx",
        b"PK\x03\x04....[Content_Types].xml....word/document.xml".to_vec(),
    )
    .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .contains("not a valid Word (DOCX) or Excel (XLSX) document")
    );
    upload(
        "count.txt",
        b"Running balance 28 tablets short; dose < 5 mg".to_vec(),
    )
    .await
    .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn csv_exports_neutralise_cells_that_a_spreadsheet_would_run() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    app.patch(&format!("/api/v1/organisations/{}", app.world.pharmacy_gm))
        .token(&admin)
        .json(&json!({"name": "=HYPERLINK(\"http://evil.example\",\"Pharmacy\")"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let u = app.world.user("reporter").clone();
    crate::reports::submit(&app, &u, "/api/v1/incidents", &crate::reports::incident()).await;
    let r = app
        .get("/api/v1/cases.csv")
        .token(app.world.user("cdao"))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    let csv = r.text();
    assert!(csv.contains("\"'=HYPERLINK("), "{csv}");
    assert!(!csv.contains(",\"=HYPERLINK") && !csv.contains(",=HYPERLINK"));
}
