//! Whether a Cloud Director mutation took effect: a task's cancel is read from the
//! task's status with the client's own task read; migrating and resolving are safe to
//! send again (vendor-apis.md §2.9), so they tell nothing and need no read. A migration
//! is never answered applied: its caller needs the task `Location` only the real answer
//! carries.

use crate::http::mutation::{VerdictFuture, Verification, Verify};
use crate::vendors::vcd::client::{MUTATIONS, VcdClient};
use crate::vendors::verdict::{self, or_answer};

impl Verify for VcdClient {
    fn verify<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a> {
        Box::pin(async move {
            let applied = or_answer!(verdict::states_to_read(&MUTATIONS, verification.check));
            let object = &verification.object;
            let Some(id) = object.id.as_deref() else {
                return Ok(verdict::unnamed(object, "id"));
            };
            let url = self.task_url(id);
            Ok(match verdict::found(self.task(&url).await)? {
                Ok(task) => verdict::by_state(applied, &task.status, None),
                Err(verdict) => verdict,
            })
        })
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
