//! Work waiting for the signed-in person (issue 11): the header's badges and `"waiting"` in
//! `GET /api/v1/me`. One cheap query for each role, counts only; a CDAO's counts cover their
//! own areas (SPEC §3), a member's their organisation's alerts, a reporter's their own reports
//! and an organisation lead's their organisation's.

use serde::Serialize;

use crate::app::db::waiting as wdb;
use crate::domain::directory::Role;
use crate::error::AppResult;
use crate::policy::Actor;
use crate::state::AppState;

/// Where the counts of new and overdue cases stop: a number above it means "more than this".
pub const COUNT_CAP: i64 = 1000;
/// [`COUNT_CAP`] in words.
pub const COUNT_CAP_WORDS: &str = "1,000";

/// The counts, by role: a CDAO has the first five, a member `unread_alerts`, a reporter or
/// organisation lead `questions_to_answer`; other roles none (an empty object).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Waiting {
    /// CDAO: cases still new in their areas, counted up to 1,001: 1,001 means more than 1,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_cases: Option<i64>,
    /// CDAO: new cases past their triage target, counted up to 1,001 like `new_cases`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<i64>,
    /// CDAO: shares of their areas waiting for a second CDAO (not their own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares_to_approve: Option<i64>,
    /// CDAO: other areas' requests to see cases of theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_requests: Option<i64>,
    /// CDAO: members' responses to their areas' alerts since they last opened the dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_responses: Option<i64>,
    /// Member: alerts delivered to their organisation that nobody there has opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread_alerts: Option<i64>,
    /// Reporter, organisation lead: reports on which the CDAO team is waiting for an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub questions_to_answer: Option<i64>,
}

/// The actor's waiting work.
pub async fn counts(state: &AppState, actor: &Actor) -> AppResult<Waiting> {
    let now = state.now();
    Ok(match actor.role {
        Role::Cdao => {
            let (new, overdue, shares, access, responses) =
                wdb::cdao(&state.db, actor.user_id, &actor.area_ids, now).await?;
            Waiting {
                new_cases: Some(new),
                overdue: Some(overdue),
                shares_to_approve: Some(shares),
                access_requests: Some(access),
                member_responses: Some(responses),
                ..Waiting::default()
            }
        }
        Role::Member => Waiting {
            unread_alerts: Some(match actor.organisation_id {
                Some(org) => wdb::unread_alerts(&state.db, org, now).await?,
                None => 0,
            }),
            ..Waiting::default()
        },
        Role::Reporter => Waiting {
            questions_to_answer: Some(wdb::questions(&state.db, actor.user_id, None).await?),
            ..Waiting::default()
        },
        Role::OrgLead => Waiting {
            questions_to_answer: Some(match actor.organisation_id {
                Some(org) => wdb::questions(&state.db, actor.user_id, Some(org)).await?,
                None => 0,
            }),
            ..Waiting::default()
        },
        Role::Admin | Role::Auditor | Role::Analyst => Waiting::default(),
    })
}

/// A visit to the dashboard: marks member responses as seen (the badge clears) and returns
/// the start of "since your last visit" (None on a first visit). A gap of an hour or more
/// without looking at the dashboard starts a new visit.
pub async fn see_dashboard(
    state: &AppState,
    actor: &Actor,
) -> AppResult<Option<chrono::DateTime<chrono::Utc>>> {
    Ok(wdb::see_dashboard(
        &state.db,
        actor.user_id,
        state.now(),
        chrono::TimeDelta::hours(1),
    )
    .await?)
}

tokio::task_local! {
    /// The waiting work of the person a page is being drawn for, set by the authentication
    /// middleware around page requests (so every page's header shows it without asking).
    pub static PAGE_WAITING: Waiting;
}

/// The waiting work for the page being drawn, if the middleware counted it.
pub fn for_page() -> Option<Waiting> {
    PAGE_WAITING.try_with(Clone::clone).ok()
}

/// What changed in the CDAO's areas since their last visit.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub cases_submitted: i64,
    pub member_responses: i64,
    pub reporter_answers: i64,
    pub shares_decided: i64,
}

pub use crate::app::db::waiting::RecentResponse;

/// The dashboard's news: what changed since `since`, and the newest member responses.
pub async fn dashboard_news(
    state: &AppState,
    actor: &Actor,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> AppResult<(Option<Changes>, Vec<RecentResponse>)> {
    let areas = crate::access::cdao_areas(actor)?;
    let changes = match since {
        Some(t) => {
            let (cases_submitted, member_responses, reporter_answers, shares_decided) =
                wdb::changes_since(&state.db, areas.ids(), t).await?;
            Some(Changes {
                cases_submitted,
                member_responses,
                reporter_answers,
                shares_decided,
            })
        }
        None => None,
    };
    let recent = wdb::recent_responses(&state.db, areas.ids(), 5).await?;
    Ok((changes, recent))
}
