//! The journal of the run in progress: what the mutation gate and `step` write through.
//! It knows the run and attempt, numbers each step's occurrences, writes a mutating call
//! before it is sent and its outcome after, and, in a resumed attempt, finds the call an
//! earlier attempt made at the same place so the gate can ask the vendor before sending
//! it again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::frame::{self, Place};
use super::lease::{Heartbeat, Owner};
use super::runners::Joined;
use super::{
    Answer, CallEnd, CallRow, CallStatus, Change, Journal, JournalError, NewCall, Outcome,
};

/// Verifies changes left with an unknown outcome with their vendors, and records what
/// they show (the command line's, which knows the vendors).
pub type Reconciler = Box<dyn Fn(&RunJournal, Vec<CallRow>) + Send + Sync>;

/// How often a follower looks again for what its leader recorded.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// This process's part in a run shared by several runners ([`super::runners`]).
#[derive(Debug)]
pub struct Runner {
    /// Its row in `runners`.
    pub id: i64,
    /// How long its leases last without renewal.
    pub lease: Duration,
    /// The targets it can reach, when restricted (`--only-targets`).
    pub only_targets: Option<Vec<String>>,
    /// Whether it leads the run: it makes the changes outside `parallel` items.
    leads: Arc<AtomicBool>,
    /// Whether the run has ended (its leader ended it).
    ended: Arc<AtomicBool>,
    /// Cancelled when the run is stopped: a follower stops waiting for its leader.
    stop: CancellationToken,
}

impl Runner {
    pub fn leads(&self) -> bool {
        self.leads.load(Ordering::SeqCst)
    }

    /// The targets it can reach as JSON, for the lease query; `None` when it can reach
    /// every target.
    pub fn only_targets_json(&self) -> Option<String> {
        self.only_targets
            .as_ref()
            .map(|targets| serde_json::Value::from(targets.clone()).to_string())
    }
}

/// The run in progress, as the journal sees it.
pub struct RunJournal {
    journal: Arc<Journal>,
    run: i64,
    attempt: i64,
    /// How many times each step key has begun in this attempt.
    occurrences: Mutex<HashMap<String, i64>>,
    /// The next place among this attempt's steps and calls.
    order: AtomicI64,
    owner: Owner,
    /// Set when another process took the run over: this one sends no more changes.
    lease_lost: Arc<AtomicBool>,
    /// Its part in a shared run.
    runner: Option<Runner>,
    /// How a shared run's runner settles the changes a stopped runner left unknown.
    reconciler: std::sync::OnceLock<Reconciler>,
    _heartbeat: Heartbeat,
}

impl std::fmt::Debug for RunJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunJournal")
            .field("run", &self.run)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// A mutating call written as sent, waiting for its outcome.
#[derive(Debug)]
pub struct SentCall {
    pub id: i64,
}

impl RunJournal {
    /// Writes through `journal` for attempt `attempt` of `run`, which `owner` leases.
    pub fn new(journal: Arc<Journal>, run: i64, attempt: i64, owner: Owner) -> Self {
        let lease_lost = Arc::new(AtomicBool::new(false));
        let heartbeat = Heartbeat::start(
            Arc::clone(&journal),
            run,
            owner.clone(),
            Arc::clone(&lease_lost),
        );
        Self {
            journal,
            run,
            attempt,
            occurrences: Mutex::default(),
            order: AtomicI64::new(1),
            owner,
            lease_lost,
            runner: None,
            reconciler: std::sync::OnceLock::new(),
            _heartbeat: heartbeat,
        }
    }

    /// Writes through `journal` as runner `joined` of a shared run, leasing its work
    /// for `lease` and renewing every third of it; its waits for its leader end when
    /// `stop` is cancelled (the run stops).
    pub fn shared(
        journal: Arc<Journal>,
        joined: &Joined,
        owner: Owner,
        only_targets: Option<Vec<String>>,
        lease: Duration,
        stop: CancellationToken,
    ) -> Self {
        let leads = Arc::new(AtomicBool::new(joined.began));
        let ended = Arc::new(AtomicBool::new(false));
        let heartbeat = {
            let (journal, owner) = (Arc::clone(&journal), owner.clone());
            let (leads, ended) = (Arc::clone(&leads), Arc::clone(&ended));
            let (run, runner) = (joined.run, joined.runner);
            Heartbeat::every(lease / 3, move || {
                match journal.beat(run, runner, &owner, lease) {
                    Ok(beat) => {
                        if beat.leads && !leads.swap(true, Ordering::SeqCst) {
                            tracing::warn!("run {run}: this runner leads it now");
                        }
                        if !beat.leads {
                            leads.store(false, Ordering::SeqCst);
                        }
                        ended.store(beat.ended, Ordering::SeqCst);
                    }
                    Err(err) => tracing::warn!("cannot renew this runner's leases: {err}"),
                }
                true
            })
        };
        Self {
            journal,
            run: joined.run,
            attempt: joined.attempt,
            occurrences: Mutex::default(),
            order: AtomicI64::new(1),
            owner,
            lease_lost: Arc::new(AtomicBool::new(false)),
            runner: Some(Runner {
                id: joined.runner,
                lease,
                only_targets,
                leads,
                ended,
                stop,
            }),
            reconciler: std::sync::OnceLock::new(),
            _heartbeat: heartbeat,
        }
    }

