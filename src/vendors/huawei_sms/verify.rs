//! Whether an SMS task action took effect, read from the task with the client's own
//! reads: its state against the states the action leads to (vendor-apis.md §5.5), or
//! the field it sets (`log_collect_status` only shows in the task list, so it is read
//! there). A task that ran to its end after a start (or restart) is in a state it can
//! also be started from; that state tells nothing, so the action is never sent twice on
//! a guess.

use std::time::Duration;

use serde_json::Value;

use crate::api_error::ApiError;
use crate::http::mutation::{Check, Verdict, VerdictFuture, Verification, Verify};
use crate::vendors::huawei_sms::client::{MUTATIONS, SmsClient, TaskQuery, TaskRecord};
use crate::vendors::huawei_sms::wire::{TaskState, transition};
use crate::vendors::verdict::{self, or_answer};

impl Verify for SmsClient {
    fn verify<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a> {
        self.verify_settled(verification, &SETTLE)
    }

    /// A refused action was never accepted, so the task's state now is its answer.
    fn verify_refused<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a> {
        self.verify_settled(verification, &[])
    }
}

impl SmsClient {
    /// Reads the task, again after each of `settle`'s pauses while its state still
    /// shows the action not applied.
    fn verify_settled<'a>(
        &'a self,
        verification: &'a Verification,
        settle: &'a [Duration],
    ) -> VerdictFuture<'a> {
        Box::pin(async move {
            or_answer!(verdict::reading_needed(verification.check));
            let object = &verification.object;
            let Some(id) = object.id.as_deref() else {
                return Ok(verdict::unnamed(object, "id"));
            };
            let mut record = or_answer!(verdict::found(self.task(id).await)?);
            match verification.check {
                Check::States(applied) => {
                    let operation = verdict::operation_of(&MUTATIONS, verification);
                    let judge = |record: &TaskRecord| {
                        let state = record.task.state;
                        let why = operation.and_then(|op| undecided(op.name, state));
                        let shown = record.json.get("state").and_then(Value::as_str);
                        verdict::by_state(applied, shown.unwrap_or(state.as_str()), why)
                    };
                    // An action shows in the task's state only after a few seconds
                    // (vendor-apis.md §5.5): the old state proves nothing until then.
                    for pause in settle {
                        let verdict = judge(&record);
                        if !matches!(verdict, Verdict::NotApplied(_)) {
                            return Ok(verdict);
                        }
                        self.clock().sleep(*pause).await;
                        record = or_answer!(verdict::found(self.task(id).await)?);
                    }
                    Ok(judge(&record))
                }
                Check::Field { field, values } => {
                    let value = self.field(&record, field).await?;
                    Ok(verdict::by_field(field, values, value.as_deref()))
                }
                check => Ok(verdict::undeclared(&MUTATIONS, check)),
            }
        })
    }
}

/// How long a verification waits between reads of a task still in its old state: the
/// state changes within a few seconds of an action (terraform waits 5 s), so 15 s in all.
const SETTLE: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

impl SmsClient {
    /// `field` (dotted for a nested one) of the task `record` shows, or of the same
    /// task in the list when its detail leaves the field out; `None` when unset.
    async fn field(&self, record: &TaskRecord, field: &str) -> Result<Option<String>, ApiError> {
        let top = field.split('.').next().unwrap_or(field);
        if record.json.get(top).is_some() {
            return Ok(lookup(&record.json, field));
        }
        let query = TaskQuery {
            name: Some(record.task.name.clone()),
            ..TaskQuery::default()
        };
        let listed = self.tasks(&query).await?;
        let same = listed.iter().find(|t| t.task.id == record.task.id);
        Ok(same.and_then(|t| lookup(&t.json, field)))
    }
}

/// The value at dotted `path` of `json`, as text; `None` when absent or null.
fn lookup(json: &Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(json, |at, key| at.get(key))?;
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Why `state` tells nothing about `operation`: a start or restart is sent from a state
/// the task also reaches when the copy or sync it starts has ended.
fn undecided(operation: &str, state: TaskState) -> Option<&'static str> {
    use TaskState::*;
    let ends: &[TaskState] = match operation {
        "start" => &[MigrateSuccess, MigrateFail, SyncSuccess, SyncFail],
        "restart" => &[MigrateSuccess, MigrateFail],
        _ => &[],
    };
    let from = transition(operation).map_or(&[][..], |t| t.from);
    (ends.contains(&state) && from.contains(&state))
        .then_some("the task is there both before this action and after a run it started has ended")
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
