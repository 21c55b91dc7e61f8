//! Shared application state, with time injected so tests can fix it.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use sqlx::PgPool;

use crate::config::{Config, Key32};
use crate::crypto::Sealer;
use crate::ratelimit::RateLimiter;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock, to the microsecond (PostgreSQL's precision, so stored times round-trip).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that tests move by hand.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at.trunc_subsecs(6)))
    }
    pub fn advance(&self, by: TimeDelta) {
        if let Ok(mut t) = self.0.lock() {
            *t += by;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|e| *e.into_inner())
    }
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The pool: only the service layer runs queries.
    pub(in crate::app) db: PgPool,
    /// Reads on the primary: `db`, and its twin for generic plans.
    primary_reads: crate::app::db::ReadPools,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub sealer: Sealer,
    pub index_key: Key32,
    pub signin_limiter: RateLimiter,
    pub api_limiter: RateLimiter,
    /// Whether the database answers (see `health`).
    pub health: crate::health::DbHealth,
    /// The streaming replica for heavy reads, when configured (see `replica`).
    pub replica: std::sync::OnceLock<crate::replica::Replica>,
    /// API tokens recently seen (see `authcache`).
    pub tokens: crate::authcache::TokenCache,
    /// The drug catalogue, loaded on first use.
    pub catalogue: tokio::sync::OnceCell<std::sync::Arc<crate::domain::catalogue::Catalogue>>,
    /// Case lists counted past 1,000 lately (see `reports::totals`).
    pub large_totals: crate::app::reports::LargeTotals,
    /// The areas whose teams have a share in force from another area, as known a second ago.
    pub shares_in: crate::app::reports::SharesIn,
    /// The names of the organisations the case list shows (see `reports::OrgNames`).
    pub org_names: crate::app::reports::OrgNames,
    /// Writes submissions that arrive together in one statement (started on first use).
    case_writer: std::sync::OnceLock<crate::app::reports::CaseWriter>,
    /// Records views' audit events that arrive together in one statement (started on first
    /// use).
    recorder: std::sync::OnceLock<crate::audit::Recorder>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        db: PgPool,
        config: Config,
        clock: Arc<dyn Clock>,
        identity_key: &Key32,
        index_key: Key32,
    ) -> Self {
        let signin_limiter = RateLimiter::per_minute(config.signin_rate_limit);
        let api_limiter = RateLimiter::per_minute(config.api_rate_limit);
        Self(Arc::new(Inner {
            primary_reads: crate::app::db::ReadPools::over(db.clone()),
            org_names: crate::app::reports::OrgNames::new(db.clone()),
            db,
            sealer: Sealer::new(identity_key),
            index_key,
            signin_limiter,
            api_limiter,
            health: crate::health::DbHealth::default(),
            replica: std::sync::OnceLock::new(),
            tokens: crate::authcache::TokenCache::default(),
            catalogue: tokio::sync::OnceCell::new(),
            large_totals: Default::default(),
            shares_in: Default::default(),
            case_writer: std::sync::OnceLock::new(),
            recorder: std::sync::OnceLock::new(),
            config,
            clock,
        }))
    }

    /// Where `actor`'s heavy reads (statistics, exports, the case list) go: the replica when
    /// there is one, it keeps up, and they have not just written; else the primary.
    pub fn reads(&self, actor: &crate::policy::Actor) -> &PgPool {
        &self.read_pools(actor).any
    }

    /// As [`Self::reads`], with that server's pool for generic plans beside it.
    pub fn read_pools(&self, actor: &crate::policy::Actor) -> &crate::app::db::ReadPools {
        self.replica
            .get()
            .and_then(|r| r.for_reads_of(actor.user_id))
            .unwrap_or(&self.primary_reads)
    }

    /// The pool for the reads of the page of one case or of one alert (the view's audit event
    /// is recorded by `recorder`, on the main pool): the primary's pool with generic plans (every statement of such a page finds
    /// its rows by id, so a plan made once suits every value), whose connections are a
    /// quarter of the main pool's. Fewer pages at once in PostgreSQL serve more of them: on
    /// two cores, 32 case pages at once cost PostgreSQL 12% more CPU each than 8 (queueing
    /// for the CPU and for the audit chains' heads). Measured at 32 clients, alternating:
    /// 1,589-1,628 pages a second with p99 36-38 ms on the main pool, 1,722-1,766 with p99
    /// 26 ms on this one. Its connections are kept warm between reads (see `warm`).
    pub(crate) fn pages(&self) -> &crate::app::warm::Warm {
        &self.primary_reads.generic
    }

    /// The queue that writes new submissions (started here on first use, on the runtime of
    /// the request that needs it).
    pub(crate) fn case_writer(&self) -> &crate::app::reports::CaseWriter {
        self.case_writer
            .get_or_init(|| crate::app::reports::CaseWriter::start(self.db.clone()))
    }

    /// The queue that records views' audit events (started here on first use).
    pub(crate) fn recorder(&self) -> &crate::audit::Recorder {
        self.recorder
            .get_or_init(|| crate::audit::Recorder::start(self.db.clone()))
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Today's date in the UK (dates in reports are UK dates).
    pub fn uk_today(&self) -> chrono::NaiveDate {
        self.now()
            .with_timezone(&chrono_tz::Europe::London)
            .date_naive()
    }
}
