//! The operations a client applies to an existing import session and the table of
//! vendor-apis.md §4.5 that says from which states each one is legal and where it leads.
//! Anything else is refused with 422 naming the operation and the state.

use std::time::SystemTime;

use crate::vendors::powerstore::wire::ImportState::{self, *};

use super::error::LabError;
use super::session::SimSession;

/// A mutating request on one import session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operation {
    /// `PATCH` with a new `scheduled_timestamp`.
    Modify(SystemTime),
    Delete,
    Pause,
    Resume,
    /// With `force`: stop without rolling back when the source or host does not answer.
    Cancel {
        force: bool,
    },
    Cutover,
    Cleanup,
    EnableDestinationVolume,
    StartCopy,
}

impl Operation {
    /// The name the mutation log and jobs use, e.g. `cutover`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Modify(_) => "modify",
            Self::Delete => "delete",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel { .. } => "cancel",
            Self::Cutover => "cutover",
            Self::Cleanup => "cleanup",
            Self::EnableDestinationVolume => "enable_destination_volume",
            Self::StartCopy => "start_copy",
        }
    }

    /// The job description of this operation.
    pub(super) fn description(self) -> &'static str {
        match self {
            Self::Modify(_) => "Modify import session.",
            Self::Delete => "Delete import session.",
            Self::Pause => "Pause import session.",
            Self::Resume => "Resume import session.",
            Self::Cancel { .. } => "Cancel import session.",
            Self::Cutover => "Cut over import session.",
            Self::Cleanup => "Clean up import session.",
            Self::EnableDestinationVolume => "Enable the destination volume of import session.",
            Self::StartCopy => "Start the copy of import session.",
        }
    }

    /// What the session "cannot …" do, for the 422 message.
    fn phrase(self) -> &'static str {
        match self {
            Self::Modify(_) => "be modified",
            Self::Delete => "be deleted",
            Self::Pause => "be paused",
            Self::Resume => "be resumed",
            Self::Cancel { .. } => "be cancelled",
            Self::Cutover => "be cut over",
            Self::Cleanup => "be cleaned up",
            Self::EnableDestinationVolume => "enable its destination volume",
            Self::StartCopy => "start copying",
        }
    }

    /// The states this operation is legal in (vendor-apis.md §4.5, and a retried cancel
    /// from `Cancel_Failed`).
    pub(super) fn legal_from(self) -> &'static [ImportState] {
        match self {
            Self::Modify(_) => &[Scheduled],
            Self::Delete => &[Import_Completed, Failed, Cancelled],
            Self::Pause => &[Copy_In_Progress],
            Self::Resume => &[Paused],
            // A cancel that failed may be asked again, forced this time.
            Self::Cancel { .. } => &[
                Scheduled,
                Queued,
                Copy_In_Progress,
                Ready_For_Cutover,
                Paused,
                Cancel_Failed,
            ],
            Self::Cutover => &[Ready_For_Cutover, Import_Cutover_Incomplete],
            Self::Cleanup => &[Cleanup_Required],
            Self::EnableDestinationVolume => &[Mirror_Enabled],
            Self::StartCopy => &[Ready_To_Start_Copy],
        }
    }

    /// Applies the operation at `now`, or refuses it with 422. A delete only checks;
    /// the caller removes the session.
    pub(super) fn apply(self, session: &mut SimSession, now: SystemTime) -> Result<(), LabError> {
        let state = session.state;
        if !self.legal_from().contains(&state) {
            return Err(LabError::invalid_state(
                session.name(),
                self.phrase(),
                state.as_str(),
            ));
        }
        let next = match self {
            Self::Modify(at) => {
                session.reschedule(at, now);
                return Ok(());
            }
            Self::Delete => return Ok(()),
            Self::Pause => Paused,
            Self::Resume | Self::StartCopy => Copy_In_Progress,
            Self::Cancel { force } => match session.cancel_outcome(force, now) {
                Cancelled if state == Paused => Cancelled,
                ends => {
                    session.begin_cancel(ends, now);
                    return Ok(());
                }
            },
            Self::Cutover => session.cutover_state(),
            Self::Cleanup => Cleanup_In_Progress,
            Self::EnableDestinationVolume => Ready_To_Start_Copy,
        };
        session.enter(next, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::tests::{Answer, Client, lab, message};
    use super::*;
    use crate::vendors::powerstore::wire::codes;

    const LATER: &str = "2025-03-02T00:00:00Z";

    /// Sends `operation` to the session `key` names, the way a client would.
    async fn send(client: &Client, operation: &str, key: &str) -> Answer {
        let path = format!("/api/rest/import_session/{key}");
        match operation {
            "modify" => {
                let body = format!(r#"{{"scheduled_timestamp": "{LATER}"}}"#);
                client.call("PATCH", &path, &body).await
            }
            "delete" => client.call("DELETE", &path, "").await,
            _ => client.post(&format!("{path}/{operation}"), "").await,
        }
    }

    /// Adds `imp-lun17` per `spec` (JSON members), applies `operation`; the answer's
    /// status, then the state right after and `seconds` later.
    async fn run(operation: &str, spec: &str, seconds: u64) -> (u16, String, String) {
        let (state, clock) = lab();
        let client = Client::login(&state).await;
        let id = client
            .add(&format!(r#"{{"name": "imp-lun17", {spec}}}"#))
            .await;
        let answer = send(&client, operation, &id).await;
        let applied = usize::from(answer.status == 204);
        assert_eq!(
            state.mutations().count(operation),
            applied,
            "{operation} logged once"
        );
        let now = client.state(&id).await;
        clock.advance(Duration::from_secs(seconds));
        (answer.status, now, client.state(&id).await)
    }

    /// One line per legal row of the table: operation, from-state (`+group` for a
    /// consistency group, `+agentless`), the state right after, and 4 lab seconds later.
    const LEGAL: &[&str] = &[
        "pause Copy_In_Progress Paused Paused",
        "resume Paused Copy_In_Progress Copy_In_Progress",
        "cancel Scheduled Cancel_In_Progress Cancelled",
        "cancel Queued Cancel_In_Progress Cancelled",
        "cancel Copy_In_Progress Cancel_In_Progress Cancelled",
        "cancel Ready_For_Cutover Cancel_In_Progress Cancelled",
        "cancel Paused Cancelled Cancelled",
        "cancel Cancel_Failed Cancel_In_Progress Cancelled",
        "cutover Ready_For_Cutover Import_Completed Import_Completed",
        "cutover Ready_For_Cutover+group Cutover_In_Progress Import_Completed",
        "cutover Import_Cutover_Incomplete+group Cutover_In_Progress Import_Completed",
        "modify Scheduled Scheduled Scheduled",
        "cleanup Cleanup_Required Cleanup_In_Progress Cancelled",
        "enable_destination_volume Mirror_Enabled+agentless Ready_To_Start_Copy Ready_To_Start_Copy",
        "start_copy Ready_To_Start_Copy+agentless Copy_In_Progress Copy_In_Progress",
        "delete Import_Completed <none> <none>",
        "delete Failed <none> <none>",
        "delete Cancelled <none> <none>",
    ];

    #[tokio::test]
    async fn every_legal_row_of_the_operation_table() {
        for row in LEGAL {
            let [operation, from, now, later] = row.split(' ').collect::<Vec<_>>()[..] else {
                panic!("bad row {row}");
            };
            let mut spec = from.split('+');
            let mut members = format!(r#""state": "{}""#, spec.next().unwrap());
            for extra in spec {
                members.push_str(match extra {
                    "group" => r#", "destination_resource_type": "volume_group""#,
                    _ => r#", "type": "Agentless""#,
                });
            }
            let got = run(operation, &members, 4).await;
            assert_eq!(got, (204, now.to_owned(), later.to_owned()), "{row}");
        }
    }

    #[tokio::test]
    async fn every_other_state_is_refused_with_422() {
        let at = std::time::SystemTime::UNIX_EPOCH;
        for operation in [
            Operation::Modify(at),
            Operation::Delete,
            Operation::Pause,
            Operation::Resume,
            Operation::Cancel { force: false },
            Operation::Cutover,
            Operation::Cleanup,
            Operation::EnableDestinationVolume,
            Operation::StartCopy,
        ] {
            let (state, _) = lab();
            let client = Client::login(&state).await;
            let illegal = ImportState::ALL
                .into_iter()
                .filter(|s| !operation.legal_from().contains(s));
            for from in illegal {
                let name = format!("imp-{from}");
                let spec = format!(r#"{{"name": "{name}", "state": "{from}"}}"#);
                let id = client.add(&spec).await;
                let answer = send(&client, operation.name(), &id).await;
                let expected = format!(
                    "Import session {name} cannot {} in state {from}.",
                    operation.phrase()
                );
                assert_eq!((answer.status, message(&answer)), (422, expected.as_str()));
                assert_eq!(client.state(&id).await, from.as_str());
            }
            assert!(state.mutations().entries().is_empty(), "{operation:?}");
        }
    }

    #[tokio::test]
    async fn the_refusal_body_is_exact() {
        let (state, _) = lab();
        let client = Client::login(&state).await;
        client
            .add(r#"{"name": "imp-lun17", "state": "Copy_In_Progress"}"#)
            .await;
        let answer = send(&client, "cutover", "name:imp-lun17").await;
        assert_eq!(answer.header("content-type"), Some("application/json"));
        let expected = json!({"messages": [{"code": codes::INVALID_STATE, "severity": "Error",
            "message_l10n": "Import session imp-lun17 cannot be cut over in state Copy_In_Progress.",
            "arguments": ["imp-lun17", "Copy_In_Progress"]}]});
        assert_eq!((answer.status, answer.body), (422, expected));
    }

    #[tokio::test]
    async fn unknown_sessions_are_404_and_applied_operations_are_logged_once() {
        let (state, _) = lab();
        let client = Client::login(&state).await;
        let answer = send(&client, "pause", "nope").await;
        let expected = json!({"messages": [{"code": codes::NOT_FOUND, "severity": "Error",
            "message_l10n": "Instance with id nope was not found.", "arguments": ["nope"]}]});
        assert_eq!((answer.status, answer.body), (404, expected));
        assert_eq!(send(&client, "pause", "name:wave1-lun01").await.status, 204);
        assert_eq!(send(&client, "pause", "name:wave1-lun01").await.status, 422);
        let log = state.mutations().entries();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].operation, "pause");
    }
}
