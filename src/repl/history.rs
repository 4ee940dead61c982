//! The REPL's history file and what stays out of it: an entry that looks like it holds a
//! secret (a word such as `password`, `secret`, `token` or `key`, together with an
//! assignment, a map field or a string) is never recorded, nor is an entry typed with a
//! leading space, as in shells.

use std::path::{Path, PathBuf};

/// Words that mark an entry as possibly holding a secret.
const SECRET_WORDS: &[&str] = &["password", "passwd", "secret", "token", "key", "credential"];

/// `cutover/history` in the user's data folder (`$XDG_DATA_HOME`, `~/.local/share`, …).
pub(super) fn default_path() -> Option<PathBuf> {
    dirs::data_dir().map(|dir| dir.join("cutover").join("history"))
}

/// Creates the folder of the history file, so the first entry can be written.
pub(super) fn prepare(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}

/// Whether `entry` may hold a secret and must stay out of the history.
pub(super) fn looks_secret(entry: &str) -> bool {
    let lower = entry.to_lowercase();
    let named = SECRET_WORDS.iter().any(|word| lower.contains(word));
    named && (has_assignment(&lower) || lower.contains(['"', '`', '\'', ':']))
}

/// An `=` that assigns (`=`, `+=`, …), not one that compares (`==`, `!=`, `<=`, `>=`)
/// or an arrow (`=>`).
fn has_assignment(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 1).copied();
        b == b'='
            && !matches!(before, Some(b'=' | b'!' | b'<' | b'>'))
            && !matches!(after, Some(b'=' | b'>'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_that_may_hold_secrets_are_recognised() {
        #[track_caller]
        fn case(entry: &str, secret: bool) {
            assert_eq!(looks_secret(entry), secret, "{entry:?}");
        }
        case("let password = \"hunter2\";", true);
        case("let pw = \"x\"; // password", true);
        case("login(#{ user: \"a\", Password: \"b\" })", true);
        case("let t = env(\"CUTOVER_TOKEN\");", true);
        case("secret_key += \"abc\"", true);
        case("let api_key = k;", true);
        case("m.keys()", false);
        case("x == token", false);
        case("powerstore(\"lab\").import_session(\"wave1-lun03\")", false);
        case("let s = 1;", false);
    }

    #[test]
    fn the_default_file_is_in_the_data_folder() {
        if let Some(path) = default_path() {
            assert!(path.ends_with("cutover/history"), "{}", path.display());
        }
    }
}
