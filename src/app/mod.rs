//! The service layer: every read and change of stored data goes through these modules.
//!
//! `db` (the SQL) is private to this module, so code outside it — the web handlers above all —
//! cannot run a query: it asks a service, and the services reach case data only through the
//! handles that `access` hands out. `seed` is the one public door into the stores, for the
//! operator's bootstrap and the test harness: it creates areas, organisations and users, never
//! reads case content.
//!
//! What no longer compiles (each block is a test: `cargo test --doc`):
//!
//! A handler running SQL — `db` is private here:
//! ```compile_fail
//! use cdconcerns::app::db;
//! ```
//! A handler reaching for the pool — the field is private to the service layer:
//! ```compile_fail
//! fn handler(state: &cdconcerns::state::AppState) -> &sqlx::PgPool {
//!     &state.db
//! }
//! ```
//! A handler granting itself every user — scopes are made by `policy` inside this layer:
//! ```compile_fail
//! let everyone = cdconcerns::policy::UserScope::All;
//! ```
//! A handle on a case without the access check — its fields are private:
//! ```compile_fail
//! fn forge(row: cdconcerns::access::CaseRow) -> cdconcerns::access::VisibleCase {
//!     cdconcerns::access::VisibleCase { row, view: cdconcerns::access::View::Holding }
//! }
//! ```
//! A case read by a bare id — the reader takes the handle `access::case` hands out:
//! ```compile_fail
//! async fn read(
//!     state: &cdconcerns::state::AppState,
//!     actor: &cdconcerns::policy::Actor,
//!     id: uuid::Uuid,
//! ) {
//!     let _ = cdconcerns::reports::view(state, actor, id).await;
//! }
//! ```

mod batches;
mod db;

pub mod access;
pub mod accounts;
pub mod alert_conversation;
pub mod approvals;
pub mod attachments;
pub mod audit;
pub mod authcache;
pub mod demo;
pub mod directory;
pub mod disclosure;
pub mod erasure;
pub mod health;
pub mod jobs;
pub mod oversight;
pub mod policy;
pub mod prescribers;
pub mod records;
pub mod replica;
pub mod reports;
pub mod retention;
pub mod returns;
pub mod seed;
pub mod sessions;
pub mod shares;
pub mod startup;
pub mod state;
pub mod statistics;
pub mod subject_access;
pub mod summaries;
pub mod triage;
pub mod waiting;
pub mod warm;
