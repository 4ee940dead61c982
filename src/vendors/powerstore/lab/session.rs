//! One simulated import session: its fixed attributes, its state, and the state machine
//! of vendor-apis.md §4.5 moved forward lazily by [`SimSession::advance`] whenever the
//! session is read or changed, so lab time alone decides what a client sees. A seeded
//! session's timeline starts when a client first reads or acts on it ([`LazyStart`]).

use std::time::{Duration, SystemTime};

use crate::http::lab::{LazyStart, timestamp};
use crate::vendors::powerstore::wire::{
    ImportSession, ImportState, ImportType, SessionError, codes,
};

use super::copy::{Copy, CopyEnd};

/// How long a session stays in `Queued` before the import starts.
pub(super) const QUEUED_FOR: Duration = Duration::from_secs(3);
/// How long `In_Progress` (setting up the import) lasts before the copy or mirror.
pub(super) const STARTING_FOR: Duration = Duration::from_secs(2);
/// How long a consistency group stays in `Cutover_In_Progress`.
pub(super) const CUTTING_OVER_FOR: Duration = Duration::from_secs(3);
/// How long `Cancel_In_Progress` lasts.
pub(super) const CANCELLING_FOR: Duration = Duration::from_secs(3);
/// How long `Cleanup_In_Progress` lasts.
pub(super) const CLEANING_UP_FOR: Duration = Duration::from_secs(4);

/// `destination_resource_type` of a consistency-group import.
pub(super) const VOLUME_GROUP: &str = "volume_group";

/// An import session as the lab keeps it.
#[derive(Clone, Debug)]
pub(super) struct SimSession {
    /// Attributes that never change by themselves; the dynamic ones are filled in by
    /// [`SimSession::render`].
    pub(super) info: ImportSession,
    pub(super) state: ImportState,
    pub(super) scheduled: Option<SystemTime>,
    pub(super) copy: Copy,
    /// Whether the session's times run yet.
    pub(super) start: LazyStart,
    /// The source array stops answering once the copy reaches its stall point: a
    /// plain cancel cannot roll back then and ends `Cancel_Failed`.
    pub(super) source_lost: bool,
    /// Where the cancel under way ends (`Cancelled` or `Cancel_Failed`).
    cancel_ends: ImportState,
    /// When the current state began.
    entered: SystemTime,
    /// The last change a client could see apart from copy progress.
    changed: SystemTime,
}

impl SimSession {
    /// A session in `state` since `at`, its timeline running from there; a copy in
    /// progress starts counting at `at`.
    pub(super) fn new(info: ImportSession, state: ImportState, copy: Copy, at: SystemTime) -> Self {
        let mut session = Self {
            info,
            state,
            scheduled: None,
            copy,
            start: LazyStart::running(at),
            source_lost: false,
            cancel_ends: ImportState::Cancelled,
            entered: at,
            changed: at,
        };
        if state == ImportState::Copy_In_Progress {
            session.copy.start(at);
        }
        session
    }

    pub(super) fn id(&self) -> &str {
        &self.info.id
    }

    pub(super) fn name(&self) -> &str {
        self.info.name.as_deref().unwrap_or(&self.info.id)
    }

    /// Whether this imports a consistency group (cutover then takes a while).
    pub(super) fn is_group(&self) -> bool {
        self.info.destination_resource_type.as_deref() == Some(VOLUME_GROUP)
    }

    fn is_agentless(&self) -> bool {
        self.info.import_type == Some(ImportType::Agentless)
    }

    fn automatic_cutover(&self) -> bool {
        self.info.automatic_cutover == Some(true)
    }

    /// The first read or action of a client, at `now`: a waiting timeline starts here
    /// (every time of the session moves forward by the wait), then the session advances.
    pub(super) fn touch(&mut self, now: SystemTime) {
        if let Some(by) = self.start.touch(now) {
            self.shift(by);
        }
        self.advance(now);
    }

    /// Moves every time of the session `by` later.
    fn shift(&mut self, by: Duration) {
        self.entered += by;
        self.changed += by;
        if let Some(at) = self.scheduled.as_mut() {
            *at += by;
            self.info.scheduled_timestamp = Some(timestamp(*at));
        }
        self.copy.shift(by);
    }

    /// Moves the session through every transition due by `now`, each at its own time;
    /// a session whose timeline waits for its first touch stays as it is.
    pub(super) fn advance(&mut self, now: SystemTime) {
        if !self.start.is_running() {
            return;
        }
        while let Some((at, next)) = self.due() {
            if at > now {
                break;
            }
            self.enter(next, at);
        }
    }

