//! CD Concerns: reporting, triage and routing of controlled-drug concerns (see README.md).

pub mod audit;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod policy;
pub mod ratelimit;
pub mod state;
