//! Sign-in, second factor, sessions, invitations and API tokens.

use axum::http::StatusCode;
use chrono::TimeDelta;
use serde_json::json;

use crate::harness::{PASSWORD, TestApp};

async fn sign_in(
    app: &TestApp,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> crate::harness::Resp {
    let mut r = app.post("/sign-in");
    if let Some(c) = cookie {
        r = r.cookie(c);
    }
    r.form(&[
        ("email", email),
        ("password", password),
        ("next", "/account"),
    ])
    .send()
    .await
}

#[tokio::test]
async fn a_reporter_signs_in_with_a_password_and_gets_a_new_session_id() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    // Whatever session cookie the browser held before is replaced, and stops working.
    let r = sign_in(&app, &u.email, PASSWORD, Some(&u.cookie)).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/account");
    let set = r.header("set-cookie").unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http must not set Secure");
    let new_cookie = r.session_cookie().unwrap();
    assert_ne!(new_cookie, u.cookie);
    let home = app.get("/").cookie(&new_cookie).send().await;
    home.assert_status(StatusCode::OK);
    assert!(home.text().contains("Test reporter"));
    let old = app.get("/api/v1/me").cookie(&u.cookie).send().await;
    old.assert_status(StatusCode::UNAUTHORIZED);
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.sign_in".to_string())
    );
}

