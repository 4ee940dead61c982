//! What a run was started from: the playbook and every file it imports, each with the
//! hash of its content, so a resume can refuse a playbook that changed meanwhile and
//! say which file did.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One file of a run and the BLAKE3 hash of its content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub path: String,
    pub hash: String,
}

impl FileHash {
    /// `path` with `content`'s hash; `./` steps are left out, so `./wave.rhai` and
    /// `wave.rhai` are one file.
    pub fn of(path: &Path, content: &[u8]) -> Self {
        let path: std::path::PathBuf = path
            .components()
            .filter(|part| *part != std::path::Component::CurDir)
            .collect();
        Self {
            path: path.display().to_string(),
            hash: format!("blake3:{}", blake3::hash(content).to_hex()),
        }
    }
}

/// What changed between the files a run began with and the files now: one line per
/// changed, added or missing file, empty when nothing did.
pub fn changes(then: &[FileHash], now: &[FileHash]) -> Vec<String> {
    let mut lines = Vec::new();
    for before in then {
        match now.iter().find(|f| f.path == before.path) {
            Some(after) if after.hash != before.hash => {
                lines.push(format!("`{}` changed since the run began", before.path));
            }
            Some(_) => {}
            None => lines.push(format!(
                "`{}` is no longer part of the playbook",
                before.path
            )),
        }
    }
    for after in now {
        if !then.iter().any(|f| f.path == after.path) {
            lines.push(format!(
                "`{}` is imported now but was not when the run began",
                after.path
            ));
        }
    }
    lines
}
