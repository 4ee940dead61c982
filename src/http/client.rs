//! `HttpClient`: one reqwest client per target, with its TLS settings and timeouts, a
//! tracing span per request, the host check, and the mapping of failures to [`ApiError`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, Request, RequestBuilder, Response, Url};
use tracing::Instrument as _;

use crate::api_error::{ApiError, ErrorKind, is_retryable_status};
use crate::config::{RequestLimits, Target};
use crate::http::call_record::{CallRecord, PendingCall};
use crate::http::host_gate::HostGate;
use crate::http::local_io::{self, PoolId};
use crate::http::mutation::{Exchange, Mutation, Verify};
use crate::http::throttle::Throttle;
use crate::terminal_text::one_line;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most characters of a server's text (its error message, or what a parser quoted of
/// its answer) an error message shows; the body excerpt keeps more.
const MESSAGE_EXCERPT: usize = 300;

/// What a vendor's error body said: its code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VendorMessage {
    pub code: Option<String>,
    pub message: String,
}

/// Reads a vendor's error body; `None` when the body is not in the vendor's format.
pub type ErrorBodyParser = fn(&str) -> Option<VendorMessage>;

/// A vendor client holding a login that should end with the run, so a playbook does not
/// leave sessions behind on the array until they idle out.
pub trait Session: Send + Sync {
    /// Ends the login, if there is one; failures are only logged.
    fn log_out(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// This client as the verifier of its own changes, when it can tell whether one took
    /// effect (see [`Verify`]).
    fn verifier(self: Arc<Self>) -> Option<Arc<dyn Verify>> {
        None
    }
}

/// A header value (credentials, tokens, cookies) that logging and `Debug` output leave
/// out. A value that is not a valid header becomes empty, so the server refuses it.
pub fn sensitive(value: &str) -> reqwest::header::HeaderValue {
    let mut value = reqwest::header::HeaderValue::from_str(value)
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

/// What every connection pool of one target's client is made with.
#[derive(Debug)]
struct Pools {
    target: String,
    certificates: Vec<reqwest::Certificate>,
    read_idle: Duration,
    insecure: bool,
}

impl Pools {
    /// A pool with the target's TLS settings and timeouts: verified TLS (with its
    /// `ca_file`), checks off only when the target file says `insecure = true`.
    fn build(&self) -> Result<reqwest::Client, ApiError> {
        #[allow(clippy::disallowed_methods, reason = "the one place clients are built")]
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("cutover/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(self.read_idle)
            .redirect(reqwest::redirect::Policy::none());
        if !self.certificates.is_empty() {
            builder = builder.tls_certs_merge(self.certificates.clone());
        }
        if self.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        builder.build().map_err(|err| {
            ApiError::new(
                ErrorKind::Validation,
                format!("target `{}`: {err}", self.target),
            )
        })
    }
}

/// The HTTP client of one target.
#[derive(Clone, Debug)]
pub struct HttpClient {
    target: String,
    base: Url,
    /// Where this target's requests may go besides `base` (see [`HostGate`]).
    gate: HostGate,
    inner: reqwest::Client,
    /// Names this client's pools: `inner`, and each of the threads that drive their own
    /// requests (`local_io`), which `pools` makes.
    pool: PoolId,
    pools: Arc<Pools>,
    /// Where mutating calls are noted; off unless the run's host hands one over.
    calls: CallRecord,
    limits: RequestLimits,
    /// The target's `max_concurrency` and `rate`, shared by its clients in a run.
    throttle: Option<Arc<Throttle>>,
}

impl HttpClient {
    /// Builds the client for `target`: verified TLS (with the target's `ca_file`), and
    /// certificate checks off only when the target file says `insecure = true`.
    pub fn new(target: &Target) -> Result<Self, ApiError> {
        let fail = |message: String| ApiError::new(ErrorKind::Validation, message);
        let base = Url::parse(&format!("{}/", target.url))
            .map_err(|err| fail(format!("target `{}`: bad url: {err}", target.name)))?;
        let certificates = match &target.ca_file {
            Some(ca_file) => super::ca_file::load(ca_file)
                .map_err(|message| fail(format!("target `{}`: {message}", target.name)))?,
            None => Vec::new(),
        };
        if target.insecure && first_insecure_use(&target.name) {
            tracing::warn!(
                "target `{}` has insecure = true: TLS certificates are not checked",
                target.name
            );
        }
        let pools = Arc::new(Pools {
            target: target.name.clone(),
            certificates,
            read_idle: target.request_limits.read_idle,
            insecure: target.insecure,
        });
        Ok(Self {
            target: target.name.clone(),
            base,
            gate: HostGate::of(target).map_err(fail)?,
            inner: pools.build()?,
            pool: PoolId::new(),
            pools,
            calls: CallRecord::default(),
            limits: target.request_limits,
            throttle: Throttle::of(&target.request_limits),
        })
    }

    /// Notes this client's mutating calls in `calls` (the run's record).
    #[must_use]
    pub fn recording(mut self, calls: CallRecord) -> Self {
        self.throttle = calls.throttle(&self.target, &self.limits);
        self.calls = calls;
        self
    }

    /// The run's plan, in a `--plan` run: the gate records changes there, unsent.
    pub fn plan(&self) -> Option<&std::sync::Arc<crate::http::plan::Plan>> {
        self.calls.plan()
    }

    /// How many times this run has sent `operation` to `path` on this target.
    pub fn times_sent(&self, operation: &str, path: &str) -> usize {
        let (calls, _) = self.calls.snapshot();
        calls
            .iter()
            .filter(|call| {
                call.target == self.target && call.operation == operation && call.path == path
            })
            .count()
    }

    /// The target's name.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The target's base URL joined with path segments, each percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Accepts a link a server handed back (or a URL the target entry names) only when
    /// `operation` may send a request there (see [`HostGate`]), so a request, and above
    /// all its credentials, never goes to another host.
    pub fn check_link(&self, link: &str, operation: &str) -> Result<Url, ApiError> {
        self.gate.check(link, operation)
    }

    /// Reads an answer's body. [`HttpClient::send`] has read it already, within the
    /// target's limits, so this only fails on text that is not UTF-8.
    pub async fn read_text(&self, operation: &str, response: Response) -> Result<String, ApiError> {
        response.text().await.map_err(|err| {
            ApiError::new(ErrorKind::Http, format!("unexpected answer: {err}"))
                .at(&self.target, operation)
        })
    }

    /// Reads an answer's body as JSON of type `T`.
    pub async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &str,
        response: Response,
    ) -> Result<T, ApiError> {
        let text = self.read_text(operation, response).await?;
        serde_json::from_str(&text)
            .map_err(|err| self.unexpected(operation, &err.to_string(), &text))
    }

    /// A request body as JSON. A body that cannot be encoded fails the call: sending the
    /// request without it would ask the server for something else.
    pub fn json_body<T: serde::Serialize + ?Sized>(
        &self,
        operation: &str,
        body: &T,
    ) -> Result<serde_json::Value, ApiError> {
        serde_json::to_value(body).map_err(|err| self.unencodable(operation, &err))
    }

    /// A request body as JSON bytes, failing like [`HttpClient::json_body`].
    pub fn json_bytes<T: serde::Serialize + ?Sized>(
        &self,
        operation: &str,
        body: &T,
    ) -> Result<Vec<u8>, ApiError> {
        serde_json::to_vec(body).map_err(|err| self.unencodable(operation, &err))
    }

    fn unencodable(&self, operation: &str, err: &serde_json::Error) -> ApiError {
        ApiError::new(
            ErrorKind::Validation,
            format!("cannot encode the request body: {err}; nothing was sent"),
        )
        .at(&self.target, operation)
    }

    /// The error for an answer that is not what the API documents, with its body.
    pub fn unexpected(&self, operation: &str, why: &str, body: &str) -> ApiError {
        // A parser's error may quote the answer (a whole string of it, for serde).
        let why = one_line(why, MESSAGE_EXCERPT);
        ApiError::new(ErrorKind::Http, format!("unexpected answer: {why}"))
            .with_body(body)
            .at(&self.target, operation)
    }

    /// Starts a request on this target's client.
    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.inner.request(method, url)
    }

    /// Sends a read (GET or HEAD) and maps every failure to an [`ApiError`]: an error
    /// status with the vendor's code and message, a connection that never opened or an
    /// answer that broke (both retryable). Any other method is refused before sending:
    /// mutations go through [`HttpClient::mutate`], logins through
    /// [`HttpClient::session`].
    pub async fn send(
        &self,
        operation: &str,
        request: RequestBuilder,
        parse_error: ErrorBodyParser,
    ) -> Result<Response, ApiError> {
        let request = self.build(operation, request)?;
        if !super::retry::is_read(request.method()) {
            return Err(ApiError::new(
                ErrorKind::Validation,
                format!(
                    "internal error: `{operation}` is a {} request; a mutating call goes through the mutation gate; nothing was sent",
                    request.method()
                ),
            )
            .at(&self.target, operation));
        }
        self.transfer(operation, request, parse_error, None).await
    }

    /// Closes a login as a run ends: nothing waits on the answer and the login lapses on
    /// its own anyway, so a failure is only noted at debug level.
    pub async fn log_out(&self, request: RequestBuilder, parse_error: ErrorBodyParser) {
        if let Err(err) = self.session("logout", request, parse_error).await {
            tracing::debug!("logging out failed: {err}");
        }
    }

    /// Opens or closes a login (`login`, `logout`): whatever its method, it changes
    /// nothing a migration did, so the call record leaves it out, and it fails like a
    /// read: a lost answer or a busy refusal is retryable, and logging in again is safe
    /// even for a change that waited on it, since nothing of that was sent yet
    /// ([`ApiError::resend_safe`]). A second login only opens one more session, which
    /// idles out.
    pub async fn session(
        &self,
        operation: &str,
        request: RequestBuilder,
        parse_error: ErrorBodyParser,
    ) -> Result<Response, ApiError> {
        let request = self.build(operation, request)?;
        self.transfer(operation, request, parse_error, None)
            .await
            .map_err(|err| ApiError {
                resend_safe: true,
                // A login's successful answer carries the session's secret, whole or in
                // part; a refusal's is the vendor's error.
                body: err.body.filter(|_| {
                    !err.status
                        .is_some_and(|status| (200..300).contains(&status))
                }),
                ..err
            })
    }

    /// Sends a read with [`HttpClient::send`] or a mutation with [`HttpClient::mutate`].
    pub async fn exchange(
        &self,
        exchange: Exchange<'_>,
        request: RequestBuilder,
        parse_error: ErrorBodyParser,
    ) -> Result<Response, ApiError> {
        match exchange {
            Exchange::Read(operation) => self.send(operation, request, parse_error).await,
            Exchange::Mutation(mutation) => self.mutate(mutation, request, parse_error).await,
        }
    }

    /// Builds `request`, and passes its URL through the host gate once more: whatever
    /// path a URL took to get here, no request leaves for a host the target does not name.
    fn build(&self, operation: &str, request: RequestBuilder) -> Result<Request, ApiError> {
        let request = request.build().map_err(|err| {
            ApiError::new(ErrorKind::Validation, err.to_string()).at(&self.target, operation)
        })?;
        self.gate.check(request.url().as_str(), operation)?;
        if let Some(journal) = self.calls.journal()
            && crate::journal::frame::current_work_item().is_some()
        {
            journal.may_reach(&self.target).map_err(|message| {
                ApiError::new(ErrorKind::Validation, message).at(&self.target, operation)
            })?;
        }
        Ok(request)
    }

    /// Sends `request` within the target's limits and reads its answer whole; a
    /// mutation is noted in the call record. A non-GET whose answer is lost is an
    /// unknown outcome; the advice names the mutation's verification when no status
    /// came back (a success status that came says the request was accepted).
    async fn transfer(
        &self,
        operation: &str,
        request: Request,
        parse_error: ErrorBodyParser,
        mutation: Option<&Mutation>,
    ) -> Result<Response, ApiError> {
        let method = request.method().clone();
        let url = request.url().clone();
        let span = tracing::info_span!(
            "request",
            target = %self.target,
            operation,
            method = %method,
            path = url.path(),
            status = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        // Chosen before the call is noted: a pool that cannot be made sends nothing.
        let connections = local_io::pool(self.pool, &self.inner, || self.pools.build())?;
        let call = match mutation {
            Some(mutation) => self.calls.note(mutation, &method, &url),
            None => PendingCall::none(),
        };
        // Only a change's answer is its outcome: a read or a login is asked again.
        let mutating = mutation.is_some();
        // The status of an answer whose head came (0 until then): a mutation whose body
        // is then lost was answered, and its error says with what, so the gate does
        // not take it for one lost before any answer.
        let headed = AtomicU16::new(0);
        let advice = |answered: bool| match mutation {
            Some(mutation) if !answered => mutation.verification.advice(),
            _ => GENERIC_ADVICE.to_owned(),
        };
        let limits = self.limits;
        // Waiting for the target's turn is not the server's time: it comes first, and
        // ends with the wait the request runs in.
        let _permit = match &self.throttle {
            Some(throttle) => match turn(throttle).await {
                Some(permit) => Some(permit),
                None => {
                    call.finish_unsent();
                    return Err(ApiError::new(
                        ErrorKind::Timeout,
                        "the wait timed out before the target's `request_limits` (`max_concurrency`, `rate`) let the request go; nothing was sent",
                    )
                    .at(&self.target, operation));
                }
            },
            None => None,
        };
        let exchange = async {
            let response = match connections.execute(request).await {
                Ok(response) => response,
                Err(err) => {
                    tracing::debug!(error = %err, "request failed");
                    let failed = transport_error(&err, &self.target, mutating, &advice(false));
                    call.finish(&Err(err));
                    return Err(failed);
                }
            };
            let status = response.status();
            headed.store(status.as_u16(), Ordering::Relaxed);
            match whole(response, limits.max_body).await {
                Ok(response) => {
                    call.answered(status.as_u16());
                    Ok(response)
                }
                Err(err) => {
                    call.lost();
                    Err(body_error(err, mutating, &self.target, &advice(true)))
                }
            }
        };
        let late_advice = || advice(headed.load(Ordering::Relaxed) != 0);
        let result = bounded(
            exchange,
            limits.timeout,
            mutating,
            &self.target,
            late_advice,
        )
        .instrument(span.clone())
        .await;
        span.record("duration_ms", started.elapsed().as_millis());
        let located = |err: ApiError| ApiError {
            method: Some(method.to_string()),
            url: Some(url.to_string()),
            status: err.status.or_else(|| {
                let status = headed.load(Ordering::Relaxed);
                (status != 0).then_some(status)
            }),
            ..err.at(&self.target, operation)
        };
        let response = result.map_err(located)?;
        span.record("status", response.status().as_u16());
        tracing::debug!(parent: &span, "answered");
        if response.status().is_success() {
            return Ok(response);
        }
        if response.status().is_redirection() {
            // The redirect policy is `none`: the answer is the server's last word.
            let redirect =
                super::host_gate::redirect_error(&response, &url, mutating, &advice(false));
            return Err(located(redirect));
        }
        Err(located(status_error(response, parse_error).await))
    }
}

/// Whether this is the first client built in this process for the `insecure` target
/// `name`: a target's clients (its IAM endpoint's, a script's second handle) warn once.
fn first_insecure_use(name: &str) -> bool {
    static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if warned.iter().any(|seen| seen == name) {
        return false;
    }
    warned.push(name.to_owned());
    true
}

/// The target's turn under its throttle, or `None` when the wait the request runs in
/// ends first.
async fn turn(throttle: &Throttle) -> Option<super::throttle::Permit> {
    match super::retry::wait_deadline() {
        Some((at, clock)) => tokio::select! {
            permit = throttle.enter() => Some(permit),
            () = clock.until(at) => None,
        },
        None => Some(throttle.enter().await),
    }
}

/// What to do about a lost answer when nothing says more.
const GENERIC_ADVICE: &str = "read the object's state before trying again";

/// How long past its wait's deadline a request may still take (wall time): a wait reads
/// once more when its timeout comes, to report what it found, and that read (or one
/// that started just before) must not fail merely because the machine is busy or the
/// clock runs fast under `--speed`.
pub const LAST_LOOK: Duration = Duration::from_secs(2);

/// Runs one request and the read of its answer within the target's `timeout` (wall
/// time) and the deadline of the wait it runs in (clock time), whichever comes first.
async fn bounded(
    exchange: impl Future<Output = Result<Response, ApiError>>,
    timeout: Duration,
    mutating: bool,
    target: &str,
    advice: impl Fn() -> String,
) -> Result<Response, ApiError> {
    let wait = super::retry::wait_deadline();
    let wait_ends = async {
        match &wait {
            Some((at, clock)) => {
                clock.until(*at).await;
                tokio::time::sleep(LAST_LOOK).await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        result = tokio::time::timeout(timeout, exchange) => result.unwrap_or_else(|_| {
            Err(cut_off(
                format!(
                    "no whole answer within {} (`request_limits.timeout` of target `{target}`; raise it if the server is slow but alive)",
                    humantime::format_duration(timeout)
                ),
                mutating,
                &advice(),
            ))
        }),
        () = wait_ends => Err(if mutating {
            ApiError::new(
                ErrorKind::UnknownOutcome,
                format!("the wait timed out before the answer came; {}", advice()),
            )
        } else {
            ApiError::new(ErrorKind::Timeout, "the wait timed out before the answer came")
        }),
    }
}

/// A request given up before its answer was whole: a read may be sent again, a mutation
/// may have been applied.
fn cut_off(why: String, mutating: bool, advice: &str) -> ApiError {
    if mutating {
        ApiError::new(
            ErrorKind::UnknownOutcome,
            format!("{why}; the request may have been applied: {advice}"),
        )
    } else {
        ApiError::new(ErrorKind::Http, why).retryable()
    }
}

/// Why an answer's body could not be read whole.
enum BodyError {
    /// Larger than `max_body` bytes.
    TooLarge(u64),
    /// The connection broke or went quiet meanwhile.
    Broken(reqwest::Error),
    /// Whole, but not the JSON or XML its content type says, with why and the body.
    Malformed(String, String),
}

/// The answer with its whole body read, refused past `max_body` bytes without reading
/// the rest, or when a successful answer's body is not the format it says it is.
async fn whole(mut response: Response, max_body: u64) -> Result<Response, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > max_body)
    {
        return Err(BodyError::TooLarge(max_body));
    }
    let mut rebuilt = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(headers) = rebuilt.headers_mut() {
        headers.extend(response.headers().clone());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Broken)? {
        if u64::try_from(body.len() + chunk.len()).map_or(true, |length| length > max_body) {
            return Err(BodyError::TooLarge(max_body));
        }
        body.extend_from_slice(&chunk);
    }
    if response.status().is_success() {
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        if let Some(why) = super::answer_check::unreadable(content_type, &body) {
            return Err(BodyError::Malformed(
                why,
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
    }
    // A builder fed a valid status and headers cannot fail; the body is whole either way.
    Ok(rebuilt.body(body).map_or_else(
        |_| Response::from(http::Response::new(Vec::new())),
        Response::from,
    ))
}

/// The error for an answer whose body could not be read: a mutation's outcome is then
/// unknown, whatever the status said.
fn body_error(err: BodyError, mutating: bool, target: &str, advice: &str) -> ApiError {
    match err {
        BodyError::TooLarge(limit) => {
            let why = format!(
                "the answer is larger than {limit} bytes (`request_limits.max_body` of target `{target}`; raise it if such an answer is expected)"
            );
            if mutating {
                ApiError::new(
                    ErrorKind::UnknownOutcome,
                    format!("{why}; the request was applied but its answer was not read: {advice}"),
                )
            } else {
                ApiError::new(ErrorKind::Http, why)
            }
        }
        BodyError::Malformed(why, body) => {
            let err = if mutating {
                ApiError::new(
                    ErrorKind::UnknownOutcome,
                    format!(
                        "the change was accepted but its answer is unreadable: {why}; {advice}"
                    ),
                )
            } else {
                ApiError::new(ErrorKind::Http, format!("unexpected answer: {why}")).retryable()
            };
            err.with_body(&body)
        }
        BodyError::Broken(err) => {
            let cause = causes(&err);
            if mutating {
                ApiError::new(
                    ErrorKind::UnknownOutcome,
                    format!("the request was sent but its answer was lost ({cause}); {advice}"),
                )
            } else {
                ApiError::new(
                    ErrorKind::Http,
                    format!("reading the answer failed: {cause}"),
                )
                .retryable()
            }
        }
    }
}

/// What rustls said when it could not verify the server's certificate (unknown CA, wrong
/// name, expired…), found among the causes of `err`; `None` for any other failure.
fn untrusted_certificate(err: &reqwest::Error) -> Option<String> {
    use tokio_rustls::rustls;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cause) = source {
        // An `io::Error` reports as its source the source of the error it wraps, not
        // that error itself (here a rustls error, wrapped twice): unwrap it by hand.
        let mut inner = Some(cause);
        while let Some(error) = inner {
            if let Some(
                tls @ (rustls::Error::InvalidCertificate(_)
                | rustls::Error::InvalidCertRevocationList(_)),
            ) = error.downcast_ref::<rustls::Error>()
            {
                return Some(tls.to_string());
            }
            inner = error
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .map(|wrapped| wrapped as &(dyn std::error::Error + 'static));
        }
        source = cause.source();
    }
    None
}

/// An error with its chain of causes, on one line.
fn causes(err: &reqwest::Error) -> String {
    let mut cause = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        cause = format!("{cause}: {inner}");
        source = inner.source();
    }
    cause
}

/// The error for an answer with an unsuccessful status: the kind the status stands for, with
/// the vendor's code and message when `parse_error` reads its body.
pub(crate) async fn status_error(response: Response, parse_error: ErrorBodyParser) -> ApiError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // `send` has read the body whole already; text that is not UTF-8 is kept out.
    let body = response.text().await.unwrap_or_default();
    let vendor = parse_error(&body);
    let reason = status.canonical_reason().unwrap_or("");
    let message = match &vendor {
        Some(vendor) => format!(
            "{} {reason}: {}",
            status.as_u16(),
            one_line(&vendor.message, MESSAGE_EXCERPT)
        ),
        None => format!("{} {reason}", status.as_u16()),
    };
    let mut err = ApiError::new(ErrorKind::from_status(status.as_u16()), message).with_body(&body);
    err.status = Some(status.as_u16());
    err.vendor_code = vendor.and_then(|vendor| vendor.code);
    err.retryable = is_retryable_status(status.as_u16());
    err.retry_after = retry_after;
    err
}

fn transport_error(err: &reqwest::Error, target: &str, mutating: bool, advice: &str) -> ApiError {
    let cause = causes(err);
    // Refused during the handshake: nothing was sent, and sending again cannot help.
    if let Some(why) = untrusted_certificate(err) {
        return ApiError::new(
            ErrorKind::Http,
            format!(
                "the server's certificate is not trusted ({why}); set `ca_file` in target `{target}` to the PEM file of the CA that signed it (`cutover lab --tls` writes one beside the target file), or `insecure = true` to skip the check"
            ),
        );
    }
    if err.is_connect() {
        ApiError::new(ErrorKind::Http, format!("cannot connect: {cause}")).retryable()
    } else if mutating {
        ApiError::new(
            ErrorKind::UnknownOutcome,
            format!("the request was sent but its answer was lost ({cause}); {advice}"),
        )
    } else {
        ApiError::new(ErrorKind::Http, format!("request failed: {cause}")).retryable()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn client(url: &str) -> HttpClient {
        super::limits_tests::client(url, crate::config::RequestLimits::default())
    }

    #[test]
    fn links_must_stay_on_the_target() {
        let client = client("https://array1.example.com");
        for allowed in [
            "/api/task/1",
            "https://array1.example.com/api/task/1",
            "https://array1.example.com:443/api/task/1",
        ] {
            assert!(client.check_link(allowed, "wait").is_ok(), "{allowed}");
        }
        for refused in [
            "https://other.example.com/api/task/1",
            "http://array1.example.com/api/task/1",
            "https://array1.example.com:8443/api/task/1",
            "//evil.example.net/x",
        ] {
            assert!(client.check_link(refused, "wait").is_err(), "{refused}");
        }
        let err = client
            .check_link("https://other.example.com/x", "vcd.task.wait")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`array1` vcd.task.wait: returned a link to https://other.example.com; refusing to follow: requests go only to the target's url (https://array1.example.com) (kind: http)"
        );
    }

    #[test]
    fn urls_encode_each_segment() {
        let client = client("https://array1.example.com/base");
        let url = client.url(&["api", "rest", "import_session", "name:a b/c"]);
        assert_eq!(
            url.as_str(),
            "https://array1.example.com/base/api/rest/import_session/name:a%20b%2Fc"
        );
    }

    #[test]
    fn an_unreadable_ca_file_is_a_clear_error() {
        let err = HttpClient::new(&Target {
            ca_file: Some("/nonexistent/root.pem".into()),
            ..client("https://a").target_stub()
        })
        .unwrap_err();
        assert!(
            err.message
                .contains("cannot read ca_file `/nonexistent/root.pem`"),
            "{err}"
        );
    }

    /// A loopback server that reads each request and answers `200` with `body` as JSON,
    /// whole, or (`None`) hangs up without answering.
    async fn server(body: Option<&'static str>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = [0_u8; 4096];
                let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buffer).await;
                let Some(body) = body else { continue };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tokio::io::AsyncWriteExt::write_all(&mut socket, answer.as_bytes()).await;
            }
        });
        url
    }

