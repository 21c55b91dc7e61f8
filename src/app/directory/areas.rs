//! Areas: creating and changing the LIN areas, with their team mailbox.

use super::*;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    pub region: Option<String>,
    pub two_person_rule: Option<bool>,
    /// The lead CDAO team's shared mailbox, shown to members on their alerts ("" clears it).
    #[schema(schema_with = mailbox_or_blank)]
    pub cdao_mailbox: Option<String>,
}

/// An email address, or "" for none, or null (left out): the document says all three, so a
/// client may clear the mailbox in a PATCH (where `null` keeps it).
fn mailbox_or_blank() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{
        KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
    };
    Schema::OneOf(OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
                .max_length(Some(254)),
        )
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([""]))
                .description(Some("No mailbox")),
        )
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "The lead CDAO team's shared mailbox, shown to members on their alerts (\"\" clears it).",
        ))
        .build())
}

fn parse_area(
    input: &AreaInput,
    id: Uuid,
    current: Option<&dir::Area>,
) -> Result<dir::Area, Vec<crate::domain::validation::FieldError>> {
    let mut e = FieldErrors::new();
    let name = e.line("name", input.name.as_deref(), "the area's name", 100);
    let region = e.line(
        "region",
        input.region.as_deref(),
        "the NHS England region",
        100,
    );
    let two_person_rule = input
        .two_person_rule
        .or(current.map(|c| c.two_person_rule))
        .unwrap_or(true);
    let cdao_mailbox = match input.cdao_mailbox.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(m) => {
            let parsed = parse_email(m).filter(|m| m.chars().count() <= 254);
            if parsed.is_none() {
                e.add(
                    "cdao_mailbox",
                    "Enter the team mailbox in the correct format, like england.cdao.gm@nhs.net",
                );
            }
            parsed
        }
    };
    e.finish(|| dir::Area {
        id,
        name,
        region,
        two_person_rule,
        cdao_mailbox,
    })
}

fn map_unique(e: sqlx::Error, field: &str, message: &str) -> AppError {
    match db::violated_constraint(&e) {
        Some(_) => AppError::validation(field, message),
        None => e.into(),
    }
}

pub async fn create_area(
    state: &AppState,
    actor: &Actor,
    input: &AreaInput,
) -> AppResult<dir::Area> {
    policy::manage_directory(actor)?;
    let area = parse_area(input, Uuid::now_v7(), None).map_err(AppError::Validation)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    dir::insert_area(&mut tx, &area, now)
        .await
        .map_err(|e| map_unique(e, "name", "An area with this name already exists"))?;
    audit::record(
        &mut tx,
        now,
        Event::new(
            Some(actor.user_id),
            action::AREA_CREATED,
            "area",
            Some(area.id),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(area)
}

pub async fn update_area(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    input: &AreaInput,
) -> AppResult<dir::Area> {
    let current = dir::get_area(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    policy::manage_directory(actor)?;
    let merged = AreaInput {
        name: input.name.clone().or(Some(current.name.clone())),
        region: input.region.clone().or(Some(current.region.clone())),
        two_person_rule: input.two_person_rule,
        cdao_mailbox: input.cdao_mailbox.clone().or(current.cdao_mailbox.clone()),
    };
    let area = parse_area(&merged, id, Some(&current)).map_err(AppError::Validation)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    dir::update_area(&mut tx, &area, now)
        .await
        .map_err(|e| map_unique(e, "name", "An area with this name already exists"))?;
    audit::record(
        &mut tx,
        now,
        Event::new(Some(actor.user_id), action::AREA_UPDATED, "area", Some(id))
            .details(json!({"two_person_rule": area.two_person_rule})),
    )
    .await?;
    tx.commit().await?;
    Ok(area)
}
