//! Server-rendered pages (they work without JavaScript).

pub mod account;
pub mod admin;
pub mod audit;
pub mod auth;
pub mod home;
pub mod info;
