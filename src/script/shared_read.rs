//! Reads that many waits on objects of one target share ([`SharedReads`], one per
//! target): each wait holds a [`Watcher`] on its object, and one request (the vendor's
//! list of objects by id) answers every watcher due at about the same time, instead of
//! one read per wait.
//!
//! A wait's first reading is its own (the single read it always was, at once); later
//! readings are booked on a grid of the wait's `every` on the run's clock, so the
//! watchers of one target with the same `every` book the same times. The reading booked
//! for a time is sent once that time has come and no watcher that was reading before
//! then, or holding an answer, has yet to book its next reading: every watcher that goes
//! on waiting is in it, however late its thread runs, while a watcher that starts later
//! holds nothing up. An object the answer leaves out is the caller's to read singly (so
//! a deleted one still gives its `not_found`).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;

/// What one shared request found, by id; an id it left out is absent.
pub type Found<T> = HashMap<String, T>;

/// The request that reads the objects `ids` at once (in as many requests as the
/// vendor's limits need), failing as one read of them would.
pub type Fetch<T> = Arc<
    dyn Fn(Vec<String>) -> Pin<Box<dyn Future<Output = Result<Found<T>, ApiError>> + Send>>
        + Send
        + Sync,
>;

/// A request's answer: when it came (clock time) and what it said.
type Answer<T> = Arc<(SystemTime, Result<Found<T>, ApiError>)>;

/// The shared reads of one target.
pub struct SharedReads<T> {
    clock: Clock,
    /// The run's shared runtime, where readings are sent: a thread that drives its own
    /// requests (`http::local_io`) stops driving them when its wait ends, and a reading
    /// serves the other waits too.
    runtime: tokio::runtime::Handle,
    /// Cancelled when the run closes its logins: a reading still being sent or retried
    /// then stops, so it cannot log in again after the logouts.
    stop: CancellationToken,
    fetch: Fetch<T>,
    inner: Mutex<Inner<T>>,
    /// Told whenever the earliest pending watcher books or leaves, so a due reading is
    /// sent.
    settled: Notify,
}

struct Inner<T> {
    /// Readings booked for a time: not sent yet, or sent and not taken by every member.
    slots: BTreeMap<SystemTime, Slot<T>>,
    /// Watchers reading now, or holding an answer they have not booked the next reading
    /// after, counted by the time since which they are: a reading booked for a later time
    /// waits for them.
    pending: BTreeMap<SystemTime, usize>,
}

impl<T> Inner<T> {
    fn add_pending(&mut self, since: SystemTime, count: usize) {
        if count > 0 {
            *self.pending.entry(since).or_default() += count;
        }
    }

    /// Takes one watcher pending since `since` off; answers whether the earliest pending
    /// time moved on, which may let a booked reading go.
    fn remove_pending(&mut self, since: SystemTime) -> bool {
        let earliest = self.pending.keys().next().copied();
        if let Some(count) = self.pending.get_mut(&since) {
            *count -= 1;
            if *count == 0 {
                self.pending.remove(&since);
            }
        }
        earliest != self.pending.keys().next().copied()
    }

    /// Whether a reading booked at `at` may be sent: nobody pending since before it.
    fn settled_before(&self, at: SystemTime) -> bool {
        self.pending.range(..at).next().is_none()
    }
}

/// The ids one request reads, and where its answer goes.
struct Batch<T> {
    /// Each id with the number of watchers reading it.
    ids: HashMap<String, usize>,
    /// The latest deadline of the waits it serves (`None` once one has none): its
    /// retries stop there, while each wait stops waiting for it at its own.
    deadline: Option<SystemTime>,
    /// Whether a wait it serves has no deadline.
    unbounded: bool,
    /// Taken when the request is sent.
    send: Option<watch::Sender<Option<Answer<T>>>>,
    answer: watch::Receiver<Option<Answer<T>>>,
}

impl<T> Batch<T> {
    fn new() -> Self {
        let (send, answer) = watch::channel(None);
        Self {
            ids: HashMap::new(),
            deadline: None,
            unbounded: false,
            send: Some(send),
            answer,
        }
    }

    fn join(&mut self, id: &str, deadline: Option<SystemTime>) {
        *self.ids.entry(id.to_owned()).or_default() += 1;
        match deadline {
            Some(deadline) => self.deadline = self.deadline.max(Some(deadline)),
            None => self.unbounded = true,
        }
    }

    /// The deadline its request runs within.
    fn request_deadline(&self) -> Option<SystemTime> {
        if self.unbounded { None } else { self.deadline }
    }

    /// What goes out when the reading is sent; the slot keeps the answer's receiver.
    fn sending(&mut self) -> Self {
        Self {
            ids: std::mem::take(&mut self.ids),
            deadline: self.deadline,
            unbounded: self.unbounded,
            send: self.send.take(),
            answer: self.answer.clone(),
        }
    }

    fn leave(&mut self, id: &str) {
        if let Some(count) = self.ids.get_mut(id) {
            *count -= 1;
            if *count == 0 {
                self.ids.remove(id);
            }
        }
    }
}

