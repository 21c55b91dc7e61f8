//! Requests from other areas' CDAOs to see a case, and their decisions.

use super::*;

pub struct RequestRow {
    pub id: Uuid,
    /// The id (and name) of the request's reason textarea.
    pub field_id: String,
    pub case_reference: String,
    pub requester: String,
    pub requester_area: String,
    pub holding_area: String,
    pub reason_lines: Vec<String>,
    pub status_code: String,
    pub status_text: String,
    pub status_colour: String,
    pub created: String,
    pub decided_text: String,
    pub decision_reason: String,
    /// For a request to decide: the holding team's own cases that match (id, reference).
    pub matching: Vec<(Uuid, String)>,
    /// Where the requester's own case can be opened (requests made by the team).
    pub case_id: Uuid,
}

#[derive(Template)]
#[template(path = "cdao/access_requests.html")]
struct AccessRequestsPage {
    layout: Layout,
    flash: Option<String>,
    errors: FieldErrors,
    conflict: Option<String>,
    f: Posted,
    incoming: Vec<RequestRow>,
    outgoing: Vec<RequestRow>,
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn request_status(code: &str) -> (String, String) {
    match code {
        "pending" => ("Waiting for a decision".into(), "yellow".into()),
        "approved" => ("Approved".into(), "green".into()),
        "declined" => ("Declined".into(), "red".into()),
        other => (other.to_string(), "grey".into()),
    }
}

async fn access_requests_page(
    state: &AppState,
    auth: &RequestAuth,
    actor: &Actor,
    status: StatusCode,
    errors: FieldErrors,
    conflict: Option<String>,
    f: Posted,
) -> AppResult<Response> {
    let all = triage::list_access_requests(state, actor).await?;
    let mut incoming = Vec::new();
    let mut outgoing = Vec::new();
    for r in &all {
        let (status_text, status_colour) = request_status(&r.status);
        let decided_text = match r.decided_at {
            Some(t) => uk_time(t),
            None => String::new(),
        };
        let mut row = RequestRow {
            id: r.id,
            field_id: format!("reason-{}", r.id),
            case_reference: r.case_reference.clone(),
            requester: r.requester_name.clone(),
            requester_area: r.requester_area_name.clone(),
            holding_area: r.holding_area_name.clone(),
            reason_lines: lines(&r.reason),
            status_code: r.status.clone(),
            status_text,
            status_colour,
            created: uk_time(r.created_at),
            decided_text,
            decision_reason: r.decision_reason.clone().unwrap_or_default(),
            matching: vec![],
            case_id: r.case_id,
        };
        if actor.area_ids.contains(&r.holding_area_id) {
            if r.status == "pending" {
                // What approving would share: the team's own cases naming the same person.
                row.matching = triage::would_share(state, actor, r.id).await?;
            }
            incoming.push(row);
        } else if actor.area_ids.contains(&r.requester_area_id) {
            outgoing.push(row);
        }
        // A team holding both areas sees its request once, as one to decide.
    }
    // Pending first, then newest (the query gives newest first).
    incoming.sort_by_key(|r| r.status_code != "pending");
    let flash = take_flash(state, auth).await?;
    let has_errors = !errors.is_empty() || conflict.is_some();
    page_with_status(
        status,
        &AccessRequestsPage {
            layout: for_actor(
                actor,
                page_title("Access requests", has_errors),
                "/access-requests",
            ),
            flash,
            errors,
            conflict,
            f,
            incoming,
            outgoing,
        },
    )
}

pub async fn access_requests(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
) -> AppResult<Response> {
    access_requests_page(
        &state,
        &auth,
        &actor,
        StatusCode::OK,
        FieldErrors::new(),
        None,
        Posted::default(),
    )
    .await
}

/// Approve or decline a request to see the team's cases (a reason is needed to decline).
pub async fn decide(
    State(state): State<AppState>,
    auth: RequestAuth,
    actor: Actor,
    PathId(id): PathId,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let f = Posted(form);
    let reason_field = format!("reason-{id}");
    let input = DecisionInput {
        decision: f.opt("decision"),
        reason: f.opt(&reason_field),
    };
    match triage::decide_access(&state, &actor, id, &input).await {
        Ok(r) => {
            let message = if r.request.status == "approved" {
                format!(
                    "You approved the request from the {} CDAO team: {} {} made to their team. An identified share waits for a second CDAO of your area where the two-person rule is on; you can revoke a share at any time from its case.",
                    r.request.requester_area_name,
                    r.share_ids.len(),
                    if r.share_ids.len() == 1 {
                        "share was"
                    } else {
                        "shares were"
                    }
                )
            } else {
                format!(
                    "You declined the request from the {} CDAO team. They can see your reason.",
                    r.request.requester_area_name
                )
            };
            set_flash(&state, &auth, &message).await?;
            Ok(redirect("/access-requests"))
        }
        Err(AppError::Validation(e)) => {
            let errors = errors_as(e, &|_| reason_field.clone());
            access_requests_page(
                &state,
                &auth,
                &actor,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
                f,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            access_requests_page(
                &state,
                &auth,
                &actor,
                StatusCode::CONFLICT,
                FieldErrors::new(),
                Some(m),
                f,
            )
            .await
        }
        Err(e) => Err(e),
    }
}