#[tokio::test]
async fn a_cdao_needs_a_second_factor_and_a_code_works_only_once() {
    let app = TestApp::new().await;
    let u = app.world.user("cdao").clone();
    let r = sign_in(&app, &u.email, PASSWORD, None).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(
        r.location().starts_with("/sign-in/mfa?"),
        "{}",
        r.location()
    );
    let pending = r.session_cookie().unwrap();
    // Half signed in is not signed in.
    app.get("/api/v1/me")
        .cookie(&pending)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.get("/sign-in/mfa")
        .cookie(&pending)
        .send()
        .await
        .assert_status(StatusCode::OK);
    let bad = app
        .post("/sign-in/mfa")
        .cookie(&pending)
        .form(&[("code", "000000"), ("next", "/")])
        .send()
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("nhsuk-error-summary"));
    let code = app.totp_now();
    let ok = app
        .post("/sign-in/mfa")
        .cookie(&pending)
        .form(&[("code", &code), ("next", "/")])
        .send()
        .await;
    ok.assert_status(StatusCode::SEE_OTHER);
    let full = ok.session_cookie().unwrap();
    assert_ne!(full, pending);
    app.get("/api/v1/me")
        .cookie(&full)
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/sign-in/mfa")
        .cookie(&pending)
        .send()
        .await
        .assert_status(StatusCode::SEE_OTHER);
    // The same code cannot be replayed in a second sign-in.
    let r = sign_in(&app, &u.email, PASSWORD, None).await;
    let pending2 = r.session_cookie().unwrap();
    let replay = app
        .post("/sign-in/mfa")
        .cookie(&pending2)
        .form(&[("code", &code), ("next", "/")])
        .send()
        .await;
    replay.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let actions = app.audit_actions().await;
    assert!(actions.contains(&"auth.mfa_failed".to_string()));
    assert!(actions.contains(&"auth.sign_in".to_string()));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer_and_are_audited() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let wrong = sign_in(&app, &u.email, "not the password", None).await;
    let unknown = sign_in(&app, "nobody@nowhere.nhs.uk", "not the password", None).await;
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let msg = "Enter a correct email address and password";
    assert!(wrong.text().contains(msg) && unknown.text().contains(msg));
    assert!(
        wrong.text().contains(&u.email),
        "the email typed is kept in the form"
    );
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action = 'auth.sign_in_failed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(failures, 2);
    // Audit events never hold the email that was typed.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE details::text ILIKE '%nowhere%'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);
    let empty = app
        .post("/sign-in")
        .form(&[("email", ""), ("password", "")])
        .send()
        .await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.text().contains("href=\"#email\"") && empty.text().contains("href=\"#password\"")
    );
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    for _ in 0..5 {
        sign_in(&app, &u.email, "wrong password!", None)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    sign_in(&app, &u.email, PASSWORD, None)
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.account_locked".to_string())
    );
    app.clock.advance(TimeDelta::minutes(16));
    sign_in(&app, &u.email, PASSWORD, None)
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_client() {
    let app = TestApp::with_config(|c| c.signin_rate_limit = 3).await;
    for _ in 0..3 {
        sign_in(&app, "a@b.nhs.uk", "x", None)
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = sign_in(&app, "a@b.nhs.uk", "x", None).await;
    r.assert_status(StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sessions_end_after_thirty_idle_minutes() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    app.clock.advance(TimeDelta::minutes(29));
    app.get("/")
        .session(&u)
        .send()
        .await
        .assert_status(StatusCode::OK);
    // Activity keeps it alive...
    app.clock.advance(TimeDelta::minutes(29));
    app.get("/")
        .session(&u)
        .send()
        .await
        .assert_status(StatusCode::OK);
    // ...inactivity ends it.
    app.clock.advance(TimeDelta::minutes(31));
    let r = app.get("/").session(&u).send().await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert!(r.header("set-cookie").unwrap_or("").contains("Max-Age=0"));
    let page = app.get("/sign-in").session(&u).send().await;
    assert!(
        page.text()
            .contains("signed out because you had not used the service for 30 minutes")
    );
    app.get("/api/v1/me")
        .session(&u)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookies_are_secure_and_host_prefixed_over_https() {
    let app = TestApp::with_config(|c| c.public_url = "https://cd.example.nhs.uk".into()).await;
    let u = app.world.user("reporter").clone();
    let r = sign_in(&app, &u.email, PASSWORD, None).await;
    let set = r.header("set-cookie").unwrap();
    assert!(
        set.starts_with("__Host-cdc_session=") && set.contains("Secure"),
        "{set}"
    );
    let hsts = app.get("/sign-in").send().await;
    assert!(hsts.header("strict-transport-security").is_some());
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let r = app.post("/sign-out").session(&u).form(&[]).send().await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/sign-in?signed_out=1");
    app.get("/api/v1/me")
        .session(&u)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.sign_out".to_string())
    );
}

#[tokio::test]
async fn api_tokens_expire_and_can_be_revoked_only_by_their_owner() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let other = app.world.user("org_lead").clone();
    let r = app
        .post("/api/v1/me/tokens")
        .session(&u)
        .json(&json!({"name": "pharmacy system", "days": 2, "password": PASSWORD}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let created = r.json();
    let token = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("cdc_") && token.len() >= 47);
    let me = app
        .get("/api/v1/me")
        .header("authorization", &format!("Bearer {token}"))
        .send()
        .await;
    me.assert_status(StatusCode::OK);
    assert_eq!(me.json()["email"], u.email);
    // Only its hash is stored.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM api_tokens WHERE token_hash = $1")
        .bind(token.as_bytes())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    // Someone else cannot revoke it: to them it does not exist.
    app.delete(&format!("/api/v1/me/tokens/{id}"))
        .session(&other)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // It expires.
    app.clock
        .advance(TimeDelta::days(2) + TimeDelta::seconds(1));
    app.get("/api/v1/me")
        .header("authorization", &format!("Bearer {token}"))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    // A revoked token stops working at once.
    let fresh = app
        .create_user(
            "lead2",
            cdconcerns::domain::directory::Role::OrgLead,
            Some(app.world.pharmacy_gm),
            vec![],
        )
        .await;
    let r = app
        .post("/api/v1/me/tokens")
        .session(&fresh)
        .json(&json!({"name": "x", "days": 30, "password": PASSWORD}))
        .send()
        .await;
    let t2 = r.json()["token"].as_str().unwrap().to_string();
    let id2 = r.json()["id"].as_str().unwrap().to_string();
    app.get("/api/v1/me")
        .header("authorization", &format!("Bearer {t2}"))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.delete(&format!("/api/v1/me/tokens/{id2}"))
        .session(&fresh)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    app.get("/api/v1/me")
        .header("authorization", &format!("Bearer {t2}"))
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let list = app
        .get("/api/v1/me/tokens")
        .session(&fresh)
        .send()
        .await
        .json();
    let revoked = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id2.as_str())
        .unwrap();
    assert!(revoked["revoked_at"].is_string());
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"token.created".to_string())
            && actions.contains(&"token.revoked".to_string())
    );
}

#[tokio::test]
async fn token_requests_are_validated() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    let r = app
        .post("/api/v1/me/tokens")
        .session(&u)
        .json(&json!({"name": " ", "days": 400}))
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["name", "days"]);
    // And from the account page, with the form kept.
    let r = app
        .post("/account/tokens")
        .session(&u)
        .form(&[("name", "my system"), ("days", "abc")])
        .send()
        .await;
    r.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("nhsuk-error-summary") && r.text().contains("value=\"my system\""));
    let r = app
        .post("/account/tokens")
        .session(&u)
        .form(&[
            ("name", "my system"),
            ("days", "10"),
            ("password", PASSWORD),
        ])
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    assert!(r.text().contains("cdc_"));
}

