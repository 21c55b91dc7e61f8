//! A fresh, migrated database for every test (SPEC §9).
//!
//! Once per test process: use `DATABASE_URL` if set, else the private test cluster under
//! `<CARGO_TARGET_TMPDIR>/cdc-test-pg` (started on first use and left running, so later runs
//! reuse it); make sure the template database `cdc_tpl_<hash of the migrations>` exists and is
//! migrated; drop test databases older than an hour. Then every [`fresh_database`] call clones
//! the template into `t_<unix secs>_<8 hex>` (`CREATE DATABASE … TEMPLATE …`).
//!
//! Each `#[tokio::test]` has its own runtime, and a pool must not outlive the runtime that
//! made it, so what is shared between tests is plain data (a URL and a name), never a pool.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cdconcerns::pgcluster::{ClusterError, PrivateCluster, fnv1a64, quote_ident};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection};
use tokio::sync::OnceCell;

/// What every test in this process shares: plain data only.
struct Setup {
    /// The server's maintenance database, from which databases are created and dropped.
    admin_url: String,
    /// The migrated template database.
    template: String,
}

static SETUP: OnceCell<Setup> = OnceCell::const_new();

/// Test databases older than this are dropped by the first call in each process.
const OLD_TEST_DATABASE_SECS: u64 = 3600;
/// Advisory lock key that serialises template creation between test processes ("cdc_tpl").
const TEMPLATE_LOCK_KEY: i64 = 0x0063_6463_5f74_706c;

/// A new database migrated by `migrator` (all tests of a process must pass the same one):
/// a pool on it (at most 5 connections) and its name.
pub async fn fresh_database(migrator: &'static Migrator) -> (PgPool, String) {
    let setup = SETUP.get_or_init(|| set_up(migrator)).await;
    let admin = options(&setup.admin_url);
    let mut conn = connect(&admin).await;
    let mut attempt = 0;
    let name = loop {
        let name = test_database_name();
        let sql = format!(
            "CREATE DATABASE {} TEMPLATE {}",
            quote_ident(&name),
            quote_ident(&setup.template)
        );
        match sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await {
            Ok(_) => break name,
            Err(sqlx::Error::Database(e))
                if e.code().as_deref() == Some("42P04") && attempt < 5 =>
            {
                attempt += 1; // name clash: draw another
            }
            Err(e) => panic!(
                "cannot create test database {name} from template {}: {e}",
                setup.template
            ),
        }
    };
    let _ = conn.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect_with(admin.database(&name))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to test database {name}: {e}"));
    (pool, name)
}

/// As `fresh_database`, but the connection options instead of a pool, so the caller can
/// open the pool the service itself would (running as the application role).
pub async fn fresh_database_options(migrator: &'static Migrator) -> (PgConnectOptions, String) {
    let (pool, name) = fresh_database(migrator).await;
    pool.close().await;
    let setup = SETUP.get().expect("set up by fresh_database");
    (options(&setup.admin_url).database(&name), name)
}

/// A URL for database `name` on the test server (for running the binary against it).
pub fn database_url(name: &str) -> String {
    let setup = SETUP.get().expect("database_url before fresh_database");
    let mut url =
        url::Url::parse(&setup.admin_url).unwrap_or_else(|e| panic!("bad database URL: {e}"));
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A connection to database `name` as the server's (super)user, without the application
/// role: for tests that do what the service must not be able to.
pub async fn superuser_connection(name: &str) -> PgConnection {
    let setup = SETUP
        .get()
        .expect("superuser_connection before fresh_database");
    connect(&options(&setup.admin_url).database(name)).await
}

/// Drops a test database now (optional: old ones are dropped after an hour anyway).
/// Close its pools first.
pub async fn drop_database(name: &str) {
    let setup = SETUP.get().expect("drop_database before fresh_database");
    let mut conn = connect(&options(&setup.admin_url)).await;
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut conn).await {
        eprintln!("warning: cannot drop test database {name}: {e}");
    }
    let _ = conn.close().await;
}

async fn set_up(migrator: &'static Migrator) -> Setup {
    let admin_url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => private_cluster().await.url("postgres"),
    };
    let admin = options(&admin_url);
    let mut conn = connect(&admin).await;
    drop_old_test_databases(&mut conn).await;
    let template = ensure_template(&mut conn, &admin, migrator).await;
    let _ = conn.close().await;
    Setup {
        admin_url,
        template,
    }
}

