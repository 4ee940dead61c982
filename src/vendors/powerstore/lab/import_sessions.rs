//! The `/api/rest/import_session` routes of vendor-apis.md §4.4: list, get, create,
//! modify, delete and the actions. Each handler reads lab time once, advances what it
//! touches to it, and records the mutations it applied.

use std::future::{Ready, ready};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::vendors::powerstore::wire::{
    CancelRequest, IMPORT_SESSION_FIELDS, ImportSessionModify, REMOTE_SYSTEM_FIELDS,
};

use super::body;
use super::error::LabError;
use super::jobs::{self, Action, Outcome};
use super::operation::Operation;
use super::query::{Listing, Params, Query, Resource, range};
use super::select::Select;
use super::state::LabState;

/// The import session collection, with its embeddable remote system.
pub(super) const IMPORT_SESSION: Resource = Resource {
    name: "import_session",
    fields: IMPORT_SESSION_FIELDS,
    embeds: &[("remote_system", REMOTE_SYSTEM_FIELDS)],
};

/// `GET /import_session`.
pub(super) async fn import_sessions_list(
    State(lab): State<LabState>,
    Params(params): Params,
    headers: HeaderMap,
) -> Result<Listing, LabError> {
    let query = Query::parse(&params, range(&headers), &IMPORT_SESSION)?;
    let now = lab.now();
    let mut inventory = lab.lock();
    inventory.advance_all(now);
    // A wave of thousands of applications looks its sessions up by name: only those
    // that can match are shown in full.
    let by_name = query.filters_only(&["id", "name"]);
    let rows = inventory
        .sessions
        .iter()
        .filter(|s| {
            let key = || {
                let mut row = Map::new();
                row.insert("id".to_owned(), Value::from(s.id()));
                row.insert("name".to_owned(), Value::from(s.name()));
                row
            };
            !by_name || query.keeps(&key())
        })
        .map(|s| inventory.session_row(s, now))
        .collect();
    let listing = query.run(rows)?;
    inventory.touch(&listing.ids, now);
    inventory.reads.list(&params, listing.ids.len());
    Ok(listing)
}

/// `GET /import_session/{id}` (or `name:{name}`).
pub(super) async fn import_sessions_get(
    State(lab): State<LabState>,
    Path(id): Path<String>,
    Params(params): Params,
) -> Result<Json<Value>, LabError> {
    let select = Select::from_params(&params, &IMPORT_SESSION)?;
    let now = lab.now();
    let mut inventory = lab.lock();
    inventory.reads.get();
    let session = inventory.session(&id, now)?.clone();
    Ok(Json(select.project(&inventory.session_row(&session, now))))
}

/// `POST /import_session`.
pub(super) async fn import_sessions_create(
    State(lab): State<LabState>,
    Params(params): Params,
    bytes: Bytes,
) -> Response {
    let now = lab.now();
    let result = {
        let mut inventory = lab.lock();
        inventory
            .validate(&bytes, now)
            .map(|blueprint| inventory.add(blueprint, now))
    };
    if let Ok(id) = &result {
        lab.mutations().record("create", id, now);
    }
    let action = Action {
        name: "create",
        description: "Create import session.",
        resource_id: "",
    };
    jobs::respond(&lab, &params, action, result.map(Outcome::Created))
}

/// The handler of an operation without a body: `DELETE /import_session/{id}` and
/// `POST /import_session/{id}/` `pause`, `resume`, `cutover`, `cleanup` and `start_copy`.
pub(super) fn import_sessions_operate(
    operation: Operation,
) -> impl Fn(State<LabState>, Path<String>, Params) -> Ready<Response> + Clone + Send + Sync + 'static
{
    move |State(lab), Path(id), Params(params)| ready(mutate(&lab, &params, &id, operation))
}

/// The handler of an operation its body tells more of: `read` makes the operation from
/// the body; a body it refuses is answered as a refused `refused` (only the operation's
/// name and description are shown).
pub(super) fn import_sessions_read(
    refused: Operation,
    read: fn(&[u8]) -> Result<Operation, LabError>,
) -> impl Fn(State<LabState>, Path<String>, Params, Bytes) -> Ready<Response>
+ Clone
+ Send
+ Sync
+ 'static {
    move |State(lab), Path(id), Params(params), bytes: Bytes| {
        ready(match read(&bytes) {
            Ok(operation) => mutate(&lab, &params, &id, operation),
            Err(error) => refuse(&lab, &params, &id, refused, error),
        })
    }
}

