//! ALL authorisation (SPEC §3): who may see and do what, as pure functions and query scopes.
//!
//! Handlers never decide access themselves: they ask here. Anything the actor may not see
//! is `NotFound`, exactly as if it did not exist; `Forbidden` is only for something the actor
//! can see (or a whole function of the service they know exists) but may not use.

use uuid::Uuid;

use crate::domain::directory::Role;
use crate::error::AppError;

/// How the request was authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Session,
    Token(Uuid),
}

/// The signed-in user making a request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    pub name: String,
    pub email: String,
    pub organisation_id: Option<Uuid>,
    pub organisation_name: Option<String>,
    /// A CDAO's own areas; for other roles, their organisation's areas.
    pub area_ids: Vec<Uuid>,
    pub via: Via,
}

impl Actor {
    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }
}

fn forbidden(what: &str) -> AppError {
    AppError::Forbidden(format!("Your role does not allow you to {what}."))
}

/// Creating and changing areas, organisations and users.
pub fn manage_directory(a: &Actor) -> Result<(), AppError> {
    if a.is(Role::Admin) {
        Ok(())
    } else {
        Err(forbidden("manage areas, organisations or users"))
    }
}

/// Reading the audit trail and verifying its chain.
pub fn read_audit(a: &Actor) -> Result<(), AppError> {
    if a.is(Role::Auditor) {
        Ok(())
    } else {
        Err(forbidden("read the audit trail"))
    }
}

/// API tokens are made, listed and revoked only from a browser session, by their owner:
/// a token cannot mint tokens, and nobody can mint one for someone else.
pub fn manage_own_tokens(a: &Actor) -> Result<(), AppError> {
    match a.via {
        Via::Session => Ok(()),
        Via::Token(_) => Err(AppError::Forbidden(
            "API tokens can only be managed from a signed-in browser session.".into(),
        )),
    }
}

/// Roles whose accounts read case content (SPEC §3 "four eyes on accounts that read
/// cases"): made by an admin, or changed into by one, they wait for a second person.
pub fn needs_second_person(role: Role) -> bool {
    matches!(role, Role::Cdao | Role::Member | Role::OrgLead)
}

/// An account waiting for approval, as the approval rule needs it.
#[derive(Clone, Debug)]
pub struct PendingAccount {
    pub id: Uuid,
    pub role: Role,
    /// A CDAO's own areas; a member's, its organisation's.
    pub area_ids: Vec<Uuid>,
    /// Who made the change that waits (the creator, or the admin who changed the role).
    pub requested_by: Option<Uuid>,
}

/// Approving an account that waits for a second person: another admin, or for `cdao` and
/// `member` accounts a CDAO of one of its areas; never the person who asked (403). Called
/// once the account is known to be visible to the actor (404 otherwise).
pub fn approve_account(a: &Actor, acc: &PendingAccount) -> Result<(), AppError> {
    if acc.requested_by == Some(a.user_id) || acc.id == a.user_id {
        return Err(AppError::Forbidden(
            "You made this change, so a second person must approve it.".into(),
        ));
    }
    let ok = match a.role {
        Role::Admin => true,
        Role::Cdao => {
            matches!(acc.role, Role::Cdao | Role::Member)
                && acc.area_ids.iter().any(|id| a.area_ids.contains(id))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(forbidden("approve this account"))
    }
}

/// Pages listing accounts that wait for approval: admins and CDAOs.
pub fn list_pending_accounts(a: &Actor) -> Result<(), AppError> {
    if matches!(a.role, Role::Admin | Role::Cdao) {
        Ok(())
    } else {
        Err(forbidden("approve accounts"))
    }
}

/// Which organisations an actor may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::app) enum OrgScope {
    All,
    /// Organisations in, or members of, any of these areas (a CDAO), plus their own.
    Areas {
        area_ids: Vec<Uuid>,
        own: Option<Uuid>,
    },
    One(Uuid),
}

pub(in crate::app) fn org_scope(a: &Actor) -> Result<OrgScope, AppError> {
    match a.role {
        Role::Admin | Role::Auditor => Ok(OrgScope::All),
        Role::Cdao => Ok(OrgScope::Areas {
            area_ids: a.area_ids.clone(),
            own: a.organisation_id,
        }),
        Role::Reporter | Role::OrgLead | Role::Member => match a.organisation_id {
            Some(id) => Ok(OrgScope::One(id)),
            None => Err(forbidden("see organisations")),
        },
        Role::Analyst => Err(forbidden("see organisations")),
    }
}

