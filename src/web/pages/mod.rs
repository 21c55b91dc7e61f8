//! Server-rendered pages (they work without JavaScript).

pub mod account;
pub mod admin;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod cdao;
pub mod conversation;
pub mod home;
pub mod incident_steps;
pub mod info;
pub mod oversight;
pub mod prescribers;
pub mod report_facts;
pub mod reports;
pub mod returns;
pub mod rights;
pub mod sharing;
pub mod stats;
