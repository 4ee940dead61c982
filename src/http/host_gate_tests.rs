//! The host gate as tables, one per vendor's link-following path: each row a link (or
//! `Location`) and the whole outcome, the URL accepted or the error a user sees.

use std::path::Path;

use super::*;
use crate::config::{TargetKind, Targets};

const FILE: &str = r#"
[targets.vcd1]
kind = "vcd"
url = "https://vcd.example.com"
user = "administrator@System"
password_env = "CUTOVER_TEST_UNUSED"

[targets.vc]
kind = "vcenter"
url = "https://vc.example.com"
user = "administrator@vsphere.local"
password_env = "CUTOVER_TEST_UNUSED"
upload_hosts = ["esx-01.example.com", "*.rack2.example.com"]

[targets.eu]
kind = "huawei_sms"
url = "https://sms.example.com"
iam_url = "https://iam.example.com"
user = "bot"
domain = "acme"
project_id = "0215ef11e49d4743be23dd97a1561abc"
password_env = "CUTOVER_TEST_UNUSED"

[targets.array1]
kind = "powerstore"
url = "http://127.0.0.1:4001"
user = "admin"
password = "x"
"#;

fn gate(kind: TargetKind, name: &str) -> HostGate {
    let targets =
        Targets::parse(FILE, Path::new("cutover.toml"), &crate::vendors::kinds()).unwrap();
    HostGate::of(targets.get(kind, name).unwrap()).unwrap()
}

/// `link` checked for `operation`: `Ok(url)` as the gate resolved it, or the error
/// as a user reads it.
#[track_caller]
fn case(gate: &HostGate, operation: &str, link: &str, expected: Result<&str, &str>) {
    let got = gate
        .check(link, operation)
        .map(|url| url.to_string())
        .map_err(|err| err.to_string());
    assert_eq!(
        got.as_ref().map(String::as_str).map_err(String::as_str),
        expected,
        "{link}"
    );
}

/// The refusal of a link to `origin` for `operation` of target `target`, whose own
/// url is `own`, with nothing else allowed.
fn elsewhere(target: &str, operation: &str, origin: &str, own: &str) -> String {
    format!(
        "`{target}` {operation}: returned a link to {origin}; refusing to follow: requests go only to the target's url ({own}) (kind: http)"
    )
}

fn with_credentials(target: &str, operation: &str, origin: &str) -> String {
    format!(
        "`{target}` {operation}: returned a link to {origin} with credentials in it; refusing to follow (kind: http)"
    )
}

/// Each `(link, url)` checked for `operation` is accepted as `url`.
#[track_caller]
fn accepted(gate: &HostGate, operation: &str, rows: &[(&str, &str)]) {
    for (link, url) in rows {
        case(gate, operation, link, Ok(url));
    }
}

/// Each `(link, origin)` checked for `operation` is refused with `refusal(origin)`.
#[track_caller]
fn refused(
    gate: &HostGate,
    operation: &str,
    refusal: impl Fn(&str) -> String,
    rows: &[(&str, &str)],
) {
    for (link, origin) in rows {
        case(gate, operation, link, Err(&refusal(origin)));
    }
}

#[test]
fn cloud_director_task_links_stay_on_the_target() {
    let gate = gate(crate::vendors::vcd::KIND, "vcd1");
    let own = "https://vcd.example.com";
    for operation in ["vcd.migrate_entities", "vcd.task.cancel", "task"] {
        let task = "https://vcd.example.com/api/task/7";
        accepted(
            &gate,
            operation,
            &[
                ("/api/task/7", task),
                ("api/task/7", task),
                (task, task),
                ("https://VCD.example.com:443/api/task/7", task),
            ],
        );
        refused(
            &gate,
            operation,
            |origin| elsewhere("vcd1", operation, origin, own),
            &[
                (
                    "https://vcd.example.com.:443/api/task/7",
                    "https://vcd.example.com.",
                ),
                ("https://evil.example/api/task/7", "https://evil.example"),
                (
                    "https://vcd.example.com:8443/api/task/7",
                    "https://vcd.example.com:8443",
                ),
                (
                    "http://vcd.example.com/api/task/7",
                    "http://vcd.example.com",
                ),
                ("//evil.example/x", "https://evil.example"),
                ("ftp://vcd.example.com/api/task/7", "ftp://vcd.example.com"),
            ],
        );
        refused(
            &gate,
            operation,
            |origin| with_credentials("vcd1", operation, origin),
            &[
                (
                    "https://user:pw@vcd.example.com/api/task/7",
                    "https://vcd.example.com",
                ),
                ("https://token@evil.example/x", "https://evil.example"),
            ],
        );
        case(
            &gate,
            operation,
            "https://[::1/",
            Err(&format!(
                "`vcd1` {operation}: returned a link that is not a URL (invalid IPv6 address); refusing to follow (kind: http)"
            )),
        );
    }
}

