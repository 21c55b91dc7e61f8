//! The JSON API (SPEC §7), with its OpenAPI 3.1 document generated from these handlers.

pub mod audit;
pub mod case_list;
pub mod cases;
pub mod conversation;
pub mod cursor;
pub mod directory;
pub mod docs;
pub mod json;
pub mod me;
pub mod oversight;
pub mod params;
pub mod query;
pub mod rights;
pub mod shares;
pub mod stats;
pub mod triage;

use axum::extract::State;
use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CD Concerns API",
        description = "Report, triage and route concerns about controlled drugs in England.\n\n\
**Authentication.** Send `Authorization: Bearer <token>` (create tokens from a signed-in browser \
session, or ask the operator for one). Anything the caller may not see answers 404, exactly as if \
it did not exist; 403 is for something the caller can see but may not do.\n\n\
**Errors** are RFC 9457 problem documents (`application/problem+json`); a 422 lists every failing \
field in `errors`, each named by its path (`drugs[0].schedule`, `person.full_name`) or by its \
query parameter or header.\n\n\
**One rule for input.** Unknown body fields and unknown query parameters are refused with 422 \
(`additionalProperties: false`); a query parameter given with an empty value is refused with 422; \
no text may hold a control character (U+0000 to U+001F, U+007F to U+009F), except tab, line feed \
and carriage return in free text (descriptions, notes, messages, reasons, summaries, addresses). \
Text is trimmed before its length is checked. `null` is the same as leaving an optional field out.\n\n\
**Retries.** `POST /api/v1/incidents` and `POST /api/v1/person-concerns` honour `Idempotency-Key`: \
a retry with the same key and body answers as the first time did (with `Idempotent-Replayed: true`); \
the same key with another body is 409.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(
        crate::error::Problem,
        crate::domain::validation::FieldError,
        // Named by query parameters only, so listed here to be in the document.
        params::CaseKind,
        params::CaseSort,
        params::AlertFilter,
        params::DateOrTime,
        params::AssigneeFilter,
        crate::domain::report::CaseStatus,
        crate::domain::report::Schedule,
        crate::domain::stats::Measure,
        crate::domain::report::Harm,
        crate::domain::triage::Priority,
        crate::domain::directory::Sector,
        crate::domain::directory::OrgKind,
        crate::domain::directory::Role,
        crate::domain::directory::UserStatus,
    ))
)]
struct ApiDoc;

/// The body of `POST /api/v1/cases/{id}/attachments`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct AttachmentUpload {
    /// PDF, PNG, JPEG, plain text, DOCX or XLSX (checked by content), at most 10 MiB.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// The decision on an access request, as `POST /api/v1/access-requests/{id}/decide` reads it.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessDecision {
    Approve,
    Decline,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// What every operation of the API can answer besides its own successes, added to each
/// operation from what it takes (a body, a path id, query parameters, headers), so that
/// handlers list only what is particular to them. Every error is a `Problem` under
/// `application/problem+json`, and every response has a description.
pub struct CommonResponses;

const PROBLEM_TYPE: &str = "application/problem+json";

