//! Asynchronous requests: any mutation sent with `is_async=true` (or `async=true`) is
//! applied at once and answered `202 {"id": job}`; `GET /job/{id}` then tells how it
//! went, with the synchronous answer's status and body (vendor-apis.md §4.3).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::http::lab::timestamp;
use crate::vendors::powerstore::wire::{IdResponse, Job, JobState};

use super::error::LabError;
use super::state::LabState;

/// What a successful mutation answers synchronously.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Outcome {
    /// 204.
    NoContent,
    /// 201 with the new resource's id.
    Created(String),
}

/// The operation a response is about, for its job.
#[derive(Clone, Copy, Debug)]
pub(super) struct Action<'a> {
    /// `resource_action`, e.g. `cutover`.
    pub(super) name: &'a str,
    pub(super) description: &'a str,
    /// The resource the request named.
    pub(super) resource_id: &'a str,
}

fn is_async(params: &[(String, String)]) -> bool {
    params
        .iter()
        .any(|(k, v)| (k == "is_async" || k == "async") && v.eq_ignore_ascii_case("true"))
}

/// Answers a mutation: synchronously, or as a job when the request asked for one.
pub(super) fn respond(
    lab: &LabState,
    params: &[(String, String)],
    action: Action<'_>,
    result: Result<Outcome, LabError>,
) -> Response {
    if !is_async(params) {
        return match result {
            Ok(Outcome::NoContent) => StatusCode::NO_CONTENT.into_response(),
            Ok(Outcome::Created(id)) => {
                (StatusCode::CREATED, Json(IdResponse { id })).into_response()
            }
            Err(error) => error.into_response(),
        };
    }
    let id = record(lab, action, result);
    (StatusCode::ACCEPTED, Json(IdResponse { id })).into_response()
}

/// Keeps a finished job holding what the synchronous call would have answered; its id.
fn record(lab: &LabState, action: Action<'_>, result: Result<Outcome, LabError>) -> String {
    let mut resource_id = action.resource_id.to_owned();
    let (state, status, body) = match result {
        Ok(Outcome::NoContent) => (JobState::Completed, StatusCode::NO_CONTENT, None),
        Ok(Outcome::Created(id)) => {
            let body = serde_json::json!({ "id": id });
            resource_id = id;
            (JobState::Completed, StatusCode::CREATED, Some(body))
        }
        Err(error) => {
            let body = serde_json::to_value(error.body()).ok();
            (JobState::Failed, error.status(), body)
        }
    };
    let now = timestamp(lab.now());
    let mut inventory = lab.lock();
    let id = inventory.new_id();
    inventory.jobs.push(Job {
        id: id.clone(),
        resource_action: Some(action.name.to_owned()),
        resource_type: Some("import_session".to_owned()),
        resource_id: Some(resource_id),
        description_l10n: Some(action.description.to_owned()),
        state: Some(state),
        phase: Some(state.phase().to_owned()),
        start_time: Some(now.clone()),
        end_time: Some(now),
        progress_percentage: Some(100),
        response_status: Some(status.as_u16().to_string()),
        response_body: body,
    });
    id
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::Client;
    use crate::vendors::powerstore::wire::codes;

    const POLL: &str =
        "select=id,state,progress_percentage,response_status,response_body,description_l10n";

    async fn job(client: &Client, id: &serde_json::Value) -> serde_json::Value {
        let id = id.as_str().unwrap();
        client.get(&format!("/api/rest/job/{id}?{POLL}")).await.body
    }

    /// POSTs `body` to `uri` (an asynchronous request), which must be accepted; the job's
    /// id and the job as polled then.
    async fn run_async(
        client: &Client,
        uri: &str,
        body: &str,
    ) -> (serde_json::Value, serde_json::Value) {
        let accepted = client.post(uri, body).await;
        assert_eq!(accepted.status, 202, "{}", accepted.text);
        let id = accepted.body["id"].clone();
        let polled = job(client, &id).await;
        (id, polled)
    }

    #[tokio::test]
    async fn an_async_action_completes_as_a_job() {
        let c = Client::fresh().await;
        let uri = "/api/rest/import_session/name:wave1-lun03/cutover?is_async=true";
        let (id, polled) = run_async(&c, uri, "").await;
        assert_eq!(
            polled,
            json!({"id": id, "state": "COMPLETED", "progress_percentage": 100,
            "response_status": "204", "response_body": null, "description_l10n": "Cut over import session."})
        );
        assert_eq!(c.state("name:wave1-lun03").await, "Import_Completed");
        assert_eq!(c.lab.mutations().count("cutover"), 1);
    }

    #[tokio::test]
    async fn a_refused_async_action_fails_with_the_error_body() {
        let c = Client::fresh().await;
        let uri = "/api/rest/import_session/name:wave1-lun03/pause?async=true";
        let (_, polled) = run_async(&c, uri, "").await;
        assert_eq!(polled["state"], "FAILED");
        assert_eq!(polled["response_status"], "422");
        assert_eq!(
            polled["response_body"]["messages"][0]["code"],
            codes::INVALID_STATE
        );
        assert!(c.lab.mutations().entries().is_empty());
    }

    #[tokio::test]
    async fn an_async_create_reports_the_new_id() {
        let c = Client::fresh().await;
        let body = r#"{"name": "imp-1", "remote_system_id": "name:unity-01", "source_resource_id": "sv_1"}"#;
        let (id, polled) = run_async(&c, "/api/rest/import_session?is_async=true", body).await;
        assert_eq!(
            (polled["state"].as_str(), polled["response_status"].as_str()),
            (Some("COMPLETED"), Some("201"))
        );
        let created = polled["response_body"]["id"].as_str().unwrap();
        assert_eq!(c.state(created).await, "Queued");
        let bare = c
            .get(&format!("/api/rest/job/{}", id.as_str().unwrap()))
            .await;
        assert_eq!(bare.body, json!({"id": id}));
        let listed = c
            .get("/api/rest/job?select=resource_action,resource_id")
            .await;
        assert_eq!(
            listed.body,
            json!([{"resource_action": "create", "resource_id": created}])
        );
        assert_eq!(c.get("/api/rest/job/nope").await.status, 404);
    }
}
