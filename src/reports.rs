//! Submitting and reading reports: the actions shared by the API and the pages. Each
//! parses its input (naming every failing field), asks `policy`, writes, and records its
//! audit event in the same transaction.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::crypto;
use crate::db::{self, cases as cdb};
use crate::domain::report::{Drug, IncidentInput};
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

/// The drug catalogue (migration data), loaded once.
pub struct Catalogue {
    pub drugs: Vec<Drug>,
}

impl Catalogue {
    pub fn find(&self, id: Uuid) -> Option<Drug> {
        self.drugs.iter().find(|d| d.id == id).cloned()
    }

    /// Drugs whose name or a synonym contains `q` (case-insensitive), those starting with it first.
    pub fn search(&self, q: &str, limit: usize) -> Vec<Drug> {
        let q = q.trim().to_lowercase();
        if q.is_empty() {
            return self.drugs.iter().take(limit).cloned().collect();
        }
        let mut hits: Vec<(u8, &Drug)> = self
            .drugs
            .iter()
            .filter_map(|d| {
                let name = d.name.to_lowercase();
                let syn = d.synonyms.iter().map(|s| s.to_lowercase());
                if name.starts_with(&q) {
                    Some((0, d))
                } else if syn.clone().any(|s| s.starts_with(&q)) {
                    Some((1, d))
                } else if name.contains(&q) || syn.clone().any(|s| s.contains(&q)) {
                    Some((2, d))
                } else {
                    None
                }
            })
            .collect();
        hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
        hits.into_iter()
            .take(limit)
            .map(|(_, d)| d.clone())
            .collect()
    }
}

pub async fn catalogue(state: &AppState) -> AppResult<Arc<Catalogue>> {
    let c = state
        .catalogue
        .get_or_try_init(|| async {
            let drugs = db::drugs::all(&state.db).await?;
            Ok::<_, sqlx::Error>(Arc::new(Catalogue { drugs }))
        })
        .await?;
    Ok(c.clone())
}

