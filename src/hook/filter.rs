//! Which files reach handlers: a handler's glob, relative to its root, and the ignore
//! rules of that root. Editor swap files, partial downloads, temporary files, `~`
//! backups and dot-files (and everything in a dot-folder, such as the state file's
//! `.cutover/`) are ignored by default; a `.cutoverignore` in the root, in gitignore
//! syntax, adds more. Matching is synchronous and allocation-light, like watchexec's
//! `Filterer`, because it runs for every event of a busy folder.

use std::path::{Component, Path};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// File names nobody means to hand to a handler: vim and emacs swap, lock and autosave
/// files (vim probes with `4913`), partial downloads and temporary files, backups.
const DEFAULT_IGNORES: &[&str] = &[
    "*.swp",
    "*.swo",
    "*.swx",
    "*.swn",
    "4913",
    "#*#",
    "*~",
    "*.part",
    "*.partial",
    "*.crdownload",
    "*.tmp",
];

/// The file of extra ignore rules in a root.
pub const IGNORE_FILE: &str = ".cutoverignore";

/// A handler's pattern, compiled: `*` stays within one folder, `**` crosses folders.
#[derive(Clone, Debug)]
pub struct Pattern {
    text: String,
    matcher: GlobMatcher,
}

impl Pattern {
    /// Compiles `text`; the error says what is wrong with it. A pattern stays under its
    /// root: an absolute one, or one with a `..` part, is refused (a handler may write in
    /// its root, so a pattern reaching `/etc` would hand it `/etc`).
    pub fn new(text: &str) -> Result<Self, String> {
        let leaves = text.starts_with(['/', '\\'])
            || text.split(['/', '\\']).any(|part| part == "..")
            || Path::new(text).is_absolute();
        if leaves {
            return Err(format!(
                "`{text}` leaves the folder it is relative to; a pattern names files under the \
                 hook's folder (no `..`, not absolute): set `root` to watch another folder"
            ));
        }
        let glob = GlobBuilder::new(text)
            .literal_separator(true)
            .build()
            .map_err(|err| format!("`{text}` is not a glob: {}", err.kind()))?;
        Ok(Self {
            text: text.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `relative` (a path relative to the root) matches.
    pub fn matches(&self, relative: &Path) -> bool {
        self.matcher.is_match(relative)
    }
}

/// The ignore rules of one root.
#[derive(Debug)]
pub struct Ignores {
    names: GlobSet,
    custom: Option<Gitignore>,
}

impl Default for Ignores {
    fn default() -> Self {
        let mut names = GlobSetBuilder::new();
        for pattern in DEFAULT_IGNORES {
            // The defaults are constant globs; a test below builds every one.
            if let Ok(glob) = Glob::new(pattern) {
                names.add(glob);
            }
        }
        Self {
            names: names.build().unwrap_or_else(|_| GlobSet::empty()),
            custom: None,
        }
    }
}

impl Ignores {
    /// The defaults plus the rules of a `.cutoverignore` whose text is `text` (`None`:
    /// there is none). Lines that are not valid patterns are returned as warnings and
    /// skipped, the way git skips them.
    pub fn with_rules(text: Option<&str>) -> (Self, Vec<String>) {
        let mut ignores = Self::default();
        let Some(text) = text else {
            return (ignores, Vec::new());
        };
        let mut warnings = Vec::new();
        let mut builder = GitignoreBuilder::new("");
        for (index, line) in text.lines().enumerate() {
            if let Err(err) = builder.add_line(None, line) {
                warnings.push(format!("{IGNORE_FILE}:{}: {err}", index + 1));
            }
        }
        match builder.build() {
            Ok(rules) => ignores.custom = Some(rules),
            Err(err) => warnings.push(format!("{IGNORE_FILE}: {err}")),
        }
        (ignores, warnings)
    }

    /// Whether the file at `relative` (relative to the root) is ignored.
    pub fn is_ignored(&self, relative: &Path) -> bool {
        if is_hidden(relative) {
            return true;
        }
        if relative
            .file_name()
            .is_some_and(|name| self.names.is_match(name))
        {
            return true;
        }
        self.custom.as_ref().is_some_and(|rules| {
            relative.is_relative()
                && rules
                    .matched_path_or_any_parents(relative, false)
                    .is_ignore()
        })
    }
}

/// Whether any part of `relative` is a dot-file or dot-folder.
pub fn is_hidden(relative: &Path) -> bool {
    relative.components().any(|c| match c {
        Component::Normal(name) => name.to_string_lossy().starts_with('.'),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_ignore_is_a_glob() {
        for pattern in DEFAULT_IGNORES {
            Glob::new(pattern).unwrap();
        }
    }

    #[test]
    fn defaults_and_cutoverignore_decide_what_is_ignored() {
        let (ignores, warnings) =
            Ignores::with_rules(Some("# scratch space\nscratch/\n*.log\n!keep.log\n"));
        assert!(warnings.is_empty(), "{warnings:?}");
        #[track_caller]
        fn case(ignores: &Ignores, path: &str, ignored: bool) {
            assert_eq!(ignores.is_ignored(Path::new(path)), ignored, "{path}");
        }
        for path in [
            "incoming/.app.ovf.swp",
            "incoming/app.ovf.swp",
            "incoming/4913",
            "incoming/#app.ovf#",
            "incoming/app.ovf~",
            "incoming/disk1.vmdk.part",
            "incoming/disk1.vmdk.tmp",
            ".hidden",
            ".cutover/watch.db",
            "incoming/.git/config",
            "scratch/app.ovf",
            "incoming/x.log",
        ] {
            case(&ignores, path, true);
        }
        for path in [
            "incoming/app.ovf",
            "incoming/disk1.vmdk",
            "plans/wave2.plan",
            "keep.log",
        ] {
            case(&ignores, path, false);
        }
    }

    #[test]
    fn patterns_are_relative_and_stars_stay_in_one_folder() {
        #[track_caller]
        fn case(pattern: &str, path: &str, matches: bool) {
            let p = Pattern::new(pattern).unwrap();
            assert_eq!(p.matches(Path::new(path)), matches, "{pattern} ~ {path}");
        }
        case("incoming/*.ovf", "incoming/app.ovf", true);
        case("incoming/*.ovf", "incoming/sub/app.ovf", false);
        case("incoming/**/*.ovf", "incoming/sub/app.ovf", true);
        case("*.{ovf,vmdk}", "disk.vmdk", true);
        case("plans/*.plan", "plans/wave2.plan.result.json", false);
        for escape in ["../../../../etc/*", "in/../../x", "/etc/*", "**/../*"] {
            let err = Pattern::new(escape).unwrap_err();
            assert_eq!(
                err,
                format!(
                    "`{escape}` leaves the folder it is relative to; a pattern names files under \
                     the hook's folder (no `..`, not absolute): set `root` to watch another folder"
                )
            );
        }
        assert!(Pattern::new("in/..x/*.ovf").is_ok());
        let err = Pattern::new("incoming/[.ovf").unwrap_err();
        assert!(err.starts_with("`incoming/[.ovf` is not a glob: "), "{err}");
    }
}
