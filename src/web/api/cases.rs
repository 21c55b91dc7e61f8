//! Reports and cases (SPEC §7, §7.1): the drug catalogue, submitting incidents and persons of
//! concern, reading cases in scope, amendments and evidence, quarterly occurrence returns.

use crate::web::api::json::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::report::{
    CaseStatus, ConcernCategory, Drug, Harm, IncidentCategory, IncidentInput, PersonConcernInput,
    Schedule,
};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult, Problem};
use crate::policy::Actor;
use crate::records as rdb;
use crate::records::{self as cdb, CaseFilter, CaseSummary};
use crate::reports::{self, Submitted};
use crate::returns::{self, ReturnInput};
use crate::state::AppState;
use crate::web::extract::{Params, PathId, parse_json, require_json};

#[derive(Serialize, utoipa::ToSchema)]
pub struct DrugList {
    pub items: Vec<Drug>,
}

#[utoipa::path(get, operation_id = "search_drugs", path = "/api/v1/drugs", tag = "reports",
    params(crate::web::api::params::DrugQuery),
    responses((status = 200, body = DrugList)))]
pub async fn drugs(
    State(state): State<AppState>,
    _actor: Actor,
    params: Params,
) -> AppResult<Json<DrugList>> {
    let cat = reports::catalogue(&state).await?;
    Ok(Json(DrugList {
        items: cat.search(params.get("q").unwrap_or(""), 50),
    }))
}

fn idempotency(
    headers: &HeaderMap,
    kind: &str,
    body: &[u8],
) -> AppResult<Option<(String, Vec<u8>)>> {
    let key = reports::parse_idempotency_key(
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
    )?;
    Ok(key.map(|k| (k, reports::request_hash(kind, body))))
}

fn created(s: Submitted, new: bool) -> Response {
    // A replay answers exactly as the first time did.
    let mut r = (StatusCode::CREATED, Json(&s)).into_response();
    if !new {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    r
}

#[utoipa::path(post, operation_id = "submit_incident", path = "/api/v1/incidents", tag = "reports", request_body = IncidentInput,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "1 to 200 visible ASCII characters: a retry with the same key and body returns the first answer")),
    responses((status = 201, body = Submitted), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn post_incident(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    require_json(&headers)?;
    let input: IncidentInput = parse_json(&body)?;
    let key = idempotency(&headers, "incident", &body)?;
    let (s, new) = reports::submit_incident(&state, &actor, &input, key).await?;
    Ok(created(s, new))
}

#[utoipa::path(post, operation_id = "submit_person_concern", path = "/api/v1/person-concerns", tag = "reports", request_body = PersonConcernInput,
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,200}$", description = "1 to 200 visible ASCII characters: a retry with the same key and body returns the first answer")),
    responses((status = 201, body = Submitted), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn post_person_concern(
    State(state): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    require_json(&headers)?;
    let input: PersonConcernInput = parse_json(&body)?;
    let key = idempotency(&headers, "person_concern", &body)?;
    let (s, new) = reports::submit_person_concern(&state, &actor, &input, key).await?;
    Ok(created(s, new))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseList {
    pub items: Vec<CaseSummary>,
    pub next_cursor: Option<String>,
    /// Every case matching the filters (not only this page): an integer up to 1,000, else
    /// the string "1000+".
    pub total: reports::CaseTotal,
}

fn list_param<T>(
    params: &Params,
    key: &str,
    parse: fn(&str) -> Option<T>,
    e: &mut FieldErrors,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, v) in &params.0 {
        if k != key {
            continue;
        }
        for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if parse(part).is_some() {
                out.push(part.to_string());
            } else {
                e.add(key, format!("'{part}' is not a valid {key}"));
            }
        }
    }
    out
}

fn date_param(params: &Params, key: &str, e: &mut FieldErrors) -> Option<NaiveDate> {
    let v = params.get(key)?;
    match NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            e.add(key, format!("{key} must be a date like 2026-11-02"));
            None
        }
    }
}

pub fn encode_cursor(c: &CaseSummary) -> String {
    crate::web::api::cursor::encode(c.submitted_at, c.id)
}

