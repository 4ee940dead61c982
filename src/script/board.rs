//! The board: what each unit of a run (an application of a wave, one item of `parallel`)
//! is doing now, for the operator's live view and the summary at the end.
//!
//! Three things write it: `parallel` adds an item when it starts the item's thread and
//! finishes it with the item's outcome; `step(name, fn)` names the item's current step;
//! a job reading (every `refresh` inside a wait) records the remote object's state and
//! percent. Each writes for the item of the calling script thread ([`enter`]); outside
//! any item, nothing is recorded. Observers (the terminal view, the plain log) hear of
//! every change; the summary reads the items at the end.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::script::wait_log::Reading;
use crate::thread_stack;

/// An item's key on its board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub usize);

/// How an item ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its function returned.
    Done,
    /// Its function failed with this message.
    Failed(String),
    /// It was cancelled (`fail_fast`, Ctrl-C) before it ended.
    Cancelled,
}

impl Outcome {
    /// One word for tables: `done`, `failed`, `cancelled`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Failed(_) => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// The failure message, if it failed.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Failed(message) => Some(message),
            Outcome::Done | Outcome::Cancelled => None,
        }
    }
}

/// What one item is doing, or did.
#[derive(Clone, Debug)]
pub struct Item {
    pub id: ItemId,
    /// How the operator knows it: an application's name.
    pub label: String,
    /// The step it is in, or the last one it reached.
    pub step: Option<String>,
    /// The last reading of a remote job it waited on.
    pub remote: Option<Reading>,
    pub started: Instant,
    /// When and how it ended.
    pub ended: Option<(Instant, Outcome)>,
}

impl Item {
    /// How long it ran, or has run so far.
    pub fn elapsed(&self) -> Duration {
        self.ended
            .as_ref()
            .map_or_else(Instant::now, |(at, _)| *at)
            .saturating_duration_since(self.started)
    }
}

/// Hears of every change to a board's items.
pub trait Observer: Send + Sync {
    /// `item` changed (it started, entered a step, read its remote job, or ended).
    fn changed(&self, item: &Item);
}

/// The items of one run.
#[derive(Default)]
pub struct Board {
    items: Mutex<Vec<Item>>,
    observers: Mutex<Vec<Arc<dyn Observer>>>,
}

impl std::fmt::Debug for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Board")
            .field("items", &self.items())
            .finish()
    }
}

impl Board {
    /// Lets `observer` hear of every later change.
    pub fn observe(&self, observer: Arc<dyn Observer>) {
        lock(&self.observers).push(observer);
    }

    /// Adds an item labelled `label`, started now.
    pub fn start(&self, label: impl Into<String>) -> ItemId {
        let mut items = lock(&self.items);
        let id = ItemId(items.len());
        items.push(Item {
            id,
            label: label.into(),
            step: None,
            remote: None,
            started: Instant::now(),
            ended: None,
        });
        let item = items[id.0].clone();
        drop(items);
        self.tell(&item);
        id
    }

    /// Names the step item `id` is in.
    pub fn step(&self, id: ItemId, step: impl Into<String>) {
        let step = step.into();
        self.change(id, |item| {
            item.step = Some(step);
            item.remote = None;
        });
    }

    /// Records the last reading of the remote job item `id` waits on.
    pub fn reading(&self, id: ItemId, reading: &Reading) {
        self.change(id, |item| item.remote = Some(reading.clone()));
    }

    /// Ends item `id` with `outcome`.
    pub fn end(&self, id: ItemId, outcome: Outcome) {
        self.change(id, |item| item.ended = Some((Instant::now(), outcome)));
    }

    /// Every item so far, in the order they started.
    pub fn items(&self) -> Vec<Item> {
        lock(&self.items).clone()
    }

    fn change(&self, id: ItemId, update: impl FnOnce(&mut Item)) {
        let mut items = lock(&self.items);
        let Some(item) = items.get_mut(id.0) else {
            return;
        };
        update(item);
        let item = item.clone();
        drop(items);
        self.tell(&item);
    }

    fn tell(&self, item: &Item) {
        let observers = lock(&self.observers).clone();
        for observer in observers {
            observer.changed(item);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// The board items this script thread works for, innermost last.
    static CURRENT: RefCell<Vec<(Arc<Board>, ItemId)>> = const { RefCell::new(Vec::new()) };
}

/// Makes this thread's steps and readings count for item `id` of `board` until the guard
/// is dropped.
pub fn enter(board: &Arc<Board>, id: ItemId) -> ItemGuard {
    thread_stack::push(&CURRENT, (Arc::clone(board), id))
}

/// Holds this thread to an item; see [`enter`].
pub type ItemGuard = thread_stack::Held<(Arc<Board>, ItemId)>;

/// The item this thread works for, if any.
pub fn current() -> Option<(Arc<Board>, ItemId)> {
    thread_stack::innermost(&CURRENT)
}

/// Names the current item's step; does nothing outside an item.
pub fn enter_step(step: &str) {
    if let Some((board, id)) = current() {
        board.step(id, step);
    }
}

/// Records a reading for the current item; does nothing outside an item.
pub fn record_reading(reading: &Reading) {
    if let Some((board, id)) = current() {
        board.reading(id, reading);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Seen(Mutex<Vec<String>>);

    impl Observer for Seen {
        fn changed(&self, item: &Item) {
            let state = item.remote.as_ref().map(|r| r.state.clone());
            let ended = item.ended.as_ref().map(|(_, o)| o.as_str());
            lock(&self.0).push(format!(
                "{} {:?} {state:?} {ended:?}",
                item.label, item.step
            ));
        }
    }

    #[test]
    fn a_thread_records_steps_and_readings_for_its_item_only() {
        let board = Arc::new(Board::default());
        let seen = Arc::new(Seen(Mutex::new(Vec::new())));
        board.observe(seen.clone());
        enter_step("outside");
        let crm = board.start("crm");
        {
            let _inside = enter(&board, crm);
            enter_step("volumes");
            record_reading(&Reading::new(
                "session `crm-data`",
                "Copy_In_Progress",
                Some(40),
            ));
        }
        enter_step("after");
        board.end(crm, Outcome::Failed("copy failed".into()));
        let items = board.items();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].step.as_deref(), Some("volumes"));
        assert_eq!(
            items[0].ended.as_ref().map(|(_, o)| o.error()),
            Some(Some("copy failed"))
        );
        assert_eq!(
            *lock(&seen.0),
            [
                "crm None None None",
                "crm Some(\"volumes\") None None",
                "crm Some(\"volumes\") Some(\"Copy_In_Progress\") None",
                "crm Some(\"volumes\") Some(\"Copy_In_Progress\") Some(\"failed\")",
            ]
        );
    }
}
