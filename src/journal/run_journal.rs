//! The journal of the run in progress: what the mutation gate and `step` write through.
//! It knows the run and attempt, numbers each step's occurrences, writes a mutating call
//! before it is sent and its outcome after, and, in a resumed attempt, finds the call an
//! earlier attempt made at the same place so the gate can ask the vendor before sending
//! it again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::frame::{self, Place};
use super::lease::{Heartbeat, Owner};
use super::{
    Answer, CallEnd, CallRow, CallStatus, Change, Journal, JournalError, NewCall, Outcome,
};

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
            _heartbeat: heartbeat,
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
    /// made at that place if it was the same change.
    pub fn place(&self, change: &Change) -> Result<(Place, Option<CallRow>), JournalError> {
        let attempt = self.attempt;
        frame::next_call(
            |key| {
                if attempt == 1 {
                    return Ok(Vec::new());
                }
                self.journal.earlier_calls(self.run, key, attempt)
            },
            |earlier| earlier.change == *change,
        )
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
        self.journal.end_run(self.run, &self.owner, outcome)
    }
}
