//! Quarterly occurrence returns (SPEC §4): an organisation's CD lead declares, each quarter,
//! how many CD occurrences of each kind there were, or that there were none.

use chrono::Datelike;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::app::db::returns as rdb;
use crate::audit::{self, Event};
use crate::domain::report::IncidentCategory;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

#[derive(Debug, Default, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    pub year: Option<i32>,
    /// 1 to 4 (calendar quarters: 1 is January to March).
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: Option<i16>,
    pub nil_return: Option<bool>,
    /// Occurrences by incident category code, e.g. `{"stock_discrepancy": 3}`.
    #[schema(value_type = Object)]
    pub counts: Option<Map<String, Value>>,
    /// The CD lead declares the return is complete and accurate: must be true.
    pub declaration: Option<bool>,
}

/// Files a return, or corrects the quarter's earlier one (which is kept). Returns the
/// return and whether it was new.
pub async fn file(
    state: &AppState,
    actor: &Actor,
    input: &ReturnInput,
) -> AppResult<(rdb::OccurrenceReturn, bool)> {
    let organisation_id = policy::file_occurrence_return(actor)?;
    let today = crate::reports::uk_today(state);
    let mut e = FieldErrors::new();
    let year = match input.year {
        Some(y) if (2013..=today.year()).contains(&y) => Some(y),
        Some(_) => {
            e.add(
                "year",
                format!("Year must be between 2013 and {}", today.year()),
            );
            None
        }
        None => {
            e.add("year", "Enter the year");
            None
        }
    };
    let current_quarter = i16::try_from(today.month0() / 3 + 1).unwrap_or(4);
    let quarter = match input.quarter {
        Some(q) if (1..=4).contains(&q) => {
            if year == Some(today.year()) && q > current_quarter {
                e.add(
                    "quarter",
                    "You cannot make a return for a quarter that has not started",
                );
                None
            } else {
                Some(q)
            }
        }
        Some(_) => {
            e.add("quarter", "Quarter must be 1, 2, 3 or 4");
            None
        }
        None => {
            e.add("quarter", "Select the quarter");
            None
        }
    };
    let nil_return = input.nil_return.unwrap_or(false);
    let mut counts = Map::new();
    for (key, value) in input.counts.clone().unwrap_or_default() {
        let field = format!("counts.{key}");
        if IncidentCategory::parse(&key).is_none() {
            e.add(field, "Not a kind of occurrence this return counts");
            continue;
        }
        match value.as_u64() {
            Some(n) if n <= 100_000 => {
                if n > 0 {
                    counts.insert(key, json!(n));
                }
            }
            _ => e.add(field, "Enter a whole number of occurrences, 0 or more"),
        }
    }
    if nil_return && !counts.is_empty() {
        e.add(
            "nil_return",
            "A nil return has no occurrences: remove the counts or say it is not a nil return",
        );
    }
    if !nil_return && counts.is_empty() && input.counts.as_ref().is_some_and(|c| !c.is_empty()) {
        e.add("nil_return", "All counts are 0: make a nil return instead");
    } else if !nil_return && counts.is_empty() {
        e.add(
            "counts",
            "Enter the number of occurrences of each kind, or make a nil return",
        );
    }
    if input.declaration != Some(true) {
        e.add(
            "declaration",
            "Confirm that the return is complete and accurate",
        );
    }
    let (Some(year), Some(quarter)) = (year, quarter) else {
        return Err(AppError::Validation(e.into_vec()));
    };
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let now = state.now();
    let mut next = rdb::OccurrenceReturn {
        id: Uuid::now_v7(),
        organisation_id,
        organisation_name: actor.organisation_name.clone().unwrap_or_default(),
        year,
        quarter,
        nil_return,
        counts: Value::Object(counts),
        declared_by: actor.user_id,
        declared_at: now,
        version: 1,
    };
    let mut tx = state.db.begin().await?;
    let previous = rdb::find(&mut tx, organisation_id, year, quarter).await?;
    let is_new = previous.is_none();
    match &previous {
        None => rdb::insert(&mut tx, &next).await.map_err(|err| {
            match crate::app::db::violated_constraint(&err) {
                Some(_) => AppError::Conflict(
                    "A return for this quarter was filed at the same moment: try again.".into(),
                ),
                None => err.into(),
            }
        })?,
        Some(p) => {
            next.id = p.id;
            next.version = p.version + 1;
            rdb::correct(&mut tx, p, &next).await?;
        }
    }
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            if is_new {
                audit::action::RETURN_FILED
            } else {
                audit::action::RETURN_CORRECTED
            },
            "occurrence_return",
            Some(next.id),
        )
        .details(
            json!({"year": year, "quarter": quarter, "nil": nil_return, "version": next.version}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((next, is_new))
}

/// The occurrence returns the actor may read (an org lead their organisation's, a CDAO their
/// areas'), of one year or all.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    year: Option<i32>,
) -> AppResult<Vec<crate::app::db::returns::OccurrenceReturn>> {
    let scope = crate::policy::read_occurrence_returns(actor)?;
    Ok(crate::app::db::returns::list(&state.db, &scope, year).await?)
}
