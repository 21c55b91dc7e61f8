//! Extractors that turn bad input into the right problem (never a 500, never a panic).

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::domain::validation::FieldError;
use crate::error::AppError;

/// A JSON body: 415 without a JSON content type, 400 when it is not JSON, 422 naming the
/// field when a value has the wrong type, 413 when it is too large.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + utoipa::ToSchema, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(AppError::UnsupportedMediaType(
                "Send the request body as JSON with `Content-Type: application/json`.".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("The request body could not be read.".into())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// 415 unless the body is declared as JSON.
pub fn require_json(headers: &axum::http::HeaderMap) -> Result<(), AppError> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let mime = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(
            "Send the request body as JSON with `Content-Type: application/json`.".into(),
        ))
    }
}

/// Parses a JSON body into its input type, then holds it to the rules serde alone cannot:
/// no control characters (`check_json_text`), and no blank string where the document
/// declares a date, a time or a code (the handlers read a blank as "not given", which the
/// document does not allow: send `null` or leave the field out).
pub fn parse_json<T: DeserializeOwned + utoipa::ToSchema>(bytes: &[u8]) -> Result<T, AppError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => {
            check_json_text(bytes)?;
            check_typed_blanks(bytes, &T::name())?;
            Ok(v)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let field = if path == "." {
                        "body".to_string()
                    } else {
                        path
                    };
                    Err(AppError::validation(
                        &field,
                        &clean_serde_message(&inner.to_string()),
                    ))
                }
                _ => Err(AppError::BadRequest(format!(
                    "The body is not valid JSON: {inner}"
                ))),
            }
        }
    }
}

/// serde's messages end with "at line 1 column 12"; keep the useful part.
fn clean_serde_message(m: &str) -> String {
    let m = m.split(" at line ").next().unwrap_or(m);
    let mut out = crate::domain::validation::capitalise(m);
    if out.is_empty() {
        out = "Invalid value".into();
    }
    out
}

/// An HTML form body (`application/x-www-form-urlencoded`, repeated keys allowed).
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.starts_with("application/x-www-form-urlencoded"))
            .unwrap_or(false);
        if !is_form {
            return Err(AppError::UnsupportedMediaType(
                "Expected a form submission.".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("The form could not be read.".into())
            }
        })?;
        check_pairs(url::form_urlencoded::parse(&bytes), Origin::Form)?;
        serde_html_form::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|_| AppError::BadRequest("The form could not be read.".into()))
    }
}

/// Query parameters, leniently: every value arrives as text and is parsed by the handler,
/// so that each bad one can be named.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }
}

impl Params {
    /// A UUID parameter; a malformed one is a field error named after the parameter.
    pub fn uuid(
        &self,
        key: &str,
        errors: &mut crate::domain::validation::FieldErrors,
    ) -> Option<uuid::Uuid> {
        self.get(key)
            .and_then(|v| match uuid::Uuid::parse_str(v.trim()) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.add(key, format!("{key} must be a UUID"));
                    None
                }
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        Ok(Params(
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }
}

/// The client's address (the peer; a proxy in front must be trusted explicitly, which we
/// do not do yet).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::from([127, 0, 0, 1])),
        ))
    }
}

/// The `{id}` of a path. Anything that is not a UUID cannot name a thing: 404.
pub struct PathId(pub uuid::Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<uuid::Uuid>::from_request_parts(parts, state)
            .await
            .map(|p| PathId(p.0))
            .map_err(|_| AppError::NotFound)
    }
}

// ---------------------------------------------------------------------------------------
// Text at the edge. Every way text arrives (JSON bodies, forms, multipart fields, query
// strings, the path and the headers the service reads) passes one of the checks below, so
// no control character reaches a handler, the database or a log line. Tab, line feed and
// carriage return are allowed in free text only; PostgreSQL cannot even store a NUL.
// ---------------------------------------------------------------------------------------

/// Fields whose text may run over several lines (named by their last segment, without an
/// index: `person.work_addresses[1]` is `work_addresses`). Anything else is a single line.
pub const FREE_TEXT_FIELDS: &[&str] = &[
    "description",
    "actions_taken",
    "body",
    "note",
    "close_note",
    "reopen_reason",
    "details",
    "text",
    "summary",
    "patient_data_reason",
    "reason",
    "work_addresses",
];

/// Whether `field` holds free text (several lines allowed).
pub fn is_free_text(field: &str) -> bool {
    let last = field.rsplit('.').next().unwrap_or(field);
    let base = last.split('[').next().unwrap_or(last);
    FREE_TEXT_FIELDS.contains(&base)
}

/// The field error for a value holding a character its field may not hold, if it does.
pub fn text_error(field: &str, value: &str, free_text: bool) -> Option<FieldError> {
    let bad = value
        .chars()
        .find(|c| c.is_control() && !(free_text && matches!(c, '\t' | '\n' | '\r')))?;
    let what = if free_text {
        "letters, numbers, punctuation, tabs and line breaks"
    } else {
        "a single line of text"
    };
    Some(FieldError {
        field: printable(field),
        message: format!(
            "Remove the control character U+{:04X}: {} takes {what}",
            bad as u32,
            printable(field)
        ),
    })
}

/// A field name fit to echo back: control characters in it are shown escaped.
fn printable(s: &str) -> String {
    if s.chars().any(char::is_control) {
        s.escape_debug().to_string()
    } else {
        s.to_string()
    }
}

/// Where a (name, value) pair came from, which decides whether free text is allowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A query string: filters and ids, never free text.
    Query,
    /// A form body or a multipart field.
    Form,
}

