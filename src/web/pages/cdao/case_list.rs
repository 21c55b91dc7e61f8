//! The case list: filters, search, totals, next pages and the CSV export.

use super::*;

#[derive(Template)]
#[template(path = "cdao/cases.html")]
struct CasesPage {
    layout: Layout,
    errors: FieldErrors,
    f: Posted,
    status_options: Vec<(String, String)>,
    priority_options: Vec<(String, String)>,
    kind_options: Vec<(String, String)>,
    category_options: Vec<(String, String)>,
    schedule_options: Vec<(String, String)>,
    drug_options: Vec<(String, String)>,
    sector_options: Vec<(String, String)>,
    harm_options: Vec<(String, String)>,
    assignee_options: Vec<(String, String)>,
    organisation_options: Vec<(String, String)>,
    sort_options: Vec<(String, String)>,
    statuses: Vec<String>,
    priorities: Vec<String>,
    overdue: Vec<String>,
    rows: Vec<CaseRow>,
    show_area: bool,
    count_text: String,
    /// "?list=…": the filters, carried to the case page for next/previous and Back.
    list_query: String,
    next_href: Option<String>,
    first_href: Option<String>,
    csv_href: String,
    filtered: bool,
    /// The less used filters are folded away unless one is set or wrong.
    more_open: bool,
}

fn any(label: &str) -> Vec<(String, String)> {
    vec![(String::new(), label.to_string())]
}

