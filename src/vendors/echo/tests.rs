//! The vendor contract, proven by the toy: a Rhai script reaches the echo lab through the
//! descriptor's constructor and lab target over real HTTP on 127.0.0.1, starts a job
//! through the mutation gate (the call record shows it with its verification) and drives
//! it with `wait_for` on one stepped clock shared by the lab and the script's waits, so
//! every poll steps lab time exactly and nothing sleeps; and a start whose connection
//! the lab drops after applying it is `unknown_outcome` carrying the toy's verification.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::api_error::{Check, ObjectRef, Verification};
use crate::clock::Clock;
use crate::http::call_record::{Call, CallOutcome};
use crate::http::mutation::Mutation;
use crate::lab::Lab;
use crate::lab::testing::LabRig;
use crate::script::{Host, Limits};

/// Where the lab clock starts: 2025-03-01T00:00:00Z.
const START: u64 = 1_740_787_200;

/// The lab, and a host whose targets are the lab's, on one stepped clock.
struct Rig {
    runtime: tokio::runtime::Runtime,
    lab: Lab,
    host: Arc<Host>,
    clock: Clock,
}

impl Rig {
    fn new() -> Self {
        let clock = Clock::stepped(SystemTime::UNIX_EPOCH + Duration::from_secs(START));
        let rig = LabRig::start(11, clock);
        let host = rig.host();
        let LabRig {
            runtime,
            lab,
            clock,
        } = rig;
        Self {
            runtime,
            lab,
            host,
            clock,
        }
    }

    fn echo_url(&self) -> String {
        self.lab.url(super::KIND).unwrap()
    }

    /// Sends `body` to `method path` of the echo lab's own `/_lab/` routes.
    fn lab_call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.echo_url());
        crate::http::lab::testing::lab_call(&self.runtime, method, url, body)
    }

    fn eval(&self, script: &str) -> String {
        let engine = crate::engine::build(&self.host, Limits::default(), ".".into());
        engine.eval::<String>(script).unwrap()
    }

    /// The lab seconds since [`START`].
    fn lab_seconds(&self) -> u64 {
        let since = self.clock.now().duration_since(SystemTime::UNIX_EPOCH);
        since.unwrap().as_secs() - START
    }

    /// The call record's calls, without their timings and times sent.
    fn calls(&self) -> Vec<Call> {
        let (calls, forgotten) = self.host.calls().snapshot();
        assert_eq!(forgotten, 0);
        calls
            .into_iter()
            .map(|call| Call {
                took: None,
                sent: SystemTime::UNIX_EPOCH,
                ..call
            })
            .collect()
    }
}

/// The call the record holds for `operation` of the echo target on job `name`, with
/// the verification the gate gave it.
fn call(
    operation: &'static str,
    path: &str,
    outcome: CallOutcome,
    (check, id, detail): (Check, Option<&str>, Option<&str>),
    name: &str,
) -> Call {
    let summary = match operation {
        "create" => format!("create `{name}`, 30 s"),
        _ => "cancel".to_owned(),
    };
    let verification = Verification {
        check,
        object: ObjectRef {
            kind: "echo job",
            id: id.map(str::to_owned),
            name: Some(name.to_owned()),
        },
        detail: detail.map(str::to_owned),
    };
    Call {
        target: "echo".to_owned(),
        operation: operation.to_owned(),
        method: "POST".to_owned(),
        path: path.to_owned(),
        outcome,
        sent: SystemTime::UNIX_EPOCH,
        took: None,
        mutation: Some(Mutation {
            target: "echo".to_owned(),
            vendor: "echo",
            operation,
            summary,
            verification,
        }),
    }
}

