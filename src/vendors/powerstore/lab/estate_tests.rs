//! The estate's sessions through the simulator's routes: names, descriptions, arrays
//! and cutover modes, copy times spread from 5 minutes to 2 hours from the first read
//! (or all the same, when fixed), and the `rough` scenario's failed copy and unreachable source.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::LabState;
use super::super::tests::{Client, lab_with};
use super::{LONGEST_COPY, SHORTEST_COPY};
use crate::http::lab::estate::{Estate, Fault, Scenario};
use crate::vendors::powerstore::wire::codes;

const SESSIONS: &str = "/api/rest/import_session";
const SELECT: &str =
    "select=name,state,description,automatic_cutover,progress_percentage,error,remote_system(name)";

/// Every session of the estate's applications, as a client lists them (which is their
/// first read). Each call logs in afresh: the tests move the clock past the login's idle
/// timeout.
async fn estate_sessions(state: &LabState) -> Vec<Value> {
    let answer = Client::login(state)
        .await
        .get(&format!(
            "{SESSIONS}?{SELECT}&description=ilike.application*&order=name.asc&limit=2000"
        ))
        .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body.as_array().unwrap().clone()
}

/// `name: state` of each session, in name order.
async fn states(state: &LabState) -> Vec<String> {
    estate_sessions(state)
        .await
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["name"].as_str().unwrap(),
                s["state"].as_str().unwrap()
            )
        })
        .collect()
}

/// Every copy of `lines` (as [`states`] writes them) is done: a data volume's import
/// completed, any other ready for cutover.
#[track_caller]
fn copies_done(lines: &[String]) {
    for line in lines {
        let expected = if line.contains("-data:") {
            "Import_Completed"
        } else {
            "Ready_For_Cutover"
        };
        assert!(line.ends_with(expected), "{lines:#?}");
    }
}

#[tokio::test]
async fn each_application_has_an_automatic_data_and_a_manual_logs_session() {
    let estate = Estate::new(Scenario::Happy, 12);
    let (state, _) = lab_with(&estate);
    let sessions = estate_sessions(&state).await;
    assert_eq!(sessions.len(), 24);
    for app in &estate.apps {
        for (suffix, what, automatic) in [("data", "data", true), ("logs", "log", false)] {
            let name = format!("{}-{suffix}", app.name);
            let s = sessions
                .iter()
                .find(|s| s["name"] == name.as_str())
                .unwrap();
            assert_eq!(s["state"], "Copy_In_Progress", "{name}");
            assert_eq!(s["automatic_cutover"], automatic, "{name}");
            assert_eq!(
                s["description"],
                format!("application {}: {what} volume", app.name),
                "{name}"
            );
            let array = s["remote_system"]["name"].as_str().unwrap();
            assert!(
                ["unity-03", "unity-04", "vnx-05"].contains(&array),
                "{name} on {array}"
            );
            assert!(s["progress_percentage"].as_u64().unwrap() <= 30, "{name}");
        }
    }
}

#[tokio::test]
async fn copies_end_between_five_minutes_and_two_hours_after_their_first_read() {
    let (state, clock) = lab_with(&Estate::new(Scenario::Happy, 12));
    // Hours pass before anyone looks: the copies have not moved.
    clock.advance(Duration::from_secs(5 * 3600));
    let before: Vec<Value> = estate_sessions(&state).await;
    assert!(before.iter().all(|s| s["state"] == "Copy_In_Progress"));
    clock.advance(SHORTEST_COPY - Duration::from_secs(1));
    assert!(
        states(&state)
            .await
            .iter()
            .all(|s| s.ends_with("Copy_In_Progress"))
    );
    // Half-way through the range some copies are done and others are not.
    clock.advance((LONGEST_COPY - SHORTEST_COPY) / 2);
    let middle = states(&state).await;
    let copying = middle
        .iter()
        .filter(|s| s.ends_with("Copy_In_Progress"))
        .count();
    assert!(copying > 4 && copying < 20, "{middle:#?}");
    clock.advance(LONGEST_COPY);
    copies_done(&states(&state).await);
}

