//! PowerStore verification against its simulator on 127.0.0.1: a session put in each
//! state through the lab's own route, read by id and by name, answers the exact verdict
//! of each operation; a missing session tells nothing, and a failed read is an error.

use serde_json::json;

use super::*;
use crate::http::mutation::Verdict::{self, Applied, CannotTell, NotApplied};
use crate::vendors::verify_testing::{Rig, assert_verdicts, verification};

fn applied(text: &str) -> Verdict {
    Applied(text.to_owned())
}
fn not_applied(text: &str) -> Verdict {
    NotApplied(text.to_owned())
}
fn cannot_tell(text: &str) -> Verdict {
    CannotTell(text.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_reads_its_sessions_state() {
    let rig = Rig::start().await;
    let target = rig.target(crate::vendors::powerstore::KIND);
    let client = PowerStoreClient::new(&target, Rig::calls(), rig.clock.clone()).unwrap();
    // (operation, the session's state, read by name rather than id, the verdict)
    let cases = [
        (
            "cutover",
            "Ready_For_Cutover",
            false,
            not_applied("state `Ready_For_Cutover`"),
        ),
        (
            "cutover",
            "Cutover_In_Progress",
            true,
            applied("state `Cutover_In_Progress`"),
        ),
        (
            "cutover",
            "Import_Completed",
            false,
            applied("state `Import_Completed`"),
        ),
        (
            "cutover",
            "Failed",
            false,
            cannot_tell("state `Failed`: a cutover that failed ends there too"),
        ),
        (
            "cutover",
            "Import_Cutover_Incomplete",
            false,
            cannot_tell(
                "state `Import_Cutover_Incomplete`: a cutover that did not complete ends there, and a retried one starts there",
            ),
        ),
        (
            "cancel",
            "Copy_In_Progress",
            false,
            not_applied("state `Copy_In_Progress`"),
        ),
        (
            "cancel",
            "Cancel_In_Progress",
            false,
            applied("state `Cancel_In_Progress`"),
        ),
        ("cancel", "Cancelled", true, applied("state `Cancelled`")),
        (
            "cancel",
            "Cancel_Failed",
            false,
            applied("state `Cancel_Failed`"),
        ),
        (
            "pause",
            "Copy_In_Progress",
            false,
            not_applied("state `Copy_In_Progress`"),
        ),
        ("pause", "Paused", false, applied("state `Paused`")),
        ("resume", "Paused", true, not_applied("state `Paused`")),
        (
            "resume",
            "Copy_In_Progress",
            false,
            applied("state `Copy_In_Progress`"),
        ),
        (
            "resume",
            "Import_Completed",
            false,
            applied("state `Import_Completed`"),
        ),
        (
            "resume",
            "Failed",
            false,
            cannot_tell("state `Failed`: a copy that failed after it resumed ends there too"),
        ),
    ];
    for (n, (operation, state, by_name, expected)) in cases.into_iter().enumerate() {
        let name = format!("verify-{n}");
        let added = rig
            .post(
                crate::vendors::powerstore::KIND,
                "/_lab/import_sessions",
                json!({"name": name, "state": state}),
            )
            .await;
        let id = added["id"].as_str().unwrap();
        let object = if by_name {
            (None, Some(name.as_str()))
        } else {
            (Some(id), None)
        };
        let asked = verification(&MUTATIONS, &target, operation, object, None);
        let verdict = client.verify(&asked).await.unwrap();
        assert_eq!(verdict, expected, "{operation} on {state}");
    }

    let unknown = verification(&MUTATIONS, &target, "cancel", (None, Some("no-such")), None);
    let nameless = verification(&MUTATIONS, &target, "pause", (None, None), None);
    assert_verdicts(
        &client,
        &[
            (&unknown, cannot_tell("reading it answers not found")),
            (
                &nameless,
                cannot_tell("the import session is known by no id or name to read it by"),
            ),
        ],
    )
    .await;

    let asked = verification(&MUTATIONS, &target, "pause", (None, Some("verify-0")), None);
    let sessions = "/api/rest/import_session/";
    rig.assert_read_refused(&client, crate::vendors::powerstore::KIND, sessions, &asked)
        .await;
    rig.lab.shutdown().await;
}
