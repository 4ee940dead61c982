//! On resume, before the playbook runs again: every change an earlier attempt left with
//! an unknown outcome (written as sent and never answered, its answer lost, or the run
//! stopped waiting) is verified with its vendor, and what the vendor shows is recorded.
//! So the audit trail says whether each took effect, and the resumed run lines its
//! changes up with what really happened: one found applied is not sent again, one found
//! not applied is sent when the playbook reaches it.

use std::sync::Arc;

use crate::http::mutation::{ObjectRef, Verdict, Verification};
use crate::journal::run_journal::RunJournal;
use crate::journal::{CallRow, Change};
use crate::script::Host;
use crate::script::job::Reference;

/// Verifies the unknown outcomes of `journal`'s earlier attempts through `host`'s
/// clients. A call nothing can tell about stays unknown; the gate asks again when the
/// playbook reaches it.
pub(super) fn earlier_unknowns(host: &Arc<Host>, journal: &RunJournal) {
    if journal.attempt() == 1 {
        return;
    }
    let calls = match journal
        .journal()
        .unknown_calls(journal.run(), journal.attempt())
    {
        Ok(calls) => calls,
        Err(err) => {
            tracing::warn!("cannot read the changes whose outcome is unknown: {err}");
            return;
        }
    };
    settle(host, journal, calls);
}

/// Has the vendor of each of `calls` (changes left with an unknown outcome) say whether
/// it took effect, and records what it says. Also what a runner of a shared run does
/// with the changes a stopped runner left unknown in an item it takes over.
pub(super) fn settle(host: &Arc<Host>, journal: &RunJournal, calls: Vec<CallRow>) {
    for call in calls {
        let what = format!(
            "`{}` {} on `{}`",
            call.change.operation,
            call.change.object(),
            call.change.target
        );
        let recorded = match verify(host, &call.change) {
            Ok(Verdict::Applied(seen)) => {
                tracing::info!("{what}, whose outcome was unknown, took effect: {seen}");
                journal.verified(call.id, true, &seen)
            }
            Ok(Verdict::NotApplied(seen)) => {
                tracing::info!("{what}, whose outcome was unknown, did not take effect: {seen}");
                journal.verified(call.id, false, &seen)
            }
            Ok(Verdict::CannotTell(why)) => {
                tracing::info!("{what}: its outcome stays unknown ({why})");
                Ok(())
            }
            Err(why) => {
                tracing::warn!("{what}: cannot tell whether it took effect: {why}");
                Ok(())
            }
        };
        if let Err(err) = recorded {
            tracing::warn!("{what}: {err}");
        }
    }
}

/// What the vendor shows about `call`, asked through the target's client.
fn verify(host: &Arc<Host>, call: &Change) -> Result<Verdict, String> {
    let vendor = crate::vendors::ALL
        .iter()
        .find(|v| v.mutations.vendor == call.vendor)
        .ok_or_else(|| format!("no vendor `{}` in this cutover", call.vendor))?;
    let operation = vendor.mutations.operation(&call.operation).ok_or_else(|| {
        format!(
            "`{}` is not a {} operation in this cutover",
            call.operation, call.vendor
        )
    })?;
    // Opening the connection builds the target's client, which verifies its changes.
    let connection = vendor
        .handles
        .first()
        .ok_or_else(|| format!("{} lists no connection", call.vendor))?;
    let target = Reference {
        target: call.target.clone(),
        id: None,
    };
    let _connection = (connection.reopen)(host, &target).map_err(|err| err.to_string())?;
    let verifier = host
        .calls()
        .verifier(&call.target)
        .ok_or_else(|| format!("target `{}` cannot verify its changes", call.target))?;
    let verification = Verification {
        check: operation.check,
        object: ObjectRef {
            kind: operation.object,
            id: call.object_id.clone(),
            name: call.object_name.clone(),
        },
        detail: call.detail.clone(),
    };
    host.block_on(verifier.verify(&verification))
        .map_err(|err| err.to_string())
}
