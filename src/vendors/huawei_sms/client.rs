//! Typed async client for SMS migration tasks (vendor-apis.md §5.3): the task list over
//! every page, one task, and task actions. Reads are retried while the service is busy,
//! the gateway's throttling (429 `APIGW.0308`) is absorbed with the same backoff even
//! for actions, and the API's state conflicts come back as `invalid_state`.

use reqwest::{Method, Response};
use serde_json::{Map, Value};

use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::config::Target;
use crate::http::call_record::CallRecord;
use crate::http::client::{HttpClient, VendorMessage};
use crate::http::mutation::{Check, Exchange, Mutations, Operation};
use crate::http::retry::Retrier;
use crate::suggest::{closest, did_you_mean};
use crate::vendors::huawei_sms::auth::{Credentials, Outgoing};
use crate::vendors::huawei_sms::iam_wire::IamErrorBody;
use crate::vendors::huawei_sms::signer;
use crate::vendors::huawei_sms::wire::{ErrorBody, MAX_PAGE, OPERATIONS, Task, TaskState, codes};

pub(crate) const TASK: &str = "migration task";

/// Look at the task in the console: what the operations the API shows no trace of ask.
const CONSOLE: &str = "look at the task and its target server in the SMS console";

/// Every task action this client sends (`POST /v3/tasks/{id}/action`, one per
/// `operation`), with how to tell whether it took effect (vendor-apis.md §5.4, §5.5);
/// the mutation gate sends nothing else.
pub const MUTATIONS: Mutations = Mutations {
    vendor: "huawei_sms",
    operations: &[
        Operation::new("start", TASK, Check::States(&["RUNNING", "SYNCING"])),
        Operation::new("stop", TASK, Check::States(&["ABORTING", "ABORT"])),
        Operation::new("restart", TASK, Check::States(&["RUNNING"])),
        Operation::new(
            "sync_failed_rollback",
            TASK,
            Check::States(&["SYNC_F_ROLLBACKING", "SYNC_F_ROLLBACK_SUCCESS"]),
        ),
        Operation::new(
            "collect_log",
            TASK,
            Check::Field {
                field: "log_collect_status",
                values: &["UPLOADING", "UPLOADED"],
            },
        ),
        Operation::new(
            "clone_test",
            TASK,
            Check::Field {
                field: "clone_server",
                values: &[],
            },
        ),
        Operation::new(
            "network_check",
            TASK,
            Check::Field {
                field: "network_check_info",
                values: &[],
            },
        ),
        Operation::new(
            "clear",
            TASK,
            Check::Field {
                field: "source_server.state",
                values: &["clearing", "cleared"],
            },
        ),
        Operation::new("test", TASK, Check::NotShown(CONSOLE)),
        Operation::new("cutover", TASK, Check::NotShown(CONSOLE)),
        Operation::new("migration_test", TASK, Check::NotShown(CONSOLE)),
        Operation::new("skip", TASK, Check::NotShown(CONSOLE)),
        Operation::new("error_for_overspeed", TASK, Check::NotShown(CONSOLE)),
    ],
    is_state: |_, state| {
        crate::vendors::huawei_sms::wire::TaskState::parse(state)
            .is_some_and(|s| s.as_str() == state)
    },
};

/// Filters of [`SmsClient::tasks`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskQuery {
    /// Only tasks in this state.
    pub state: Option<TaskState>,
    /// Only tasks whose name matches (the service's own name filter).
    pub name: Option<String>,
    /// At most this many tasks.
    pub limit: Option<usize>,
}

/// A task as read: typed, and the JSON the service sent (script properties read it, so
/// fields this version does not model still show).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    pub task: Task,
    pub json: Value,
}

impl TaskRecord {
    pub(crate) fn from_json(json: Value) -> Result<Self, serde_json::Error> {
        Ok(Self {
            task: serde_json::from_value(json.clone())?,
            json,
        })
    }
}

/// An SMS endpoint and the credentials of one target.
pub struct SmsClient {
    http: HttpClient,
    credentials: Credentials,
    clock: Clock,
    retry: Retrier,
}