/// Parses the case list's filters (shared by the API, the pages and the export).
pub fn parse_case_filter(params: &Params) -> AppResult<CaseFilter> {
    let mut e = FieldErrors::new();
    let statuses = list_param(params, "status", CaseStatus::parse, &mut e);
    let kind = match params.get("kind") {
        None => None,
        Some(k @ ("incident" | "person_concern")) => Some(k.to_string()),
        Some(_) => {
            e.add("kind", "kind must be incident or person_concern");
            None
        }
    };
    let mut categories = list_param(
        params,
        "category",
        IncidentCategory::parse,
        &mut FieldErrors::new(),
    );
    categories.extend(list_param(
        params,
        "category",
        ConcernCategory::parse,
        &mut FieldErrors::new(),
    ));
    for (k, v) in &params.0 {
        if k == "category" {
            for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if IncidentCategory::parse(part).is_none() && ConcernCategory::parse(part).is_none()
                {
                    e.add("category", format!("'{part}' is not a valid category"));
                }
            }
        }
    }
    categories.sort();
    categories.dedup();
    let schedules = list_param(params, "schedule", Schedule::parse, &mut e);
    let harms = list_param(params, "harm", Harm::parse, &mut e);
    let organisation_id = params.uuid("organisation_id", &mut e);
    let priorities = list_param(
        params,
        "priority",
        crate::domain::triage::Priority::parse,
        &mut e,
    );
    let sectors = list_param(
        params,
        "sector",
        crate::domain::directory::Sector::parse,
        &mut e,
    );
    // `assignee_id=none` asks for cases nobody is assigned to.
    let unassigned = params.get("assignee_id").map(str::trim) == Some("none");
    let assignee_id = if unassigned {
        None
    } else {
        params.uuid("assignee_id", &mut e)
    };
    let drug_id = params.uuid("drug_id", &mut e);
    let overdue = match params.get("overdue") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            e.add("overdue", "overdue must be true or false");
            false
        }
    };
    let oldest_first = match params.get("sort") {
        None | Some("newest") => false,
        Some("oldest") => true,
        Some(_) => {
            e.add("sort", "sort must be newest or oldest");
            false
        }
    };
    let from = date_param(params, "from", &mut e);
    let to = date_param(params, "to", &mut e);
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        e.add("to", "to must be the same as or after from");
    }
    let limit = match params.get("limit") {
        None => 50,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (1..=200).contains(&n) => n,
            _ => {
                e.add("limit", "limit must be a whole number from 1 to 200");
                50
            }
        },
    };
    let before = crate::web::api::cursor::param(params.get("cursor"), &mut e);
    if !e.is_empty() {
        return Err(AppError::Validation(e.into_vec()));
    }
    Ok(CaseFilter {
        statuses,
        kind,
        categories,
        schedules,
        harms,
        organisation_id,
        priorities,
        sectors,
        assignee_id,
        unassigned,
        drug_id,
        overdue,
        oldest_first,
        now: None,
        from,
        to,
        q: params.get("q").map(str::to_string),
        q_identifiers: Vec::new(),
        before,
        limit,
        fields_only: false,
        without_shared: false,
    })
}

/// One page of the caller's cases, and the cursor for the next.
pub async fn case_page(
    state: &AppState,
    actor: &Actor,
    f: &CaseFilter,
) -> AppResult<(Vec<CaseSummary>, Option<String>)> {
    let (items, more) = reports::list_cases(state, actor, f).await?;
    Ok(with_cursor(items, more))
}

/// As [`case_page`], with the list's total (as users get it: on the API and the list pages).
pub async fn case_page_with_total(
    state: &AppState,
    actor: &Actor,
    f: &CaseFilter,
) -> AppResult<(Vec<CaseSummary>, Option<String>, reports::CaseTotal)> {
    let (items, more, total) = reports::list_with_total(state, actor, f).await?;
    let (items, next) = with_cursor(items, more);
    Ok((items, next, total))
}

fn with_cursor(items: Vec<CaseSummary>, more: bool) -> (Vec<CaseSummary>, Option<String>) {
    let next = if more {
        items.last().map(encode_cursor)
    } else {
        None
    };
    (items, next)
}