/// Which user records an actor may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::app) enum UserScope {
    All,
    /// Users of one organisation (an org lead's own), and themselves.
    Organisation {
        organisation_id: Uuid,
        self_id: Uuid,
    },
    /// CDAOs sharing an area with the actor (for assignment), and themselves.
    AreaCdaos {
        area_ids: Vec<Uuid>,
        self_id: Uuid,
    },
    Itself(Uuid),
}

pub(in crate::app) fn user_scope(a: &Actor) -> UserScope {
    match a.role {
        Role::Admin | Role::Auditor => UserScope::All,
        Role::OrgLead => match a.organisation_id {
            Some(organisation_id) => UserScope::Organisation {
                organisation_id,
                self_id: a.user_id,
            },
            None => UserScope::Itself(a.user_id),
        },
        Role::Cdao => UserScope::AreaCdaos {
            area_ids: a.area_ids.clone(),
            self_id: a.user_id,
        },
        Role::Reporter | Role::Member | Role::Analyst => UserScope::Itself(a.user_id),
    }
}

/// The parameters a scope binds into the scoped SQL of `db::`: (kind, organisation, self, areas).
impl UserScope {
    pub fn binds(&self) -> (&'static str, Option<Uuid>, Option<Uuid>, Vec<Uuid>) {
        match self {
            UserScope::All => ("all", None, None, vec![]),
            UserScope::Organisation {
                organisation_id,
                self_id,
            } => (
                "organisation",
                Some(*organisation_id),
                Some(*self_id),
                vec![],
            ),
            UserScope::AreaCdaos { area_ids, self_id } => {
                ("area_cdaos", None, Some(*self_id), area_ids.clone())
            }
            UserScope::Itself(id) => ("self", None, Some(*id), vec![]),
        }
    }
}

impl OrgScope {
    pub fn binds(&self) -> (&'static str, Option<Uuid>, Vec<Uuid>) {
        match self {
            OrgScope::All => ("all", None, vec![]),
            OrgScope::Areas { area_ids, own } => ("areas", *own, area_ids.clone()),
            OrgScope::One(id) => ("one", Some(*id), vec![]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: Uuid::now_v7(),
            role,
            name: "T".into(),
            email: "t@example.org".into(),
            organisation_id: Some(Uuid::now_v7()),
            organisation_name: None,
            area_ids: vec![Uuid::now_v7()],
            via: Via::Session,
        }
    }

    #[test]
    fn only_admins_manage_the_directory() {
        for r in Role::ALL {
            assert_eq!(
                manage_directory(&actor(*r)).is_ok(),
                *r == Role::Admin,
                "{r}"
            );
        }
    }

    #[test]
    fn only_auditors_read_the_audit_trail() {
        for r in Role::ALL {
            assert_eq!(read_audit(&actor(*r)).is_ok(), *r == Role::Auditor, "{r}");
        }
    }

    #[test]
    fn tokens_cannot_mint_tokens() {
        let mut a = actor(Role::Reporter);
        assert!(manage_own_tokens(&a).is_ok());
        a.via = Via::Token(Uuid::now_v7());
        assert!(matches!(manage_own_tokens(&a), Err(AppError::Forbidden(_))));
    }

    #[test]
    fn a_second_person_approves_accounts_that_read_cases_never_the_one_who_asked() {
        let gm = Uuid::now_v7();
        let london = Uuid::now_v7();
        let admin = actor(Role::Admin);
        let mut cdao = actor(Role::Cdao);
        cdao.area_ids = vec![gm];
        let acc = |role: Role, areas: Vec<Uuid>, by: Uuid| PendingAccount {
            id: Uuid::now_v7(),
            role,
            area_ids: areas,
            requested_by: Some(by),
        };
        let someone = Uuid::now_v7();
        for role in [Role::Cdao, Role::Member, Role::OrgLead] {
            assert!(needs_second_person(role));
            // Another admin: yes. The admin who asked: 403.
            assert!(approve_account(&admin, &acc(role, vec![gm], someone)).is_ok());
            assert!(matches!(
                approve_account(&admin, &acc(role, vec![gm], admin.user_id)),
                Err(AppError::Forbidden(_))
            ));
        }
        // A CDAO: cdao and member accounts of their own areas only.
        assert!(approve_account(&cdao, &acc(Role::Cdao, vec![gm, london], someone)).is_ok());
        assert!(approve_account(&cdao, &acc(Role::Member, vec![gm], someone)).is_ok());
        assert!(approve_account(&cdao, &acc(Role::Member, vec![london], someone)).is_err());
        assert!(approve_account(&cdao, &acc(Role::OrgLead, vec![gm], someone)).is_err());
        // Nobody else, and nobody approves themselves.
        for r in [
            Role::Reporter,
            Role::OrgLead,
            Role::Member,
            Role::Auditor,
            Role::Analyst,
        ] {
            assert!(approve_account(&actor(r), &acc(Role::Member, vec![gm], someone)).is_err());
            assert!(!needs_second_person(Role::Reporter));
        }
        let mut me = acc(Role::Cdao, vec![gm], someone);
        me.id = cdao.user_id;
        assert!(approve_account(&cdao, &me).is_err());
        assert!(list_pending_accounts(&cdao).is_ok() && list_pending_accounts(&admin).is_ok());
        assert!(list_pending_accounts(&actor(Role::Auditor)).is_err());
    }

    #[test]
    fn analysts_see_no_directory_records_but_their_own() {
        let a = actor(Role::Analyst);
        assert!(org_scope(&a).is_err());
        assert_eq!(user_scope(&a), UserScope::Itself(a.user_id));
    }
}

/// Submitting reports: staff of a provider.
pub fn submit_report(a: &Actor) -> Result<Uuid, AppError> {
    match (a.role, a.organisation_id) {
        (Role::Reporter | Role::OrgLead, Some(org)) => Ok(org),
        _ => Err(forbidden("submit reports")),
    }
}

/// Appending an amendment or evidence to a case the actor can see: its reporter, or their
/// organisation's CD lead.
pub fn amend_report(a: &Actor, reporter_id: Uuid, organisation_id: Uuid) -> Result<(), AppError> {
    let ok = match a.role {
        Role::Reporter => a.user_id == reporter_id,
        Role::OrgLead => a.organisation_id == Some(organisation_id),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(forbidden("amend this report"))
    }
}

/// Why an actor is looking at identity data, for the audit trail (SPEC §3: every view of
/// identity or patient data names its purpose).
pub fn identity_view_purpose(a: &Actor) -> &'static str {
    match a.role {
        Role::Cdao => "case review",
        Role::OrgLead => "organisation oversight",
        _ => "own report",
    }
}

