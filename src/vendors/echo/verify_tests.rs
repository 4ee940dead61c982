//! Echo verification against its simulator on 127.0.0.1, jobs put in each state by
//! the client and the lab clock: the exact verdict of a start looked up by its token
//! and of a cancel read from the job's state, nothing told of a job without an id or
//! not found, an error for a failed read; and both mutating methods rebuild their
//! answer when the gate replays one (a stand-in server answers as the gate would).

use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::json;

use super::*;
use crate::http::mutation::RECONCILED_HEADER;
use crate::http::mutation::Verdict::{Applied, CannotTell, NotApplied};
use crate::vendors::echo::wire::{Job, JobState};
use crate::vendors::verify_testing::{Rig, verification};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_are_found_by_token_and_cancels_by_state() {
    let rig = Rig::start().await;
    let target = rig.target(crate::vendors::echo::KIND);
    let client = EchoClient::new(&target, Rig::calls()).unwrap();
    let copy = client.create("copy", 30).await.unwrap();
    let spare = client.create("spare", 30).await.unwrap();
    let short = client.create("short", 10).await.unwrap();

    let token = |t| verification(&MUTATIONS, &target, "create", (None, Some(t)), Some(t));
    let cancel = |id| verification(&MUTATIONS, &target, "cancel", (Some(id), Some("x")), None);
    assert_eq!(
        client.verify(&token("copy")).await.unwrap(),
        Applied("echo job `job-1` has client token `copy`".into())
    );
    assert_eq!(
        client.verify(&token("other")).await.unwrap(),
        NotApplied("no echo job with client token `other`".into())
    );
    assert_eq!(
        client.verify(&cancel(&copy.id)).await.unwrap(),
        NotApplied("state `Running`".into())
    );
    client.cancel(&spare.id, &spare.name).await.unwrap();
    assert_eq!(
        client.verify(&cancel(&spare.id)).await.unwrap(),
        Applied("state `Cancelled`".into())
    );
    rig.clock.advance(Duration::from_secs(10));
    assert_eq!(
        client.verify(&cancel(&short.id)).await.unwrap(),
        NotApplied("state `Done`".into())
    );
    assert_eq!(
        client.verify(&cancel("job-99")).await.unwrap(),
        CannotTell("reading it answers not found".into())
    );
    let idless = verification(&MUTATIONS, &target, "cancel", (None, Some("copy")), None);
    assert_eq!(
        client.verify(&idless).await.unwrap(),
        CannotTell("the echo job is known by no id to read it by".into())
    );

    rig.fail_next(crate::vendors::echo::KIND, "GET", "/echo/jobs", 500)
        .await;
    let err = client.verify(&token("copy")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "`echo` jobs: 500 Internal Server Error: injected by the lab (kind: http)"
    );
    rig.lab.shutdown().await;
}

/// A job as the stand-in server shows it.
fn job(state: JobState) -> Job {
    Job {
        id: "job-7".to_owned(),
        name: "copy".to_owned(),
        state,
        client_token: "copy".to_owned(),
        seconds: 30,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_answer_is_rebuilt_by_reading() {
    let replayed = || async { (StatusCode::NO_CONTENT, [(RECONCILED_HEADER, "1")]) };
    let server = axum::Router::new()
        .route(
            "/echo/jobs",
            get(|| async { Json(json!([job(JobState::Running)])) }).post(replayed),
        )
        .route(
            "/echo/jobs/job-7",
            get(|| async { Json(job(JobState::Cancelled)) }),
        )
        .route("/echo/jobs/job-7/cancel", post(replayed));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let served = tokio::spawn(async move { axum::serve(listener, server).await });

    let rig = Rig::start().await;
    let mut target = rig.target(crate::vendors::echo::KIND);
    target.url = format!("http://{address}");
    let client = EchoClient::new(&target, Rig::calls()).unwrap();
    assert_eq!(
        client.create("copy", 30).await.unwrap(),
        job(JobState::Running)
    );
    assert_eq!(
        client.cancel("job-7", "copy").await.unwrap(),
        job(JobState::Cancelled)
    );
    let err = client.create("other", 30).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "`echo` create: the start of `other` was found applied, yet no echo job has client token `other` now; start it again (kind: not_found)"
    );
    served.abort();
    rig.lab.shutdown().await;
}
