//! Reads from a streaming replica, the way PostgreSQL scales reads. With
//! `CDC_DATABASE_REPLICA_URL` set, statistics, CSV exports and the case list read from the
//! replica; everything else, and every read of a user who wrote in the last
//! `CDC_REPLICA_MAX_LAG_MS` + 1 s (so they see their own writes), goes to the primary. A
//! watcher measures the replica's lag every 250 ms: while it lags more than
//! `CDC_REPLICA_MAX_LAG_MS` (default 2,000) or does not answer, reads go to the primary.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::app::db::ReadPools;

/// How often the watcher measures the lag.
pub const PROBE_EVERY: Duration = Duration::from_millis(250);
/// Longer than this for the measurement and the replica counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// After a write, the writer reads from the primary for the longest lag allowed and this.
const READ_YOUR_WRITES_MARGIN: Duration = Duration::from_secs(1);
/// Writers remembered at most (older ones are forgotten first when full).
const MAX_WRITERS: usize = 100_000;

pub struct Replica {
    pools: ReadPools,
    max_lag: Duration,
    usable: AtomicBool,
    /// The lag last measured, in ms (u64::MAX: not answering).
    lag_ms: AtomicU64,
    writers: Mutex<HashMap<Uuid, Instant>>,
}

impl Replica {
    /// A replica reached through `pool` (connected lazily), used once the watcher has seen it
    /// answer within `max_lag`.
    pub fn new(pool: PgPool, max_lag: Duration) -> Self {
        Self {
            pools: ReadPools::over(pool),
            max_lag,
            usable: AtomicBool::new(false),
            lag_ms: AtomicU64::new(u64::MAX),
            writers: Mutex::new(HashMap::new()),
        }
    }

    /// The replica's pools, if reads of `user` may go there now.
    pub fn for_reads_of(&self, user: Uuid) -> Option<&ReadPools> {
        if !self.usable.load(Ordering::SeqCst) {
            return None;
        }
        let recent = self.writers.lock().ok().is_some_and(|w| {
            w.get(&user)
                .is_some_and(|at| at.elapsed() < self.max_lag + READ_YOUR_WRITES_MARGIN)
        });
        (!recent).then_some(&self.pools)
    }

    /// `user` changed something: their reads go to the primary for a while.
    pub fn wrote(&self, user: Uuid) {
        if let Ok(mut w) = self.writers.lock() {
            if w.len() >= MAX_WRITERS {
                let window = self.max_lag + READ_YOUR_WRITES_MARGIN;
                w.retain(|_, at| at.elapsed() < window);
            }
            w.insert(user, Instant::now());
        }
    }

    /// Whether reads may go to the replica now, and its lag last measured (None: down).
    pub fn status(&self) -> (bool, Option<u64>) {
        let lag = self.lag_ms.load(Ordering::SeqCst);
        (
            self.usable.load(Ordering::SeqCst),
            (lag != u64::MAX).then_some(lag),
        )
    }

    /// Measures the lag for ever (spawned by `startup::spawn_watchers`).
    pub async fn watch(&self) {
        let mut tick = tokio::time::interval(PROBE_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let lag = tokio::time::timeout(
                PROBE_TIMEOUT,
                crate::app::db::replica_lag_ms(&self.pools.any),
            )
            .await
            .ok()
            .and_then(Result::ok);
            let usable = lag.is_some_and(|ms| ms <= self.max_lag.as_millis() as f64);
            self.lag_ms.store(
                lag.map_or(u64::MAX, |ms| ms.max(0.0) as u64),
                Ordering::SeqCst,
            );
            let was = self.usable.swap(usable, Ordering::SeqCst);
            if was != usable {
                match lag {
                    Some(ms) if usable => tracing::info!(lag_ms = ms, "reading from the replica"),
                    Some(ms) => {
                        tracing::warn!(lag_ms = ms, "the replica lags: reading from the primary")
                    }
                    None => tracing::warn!("the replica does not answer: reading from the primary"),
                }
            }
        }
    }
}
