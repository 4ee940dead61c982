//! The host gate on each vendor's real code path, against the lab on 127.0.0.1: the
//! client's target points at a small loopback proxy in front of the lab listener, which
//! passes requests through except those a test has it answer itself, with a hostile
//! `Location` or a redirect. A second loopback listener counts every request it gets;
//! whatever a server hands back, it is never called.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::api_error::ApiError;
use crate::config::{Target, TargetKind};
use crate::file_gate::GatedFile;
use crate::http::lab::{LabListener, serve};
use crate::vendors::huawei_sms::client::SmsClient;
use crate::vendors::powerstore::client::PowerStoreClient;
use crate::vendors::vcd::client::VcdClient;
use crate::vendors::vcenter::client::VcenterClient;
use crate::vendors::vcenter::ovf_wire::OvfFileInfo;
use crate::vendors::vcenter::wire::HistoryAction;
use crate::vendors::verify_testing::Rig;

/// A listener that must never be called: it counts what it gets and answers 200.
struct Recorder {
    listener: LabListener,
    hits: Arc<AtomicUsize>,
}

impl Recorder {
    async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&hits);
        let router = Router::new().fallback(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { "{}" }
        });
        let listener = serve(router, 0, None).await.unwrap();
        Self { listener, hits }
    }

    fn url(&self) -> String {
        self.listener.url()
    }

    fn port(&self) -> u16 {
        self.listener.addr.port()
    }

    fn calls(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// What the proxy answers itself to a request whose method is `method` and whose path
/// contains `path`: `status`, with `location` when given. `relocate` instead passes
/// the request on and puts `location` in the lab's answer.
#[derive(Clone)]
struct Rule {
    method: &'static str,
    path: &'static str,
    status: u16,
    location: Option<String>,
    relocate: bool,
}

struct ProxyState {
    lab: String,
    rules: std::sync::Mutex<Vec<Rule>>,
    answered: AtomicUsize,
}

/// The loopback proxy in front of one lab listener.
struct Proxy {
    listener: LabListener,
    state: Arc<ProxyState>,
}

impl Proxy {
    async fn start(lab: String) -> Self {
        let state = Arc::new(ProxyState {
            lab,
            rules: std::sync::Mutex::new(Vec::new()),
            answered: AtomicUsize::new(0),
        });
        let router = Router::new()
            .fallback(pass_on)
            .with_state(Arc::clone(&state));
        let listener = serve(router, 0, None).await.unwrap();
        Self { listener, state }
    }

    fn url(&self) -> String {
        self.listener.url()
    }

    fn port(&self) -> u16 {
        self.listener.addr.port()
    }

    /// Replaces the rules.
    fn set(&self, rules: Vec<Rule>) {
        *self.state.rules.lock().unwrap() = rules;
    }

    /// How many requests the proxy answered itself.
    fn answered(&self) -> usize {
        self.state.answered.load(Ordering::SeqCst)
    }

    /// `target` pointed at this proxy.
    fn target(&self, target: &Target) -> Target {
        Target {
            url: self.url(),
            ..target.clone()
        }
    }
}

async fn pass_on(State(state): State<Arc<ProxyState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let rule = state
        .rules
        .lock()
        .unwrap()
        .iter()
        .find(|r| r.method == parts.method.as_str() && parts.uri.path().contains(r.path))
        .cloned();
    let with_location = |mut response: Response, location: &Option<String>| {
        if let Some(location) = location {
            let value = HeaderValue::from_str(location).unwrap();
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    };
    if let Some(rule) = rule.as_ref().filter(|r| !r.relocate) {
        state.answered.fetch_add(1, Ordering::SeqCst);
        let status = StatusCode::from_u16(rule.status).unwrap();
        return with_location(status.into_response(), &rule.location);
    }
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    #[allow(
        clippy::disallowed_methods,
        reason = "the test proxy forwards to the lab"
    )]
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut forward = client.request(parts.method.clone(), format!("{}{path}", state.lab));
    for (name, value) in &parts.headers {
        // The lab writes links with the Host it was asked on: the proxy's.
        forward = forward.header(name, value);
    }
    let answer = forward.body(body.to_vec()).send().await.unwrap();
    let mut response = Response::builder().status(answer.status().as_u16());
    for (name, value) in answer.headers() {
        if name != header::TRANSFER_ENCODING && name != header::CONTENT_LENGTH {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap();
    let response = response.body(Body::from(bytes)).unwrap();
    match rule {
        Some(rule) => with_location(response, &rule.location),
        None => response,
    }
}

fn redirect(method: &'static str, path: &'static str, status: u16, to: &str) -> Rule {
    Rule {
        method,
        path,
        status,
        location: Some(to.to_owned()),
        relocate: false,
    }
}

/// What a test of the gate runs on: the lab, the proxy in front of one vendor's
/// listener, the listener that must never be called, and the vendor's target on the
/// proxy.
struct Gate {
    rig: Rig,
    proxy: Proxy,
    recorder: Recorder,
    target: Target,
}

impl Gate {
    async fn start(kind: TargetKind) -> Self {
        let rig = Rig::start().await;
        let proxy = Proxy::start(rig.lab.url(kind).unwrap()).await;
        let recorder = Recorder::start().await;
        let target = proxy.target(&rig.target(kind));
        Self {
            rig,
            proxy,
            recorder,
            target,
        }
    }

    /// Has the proxy answer each `(method, path, status)` itself, with a redirect to
    /// `away` on the listener that must not be called.
    fn redirect(&self, away: &str, rules: &[(&'static str, &'static str, u16)]) {
        let to = format!("{}{away}", self.recorder.url());
        let rules = rules
            .iter()
            .map(|&(method, path, status)| redirect(method, path, status, &to));
        self.proxy.set(rules.collect());
    }

    /// A read's redirect refused, as a user reads it.
    #[track_caller]
    fn read_refused<T: std::fmt::Debug>(
        &self,
        got: Result<T, ApiError>,
        operation: &str,
        status: &str,
    ) {
        let (target, port) = (&self.target.name, self.recorder.port());
        assert_eq!(
            got.unwrap_err().to_string(),
            format!(
                "`{target}` {operation}: {status}: answered with a redirect to http://127.0.0.1:{port}, which is never followed; if the API moved, change the target's `url` (kind: http)"
            )
        );
    }

    /// A mutation's redirect refused, as a user reads it; `advice` is the mutation's own.
    #[track_caller]
    fn change_refused<T: std::fmt::Debug>(
        &self,
        got: Result<T, ApiError>,
        operation: &str,
        status: &str,
        advice: &str,
    ) {
        let (target, port) = (&self.target.name, self.recorder.port());
        assert_eq!(
            got.unwrap_err().to_string(),
            format!(
                "`{target}` {operation}: {status}: answered with a redirect to http://127.0.0.1:{port}, which is never followed; the request may have been applied: {advice} (kind: unknown_outcome)"
            )
        );
    }

    /// Both redirects were the proxy's answers; the listener they point at was never
    /// called.
    #[track_caller]
    fn assert_never_followed(&self) {
        assert_eq!((self.proxy.answered(), self.recorder.calls()), (2, 0));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn powerstore_redirects_are_never_followed() {
    let gate = Gate::start(crate::vendors::powerstore::KIND).await;
    let client = PowerStoreClient::new(&gate.target, Rig::calls(), gate.rig.clock.clone()).unwrap();
    gate.redirect(
        "/api/rest/import_session",
        &[
            ("GET", "/api/rest/import_session", 302),
            ("POST", "/cutover", 307),
        ],
    );
    gate.read_refused(
        client.import_session("lun03").await,
        "import_session",
        "302 Found",
    );
    gate.change_refused(
        client.cutover("lun03").await,
        "cutover",
        "307 Temporary Redirect",
        "read import session `lun03` before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed`",
    );
    gate.assert_never_followed();
    gate.rig.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vcenter_redirects_are_never_followed() {
    let gate = Gate::start(crate::vendors::vcenter::KIND).await;
    let client = VcenterClient::new(&gate.target, Rig::calls(), gate.rig.clock.clone()).unwrap();
    gate.redirect(
        "/api/vcenter/deployment/history",
        &[
            ("GET", "/vcenter/deployment/history", 301),
            ("POST", "/vcenter/deployment/history", 303),
        ],
    );
    gate.read_refused(
        client.history().await,
        "history.status",
        "301 Moved Permanently",
    );
    gate.change_refused(
        client.history_action(HistoryAction::Start, None).await,
        "history.start",
        "303 See Other",
        "read the history import before trying again: it took effect if its state is `RUNNING`, `BLOCKED`, `SUCCEEDED` or `FAILED`",
    );
    gate.assert_never_followed();
    gate.rig.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_director_redirects_are_never_followed() {
    let gate = Gate::start(crate::vendors::vcd::KIND).await;
    let client = VcdClient::new(&gate.target, Rig::calls(), gate.rig.clock.clone()).unwrap();
    gate.redirect(
        "/cloudapi/1.0.0/entities/x",
        &[
            ("GET", "/cloudapi/1.0.0/entities/", 302),
            ("POST", "/resolve", 308),
        ],
    );
    let entity = "urn:vcloud:entity:acme:vm:0001";
    gate.read_refused(client.entity(entity).await, "entity", "302 Found");
    gate.change_refused(
        client.resolve(entity).await,
        "resolve",
        "308 Permanent Redirect",
        "sending it again is safe: resolving validates the entity again and changes nothing else",
    );
    gate.assert_never_followed();
    gate.rig.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huawei_redirects_are_never_followed_even_by_iam() {
    let gate = Gate::start(crate::vendors::huawei_sms::KIND).await;
    let (rig, proxy, recorder) = (&gate.rig, &gate.proxy, &gate.recorder);
    let target = gate.target.clone();
    let lab_target = rig.target(crate::vendors::huawei_sms::KIND);
    let client = SmsClient::new(&target, Rig::calls(), rig.clock.clone()).unwrap();
    let task = "0123456789abcdef0123456789abcdef";
    gate.redirect(
        "/v3/tasks",
        &[("GET", "/v3/tasks/", 302), ("POST", "/action", 307)],
    );
    gate.read_refused(client.task(task).await, "task", "302 Found");
    let got = client.action(task, "start", serde_json::Map::new()).await;
    let advice = crate::vendors::huawei_sms::client::MUTATIONS
        .mutation(&target.name, "start", (Some(task), None), "start")
        .unwrap()
        .verification
        .advice();
    gate.change_refused(got, "start", "307 Temporary Redirect", &advice);
    gate.assert_never_followed();
    // IAM is named by the target entry, and its login is redirected too: the password
    // does not follow.
    let iam = Proxy::start(rig.lab.url(crate::vendors::huawei_sms::KIND).unwrap()).await;
    let scope = crate::vendors::huawei_sms::target::HuaweiScope::of(&lab_target)
        .cloned()
        .map(|scope| crate::vendors::huawei_sms::target::HuaweiScope {
            iam_url: Some(format!(
                "{}{}",
                iam.url(),
                crate::vendors::huawei_sms::lab::IAM_PREFIX
            )),
            ..scope
        });
    let target = Target {
        extras: scope.map(|scope| scope.into_extras()).unwrap_or_default(),
        ..target
    };
    iam.set(vec![redirect("POST", "/auth/tokens", 307, &recorder.url())]);
    let client = SmsClient::new(&target, Rig::calls(), rig.clock.clone()).unwrap();
    proxy.set(Vec::new());
    let err = client.task(task).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` iam.login: 307 Temporary Redirect: answered with a redirect to http://127.0.0.1:{}, which is never followed; if the API moved, change the target's `url` (kind: http)",
            target.name,
            recorder.port()
        )
    );
    assert_eq!((iam.answered(), recorder.calls()), (1, 0));
    gate.rig.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_director_follows_a_task_location_only_on_the_target() {
    let gate = Gate::start(crate::vendors::vcd::KIND).await;
    let (rig, proxy, recorder, target) = (&gate.rig, &gate.proxy, &gate.recorder, &gate.target);
    let client = VcdClient::new(target, Rig::calls(), rig.clock.clone()).unwrap();
    let (own, port, other) = (proxy.url(), proxy.port(), recorder.port());
    let refused = |origin: &str| {
        format!(
            "`{}` vcd.migrate_entities: returned a link to {origin}; refusing to follow: requests go only to the target's url ({own}) (kind: http)",
            target.name
        )
    };
    let credentials = format!(
        "`{}` vcd.migrate_entities: returned a link to http://127.0.0.1:{port} with credentials in it; refusing to follow (kind: http)",
        target.name
    );
    // `None`: the lab's own `Location`, written for the host it was asked on.
    let cases: Vec<(Option<String>, Result<String, String>)> = vec![
        (None, Ok(format!("{own}/api/task/"))),
        (Some("/api/task/7".into()), Ok(format!("{own}/api/task/7"))),
        (
            Some(format!("{own}/api/task/7")),
            Ok(format!("{own}/api/task/7")),
        ),
        (
            Some(format!("http://127.0.0.1:{other}/api/task/7")),
            Err(refused(&format!("http://127.0.0.1:{other}"))),
        ),
        (
            Some(format!("http://localhost:{port}/api/task/7")),
            Err(refused(&format!("http://localhost:{port}"))),
        ),
        (
            Some(format!("http://[::1]:{port}/api/task/7")),
            Err(refused(&format!("http://[::1]:{port}"))),
        ),
        (
            Some(format!("https://127.0.0.1:{port}/api/task/7")),
            Err(refused(&format!("https://127.0.0.1:{port}"))),
        ),
        (
            Some(format!("http://admin:secret@127.0.0.1:{port}/api/task/7")),
            Err(credentials),
        ),
        (
            Some("//evil.example/api/task/7".into()),
            Err(refused("http://evil.example")),
        ),
    ];
    for (location, expected) in cases {
        proxy.set(
            location
                .iter()
                .map(|location| Rule {
                    method: "POST",
                    path: "/migrateEntities",
                    status: 0,
                    location: Some(location.clone()),
                    relocate: true,
                })
                .collect(),
        );
        let got = client
            .migrate_entities(
                "urn:vcloud:type:acme:vm:1.0.0",
                "urn:vcloud:type:acme:vm:2.0.0",
                false,
            )
            .await;
        match (&got, &expected) {
            // The lab's own task id is new each time: the prefix is what is checked.
            (Ok(url), Ok(prefix)) => assert!(
                url.as_str().starts_with(prefix.as_str()),
                "{location:?}: {url}"
            ),
            (Err(err), Err(message)) => assert_eq!(&err.to_string(), message, "{location:?}"),
            _ => panic!("{location:?}: {got:?}, expected {expected:?}"),
        }
        // Each migration ends before the next is asked for.
        rig.clock.advance(Duration::from_secs(24 * 3600));
    }
    // A task link kept from elsewhere is read or cancelled only on the target.
    let elsewhere = reqwest::Url::parse(&format!("http://127.0.0.1:{other}/api/task/7")).unwrap();
    let err = client.task(&elsewhere).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` task: returned a link to http://127.0.0.1:{other}; refusing to follow: requests go only to the target's url ({own}) (kind: http)",
            target.name
        )
    );
    let err = client.cancel_task(&elsewhere).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`{}` vcd.task.cancel: returned a link to http://127.0.0.1:{other}; refusing to follow: requests go only to the target's url ({own}) (kind: http)",
            target.name
        )
    );
    assert_eq!(recorder.calls(), 0);
    gate.rig.lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vcenter_uploads_go_only_where_the_target_allows() {
    let gate = Gate::start(crate::vendors::vcenter::KIND).await;
    let (rig, proxy, recorder, target) = (&gate.rig, &gate.proxy, &gate.recorder, &gate.target);
    let client = VcenterClient::new(target, Rig::calls(), rig.clock.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("disk-0.vmdk");
    crate::hook::files::write_text(&path, "disk").unwrap();
    let file = GatedFile { path, len: 4 };
    proxy.set(vec![Rule {
        method: "PUT",
        path: "/nfc/",
        status: 200,
        location: None,
        relocate: false,
    }]);
    let (own, port, other) = (proxy.url(), proxy.port(), recorder.port());
    let refused = |origin: &str| {
        format!(
            "`{}` ovf.push: returned a link to {origin}; refusing to follow: requests go only to the target's url ({own}) (kind: http)",
            target.name
        )
    };
    let cases: Vec<(String, Result<(), String>)> = vec![
        ("http://*/nfc/s1/disk-0.vmdk".into(), Ok(())),
        (format!("http://*:{port}/nfc/s1/disk-0.vmdk"), Ok(())),
        ("/nfc/s1/disk-0.vmdk".into(), Ok(())),
        (format!("{own}/nfc/s1/disk-0.vmdk"), Ok(())),
        (
            format!("http://127.0.0.1:{other}/nfc/s1/disk-0.vmdk"),
            Err(refused(&format!("http://127.0.0.1:{other}"))),
        ),
        (
            format!("http://*:{other}/nfc/s1/disk-0.vmdk"),
            Err(refused(&format!("http://127.0.0.1:{other}"))),
        ),
        (
            format!("http://localhost:{port}/nfc/s1/disk-0.vmdk"),
            Err(refused(&format!("http://localhost:{port}"))),
        ),
        (
            "https://*/nfc/s1/disk-0.vmdk".into(),
            Err(refused(&format!("https://127.0.0.1:{port}"))),
        ),
        (
            format!("http://root:pw@127.0.0.1:{port}/nfc/s1/disk-0.vmdk"),
            Err(format!(
                "`{}` ovf.push: returned a link to http://127.0.0.1:{port} with credentials in it; refusing to follow (kind: http)",
                target.name
            )),
        ),
        (
            "//evil.example/nfc/s1/disk-0.vmdk".into(),
            Err(refused("http://evil.example")),
        ),
    ];
    let mut accepted = 0;
    for (link, expected) in cases {
        let entry = OvfFileInfo {
            name: "disk-0.vmdk".into(),
            file_type: "DISK".into(),
            optional_upload: false,
            file_url: Some(link.clone()),
            ssl_thumb_print: None,
            upload_method: Some("PUT".into()),
            size: 4,
            bytes_transferred: 0,
            sha256: None,
        };
        let got = client
            .ovf_upload("s1", &entry, &file, Arc::new(AtomicU64::new(0)))
            .await
            .map_err(|err| err.to_string());
        accepted += usize::from(got.is_ok());
        assert_eq!(got, expected, "{link}");
    }
    assert_eq!((proxy.answered(), accepted, recorder.calls()), (4, 4, 0));
    gate.rig.lab.shutdown().await;
}
