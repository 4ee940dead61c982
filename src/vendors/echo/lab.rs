//! The echo simulator: jobs that run for their number of lab seconds and are then done,
//! behind Basic credentials, on the lab scaffolding ([`LabCore`], `/_lab/state`, faults,
//! the mutation log). Progress is computed from the lab clock on every read.

use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use crate::config::Secret;
use crate::http::lab::{
    LabCore, LabInventory, MutationLog, basic_credentials, state_routes, with_faults,
};
use crate::vendors::LabSetup;
use crate::vendors::echo::wire::{CreateRequest, ErrorBody, ErrorDetail, Job, JobState};

/// The user the echo simulator accepts.
pub const LAB_USER: &str = "echo";

/// The simulated jobs, each with the lab time it started.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Vec<(Job, SystemTime)>,
}

impl LabInventory for Jobs {
    fn advance(&mut self, now: SystemTime, mutations: &MutationLog) {
        for (job, started) in &mut self.jobs {
            let ends = *started + Duration::from_secs(job.seconds);
            if job.state == JobState::Running && ends <= now {
                job.state = JobState::Done;
                mutations.record("done", &job.id, ends);
            }
        }
    }

    fn state_json(&mut self, _: SystemTime, _: &MutationLog) -> Map<String, Value> {
        let jobs: Vec<&Job> = self.jobs.iter().map(|(job, _)| job).collect();
        Map::from_iter([("jobs".to_owned(), json!(jobs))])
    }
}

/// The one user and password it accepts.
pub struct Credentials {
    user: &'static str,
    password: Secret,
}

/// The simulator's state.
pub type LabState = LabCore<Jobs, Credentials>;

/// A lab with no jobs on the setup's clock, accepting `user` with the setup's password.
pub fn state(setup: &LabSetup<'_>, user: &'static str) -> LabState {
    let password = setup.password.clone();
    LabCore::assemble(
        Jobs::default(),
        setup.clock.clone(),
        Credentials { user, password },
    )
}

/// Every route, with fault injection in front.
pub fn router(lab: LabState) -> Router {
    let routes = Router::new()
        .route("/echo/jobs", get(list).post(create))
        .route("/echo/jobs/{id}", get(read))
        .route("/echo/jobs/{id}/cancel", post(cancel))
        .merge(state_routes(&lab, Map::new()))
        .with_state(lab.clone());
    with_faults(routes, lab.faults().clone(), |status| {
        json!(error_body(status, "fault", "injected by the lab"))
    })
}

fn error_body(status: StatusCode, code: &str, message: &str) -> ErrorBody {
    ErrorBody {
        error: ErrorDetail {
            code: format!("{}.{code}", status.as_u16()),
            message: message.to_owned(),
        },
    }
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(error_body(status, code, message))).into_response()
}

fn authorized(lab: &LabState, headers: &HeaderMap) -> Result<(), Response> {
    let accepted = lab.credentials();
    match basic_credentials(headers) {
        Some((user, password))
            if user == accepted.user && password == accepted.password.expose() =>
        {
            Ok(())
        }
        _ => Err(refuse(
            StatusCode::UNAUTHORIZED,
            "auth",
            "the user or password is wrong",
        )),
    }
}

#[derive(serde::Deserialize)]
struct ByToken {
    client_token: Option<String>,
}

async fn list(State(lab): State<LabState>, headers: HeaderMap, query: Query<ByToken>) -> Response {
    if let Err(refused) = authorized(&lab, &headers) {
        return refused;
    }
    let jobs = lab.at_now();
    let found: Vec<&Job> = jobs
        .jobs
        .iter()
        .map(|(job, _)| job)
        .filter(|job| {
            query
                .client_token
                .as_ref()
                .is_none_or(|t| *t == job.client_token)
        })
        .collect();
    Json(json!(found)).into_response()
}

async fn create(
    State(lab): State<LabState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = authorized(&lab, &headers) {
        return refused;
    }
    let asked: CreateRequest = match serde_json::from_slice(&body) {
        Ok(asked) => asked,
        Err(err) => return refuse(StatusCode::BAD_REQUEST, "body", &err.to_string()),
    };
    let (now, mut jobs) = lab.now_and_at();
    if let Some((job, _)) = jobs
        .jobs
        .iter()
        .find(|(j, _)| j.client_token == asked.client_token)
    {
        return Json(job.clone()).into_response();
    }
    let job = Job {
        id: format!("job-{}", jobs.jobs.len() + 1),
        name: asked.name,
        state: JobState::Running,
        client_token: asked.client_token,
        seconds: asked.seconds,
    };
    lab.mutations().record("create", &job.id, now);
    jobs.jobs.push((job.clone(), now));
    jobs.advance(now, lab.mutations());
    let shown = jobs.jobs.last().map(|(job, _)| job.clone());
    (StatusCode::CREATED, Json(shown)).into_response()
}

async fn read(State(lab): State<LabState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(refused) = authorized(&lab, &headers) {
        return refused;
    }
    let jobs = lab.at_now();
    match jobs.jobs.iter().find(|(job, _)| job.id == id) {
        Some((job, _)) => Json(job.clone()).into_response(),
        None => refuse(StatusCode::NOT_FOUND, "not_found", &format!("no job {id}")),
    }
}

async fn cancel(
    State(lab): State<LabState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(refused) = authorized(&lab, &headers) {
        return refused;
    }
    let (now, mut jobs) = lab.now_and_at();
    let Some((job, _)) = jobs.jobs.iter_mut().find(|(job, _)| job.id == id) else {
        return refuse(StatusCode::NOT_FOUND, "not_found", &format!("no job {id}"));
    };
    if job.state != JobState::Running {
        let message = format!("job {id} is {}, not Running", job.state.as_str());
        return refuse(StatusCode::CONFLICT, "state", &message);
    }
    job.state = JobState::Cancelled;
    lab.mutations().record("cancel", &id, now);
    Json(job.clone()).into_response()
}