/// Filing quarterly occurrence returns: an organisation's CD lead.
pub fn file_occurrence_return(a: &Actor) -> Result<Uuid, AppError> {
    match (a.role, a.organisation_id) {
        (Role::OrgLead, Some(org)) => Ok(org),
        _ => Err(forbidden("file occurrence returns")),
    }
}

/// Reading occurrence returns: an org lead their organisation's, a CDAO their areas'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::app) enum ReturnScope {
    Organisation(Uuid),
    Areas(Vec<Uuid>),
}

pub(in crate::app) fn read_occurrence_returns(a: &Actor) -> Result<ReturnScope, AppError> {
    match (a.role, a.organisation_id) {
        (Role::OrgLead, Some(org)) => Ok(ReturnScope::Organisation(org)),
        (Role::Cdao, _) => Ok(ReturnScope::Areas(a.area_ids.clone())),
        _ => Err(forbidden("see occurrence returns")),
    }
}

/// Triage (status, priority, assignment, risk, notes, links, closing): a CDAO of the case's
/// own area. Called once the case is known to be visible, so a refusal here is 403.
pub fn triage_case(a: &Actor, case_area: Uuid) -> Result<(), AppError> {
    if a.role == Role::Cdao && a.area_ids.contains(&case_area) {
        Ok(())
    } else {
        Err(forbidden("triage this case"))
    }
}

/// Correlation matches and access requests: CDAOs only (SPEC §3: reporters, members,
/// admins and analysts never see matches).
pub fn see_matches(a: &Actor) -> Result<(), AppError> {
    if a.role == Role::Cdao {
        Ok(())
    } else {
        Err(forbidden("see correlation matches"))
    }
}

/// Messages on a case: its area's CDAOs, and on the reporting side its reporter and their
/// organisation's CD lead.
pub fn message_case(
    a: &Actor,
    case_area: Uuid,
    reporter_id: Uuid,
    organisation_id: Uuid,
) -> Result<(), AppError> {
    let ok = match a.role {
        Role::Cdao => a.area_ids.contains(&case_area),
        Role::Reporter => a.user_id == reporter_id,
        Role::OrgLead => a.organisation_id == Some(organisation_id),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(forbidden("send messages on this case"))
    }
}

