//! The OVF ImportSession service on the reverse proxy, `/rest` encoding only
//! (vendor-apis.md §3.2): create, get, delete, try-instantiate, instantiate and progress,
//! plus the lab's own package store and the push upload URLs under `/_lab/`.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use http_body_util::BodyExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::vendors::vcenter::ovf_wire::{
    CreateRequest, IMPORT_SESSION_PATH, ImportState, InstantiateRequest, REST_ACTION_QUERY,
    SourceType, ValidationResult,
};
use crate::vendors::vcenter::wire::{Encoding, VapiErrorKind, Wrapped};

use super::auth::Caller;
use super::error::LabError;
use super::ovf_session::{no_session, not_allowed};
use super::{Ctx, bad, ovf_packages};

/// The largest descriptor a push upload may send.
const MAX_DESCRIPTOR: usize = 1 << 20;

/// The service's routes, behind authentication.
pub(super) fn api_routes() -> Router<Ctx> {
    Router::new()
        .route(IMPORT_SESSION_PATH, post(collection_action))
        .route(
            &format!("{IMPORT_SESSION_PATH}/{{id}}"),
            get(session_get).delete(session_delete).post(session_action),
        )
}

/// The lab's package store, push upload URLs and settings (never authenticated).
pub(super) fn lab_routes() -> Router<Ctx> {
    Router::new()
        .route("/_lab/packages/{name}/{file}", get(ovf_packages::serve))
        .route("/_lab/nfc/{session}/{file}", put(upload))
        .route("/_lab/ovf", post(settings))
}

type Answer = Result<Response, LabError>;

fn rest(result: Answer) -> Response {
    result.unwrap_or_else(|e| e.in_encoding(Encoding::Rest).into_response())
}

fn session_id(segment: &str) -> Result<&str, LabError> {
    segment
        .strip_prefix("id:")
        .ok_or_else(|| no_session(segment))
}

/// The session `segment` names, once `caller` is known to be an administrator: every
/// request on one session checks both, in that order.
fn admin_session_id<'a>(caller: &Caller, segment: &'a str) -> Result<&'a str, LabError> {
    require_admin(caller)?;
    session_id(segment)
}

fn require_admin(caller: &Caller) -> Result<(), LabError> {
    if caller.admin {
        return Ok(());
    }
    Err(LabError::new(
        VapiErrorKind::Unauthorized,
        "com.vmware.vcenter.ovf.import_session.unauthorized",
        format!(
            "{} may not import OVF packages; log in as a super administrator.",
            caller.user
        ),
    ))
}

fn body<T: DeserializeOwned>(bytes: &[u8], shape: &str) -> Result<T, LabError> {
    serde_json::from_slice(bytes).map_err(|e| {
        LabError::invalid_argument(format!("The body is not valid ({e}); send {shape}."))
    })
}

#[derive(Deserialize)]
struct PreviewRequest {
    ovf_descriptor: String,
}

#[derive(Deserialize)]
struct ProbeRequest {
    uri: String,
    #[serde(default)]
    #[allow(
        dead_code,
        reason = "accepted as the vendor documents it; the lab's probe does not check the source's certificate"
    )]
    ssl_certificate_thumbprint: Option<String>,
}

