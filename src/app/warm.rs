//! Connections kept warm between reads. sqlx checks every connection given back to its pool
//! with a round trip to PostgreSQL (a `Sync`, answered by `ReadyForQuery`), so a page read
//! on a pooled connection costs two round trips where it needs one: both processes woken
//! twice. The hot reads (the case list, the pages of one case or alert) take their
//! connection from here instead. A connection whose read completed (the reader says so with
//! [`WarmConnection::keep`]) comes back here as it is, with nothing pending, for the next
//! read; any other (an error, a request dropped mid-read) goes back to the pool, which
//! checks it as before and closes it if it is broken.
//!
//! A kept connection idle for a second or more, or across a change the health watcher saw,
//! is pinged before it is used, as the pool pings its own. One cut off by an outage too short
//! for the watcher to see fails the read it is used for (503, as a pooled one did) and is not
//! kept; that failure has every other one checked before its next use
//! (`health::connection_lost`).
//!
//! Measured on the kept 1 M-case data at 32 clients, binaries alternating: the case list
//! served 4,594-4,912 pages a second against 4,478-4,566 (service CPU per list 0.216 ->
//! 0.194 ms, PostgreSQL 0.183 -> 0.177 ms), case pages 3,470-3,562 against 3,353-3,402,
//! alert pages 4,546-4,603 against 4,352-4,433.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, PgPool, Postgres};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Connections of one pool, at most as many at once as the pool holds, kept between reads.
#[derive(Clone)]
pub struct Warm(Arc<Inner>);

struct Inner {
    pool: PgPool,
    /// Readers in line for a connection, first come first served.
    permits: Semaphore,
    /// Connections whose last read completed, the most recently used last.
    idle: Mutex<Vec<Kept>>,
}

struct Kept {
    conn: PoolConnection<Postgres>,
    /// When it was taken from the pool (it goes back once the pool's lifetime has passed).
    taken: Instant,
    used: Instant,
}

impl Warm {
    pub fn over(pool: PgPool) -> Self {
        let size = pool.options().get_max_connections() as usize;
        Self(Arc::new(Inner {
            pool,
            permits: Semaphore::new(size),
            idle: Mutex::new(Vec::with_capacity(size)),
        }))
    }

    /// A connection: one kept from an earlier read, else one from the pool. Waits in line
    /// when all are in use, for at most the pool's acquire timeout.
    pub async fn acquire(&self) -> Result<WarmConnection<'_>, sqlx::Error> {
        let inner = &*self.0;
        let options = inner.pool.options();
        let permit = tokio::time::timeout(options.get_acquire_timeout(), inner.permits.acquire())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let kept = inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let young = |k: &Kept| {
            options
                .get_max_lifetime()
                .is_none_or(|life| k.taken.elapsed() < life)
        };
        let kept = match kept {
            Some(k) if young(&k) && !crate::app::health::worth_checking(k.used.elapsed()) => {
                Some(k)
            }
            // Idle a while (or the database went down or came back meanwhile): kept if it
            // still answers; else back to the pool, which closes it.
            Some(mut k) if young(&k) => k.conn.ping().await.is_ok().then_some(k),
            _ => None,
        };
        let kept = match kept {
            Some(k) => k,
            None => {
                let now = Instant::now();
                Kept {
                    conn: inner.pool.acquire().await?,
                    taken: now,
                    used: now,
                }
            }
        };
        Ok(WarmConnection {
            warm: inner,
            kept: Some(kept),
            keep: false,
            _permit: permit,
        })
    }
}

/// A connection of [`Warm`]. Dropped without [`WarmConnection::keep`], it goes back to the
/// pool (checked there).
pub struct WarmConnection<'a> {
    warm: &'a Inner,
    /// Taken only when dropped.
    kept: Option<Kept>,
    keep: bool,
    _permit: SemaphorePermit<'a>,
}

impl WarmConnection<'_> {
    /// The read completed (every statement answered, no transaction open): the connection
    /// is kept for the next read.
    pub fn keep(mut self) {
        self.keep = true;
    }

    fn kept(&self) -> &Kept {
        match &self.kept {
            Some(k) => k,
            None => unreachable!("only dropping a warm connection takes its connection"),
        }
    }
}

impl Drop for WarmConnection<'_> {
    fn drop(&mut self) {
        match self.kept.take() {
            Some(mut k) if self.keep => {
                k.used = Instant::now();
                self.warm
                    .idle
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(k);
            }
            // Back to the pool, which checks it.
            _ => {}
        }
    }
}

impl std::ops::Deref for WarmConnection<'_> {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        &self.kept().conn
    }
}

impl std::ops::DerefMut for WarmConnection<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut self.kept {
            Some(k) => &mut k.conn,
            None => unreachable!("only dropping a warm connection takes its connection"),
        }
    }
}
