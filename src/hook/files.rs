//! Where `cutover watch` touches files (a gate `clippy.toml` points at): looking at a
//! file, hashing it, listing a folder, and the reads and writes of its script functions
//! once the script file gate has checked their paths.

#![allow(
    clippy::disallowed_methods,
    reason = "this module is the gate for file access by the watcher and hook scripts"
)]

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::hook::event::Stat;

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

/// `path` made absolute, with links resolved when it exists, so it compares with the
/// canonical paths of file events.
pub fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
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
/// disk image is hashed without holding it in memory; `stop` is checked before each
/// piece, so a stop does not wait for the end of a large file.
pub fn hash(path: &Path, stop: &AtomicBool) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "stopping"));
        }
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

/// The text of a file (already let through the script file gate).
pub fn read_text(path: &Path) -> io::Result<String> {
    std::fs::read_to_string(path)
}

/// Writes a file (already let through the script file gate): into a new dot-file beside
/// it (hidden from the watcher), then renamed over it, so nobody sees it half-written.
/// The dot-file is created fresh (never opened through a link someone planted in the
/// folder, which could point outside the gate) and removed if the write fails.
pub fn write_text(path: &Path, text: &str) -> io::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let folder = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let temp = folder.join(format!(
        ".{}.{}-{}.tmp",
        name.unwrap_or_default(),
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A new temporary folder, and its path with every link resolved (as watching
    /// reports paths); the folder is removed when the first is dropped.
    pub(crate) fn temp_root() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn writes_land_whole_and_hashes_follow_content() {
        let (_dir, root) = temp_root();
        write_text(&root.join("a.txt"), "hello").unwrap();
        assert_eq!(read_text(&root.join("a.txt")).unwrap(), "hello");
        assert_eq!(
            std::fs::read_dir(&root).unwrap().count(),
            1,
            "no temporary file left"
        );
        let go = AtomicBool::new(false);
        let first = hash(&root.join("a.txt"), &go).unwrap();
        write_text(&root.join("a.txt"), "hullo").unwrap();
        assert_ne!(hash(&root.join("a.txt"), &go).unwrap(), first);
        let stopped = hash(&root.join("a.txt"), &AtomicBool::new(true)).unwrap_err();
        assert_eq!(stopped.kind(), io::ErrorKind::Interrupted);
        assert!(first.starts_with("blake3:"));
        assert_eq!(stat(&root.join("a.txt")).unwrap().size, 5);
        assert_eq!(stat(&root), None);
        assert_eq!(walk(&root), [root.join("a.txt")]);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_link_beside_the_file_is_never_written_through() {
        let (_dir, root) = temp_root();
        let (inside, outside) = (root.join("drop"), root.join("outside.txt"));
        std::fs::create_dir(&inside).unwrap();
        std::fs::write(&outside, "keep").unwrap();
        for planted in ["a.txt.tmp", ".a.txt.tmp"] {
            std::os::unix::fs::symlink(&outside, inside.join(planted)).unwrap();
        }
        write_text(&inside.join("a.txt"), "new").unwrap();
        assert_eq!(read_text(&outside).unwrap(), "keep");
        assert_eq!(read_text(&inside.join("a.txt")).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(inside.join("a.txt"))
                .unwrap()
                .is_file()
        );
        // A link planted at the file's own name is replaced, not followed.
        std::fs::remove_file(inside.join("a.txt")).unwrap();
        std::os::unix::fs::symlink(&outside, inside.join("a.txt")).unwrap();
        write_text(&inside.join("a.txt"), "newer").unwrap();
        assert_eq!(read_text(&outside).unwrap(), "keep");
        assert_eq!(read_text(&inside.join("a.txt")).unwrap(), "newer");
    }
}
