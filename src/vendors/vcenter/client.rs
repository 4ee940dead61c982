//! Typed async client for vCenter's deferred history import (vendor-apis.md §1): a
//! session (or Basic) login renewed on 401, in either body encoding, and reads retried
//! while the server is busy. A local `root`
//! user speaks to the appliance management port in `/rest`, as VMware's deferred-import
//! guide does; an SSO user (`name@domain`) speaks the current `/api` form.

use reqwest::{Method, RequestBuilder, Response, Url};

use crate::api_error::{ApiError, ErrorKind};
use crate::clock::Clock;
use crate::config::Target;
use crate::http::basic_auth::BasicAuth;
use crate::http::call_record::CallRecord;
use crate::http::client::{HttpClient, VendorMessage, sensitive};
use crate::http::login::LoginCache;
use crate::http::mutation::{Check, Exchange, Mutations, Operation};
use crate::http::retry::Retrier;
use crate::vendors::vcenter::wire::{
    ACTION_QUERY, Encoding, HistoryAction, HistoryInfo, HistoryStartSpec, RestStartRequest,
    SESSION_HEADER, VapiError, VapiErrorKind, Wrapped,
};

/// The object of the history operations.
pub(super) const HISTORY: &str = "the history import";
/// The object of the OVF import session operations.
pub(crate) const OVF_SESSION: &str = "OVF import session";

/// Every mutating call this client sends, history import (vendor-apis.md §1.5) and OVF
/// import sessions (§3.4) alike, with how to tell whether it took effect; the mutation
/// gate sends nothing else.
pub const MUTATIONS: Mutations = Mutations {
    vendor: "vcenter",
    operations: &[
        Operation::new(
            "history.start",
            HISTORY,
            Check::States(&["RUNNING", "BLOCKED", "SUCCEEDED", "FAILED"]),
        ),
        Operation::new("history.pause", HISTORY, Check::States(&["BLOCKED"])),
        Operation::new(
            "history.resume",
            HISTORY,
            Check::States(&["RUNNING", "SUCCEEDED"]),
        ),
        Operation::new("history.cancel", HISTORY, Check::States(&["FAILED"])),
        Operation::new("ovf_import", OVF_SESSION, Check::ClientToken),
        Operation::new(
            "ovf.instantiate",
            OVF_SESSION,
            Check::States(&[
                "IMPORT_FILE_TRANSFER",
                "IMPORT_INSTANTIATING",
                "IMPORT_COMPLETED",
            ]),
        ),
        Operation::new("ovf.try_instantiate", OVF_SESSION, Check::ChangesNothing),
        Operation::new("ovf.preview", "OVF descriptor", Check::ChangesNothing),
        Operation::new("ovf.probe", "OVF package URL", Check::ChangesNothing),
        Operation::new(
            "ovf.progress",
            OVF_SESSION,
            Check::RepeatSafe(
                "a progress report only refreshes the session's progress and idle timer",
            ),
        ),
        Operation::new("ovf.push", OVF_SESSION, Check::Uploaded),
        Operation::new("ovf.delete", OVF_SESSION, Check::Gone),
    ],
    is_state: |operation, state| {
        if operation.starts_with("history.") {
            crate::vendors::vcenter::wire::HistoryStatus::parse(state)
                .is_some_and(|s| s.as_str() == state)
        } else {
            crate::vendors::vcenter::ovf_wire::ImportState::parse(state).is_some()
        }
    },
};

/// A vCenter target, at its appliance port or its reverse proxy.
pub struct VcenterClient {
    http: HttpClient,
    auth: BasicAuth,
    encoding: Encoding,
    session: LoginCache<String>,
    retry: Retrier,
}

session!(VcenterClient, session => logout_request);

/// Reads a vAPI error body in either encoding; the code is the error's snake-case kind
/// (e.g. `already_in_desired_state`).
pub fn parse_error(body: &str) -> Option<VendorMessage> {
    let error = VapiError::parse(body)?;
    let code = error.kind.map_or_else(
        || error.raw_type.to_ascii_lowercase(),
        |k| k.as_snake().to_owned(),
    );
    Some(VendorMessage {
        code: Some(code),
        message: error.message(),
    })
}

/// Gives `err` the kind its vAPI error type stands for.
pub(super) fn vapi_kind(mut err: ApiError) -> ApiError {
    if let Some(kind) = err.vendor_code.as_deref().and_then(kind_of) {
        err.kind = kind;
    }
    err
}

/// The error kind a vAPI error type stands for.
fn kind_of(code: &str) -> Option<ErrorKind> {
    match VapiErrorKind::parse(code)? {
        VapiErrorKind::NotAllowedInCurrentState | VapiErrorKind::AlreadyInDesiredState => {
            Some(ErrorKind::InvalidState)
        }
        VapiErrorKind::Unauthenticated | VapiErrorKind::Unauthorized => Some(ErrorKind::Auth),
        VapiErrorKind::NotFound => Some(ErrorKind::NotFound),
        _ => None,
    }
}

impl VcenterClient {
    /// A client for `target` noting its mutating calls in `calls`, waiting out a busy
    /// server on `clock`; nothing is sent until the first call.
    pub fn new(target: &Target, calls: CallRecord, clock: Clock) -> Result<Self, ApiError> {
        let encoding = if target.user.contains('@') {
            Encoding::Api
        } else {
            Encoding::Rest
        };
        Ok(Self {
            http: HttpClient::new(target)?.recording(calls),
            auth: BasicAuth::of(target)?,
            encoding,
            session: LoginCache::new(),
            retry: Retrier::new(target, clock),
        })
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        self.http.target()
    }

