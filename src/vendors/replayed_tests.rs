//! Every client method that sends a mutation and answers nothing (`()`) takes the
//! answer the gate replays for a call verification found applied (204, no body,
//! `cutover-reconciled: 1`). A stand-in on 127.0.0.1 passes reads and logins through to
//! the lab and answers every other request as the gate's replay would, so no mutation
//! reaches the lab; each method must still succeed.

use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Map;

use crate::config::TargetKind;
use crate::http::mutation::RECONCILED_HEADER;
use crate::vendors::verify_testing::Rig;
use crate::vendors::{huawei_sms, powerstore, vcd, vcenter};

/// Where the stand-in forwards to, and the requests it answered itself.
#[derive(Clone)]
struct StandIn {
    upstream: String,
    replayed: Arc<Mutex<Vec<String>>>,
}

/// Logins open a session whatever their method: they go to the lab.
fn is_login(path: &str) -> bool {
    [
        "/session",
        "/sessions",
        "/sessions/provider",
        "/login_session",
    ]
    .iter()
    .any(|end| path.ends_with(end))
}

async fn stand_in(State(stand_in): State<StandIn>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    if parts.method != Method::GET && !is_login(&path) {
        let seen = format!("{} {path}", parts.method);
        stand_in.replayed.lock().unwrap().push(seen);
        return (StatusCode::NO_CONTENT, [(RECONCILED_HEADER, "1")]).into_response();
    }
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let body = to_bytes(body, usize::MAX).await.unwrap();
    #[allow(
        clippy::disallowed_methods,
        reason = "the stand-in forwards to the lab"
    )]
    let mut forward = reqwest::Client::new()
        .request(parts.method, format!("{}{path}{query}", stand_in.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" {
            forward = forward.header(name, value);
        }
    }
    let answer = forward.send().await.unwrap();
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    let body = answer.bytes().await.unwrap();
    response.body(Body::from(body)).unwrap()
}

/// A stand-in in front of the lab's listener of `kind`; its URL and what it replayed.
async fn serve(rig: &Rig, kind: TargetKind) -> (String, Arc<Mutex<Vec<String>>>) {
    let replayed = Arc::new(Mutex::new(Vec::new()));
    let state = StandIn {
        upstream: rig.lab.url(kind).unwrap(),
        replayed: replayed.clone(),
    };
    let router = axum::Router::new().fallback(stand_in).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, replayed)
}

/// The replayed requests, emptied.
fn take(replayed: &Mutex<Vec<String>>) -> Vec<String> {
    std::mem::take(&mut *replayed.lock().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutating_method_without_an_answer_takes_the_replayed_one() {
    let rig = Rig::start().await;
    let clock = rig.clock.clone();

    let (url, replayed) = serve(&rig, crate::vendors::powerstore::KIND).await;
    let mut target = rig.target(crate::vendors::powerstore::KIND);
    target.url = url;
    let array =
        powerstore::client::PowerStoreClient::new(&target, Rig::calls(), clock.clone()).unwrap();
    let id = "9a1c2f0e-3b5d-4c8e-9f7a-0b1c2d3e4f50";
    array.cutover(id).await.unwrap();
    array.cancel(id, true).await.unwrap();
    array.pause("lun03").await.unwrap();
    array.resume(id).await.unwrap();
    let session = format!("/api/rest/import_session/{id}");
    assert_eq!(
        take(&replayed),
        [
            format!("POST {session}/cutover"),
            format!("POST {session}/cancel"),
            "POST /api/rest/import_session/name:lun03/pause".to_owned(),
            format!("POST {session}/resume"),
        ]
    );

    let (url, replayed) = serve(&rig, crate::vendors::vcd::KIND).await;
    let mut target = rig.target(crate::vendors::vcd::KIND);
    target.url = url;
    let director = vcd::client::VcdClient::new(&target, Rig::calls(), clock.clone()).unwrap();
    let task = director.task_url("1111");
    director.cancel_task(&task).await.unwrap();
    assert_eq!(take(&replayed), ["POST /api/task/1111/action/cancel"]);

    let (url, replayed) = serve(&rig, crate::vendors::vcenter::KIND).await;
    let mut target = rig.target(crate::vendors::vcenter::KIND);
    target.url = url.clone();
    let vc = vcenter::client::VcenterClient::new(&target, Rig::calls(), clock.clone()).unwrap();
    for action in [
        vcenter::wire::HistoryAction::Start,
        vcenter::wire::HistoryAction::Pause,
        vcenter::wire::HistoryAction::Resume,
        vcenter::wire::HistoryAction::Cancel,
    ] {
        vc.history_action(action, None).await.unwrap();
    }
    vc.ovf_instantiate("s-1", Vec::new()).await.unwrap();
    vc.ovf_progress("s-1", 50).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (entry, file) =
        vcenter::ovf_push::test_disk(dir.path(), format!("{url}/nfc/s-1/disk.vmdk"));
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    vc.ovf_upload("s-1", &entry, &file, sent).await.unwrap();
    vc.ovf_delete("s-1").await.unwrap();
    assert_eq!(
        take(&replayed).len(),
        8,
        "four history actions and four OVF calls"
    );

    let (url, replayed) = serve(&rig, crate::vendors::huawei_sms::KIND).await;
    let mut target = rig.target(crate::vendors::huawei_sms::KIND);
    target.url = url;
    let sms = huawei_sms::client::SmsClient::new(&target, Rig::calls(), clock).unwrap();
    let id = "8abda8635e09d185015e09d188dd0001";
    for operation in huawei_sms::wire::OPERATIONS {
        sms.action(id, operation, Map::new()).await.unwrap();
    }
    let expected = vec![format!("POST /v3/tasks/{id}/action"); huawei_sms::wire::OPERATIONS.len()];
    assert_eq!(take(&replayed), expected);

    rig.assert_untouched(&[
        crate::vendors::powerstore::KIND,
        crate::vendors::vcd::KIND,
        crate::vendors::vcenter::KIND,
        crate::vendors::huawei_sms::KIND,
    ])
    .await;
    rig.lab.shutdown().await;
}
