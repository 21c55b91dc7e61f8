//! The CDAO's home page: what needs them now, what changed since their last visit.

use super::*;

pub struct Card {
    pub title: String,
    pub count: i64,
    pub href: String,
    pub description: String,
    /// Overdue work: drawn as a warning.
    pub urgent: bool,
}

#[derive(Template)]
#[template(path = "cdao/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    flash: Option<String>,
    heading: String,
    cards: Vec<Card>,
    overdue: Vec<CaseRow>,
    newest: Vec<CaseRow>,
    show_area: bool,
    /// Prescriber codes of the areas reported at 3 or more work addresses: (text, link).
    prescriber_spread: Vec<(String, String)>,
    /// "Since your last visit (…)": the heading and its lines, None on a first visit.
    since_heading: String,
    changes: Vec<(String, String)>,
    /// The newest responses from members: (case id, reference, organisation, action, when).
    responses: Vec<ResponseRow>,
    /// Cards whose count is 0, folded away under one line.
    empty_cards: Vec<Card>,
}

pub struct ResponseRow {
    pub case_id: Uuid,
    pub reference: String,
    pub organisation: String,
    pub action: String,
    pub when: String,
    pub new: bool,
}

/// Monday 00:00 of the current UK week, as the case list's `from` filter reads a date.
fn week_start(now: DateTime<Utc>) -> chrono::NaiveDate {
    let today = now.with_timezone(&chrono_tz::Europe::London).date_naive();
    today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()))
}