/// The body of `PATCH /import_session/{id}`: a new `scheduled_timestamp`.
pub(super) fn modify_body(bytes: &[u8]) -> Result<Operation, LabError> {
    let modify = body::parse::<ImportSessionModify>(bytes, &["scheduled_timestamp"])?;
    let text = modify
        .scheduled_timestamp
        .ok_or_else(|| LabError::schema("The request body must set scheduled_timestamp."))?;
    body::timestamp("scheduled_timestamp", &text).map(Operation::Modify)
}

/// The body of `POST /import_session/{id}/cancel`, an optional `{"force": bool}`: the
/// two end differently only when the source array stopped answering
/// (`Fault::SourceUnreachable`).
pub(super) fn cancel_body(bytes: &[u8]) -> Result<Operation, LabError> {
    let request = body::parse::<CancelRequest>(bytes, &["force"])?;
    Ok(Operation::Cancel {
        force: request.force,
    })
}

/// The body of `POST /import_session/{id}/enable_destination_volume`: an optional object.
pub(super) fn enable_destination_volume_body(bytes: &[u8]) -> Result<Operation, LabError> {
    body::object(bytes).map(|()| Operation::EnableDestinationVolume)
}

/// Applies `operation` to the session `key` names and answers for it; only an applied
/// operation is logged.
fn mutate(
    lab: &LabState,
    params: &[(String, String)],
    key: &str,
    operation: Operation,
) -> Response {
    let now = lab.now();
    let result = lab.lock().operate(key, operation, now);
    if let Ok(id) = &result {
        lab.mutations().record(operation.name(), id, now);
    }
    let resource_id = result
        .as_ref()
        .map_or_else(|_| key.to_owned(), Clone::clone);
    let action = Action {
        name: operation.name(),
        description: operation.description(),
        resource_id: &resource_id,
    };
    jobs::respond(lab, params, action, result.map(|_| Outcome::NoContent))
}

