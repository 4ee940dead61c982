//! Typed async client for PowerStore import sessions: Basic login to a session cookie and
//! CSRF token, transparent re-login on 401, reads retried while the array is busy,
//! `select`/filters and 206 paging.

use reqwest::{Method, RequestBuilder, Response, StatusCode};

use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::config::Target;
use crate::http::basic_auth::BasicAuth;
use crate::http::call_record::CallRecord;
use crate::http::client::{HttpClient, VendorMessage, sensitive};
use crate::http::login::LoginCache;
use crate::http::mutation::{Check, Exchange, Mutations, Operation};
use crate::http::retry::Retrier;
use crate::vendors::powerstore::wire::{
    AUTH_COOKIE, CancelRequest, ErrorResponse, IMPORT_SESSION_SELECT, ImportSession, ImportState,
    TOKEN_HEADER,
};

/// The array's largest page (§4.3).
const MAX_PAGE: usize = 2000;

/// The most sessions one `id=in.(…)` list names: 100 ids keep the request line under
/// 5 KiB (about 4.5 KB), well under the 8 KiB that web front ends accept by default (the
/// array's own limit is not published); more ids go in further requests.
pub const IDS_PER_LIST: usize = 100;

pub(crate) const SESSION: &str = "import session";

/// Every mutating call this client sends, with the states it leads to (vendor-apis.md
/// §4.5); the mutation gate sends nothing else.
pub const MUTATIONS: Mutations = Mutations {
    vendor: "powerstore",
    operations: &[
        Operation::new(
            "cutover",
            SESSION,
            Check::States(&["Cutover_In_Progress", "Import_Completed"]),
        ),
        Operation::new(
            "cancel",
            SESSION,
            Check::States(&["Cancel_In_Progress", "Cancelled", "Cancel_Failed"]),
        ),
        Operation::new("pause", SESSION, Check::States(&["Paused"])),
        Operation::new(
            "resume",
            SESSION,
            Check::States(&[
                "Copy_In_Progress",
                "Ready_For_Cutover",
                "Cutover_In_Progress",
                "Import_Completed",
            ]),
        ),
    ],
    is_state: |_, state| {
        crate::vendors::powerstore::wire::ImportState::parse(state)
            .is_some_and(|s| s.as_str() == state)
    },
};

/// Filters of [`PowerStoreClient::import_sessions`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionQuery {
    /// Only sessions in this state.
    pub state: Option<ImportState>,
    /// Only sessions whose name matches; `*` is a wildcard.
    pub name: Option<String>,
    /// At most this many sessions.
    pub limit: Option<usize>,
    /// Sessions per request (1..=2000; the array's largest page when unset).
    pub page_size: Option<usize>,
}

#[derive(Clone, PartialEq)]
struct Login {
    cookie: String,
    token: String,
}

/// A logged-in (or about to be) PowerStore array.
pub struct PowerStoreClient {
    http: HttpClient,
    auth: BasicAuth,
    login: LoginCache<Login>,
    retry: Retrier,
}

session!(PowerStoreClient, login => logout_request);

/// Reads PowerStore's `error_response` body.
pub fn parse_error(body: &str) -> Option<VendorMessage> {
    let parsed: ErrorResponse = serde_json::from_str(body).ok()?;
    let first = parsed.messages.into_iter().next()?;
    Some(VendorMessage {
        code: Some(first.code),
        message: first.message_l10n,
    })
}

impl PowerStoreClient {
    /// A client for `target` noting its mutating calls in `calls`, waiting out a busy
    /// array on `clock`; nothing is sent until the first call.
    pub fn new(target: &Target, calls: CallRecord, clock: Clock) -> Result<Self, ApiError> {
        Ok(Self {
            http: HttpClient::new(target)?.recording(calls),
            auth: BasicAuth::of(target)?,
            login: LoginCache::new(),
            retry: Retrier::new(target, clock),
        })
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        self.http.target()
    }

    /// Lists import sessions with every attribute, following 206 pages to the end.
    pub async fn import_sessions(
        &self,
        query: &SessionQuery,
    ) -> Result<Vec<ImportSession>, ApiError> {
        let mut found = Vec::new();
        loop {
            let page = query.page_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
            let wanted = query
                .limit
                .map_or(page, |limit| (limit - found.len()).min(page));
            let params = page_params(query, wanted, found.len());
            let url = self.http.url(&["api", "rest", "import_session"]);
            let response = self
                .call(Exchange::Read("import_sessions"), Method::GET, |c| {
                    c.http.request(Method::GET, url.clone()).query(&params)
                })
                .await?;
            let partial = response.status() == StatusCode::PARTIAL_CONTENT;
            let page: Vec<ImportSession> = self.http.read_json("import_sessions", response).await?;
            let got = page.len();
            found.extend(page);
            let full = query.limit.is_some_and(|limit| found.len() >= limit);
            if !partial || got == 0 || full {
                return Ok(found);
            }
        }
    }