/// Checks names and values of decoded pairs; a 422 naming every bad field.
pub fn check_pairs<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
    origin: Origin,
) -> Result<(), AppError> {
    let mut errors: Vec<FieldError> = Vec::new();
    for (k, v) in pairs {
        let (k, v) = (k.as_ref(), v.as_ref());
        let free = origin == Origin::Form && is_free_text(k);
        for e in [text_error(k, k, false), text_error(k, v, free)]
            .into_iter()
            .flatten()
        {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// A multipart upload takes one part, `file`: any other is refused, as unknown JSON fields are.
pub fn unknown_part(name: Option<&str>) -> AppError {
    let name = printable(name.unwrap_or(""));
    AppError::Validation(vec![FieldError {
        message: format!("{name} is not a part of this upload: send only `file`"),
        field: name,
    }])
}

/// Checks one value of a known field (a multipart field, a file name).
pub fn check_text(field: &str, value: &str) -> Result<(), AppError> {
    match text_error(field, value, is_free_text(field)) {
        Some(e) => Err(AppError::Validation(vec![e])),
        None => Ok(()),
    }
}

/// Checks every string (and key) of a JSON body, naming each bad one by its path
/// (`drugs[0].name`, `person.full_name`).
fn check_json_text(bytes: &[u8]) -> Result<(), AppError> {
    // In valid JSON a control character can only arrive escaped (`\u0000`, `\n`), as a raw
    // DEL, or (the C1 controls) after the UTF-8 lead byte 0xC2: a body with none of these
    // needs no second look.
    if !bytes
        .iter()
        .any(|b| *b == b'\\' || *b == 0xC2 || *b == 0x7F)
    {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    walk_json(&value, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Refuses blank strings in fields the document types as a date, a time or a code.
fn check_typed_blanks(bytes: &[u8], schema_name: &str) -> Result<(), AppError> {
    // A body without an empty or blank string needs no look.
    if !bytes.windows(2).any(|w| w == b"\"\"") && !bytes.windows(2).any(|w| w == b"\" ") {
        return Ok(());
    }
    let Some(schema) = crate::web::api::component(schema_name) else {
        return Ok(());
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    walk_typed(&value, schema, "", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The schema a (possibly nullable, possibly referenced) schema stands for.
fn concrete(schema: &serde_json::Value) -> Option<&serde_json::Value> {
    use serde_json::Value;
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return crate::web::api::component(r.rsplit('/').next().unwrap_or(""));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            return alts
                .iter()
                .find(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .and_then(concrete);
        }
    }
    Some(schema)
}

fn walk_typed(
    v: &serde_json::Value,
    schema: &serde_json::Value,
    path: &str,
    out: &mut Vec<FieldError>,
) {
    use serde_json::Value;
    let Some(schema) = concrete(schema) else {
        return;
    };
    match v {
        Value::String(s) if s.trim().is_empty() => {
            let what = match (
                schema.get("format").and_then(Value::as_str),
                schema.get("enum").is_some(),
            ) {
                (Some("date"), _) => "a date",
                (Some("date-time"), _) => "a time",
                (Some("uuid"), _) => "an id",
                (_, true) => "one of its codes",
                _ => return,
            };
            out.push(FieldError {
                field: path.to_string(),
                message: format!(
                    "{path} takes {what}: send null or leave it out rather than a blank"
                ),
            });
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, x) in items.iter().enumerate() {
                    walk_typed(x, item_schema, &format!("{path}[{i}]"), out);
                }
            }
        }
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, x) in map {
                    if let Some(p) = props.get(k) {
                        let child = if path.is_empty() {
                            k.clone()
                        } else {
                            format!("{path}.{k}")
                        };
                        walk_typed(x, p, &child, out);
                    }
                }
            }
        }
        _ => {}
    }
}

fn walk_json(v: &serde_json::Value, path: &str, out: &mut Vec<FieldError>) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let field = if path.is_empty() { "body" } else { path };
            out.extend(text_error(field, s, is_free_text(field)));
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                walk_json(x, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.extend(text_error(&p, k, false));
                walk_json(x, &p, out);
            }
        }
        _ => {}
    }
}

/// Request headers the service reads. Their values are visible ASCII (the HTTP parser
/// allows no other control character than tab), so a tab is what is refused here.
const HEADERS_READ: &[&str] = &[
    "authorization",
    "cookie",
    "idempotency-key",
    "content-type",
    "origin",
    "sec-fetch-site",
    "x-request-id",
];

/// Percent-decodes a path (lossily): only to look for control characters.
fn decode_path(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
            && let Ok(byte) = u8::from_str_radix(&p[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The edge for what arrives outside the body: the path, the query string and the headers
/// the service reads. Bodies are checked by the extractors that read them (`ApiJson`,
/// `parse_json`, `PageForm`, multipart).
pub fn check_request_parts(
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
) -> Result<(), AppError> {
    if decode_path(uri.path()).chars().any(char::is_control) {
        // A path with a control character names nothing.
        return Err(AppError::NotFound);
    }
    if let Some(q) = uri.query() {
        check_pairs(url::form_urlencoded::parse(q.as_bytes()), Origin::Query)?;
    }
    let mut errors = Vec::new();
    for name in HEADERS_READ {
        for v in headers.get_all(*name) {
            if v.as_bytes().iter().any(|b| *b < 0x20 || *b == 0x7f) {
                let header = canonical_header(name);
                errors.push(FieldError {
                    message: format!(
                        "Remove the control character: the {header} header takes visible characters only"
                    ),
                    field: header,
                });
                break;
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(crate::domain::validation::capitalise)
        .collect::<Vec<_>>()
        .join("-")
}

/// Middleware: refuses control characters in the path, query string and headers of every
/// request (a 422 naming the parameter or header; on pages, an error summary).
pub async fn refuse_control_characters(
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match check_request_parts(req.uri(), req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
