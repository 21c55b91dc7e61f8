//! A short-lived cache of API tokens, so that a request with a bearer token does not look the
//! token up in the database every time — without letting a revoked token, a changed role or
//! a disabled user or organisation through for one request longer (SPEC §3: credentials die
//! together).
//!
//! Three things keep it honest:
//! - Triggers on `api_tokens`, `users`, `user_areas`, `organisations` and
//!   `organisation_areas` send `NOTIFY cdc_auth_changed` when anything a token's actor is made
//!   of changes, whoever changes it (this instance, another one, an operator in psql). A
//!   listener on its own connection empties every cache of the process when one arrives.
//! - The database functions of this service that make such changes call [`changed`] before
//!   they commit, so the next request on this instance never waits for the notification.
//! - The cache is used only while the listener is connected (a notification missed while it
//!   was not would go unseen), entries live at most [`TTL`], and an entry fetched while a
//!   change was under way is never used (each entry carries the generation it was read in).
//!
//! Expiry is checked on every use against the token's own `expires_at`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgListener, PgPoolOptions};

use crate::app::db::sessions::TokenUser;

/// The notification channel the triggers send on.
pub const CHANNEL: &str = "cdc_auth_changed";
/// The longest an entry is used, whatever happens.
pub const TTL: Duration = Duration::from_secs(30);
/// More tokens than this in use at once: start again rather than grow.
const MAX_ENTRIES: usize = 10_000;

/// Bumped on every change to what tokens mean: entries of an older generation are dead.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Something a token's actor is made of changed (called by the database functions that
/// change it, before their transaction commits; the trigger's notification follows it).
pub fn changed() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The generation to read a token in: pass it back to [`TokenCache::put`].
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

struct Entry {
    user: TokenUser,
    expires_at: DateTime<Utc>,
    generation: u64,
    fetched: Instant,
}

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
    /// The listener is connected and listening: only then may entries be used.
    live: AtomicBool,
}

impl TokenCache {
    /// The token's user, if cached, still valid and `now` is before its expiry.
    pub fn get(&self, token_hash: &[u8], now: DateTime<Utc>) -> Option<TokenUser> {
        if !self.live.load(Ordering::SeqCst) {
            return None;
        }
        let current = generation();
        let entries = self.entries.lock().ok()?;
        let e = entries.get(token_hash)?;
        (e.generation == current && e.fetched.elapsed() < TTL && now < e.expires_at)
            .then(|| e.user.clone())
    }

    /// Keeps a token read from the database in generation `generation`.
    pub fn put(
        &self,
        token_hash: &[u8],
        user: &TokenUser,
        expires_at: DateTime<Utc>,
        generation: u64,
    ) {
        if !self.live.load(Ordering::SeqCst) || generation != self::generation() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                token_hash.to_vec(),
                Entry {
                    user: user.clone(),
                    expires_at,
                    generation,
                    fetched: Instant::now(),
                },
            );
        }
    }

    /// Records that the token was used at `at` (so `last_used_at` is written once a minute).
    pub fn touched(&self, token_hash: &[u8], at: DateTime<Utc>) {
        if let Ok(mut entries) = self.entries.lock()
            && let Some(e) = entries.get_mut(token_hash)
        {
            e.user.last_used_at = Some(at);
        }
    }

    fn set_live(&self, live: bool) {
        changed();
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
        self.live.store(live, Ordering::SeqCst);
    }

    /// Whether the listener is connected (tests wait for it).
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// Listens for changes for ever (spawned by `startup::serve_until`), on a connection of
    /// its own; reconnects after a loss, and keeps the cache off while disconnected.
    pub async fn listen(&self, options: sqlx::postgres::PgConnectOptions) {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(1))
            .connect_lazy_with(options);
        loop {
            if let Ok(mut listener) = PgListener::connect_with(&pool).await {
                listener.eager_reconnect(false);
                if listener.listen(CHANNEL).await.is_ok() {
                    self.set_live(true);
                    while let Ok(Some(_)) = listener.try_recv().await {
                        changed();
                    }
                    self.set_live(false);
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