    /// The import sessions with `ids`, every attribute, in one list request per
    /// [`IDS_PER_LIST`] ids: how the waits on one array read their sessions together. A
    /// session that does not exist is left out. Errors and retries are those of
    /// [`PowerStoreClient::import_session`], whose reading it stands in for.
    pub async fn import_sessions_by_id(
        &self,
        ids: &[String],
    ) -> Result<Vec<ImportSession>, ApiError> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_LIST) {
            let params = by_id_params(chunk);
            let url = self.http.url(&["api", "rest", "import_session"]);
            let response = self
                .call(Exchange::Read("import_session"), Method::GET, |c| {
                    c.http.request(Method::GET, url.clone()).query(&params)
                })
                .await?;
            let page: Vec<ImportSession> = self.http.read_json("import_session", response).await?;
            found.extend(page);
        }
        Ok(found)
    }

    /// One import session by id, or by name when `id_or_name` is not an id.
    pub async fn import_session(&self, id_or_name: &str) -> Result<ImportSession, ApiError> {
        let url = self.session_url(id_or_name, None);
        let select = [("select", IMPORT_SESSION_SELECT.to_owned())];
        let response = self
            .call(Exchange::Read("import_session"), Method::GET, |c| {
                c.http.request(Method::GET, url.clone()).query(&select)
            })
            .await?;
        self.http.read_json("import_session", response).await
    }

    /// Commits a session that is `Ready_For_Cutover`.
    pub async fn cutover(&self, id: &str) -> Result<(), ApiError> {
        self.action(id, "cutover", None, "cut over".to_owned())
            .await
    }

    /// Cancels a session; `force` terminates it even when source or host fail to answer.
    pub async fn cancel(&self, id: &str, force: bool) -> Result<(), ApiError> {
        let body = self.http.json_body("cancel", &CancelRequest { force })?;
        let summary = format!("cancel, force = {force}");
        self.action(id, "cancel", Some(body), summary).await
    }

    /// Pauses a copy.
    pub async fn pause(&self, id: &str) -> Result<(), ApiError> {
        self.action(id, "pause", None, "pause the copy".to_owned())
            .await
    }

    /// Resumes a paused copy.
    pub async fn resume(&self, id: &str) -> Result<(), ApiError> {
        self.action(id, "resume", None, "resume the copy".to_owned())
            .await
    }

    async fn action(
        &self,
        id: &str,
        operation: &str,
        body: Option<serde_json::Value>,
        summary: String,
    ) -> Result<(), ApiError> {
        let object = if looks_like_id(id) {
            (Some(id), None)
        } else {
            (None, Some(id))
        };
        let mutation = MUTATIONS.mutation(self.target(), operation, object, summary)?;
        let url = self.session_url(id, Some(operation));
        self.call(Exchange::Mutation(&mutation), Method::POST, |c| {
            let request = c.http.request(Method::POST, url.clone());
            match &body {
                Some(body) => request.json(body),
                None => request,
            }
        })
        .await
        .map(drop)
    }

    fn session_url(&self, id_or_name: &str, action: Option<&str>) -> reqwest::Url {
        let segment = if looks_like_id(id_or_name) {
            id_or_name.to_owned()
        } else {
            format!("name:{id_or_name}")
        };
        let mut segments = vec!["api", "rest", "import_session", segment.as_str()];
        segments.extend(action);
        self.http.url(&segments)
    }

    /// Sends an authenticated request, logging in first if needed and once more when the
    /// array answers 401 (its session idled out): a 401 means nothing was applied. A read
    /// the array is too busy for is sent again (see [`Retrier`]).
    async fn call(
        &self,
        exchange: Exchange<'_>,
        method: Method,
        build: impl Fn(&Self) -> RequestBuilder,
    ) -> Result<Response, ApiError> {
        let send = |login: Login| {
            let mut request = build(self)
                .header(reqwest::header::ACCEPT, "application/json")
                .header(
                    reqwest::header::COOKIE,
                    sensitive(&format!("{AUTH_COOKIE}={}", login.cookie)),
                );
            if method != Method::GET {
                request = request.header(TOKEN_HEADER, sensitive(&login.token));
            }
            self.http.exchange(exchange, request, parse_error)
        };
        self.retry
            .send(exchange.operation(), &method, || {
                self.login.with_login(|| self.log_in(), &send)
            })
            .await
    }

    async fn log_in(&self) -> Result<Login, ApiError> {
        let url = self.http.url(&["api", "rest", "login_session"]);
        let request = self
            .http
            .request(Method::GET, url)
            .header(reqwest::header::AUTHORIZATION, self.auth.header())
            .header(reqwest::header::ACCEPT, "application/json");
        // Logging in again is safe, even for a change waiting on it: none of it was sent.
        let response = self
            .http
            .send("login", request, parse_error)
            .await
            .map_err(|err| ApiError {
                resend_safe: true,
                ..err
            })?;
        let token = response
            .headers()
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()?
                    .trim()
                    .strip_prefix(&format!("{AUTH_COOKIE}="))
                    .map(str::to_owned)
            });
        match (cookie, token) {
            (Some(cookie), Some(token)) => Ok(Login { cookie, token }),
            _ => Err(ApiError::new(
                ErrorKind::Auth,
                format!("login answered without `{AUTH_COOKIE}` cookie or `{TOKEN_HEADER}` header"),
            )
            .at(self.target(), "login")),
        }
    }

    /// The request that ends `login`.
    async fn logout_request(&self, login: Login) -> RequestBuilder {
        let url = self.http.url(&["api", "rest", "logout"]);
        self.http
            .request(Method::POST, url)
            .header(
                reqwest::header::COOKIE,
                sensitive(&format!("{AUTH_COOKIE}={}", login.cookie)),
            )
            .header(TOKEN_HEADER, sensitive(&login.token))
    }
}