fn describe(status: &str) -> &'static str {
    match status {
        "200" => "Success.",
        "201" => "Created.",
        "204" => "Done; there is nothing to return.",
        "400" => "Malformed request: the body is not valid JSON, or a header is malformed.",
        "401" => "No token, or the token is not valid, has expired or was revoked.",
        "403" => {
            "The caller may see this but may not do it (or their role may not use this operation)."
        }
        "404" => {
            "Not found, or not visible to the caller: the two are deliberately the same answer."
        }
        "409" => {
            "Conflicts with the current state (for example an illegal change of status, or a reused `Idempotency-Key`)."
        }
        "413" => "The request body is larger than this operation accepts.",
        "415" => "The request body is not of the content type this operation accepts.",
        "422" => {
            "Validation failed: `errors` names every failing field, query parameter or header."
        }
        "429" => "Too many requests for this token: try again after `Retry-After` seconds.",
        "503" => "The service cannot reach its database: try again after `Retry-After` seconds.",
        _ => "See the problem document.",
    }
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{RefOr, Required};
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                let params = op.parameters.as_deref().unwrap_or(&[]);
                let has_in = |loc: ParameterIn| {
                    params.iter().any(|p| match p {
                        RefOr::T(p) => p.parameter_in == loc,
                        RefOr::Ref(_) => false,
                    })
                };
                let mut extra = vec!["401", "403", "429", "503"];
                if path.contains('{') {
                    extra.push("404");
                }
                if has_in(ParameterIn::Query) {
                    extra.push("422");
                }
                if has_in(ParameterIn::Header) {
                    extra.extend(["400", "422"]);
                }
                if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                    extra.extend(["400", "413", "415", "422"]);
                    body.required = Some(Required::True);
                }
                let responses = &mut op.responses.responses;
                for status in extra {
                    responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(utoipa::openapi::Response::new("")));
                }
                for (status, r) in responses.iter_mut() {
                    let RefOr::T(r) = r else { continue };
                    if r.description.is_empty() {
                        r.description = describe(status).to_string();
                    }
                    if status.starts_with('4') || status.starts_with('5') {
                        problem_response(status, r);
                    }
                }
            }
        }
    }
}

/// The document states the edge's text rule (`web::extract`): no control character in any
/// text of a request, except tab, line feed and carriage return in free text. Added as a
/// `pattern` to every unformatted string of every input schema and query parameter.
pub struct TextRules;

/// A single line: no C0 or C1 control character, no DEL.
pub const SINGLE_LINE_PATTERN: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// Free text: as a single line, but tab, line feed and carriage return are allowed.
pub const FREE_TEXT_PATTERN: &str =
    "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";

fn is_text(t: &utoipa::openapi::schema::SchemaType) -> bool {
    use utoipa::openapi::schema::{SchemaType, Type};
    match t {
        SchemaType::Type(Type::String) => true,
        SchemaType::Array(ts) => ts.contains(&Type::String),
        _ => false,
    }
}

fn add_text_pattern(s: &mut utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>, free: bool) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ArrayItems, Schema};
    match s {
        RefOr::T(Schema::Object(o))
            if is_text(&o.schema_type)
                && o.format.is_none()
                && o.enum_values.is_none()
                && o.pattern.is_none() =>
        {
            o.pattern = Some(
                if free {
                    FREE_TEXT_PATTERN
                } else {
                    SINGLE_LINE_PATTERN
                }
                .into(),
            );
        }
        RefOr::T(Schema::Array(a)) => {
            if let ArrayItems::RefOrSchema(items) = &mut a.items {
                add_text_pattern(items, free);
            }
        }
        _ => {}
    }
}

impl Modify for TextRules {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        if let Some(c) = openapi.components.as_mut() {
            for schema in c.schemas.values_mut() {
                let RefOr::T(Schema::Object(o)) = schema else {
                    continue;
                };
                // Request schemas are the ones that refuse unknown fields.
                if !matches!(
                    o.additional_properties.as_deref(),
                    Some(AdditionalProperties::FreeForm(false))
                ) {
                    continue;
                }
                for (name, prop) in o.properties.iter_mut() {
                    add_text_pattern(prop, crate::web::extract::is_free_text(name));
                }
            }
        }
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for p in op.parameters.iter_mut().flatten() {
                    if let RefOr::T(p) = p
                        && p.parameter_in == ParameterIn::Query
                        && let Some(schema) = p.schema.as_mut()
                    {
                        add_text_pattern(schema, false);
                    }
                }
            }
        }
    }
}

