//! Subject access (UK GDPR Art 15): a CDAO finds everything held about one person in their
//! areas, through the blind indexes (identifiers are never looked up or kept in clear), and
//! exports it as a zip of JSON and a readable HTML report for the Caldicott guardian, who
//! applies any exemption (e.g. DPA 2018 Sch 2 para 2, crime prevention) before release.
//! The request and each export are audited; the purpose is kept with the request.

use std::io::Write;

use askama::Template;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::access;
use crate::app::db::subject_access as sdb;
use crate::audit::{self, Event};
use crate::disclosure::PersonView;
use crate::domain::subject_access::SubjectAccessInput;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::state::AppState;

pub mod action {
    pub const REQUESTED: &str = "subject_access.requested";
    pub const EXPORTED: &str = "subject_access.exported";
}

/// What the note on every export and page says.
pub const EXEMPTIONS_NOTE: &str = "Before anything is released, the Caldicott guardian decides \
whether an exemption applies (for example DPA 2018 Schedule 2 paragraph 2, the prevention or \
detection of crime) and removes what it covers, and what identifies other people.";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FoundCase {
    pub id: Uuid,
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubjectAccessCreated {
    pub id: Uuid,
    /// The cases in the caller's areas that name the person.
    pub cases: Vec<FoundCase>,
}

/// Finds the person's records and keeps the request (the identifiers are not kept).
pub async fn create(
    state: &AppState,
    actor: &Actor,
    input: &SubjectAccessInput,
) -> AppResult<SubjectAccessCreated> {
    let areas = access::cdao_areas(actor)?;
    let lookup = input
        .parse(state.uk_today())
        .map_err(AppError::Validation)?;
    let indexes: Vec<(String, Vec<u8>)> = lookup
        .values
        .iter()
        .map(|(k, v)| (k.clone(), crate::reports::blind_index(state, k, v)))
        .collect();
    let found = sdb::find(&state.db, &areas, &indexes).await?;
    let mut cases: Vec<FoundCase> = Vec::new();
    let mut person_ids = Vec::new();
    for f in found {
        if !person_ids.contains(&f.person_id) {
            person_ids.push(f.person_id);
        }
        if !cases.iter().any(|c| c.id == f.case_id) {
            cases.push(FoundCase {
                id: f.case_id,
                reference: f.reference,
            });
        }
    }
    let now = state.now();
    let id = Uuid::now_v7();
    let mut tx = state.db.begin().await?;
    sdb::insert(
        &mut tx,
        &sdb::Request {
            id,
            requested_by: actor.user_id,
            purpose: lookup.purpose,
            case_ids: cases.iter().map(|c| c.id).collect(),
            person_ids,
            created_at: now,
            downloaded_at: None,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::REQUESTED,
            "subject_access_request",
            Some(id),
        )
        .details(json!({"cases": cases.len(), "identifiers": lookup.values.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok(SubjectAccessCreated { id, cases })
}

/// A request as its maker sees it listed.
pub struct Listed {
    pub id: Uuid,
    pub purpose: String,
    pub cases: usize,
    pub created_at: DateTime<Utc>,
    pub downloaded_at: Option<DateTime<Utc>>,
}

pub async fn recent(state: &AppState, actor: &Actor) -> AppResult<Vec<Listed>> {
    access::cdao_areas(actor)?;
    Ok(sdb::recent(&state.db, actor.user_id)
        .await?
        .into_iter()
        .map(|r| Listed {
            id: r.id,
            purpose: r.purpose,
            cases: r.case_ids.len(),
            created_at: r.created_at,
            downloaded_at: r.downloaded_at,
        })
        .collect())
}

/// One case in the export: everything held, as the CDAO team sees it.
#[derive(Debug, Serialize)]
struct ExportCase {
    reference: String,
    kind: String,
    status: String,
    submitted_at: DateTime<Utc>,
    details_removed_at: Option<DateTime<Utc>>,
    report: serde_json::Value,
    amendments: Vec<crate::app::db::cases::Amendment>,
    timeline: Vec<crate::app::db::cases::TimelineEvent>,
    shares: Vec<crate::shares::ShareDetail>,
    access_log: Vec<crate::app::db::triage::AccessLogEntry>,
}

#[derive(Debug, Serialize)]
struct Export {
    generated_at: DateTime<Utc>,
    request_id: Uuid,
    purpose: String,
    note: &'static str,
    /// The person's identity as held on each case that names them.
    person: Vec<PersonView>,
    cases: Vec<ExportCase>,
}

#[derive(Template)]
#[template(path = "subject_access/report.html")]
struct Report<'a> {
    e: &'a Export,
    json: &'a str,
}

/// The export of a request its maker made: a zip of `subject-access.json` and
/// `subject-access.html`. Cases the maker can no longer see are left out.
pub async fn download(state: &AppState, actor: &Actor, id: Uuid) -> AppResult<(String, Vec<u8>)> {
    access::cdao_areas(actor)?;
    let r = sdb::get(&state.db, id, actor.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.now();
    let mut person = Vec::new();
    let mut cases = Vec::new();
    for case_id in &r.case_ids {
        let Ok(case) = access::case(actor, &state.db, *case_id, now).await else {
            continue;
        };
        let Ok(triage) = case.clone().triage() else {
            continue;
        };
        person.extend(
            crate::disclosure::open_persons(state, &mut *state.db.acquire().await?, &triage)
                .await?
                .into_iter()
                .filter(|p| r.person_ids.contains(&p.id)),
        );
        let view = crate::reports::view(state, actor, case).await?;
        let access_log = crate::app::db::triage::access_log(&state.db, &triage).await?;
        cases.push(ExportCase {
            reference: view.reference,
            kind: view.kind,
            status: view.status,
            submitted_at: view.submitted_at,
            details_removed_at: view.details_removed_at,
            report: view.report,
            amendments: view.amendments,
            timeline: view.timeline,
            shares: view.triage.map(|t| t.shares).unwrap_or_default(),
            access_log,
        });
    }
    let export = Export {
        generated_at: now,
        request_id: r.id,
        purpose: r.purpose,
        note: EXEMPTIONS_NOTE,
        person,
        cases,
    };
    let json = serde_json::to_string_pretty(&export).map_err(|e| AppError::Internal(e.into()))?;
    let html = Report {
        e: &export,
        json: &json,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    let zip = zip_files(&[
        ("subject-access.json", json.as_bytes()),
        ("subject-access.html", html.as_bytes()),
    ])?;
    let mut tx = state.db.begin().await?;
    sdb::mark_downloaded(&mut tx, r.id, now).await?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::EXPORTED,
            "subject_access_request",
            Some(r.id),
        )
        .details(json!({"cases": export.cases.len(), "persons": export.person.len()})),
    )
    .await?;
    tx.commit().await?;
    Ok((
        format!("subject-access-{}.zip", now.format("%Y-%m-%d")),
        zip,
    ))
}

fn zip_files(files: &[(&str, &[u8])]) -> AppResult<Vec<u8>> {
    let io = |e: zip::result::ZipError| AppError::Internal(e.into());
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, options).map_err(io)?;
        w.write_all(data)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    Ok(w.finish().map_err(io)?.into_inner())
}