#[test]
fn a_script_starts_a_job_through_the_gate_and_waits_for_it_on_lab_time() {
    let rig = Rig::new();
    let shown = rig.eval(
        r#"
        let e = echo("echo");
        let job = e.start("copy", 30);
        let first = `${job.id} ${job.state}`;
        job.wait_for("Done", #{ every: "10s" });
        let other = e.start("spare", 30);
        other.cancel();
        let again = "cancelled twice?!";
        try { other.cancel(); } catch (err) { again = `${err.kind} ${err.state}`; }
        `${first} | ${job} ${job.is_success} | ${other.state} | ${again}`
        "#,
    );
    assert_eq!(
        shown,
        "job-1 Running | copy Done true | Cancelled | invalid_state Cancelled"
    );
    // Polled at 0, 10, 20 and 30 lab seconds: the clock moved only by the wait's steps.
    assert_eq!(rig.lab_seconds(), 30);
    let state = rig.lab_call(reqwest::Method::GET, "/_lab/state", None);
    assert_eq!(
        state["mutations"],
        json!([
            {"operation": "create", "id": "job-1", "at": "2025-03-01T00:00:00Z"},
            {"operation": "done", "id": "job-1", "at": "2025-03-01T00:00:30Z"},
            {"operation": "create", "id": "job-2", "at": "2025-03-01T00:00:30Z"},
            {"operation": "cancel", "id": "job-2", "at": "2025-03-01T00:00:30Z"},
        ])
    );
    let token = |name| (Check::ClientToken, None, Some(name));
    let cancelled = (Check::States(&["Cancelled"]), Some("job-2"), None);
    assert_eq!(
        rig.calls(),
        [
            call(
                "create",
                "/echo/jobs",
                CallOutcome::Answered(201),
                token("copy"),
                "copy"
            ),
            call(
                "create",
                "/echo/jobs",
                CallOutcome::Answered(201),
                token("spare"),
                "spare"
            ),
            call(
                "cancel",
                "/echo/jobs/job-2/cancel",
                CallOutcome::Answered(200),
                cancelled,
                "spare"
            ),
            call(
                "cancel",
                "/echo/jobs/job-2/cancel",
                CallOutcome::Answered(409),
                cancelled,
                "spare"
            ),
        ]
    );
}

#[test]
fn a_start_whose_connection_drops_is_verified_and_found_applied_not_sent_again() {
    let rig = Rig::new();
    let rule =
        json!({"status": 0, "drop_connection": true, "method": "POST", "path": "/echo/jobs"});
    rig.lab_call(reqwest::Method::POST, "/_lab/faults", Some(rule));
    let shown = rig.eval(
        r#"
        let e = echo("echo");
        // The gate asks the toy for the job with this token, finds it, and hands it on.
        let first = e.start("copy", 30);
        // Sending again with the same token answers the same job.
        let job = e.start("copy", 30);
        `${first.id} ${first.state}
${job.id} ${job.state}`
        "#,
    );
    assert_eq!(shown, "job-1 Running\njob-1 Running");
    let token = (Check::ClientToken, None, Some("copy"));
    assert_eq!(
        rig.calls(),
        [
            call("create", "/echo/jobs", CallOutcome::Lost, token, "copy"),
            call(
                "create",
                "/echo/jobs",
                CallOutcome::Answered(200),
                token,
                "copy"
            ),
        ]
    );
    let state = rig.lab_call(reqwest::Method::GET, "/_lab/state", None);
    assert_eq!(state["counts"], json!({"create": 1}), "applied once");
    assert_eq!(state["faults"]["injected"], 1);
}

/// The toy gets its listener and its target from its descriptor and its line alone, like
/// any other vendor: the target is named after its kind, with the simulator's user.
#[test]
fn the_lab_serves_the_toy_and_names_its_target() {
    let rig = Rig::new();
    let mut toys = rig.lab.targets();
    toys.retain(|t| t.kind == super::KIND);
    let [toy] = toys.as_slice() else {
        panic!("one echo target: {toys:?}");
    };
    assert_eq!(
        (toy.name.as_str(), toy.kind, toy.user.as_str()),
        ("echo", super::KIND, "echo")
    );
    assert_eq!(Some(toy.url.clone()), rig.lab.url(super::KIND));
}
