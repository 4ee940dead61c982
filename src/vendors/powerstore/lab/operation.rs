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
    Cancel,
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
            Self::Cancel => "cancel",
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
            Self::Cancel => "Cancel import session.",
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
            Self::Cancel => "be cancelled",
            Self::Cutover => "be cut over",
            Self::Cleanup => "be cleaned up",
            Self::EnableDestinationVolume => "enable its destination volume",
            Self::StartCopy => "start copying",
        }
    }

    /// The states this operation is legal in (vendor-apis.md §4.5).
    pub(super) fn legal_from(self) -> &'static [ImportState] {
        match self {
            Self::Modify(_) => &[Scheduled],
            Self::Delete => &[Import_Completed, Failed, Cancelled],
            Self::Pause => &[Copy_In_Progress],
            Self::Resume => &[Paused],
            Self::Cancel => &[
                Scheduled,
                Queued,
                Copy_In_Progress,
                Ready_For_Cutover,
                Paused,
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
            Self::Cancel if state == Paused => Cancelled,
            Self::Cancel => Cancel_In_Progress,
            Self::Cutover => session.cutover_state(),
            Self::Cleanup => Cleanup_In_Progress,
            Self::EnableDestinationVolume => Ready_To_Start_Copy,
        };
        session.enter(next, now);
        Ok(())
    }
}
