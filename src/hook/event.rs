//! File events: what the file system reported ([`RawEvent`]), and what a handler is
//! handed once the event is debounced and the file has settled ([`FileEvent`]).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// What happened to a file, in the words hook scripts use in `events: [...]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    /// The file appeared.
    Create,
    /// Its content changed.
    Modify,
    /// It went away (deleted, or renamed out of the pattern).
    Remove,
    /// It was renamed or moved into place; `from` names where it was when known.
    Rename,
}

impl ChangeKind {
    /// Every kind, in the order `events` lists them by default.
    pub const ALL: [ChangeKind; 4] = [Self::Create, Self::Modify, Self::Rename, Self::Remove];

    /// The name scripts use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Modify => "modify",
            Self::Remove => "remove",
            Self::Rename => "rename",
        }
    }

    /// Reads a name scripts use.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The kind that describes `self` followed by `later` within one debounce: a file
    /// created and then written is still new; one removed and recreated is new again.
    pub fn then(self, later: Self) -> Self {
        match (self, later) {
            (Self::Create | Self::Rename, Self::Modify) => self,
            (_, later) => later,
        }
    }
}

/// One change the file system reported, before debouncing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawEvent {
    /// What happened.
    pub kind: ChangeKind,
    /// The file it happened to (for a rename, its new path).
    pub path: PathBuf,
    /// For a rename, the old path when the file system told it.
    pub from: Option<PathBuf>,
    /// When it was seen.
    pub seen: Instant,
    /// Whether it stands for a file that was already there at start (`--initial`).
    pub initial: bool,
}

impl RawEvent {
    /// An event seen now.
    pub fn new(kind: ChangeKind, path: impl Into<PathBuf>) -> Self {
        Self {
            kind,
            path: path.into(),
            from: None,
            seen: Instant::now(),
            initial: false,
        }
    }

    /// Folds a later event for the same path into this one.
    pub fn merge(&mut self, later: RawEvent) {
        self.kind = self.kind.then(later.kind);
        if later.from.is_some() {
            self.from = later.from;
        }
        self.seen = later.seen;
        self.initial &= later.initial;
    }
}

/// Size and modification time: what must stay the same for a file to have settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// Length in bytes.
    pub size: u64,
    /// Last modification.
    pub modified: SystemTime,
}

/// The event a handler receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEvent {
    /// What happened.
    pub kind: ChangeKind,
    /// The file (absolute).
    pub path: PathBuf,
    /// The path relative to the handler's root, with `/` separators.
    pub name: String,
    /// Size and modification time once settled; `None` for a removed file.
    pub stat: Option<Stat>,
    /// For a rename, the old path when known.
    pub from: Option<PathBuf>,
    /// Whether the file was already there when watching started (`--initial`).
    pub initial: bool,
}

impl FileEvent {
    /// The event for `raw` under `root`, before its file is looked at.
    pub fn new(raw: &RawEvent, root: &Path) -> Self {
        Self {
            kind: raw.kind,
            path: raw.path.clone(),
            name: relative_name(&raw.path, root),
            stat: None,
            from: raw.from.clone(),
            initial: raw.initial,
        }
    }
}

/// `path` relative to `root` with `/` separators (the whole path if it is outside).
pub fn relative_name(path: &Path, root: &Path) -> String {
    let Ok(relative) = path.strip_prefix(root) else {
        return path.display().to_string();
    };
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_fold_the_way_a_file_lives() {
        #[track_caller]
        fn case(first: ChangeKind, later: ChangeKind, expected: ChangeKind) {
            assert_eq!(first.then(later), expected, "{first:?} then {later:?}");
        }
        use ChangeKind::*;
        case(Create, Modify, Create);
        case(Rename, Modify, Rename);
        case(Modify, Modify, Modify);
        case(Create, Remove, Remove);
        case(Remove, Create, Create);
        case(Modify, Rename, Rename);
    }

    #[test]
    fn names_are_relative_with_slashes() {
        let root = Path::new("/hooks");
        assert_eq!(
            relative_name(Path::new("/hooks/in/a.ovf"), root),
            "in/a.ovf"
        );
        assert_eq!(relative_name(Path::new("/else/b"), root), "/else/b");
        assert_eq!(ChangeKind::parse("rename"), Some(ChangeKind::Rename));
        assert_eq!(ChangeKind::parse("moved"), None);
    }
}
