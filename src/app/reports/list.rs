//! The case list: one page of the caller's cases, its total, the cases either side of one
//! (for next and previous on the case page) and the CSV export. What each row shows follows
//! the caller's scope (SPEC §3).

use serde_json::json;
use uuid::Uuid;

use super::{Brief, blind_index};
use crate::access;
use crate::app::db::{self, cases as cdb};
use crate::audit::{self, Event};
use crate::domain::directory::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

/// One page of the caller's cases (at most `f.limit`), and whether there are more. What the
/// list shows of each case follows the scope: triage facts only where the caller's team holds
/// the case, never for cases seen through a share or by the reporting side.
pub async fn list_cases(
    state: &AppState,
    actor: &Actor,
    f: &cdb::CaseFilter,
) -> AppResult<(Vec<cdb::CaseSummary>, bool)> {
    let (scope, probe) = probe(state, actor, f).await?;
    let items = named(
        state,
        cdb::list_cases(state.read_pools(actor), &scope, &probe).await?,
    )
    .await?;
    Ok(shown(&scope, items, f.limit))
}

/// The caller's scope, and the filter as the database reads it: checked against the scope,
/// one row more than the page (to learn whether more follow), the time now, the blind
/// indexes of the search words, and whether the team has no share from another area to
/// look for (see `SharesIn`).
async fn probe(
    state: &AppState,
    actor: &Actor,
    f: &cdb::CaseFilter,
) -> AppResult<(access::CaseScope, cdb::CaseFilter)> {
    let scope = access::case_scope(actor)?;
    access::check_case_filters(actor, f)?;
    let now = state.now();
    let mut probe = f.clone();
    probe.limit = f.limit + 1;
    probe.now = Some(now);
    probe.q_identifiers = query_identifiers(state, actor, f);
    let areas = scope.team_areas();
    probe.without_shared =
        !areas.is_empty() && state.shares_in.none_for(&state.db, areas, now).await;
    Ok((scope, probe))
}

/// The cases read, with their organisations' names (kept while the token cache's listener,
/// which hears of renames, is connected: see `OrgNames`).
async fn named(state: &AppState, rows: cdb::Unnamed) -> AppResult<Vec<cdb::CaseSummary>> {
    Ok(state.org_names.name(rows, state.tokens.is_live()).await?)
}

/// The rows read as the caller may see them, at most `limit`, and whether more were read.
fn shown(
    scope: &access::CaseScope,
    mut items: Vec<cdb::CaseSummary>,
    limit: i64,
) -> (Vec<cdb::CaseSummary>, bool) {
    for c in &mut items {
        if !c.holding || !scope.holds(c.area_id) {
            c.priority = None;
            c.suggested_priority = None;
            c.assignee_id = None;
            c.triage_due_at = None;
        }
    }
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(0));
    (items, more)
}

