//! Every mutating operation of every vendor declares how to tell whether it took
//! effect, in its client's table; and driving the clients against the lab proves the
//! tables are whole: every call they send that is not a read or a login passes the gate
//! and is one of the table's operations, and every mutation a lab applied was such a call.

use std::collections::BTreeSet;

use serde_json::Value;

use super::*;
use crate::config::{Target, TargetKind};
use crate::http::call_record::{CallOutcome, CallRecord};
use crate::http::client::HttpClient;
use crate::lab::{Lab, LabOptions};
use crate::vendors::{huawei_sms, powerstore};

/// Every vendor's table, as its descriptor gives it: a new vendor is checked too.
fn tables() -> impl Iterator<Item = &'static Mutations> {
    crate::vendors::ALL.iter().map(|vendor| vendor.mutations)
}

#[test]
fn every_mutating_operation_declares_how_to_tell_it_took_effect() {
    let mut missing = Vec::new();
    for (table, vendor) in tables().zip(crate::vendors::ALL) {
        assert_eq!(
            table.vendor,
            vendor.kind().as_str(),
            "a table under another name"
        );
        let names: BTreeSet<&str> = table.operations.iter().map(|op| op.name).collect();
        assert_eq!(
            names.len(),
            table.operations.len(),
            "{}: a name twice",
            table.vendor
        );
        for op in table.operations {
            let what = format!("{} {}", table.vendor, op.name);
            let declared = match op.check {
                Check::States(states) => {
                    !states.is_empty() && states.iter().all(|s| (table.is_state)(op.name, s))
                }
                Check::Field { field, values } => {
                    !field.is_empty() && values.iter().all(|v| !v.is_empty())
                }
                Check::RepeatSafe(why) | Check::NotShown(why) => !why.trim().is_empty(),
                Check::ClientToken | Check::Gone | Check::ChangesNothing | Check::Uploaded => true,
            };
            if !declared || op.object.is_empty() {
                missing.push(what);
            }
        }
    }
    assert_eq!(
        missing,
        Vec::<String>::new(),
        "operations without a verification"
    );
    // SMS takes any of the API's task operations: each is declared, and those that
    // change the state lead where the state machine says.
    let sms = &huawei_sms::client::MUTATIONS;
    for operation in huawei_sms::wire::OPERATIONS {
        let declared = sms.operation(operation).map(|op| op.check);
        match huawei_sms::wire::transition(operation) {
            Some(transition) => {
                let to: Vec<&str> = transition.to.iter().map(|s| s.as_str()).collect();
                let states = match declared {
                    Some(Check::States(states)) => states.to_vec(),
                    _ => Vec::new(),
                };
                assert_eq!(states, to, "sms `{operation}`");
            }
            None => assert!(declared.is_some(), "sms `{operation}` is not declared"),
        }
    }
    assert_eq!(sms.operations.len(), huawei_sms::wire::OPERATIONS.len());
}

#[test]
fn an_operation_missing_from_the_table_is_refused_before_sending() {
    let err = powerstore::client::MUTATIONS
        .mutation("array1", "delete", (Some("x"), None), "delete")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`array1` delete: internal error: `delete` is not in the powerstore table of mutating operations; nothing was sent (kind: validation)"
    );
}

/// The lab's target of `kind` (the first, for a kind with several).
fn target(lab: &Lab, kind: TargetKind) -> Target {
    lab.targets().into_iter().find(|t| t.kind == kind).unwrap()
}

/// Every mutating method of every client, once, against the lab (each vendor's
/// [`crate::vendors::Vendor::drive`]); what each ended with.
async fn drive(lab: &Lab, record: &CallRecord) -> Vec<ApiError> {
    let mut errors = Vec::new();
    for vendor in crate::vendors::ALL {
        errors.extend((vendor.drive)(target(lab, vendor.kind()), record.clone()).await);
    }
    errors
}

/// The sum of the lab's mutation counts of `kind`, as its `/_lab/state` shows them.
async fn applied(lab: &Lab, kind: TargetKind) -> u64 {
    let target = target(lab, kind);
    let client = HttpClient::new(&target).unwrap();
    let request = client.request(reqwest::Method::GET, client.url(&["_lab", "state"]));
    let response = client.send("lab.state", request, |_| None).await.unwrap();
    let state: Value = client.read_json("lab.state", response).await.unwrap();
    state["counts"]
        .as_object()
        .map_or(0, |counts| counts.values().filter_map(Value::as_u64).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_the_clients_send_that_is_no_read_or_login_passes_the_gate_as_declared() {
    let lab = Lab::start(LabOptions {
        seed: 7,
        ..LabOptions::default()
    })
    .await
    .unwrap();
    let record = CallRecord::new();
    let errors = drive(&lab, &record).await;
    let internal: Vec<String> = errors
        .iter()
        .filter(|e| e.message.starts_with("internal error"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        internal,
        Vec::<String>::new(),
        "a call did not pass the gate"
    );

    let (calls, _) = record.snapshot();
    let mut sent = BTreeSet::new();
    for call in &calls {
        let mutation = call.mutation.as_ref().expect("noted by the gate");
        let table = tables().find(|t| t.vendor == mutation.vendor).unwrap();
        let declared = table.operation(mutation.operation).unwrap();
        assert_eq!(mutation.verification.check, declared.check, "{call}");
        assert_eq!(mutation.verification.object.kind, declared.object, "{call}");
        sent.insert((mutation.vendor, mutation.operation));
    }
    let declared: BTreeSet<(&str, &str)> = tables()
        .flat_map(|t| t.operations.iter().map(|op| (t.vendor, op.name)))
        .collect();
    assert_eq!(
        sent, declared,
        "every declared operation was driven through the gate"
    );

    // What the labs applied, they applied from calls the gate let through.
    let accepted = calls
        .iter()
        .filter(|c| matches!(c.outcome, CallOutcome::Answered(200..=299)))
        .count() as u64;
    let mut applied_total = 0;
    for kind in crate::vendors::ALL.iter().map(|vendor| vendor.kind()) {
        applied_total += applied(&lab, kind).await;
    }
    assert!(applied_total > 0);
    assert!(
        applied_total <= accepted,
        "the labs applied {applied_total} mutations, the gate saw {accepted} accepted"
    );
    lab.shutdown().await;
}
