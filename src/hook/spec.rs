//! What an `on_file(pattern, #{ … }, handler)` call asks for, as plain data: the
//! pattern, the events, the debounce and settle times, how many runs at once and what
//! to do when the file's run is still going.

use std::path::PathBuf;
use std::time::Duration;

use crate::hook::event::ChangeKind;
use crate::hook::filter::Pattern;

/// Quiet time before a burst of events becomes one run; watchexec's default.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(50);
/// How long a file must stay the same before it is handed over.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);
/// Runs of one handler at once.
pub const DEFAULT_CONCURRENCY: u64 = 1;
/// The events a handler gets unless it lists its own.
pub const DEFAULT_EVENTS: [ChangeKind; 3] =
    [ChangeKind::Create, ChangeKind::Modify, ChangeKind::Rename];

/// One handler's registration.
#[derive(Clone, Debug)]
pub struct HandlerSpec {
    /// The glob, relative to `root`.
    pub pattern: Pattern,
    /// The kinds of event it wants.
    pub events: Vec<ChangeKind>,
    /// Quiet time after the last event for a file before the file is looked at.
    pub debounce: Duration,
    /// Time the file's size and modification time must stay the same.
    pub settle: Duration,
    /// Runs at once (files in parallel).
    pub concurrency: usize,
    /// What to do with events for a file whose run is still going.
    pub on_busy: OnBusy,
    /// The folder the pattern is relative to, as written (relative to the hook's folder);
    /// `None` for the hook's folder itself.
    pub root: Option<PathBuf>,
    /// The name the state file and messages use; `None` for `<hook file>: <pattern>`.
    pub name: Option<String>,
    /// The line of the `on_file` call.
    pub line: usize,
}

impl HandlerSpec {
    /// A spec with every default, for `pattern`.
    pub fn new(pattern: Pattern) -> Self {
        Self {
            pattern,
            events: DEFAULT_EVENTS.to_vec(),
            debounce: DEFAULT_DEBOUNCE,
            settle: DEFAULT_SETTLE,
            concurrency: 1,
            on_busy: OnBusy::default(),
            root: None,
            name: None,
            line: 0,
        }
    }

    /// Whether it wants events of `kind`.
    pub fn wants(&self, kind: ChangeKind) -> bool {
        self.events.contains(&kind)
    }
}

/// What to do with an event for a file whose run is still going.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnBusy {
    /// Run again once the current run ends (events in between fold into one).
    #[default]
    Queue,
    /// Drop the event.
    Skip,
    /// Cancel the current run through its token, then run again.
    Restart,
}

impl OnBusy {
    /// The names hook scripts use.
    pub const NAMES: [&str; 3] = ["queue", "skip", "restart"];

    /// Reads a name hook scripts use.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "queue" => Some(Self::Queue),
            "skip" => Some(Self::Skip),
            "restart" => Some(Self::Restart),
            _ => None,
        }
    }
}
