//! Authentication exactly as vendor-apis.md §4.2 describes it: `GET /login_session` with
//! Basic credentials hands out an `auth_cookie` and a `DELL-EMC-TOKEN`; every other call
//! needs the cookie (or Basic again), and every mutation the token of a live login
//! session. Sessions lapse after `idle_timeout` seconds of lab time without use.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Secret;
use crate::vendors::powerstore::wire::{AUTH_COOKIE, LoginSession, TOKEN_HEADER};

use super::error::LabError;
use super::state::{LabState, uuid};

/// Seconds of idleness after which a login session is gone.
pub(super) const IDLE_TIMEOUT: u64 = 3600;

/// The one user the simulated array knows.
pub struct Credentials {
    pub(super) user: String,
    pub(super) password: Secret,
}

/// One login session: its id, the `auth_cookie` value and the CSRF token.
#[derive(Clone, Debug)]
pub(super) struct Login {
    id: String,
    cookie: String,
    token: String,
}

/// The array's live login sessions.
pub(super) type Logins = crate::http::lab::Logins<Login>;

fn new_login(rng: &mut fastrand::Rng) -> Login {
    let id = uuid(rng);
    let cookie = uuid(rng).replace('-', "");
    let token = uuid(rng).replace('-', "");
    Login { id, cookie, token }
}

/// Who made a request that passed [`require`]: the login session's cookie, if one.
#[derive(Clone, Debug)]
pub(super) struct Caller {
    cookie: Option<String>,
    token: Option<String>,
}