    /// The next transition that time alone makes, and when.
    fn due(&self) -> Option<(SystemTime, ImportState)> {
        use ImportState::*;
        let after = |d: Duration| self.entered + d;
        match self.state {
            Scheduled => Some((self.scheduled?.max(self.entered), Queued)),
            Queued => Some((after(QUEUED_FOR), In_Progress)),
            In_Progress if self.is_agentless() => Some((after(STARTING_FOR), Mirror_Enabled)),
            In_Progress => Some((after(STARTING_FOR), Copy_In_Progress)),
            Copy_In_Progress => match self.copy.end()? {
                (at, CopyEnd::Done) => Some((at, Ready_For_Cutover)),
                (at, CopyEnd::Failed) => Some((at, Failed)),
            },
            Ready_For_Cutover if self.automatic_cutover() => {
                Some((self.entered, self.cutover_state()))
            }
            Cutover_In_Progress => Some((after(CUTTING_OVER_FOR), Import_Completed)),
            Cancel_In_Progress => Some((after(CANCELLING_FOR), self.cancel_ends)),
            Cleanup_In_Progress => Some((after(CLEANING_UP_FOR), Cancelled)),
            _ => None,
        }
    }

    /// Where a cutover leads: straight to `Import_Completed` for a volume, through
    /// `Cutover_In_Progress` for a consistency group.
    pub(super) fn cutover_state(&self) -> ImportState {
        if self.is_group() {
            ImportState::Cutover_In_Progress
        } else {
            ImportState::Import_Completed
        }
    }

    /// Puts the session in `state` as of `at`, starting or stopping the copy.
    pub(super) fn enter(&mut self, state: ImportState, at: SystemTime) {
        if state == ImportState::Copy_In_Progress {
            self.copy.start(at);
        } else {
            self.copy.stop(at);
        }
        self.state = state;
        self.entered = at;
        self.changed = at;
    }

    /// Where a cancel asked at `now` ends: `Cancel_Failed` when it may not force and
    /// the source array no longer answers, so nothing can be rolled back.
    pub(super) fn cancel_outcome(&self, force: bool, now: SystemTime) -> ImportState {
        if self.source_lost && !force && self.copy.stalled(now) {
            ImportState::Cancel_Failed
        } else {
            ImportState::Cancelled
        }
    }

    /// Starts a cancel at `now` that ends in `ends`.
    pub(super) fn begin_cancel(&mut self, ends: ImportState, now: SystemTime) {
        self.cancel_ends = ends;
        self.enter(ImportState::Cancel_In_Progress, now);
    }

    /// Sets a new start time; the session stays `Scheduled` until then.
    pub(super) fn reschedule(&mut self, at: SystemTime, now: SystemTime) {
        self.scheduled = Some(at);
        self.info.scheduled_timestamp = Some(timestamp(at));
        self.changed = now;
    }

    /// The session as the array shows it at `now` (call [`SimSession::advance`] first).
    /// One whose timeline waits shows as its first touch would leave it, without
    /// starting it.
    pub(super) fn render(&self, now: SystemTime) -> ImportSession {
        use ImportState::*;
        if !self.start.is_running() {
            let mut touched = self.clone();
            touched.touch(now);
            return touched.render(now);
        }
        let copying = self.state == Copy_In_Progress;
        let progress = match self.state {
            Scheduled | Queued | In_Progress | Mirror_Enabled | Ready_To_Start_Copy => Some(0),
            Copy_In_Progress | Paused => Some(self.copy.percent(now)),
            Ready_For_Cutover | Cutover_In_Progress => Some(100),
            _ => None,
        };
        let moving = copying && !self.copy.stalled(now);
        ImportSession {
            state: Some(self.state),
            state_l10n: Some(self.state.l10n()),
            progress_percentage: progress,
            average_transfer_rate: copying.then(|| self.copy.average_rate(now)),
            current_transfer_rate: copying.then(|| self.copy.current_rate(now)),
            estimated_completion_timestamp: copying
                .then(|| self.copy.estimated_end(now).map(timestamp))
                .flatten(),
            last_update_timestamp: Some(timestamp(if moving { now } else { self.changed })),
            error: match self.state {
                Failed => Some(self.error()),
                Cancel_Failed => Some(self.cancel_error()),
                _ => None,
            },
            ..self.info.clone()
        }
    }

    fn error(&self) -> SessionError {
        let source = self.info.source_resource_id.clone().unwrap_or_default();
        let at = self.copy.fail_at.unwrap_or_default().to_string();
        SessionError {
            code: codes::COPY_FAILED.to_owned(),
            message_l10n: format!(
                "The copy of source resource {source} failed at {at}%: the remote system stopped responding."
            ),
            arguments: vec![source, at],
        }
    }

