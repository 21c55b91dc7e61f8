//! Query parameters are validated as the document declares them, before any handler runs:
//! the rules are read from the generated OpenAPI document itself, so what the document says
//! and what the server enforces cannot drift apart. An unknown parameter, a parameter given
//! empty, a malformed UUID, date or number, or a code outside its enumeration is a 422
//! naming the parameter. (Handlers still parse their parameters; this edge makes sure they
//! only ever see well-formed ones.)

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::domain::validation::FieldError;
use crate::error::AppError;
use crate::web::session::RequestAuth;

/// One declared query parameter: its name and its schema (from the document).
#[derive(Debug, Clone)]
struct Declared {
    name: String,
    schema: Value,
}

/// The declared query parameters of every operation, keyed by `METHOD /path/{template}`.
#[derive(Debug, Default)]
pub struct QueryRules {
    operations: HashMap<String, Vec<Declared>>,
}

impl QueryRules {
    /// Reads the rules from the document.
    pub fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(doc).unwrap_or(Value::Null);
        let mut operations = HashMap::new();
        let Some(paths) = value.get("paths").and_then(Value::as_object) else {
            return Self::default();
        };
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let declared: Vec<Declared> = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
                            .filter_map(|p| {
                                Some(Declared {
                                    name: p.get("name")?.as_str()?.to_string(),
                                    schema: resolve(&value, p.get("schema")?),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                operations.insert(format!("{} {path}", method.to_uppercase()), declared);
            }
        }
        Self { operations }
    }

    /// Checks a query string against the operation's declared parameters.
    pub fn check(&self, operation: &str, query: &str) -> Result<(), Vec<FieldError>> {
        let Some(declared) = self.operations.get(operation) else {
            return Ok(());
        };
        let mut errors: Vec<FieldError> = Vec::new();
        let mut add = |field: &str, message: String| {
            if !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError {
                    field: field.to_string(),
                    message,
                });
            }
        };
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let Some(d) = declared.iter().find(|d| d.name == k) else {
                let known: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
                add(
                    &k,
                    if known.is_empty() {
                        format!("{k} is not a parameter of this operation, which takes none")
                    } else {
                        format!(
                            "{k} is not a parameter of this operation (it takes {})",
                            known.join(", ")
                        )
                    },
                );
                continue;
            };
            if v.is_empty() {
                // Only free text (a search) may be empty; a typed value given empty is a mistake.
                if !is_plain_string(&d.schema) {
                    add(&k, format!("{k} must not be empty: leave it out instead"));
                }
                continue;
            }
            if let Err(m) = check_value(&k, &v, &d.schema) {
                add(&k, m);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            // In the document's order, whatever the order of the query string.
            let rank = |f: &FieldError| {
                declared
                    .iter()
                    .position(|d| d.name == f.field)
                    .unwrap_or(usize::MAX)
            };
            errors.sort_by_key(rank);
            Err(errors)
        }
    }
}

/// A string with no format, enumeration or alternatives: free text such as a search.
fn is_plain_string(schema: &Value) -> bool {
    let s = match schema.get("oneOf").and_then(Value::as_array) {
        Some(alts) => match alts.iter().find(|a| types(a) != ["null"]) {
            Some(a) => a,
            None => return true,
        },
        None => schema,
    };
    types(s).contains(&"string")
        && s.get("format").is_none()
        && s.get("enum").is_none()
        && s.get("oneOf").is_none()
}

/// Follows a `$ref` into `components`.
fn resolve(doc: &Value, schema: &Value) -> Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            doc.pointer(pointer)
                .map(|s| resolve(doc, s))
                .unwrap_or(Value::Null)
        }
        None => match schema {
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        let v = match (k.as_str(), v) {
                            ("items", _) => resolve(doc, v),
                            ("oneOf" | "anyOf" | "allOf", Value::Array(xs)) => {
                                Value::Array(xs.iter().map(|x| resolve(doc, x)).collect())
                            }
                            _ => v.clone(),
                        };
                        (k.clone(), v)
                    })
                    .collect(),
            ),
            other => other.clone(),
        },
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    }
}

