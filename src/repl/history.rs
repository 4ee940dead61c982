//! The REPL's history file and what stays out of it: an entry that holds the value of a
//! secret of a loaded target (a password, a secret key), or that looks like it holds a
//! secret (a word such as `password`, `secret`, `token` or `key`, together with an
//! assignment, a map field or a string) is never recorded, nor is an entry typed with a
//! leading space, as in shells.

use std::path::{Path, PathBuf};

use crate::config::Targets;

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

/// Whether `entry` holds the value of the password or secret key of any of `targets`.
/// Each secret is read through the target's accessor and compared where it is, so no
/// copy of it outlives the comparison; a secret that cannot be read cannot have been
/// typed from the runtime's knowledge either, and an empty one matches nothing.
pub(super) fn holds_known_secret(entry: &str, targets: &Targets) -> bool {
    targets.iter().any(|target| {
        target
            .password()
            .is_ok_and(|secret| !secret.expose().is_empty() && entry.contains(secret.expose()))
    })
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
        for secret in [
            "let password = \"hunter2\";",
            "let pw = \"x\"; // password",
            "login(#{ user: \"a\", Password: \"b\" })",
            "let t = env(\"CUTOVER_TOKEN\");",
            "secret_key += \"abc\"",
            "let api_key = k;",
        ] {
            assert!(looks_secret(secret), "{secret:?}");
        }
        for plain in [
            "m.keys()",
            "x == token",
            "powerstore(\"lab\").import_session(\"wave1-lun03\")",
            "let s = 1;",
        ] {
            assert!(!looks_secret(plain), "{plain:?}");
        }
    }

    #[test]
    #[allow(
        clippy::disallowed_methods,
        reason = "the test writes its targets' secret files"
    )]
    fn entries_holding_a_known_secret_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("sms.sk");
        std::fs::write(&key_file, "sk-9Qz-Secret-Key\n").unwrap();
        let pw_file = dir.path().join("array1.pw");
        std::fs::write(&pw_file, "pw-S3cr3t-7f2a\n").unwrap();
        let text = format!(
            "[targets.array1]\nkind = \"powerstore\"\nurl = \"https://array1.example.com\"\n\
             user = \"admin\"\npassword_file = \"{}\"\n\n\
             [targets.eu-sms-aksk]\nkind = \"huawei_sms\"\nurl = \"https://sms.example.com\"\n\
             project_id = \"0215ef11e49d4743be23dd97a1561abc\"\n\
             access_key = \"HPUAXXXXXXXXXXXXXXXX\"\nsecret_key_file = \"{}\"\n\n\
             [targets.unset]\nkind = \"vcd\"\nurl = \"https://vcd.example.com\"\n\
             user = \"admin\"\npassword_env = \"CUTOVER_TEST_HISTORY_UNSET\"\n",
            pw_file.display(),
            key_file.display()
        );
        let targets =
            Targets::parse(&text, Path::new("cutover.toml"), &crate::vendors::kinds()).unwrap();
        for secret in [
            "let pw = \"pw-S3cr3t-7f2a\";",
            "print(`x${\"pw-S3cr3t-7f2a\"}x`)",
            "sign(\"sk-9Qz-Secret-Key\")",
        ] {
            assert!(holds_known_secret(secret, &targets), "{secret:?}");
        }
        for plain in [
            "let pw = \"pw-S3cr3t\";",
            "powerstore(\"array1\").import_sessions()",
            "",
        ] {
            assert!(!holds_known_secret(plain, &targets), "{plain:?}");
        }
    }

    #[test]
    fn the_default_file_is_in_the_data_folder() {
        if let Some(path) = default_path() {
            assert!(path.ends_with("cutover/history"), "{}", path.display());
        }
    }
}
