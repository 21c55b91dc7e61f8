//! Whether the database answers. A watcher pings PostgreSQL on a connection of its own every
//! 250 ms; while it does not answer, every request that needs the database is refused at once
//! with 503 and `Retry-After` (instead of waiting for the pool's acquire timeout), requests in
//! flight are answered the same way, and `/readyz` says 503. When PostgreSQL answers again the
//! watcher says so and the service carries on by itself: the pool replaces its dead
//! connections as they are next used.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use tokio::sync::watch;

/// How often the watcher pings.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long a ping (or a new connection) may take before it counts as no answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(400);

/// When any watcher of this process last saw the database go down or come back, or a
/// request last found its connection cut off.
static LAST_CHANGE: Mutex<Option<Instant>> = Mutex::new(None);

/// Whether the database went down or came back in the last `within`, or a request found its
/// connection cut off then (so a pooled connection idle that long may have been cut off too).
pub fn changed_within(within: Duration) -> bool {
    let last = *LAST_CHANGE.lock().unwrap_or_else(|e| e.into_inner());
    last.is_some_and(|at| at.elapsed() <= within)
}

/// A connection idle longer than this is pinged before it is used.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

/// Whether a connection idle for `idle` should be pinged before it is used: idle a second or
/// more, or idle since the database went down or came back, or since a request found its
/// connection cut off. The others answered a moment ago. (The pool's connections and those
/// kept warm between reads, `app::warm`.)
pub fn worth_checking(idle: Duration) -> bool {
    idle >= CHECK_IDLE_AFTER || changed_within(idle)
}

/// A request found its connection cut off (`AppError::from(sqlx::Error)`). An outage shorter
/// than the watcher's probe can end unseen by it; the connections idle since may then be cut
/// off too, and each is checked before it is next used, instead of failing a request of its
/// own (measured in `tests/api/faults.rs`: two reads refused after such an outage, one now).
pub fn connection_lost() {
    *LAST_CHANGE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
}

/// Up or down, shared by the watcher and the requests. Up until the watcher says otherwise
/// (so that a router without a watcher, in tests, behaves as before).
#[derive(Clone)]
pub struct DbHealth(Arc<watch::Sender<bool>>);

impl Default for DbHealth {
    fn default() -> Self {
        Self(Arc::new(watch::channel(true).0))
    }
}

impl DbHealth {
    pub fn is_up(&self) -> bool {
        *self.0.borrow()
    }

    fn set(&self, up: bool) {
        let changed = self.0.send_if_modified(|v| {
            let changed = *v != up;
            *v = up;
            changed
        });
        if changed {
            *LAST_CHANGE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        }
        if changed && up {
            tracing::info!("the database answers again");
        } else if changed {
            tracing::warn!(
                "the database is not answering: refusing requests with 503 until it does"
            );
        }
    }

    /// Completes when the database is (or goes) down.
    pub async fn went_down(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|up| !*up).await;
    }

    /// Pings the database for ever (spawned by `startup::serve_until`). Down only when a ping
    /// fails and a new connection fails too, so one slow answer under load is not an outage.
    pub async fn watch(self, options: PgConnectOptions) {
        let mut conn: Option<PgConnection> = None;
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Some(c) = conn.as_mut()
                && matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, c.ping()).await,
                    Ok(Ok(()))
                )
            {
                self.set(true);
                continue;
            }
            conn = None;
            match tokio::time::timeout(PROBE_TIMEOUT, PgConnection::connect_with(&options)).await {
                Ok(Ok(mut c)) => {
                    if matches!(
                        tokio::time::timeout(PROBE_TIMEOUT, c.ping()).await,
                        Ok(Ok(()))
                    ) {
                        conn = Some(c);
                        self.set(true);
                    } else {
                        self.set(false);
                    }
                }
                _ => self.set(false),
            }
        }
    }
}
