//! Versions, both login paths, bearer tokens, idle expiry, logout and `Accept` checks.

use std::time::Duration;

use serde_json::json;

use super::{Client, JSON_38, USER, basic, configure, lab, lab_state, log_in, minor_error, send};

const TYPES: &str = "/cloudapi/1.0.0/entityTypes";

#[tokio::test]
async fn versions_list_up_to_the_configured_newest() {
    let (state, _) = lab();
    let answer = send(&state, "GET", "/api/versions", &[], "").await;
    assert_eq!(answer.status, 200);
    let versions = crate::vendors::vcd::wire::parse_versions(&answer.text).unwrap();
    assert_eq!(versions, ["36.0", "37.0", "37.2", "38.0", "39.0"]);
    assert!(
        answer
            .text
            .contains("<LoginUrl>http://vcd.test/api/sessions</LoginUrl>")
    );
    assert!(answer.header("x-vmware-vcloud-request-id").is_some());
    let config = configure(&state, r#"{"max_version": "37.2"}"#).await;
    assert_eq!(config.body["max_version"], "37.2");
    let answer = send(&state, "GET", "/api/versions", &[], "").await;
    let versions = crate::vendors::vcd::wire::parse_versions(&answer.text).unwrap();
    assert_eq!(versions.last().map(String::as_str), Some("37.2"));
    let refused = configure(&state, r#"{"max_version": "1.0"}"#).await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn provider_and_tenant_logins_take_their_own_paths() {
    let (state, _) = lab();
    let provider = basic(USER);
    let tenant = basic("tenant@acme");
    let wrong = basic("administrator@System").replace("c2VjcmV0", "d3Jvbmc=");
    for (path, auth, status) in [
        ("/cloudapi/1.0.0/sessions/provider", provider.as_str(), 200),
        ("/cloudapi/1.0.0/sessions", provider.as_str(), 401),
        ("/cloudapi/1.0.0/sessions", tenant.as_str(), 200),
        ("/cloudapi/1.0.0/sessions/provider", tenant.as_str(), 401),
        ("/cloudapi/1.0.0/sessions/provider", wrong.as_str(), 401),
    ] {
        let answer = log_in(&state, path, auth, JSON_38).await;
        assert_eq!(answer.status, status, "{path} {auth}: {}", answer.text);
        if status == 200 {
            assert_eq!(answer.header("x-vmware-vcloud-token-type"), Some("Bearer"));
            assert_eq!(answer.body["sessionIdleTimeoutMinutes"], 30);
        } else {
            assert_eq!(answer.body["minorErrorCode"], "UNAUTHORIZED");
        }
    }
    let session = log_in(
        &state,
        "/cloudapi/1.0.0/sessions/provider",
        &provider,
        JSON_38,
    )
    .await;
    assert_eq!(
        (
            &session.body["org"]["name"],
            &session.body["user"]["name"],
            &session.body["roles"]
        ),
        (
            &json!("System"),
            &json!("administrator"),
            &json!(["System Administrator"])
        )
    );
    assert_eq!(lab_state(&state).await["logins"], 3);
}

#[tokio::test]
async fn accept_must_name_an_offered_version() {
    let (state, _) = lab();
    let auth = basic(USER);
    let login = "/cloudapi/1.0.0/sessions/provider";
    for accept in ["application/json", "application/json;version=35.0"] {
        let answer = log_in(&state, login, &auth, accept).await;
        assert_eq!(minor_error(&answer), (406, Some("NOT_ACCEPTABLE")));
    }
    let mut c = Client::login(&state).await;
    c.accept = "application/json".to_owned();
    assert_eq!(c.get(TYPES).await.status, 406);
    c.accept = "application/json;version=39.0".to_owned();
    assert_eq!(c.get(TYPES).await.status, 200);
    configure(&state, r#"{"max_version": "37.2"}"#).await;
    assert_eq!(c.get(TYPES).await.status, 406);
}

#[tokio::test]
async fn tokens_are_required_and_expire_when_idle() {
    let (state, clock) = lab();
    let missing = send(&state, "GET", TYPES, &[("accept", JSON_38)], "").await;
    assert_eq!(missing.status, 401);
    let id = missing
        .header("x-vmware-vcloud-request-id")
        .unwrap()
        .to_owned();
    assert_eq!(
        missing.body,
        json!({"minorErrorCode": "UNAUTHORIZED",
            "message": format!("[ {id} ] Authorization: Bearer <token> is required"),
            "stackTrace": "com.vmware.vcloud.api.presentation.service.NotAuthorizedException: Authorization: Bearer <token> is required"})
    );
    assert_eq!(missing.header("content-type"), Some("application/json"));
    let c = Client::login(&state).await;
    clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(c.get(TYPES).await.status, 200);
    clock.advance(Duration::from_secs(29 * 60));
    assert_eq!(c.get(TYPES).await.status, 200, "use resets the idle time");
    clock.advance(Duration::from_secs(30 * 60));
    let expired = c.get(TYPES).await;
    assert_eq!(expired.status, 401);
    assert!(
        expired.body["message"]
            .as_str()
            .unwrap()
            .ends_with("log in again")
    );
    let c = Client::login(&state).await;
    assert_eq!(
        send(&state, "POST", "/_lab/expire_sessions", &[], "")
            .await
            .body["expired"],
        1
    );
    assert_eq!(c.get(TYPES).await.status, 401);
}

#[tokio::test]
async fn logout_on_either_api_and_the_legacy_session_document() {
    let (state, _) = lab();
    let c = Client::login(&state).await;
    let legacy = c.get("/api/session").await;
    assert_eq!(legacy.status, 200);
    assert!(
        legacy.text.contains(r#"user="administrator" org="System""#),
        "{}",
        legacy.text
    );
    assert!(
        legacy
            .header("content-type")
            .unwrap()
            .starts_with("application/vnd.vmware.vcloud.session+xml")
    );
    assert_eq!(
        c.get("/cloudapi/1.0.0/sessions/current").await.body["org"]["name"],
        "System"
    );
    assert_eq!(
        c.call("DELETE", "/cloudapi/1.0.0/sessions/current", "")
            .await
            .status,
        204
    );
    assert_eq!(c.get(TYPES).await.status, 401);
    let c = Client::login(&state).await;
    assert_eq!(c.call("DELETE", "/api/session", "").await.status, 204);
    let after = c.get("/api/session").await;
    assert_eq!(after.status, 401);
    assert!(after.text.starts_with("<Error "), "{}", after.text);
    assert_eq!(lab_state(&state).await["active_sessions"], 0);
}

#[tokio::test]
async fn faults_answer_in_the_cloudapi_body_with_the_request_id() {
    let (state, _) = lab();
    let c = Client::login(&state).await;
    let rule = r#"{"status": 503, "count": 1, "path": "/cloudapi/1.0.0/entityTypes"}"#;
    assert_eq!(
        send(&state, "POST", "/_lab/faults", &[], rule).await.status,
        200
    );
    let faulted = c.get(TYPES).await;
    assert_eq!(faulted.status, 503);
    let id = faulted.header("x-vmware-vcloud-request-id").unwrap();
    assert_eq!(
        faulted.body["message"],
        format!("[ {id} ] service busy, try again later")
    );
    assert_eq!(c.get(TYPES).await.status, 200);
}
