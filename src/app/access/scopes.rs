//! The opaque scopes: which cases an actor may see ([`CaseScope`]), a CDAO team's areas
//! ([`AreaScope`]) and a member organisation's [`Inbox`].

use uuid::Uuid;

use super::forbidden;
use super::{CaseRow, ShareTerms, View};
use crate::domain::directory::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

/// Which cases an actor may see: the one definition of SPEC §3's case rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseScope(Scope);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Scope {
    Reporter(Uuid),
    Organisation(Uuid),
    /// A CDAO team: its areas' cases, and cases of other areas shared with it while live.
    Areas(Vec<Uuid>),
}

/// One branch of a list query (see `db::cases::list_cases`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Branch {
    Area(Uuid),
    Reporter(Uuid),
    Organisation(Uuid),
    /// Cases with a live share to any of these areas' teams.
    SharedWith(Vec<Uuid>),
}

impl CaseScope {
    /// How this scope sees one case (`share`: the live share to the actor's team, if any).
    pub(super) fn view_of(&self, row: &CaseRow, share: Option<ShareTerms>) -> Option<View> {
        match &self.0 {
            Scope::Reporter(u) => (row.reporter_id == *u).then_some(View::Reporting),
            Scope::Organisation(o) => (row.organisation_id == *o).then_some(View::Reporting),
            Scope::Areas(areas) if areas.contains(&row.area_id) => Some(View::Holding),
            Scope::Areas(_) => share.map(View::Shared),
        }
    }

    /// The same rule as the branches of a list query.
    pub(crate) fn branches(&self) -> Vec<Branch> {
        match &self.0 {
            Scope::Reporter(u) => vec![Branch::Reporter(*u)],
            Scope::Organisation(o) => vec![Branch::Organisation(*o)],
            Scope::Areas(areas) => {
                let mut b: Vec<Branch> = areas.iter().map(|a| Branch::Area(*a)).collect();
                b.push(Branch::SharedWith(areas.clone()));
                b
            }
        }
    }

    /// The areas whose teams' shares count (a CDAO's); empty for the reporting side.
    pub(crate) fn team_areas(&self) -> &[Uuid] {
        match &self.0 {
            Scope::Areas(a) => a,
            _ => &[],
        }
    }

    /// Whether a listed case is one the scope holds (its triage facts may be shown).
    pub fn holds(&self, area_id: Uuid) -> bool {
        matches!(&self.0, Scope::Areas(a) if a.contains(&area_id))
    }
}

/// The cases an actor may see; `None` for roles that see none (SPEC §3).
pub(super) fn scope_of(a: &Actor) -> Option<CaseScope> {
    match (a.role, a.organisation_id) {
        (Role::Reporter, _) => Some(CaseScope(Scope::Reporter(a.user_id))),
        (Role::OrgLead, Some(org)) => Some(CaseScope(Scope::Organisation(org))),
        (Role::Cdao, _) => Some(CaseScope(Scope::Areas(a.area_ids.clone()))),
        _ => None,
    }
}

/// Listing cases at all: 403 for roles that have no cases to see.
pub fn case_scope(a: &Actor) -> AppResult<CaseScope> {
    scope_of(a).ok_or_else(|| forbidden("see cases"))
}