/// The readings booked for one time.
struct Slot<T> {
    batch: Batch<T>,
    sent: bool,
    /// Watchers booked here that have not taken the answer yet.
    members: usize,
}

/// Where a watcher stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Reading, or holding an answer, since this time: counted in [`Inner::pending`].
    Pending(SystemTime),
    /// Booked the reading at this time (counted as pending since then once it is sent).
    Booked(SystemTime),
}

impl<T: Clone + Send + Sync + 'static> SharedReads<T> {
    /// The shared reads of a target, read with `fetch` on `runtime` until `stop` and
    /// booked on `clock`.
    pub fn new(
        clock: Clock,
        runtime: tokio::runtime::Handle,
        stop: CancellationToken,
        fetch: Fetch<T>,
    ) -> Self {
        Self {
            clock,
            runtime,
            stop,
            fetch,
            inner: Mutex::new(Inner {
                slots: BTreeMap::new(),
                pending: BTreeMap::new(),
            }),
            settled: Notify::new(),
        }
    }

    /// A watcher on object `id` for a wait that reads every `every` until `deadline`.
    pub fn watch(
        self: &Arc<Self>,
        id: impl Into<String>,
        every: Duration,
        deadline: Option<SystemTime>,
    ) -> Watcher<T> {
        let since = self.clock.now();
        self.lock().add_pending(since, 1);
        Watcher {
            shared: Arc::clone(self),
            id: id.into(),
            every: every.max(Duration::from_nanos(1)),
            deadline,
            place: Place::Pending(since),
            due: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends every reading whose time has come and that no earlier wait holds back any
    /// more, and wakes its members: called when the earliest pending time moved on, so
    /// the waits held for a reading are woken once, when it goes, not at every booking
    /// (thousands of waits would otherwise wake thousands of times an interval).
    fn send_settled(self: &Arc<Self>, mut inner: MutexGuard<'_, Inner<T>>) {
        let now = self.clock.now();
        let due: Vec<SystemTime> = inner
            .slots
            .range(..=now)
            .filter(|(_, slot)| !slot.sent)
            .map(|(at, _)| *at)
            .collect();
        let mut batches = Vec::new();
        for at in due {
            // An earlier reading's members are pending since its time: a later one waits.
            if !inner.settled_before(at) {
                break;
            }
            let Some(slot) = inner.slots.get_mut(&at) else {
                continue;
            };
            slot.sent = true;
            let members = slot.members;
            batches.push(slot.batch.sending());
            inner.add_pending(at, members);
        }
        drop(inner);
        if batches.is_empty() {
            return;
        }
        for batch in batches {
            self.send(batch);
        }
        self.settled.notify_waiters();
    }

    /// Sends `batch` on its own task, so a wait that gives up does not stop it for the
    /// others.
    fn send(self: &Arc<Self>, mut batch: Batch<T>) {
        let shared = Arc::clone(self);
        self.runtime.spawn(async move {
            let ids: Vec<String> = batch.ids.keys().cloned().collect();
            let reading = crate::http::retry::within_deadline(
                batch.request_deadline(),
                &shared.clock,
                (shared.fetch)(ids),
            );
            // Stopped, the batch's sender is dropped: its members are told it was lost.
            let found = tokio::select! {
                biased;
                () = shared.stop.cancelled() => return,
                found = reading => found,
            };
            if let Some(send) = batch.send.take() {
                let _ = send.send(Some(Arc::new((shared.clock.now(), found))));
            }
        });
    }
}

/// One wait's place in its target's [`SharedReads`]; dropping it leaves.
pub struct Watcher<T: Clone + Send + Sync + 'static> {
    shared: Arc<SharedReads<T>>,
    id: String,
    every: Duration,
    deadline: Option<SystemTime>,
    place: Place,
    /// When the next reading falls, once an answer came.
    due: Option<SystemTime>,
}