    /// Sets how the changes a stopped runner left unknown are settled.
    pub fn reconcile_with(&self, reconciler: Reconciler) {
        let _ = self.reconciler.set(reconciler);
    }

    /// Settles, before this runner replays the item whose frame key is `key`, every
    /// change another runner left there with an unknown outcome: the playbook may not
    /// reach it again (the object's state already shows it done), and the journal must
    /// still say whether it took effect.
    pub fn reconcile_item(&self, key: &str) -> Result<(), JournalError> {
        let calls = self.journal.unknown_calls_in(self.run, key, self.attempt)?;
        if let (Some(reconciler), false) = (self.reconciler.get(), calls.is_empty()) {
            reconciler(self, calls);
        }
        Ok(())
    }

    /// Its part in a shared run, if the run is shared.
    pub fn runner(&self) -> Option<&Runner> {
        self.runner.as_ref()
    }

    /// Whether what other attempts recorded stands: a resumed attempt, or any runner of
    /// a shared run.
    pub fn replays(&self) -> bool {
        self.attempt > 1 || self.runner.is_some()
    }

    /// Whether this thread follows the leader: a runner that does not lead, outside
    /// any work item.
    fn follows_here(&self) -> bool {
        self.runner.as_ref().is_some_and(|r| !r.leads()) && frame::current_work_item().is_none()
    }

    /// On a follower outside any work item: waits until `look` finds what the leader
    /// recorded (`Some`), or this runner leads (`None`: do it yourself).
    pub fn follow<T>(
        &self,
        what: &str,
        mut look: impl FnMut() -> Result<Option<T>, JournalError>,
    ) -> Result<Option<T>, JournalError> {
        let mut said = false;
        while self.follows_here() {
            // Read before looking: a leader records its changes before it ends the run,
            // so a look after the end was seen finds all it will ever record.
            let ended = self
                .runner
                .as_ref()
                .is_some_and(|r| r.ended.load(Ordering::SeqCst));
            if let Some(found) = look()? {
                return Ok(Some(found));
            }
            if ended {
                return Err(self.journal.error(format!(
                    "run {} ended before its leader recorded {what}",
                    self.run
                )));
            }
            if self.runner.as_ref().is_some_and(|r| r.stop.is_cancelled()) {
                return Err(JournalError {
                    stopped: true,
                    ..self.journal.error(format!(
                        "the run stopped while this runner waited for its leader to record {what}"
                    ))
                });
            }
            if !said {
                tracing::info!(target: "cutover::script", "waiting for the run's leader to record {what}");
                said = true;
            }
            std::thread::sleep(FOLLOW_EVERY);
        }
        Ok(None)
    }

    /// Whether this runner saw the shared run ended by its leader.
    fn run_ended(&self) -> bool {
        self.runner
            .as_ref()
            .is_some_and(|r| r.ended.load(Ordering::SeqCst))
    }

    /// Refuses a request to `target` that this runner cannot reach (`--only-targets`).
    pub fn may_reach(&self, target: &str) -> Result<(), String> {
        match self.runner.as_ref().and_then(|r| r.only_targets.as_ref()) {
            Some(targets) if !targets.iter().any(|t| t == target) => Err(format!(
                "this runner reaches only {} (--only-targets), not `{target}`; an item that needs `{target}` must say so in its `targets`, so that a runner that reaches it takes it",
                crate::suggest::quoted(targets)
            )),
            _ => Ok(()),
        }
    }

    pub fn run(&self) -> i64 {
        self.run
    }

