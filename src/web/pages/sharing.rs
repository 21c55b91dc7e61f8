//! The CDAO shares a case with LIN members: the form, a preview of exactly what the members
//! will see, then the share; second CDAOs approve; shares can be revoked.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::TimeDelta;
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::share::{ActionRequired, Disclosure, LawfulBasis, ShareInput};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;
use crate::shares;
use crate::state::AppState;
use crate::web::extract::{PageForm, PathId};
use crate::web::layout::{Layout, for_actor};
use crate::web::pages::account::uk_time;
use crate::web::pages::alerts::{PersonRows, sections};
use crate::web::pages::auth::{page, page_with_status, redirect};
use crate::web::session::{RequestAuth, set_flash, take_flash};

#[derive(Deserialize, Default, Clone)]
pub struct ShareForm {
    #[serde(default)]
    organisation_ids: Vec<String>,
    disclosure: Option<String>,
    include_patient_data: Option<String>,
    patient_data_reason: Option<String>,
    include_organisation_name: Option<String>,
    lawful_basis: Option<String>,
    purpose: Option<String>,
    summary: Option<String>,
    action_required: Option<String>,
    /// Carried by the preview page as `YYYY-MM-DD`; the form itself has a date input.
    respond_by: Option<String>,
    #[serde(rename = "respond_by-day")]
    respond_by_day: Option<String>,
    #[serde(rename = "respond_by-month")]
    respond_by_month: Option<String>,
    #[serde(rename = "respond_by-year")]
    respond_by_year: Option<String>,
    expiry_days: Option<String>,
    #[serde(default)]
    attachment_ids: Vec<String>,
    action: Option<String>,
}

impl ShareForm {
    /// The respond-by date input read into the `YYYY-MM-DD` the domain parses (errors under
    /// `respond_by-day`, where the summary link lands); the carried value when the date input
    /// was not on the page.
    fn read_respond_by(&mut self, e: &mut FieldErrors) {
        let parts = [
            ("day", self.respond_by_day.as_deref()),
            ("month", self.respond_by_month.as_deref()),
            ("year", self.respond_by_year.as_deref()),
        ];
        if parts.iter().all(|(_, v)| v.is_none()) {
            return;
        }
        let typed: Vec<(&str, &str)> = parts
            .iter()
            .map(|(n, v)| (*n, v.unwrap_or("").trim()))
            .collect();
        if typed.iter().all(|(_, v)| v.is_empty()) {
            self.respond_by = None;
            return;
        }
        let missing: Vec<&str> = typed
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            e.add(
                "respond_by-day",
                format!(
                    "The respond-by date must include a {}",
                    missing.join(" and ")
                ),
            );
            self.respond_by = None;
            return;
        }
        let num = |v: &str| {
            v.chars()
                .all(|c| c.is_ascii_digit())
                .then(|| v.parse::<u32>().ok())
                .flatten()
        };
        let date = match (num(typed[0].1), num(typed[1].1), num(typed[2].1)) {
            (Some(d), Some(m), Some(y)) if typed[2].1.len() == 4 => {
                chrono::NaiveDate::from_ymd_opt(i32::try_from(y).unwrap_or(0), m, d)
            }
            _ => None,
        };
        match date {
            Some(d) => self.respond_by = Some(d.format("%Y-%m-%d").to_string()),
            None => {
                e.add("respond_by-day", "The respond-by date must be a real date");
                self.respond_by = None;
            }
        }
    }

    /// The date input's parts: as typed, or from the carried date.
    fn respond_by_parts(&self) -> (String, String, String) {
        if self.respond_by_day.is_some()
            || self.respond_by_month.is_some()
            || self.respond_by_year.is_some()
        {
            return (
                self.respond_by_day.clone().unwrap_or_default(),
                self.respond_by_month.clone().unwrap_or_default(),
                self.respond_by_year.clone().unwrap_or_default(),
            );
        }
        match self
            .respond_by
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        {
            Some(d) => (
                chrono::Datelike::day(&d).to_string(),
                chrono::Datelike::month(&d).to_string(),
                chrono::Datelike::year(&d).to_string(),
            ),
            None => Default::default(),
        }
    }
}

/// The domain names the respond-by date `respond_by`; the page's date input is `respond_by-day`.
fn on_date_input(errors: Vec<crate::domain::validation::FieldError>) -> FieldErrors {
    FieldErrors::from_vec(
        errors
            .into_iter()
            .map(|mut e| {
                if e.field == "respond_by" {
                    e.field = "respond_by-day".into();
                }
                e
            })
            .collect(),
    )
}

