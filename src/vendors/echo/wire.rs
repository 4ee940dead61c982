//! The echo API's wire types: a job that runs for a given number of seconds and is then
//! done, unless cancelled first, and the error body every refusal carries.

use serde::{Deserialize, Serialize};

/// A job's state, as the API spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    Running,
    Done,
    Cancelled,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 3] = [JobState::Running, JobState::Done, JobState::Cancelled];

    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Done => "Done",
            Self::Cancelled => "Cancelled",
        }
    }

    /// A state from its spelling, in any case.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether the job can no longer change.
    pub fn is_terminal(self) -> bool {
        self != Self::Running
    }
}

/// One job, as `GET /echo/jobs/{id}` answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub name: String,
    pub state: JobState,
    /// The token its creator sent; creating again with it answers this job.
    pub client_token: String,
    /// How many seconds it runs before it is done.
    pub seconds: u64,
}

/// The job fields scripts read, in the order `to_map` shows them.
pub const JOB_FIELDS: [&str; 5] = ["id", "name", "state", "client_token", "seconds"];

/// The body of `POST /echo/jobs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    pub name: String,
    pub seconds: u64,
    pub client_token: String,
}

/// Every refusal: `{"error": {"code": …, "message": …}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}
