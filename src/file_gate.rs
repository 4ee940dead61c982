//! The file gate: the one checked way a script function reads a local file (an OVF
//! package pushed to vCenter, say). Relative paths start at the playbook's folder, and
//! only files under that folder or a folder given with `--allow-read` can be read, so a
//! script handed a hostile path cannot upload `/etc/shadow` to a target. Writing is
//! allowed only under folders named writable, which only hook handlers have (the folder
//! `cutover watch` hands them files from).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rhai::{Dynamic, Engine, NativeCallContext};

use crate::api_error::{ApiError, ErrorKind};

/// Where a script may read files from.
#[derive(Clone, Debug)]
pub struct FileGate {
    base: PathBuf,
    roots: Vec<PathBuf>,
    writable: Vec<PathBuf>,
    protected: Vec<Protected>,
    /// Files that hold secrets (resolved), with what each is: never read or written.
    secrets: Vec<(PathBuf, String)>,
}

/// Files no script writes even inside a writable folder: what drives the watcher itself
/// (a handler rewriting its own hook, or the state file, would change what runs next).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protected {
    /// This file, and the files named after it (SQLite's `-wal`, `-shm`, `-journal`).
    File(PathBuf),
    /// Every file directly in the folder whose name ends in `.<extension>`.
    Extension(PathBuf, String),
}

impl Protected {
    /// Whether `resolved` (absolute, links resolved) is protected.
    fn covers(&self, resolved: &Path) -> bool {
        match self {
            Self::File(file) => {
                resolved.parent() == file.parent()
                    && resolved
                        .file_name()
                        .zip(file.file_name())
                        .is_some_and(|(r, f)| {
                            r.to_string_lossy().starts_with(&*f.to_string_lossy())
                        })
            }
            Self::Extension(folder, extension) => {
                resolved.parent() == Some(folder.as_path())
                    && resolved.extension().is_some_and(|e| *e == **extension)
            }
        }
    }
}

/// A regular file the gate let through.
#[derive(Clone, Debug)]
pub struct GatedFile {
    /// The file, with every link resolved.
    pub path: PathBuf,
    /// Its size in bytes when it was checked.
    pub len: u64,
}

impl FileGate {
    /// A gate for a script in `base` that may also read under each of `allowed`.
    pub fn new(base: PathBuf, allowed: &[PathBuf]) -> Self {
        // A playbook named without a folder lives in the working directory.
        let base = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        let mut roots = vec![base.clone()];
        roots.extend(allowed.iter().cloned());
        Self {
            base,
            roots,
            writable: Vec::new(),
            protected: Vec::new(),
            secrets: Vec::new(),
        }
    }

    /// Lets scripts also write files under `folders` (which they may then read too).
    #[must_use]
    pub fn writable(mut self, folders: Vec<PathBuf>) -> Self {
        self.roots.extend(folders.iter().cloned());
        self.writable = folders;
        self
    }

    /// Refuses writes to `files` even inside the writable folders.
    #[must_use]
    pub fn protecting(mut self, files: Vec<Protected>) -> Self {
        self.protected = files;
        self
    }

    /// Refuses every access to `files` (the secrets the target file names, and the
    /// target file), wherever they lie and whatever path leads to them.
    #[must_use]
    pub fn guarding(mut self, files: &[(PathBuf, String)]) -> Self {
        self.secrets = files
            .iter()
            .filter_map(|(file, what)| Some((resolve_links(file)?, what.clone())))
            .collect();
        self
    }

    /// Where `path` leads (every link resolved in the part that exists), if a script may
    /// read there; the file need not exist yet.
    pub fn locate(&self, path: &str, operation: &str) -> Result<PathBuf, ApiError> {
        let resolved = self.resolve(path, operation)?;
        self.refuse_secret(&resolved, operation)?;
        if !inside(&resolved, &self.roots) {
            return Err(refusal(
                operation,
                format!(
                    "refusing to read `{}`: scripts read files only under {}; pass `--allow-read {}` to allow its folder",
                    resolved.display(),
                    describe(&self.roots),
                    resolved.parent().unwrap_or(&resolved).display(),
                ),
            ));
        }
        Ok(resolved)
    }