/// The private test cluster under the target directory; if the `postgres` user cannot reach
/// that (tests running as root in a checkout under a private home directory), under the
/// system temp dir instead.
async fn private_cluster() -> PrivateCluster {
    let target_tmp = option_env!("CARGO_TARGET_TMPDIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"));
    let base = target_tmp.join("cdc-test-pg");
    match PrivateCluster::ensure_running_for_tests(&base).await {
        Ok(cluster) => cluster,
        Err(ClusterError::Unreachable(why)) => {
            let fallback = std::env::temp_dir().join("cdc-test-pg");
            eprintln!(
                "note: {why}\nnote: using {} for the test cluster",
                fallback.display()
            );
            PrivateCluster::ensure_running_for_tests(&fallback)
                .await
                .unwrap_or_else(|e| panic!("cannot start the private test PostgreSQL: {e}"))
        }
        Err(e) => panic!("cannot start the private test PostgreSQL: {e}"),
    }
}

/// `cdc_tpl_<12 hex>`, created and migrated unless it exists. Test processes take turns
/// through an advisory lock; the template is built under another name and renamed when
/// complete, so an interrupted build never leaves a half-migrated template behind.
async fn ensure_template(
    conn: &mut PgConnection,
    admin: &PgConnectOptions,
    migrator: &'static Migrator,
) -> String {
    let template = format!("cdc_tpl_{}", migrations_hash(migrator));
    if database_exists(conn, &template).await {
        return template;
    }
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("cannot take the template advisory lock: {e}"));
    if !database_exists(conn, &template).await {
        let building = format!("{template}_building");
        for sql in [
            format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&building)
            ),
            format!("CREATE DATABASE {}", quote_ident(&building)),
        ] {
            sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .execute(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin.clone().database(&building))
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {building}: {e}"));
        if let Err(e) = migrator.run(&pool).await {
            panic!("migrating the template database {building} failed: {e}");
        }
        pool.close().await;
        let sql = format!(
            "ALTER DATABASE {} RENAME TO {}",
            quote_ident(&building),
            quote_ident(&template)
        );
        sqlx::raw_sql(AssertSqlSafe(sql.clone()))
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        // Nobody may connect to the template: a connection would make CREATE DATABASE …
        // TEMPLATE fail. Best effort (needs ownership, which we have; IS_TEMPLATE may not be
        // allowed on a managed server).
        for sql in [
            format!(
                "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false",
                quote_ident(&template)
            ),
            format!(
                "ALTER DATABASE {} WITH IS_TEMPLATE true",
                quote_ident(&template)
            ),
        ] {
            if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .execute(&mut *conn)
                .await
            {
                eprintln!("note: {sql}: {e}");
            }
        }
    }
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("cannot release the template advisory lock: {e}"));
    template
}

/// Drops `t_<unix secs>_<8 hex>` databases created more than an hour ago (by any process:
/// a test run that died, or tests that did not drop theirs).
async fn drop_old_test_databases(conn: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        r"SELECT datname FROM pg_database WHERE datname ~ '^t_[0-9]{1,20}_[0-9a-f]{8}$'",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_else(|e| panic!("cannot list test databases: {e}"));
    let cutoff = unix_secs().saturating_sub(OLD_TEST_DATABASE_SECS);
    for name in names {
        let created = name
            .split('_')
            .nth(1)
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs < cutoff) {
            let sql = format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&name)
            );
            if let Err(e) = sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut *conn).await {
                eprintln!("note: cannot drop old test database {name}: {e}");
            }
        }
    }
}

/// The first 12 hex digits of a hash of every migration (version, description, checksum of
/// its SQL): any change to the migrations makes a new template.
fn migrations_hash(migrator: &Migrator) -> String {
    let mut bytes = Vec::new();
    for migration in migrator.iter() {
        bytes.extend_from_slice(&migration.version.to_le_bytes());
        bytes.extend_from_slice(migration.description.as_bytes());
        bytes.push(0);
        bytes.extend_from_slice(&migration.checksum);
    }
    format!("{:016x}", fnv1a64(&bytes))[..12].to_owned()
}

/// `t_<unix secs>_<8 random hex>`.
fn test_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let random = RandomState::new().hash_one((
        nanos,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ));
    format!("t_{}_{:08x}", unix_secs(), random & 0xffff_ffff)
}

fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

async fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    sqlx::query_scalar::<_, i32>("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("cannot look up database {name}: {e}"))
        .is_some()
}

fn options(url: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(url).unwrap_or_else(|e| panic!("bad database URL: {e}"))
}

async fn connect(options: &PgConnectOptions) -> PgConnection {
    PgConnection::connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test database server: {e}"))
}