#[utoipa::path(get, operation_id = "list_cases", path = "/api/v1/cases", tag = "cases",
    params(crate::web::api::params::CaseListQuery),
    responses((status = 200, body = CaseList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<super::case_list::CaseListBody> {
    let f = CaseFilter {
        fields_only: true,
        ..parse_case_filter(&params)?
    };
    let (items, next_cursor, total) = case_page_with_total(&state, &actor, &f).await?;
    Ok(super::case_list::CaseListBody(CaseList {
        items,
        next_cursor,
        total,
    }))
}

#[utoipa::path(get, operation_id = "get_case", path = "/api/v1/cases/{id}", tag = "cases", params(("id" = Uuid, Path)),
    responses((status = 200, body = reports::CaseView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Json<reports::CaseView>> {
    Ok(Json(reports::view_case(&state, &actor, id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentInput {
    #[schema(value_type = String, required = true, min_length = 1)]
    pub text: Option<String>,
}

#[utoipa::path(post, operation_id = "add_amendment", path = "/api/v1/cases/{id}/amendments", tag = "cases", params(("id" = Uuid, Path)),
    request_body = AmendmentInput,
    responses((status = 201, body = cdb::Amendment), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn amend(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
    crate::web::extract::ApiJson(input): crate::web::extract::ApiJson<AmendmentInput>,
) -> AppResult<(StatusCode, Json<cdb::Amendment>)> {
    Ok((
        StatusCode::CREATED,
        Json(reports::amend(&state, &actor, id, input.text.as_deref()).await?),
    ))
}

/// Reads the `file` part of a multipart form: (file name, bytes). It is the only part.
pub async fn read_file_part(mut multipart: Multipart) -> AppResult<(String, Vec<u8>)> {
    let field = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(format!("The upload could not be read: {e}")))?;
    if let Some(field) = field {
        if field.name() != Some("file") {
            return Err(crate::web::extract::unknown_part(field.name()));
        }
        let name = field.file_name().unwrap_or("").to_string();
        crate::web::extract::check_text("file", &name)?;
        let data = field.bytes().await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest(format!("The upload could not be read: {e}"))
            }
        })?;
        return Ok((name, data.to_vec()));
    }
    Err(AppError::validation("file", "Select a file"))
}

#[utoipa::path(post, operation_id = "add_case_attachment", path = "/api/v1/cases/{id}/attachments", tag = "cases", params(("id" = Uuid, Path)),
    request_body(content = crate::web::api::AttachmentUpload, content_type = "multipart/form-data", description = "a part named `file`: PDF, PNG, JPEG, plain text, DOCX or XLSX, at most 10 MiB"),
    responses((status = 201, body = cdb::AttachmentInfo), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn attach(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> AppResult<(StatusCode, Json<cdb::AttachmentInfo>)> {
    let id = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
    let multipart = multipart.map_err(|_| {
        let ct = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ct.starts_with("multipart/form-data") {
            AppError::BadRequest("The upload could not be read.".into())
        } else {
            AppError::UnsupportedMediaType(
                "Send the file as multipart/form-data with a part named `file`.".into(),
            )
        }
    })?;
    let (name, data) = read_file_part(multipart).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::attachments::add(&state, &actor, id, &name, &data).await?),
    ))
}

/// A file as a download (never shown inline).
pub fn download(filename: &str, content_type: &str, data: Vec<u8>) -> Response {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(filename.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut r = data.into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    r
}

#[utoipa::path(get, operation_id = "download_case_attachment", path = "/api/v1/cases/{id}/attachments/{attachment_id}", tag = "cases",
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)),
    responses((status = 200, description = "the file, as an attachment"), (status = 404, body = Problem)))]
pub async fn get_attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
) -> AppResult<Response> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let (name, ct, data) = crate::attachments::get(&state, &actor, id, att).await?;
    Ok(download(&name, &ct, data))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentMarking {
    /// Whether the file holds patient-identifiable data: then it travels on a share only with
    /// patient data (and its written reason).
    #[schema(value_type = bool, required = true)]
    pub holds_patient_data: Option<bool>,
}

#[utoipa::path(patch, operation_id = "update_case_attachment", path = "/api/v1/cases/{id}/attachments/{attachment_id}", tag = "cases",
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)), request_body = AttachmentMarking,
    description = "The holding CDAO team marks evidence as holding patient data (or not).",
    responses((status = 200, body = cdb::AttachmentInfo), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn mark_attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, att)): Path<(String, String)>,
    crate::web::extract::ApiJson(input): crate::web::extract::ApiJson<AttachmentMarking>,
) -> AppResult<Json<cdb::AttachmentInfo>> {
    let (Ok(id), Ok(att)) = (Uuid::parse_str(&id), Uuid::parse_str(&att)) else {
        return Err(AppError::NotFound);
    };
    let Some(holds) = input.holds_patient_data else {
        return Err(AppError::validation(
            "holds_patient_data",
            "Say whether the file holds patient data (true or false)",
        ));
    };
    Ok(Json(
        crate::attachments::mark_patient_data(&state, &actor, id, att, holds).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ReturnList {
    pub items: Vec<rdb::OccurrenceReturn>,
}

#[utoipa::path(post, operation_id = "file_occurrence_return", path = "/api/v1/occurrence-returns", tag = "returns", request_body = ReturnInput,
    description = "Files the quarter's return, or corrects it (the earlier version is kept): 201 when new, 200 for a correction.",
    responses((status = 201, body = rdb::OccurrenceReturn), (status = 200, body = rdb::OccurrenceReturn),
              (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn file_return(
    State(state): State<AppState>,
    actor: Actor,
    crate::web::extract::ApiJson(input): crate::web::extract::ApiJson<ReturnInput>,
) -> AppResult<(StatusCode, Json<rdb::OccurrenceReturn>)> {
    let (r, new) = returns::file(&state, &actor, &input).await?;
    Ok((
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(r),
    ))
}

#[utoipa::path(get, operation_id = "list_occurrence_returns", path = "/api/v1/occurrence-returns", tag = "returns",
    params(crate::web::api::params::ReturnQuery),
    responses((status = 200, body = ReturnList), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn list_returns(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Json<ReturnList>> {
    let year = match params.get("year") {
        None => None,
        Some(y) => Some(
            y.trim()
                .parse::<i32>()
                .map_err(|_| AppError::validation("year", "year must be a whole number"))?,
        ),
    };
    Ok(Json(ReturnList {
        items: returns::list(&state, &actor, year).await?,
    }))
}
