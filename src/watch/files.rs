//! The one module through which `cutover watch` and its hook scripts touch files (the
//! gate `clippy.toml` points at): looking at a file, hashing it, listing a folder, and
//! the scripts' own reads and writes, which must stay inside the folders being watched.

#![allow(
    clippy::disallowed_methods,
    reason = "this module is the gate for file access by the watcher and hook scripts"
)]

use std::io::{self, Read as _, Write as _};
use std::path::{Component, Path, PathBuf};

use crate::watch::event::Stat;

/// Size and modification time of the regular file at `path`; `None` when there is no
/// such file (gone, a folder, unreadable).
pub fn stat(path: &Path) -> Option<Stat> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    Some(Stat {
        size: meta.len(),
        modified: meta.modified().ok()?,
    })
}

/// Whether `path` is a folder.
pub fn is_dir(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

/// The text of the file at `path`, `None` if there is none.
pub fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// The BLAKE3 hash of the file's content, as `blake3:<hex>`. Read in 1 MiB pieces, so a
/// disk image is hashed without holding it in memory.
pub fn hash(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(format!("blake3:{}", hasher.finalize().to_hex()))
}

/// Every regular file below `root`, skipping dot-folders; sorted, so `--initial` hands
/// files over in a stable order.
pub fn walk(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            match entry.file_type() {
                Ok(kind) if kind.is_dir() && !hidden => folders.push(path),
                Ok(kind) if kind.is_file() => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    files
}

/// The `*.rhai` files directly in `folder` (but no dot-files), sorted.
pub fn hook_files(folder: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)?
        .flatten()
        .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rhai") && path.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Creates `folder` and its parents.
pub fn create_dir_all(folder: &Path) -> io::Result<()> {
    std::fs::create_dir_all(folder)
}

/// The folders a hook script may read and write in, and the checks on each path.
#[derive(Clone, Debug, Default)]
pub struct Gate {
    roots: Vec<PathBuf>,
}

impl Gate {
    /// A gate open on `roots` (absolute, canonical folders).
    pub fn new(roots: Vec<PathBuf>) -> Self {
        Self { roots }
    }

    /// `path` (relative paths start at the first root) made absolute, if it lies within a
    /// root; otherwise an error naming the path and the operation that was refused.
    pub fn check(&self, path: &str, operation: &str) -> Result<PathBuf, String> {
        let Some(first) = self.roots.first() else {
            return Err(format!(
                "`{path}`: {operation} works only in hook handlers run by `cutover watch`"
            ));
        };
        let joined = first.join(path);
        let resolved = normalize(&joined).and_then(|p| resolve_links(&p));
        match resolved {
            Some(resolved) if self.roots.iter().any(|root| resolved.starts_with(root)) => {
                Ok(resolved)
            }
            _ => Err(format!(
                "refusing `{path}`: it is outside the watched folders ({}); hooks read and write \
                 files only there ({operation})",
                self.roots
                    .iter()
                    .map(|r| format!("`{}`", r.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// Reads a text file the gate allows.
    pub fn read_text(&self, path: &str, operation: &str) -> Result<String, String> {
        let checked = self.check(path, operation)?;
        std::fs::read_to_string(&checked)
            .map_err(|err| format!("cannot read `{}`: {err}", checked.display()))
    }

    /// Writes a text file the gate allows: into a `.tmp` beside it (ignored by the
    /// watcher), then renamed over it, so no handler ever sees it half-written.
    pub fn write_text(&self, path: &str, text: &str, operation: &str) -> Result<(), String> {
        let checked = self.check(path, operation)?;
        let fail = |err: io::Error| format!("cannot write `{}`: {err}", checked.display());
        let mut temp = checked.clone().into_os_string();
        temp.push(".tmp");
        let temp = PathBuf::from(temp);
        let mut file = std::fs::File::create(&temp).map_err(fail)?;
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)?;
        std::fs::rename(&temp, &checked).map_err(fail)
    }

    /// Looks at a file the gate allows.
    pub fn stat(&self, path: &str, operation: &str) -> Result<(PathBuf, Option<Stat>), String> {
        let checked = self.check(path, operation)?;
        let stat = stat(&checked);
        Ok((checked, stat))
    }
}

/// `path` without `.` and `..` parts; `None` if `..` climbs above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// `path` with symbolic links resolved in the part of it that exists, so a link inside a
/// root cannot lead outside it.
fn resolve_links(path: &Path) -> Option<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return Some(out);
        }
        rest.push(existing.file_name()?.to_owned());
        existing = existing.parent()?.to_path_buf();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_allows_only_paths_inside_the_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("plans")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
        let gate = Gate::new(vec![root.clone()]);
        #[track_caller]
        fn case(gate: &Gate, path: &str, allowed: bool) {
            let result = gate.check(path, "read_text");
            assert_eq!(result.is_ok(), allowed, "{path}: {result:?}");
        }
        let inside = root.join("plans/a.plan");
        case(&gate, "plans/a.plan", true);
        case(&gate, "plans/new/b.plan", true);
        case(&gate, inside.to_str().unwrap(), true);
        case(&gate, "plans/../plans/a.plan", true);
        case(&gate, "../outside", false);
        case(&gate, "/etc/passwd", false);
        #[cfg(unix)]
        case(&gate, "escape/passwd", false);
        let err = gate.check("/etc/passwd", "read_text").unwrap_err();
        assert!(err.starts_with("refusing `/etc/passwd`: it is outside the watched folders"));
        let closed = Gate::default().check("a", "read_text").unwrap_err();
        assert!(closed.contains("only in hook handlers"), "{closed}");
    }

    #[test]
    fn writes_land_whole_and_hashes_follow_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let gate = Gate::new(vec![root.clone()]);
        gate.write_text("a.txt", "hello", "write_text").unwrap();
        assert_eq!(gate.read_text("a.txt", "read_text").unwrap(), "hello");
        assert!(!root.join("a.txt.tmp").exists());
        let first = hash(&root.join("a.txt")).unwrap();
        gate.write_text("a.txt", "hullo", "write_text").unwrap();
        assert_ne!(hash(&root.join("a.txt")).unwrap(), first);
        assert!(first.starts_with("blake3:"));
        assert_eq!(stat(&root.join("a.txt")).unwrap().size, 5);
        assert_eq!(stat(&root), None);
        assert_eq!(walk(&root), [root.join("a.txt")]);
    }
}
