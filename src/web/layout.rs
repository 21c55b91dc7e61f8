//! Page-shell data for `templates/base.html`.
//!
//! Every page template struct has a field `layout: Layout`; `base.html` reads only that.

/// Everything `base.html` needs to draw the page shell.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Page-specific part of `<title>`: rendered as "{title} – CD Concerns – NHS".
    /// Prefix it with "Error: " when the page shows an error summary.
    pub title: String,
    /// The signed-in user, shown in the header account area with a "Sign out" button.
    pub user: Option<LayoutUser>,
    /// Header navigation links (empty: no navigation bar).
    pub nav: Vec<NavItem>,
    /// Back link target, drawn above `<main>` (None: no back link).
    pub back_href: Option<String>,
    /// Request id, quoted on error pages so support can find the logs.
    pub request_id: Option<String>,
}

/// The signed-in user as the header shows them.
#[derive(Debug, Clone, Default)]
pub struct LayoutUser {
    pub name: String,
    pub role_label: String,
    pub organisation: Option<String>,
}

/// One header navigation link. The current one gets `aria-current="page"`.
#[derive(Debug, Clone, Default)]
pub struct NavItem {
    pub label: String,
    pub href: String,
    pub current: bool,
    /// Counts of work waiting behind this link (issue 11), drawn as badges.
    pub badges: Vec<Badge>,
}

/// A count badge: the number shown, and what it counts in words (for screen readers).
#[derive(Debug, Clone, Default)]
pub struct Badge {
    /// The number drawn: "3", or "1,000+" past the counts' stop.
    pub count: String,
    pub words: String,
    /// Overdue work: drawn in red.
    pub urgent: bool,
}

impl Layout {
    /// A layout with just a title (no user, navigation, back link or request id).
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    pub fn with_user(mut self, user: LayoutUser) -> Self {
        self.user = Some(user);
        self
    }

    pub fn with_nav(mut self, nav: Vec<NavItem>) -> Self {
        self.nav = nav;
        self
    }

    pub fn with_back(mut self, href: impl Into<String>) -> Self {
        self.back_href = Some(href.into());
        self
    }

    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = Some(request_id.into());
        self
    }

    /// Marks as current the navigation item whose `href` equals `path`.
    pub fn with_current(mut self, path: &str) -> Self {
        for item in &mut self.nav {
            item.current = item.href == path;
        }
        self
    }
}

impl NavItem {
    pub fn new(label: impl Into<String>, href: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            href: href.into(),
            current: false,
            badges: Vec::new(),
        }
    }
}

use crate::domain::directory::Role;
use crate::policy::Actor;
use crate::waiting::Waiting;
use crate::web::session::RequestAuth;

impl LayoutUser {
    pub fn of(actor: &Actor) -> Self {
        Self {
            name: actor.name.clone(),
            role_label: actor.role.label().to_string(),
            organisation: actor.organisation_name.clone(),
        }
    }
}

/// The header navigation for a role.
pub fn nav_for(role: Role) -> Vec<NavItem> {
    let home = if role == Role::Cdao {
        "Dashboard"
    } else {
        "Home"
    };
    let mut nav = vec![NavItem::new(home, "/")];
    match role {
        Role::Admin => {
            nav.push(NavItem::new("Areas", "/admin/areas"));
            nav.push(NavItem::new("Organisations", "/admin/organisations"));
            nav.push(NavItem::new("Users", "/admin/users"));
        }
        Role::Auditor => nav.push(NavItem::new("Audit trail", "/audit")),
        Role::Reporter => {
            nav.push(NavItem::new("Report a concern", "/reports/new"));
            nav.push(NavItem::new("Your reports", "/reports"));
        }
        Role::OrgLead => {
            nav.push(NavItem::new("Report a concern", "/reports/new"));
            nav.push(NavItem::new("Your reports", "/reports"));
            nav.push(NavItem::new("Occurrence returns", "/returns"));
        }
        Role::Cdao => {
            nav.push(NavItem::new("Cases", "/cases"));
            nav.push(NavItem::new("Approvals", "/shares/pending"));
            nav.push(NavItem::new("Statistics", "/statistics"));
            nav.push(NavItem::new("Access requests", "/access-requests"));
            nav.push(NavItem::new("Subject access", "/subject-access"));
        }
        Role::Analyst => nav.push(NavItem::new("Statistics", "/statistics")),
        Role::Member => nav.push(NavItem::new("Alerts", "/alerts")),
    }
    nav.push(NavItem::new("Your account", "/account"));
    nav
}

