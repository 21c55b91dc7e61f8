//! Pure domain types and rules: no I/O.

pub mod catalogue;
pub mod countries;
pub mod directory;
pub mod filetype;
pub mod identifiers;
pub mod ome;
pub mod oversight;
pub mod report;
pub mod retention;
pub mod rfc3339;
pub mod search;
pub mod share;
pub mod spc;
pub mod stats;
pub mod subject_access;
pub mod triage;
pub mod validation;

/// Declares an enumeration that travels as the snake_case codes of SPEC §7.1, with a
/// human label for pages. Its serde names and its OpenAPI schema are its codes, so the
/// document's `enum` is exactly what `parse` accepts.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $code)] $variant),+ }

        // Written out rather than derived: the derive cannot see the codes through the macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            /// (code, label) pairs for a select, radios or checkboxes.
            pub fn options() -> Vec<(String, String)> {
                Self::ALL.iter().map(|v| (v.code().to_string(), v.label().to_string())).collect()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;
