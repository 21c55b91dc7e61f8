//! Capabilities (SPEC §3): the only code that turns an actor and an id into a handle on case
//! data. A handle's fields are private, so nothing else can make one; the functions that read
//! or change case data take a handle, never a bare id, so a forgotten check does not compile.
//!
//! - [`case`] hands out a [`VisibleCase`] (404 otherwise) saying how the actor sees it:
//!   as the CDAO team holding it, as its reporting side, or through a live share to another
//!   area's team. From it, [`VisibleCase::triage`], [`VisibleCase::reporting`] and
//!   [`VisibleCase::conversation`] narrow it to what an action needs (403 otherwise).
//! - [`alert`] hands out a member's [`Alert`]; [`Alert::live`] the [`LiveAlert`] whose content
//!   may be shown.
//! - [`managed_share`] and [`access_request`] hand out what the holding team may decide.
//! - [`CaseScope`] and [`AreaScope`] are opaque: only this module makes them.
//!
//! Who may see a case is written once, in [`CaseScope`]: [`CaseScope::view_of`] judges one
//! case and [`CaseScope::branches`] is the same rule as the branches of a list query.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::directory::Role;
use crate::error::{AppError, AppResult};
use crate::policy::Actor;

mod sealed {
    pub trait Sealed {}
}

/// Anything naming a case its holder was allowed to reach. Functions that read or change
/// case data take one of these (or a narrower handle) instead of an id.
pub trait CaseRef: sealed::Sealed {
    fn case_id(&self) -> Uuid;
}

/// The facts of a case the access decision and the services need.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: Uuid,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub priority: Option<String>,
    pub priority_suggested: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub triaged_at: Option<DateTime<Utc>>,
    pub organisation_id: Uuid,
    pub organisation_name: String,
    pub sector: String,
    pub area_id: Uuid,
    pub area_name: String,
    pub reporter_id: Uuid,
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub report: Value,
    /// When retention removed its details (identities, free text, evidence).
    pub details_removed_at: Option<DateTime<Utc>>,
}

/// What a live share to the actor's team discloses of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareTerms {
    pub share_id: Uuid,
    pub disclosure: String,
    pub include_patient_data: bool,
    pub include_organisation_name: bool,
    pub lawful_basis: String,
    pub purpose: String,
    pub summary: String,
    pub expires_at: DateTime<Utc>,
    /// The evidence the share names, and no other.
    pub attachment_ids: Vec<Uuid>,
}

/// How an actor sees a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// The CDAO team of the case's own area: everything, and they act on it.
    Holding,
    /// Its reporter, or their organisation's CD lead: the report as submitted, its status and
    /// the messages addressed to the reporting side.
    Reporting,
    /// Another area's CDAO team, through a live share: exactly what the share discloses.
    Shared(ShareTerms),
}

/// A case the actor may see.
#[derive(Debug, Clone)]
pub struct VisibleCase {
    row: CaseRow,
    view: View,
}

impl sealed::Sealed for VisibleCase {}
impl CaseRef for VisibleCase {
    fn case_id(&self) -> Uuid {
        self.row.id
    }
}

impl VisibleCase {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub fn reference(&self) -> &str {
        &self.row.reference
    }
    pub fn area_id(&self) -> Uuid {
        self.row.area_id
    }
    pub fn view(&self) -> &View {
        &self.view
    }
    pub fn is_holding(&self) -> bool {
        self.view == View::Holding
    }
    /// The case's facts, for the services that decide what of them to show.
    pub(crate) fn row(&self) -> &CaseRow {
        &self.row
    }

    /// Triage and everything internal to the holding team (notes, matches, shares):
    /// the CDAO team of the case's own area. Anyone else who can see the case: 403.
    pub fn triage(self) -> AppResult<TriageCase> {
        match self.view {
            View::Holding => Ok(TriageCase { row: self.row }),
            _ => Err(forbidden(
                "act on this case: only its own area's CDAO team can",
            )),
        }
    }

    /// Corrections and evidence: the reporting side.
    pub fn reporting(self) -> AppResult<ReportingCase> {
        match self.view {
            View::Reporting => Ok(ReportingCase { row: self.row }),
            _ => Err(forbidden("amend this report")),
        }
    }

    /// Messages between the holding team and the reporting side.
    pub fn conversation(self) -> AppResult<Conversation> {
        match self.view {
            View::Holding => Ok(Conversation {
                row: self.row,
                from_cdao: true,
            }),
            View::Reporting => Ok(Conversation {
                row: self.row,
                from_cdao: false,
            }),
            View::Shared(_) => Err(forbidden("send messages on this case")),
        }
    }
}