// IAM tokens are not sessions: they lapse by themselves and need no logout.
session!(SmsClient);

/// Reads an SMS or gateway error body (`error_code`/`error_msg`), or IAM's
/// (`{"error": {code, title, message}}`).
pub fn parse_error(body: &str) -> Option<VendorMessage> {
    if let Ok(sms) = serde_json::from_str::<ErrorBody>(body) {
        return Some(VendorMessage {
            code: Some(sms.error_code),
            message: sms.error_msg,
        });
    }
    let iam: IamErrorBody = serde_json::from_str(body).ok()?;
    Some(VendorMessage {
        code: Some(iam.error.code.to_string()),
        message: iam.error.message,
    })
}

impl SmsClient {
    /// A client for `target` noting its mutating calls in `calls`; backoff waits run on
    /// `clock`. Nothing is sent yet.
    pub fn new(target: &Target, calls: CallRecord, clock: Clock) -> Result<Self, ApiError> {
        Ok(Self {
            http: HttpClient::new(target)?.recording(calls),
            credentials: Credentials::new(target)?,
            retry: Retrier::new(target, clock.clone()).resending(throttled),
            clock,
        })
    }

    /// The clock its waits run on.
    pub(super) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        self.http.target()
    }

    /// Tasks matching `query`, following `offset` pages until `count` is reached.
    pub async fn tasks(&self, query: &TaskQuery) -> Result<Vec<TaskRecord>, ApiError> {
        let mut found = Vec::new();
        loop {
            let wanted = query
                .limit
                .map_or(MAX_PAGE, |limit| (limit - found.len()).min(MAX_PAGE));
            let mut params = vec![
                ("limit".to_owned(), wanted.to_string()),
                ("offset".to_owned(), found.len().to_string()),
            ];
            if let Some(state) = query.state {
                params.push(("state".to_owned(), state.as_str().to_owned()));
            }
            if let Some(name) = &query.name {
                params.push(("name".to_owned(), name.clone()));
            }
            let response = self
                .call(
                    Exchange::Read("tasks"),
                    Method::GET,
                    &["v3", "tasks"],
                    &params,
                    &[],
                )
                .await?;
            let page: Value = self.http.read_json("tasks", response).await?;
            let count = page.get("count").and_then(Value::as_u64);
            let items = match page.get("tasks") {
                Some(Value::Array(items)) => items.clone(),
                _ => {
                    return Err(self.http.unexpected(
                        "tasks",
                        "no `tasks` list",
                        &page.to_string(),
                    ));
                }
            };
            let got = items.len();
            for item in items {
                let record = TaskRecord::from_json(item)
                    .map_err(|err| self.http.unexpected("tasks", &err.to_string(), ""))?;
                found.push(record);
            }
            let total = count.and_then(|c| usize::try_from(c).ok()).unwrap_or(0);
            let full = query.limit.is_some_and(|limit| found.len() >= limit);
            if got == 0 || found.len() >= total || full {
                return Ok(found);
            }
        }
    }

    /// One task by id.
    pub async fn task(&self, id: &str) -> Result<TaskRecord, ApiError> {
        let response = self
            .call(
                Exchange::Read("task"),
                Method::GET,
                &["v3", "tasks", id],
                &[],
                &[],
            )
            .await?;
        let json: Value = self.http.read_json("task", response).await?;
        TaskRecord::from_json(json.clone()).map_err(|err| {
            self.http
                .unexpected("task", &err.to_string(), &json.to_string())
        })
    }

    /// `POST /v3/tasks/{id}/action` with `operation` and `params` beside it in the body.
    pub async fn action(
        &self,
        id: &str,
        operation: &str,
        params: Map<String, Value>,
    ) -> Result<(), ApiError> {
        check_operation(operation).map_err(|err| err.at(self.target(), operation))?;
        let mut body = Map::new();
        body.insert("operation".to_owned(), Value::from(operation));
        body.extend(params.into_iter().filter(|(k, _)| k != "operation"));
        let bytes = self.http.json_bytes(operation, &body)?;
        let mut summary = operation.to_owned();
        let options: Vec<&str> = body
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "operation")
            .collect();
        if !options.is_empty() {
            summary.push_str(&format!(" with {}", options.join(", ")));
        }
        let mutation = MUTATIONS.mutation(self.target(), operation, (Some(id), None), summary)?;
        let path = ["v3", "tasks", id, "action"];
        self.call(
            Exchange::Mutation(&mutation),
            Method::POST,
            &path,
            &[],
            &bytes,
        )
        .await
        .map(drop)
    }

    /// Sends an authenticated request, waiting out a busy service (reads) and the
    /// gateway's throttling (every request).
    async fn call(
        &self,
        exchange: Exchange<'_>,
        method: Method,
        segments: &[&str],
        query: &[(String, String)],
        body: &[u8],
    ) -> Result<Response, ApiError> {
        let mut url = self.http.url(segments);
        if !query.is_empty() {
            url.set_query(Some(&signer::query_string(query)));
        }
        let outgoing = Outgoing {
            method,
            url: &url,
            body,
        };
        self.retry
            .send(exchange.operation(), &outgoing.method, || {
                self.credentials
                    .send(&self.http, &self.clock, exchange, &outgoing)
            })
            .await
            .map_err(classify)
    }
}

