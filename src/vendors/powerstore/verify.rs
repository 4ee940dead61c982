//! Whether a PowerStore mutation took effect, read from its import session with the
//! client's own read: the session's state against the states the operation leads to.
//! A state the session is in both before the operation and after it ran and moved on
//! tells nothing (`CannotTell`), so the change is never sent a second time on a guess.

use crate::http::mutation::{VerdictFuture, Verification, Verify};
use crate::vendors::powerstore::client::{MUTATIONS, PowerStoreClient};
use crate::vendors::powerstore::wire::ImportState;
use crate::vendors::verdict::{self, or_answer};

impl Verify for PowerStoreClient {
    fn verify<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a> {
        Box::pin(async move {
            let applied = or_answer!(verdict::states_to_read(&MUTATIONS, verification.check));
            let object = &verification.object;
            let Some(key) = object.id.as_deref().or(object.name.as_deref()) else {
                return Ok(verdict::unnamed(object, "id or name"));
            };
            let session = or_answer!(verdict::found(self.import_session(key).await)?);
            let Some(state) = session.state else {
                return Ok(crate::http::mutation::Verdict::CannotTell(
                    "the import session shows no state".to_owned(),
                ));
            };
            let operation = verdict::operation_of(&MUTATIONS, verification).map(|op| op.name);
            Ok(verdict::by_state(
                applied,
                state.as_str(),
                undecided(operation, state),
            ))
        })
    }
}

/// Why `state` tells nothing about `operation` (vendor-apis.md §4.5).
fn undecided(operation: Option<&str>, state: ImportState) -> Option<&'static str> {
    use ImportState::*;
    match (operation?, state) {
        ("cutover", Import_Completed_With_Errors) => {
            Some("the cutover ran and completed with errors; look at the session's errors")
        }
        ("cutover", Import_Cutover_Incomplete) => {
            Some("a cutover that did not complete ends there, and a retried one starts there")
        }
        ("cutover", Failed) => Some("a cutover that failed ends there too"),
        ("resume", Failed) => Some("a copy that failed after it resumed ends there too"),
        _ => None,
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
