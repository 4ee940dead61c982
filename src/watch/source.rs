//! Where file events come from: notify, through its full debouncer, which pairs the two
//! halves of a rename, drops the modify events that follow a create and collapses event
//! storms within a few milliseconds. Its events become [`RawEvent`]s on a channel; the
//! per-handler debounce and settling come after.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, DebouncedEvent, Debouncer, RecommendedCache};
use tokio::sync::mpsc::UnboundedSender;

use crate::hook::event::{ChangeKind, RawEvent};
use crate::watch::error::WatchError;

/// How long notify's debouncer holds an event to pair renames and fold repeats. Short:
/// the handlers' own `debounce` does the real waiting, and this adds to every latency.
const PAIRING_WINDOW: Duration = Duration::from_millis(20);
/// How often notify's debouncer looks for events to release.
const PAIRING_TICK: Duration = Duration::from_millis(10);

/// What the source reports.
#[derive(Debug)]
pub enum SourceEvent {
    /// A file changed.
    Change(RawEvent),
    /// The kernel dropped events (its queue overflowed); some changes were missed.
    Overflow,
    /// notify reported a problem while watching.
    Error(String),
}

/// The notify watcher and the folders it watches.
pub struct Source {
    debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    watched: HashMap<PathBuf, RecursiveMode>,
}

impl Source {
    /// Starts notify; its events go to `events`.
    pub fn start(events: UnboundedSender<SourceEvent>) -> Result<Self, WatchError> {
        let handler = move |result: DebounceEventResult| match result {
            Ok(batch) => {
                for event in batch {
                    for out in translate(event) {
                        let _ = events.send(out);
                    }
                }
            }
            Err(errors) => {
                for err in errors {
                    let _ = events.send(SourceEvent::Error(err.to_string()));
                }
            }
        };
        let debouncer =
            notify_debouncer_full::new_debouncer(PAIRING_WINDOW, Some(PAIRING_TICK), handler)
                .map_err(|err| WatchError::from_notify(err, None))?;
        Ok(Self {
            debouncer,
            watched: HashMap::new(),
        })
    }

    /// Watches `folder` (and below it when `recursive`); watching a folder again, or
    /// one inside a folder watched recursively, does nothing.
    pub fn watch(&mut self, folder: &Path, recursive: bool) -> Result<(), WatchError> {
        let covered = self.watched.iter().any(|(watched, mode)| {
            (watched == folder && (*mode == RecursiveMode::Recursive || !recursive))
                || (*mode == RecursiveMode::Recursive && folder.starts_with(watched))
        });
        if covered {
            return Ok(());
        }
        let mode = if recursive {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        self.debouncer
            .watch(folder, mode)
            .map_err(|err| WatchError::from_notify(err, Some(folder)))?;
        self.watched.insert(folder.to_path_buf(), mode);
        Ok(())
    }
}

/// The changes one notify event stands for. Permission and timestamp changes alone,
/// and reads are not file changes handlers care about; a new or moved-in folder is
/// passed on so the files in it are found.
fn translate(event: DebouncedEvent) -> Vec<SourceEvent> {
    if event.need_rescan() {
        return vec![SourceEvent::Overflow];
    }
    let seen = event.time;
    let mut paths = event.event.paths.into_iter();
    let raw = |kind: ChangeKind, path: PathBuf| RawEvent {
        kind,
        path,
        from: None,
        seen,
        initial: false,
    };
    let out = match event.event.kind {
        // A new folder goes on too, so the files already in it are found.
        EventKind::Create(_) => paths.next().map(|p| raw(ChangeKind::Create, p)),
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            let (from, to) = (paths.next(), paths.next());
            to.map(|to| RawEvent {
                from,
                ..raw(ChangeKind::Rename, to)
            })
        }
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
            paths.next().map(|p| raw(ChangeKind::Remove, p))
        }
        EventKind::Modify(ModifyKind::Name(_)) => paths.next().map(|p| raw(ChangeKind::Rename, p)),
        EventKind::Modify(ModifyKind::Metadata(_)) => None,
        EventKind::Modify(_) => paths.next().map(|p| raw(ChangeKind::Modify, p)),
        EventKind::Remove(_) => paths.next().map(|p| raw(ChangeKind::Remove, p)),
        EventKind::Access(_) | EventKind::Any | EventKind::Other => None,
    };
    out.map(SourceEvent::Change).into_iter().collect()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use notify::Event;
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind};

    use super::*;

    fn change(kind: EventKind, paths: &[&str]) -> Option<(ChangeKind, PathBuf, Option<PathBuf>)> {
        let mut event = Event::new(kind);
        for path in paths {
            event = event.add_path(PathBuf::from(path));
        }
        match translate(DebouncedEvent::new(event, Instant::now())).pop() {
            Some(SourceEvent::Change(raw)) => Some((raw.kind, raw.path, raw.from)),
            _ => None,
        }
    }

    #[test]
    fn notify_events_become_file_changes() {
        use ChangeKind::*;
        let modify = EventKind::Modify;
        let renamed = |mode| modify(ModifyKind::Name(mode));
        /// The change an event becomes, if any: its kind, path, and the path renamed from.
        type Becomes = Option<(ChangeKind, &'static str, Option<&'static str>)>;
        // Each row: the event, its paths, and the change it becomes.
        let rows: [(EventKind, &[&str], Becomes); 8] = [
            (
                EventKind::Create(CreateKind::File),
                &["/a"],
                Some((Create, "/a", None)),
            ),
            (
                EventKind::Create(CreateKind::Folder),
                &["/d"],
                Some((Create, "/d", None)),
            ),
            (
                modify(ModifyKind::Data(DataChange::Any)),
                &["/a"],
                Some((Modify, "/a", None)),
            ),
            (
                modify(ModifyKind::Metadata(MetadataKind::Any)),
                &["/a"],
                None,
            ),
            (
                renamed(RenameMode::Both),
                &["/a.tmp", "/a"],
                Some((Rename, "/a", Some("/a.tmp"))),
            ),
            (renamed(RenameMode::To), &["/a"], Some((Rename, "/a", None))),
            (
                renamed(RenameMode::From),
                &["/a"],
                Some((Remove, "/a", None)),
            ),
            (
                EventKind::Remove(RemoveKind::File),
                &["/a"],
                Some((Remove, "/a", None)),
            ),
        ];
        for (kind, paths, expected) in rows {
            let expected = expected
                .map(|(kind, path, from)| (kind, PathBuf::from(path), from.map(PathBuf::from)));
            assert_eq!(change(kind, paths), expected, "{kind:?} {paths:?}");
        }
    }
}
