//! Lists known to hold more than 1,000 cases, remembered for a few seconds.
//!
//! The case list's total is exact up to 1,000 and "more than 1,000" beyond. Learning that a
//! list is past 1,000 means reading 1,001 index entries: measured on 1 M cases, half of
//! PostgreSQL's work for each page of a team's list of new cases. A list past 1,000 stays past
//! it until its cases leave faster than triage moves them, so once a list has been counted
//! past 1,000 its total is taken as "more than 1,000", without counting, for [`REMEMBERED`].
//!
//! - Only totals past 1,000 are remembered. A total of 1,000 or fewer is counted every time:
//!   it is exact, moves with each case, and costs only as many entries as it counts.
//! - What is remembered is a number's size, never a case: the page itself is always read
//!   afresh, through the caller's scope.
//! - The key is the caller's scope and filters, without search words (a search is never
//!   remembered, so the words are not kept).
//! - At worst, a list that fell to 1,000 or fewer within the last few seconds says "more than
//!   1,000" until it is counted again.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::access::CaseScope;
use crate::app::db::cases::CaseFilter;

/// How long a total past 1,000 is taken as still past it.
pub const REMEMBERED: Duration = Duration::seconds(5);

/// Past this many lists remembered, the expired ones are forgotten (and, if none has
/// expired, all of them).
const MOST: usize = 4096;

/// Lists counted past 1,000 lately, and when (see the module's documentation).
#[derive(Default)]
pub struct LargeTotals {
    counted: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl LargeTotals {
    /// Whether the list `f` describes in `scope` was counted past 1,000 within
    /// [`REMEMBERED`] of `now`.
    pub fn is_large(&self, scope: &CaseScope, f: &CaseFilter, now: DateTime<Utc>) -> bool {
        let Some(key) = key(scope, f) else {
            return false;
        };
        let counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        counted
            .get(&key)
            .is_some_and(|at| *at <= now && now - *at < REMEMBERED)
    }

    /// Remembers that the list was counted past 1,000 at `now`.
    pub fn counted_large(&self, scope: &CaseScope, f: &CaseFilter, now: DateTime<Utc>) {
        let Some(key) = key(scope, f) else {
            return;
        };
        let mut counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        if counted.len() >= MOST {
            counted.retain(|_, at| now - *at < REMEMBERED);
            if counted.len() >= MOST {
                counted.clear();
            }
        }
        counted.insert(key, now);
    }
}

/// The list's key: the scope and the filters, without the page's place, size or time. None
/// for a search.
fn key(scope: &CaseScope, f: &CaseFilter) -> Option<String> {
    if f.plan_depends_on_values() || !f.q_identifiers.is_empty() {
        return None;
    }
    let f = CaseFilter {
        before: None,
        now: None,
        limit: 0,
        q: None,
        ..f.clone()
    };
    Some(format!("{scope:?} {f:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn area_scope() -> CaseScope {
        team_of(1)
    }

    fn team_of(area: u128) -> CaseScope {
        let cdao = crate::policy::Actor {
            user_id: Uuid::from_u128(7),
            role: crate::domain::directory::Role::Cdao,
            name: "T".into(),
            email: "t@example.org".into(),
            organisation_id: None,
            organisation_name: None,
            area_ids: vec![Uuid::from_u128(area)],
            via: crate::policy::Via::Session,
        };
        crate::access::case_scope(&cdao).unwrap()
    }

    #[test]
    fn a_large_total_is_remembered_for_a_few_seconds_whatever_the_page() {
        let totals = LargeTotals::default();
        let scope = area_scope();
        let new = CaseFilter {
            statuses: vec!["new".into()],
            limit: 50,
            ..Default::default()
        };
        let t0 = Utc::now();
        assert!(!totals.is_large(&scope, &new, t0));
        totals.counted_large(&scope, &new, t0);
        let later_page = CaseFilter {
            before: Some((t0, Uuid::from_u128(9))),
            limit: 25,
            now: Some(t0),
            ..new.clone()
        };
        assert!(totals.is_large(&scope, &later_page, t0 + Duration::seconds(4)));
        assert!(!totals.is_large(&scope, &new, t0 + REMEMBERED));
        // Another filter, another scope: another list.
        let closed = CaseFilter {
            statuses: vec!["closed".into()],
            ..new.clone()
        };
        assert!(!totals.is_large(&scope, &closed, t0));
        let other = team_of(2);
        assert!(!totals.is_large(&other, &new, t0));
    }

    #[test]
    fn a_search_is_never_remembered() {
        let totals = LargeTotals::default();
        let scope = area_scope();
        let search = CaseFilter {
            q: Some("morphine".into()),
            ..Default::default()
        };
        let t0 = Utc::now();
        totals.counted_large(&scope, &search, t0);
        assert!(!totals.is_large(&scope, &search, t0));
        assert!(totals.counted.lock().unwrap().is_empty());
    }

    #[test]
    fn it_stays_small() {
        let totals = LargeTotals::default();
        let scope = area_scope();
        let t0 = Utc::now();
        for i in 0..(MOST + 10) {
            let f = CaseFilter {
                organisation_id: Some(Uuid::from_u128(i as u128)),
                ..Default::default()
            };
            totals.counted_large(&scope, &f, t0);
        }
        assert!(totals.counted.lock().unwrap().len() <= MOST);
    }
}
