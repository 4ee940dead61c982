//! The journal's store on its own: versions, runs and their leases, steps, and which
//! earlier calls a resumed attempt lines its changes up with.

use std::time::SystemTime;

use super::fingerprint::{FileHash, changes};
use super::lease::Owner;
use super::run_rows::TakeError;
use super::*;

fn journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("sub/journal.db")).unwrap();
    (dir, journal)
}

/// [`journal`] with one run begun by this process.
fn journal_with_run() -> (tempfile::TempDir, Journal, i64) {
    let (dir, journal) = journal();
    let run = journal
        .begin_run(&new_run(), &Owner::this_process())
        .unwrap();
    (dir, journal, run)
}

fn new_run() -> NewRun {
    NewRun {
        script: "wave.rhai".into(),
        files: vec![FileHash::of(
            std::path::Path::new("wave.rhai"),
            b"print(1);",
        )],
        arguments: serde_json::json!({"lab": true}),
        targets: vec!["array1".into()],
        scenario: Some("happy".into()),
        seed: Some(1),
    }
}

/// An owner on this host whose process is gone.
fn dead_owner() -> Owner {
    Owner {
        pid: u32::MAX - 1,
        ..Owner::this_process()
    }
}

fn change(operation: &str, id: &str) -> Change {
    Change {
        target: "array1".into(),
        vendor: "powerstore".into(),
        operation: operation.into(),
        object_kind: "import session".into(),
        object_id: Some(id.into()),
        object_name: None,
        detail: None,
        summary: "cut over".into(),
        method: "POST".into(),
        path: format!("/api/rest/import_session/{id}/{operation}"),
    }
}

fn call(run: i64, attempt: i64, ord: i64, change: &Change) -> NewCall<'_> {
    NewCall {
        run,
        attempt,
        ord,
        step: None,
        frame: "crm/volumes",
        seq: ord,
        change,
    }
}

#[test]
fn a_new_journal_is_at_this_version_and_a_newer_one_is_refused() {
    let (dir, journal) = journal();
    assert_eq!(journal.integrity_check().unwrap(), "ok");
    drop(journal);
    let path = dir.path().join("sub/journal.db");
    let connection = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, schema::VERSION);
    // Opening it again changes nothing.
    drop(Journal::open(&path).unwrap());
    connection
        .pragma_update(None, "user_version", schema::VERSION + 1)
        .unwrap();
    let err = Journal::open(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "journal `{}`: it was written by a newer cutover (journal version {}, this one reads up to {}); use that cutover, or another journal with --journal",
            path.display(),
            schema::VERSION + 1,
            schema::VERSION
        )
    );
}

#[test]
fn a_run_is_leased_by_its_process_and_a_dead_process_lease_is_taken_over() {
    let (_dir, journal) = journal();
    let me = Owner::this_process();
    let id = journal.begin_run(&new_run(), &me).unwrap();
    // This process holds it: another live process (here, this one under another pid
    // that exists: pid 1) may not take it.
    let other = Owner {
        pid: 1,
        ..Owner::this_process()
    };
    match journal.take_run(id, &other) {
        Err(TakeError::Held { run, owner, .. }) => assert_eq!((run, owner), (id, me.clone())),
        other => panic!("taken: {other:?}"),
    }
    // A process that is gone holds nothing.
    let dead = dead_owner();
    let id2 = journal.begin_run(&new_run(), &dead).unwrap();
    let (row, attempt) = journal.take_run(id2, &me).unwrap();
    assert_eq!((row.id, attempt), (id2, 2));
    assert_eq!(journal.run(id2).unwrap().unwrap().attempts, 2);
    // A run that succeeded is not resumed.
    journal.end_run(id2, &me, Outcome::Succeeded).unwrap();
    assert!(matches!(
        journal.take_run(id2, &me),
        Err(TakeError::Succeeded(..))
    ));
    assert!(matches!(
        journal.take_run(99, &me),
        Err(TakeError::NoSuchRun(99))
    ));
    assert_eq!(journal.last_run("wave.rhai").unwrap(), Some(id2));
    assert_eq!(journal.last_run("other.rhai").unwrap(), None);
}

#[test]
fn a_done_step_keeps_its_result_and_a_failed_one_is_run_again() {
    let (_dir, journal, run) = journal_with_run();
    let done = journal
        .begin_step(run, (1, 1), "crm/volumes", "volumes", Some("crm"), 1)
        .unwrap();
    journal
        .end_step(done, Ok(&serde_json::json!({"moved": 2})))
        .unwrap();
    let failed = journal
        .begin_step(run, (1, 2), "crm/server", "server", Some("crm"), 1)
        .unwrap();
    journal.end_step(failed, Err("boom")).unwrap();
    assert_eq!(
        journal.done_step(run, "crm/volumes", 1).unwrap(),
        Some(serde_json::json!({"moved": 2}))
    );
    assert_eq!(journal.done_step(run, "crm/volumes", 2).unwrap(), None);
    assert_eq!(journal.done_step(run, "crm/server", 1).unwrap(), None);
    let steps = journal.steps(run).unwrap();
    assert_eq!(
        steps
            .iter()
            .map(|s| (s.key.as_str(), s.status))
            .collect::<Vec<_>>(),
        [
            ("crm/volumes", StepStatus::Done),
            ("crm/server", StepStatus::Failed)
        ]
    );
}

/// A call's end, 3 ms after it was sent, with no request id.
fn ended(status: CallStatus, http_status: Option<u16>, answer: Option<&Answer>) -> CallEnd<'_> {
    CallEnd {
        status,
        http_status,
        request_id: None,
        answer,
        took: std::time::Duration::from_millis(3),
    }
}