#[derive(Template)]
#[template(path = "sharing/form.html")]
struct FormPage {
    layout: Layout,
    errors: FieldErrors,
    case_id: Uuid,
    reference: String,
    org_options: Vec<(String, String)>,
    organisation_ids: Vec<String>,
    disclosure_options: Vec<(String, String)>,
    basis_options: Vec<(String, String)>,
    action_options: Vec<(String, String)>,
    disclosure_value: String,
    patient_value: String,
    org_name_value: Vec<String>,
    basis_value: String,
    action_value: String,
    reason_value: String,
    purpose_value: String,
    summary_value: String,
    respond_by_day: String,
    respond_by_month: String,
    respond_by_year: String,
    expiry_value: String,
    evidence_options: Vec<(String, String)>,
    attachment_ids: Vec<String>,
}

#[derive(Template)]
#[template(path = "sharing/preview.html")]
struct PreviewPage {
    layout: Layout,
    case_id: Uuid,
    recipients: Vec<String>,
    facts: Vec<(String, String)>,
    report_rows: Vec<(String, String)>,
    persons: Vec<PersonRows>,
    summary: String,
    needs_approval: bool,
    hidden: Vec<(String, String)>,
    evidence: Vec<String>,
}

fn to_input(f: &ShareForm, now: chrono::DateTime<chrono::Utc>, e: &mut FieldErrors) -> ShareInput {
    let organisation_ids = f
        .organisation_ids
        .iter()
        .filter_map(|s| match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                e.add("organisation_ids", "Select organisations from the list");
                None
            }
        })
        .collect();
    let days = match f
        .expiry_days
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => 90,
        Some(v) => v.parse::<i64>().unwrap_or_else(|_| {
            e.add(
                "expiry_days",
                "Enter the number of days the share lasts, from 1 to 365",
            );
            90
        }),
    };
    if !(1..=365).contains(&days) {
        e.add("expiry_days", "A share lasts from 1 to 365 days");
    }
    let attachment_ids = f
        .attachment_ids
        .iter()
        .filter_map(|s| match Uuid::parse_str(s) {
            Ok(id) => Some(id),
            Err(_) => {
                e.add("attachment_ids", "Select evidence files from the list");
                None
            }
        })
        .collect();
    ShareInput {
        attachment_ids: Some(attachment_ids),
        organisation_ids: Some(organisation_ids),
        disclosure: f.disclosure.clone(),
        include_patient_data: Some(f.include_patient_data.as_deref() == Some("yes")),
        patient_data_reason: f.patient_data_reason.clone(),
        include_organisation_name: Some(f.include_organisation_name.as_deref() == Some("yes")),
        lawful_basis: f.lawful_basis.clone(),
        purpose: f.purpose.clone(),
        summary: f.summary.clone(),
        action_required: f.action_required.clone(),
        respond_by: f.respond_by.clone(),
        expires_at: Some(now + TimeDelta::days(days.clamp(1, 365))),
    }
}

async fn form_page(
    state: &AppState,
    actor: &Actor,
    case_id: Uuid,
    errors: FieldErrors,
    f: ShareForm,
) -> AppResult<Response> {
    let facts = shares::form_facts(state, actor, case_id).await?;
    let evidence_options = facts
        .evidence
        .iter()
        .map(|a| {
            (
                a.id.to_string(),
                if a.holds_patient_data {
                    format!("{} (holds patient data)", a.filename)
                } else {
                    a.filename.clone()
                },
            )
        })
        .collect();
    let org_options = facts
        .members
        .into_iter()
        .map(|(id, name, sector)| {
            let sector = crate::domain::directory::Sector::parse(&sector)
                .map(|s| s.label())
                .unwrap_or("");
            (
                id.to_string(),
                crate::domain::validation::name_with_sector(&name, sector),
            )
        })
        .collect();
    let (respond_by_day, respond_by_month, respond_by_year) = f.respond_by_parts();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = format!(
        "{}Share {}",
        if errors.is_empty() { "" } else { "Error: " },
        facts.reference
    );
    let mut layout = for_actor(actor, title, "/cases");
    layout.back_href = Some(format!("/cases/{case_id}"));
    page_with_status(
        status,
        &FormPage {
            layout,
            errors,
            case_id,
            reference: facts.reference,
            evidence_options,
            attachment_ids: f.attachment_ids.clone(),
            org_options,
            organisation_ids: f.organisation_ids.clone(),
            disclosure_options: Disclosure::options(),
            basis_options: LawfulBasis::options(),
            action_options: ActionRequired::options(),
            disclosure_value: f.disclosure.clone().unwrap_or_else(|| "summary".into()),
            patient_value: f
                .include_patient_data
                .clone()
                .unwrap_or_else(|| "no".into()),
            org_name_value: f.include_organisation_name.iter().cloned().collect(),
            basis_value: f.lawful_basis.clone().unwrap_or_default(),
            action_value: f.action_required.clone().unwrap_or_default(),
            reason_value: f.patient_data_reason.clone().unwrap_or_default(),
            purpose_value: f.purpose.clone().unwrap_or_default(),
            summary_value: f.summary.clone().unwrap_or_default(),
            respond_by_day,
            respond_by_month,
            respond_by_year,
            expiry_value: f.expiry_days.clone().unwrap_or_else(|| "90".into()),
        },
    )
}

