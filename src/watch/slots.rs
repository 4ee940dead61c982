//! The runs of one handler: at most `concurrency` at once, and an explicit policy for an
//! event whose file's run is still going (watchexec's `--on-busy-update`): queue it, skip
//! it (a handler's own writes must not re-trigger it), or restart the run.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use crate::hook::spec::OnBusy;

/// What became of an event offered to a handler.
#[derive(Debug)]
pub enum Offer<E> {
    /// Start a run now, cancellable through the token.
    Start(E, CancellationToken),
    /// The file's run is going; it runs again afterwards.
    Queued,
    /// The file's run is going; the event is dropped.
    Skipped,
    /// The file's run was cancelled; it runs again once it has stopped.
    Restarting,
    /// Every run slot is taken; it starts when one frees up.
    Waiting,
}

/// The runs of one handler.
#[derive(Debug)]
pub struct Slots<E> {
    concurrency: usize,
    on_busy: OnBusy,
    running: HashMap<PathBuf, Run<E>>,
    waiting: VecDeque<(PathBuf, E)>,
    /// The watcher's own token: each run's token is its child, so cancelling the whole
    /// watcher reaches every run.
    root: CancellationToken,
}

#[derive(Debug)]
struct Run<E> {
    cancel: CancellationToken,
    again: Option<E>,
}

impl<E> Slots<E> {
    /// Slots for a handler with `concurrency` runs at once (at least one), whose runs
    /// are cancelled along with `root`.
    pub fn new(concurrency: usize, on_busy: OnBusy, root: CancellationToken) -> Self {
        Self {
            concurrency: concurrency.max(1),
            on_busy,
            running: HashMap::new(),
            waiting: VecDeque::new(),
            root,
        }
    }

    /// Takes the settings of a reloaded handler; runs and waiting events stay.
    pub fn reconfigure(&mut self, concurrency: usize, on_busy: OnBusy) {
        self.concurrency = concurrency.max(1);
        self.on_busy = on_busy;
    }

    /// The policy for events while a run is going.
    pub fn on_busy(&self) -> OnBusy {
        self.on_busy
    }

    /// Whether a run for `path` is going.
    pub fn is_running(&self, path: &Path) -> bool {
        self.running.contains_key(path)
    }

    /// How many runs are going.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Offers an event for `path`.
    pub fn offer(&mut self, path: PathBuf, event: E) -> Offer<E> {
        if let Some(run) = self.running.get_mut(&path) {
            return match self.on_busy {
                OnBusy::Skip => Offer::Skipped,
                OnBusy::Queue => {
                    run.again = Some(event);
                    Offer::Queued
                }
                OnBusy::Restart => {
                    run.cancel.cancel();
                    run.again = Some(event);
                    Offer::Restarting
                }
            };
        }
        if self.running.len() >= self.concurrency {
            match self.waiting.iter_mut().find(|(p, _)| *p == path) {
                Some(slot) => slot.1 = event,
                None => self.waiting.push_back((path, event)),
            }
            return Offer::Waiting;
        }
        let cancel = self.root.child_token();
        self.running.insert(
            path,
            Run {
                cancel: cancel.clone(),
                again: None,
            },
        );
        Offer::Start(event, cancel)
    }

    /// Notes that the run for `path` ended; returns the runs to start now.
    pub fn finished(&mut self, path: &Path) -> Vec<(E, CancellationToken)> {
        let mut start = Vec::new();
        let again = self.running.remove(path).and_then(|run| run.again);
        if let Some(event) = again {
            if let Offer::Start(event, cancel) = self.offer(path.to_path_buf(), event) {
                start.push((event, cancel));
            }
        }
        while self.running.len() < self.concurrency {
            let Some((path, event)) = self.waiting.pop_front() else {
                break;
            };
            if let Offer::Start(event, cancel) = self.offer(path, event) {
                start.push((event, cancel));
            }
        }
        start
    }

    /// Forgets every event not yet started (on stop); running runs go on.
    pub fn drop_pending(&mut self) {
        self.waiting.clear();
        for run in self.running.values_mut() {
            run.again = None;
        }
    }

    /// Cancels every running run.
    pub fn cancel_all(&self) {
        for run in self.running.values() {
            run.cancel.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str) -> PathBuf {
        PathBuf::from(name)
    }

    fn started<E: std::fmt::Debug>(offer: Offer<E>) -> (E, CancellationToken) {
        match offer {
            Offer::Start(event, cancel) => (event, cancel),
            other => panic!("expected a start, got {other:?}"),
        }
    }

    #[test]
    fn queue_runs_again_once_after_the_run() {
        let mut s = Slots::new(1, OnBusy::Queue, CancellationToken::new());
        started(s.offer(p("a"), 1));
        assert!(matches!(s.offer(p("a"), 2), Offer::Queued));
        assert!(matches!(s.offer(p("a"), 3), Offer::Queued));
        let next: Vec<i32> = s.finished(&p("a")).into_iter().map(|(e, _)| e).collect();
        assert_eq!(next, [3]);
        assert!(s.finished(&p("a")).is_empty());
    }

    #[test]
    fn skip_drops_events_while_running() {
        let mut s = Slots::new(1, OnBusy::Skip, CancellationToken::new());
        started(s.offer(p("a"), 1));
        assert!(matches!(s.offer(p("a"), 2), Offer::Skipped));
        assert!(s.finished(&p("a")).is_empty());
        started(s.offer(p("a"), 3));
    }

    #[test]
    fn restart_cancels_the_run_and_starts_anew_when_it_stopped() {
        let mut s = Slots::new(1, OnBusy::Restart, CancellationToken::new());
        let (_, first) = started(s.offer(p("a"), 1));
        assert!(matches!(s.offer(p("a"), 2), Offer::Restarting));
        assert!(first.is_cancelled());
        let next = s.finished(&p("a"));
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].0, 2);
        assert!(!next[0].1.is_cancelled());
    }

    #[test]
    fn concurrency_bounds_runs_and_waiting_files_start_in_order() {
        let mut s = Slots::new(2, OnBusy::Queue, CancellationToken::new());
        started(s.offer(p("a"), 1));
        started(s.offer(p("b"), 2));
        assert!(matches!(s.offer(p("c"), 3), Offer::Waiting));
        assert!(matches!(s.offer(p("d"), 4), Offer::Waiting));
        assert!(matches!(s.offer(p("c"), 5), Offer::Waiting));
        assert_eq!(s.running(), 2);
        let next: Vec<i32> = s.finished(&p("a")).into_iter().map(|(e, _)| e).collect();
        assert_eq!(next, [5]);
        let next: Vec<i32> = s.finished(&p("b")).into_iter().map(|(e, _)| e).collect();
        assert_eq!(next, [4]);
    }

    #[test]
    fn cancelling_the_root_reaches_every_run() {
        let root = CancellationToken::new();
        let mut s = Slots::new(2, OnBusy::Queue, root.clone());
        let (_, a) = started(s.offer(p("a"), 1));
        let (_, b) = started(s.offer(p("b"), 2));
        root.cancel();
        assert!(a.is_cancelled() && b.is_cancelled());
    }

    #[test]
    fn a_stop_drops_what_has_not_started() {
        let mut s = Slots::new(1, OnBusy::Queue, CancellationToken::new());
        let (_, token) = started(s.offer(p("a"), 1));
        s.offer(p("a"), 2);
        s.offer(p("b"), 3);
        s.drop_pending();
        assert!(s.finished(&p("a")).is_empty());
        s.cancel_all();
        assert!(!token.is_cancelled(), "finished runs are not cancelled");
    }
}