    fn no_vendor_body(_: &str) -> Option<VendorMessage> {
        None
    }

    /// PowerStore's `cutover` of session `lun03` on `client`'s target, as the gate
    /// takes it.
    pub(crate) fn cutover(client: &HttpClient) -> Mutation {
        crate::vendors::powerstore::client::MUTATIONS
            .mutation(
                client.target(),
                "cutover",
                (None, Some("lun03")),
                "cut over",
            )
            .unwrap()
    }

    #[tokio::test]
    async fn a_lost_answer_to_a_mutation_is_an_unknown_outcome() {
        let client = client(&server(None).await);
        let post = client.request(Method::POST, client.url(&["x", "cutover"]));
        let err = client
            .mutate(&cutover(&client), post, no_vendor_body)
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::UnknownOutcome, "{err}");
        assert!(!err.retryable);
        let get = client.request(Method::GET, client.url(&["x"]));
        let err = client.send("get", get, no_vendor_body).await.unwrap_err();
        assert_eq!((err.kind, err.retryable), (ErrorKind::Http, true), "{err}");
    }

    #[tokio::test]
    async fn a_whole_answer_that_is_not_its_format_is_a_typed_error_with_its_body() {
        let client = client(&server(Some(r#"{"id": "lun03", "sta"#)).await);
        let get = client.request(Method::GET, client.url(&["x"]));
        let err = client
            .send("import_session", get, no_vendor_body)
            .await
            .unwrap_err();
        assert_eq!((err.kind, err.retryable), (ErrorKind::Http, true), "{err}");
        assert_eq!(
            err.message,
            "unexpected answer: the body is not valid JSON (EOF while parsing a string at line 1 column 20)"
        );
        assert_eq!(err.body.as_deref(), Some(r#"{"id": "lun03", "sta"#));
        // A login's answer holds its secret: never kept, and logging in again is safe.
        let login = client.request(Method::POST, client.url(&["session"]));
        let err = client
            .session("login", login, no_vendor_body)
            .await
            .unwrap_err();
        assert_eq!(
            (err.kind, err.retryable, err.resend_safe),
            (ErrorKind::Http, true, true)
        );
        assert_eq!(err.body, None);
        let post = client.request(Method::POST, client.url(&["x", "cutover"]));
        let err = client
            .mutate(&cutover(&client), post, no_vendor_body)
            .await
            .unwrap_err();
        // Accepted, so never sent again; nobody to ask here, so its outcome stays unknown.
        assert_eq!(
            (err.kind, err.retryable, err.status),
            (ErrorKind::UnknownOutcome, false, Some(200))
        );
        assert!(
            err.message.starts_with(
                "the change was accepted but its answer is unreadable: the body is not valid JSON"
            ),
            "{err}"
        );
        assert_eq!(err.body.as_deref(), Some(r#"{"id": "lun03", "sta"#));
    }

    /// Found by fuzzing: a vendor message, or a parser's error quoting the answer, went
    /// into the error whole, with its line breaks and escape sequences.
    #[tokio::test]
    async fn hostile_answers_give_one_short_line() {
        fn message_is_the_body(body: &str) -> Option<VendorMessage> {
            Some(VendorMessage {
                code: None,
                message: body.to_owned(),
            })
        }
        let body = format!("line one\nline two \x1b[2J{}", "x".repeat(100_000));
        let answer = Response::from(http::Response::builder().status(500).body(body).unwrap());
        let err = status_error(answer, message_is_the_body).await;
        assert_eq!(
            err.to_string(),
            format!(
                "500 Internal Server Error: line one\\u{{a}}line two \\u{{1b}}[2J{}… (kind: http)",
                "x".repeat(300 - 22)
            )
        );
        let client = client("https://array1.example.com");
        let answer = Response::from(http::Response::new(format!(
            r#"{{"id": 1, "name": "{}"}}"#,
            "y".repeat(100_000)
        )));
        let err = client
            .read_json::<std::collections::HashMap<String, u8>>("read", answer)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`array1` read: unexpected answer: invalid type: string \"{}… (kind: http)",
                "y".repeat(300 - 22)
            )
        );
    }

    #[tokio::test]
    async fn the_gate_says_how_to_tell_whether_a_lost_mutation_took_effect() {
        let client = client(&server(None).await);
        let mutation = cutover(&client);
        let post = client.request(Method::POST, client.url(&["x", "cutover"]));
        let err = client
            .mutate(&mutation, post, no_vendor_body)
            .await
            .unwrap_err();
        assert_eq!(err.verification.as_deref(), Some(&mutation.verification));
        let url = err.url.clone().unwrap_or_default();
        assert_eq!(
            err.to_string(),
            format!(
                "`array1` cutover: the request was sent but its answer was lost (error sending request for url ({url}): client error (SendRequest): connection closed before message completed); read import session `lun03` before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed` (kind: unknown_outcome)"
            )
        );
    }

    #[tokio::test]
    async fn plain_send_refuses_anything_but_a_read() {
        let client = client(&server(None).await);
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            let request = client.request(method.clone(), client.url(&["x"]));
            let err = client
                .send("cutover", request, no_vendor_body)
                .await
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "`array1` cutover: internal error: `cutover` is a {method} request; a mutating call goes through the mutation gate; nothing was sent (kind: validation)"
                )
            );
        }
        let other = crate::vendors::powerstore::client::MUTATIONS
            .mutation("array2", "cutover", (Some("x"), None), "cut over")
            .unwrap();
        let request = client.request(Method::POST, client.url(&["x"]));
        let err = client
            .mutate(&other, request, no_vendor_body)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`array1` cutover: internal error: the mutation was described for target `array2`; nothing was sent (kind: validation)"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_retryable_even_for_a_mutation() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let client = client(&format!("http://127.0.0.1:{port}"));
        let post = client.request(Method::POST, client.url(&["x"]));
        let err = client
            .mutate(&cutover(&client), post, no_vendor_body)
            .await
            .unwrap_err();
        assert_eq!((err.kind, err.retryable), (ErrorKind::Http, true), "{err}");
        assert!(err.message.starts_with("cannot connect"), "{err}");
    }

    #[test]
    fn a_body_that_cannot_be_encoded_fails_the_call() {
        let client = client("http://127.0.0.1:1");
        // JSON object keys must be strings: a map keyed by pairs cannot be encoded.
        let body = std::collections::BTreeMap::from([((1, 2), 3)]);
        let err = client.json_body("cutover", &body).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`{}` cutover: cannot encode the request body: key must be a string; nothing was sent (kind: validation)",
                client.target()
            )
        );
        let err = client.json_bytes("cutover", &body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Validation);
    }

    impl HttpClient {
        fn target_stub(&self) -> Target {
            Target {
                name: self.target.clone(),
                ..Target::for_tests(self.base.as_str().trim_end_matches('/'))
            }
        }
    }
}

#[cfg(test)]
#[path = "client_limits_tests.rs"]
mod limits_tests;

#[path = "gate.rs"]
mod gate;
