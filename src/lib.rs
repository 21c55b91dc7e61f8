//! CD Concerns: reporting, triage and routing of controlled-drug concerns (see README.md).

pub mod app;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod csv_export;
pub mod domain;
pub mod error;
pub mod pgcluster;
pub mod ratelimit;
pub mod telemetry;
pub mod web;

// The services keep their short paths (`crate::shares`, `cdconcerns::reports`, …).
pub use app::{
    access, accounts, alert_conversation, approvals, attachments, audit, authcache, demo,
    directory, disclosure, erasure, health, jobs, oversight, policy, prescribers, records, replica,
    reports, retention, returns, seed, shares, startup, state, statistics, subject_access,
    summaries, triage, waiting,
};