/// The CDAO's home page: what needs them now.
pub async fn dashboard(state: &AppState, auth: &RequestAuth, actor: &Actor) -> AppResult<Response> {
    policy::see_matches(actor)?;
    let now = state.now();
    let monday = week_start(now);
    let most_overdue = CaseFilter {
        overdue: true,
        oldest_first: true,
        limit: 10,
        ..Default::default()
    };
    let newest = CaseFilter {
        limit: 10,
        ..Default::default()
    };
    // The page's reads do not depend on one another (only "since your last visit" waits for
    // the visit to be marked): asked at once, the page costs its slowest read, not their sum.
    let news = async {
        let since = crate::waiting::see_dashboard(state, actor).await?;
        let (changes, recent) = crate::waiting::dashboard_news(state, actor, since).await?;
        Ok::<_, AppError>((since, changes, recent))
    };
    let ((since, changes, recent), counts, (overdue, _), (newest, _), cdaos, areas, spread) = tokio::try_join!(
        news,
        crate::statistics::dashboard(state, actor, monday.and_time(NaiveTime::MIN).and_utc()),
        case_page(state, actor, &most_overdue),
        case_page(state, actor, &newest),
        crate::directory::cdao_names(state, actor),
        area_names(state),
        crate::prescribers::spread_codes(state, actor),
    )?;
    let cat = crate::reports::catalogue(state).await?;
    let show_area = needs_area_column(actor, &overdue) || needs_area_column(actor, &newest);
    let card = |one: &str, many: &str, count: i64, href: &str, description: &str| Card {
        title: if count == 1 { one } else { many }.into(),
        count,
        href: href.into(),
        description: description.into(),
        urgent: false,
    };
    let mut cards = vec![
        card(
            "case overdue for triage",
            "cases overdue for triage",
            counts.overdue,
            "/cases?overdue=true&sort=oldest",
            "Still new after their triage target: 2 working days, or 1 for urgent cases.",
        ),
        card(
            "new case",
            "new cases",
            counts.new,
            "/cases?status=new&sort=oldest",
            "Not yet triaged.",
        ),
        card(
            "case awaiting information",
            "cases awaiting information",
            counts.awaiting_information,
            "/cases?status=awaiting_information",
            "Waiting for the reporter to answer a request for information.",
        ),
        card(
            "case in review",
            "cases in review",
            counts.in_review,
            "/cases?status=in_review",
            "Being reviewed by the team, including answers that have come back.",
        ),
        card(
            "case under investigation",
            "cases under investigation",
            counts.investigating,
            "/cases?status=investigating",
            "Under investigation.",
        ),
        card(
            "open case not assigned",
            "open cases not assigned",
            counts.unassigned_open,
            "/cases?status=new&status=in_review&status=awaiting_information&status=investigating&assignee_id=none&sort=oldest",
            "Open cases nobody is assigned to, oldest first.",
        ),
        card(
            "case submitted this week",
            "cases submitted this week",
            counts.new_this_week,
            &format!("/cases?from={monday}"),
            &format!("Submitted since Monday {}.", monday.format("%-d %B")),
        ),
        card(
            "alert not acknowledged in time",
            "alerts not acknowledged in time",
            counts.unacknowledged_alerts,
            "/shares/late",
            "Members have not acknowledged these alerts by their target (2 working days); they have been reminded.",
        ),
        card(
            "share waiting for your approval",
            "shares waiting for your approval",
            counts.shares_to_approve,
            "/shares/pending",
            "Identified shares need a second CDAO of the area before the members are told.",
        ),
        card(
            "access request to decide",
            "access requests to decide",
            counts.pending_access_requests,
            "/access-requests",
            "Other areas' CDAO teams asking to see cases of yours that name the same person.",
        ),
    ];
    let new_responses = match since {
        Some(t) => recent.iter().filter(|r| r.created_at > t).count() as i64,
        None => recent.len() as i64,
    };
    cards.push(card(
        "response received since your last visit",
        "responses received since your last visit",
        changes
            .as_ref()
            .map_or(new_responses, |c| c.member_responses),
        "#responses",
        "Members' answers to your areas' alerts: the newest are listed below.",
    ));
    if let Some(first) = cards.first_mut() {
        first.urgent = counts.overdue > 0;
    }
    if let Some(late) = cards.iter_mut().find(|c| c.href == "/shares/late") {
        late.urgent = counts.unacknowledged_alerts > 0;
    }
    // Overdue work leads; cards with nothing in them fold away.
    let (cards, empty_cards): (Vec<Card>, Vec<Card>) = cards.into_iter().partition(|c| c.count > 0);
    let since_heading = match since {
        Some(t) => format!("Since your last visit ({})", uk_time(t)),
        None => String::new(),
    };
    let changes: Vec<(String, String)> = changes
        .map(|c| {
            let line = |n: i64, one: &str, many: &str, href: &str| {
                (
                    format!("{n} {}", if n == 1 { one } else { many }),
                    href.to_string(),
                )
            };
            vec![
                line(
                    c.cases_submitted,
                    "case submitted",
                    "cases submitted",
                    &format!(
                        "/cases?from={}",
                        since
                            .map(|t| t.with_timezone(&chrono_tz::Europe::London).date_naive())
                            .unwrap_or(monday)
                    ),
                ),
                line(
                    c.reporter_answers,
                    "answer from a reporter",
                    "answers from reporters",
                    "/cases?status=in_review",
                ),
                line(
                    c.member_responses,
                    "response from members",
                    "responses from members",
                    "#responses",
                ),
                line(
                    c.shares_decided,
                    "share approved or declined",
                    "shares approved or declined",
                    "",
                ),
            ]
        })
        .unwrap_or_default();
    let responses = recent
        .iter()
        .map(|r| ResponseRow {
            case_id: r.case_id,
            reference: r.case_reference.clone(),
            organisation: r.organisation_name.clone(),
            action: r
                .action_taken
                .as_deref()
                .and_then(crate::domain::share::ActionTaken::parse)
                .map_or("No action recorded", |a| a.label())
                .to_string(),
            when: uk_time(r.created_at),
            new: since.is_none_or(|t| r.created_at > t),
        })
        .collect();
    let names = own_area_names(actor, &areas);
    let heading = if names.is_empty() {
        "Your case dashboard".to_string()
    } else {
        format!("{}: case dashboard", and_list(&names))
    };
    let flash = take_flash(state, auth).await?;
    let prescriber_spread = spread
        .into_iter()
        .map(|s| {
            (
                format!(
                    "A prescriber code reported at {} different work addresses, in {} reports",
                    s.addresses, s.reports
                ),
                s.href,
            )
        })
        .collect();
    page(&DashboardPage {
        since_heading,
        changes,
        responses,
        empty_cards,
        prescriber_spread,
        layout: for_actor(actor, heading.clone(), "/"),
        flash,
        heading,
        cards,
        overdue: overdue
            .iter()
            .map(|c| case_row(c, now, &cdaos, &areas, &cat))
            .collect(),
        newest: newest
            .iter()
            .map(|c| case_row(c, now, &cdaos, &areas, &cat))
            .collect(),
        show_area,
    })
}