/// Whose statistics an actor may see (SPEC §3 "aggregate statistics").
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::app) enum StatsScope {
    Organisation(Uuid),
    Areas(Vec<Uuid>),
    /// National, with counts under 5 suppressed.
    National,
}

pub(in crate::app) fn stats_scope(
    a: &Actor,
    area_id: Option<Uuid>,
) -> Result<StatsScope, AppError> {
    match (a.role, a.organisation_id) {
        (Role::Reporter | Role::OrgLead, Some(org)) => Ok(StatsScope::Organisation(org)),
        (Role::Cdao, _) => match area_id {
            None => Ok(StatsScope::Areas(a.area_ids.clone())),
            Some(id) if a.area_ids.contains(&id) => Ok(StatsScope::Areas(vec![id])),
            Some(_) => Err(AppError::Forbidden(
                "You can see statistics of your own areas only.".into(),
            )),
        },
        (Role::Analyst, _) => Ok(match area_id {
            None => StatsScope::National,
            Some(id) => StatsScope::Areas(vec![id]),
        }),
        _ => Err(forbidden("see statistics")),
    }
}

/// Counts from 1 to 4 are hidden from national analysts (small-number suppression).
pub fn suppress_small_numbers(a: &Actor) -> bool {
    a.role == Role::Analyst
}

/// The statistics of the service, by who may see them (SPEC §3 "aggregate statistics",
/// §7.2). Reports are counted for the reporting side too; the rest are oversight figures for
/// the lead CDAO team (their areas) and national analysts (suppressed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dataset {
    /// Counts of reports: by month, category, schedule, sector, harm, drug, kind, status.
    Reports,
    /// Overseas online prescribing and cannabis-based products (CBPM).
    Oversight,
    /// Member organisations' responsiveness to alerts, and police CD liaison (CDLO) cover.
    Members,
    /// Opioid outcomes as statistical process control (XmR) charts.
    Outcomes,
}

impl Dataset {
    pub const ALL: &'static [Dataset] = &[
        Dataset::Reports,
        Dataset::Oversight,
        Dataset::Members,
        Dataset::Outcomes,
    ];
}

/// Whose figures of `dataset` an actor may see, for `area_id` if they chose one: 403 for a
/// role without the dataset, or a CDAO choosing an area not theirs.
pub(in crate::app) fn dataset_scope(
    a: &Actor,
    dataset: Dataset,
    area_id: Option<Uuid>,
) -> Result<StatsScope, AppError> {
    match (dataset, a.role) {
        (Dataset::Reports, _) | (_, Role::Cdao | Role::Analyst) => stats_scope(a, area_id),
        (Dataset::Oversight, _) => Err(forbidden(
            "see the overseas online prescribing and CBPM datasets",
        )),
        (Dataset::Members, _) => Err(forbidden("see member responsiveness or CDLO cover")),
        (Dataset::Outcomes, _) => Err(forbidden("see opioid outcome charts")),
    }
}

/// Whether the actor may see `dataset` (for `area_id`, when chosen): the decision alone, for
/// pages that choose what to show. The scope itself is made inside the service layer.
pub fn may_see(a: &Actor, dataset: Dataset, area_id: Option<Uuid>) -> Result<(), AppError> {
    dataset_scope(a, dataset, area_id).map(|_| ())
}

/// The areas whose figures the actor sees (a CDAO's, or the one chosen; an analyst's chosen
/// area), or `None` for an organisation's or England's figures.
pub fn stats_areas(a: &Actor, area_id: Option<Uuid>) -> Result<Option<Vec<Uuid>>, AppError> {
    Ok(match stats_scope(a, area_id)? {
        StatsScope::Areas(ids) => Some(ids),
        StatsScope::Organisation(_) | StatsScope::National => None,
    })
}

/// Whether the actor has cases to list at all.
pub fn may_list_cases(a: &Actor) -> Result<(), AppError> {
    crate::access::case_scope(a).map(|_| ())
}

/// The date range an actor's statistics cover. An analyst's is widened to whole calendar
/// months (SPEC §3), so that two overlapping queries differing by a few days give the same
/// figures and their difference cannot single out a case.
pub fn stats_period(
    a: &Actor,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
    if !suppress_small_numbers(a) {
        return (from, to);
    }
    (
        from.map(crate::domain::spc::month_start),
        to.map(crate::domain::spc::month_end),
    )
}

