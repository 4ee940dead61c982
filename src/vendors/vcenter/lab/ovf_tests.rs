//! The OVF import session through the proxy router: create, the §3.4 state machine on
//! the lab clock, push uploads, progress and reclaiming.

use std::time::Duration;

use serde_json::{Value, json};

use super::ovf_packages::PACKAGES_PATH;
use super::tests::{Answer, Client, kind, lab, lab_state, send};
use super::{PROXY_USER, Port, VIEWER_USER};

const PATH: &str = "/rest/com/vmware/vcenter/ovf/import-session";
const PULL_APP: &str = "http://vc.lab/_lab/packages/app/app.ovf";
const PULL_BROKEN: &str = "http://vc.lab/_lab/packages/broken/broken.ovf";

fn admin(lab: &super::LabState) -> Client {
    Client::basic(lab, Port::Proxy, true, PROXY_USER)
}

/// The body of a create for a pull session of `source`, with client token `token`.
pub(super) fn pull(source: &str, token: Option<&str>) -> String {
    json!({"client_token": token, "resource_pool": "resgroup-8",
        "create_spec": {"source_type": "PULL_SOURCE", "import_flags": [], "pull_source": source}})
    .to_string()
}

fn push() -> String {
    json!({"resource_pool": "resgroup-9",
        "create_spec": {"source_type": "PUSH_SOURCE", "import_flags": []}})
    .to_string()
}

