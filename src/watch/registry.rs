//! The hook scripts being watched and the handlers they registered: which paths are hook
//! files (so an edit reloads them), and each handler with its resolved root and name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::file_gate::Protected;
use crate::hook::files;
use crate::hook::filter::is_hidden;
use crate::hook::script::Callback;
use crate::hook::spec::HandlerSpec;
use crate::watch::error::WatchError;
use crate::watch::program::{HookProgram, LoadedHook};

/// A registered handler, ready to run.
pub struct Handler {
    /// Its name in messages and in the state file.
    pub name: String,
    /// What it asked for.
    pub spec: HandlerSpec,
    /// The folder its pattern is relative to (absolute, canonical).
    pub root: PathBuf,
    /// The hook script it came from.
    pub program: Arc<HookProgram>,
    /// The closure to call.
    pub callback: Callback,
    /// The folder its hook script is in, where its relative paths start.
    pub folder: PathBuf,
}

/// A path given on the command line: canonical, for matching events, and as given,
/// for messages.
#[derive(Clone, Debug)]
enum HookPath {
    File(PathBuf, PathBuf),
    Folder(PathBuf, PathBuf),
}

impl HookPath {
    /// The folder holding the hook files: the folder given, or the given file's folder.
    fn folder(&self) -> Option<PathBuf> {
        match self {
            Self::Folder(folder, _) => Some(folder.clone()),
            Self::File(file, _) => file.parent().map(Path::to_path_buf),
        }
    }
}

/// The hook scripts and their handlers.
#[derive(Default)]
pub struct Registry {
    given: Vec<HookPath>,
    hooks: BTreeMap<PathBuf, Vec<Arc<Handler>>>,
}

impl Registry {
    /// A registry for the hook paths given (made absolute and canonical).
    pub fn new(paths: &[PathBuf]) -> Result<Self, WatchError> {
        let mut given = Vec::new();
        for shown in paths {
            let path = shown.canonicalize().map_err(|err| WatchError::Hooks {
                path: shown.clone(),
                err,
            })?;
            given.push(if files::is_dir(&path) {
                HookPath::Folder(path, shown.clone())
            } else {
                HookPath::File(path, shown.clone())
            });
        }
        Ok(Self {
            given,
            hooks: BTreeMap::new(),
        })
    }

    /// Every hook file there is now: the files given, and the `*.rhai` in the folders.
    pub fn hook_files(&self) -> std::io::Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        for given in &self.given {
            match given {
                HookPath::File(file, _) => out.push(file.clone()),
                HookPath::Folder(folder, _) => out.extend(files::hook_files(folder)?),
            }
        }
        out.dedup();
        Ok(out)
    }

    /// The folders holding hook files, watched for edits.
    pub fn hook_folders(&self) -> BTreeSet<PathBuf> {
        self.given.iter().filter_map(HookPath::folder).collect()
    }

    /// The folder of the first hook path given, where the state file goes by default.
    pub fn first_folder(&self) -> Option<PathBuf> {
        self.given.first().and_then(HookPath::folder)
    }

    /// The hook files handlers must not write: the files given, and any `*.rhai` in the
    /// folders given (a new one would load as a hook).
    pub fn protected(&self) -> Vec<Protected> {
        self.given
            .iter()
            .map(|given| match given {
                HookPath::File(file, _) => Protected::File(file.clone()),
                HookPath::Folder(folder, _) => Protected::Extension(folder.clone(), "rhai".into()),
            })
            .collect()
    }

    /// A hook file's path the way the operator gave it, for messages.
    pub fn shown(&self, hook: &Path) -> PathBuf {
        for given in &self.given {
            match given {
                HookPath::File(file, shown) if file == hook => return shown.clone(),
                HookPath::Folder(folder, shown) if hook.parent() == Some(folder.as_path()) => {
                    if let Some(name) = hook.file_name() {
                        // `cutover watch .` shows `hooks.rhai`, not `./hooks.rhai`.
                        let shown = shown.strip_prefix(".").unwrap_or(shown);
                        return shown.join(name);
                    }
                }
                _ => {}
            }
        }
        hook.to_path_buf()
    }

    /// Whether `path` is (or would be, once created) a hook file.
    pub fn is_hook_file(&self, path: &Path) -> bool {
        self.given.iter().any(|given| match given {
            HookPath::File(file, _) => file == path,
            HookPath::Folder(folder, _) => {
                path.parent() == Some(folder.as_path())
                    && path.extension().is_some_and(|ext| ext == "rhai")
                    && path
                        .file_name()
                        .is_some_and(|name| !is_hidden(Path::new(name)))
            }
        })
    }

    /// Every handler, in hook order.
    pub fn handlers(&self) -> impl Iterator<Item = &Arc<Handler>> {
        self.hooks.values().flatten()
    }

    /// The handler called `name`.
    pub fn handler(&self, name: &str) -> Option<&Arc<Handler>> {
        self.handlers().find(|h| h.name == name)
    }

    /// The folders handlers watch.
    pub fn roots(&self) -> BTreeSet<PathBuf> {
        self.handlers().map(|h| h.root.clone()).collect()
    }

    /// Installs what `hook` registered, replacing its previous handlers. On an error
    /// (a root that is no folder, a name used twice) nothing changes.
    pub fn install(&mut self, hook: &Path, loaded: LoadedHook) -> Result<&[Arc<Handler>], String> {
        let folder = hook.parent().unwrap_or(Path::new("/")).to_path_buf();
        let file_name = hook
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut names = BTreeSet::new();
        let mut handlers = Vec::new();
        for (spec, callback) in loaded.handlers {
            let root = resolve_root(&folder, spec.root.as_deref())
                .map_err(|err| format!("{file_name}:{}: on_file: {err}", spec.line))?;
            let name = unique_name(&mut names, &file_name, &spec);
            if let Some(other) = self.handler_elsewhere(&name, hook) {
                return Err(format!(
                    "{file_name}:{}: on_file: the handler name `{name}` is taken by {}; give it another `name`",
                    spec.line,
                    other.program.file().name()
                ));
            }
            handlers.push(Arc::new(Handler {
                name,
                spec,
                root,
                program: Arc::clone(&loaded.program),
                callback,
                folder: folder.clone(),
            }));
        }
        self.hooks.insert(hook.to_path_buf(), handlers);
        Ok(self.hooks.get(hook).map(Vec::as_slice).unwrap_or_default())
    }

    /// The handler called `name` in a hook other than `hook`.
    fn handler_elsewhere(&self, name: &str, hook: &Path) -> Option<&Arc<Handler>> {
        self.hooks
            .iter()
            .filter(|(path, _)| path.as_path() != hook)
            .flat_map(|(_, handlers)| handlers)
            .find(|h| h.name == name)
    }

    /// Forgets the handlers of `hook`; returns whether it had any.
    pub fn remove(&mut self, hook: &Path) -> bool {
        self.hooks.remove(hook).is_some()
    }
}

