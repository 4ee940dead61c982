//! Rhai bindings for Huawei Cloud SMS: `huawei_sms("NAME")`, its migration tasks as
//! handles (`tasks`, `task`), and the registration of the task handle's surface.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use crate::api_error::{ApiError, ErrorKind};
use crate::script::Host;
use crate::script::error_value::raise;
use crate::script::job::{self, HandleKind};
use crate::script::options::Options;
use crate::script::remote::{Remote, remote_client};
use crate::vendors::huawei_sms::client::{SmsClient, TaskQuery, TaskRecord, looks_like_id};
use crate::vendors::huawei_sms::task_handle::{self, TaskHandle, TaskJob};
use crate::vendors::huawei_sms::wire::TaskState;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// What a step records instead of the target or one of its tasks.
pub const HANDLES: [HandleKind; 2] = HandleKind::pair::<Sms, TaskJob>();

/// A Huawei SMS target, as scripts hold it.
pub type Sms = Remote<SmsClient>;

remote_client!(SmsClient, "HuaweiSms", param: "sms", super::KIND);

impl Sms {
    /// The target's client.
    pub(super) fn client(&self) -> &SmsClient {
        &self.client
    }

    /// The script host.
    pub(super) fn host(&self) -> &Host {
        &self.host
    }

    fn tasks(&self, options: Map) -> RhaiResult<Array> {
        let options = Options::new("tasks", options, &["state", "name", "limit"])?;
        let state = options
            .text("state")?
            .map(|s| parse_state("tasks", &s))
            .transpose()?;
        let limit = options.count("limit", 0)?;
        let query = TaskQuery {
            state,
            name: options.text("name")?,
            limit: (limit > 0).then(|| usize::try_from(limit).unwrap_or(usize::MAX)),
        };
        let tasks = self.run(self.client.tasks(&query))?;
        Ok(tasks
            .into_iter()
            .map(|t| Dynamic::from(TaskHandle::of(self.clone(), t)))
            .collect())
    }

    /// One task by id, or by its exact name.
    fn task(&self, id_or_name: &str) -> RhaiResult<TaskHandle> {
        let record = if looks_like_id(id_or_name) {
            self.run(self.client.task(id_or_name))?
        } else {
            self.by_name(id_or_name)?
        };
        Ok(TaskHandle::of(self.clone(), record))
    }

    fn by_name(&self, name: &str) -> RhaiResult<TaskRecord> {
        let query = TaskQuery {
            name: Some(name.to_owned()),
            ..TaskQuery::default()
        };
        let mut named: Vec<TaskRecord> = self
            .run(self.client.tasks(&query))?
            .into_iter()
            .filter(|t| t.task.name == name)
            .collect();
        let fail = |kind: ErrorKind, message: String| {
            raise(ApiError::new(kind, message).at(self.client.target(), "task"))
        };
        match named.len() {
            1 => Ok(named.remove(0)),
            0 => Err(fail(
                ErrorKind::NotFound,
                format!("no migration task named `{name}`"),
            )),
            n => Err(fail(
                ErrorKind::Validation,
                format!("{n} migration tasks are named `{name}`; name one by its id"),
            )),
        }
    }
}

/// A task state from a script, or a `validation` error suggesting a close one (or
/// listing them all when none is close).
pub(super) fn parse_state(operation: &str, text: &str) -> RhaiResult<TaskState> {
    job::parse_state::<TaskJob>(operation, text)
}

/// Registers the Huawei SMS script surface.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    Sms::register(
        engine,
        host,
        "/// The Huawei Cloud SMS target `name` from the target file: an IAM user with a\n/// password (tokens from the target's `iam_url`) or an access key that signs requests.",
        "/// The target's name, as `print` and the REPL show it.",
    );
    Sms::register_listing(
        engine,
        ("tasks", "Array"),
        (
            "/// Migration tasks, every page. Options: `state` (e.g. \"RUNNING\"), `name` (the\n/// service's name filter), `limit`.",
            "/// Every migration task of the project.",
        ),
        |sms: &mut Sms, options| sms.tasks(options),
    );
    Sms::register_lookups(
        engine,
        "SmsTask",
        &[(
            "task",
            "id_or_name: &str",
            "/// One migration task by id (32 hex digits) or by its exact name; `not_found`\n/// when there is none.",
            |sms, id| sms.task(id).map(Dynamic::from),
        )],
    );
    task_handle::register(engine);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_states_suggest_only_a_close_one() {
        #[track_caller]
        fn case(text: &str, expected: &str) {
            let err = parse_state("tasks", text).unwrap_err();
            let map = crate::script::error_value::error_map(&err).unwrap();
            assert_eq!(map["message"].clone().into_string().unwrap(), expected);
        }
        assert_eq!(
            parse_state("tasks", "running").ok(),
            Some(TaskState::Running)
        );
        case(
            "RUNING",
            "`RUNING` is not a migration task state; did you mean `RUNNING`?",
        );
        case(
            "migrate_sucess",
            "`migrate_sucess` is not a migration task state; did you mean `MIGRATE_SUCCESS`?",
        );
        let far = parse_state("tasks", "DONE").unwrap_err();
        let message = crate::script::error_value::error_map(&far).unwrap()["message"]
            .clone()
            .into_string()
            .unwrap();
        assert!(
            message.starts_with("`DONE` is not a migration task state; use one of READY, RUNNING,"),
            "{message}"
        );
    }
}