impl<T: Clone + Send + Sync + 'static> Watcher<T> {
    /// The reading booked for now; `None` when the caller is to read the object alone,
    /// now: its first reading, one at the wait's deadline before the booked time, or
    /// when the answer left the object out.
    pub async fn read(&mut self) -> Result<Option<T>, ApiError> {
        let now = self.shared.clock.now();
        let at = match self.place {
            Place::Booked(at) if at <= now => at,
            Place::Booked(at) => {
                self.unbook(at);
                self.due = None;
                return Ok(None);
            }
            Place::Pending(_) => {
                self.due = None;
                return Ok(None);
            }
        };
        let Some(answer) = self.take(at).await? else {
            // The wait's own deadline came first: its last look is its own read.
            self.due = None;
            return Ok(None);
        };
        let (answered, found) = &*answer;
        self.due = Some(grid_after(*answered, self.every));
        match found {
            Ok(found) => Ok(found.get(&self.id).cloned()),
            Err(err) => Err(err.clone()),
        }
    }

    /// Books the next reading, on the grid after the last answer (or after now, when the
    /// caller read alone); answers its time.
    pub fn book_next(&mut self) -> SystemTime {
        let now = self.shared.clock.now();
        let at = self.due.unwrap_or_else(|| grid_after(now, self.every));
        let Place::Pending(since) = self.place else {
            return at;
        };
        let mut inner = self.shared.lock();
        let slot = inner.slots.entry(at).or_insert_with(|| Slot {
            batch: Batch::new(),
            sent: false,
            members: 0,
        });
        if slot.sent {
            // Sent without this watcher, which never happens while it is pending: it
            // reads alone when the time comes.
            return at;
        }
        slot.members += 1;
        slot.batch.join(&self.id, self.deadline);
        self.place = Place::Booked(at);
        if inner.remove_pending(since) {
            self.shared.send_settled(inner);
        }
        at
    }

    /// Waits until the reading booked at `at` is sent (sending it once nobody is
    /// pending), then for its answer; `None` when the wait's own deadline comes first,
    /// while it waits for either: other waits' later deadlines and first reads never hold
    /// a wait past its own.
    async fn take(&mut self, at: SystemTime) -> Result<Option<Answer<T>>, ApiError> {
        let clock = self.shared.clock.clone();
        let deadline = self.deadline;
        let wait_ends = async move {
            match deadline {
                Some(at) => clock.until(at).await,
                None => std::future::pending().await,
            }
        };
        let mut wait_ends = std::pin::pin!(wait_ends);
        let mut answer = loop {
            let settled = self.shared.settled.notified();
            {
                let mut inner = self.shared.lock();
                let settled = inner.settled_before(at);
                let mut to_send = None;
                let Some(slot) = inner.slots.get_mut(&at) else {
                    return Err(lost());
                };
                if !slot.sent && settled {
                    slot.sent = true;
                    to_send = Some(slot.batch.sending());
                }
                if slot.sent {
                    let answer = slot.batch.answer.clone();
                    let members = slot.members;
                    slot.members -= 1;
                    if slot.members == 0 {
                        inner.slots.remove(&at);
                    }
                    if let Some(batch) = to_send {
                        // Every member is reading now, this one included.
                        inner.add_pending(at, members);
                        drop(inner);
                        self.shared.send(batch);
                    }
                    self.place = Place::Pending(at);
                    break answer;
                }
            }
            tokio::select! {
                biased;
                () = settled => {}
                () = &mut wait_ends => {
                    self.unbook(at);
                    return Ok(None);
                }
            }
        };
        tokio::select! {
            biased;
            answer = answered(&mut answer) => answer.map(Some),
            // Another wait's later deadline bounds the request: this one gives up on it at
            // its own and reads alone, for the last look every wait takes at its deadline.
            () = wait_ends => Ok(None),
        }
    }

    /// Gives up the reading booked at `at`, which has not come yet: pending from now.
    fn unbook(&mut self, at: SystemTime) {
        let now = self.shared.clock.now();
        let mut inner = self.shared.lock();
        let moved = leave_slot(&mut inner, at, &self.id);
        inner.add_pending(now, 1);
        self.place = Place::Pending(now);
        if moved {
            self.shared.send_settled(inner);
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Drop for Watcher<T> {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        let moved = match self.place {
            Place::Pending(since) => inner.remove_pending(since),
            Place::Booked(at) => leave_slot(&mut inner, at, &self.id),
        };
        if moved {
            self.shared.send_settled(inner);
        }
    }
}

/// Takes a member out of the slot at `at`, and out of the pending ones when the slot was
/// sent; answers whether the earliest pending time moved on.
fn leave_slot<T>(inner: &mut Inner<T>, at: SystemTime, id: &str) -> bool {
    let Some(slot) = inner.slots.get_mut(&at) else {
        return false;
    };
    let sent = slot.sent;
    if !sent {
        slot.batch.leave(id);
    }
    slot.members -= 1;
    if slot.members == 0 {
        inner.slots.remove(&at);
    }
    sent && inner.remove_pending(at)
}

/// Waits for a request's answer.
async fn answered<T>(
    answer: &mut watch::Receiver<Option<Answer<T>>>,
) -> Result<Answer<T>, ApiError> {
    match answer.wait_for(Option::is_some).await {
        Ok(answer) => answer.clone().ok_or_else(lost),
        Err(_) => Err(lost()),
    }
}

/// A shared request ended without an answer (its task was stopped): the process is
/// shutting down.
fn lost() -> ApiError {
    ApiError::new(
        ErrorKind::Cancelled,
        "the shared read of the target was stopped before it answered",
    )
}

/// The first time after `time` on the grid of `every` (multiples of it since the Unix
/// epoch), so waits with the same `every` read at the same times.
pub fn grid_after(time: SystemTime, every: Duration) -> SystemTime {
    let every = every.as_nanos().max(1);
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let next = (since / every + 1).saturating_mul(every);
    let next = u64::try_from(next).map_or(Duration::MAX, Duration::from_nanos);
    SystemTime::UNIX_EPOCH.checked_add(next).unwrap_or(time)
}

#[cfg(test)]
#[path = "shared_read_tests.rs"]
mod tests;
