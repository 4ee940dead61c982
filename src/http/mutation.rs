//! The mutation gate's vocabulary: each vendor client declares its mutating operations
//! once, in a [`Mutations`] table, each with how to tell afterwards whether it took
//! effect; every mutating call is described as a [`Mutation`] built from that table
//! before it is sent, and goes out through `HttpClient::mutate`, the one place the
//! call record (and later the journal, `--plan` and per-target limits) sees changes.

use std::future::Future;
use std::pin::Pin;

use crate::api_error::{ApiError, ErrorKind};

pub use crate::api_error::{Check, ObjectRef, Verification};

/// One mutating operation as its vendor's table declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation {
    /// The script-facing name errors and the call record show, e.g. `cutover`.
    pub name: &'static str,
    /// What it changes, as an operator says it, e.g. `import session`.
    pub object: &'static str,
    /// How to tell afterwards whether it took effect.
    pub check: Check,
}

impl Operation {
    /// `name` changing `object`, told to have taken effect by `check`; one line a row
    /// keeps the vendors' tables readable at a glance.
    pub const fn new(name: &'static str, object: &'static str, check: Check) -> Self {
        Self {
            name,
            object,
            check,
        }
    }
}

/// A vendor's mutating operations: the only ones its client may send.
#[derive(Clone, Copy, Debug)]
pub struct Mutations {
    /// The vendor's kind name, e.g. `powerstore`.
    pub vendor: &'static str,
    pub operations: &'static [Operation],
    /// Whether a state (the second argument) is one the object of an operation (the
    /// first) can be in, spelt as the vendor spells it: what the tables test checks each
    /// [`Check::States`] against.
    #[cfg_attr(not(test), expect(dead_code, reason = "only the tables test reads it"))]
    pub is_state: fn(&str, &str) -> bool,
}

impl Mutations {
    /// The declared operation `name`.
    pub fn operation(&self, name: &str) -> Option<&'static Operation> {
        self.operations.iter().find(|op| op.name == name)
    }

    /// Describes a call of operation `name` on `target` before it is sent. `id` and
    /// `name` identify the object as far as the client knows; `summary` says what is
    /// asked, without any secret. An operation missing from the table is a defect of
    /// the client, refused before anything is sent.
    pub fn mutation(
        &self,
        target: &str,
        operation: &str,
        object: (Option<&str>, Option<&str>),
        summary: impl Into<String>,
    ) -> Result<Mutation, ApiError> {
        let Some(declared) = self.operation(operation) else {
            return Err(ApiError::new(
                ErrorKind::Validation,
                format!(
                    "internal error: `{operation}` is not in the {} table of mutating operations; nothing was sent",
                    self.vendor
                ),
            )
            .at(target, operation));
        };
        let (id, name) = object;
        Ok(Mutation {
            target: target.to_owned(),
            vendor: self.vendor,
            operation: declared.name,
            summary: summary.into(),
            verification: Verification {
                check: declared.check,
                object: ObjectRef {
                    kind: declared.object,
                    id: id.map(str::to_owned),
                    name: name.map(str::to_owned),
                },
                detail: None,
            },
        })
    }
}

/// One mutating call, described before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mutation {
    /// The target's name from the target file.
    pub target: String,
    pub vendor: &'static str,
    pub operation: &'static str,
    /// What is asked, e.g. `cancel, force = false`; never a secret.
    pub summary: String,
    /// How to tell afterwards whether it took effect; it names the object.
    pub verification: Verification,
}

impl Mutation {
    /// The object it changes.
    pub fn object(&self) -> &ObjectRef {
        &self.verification.object
    }

    /// Adds the client token sent along ([`Check::ClientToken`]) or the file uploaded
    /// ([`Check::Uploaded`]).
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.verification.detail = Some(detail.into());
        self
    }

    /// Refuses a mutation the gate cannot vouch for: another target's, or one whose
    /// check needs a token or file it was not given.
    pub(crate) fn check_for(&self, target: &str) -> Result<(), ApiError> {
        let fail = |why: String| {
            Err(ApiError::new(
                ErrorKind::Validation,
                format!("internal error: {why}; nothing was sent"),
            )
            .at(target, self.operation))
        };
        if self.target != target {
            return fail(format!(
                "the mutation was described for target `{}`",
                self.target
            ));
        }
        let needs_detail = matches!(
            self.verification.check,
            Check::ClientToken | Check::Uploaded
        );
        if needs_detail && self.verification.detail.is_none() {
            return fail(format!(
                "`{}` is checked by a client token or file the mutation does not carry",
                self.operation
            ));
        }
        Ok(())
    }
}

/// Where a request goes: a read, or a mutation through the gate.
#[derive(Clone, Copy, Debug)]
pub enum Exchange<'a> {
    /// A read (GET or HEAD) named by its operation.
    Read(&'a str),
    Mutation(&'a Mutation),
}

impl Exchange<'_> {
    /// The script-facing operation.
    pub fn operation(&self) -> &str {
        match self {
            Self::Read(operation) => operation,
            Self::Mutation(mutation) => mutation.operation,
        }
    }
}

/// What the vendor answers when asked whether a mutation took effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It took effect; what was read that shows it, e.g. ``state `Import_Completed` ``.
    Applied(String),
    /// It did not take effect, so sending it is safe; what was read that shows it.
    NotApplied(String),
    /// Nothing the vendor answers tells (or sending again is safe anyway); why.
    CannotTell(String),
}

/// The header of the answer the gate hands a client for a change the vendor shows
/// applied whose own answer was lost (status 204, no body, this header at `1`), and of
/// an earlier attempt's answer handed again to a resumed run.
pub const RECONCILED_HEADER: &str = "cutover-reconciled";

/// The header of the answer the gate hands a client for a change a `--plan` run
/// recorded and did not send (status 204, no body, this header at `1`): a client that
/// needs the body answers a planned object instead.
pub const PLANNED_HEADER: &str = "cutover-planned";

/// Whether `response` is the gate's answer for a change that was only planned.
pub fn is_planned(response: &reqwest::Response) -> bool {
    response.headers().contains_key(PLANNED_HEADER)
}

/// A future a [`Verify`] answers.
pub type VerdictFuture<'a> = Pin<Box<dyn Future<Output = Result<Verdict, ApiError>> + Send + 'a>>;

/// A vendor client that can tell whether one of its mutations took effect, by reading
/// the object its [`Verification`] names with the client's own reads (never a
/// mutation). The gate asks it when a change's outcome is in doubt (its answer lost or
/// unreadable, or a busy refusal), and when a resumed run is about to send a change an
/// earlier attempt already sent.
pub trait Verify: Send + Sync {
    fn verify<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a>;

    /// [`Verify::verify`] for a change the vendor refused as busy (429, 503, ...): the
    /// refusal already says it most likely did not take effect, so a vendor whose state
    /// shows an action only after a while may answer from what it reads now.
    fn verify_refused<'a>(&'a self, verification: &'a Verification) -> VerdictFuture<'a> {
        self.verify(verification)
    }
}

#[cfg(test)]
#[path = "mutation_tests.rs"]
mod tests;