/// List filters on triage facts (priority, assignee, overdue) are for the CDAO team: for
/// anyone else who may list cases they are 403, naming the filter (SPEC §3: the reporting
/// side does not see priority or assignment, so it may not ask by them either).
pub fn check_case_filters(a: &Actor, f: &crate::app::db::cases::CaseFilter) -> AppResult<()> {
    if a.role == Role::Cdao {
        return Ok(());
    }
    let used: Vec<&str> = [
        ("priority", !f.priorities.is_empty()),
        ("assignee_id", f.assignee_id.is_some() || f.unassigned),
        ("overdue", f.overdue),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    match used.as_slice() {
        [] => Ok(()),
        names => Err(AppError::Forbidden(format!(
            "You may list cases, but not filter them by {}: only the CDAO team sees it.",
            names.join(", ")
        ))),
    }
}
/// The areas of a CDAO team: for their dashboards, queues and figures. 403 for other roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaScope(Vec<Uuid>);

impl AreaScope {
    pub fn ids(&self) -> &[Uuid] {
        &self.0
    }
    pub fn contains(&self, area: Uuid) -> bool {
        self.0.contains(&area)
    }
}

pub fn cdao_areas(a: &Actor) -> AppResult<AreaScope> {
    if a.role == Role::Cdao {
        Ok(AreaScope(a.area_ids.clone()))
    } else {
        Err(forbidden("use the lead CDAO team's pages"))
    }
}

/// The areas of a CDAO team, for the handles only the team of the thing's own area may hold
/// (a share, an erasure request, a team's alert): 404 for other roles, since what exists
/// there is not theirs to know (unlike [`cdao_areas`], 403 for a page they may not use).
pub(super) fn holding_team(a: &Actor) -> AppResult<&[Uuid]> {
    if a.role == Role::Cdao {
        Ok(&a.area_ids)
    } else {
        Err(AppError::NotFound)
    }
}

/// A member organisation's inbox. 403 for anyone who is not a LIN member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inbox(Uuid);

impl Inbox {
    pub fn organisation_id(&self) -> Uuid {
        self.0
    }
}

pub fn inbox(a: &Actor) -> AppResult<Inbox> {
    match (a.role, a.organisation_id) {
        (Role::Member, Some(org)) => Ok(Inbox(org)),
        _ => Err(AppError::Forbidden(
            "Alerts are for members of the local intelligence network.".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{actor, row, terms};
    use super::*;

    /// SPEC §3, case rows, role by role: who sees a case and how.
    #[test]
    fn who_sees_a_case_and_how() {
        let (area, other_area) = (Uuid::now_v7(), Uuid::now_v7());
        let (org, other_org) = (Uuid::now_v7(), Uuid::now_v7());
        let reporter = actor(Role::Reporter, org, vec![area]);
        let case = row(reporter.user_id, org, area);
        let colleague = actor(Role::Reporter, org, vec![area]);
        let lead = actor(Role::OrgLead, org, vec![area]);
        let other_lead = actor(Role::OrgLead, other_org, vec![area]);
        let cdao = actor(Role::Cdao, Uuid::now_v7(), vec![area]);
        let other_cdao = actor(Role::Cdao, Uuid::now_v7(), vec![other_area]);
        let view = |a: &Actor, share: Option<ShareTerms>| {
            scope_of(a).and_then(|s| s.view_of(&case, share))
        };
        assert_eq!(view(&reporter, None), Some(View::Reporting));
        assert_eq!(view(&colleague, None), None);
        assert_eq!(view(&lead, None), Some(View::Reporting));
        assert_eq!(view(&other_lead, None), None);
        assert_eq!(view(&cdao, None), Some(View::Holding));
        // Even with a share, the holding team sees the case as its own.
        assert_eq!(view(&cdao, Some(terms())), Some(View::Holding));
        assert_eq!(view(&other_cdao, None), None);
        let t = terms();
        assert_eq!(view(&other_cdao, Some(t.clone())), Some(View::Shared(t)));
        for role in [Role::Member, Role::Admin, Role::Auditor, Role::Analyst] {
            let a = actor(role, org, vec![area]);
            assert_eq!(view(&a, Some(terms())), None, "{role}");
            assert!(case_scope(&a).is_err(), "{role}");
        }
    }

    /// The list's branches and the single-case rule are the same scope.
    #[test]
    fn list_branches_follow_the_scope() {
        let (a1, a2, org) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let cdao = actor(Role::Cdao, org, vec![a1, a2]);
        assert_eq!(
            case_scope(&cdao).unwrap().branches(),
            vec![
                Branch::Area(a1),
                Branch::Area(a2),
                Branch::SharedWith(vec![a1, a2])
            ]
        );
        let lead = actor(Role::OrgLead, org, vec![a1]);
        assert_eq!(
            case_scope(&lead).unwrap().branches(),
            vec![Branch::Organisation(org)]
        );
        let reporter = actor(Role::Reporter, org, vec![a1]);
        assert_eq!(
            case_scope(&reporter).unwrap().branches(),
            vec![Branch::Reporter(reporter.user_id)]
        );
        assert!(case_scope(&cdao).unwrap().holds(a1));
        assert!(!case_scope(&cdao).unwrap().holds(Uuid::now_v7()));
        assert!(!case_scope(&lead).unwrap().holds(a1));
    }
    #[test]
    fn only_the_cdao_team_filters_by_triage_facts() {
        use crate::app::db::cases::CaseFilter;
        let area = Uuid::now_v7();
        let filters = [
            CaseFilter {
                priorities: vec!["urgent".into()],
                ..Default::default()
            },
            CaseFilter {
                assignee_id: Some(Uuid::now_v7()),
                ..Default::default()
            },
            CaseFilter {
                unassigned: true,
                ..Default::default()
            },
            CaseFilter {
                overdue: true,
                ..Default::default()
            },
        ];
        for role in Role::ALL {
            let a = actor(*role, Uuid::now_v7(), vec![area]);
            assert!(check_case_filters(&a, &CaseFilter::default()).is_ok());
            for f in &filters {
                let r = check_case_filters(&a, f);
                if *role == Role::Cdao {
                    assert!(r.is_ok(), "{role}");
                } else {
                    assert!(matches!(r, Err(AppError::Forbidden(_))), "{role}");
                }
            }
        }
    }
}
