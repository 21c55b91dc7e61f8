//! Submitting and reading reports: the actions shared by the API and the pages. Each
//! parses its input (naming every failing field), asks `policy`, writes, and records its
//! audit event in the same transaction.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::access::{self, View, VisibleCase};
use crate::app::db::{self, cases as cdb};
use crate::audit::{self, Event};
use crate::crypto;
use crate::domain::report::IncidentInput;
use crate::error::{AppError, AppResult};
use crate::policy::{self, Actor};
use crate::state::AppState;

pub use crate::domain::catalogue::Catalogue;

mod list;
mod org_names;
mod shares_in;
mod totals;
mod writer;
pub use list::{CaseTotal, TOTAL_CAP, export_cases, list_cases, list_with_total, neighbours};
pub use org_names::OrgNames;
pub use shares_in::SharesIn;
pub use totals::LargeTotals;
pub(crate) use writer::CaseWriter;

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
    state.uk_today()
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
    let audit_event = audit::Appended::new(
        now,
        Event::new(
            Some(actor.user_id),
            audit::action::REPORT_SUBMITTED,
            "case",
            Some(case_id),
        )
        .case(case_id)
        .details(json!({"kind": s.kind})),
    );
    let new_case = cdb::NewCase {
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
    };
    if idempotency.is_none() && s.person.is_none() {
        // The common case: the case, its first timeline event and its audit event in one
        // statement, committed on its own, with any other submissions that arrive with it
        // (see `writer`).
        let reference = state
            .case_writer()
            .insert(new_case, Uuid::now_v7(), audit_event)
            .await?;
        return Ok((
            Submitted {
                id: case_id,
                reference,
                status: "new".into(),
            },
            true,
        ));
    }
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
            let c = access::case(actor, &state.db, prior.case_id, now).await?;
            return Ok((
                Submitted {
                    id: c.id(),
                    reference: c.reference().to_string(),
                    status: c.row().status.clone(),
                },
                false,
            ));
        }
    }
    let reference = cdb::insert_case(&mut tx, &new_case, Uuid::now_v7(), &audit_event).await?;
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

pub use crate::disclosure::identity_context;

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
    let linked_ok: Vec<Uuid> = access::visible_cases(actor, &state.db, &wanted, state.now())
        .await?
        .iter()
        .map(|c| c.id())
        .collect();
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

pub use crate::disclosure::PersonView;

/// What a share to the reader's team says about the case they read through it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ShareOfCase {
    pub share_id: Uuid,
    pub disclosure: String,
    pub include_patient_data: bool,
    pub lawful_basis: String,
    pub purpose: String,
    pub summary: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
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
    /// The priority the case's facts suggest (SPEC §4); for the CDAO team holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_priority: Option<String>,
    /// Null where a share to the reader's team does not name the reporting organisation.
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    pub area_id: Uuid,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// The report exactly as submitted (identities are under `persons`). Read through a
    /// share: only the facts the share carries, no free text.
    #[schema(value_type = Object)]
    pub report: Value,
    pub persons: Vec<PersonView>,
    pub amendments: Vec<cdb::Amendment>,
    pub attachments: Vec<cdb::AttachmentInfo>,
    pub timeline: Vec<cdb::TimelineEvent>,
    /// The CDAO team's triage (their own areas' cases only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageView>,
    /// Read through a share to the reader's team: its terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<ShareOfCase>,
    /// How the reader sees it (for pages).
    #[serde(skip)]
    pub seen_as: SeenAs,
    /// When the retention policy removed the case's details (identities, free text,
    /// evidence); its reference, codes, dates and outcome are kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_removed_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// How a reader sees a case: [`access::View`] without its terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeenAs {
    Holding,
    #[default]
    Reporting,
    Shared,
}

/// What the CDAO team sees of triage on a case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TriageView {
    #[serde(flatten)]
    pub facts: crate::app::db::triage::TriageFacts,
    pub risk: Option<crate::domain::triage::RiskGrade>,
    /// Still new after its triage target.
    pub overdue: bool,
    pub links: Vec<crate::app::db::triage::Link>,
    /// Who the case was shared with, and what they answered.
    pub shares: Vec<crate::shares::ShareDetail>,
}