/// Whether the actor records improvement initiatives at all (for their own areas).
pub fn may_record_initiatives(a: &Actor) -> bool {
    a.role == Role::Cdao
}

/// Recording an improvement initiative for an area's opioid outcomes: a CDAO of that area.
pub fn record_initiative(a: &Actor, area_id: Uuid) -> Result<(), AppError> {
    if may_record_initiatives(a) && a.area_ids.contains(&area_id) {
        Ok(())
    } else if a.role == Role::Cdao {
        Err(AppError::Forbidden(
            "You can record initiatives for your own areas only.".into(),
        ))
    } else {
        Err(forbidden("record improvement initiatives"))
    }
}

#[cfg(test)]
mod dataset_tests {
    #![allow(clippy::panic)]
    use super::*;
    use chrono::NaiveDate;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: Uuid::now_v7(),
            role,
            name: "T".into(),
            email: "t@example.org".into(),
            organisation_id: Some(Uuid::now_v7()),
            organisation_name: None,
            area_ids: vec![Uuid::now_v7()],
            via: Via::Session,
        }
    }

    /// Who sees which dataset, and how: the access matrix's "aggregate statistics" row.
    #[test]
    fn each_role_sees_each_dataset_as_the_matrix_says() {
        for role in Role::ALL {
            let a = actor(*role);
            for d in Dataset::ALL {
                let got = dataset_scope(&a, *d, None);
                let want = match (role, d) {
                    (Role::Cdao, _) => Some(StatsScope::Areas(a.area_ids.clone())),
                    (Role::Analyst, _) => Some(StatsScope::National),
                    (Role::Reporter | Role::OrgLead, Dataset::Reports) => {
                        a.organisation_id.map(StatsScope::Organisation)
                    }
                    _ => None,
                };
                match (got, want) {
                    (Ok(g), Some(w)) => assert_eq!(g, w, "{role} {d:?}"),
                    (Err(AppError::Forbidden(_)), None) => {}
                    (g, w) => panic!("{role} {d:?}: got {g:?}, want {w:?}"),
                }
            }
        }
    }

    #[test]
    fn a_cdao_chooses_only_their_own_areas_and_an_analyst_any() {
        let cdao = actor(Role::Cdao);
        let own = cdao.area_ids[0];
        let other = Uuid::now_v7();
        for d in Dataset::ALL {
            assert_eq!(
                dataset_scope(&cdao, *d, Some(own)).ok(),
                Some(StatsScope::Areas(vec![own]))
            );
            assert!(matches!(
                dataset_scope(&cdao, *d, Some(other)),
                Err(AppError::Forbidden(_))
            ));
            assert_eq!(
                dataset_scope(&actor(Role::Analyst), *d, Some(other)).ok(),
                Some(StatsScope::Areas(vec![other]))
            );
        }
    }

    #[test]
    fn only_analysts_have_small_numbers_suppressed_and_months_snapped() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        for role in Role::ALL {
            let a = actor(*role);
            let (from, to) = stats_period(&a, d("2026-02-10"), d("2026-02-20"));
            if *role == Role::Analyst {
                assert!(suppress_small_numbers(&a));
                assert_eq!((from, to), (d("2026-02-01"), d("2026-02-28")));
            } else {
                assert!(!suppress_small_numbers(&a));
                assert_eq!((from, to), (d("2026-02-10"), d("2026-02-20")));
            }
        }
        let analyst = actor(Role::Analyst);
        assert_eq!(
            stats_period(&analyst, d("2024-02-29"), d("2024-02-01")),
            (d("2024-02-01"), d("2024-02-29")),
            "leap years"
        );
        assert_eq!(
            stats_period(&analyst, None, d("2026-12-05")),
            (None, d("2026-12-31"))
        );
    }

    #[test]
    fn initiatives_are_recorded_by_the_areas_own_cdaos() {
        for role in Role::ALL {
            let a = actor(*role);
            assert_eq!(
                record_initiative(&a, a.area_ids[0]).is_ok(),
                *role == Role::Cdao
            );
            assert!(record_initiative(&a, Uuid::now_v7()).is_err());
        }
    }
}

/// Exporting the case list (no identities): CDAOs.
pub fn export_cases(a: &Actor) -> Result<Vec<Uuid>, AppError> {
    if a.role == Role::Cdao {
        Ok(a.area_ids.clone())
    } else {
        Err(forbidden("export cases"))
    }
}
