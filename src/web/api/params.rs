//! The query parameters of the API, declared once for the document (and so for the edge
//! that checks them: `query.rs`). Enumerations are the server's own code enums, so the
//! document cannot offer a code the handlers refuse. Handlers read the same names.

use utoipa::IntoParams;
use uuid::Uuid;

use crate::domain::directory::{OrgKind, Role, Sector, UserStatus};
use crate::domain::report::{CaseStatus, Harm, Schedule};
use crate::domain::triage::Priority;

/// The kind of a case.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    Incident,
    PersonConcern,
}

/// The order of the case list.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseSort {
    Newest,
    Oldest,
}

/// Which alerts to list.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertFilter {
    All,
    Unread,
    Unacknowledged,
}

/// Filters of the case list (`GET /api/v1/cases` and its CSV export). Lists are
/// comma-separated (`status=new,in_review`) or repeated (`status=new&status=in_review`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CaseListQuery {
    /// One or more statuses.
    #[param(style = Form, explode = false, max_items = 5)]
    status: Option<Vec<CaseStatus>>,
    /// One or more priorities (CDAOs only: 403 for reporters and organisation leads).
    #[param(style = Form, explode = false, max_items = 4)]
    priority: Option<Vec<Priority>>,
    kind: Option<CaseKind>,
    /// One or more incident or concern category codes.
    #[param(style = Form, explode = false)]
    category: Option<Vec<String>>,
    /// One or more schedules.
    #[param(style = Form, explode = false, max_items = 6)]
    schedule: Option<Vec<Schedule>>,
    /// One or more harm levels.
    #[param(style = Form, explode = false, max_items = 5)]
    harm: Option<Vec<Harm>>,
    /// One or more sectors of the reporting organisation.
    #[param(style = Form, explode = false)]
    sector: Option<Vec<Sector>>,
    organisation_id: Option<Uuid>,
    /// A CDAO's id, or `none` for cases nobody is assigned to (CDAOs only).
    #[param(value_type = Option<AssigneeFilter>)]
    assignee_id: Option<String>,
    /// Cases naming this catalogue drug.
    drug_id: Option<Uuid>,
    /// Only cases past their triage target (CDAOs only).
    overdue: Option<bool>,
    /// `newest` (default) or `oldest` first.
    sort: Option<CaseSort>,
    /// Submitted on or after this date.
    #[param(format = Date, value_type = Option<String>)]
    from: Option<String>,
    /// Submitted on or before this date.
    #[param(format = Date, value_type = Option<String>)]
    to: Option<String>,
    /// A reference (`CD-2026-000123`, or its end: `000123`), or words of the description. For
    /// the CDAO team, also a person named in a report their areas hold: an NHS number, a GMC,
    /// GPhC, NMC, HCPC or GDC number, a prescriber code, or a name and a date of birth
    /// (`Alan Price 03/09/1971`), matched through the blind indexes and never kept.
    q: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /api/v1/drugs`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DrugQuery {
    /// Part of a name or a brand name.
    q: Option<String>,
}

/// `GET /api/v1/organisations`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct OrganisationQuery {
    /// Name or ODS code contains.
    q: Option<String>,
    kind: Option<OrgKind>,
    area_id: Option<Uuid>,
}

/// `GET /api/v1/users`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UserQuery {
    /// Name or email contains.
    q: Option<String>,
    role: Option<Role>,
    organisation_id: Option<Uuid>,
    status: Option<UserStatus>,
}

/// `GET /api/v1/alerts`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AlertQuery {
    /// `all` (default), `unread` or `unacknowledged`. A page holds up to 500 alerts the
    /// filter keeps, newest first.
    filter: Option<AlertFilter>,
    /// The `next_cursor` of the previous page (with the same filter).
    cursor: Option<String>,
}

/// `GET /api/v1/stats`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatsParams {
    /// month, category, schedule, sector, harm, drug, kind, status, online_service,
    /// prescriber_country, cbpm_issue, cbpm_prescriber_type, cbpm_setting, region (the NHS
    /// England region of the holding area) or area (the LIN area) (default category).
    group_by: Option<String>,
    #[param(format = Date, value_type = Option<String>)]
    from: Option<String>,
    #[param(format = Date, value_type = Option<String>)]
    to: Option<String>,
    area_id: Option<Uuid>,
}

/// An assignee's id, or `none`.
pub struct AssigneeFilter;

impl utoipa::PartialSchema for AssigneeFilter {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["none"])),
            )
            .into()
    }
}

impl utoipa::ToSchema for AssigneeFilter {}

/// A date (`2026-11-21`) or an RFC 3339 time.
pub struct DateOrTime;

impl utoipa::PartialSchema for DateOrTime {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        let string = |f: KnownFormat| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(f)))
        };
        OneOfBuilder::new()
            .item(string(KnownFormat::Date))
            .item(string(KnownFormat::DateTime))
            .into()
    }
}

impl utoipa::ToSchema for DateOrTime {}

/// `GET /api/v1/audit`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AuditQuery {
    actor_id: Option<Uuid>,
    case_id: Option<Uuid>,
    /// A case reference like CD-2026-000009, or a case id.
    #[param(max_length = 100)]
    case: Option<String>,
    /// A user: their email address, their name or part of it, or their id.
    #[param(max_length = 200)]
    user: Option<String>,
    subject_id: Option<Uuid>,
    /// An action name, or a prefix ending in '.' such as `auth.`.
    action: Option<String>,
    /// From this date or time.
    #[param(value_type = Option<DateOrTime>)]
    from: Option<String>,
    /// Up to this time, or to the end of this date.
    #[param(value_type = Option<DateOrTime>)]
    to: Option<String>,
    /// 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// `GET /api/v1/occurrence-returns`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReturnQuery {
    year: Option<i32>,
}

/// The chart of `GET /api/v1/stats/spc`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SpcParams {
    /// The outcome measure.
    measure: crate::domain::stats::Measure,
    /// One area (CDAOs: one of theirs); England when left out (analysts).
    area_id: Option<Uuid>,
    /// The reporting organisations' sector, like community_pharmacy.
    sector: Option<Sector>,
}

/// The cover of `GET /api/v1/stats/cdlo`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AreaParams {
    /// One area (CDAOs: one of theirs); every area the caller may see when left out.
    area_id: Option<Uuid>,
}