#[tokio::test]
async fn a_fixed_copy_time_makes_every_copy_end_that_long_after_its_first_read() {
    let copy = Duration::from_secs(30 * 60);
    let (state, clock) = lab_with(&Estate::new(Scenario::Happy, 40).with_copy_time(copy));
    clock.advance(Duration::from_secs(3600));
    // The first read starts every copy at once.
    assert!(
        states(&state)
            .await
            .iter()
            .all(|s| s.ends_with("Copy_In_Progress"))
    );
    clock.advance(copy - Duration::from_secs(1));
    let before = states(&state).await;
    assert_eq!(before.len(), 80);
    assert!(
        before.iter().all(|s| s.ends_with("Copy_In_Progress")),
        "{before:#?}"
    );
    clock.advance(Duration::from_secs(2));
    copies_done(&states(&state).await);
}

#[tokio::test]
async fn a_session_starts_on_its_own_first_read_and_the_lab_view_starts_none() {
    let (state, clock) = lab_with(&Estate::new(Scenario::Happy, 12));
    let percent = |body: &Value| body["progress_percentage"].as_u64().unwrap();
    clock.advance(Duration::from_secs(3 * 3600));
    let c = Client::login(&state).await;
    let lab_view = crate::http::lab::testing::send(&state, "GET", "/_lab/state", &[], "").await;
    let crm = lab_view.body["import_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "crm-data")
        .unwrap()
        .clone();
    assert_eq!(crm["lab"]["started"], false);
    let first = c
        .get(&format!("{SESSIONS}/name:crm-data?{SELECT}"))
        .await
        .body;
    assert_eq!(percent(&first), percent(&crm));
    // Not long enough for the shortest copy to end, long enough for the longest to move.
    clock.advance(Duration::from_secs(240));
    let later = c
        .get(&format!("{SESSIONS}/name:crm-data?{SELECT}"))
        .await
        .body;
    assert!(percent(&later) > percent(&first), "{first} then {later}");
    // The other application's session waited all along.
    let erp = c
        .get(&format!("{SESSIONS}/name:erp-data?{SELECT}"))
        .await
        .body;
    let erp_seeded = lab_view.body["import_sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "erp-data")
        .unwrap()["progress_percentage"]
        .clone();
    assert_eq!(erp["progress_percentage"], erp_seeded);
}

#[tokio::test]
async fn the_rough_copy_fails_with_the_arrays_error() {
    let estate = Estate::new(Scenario::Rough, 12);
    let app = estate.with_fault(Fault::CopyFails).unwrap().name.clone();
    let (state, clock) = lab_with(&estate);
    estate_sessions(&state).await;
    clock.advance(LONGEST_COPY);
    let c = Client::login(&state).await;
    let data = c
        .get(&format!("{SESSIONS}/name:{app}-data?{SELECT}"))
        .await
        .body;
    assert_eq!(data["state"], "Failed");
    assert_eq!(data["progress_percentage"], Value::Null);
    let error = &data["error"];
    assert_eq!(error["code"], codes::COPY_FAILED);
    let (source, at) = (
        error["arguments"][0].as_str().unwrap(),
        error["arguments"][1].as_str().unwrap(),
    );
    assert_eq!(
        error["message_l10n"],
        format!(
            "The copy of source resource {source} failed at {at}%: the remote system stopped responding."
        )
    );
    assert_eq!(
        c.state(&format!("name:{app}-logs")).await,
        "Ready_For_Cutover"
    );
}

#[tokio::test]
async fn an_unreachable_source_fails_a_plain_cancel_and_a_forced_one_ends_it() {
    let (estate, app) = with_unreachable_source();
    let (state, clock) = lab_with(&estate);
    let key = format!("name:{app}-data");
    estate_sessions(&state).await;
    clock.advance(LONGEST_COPY);
    let c = Client::login(&state).await;
    let get = |key: String| {
        let c = &c;
        async move {
            c.get(&format!(
                "{SESSIONS}/{key}?select=state,progress_percentage,current_transfer_rate,error"
            ))
            .await
            .body
        }
    };
    let stuck = get(key.clone()).await;
    assert_eq!(stuck["state"], "Copy_In_Progress");
    assert_eq!(stuck["current_transfer_rate"], 0);
    let at = stuck["progress_percentage"].as_u64().unwrap();
    assert!((40..=70).contains(&at), "{stuck}");

    let cancel = format!("{SESSIONS}/{key}/cancel");
    assert_eq!(c.post(&cancel, "").await.status, 204);
    assert_eq!(c.state(&key).await, "Cancel_In_Progress");
    clock.advance(Duration::from_secs(3));
    let failed = get(key.clone()).await;
    assert_eq!(failed["state"], "Cancel_Failed");
    let source = failed["error"]["arguments"][0].as_str().unwrap().to_owned();
    assert_eq!(
        failed["error"],
        json!({"code": codes::CANCEL_FAILED, "arguments": [source],
            "message_l10n": format!("The import of source resource {source} could not be rolled back: the source system is not reachable. Cancel with the force option to stop the import without rolling back.")})
    );
    // Asked again without force, it fails again: the source still does not answer.
    assert_eq!(c.post(&cancel, r#"{"force": false}"#).await.status, 204);
    clock.advance(Duration::from_secs(3));
    assert_eq!(c.state(&key).await, "Cancel_Failed");

    assert_eq!(c.post(&cancel, r#"{"force": true}"#).await.status, 204);
    assert_eq!(c.state(&key).await, "Cancel_In_Progress");
    clock.advance(Duration::from_secs(3));
    let cancelled = get(key.clone()).await;
    assert_eq!(
        (&cancelled["state"], &cancelled["error"]),
        (&json!("Cancelled"), &Value::Null)
    );
    assert_eq!(state.mutations().count("cancel"), 3);
}

#[tokio::test]
async fn before_its_source_stops_answering_a_plain_cancel_rolls_back() {
    let (estate, app) = with_unreachable_source();
    let (state, clock) = lab_with(&estate);
    let c = Client::login(&state).await;
    let key = format!("name:{app}-data");
    assert_eq!(
        c.post(&format!("{SESSIONS}/{key}/cancel"), "").await.status,
        204
    );
    clock.advance(Duration::from_secs(3));
    assert_eq!(c.state(&key).await, "Cancelled");
}

#[test]
fn copy_times_spread_over_the_whole_range_for_any_number_of_applications() {
    for apps in [12, 40, 2000] {
        let times: Vec<Duration> = (0..apps).map(|i| super::copy_time(0.3, i)).collect();
        let (min, max) = (times.iter().min().unwrap(), times.iter().max().unwrap());
        assert!(*min >= SHORTEST_COPY && *max <= LONGEST_COPY);
        let span = LONGEST_COPY - SHORTEST_COPY;
        assert!(
            *min < SHORTEST_COPY + span / 10 && *max > LONGEST_COPY - span / 10,
            "{apps}"
        );
    }
}

#[tokio::test]
async fn listings_by_name_find_the_same_sessions_as_full_ones() {
    let (state, _) = lab_with(&Estate::new(Scenario::Happy, 12));
    let c = Client::login(&state).await;
    let names = |query: &'static str| {
        let c = &c;
        async move {
            let body = c
                .get(&format!("{SESSIONS}?select=name&order=name.asc&{query}"))
                .await
                .body;
            body.as_array()
                .unwrap()
                .iter()
                .map(|s| s["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("name=eq.crm-data").await, ["crm-data"]);
    assert_eq!(
        names("or=(name.eq.erp-logs,name.eq.crm-data)").await,
        ["crm-data", "erp-logs"]
    );
    assert_eq!(
        names("name=ilike.crm*&state=eq.Copy_In_Progress").await,
        ["crm-data", "crm-logs"]
    );
    assert_eq!(
        names("name=ilike.*-logs&not.or=(name.ilike.c*,name.ilike.*s-logs,id.eq.x)").await,
        [
            "billing-logs",
            "erp-logs",
            "intranet-logs",
            "ledger-logs",
            "mail-logs",
            "payroll-logs",
            "search-logs",
            "shop-logs",
            "wiki-logs"
        ]
    );
}

/// A rough estate and the application of it whose source stops answering mid-copy.
fn with_unreachable_source() -> (Estate, String) {
    let estate = Estate::new(Scenario::Rough, 12);
    let app = estate
        .with_fault(Fault::SourceUnreachable)
        .unwrap()
        .name
        .clone();
    (estate, app)
}
