//! Several new cases in one statement: what `insert_case` writes for one, for each of a batch
//! (see `app::reports::writer`, which gathers submissions that arrive together).

use chrono::NaiveDate;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use super::NewCase;
use crate::audit::Appended;

/// One case of a batch: the case, the id of its first timeline event, its audit event.
pub struct NewCaseRow<'a> {
    pub case: &'a NewCase,
    pub event_id: Uuid,
    pub audit: &'a Appended,
}

/// Inserts every case of `rows` with its first timeline event and its audit event, as
/// `insert_case` does for one, in one statement: all of them or (if the statement fails) none.
/// Returns each new case's id and reference, in no particular order.
///
/// One statement for many saves what PostgreSQL spends on each statement (planning, executor
/// start-up, the cases table's CHECK constraints compiled again, the commit) and a round trip
/// each. The audit events join the connection's chain in one call (`audit_append_many`: the
/// head locked and moved once, the events inserted together).
///
/// Each column goes as an array in PostgreSQL's binary form, read row by row with `unnest`:
/// nothing for PostgreSQL to parse but the reports themselves. (Sent as one JSON document, the
/// batch's parsing and its fields' conversion from text took an eighth of PostgreSQL's time
/// for a submission.) A case's categories, schedules and drugs, lists within a row, go as one
/// comma-separated text each: they are codes and ids, never with a comma.
pub async fn insert_cases(
    conn: &mut PgConnection,
    rows: &[NewCaseRow<'_>],
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    fn column<'a, T>(rows: &'a [NewCaseRow<'a>], f: impl Fn(&'a NewCaseRow<'a>) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    fn reg<'a>(r: &NewCaseRow<'a>) -> Option<&'a super::SealedIdentifier> {
        r.case.online_registration.as_ref()
    }
    fn joined<T: ToString>(items: &[T]) -> String {
        items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
    }
    let ids = column(rows, |r| r.case.id);
    let years = column(rows, |r| r.case.year);
    let kinds = column(rows, |r| r.case.kind);
    let organisation_ids = column(rows, |r| r.case.organisation_id);
    let area_ids = column(rows, |r| r.case.area_id);
    let reporter_ids = column(rows, |r| r.case.reporter_id);
    let submitted_at = column(rows, |r| r.case.submitted_at);
    let occurred_on = column(rows, |r| r.case.occurred_on);
    let harms = column(rows, |r| r.case.harm.as_deref());
    let categories = column(rows, |r| joined(&r.case.categories));
    let schedules = column(rows, |r| joined(&r.case.schedules));
    let drug_ids = column(rows, |r| joined(&r.case.drug_ids));
    let high_dose = column(rows, |r| r.case.high_dose);
    let reports = column(rows, |r| Json(&r.case.report));
    let search_texts = column(rows, |r| r.case.search_text.as_str());
    let event_ids = column(rows, |r| r.event_id);
    let priorities = column(rows, |r| r.case.priority_suggested.as_str());
    let triage_due_at = column(rows, |r| r.case.triage_due_at);
    let reg_key_ids = column(rows, |r| reg(r).map(|s| s.key_id));
    let reg_encs = column(rows, |r| reg(r).map(|s| s.enc.as_slice()));
    let reg_digests = column(rows, |r| reg(r).map(|s| s.digest.as_slice()));
    let audit = crate::audit::Columns::of(rows.iter().map(|r| r.audit));
    let stripes = rows
        .first()
        .map_or(crate::audit::STRIPES, |r| r.audit.stripes);
    let written = sqlx::query!(
        r#"WITH r AS (
               SELECT * FROM unnest($1::uuid[], $2::integer[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                                    $7::timestamptz[], $8::date[], $9::text[], $10::text[], $11::text[], $12::text[],
                                    $13::boolean[], $14::jsonb[], $15::text[], $16::uuid[], $17::text[],
                                    $18::timestamptz[], $19::smallint[], $20::bytea[], $21::bytea[])
                   AS r(id, year, kind, organisation_id, area_id, reporter_id, submitted_at, occurred_on, harm,
                        categories, schedules, drug_ids, high_dose, report, search_text, event_id,
                        priority_suggested, triage_due_at, reg_key_id, reg_enc, reg_digest)
           ), c AS (
               INSERT INTO cases (id, reference, kind, organisation_id, area_id, reporter_id, submitted_at,
                                  updated_at, occurred_on, harm, categories, schedules, drug_ids, high_dose,
                                  report, search_text, sector, priority_suggested, triage_due_at,
                                  online_registration_key_id, online_registration_enc, online_registration_digest)
               SELECT r.id, case_reference(r.year),
                      r.kind, r.organisation_id, r.area_id, r.reporter_id, r.submitted_at, r.submitted_at,
                      r.occurred_on, r.harm, string_to_array(r.categories, ','), string_to_array(r.schedules, ','),
                      string_to_array(r.drug_ids, ',')::uuid[], r.high_dose, r.report,
                      to_tsvector('english', r.search_text),
                      (SELECT o.sector FROM organisations o WHERE o.id = r.organisation_id),
                      r.priority_suggested, r.triage_due_at, r.reg_key_id, r.reg_enc, r.reg_digest
               FROM r
               RETURNING id, reference, reporter_id, submitted_at
           ), e AS (
               INSERT INTO case_events (id, case_id, at, actor_id, kind, audience, data)
               SELECT r.event_id, c.id, c.submitted_at, c.reporter_id, 'submitted', 'reporter',
                      jsonb_build_object('reference', c.reference)
               FROM c JOIN r ON r.id = c.id
           ), a AS (
               SELECT audit_append_many($22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32) AS appended
           )
           SELECT c.id AS "id!", c.reference AS "reference!", a.appended AS "appended!"
           FROM c CROSS JOIN a"#,
        &ids,
        &years,
        &kinds as &[&str],
        &organisation_ids,
        &area_ids,
        &reporter_ids,
        &submitted_at,
        &occurred_on as &[Option<NaiveDate>],
        &harms as &[Option<&str>],
        &categories,
        &schedules,
        &drug_ids,
        &high_dose,
        &reports as &[Json<&Value>],
        &search_texts as &[&str],
        &event_ids,
        &priorities as &[&str],
        &triage_due_at,
        &reg_key_ids as &[Option<i16>],
        &reg_encs as &[Option<&[u8]>],
        &reg_digests as &[Option<&[u8]>],
        stripes,
        &audit.ids,
        &audit.at,
        &audit.actor_ids as &[Option<Uuid>],
        &audit.actions as &[&str],
        &audit.subject_types as &[&str],
        &audit.subject_ids as &[Option<Uuid>],
        &audit.case_ids as &[Option<Uuid>],
        &audit.details as &[Json<&Value>],
        &audit.prefixes as &[&str],
        &audit.middles as &[&str],
    )
    .fetch_all(conn)
    .await?;
    Ok(written.into_iter().map(|w| (w.id, w.reference)).collect())
}