/// Today's date in the UK (dates in reports are UK dates).
pub fn uk_today(state: &AppState) -> NaiveDate {
    state
        .now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive()
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Submitted {
    pub id: Uuid,
    pub reference: String,
    pub status: String,
}

/// What identifies a submission for `Idempotency-Key`: the kind and the exact body.
pub fn request_hash(kind: &str, body: &[u8]) -> Vec<u8> {
    let mut v = kind.as_bytes().to_vec();
    v.push(0);
    v.extend_from_slice(body);
    crypto::sha256(&v)
}

/// Checks an `Idempotency-Key` header value.
pub fn parse_idempotency_key(v: Option<&str>) -> AppResult<Option<String>> {
    match v {
        None => Ok(None),
        Some(k) if !k.is_empty() && k.len() <= 200 && k.chars().all(|c| c.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        Some(_) => Err(AppError::BadRequest(
            "Idempotency-Key must be 1 to 200 visible ASCII characters.".into(),
        )),
    }
}

/// What a submission writes, whatever its kind.
pub struct Submission {
    pub kind: &'static str,
    pub occurred_on: Option<NaiveDate>,
    pub harm: Option<String>,
    pub categories: Vec<String>,
    pub schedules: Vec<String>,
    pub drug_ids: Vec<Uuid>,
    pub high_dose: bool,
    pub report: Value,
    pub search_text: String,
    /// The subject of a person-of-concern report: (subject type, sealed identity, blind indexes).
    pub person: Option<PersonToStore>,
    /// The overseas prescriber's registration of an online supply: sealed by `submit`, never
    /// kept in `report`.
    pub online_registration: Option<String>,
}

pub struct PersonToStore {
    pub id: Uuid,
    pub subject_type: String,
    pub identity_enc: Vec<u8>,
    pub identifiers: Vec<(String, Vec<u8>)>,
}

/// Writes a checked submission: the case, its person, its first timeline event, the
/// idempotency key and the audit event, in one transaction. A retry with the same key and
/// body returns the first case; the same key with another body is a conflict.
pub async fn submit(
    state: &AppState,
    actor: &Actor,
    organisation_id: Uuid,
    s: Submission,
    case_id: Uuid,
    idempotency: Option<(String, Vec<u8>)>,
) -> AppResult<(Submitted, bool)> {
    let area_id = *actor.area_ids.first().ok_or_else(|| {
        AppError::Forbidden(
            "Your organisation is not in a LIN area yet: ask your administrator.".into(),
        )
    })?;
    let now = state.now();
    let year = now.with_timezone(&chrono_tz::Europe::London).year();
    let harm = s
        .harm
        .as_deref()
        .and_then(crate::domain::report::Harm::parse);
    let suggested =
        crate::domain::triage::suggest_priority(harm, &s.schedules, &s.categories, s.kind);
    let triage_due_at = crate::domain::triage::triage_due(now, suggested);
    let mut tx = state.db.begin().await?;
    if let Some((key, hash)) = &idempotency {
        // The key row goes first (its reference to the case is checked at commit): a
        // concurrent retry waits here for this transaction, then finds the key taken.
        if !cdb::claim_idempotency(&mut tx, actor.user_id, key, hash, case_id, now).await? {
            // Someone (this same client, retrying) used the key: answer as the first time.
            let prior = cdb::find_idempotency(&mut tx, actor.user_id, key)
                .await?
                .ok_or_else(|| {
                    AppError::Conflict(
                        "The request with this Idempotency-Key is still being processed.".into(),
                    )
                })?;
            tx.rollback().await?;
            if &prior.request_hash != hash {
                return Err(AppError::Conflict(
                    "This Idempotency-Key was used for a different request.".into(),
                ));
            }
            // The key belongs to this user, so the case is theirs.
            let c = cdb::get_case(
                &state.db,
                &policy::CaseScope::Reporter(actor.user_id),
                prior.case_id,
            )
            .await?
            .ok_or(AppError::NotFound)?;
            return Ok((
                Submitted {
                    id: c.id,
                    reference: c.reference,
                    status: c.status,
                },
                false,
            ));
        }
    }
    let reference = cdb::insert_case(
        &mut tx,
        &cdb::NewCase {
            id: case_id,
            kind: s.kind,
            organisation_id,
            area_id,
            reporter_id: actor.user_id,
            submitted_at: now,
            year,
            occurred_on: s.occurred_on,
            harm: s.harm,
            categories: s.categories,
            schedules: s.schedules,
            drug_ids: s.drug_ids,
            high_dose: s.high_dose,
            report: s.report,
            search_text: s.search_text,
            priority_suggested: suggested.code().to_string(),
            triage_due_at,
            online_registration: s
                .online_registration
                .as_deref()
                .map(|r| crate::oversight::seal_registration(state, case_id, r))
                .transpose()?,
        },
        Uuid::now_v7(),
    )
    .await?;
    if let Some(p) = &s.person {
        cdb::insert_person(
            &mut tx,
            p.id,
            case_id,
            &p.subject_type,
            state.sealer.key_id(),
            &p.identity_enc,
            now,
        )
        .await?;
        cdb::insert_identifiers(&mut tx, p.id, case_id, area_id, &p.identifiers).await?;
    }
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            audit::action::REPORT_SUBMITTED,
            "case",
            Some(case_id),
        )
        .case(case_id)
        .details(json!({"kind": s.kind})),
    )
    .await?;
    tx.commit().await?;
    Ok((
        Submitted {
            id: case_id,
            reference,
            status: "new".into(),
        },
        true,
    ))
}

/// Parses and submits an incident report.
pub async fn submit_incident(
    state: &AppState,
    actor: &Actor,
    input: &IncidentInput,
    idempotency: Option<(String, Vec<u8>)>,
) -> AppResult<(Submitted, bool)> {
    let organisation_id = policy::submit_report(actor)?;
    let cat = catalogue(state).await?;
    let mut incident = input
        .parse_at(
            uk_today(state),
            &|id| cat.find(id),
            state.config.high_dose_ome_mg,
        )
        .map_err(AppError::Validation)?;
    let online_registration = incident
        .online_supply
        .as_mut()
        .and_then(|o| o.prescriber_registration.take());
    let s = Submission {
        kind: "incident",
        occurred_on: Some(incident.occurred_on),
        harm: Some(incident.harm.code().to_string()),
        categories: incident
            .categories
            .iter()
            .map(|c| c.code().to_string())
            .collect(),
        schedules: incident.schedules(),
        drug_ids: incident.drugs.iter().filter_map(|d| d.drug_id).collect(),
        high_dose: incident.high_dose(),
        search_text: incident.search_text(),
        report: serde_json::to_value(&incident).map_err(|e| AppError::Internal(e.into()))?,
        person: None,
        online_registration,
    };
    submit(
        state,
        actor,
        organisation_id,
        s,
        Uuid::now_v7(),
        idempotency,
    )
    .await
}

