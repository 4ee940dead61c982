//! SMS verification against its simulator on 127.0.0.1: tasks added in each state
//! through the lab's own route, and fields set by the client's actions, answer the
//! exact verdict of each action; the actions the API shows no trace of, a task without
//! an id or not found tell nothing, and a failed read is an error.

use std::time::Duration;

use serde_json::{Map, json};

use super::*;
use crate::http::mutation::Verdict::{Applied, CannotTell, NotApplied};
use crate::vendors::verify_testing::{Rig, assert_verdicts, verification};

/// How long the simulated service takes to show an action's state, by default.
const ACTION_LAG: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_reads_its_task() {
    let rig = Rig::start().await;
    let target = rig.target(crate::vendors::huawei_sms::KIND);
    let client = SmsClient::new(&target, Rig::calls(), rig.clock.clone()).unwrap();
    let ask = |operation, id: Option<&str>| {
        verification(&MUTATIONS, &target, operation, (id, None), None)
    };
    let ended = "the task is there both before this action and after a run it started has ended";
    let applied = |s: &str| Applied(format!("state `{s}`"));
    let not_applied = |s: &str| NotApplied(format!("state `{s}`"));
    let cannot_tell = |s: &str| CannotTell(format!("state `{s}`: {ended}"));
    // (the state the task is added in, the action the client then sends, if any, and
    // the action verified, the verdict)
    let cases = [
        ("READY", None, "start", not_applied("READY")),
        ("RUNNING", None, "start", applied("RUNNING")),
        (
            "MIGRATE_SUCCESS",
            Some("start"),
            "start",
            applied("SYNCING"),
        ),
        (
            "MIGRATE_SUCCESS",
            None,
            "start",
            cannot_tell("MIGRATE_SUCCESS"),
        ),
        ("MIGRATE_FAIL", None, "start", cannot_tell("MIGRATE_FAIL")),
        ("SYNC_FAIL", None, "start", cannot_tell("SYNC_FAIL")),
        ("ABORT", None, "start", not_applied("ABORT")),
        ("RUNNING", None, "stop", not_applied("RUNNING")),
        ("ABORT", None, "stop", applied("ABORT")),
        ("MIGRATE_FAIL", None, "restart", cannot_tell("MIGRATE_FAIL")),
        ("SYNC_FAIL", None, "restart", not_applied("SYNC_FAIL")),
        ("RUNNING", None, "restart", applied("RUNNING")),
        (
            "SYNC_FAIL",
            None,
            "sync_failed_rollback",
            not_applied("SYNC_FAIL"),
        ),
        (
            "SYNC_FAIL",
            Some("sync_failed_rollback"),
            "sync_failed_rollback",
            applied("SYNC_F_ROLLBACK_SUCCESS"),
        ),
    ];
    for (n, (state, action, operation, expected)) in cases.into_iter().enumerate() {
        let task = json!({"name": format!("verify-{n}"), "state": state});
        let added = rig
            .post(crate::vendors::huawei_sms::KIND, "/_lab/tasks", task)
            .await;
        let id = added["id"].as_str().unwrap();
        if let Some(action) = action {
            client.action(id, action, Map::new()).await.unwrap();
            // The service shows an action's state only after its lag.
            rig.clock.advance(ACTION_LAG);
        }
        let verdict = client.verify(&ask(operation, Some(id))).await.unwrap();
        assert_eq!(verdict, expected, "{operation} on {state}");
    }

    let task = json!({"name": "fields", "state": "MIGRATE_SUCCESS"});
    let added = rig
        .post(crate::vendors::huawei_sms::KIND, "/_lab/tasks", task)
        .await;
    let id = added["id"].as_str().unwrap();
    let collect = ask("collect_log", Some(id));
    let clone = ask("clone_test", Some(id));
    assert_verdicts(
        &client,
        &[
            (
                &collect,
                NotApplied("`log_collect_status` is `INIT`".into()),
            ),
            (&clone, NotApplied("`clone_server` is not set".into())),
        ],
    )
    .await;
    client.action(id, "collect_log", Map::new()).await.unwrap();
    client.action(id, "clone_test", Map::new()).await.unwrap();
    let source = client.task(id).await.unwrap().task.source_server.state;
    let unknown = "0123456789abcdef0123456789abcdef";
    assert_verdicts(
        &client,
        &[
            (
                &collect,
                Applied("`log_collect_status` is `UPLOADED`".into()),
            ),
            (&clone, Applied("`clone_server` is set".into())),
            (
                &ask("clear", Some(id)),
                NotApplied(format!("`source_server.state` is `{source}`")),
            ),
            (
                &ask("cutover", Some(id)),
                CannotTell("look at the task and its target server in the SMS console".into()),
            ),
            (
                &ask("stop", None),
                CannotTell("the migration task is known by no id to read it by".into()),
            ),
            (
                &ask("stop", Some(unknown)),
                CannotTell("reading it answers not found".into()),
            ),
        ],
    )
    .await;

    rig.assert_read_refused(
        &client,
        crate::vendors::huawei_sms::KIND,
        "/v3/tasks/",
        &collect,
    )
    .await;
    rig.lab.shutdown().await;
}
