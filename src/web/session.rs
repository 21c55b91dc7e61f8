//! Who is making the request: a bearer API token or a session cookie, resolved once per
//! request by `authenticate` and handed to handlers through the `Actor` extractor.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::app::sessions;
use crate::crypto;
use crate::error::AppError;
use crate::policy::Actor;
use crate::state::AppState;

/// The session cookie's name: `__Host-` prefixed (so it is bound to this origin, secure and
/// path `/`) when the service is served over https.
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.config.is_https() {
        "__Host-cdc_session"
    } else {
        "cdc_session"
    }
}

/// A `Set-Cookie` value for a new session id.
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn clear_cookie(state: &AppState) -> HeaderValue {
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        cookie_name(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// What the authentication middleware found, in request (and response) extensions.
#[derive(Clone, Debug, Default)]
pub struct RequestAuth {
    pub actor: Option<Actor>,
    /// Signed in with a password, second factor still to come.
    pub pending_mfa: Option<Uuid>,
    /// The hash of the presented session id, when a live session was found.
    pub session_hash: Option<Vec<u8>>,
    /// When the session last proved who it is (password, and code where needed).
    pub proof_at: Option<chrono::DateTime<chrono::Utc>>,
    pub session_data: Option<serde_json::Value>,
    /// A session cookie was presented but its session had timed out.
    pub session_expired: bool,
}

fn skips_auth(path: &str) -> bool {
    path.starts_with("/static/")
        || path.starts_with("/assets/")
        || path == "/healthz"
        || path == "/readyz"
}

/// A request for a page with the header (not the API, a download or a form post): its header
/// shows the work waiting, counted once here.
fn draws_page(req: &Request) -> bool {
    let path = req.uri().path();
    req.method() == axum::http::Method::GET
        && !path.starts_with("/api/v1/")
        && !path.ends_with(".csv")
        && !path.contains("/attachments/")
        && !path.ends_with("/download")
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(route) = req.extensions().get::<axum::extract::MatchedPath>() {
        tracing::Span::current().record("route", route.as_str());
    }
    if skips_auth(req.uri().path()) {
        return next.run(req).await;
    }
    let ctx = match resolve(&state, req.headers()).await {
        Ok(ctx) => ctx,
        Err(e) => return e.into_response(),
    };
    if let Some(a) = &ctx.actor {
        tracing::Span::current().record("user.id", tracing::field::display(a.user_id));
    }
    let expired = ctx.session_expired;
    let waiting = match &ctx.actor {
        Some(a) if draws_page(&req) => match crate::waiting::counts(&state, a).await {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = ?e, "work waiting was not counted");
                None
            }
        },
        _ => None,
    };
    req.extensions_mut().insert(ctx.clone());
    let generation = crate::authcache::generation();
    let writes = !req.method().is_safe();
    let mut res = match waiting {
        Some(w) => crate::waiting::PAGE_WAITING.scope(w, next.run(req)).await,
        None => next.run(req).await,
    };
    if writes && let (Some(replica), Some(a)) = (state.replica.get(), &ctx.actor) {
        // Their next reads go to the primary until the replica has surely caught up.
        replica.wrote(a.user_id);
    }
    if crate::authcache::generation() != generation {
        // Something a token means changed while this request ran (its handler has committed
        // by now): entries read before the commit, in the generation the change began, die.
        crate::authcache::changed();
    }
    if expired && !res.headers().contains_key(SET_COOKIE) {
        res.headers_mut().append(SET_COOKIE, clear_cookie(&state));
    }
    res.extensions_mut().insert(ctx);
    res
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<RequestAuth, AppError> {
    let mut ctx = RequestAuth::default();
    if let Some(value) = headers.get(AUTHORIZATION) {
        // A request that presents a token is judged by the token alone.
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::Unauthorized)?;
        ctx.actor = Some(sessions::by_token(state, token).await?);
        return Ok(ctx);
    }
    let Some(sid) = read_cookie(headers, cookie_name(state)) else {
        return Ok(ctx);
    };
    let hash = crypto::sha256(sid.as_bytes());
    let Some(s) = sessions::by_session(state, &hash).await? else {
        ctx.session_expired = true;
        return Ok(ctx);
    };
    if s.mfa_verified {
        ctx.actor = Some(s.actor);
    } else {
        ctx.pending_mfa = Some(s.user_id);
    }
    ctx.session_hash = Some(hash);
    ctx.proof_at = s.proof_at;
    ctx.session_data = Some(s.data);
    Ok(ctx)
}

impl<S: Send + Sync> FromRequestParts<S> for RequestAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<RequestAuth>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The signed-in user; 401 (or, on a page, a redirect to sign in) when there is none.
impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestAuth>()
            .and_then(|c| c.actor.clone())
            .ok_or(AppError::Unauthorized)
    }
}

impl RequestAuth {
    /// The browser session behind the request, with its last fresh proof (none for tokens).
    pub fn session(&self) -> Option<(&[u8], Option<chrono::DateTime<chrono::Utc>>)> {
        if self
            .actor
            .as_ref()
            .is_some_and(|a| a.via != crate::policy::Via::Session)
        {
            return None;
        }
        self.session_hash.as_deref().map(|h| (h, self.proof_at))
    }
}

/// A one-off message shown on the next page (kept in the session).
pub async fn set_flash(
    state: &AppState,
    auth: &RequestAuth,
    message: &str,
) -> Result<(), AppError> {
    if let Some(hash) = &auth.session_hash {
        let mut data = auth
            .session_data
            .clone()
            .unwrap_or_else(|| serde_json::json!({}));
        if let Some(obj) = data.as_object_mut() {
            obj.insert("flash".into(), serde_json::Value::String(message.into()));
        }
        sessions::set_data(state, hash, &data).await?;
    }
    Ok(())
}

/// Takes the one-off message, if there is one.
pub async fn take_flash(state: &AppState, auth: &RequestAuth) -> Result<Option<String>, AppError> {
    let (Some(hash), Some(data)) = (&auth.session_hash, &auth.session_data) else {
        return Ok(None);
    };
    let Some(msg) = data
        .get("flash")
        .and_then(|v| v.as_str())
        .map(str::to_string)
    else {
        return Ok(None);
    };
    let mut data = data.clone();
    if let Some(obj) = data.as_object_mut() {
        obj.remove("flash");
    }
    sessions::set_data(state, hash, &data).await?;
    Ok(Some(msg))
}