    pub fn attempt(&self) -> i64 {
        self.attempt
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// The next place among this attempt's steps and calls: they are listed in it.
    pub fn next_ord(&self) -> i64 {
        self.order.fetch_add(1, Ordering::Relaxed)
    }

    /// Whether this attempt recorded a step or a call, so a resume has something to go
    /// on from.
    pub fn recorded_anything(&self) -> bool {
        self.order.load(Ordering::Relaxed) > 1
    }

    /// The next occurrence of step `key` in this attempt (from 1).
    pub fn occurrence(&self, key: &str) -> i64 {
        let mut counts = self
            .occurrences
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = counts.entry(key.to_owned()).or_insert(0);
        *count += 1;
        *count
    }

    /// The place of `change` in this thread's frame, and the call an earlier attempt
    /// made at that place if it was the same change. On a follower outside any work
    /// item, waits until its leader's same change took effect and answers that one, the
    /// place marked `followed`: the change is the leader's, never sent here.
    pub fn place(&self, change: &Change) -> Result<(Place, Option<CallRow>), JournalError> {
        let attempt = self.attempt;
        let followed = self.follow(
            &format!("`{}` on `{}`", change.operation, change.target),
            || {
                let calls = self
                    .journal
                    .earlier_calls(self.run, &frame::current_key(), attempt)?;
                // Every call is kept, so a follower that takes the lead meets the
                // leader's change in flight and has it verified, not sent again.
                let known = frame::knows_unmatched(calls, |earlier| {
                    earlier.change == *change && earlier.took_effect()
                });
                Ok(known.then_some(()))
            },
        );
        // The run ended and its leader never made this change: the vendor must say
        // whether it is in effect, and nothing is sent ([`Place::after_end`]).
        let after_end = followed.is_err() && self.run_ended();
        let followed = match followed {
            Ok(found) => found.is_some(),
            Err(_) if after_end => false,
            Err(err) => return Err(err),
        };
        let (mut place, earlier) = frame::next_call(
            |key| {
                if !self.replays() {
                    return Ok(Vec::new());
                }
                self.journal.earlier_calls(self.run, key, attempt)
            },
            |earlier| earlier.change == *change && (!followed || earlier.took_effect()),
        )?;
        place.followed = followed && earlier.is_some();
        place.after_end = after_end;
        Ok((place, earlier))
    }

    fn new_call<'a>(&self, place: &'a Place, change: &'a Change) -> NewCall<'a> {
        NewCall {
            run: self.run,
            attempt: self.attempt,
            ord: self.next_ord(),
            step: place.step,
            frame: &place.frame,
            seq: place.seq,
            change,
        }
    }

    /// Writes `change` as sent, before it is: a crash from here on leaves it an unknown
    /// outcome.
    pub fn sent(&self, place: &Place, change: &Change) -> Result<SentCall, JournalError> {
        if self.lease_lost.load(Ordering::SeqCst) {
            return Err(self.journal.error(format!(
                "run {} was taken over by another process after this one's lease lapsed",
                self.run
            )));
        }
        if let Some(runner) = &self.runner {
            // Time enough left on the lease to write and send the change before anyone
            // may take the item (or the lead) over.
            let margin = runner.lease / 3;
            let held = match frame::current_work_item() {
                Some(item) => self.journal.holds_item(item, runner.id, margin)?,
                None => self.journal.holds_lead(self.run, &self.owner, margin)?,
            };
            if !held {
                return Err(self.journal.error(format!(
                    "this runner's lease is lapsing or lost, and another runner may take the work over; nothing was sent: {}",
                    change.object()
                )));
            }
        }
        let id = self.journal.insert_call(
            &self.new_call(place, change),
            CallStatus::Sent,
            None,
            None,
        )?;
        Ok(SentCall { id })
    }

    /// Writes a call that is not sent: `status` says why (skipped, planned), with the
    /// answer the client is handed instead.
    pub fn not_sent(
        &self,
        place: &Place,
        change: &Change,
        status: CallStatus,
        verdict: &str,
        answer: Option<&Answer>,
    ) -> Result<(), JournalError> {
        self.journal
            .insert_call(&self.new_call(place, change), status, Some(verdict), answer)
            .map(drop)
    }

    /// Records how a sent call ended.
    pub fn ended(&self, call: &SentCall, end: &CallEnd<'_>) -> Result<(), JournalError> {
        self.journal.end_call(call.id, end)
    }

    /// Records what verification found about call `id`.
    pub fn verified(&self, id: i64, applied: bool, seen: &str) -> Result<(), JournalError> {
        let status = if applied {
            CallStatus::VerifiedApplied
        } else {
            CallStatus::VerifiedNotApplied
        };
        self.journal.verify_call(id, status, seen)
    }

    /// Ends the run with `outcome`; calls still waiting for an answer stay unknown. A run
    /// another process took over is left to it.
    pub fn end(&self, outcome: Outcome) -> Result<(), JournalError> {
        self.journal.abandon_calls(self.run, self.attempt)?;
        if let Some(runner) = &self.runner {
            self.journal.leave_run(runner.id)?;
        }
        self.journal.end_run(self.run, &self.owner, outcome)
    }
}
