//! All SQL lives below here, one module per aggregate. Reads of scoped data take a scope
//! from `policy`.

pub mod audit;
pub mod cases;
pub mod conversation;
pub mod directory;
pub mod drugs;
pub mod erasures;
pub mod outbox;
pub mod oversight;
pub mod retention;
pub mod returns;
pub mod sessions;
pub mod shares;
pub mod stats;
pub mod subject_access;
pub mod summaries;
pub mod triage;
pub mod waiting;

use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The role the service's queries run under where it exists (see the first migration).
pub const APP_ROLE: &str = "cdconcerns_app";

fn options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let opts: PgConnectOptions = url.parse()?;
    Ok(opts
        .application_name("cdconcerns")
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500)))
}

/// Applies the embedded migrations on a connection of the configured user (the owner).
pub async fn migrate(url: &str) -> Result<(), anyhow::Error> {
    let mut conn = PgConnection::connect_with(&options(url)?).await?;
    MIGRATOR.run(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// A pool whose connections run as the application role, so that even a compromised
/// query cannot alter the audit trail.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    connect_with(options(url)?, max_connections).await
}

/// As `connect`, from parsed options.
pub async fn connect_with(
    opts: PgConnectOptions,
    max_connections: u32,
) -> Result<PgPool, sqlx::Error> {
    pool_options(max_connections).connect_with(opts).await
}

/// A pool like `connect`'s that connects on first use (a replica that may be down at start).
pub fn connect_lazy(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    Ok(pool_options(max_connections).connect_lazy_with(options(url)?))
}

/// The pools reads use on one server (the primary, or a replica): heavy reads (statistics,
/// exports, case lists) and, on the primary, the pages of one case or alert.
#[derive(Clone)]
pub struct ReadPools {
    /// For any statement.
    pub any: PgPool,
    /// For statements whose best plan does not depend on their values: its connections plan
    /// each statement once, for any values (`plan_cache_mode = force_generic_plan`), and run
    /// it on that plan from then on. Being a quarter of `any`'s size, it also bounds how many
    /// such reads PostgreSQL runs at once (see `AppState::pages`). Its connections are kept
    /// warm between reads (see `app::warm`).
    pub generic: crate::app::warm::Warm,
}

impl ReadPools {
    /// `pool`, and a second pool to the same server and database for generic plans: a
    /// quarter as many connections (at least two), each opened on first use.
    pub fn over(pool: PgPool) -> Self {
        let opts = (*pool.connect_options())
            .clone()
            .options([("plan_cache_mode", "force_generic_plan")]);
        let size = (pool.options().get_max_connections() / 4).max(2);
        let generic = pool_options(size)
            .min_connections(0)
            .connect_lazy_with(opts);
        Self {
            any: pool,
            generic: crate::app::warm::Warm::over(generic),
        }
    }
}

/// How far a streaming replica is behind its primary, in ms: 0 when it has replayed all it
/// received, else the age of the last transaction it replayed (and as good as infinite when
/// it is behind and has replayed none yet); 0 for a server that is not a replica at all.
pub async fn replica_lag_ms(pool: &PgPool) -> Result<f64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0
                     WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                     ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 1e9)
                END::float8",
    )
    .fetch_one(pool)
    .await
}

fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings every connection as it goes back to the pool, and by default again as it
        // comes out: a round trip more for every statement run on the pool. The second ping
        // is kept only where it can find something: a connection idle for over a second, or
        // idle since the database went down or came back (health's watcher), is pinged, and
        // replaced if it does not answer. The others answered a moment ago.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if crate::app::health::worth_checking(meta.idle_for) {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                let member: bool = sqlx::query_scalar(
                    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
                            THEN pg_has_role(current_user, $1, 'MEMBER') ELSE false END",
                )
                .bind(APP_ROLE)
                .fetch_one(&mut *conn)
                .await?;
                if member {
                    sqlx::query("SET ROLE cdconcerns_app")
                        .execute(&mut *conn)
                        .await?;
                }
                sqlx::query("SET statement_timeout = '15s'")
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
}

/// The name of the unique constraint or index a write violated, if that is what failed.
pub fn violated_constraint(e: &sqlx::Error) -> Option<String> {
    e.as_database_error()
        .filter(|d| d.is_unique_violation())
        .and_then(|d| d.constraint().map(str::to_string))
}