/// Whether `value` fits `schema`; the message names the parameter.
fn check_value(name: &str, value: &str, schema: &Value) -> Result<(), String> {
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let non_null: Vec<&Value> = alts
                .iter()
                .filter(|a| types(a) != ["null"])
                .collect::<Vec<_>>();
            let mut first_err = None;
            for a in &non_null {
                match check_value(name, value, a) {
                    Ok(()) => return Ok(()),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            return match first_err {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
    }
    let ts = types(schema);
    if ts.contains(&"array") {
        let items = schema.get("items").cloned().unwrap_or(Value::Null);
        let parts: Vec<&str> = value.split(',').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "{name} must be a comma-separated list without empty items"
            ));
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && parts.len() as u64 > max
        {
            return Err(format!("{name} takes at most {max} items"));
        }
        for p in parts {
            check_value(name, p, &items)?;
        }
        return Ok(());
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        let codes: Vec<&str> = choices.iter().filter_map(Value::as_str).collect();
        if !codes.contains(&value) {
            return Err(format!("{name} must be one of {}", codes.join(", ")));
        }
        return Ok(());
    }
    if ts.contains(&"integer") {
        let n: i64 = value
            .parse()
            .map_err(|_| format!("{name} must be a whole number"))?;
        let min = schema.get("minimum").and_then(Value::as_i64);
        let max = schema.get("maximum").and_then(Value::as_i64);
        if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
            return Err(match (min, max) {
                (Some(a), Some(b)) => format!("{name} must be a whole number from {a} to {b}"),
                (Some(a), None) => format!("{name} must be a whole number of at least {a}"),
                (None, Some(b)) => format!("{name} must be a whole number of at most {b}"),
                (None, None) => format!("{name} must be a whole number"),
            });
        }
        return Ok(());
    }
    if ts.contains(&"boolean") {
        return match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("{name} must be true or false")),
        };
    }
    match schema.get("format").and_then(Value::as_str) {
        Some("uuid") if uuid::Uuid::parse_str(value).is_err() => {
            return Err(format!("{name} must be a UUID"));
        }
        Some("date") if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_err() => {
            return Err(format!("{name} must be a date like 2026-11-02"));
        }
        Some("date-time") if chrono::DateTime::parse_from_rfc3339(value).is_err() => {
            return Err(format!(
                "{name} must be an RFC 3339 time like 2026-11-02T09:00:00Z"
            ));
        }
        _ => {}
    }
    let len = value.chars().count() as u64;
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && len > max
    {
        return Err(format!("{name} must be {max} characters or fewer"));
    }
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && len < min
    {
        return Err(format!("{name} must be at least {min} characters"));
    }
    Ok(())
}

/// Middleware on the API's routes: the query string must be what the operation declares.
/// A caller who is not signed in is left to the handler, which answers 401 first.
pub async fn check_query(
    State(rules): State<Arc<QueryRules>>,
    req: Request,
    next: Next,
) -> Response {
    let signed_in = req
        .extensions()
        .get::<RequestAuth>()
        .is_some_and(|a| a.actor.is_some());
    if signed_in
        && let (Some(path), Some(query)) =
            (req.extensions().get::<MatchedPath>(), req.uri().query())
    {
        let operation = format!("{} {}", req.method(), path.as_str());
        if let Err(errors) = rules.check(&operation, query) {
            return AppError::Validation(errors).into_response();
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_checked_against_their_schemas() {
        let uuid = json!({"type": ["string", "null"], "format": "uuid"});
        assert!(check_value("area_id", "x", &uuid).is_err());
        assert!(check_value("area_id", "0190c5a4-4c7e-7b4e-9b1a-1c2d3e4f5a6b", &uuid).is_ok());
        let list = json!({"type": "array", "items": {"type": "string", "enum": ["new", "closed"]}});
        assert!(check_value("status", "new,closed", &list).is_ok());
        assert!(check_value("status", "new,,closed", &list).is_err());
        assert!(check_value("status", "open", &list).is_err());
        let limit = json!({"type": "integer", "minimum": 1, "maximum": 200});
        assert!(check_value("limit", "0", &limit).is_err());
        assert!(check_value("limit", "200", &limit).is_ok());
        let either = json!({"oneOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]});
        assert!(check_value("from", "2026-11-02", &either).is_ok());
        assert!(check_value("from", "2026-11-02T09:00:00Z", &either).is_ok());
        assert!(check_value("from", "yesterday", &either).is_err());
    }
}

#[cfg(test)]
mod document_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_rules_come_from_the_document() {
        let (_, doc) = crate::web::api::router();
        let rules = QueryRules::from_document(&doc);
        let fields = |op: &str, q: &str| -> Vec<String> {
            rules
                .check(op, q)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.field)
                .collect()
        };
        assert_eq!(
            fields("GET /api/v1/audit", "limit=0&from=yesterday&actor_id=nope"),
            vec!["actor_id", "from", "limit"],
            "in the document's order"
        );
        assert!(
            fields(
                "GET /api/v1/audit",
                "from=2026-11-02&to=2026-11-02T10:00:00Z"
            )
            .is_empty()
        );
        assert!(
            fields("GET /api/v1/drugs", "q=").is_empty(),
            "an empty search is all"
        );
        assert_eq!(
            fields("GET /api/v1/organisations", "area_id="),
            vec!["area_id"]
        );
        assert_eq!(fields("GET /api/v1/alerts", "filter=some"), vec!["filter"]);
        assert_eq!(
            fields("GET /api/v1/cases", "kind=case&sort=up"),
            vec!["kind", "sort"]
        );
        assert_eq!(fields("GET /api/v1/me", "x=1"), vec!["x"]);
    }
}
