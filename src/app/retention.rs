//! Kept no longer than needed (UK GDPR Art 5(1)(e)): the retention run. It removes credentials
//! past their use and, from closed cases past their period, sealed identities and their blind
//! indexes, free text and evidence files, keeping the reference, kind, dates, codes, outcome
//! and counts so that statistics do not change. A case with an open share, access request or
//! erasure waits. One run at a time across every instance (the job's row is taken with
//! `FOR UPDATE SKIP LOCKED`); each run is one audit event with its counts.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sqlx::PgPool;

use crate::access;
use crate::app::db::retention::{self as rdb, Removed};
use crate::audit::{self, Event};
use crate::domain::retention::Periods;
use crate::error::AppResult;
use crate::state::AppState;

pub mod action {
    pub const RETENTION_RUN: &str = "retention.run";
}

/// Cases are taken this many at a time.
const BATCH: i64 = 500;

/// What a run did (or, dry, would do).
#[derive(Debug)]
pub struct RunReport {
    pub dry_run: bool,
    pub credentials: rdb::Report,
    /// References of the cases whose details were (or would be) removed: never identities.
    pub references: Vec<String>,
    pub removed: Removed,
    /// Cases past their period that wait for an open share, access request or erasure.
    pub waiting: i64,
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (lead, verb) = if self.dry_run {
            ("Would remove", "would be removed")
        } else {
            ("Removed", "removed")
        };
        writeln!(f, "{lead}: {}", self.credentials)?;
        let r = &self.removed;
        writeln!(
            f,
            "Case details {verb} from {} closed cases past their period: {} identities, {} blind-index rows, \
             {} amendments, {} timeline texts, {} evidence files, {} shares' texts, {} responses, {} access requests' reasons.",
            r.cases,
            r.identities,
            r.blind_indexes,
            r.amendments,
            r.timeline_texts,
            r.evidence_files,
            r.shares,
            r.responses,
            r.access_requests
        )?;
        for reference in &self.references {
            writeln!(f, "  {reference}")?;
        }
        write!(
            f,
            "{} cases past their period wait for an open share, access request or erasure.",
            self.waiting
        )
    }
}

/// Runs retention now (the operator's `cdconcerns retention run [--dry-run]`). `None` when
/// another instance is running it at this moment.
pub async fn run(
    db: &PgPool,
    periods: Periods,
    now: DateTime<Utc>,
    dry_run: bool,
) -> AppResult<Option<RunReport>> {
    run_job(db, periods, now, dry_run, false).await
}

/// The daily run inside the service: only when due, and only on one instance.
pub async fn run_if_due(state: &AppState) -> AppResult<Option<RunReport>> {
    run_job(
        &state.db,
        state.config.retention(),
        state.now(),
        false,
        true,
    )
    .await
}

async fn run_job(
    db: &PgPool,
    periods: Periods,
    now: DateTime<Utc>,
    dry_run: bool,
    only_if_due: bool,
) -> AppResult<Option<RunReport>> {
    let mut tx = db.begin().await?;
    if !rdb::take_job(&mut tx, now, only_if_due).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let credentials = rdb::credentials(&mut tx, now).await?;
    let mut references = Vec::new();
    let mut removed = Removed::default();
    // A dry run changes nothing, so it takes every due case at once; a real run takes them
    // a batch at a time.
    let limit = if dry_run { i64::MAX } else { BATCH };
    loop {
        let batch = access::cases_past_retention(&mut tx, periods, now, limit).await?;
        if batch.is_empty() {
            break;
        }
        add(&mut removed, &rdb::count(&mut tx, &batch).await?);
        references.extend(batch.iter().map(|c| c.reference().to_string()));
        if dry_run {
            break;
        }
        rdb::remove(&mut tx, &batch, now).await?;
        if i64::try_from(batch.len()).unwrap_or(i64::MAX) < limit {
            break;
        }
    }
    let waiting = rdb::waiting(db, periods, now).await?;
    let report = RunReport {
        dry_run,
        credentials,
        references,
        removed,
        waiting,
    };
    if dry_run {
        tx.rollback().await?;
        return Ok(Some(report));
    }
    let counts = json!({
        "sessions": report.credentials.sessions,
        "invitations": report.credentials.invitations,
        "tokens": report.credentials.tokens,
        "removed": report.removed,
        "waiting": report.waiting,
        "retention_years": periods.years,
        "retention_unfounded_years": periods.unfounded_years,
    });
    audit::record(
        &mut tx,
        now,
        Event::new(None, action::RETENTION_RUN, "retention", None).details(counts.clone()),
    )
    .await?;
    rdb::finish_job(&mut tx, now, now + TimeDelta::days(1), &counts).await?;
    tx.commit().await?;
    Ok(Some(report))
}

fn add(total: &mut Removed, r: &Removed) {
    total.cases += r.cases;
    total.identities += r.identities;
    total.blind_indexes += r.blind_indexes;
    total.amendments += r.amendments;
    total.timeline_texts += r.timeline_texts;
    total.evidence_files += r.evidence_files;
    total.shares += r.shares;
    total.responses += r.responses;
    total.access_requests += r.access_requests;
}