/// The query string of one page of [`PowerStoreClient::import_sessions`]: every
/// attribute, `query`'s filters, and `wanted` sessions from `offset` on, by name.
pub(crate) fn page_params(
    query: &SessionQuery,
    wanted: usize,
    offset: usize,
) -> Vec<(String, String)> {
    let mut params = vec![
        ("select".to_owned(), IMPORT_SESSION_SELECT.to_owned()),
        ("limit".to_owned(), wanted.to_string()),
        ("offset".to_owned(), offset.to_string()),
        ("order".to_owned(), "name.asc".to_owned()),
    ];
    if let Some(state) = query.state {
        params.push(("state".into(), format!("eq.{state}")));
    }
    if let Some(name) = &query.name {
        let op = if name.contains('*') { "ilike" } else { "eq" };
        params.push(("name".into(), format!("{op}.{name}")));
    }
    params
}

/// The query string of one list of the sessions `ids` (at most [`IDS_PER_LIST`]): every
/// attribute, all of them on one page.
pub(crate) fn by_id_params(ids: &[String]) -> Vec<(String, String)> {
    vec![
        ("select".to_owned(), IMPORT_SESSION_SELECT.to_owned()),
        ("id".to_owned(), format!("in.({})", ids.join(","))),
        ("limit".to_owned(), ids.len().clamp(1, MAX_PAGE).to_string()),
    ]
}

/// PowerStore ids are UUIDs; anything else is taken as a name.
pub fn looks_like_id(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_and_everything_else_is_a_name() {
        assert!(looks_like_id("9a1c2f0e-3b5d-4c8e-9f7a-0b1c2d3e4f50"));
        assert!(!looks_like_id("imp-lun17"));
        assert!(!looks_like_id("9a1c2f0e-3b5d-4c8e-9f7a-0b1c2d3e4f5g"));
    }

    #[test]
    fn a_full_list_by_id_stays_well_under_8_kib() {
        let ids: Vec<String> = (0..IDS_PER_LIST)
            .map(|i| format!("9a1c2f0e-3b5d-4c8e-9f7a-0b1c2d3e{i:04x}"))
            .collect();
        assert!(ids.iter().all(|id| looks_like_id(id)));
        let mut url = reqwest::Url::parse(
            "https://array1-mgmt.storage.example.com:443/api/rest/import_session",
        )
        .unwrap();
        url.query_pairs_mut().extend_pairs(by_id_params(&ids));
        let line = format!("GET {url} HTTP/1.1");
        // About 4.5 KB with a long host name.
        assert!(line.len() < 5 * 1024, "{} bytes", line.len());
        assert!(url.query().unwrap().contains("&limit=100"));
    }

    #[test]
    fn error_bodies_give_code_and_message() {
        let body = r#"{"messages":[{"code":"0xE04040020009","severity":"Error","message_l10n":"Instance with id x was not found.","arguments":["x"]}]}"#;
        let parsed = parse_error(body).unwrap();
        assert_eq!(parsed.code.as_deref(), Some("0xE04040020009"));
        assert_eq!(parsed.message, "Instance with id x was not found.");
        assert_eq!(parse_error("<html>"), None);
        assert_eq!(parse_error(r#"{"messages":[]}"#), None);
    }
}