/// The bytes an identity is sealed under: bound to its person row.
pub fn identity_context(person_id: Uuid) -> Vec<u8> {
    format!("persons.identity_enc:{person_id}").into_bytes()
}

/// HMAC of a normalised identifier under the index key, tagged with its kind.
pub fn blind_index(state: &AppState, kind: &str, value: &str) -> Vec<u8> {
    crypto::hmac_sha256(
        state.index_key.expose(),
        format!("{kind}:{value}").as_bytes(),
    )
}

/// Parses and submits a person-of-concern report: the identity is sealed and indexed.
pub async fn submit_person_concern(
    state: &AppState,
    actor: &Actor,
    input: &crate::domain::report::PersonConcernInput,
    idempotency: Option<(String, Vec<u8>)>,
) -> AppResult<(Submitted, bool)> {
    let organisation_id = policy::submit_report(actor)?;
    let wanted = input.linked_case_ids.clone().unwrap_or_default();
    let linked_ok = if wanted.is_empty() {
        vec![]
    } else {
        cdb::visible_ids(&state.db, &policy::case_scope(actor), &wanted).await?
    };
    let (mut concern, identity) = input
        .parse(uk_today(state), &linked_ok)
        .map_err(AppError::Validation)?;
    let online_registration = concern
        .online_supply
        .as_mut()
        .and_then(|o| o.prescriber_registration.take());
    let person_id = Uuid::now_v7();
    let sealed = state.sealer.seal(
        &serde_json::to_vec(&identity).map_err(|e| AppError::Internal(e.into()))?,
        &identity_context(person_id),
    )?;
    let identifiers = identity
        .index_values()
        .into_iter()
        .map(|(kind, value)| {
            let d = blind_index(state, &kind, &value);
            (kind, d)
        })
        .collect();
    let s = Submission {
        kind: "person_concern",
        occurred_on: None,
        harm: None,
        categories: concern
            .concern_categories
            .iter()
            .map(|c| c.code().to_string())
            .collect(),
        schedules: vec![],
        drug_ids: vec![],
        high_dose: false,
        search_text: concern.description.clone(),
        report: serde_json::to_value(&concern).map_err(|e| AppError::Internal(e.into()))?,
        person: Some(PersonToStore {
            id: person_id,
            subject_type: concern.subject_type.code().to_string(),
            identity_enc: sealed,
            identifiers,
        }),
        online_registration,
    };
    submit(
        state,
        actor,
        organisation_id,
        s,
        Uuid::now_v7(),
        idempotency,
    )
    .await
}

/// A person named in a case, as the viewer may see them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: Uuid,
    pub subject_type: String,
    #[serde(flatten)]
    pub identity: crate::domain::report::Identity,
}

/// A case as the viewer may see it (SPEC §7.1 "Case").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    pub id: Uuid,
    pub reference: String,
    pub kind: String,
    pub status: String,
    /// Set by the CDAO team; shown to them only.
    pub priority: Option<String>,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub area_id: Uuid,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// The report exactly as submitted (identities are under `persons`).
    #[schema(value_type = Object)]
    pub report: Value,
    pub persons: Vec<PersonView>,
    pub amendments: Vec<cdb::Amendment>,
    pub attachments: Vec<cdb::AttachmentInfo>,
    pub timeline: Vec<cdb::TimelineEvent>,
    /// The CDAO team's triage (their own areas' cases only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageView>,
}

/// What the CDAO team sees of triage on a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TriageView {
    #[serde(flatten)]
    pub facts: crate::db::triage::TriageFacts,
    pub risk: Option<crate::domain::triage::RiskGrade>,
    /// Still new after its triage target.
    pub overdue: bool,
    pub links: Vec<crate::db::triage::Link>,
    /// Who the case was shared with, and what they answered.
    pub shares: Vec<crate::shares::ShareDetail>,
}

