//! The one integration-test binary: the service through its router, on a fresh database
//! per test (a private PostgreSQL cluster unless DATABASE_URL is set).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod access_findings;
mod accounts;
mod aggregates;
mod alert_pages;
mod audit;
mod auth;
mod cdao_pages;
mod cli;
mod contract;
mod directory;
mod errors;
mod fast_hands;
mod faults;
mod harness;
mod harness_db;
mod matrix;
mod oversight;
mod report_pages;
mod reports;
mod retention;
mod rights;
mod serving;
mod shares;
mod tokencache;
mod traceability;
mod triage;
mod work_waiting;