fn refuse(
    lab: &LabState,
    params: &[(String, String)],
    key: &str,
    operation: Operation,
    error: LabError,
) -> Response {
    let action = Action {
        name: operation.name(),
        description: operation.description(),
        resource_id: key,
    };
    jobs::respond(lab, params, action, Err(error))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{Client, message, send};
    use crate::vendors::powerstore::wire::codes;

    const SESSIONS: &str = "/api/rest/import_session";

    fn names(body: &serde_json::Value) -> Vec<&str> {
        body.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn list_returns_ids_only_without_select() {
        let answer = Client::fresh().await.get(SESSIONS).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let rows = answer.body.as_array().unwrap();
        assert_eq!(rows.len(), 13);
        assert!(
            rows.iter()
                .all(|r| r.as_object().unwrap().keys().eq(["id"]))
        );
    }

    #[tokio::test]
    async fn list_filters_orders_and_selects() {
        let c = Client::fresh().await;
        let uri = format!("{SESSIONS}?select=name,state&state=eq.copy_in_progress&order=name.desc");
        let answer = c.get(&uri).await;
        assert_eq!(
            names(&answer.body),
            ["wave1-lun05", "wave1-lun04", "wave1-lun02", "wave1-lun01"]
        );
        let uri =
            format!("{SESSIONS}?select=name&name=ilike.wave2*&state=not.in.(Scheduled,Failed)");
        assert_eq!(
            names(&c.get(&uri).await.body),
            ["wave2-lun02", "wave2-cg01"]
        );
        let uri =
            format!("{SESSIONS}?select=name,remote_system(name)&remote_system_id=neq.x&limit=1");
        assert_eq!(
            c.get(&uri).await.body,
            json!([{"name": "wave1-lun01", "remote_system": {"name": "unity-01"}}])
        );
        let bad = c.get(&format!("{SESSIONS}?select=name,size")).await;
        assert_eq!(
            (bad.status, bad.body["messages"][0]["code"].as_str()),
            (400, Some(codes::INVALID_REQUEST))
        );
    }

    #[tokio::test]
    async fn list_pages_with_206_and_416() {
        let c = Client::fresh().await;
        let first = c.get(&format!("{SESSIONS}?limit=5")).await;
        assert_eq!(
            (first.status, first.header("content-range")),
            (206, Some("0-4/13"))
        );
        let middle = c.get(&format!("{SESSIONS}?limit=5&offset=5")).await;
        assert_eq!(
            (middle.status, middle.header("content-range")),
            (206, Some("5-9/13"))
        );
        let last = c.get(&format!("{SESSIONS}?limit=5&offset=10")).await;
        assert_eq!((last.status, last.body.as_array().unwrap().len()), (200, 3));
        let ranged = send(
            &c.lab,
            "GET",
            &format!("{SESSIONS}?select=name"),
            &[("cookie", &c.cookie), ("range", "2-3")],
            "",
        )
        .await;
        assert_eq!(
            (ranged.status, names(&ranged.body)),
            (206, vec!["wave1-lun03", "wave1-lun04"])
        );
        for uri in ["?offset=13", "?limit=0"] {
            let answer = c.get(&format!("{SESSIONS}{uri}")).await;
            assert_eq!(answer.status, 416, "{uri}");
            assert_eq!(answer.header("content-type"), Some("application/json"));
        }
    }

    #[tokio::test]
    async fn get_shows_a_copy_in_progress() {
        let c = Client::fresh().await;
        let answer = c
            .get(&format!(
                "{SESSIONS}/name:wave1-lun01?select=*,remote_system(id,name)"
            ))
            .await;
        let s = &answer.body;
        assert_eq!(answer.status, 200);
        assert_eq!(
            (s["state"].as_str(), s["state_l10n"].as_str()),
            (Some("Copy_In_Progress"), Some("Copy In Progress"))
        );
        assert_eq!(s["progress_percentage"], 40);
        assert_eq!(s["average_transfer_rate"], 512 << 20);
        assert!(s["current_transfer_rate"].as_u64().unwrap() > 480 << 20);
        assert_eq!(s["estimated_completion_timestamp"], "2025-03-01T00:00:12Z");
        assert_eq!(s["last_update_timestamp"], "2025-03-01T00:00:00Z");
        assert_eq!(s["remote_system"]["name"], "unity-01");
        assert_eq!(s["remote_system_id"], s["remote_system"]["id"]);
        assert_eq!(
            (s["type"].as_str(), s["destination_resource_type"].as_str()),
            (Some("Non_Disruptive"), Some("volume"))
        );
        assert!(s["error"].is_null());
        let by_id = c
            .get(&format!("{SESSIONS}/{}", s["id"].as_str().unwrap()))
            .await;
        assert_eq!(by_id.body, json!({"id": s["id"]}));
    }

    #[tokio::test]
    async fn create_answers_201_and_starts_the_import() {
        let c = Client::fresh().await;
        let body = r#"{"name": "imp-lun17", "remote_system_id": "name:vnx-02", "source_resource_id": "sv_17", "description": "wave 3"}"#;
        let created = c.post(SESSIONS, body).await;
        assert_eq!(created.status, 201);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let shown = c.get(&format!("{SESSIONS}/{id}?select=name,state,description,automatic_cutover,remote_system(name)")).await;
        assert_eq!(
            shown.body,
            json!({"name": "imp-lun17", "state": "Queued", "description": "wave 3",
            "automatic_cutover": false, "remote_system": {"name": "vnx-02"}})
        );
        let again = c.post(SESSIONS, body).await;
        assert_eq!(
            (again.status, again.body["messages"][0]["code"].as_str()),
            (422, Some(codes::NAME_IN_USE))
        );
        let group = r#"{"name": "imp-cg2", "remote_system_id": "name:vnx-02", "source_resource_id": "res_2",
            "scheduled_timestamp": "2025-03-01T02:00:00Z", "automatic_cutover": true}"#;
        let id = c.post(SESSIONS, group).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let shown = c
            .get(&format!(
                "{SESSIONS}/{id}?select=state,destination_resource_type,scheduled_timestamp"
            ))
            .await;
        assert_eq!(
            shown.body,
            json!({"state": "Scheduled", "destination_resource_type": "volume_group",
            "scheduled_timestamp": "2025-03-01T02:00:00Z"})
        );
        assert_eq!(c.lab.mutations().count("create"), 2);
    }

    #[tokio::test]
    async fn modify_moves_the_schedule_and_checks_its_body() {
        let c = Client::fresh().await;
        let path = format!("{SESSIONS}/name:wave2-lun01");
        let moved = c
            .call(
                "PATCH",
                &path,
                r#"{"scheduled_timestamp": "2025-03-01T00:00:10Z"}"#,
            )
            .await;
        assert_eq!(moved.status, 204);
        let bad = c
            .call("PATCH", &path, r#"{"scheduled_timestamp": "noon"}"#)
            .await;
        assert_eq!(
            (bad.status, bad.body["messages"][0]["code"].as_str()),
            (400, Some(codes::SCHEMA_VALIDATION))
        );
        let empty = c.call("PATCH", &path, "{}").await;
        assert_eq!(
            (empty.status, message(&empty)),
            (400, "The request body must set scheduled_timestamp.")
        );
        let cancel = c
            .post(&format!("{path}/cancel"), r#"{"force": "yes"}"#)
            .await;
        assert_eq!(cancel.status, 400);
        assert_eq!(
            c.lab.mutations().counts().into_iter().collect::<Vec<_>>(),
            [("modify".to_owned(), 1)]
        );
    }
}