fn problem_response(status: &str, r: &mut utoipa::openapi::Response) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Type, schema::ObjectBuilder};
    r.content.clear();
    r.content.insert(
        PROBLEM_TYPE.to_string(),
        RefOr::T(
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        ),
    );
    let header = |name: &str, description: &str, ty: Type| {
        (
            name.to_string(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(ty)))
                    .description(Some(description))
                    .build(),
            ),
        )
    };
    match status {
        "401" => {
            let (k, v) = header(
                "WWW-Authenticate",
                "`Bearer realm=\"cdconcerns\"`",
                Type::String,
            );
            r.headers.insert(k, v);
        }
        "429" | "503" => {
            let (k, v) = header(
                "Retry-After",
                "Seconds to wait before trying again.",
                Type::Integer,
            );
            r.headers.insert(k, v);
        }
        _ => {}
    }
}

/// A schema of the document's components, by name (for the edge's checks of JSON bodies).
pub fn component(name: &str) -> Option<&'static serde_json::Value> {
    static SCHEMAS: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    SCHEMAS
        .get_or_init(|| {
            let (_, doc) = router();
            serde_json::to_value(&doc)
                .ok()
                .and_then(|v| v.pointer("/components/schemas").cloned())
                .unwrap_or(serde_json::Value::Null)
        })
        .get(name)
}

/// A PATCH merges what it is given into what is there: each of its fields may be left out
/// (or sent as `null`). Its body is the create schema without `required`, made nullable,
/// named `…Patch` (`AreaInput` → `AreaPatch`), derived here so that the two cannot drift.
pub struct PatchBodies;

impl Modify for PatchBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Schema, SchemaType, Type};
        use utoipa::openapi::{Ref, RefOr};
        let mut made: Vec<(String, RefOr<Schema>)> = Vec::new();
        let components = openapi.components.clone();
        for item in openapi.paths.paths.values_mut() {
            let Some(op) = item.patch.as_mut() else {
                continue;
            };
            let Some(RefOr::T(body)) = op.request_body.as_mut() else {
                continue;
            };
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else {
                    continue;
                };
                let Some(RefOr::Ref(r)) = content.schema.as_ref() else {
                    continue;
                };
                let name = r.ref_location.rsplit('/').next().unwrap_or("").to_string();
                let patch_name = format!("{}Patch", name.trim_end_matches("Input"));
                let Some(RefOr::T(Schema::Object(mut o))) = components
                    .as_ref()
                    .and_then(|c| c.schemas.get(&name))
                    .cloned()
                else {
                    continue;
                };
                o.required.clear();
                for prop in o.properties.values_mut() {
                    *prop = match std::mem::replace(prop, RefOr::Ref(Ref::new(""))) {
                        RefOr::T(Schema::Object(mut p)) => {
                            if let SchemaType::Type(t) = p.schema_type.clone() {
                                p.schema_type = SchemaType::Array(vec![t, Type::Null]);
                            }
                            RefOr::T(Schema::Object(p))
                        }
                        RefOr::T(Schema::Array(mut a)) => {
                            if let SchemaType::Type(t) = a.schema_type.clone() {
                                a.schema_type = SchemaType::Array(vec![t, Type::Null]);
                            }
                            RefOr::T(Schema::Array(a))
                        }
                        RefOr::T(Schema::OneOf(mut one)) => {
                            // Null once: two alternatives that both match null fail `oneOf`.
                            let has_null = one.items.iter().any(|i| {
                                matches!(i, RefOr::T(Schema::Object(o))
                                    if o.schema_type == SchemaType::Type(Type::Null))
                            });
                            if !has_null {
                                one.items.push(RefOr::T(Schema::Object(
                                    utoipa::openapi::schema::ObjectBuilder::new()
                                        .schema_type(Type::Null)
                                        .build(),
                                )));
                            }
                            RefOr::T(Schema::OneOf(one))
                        }
                        RefOr::Ref(r) => RefOr::T(Schema::OneOf(
                            utoipa::openapi::schema::OneOfBuilder::new()
                                .item(RefOr::Ref(r))
                                .item(
                                    utoipa::openapi::schema::ObjectBuilder::new()
                                        .schema_type(Type::Null),
                                )
                                .build(),
                        )),
                        other => other,
                    };
                }
                o.description = Some(format!(
                    "As `{name}`, but every field may be left out or sent as null: it keeps its value."
                ));
                content.schema = Some(RefOr::Ref(Ref::from_schema_name(&patch_name)));
                made.push((patch_name, RefOr::T(Schema::Object(o))));
            }
        }
        if let Some(c) = openapi.components.as_mut() {
            for (name, schema) in made {
                c.schemas.insert(name, schema);
            }
        }
    }
}

