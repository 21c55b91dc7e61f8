//! Several new cases in one statement: what `insert_case` writes for one, for each of a batch
//! (see `app::reports::writer`, which gathers submissions that arrive together).

use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::NewCase;
use crate::audit::Appended;

/// One case of a batch: the case, the id of its first timeline event, its audit event.
pub struct NewCaseRow<'a> {
    pub case: &'a NewCase,
    pub event_id: Uuid,
    pub audit: &'a Appended,
}

/// The row as the statement reads it (`jsonb_to_recordset`): the keys are its column names.
fn as_json(r: &NewCaseRow<'_>) -> Value {
    let (c, a) = (r.case, r.audit);
    let reg = c.online_registration.as_ref();
    json!({
        "id": c.id,
        "year": c.year,
        "kind": c.kind,
        "organisation_id": c.organisation_id,
        "area_id": c.area_id,
        "reporter_id": c.reporter_id,
        "submitted_at": c.submitted_at,
        "occurred_on": c.occurred_on,
        "harm": c.harm,
        "categories": c.categories,
        "schedules": c.schedules,
        "drug_ids": c.drug_ids,
        "high_dose": c.high_dose,
        "report": c.report,
        "search_text": c.search_text,
        "event_id": r.event_id,
        "priority_suggested": c.priority_suggested,
        "triage_due_at": c.triage_due_at,
        "reg_key_id": reg.map(|s| s.key_id),
        "reg_enc": reg.map(|s| hex::encode(&s.enc)),
        "reg_digest": reg.map(|s| hex::encode(&s.digest)),
        "audit_id": a.id,
        "stripes": a.stripes,
        "audit_at": a.at,
        "actor_id": a.actor_id,
        "action": a.action,
        "subject_type": a.subject_type,
        "subject_id": a.subject_id,
        "audit_case_id": a.case_id,
        "details": a.details,
        "prefix": a.prefix,
        "middle": a.middle,
    })
}

/// Inserts every case of `rows` with its first timeline event and its audit event, as
/// `insert_case` does for one, in one statement: all of them or (if the statement fails) none.
/// Returns each new case's id and reference, in no particular order.
///
/// One statement for many saves what PostgreSQL spends on each statement (planning, executor
/// start-up, the cases table's CHECK constraints compiled again, the commit) and a round trip
/// each. The audit events join the connection's chain in one call (`audit_append_many`: the
/// head locked and moved once, the events inserted together).
pub async fn insert_cases(
    conn: &mut PgConnection,
    rows: &[NewCaseRow<'_>],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let batch = Value::Array(rows.iter().map(as_json).collect());
    let written = sqlx::query!(
        r#"WITH r AS (
               SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
                   id uuid, year integer, kind text, organisation_id uuid, area_id uuid, reporter_id uuid,
                   submitted_at timestamptz, occurred_on date, harm text, categories text[], schedules text[],
                   drug_ids uuid[], high_dose boolean, report jsonb, search_text text, event_id uuid,
                   priority_suggested text, triage_due_at timestamptz, reg_key_id smallint, reg_enc text,
                   reg_digest text, audit_id uuid, stripes integer, audit_at timestamptz, actor_id uuid,
                   action text, subject_type text, subject_id uuid, audit_case_id uuid, details jsonb,
                   prefix text, middle text)
           ), c AS (
               INSERT INTO cases (id, reference, kind, organisation_id, area_id, reporter_id, submitted_at,
                                  updated_at, occurred_on, harm, categories, schedules, drug_ids, high_dose,
                                  report, search_text, sector, priority_suggested, triage_due_at,
                                  online_registration_key_id, online_registration_enc, online_registration_digest)
               SELECT r.id, case_reference(r.year),
                      r.kind, r.organisation_id, r.area_id, r.reporter_id, r.submitted_at, r.submitted_at,
                      r.occurred_on, r.harm, r.categories, r.schedules, r.drug_ids, r.high_dose, r.report,
                      to_tsvector('english', r.search_text),
                      (SELECT o.sector FROM organisations o WHERE o.id = r.organisation_id),
                      r.priority_suggested, r.triage_due_at, r.reg_key_id, decode(r.reg_enc, 'hex'),
                      decode(r.reg_digest, 'hex')
               FROM r
               RETURNING id, reference, reporter_id, submitted_at
           ), e AS (
               INSERT INTO case_events (id, case_id, at, actor_id, kind, audience, data)
               SELECT r.event_id, c.id, c.submitted_at, c.reporter_id, 'submitted', 'reporter',
                      jsonb_build_object('reference', c.reference)
               FROM c JOIN r ON r.id = c.id
           ), a AS (
               SELECT audit_append_many(min(r.stripes), array_agg(r.audit_id), array_agg(r.audit_at),
                                        array_agg(r.actor_id), array_agg(r.action), array_agg(r.subject_type),
                                        array_agg(r.subject_id), array_agg(r.audit_case_id), array_agg(r.details),
                                        array_agg(r.prefix), array_agg(r.middle)) AS appended
               FROM c JOIN r ON r.id = c.id
           )
           SELECT c.id AS "id!", c.reference AS "reference!", a.appended AS "appended!"
           FROM c CROSS JOIN a"#,
        batch
    )
    .fetch_all(conn)
    .await?;
    Ok(written.into_iter().map(|w| (w.id, w.reference)).collect())
}