/// Reads a case the actor may see (404 otherwise), recording the view and, where it shows
/// identities, why. On the pool for pages of one case or alert (see `AppState::pages`).
pub async fn view_case(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<CaseView> {
    let (view, viewed) = {
        let mut conn = state.pages().acquire().await?;
        let case = access::case_on(actor, &mut conn, id, state.now()).await?;
        let read = read_on(state, &mut conn, actor, case).await?;
        conn.keep();
        read
    };
    recorded(state, view, viewed).await
}

/// A case as its handle's view allows: in full for the holding team; as submitted, with the
/// reporting side's part of the timeline, for the reporting side; exactly what the share
/// discloses for another area's team reading it through a share.
pub async fn view(state: &AppState, actor: &Actor, case: VisibleCase) -> AppResult<CaseView> {
    let (view, viewed) = read_on(state, &mut *state.db.acquire().await?, actor, case).await?;
    recorded(state, view, viewed).await
}

/// The view, once its audit event is committed (with the views of others waiting at the same
/// moment, see `audit::recorder`): a page is shown only once its view is recorded. The
/// connection its reads used has gone back to the pool by then.
async fn recorded(state: &AppState, view: CaseView, viewed: Event) -> AppResult<CaseView> {
    audit::record_view(state, state.now(), viewed).await?;
    Ok(view)
}

/// The reads of [`view`], every statement on one connection, and the view's audit event (not
/// yet recorded). A page's reads are small, so running them one after another costs less than
/// taking a pooled connection for each: the pool checks each connection it takes back with a
/// round trip of its own.
async fn read_on(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    case: VisibleCase,
) -> AppResult<(CaseView, Event)> {
    let c = case.row().clone();
    let mut held_triage = None;
    let (persons, amendments, attachments, timeline, share, report, organisation) = match case
        .view()
    {
        View::Shared(t) => {
            let terms = crate::disclosure::Terms {
                disclosure: &t.disclosure,
                include_patient_data: t.include_patient_data,
                include_organisation_name: t.include_organisation_name,
            };
            let persons = crate::disclosure::shared_persons(
                crate::disclosure::open_persons(state, conn, &case).await?,
                terms,
            );
            let attachments = crate::disclosure::shared_attachments(
                cdb::attachments(&mut *conn, &case).await?,
                &t.attachment_ids,
            );
            let mut report =
                serde_json::to_value(crate::disclosure::shared_report(&c.kind, &c.report))
                    .map_err(|e| AppError::Internal(e.into()))?;
            // The overseas prescriber's registration is an identity: identified shares only.
            if t.disclosure == crate::domain::share::Disclosure::Identified.code() {
                crate::oversight::reveal_registration(state, conn, &case, &mut report).await?;
            }
            let share = ShareOfCase {
                share_id: t.share_id,
                disclosure: t.disclosure.clone(),
                include_patient_data: t.include_patient_data,
                lawful_basis: t.lawful_basis.clone(),
                purpose: t.purpose.clone(),
                summary: t.summary.clone(),
                expires_at: t.expires_at,
            };
            let organisation = t
                .include_organisation_name
                .then(|| (c.organisation_id, c.organisation_name.clone()));
            (
                persons,
                vec![],
                attachments,
                vec![],
                Some(share),
                report,
                organisation,
            )
        }
        View::Holding => {
            // The holding team's reads: the persons and the rest of the case in one
            // statement; the shares, with their recipients and answers, in a second if there
            // are any.
            let t = case.clone().triage()?;
            let areas = access::cdao_areas(actor)?;
            let mut held = crate::app::db::triage::holding_parts(&mut *conn, &t, &areas).await?;
            let persons = crate::disclosure::open(state, std::mem::take(&mut held.parts.persons))?;
            let shares = if held.has_shares {
                crate::shares::shares_of_case(conn, &t).await?
            } else {
                vec![]
            };
            let organisation = Some((c.organisation_id, c.organisation_name.clone()));
            held_triage = Some((held.facts, held.links, shares));
            (
                persons,
                held.parts.amendments,
                held.parts.attachments,
                held.parts.timeline,
                None,
                c.report.clone(),
                organisation,
            )
        }
        View::Reporting => {
            let r = case.clone().reporting()?;
            let mut parts = cdb::reporting_parts(&mut *conn, &r).await?;
            let persons = crate::disclosure::open(state, std::mem::take(&mut parts.persons))?;
            let mut timeline = parts.timeline;
            // The reporting side sees "CDAO team", not who in the team it was.
            for e in &mut timeline {
                if !e.from_reporting_side && e.actor_id.is_some() {
                    e.actor_id = None;
                    e.actor_label = Some("CDAO team".into());
                }
            }
            let organisation = Some((c.organisation_id, c.organisation_name.clone()));
            (
                persons,
                parts.amendments,
                parts.attachments,
                timeline,
                None,
                c.report.clone(),
                organisation,
            )
        }
    };
    let (report, registration_shown) = match case.view() {
        // Put back beside the report for the holding team and the reporting side, who may see
        // its identities; a share's report has it already if the share allows.
        View::Shared(_) => {
            let shown = report
                .pointer("/online_supply/prescriber_registration")
                .is_some_and(|v| !v.is_null());
            (report, shown)
        }
        _ => {
            let mut report = report;
            let shown =
                crate::oversight::reveal_registration(state, conn, &case, &mut report).await?;
            (report, shown)
        }
    };
    let action = if persons.is_empty() && !registration_shown {
        audit::action::CASE_VIEWED
    } else {
        audit::action::IDENTITY_VIEWED
    };
    let details = match &share {
        Some(s) => {
            json!({"purpose": "shared case review", "share_id": s.share_id, "persons": persons.len()})
        }
        None => json!({"purpose": policy::identity_view_purpose(actor), "persons": persons.len()}),
    };
    let viewed = Event::new(Some(actor.user_id), action, "case", Some(c.id))
        .case(c.id)
        .details(details);
    let triage = held_triage.map(|(facts, links, shares)| {
        let risk = match (facts.risk_consequence, facts.risk_likelihood) {
            (Some(cq), Some(lk)) => crate::domain::triage::risk_grade(
                u8::try_from(cq).unwrap_or(0),
                u8::try_from(lk).unwrap_or(0),
            ),
            _ => None,
        };
        let overdue = c.status == "new" && facts.triage_due_at.is_some_and(|d| d < state.now());
        TriageView {
            risk,
            overdue,
            links,
            shares,
            facts,
        }
    });
    let holding = triage.is_some();
    let seen_as = match case.view() {
        View::Holding => SeenAs::Holding,
        View::Reporting => SeenAs::Reporting,
        View::Shared(_) => SeenAs::Shared,
    };
    let view = CaseView {
        seen_as,
        details_removed_at: c.details_removed_at,
        triage,
        id: c.id,
        reference: c.reference,
        kind: c.kind,
        status: c.status,
        priority: if holding { c.priority } else { None },
        suggested_priority: if holding { c.priority_suggested } else { None },
        organisation_id: organisation.as_ref().map(|o| o.0),
        organisation_name: organisation.map(|o| o.1),
        area_id: c.area_id,
        submitted_at: c.submitted_at,
        report,
        persons,
        amendments,
        attachments,
        timeline,
        share,
    };
    Ok((view, viewed))
}

/// Appends a correction to a report (its reporter, or their organisation's CD lead).
pub async fn amend(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    text: Option<&str>,
) -> AppResult<cdb::Amendment> {
    let case = access::case(actor, &state.db, case_id, state.now())
        .await?
        .reporting()?;
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
    cdb::insert_amendment(&mut tx, &a, &case).await?;
    cdb::insert_event(
        &mut tx,
        &case,
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

/// What a list or a link shows of a case the actor may see.
#[derive(Debug, Clone)]
pub struct Brief {
    pub id: Uuid,
    pub reference: String,
    pub status: String,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    /// Null where a share to the actor's team does not name the reporting organisation.
    pub organisation_name: Option<String>,
}

/// Briefs of those of `ids` the actor may see (the others are left out), in the order given.
pub async fn briefs(state: &AppState, actor: &Actor, ids: &[Uuid]) -> AppResult<Vec<Brief>> {
    let seen = access::visible_cases(actor, &state.db, ids, state.now()).await?;
    Ok(ids
        .iter()
        .filter_map(|id| seen.iter().find(|c| c.id() == *id))
        .map(|c| {
            let r = c.row();
            let named = match c.view() {
                View::Shared(t) => t.include_organisation_name,
                _ => true,
            };
            Brief {
                id: r.id,
                reference: r.reference.clone(),
                status: r.status.clone(),
                submitted_at: r.submitted_at,
                organisation_name: named.then(|| r.organisation_name.clone()),
            }
        })
        .collect())
}

/// 404 unless the actor may see the case, 403 unless they are its reporting side (before a
/// page reads an upload's body).
pub async fn check_reporting_side(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<()> {
    access::case(actor, &state.db, id, state.now())
        .await?
        .reporting()
        .map(|_| ())
}