#[test]
fn a_resumed_attempt_lines_up_with_changes_that_took_effect_or_may_have() {
    let (_dir, journal, run) = journal_with_run();
    let took = change("cutover", "a");
    let refused = change("cutover", "b");
    let unknown = change("cutover", "c");
    let not_sent = change("pause", "d");
    let id = journal
        .insert_call(&call(run, 1, 1, &took), CallStatus::Sent, None, None)
        .unwrap();
    let answer = Answer {
        status: 204,
        headers: Vec::new(),
        body: String::new(),
    };
    journal
        .end_call(id, &ended(CallStatus::Answered, Some(204), Some(&answer)))
        .unwrap();
    let id = journal
        .insert_call(&call(run, 1, 2, &refused), CallStatus::Sent, None, None)
        .unwrap();
    journal
        .end_call(id, &ended(CallStatus::Answered, Some(422), None))
        .unwrap();
    journal
        .insert_call(&call(run, 1, 3, &unknown), CallStatus::Sent, None, None)
        .unwrap();
    let id = journal
        .insert_call(&call(run, 1, 4, &not_sent), CallStatus::Sent, None, None)
        .unwrap();
    journal
        .end_call(id, &ended(CallStatus::NotSent, None, None))
        .unwrap();
    let earlier = journal.earlier_calls(run, "crm/volumes", 2).unwrap();
    let ids: Vec<_> = earlier
        .iter()
        .map(|c| c.change.object_id.as_deref())
        .collect();
    assert_eq!(ids, [Some("a"), Some("c")]);
    assert_eq!(earlier[0].answer, Some(answer));
    assert!(earlier[0].change == took && earlier[1].change == unknown);
    assert!(earlier[1].status.is_unknown());
    // Another frame, and the attempt itself, see none of them.
    assert!(
        journal
            .earlier_calls(run, "erp/volumes", 2)
            .unwrap()
            .is_empty()
    );
    assert!(
        journal
            .earlier_calls(run, "crm/volumes", 1)
            .unwrap()
            .is_empty()
    );
    // A run's changes are those that took effect.
    assert_eq!(journal.run(run).unwrap().unwrap().changes, 1);
    // Calls still waiting when the run ends are abandoned.
    journal.abandon_calls(run, 1).unwrap();
    let statuses: Vec<_> = journal
        .calls(run)
        .unwrap()
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(
        statuses,
        [
            CallStatus::Answered,
            CallStatus::Answered,
            CallStatus::Abandoned,
            CallStatus::NotSent
        ]
    );
}

#[test]
fn a_changed_import_is_named() {
    let path = std::path::Path::new;
    let then = [
        FileHash::of(path("wave.rhai"), b"a"),
        FileHash::of(path("cutover/wave"), b"b"),
        FileHash::of(path("old.rhai"), b"c"),
    ];
    let now = [
        FileHash::of(path("wave.rhai"), b"a"),
        FileHash::of(path("cutover/wave"), b"B"),
        FileHash::of(path("new.rhai"), b"d"),
    ];
    assert_eq!(
        changes(&then, &now),
        [
            "`cutover/wave` changed since the run began",
            "`old.rhai` is no longer part of the playbook",
            "`new.rhai` is imported now but was not when the run began"
        ]
    );
    assert!(changes(&then, &then).is_empty());
}

#[test]
fn the_runs_table_and_a_run_killed_with_its_lease_read_as_an_operator_needs() {
    let (_dir, journal) = journal();
    let run = journal.begin_run(&new_run(), &dead_owner()).unwrap();
    let row = journal.run(run).unwrap().unwrap();
    assert_eq!(show::standing(&row), "killed");
    let live = journal
        .begin_run(&new_run(), &Owner::this_process())
        .unwrap();
    assert_eq!(
        show::standing(&journal.run(live).unwrap().unwrap()),
        "running"
    );
    journal
        .end_run(live, &Owner::this_process(), Outcome::Failed)
        .unwrap();
    let mut rows = journal.runs(10).unwrap();
    for row in &mut rows {
        row.started = super::millis(SystemTime::UNIX_EPOCH) + 1000;
        row.ended = row.ended.map(|_| 62_500);
    }
    assert_eq!(
        show::runs_table(&rows, |_| Vec::new()),
        "ID  SCRIPT     STARTED               DURATION    OUTCOME  CHANGES\n\
         2   wave.rhai  1970-01-01T00:00:01Z  1 min 01 s  failed   0\n\
         1   wave.rhai  1970-01-01T00:00:01Z  -           killed   0\n"
    );
}

#[test]
fn a_follower_stops_waiting_for_its_leader_when_the_run_stops() {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use super::run_journal::RunJournal;
    use super::runners::Joined;

    let (_dir, journal, run) = journal_with_run();
    let joined = Joined {
        run,
        attempt: 2,
        runner: 1,
        began: false,
        files: Vec::new(),
    };
    // Leases of an hour: no heartbeat comes during the test to make this runner lead.
    let stop = CancellationToken::new();
    let follower = RunJournal::shared(
        Arc::new(journal),
        &joined,
        Owner::this_process(),
        None,
        Duration::from_secs(3600),
        stop.clone(),
    );
    stop.cancel();
    let mut looks = 0;
    let err = follower
        .follow("step `a`", || {
            looks += 1;
            Ok(None::<()>)
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the run stopped while this runner waited for its leader to record step `a`"),
        "{err}"
    );
    assert!(err.stopped(), "a stop, not a failing journal: {err}");
    assert_eq!(looks, 1, "it looks once for what the leader recorded");
    // What the leader recorded is still taken: the stop ends only the waiting.
    assert_eq!(
        follower.follow("step `b`", || Ok(Some(7))).unwrap(),
        Some(7)
    );
}
