//! Sessions as vendor-apis.md §2.2 describes them: Basic `user@org` logins on
//! `/cloudapi/1.0.0/sessions` (tenants) and `/sessions/provider` (org `System` only),
//! bearer tokens on every other call that lapse after `sessionIdleTimeoutMinutes` of
//! lab time without use, logout on both APIs, and the `Accept` version check (406).
//!
//! Legacy `/api` calls may leave the version out of `Accept` (the lab then answers with
//! the newest offered version); a version that is given must be offered.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::vendors::vcd::wire::{
    ACCESS_TOKEN_HEADER, EntityRef, PROVIDER_ORG, Session, TOKEN_TYPE_HEADER, VCLOUD_XMLNS,
};

use super::error::LabError;
use super::state::{Credentials, LabState, named_urn, uuid};

/// Minutes of idleness after which a session is gone.
pub(super) const IDLE_MINUTES: u64 = 30;

/// One session: its bearer token and id, and who logged in.
#[derive(Clone, Debug)]
pub(super) struct Login {
    token: String,
    session_id: String,
    name: String,
    org: String,
}

/// The live sessions.
pub(super) type Logins = crate::http::lab::Logins<Login>;

/// What a request on one object brings: the lab, who made it, and the one id its path
/// names.
pub(super) type OnId = (
    State<LabState>,
    axum::Extension<Caller>,
    axum::extract::Path<String>,
);

/// Who made a request that passed [`require`], and the API version it asked for.
#[derive(Clone, Debug)]
pub(super) struct Caller {
    pub(super) name: String,
    pub(super) org: String,
    pub(super) version: String,
    token: String,
    session_id: String,
}

impl Caller {
    /// Whether the caller is a provider (org `System`) user.
    pub(super) fn is_provider(&self) -> bool {
        self.org == PROVIDER_ORG
    }
}

/// The `version=` parameter of `Accept`, if any.
fn accept_version(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .filter_map(|param| param.trim().strip_prefix("version="))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .next()
}

/// The version a request asks for, checked against the offered ones (406 otherwise).
pub(super) fn version(
    lab: &LabState,
    headers: &HeaderMap,
    legacy: bool,
) -> Result<String, LabError> {
    let offered = lab.at_now().versions();
    let wrap = |e: LabError| if legacy { e.legacy() } else { e };
    match accept_version(headers) {
        Some(v) if offered.contains(&v.as_str()) => Ok(v),
        Some(v) => Err(wrap(LabError::not_acceptable(format!(
            "The requested version {v} is not supported; this server offers {}",
            offered.join(", ")
        )))),
        None if legacy => Ok(offered.last().copied().unwrap_or_default().to_owned()),
        None => Err(LabError::not_acceptable(
            "The Accept header must name an API version, e.g. application/json;version=38.0",
        )),
    }
}

/// `POST /cloudapi/1.0.0/sessions`: tenant login.
pub(super) async fn sessions_create(State(lab): State<LabState>, headers: HeaderMap) -> Response {
    login(&lab, &headers, false).unwrap_or_else(IntoResponse::into_response)
}

/// `POST /cloudapi/1.0.0/sessions/provider`: provider (`System`) login.
pub(super) async fn sessions_provider_create(
    State(lab): State<LabState>,
    headers: HeaderMap,
) -> Response {
    login(&lab, &headers, true).unwrap_or_else(IntoResponse::into_response)
}

fn login(lab: &LabState, headers: &HeaderMap, provider: bool) -> Result<Response, LabError> {
    version(lab, headers, false)?;
    let (user, password) = crate::http::lab::basic_credentials(headers).ok_or_else(|| {
        LabError::unauthorized("Basic credentials user@org:password are required")
    })?;
    let (name, org) = user.rsplit_once('@').unwrap_or((user.as_str(), ""));
    let account = lab
        .credentials()
        .iter()
        .find(|a| a.name == name && a.org.eq_ignore_ascii_case(org))
        .filter(|a| a.password.expose() == password)
        .ok_or_else(|| LabError::unauthorized("Invalid credentials"))?;
    let is_provider = account.org == PROVIDER_ORG;
    if provider && !is_provider {
        return Err(LabError::unauthorized(format!(
            "{user} is not a provider user; log in through /cloudapi/1.0.0/sessions"
        )));
    }
    if !provider && is_provider {
        return Err(LabError::unauthorized(format!(
            "{user} is a provider user; log in through /cloudapi/1.0.0/sessions/provider"
        )));
    }
    let login = lab.at_now().logins.create(lab.now(), |rng| Login {
        token: format!("{}{}", uuid(rng), uuid(rng)).replace('-', ""),
        session_id: format!("urn:vcloud:session:{}", uuid(rng)),
        name: account.name.clone(),
        org: account.org.clone(),
    });
    let mut response = Json(session(account, &login.session_id)).into_response();
    let headers = response.headers_mut();
    if let Ok(token) = HeaderValue::from_str(&login.token) {
        headers.insert(ACCESS_TOKEN_HEADER, token);
    }
    headers.insert(TOKEN_TYPE_HEADER, HeaderValue::from_static("Bearer"));
    Ok(response)
}

