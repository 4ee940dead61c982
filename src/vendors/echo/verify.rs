//! Whether an echo mutation took effect, read with the client's own reads: a start is
//! looked up by its client token (and, found, is what a replayed answer is rebuilt
//! from), a cancel by the job's state.

use crate::http::mutation::{Check, Verdict, VerdictFuture, Verification, Verify};
use crate::vendors::echo::client::{EchoClient, MUTATIONS};
use crate::vendors::verdict::{self, or_answer};

impl Verify for EchoClient {
    fn verify<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a> {
        Box::pin(async move {
            or_answer!(verdict::reading_needed(verification.check));
            let object = &verification.object;
            match verification.check {
                Check::ClientToken => {
                    let Some(token) = verification.detail.as_deref() else {
                        return Ok(verdict::unnamed(object, "client token"));
                    };
                    Ok(match self.job_by_token(token).await? {
                        Some(job) => Verdict::Applied(format!(
                            "echo job `{}` has client token `{token}`",
                            job.id
                        )),
                        None => {
                            Verdict::NotApplied(format!("no echo job with client token `{token}`"))
                        }
                    })
                }
                Check::States(applied) => {
                    let Some(id) = object.id.as_deref() else {
                        return Ok(verdict::unnamed(object, "id"));
                    };
                    Ok(match verdict::found(self.job(id).await)? {
                        Ok(job) => verdict::by_state(applied, job.state.as_str(), None),
                        Err(verdict) => verdict,
                    })
                }
                check => Ok(verdict::undeclared(&MUTATIONS, check)),
            }
        })
    }
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