/// The gateway answers 429 to a request it throttled before SMS saw it, so even an
/// action is safe to send again.
fn throttled(err: &ApiError) -> bool {
    err.status == Some(429)
}

/// SMS answers a state conflict with 400 and an `SMS.*` code: that is `invalid_state`.
fn classify(mut err: ApiError) -> ApiError {
    if err.vendor_code.as_deref() == Some(codes::STATE_CONFLICT) {
        err.kind = ErrorKind::InvalidState;
    }
    err
}

/// Refuses an operation no revision of the API knows, suggesting the closest one.
fn check_operation(operation: &str) -> Result<(), ApiError> {
    if OPERATIONS.contains(&operation) {
        return Ok(());
    }
    let closest = closest(operation, OPERATIONS).map_or_else(
        || format!("; known: {}", OPERATIONS.join(", ")),
        did_you_mean,
    );
    Err(ApiError::new(
        ErrorKind::Validation,
        format!("`{operation}` is not a task operation{closest}"),
    ))
}

/// Task ids are 32 hex digits; anything else is taken as a name.
pub fn looks_like_id(text: &str) -> bool {
    text.len() == 32 && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_sms_the_gateway_and_iam_parse() {
        #[track_caller]
        fn case(body: &str, code: &str, message: &str) {
            let parsed = parse_error(body).unwrap();
            assert_eq!(
                (parsed.code.as_deref(), parsed.message.as_str()),
                (Some(code), message)
            );
        }
        case(
            r#"{"error_code": "SMS.1802", "error_msg": "already running"}"#,
            "SMS.1802",
            "already running",
        );
        case(
            r#"{"error_code": "APIGW.0308", "error_msg": "throttled", "request_id": "r"}"#,
            "APIGW.0308",
            "throttled",
        );
        case(
            r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}}"#,
            "401",
            "The username or password is wrong.",
        );
        assert_eq!(parse_error("<html>"), None);
    }

    #[test]
    fn operations_are_checked_with_a_suggestion() {
        assert!(check_operation("clone_test").is_ok());
        let err = check_operation("strat").unwrap_err();
        assert_eq!(
            err.message,
            "`strat` is not a task operation; did you mean `start`?"
        );
        let err = check_operation("launch_rocket").unwrap_err();
        assert!(err.message.contains("known: start, stop"), "{err}");
    }

    #[test]
    fn state_conflicts_are_invalid_state() {
        let mut err = ApiError::new(ErrorKind::Validation, "400");
        err.vendor_code = Some(codes::STATE_CONFLICT.to_owned());
        assert_eq!(classify(err).kind, ErrorKind::InvalidState);
        assert!(looks_like_id("8abda8635e09d185015e09d188dd0001"));
        assert!(!looks_like_id("web-01"));
    }
}