/// Loopback spelled another way is another origin: the gate compares hosts as the URL
/// standard parses them and resolves no name, so `localhost` is not `127.0.0.1` and
/// `[::1]` is neither. An IPv4 literal in a short or hex form parses to the same
/// address and is the same origin.
#[test]
fn loopback_spelled_differently_is_another_origin() {
    let gate = gate(crate::vendors::powerstore::KIND, "array1");
    let own = "http://127.0.0.1:4001";
    let job = "http://127.0.0.1:4001/api/rest/job/1";
    accepted(
        &gate,
        "wait",
        &[
            ("/api/rest/job/1", job),
            ("http://127.1:4001/api/rest/job/1", job),
            ("http://0x7f.0.0.1:4001/api/rest/job/1", job),
        ],
    );
    refused(
        &gate,
        "wait",
        |origin| elsewhere("array1", "wait", origin, own),
        &[
            (
                "http://localhost:4001/api/rest/job/1",
                "http://localhost:4001",
            ),
            ("http://[::1]:4001/api/rest/job/1", "http://[::1]:4001"),
            (
                "http://127.0.0.2:4001/api/rest/job/1",
                "http://127.0.0.2:4001",
            ),
            (
                "http://127.0.0.1:4002/api/rest/job/1",
                "http://127.0.0.1:4002",
            ),
            ("http://127.0.0.1/api/rest/job/1", "http://127.0.0.1"),
            (
                "https://127.0.0.1:4001/api/rest/job/1",
                "https://127.0.0.1:4001",
            ),
        ],
    );
}

#[test]
fn vcenter_uploads_go_to_the_target_or_its_upload_hosts_and_only_for_a_push() {
    let gate = gate(crate::vendors::vcenter::KIND, "vc");
    let push = |origin: &str| {
        format!(
            "`vc` ovf.push: returned a link to {origin}; refusing to follow: requests go only to the target's url (https://vc.example.com) and the hosts in `upload_hosts`; add the host to `upload_hosts` of target `vc` if it is one of yours (kind: http)"
        )
    };
    let disk = "/nfc/52a1/disk-0.vmdk";
    let on = |origin: &str| format!("{origin}{disk}");
    case(&gate, OVF_PUSH, disk, Ok(&on("https://vc.example.com")));
    // Each row: the origin a link to the disk is on, and the one it resolves to.
    for (link, origin) in [
        ("https://vc.example.com", "https://vc.example.com"),
        ("https://esx-01.example.com", "https://esx-01.example.com"),
        (
            "https://ESX-01.example.com:443",
            "https://esx-01.example.com",
        ),
        (
            "https://esx-07.rack2.example.com",
            "https://esx-07.rack2.example.com",
        ),
    ] {
        case(&gate, OVF_PUSH, &on(link), Ok(&on(origin)));
    }
    // Each row: the origin a link to the disk is on, and the one its refusal names.
    for (link, origin) in [
        ("https://rack2.example.com", "https://rack2.example.com"),
        ("https://esx-02.example.com", "https://esx-02.example.com"),
        ("https://evil.example", "https://evil.example"),
        (
            "https://esx-01.example.com:8443",
            "https://esx-01.example.com:8443",
        ),
        ("http://esx-01.example.com", "http://esx-01.example.com"),
        ("http://vc.example.com", "http://vc.example.com"),
        ("//evil.example", "https://evil.example"),
    ] {
        case(&gate, OVF_PUSH, &on(link), Err(&push(origin)));
    }
    case(
        &gate,
        OVF_PUSH,
        &on("https://root:pw@esx-01.example.com"),
        Err(&with_credentials(
            "vc",
            OVF_PUSH,
            "https://esx-01.example.com",
        )),
    );
    // An upload host is named for pushing disks only: no other call goes there.
    case(
        &gate,
        "history.start",
        &on("https://esx-01.example.com"),
        Err(
            "`vc` history.start: returned a link to https://esx-01.example.com, which `upload_hosts` of target `vc` names for ovf.push only; refusing to follow (kind: http)",
        ),
    );
    case(
        &gate,
        "history.start",
        &on("https://evil.example"),
        Err(&elsewhere(
            "vc",
            "history.start",
            "https://evil.example",
            "https://vc.example.com",
        )),
    );
}

