//! Cloud Director verification against its simulator on 127.0.0.1, a migration task
//! moved through its states by the client and the lab clock: the exact verdict of a
//! cancel in each, nothing told of migrating or resolving (safe to send again) or of a
//! task without an id or not found, and an error for a failed read.

use std::time::Duration;

use super::*;
use crate::http::mutation::Verdict::{Applied, CannotTell, NotApplied};
use crate::vendors::verify_testing::{Rig, assert_verdicts, verification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_is_read_from_the_tasks_status() {
    let rig = Rig::start().await;
    let target = rig.target(crate::vendors::vcd::KIND);
    let client = VcdClient::new(&target, Rig::calls(), rig.clock.clone()).unwrap();
    let (from, to) = (
        "urn:vcloud:type:acme:vm:1.0.0",
        "urn:vcloud:type:acme:vm:2.0.0",
    );
    let task_id = |url: &reqwest::Url| url.path().rsplit('/').next().unwrap().to_owned();
    let cancel =
        |id: &str| verification(&MUTATIONS, &target, "task.cancel", (Some(id), None), None);

    let first = client.migrate_entities(from, to, false).await.unwrap();
    let asked = cancel(&task_id(&first));
    assert_verdicts(&client, &[(&asked, NotApplied("state `queued`".into()))]).await;
    client.cancel_task(&first).await.unwrap();
    assert_verdicts(&client, &[(&asked, Applied("state `canceled`".into()))]).await;
    let second = client.migrate_entities(from, to, false).await.unwrap();
    let second = cancel(&task_id(&second));
    rig.clock.advance(Duration::from_secs(24 * 3600));

    let migrate = verification(
        &MUTATIONS,
        &target,
        "migrate_entities",
        (Some(from), None),
        None,
    );
    let resolve = verification(
        &MUTATIONS,
        &target,
        "resolve",
        (Some("urn:vcloud:entity:acme:vm:1"), None),
        None,
    );
    let idless = verification(&MUTATIONS, &target, "task.cancel", (None, None), None);
    assert_verdicts(
        &client,
        &[
            (&second, NotApplied("state `success`".into())),
            (&migrate, CannotTell("sending it again is safe: running the migration again is how Cloud Director picks up instances it skipped".into())),
            (&resolve, CannotTell("sending it again is safe: resolving validates the entity again and changes nothing else".into())),
            (&cancel("00000000-0000-0000-0000-000000000000"), CannotTell("reading it answers not found".into())),
            (&idless, CannotTell("the task is known by no id to read it by".into())),
        ],
    )
    .await;

    rig.assert_read_refused(&client, crate::vendors::vcd::KIND, "/api/task/", &asked)
        .await;
    rig.lab.shutdown().await;
}