    /// Where `path` leads, if a script may write there.
    pub fn check_write(&self, path: &str, operation: &str) -> Result<PathBuf, ApiError> {
        let resolved = self.resolve(path, operation)?;
        self.refuse_secret(&resolved, operation)?;
        let refused = |why: String| {
            Err(refusal(
                operation,
                format!("refusing to write `{}`: {why}", resolved.display()),
            ))
        };
        if self.writable.is_empty() {
            return refused(
                "only hook handlers run by `cutover watch` write files, in the folder they watch"
                    .to_owned(),
            );
        }
        if !inside(&resolved, &self.writable) {
            return refused(format!(
                "hook handlers write files only under {}",
                describe(&self.writable)
            ));
        }
        if self.protected.iter().any(|p| p.covers(&resolved)) {
            return refused(
                "hook scripts and the watch state file are not written by handlers".to_owned(),
            );
        }
        Ok(resolved)
    }

    fn refuse_secret(&self, resolved: &Path, operation: &str) -> Result<(), ApiError> {
        match self.secrets.iter().find(|(file, _)| file == resolved) {
            Some((_, what)) => Err(refusal(
                operation,
                format!(
                    "refusing to touch `{}`: it {what}, and scripts never see secrets",
                    resolved.display()
                ),
            )),
            None => Ok(()),
        }
    }

    fn resolve(&self, path: &str, operation: &str) -> Result<PathBuf, ApiError> {
        let joined = self.base.join(path);
        resolve_links(&joined).ok_or_else(|| {
            refusal(
                operation,
                format!("`{}` leads nowhere a file can be", joined.display()),
            )
        })
    }

    /// Lets every engine function reach this gate through its call context.
    pub fn install(self, engine: &mut Engine) {
        engine.set_default_tag(Dynamic::from(Arc::new(self)));
    }

    /// The gate of the engine a function was called from.
    pub fn of(context: &NativeCallContext) -> Result<Arc<Self>, ApiError> {
        context
            .tag()
            .and_then(|tag| tag.clone().try_cast::<Arc<Self>>())
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::Validation,
                    "this engine reads no local files".to_owned(),
                )
            })
    }

    /// Checks that `path` names a regular file this script may read, for `operation`.
    pub fn check(&self, path: &str, operation: &str) -> Result<GatedFile, ApiError> {
        let refuse = |message: String| Err(refusal(operation, message));
        let resolved = self.locate(path, operation)?;
        #[allow(
            clippy::disallowed_methods,
            reason = "the file gate is where scripts' files are inspected"
        )]
        let metadata = match std::fs::metadata(&resolved) {
            Ok(metadata) => metadata,
            Err(err) => return refuse(format!("cannot read `{}`: {err}", resolved.display())),
        };
        if !metadata.is_file() {
            return refuse(format!("`{}` is not a regular file", resolved.display()));
        }
        Ok(GatedFile {
            path: resolved,
            len: metadata.len(),
        })
    }
}

fn refusal(operation: &str, message: String) -> ApiError {
    ApiError {
        operation: Some(operation.to_owned()),
        ..ApiError::new(ErrorKind::Validation, message)
    }
}

/// Whether `resolved` lies under one of `roots`.
fn inside(resolved: &Path, roots: &[PathBuf]) -> bool {
    roots
        .iter()
        .filter_map(|root| root.canonicalize().ok())
        .any(|root| resolved.starts_with(root))
}

fn describe(roots: &[PathBuf]) -> String {
    let roots: Vec<String> = roots
        .iter()
        .map(|r| format!("`{}`", r.canonicalize().as_deref().unwrap_or(r).display()))
        .collect();
    roots.join(", ")
}

