//! Starting the service: the database (the configured one, or a private cluster), the
//! keys, the state, and serving with a graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::app::db;
use crate::config::{self, Config, Key32, Secret};

// Connecting and migrating, for the command line and the test harness.
pub use crate::app::db::{MIGRATOR, connect, connect_with, migrate};
use crate::pgcluster::PrivateCluster;
use crate::state::{AppState, SystemClock};

pub use crate::web::build_router;

pub const DATABASE_NAME: &str = "cdconcerns";

/// The database to use: `DATABASE_URL`, or the service's own cluster under the data dir.
pub async fn database_url(config: &Config) -> anyhow::Result<String> {
    if let Some(url) = &config.database_url {
        return Ok(url.expose().clone());
    }
    let cluster = PrivateCluster::ensure_running(&config.data_dir)
        .await
        .context(
            "DATABASE_URL is not set, so the service tried to start its own PostgreSQL cluster",
        )?;
    cluster.ensure_database(DATABASE_NAME).await?;
    Ok(cluster.url(DATABASE_NAME))
}

/// Applies migrations, then opens the pool the service runs on.
pub async fn database(config: &Config) -> anyhow::Result<PgPool> {
    let url = database_url(config).await?;
    db::migrate(&url).await.context("applying migrations")?;
    Ok(db::connect(&url, config.db_max_connections).await?)
}

pub struct Keys {
    pub identity: Key32,
    pub index: Key32,
}

/// The keys from the environment, or (`demo` and the operator's commands) kept in a file
/// of the data dir, made on first use when `create` is true.
pub fn keys(config: &Config, fallback_file: bool, create: bool) -> anyhow::Result<Keys> {
    if let (Some(identity), Some(index)) = (&config.identity_key, &config.index_key) {
        return Ok(Keys {
            identity: identity.clone(),
            index: index.clone(),
        });
    }
    if config.identity_key.is_some() || config.index_key.is_some() {
        anyhow::bail!("set both CDC_IDENTITY_KEY and CDC_INDEX_KEY, or neither");
    }
    if !fallback_file {
        anyhow::bail!(
            "CDC_IDENTITY_KEY and CDC_INDEX_KEY must be set (each 32 random bytes, base64: \
             head -c 32 /dev/urandom | base64). `cdconcerns demo` makes its own."
        );
    }
    let path = config.data_dir.join("keys");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut lines = text.lines();
        let identity = config::parse_key("identity key file", lines.next().unwrap_or(""))?;
        let index = config::parse_key("index key file", lines.next().unwrap_or(""))?;
        return Ok(Keys { identity, index });
    }
    let identity = crate::crypto::random_bytes::<32>()?;
    let index = crate::crypto::random_bytes::<32>()?;
    if create {
        std::fs::create_dir_all(&config.data_dir)?;
        write_private(
            &path,
            &format!(
                "{}\n{}\n",
                config::encode_key(&identity),
                config::encode_key(&index)
            ),
        )?;
    }
    Ok(Keys {
        identity: Secret::new(identity),
        index: Secret::new(index),
    })
}

/// Writes a file only its owner can read.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

pub fn state(pool: PgPool, config: Config, keys: &Keys) -> AppState {
    let state = AppState::new(
        pool,
        config,
        Arc::new(SystemClock),
        &keys.identity,
        keys.index.clone(),
    );
    // The URL was checked when the configuration was read.
    if let Some(url) = &state.config.replica_url
        && let Ok(pool) = db::connect_lazy(url.expose(), state.config.db_max_connections)
    {
        use_replica(&state, pool);
    }
    state
}

/// Sends heavy reads to the replica behind `pool` (once its watcher runs and sees it keep up).
pub fn use_replica(state: &AppState, pool: PgPool) {
    let max_lag = Duration::from_millis(u64::from(state.config.replica_max_lag_ms));
    let _ = state
        .replica
        .set(crate::replica::Replica::new(pool, max_lag));
}

/// Serves until SIGTERM or Ctrl-C; requests in flight finish first.
pub async fn serve(state: AppState, listener: TcpListener) -> anyhow::Result<()> {
    serve_until(state, listener, shutdown_signal()).await
}

/// Serves until `shutdown` completes, then stops accepting connections and lets the
/// requests in flight finish.
pub async fn serve_until(
    state: AppState,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    let watchers = spawn_watchers(&state);
    let mailer = crate::jobs::Mailer::from_config(&state.config)?;
    let jobs = tokio::spawn(crate::jobs::run(state.clone(), mailer));
    let app: Router = build_router(state);
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    housekeeping.abort();
    jobs.abort();
    for w in watchers {
        w.abort();
    }
    tracing::info!("stopped");
    Ok(())
}

/// The database watcher (fail fast while PostgreSQL is unreachable) and the token cache's
/// listener, each on a connection of its own.
pub fn spawn_watchers(state: &AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let options = (*state.db.connect_options()).clone();
    let health = state.health.clone();
    let listen = {
        let state = state.clone();
        let options = options.clone();
        async move { state.tokens.listen(options).await }
    };
    let replica = {
        let state = state.clone();
        async move {
            match state.replica.get() {
                Some(r) => r.watch().await,
                None => std::future::pending().await,
            }
        }
    };
    vec![
        tokio::spawn(health.watch(options)),
        tokio::spawn(listen),
        tokio::spawn(replica),
    ]
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Periodic clean-up: idle sessions go.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    loop {
        tick.tick().await;
        let cutoff = state.now() - crate::auth::IDLE_TIMEOUT;
        match db::sessions::purge_idle_sessions(&state.db, cutoff).await {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "removed idle sessions"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session clean-up failed"),
        }
    }
}

/// Whether the database answers within a second (for `/readyz`).
pub async fn ready(state: &AppState) -> bool {
    let ping = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.db);
    matches!(
        tokio::time::timeout(Duration::from_secs(1), ping).await,
        Ok(Ok(_))
    )
}