/// A handler's root: `root` (relative to the hook's folder) or the folder itself.
fn resolve_root(folder: &Path, root: Option<&Path>) -> Result<PathBuf, String> {
    let wanted = root.map_or_else(|| folder.to_path_buf(), |r| folder.join(r));
    match wanted.canonicalize() {
        Ok(path) if files::is_dir(&path) => Ok(path),
        _ => Err(format!(
            "`root` `{}` is not a folder; create it, or name one that exists",
            wanted.display()
        )),
    }
}

/// `name`, or `<hook file>: <pattern>`, made unique within the hook with ` #2`, ` #3`...
fn unique_name(taken: &mut BTreeSet<String>, file_name: &str, spec: &HandlerSpec) -> String {
    let base = spec
        .name
        .clone()
        .unwrap_or_else(|| format!("{file_name}: {}", spec.pattern.as_str()));
    let mut name = base.clone();
    let mut n = 1;
    while !taken.insert(name.clone()) {
        n += 1;
        name = format!("{base} #{n}");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hook::filter::Pattern;

    #[test]
    #[allow(clippy::disallowed_methods, reason = "the test lays out a hook folder")]
    fn hook_files_are_the_files_given_and_the_rhai_files_of_folders() {
        let (_dir, root) = crate::hook::files::tests::temp_root();
        std::fs::create_dir(root.join("hooks")).unwrap();
        for name in [
            "hooks/a.rhai",
            "hooks/b.txt",
            "hooks/.c.rhai",
            "single.rhai",
        ] {
            std::fs::write(root.join(name), "").unwrap();
        }
        let registry = Registry::new(&[root.join("hooks"), root.join("single.rhai")]).unwrap();
        assert_eq!(
            registry.hook_files().unwrap(),
            [root.join("hooks/a.rhai"), root.join("single.rhai")]
        );
        assert!(registry.is_hook_file(&root.join("hooks/new.rhai")));
        assert!(!registry.is_hook_file(&root.join("hooks/.new.rhai.swp")));
        assert!(!registry.is_hook_file(&root.join("hooks/sub/x.rhai")));
        assert!(!registry.is_hook_file(&root.join("other.rhai")));
        assert_eq!(
            registry.hook_folders().into_iter().collect::<Vec<_>>(),
            [root.clone(), root.join("hooks")]
        );
        assert_eq!(registry.first_folder(), Some(root.join("hooks")));
        let relative = Registry {
            given: vec![HookPath::Folder(root.join("hooks"), "hooks".into())],
            hooks: BTreeMap::new(),
        };
        assert_eq!(
            relative.shown(&root.join("hooks/a.rhai")),
            Path::new("hooks/a.rhai")
        );
    }

    #[test]
    fn default_names_are_file_and_pattern_and_stay_unique() {
        let mut taken = BTreeSet::new();
        let spec = HandlerSpec::new(Pattern::new("in/*.ovf").unwrap());
        assert_eq!(unique_name(&mut taken, "a.rhai", &spec), "a.rhai: in/*.ovf");
        assert_eq!(
            unique_name(&mut taken, "a.rhai", &spec),
            "a.rhai: in/*.ovf #2"
        );
        let named = HandlerSpec {
            name: Some("ovf".into()),
            ..spec
        };
        assert_eq!(unique_name(&mut taken, "a.rhai", &named), "ovf");
    }
}
