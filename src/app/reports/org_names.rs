//! The names of the organisations the case list shows, kept in memory.
//!
//! Each row of the case list names the reporting organisation. Joining `organisations` for
//! those names cost PostgreSQL about a fifth of its time for every page of the list (the
//! executor sets up a Memoize node sized for the whole area, a large hash table cleared on
//! every call), for a name that changes perhaps once a year. So the list reads the
//! organisation's id, and the service names it from here.
//!
//! It never shows a name for longer than this service shows a token's rights:
//! - A change of an organisation's name notifies `cdc_auth_changed` (a trigger on
//!   `organisations`), whoever makes it; on every instance the listener of `authcache` then
//!   starts a new generation, and names kept in an older one are dropped before the next use.
//!   A change made through this service starts it before its commit.
//! - Names are kept only while that listener is connected (a notification missed while it
//!   was not would go unseen); otherwise every page's names are read afresh.
//! - A name read while a change was under way (the generation moved meanwhile) is not kept,
//!   and nothing is kept for longer than [`FOR`].
//!
//! Names are read from the primary, never a replica: a replica that had not yet replayed a
//! change could hand back the old name after the new generation began.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::PgPool;
use uuid::Uuid;

use crate::app::db::cases::{CaseSummary, Unnamed};

/// The longest a name is used, whatever happens.
const FOR: Duration = Duration::from_secs(60);
/// More organisations than this named at once: start again rather than grow (England has
/// about 40,000 that report).
const MAX_ENTRIES: usize = 100_000;

/// Organisations' names, by id (see the module's documentation).
pub struct OrgNames {
    pool: PgPool,
    kept: Mutex<Kept>,
}

struct Kept {
    /// The `authcache` generation the names were read in, and when the first was kept.
    generation: u64,
    since: Instant,
    names: HashMap<Uuid, Arc<str>>,
}

impl OrgNames {
    /// Names read from `pool` (the primary).
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            kept: Mutex::new(Kept {
                generation: 0,
                since: Instant::now(),
                names: HashMap::new(),
            }),
        }
    }

    /// The cases with their organisations' names. `keep`: whether names may be kept (the
    /// `authcache` listener is connected); if not, they are all read.
    pub async fn name(&self, rows: Unnamed, keep: bool) -> Result<Vec<CaseSummary>, sqlx::Error> {
        let mut cases = rows.0;
        // The cases whose organisation is not named here.
        let mut unnamed = Vec::new();
        if keep {
            let mut kept = self.lock();
            kept.current();
            for (i, c) in cases.iter_mut().enumerate() {
                match kept.names.get(&c.organisation_id) {
                    Some(n) => c.organisation_name = n.to_string(),
                    None => unnamed.push(i),
                }
            }
        } else {
            unnamed.extend(0..cases.len());
        }
        if unnamed.is_empty() {
            return Ok(cases);
        }
        let mut ids: Vec<Uuid> = unnamed.iter().map(|&i| cases[i].organisation_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let generation = crate::authcache::generation();
        let read: HashMap<Uuid, Arc<str>> =
            crate::app::db::directory::organisation_names(&self.pool, &ids)
                .await?
                .into_iter()
                .map(|(id, name)| (id, Arc::from(name)))
                .collect();
        for i in unnamed {
            let c = &mut cases[i];
            // Every case has its organisation (a foreign key; organisations are never deleted).
            let name = read
                .get(&c.organisation_id)
                .ok_or(sqlx::Error::RowNotFound)?;
            c.organisation_name = name.to_string();
        }
        if keep && generation == crate::authcache::generation() {
            let mut kept = self.lock();
            kept.current();
            if kept.generation == generation {
                if kept.names.len() + read.len() > MAX_ENTRIES {
                    kept.names.clear();
                }
                kept.names.extend(read);
            }
        }
        Ok(cases)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Kept {
    /// Drops what was kept in an older generation, or for too long.
    fn current(&mut self) {
        let now = crate::authcache::generation();
        if self.generation != now || self.since.elapsed() >= FOR {
            self.names.clear();
            self.generation = now;
            self.since = Instant::now();
        }
    }
}
