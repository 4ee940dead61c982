//! Every mutating operation of every vendor declares how to tell whether it took
//! effect, in its client's table; and driving the clients against the lab proves the
//! tables are whole: every call they send that is not a read or a login passes the gate
//! and is one of the table's operations, and every mutation a lab applied was such a call.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde_json::{Map, Value};

use super::*;
use crate::clock::Clock;
use crate::config::{Target, TargetKind};
use crate::http::call_record::{CallOutcome, CallRecord};
use crate::http::client::HttpClient;
use crate::lab::{Lab, LabOptions};
use crate::vendors::{echo, huawei_sms, powerstore, vcd, vcenter};

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
            vendor.kind.as_str(),
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

/// Every mutating method of every client, once, against the lab; what each ended with.
async fn drive(lab: &Lab, record: &CallRecord) -> Vec<ApiError> {
    let clock = Clock::wall();
    let mut errors = Vec::new();
    let mut note = |result: Result<(), ApiError>| errors.extend(result.err());

    let array = target(lab, TargetKind::Powerstore);
    let ps =
        powerstore::client::PowerStoreClient::new(&array, record.clone(), clock.clone()).unwrap();
    note(ps.pause("wave1-lun03").await);
    note(ps.resume("wave1-lun03").await);
    note(ps.cancel("wave1-lun04", false).await);
    note(ps.cutover("wave1-lun05").await);

    let director = target(lab, TargetKind::Vcd);
    let vcd = vcd::client::VcdClient::new(&director, record.clone(), clock.clone()).unwrap();
    let task = vcd
        .migrate_entities(
            "urn:vcloud:type:acme:vm:1.0.0",
            "urn:vcloud:type:acme:vm:2.0.0",
            false,
        )
        .await;
    let task = task.unwrap_or_else(|err| {
        errors.push(err);
        reqwest::Url::parse(&format!("{}/api/task/0000", director.url)).unwrap()
    });
    let mut note = |result: Result<(), ApiError>| errors.extend(result.err());
    note(vcd.cancel_task(&task).await);
    note(
        vcd.resolve("urn:vcloud:entity:acme:vm:0000")
            .await
            .map(drop),
    );

    let vc = target(lab, TargetKind::Vcenter);
    let vcenter = vcenter::client::VcenterClient::new(&vc, record.clone(), clock.clone()).unwrap();
    for action in [
        vcenter::wire::HistoryAction::Start,
        vcenter::wire::HistoryAction::Pause,
        vcenter::wire::HistoryAction::Resume,
        vcenter::wire::HistoryAction::Cancel,
    ] {
        note(vcenter.history_action(action, None).await);
    }
    let package = format!("{}/packages/web.ovf", vc.url);
    let create = vcenter::ovf_wire::CreateRequest {
        client_token: None,
        resource_pool: "resgroup-8".to_owned(),
        host_system: None,
        folder: None,
        create_spec: vcenter::ovf_wire::CreateSpec {
            source_type: vcenter::ovf_wire::SourceType::PullSource,
            import_flags: Vec::new(),
            locale: None,
            pull_source: Some(package.clone()),
            ssl_certificate_thumbprint: None,
            push_source_content_type: None,
            push_source_ovf_option: None,
            content_library_item: None,
        },
    };
    let session = match vcenter.ovf_create(&create).await {
        Ok(id) => id,
        Err(err) => {
            errors.push(err);
            "session-0".to_owned()
        }
    };
    let mut note = |result: Result<(), ApiError>| errors.extend(result.err());
    note(vcenter.ovf_preview("<Envelope/>").await.map(drop));
    note(vcenter.ovf_probe(&package).await.map(drop));
    note(
        vcenter
            .ovf_try_instantiate(&session, Vec::new())
            .await
            .map(drop),
    );
    note(vcenter.ovf_instantiate(&session, Vec::new()).await);
    note(vcenter.ovf_progress(&session, 10).await);
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.vmdk");
    std::io::Write::write_all(&mut std::fs::File::create(&disk).unwrap(), b"disk").unwrap();
    let entry = vcenter::ovf_wire::OvfFileInfo {
        name: "disk.vmdk".to_owned(),
        file_type: "DISK".to_owned(),
        optional_upload: false,
        file_url: Some(format!("{}/nfc/{session}/disk.vmdk", vc.url)),
        ssl_thumb_print: None,
        upload_method: None,
        size: 4,
        bytes_transferred: 0,
        sha256: None,
    };
    let file = crate::file_gate::GatedFile { path: disk, len: 4 };
    let sent = Arc::new(AtomicU64::new(0));
    note(vcenter.ovf_upload(&session, &entry, &file, sent).await);
    note(vcenter.ovf_delete(&session).await);

    let sms_target = target(lab, TargetKind::HuaweiSms);
    let sms = huawei_sms::client::SmsClient::new(&sms_target, record.clone(), clock).unwrap();
    let task = sms
        .tasks(&huawei_sms::client::TaskQuery::default())
        .await
        .unwrap();
    let id = task[0].task.id.clone();
    for operation in huawei_sms::wire::OPERATIONS {
        note(sms.action(&id, operation, Map::new()).await);
    }

    let toy = target(lab, TargetKind::Echo);
    let toy = echo::client::EchoClient::new(&toy, record.clone()).unwrap();
    match toy.create("drive", 3600).await {
        Ok(job) => note(toy.cancel(&job.id, &job.name).await.map(drop)),
        Err(err) => note(Err(err)),
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
    for kind in TargetKind::ALL {
        applied_total += applied(&lab, kind).await;
    }
    assert!(applied_total > 0);
    assert!(
        applied_total <= accepted,
        "the labs applied {applied_total} mutations, the gate saw {accepted} accepted"
    );
    lab.shutdown().await;
}