    fn cancel_error(&self) -> SessionError {
        let source = self.info.source_resource_id.clone().unwrap_or_default();
        SessionError {
            code: codes::CANCEL_FAILED.to_owned(),
            message_l10n: format!(
                "The import of source resource {source} could not be rolled back: the source system is not reachable. Cancel with the force option to stop the import without rolling back."
            ),
            arguments: vec![source],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ImportState::*;

    const GIB: u64 = 1 << 30;
    const MIB: u64 = 1 << 20;

    fn t(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_740_000_000 + seconds)
    }

    /// 8 GiB at 512 MiB/s: 16 s of copy.
    fn session(state: ImportState, percent: u8) -> SimSession {
        let info = ImportSession {
            id: "s1".into(),
            name: Some("lun1".into()),
            source_resource_id: Some("sv_1".into()),
            destination_resource_type: Some("volume".into()),
            ..ImportSession::default()
        };
        SimSession::new(info, state, Copy::new(8 * GIB, 512 * MIB, percent, 1), t(0))
    }

    #[track_caller]
    fn state_at(session: &mut SimSession, seconds: u64, state: ImportState) {
        session.advance(t(seconds));
        assert_eq!(session.state, state, "at {seconds}s");
    }

    #[test]
    fn a_queued_session_copies_then_waits_for_cutover() {
        let mut s = session(Queued, 0);
        state_at(&mut s, 2, Queued);
        state_at(&mut s, 3, In_Progress);
        state_at(&mut s, 5, Copy_In_Progress);
        assert_eq!(s.render(t(13)).progress_percentage, Some(50));
        state_at(&mut s, 20, Copy_In_Progress);
        state_at(&mut s, 21, Ready_For_Cutover);
        let shown = s.render(t(60));
        assert_eq!(shown.progress_percentage, Some(100));
        assert_eq!(shown.current_transfer_rate, None);
        assert_eq!(shown.last_update_timestamp, Some(timestamp(t(21))));
    }

    #[test]
    fn automatic_cutover_passes_ready_for_cutover() {
        let mut s = session(Copy_In_Progress, 50);
        s.info.automatic_cutover = Some(true);
        state_at(&mut s, 8, Import_Completed);
        assert_eq!(s.render(t(9)).progress_percentage, None);
        let mut group = session(Copy_In_Progress, 50);
        group.info.automatic_cutover = Some(true);
        group.info.destination_resource_type = Some(VOLUME_GROUP.into());
        state_at(&mut group, 8, Cutover_In_Progress);
        state_at(&mut group, 11, Import_Completed);
    }

    #[test]
    fn a_scheduled_session_starts_on_time_even_when_read_late() {
        let mut s = session(Scheduled, 0);
        s.reschedule(t(3600), t(0));
        state_at(&mut s, 3599, Scheduled);
        state_at(&mut s, 3600 + 3 + 2 + 16, Ready_For_Cutover);
    }

    #[test]
    fn agentless_sessions_stop_at_mirror_enabled() {
        let mut s = session(Queued, 0);
        s.info.import_type = Some(ImportType::Agentless);
        state_at(&mut s, 100, Mirror_Enabled);
        assert_eq!(s.render(t(100)).progress_percentage, Some(0));
    }

    #[test]
    fn a_failing_copy_shows_its_error() {
        let mut s = session(Copy_In_Progress, 25);
        s.copy.fail_at = Some(50);
        state_at(&mut s, 3, Copy_In_Progress);
        state_at(&mut s, 4, Failed);
        let shown = s.render(t(30));
        assert_eq!(shown.progress_percentage, None);
        assert_eq!(shown.average_transfer_rate, None);
        let error = shown.error.unwrap();
        assert_eq!(error.code, codes::COPY_FAILED);
        assert_eq!(error.arguments, ["sv_1", "50"]);
    }

    #[test]
    fn a_stalled_copy_stays_in_progress_with_no_rate() {
        let mut s = session(Copy_In_Progress, 30);
        s.copy.stall_at = Some(60);
        state_at(&mut s, 3600, Copy_In_Progress);
        let shown = s.render(t(3600));
        assert_eq!(shown.progress_percentage, Some(60));
        assert_eq!(shown.current_transfer_rate, Some(0));
        assert!(shown.estimated_completion_timestamp.is_some());
    }

    #[test]
    fn transitional_states_end_by_themselves() {
        for (from, seconds, to) in [
            (Cancel_In_Progress, 3, Cancelled),
            (Cleanup_In_Progress, 4, Cancelled),
            (Cutover_In_Progress, 3, Import_Completed),
        ] {
            let mut s = session(from, 100);
            state_at(&mut s, seconds - 1, from);
            state_at(&mut s, seconds, to);
        }
    }
}