/// `GET /api/rest/login_session`: logs in with Basic credentials (or shows the login
/// session of a valid cookie).
pub(super) async fn login_sessions_get(
    State(lab): State<LabState>,
    headers: HeaderMap,
) -> Result<Response, LabError> {
    let now = lab.now();
    let login = match crate::http::lab::basic_credentials(&headers) {
        Some(given) if lab.credentials().accept(&given) => lab.lock().logins.create(now, new_login),
        Some(_) => return Err(bad_credentials()),
        None => {
            let cookie = cookie(&headers).ok_or_else(missing_credentials)?;
            let mut inventory = lab.lock();
            inventory
                .logins
                .touch(now, |l| l.cookie == cookie)
                .ok_or_else(expired)?
        }
    };
    let body = vec![LoginSession {
        id: login.id,
        user: lab.credentials().user.clone(),
        role_ids: vec!["1".to_owned()],
        idle_timeout: IDLE_TIMEOUT,
        is_password_change_required: false,
        is_built_in_user: true,
    }];
    let mut response = Json(body).into_response();
    let set_cookie = format!("{AUTH_COOKIE}={}; Path=/; HttpOnly", login.cookie);
    for (name, value) in [
        (TOKEN_HEADER, login.token),
        (header::SET_COOKIE.as_str(), set_cookie),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    Ok(response)
}

/// `POST /api/rest/logout`: ends the caller's login session.
pub(super) async fn logout(
    State(lab): State<LabState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> StatusCode {
    let mut inventory = lab.lock();
    inventory.logins.remove(|l| {
        Some(&l.cookie) == caller.cookie.as_ref() || Some(&l.token) == caller.token.as_ref()
    });
    StatusCode::NO_CONTENT
}

/// Middleware in front of every `/api/rest` route but the login itself.
pub(super) async fn require(
    State(lab): State<LabState>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticate(&lab, request.method(), request.headers()) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

fn authenticate(lab: &LabState, method: &Method, headers: &HeaderMap) -> Result<Caller, LabError> {
    let now = lab.now();
    let given = crate::http::lab::basic_credentials(headers);
    let basic_ok = given.as_ref().is_some_and(|g| lab.credentials().accept(g));
    let cookie = cookie(headers);
    let mut inventory = lab.lock();
    let login = cookie
        .as_deref()
        .and_then(|c| inventory.logins.touch(now, |l| l.cookie == c));
    if login.is_none() && !basic_ok {
        return Err(match (given, cookie) {
            (Some(_), _) => bad_credentials(),
            (None, Some(_)) => expired(),
            (None, None) => missing_credentials(),
        });
    }
    let token = headers
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let valid = match (&login, &token) {
            (Some(login), Some(token)) => &login.token == token,
            (None, Some(token)) => inventory.logins.touch(now, |l| &l.token == token).is_some(),
            (_, None) => false,
        };
        if !valid {
            return Err(LabError::forbidden(format!(
                "The {TOKEN_HEADER} header is missing or does not belong to a live login session."
            )));
        }
    }
    Ok(Caller {
        cookie: login.map(|l| l.cookie),
        token,
    })
}

impl Credentials {
    fn accept(&self, (user, password): &(String, String)) -> bool {
        *user == self.user && password == self.password.expose()
    }
}

/// The `auth_cookie` among the request's cookies; clients that echo the whole
/// `Set-Cookie` value (with `Path` and `HttpOnly`) are understood too.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == AUTH_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn missing_credentials() -> LabError {
    LabError::unauthenticated("Authentication is required: log in with Basic credentials.")
}

fn bad_credentials() -> LabError {
    LabError::unauthenticated("The user name or password is not valid.")
}

fn expired() -> LabError {
    LabError::unauthenticated("The login session has expired or is not valid; log in again.")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{BASIC, Client, lab, message, send};
    use super::*;
    use crate::vendors::powerstore::wire::codes;
    use std::time::Duration;

    const SESSIONS: &str = "/api/rest/import_session";
    const PAUSE: &str = "/api/rest/import_session/name:wave1-lun01/pause";

    #[tokio::test]
    async fn login_hands_out_cookie_token_and_session() {
        let (state, _) = lab();
        let answer = send(
            &state,
            "GET",
            "/api/rest/login_session?select=id,user,idle_timeout",
            &[("authorization", BASIC)],
            "",
        )
        .await;
        assert_eq!(answer.status, 200);
        let cookie = answer.header("set-cookie").unwrap();
        assert!(
            cookie.starts_with("auth_cookie=") && cookie.ends_with("; Path=/; HttpOnly"),
            "{cookie}"
        );
        assert_eq!(answer.header("dell-emc-token").map(str::len), Some(32));
        let login = &answer.body[0];
        assert_eq!(
            (login["user"].as_str(), login["idle_timeout"].as_u64()),
            (Some("admin"), Some(3600))
        );
        assert_eq!(login["role_ids"], serde_json::json!(["1"]));
        assert_eq!(state.lock().logins.count(), 1);
    }

    #[tokio::test]
    async fn missing_or_wrong_credentials_are_401() {
        let (state, _) = lab();
        let wrong = "Basic YWRtaW46d3Jvbmc=";
        for (path, headers) in [
            (SESSIONS, vec![]),
            (SESSIONS, vec![("authorization", wrong)]),
            (SESSIONS, vec![("cookie", "auth_cookie=forged")]),
            ("/api/rest/login_session", vec![]),
            ("/api/rest/login_session", vec![("authorization", wrong)]),
        ] {
            let answer = send(&state, "GET", path, &headers, "").await;
            assert_eq!(answer.status, 401, "{path} {headers:?}");
            assert_eq!(answer.body["messages"][0]["code"], codes::UNAUTHENTICATED);
        }
        assert_eq!(state.lock().logins.count(), 0);
    }

    #[tokio::test]
    async fn mutations_need_the_token_of_a_live_login() {
        let (state, _) = lab();
        let client = Client::login(&state).await;
        assert_eq!(client.get(SESSIONS).await.status, 200);
        let cookie = [("cookie", client.cookie.as_str())];
        let no_token = send(&state, "POST", PAUSE, &cookie, "").await;
        assert_eq!(
            (
                no_token.status,
                no_token.body["messages"][0]["code"].as_str()
            ),
            (403, Some(codes::FORBIDDEN))
        );
        let wrong = [
            ("cookie", client.cookie.as_str()),
            ("dell-emc-token", "nope"),
        ];
        assert_eq!(send(&state, "POST", PAUSE, &wrong, "").await.status, 403);
        assert!(state.mutations().entries().is_empty());
        let basic_only = [("authorization", BASIC)];
        assert_eq!(
            send(&state, "GET", SESSIONS, &basic_only, "").await.status,
            200
        );
        assert_eq!(
            send(&state, "POST", PAUSE, &basic_only, "").await.status,
            403
        );
        let basic_and_token = [
            ("authorization", BASIC),
            ("dell-emc-token", client.token.as_str()),
        ];
        assert_eq!(
            send(&state, "POST", PAUSE, &basic_and_token, "")
                .await
                .status,
            204
        );
    }

    #[tokio::test]
    async fn idle_sessions_expire_and_logging_in_again_works() {
        let (state, clock) = lab();
        let client = Client::login(&state).await;
        clock.advance(Duration::from_secs(3000));
        assert_eq!(client.get(SESSIONS).await.status, 200);
        clock.advance(Duration::from_secs(3000));
        assert_eq!(
            client.get(SESSIONS).await.status,
            200,
            "use resets the idle time"
        );
        clock.advance(Duration::from_secs(IDLE_TIMEOUT));
        let expired = client.get(SESSIONS).await;
        assert_eq!(
            (expired.status, message(&expired)),
            (
                401,
                "The login session has expired or is not valid; log in again."
            )
        );
        let again = Client::login(&state).await;
        let cutover = "/api/rest/import_session/name:wave1-lun01/cutover";
        assert_eq!(again.post(cutover, "").await.status, 204);
        assert_eq!(state.lock().logins.count(), 2);
    }

    #[tokio::test]
    async fn lab_expiry_and_logout_end_sessions() {
        let (state, _) = lab();
        let client = Client::login(&state).await;
        let expired = send(&state, "POST", "/_lab/expire_sessions", &[], "").await;
        assert_eq!(expired.body["expired"], 1);
        assert_eq!(client.get(SESSIONS).await.status, 401);
        let client = Client::login(&state).await;
        assert_eq!(client.post("/api/rest/logout", "").await.status, 204);
        assert_eq!(client.get(SESSIONS).await.status, 401);
        let shown = send(&state, "GET", "/_lab/state", &[], "").await;
        assert_eq!(
            (
                shown.body["logins"].as_u64(),
                shown.body["active_login_sessions"].as_u64()
            ),
            (Some(2), Some(0))
        );
    }

    #[tokio::test]
    async fn a_cookie_echoed_with_its_attributes_is_understood() {
        let (state, _) = lab();
        let client = Client::login(&state).await;
        let echoed = format!("{}; Path=/; HttpOnly", client.cookie);
        let answer = send(&state, "GET", SESSIONS, &[("cookie", &echoed)], "").await;
        assert_eq!(answer.status, 200);
    }
}