/// The blind indexes of the identifiers the search words could be, for the CDAO team (who
/// may search the people named in their areas' reports); nobody else's words reach them, so
/// nobody else learns from a search whether a report names someone. Never the words themselves.
fn query_identifiers(
    state: &AppState,
    actor: &Actor,
    f: &cdb::CaseFilter,
) -> Vec<(String, Vec<u8>)> {
    match (&actor.role, f.q.as_deref()) {
        (Role::Cdao, Some(q)) => crate::domain::search::identifiers_in_query(q)
            .into_iter()
            .map(|(kind, value)| (kind.to_string(), blind_index(state, kind, &value)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The cases before and after `(at, id)` in the list `f` describes, as far as the caller sees
/// it: (previous, next). For next and previous on the case page.
pub async fn neighbours(
    state: &AppState,
    actor: &Actor,
    f: &cdb::CaseFilter,
    at: chrono::DateTime<chrono::Utc>,
    id: Uuid,
) -> AppResult<(Option<Brief>, Option<Brief>)> {
    let one = |oldest_first: bool| {
        let mut g = f.clone();
        g.oldest_first = oldest_first;
        g.before = Some((at, id));
        g.limit = 1;
        g
    };
    let (after, before) = (one(f.oldest_first), one(!f.oldest_first));
    let ((next, _), (previous, _)) = tokio::try_join!(
        list_cases(state, actor, &after),
        list_cases(state, actor, &before)
    )?;
    let brief = |c: &cdb::CaseSummary| Brief {
        id: c.id,
        reference: c.reference.clone(),
        status: c.status.clone(),
        submitted_at: c.submitted_at,
        organisation_name: None,
    };
    Ok((previous.first().map(brief), next.first().map(brief)))
}

/// Where the case list's total stops being exact.
pub const TOTAL_CAP: i64 = 1000;

/// How many cases match the filters (the cursor aside): exact up to 1,000, else "1000+".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CaseTotal {
    /// The exact number, 1,000 or fewer.
    Exact(i64),
    /// More than 1,000: always the string "1000+". A list counted past 1,000 is taken as
    /// still past it, without counting, for 5 seconds (see `totals`).
    #[schema(value_type = String, example = "1000+")]
    More(&'static str),
}

impl CaseTotal {
    /// "12 cases", "1 case", "1,000 cases", "more than 1,000 cases".
    pub fn words(&self) -> String {
        match self {
            CaseTotal::Exact(1) => "1 case".into(),
            // Only 1,000 itself reaches four digits (the count stops there).
            CaseTotal::Exact(n) if *n >= 1000 => format!("{},{:03} cases", n / 1000, n % 1000),
            CaseTotal::Exact(n) => format!("{n} cases"),
            CaseTotal::More(_) => "more than 1,000 cases".into(),
        }
    }
}

/// One page of the caller's cases, whether there are more, and the total of the list (same
/// scope and checks as the list). A first page that holds the whole list is its own total,
/// so the total is counted only for a longer list (most lists are short: one statement
/// instead of two) or a later page.
pub async fn list_with_total(
    state: &AppState,
    actor: &Actor,
    f: &cdb::CaseFilter,
) -> AppResult<(Vec<cdb::CaseSummary>, bool, CaseTotal)> {
    let (scope, probe) = probe(state, actor, f).await?;
    let now = probe.now.unwrap_or_else(|| state.now());
    // A list counted past 1,000 a moment ago is not counted again (see `totals`).
    let large = state.large_totals.is_large(&scope, &probe, now);
    let total = (!large).then(|| cdb::Total {
        cap: TOTAL_CAP,
        beyond: match f.before {
            Some(_) => None,
            None => Some(usize::try_from(f.limit).unwrap_or(0)),
        },
    });
    // From where the list is read (a replica, when there is one), so the two agree.
    let (items, n) = cdb::list_and_count(state.read_pools(actor), &scope, &probe, total).await?;
    let items = named(state, items).await?;
    let (items, more) = shown(&scope, items, f.limit);
    let whole = f.before.is_none() && !more;
    let total = match n {
        // A first page that holds the whole list is its own total.
        _ if large && whole => CaseTotal::Exact(items.len() as i64),
        _ if large => CaseTotal::More("1000+"),
        Some(n) if n > TOTAL_CAP => {
            state.large_totals.counted_large(&scope, &probe, now);
            CaseTotal::More("1000+")
        }
        Some(n) => CaseTotal::Exact(n),
        None => CaseTotal::Exact(items.len() as i64),
    };
    Ok((items, more, total))
}

/// The CSV of the filtered case list (no identities, no free text, no triage facts of cases
/// seen through a share): the CDAO team. The export is audited.
pub async fn export_cases(
    state: &AppState,
    actor: &Actor,
    f: &cdb::CaseFilter,
) -> AppResult<(Vec<u8>, usize)> {
    let areas = access::cdao_areas(actor)
        .map_err(|_| AppError::Forbidden("Your role does not allow you to export cases.".into()))?;
    let mut f = f.clone();
    f.limit = 100_000;
    f.before = None;
    let (rows, _) = list_cases(state, actor, &f).await?;
    let names = db::directory::list_areas(&state.db).await?;
    let mut w = crate::csv_export::SafeWriter::new();
    let io = |e: csv::Error| AppError::Internal(e.into());
    w.write_record([
        "reference",
        "kind",
        "status",
        "priority",
        "submitted_at",
        "organisation",
        "sector",
        "area",
        "occurred_on",
        "harm",
        "categories",
        "schedules",
        "high_dose_opioid",
        "triage_due_at",
    ])
    .map_err(io)?;
    for c in &rows {
        let area = names
            .iter()
            .find(|a| a.id == c.area_id)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        w.write_record([
            c.reference.clone(),
            c.kind.clone(),
            c.status.clone(),
            c.priority.clone().unwrap_or_default(),
            c.submitted_at.to_rfc3339(),
            c.organisation_name.clone(),
            c.sector.clone(),
            area,
            c.occurred_on.map(|d| d.to_string()).unwrap_or_default(),
            c.harm.clone().unwrap_or_default(),
            c.categories.join(";"),
            c.schedules.join(";"),
            c.high_dose.to_string(),
            c.triage_due_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ])
        .map_err(io)?;
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))?;
    audit::record_alone(
        &state.db,
        state.now(),
        Event::new(
            Some(actor.user_id),
            crate::triage::action::EXPORTED,
            "case_list",
            None,
        )
        .details(json!({"rows": rows.len(), "areas": areas.ids().len()})),
    )
    .await?;
    Ok((body, rows.len()))
}
