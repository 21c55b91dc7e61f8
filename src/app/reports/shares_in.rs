//! Which areas' teams have a share in force from another area, as known a second ago.
//!
//! A CDAO team's case list reads its areas' cases and the cases other areas have shared with
//! it (the `SharedWith` branch of its scope). Few teams have such a share at any moment (a
//! share to another area's team answers an access request), yet that branch's part of the
//! statement cost PostgreSQL about an eighth of its time for every page of the list (the
//! executor sets up its six plan nodes, which then find nothing). So the service keeps the
//! set of areas that have one, read again once it is a second old, and leaves the branch out
//! for a team none of whose areas is in it.
//!
//! It only ever narrows what a list reads, never widens it: a team believed to have a share
//! reads the branch, which checks every share as it reads (approved, not revoked, not
//! expired). The one cost of being out of date is a case just shared with a team that is
//! missing from its list for up to a second; the approvals of this instance forget the set
//! as soon as they commit, so its own users see the case at once. While the set is unknown
//! (being read, or its read failed), the branch is read.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// How long the set is used before it is read again.
const FOR: Duration = Duration::from_secs(1);

/// The areas with a share in force for their team (see the module's documentation).
#[derive(Default)]
pub struct SharesIn(Mutex<State>);

#[derive(Default)]
struct State {
    /// The set, and when it was read.
    known: Option<(Instant, HashSet<Uuid>)>,
    /// A read of the set is under way (the others meanwhile read the branch).
    reading: bool,
    /// Counts `forget`s, so that a read that began before one is not kept.
    forgotten: u64,
}

impl SharesIn {
    /// Whether none of `areas` has a share in force for its team, as known within the last
    /// second; false when that is not known (read the branch).
    pub async fn none_for(&self, pool: &PgPool, areas: &[Uuid], now: DateTime<Utc>) -> bool {
        let began = {
            let mut s = self.lock();
            match &s.known {
                Some((at, set)) if at.elapsed() < FOR => {
                    return !areas.iter().any(|a| set.contains(a));
                }
                _ if s.reading => return false,
                _ => {
                    s.reading = true;
                    s.forgotten
                }
            }
        };
        let read = crate::app::db::shares::areas_with_shares_in(pool, now).await;
        let mut s = self.lock();
        s.reading = false;
        match read {
            Ok(found) if s.forgotten == began => {
                let set: HashSet<Uuid> = found.into_iter().collect();
                let none = !areas.iter().any(|a| set.contains(a));
                s.known = Some((Instant::now(), set));
                none
            }
            _ => false,
        }
    }

    /// A share to a team was approved: what was known is out of date.
    pub fn forget(&self) {
        let mut s = self.lock();
        s.known = None;
        s.forgotten += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
