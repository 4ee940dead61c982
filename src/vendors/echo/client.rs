//! Typed client of the echo API: Basic credentials on every request, reads through
//! `HttpClient::send`, and both mutating calls (`create`, `cancel`) described by
//! [`MUTATIONS`] and sent through the gate; both rebuild their answer by reading when the
//! gate replays one for a call whose answer was lost but that took effect.

use reqwest::{Method, RequestBuilder};

use crate::api_error::{ApiError, ErrorKind};
use crate::config::Target;
use crate::http::basic_auth::BasicAuth;
use crate::http::call_record::CallRecord;
use crate::http::client::{HttpClient, VendorMessage};
use crate::http::mutation::{Check, Mutations, Operation, is_planned};
use crate::vendors::echo::wire::JobState;
use crate::vendors::echo::wire::{CreateRequest, ErrorBody, Job};
use crate::vendors::verdict::is_reconciled;

pub(crate) const JOB: &str = "echo job";

/// Every mutating call this client sends; the gate sends nothing else.
pub const MUTATIONS: Mutations = Mutations {
    vendor: "echo",
    operations: &[
        Operation::new("create", JOB, Check::ClientToken),
        Operation::new("cancel", JOB, Check::States(&["Cancelled"])),
    ],
    is_state: |_, state| {
        crate::vendors::echo::wire::JobState::parse(state).is_some_and(|s| s.as_str() == state)
    },
};

/// Reads the echo API's error body.
pub fn parse_error(body: &str) -> Option<VendorMessage> {
    let parsed: ErrorBody = serde_json::from_str(body).ok()?;
    Some(VendorMessage {
        code: Some(parsed.error.code),
        message: parsed.error.message,
    })
}

/// An echo API target.
pub struct EchoClient {
    http: HttpClient,
    auth: BasicAuth,
}

// Basic credentials open no login, so there is none to end.
session!(EchoClient);

impl EchoClient {
    /// A client for `target` noting its mutating calls in `calls`.
    pub fn new(target: &Target, calls: CallRecord) -> Result<Self, ApiError> {
        Ok(Self {
            http: HttpClient::new(target)?.recording(calls),
            auth: BasicAuth::of(target)?,
        })
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        self.http.target()
    }

    /// One job by id.
    pub async fn job(&self, id: &str) -> Result<Job, ApiError> {
        let url = self.http.url(&["echo", "jobs", id]);
        let request = self.authorized(Method::GET, url);
        let response = self.http.send("job", request, parse_error).await?;
        self.http.read_json("job", response).await
    }

    /// The job created with client token `token`, if there is one.
    pub async fn job_by_token(&self, token: &str) -> Result<Option<Job>, ApiError> {
        let url = self.http.url(&["echo", "jobs"]);
        let request = self
            .authorized(Method::GET, url)
            .query(&[("client_token", token)]);
        let response = self.http.send("jobs", request, parse_error).await?;
        let jobs: Vec<Job> = self.http.read_json("jobs", response).await?;
        Ok(jobs.into_iter().find(|job| job.client_token == token))
    }

    /// Starts job `name` running for `seconds`. Its name is its client token: starting
    /// it again answers the same job, so a lost answer can be looked up by it.
    pub async fn create(&self, name: &str, seconds: u64) -> Result<Job, ApiError> {
        let body = CreateRequest {
            name: name.to_owned(),
            seconds,
            client_token: name.to_owned(),
        };
        let body = self.http.json_body("create", &body)?;
        let summary = format!("create `{name}`, {seconds} s");
        let mutation = MUTATIONS
            .mutation(self.target(), "create", (None, Some(name)), summary)?
            .with_detail(name);
        let url = self.http.url(&["echo", "jobs"]);
        let request = self.authorized(Method::POST, url).json(&body);
        let response = self.http.mutate(&mutation, request, parse_error).await?;
        if let Some(plan) = self.http.plan().filter(|_| is_planned(&response)) {
            // Only planned: the job the plan answers for is the one the create makes.
            let id = format!("planned-{name}");
            plan.made(self.target(), JOB, &id);
            return Ok(Job {
                id,
                name: name.to_owned(),
                state: JobState::Running,
                client_token: name.to_owned(),
                seconds,
            });
        }
        if !is_reconciled(&response) {
            return self.http.read_json("create", response).await;
        }
        // The gate replays no body: the job is the one its token answers.
        self.job_by_token(name).await?.ok_or_else(|| {
            ApiError::new(
                ErrorKind::NotFound,
                format!("the start of `{name}` was found applied, yet no echo job has client token `{name}` now; start it again"),
            )
            .at(self.target(), "create")
        })
    }

    /// Cancels a running job.
    pub async fn cancel(&self, id: &str, name: &str) -> Result<Job, ApiError> {
        let mutation =
            MUTATIONS.mutation(self.target(), "cancel", (Some(id), Some(name)), "cancel")?;
        let url = self.http.url(&["echo", "jobs", id, "cancel"]);
        let request = self.authorized(Method::POST, url);
        let response = self.http.mutate(&mutation, request, parse_error).await?;
        if is_planned(&response) {
            // Only planned: the job is not read (it may be a planned one, which does not
            // exist); it is shown in the state a cancel leads to.
            let mut job = self.job_or_planned(id, name).await?;
            job.state = JobState::Cancelled;
            return Ok(job);
        }
        if is_reconciled(&response) {
            // The gate replays no body: the job as it is now is the answer.
            return self.job(id).await;
        }
        self.http.read_json("cancel", response).await
    }

    /// Job `id` as it is now, or as the plan made it when a planned create made it.
    async fn job_or_planned(&self, id: &str, name: &str) -> Result<Job, ApiError> {
        let planned = self.http.plan().is_some_and(|plan| {
            plan.touches(self.target(), JOB, Some(id)) && id.starts_with("planned-")
        });
        if !planned {
            return self.job(id).await;
        }
        Ok(Job {
            id: id.to_owned(),
            name: name.to_owned(),
            state: JobState::Running,
            client_token: name.to_owned(),
            seconds: 0,
        })
    }

    fn authorized(&self, method: Method, url: reqwest::Url) -> RequestBuilder {
        self.http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::AUTHORIZATION, self.auth.header())
    }
}
