//! Whether a vCenter mutation took effect, read with the client's own reads: the
//! history import's status (vendor-apis.md §1.5), an OVF import session's state, a
//! file's bytes transferred, or the session gone (§3.4). A `BLOCKED` or `FAILED` import
//! whose result carries an import error may have stopped on its own rather than by the
//! call, so it tells nothing. A create is not answered applied: its caller needs the session id
//! only the real answer carries, and the same client token answers it again safely.

use crate::http::mutation::{Check, Verdict, VerdictFuture, Verification, Verify};
use crate::vendors::vcenter::client::{HISTORY, MUTATIONS, OVF_SESSION, VcenterClient};
use crate::vendors::vcenter::ovf_wire::{ImportInfo, ImportState};
use crate::vendors::vcenter::wire::{HistoryInfo, HistoryStatus};
use crate::vendors::verdict::{self, or_answer};

impl Verify for VcenterClient {
    fn verify<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a> {
        Box::pin(async move {
            or_answer!(verdict::reading_needed(verification.check));
            let object = &verification.object;
            match (object.kind, verification.check) {
                (HISTORY, Check::States(applied)) => {
                    let info = self.history().await?;
                    let operation = verdict::operation_of(&MUTATIONS, verification);
                    let why = history_undecided(operation.map(|op| op.name), &info);
                    Ok(verdict::by_state(applied, info.status.as_str(), why))
                }
                (OVF_SESSION, Check::ClientToken) => Ok(verdict::resend_with_token(verification)),
                (OVF_SESSION, check) => {
                    let Some(id) = object.id.as_deref() else {
                        return Ok(verdict::unnamed(object, "id"));
                    };
                    let read = self.ovf_session(id).await;
                    if check == Check::Gone {
                        return verdict::gone(read, |info| {
                            format!("state `{}`", info.state.as_str())
                        });
                    }
                    let info = or_answer!(verdict::found(read)?);
                    Ok(session_verdict(check, verification, &info))
                }
                (_, check) => Ok(verdict::undeclared(&MUTATIONS, check)),
            }
        })
    }
}

/// A read session against the check of an operation on it.
fn session_verdict(check: Check, verification: &Verification, info: &ImportInfo) -> Verdict {
    match check {
        Check::States(applied) => {
            let why = (info.state == ImportState::ImportError)
                .then_some("an import that fails before or after instantiating ends there");
            verdict::by_state(applied, info.state.as_str(), why)
        }
        Check::Uploaded => {
            let Some(name) = verification.detail.as_deref() else {
                return verdict::unnamed(&verification.object, "file");
            };
            let Some(file) = info.files.iter().find(|f| f.name == name) else {
                return Verdict::CannotTell(format!("the session lists no file `{name}`"));
            };
            let shown = format!(
                "file `{name}` shows {} of {} bytes",
                file.bytes_transferred, file.size
            );
            if file.bytes_transferred >= file.size {
                Verdict::Applied(shown)
            } else {
                Verdict::NotApplied(shown)
            }
        }
        check => verdict::undeclared(&MUTATIONS, check),
    }
}

/// Why the history import's status tells nothing about `operation`: an import error
/// stops it in `BLOCKED` (or fails it) with or without the call.
fn history_undecided(operation: Option<&str>, info: &HistoryInfo) -> Option<&'static str> {
    // `error` is set on every FAILED import, canceled ones too; only `result` tells an
    // import error apart.
    let errored = info.result.as_ref().is_some_and(|r| !r.errors.is_empty());
    match (operation?, info.status) {
        ("history.pause", HistoryStatus::Blocked) if errored => {
            Some("an import error stops it there too")
        }
        ("history.resume", HistoryStatus::Blocked) if errored => {
            Some("an import error stops it there before and after resuming")
        }
        ("history.resume", HistoryStatus::Failed) => {
            Some("a cancel ends it there whether or not it was resumed first")
        }
        ("history.cancel", HistoryStatus::Failed) if errored => {
            Some("an import error fails it there too")
        }
        _ => None,
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
