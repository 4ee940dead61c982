//! The control routes refuse settings and sizes the lab cannot compute with.

use serde_json::json;

use super::super::tests::{
    Answer, SECRET, configure, lab, send, signed, task_id, token, with_token,
};

#[tokio::test]
async fn settings_too_large_to_add_to_a_date_are_refused_whole() {
    let (state, _clock) = lab();
    #[track_caller]
    fn refused(answer: &Answer, expected: &str) {
        assert_eq!(answer.status, 400, "{}", answer.text);
        let message = answer.body["error"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
    let huge = [
        ("token_ttl_seconds", json!(u64::MAX)),
        ("action_lag_seconds", json!(u64::MAX)),
        ("gateway_clock_offset_seconds", json!(i64::MAX)),
        ("gateway_clock_offset_seconds", json!(i64::MIN)),
    ];
    for (key, value) in huge {
        // A good setting beside the bad one is not applied either.
        let body = json!({ key: value, "rate_limit": {"capacity": 1, "per_second": 1.0} });
        let answer = configure(&state, &body.to_string()).await;
        refused(&answer, key);
        refused(&answer, "at most 315360000 seconds (ten years)");
    }
    let config = send(&state, "GET", "/_lab/config", &[], "").await.body;
    assert_eq!(config["rate_limit"], json!(null), "{config}");
    let most = json!({"token_ttl_seconds": 315_360_000_u64, "action_lag_seconds": 315_360_000_u64,
        "gateway_clock_offset_seconds": -315_360_000_i64});
    let answer = configure(&state, &most.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // Every sum those settings feed still works: a token, an action, a signature check.
    let token = token(&state).await;
    let id = task_id(&state, &token, "web-01").await;
    let start = r#"{"operation": "start"}"#;
    let path = format!("/v3/tasks/{id}/action");
    assert_eq!(
        with_token(&state, &token, "POST", &path, start)
            .await
            .status,
        200
    );
    let signed = signed(&state, "GET", "/v3/tasks", "", SECRET, 0).await;
    assert_eq!(
        signed.status, 401,
        "the gateway's clock is ten years behind"
    );

    let sizes = [
        (
            json!({"name": "x", "used_gib": u64::MAX}),
            "used_gib must be at most",
        ),
        (
            json!({"name": "x", "rate_mib_s": u64::MAX}),
            "rate_mib_s must be at most",
        ),
    ];
    for (body, expected) in sizes {
        let answer = send(&state, "POST", "/_lab/tasks", &[], &body.to_string()).await;
        refused(&answer, expected);
    }
}

#[tokio::test]
async fn the_largest_sizes_make_a_task_that_reads_fine() {
    let (state, _clock) = lab();
    let largest = u64::MAX >> 30;
    for task_state in ["RUNNING", "MIGRATE_FAIL", "SYNC_SUCCESS"] {
        let body = json!({"name": format!("huge-{task_state}"), "state": task_state,
            "used_gib": largest, "rate_mib_s": u64::MAX >> 20, "progress": 50});
        let answer = send(&state, "POST", "/_lab/tasks", &[], &body.to_string()).await;
        assert_eq!(answer.status, 201, "{task_state}: {}", answer.text);
        let slow = json!({"name": format!("slow-{task_state}"), "state": task_state,
            "used_gib": largest, "rate_mib_s": 1, "progress": 50});
        let answer = send(&state, "POST", "/_lab/tasks", &[], &slow.to_string()).await;
        assert_eq!(answer.status, 201, "{task_state}: {}", answer.text);
    }
    let token = token(&state).await;
    let list = with_token(&state, &token, "GET", "/v3/tasks?name=huge-", "").await;
    assert_eq!(list.body["count"], 3, "{}", list.text);
    let list = with_token(&state, &token, "GET", "/v3/tasks?name=slow-", "").await;
    assert_eq!(list.body["count"], 3, "{}", list.text);
    assert_eq!(
        send(&state, "GET", "/_lab/state", &[], "").await.status,
        200
    );
}