pub async fn form(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    form_page(&state, &actor, id, FieldErrors::new(), ShareForm::default()).await
}

fn hidden(f: &ShareForm) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = f
        .organisation_ids
        .iter()
        .map(|o| ("organisation_ids".to_string(), o.clone()))
        .chain(
            f.attachment_ids
                .iter()
                .map(|a| ("attachment_ids".to_string(), a.clone())),
        )
        .collect();
    for (k, v) in [
        ("disclosure", &f.disclosure),
        ("include_patient_data", &f.include_patient_data),
        ("patient_data_reason", &f.patient_data_reason),
        ("include_organisation_name", &f.include_organisation_name),
        ("lawful_basis", &f.lawful_basis),
        ("purpose", &f.purpose),
        ("summary", &f.summary),
        ("action_required", &f.action_required),
        ("respond_by", &f.respond_by),
        ("expiry_days", &f.expiry_days),
    ] {
        if let Some(v) = v {
            h.push((k.to_string(), v.clone()));
        }
    }
    h
}

pub async fn submit(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(mut f): PageForm<ShareForm>,
) -> AppResult<Response> {
    let mut pre = FieldErrors::new();
    f.read_respond_by(&mut pre);
    let input = to_input(&f, state.now(), &mut pre);
    let action = f.action.clone().unwrap_or_default();
    if action == "change" {
        return form_page(&state, &actor, id, FieldErrors::new(), f).await;
    }
    if !pre.is_empty() {
        return form_page(&state, &actor, id, pre, f).await;
    }
    if action == "share" {
        return match shares::create(&state, &actor, id, &input).await {
            Ok(c) => {
                let msg = if c.approval == "pending" {
                    "The share is waiting for a second CDAO of the area to approve it. The members will be told once it is approved."
                } else {
                    "Shared. The members have been told there is a new alert (without its content)."
                };
                set_flash(&state, &auth, msg).await?;
                Ok(redirect(&format!("/cases/{id}#shares")))
            }
            Err(AppError::Validation(e)) => {
                form_page(&state, &actor, id, on_date_input(e), f).await
            }
            Err(e) => Err(e),
        };
    }
    match shares::preview(&state, &actor, id, &input).await {
        Ok(view) => {
            let form = shares::form_facts(&state, &actor, id).await?;
            let reference = form.reference.clone();
            let recipients = form
                .members
                .into_iter()
                .filter(|(oid, _, _)| f.organisation_ids.contains(&oid.to_string()))
                .map(|(_, n, _)| n)
                .collect();
            let needs_approval = form.two_person_rule
                && (view.disclosure == "identified"
                    || f.include_patient_data.as_deref() == Some("yes"));
            let (facts, report_rows, persons) = sections(&view);
            let mut layout = for_actor(
                &actor,
                format!("Check what the members will see: {reference}"),
                "/cases",
            );
            layout.back_href = Some(format!("/cases/{id}/share"));
            page(&PreviewPage {
                layout,
                case_id: id,
                recipients,
                facts,
                report_rows,
                persons,
                summary: view.summary.unwrap_or_default(),
                needs_approval,
                hidden: hidden(&f),
                evidence: view
                    .attachments
                    .iter()
                    .map(|a| a.filename.clone())
                    .collect(),
            })
        }
        Err(AppError::Validation(e)) => form_page(&state, &actor, id, on_date_input(e), f).await,
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "sharing/pending.html")]
struct PendingPage {
    layout: Layout,
    rows: Vec<(Uuid, Uuid, String, String, String, String)>,
    flash: Option<String>,
}

/// Shares of the CDAO's areas waiting for their approval.
pub async fn pending(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    let rows = shares::pending(&state, &actor)
        .await?
        .into_iter()
        .map(|p| {
            (
                p.id,
                p.case_id,
                p.case_reference,
                p.created_by_name,
                format!(
                    "{}{}",
                    if p.disclosure == "identified" {
                        "Identified"
                    } else {
                        "Summary"
                    },
                    if p.include_patient_data {
                        ", with patient data"
                    } else {
                        ""
                    }
                ),
                uk_time(p.created_at),
            )
        })
        .collect();
    let flash = take_flash(&state, &auth).await?;
    page(&PendingPage {
        layout: for_actor(&actor, "Shares waiting for approval", "/shares/pending"),
        rows,
        flash,
    })
}

