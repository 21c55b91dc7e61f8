//! The case page of the lead CDAO team (SPEC §6 "CDAO"): the report as submitted with its
//! amendments and evidence, the persons it names (with OME flags), other reports naming the
//! same person, links, the timeline, who has viewed it, and the triage actions. Every
//! action is a form that posts to the same function the API calls (`crate::triage`); on a
//! validation error the page comes back with an error summary (422), on a conflict with a
//! clear message at the top (409), and on success it redirects back with a message.
//!
//! One submodule a job: `page` (drawing the page), `rows` (the report and its persons as
//! summary rows), `timeline` (the timeline and who has viewed it), `risk` (the risk matrix),
//! `actions` (the triage actions), `attachments` (evidence) and `shares` (member shares).

mod actions;
mod attachments;
mod page;
mod risk;
mod rows;
mod shares;
mod timeline;

pub use actions::{answer_case, close, link, message, reopen, request_access, triage};
pub use attachments::{attachment, mark_attachment};
pub use page::show;
pub use shares::decline_share;
