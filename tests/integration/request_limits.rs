//! A target's `request_limits`: a `parallel` fan-out over one array never has more
//! requests in flight there than `max_concurrency` allows, by the lab's own count of the
//! requests it served at once, and its requests arrive no faster than `rate`, by the
//! lab's record of arrivals. (The rate's schedule is also tested on a paused clock in
//! `src/http/throttle.rs`.)

use serde_json::json;

use crate::test::{Child, PATIENCE, Test, eventually, kind};

/// Twenty applications at once, each reading its session five times.
const FAN_OUT: &str = r#"let array = powerstore("array1");
let items = [];
for i in 0..20 { items.push(i); }
let reads = parallel(items, |i| {
    for n in 0..5 { array.import_session("wave1-lun03"); }
    5
});
print(reads.len());"#;

/// The test's target file with `request_limits = setting` on target `array1`.
fn limited(test: Test, setting: &str) -> Test {
    test.target_setting(Some("array1"), &format!("request_limits = {setting}"))
}

/// Runs the fan-out with the array holding every read until as many as `held` are
/// waiting there at once, then lets them go; answers the most the lab served at once.
fn peak_with_reads_held(test: Test, held: u64) -> u64 {
    let lab = test.test_lab();
    let hold = json!({"status": 200, "hold": true, "count": 1000, "method": "GET", "path": "/api/rest/import_session"});
    lab.post_to(kind::POWERSTORE, "/_lab/faults", hold);
    let test = test.script("wave.rhai", FAN_OUT).args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    // Waits for the lab's state, not for time: the reads arrive when they arrive.
    eventually("reads held at the array", || {
        test.test_lab().state()["faults"]["injected"]
            .as_u64()
            .unwrap()
            >= held
    });
    test.test_lab().delete_to(kind::POWERSTORE, "/_lab/faults");
    assert!(child.wait(PATIENCE).success());
    test.test_lab().state()["peak_concurrent_requests"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_fan_out_keeps_to_the_targets_max_concurrency() {
    // Unlimited, the twenty items' reads pile up at the array...
    assert!(peak_with_reads_held(Test::new().lab(), 3) >= 3);
    // ...limited, two are in flight while the rest wait their turn.
    let test = limited(Test::new().lab(), "{ max_concurrency = 2 }");
    assert_eq!(peak_with_reads_held(test, 2), 2);
}

#[test]
fn a_bad_limit_names_the_target_and_the_key() {
    let test = limited(Test::new().lab(), r#"{ rate = "lots" }"#);
    let outcome = test
        .script("wave.rhai", FAN_OUT)
        .args(["run", "wave.rhai"])
        .status(2)
        .run();
    assert!(
        outcome.stderr.contains(r#"target `array1`: `request_limits.rate` must be requests per second, minute or hour, such as "20/s" or "600/m""#),
        "{}",
        outcome.stderr
    );
}

/// Requests of one target arrive at the array no faster than its `rate`, by the lab's
/// record of arrival times: a burst of two, then one every half second. (A loaded
/// machine only spreads them further, so the bound is a floor, less a second for the
/// first request's own delay on its way.)
#[test]
fn a_targets_rate_spaces_its_requests_at_the_array() {
    let test = limited(Test::new().lab(), r#"{ rate = "2/s" }"#);
    let script = r#"let array = powerstore("array1");
for n in 0..6 { array.import_session("wave1-lun03"); }"#;
    let outcome = test
        .script("reads.rhai", script)
        .args(["run", "reads.rhai"])
        .run();
    let arrivals = outcome.lab.unwrap().requests_of(kind::POWERSTORE);
    let times: Vec<f64> = arrivals
        .as_array()
        .unwrap()
        .iter()
        .map(|arrival| arrival["ms"].as_f64().unwrap())
        .collect();
    // The login and the six reads (or more, if a read needs the session looked up).
    assert!(times.len() >= 7, "{arrivals}");
    let spread = times[times.len() - 1] - times[0];
    let floor = (times.len() - 2) as f64 * 500.0 - 1000.0;
    assert!(
        spread >= floor,
        "{} requests in {spread} ms: {arrivals}",
        times.len()
    );
}