fn session(account: &Credentials, session_id: &str) -> Session {
    let role = if account.org == PROVIDER_ORG {
        "System Administrator"
    } else {
        "Organization Administrator"
    };
    Session {
        id: session_id.to_owned(),
        site: EntityRef {
            name: "vcd-lab".to_owned(),
            id: named_urn("site", "vcd-lab"),
        },
        user: EntityRef {
            name: account.name.clone(),
            id: named_urn("user", &account.name),
        },
        org: EntityRef {
            name: account.org.clone(),
            id: named_urn("org", &account.org),
        },
        location: Some(named_urn("location", "vcd-lab")),
        roles: vec![role.to_owned()],
        role_refs: vec![EntityRef {
            name: role.to_owned(),
            id: named_urn("role", role),
        }],
        session_idle_timeout_minutes: IDLE_MINUTES,
    }
}

/// `GET /cloudapi/1.0.0/sessions/current`: the caller's session.
pub(super) async fn sessions_current_get(
    State(lab): State<LabState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> Response {
    let account = lab
        .credentials()
        .iter()
        .find(|a| a.name == caller.name && a.org == caller.org);
    match account {
        Some(account) => Json(session(account, &caller.session_id)).into_response(),
        None => LabError::unauthorized("The session's user is gone").into_response(),
    }
}

/// `DELETE /cloudapi/1.0.0/sessions/current` and `DELETE /api/session`: logout.
pub(super) async fn sessions_delete(
    State(lab): State<LabState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> StatusCode {
    lab.at_now().logins.remove(|l| l.token == caller.token);
    StatusCode::NO_CONTENT
}

/// `GET /api/session`: the legacy session document pyvcloud reads after login.
pub(super) async fn legacy_session_get(
    axum::Extension(caller): axum::Extension<Caller>,
    headers: HeaderMap,
) -> Response {
    let base = super::base_url(&headers);
    let xml = format!(
        "<Session xmlns=\"{VCLOUD_XMLNS}\" user=\"{}\" org=\"{}\" userId=\"{}\" \
         href=\"{base}/api/session\" type=\"application/vnd.vmware.vcloud.session+xml\">\
         <Link rel=\"down\" href=\"{base}/api/org/\" type=\"application/vnd.vmware.vcloud.orgList+xml\"/>\
         </Session>",
        quick_xml::escape::escape(caller.name.as_str()),
        quick_xml::escape::escape(caller.org.as_str()),
        named_urn("user", &caller.name),
    );
    let content_type = format!(
        "application/vnd.vmware.vcloud.session+xml;version={}",
        caller.version
    );
    super::xml_response(StatusCode::OK, &content_type, xml)
}

/// Middleware in front of every API route but versions and login: the `Accept`
/// version, then a live bearer token.
pub(super) async fn require(
    State(lab): State<LabState>,
    mut request: Request,
    next: Next,
) -> Response {
    let legacy = request.uri().path().starts_with("/api/");
    match authenticate(&lab, request.headers(), legacy) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

fn authenticate(lab: &LabState, headers: &HeaderMap, legacy: bool) -> Result<Caller, LabError> {
    let version = version(lab, headers, legacy)?;
    let wrap = |e: LabError| if legacy { e.legacy() } else { e };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            wrap(LabError::unauthorized(
                "Authorization: Bearer <token> is required",
            ))
        })?;
    let login = lab
        .at_now()
        .logins
        .touch(lab.now(), |l| l.token == token)
        .ok_or_else(|| {
            wrap(LabError::unauthorized(
                "The access token has expired or is not valid; log in again",
            ))
        })?;
    Ok(Caller {
        name: login.name,
        org: login.org,
        version,
        token: login.token,
        session_id: login.session_id,
    })
}