/// The API's routes and their OpenAPI document.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me::me))
        .routes(routes!(me::post_token, me::list_tokens))
        .routes(routes!(me::delete_token))
        .routes(routes!(directory::list_areas, directory::create_area))
        .routes(routes!(directory::get_area, directory::patch_area))
        .routes(routes!(
            directory::list_organisations,
            directory::create_organisation
        ))
        .routes(routes!(
            directory::get_organisation,
            directory::patch_organisation
        ))
        .routes(routes!(directory::list_users, directory::create_user))
        .routes(routes!(directory::get_user, directory::patch_user))
        .routes(routes!(directory::reinvite_user))
        .routes(routes!(directory::reset_mfa))
        .routes(routes!(directory::approve_user))
        .routes(routes!(cases::drugs))
        .routes(routes!(cases::post_incident))
        .routes(routes!(cases::post_person_concern))
        .routes(routes!(cases::list))
        .routes(routes!(cases::get))
        .routes(routes!(cases::amend))
        .routes(
            routes!(cases::attach).layer(axum::extract::DefaultBodyLimit::max(
                crate::web::UPLOAD_LIMIT,
            )),
        )
        .routes(routes!(cases::get_attachment, cases::mark_attachment))
        .routes(routes!(cases::file_return, cases::list_returns))
        .routes(routes!(triage::triage))
        .routes(routes!(triage::message))
        .routes(routes!(triage::link))
        .routes(routes!(triage::close))
        .routes(routes!(triage::reopen))
        .routes(routes!(triage::matches))
        .routes(routes!(triage::access_log))
        .routes(routes!(
            triage::request_access,
            triage::list_access_requests
        ))
        .routes(routes!(triage::decide))
        .routes(routes!(stats::stats))
        .routes(routes!(stats::cases_csv))
        .routes(routes!(stats::responsiveness))
        .routes(routes!(stats::cdlo))
        .routes(routes!(stats::spc))
        .routes(routes!(oversight::record_initiative))
        .routes(routes!(oversight::look_up_prescriber))
        .routes(routes!(shares::create, shares::list))
        .routes(routes!(shares::preview))
        .routes(routes!(shares::approve))
        .routes(routes!(shares::revoke))
        .routes(routes!(shares::decline))
        .routes(routes!(shares::alerts))
        .routes(routes!(shares::alert))
        .routes(routes!(shares::acknowledge))
        .routes(routes!(shares::respond))
        .routes(routes!(conversation::conversation))
        .routes(routes!(conversation::reply))
        .routes(routes!(shares::attachment))
        .routes(routes!(rights::create_subject_access))
        .routes(routes!(rights::download_subject_access))
        .routes(routes!(rights::request_erasure))
        .routes(routes!(rights::approve_erasure))
        .routes(routes!(rights::decline_erasure))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .split_for_parts()
        .with_contract()
}

trait WithContract {
    fn with_contract(self) -> Self;
}

impl WithContract for (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    fn with_contract(mut self) -> Self {
        CommonResponses.modify(&mut self.1);
        PatchBodies.modify(&mut self.1);
        TextRules.modify(&mut self.1);
        self
    }
}

pub async fn openapi_json(
    State(doc): State<std::sync::Arc<String>>,
) -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.as_ref().clone(),
    )
}

pub fn openapi_document() -> String {
    let (_, doc) = router();
    doc.to_pretty_json().unwrap_or_else(|_| "{}".into())
}