/// `POST …/import-session?~action=create-for-resource-pool` (or no action).
async fn collection_action(
    State(ctx): State<Ctx>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    rest((|| {
        require_admin(&caller)?;
        match query.get(REST_ACTION_QUERY).map(String::as_str) {
            None | Some("create-for-resource-pool") => {}
            Some("preview") => {
                let request: PreviewRequest = body(&bytes, r#"{"ovf_descriptor": "<Envelope>…"}"#)?;
                let value = super::ovf_preview::preview(&request.ovf_descriptor)?;
                return Ok(Json(Wrapped { value }).into_response());
            }
            Some("probe") => {
                let request: ProbeRequest = body(&bytes, r#"{"uri": "https://…/x.ovf"}"#)?;
                let packages = ctx.lab.at(ctx.lab.now()).ovf.packages.clone();
                let value = super::ovf_preview::probe(&packages, &request.uri);
                return Ok(Json(Wrapped { value }).into_response());
            }
            Some(other) => {
                return Err(LabError::invalid_argument(format!(
                    "There is no action `{other}` on import sessions; use create-for-resource-pool, preview or probe."
                )));
            }
        }
        let request: CreateRequest = body(
            &bytes,
            r#"{"resource_pool": "resgroup-8", "create_spec": {"source_type": "PULL_SOURCE", "import_flags": [], "pull_source": "…"}}"#,
        )?;
        let now = ctx.lab.now();
        let (id, created) =
            ctx.lab
                .at(now)
                .ovf
                .create(request, crate::http::lab::base_url(&headers), now)?;
        // A client token seen before answers its session: nothing is applied again.
        if created {
            ctx.lab
                .mutations()
                .record("create-for-resource-pool", &id, now);
        }
        Ok(Json(Wrapped { value: id }).into_response())
    })())
}

/// What a request on one import session brings: the lab, who asks, and the path's
/// session segment.
type OnSession = (State<Ctx>, Extension<Caller>, Path<String>);

/// `handle`'s answer on the lab and the session's id, once the caller is known to be an
/// administrator and the segment names a session, in the `/rest` encoding.
fn on_session(
    (State(ctx), Extension(caller), Path(segment)): OnSession,
    handle: impl FnOnce(Ctx, &str) -> Answer,
) -> Response {
    rest(admin_session_id(&caller, &segment).and_then(|id| handle(ctx, id)))
}

/// `GET …/import-session/id:{id}`: the Info.
async fn session_get(session: OnSession) -> Response {
    on_session(session, |ctx, id| {
        let (now, mut inventory) = ctx.lab.now_and_at();
        let info = inventory.ovf.touch(id, now)?.info();
        Ok(Json(Wrapped { value: info }).into_response())
    })
}

/// `DELETE …/import-session/id:{id}`: cancels and forgets the session.
async fn session_delete(session: OnSession) -> Response {
    on_session(session, |ctx, id| {
        let now = ctx.lab.now();
        ctx.lab.at(now).ovf.remove(id)?;
        ctx.lab.mutations().record("delete", id, now);
        Ok(StatusCode::OK.into_response())
    })
}

#[derive(Debug, Deserialize)]
struct ProgressRequest {
    percent: i64,
}

/// `POST …/import-session/id:{id}?~action=try-instantiate|instantiate|progress`.
async fn session_action(
    session: OnSession,
    Query(query): Query<HashMap<String, String>>,
    bytes: Bytes,
) -> Response {
    on_session(session, |ctx, id| {
        let action = query
            .get(REST_ACTION_QUERY)
            .map(String::as_str)
            .unwrap_or("");
        let (now, mut inventory) = ctx.lab.now_and_at();
        let session = inventory.ovf.get(id)?;
        let selecting = session.state == ImportState::ImportSelectingOvfParams;
        let params = r#"{"instantiation_parameters": [...]}"#;
        match action {
            "try-instantiate" => {
                if !selecting {
                    return Err(not_allowed("try-instantiate", session.state));
                }
                let request: InstantiateRequest = body(&bytes, params)?;
                let result = ValidationResult {
                    parameters: request.instantiation_parameters,
                    ..ValidationResult::default()
                };
                Ok(Json(Wrapped { value: result }).into_response())
            }
            "instantiate" => {
                if !selecting {
                    return Err(not_allowed("instantiate", session.state));
                }
                let request: InstantiateRequest = body(&bytes, params)?;
                session.parameters = Some(request.instantiation_parameters);
                let push = session.source == SourceType::PushSource;
                session.mode = Some(if push {
                    "EXTERNAL_TRANSFER_MODE"
                } else {
                    "SERVER_TRANSFER_MODE"
                });
                let next = if push && session.all_done() {
                    ImportState::ImportInstantiating
                } else {
                    ImportState::ImportFileTransfer
                };
                session.state = next;
                session.since = now;
                drop(inventory);
                ctx.lab.mutations().record("instantiate", id, now);
                Ok(StatusCode::OK.into_response())
            }
            "progress" => {
                if session.state != ImportState::ImportFileTransfer {
                    return Err(not_allowed("progress", session.state));
                }
                let request: ProgressRequest = body(&bytes, r#"{"percent": 0..100}"#)?;
                if !(0..=100).contains(&request.percent) {
                    return Err(LabError::invalid_argument(
                        "percent must be between 0 and 100.",
                    ));
                }
                session.last_progress = Some(request.percent);
                session.last_used = now;
                Ok(StatusCode::OK.into_response())
            }
            other => Err(LabError::invalid_argument(format!(
                "There is no action `{other}` on a session; use try-instantiate, instantiate or progress."
            ))),
        }
    })
}

/// `PUT /_lab/nfc/{session}/{file}`: a push upload, counted chunk by chunk as it
/// streams; the descriptor is read once complete.
async fn upload(
    State(ctx): State<Ctx>,
    Path((id, file)): Path<(String, String)>,
    body: Body,
) -> Response {
    rest(upload_inner(ctx, id, file, body).await)
}

async fn upload_inner(ctx: Ctx, id: String, file: String, body: Body) -> Answer {
    let (descriptor, hold) = {
        let (now, mut inventory) = ctx.lab.now_and_at();
        let session = inventory.ovf.touch(&id, now)?;
        let entry = session
            .files
            .iter()
            .find(|f| f.name == file)
            .ok_or_else(|| {
                LabError::not_found(format!("Session {id} has no file {file} to upload."))
            })?;
        let descriptor = entry.file_type == "OVF";
        let open = if descriptor {
            session.state == ImportState::ImportOvfTransfer
        } else {
            matches!(
                session.state,
                ImportState::ImportSelectingOvfParams | ImportState::ImportFileTransfer
            )
        };
        if !open || session.done.contains(&file) {
            return Err(not_allowed("An upload of this file", session.state));
        }
        session.uploads_now += 1;
        session.uploads_peak = session.uploads_peak.max(session.uploads_now);
        (
            descriptor,
            (!descriptor).then(|| inventory.ovf.upload_hold()),
        )
    };
    if let Some(mut hold) = hold {
        // The sender lives with the lab, so this ends once the hold is lifted.
        let _ = hold.wait_for(|held| !held).await;
    }
    let received = receive(&ctx, &id, &file, descriptor, body).await;
    let (now, mut inventory) = ctx.lab.now_and_at();
    let session = inventory.ovf.touch(&id, now)?;
    session.uploads_now = session.uploads_now.saturating_sub(1);
    let text = received?;
    session.done.push(file.clone());
    if descriptor {
        if let Some(entry) = session.files.iter_mut().find(|f| f.name == file) {
            entry.size = entry.bytes_transferred;
        }
        session.accept_descriptor(&file, &String::from_utf8_lossy(&text), None, now);
    }
    inventory.ovf.advance(now);
    Ok(StatusCode::OK.into_response())
}

/// Reads an upload's body chunk by chunk, counting each in the session as it comes;
/// only a descriptor is kept, to be parsed.
async fn receive(
    ctx: &Ctx,
    id: &str,
    file: &str,
    descriptor: bool,
    body: Body,
) -> Result<Vec<u8>, LabError> {
    let mut body = body;
    let mut text = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| LabError::invalid_argument(format!("The upload broke off: {e}")))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if descriptor {
            if text.len() + chunk.len() > MAX_DESCRIPTOR {
                return Err(LabError::invalid_argument(
                    "A descriptor may not exceed 1 MiB.",
                ));
            }
            text.extend_from_slice(&chunk);
        }
        let (now, mut inventory) = ctx.lab.now_and_at();
        let session = inventory.ovf.touch(id, now)?;
        if let Some(entry) = session.files.iter_mut().find(|f| f.name == file) {
            entry.bytes_transferred += i64::try_from(chunk.len()).unwrap_or(i64::MAX);
        }
    }
    Ok(text)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// Lab seconds after which ended or idle sessions are reclaimed.
    reclaim_after: Option<u64>,
    /// Hold disk uploads once they have started, or let them go on.
    hold_uploads: Option<bool>,
}

/// `POST /_lab/ovf {"reclaim_after": seconds, "hold_uploads": bool}` (either or both);
/// answers both settings as they are now.
async fn settings(State(ctx): State<Ctx>, bytes: Bytes) -> Response {
    let settings: Settings = match serde_json::from_slice(&bytes) {
        Ok(s) => s,
        Err(e) => return bad(format!("invalid ovf settings: {e}")),
    };
    let (now, mut inventory) = ctx.lab.now_and_at();
    if let Some(seconds) = settings.reclaim_after {
        inventory.ovf.reclaim_after = std::time::Duration::from_secs(seconds);
    }
    if let Some(hold) = settings.hold_uploads {
        inventory.ovf.hold_uploads(hold);
    }
    inventory.ovf.advance(now);
    Json(json!({
        "reclaim_after": inventory.ovf.reclaim_after.as_secs(),
        "hold_uploads": inventory.ovf.uploads_held(),
    }))
    .into_response()
}