/// Creates a session from `body`; its id.
pub(super) async fn create(client: &Client, body: &str) -> String {
    let uri = format!("{PATH}?~action=create-for-resource-pool");
    let answer = client.call("POST", &uri, body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["value"].as_str().unwrap().to_owned()
}

/// The Info of session `id`.
pub(super) async fn info(client: &Client, id: &str) -> Value {
    let answer = client.call("GET", &format!("{PATH}/id:{id}"), "").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["value"].clone()
}

/// Sends `action` with `body` to session `id`.
pub(super) async fn action(client: &Client, id: &str, action: &str, body: &str) -> Answer {
    client
        .call("POST", &format!("{PATH}/id:{id}?~action={action}"), body)
        .await
}

#[tokio::test]
async fn create_is_idempotent_and_checks_the_pool() {
    let (lab, _clock) = lab();
    let client = admin(&lab);
    let first = create(&client, &pull(PULL_APP, Some("wave1"))).await;
    assert_eq!(create(&client, &pull(PULL_APP, Some("wave1"))).await, first);
    // The second answered the first session: one create applied.
    assert_eq!(lab.mutations().count("create-for-resource-pool"), 1);
    let plain = client.call("POST", PATH, &pull(PULL_APP, None)).await;
    assert_eq!(plain.status, 200, "{}", plain.text);
    assert_ne!(plain.body["value"], json!(first));
    let body = pull(PULL_APP, None).replace("resgroup-8", "resgroup-1");
    let answer = client.call("POST", PATH, &body).await;
    assert_eq!((answer.status, kind(&answer).as_str()), (404, "not_found"));
    assert!(answer.body["type"].as_str().unwrap().ends_with("not_found"));
    let anonymous = send(&lab, Port::Proxy, "POST", PATH, &[], &pull(PULL_APP, None)).await;
    assert_eq!(anonymous.status, 401);
    // A viewer may not import; the appliance port has no import route.
    let viewer = Client::basic(&lab, Port::Proxy, true, VIEWER_USER);
    let appliance = Client::basic(&lab, Port::Appliance, true, super::APPLIANCE_USER);
    for (client, refused) in [(viewer, 403), (appliance, 404)] {
        let answer = client.call("POST", PATH, &pull(PULL_APP, None)).await;
        assert_eq!(answer.status, refused, "{}", answer.text);
    }
}

#[tokio::test]
async fn a_pull_session_reads_its_descriptor_after_a_second() {
    let (lab, clock) = lab();
    let client = admin(&lab);
    let id = create(&client, &pull(PULL_APP, None)).await;
    assert_eq!(info(&client, &id).await["state"], "IMPORT_OVF_TRANSFER");
    clock.advance(Duration::from_secs(1));
    let info = info(&client, &id).await;
    assert_eq!(info["state"], "IMPORT_SELECTING_OVF_PARAMS");
    let files: Vec<_> = info["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(
        files,
        [
            json!("app.ovf"),
            json!("app-disk1.vmdk"),
            json!("app-disk2.vmdk")
        ]
    );
    assert_eq!(info["files"][1]["size"], 4096);
    let disk = format!("{PACKAGES_PATH}app/app-disk2.vmdk");
    let served = send(&lab, Port::Proxy, "GET", &disk, &[], "").await;
    assert_eq!(served.status, 200);
}

#[tokio::test]
async fn a_malformed_descriptor_ends_in_error_with_line_and_column() {
    let (lab, clock) = lab();
    let client = admin(&lab);
    let id = create(&client, &pull(PULL_BROKEN, None)).await;
    clock.advance(Duration::from_secs(1));
    let info = info(&client, &id).await;
    assert_eq!(info["state"], "IMPORT_ERROR");
    let issue = &info["errors"][0]["issues"][0];
    assert_eq!(info["errors"][0]["category"], "INPUT");
    assert_eq!(issue["file"], "broken.ovf");
    assert!(issue["line_number"].as_i64().unwrap() > 1, "{issue}");
    assert!(issue["column_number"].as_i64().unwrap() >= 1, "{issue}");
}

#[tokio::test]
async fn delete_forgets_the_session() {
    let (lab, _clock) = lab();
    let client = admin(&lab);
    let id = create(&client, &pull(PULL_APP, None)).await;
    let uri = format!("{PATH}/id:{id}");
    assert_eq!(client.call("DELETE", &uri, "").await.status, 200);
    let gone = client.call("GET", &uri, "").await;
    assert_eq!((gone.status, kind(&gone).as_str()), (404, "not_found"));
    assert_eq!(client.call("DELETE", &uri, "").await.status, 404);
}

#[tokio::test]
async fn instantiate_runs_a_pull_import_to_a_vm() {
    let (lab, clock) = lab();
    let client = admin(&lab);
    let id = create(&client, &pull(PULL_APP, None)).await;
    let params = r#"{"instantiation_parameters": [{"@class": "com.vmware.vcenter.ovf.property_params", "type": "PropertyParams", "properties": []}]}"#;
    let early = action(&client, &id, "instantiate", params).await;
    assert_eq!(
        (early.status, kind(&early).as_str()),
        (400, "not_allowed_in_current_state")
    );
    let early = action(&client, &id, "try-instantiate", params).await;
    assert_eq!(early.status, 400);
    clock.advance(Duration::from_secs(1));
    let tried = action(&client, &id, "try-instantiate", params).await;
    assert_eq!(tried.status, 200, "{}", tried.text);
    assert_eq!(
        tried.body["value"]["parameters"][0]["type"],
        "PropertyParams"
    );
    assert_eq!(
        info(&client, &id).await["state"],
        "IMPORT_SELECTING_OVF_PARAMS"
    );
    assert_eq!(
        action(&client, &id, "instantiate", params).await.status,
        200
    );
    let again = action(&client, &id, "instantiate", params).await;
    assert_eq!(
        (again.status, kind(&again).as_str()),
        (400, "not_allowed_in_current_state")
    );
    let state = info(&client, &id).await;
    assert_eq!(state["state"], "IMPORT_FILE_TRANSFER");
    assert_eq!(state["file_transfer_mode"], "SERVER_TRANSFER_MODE");
    clock.advance(Duration::from_secs(2));
    let state = info(&client, &id).await;
    assert_eq!(state["state"], "IMPORT_INSTANTIATING");
    assert_eq!(state["files"][1]["bytes_transferred"], 4096);
    clock.advance(Duration::from_secs(1));
    let state = info(&client, &id).await;
    assert_eq!(state["state"], "IMPORT_COMPLETED");
    assert!(state["vm_id"].as_str().unwrap().starts_with("vm-"));
    assert_eq!(state["progress"], 100);
}

/// `PUT`s `body` to the upload URL of `file` in `info`.
async fn upload(lab: &super::LabState, info: &Value, file: &str, body: &str) -> Answer {
    let entry = info["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == file)
        .unwrap();
    assert_eq!(entry["upload_method"], "PUT");
    let url = entry["file_url"].as_str().unwrap();
    let path = url.strip_prefix("http://vc.lab").unwrap();
    send(lab, Port::Proxy, "PUT", path, &[], body).await
}

/// Creates a push session through the proxy as `vc.lab`, so its file URLs name the host
/// [`upload`] strips.
async fn create_push_at_vc_lab(lab: &super::LabState) -> String {
    let uri = format!("{PATH}?~action=create-for-resource-pool");
    let answer = send(
        lab,
        Port::Proxy,
        "POST",
        &uri,
        &[
            ("authorization", &super::tests::basic(PROXY_USER)),
            ("host", "vc.lab"),
        ],
        &push(),
    )
    .await;
    answer.body["value"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_push_session_counts_uploads_and_completes_when_every_file_is_in() {
    let (lab, clock) = lab();
    let client = admin(&lab);
    let id = create_push_at_vc_lab(&lab).await;
    let first = info(&client, &id).await;
    assert_eq!(first["state"], "IMPORT_OVF_TRANSFER");
    assert_eq!(first["files"][0]["file_type"], "OVF");
    let early = upload(&lab, &first, "descriptor.ovf", "").await;
    assert_eq!(early.status, 200, "{}", early.text);
    // An empty descriptor is malformed: that session failed; start another.
    assert_eq!(info(&client, &id).await["state"], "IMPORT_ERROR");
    let id = create_push_at_vc_lab(&lab).await;
    let first = info(&client, &id).await;
    let descriptor = super::ovf_packages::Packages::default()
        .package("app")
        .unwrap()
        .text;
    assert_eq!(
        upload(&lab, &first, "descriptor.ovf", &descriptor)
            .await
            .status,
        200
    );
    let selecting = info(&client, &id).await;
    assert_eq!(selecting["state"], "IMPORT_SELECTING_OVF_PARAMS");
    assert_eq!(selecting["files"][0]["bytes_transferred"], descriptor.len());
    assert_eq!(selecting["files"][1]["size"], 4096);
    let disk1 = "x".repeat(4096);
    assert_eq!(
        upload(&lab, &selecting, "app-disk1.vmdk", &disk1)
            .await
            .status,
        200
    );
    let refused = action(&client, &id, "progress", r#"{"percent": 10}"#).await;
    assert_eq!(refused.status, 400);
    assert_eq!(action(&client, &id, "instantiate", "{}").await.status, 200);
    let transfer = info(&client, &id).await;
    assert_eq!(transfer["state"], "IMPORT_FILE_TRANSFER");
    assert_eq!(transfer["file_transfer_mode"], "EXTERNAL_TRANSFER_MODE");
    assert_eq!(
        action(&client, &id, "progress", r#"{"percent": 50}"#)
            .await
            .status,
        200
    );
    let bad = action(&client, &id, "progress", r#"{"percent": 101}"#).await;
    assert_eq!(
        (bad.status, bad.body["type"].as_str().unwrap()),
        (400, "com.vmware.vapi.std.errors.invalid_argument")
    );
    assert_eq!(info(&client, &id).await["progress"], 50);
    assert_eq!(
        upload(&lab, &selecting, "app-disk2.vmdk", &"y".repeat(2048))
            .await
            .status,
        200
    );
    assert_eq!(info(&client, &id).await["state"], "IMPORT_INSTANTIATING");
    clock.advance(Duration::from_secs(1));
    let done = info(&client, &id).await;
    assert_eq!(done["state"], "IMPORT_COMPLETED");
    assert_eq!(done["files"][2]["bytes_transferred"], 2048);
    let state = lab_state(&lab).await;
    let session = state["ovf_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(session["last_progress"], 50);
    assert_eq!(session["files"][1]["bytes_transferred"], 4096);
}

#[tokio::test]
async fn ended_and_idle_sessions_are_reclaimed() {
    let (lab, clock) = lab();
    let client = admin(&lab);
    let set = send(
        &lab,
        Port::Proxy,
        "POST",
        "/_lab/ovf",
        &[],
        r#"{"reclaim_after": 5}"#,
    )
    .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let broken = create(&client, &pull(PULL_BROKEN, None)).await;
    let idle = create(&client, &push()).await;
    let used = create(&client, &push()).await;
    clock.advance(Duration::from_secs(4));
    info(&client, &used).await;
    assert_eq!(info(&client, &broken).await["state"], "IMPORT_ERROR");
    clock.advance(Duration::from_secs(2));
    for gone in [&broken, &idle] {
        let answer = client.call("GET", &format!("{PATH}/id:{gone}"), "").await;
        assert_eq!((answer.status, kind(&answer).as_str()), (404, "not_found"));
    }
    assert_eq!(info(&client, &used).await["state"], "IMPORT_OVF_TRANSFER");
    let state = lab_state(&lab).await;
    assert_eq!(state["ovf_sessions"].as_array().unwrap().len(), 1);
    assert_eq!(state["ovf_sessions"][0]["source"], "PUSH_SOURCE");
}

async fn transferred(lab: &super::LabState, file: &str) -> Value {
    let state = lab_state(lab).await;
    let files = state["ovf_sessions"][0]["files"]
        .as_array()
        .unwrap()
        .clone();
    files.into_iter().find(|f| f["name"] == file).unwrap()["bytes_transferred"].clone()
}

#[tokio::test]
async fn an_upload_is_counted_while_it_streams() {
    use tower::ServiceExt;
    let (lab, _clock) = lab();
    let client = admin(&lab);
    let id = create(&client, &push()).await;
    let descriptor = super::ovf_packages::Packages::default()
        .package("app")
        .unwrap()
        .text;
    let path = format!("/_lab/nfc/{id}/descriptor.ovf");
    assert_eq!(
        send(&lab, Port::Proxy, "PUT", &path, &[], &descriptor)
            .await
            .status,
        200
    );
    // A request body fed chunk by chunk.
    let (mut tx, body) = http_body_util::channel::Channel::<axum::body::Bytes>::new(1);
    let request = axum::http::Request::put(format!("/_lab/nfc/{id}/app-disk1.vmdk"))
        .body(axum::body::Body::new(body))
        .unwrap();
    let upload = tokio::spawn(super::proxy_router(lab.clone()).oneshot(request));
    tx.send_data(vec![0; 1000].into()).await.unwrap();
    let mut seen = Value::Null;
    for _ in 0..1000 {
        seen = transferred(&lab, "app-disk1.vmdk").await;
        if seen == 1000 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(seen, 1000);
    assert_eq!(
        info(&client, &id).await["state"],
        "IMPORT_SELECTING_OVF_PARAMS"
    );
    tx.send_data(vec![0; 3096].into()).await.unwrap();
    drop(tx);
    assert_eq!(upload.await.unwrap().unwrap().status(), 200);
    assert_eq!(transferred(&lab, "app-disk1.vmdk").await, 4096);
}

#[tokio::test]
async fn a_held_upload_waits_at_its_start_until_the_hold_is_lifted() {
    use tower::ServiceExt;
    let (lab, _clock) = lab();
    let client = admin(&lab);
    let id = create(&client, &push()).await;
    let hold = |on: bool| {
        let body = json!({ "hold_uploads": on }).to_string();
        let lab = lab.clone();
        async move { send(&lab, Port::Proxy, "POST", "/_lab/ovf", &[], &body).await }
    };
    let held = hold(true).await;
    assert_eq!(
        held.body,
        json!({"reclaim_after": 3600, "hold_uploads": true})
    );
    // The descriptor is never held: a push reads it before it can name its disks.
    let descriptor = super::ovf_packages::Packages::default()
        .package("app")
        .unwrap()
        .text;
    let path = format!("/_lab/nfc/{id}/descriptor.ovf");
    let answer = send(&lab, Port::Proxy, "PUT", &path, &[], &descriptor).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let request = axum::http::Request::put(format!("/_lab/nfc/{id}/app-disk1.vmdk"))
        .body(axum::body::Body::from(vec![0; 4096]))
        .unwrap();
    let upload = tokio::spawn(super::proxy_router(lab.clone()).oneshot(request));
    let mut session = Value::Null;
    for _ in 0..1000 {
        session = lab_state(&lab).await["ovf_sessions"][0].clone();
        if session["uploads_now"] == 1 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(session["uploads_now"], 1, "{session}");
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    assert!(!upload.is_finished(), "the upload went on while held");
    assert_eq!(transferred(&lab, "app-disk1.vmdk").await, 0);
    assert_eq!(hold(false).await.body["hold_uploads"], false);
    assert_eq!(upload.await.unwrap().unwrap().status(), 200);
    assert_eq!(transferred(&lab, "app-disk1.vmdk").await, 4096);
}
