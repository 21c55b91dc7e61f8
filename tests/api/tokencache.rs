//! The token cache (src/authcache.rs) never lets a credential outlive its revocation, a role
//! change or a disabling (SPEC §3, issue 8 item 5: credentials die together), whether the
//! change is made through this instance or behind its back (another instance, psql); nor,
//! through the same notification, does the case list show an organisation's old name.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{PASSWORD, TestApp, TestUser};

async fn live_cache() -> (TestApp, Vec<tokio::task::JoinHandle<()>>) {
    let app = TestApp::new().await;
    let watchers = cdconcerns::startup::spawn_watchers(&app.state);
    let started = Instant::now();
    while !app.state.tokens.is_live() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the listener did not connect"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (app, watchers)
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    let r = app
        .get("/api/v1/me")
        .header("authorization", &format!("Bearer {token}"))
        .send()
        .await;
    let body = if r.status == StatusCode::OK {
        r.json()
    } else {
        json!(null)
    };
    (r.status, body)
}

/// Used twice, so that the second use is served from the cache.
async fn warm(app: &TestApp, user: &TestUser) {
    for _ in 0..2 {
        assert_eq!(me(app, &user.token).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn a_cached_token_is_refused_at_once_when_revoked_disabled_or_its_organisation_disabled() {
    let (app, watchers) = live_cache().await;
    let admin = app.world.user("admin").clone();

    // Revoked by its owner.
    let lead = app.world.user("org_lead").clone();
    let r = app
        .post("/api/v1/me/tokens")
        .session(&lead)
        .json(&json!({"name": "x", "days": 30, "password": PASSWORD}))
        .send()
        .await;
    r.assert_status(StatusCode::CREATED);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let id = r.json()["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        assert_eq!(me(&app, &token).await.0, StatusCode::OK);
    }
    app.delete(&format!("/api/v1/me/tokens/{id}"))
        .session(&lead)
        .send()
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert_eq!(me(&app, &token).await.0, StatusCode::UNAUTHORIZED);

    // A user disabled by an administrator.
    let member = app.world.user("member").clone();
    warm(&app, &member).await;
    app.patch(&format!("/api/v1/users/{}", member.id))
        .token(&admin)
        .json(&json!({"status": "disabled"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(me(&app, &member.token).await.0, StatusCode::UNAUTHORIZED);

    // A role changed.
    let reporter = app.world.user("reporter").clone();
    warm(&app, &reporter).await;
    app.patch(&format!("/api/v1/users/{}", reporter.id))
        .token(&admin)
        .json(&json!({"role": "org_lead"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    let (status, body) = me(&app, &reporter.token).await;
    assert!(
        status == StatusCode::UNAUTHORIZED || body["role"] == "org_lead",
        "the old role outlived its change: {status} {body}"
    );

    // The organisation disabled.
    let other = app.world.user("reporter_london").clone();
    warm(&app, &other).await;
    let r = app
        .patch(&format!(
            "/api/v1/organisations/{}",
            app.world.pharmacy_london
        ))
        .token(&admin)
        .json(&json!({"disabled": true}))
        .send()
        .await;
    r.assert_status(StatusCode::OK);
    assert_eq!(me(&app, &other.token).await.0, StatusCode::UNAUTHORIZED);
    for w in watchers {
        w.abort();
    }
}

#[tokio::test]
async fn a_change_behind_the_services_back_reaches_the_cache_by_notification() {
    let (app, watchers) = live_cache().await;
    let cdao = app.world.user("cdao").clone();
    warm(&app, &cdao).await;
    // As another instance (or an operator) would: straight in the database.
    let mut db = app.superuser().await;
    sqlx::query("UPDATE users SET status = 'disabled' WHERE id = $1")
        .bind(cdao.id)
        .execute(&mut db)
        .await
        .unwrap();
    let started = Instant::now();
    while me(&app, &cdao.token).await.0 != StatusCode::UNAUTHORIZED {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the disabled user's token still works"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Without the notification the cache would have answered for up to its lifetime: prove
    // that it is in use by hiding a change from it (the trigger off, for this test only).
    // Other tests in this process start new generations as they change what tokens mean,
    // which empties the cache: tried until one request falls between two of theirs.
    let analyst = app.world.user("analyst").clone();
    let mut cached = false;
    for _ in 0..20 {
        warm(&app, &analyst).await;
        change_unseen(&mut db, "users", "status", analyst.id, "disabled").await;
        if me(&app, &analyst.token).await.0 == StatusCode::OK {
            cached = true;
            break;
        }
        change_unseen(&mut db, "users", "status", analyst.id, "active").await;
    }
    assert!(cached, "never served from the cache");
    for w in watchers {
        w.abort();
    }
}

/// Sets `column` of the row `id` of `table` to `value` without the notification (the table's
/// trigger off, for this test only).
async fn change_unseen(
    db: &mut sqlx::PgConnection,
    table: &str,
    column: &str,
    id: uuid::Uuid,
    value: &str,
) {
    // The names are this file's own constants.
    let trigger = |on: &str| {
        sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} {on} TRIGGER {table}_auth_changed"
        ))
    };
    sqlx::query(trigger("DISABLE"))
        .execute(&mut *db)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET {column} = $2 WHERE id = $1"
    )))
    .bind(id)
    .bind(value)
    .execute(&mut *db)
    .await
    .unwrap();
    sqlx::query(trigger("ENABLE"))
        .execute(&mut *db)
        .await
        .unwrap();
}

/// A report by the reporter of the pharmacy in Greater Manchester.
async fn report_one_case(app: &TestApp) {
    let reporter = app.world.user("reporter").clone();
    crate::reports::submit(
        app,
        &reporter,
        "/api/v1/incidents",
        &crate::reports::incident(),
    )
    .await;
}

/// The organisation's name in the case list of `cdao`, for the one case.
async fn listed_name(app: &TestApp, cdao: &TestUser) -> String {
    let r = app.get("/api/v1/cases").token(cdao).send().await;
    r.assert_status(StatusCode::OK);
    r.json()["items"][0]["organisation_name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_organisations_new_name_is_listed_at_once_however_it_was_changed() {
    let (app, watchers) = live_cache().await;
    let cdao = app.world.user("cdao").clone();
    let admin = app.world.user("admin").clone();
    report_one_case(&app).await;
    let org = app.world.pharmacy_gm;
    let first = listed_name(&app, &cdao).await;
    assert_eq!(listed_name(&app, &cdao).await, first, "named from memory");

    // Through this instance.
    app.patch(&format!("/api/v1/organisations/{org}"))
        .token(&admin)
        .json(&json!({"name": "Renamed Pharmacy"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(listed_name(&app, &cdao).await, "Renamed Pharmacy");

    // Behind the service's back, as another instance (or an operator) would.
    let mut db = app.superuser().await;
    sqlx::query("UPDATE organisations SET name = 'Elsewhere Pharmacy' WHERE id = $1")
        .bind(org)
        .execute(&mut db)
        .await
        .unwrap();
    let started = Instant::now();
    while listed_name(&app, &cdao).await != "Elsewhere Pharmacy" {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the old name is still listed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The names are kept (else the above proves nothing): a change hidden from the service
    // (the trigger off, for this test only) is not seen. Other tests in this process start
    // new generations as they change what tokens mean, which drops every kept name: tried
    // until one listing falls between two of theirs.
    let mut kept = false;
    for attempt in 0..20 {
        let before = listed_name(&app, &cdao).await;
        change_unseen(
            &mut db,
            "organisations",
            "name",
            org,
            &format!("Hidden Pharmacy {attempt}"),
        )
        .await;
        if listed_name(&app, &cdao).await == before {
            kept = true;
            break;
        }
    }
    assert!(kept, "the names were read afresh every time");
    for w in watchers {
        w.abort();
    }
}

#[tokio::test]
async fn without_the_listener_each_list_reads_the_organisations_names() {
    let app = TestApp::new().await;
    assert!(!app.state.tokens.is_live());
    let cdao = app.world.user("cdao").clone();
    report_one_case(&app).await;
    listed_name(&app, &cdao).await;
    let mut db = app.superuser().await;
    change_unseen(
        &mut db,
        "organisations",
        "name",
        app.world.pharmacy_gm,
        "Unseen Pharmacy",
    )
    .await;
    assert_eq!(listed_name(&app, &cdao).await, "Unseen Pharmacy");
}
