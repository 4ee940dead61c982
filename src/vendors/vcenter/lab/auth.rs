//! Authentication as vendor-apis.md §1.2 describes it: Basic on every call, or a
//! session from `POST /rest/com/vmware/cis/session` (200 `{"value": id}`) or
//! `POST /api/session` (201 `"id"`) sent back in `vmware-api-session-id`. Sessions
//! belong to the listener that made them and lapse after [`super::IDLE_MINUTES`] of lab time
//! without use. Each listener accepts its own users only (root on the appliance port,
//! SSO users on the reverse proxy).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::vendors::vcenter::wire::{Encoding, SESSION_HEADER, SessionInfo, Wrapped};

use super::Ctx;
use super::error::{LabError, encoding_of};
use super::history::time;
use super::state::{Login, Port};

/// Who made a request that passed [`require`].
#[derive(Clone, Debug)]
pub(super) struct Caller {
    pub(super) user: String,
    /// Whether the user is a super administrator (may run the history import).
    pub(super) admin: bool,
}

fn session_header(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The account Basic credentials name on `port`, if user and password match.
fn basic_user(ctx: &Ctx, headers: &HeaderMap) -> Result<(String, bool), LabError> {
    let (user, password) = crate::http::lab::basic_credentials(headers).ok_or_else(|| {
        LabError::unauthenticated(format!(
            "Send Basic credentials or a {SESSION_HEADER} header from a session login."
        ))
    })?;
    let found = ctx
        .port
        .users()
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(&user))
        .filter(|_| password == ctx.lab.credentials().expose());
    match found {
        Some((name, admin)) => Ok(((*name).to_owned(), *admin)),
        None => Err(LabError::unauthenticated(match ctx.port {
            Port::Appliance => {
                "Invalid credentials; the appliance management port accepts the local root user."
            }
            Port::Proxy => "Invalid credentials; the reverse proxy accepts SSO users.",
        })),
    }
}

/// The caller of a request: its live session, or its Basic credentials.
fn authenticate(ctx: &Ctx, headers: &HeaderMap) -> Result<(Caller, Option<Login>), LabError> {
    if let Some(id) = session_header(headers) {
        let now = ctx.lab.now();
        let login = ctx
            .lab
            .at(now)
            .logins
            .touch(now, |l| l.id == id && l.port == ctx.port)
            .ok_or_else(|| {
                LabError::unauthenticated(
                    "The session is not authenticated or has expired; log in again \
                     (POST /api/session or /rest/com/vmware/cis/session) or send Basic credentials.",
                )
            })?;
        let caller = Caller {
            user: login.user.clone(),
            admin: login.admin,
        };
        return Ok((caller, Some(login)));
    }
    let (user, admin) = basic_user(ctx, headers)?;
    Ok((Caller { user, admin }, None))
}

/// Middleware in front of every route but login and the lab's own.
pub(super) async fn require(State(ctx): State<Ctx>, mut request: Request, next: Next) -> Response {
    let encoding = encoding_of(request.uri().path());
    match authenticate(&ctx, request.headers()) {
        Ok((caller, login)) => {
            request.extensions_mut().insert(caller);
            if let Some(login) = login {
                request.extensions_mut().insert(login);
            }
            next.run(request).await
        }
        Err(error) => error.in_encoding(encoding).into_response(),
    }
}

/// `POST /rest/com/vmware/cis/session` and `POST /api/session`: Basic login.
pub(super) async fn login(State(ctx): State<Ctx>, uri: Uri, headers: HeaderMap) -> Response {
    let encoding = encoding_of(uri.path());
    let (user, admin) = match basic_user(&ctx, &headers) {
        Ok(found) => found,
        Err(error) => return error.in_encoding(encoding).into_response(),
    };
    let now = ctx.lab.now();
    let login = ctx.lab.at(now).logins.create(now, |rng| Login {
        id: format!("{:016x}{:016x}", rng.u64(..), rng.u64(..)),
        port: ctx.port,
        user,
        admin,
        created: now,
    });
    let mut response = match encoding {
        Encoding::Rest => Json(Wrapped {
            value: login.id.clone(),
        })
        .into_response(),
        Encoding::Api => (StatusCode::CREATED, Json(json!(login.id))).into_response(),
    };
    let cookie = format!("{SESSION_HEADER}={}; Path=/; HttpOnly", login.id);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The session a request sent, required for session info and logout.
fn session_of(request: &Request) -> Result<Login, LabError> {
    request.extensions().get::<Login>().cloned().ok_or_else(|| {
        LabError::unauthenticated(format!(
            "This operation needs the {SESSION_HEADER} header of a live session."
        ))
    })
}

/// `GET /api/session`: who the session belongs to and when it was used.
pub(super) async fn session_get(State(ctx): State<Ctx>, request: Request) -> Response {
    match session_of(&request) {
        Ok(login) => Json(SessionInfo {
            user: login.user,
            created_time: time(login.created),
            last_accessed_time: time(ctx.lab.now()),
        })
        .into_response(),
        Err(error) => error.into_response(),
    }
}

/// `DELETE /rest/com/vmware/cis/session` (200) and `DELETE /api/session` (204): logout.
pub(super) async fn logout(State(ctx): State<Ctx>, request: Request) -> Response {
    let encoding = encoding_of(request.uri().path());
    match session_of(&request) {
        Ok(login) => {
            let now = ctx.lab.now();
            ctx.lab.at(now).logins.remove(|l| l.id == login.id);
            match encoding {
                Encoding::Rest => StatusCode::OK.into_response(),
                Encoding::Api => StatusCode::NO_CONTENT.into_response(),
            }
        }
        Err(error) => error.in_encoding(encoding).into_response(),
    }
}
