//! The plain-Rust side of `bench/run`'s call-overhead figure: one PowerStore import
//! session read N times in a row with reqwest on one thread, the way cutover's client
//! reads it (`import_session(id)`), and how long the reads took.
//!
//! Same wire as the client: a Basic login to `GET /api/rest/login_session` for the
//! `auth_cookie` session cookie (the `DELL-EMC-TOKEN` it answers goes only on changes,
//! so a read does not send it), then `GET /api/rest/import_session/{id}?select=…` with
//! every attribute selected, `Accept: application/json` and the cookie, over plain HTTP
//! on one kept-alive connection; each answer is read whole and parsed as JSON, as any
//! client would. A current-thread tokio runtime: no handoff between threads.
//!
//! Usage: `read_loop URL USER SESSION_ID COUNT`, the password in `BENCH_PASSWORD`.
//! One login and one read come first, untimed (the script side also logs in and reads
//! once before its clock starts); prints `url=…` (the request, for a load generator)
//! and `reads=N seconds=S` for the timed reads.

#![allow(
    clippy::disallowed_methods,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark that fails loudly"
)]

use std::time::Instant;

/// What cutover's client selects on every read (`IMPORT_SESSION_SELECT` in
/// src/vendors/powerstore/wire.rs): change both together. Copied rather than imported:
/// linking the cutover library would bring its counting allocator into this loop.
const SELECT: &str = "id,name,description,type,type_l10n,remote_system_id,\
source_resource_id,destination_resource_id,destination_resource_type,\
destination_resource_type_l10n,parent_session_id,state,state_l10n,progress_percentage,\
estimated_completion_timestamp,average_transfer_rate,current_transfer_rate,\
protection_policy_id,volume_group_id,automatic_cutover,scheduled_timestamp,\
last_update_timestamp,global_storage_discovery_address,error,remote_system(id,name)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, user, id, count] = args.as_slice() else {
        eprintln!("usage: read_loop URL USER SESSION_ID COUNT (password in BENCH_PASSWORD)");
        std::process::exit(2);
    };
    let count: u32 = count.parse().expect("COUNT is a number");
    let password = std::env::var("BENCH_PASSWORD").expect("BENCH_PASSWORD is set");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .build()
            .expect("a reqwest client");
        let login = client
            .get(format!("{url}/api/rest/login_session"))
            .basic_auth(user, Some(&password))
            .header("accept", "application/json")
            .send()
            .await
            .expect("the login is answered");
        assert!(login.status().is_success(), "login: {}", login.status());
        let cookie = login
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.split(';').next()?.trim().strip_prefix("auth_cookie="))
            .expect("the login sets auth_cookie")
            .to_owned();
        let cookie = format!("auth_cookie={cookie}");
        let session = format!("{url}/api/rest/import_session/{id}");
        let read = || async {
            let answer = client
                .get(&session)
                .query(&[("select", SELECT)])
                .header("accept", "application/json")
                .header("cookie", &cookie)
                .send()
                .await
                .expect("the read is answered");
            assert!(answer.status().is_success(), "read: {}", answer.status());
            let body = answer.bytes().await.expect("the body arrives");
            let parsed: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
            assert!(parsed["state"].is_string(), "a session: {parsed}");
        };
        read().await;
        // The exact request, for a load generator to send the same one.
        let built = client
            .get(&session)
            .query(&[("select", SELECT)])
            .build()
            .expect("a request");
        println!("url={}", built.url());
        let started = Instant::now();
        for _ in 0..count {
            read().await;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!("reads={count} seconds={seconds:.6}");
    });
}