/// A case its holding CDAO team acts on.
#[derive(Debug, Clone)]
pub struct TriageCase {
    row: CaseRow,
}

impl sealed::Sealed for TriageCase {}
impl CaseRef for TriageCase {
    fn case_id(&self) -> Uuid {
        self.row.id
    }
}

impl TriageCase {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub fn reference(&self) -> &str {
        &self.row.reference
    }
    pub fn area_id(&self) -> Uuid {
        self.row.area_id
    }
    pub(crate) fn row(&self) -> &CaseRow {
        &self.row
    }
}

/// A report its reporting side adds to.
#[derive(Debug, Clone)]
pub struct ReportingCase {
    row: CaseRow,
}

impl sealed::Sealed for ReportingCase {}
impl CaseRef for ReportingCase {
    fn case_id(&self) -> Uuid {
        self.row.id
    }
}

impl ReportingCase {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
}

/// A case on which the actor may write to the other side.
#[derive(Debug, Clone)]
pub struct Conversation {
    row: CaseRow,
    from_cdao: bool,
}

impl sealed::Sealed for Conversation {}
impl CaseRef for Conversation {
    fn case_id(&self) -> Uuid {
        self.row.id
    }
}

impl Conversation {
    pub fn from_cdao(&self) -> bool {
        self.from_cdao
    }
    pub(crate) fn row(&self) -> &CaseRow {
        &self.row
    }
}

