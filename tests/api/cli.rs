//! The operator's commands (SPEC §8), run as the real binary against a test database.

use std::io::Write;
use std::process::{Command, Stdio};

use axum::http::StatusCode;

use crate::harness::TestApp;

pub(crate) fn cdconcerns(
    app: &TestApp,
    args: &[&str],
    stdin: Option<&str>,
) -> std::process::Output {
    let data_dir = std::env::temp_dir().join(format!("cdc-cli-{}", app.db_name));
    let mut child = Command::new(env!("CARGO_BIN_EXE_cdconcerns"))
        .args(args)
        .env(
            "DATABASE_URL",
            crate::harness_db::database_url(&app.db_name),
        )
        .env("CDC_DATA_DIR", &data_dir)
        .env("CDC_PUBLIC_URL", "http://cdc.test")
        .env_remove("CDC_IDENTITY_KEY")
        .env_remove("CDC_INDEX_KEY")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn token_issue_prints_only_a_working_token() {
    let app = TestApp::new().await;
    let email = app.world.user("reporter").email.clone();
    let out = cdconcerns(
        &app,
        &["token", "issue", "--email", &email, "--days", "7"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the token: {stdout}");
    let token = stdout.trim();
    assert!(token.starts_with("cdc_"));
    let me = app
        .get("/api/v1/me")
        .header("authorization", &format!("Bearer {token}"))
        .send()
        .await;
    me.assert_status(StatusCode::OK);
    assert!(
        app.audit_actions()
            .await
            .contains(&"token.issued_by_operator".to_string())
    );
    let bad = cdconcerns(&app, &["token", "issue", "--email", "nobody@nhs.net"], None);
    assert!(!bad.status.success());
}

#[tokio::test]
async fn admin_create_sets_a_password_from_stdin_or_prints_an_invitation() {
    let app = TestApp::new().await;
    let out = cdconcerns(
        &app,
        &[
            "admin",
            "create",
            "--email",
            "first.admin@nhs.net",
            "--name",
            "First Admin",
        ],
        Some("a long enough passphrase\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: String =
        sqlx::query_scalar("SELECT status FROM users WHERE email = 'first.admin@nhs.net'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(status, "active");
    let r = app
        .post("/sign-in")
        .form(&[
            ("email", "first.admin@nhs.net"),
            ("password", "a long enough passphrase"),
        ])
        .send()
        .await;
    assert!(
        r.location().starts_with("/sign-in/mfa/setup"),
        "an admin must set up a second factor: {}",
        r.location()
    );

    let out = cdconcerns(
        &app,
        &["admin", "create", "--email", "second.admin@nhs.net"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let link = stdout
        .lines()
        .find(|l| l.starts_with("http://cdc.test/invitation/"))
        .unwrap();
    let path = link.trim().strip_prefix("http://cdc.test").unwrap();
    app.get(path).send().await.assert_status(StatusCode::OK);
    // The same email twice is refused.
    let again = cdconcerns(
        &app,
        &["admin", "create", "--email", "second.admin@nhs.net"],
        None,
    );
    assert!(!again.status.success());
}

#[tokio::test]
async fn retention_removes_old_credentials_and_a_dry_run_removes_nothing() {
    let app = TestApp::new().await;
    sqlx::query("UPDATE sessions SET last_seen_at = now() - interval '2 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    let dry = cdconcerns(&app, &["retention", "run", "--dry-run"], None);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(String::from_utf8_lossy(&dry.stdout).starts_with("Would remove: 9 idle sessions"));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 9);
    let run = cdconcerns(&app, &["retention", "run"], None);
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("Removed: 9 idle sessions"));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}
