//! Where `cutover watch` touches files (a gate `clippy.toml` points at): looking at a
//! file, hashing it, listing a folder, and the reads and writes of its script functions
//! once the script file gate has checked their paths.

#![allow(
    clippy::disallowed_methods,
    reason = "this module is the gate for file access by the watcher and hook scripts"
)]

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

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

/// The text of a file (already let through the script file gate).
pub fn read_text(path: &Path) -> io::Result<String> {
    std::fs::read_to_string(path)
}

/// Writes a file (already let through the script file gate): into a `.tmp` beside it
/// (ignored by the watcher), then renamed over it, so nobody sees it half-written.
pub fn write_text(path: &Path, text: &str) -> io::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    let temp = PathBuf::from(temp);
    let mut file = std::fs::File::create(&temp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_land_whole_and_hashes_follow_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write_text(&root.join("a.txt"), "hello").unwrap();
        assert_eq!(read_text(&root.join("a.txt")).unwrap(), "hello");
        assert!(!root.join("a.txt.tmp").exists());
        let first = hash(&root.join("a.txt")).unwrap();
        write_text(&root.join("a.txt"), "hullo").unwrap();
        assert_ne!(hash(&root.join("a.txt")).unwrap(), first);
        assert!(first.starts_with("blake3:"));
        assert_eq!(stat(&root.join("a.txt")).unwrap().size, 5);
        assert_eq!(stat(&root), None);
        assert_eq!(walk(&root), [root.join("a.txt")]);
    }
}