fn forbidden(what: &str) -> AppError {
    AppError::Forbidden(format!("Your role does not allow you to {what}."))
}

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
    fn view_of(&self, row: &CaseRow, share: Option<ShareTerms>) -> Option<View> {
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
    fn team_areas(&self) -> &[Uuid] {
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
fn scope_of(a: &Actor) -> Option<CaseScope> {
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

/// A case the actor may see; 404 when there is none or they may not see it.
pub async fn case(a: &Actor, db: &PgPool, id: Uuid, now: DateTime<Utc>) -> AppResult<VisibleCase> {
    let mut conn = db.acquire().await?;
    case_on(a, &mut conn, id, now).await
}

/// As [`case`], on the caller's connection (inside its transaction).
pub async fn case_on(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<VisibleCase> {
    let Some(scope) = scope_of(a) else {
        return Err(AppError::NotFound);
    };
    load(conn, &scope, &[id], now)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)
}

/// A case locked for a change until the caller's transaction ends.
pub async fn case_locked(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<VisibleCase> {
    if scope_of(a).is_none() {
        return Err(AppError::NotFound);
    }
    sqlx::query!("SELECT id FROM cases WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *conn)
        .await?;
    case_on(a, conn, id, now).await
}

/// Which of `ids` the actor may see (for links between cases), in no particular order.
pub async fn visible_cases(
    a: &Actor,
    db: &PgPool,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<VisibleCase>> {
    let Some(scope) = scope_of(a) else {
        return Ok(vec![]);
    };
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut conn = db.acquire().await?;
    load(&mut conn, &scope, ids, now).await
}

async fn load(
    conn: &mut PgConnection,
    scope: &CaseScope,
    ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<VisibleCase>> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.reference, c.kind, c.status, c.priority, c.priority_suggested, c.assignee_id, c.triaged_at,
                  c.organisation_id, o.name AS organisation_name, c.sector, c.area_id, ar.name AS area_name,
                  c.reporter_id, c.submitted_at, c.updated_at, c.report, c.details_removed_at,
                  s.id AS "share_id?", s.disclosure AS "disclosure?", s.include_patient_data AS "include_patient_data?",
                  s.include_organisation_name AS "include_organisation_name?", s.lawful_basis AS "lawful_basis?",
                  s.purpose AS "purpose?", s.summary AS "summary?", s.expires_at AS "expires_at?",
                  s.attachment_ids AS "attachment_ids?"
           FROM cases c
           JOIN organisations o ON o.id = c.organisation_id
           JOIN areas ar ON ar.id = c.area_id
           LEFT JOIN LATERAL (
               SELECT s.id, s.disclosure, s.include_patient_data, s.include_organisation_name, s.lawful_basis,
                      s.purpose, s.summary, s.expires_at,
                      ARRAY(SELECT sa.attachment_id FROM share_attachments sa WHERE sa.share_id = s.id) AS attachment_ids
               FROM shares s
               WHERE s.case_id = c.id AND s.recipient_area_id = ANY($2) AND s.approval = 'approved'
                 AND s.revoked_at IS NULL AND s.expires_at > $3
               ORDER BY s.created_at DESC LIMIT 1) s ON true
           WHERE c.id = ANY($1)"#,
        ids,
        scope.team_areas(),
        now
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let share = match (
                r.share_id,
                r.disclosure,
                r.include_patient_data,
                r.include_organisation_name,
                r.lawful_basis,
                r.purpose,
                r.summary,
                r.expires_at,
            ) {
                (
                    Some(share_id),
                    Some(d),
                    Some(p),
                    Some(o),
                    Some(l),
                    Some(pu),
                    Some(su),
                    Some(e),
                ) => Some(ShareTerms {
                    share_id,
                    disclosure: d,
                    include_patient_data: p,
                    include_organisation_name: o,
                    lawful_basis: l,
                    purpose: pu,
                    summary: su,
                    expires_at: e,
                    attachment_ids: r.attachment_ids.unwrap_or_default(),
                }),
                _ => None,
            };
            let row = CaseRow {
                id: r.id,
                reference: r.reference,
                kind: r.kind,
                status: r.status,
                priority: r.priority,
                priority_suggested: r.priority_suggested,
                assignee_id: r.assignee_id,
                triaged_at: r.triaged_at,
                organisation_id: r.organisation_id,
                organisation_name: r.organisation_name,
                sector: r.sector,
                area_id: r.area_id,
                area_name: r.area_name,
                reporter_id: r.reporter_id,
                submitted_at: r.submitted_at,
                updated_at: r.updated_at,
                report: r.report,
                details_removed_at: r.details_removed_at,
            };
            scope
                .view_of(&row, share)
                .map(|view| VisibleCase { row, view })
        })
        .collect())
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

/// Whether a delivered alert still shows its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertState {
    Live,
    Expired,
    Revoked,
}

impl AlertState {
    pub fn code(self) -> &'static str {
        match self {
            AlertState::Live => "live",
            AlertState::Expired => "expired",
            AlertState::Revoked => "revoked",
        }
    }

    pub fn of(
        revoked_at: Option<DateTime<Utc>>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        if revoked_at.is_some() {
            AlertState::Revoked
        } else if expires_at <= now {
            AlertState::Expired
        } else {
            AlertState::Live
        }
    }
}

/// A delivered alert of the actor's organisation: its existence, reference and the
/// organisation's own responses, whatever its state.
#[derive(Debug, Clone)]
pub struct Alert {
    row: crate::app::db::shares::AlertRow,
    state: AlertState,
}

impl sealed::Sealed for Alert {}
impl CaseRef for Alert {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl Alert {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub fn state(&self) -> AlertState {
        self.state
    }
    pub(crate) fn row(&self) -> &crate::app::db::shares::AlertRow {
        &self.row
    }
    /// The alert while its share is live (what may show content, and be acted on);
    /// 409 once it has expired or been revoked.
    pub fn live(self) -> AppResult<LiveAlert> {
        match self.state {
            AlertState::Live => Ok(LiveAlert { row: self.row }),
            _ => Err(AppError::Conflict(
                "This alert has expired or been revoked.".into(),
            )),
        }
    }
}

/// An alert whose share is live: what the share discloses may be shown.
#[derive(Debug, Clone)]
pub struct LiveAlert {
    row: crate::app::db::shares::AlertRow,
}

impl sealed::Sealed for LiveAlert {}
impl CaseRef for LiveAlert {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl LiveAlert {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub(crate) fn row(&self) -> &crate::app::db::shares::AlertRow {
        &self.row
    }
}

/// A delivered alert of the actor's organisation; 404 for anyone else.
pub async fn alert(a: &Actor, db: &PgPool, id: Uuid, now: DateTime<Utc>) -> AppResult<Alert> {
    let org = match (a.role, a.organisation_id) {
        (Role::Member, Some(org)) => org,
        _ => return Err(AppError::NotFound),
    };
    let row = crate::app::db::shares::alerts_of(db, org, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    let state = AlertState::of(row.revoked_at, row.expires_at, now);
    Ok(Alert { row, state })
}

/// A delivered alert seen from the CDAO team of its share's area: the conversation with the
/// member organisation (issue 11). 404 for anyone else.
#[derive(Debug, Clone)]
pub struct TeamAlert {
    row: crate::app::db::conversation::TeamAlertRow,
    state: AlertState,
}

impl sealed::Sealed for TeamAlert {}
impl CaseRef for TeamAlert {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl TeamAlert {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub fn state(&self) -> AlertState {
        self.state
    }
    pub fn row(&self) -> &crate::app::db::conversation::TeamAlertRow {
        &self.row
    }
    /// The conversation goes on only while the share is live; 409 once it has expired or
    /// been revoked.
    pub fn live(&self) -> AppResult<()> {
        match self.state {
            AlertState::Live => Ok(()),
            _ => Err(AppError::Conflict(
                "This alert has expired or been revoked: the conversation is closed.".into(),
            )),
        }
    }
}

pub async fn team_alert(
    a: &Actor,
    db: &PgPool,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<TeamAlert> {
    if a.role != Role::Cdao {
        return Err(AppError::NotFound);
    }
    let row = crate::app::db::conversation::team_alert(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !a.area_ids.contains(&row.area_id) {
        return Err(AppError::NotFound);
    }
    let state = AlertState::of(row.revoked_at, row.expires_at, now);
    Ok(TeamAlert { row, state })
}

/// A share its holding area's CDAO team manages (approve, decline, revoke), locked until the
/// caller's transaction ends; 404 for anyone else.
#[derive(Debug, Clone)]
pub struct ManagedShare {
    row: crate::app::db::shares::ShareRow,
}

impl sealed::Sealed for ManagedShare {}
impl CaseRef for ManagedShare {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl ManagedShare {
    pub fn id(&self) -> Uuid {
        self.row.id
    }
    pub(crate) fn row(&self) -> &crate::app::db::shares::ShareRow {
        &self.row
    }
}

pub async fn managed_share(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
) -> AppResult<ManagedShare> {
    if a.role != Role::Cdao {
        return Err(AppError::NotFound);
    }
    let row = crate::app::db::shares::lock_share(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !a.area_ids.contains(&row.area_id) {
        return Err(AppError::NotFound);
    }
    Ok(ManagedShare { row })
}

/// A request to remove a person record entered in error, which its case's holding CDAO team
/// decides; locked until the caller's transaction ends. 404 for anyone else.
#[derive(Debug, Clone)]
pub struct ManagedErasure {
    row: crate::app::db::erasures::Erasure,
}

impl sealed::Sealed for ManagedErasure {}
impl CaseRef for ManagedErasure {
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl ManagedErasure {
    pub fn row(&self) -> &crate::app::db::erasures::Erasure {
        &self.row
    }
}

pub async fn managed_erasure(
    a: &Actor,
    conn: &mut PgConnection,
    id: Uuid,
) -> AppResult<ManagedErasure> {
    if a.role != Role::Cdao {
        return Err(AppError::NotFound);
    }
    let row = crate::app::db::erasures::lock(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !a.area_ids.contains(&row.area_id) {
        return Err(AppError::NotFound);
    }
    Ok(ManagedErasure { row })
}

/// An access request made by, or to, one of the actor's areas; 404 for anyone else.
#[derive(Debug, Clone)]
pub struct VisibleRequest {
    row: crate::app::db::triage::AccessRequest,
}

impl VisibleRequest {
    pub fn row(&self) -> &crate::app::db::triage::AccessRequest {
        &self.row
    }
    /// Deciding: the team holding the match. The requesting team: 403.
    pub fn decision(self, a: &Actor) -> AppResult<DecidableRequest> {
        if a.area_ids.contains(&self.row.holding_area_id) {
            Ok(DecidableRequest { row: self.row })
        } else {
            Err(AppError::Forbidden(
                "Only the team holding the match can decide.".into(),
            ))
        }
    }
}

/// An access request its holding team decides.
#[derive(Debug, Clone)]
pub struct DecidableRequest {
    row: crate::app::db::triage::AccessRequest,
}

impl sealed::Sealed for DecidableRequest {}
impl CaseRef for DecidableRequest {
    /// The requesting team's own case (the one whose person matched).
    fn case_id(&self) -> Uuid {
        self.row.case_id
    }
}

impl DecidableRequest {
    pub fn row(&self) -> &crate::app::db::triage::AccessRequest {
        &self.row
    }
}

pub async fn access_request(a: &Actor, db: &PgPool, id: Uuid) -> AppResult<VisibleRequest> {
    // Access requests are the CDAO teams' business: other roles are refused outright.
    let areas = cdao_areas(a)?;
    let row = crate::app::db::triage::access_requests(db, &areas, Some(id))
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound)?;
    Ok(VisibleRequest { row })
}

/// A closed case past its retention period, locked until the caller's transaction ends: what
/// the retention run may strip of its details. Only [`cases_past_retention`] makes one.
#[derive(Debug, Clone)]
pub struct RetainedCase {
    id: Uuid,
    reference: String,
    report: Value,
}

impl sealed::Sealed for RetainedCase {}
impl CaseRef for RetainedCase {
    fn case_id(&self) -> Uuid {
        self.id
    }
}

impl RetainedCase {
    pub fn reference(&self) -> &str {
        &self.reference
    }
    pub(crate) fn report(&self) -> &Value {
        &self.report
    }
}

/// Closed cases past their period (SPEC §7.2 `CDC_RETENTION_YEARS`,
/// `CDC_RETENTION_UNFOUNDED_YEARS`), oldest first, at most `limit`, locked (others skip them).
/// A case with a share that is still open (pending, or approved and live), a pending access
/// request or a pending erasure waits.
pub async fn cases_past_retention(
    conn: &mut PgConnection,
    periods: crate::domain::retention::Periods,
    now: DateTime<Utc>,
    limit: i64,
) -> AppResult<Vec<RetainedCase>> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.reference, c.report FROM cases c
           WHERE c.status = 'closed' AND c.details_removed_at IS NULL AND c.closed_at IS NOT NULL
             AND (c.closed_at <= $1
                  OR (c.kind = 'person_concern' AND c.well_founded = 'no' AND c.closed_at <= $2))
             AND NOT EXISTS (SELECT 1 FROM shares s WHERE s.case_id = c.id AND s.revoked_at IS NULL
                             AND (s.approval = 'pending' OR (s.approval = 'approved' AND s.expires_at > $3)))
             AND NOT EXISTS (SELECT 1 FROM access_requests r WHERE r.case_id = c.id AND r.status = 'pending')
             AND NOT EXISTS (SELECT 1 FROM person_erasures e WHERE e.case_id = c.id AND e.status = 'pending')
           ORDER BY c.closed_at, c.id
           LIMIT $4
           FOR UPDATE OF c SKIP LOCKED"#,
        periods.cutoff(false, now),
        periods.cutoff(true, now),
        now,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| RetainedCase {
            id: r.id,
            reference: r.reference,
            report: r.report,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Via;

    fn actor(role: Role, org: Uuid, areas: Vec<Uuid>) -> Actor {
        Actor {
            user_id: Uuid::now_v7(),
            role,
            name: "T".into(),
            email: "t@example.org".into(),
            organisation_id: Some(org),
            organisation_name: None,
            area_ids: areas,
            via: Via::Session,
        }
    }

    fn row(reporter: Uuid, org: Uuid, area: Uuid) -> CaseRow {
        CaseRow {
            id: Uuid::now_v7(),
            reference: "CD-2026-000001".into(),
            kind: "incident".into(),
            status: "new".into(),
            priority: None,
            priority_suggested: None,
            assignee_id: None,
            triaged_at: None,
            organisation_id: org,
            organisation_name: "Org".into(),
            sector: "community_pharmacy".into(),
            area_id: area,
            area_name: "Area".into(),
            reporter_id: reporter,
            submitted_at: Utc::now(),
            updated_at: Utc::now(),
            report: Value::Null,
            details_removed_at: None,
        }
    }

    fn terms() -> ShareTerms {
        ShareTerms {
            share_id: Uuid::now_v7(),
            disclosure: "identified".into(),
            include_patient_data: false,
            include_organisation_name: true,
            lawful_basis: "public_task_health_care".into(),
            purpose: "p".into(),
            summary: "s".into(),
            expires_at: Utc::now(),
            attachment_ids: vec![],
        }
    }

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

    /// What each view may do with a case.
    #[test]
    fn views_narrow_to_actions() {
        let r = row(Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let v = |view: View| VisibleCase {
            row: r.clone(),
            view,
        };
        assert!(v(View::Holding).triage().is_ok());
        assert!(matches!(
            v(View::Reporting).triage(),
            Err(AppError::Forbidden(_))
        ));
        assert!(matches!(
            v(View::Shared(terms())).triage(),
            Err(AppError::Forbidden(_))
        ));
        assert!(v(View::Reporting).reporting().is_ok());
        assert!(v(View::Holding).reporting().is_err());
        assert!(v(View::Shared(terms())).reporting().is_err());
        assert!(v(View::Holding).conversation().unwrap().from_cdao());
        assert!(!v(View::Reporting).conversation().unwrap().from_cdao());
        assert!(v(View::Shared(terms())).conversation().is_err());
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

    #[test]
    fn alerts_show_content_only_while_live() {
        let now = Utc::now();
        let later = now + chrono::TimeDelta::days(1);
        assert_eq!(AlertState::of(None, later, now), AlertState::Live);
        assert_eq!(AlertState::of(None, now, now), AlertState::Expired);
        assert_eq!(AlertState::of(Some(now), later, now), AlertState::Revoked);
    }
}