/// The query string of `params` without `drop` and blank values, for links that keep the
/// filters (the next page, the CSV).
pub fn query_without(params: &Params, drop: &[&str]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &params.0 {
        if !drop.contains(&k.as_str()) && !v.trim().is_empty() {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

/// What the case list's form says about a bad filter, in the words of its labels.
fn filter_error(field: &str, message: &str) -> (String, String) {
    let choose = |what: &str| format!("Select {what} from the list");
    let text = match field {
        "status" => choose("a status"),
        "priority" => choose("a priority"),
        "kind" => choose("a kind of report"),
        "category" => choose("a category"),
        "schedule" => choose("a schedule"),
        "harm" => choose("a level of harm"),
        "sector" => choose("a sector"),
        "organisation_id" => choose("an organisation"),
        "assignee_id" => choose("a CDAO"),
        "drug_id" => choose("a drug"),
        "sort" => choose("an order"),
        "overdue" => "Tick \"Only cases overdue for triage\" or leave it empty".into(),
        "from" => "Submitted from must be a real date, like 2026-11-02".into(),
        "to" if message.contains("after") => {
            "Submitted to must be the same as or after submitted from".into()
        }
        "to" => "Submitted to must be a real date, like 2026-11-02".into(),
        "cursor" => {
            "That page link is not one this service made: start again from the first page".into()
        }
        _ => message.to_string(),
    };
    let anchor = match field {
        "cursor" | "limit" => "filters",
        f => f,
    };
    (anchor.to_string(), text)
}

/// The case list (CDAOs). A reporter or organisation lead has their own list of reports.
pub async fn cases(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    policy::may_list_cases(&actor)?;
    if actor.role != Role::Cdao {
        return Ok(redirect("/reports"));
    }
    let now = state.now();
    let (filter, errors) = match parse_case_filter(&params) {
        Ok(f) => (Some(f), FieldErrors::new()),
        Err(AppError::Validation(e)) => {
            let mut out = FieldErrors::new();
            for err in e {
                let (field, message) = filter_error(&err.field, &err.message);
                out.add(field, message);
            }
            (None, out)
        }
        Err(e) => return Err(e),
    };
    // The list, its total and the filters' options, asked at once.
    let list = async {
        match &filter {
            Some(f) => {
                let (items, next, total) = case_page_with_total(&state, &actor, f).await?;
                Ok::<_, AppError>((items, next, Some(total)))
            }
            None => Ok((vec![], None, None)),
        }
    };
    let org_filter = dir::OrgFilter {
        kind: Some("provider".into()),
        ..Default::default()
    };
    let ((items, next, total), cdaos, areas, cat, organisations) = tokio::try_join!(
        list,
        crate::directory::cdao_names(&state, &actor),
        area_names(&state),
        crate::reports::catalogue(&state),
        crate::directory::organisations(&state, &actor, &org_filter),
    )?;
    let mut category_options = any("Any category");
    category_options.extend(IncidentCategory::options());
    for (code, label) in ConcernCategory::options() {
        if !category_options.iter().any(|(c, _)| *c == code) {
            category_options.push((code, format!("{label} (person of concern)")));
        }
    }
    let mut kind_options = any("Any kind");
    kind_options.push(("incident".into(), "Incident".into()));
    kind_options.push(("person_concern".into(), "Person of concern".into()));
    let mut schedule_options = any("Any schedule");
    schedule_options.extend(Schedule::options());
    let mut drug_options = any("Any drug");
    let mut drugs: Vec<(String, String)> = cat
        .drugs
        .iter()
        .map(|d| (d.id.to_string(), d.name.clone()))
        .collect();
    drugs.sort_by(|a, b| a.1.cmp(&b.1));
    drug_options.extend(drugs);
    let mut sector_options = any("Any sector");
    sector_options.extend(
        PROVIDER_SECTORS
            .iter()
            .map(|s| (s.code().to_string(), s.label().to_string())),
    );
    let mut harm_options = any("Any level of harm");
    harm_options.extend(Harm::options());
    let mut assignee_options = any("Anyone");
    assignee_options.push(("none".into(), "Not assigned".into()));
    let mut people: Vec<(String, String)> = cdaos
        .iter()
        .map(|(id, n)| (id.to_string(), n.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    assignee_options.extend(people);
    let mut organisation_options = any("Any organisation");
    organisation_options.extend(
        organisations
            .iter()
            .map(|o| (o.id.to_string(), o.name.clone())),
    );
    let sort_options = vec![
        ("newest".to_string(), "Newest first".to_string()),
        ("oldest".to_string(), "Oldest first".to_string()),
    ];
    // Checkbox values may arrive repeated or comma-separated.
    let listed = |key: &str| -> Vec<String> {
        params
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(',').map(|p| p.trim().to_string()))
            .filter(|p| !p.is_empty())
            .collect()
    };
    let f = Posted(params.0.clone());
    let filtered = params
        .0
        .iter()
        .any(|(k, v)| k != "cursor" && k != "sort" && !v.trim().is_empty());
    const MORE: &[&str] = &[
        "kind",
        "category",
        "harm",
        "schedule",
        "drug_id",
        "sector",
        "organisation_id",
        "assignee_id",
        "from",
        "to",
    ];
    let more_open = MORE
        .iter()
        .any(|k| params.get(k).is_some() || errors.get(k).is_some());
    let show_area = needs_area_column(&actor, &items);
    let keep = query_without(&params, &["cursor"]);
    let n = items.len();
    let count_text = if !errors.is_empty() {
        "Correct the filters to see cases.".to_string()
    } else if n == 0 {
        if filtered {
            "No cases match these filters.".into()
        } else {
            "There are no cases yet.".into()
        }
    } else {
        let order = if filter.as_ref().is_some_and(|f| f.oldest_first) {
            "oldest first"
        } else {
            "newest first"
        };
        let page_no = if params.get("cursor").is_some() {
            "this page"
        } else {
            "the first page"
        };
        format!(
            "{} in all. {n} on {page_no}, {order}{}.",
            total.as_ref().map_or_else(String::new, |t| {
                let w = t.words();
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            }),
            if next.is_some() {
                "; there are more on the next page"
            } else {
                ""
            }
        )
    };
    let next_href = next.map(|c| {
        let mut s = url::form_urlencoded::Serializer::new(keep.clone());
        s.append_pair("cursor", &c);
        format!("/cases?{}", s.finish())
    });
    let first_href = params.get("cursor").map(|_| {
        format!(
            "/cases{}",
            if keep.is_empty() {
                String::new()
            } else {
                format!("?{keep}")
            }
        )
    });
    let csv_href = format!(
        "/cases.csv{}",
        if keep.is_empty() {
            String::new()
        } else {
            format!("?{keep}")
        }
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let layout = for_actor(&actor, page_title("Cases", !errors.is_empty()), "/cases");
    page_with_status(
        status,
        &CasesPage {
            layout,
            errors,
            statuses: listed("status"),
            priorities: listed("priority"),
            overdue: listed("overdue"),
            f,
            status_options: CaseStatus::options(),
            priority_options: Priority::options(),
            kind_options,
            category_options,
            schedule_options,
            drug_options,
            sector_options,
            harm_options,
            assignee_options,
            organisation_options,
            sort_options,
            rows: items
                .iter()
                .map(|c| case_row(c, now, &cdaos, &areas, &cat))
                .collect(),
            show_area,
            count_text,
            list_query: {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("list", &keep);
                format!("?{}", q.finish())
            },
            next_href,
            first_href,
            csv_href,
            filtered,
            more_open,
        },
    )
}

/// The filtered case list as CSV (no identities, no free text), as the API exports it.
pub async fn cases_csv(
    State(state): State<AppState>,
    actor: Actor,
    params: Params,
) -> AppResult<Response> {
    let (body, _) = cases_csv_body(&state, &actor, &params).await?;
    let today = crate::reports::uk_today(&state);
    Ok(csv_response(body, &format!("cases-{today}.csv")))
}
