//! The vCenter simulator: the deferred import of historical data (vendor-apis.md §1)
//! behind both listeners of one appliance, the management port ([`appliance_router`],
//! local root) and the reverse proxy ([`proxy_router`], SSO users), in both the `/rest`
//! and the `/api` encodings, with sessions, privilege checks and vAPI error bodies.
//!
//! Both routers share one [`LabState`]: one singleton import per appliance. The import
//! moves on the lab clock whenever something is read, never by background tasks, from
//! the first time a client reads or acts on it.

mod auth;
mod control;
mod error;
mod history;
#[cfg(test)]
mod ovf_estate_tests;
mod ovf_packages;
mod ovf_preview;
mod ovf_routes;
mod ovf_session;
#[cfg(test)]
mod ovf_tests;
mod state;
#[cfg(test)]
mod tests;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

pub(super) use crate::http::lab::control_error as bad;
use crate::http::lab::with_faults;
use crate::vendors::vcenter::wire::{
    API_HISTORY_PATH, API_SESSION_PATH, Encoding, HistoryAction, HistoryStartSpec,
    REST_HISTORY_PATH, REST_SESSION_PATH, RestStartRequest, Wrapped,
};

pub use error::LabError;
#[cfg(test)]
use state::VIEWER_USER;
pub use state::{APPLIANCE_USER, LabState, PROXY_USER, Port};

use auth::Caller;
use error::encoding_of;

/// What every handler sees: the shared state and the listener the request came in on.
#[derive(Clone, Debug)]
pub(super) struct Ctx {
    lab: LabState,
    port: Port,
}

/// The appliance management port (5480): `root` only.
pub fn appliance_router(state: LabState) -> Router {
    router(state, Port::Appliance)
}

/// The reverse proxy (443): SSO users.
pub fn proxy_router(state: LabState) -> Router {
    router(state, Port::Proxy)
}

fn router(state: LabState, port: Port) -> Router {
    let ctx = Ctx {
        lab: state.clone(),
        port,
    };
    let mut api = Router::new()
        .route(REST_HISTORY_PATH, get(history_get).post(history_action))
        .route(API_HISTORY_PATH, get(history_get).post(history_action))
        .route(
            API_SESSION_PATH,
            get(auth::session_get).delete(auth::logout),
        )
        .route(REST_SESSION_PATH, axum::routing::delete(auth::logout));
    let mut lab = control::routes(&ctx);
    if port == Port::Proxy {
        api = api.merge(ovf_routes::api_routes());
        lab = lab.merge(ovf_routes::lab_routes());
    }
    let api = api.route_layer(middleware::from_fn_with_state(ctx.clone(), auth::require));
    // Login answers POST before the auth layer; other methods fall through to `api`.
    let login = Router::new()
        .route(API_SESSION_PATH, post(auth::login))
        .route(REST_SESSION_PATH, post(auth::login));
    let routes = api
        .merge(login)
        .merge(lab)
        .fallback(no_route)
        .method_not_allowed_fallback(no_route)
        .with_state(ctx);
    with_faults(routes, state.faults().clone(), error::fault_body)
        .layer(middleware::map_response(json_content_type))
}

/// `Content-Type: application/json` on every answer, empty ones included: the VMware
/// SDK refuses any other type.
async fn json_content_type(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn no_route(method: Method, uri: Uri) -> LabError {
    LabError::not_found(format!(
        "There is no operation {method} {}; the history import lives at {REST_HISTORY_PATH} and {API_HISTORY_PATH}.",
        uri.path()
    ))
    .in_encoding(encoding_of(uri.path()))
}

fn require_admin(caller: &Caller, encoding: Encoding) -> Result<(), LabError> {
    if caller.admin {
        return Ok(());
    }
    Err(LabError::new(
        crate::vendors::vcenter::wire::VapiErrorKind::Unauthorized,
        "vcenter.deployment.history.unauthorized",
        format!(
            "{} is not a super administrator; the history import needs root on the appliance \
             management port or administrator@vsphere.local on the reverse proxy.",
            caller.user
        ),
    )
    .in_encoding(encoding))
}

/// `GET …/deployment/history`: the Info (`/rest` wrapped in `value`).
async fn history_get(
    State(ctx): State<Ctx>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Response {
    let encoding = encoding_of(uri.path());
    if let Err(error) = require_admin(&caller, encoding) {
        return error.into_response();
    }
    let (now, mut inventory) = ctx.lab.now_and_at();
    inventory.history.touch(now);
    let info = inventory.history.info(encoding);
    drop(inventory);
    match encoding {
        Encoding::Rest => Json(Wrapped { value: info }).into_response(),
        Encoding::Api => Json(info).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct ActionQuery {
    action: Option<String>,
}

/// `POST …/deployment/history?action=start|pause|resume|cancel`: 200 empty, or the
/// §1.5 refusal of the current state.
async fn history_action(
    State(ctx): State<Ctx>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    Query(query): Query<ActionQuery>,
    body: Bytes,
) -> Response {
    let encoding = encoding_of(uri.path());
    apply(&ctx, &caller, encoding, query.action.as_deref(), &body)
        .map(|()| StatusCode::OK.into_response())
        .unwrap_or_else(|error| error.in_encoding(encoding).into_response())
}

fn apply(
    ctx: &Ctx,
    caller: &Caller,
    encoding: Encoding,
    action: Option<&str>,
    body: &[u8],
) -> Result<(), LabError> {
    // Rights first, as for every operation of the service (§1.3); then the arguments,
    // refused with one of the statuses §1.6 lists for these operations.
    require_admin(caller, encoding)?;
    let action = action.ok_or_else(|| {
        LabError::invalid_argument("Name the operation in ?action=start|pause|resume|cancel.")
    })?;
    let action = HistoryAction::parse(action).ok_or_else(|| {
        LabError::invalid_argument(format!(
            "There is no action `{action}`; use start, pause, resume or cancel."
        ))
    })?;
    let spec = match action {
        HistoryAction::Start => start_spec(encoding, body)?,
        _ => None,
    };
    let (now, mut inventory) = ctx.lab.now_and_at();
    inventory.history.touch(now);
    inventory.history.apply(
        action,
        now,
        &caller.user,
        spec.map(|s| (s.name, s.description)),
    )?;
    ctx.lab.mutations().record(action.as_str(), "history", now);
    Ok(())
}

/// The spec of `start`: `{"spec": {...}}` or `{}` under `/rest`, the bare spec or an
/// empty body under `/api`.
fn start_spec(encoding: Encoding, body: &[u8]) -> Result<Option<HistoryStartSpec>, LabError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let invalid = |e: serde_json::Error| {
        let shape = match encoding {
            Encoding::Rest => r#"{"spec": {"name": "...", "description": "..."}} or {}"#,
            Encoding::Api => r#"{"name": "...", "description": "..."} or no body"#,
        };
        LabError::invalid_argument(format!("The start spec is not valid ({e}); send {shape}."))
    };
    match encoding {
        Encoding::Rest => Ok(serde_json::from_slice::<RestStartRequest>(body)
            .map_err(invalid)?
            .spec),
        Encoding::Api => serde_json::from_slice::<HistoryStartSpec>(body)
            .map(Some)
            .map_err(invalid),
    }
}
