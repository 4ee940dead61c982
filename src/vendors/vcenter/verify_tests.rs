//! vCenter verification against its simulator on 127.0.0.1: the history import seeded
//! in each status through the lab's own route, and OVF import sessions moved through
//! their states by the client and the lab clock, answer the exact verdict of each
//! operation; a create and the calls that change nothing tell nothing, and a failed
//! read is an error.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::http::mutation::Verdict::{Applied, CannotTell, NotApplied};
use crate::vendors::vcenter::ovf_wire::CreateRequest;
use crate::vendors::verify_testing::{Rig, assert_verdicts, verification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_operations_read_the_imports_status() {
    let rig = Rig::start().await;
    let target = rig.target(crate::vendors::vcenter::KIND);
    let client = VcenterClient::new(&target, Rig::calls(), rig.clock.clone()).unwrap();
    let applied = |s: &str| Applied(format!("state `{s}`"));
    let not_applied = |s: &str| NotApplied(format!("state `{s}`"));
    let cannot_tell = |s: &str, why: &str| CannotTell(format!("state `{s}`: {why}"));
    // (the seeded status, stopped by an import error, operation, the verdict)
    let cases = [
        ("PENDING", false, "start", not_applied("PENDING")),
        ("RUNNING", false, "start", applied("RUNNING")),
        ("BLOCKED", true, "start", applied("BLOCKED")),
        ("SUCCEEDED", false, "start", applied("SUCCEEDED")),
        ("RUNNING", false, "pause", not_applied("RUNNING")),
        ("BLOCKED", false, "pause", applied("BLOCKED")),
        (
            "BLOCKED",
            true,
            "pause",
            cannot_tell("BLOCKED", "an import error stops it there too"),
        ),
        ("BLOCKED", false, "resume", not_applied("BLOCKED")),
        (
            "BLOCKED",
            true,
            "resume",
            cannot_tell(
                "BLOCKED",
                "an import error stops it there before and after resuming",
            ),
        ),
        ("RUNNING", false, "resume", applied("RUNNING")),
        ("SUCCEEDED", false, "resume", applied("SUCCEEDED")),
        (
            "FAILED",
            false,
            "resume",
            cannot_tell(
                "FAILED",
                "a cancel ends it there whether or not it was resumed first",
            ),
        ),
        ("RUNNING", false, "cancel", not_applied("RUNNING")),
        ("FAILED", false, "cancel", applied("FAILED")),
        (
            "FAILED",
            true,
            "cancel",
            cannot_tell("FAILED", "an import error fails it there too"),
        ),
    ];
    for (status, error, operation, expected) in cases {
        let completed = if status == "SUCCEEDED" { 10 } else { 4 };
        let seed = json!({"status": status, "error": error, "completed": completed, "total": 10});
        rig.post(crate::vendors::vcenter::KIND, "/_lab/history", seed)
            .await;
        let operation = format!("history.{operation}");
        let asked = verification(&MUTATIONS, &target, &operation, (None, None), None);
        let verdict = client.verify(&asked).await.unwrap();
        assert_eq!(verdict, expected, "{operation} on {status}, error {error}");
    }

    let path = client.encoding().history_path();
    let asked = verification(&MUTATIONS, &target, "history.pause", (None, None), None);
    rig.assert_read_refused(&client, crate::vendors::vcenter::KIND, path, &asked)
        .await;
    rig.lab.shutdown().await;
}

/// A pull session of `package` under the lab's packages, with client token `token`.
fn pull(target: &crate::config::Target, package: &str, token: &str) -> CreateRequest {
    let url = format!("{}/_lab/packages/{package}", target.url);
    CreateRequest {
        client_token: Some(token.to_owned()),
        ..CreateRequest::pull("resgroup-8", &url)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ovf_operations_read_the_session() {
    let rig = Rig::start().await;
    let target = rig.target(crate::vendors::vcenter::KIND);
    let client = VcenterClient::new(&target, Rig::calls(), rig.clock.clone()).unwrap();
    let ask = |operation, id: Option<&str>, detail| {
        verification(&MUTATIONS, &target, operation, (id, None), detail)
    };
    let id = client
        .ovf_create(&pull(&target, "app/app.ovf", "tok-1"))
        .await
        .unwrap();
    let broken = client
        .ovf_create(&pull(&target, "broken/broken.ovf", "tok-2"))
        .await
        .unwrap();
    let instantiate = ask("ovf.instantiate", Some(&id), None);
    assert_verdicts(
        &client,
        &[(
            &instantiate,
            NotApplied("state `IMPORT_OVF_TRANSFER`".into()),
        )],
    )
    .await;
    rig.clock.advance(Duration::from_secs(1));
    assert_verdicts(
        &client,
        &[
            (&instantiate, NotApplied("state `IMPORT_SELECTING_OVF_PARAMS`".into())),
            (
                &ask("ovf.instantiate", Some(&broken), None),
                CannotTell("state `IMPORT_ERROR`: an import that fails before or after instantiating ends there".into()),
            ),
        ],
    )
    .await;
    client.ovf_instantiate(&id, Vec::new()).await.unwrap();
    let disk = client.ovf_session(&id).await.unwrap().files[1].clone();
    let upload = ask("ovf.push", Some(&id), Some(disk.name.as_str()));
    assert_verdicts(
        &client,
        &[
            (&instantiate, Applied("state `IMPORT_FILE_TRANSFER`".into())),
            (
                &upload,
                NotApplied(format!(
                    "file `{}` shows 0 of {} bytes",
                    disk.name, disk.size
                )),
            ),
        ],
    )
    .await;
    rig.clock.advance(Duration::from_secs(3));
    let delete = ask("ovf.delete", Some(&id), None);
    assert_verdicts(
        &client,
        &[
            (
                &upload,
                Applied(format!(
                    "file `{0}` shows {1} of {1} bytes",
                    disk.name, disk.size
                )),
            ),
            (&instantiate, Applied("state `IMPORT_COMPLETED`".into())),
            (
                &ask("ovf.push", Some(&id), Some("nope.vmdk")),
                CannotTell("the session lists no file `nope.vmdk`".into()),
            ),
            (
                &delete,
                NotApplied("it is still there, state `IMPORT_COMPLETED`".into()),
            ),
        ],
    )
    .await;
    client.ovf_delete(&id).await.unwrap();
    assert_verdicts(
        &client,
        &[
            (&delete, Applied("reading it answers not found".into())),
            (
                &instantiate,
                CannotTell("reading it answers not found".into()),
            ),
        ],
    )
    .await;

    let nothing = [
        (
            ask("ovf_import", None, Some("tok-1")),
            "sending it again with the same token is safe: it answers the OVF import session the first call created",
        ),
        (
            ask("ovf.try_instantiate", Some(&id), None),
            "sending it again is safe: it changes nothing",
        ),
        (
            ask("ovf.preview", None, None),
            "sending it again is safe: it changes nothing",
        ),
        (
            ask("ovf.probe", None, None),
            "sending it again is safe: it changes nothing",
        ),
        (
            ask("ovf.progress", Some(&id), None),
            "sending it again is safe: a progress report only refreshes the session's progress and idle timer",
        ),
        (
            ask("ovf.delete", None, None),
            "the OVF import session is known by no id to read it by",
        ),
    ];
    for (asked, why) in nothing {
        assert_eq!(
            client.verify(&asked).await.unwrap(),
            CannotTell(why.to_owned())
        );
    }

    let broken = ask("ovf.delete", Some(&broken), None);
    let ovf = "/rest/com/vmware/vcenter/ovf";
    rig.assert_read_refused(&client, crate::vendors::vcenter::KIND, ovf, &broken)
        .await;
    rig.lab.shutdown().await;
}