/// `path` made absolute, with every link resolved in the part of it that exists and
/// `.`/`..` taken out; `None` if `..` climbs above the file system's root.
fn resolve_links(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in std::path::absolute(path).ok()?.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            other => {
                out.push(other);
                // Resolved as it goes, so a `..` after a link leaves the link's target.
                if let Ok(real) = out.canonicalize() {
                    out = real;
                }
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_under_the_allowed_folders_pass() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("playbooks");
        let extra = dir.path().join("packages");
        let outside = dir.path().join("private");
        for folder in [&base, &extra, &outside] {
            std::fs::create_dir_all(folder.join("sub")).unwrap();
        }
        let touch = |p: PathBuf| std::fs::File::create(p).unwrap();
        touch(base.join("disk.vmdk"));
        touch(base.join("sub/disk.vmdk"));
        touch(extra.join("app.ovf"));
        touch(outside.join("key.pem"));
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.join("key.pem"), base.join("link.pem")).unwrap();
        let gate = FileGate::new(base.clone(), std::slice::from_ref(&extra));
        let extra_file = extra.join("app.ovf").display().to_string();
        let outside_file = outside.join("key.pem").display().to_string();
        let cases: Vec<(&str, bool)> = vec![
            ("disk.vmdk", true),
            ("sub/disk.vmdk", true),
            ("./sub/../disk.vmdk", true),
            (&extra_file, true),
            ("../packages/app.ovf", true),
            (&outside_file, false),
            ("../private/key.pem", false),
            ("sub", false),
            ("missing.vmdk", false),
            ("/etc/passwd", false),
            #[cfg(unix)]
            ("link.pem", false),
        ];
        for (path, allowed) in cases {
            let result = gate.check(path, "ovf.push");
            assert_eq!(result.is_ok(), allowed, "{path}: {result:?}");
            if let Err(err) = result {
                assert_eq!(err.kind, ErrorKind::Validation);
                assert_eq!(err.operation.as_deref(), Some("ovf.push"), "{path}");
            }
        }
    }

    #[test]
    fn a_refusal_names_the_path_and_the_way_to_allow_it() {
        let dir = tempfile::tempdir().unwrap();
        let gate = FileGate::new(dir.path().join("."), &[]);
        let err = gate.check("/etc/passwd", "ovf.push").unwrap_err();
        assert!(
            err.message.contains("refusing to read `/etc/passwd`"),
            "{err}"
        );
        assert!(err.message.contains("--allow-read /etc"), "{err}");
    }

    #[test]
    fn new_files_are_located_and_only_writable_folders_take_writes() {
        let dir = tempfile::tempdir().unwrap();
        let hooks = dir.path().join("hooks");
        let plans = dir.path().join("plans");
        for folder in [&hooks, &plans] {
            std::fs::create_dir_all(folder).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc", plans.join("escape")).unwrap();
        let reads = FileGate::new(hooks.clone(), &[]);
        assert!(
            reads
                .check_write("x", "write_text")
                .unwrap_err()
                .message
                .contains("only hook handlers")
        );
        let gate = FileGate::new(hooks.clone(), &[]).writable(vec![plans.clone()]);
        let plans = plans.canonicalize().unwrap();
        #[track_caller]
        fn case(result: Result<PathBuf, ApiError>, expected: Option<PathBuf>) {
            assert_eq!(result.as_ref().ok(), expected.as_ref(), "{result:?}");
        }
        /// Each `(path, written)`: the file under `plans` writing `path` writes, or
        /// `None` where it is refused.
        #[track_caller]
        fn writes(gate: &FileGate, plans: &Path, rows: &[(&str, Option<&str>)]) {
            for (path, written) in rows {
                case(
                    gate.check_write(path, "write_text"),
                    written.map(|written| plans.join(written)),
                );
            }
        }
        case(
            gate.locate("../plans/new/w.plan", "file_info"),
            Some(plans.join("new/w.plan")),
        );
        case(
            gate.locate("not-yet.rhai", "file_info"),
            Some(hooks.canonicalize().unwrap().join("not-yet.rhai")),
        );
        case(gate.locate("../elsewhere/x", "file_info"), None);
        writes(
            &gate,
            &plans,
            &[
                ("../plans/w.result.json", Some("w.result.json")),
                ("../plans/a/../b.json", Some("b.json")),
                ("hook.rhai", None),
            ],
        );
        #[cfg(unix)]
        writes(&gate, &plans, &[("../plans/escape/passwd", None)]);
        let protected = gate.clone().protecting(vec![
            Protected::File(plans.join("watch.db")),
            Protected::Extension(plans.clone(), "rhai".into()),
        ]);
        for refused in ["watch.db", "watch.db-wal", "h.rhai", "new.rhai"] {
            let err = protected
                .check_write(&format!("../plans/{refused}"), "write_text")
                .unwrap_err();
            assert!(err.message.contains("are not written by handlers"), "{err}");
        }
        writes(
            &protected,
            &plans,
            &[
                ("../plans/sub/h.rhai", Some("sub/h.rhai")),
                ("../plans/w.db", Some("w.db")),
            ],
        );
        let err = gate.check_write("/etc/passwd", "write_text").unwrap_err();
        assert!(
            err.message.starts_with(
                "refusing to write `/etc/passwd`: hook handlers write files only under"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_size_is_read_with_the_check() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::File::create(dir.path().join("disk.vmdk"))
            .unwrap()
            .set_len(1234)
            .unwrap();
        let gate = FileGate::new(dir.path().to_path_buf(), &[]);
        let file = gate.check("disk.vmdk", "ovf.push").unwrap();
        assert_eq!(file.len, 1234);
        assert!(file.path.is_absolute());
    }
}
