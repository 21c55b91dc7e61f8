//! CD Concerns: reporting, triage and routing of controlled-drug concerns (see README.md).

pub mod access;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod directory;
pub mod disclosure;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod oversight;
pub mod pgcluster;
pub mod policy;
pub mod ratelimit;
pub mod reports;
pub mod returns;
pub mod shares;
pub mod startup;
pub mod state;
pub mod statistics;
pub mod telemetry;
pub mod triage;
pub mod web;