/// "1 new case", "3 new cases", "more than 1,000 new cases" (the case counts stop there).
fn counted(n: i64, one: &str, many: &str) -> String {
    if n > crate::waiting::COUNT_CAP {
        return format!("more than {} {many}", crate::waiting::COUNT_CAP_WORDS);
    }
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Puts the counts of work waiting on the navigation links they belong to (zeros are not
/// drawn).
pub fn with_waiting(mut nav: Vec<NavItem>, w: &Waiting) -> Vec<NavItem> {
    let mut add = |href: &str, count: Option<i64>, words: String, urgent: bool| {
        if let (Some(n), Some(item)) = (count, nav.iter_mut().find(|i| i.href == href))
            && n > 0
        {
            item.badges.push(Badge {
                count: if n > crate::waiting::COUNT_CAP {
                    format!("{}+", crate::waiting::COUNT_CAP_WORDS)
                } else {
                    n.to_string()
                },
                words,
                urgent,
            });
        }
    };
    let n = |c: Option<i64>| c.unwrap_or(0);
    add(
        "/cases",
        w.new_cases,
        counted(n(w.new_cases), "new case", "new cases"),
        false,
    );
    add(
        "/cases",
        w.overdue,
        counted(n(w.overdue), "overdue for triage", "overdue for triage"),
        true,
    );
    add(
        "/shares/pending",
        w.shares_to_approve,
        counted(
            n(w.shares_to_approve),
            "share to approve",
            "shares to approve",
        ),
        false,
    );
    add(
        "/access-requests",
        w.access_requests,
        counted(n(w.access_requests), "access request", "access requests"),
        false,
    );
    add(
        "/",
        w.member_responses,
        counted(
            n(w.member_responses),
            "new response from members",
            "new responses from members",
        ),
        false,
    );
    add(
        "/alerts",
        w.unread_alerts,
        counted(n(w.unread_alerts), "unread alert", "unread alerts"),
        false,
    );
    add(
        "/reports",
        w.questions_to_answer,
        counted(
            n(w.questions_to_answer),
            "question to answer",
            "questions to answer",
        ),
        false,
    );
    nav
}

/// The layout for a signed-in user on the page at `path`, with the work waiting for them
/// when the middleware counted it.
pub fn for_actor(actor: &Actor, title: impl Into<String>, path: &str) -> Layout {
    let mut nav = nav_for(actor.role);
    if let Some(w) = crate::waiting::for_page() {
        nav = with_waiting(nav, &w);
    }
    Layout::new(title)
        .with_user(LayoutUser::of(actor))
        .with_nav(nav)
        .with_current(path)
}

/// The layout for whoever made the request (signed in or not).
pub fn for_auth(auth: &RequestAuth, title: impl Into<String>) -> Layout {
    match &auth.actor {
        Some(a) => for_actor(a, title, ""),
        None => Layout::new(title),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_counts_past_their_stop_read_as_more_than_a_thousand() {
        let nav = vec![NavItem::new("Cases", "/cases")];
        let w = Waiting {
            new_cases: Some(crate::waiting::COUNT_CAP + 1),
            overdue: Some(crate::waiting::COUNT_CAP + 1),
            ..Waiting::default()
        };
        let nav = with_waiting(nav, &w);
        let shown: Vec<(&str, &str)> = nav[0]
            .badges
            .iter()
            .map(|b| (b.count.as_str(), b.words.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("1,000+", "more than 1,000 new cases"),
                ("1,000+", "more than 1,000 overdue for triage")
            ]
        );
        assert_eq!(counted(1, "new case", "new cases"), "1 new case");
        assert_eq!(
            counted(7, "overdue for triage", "overdue for triage"),
            "7 overdue for triage"
        );
        assert_eq!(counted(1000, "new case", "new cases"), "1000 new cases");
    }
}