#[test]
fn huawei_iam_is_reached_only_to_log_in() {
    let gate = gate(crate::vendors::huawei_sms::KIND, "eu");
    let tokens = "https://iam.example.com/v3/auth/tokens";
    accepted(
        &gate,
        IAM_LOGIN,
        &[
            (tokens, tokens),
            (
                "https://sms.example.com/v3/x",
                "https://sms.example.com/v3/x",
            ),
        ],
    );
    let login = |origin: &str| {
        format!(
            "`eu` iam.login: returned a link to {origin}; refusing to follow: requests go only to the target's url (https://sms.example.com) and https://iam.example.com (kind: http)"
        )
    };
    refused(
        &gate,
        IAM_LOGIN,
        login,
        &[
            (
                "https://iam.example.com:8443/v3/auth/tokens",
                "https://iam.example.com:8443",
            ),
            (
                "http://iam.example.com/v3/auth/tokens",
                "http://iam.example.com",
            ),
            (
                "https://evil.example/v3/auth/tokens",
                "https://evil.example",
            ),
        ],
    );
    case(
        &gate,
        IAM_LOGIN,
        "https://bot:pw@iam.example.com/v3/auth/tokens",
        Err(&with_credentials(
            "eu",
            IAM_LOGIN,
            "https://iam.example.com",
        )),
    );
    case(
        &gate,
        "sms.task",
        tokens,
        Err(
            "`eu` sms.task: returned a link to https://iam.example.com, which `iam_url` of target `eu` names for iam.login only; refusing to follow (kind: http)",
        ),
    );
}

#[test]
fn a_redirect_names_only_the_origin_it_pointed_to() {
    let url = Url::parse("https://array1.example.com/api/rest/x").unwrap();
    #[track_caller]
    fn case(url: &Url, status: u16, location: Option<&str>, mutating: bool, expected: &str) {
        let mut answer = http::Response::builder().status(status);
        if let Some(location) = location {
            answer = answer.header("location", location);
        }
        let answer = Response::from(answer.body(Vec::<u8>::new()).unwrap());
        let err = redirect_error(&answer, url, mutating, "read it first");
        assert_eq!(err.status, Some(status));
        assert!(!err.retryable);
        assert_eq!(err.to_string(), expected);
    }
    case(
        &url,
        302,
        Some("http://127.0.0.1:9/steal?token=abc"),
        false,
        "302 Found: answered with a redirect to http://127.0.0.1:9, which is never followed; if the API moved, change the target's `url` (kind: http)",
    );
    case(
        &url,
        301,
        Some("/login"),
        false,
        "301 Moved Permanently: answered with a redirect to https://array1.example.com, which is never followed; if the API moved, change the target's `url` (kind: http)",
    );
    case(
        &url,
        307,
        Some("https://admin:secret@evil.example/x"),
        true,
        "307 Temporary Redirect: answered with a redirect to https://evil.example, which is never followed; the request may have been applied: read it first (kind: unknown_outcome)",
    );
    case(
        &url,
        303,
        None,
        true,
        "303 See Other: answered with a redirect without a usable `Location`, which is never followed; the request may have been applied: read it first (kind: unknown_outcome)",
    );
}

/// A request whose URL the gate refuses is not sent, whichever way it was built: the
/// client checks every request's URL before it leaves.
#[tokio::test]
async fn a_request_built_for_another_host_is_never_sent() {
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let port = elsewhere.local_addr().unwrap().port();
    let client =
        crate::http::client::HttpClient::new(&Target::for_tests("http://127.0.0.1:1")).unwrap();
    let url = Url::parse(&format!("http://127.0.0.1:{port}/api/rest/import_session")).unwrap();
    let read = client.request(reqwest::Method::GET, url.clone());
    let err = client
        .send("import_sessions", read, |_| None)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`array1` import_sessions: returned a link to http://127.0.0.1:{port}; refusing to follow: requests go only to the target's url (http://127.0.0.1:1) (kind: http)"
        )
    );
    let change = crate::http::client::tests::cutover(&client);
    let post = client.request(reqwest::Method::POST, url);
    let err = client.mutate(&change, post, |_| None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "`array1` cutover: returned a link to http://127.0.0.1:{port}; refusing to follow: requests go only to the target's url (http://127.0.0.1:1) (kind: http)"
        )
    );
    assert_eq!(
        elsewhere.accept().map(drop).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "nothing connected"
    );
}