#[tokio::test]
async fn an_invited_user_sets_a_password_once_then_signs_in() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let r = app
        .post("/api/v1/users")
        .token(&admin)
        .json(&json!({"email": "New.Pharmacist@NHS.net", "name": "New Pharmacist", "role": "reporter", "organisation_id": app.world.pharmacy_gm}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let body = r.json();
    assert_eq!(body["email"], "new.pharmacist@nhs.net");
    assert_eq!(body["status"], "invited");
    let url = body["invitation_url"].as_str().unwrap();
    let path = url.strip_prefix("http://cdc.test").unwrap().to_string();
    app.get(&path).send().await.assert_status(StatusCode::OK);
    let weak = app
        .post(&path)
        .form(&[("password", "short"), ("confirm", "short")])
        .send()
        .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let mismatch = app
        .post(&path)
        .form(&[
            ("password", "tulip lantern orbit"),
            ("confirm", "tulip lantern"),
        ])
        .send()
        .await;
    assert!(mismatch.text().contains("Passwords do not match"));
    let ok = app
        .post(&path)
        .form(&[
            ("password", "tulip lantern orbit"),
            ("confirm", "tulip lantern orbit"),
        ])
        .send()
        .await;
    ok.assert_status(StatusCode::SEE_OTHER);
    // Used once only.
    app.get(&path)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let r = sign_in(&app, "new.pharmacist@nhs.net", "tulip lantern orbit", None).await;
    r.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/account");
}

#[tokio::test]
async fn invitations_expire_after_72_hours() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let r = app
        .post("/api/v1/users")
        .token(&admin)
        .json(&json!({"email": "slow.reader@nhs.net", "name": "Slow Reader", "role": "reporter", "organisation_id": app.world.pharmacy_gm}))
        .send()
        .await;
    let url = r.json()["invitation_url"].as_str().unwrap().to_string();
    let path = url.strip_prefix("http://cdc.test").unwrap().to_string();
    app.clock.advance(TimeDelta::hours(71));
    app.get(&path).send().await.assert_status(StatusCode::OK);
    app.clock.advance(TimeDelta::hours(2));
    app.get(&path)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn after_a_reset_the_second_factor_is_set_up_again_at_sign_in() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let member = app.world.user("member").clone();
    app.post(&format!("/api/v1/users/{}/reset-mfa", member.id))
        .token(&admin)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    // Their sessions ended with the reset.
    app.get("/api/v1/me")
        .session(&member)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    let r = sign_in(&app, &member.email, PASSWORD, None).await;
    assert!(
        r.location().starts_with("/sign-in/mfa/setup"),
        "{}",
        r.location()
    );
    let pending = r.session_cookie().unwrap();
    let page = app.get("/sign-in/mfa/setup").cookie(&pending).send().await;
    page.assert_status(StatusCode::OK);
    let text = page.text();
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
    // Signed in, and shown ten recovery codes once.
    done.assert_status(StatusCode::OK);
    assert_eq!(done.text().matches("<li><code>").count(), 10);
    let full = done.session_cookie().unwrap();
    app.get("/api/v1/me")
        .cookie(&full)
        .send()
        .await
        .assert_status(StatusCode::OK);
    // The secret is stored sealed, never as the base32 text.
    let raw: Vec<u8> = sqlx::query_scalar("SELECT totp_secret_enc FROM users WHERE id = $1")
        .bind(member.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !raw.windows(bytes.as_ref().len())
            .any(|w| w == bytes.as_ref())
    );
    assert!(
        app.audit_actions()
            .await
            .contains(&"auth.mfa_enrolled".to_string())
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_tokens() {
    let app = TestApp::new().await;
    let admin = app.world.user("admin").clone();
    let reporter = app.world.user("reporter").clone();
    app.patch(&format!("/api/v1/users/{}", reporter.id))
        .token(&admin)
        .json(&json!({"status": "disabled"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    app.get("/api/v1/me")
        .session(&reporter)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    app.get("/api/v1/me")
        .token(&reporter)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    sign_in(&app, &reporter.email, PASSWORD, None)
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    // An admin cannot lock themselves out.
    let r = app
        .patch(&format!("/api/v1/users/{}", admin.id))
        .token(&admin)
        .json(&json!({"status": "disabled"}))
        .send()
        .await;
    r.assert_status(StatusCode::CONFLICT);
}

#[tokio::test]
async fn next_never_leaves_the_service() {
    let app = TestApp::new().await;
    let u = app.world.user("reporter").clone();
    for evil in ["https://evil.example/", "//evil.example", "/\\evil.example"] {
        let r = app
            .post("/sign-in")
            .form(&[("email", &u.email), ("password", PASSWORD), ("next", evil)])
            .send()
            .await;
        assert_eq!(r.location(), "/", "{evil}");
    }
}