/// Reads a case the actor may see (404 otherwise), recording the view and, where it shows
/// identities, why.
pub async fn view_case(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<CaseView> {
    let scope = policy::case_scope(actor);
    let c = cdb::get_case(&state.db, &scope, id)
        .await?
        .ok_or(AppError::NotFound)?;
    // Internal (triage) facts are for the CDAO team of the case's own area only, not for a
    // team of another area that was granted access.
    let is_cdao =
        actor.role == crate::domain::directory::Role::Cdao && actor.area_ids.contains(&c.area_id);
    let mut persons = Vec::new();
    for p in cdb::persons(&state.db, id).await? {
        let plain = state
            .sealer
            .open(p.key_id, &p.identity_enc, &identity_context(p.id))?;
        let identity = serde_json::from_slice(&plain).map_err(|e| AppError::Internal(e.into()))?;
        persons.push(PersonView {
            id: p.id,
            subject_type: p.subject_type,
            identity,
        });
    }
    let (amendments, attachments, timeline) = tokio::try_join!(
        cdb::amendments(&state.db, id),
        cdb::attachments(&state.db, id),
        cdb::timeline(&state.db, id, !is_cdao),
    )?;
    // The overseas prescriber's registration, sealed beside the report (everyone who reads a
    // case here may see its identities).
    let mut report = c.report;
    let registration_shown = crate::oversight::reveal_registration(state, id, &mut report).await?;
    let action = if persons.is_empty() && !registration_shown {
        audit::action::CASE_VIEWED
    } else {
        audit::action::IDENTITY_VIEWED
    };
    audit::record_alone(
        &state.db,
        state.now(),
        Event::new(Some(actor.user_id), action, "case", Some(id))
            .case(id)
            .details(
                json!({"purpose": policy::identity_view_purpose(actor), "persons": persons.len()}),
            ),
    )
    .await?;
    let triage = if is_cdao {
        // Independent reads, at once.
        let (facts, links, shares) = tokio::try_join!(
            async { Ok::<_, AppError>(crate::db::triage::facts(&state.db, id).await?) },
            async {
                Ok::<_, AppError>(crate::db::triage::links(&state.db, id, &actor.area_ids).await?)
            },
            crate::shares::shares_of_case(state, id),
        )?;
        let risk = match (facts.risk_consequence, facts.risk_likelihood) {
            (Some(cq), Some(lk)) => crate::domain::triage::risk_grade(
                u8::try_from(cq).unwrap_or(0),
                u8::try_from(lk).unwrap_or(0),
            ),
            _ => None,
        };
        let overdue = c.status == "new" && facts.triage_due_at.is_some_and(|d| d < state.now());
        Some(TriageView {
            risk,
            overdue,
            links,
            shares,
            facts,
        })
    } else {
        None
    };
    Ok(CaseView {
        triage,
        id: c.id,
        reference: c.reference,
        kind: c.kind,
        status: c.status,
        priority: if is_cdao { c.priority } else { None },
        organisation_id: c.organisation_id,
        organisation_name: c.organisation_name,
        area_id: c.area_id,
        submitted_at: c.submitted_at,
        report,
        persons,
        amendments,
        attachments,
        timeline,
    })
}

/// Appends a correction to a report (its reporter, or their organisation's CD lead).
pub async fn amend(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    text: Option<&str>,
) -> AppResult<cdb::Amendment> {
    let c = cdb::get_case(&state.db, &policy::case_scope(actor), case_id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::amend_report(actor, c.reporter_id, c.organisation_id)?;
    let mut e = crate::domain::validation::FieldErrors::new();
    let text = e.text(
        "text",
        text,
        "the correction or extra information",
        crate::domain::report::MAX_DESCRIPTION,
    );
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    let now = state.now();
    let a = cdb::Amendment {
        id: Uuid::now_v7(),
        author_id: actor.user_id,
        text,
        created_at: now,
    };
    let mut tx = state.db.begin().await?;
    cdb::insert_amendment(&mut tx, &a, case_id).await?;
    cdb::insert_event(
        &mut tx,
        case_id,
        now,
        Some(actor.user_id),
        "amended",
        "reporter",
        json!({"amendment_id": a.id}),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            audit::action::REPORT_AMENDED,
            "case",
            Some(case_id),
        )
        .case(case_id),
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}