    /// The target's HTTP client.
    pub(super) fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The body encoding this client speaks.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The history import's Info.
    pub async fn history(&self) -> Result<HistoryInfo, ApiError> {
        let response = self
            .call(
                Exchange::Read("history.status"),
                Method::GET,
                self.history_url(None),
                None,
            )
            .await?;
        match self.encoding {
            Encoding::Rest => self
                .http
                .read_json::<Wrapped<HistoryInfo>>("history.status", response)
                .await
                .map(|w| w.value),
            Encoding::Api => self.http.read_json("history.status", response).await,
        }
    }

    /// Runs a history action; `start` takes an optional spec.
    pub async fn history_action(
        &self,
        action: HistoryAction,
        spec: Option<HistoryStartSpec>,
    ) -> Result<(), ApiError> {
        let operation = format!("history.{}", action.as_str());
        let body = match (action, self.encoding) {
            (HistoryAction::Start, Encoding::Rest) => Some(
                self.http
                    .json_body(&operation, &RestStartRequest { spec })?,
            ),
            (HistoryAction::Start, Encoding::Api) => spec
                .map(|s| self.http.json_body(&operation, &s))
                .transpose()?,
            _ => None,
        };
        let summary = match &body {
            Some(_) => format!("{} with a spec", action.as_str()),
            None => action.as_str().to_owned(),
        };
        let mutation = MUTATIONS.mutation(self.target(), &operation, (None, None), summary)?;
        self.call(
            Exchange::Mutation(&mutation),
            Method::POST,
            self.history_url(Some(action)),
            body,
        )
        .await
        .map(drop)
    }

    fn history_url(&self, action: Option<HistoryAction>) -> Url {
        let path: Vec<&str> = self
            .encoding
            .history_path()
            .trim_start_matches('/')
            .split('/')
            .collect();
        let mut url = self.http.url(&path);
        if let Some(action) = action {
            url.query_pairs_mut()
                .append_pair(ACTION_QUERY, action.as_str());
        }
        url
    }

    /// Sends a request with the session header, logging in first if needed and once
    /// more when the session idled out (a 401 applied nothing). A read the server is too
    /// busy for is sent again (see [`Retrier`]).
    pub(super) async fn call(
        &self,
        exchange: Exchange<'_>,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Result<Response, ApiError> {
        let send = |session: String| {
            let request = self
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .header(SESSION_HEADER, sensitive(&session));
            let request = match &body {
                Some(body) => request.json(body),
                // POSTs carry a JSON content type even when empty, as the SDK's do.
                None if method == Method::POST => {
                    request.header(reqwest::header::CONTENT_TYPE, "application/json")
                }
                None => request,
            };
            self.http.exchange(exchange, request, parse_error)
        };
        self.retry
            .send(exchange.operation(), &method, || {
                self.session.with_login(|| self.log_in(), &send)
            })
            .await
            .map_err(vapi_kind)
    }

    /// Where this encoding opens and closes its session.
    fn session_url(&self) -> Url {
        let path: Vec<&str> = self
            .encoding
            .session_path()
            .trim_start_matches('/')
            .split('/')
            .collect();
        self.http.url(&path)
    }

    async fn log_in(&self) -> Result<String, ApiError> {
        let request = self
            .http
            .request(Method::POST, self.session_url())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::AUTHORIZATION, self.auth.header());
        let response = self
            .http
            .session("login", request, parse_error)
            .await
            .map_err(vapi_kind)?;
        let text = self.http.read_text("login", response).await?;
        let id = match self.encoding {
            Encoding::Rest => serde_json::from_str::<Wrapped<String>>(&text).map(|w| w.value),
            Encoding::Api => serde_json::from_str::<String>(&text),
        };
        id.map_err(|_| {
            ApiError::new(ErrorKind::Auth, "login answered without a session id")
                .at(self.target(), "login")
        })
    }

    /// The request that ends the login of session id `session`.
    async fn logout_request(&self, session: String) -> RequestBuilder {
        self.http
            .request(Method::DELETE, self.session_url())
            .header(SESSION_HEADER, sensitive(&session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_encodings_give_the_snake_case_kind() {
        let rest = r#"{"type": "com.vmware.vapi.std.errors.not_allowed_in_current_state",
            "value": {"messages": [{"id": "x", "default_message": "Resume is allowed only when the import is blocked.", "args": []}]}}"#;
        let api = r#"{"error_type": "ALREADY_IN_DESIRED_STATE",
            "messages": [{"id": "x", "default_message": "Already paused.", "args": []}]}"#;
        let rest = parse_error(rest).unwrap();
        assert_eq!(rest.code.as_deref(), Some("not_allowed_in_current_state"));
        assert_eq!(
            rest.message,
            "Resume is allowed only when the import is blocked."
        );
        assert_eq!(
            parse_error(api).unwrap().code.as_deref(),
            Some("already_in_desired_state")
        );
        assert_eq!(
            kind_of("already_in_desired_state"),
            Some(ErrorKind::InvalidState)
        );
        assert_eq!(kind_of("unauthorized"), Some(ErrorKind::Auth));
        assert_eq!(parse_error("not json"), None);
    }
}