async fn after(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    share_id: Uuid,
    result: AppResult<String>,
) -> AppResult<Response> {
    let case_id = shares::case_of_share(state, actor, share_id).await.ok();
    let msg = match result {
        Ok(m) => m,
        Err(AppError::Forbidden(m) | AppError::Conflict(m)) => m,
        Err(e) => return Err(e),
    };
    set_flash(state, auth, &msg).await?;
    Ok(redirect(&match case_id {
        Some(c) => format!("/cases/{c}#shares"),
        None => "/shares/pending".into(),
    }))
}

pub async fn approve(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    let r = shares::approve(&state, &actor, id)
        .await
        .map(|_| "Approved. The members have been told there is a new alert.".to_string());
    if matches!(r, Err(AppError::NotFound)) {
        return Err(AppError::NotFound);
    }
    after(&state, &auth, &actor, id, r).await
}

pub async fn revoke(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    let r = shares::revoke(&state, &actor, id)
        .await
        .map(|_| "Revoked. The members keep the reference and their responses, but no longer see its details.".to_string());
    if matches!(r, Err(AppError::NotFound)) {
        return Err(AppError::NotFound);
    }
    after(&state, &auth, &actor, id, r).await
}

#[derive(Template)]
#[template(path = "sharing/late.html")]
struct LatePage {
    layout: Layout,
    rows: Vec<(Uuid, String, String, String, i32)>,
}

/// Alerts of the CDAO's areas not acknowledged by their target (SPEC §4: they stand out).
pub async fn late(State(state): State<AppState>, actor: Actor) -> AppResult<Response> {
    let rows = shares::late(&state, &actor)
        .await?
        .into_iter()
        .map(|a| {
            (
                a.case_id,
                a.case_reference,
                a.organisation_name,
                a.ack_due_at.map(uk_time).unwrap_or_default(),
                a.reminders,
            )
        })
        .collect();
    page(&LatePage {
        layout: for_actor(&actor, "Alerts not acknowledged in time", "/"),
        rows,
    })
}

#[derive(Template)]
#[template(path = "sharing/approval.html")]
struct ApprovalPage {
    layout: Layout,
    share_id: Uuid,
    case_id: Uuid,
    reference: String,
    terms: Vec<(String, String)>,
    facts: Vec<(String, String)>,
    report_rows: Vec<(String, String)>,
    persons: Vec<PersonRows>,
    summary: String,
    evidence: Vec<String>,
    may_decide: bool,
    decline_field: String,
}

/// A share waiting for approval, with everything the approver needs: recipients, disclosure,
/// patient data and why, purpose, summary, evidence and exactly what the members will see.
pub async fn approval(
    State(state): State<AppState>,
    actor: Actor,
    PathId(id): PathId,
) -> AppResult<Response> {
    let a = crate::approvals::approval(&state, &actor, id).await?;
    let s = &a.detail.share;
    let recipients = match &s.recipient_area_name {
        Some(area) => format!("The {area} CDAO team"),
        None => a
            .detail
            .recipients
            .iter()
            .map(|r| r.organisation_name.clone())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let yes_no = |b: bool| if b { "Yes" } else { "No" }.to_string();
    let mut terms = vec![
        ("Recipients".to_string(), recipients),
        (
            "Prepared by".to_string(),
            format!("{}, {}", s.created_by_name, uk_time(s.created_at)),
        ),
        (
            "Disclosure".to_string(),
            crate::domain::share::Disclosure::parse(&s.disclosure)
                .map_or(s.disclosure.clone(), |d| d.label().to_string()),
        ),
        ("Patient data".to_string(), yes_no(s.include_patient_data)),
    ];
    if let Some(r) = &s.patient_data_reason {
        terms.push(("Why patient data is needed".to_string(), r.clone()));
    }
    terms.push((
        "Reporting organisation named".to_string(),
        yes_no(s.include_organisation_name),
    ));
    terms.push(("Purpose".to_string(), s.purpose.clone()));
    let state_text = match s.approval.as_str() {
        "approved" => "Approved".to_string(),
        "declined" => format!("Declined: {}", s.decline_reason.clone().unwrap_or_default()),
        _ if s.revoked_at.is_some() => "Revoked".to_string(),
        _ => "Waiting for a second CDAO".to_string(),
    };
    terms.push(("State".to_string(), state_text));
    let (facts, report_rows, persons) = sections(&a.preview);
    let mut layout = for_actor(
        &actor,
        format!("Approve a share of {}", a.case_reference),
        "/shares/pending",
    );
    layout.back_href = Some("/shares/pending".into());
    page(&ApprovalPage {
        layout,
        share_id: id,
        case_id: a.case_id,
        reference: a.case_reference.clone(),
        terms,
        facts,
        report_rows,
        persons,
        summary: a.preview.summary.clone().unwrap_or_default(),
        evidence: a
            .preview
            .attachments
            .iter()
            .map(|x| x.filename.clone())
            .collect(),
        may_decide: a.may_decide,
        decline_field: format!("decline-reason-{id}"),
    })
}
