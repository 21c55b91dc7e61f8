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
                Some((at, set)) if at.elapsed() < FOR => return none_in(set, areas),
                _ if s.reading => return false,
                _ => {
                    s.reading = true;
                    s.forgotten
                }
            }
        };
        // Whatever becomes of this request (answered, failed, or dropped mid-read), the
        // read is over when `_reading` goes.
        let _reading = Reading(self);
        let read = crate::app::db::shares::areas_with_shares_in(pool, now).await;
        let mut s = self.lock();
        match read {
            Ok(found) if s.forgotten == began => {
                let set: HashSet<Uuid> = found.into_iter().collect();
                let none = none_in(&set, areas);
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

/// Whether none of `areas` is in `set`.
fn none_in(set: &HashSet<Uuid>, areas: &[Uuid]) -> bool {
    !areas.iter().any(|a| set.contains(a))
}

/// A read of the set under way; over when dropped.
struct Reading<'a>(&'a SharesIn);

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.0.lock().reading = false;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sqlx::postgres::PgPoolOptions;

    use super::*;

    /// A pool whose every connection waits for a server that never answers (a listener that
    /// is never accepted from), for at most `wait`.
    fn silent_pool(listener: &std::net::TcpListener, wait: Duration) -> PgPool {
        let port = listener.local_addr().unwrap().port();
        PgPoolOptions::new()
            .acquire_timeout(wait)
            .connect_lazy(&format!("postgres://nobody@127.0.0.1:{port}/none"))
            .unwrap()
    }

    #[tokio::test]
    async fn the_branch_is_left_out_only_for_teams_known_to_have_no_share() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let pool = silent_pool(&listener, Duration::from_millis(200));
        let (with, without) = (Uuid::now_v7(), Uuid::now_v7());
        let shares = SharesIn::default();
        shares.lock().known = Some((Instant::now(), HashSet::from([with])));
        // Known: the set decides, without reading.
        assert!(shares.none_for(&pool, &[without], Utc::now()).await);
        assert!(!shares.none_for(&pool, &[with], Utc::now()).await);
        assert!(!shares.none_for(&pool, &[without, with], Utc::now()).await);
        // Forgotten (an approval): not known until read again, and a read that fails leaves
        // it unknown, so the branch is read.
        shares.forget();
        assert!(!shares.none_for(&pool, &[without], Utc::now()).await);
        assert!(shares.lock().known.is_none());
        assert!(!shares.lock().reading, "a failed read is over");
        // Out of date after a second: read again (here, it fails: the branch is read).
        shares.lock().known = Some((Instant::now() - FOR, HashSet::new()));
        assert!(!shares.none_for(&pool, &[without], Utc::now()).await);
    }

    #[tokio::test]
    async fn a_read_dropped_midway_is_over_and_others_meanwhile_read_the_branch() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let pool = silent_pool(&listener, Duration::from_secs(30));
        let area = [Uuid::now_v7()];
        let shares = SharesIn::default();
        let mut reading = Box::pin(shares.none_for(&pool, &area, Utc::now()));
        // The read waits for the silent server; meanwhile another request reads the branch.
        assert!(
            tokio::time::timeout(Duration::from_millis(100), &mut reading)
                .await
                .is_err()
        );
        assert!(shares.lock().reading);
        assert!(!shares.none_for(&pool, &area, Utc::now()).await);
        // Its request goes away: the read is over, and the next request may read again.
        drop(reading);
        assert!(!shares.lock().reading);
    }
}
