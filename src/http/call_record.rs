//! `CallRecord`: the mutating calls a run made and how each ended, so a run that is
//! stopped can say where things stand; it stands in for the journal. The mutation gate
//! (`HttpClient::mutate`) feeds it: it notes each call with its [`Mutation`] as it goes
//! out and its outcome when the answer (or its loss) comes back; a call whose wait was
//! abandoned (the run stopped) stays an unknown outcome, and its line says how to tell
//! whether it took effect.
//!
//! Reads (GET, HEAD, OPTIONS) and session housekeeping (`login`, `logout`) never reach
//! it: neither changes what a migration did. Only the mutation's description, method and
//! URL path are kept, never a body or a header, so no secret can reach the record.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant, SystemTime};

use reqwest::{Method, Response, Url};

use crate::config::RequestLimits;
use crate::http::in_flight::InFlight;
use crate::http::mutation::{Mutation, Verify};
use crate::http::plan::Plan;
use crate::http::throttle::Throttle;
use crate::journal::run_journal::RunJournal;

/// Calls kept at most; older ones are only counted, so a watcher running for weeks does
/// not grow without bound.
const KEPT: usize = 10_000;

/// Operations that only open or close a login; they change nothing on the target.
#[cfg(test)]
const HOUSEKEEPING: [&str; 2] = ["login", "logout"];

/// How a mutating call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// Sent, and no answer yet.
    Pending,
    /// The target answered with this status (success or refusal).
    Answered(u16),
    /// The connection never opened, so the request was not applied.
    NotSent,
    /// Sent, and the answer was lost on the way back.
    Lost,
    /// Sent, and the run stopped waiting before the answer came.
    Abandoned,
}

impl fmt::Display for CallOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pending => f.write_str("unknown_outcome, no answer yet"),
            Self::Answered(status) => {
                let reason = reqwest::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                write!(f, "{status} {reason}")
            }
            Self::NotSent => f.write_str("not sent, the connection failed"),
            Self::Lost => f.write_str("unknown_outcome, the answer was lost"),
            Self::Abandoned => {
                f.write_str("unknown_outcome, the run stopped before the answer came")
            }
        }
    }
}

/// One mutating call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The target's name from the target file.
    pub target: String,
    /// The script-facing operation, e.g. `cutover`.
    pub operation: String,
    pub method: String,
    /// The URL's path: it names the object; the query and host are left out.
    pub path: String,
    pub outcome: CallOutcome,
    /// When it was sent, by the wall clock (reports give it).
    pub sent: SystemTime,
    /// From sending to the outcome; `None` while pending.
    pub took: Option<Duration>,
    /// What the gate was told the call is; `None` only for calls noted without it.
    pub mutation: Option<Mutation>,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` {} {} {}: {}",
            self.target, self.operation, self.method, self.path, self.outcome
        )?;
        if let Some(took) = self.took {
            write!(f, " ({} ms)", took.as_millis())?;
        }
        let unknown = !matches!(
            self.outcome,
            CallOutcome::Answered(_) | CallOutcome::NotSent
        );
        match &self.mutation {
            Some(mutation) if unknown => write!(f, "; {}", mutation.verification.advice()),
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Default)]
struct Calls {
    kept: VecDeque<Call>,
    /// Calls no longer kept, the oldest first.
    forgotten: u64,
}

/// The mutating calls of a run, shared by every client the run's host builds. Cheap to
/// clone; a default record is off and keeps nothing. It also carries what the gate needs
/// beyond the record: the run's journal, when there is one, and each target's client as
/// the verifier of its changes.
#[derive(Clone, Debug, Default)]
pub struct CallRecord(Option<Arc<Mutex<Calls>>>, Arc<Gatekeeping>);

/// The run's journal and verifiers, shared by every clone of a record.
#[derive(Default)]
struct Gatekeeping {
    journal: OnceLock<Arc<RunJournal>>,
    /// The plan of a `--plan` run: changes are recorded there instead of sent.
    plan: OnceLock<Arc<Plan>>,
    /// Weak: the clients own the record, not the other way round.
    verifiers: Mutex<HashMap<String, Weak<dyn Verify>>>,
    /// The changes sent and not yet answered, which a stopping run waits for.
    in_flight: Arc<InFlight>,
    /// Each target's `max_concurrency` and `rate`, one for all its clients.
    throttles: Mutex<HashMap<String, Arc<Throttle>>>,
    /// The runtime changes are sent on: the run's shared one, never a script thread's
    /// own (`local_io`), which stops when the thread stops waiting.
    sending: OnceLock<tokio::runtime::Handle>,
}

impl fmt::Debug for Gatekeeping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gatekeeping")
            .field("journal", &self.journal.get())
            .field("plan", &self.plan.get())
            .finish_non_exhaustive()
    }
}

impl CallRecord {
    /// A record that keeps calls.
    pub fn new() -> Self {
        Self(Some(Arc::default()), Arc::default())
    }

    /// Writes every mutating call into `journal` too, from now on; a record has one
    /// journal at most, so a second is ignored.
    pub fn journal_into(&self, journal: Arc<RunJournal>) {
        let _ = self.1.journal.set(journal);
    }

    /// The run's journal, if it has one.
    pub fn journal(&self) -> Option<&Arc<RunJournal>> {
        self.1.journal.get()
    }

    /// Sends every change on `runtime` from now on (else on the runtime of the caller);
    /// a record has one such runtime at most, so a second is ignored.
    pub fn send_on(&self, runtime: tokio::runtime::Handle) {
        let _ = self.1.sending.set(runtime);
    }

    /// Runs the sending of a change to its end on the record's runtime, even if the
    /// caller stops waiting for it.
    pub fn spawn_sending<F>(&self, sending: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.1.sending.get() {
            Some(runtime) => runtime.spawn(sending),
            None => tokio::spawn(sending),
        }
    }

    /// The changes sent and not yet answered, shared by every clone of this record.
    pub fn in_flight(&self) -> &Arc<InFlight> {
        &self.1.in_flight
    }

    /// Makes this a `--plan` run: from now on every change is recorded in `plan`, not
    /// sent; a record has one plan at most, so a second is ignored.
    pub fn plan_into(&self, plan: Arc<Plan>) {
        let _ = self.1.plan.set(plan);
    }

    /// The run's plan, in a `--plan` run.
    pub fn plan(&self) -> Option<&Arc<Plan>> {
        self.1.plan.get()
    }

    /// The throttle of `target`'s requests in this run, made from `limits` by its first
    /// client; `None` when they set no limit.
    pub fn throttle(&self, target: &str, limits: &RequestLimits) -> Option<Arc<Throttle>> {
        let mut throttles = self
            .1
            .throttles
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(throttle) = throttles.get(target) {
            return Some(Arc::clone(throttle));
        }
        let throttle = Throttle::of(limits)?;
        throttles.insert(target.to_owned(), Arc::clone(&throttle));
        Some(throttle)
    }

    /// Lets the gate ask `verifier` whether a change to `target` took effect.
    pub fn verify_with(&self, target: &str, verifier: &Arc<dyn Verify>) {
        self.1
            .verifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(target.to_owned(), Arc::downgrade(verifier));
    }

    /// The verifier of `target`'s changes, while its client lives.
    pub fn verifier(&self, target: &str) -> Option<Arc<dyn Verify>> {
        self.1
            .verifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(target)
            .and_then(Weak::upgrade)
    }

    /// Notes the gate's `mutation` going out; the returned guard takes its outcome.
    pub fn note(&self, mutation: &Mutation, method: &Method, url: &Url) -> PendingCall {
        self.push(
            &mutation.target,
            mutation.operation,
            method,
            url,
            Some(mutation),
        )
    }

    /// Notes a call going out without its description; reads and logins are not noted.
    #[cfg(test)]
    fn start(&self, target: &str, operation: &str, method: &Method, url: &Url) -> PendingCall {
        let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
        if reads.contains(method) || HOUSEKEEPING.contains(&operation) {
            return PendingCall::none();
        }
        self.push(target, operation, method, url, None)
    }

    fn push(
        &self,
        target: &str,
        operation: &str,
        method: &Method,
        url: &Url,
        mutation: Option<&Mutation>,
    ) -> PendingCall {
        let Some(calls) = &self.0 else {
            return PendingCall::none();
        };
        let mut calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
        if calls.kept.len() == KEPT {
            calls.kept.pop_front();
            calls.forgotten += 1;
        }
        let number = calls.forgotten + calls.kept.len() as u64;
        calls.kept.push_back(Call {
            target: target.to_owned(),
            operation: operation.to_owned(),
            method: method.to_string(),
            path: url.path().to_owned(),
            outcome: CallOutcome::Pending,
            sent: SystemTime::now(),
            took: None,
            mutation: mutation.cloned(),
        });
        PendingCall(Some((self.clone(), number, Instant::now())))
    }

    /// The calls so far, oldest first, and how many older ones were not kept.
    pub fn snapshot(&self) -> (Vec<Call>, u64) {
        let Some(calls) = &self.0 else {
            return (Vec::new(), 0);
        };
        let calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
        (calls.kept.iter().cloned().collect(), calls.forgotten)
    }

    /// The record as lines for an operator: a headline, then one line per call.
    pub fn report(&self) -> String {
        let (calls, forgotten) = self.snapshot();
        let total = forgotten + calls.len() as u64;
        let mut text = match total {
            0 => return "the run made no mutating call\n".to_owned(),
            1 => "the run made 1 mutating call:\n".to_owned(),
            n => format!("the run made {n} mutating calls:\n"),
        };
        match forgotten {
            0 => {}
            1 => text.push_str("  (1 earlier call is not kept)\n"),
            n => text.push_str(&format!("  ({n} earlier calls are not kept)\n")),
        }
        for call in &calls {
            text.push_str(&format!("  {call}\n"));
        }
        text
    }

    fn settle(&self, number: u64, outcome: CallOutcome, took: Duration) {
        let Some(calls) = &self.0 else { return };
        let mut calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(index) = number.checked_sub(calls.forgotten) else {
            return;
        };
        if let Some(call) = usize::try_from(index)
            .ok()
            .and_then(|index| calls.kept.get_mut(index))
        {
            call.outcome = outcome;
            call.took = Some(took);
        }
    }
}

/// A noted call waiting for its outcome. Dropped without one (the run stopped waiting),
/// the call stays an unknown outcome: it was sent and may have been applied.
#[must_use]
pub struct PendingCall(Option<(CallRecord, u64, Instant)>);

impl PendingCall {
    /// A call that is not noted (a read or a login).
    pub fn none() -> Self {
        Self(None)
    }

    /// Records how the request ended: an answer, a connection that never opened, or an
    /// answer lost after sending.
    pub fn finish(self, result: &Result<Response, reqwest::Error>) {
        let outcome = match result {
            Ok(response) => CallOutcome::Answered(response.status().as_u16()),
            Err(err) if err.is_connect() => CallOutcome::NotSent,
            Err(_) => CallOutcome::Lost,
        };
        self.settle(outcome);
    }

    /// Records an answer of `status` read whole.
    pub fn answered(self, status: u16) {
        self.settle(CallOutcome::Answered(status));
    }

    /// Records a call given up before it was sent.
    pub fn finish_unsent(self) {
        self.settle(CallOutcome::NotSent);
    }

    /// Records an answer that began but was lost before it was whole.
    pub fn lost(self) {
        self.settle(CallOutcome::Lost);
    }

    fn settle(mut self, outcome: CallOutcome) {
        if let Some((record, number, sent)) = self.0.take() {
            record.settle(number, outcome, sent.elapsed());
        }
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        if let Some((record, number, sent)) = self.0.take() {
            record.settle(number, CallOutcome::Abandoned, sent.elapsed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(path: &str) -> Url {
        Url::parse(&format!("https://array1.example.com{path}?token=not-kept")).unwrap()
    }

    /// Settles `call` as if it took 12 ms, so the lines it prints are fixed.
    fn settle(mut call: PendingCall, outcome: CallOutcome) {
        if let Some((record, number, _)) = call.0.take() {
            record.settle(number, outcome, Duration::from_millis(12));
        }
    }

    #[test]
    fn only_mutations_are_kept_without_logins_queries_or_hosts() {
        let record = CallRecord::new();
        #[track_caller]
        fn case(record: &CallRecord, operation: &str, method: Method, kept: bool) {
            let before = record.snapshot().0.len();
            drop(record.start("array1", operation, &method, &url("/api/x")));
            assert_eq!(
                record.snapshot().0.len() - before,
                usize::from(kept),
                "{operation}"
            );
        }
        case(&record, "import_sessions", Method::GET, false);
        case(&record, "probe", Method::HEAD, false);
        case(&record, "login", Method::POST, false);
        case(&record, "logout", Method::DELETE, false);
        case(&record, "cutover", Method::POST, true);
        case(&record, "ovf.upload", Method::PUT, true);
        case(&record, "session.delete", Method::DELETE, true);
        case(&record, "entity.update", Method::PATCH, true);
        let (calls, _) = record.snapshot();
        assert_eq!(calls[0].path, "/api/x");
        assert!(calls.iter().all(|c| !format!("{c}").contains("token")));
    }

    #[test]
    fn a_call_dropped_before_its_answer_is_an_unknown_outcome() {
        let record = CallRecord::new();
        let first = record.start("array1", "cutover", &Method::POST, &url("/a/cutover"));
        let second = record.start("array1", "cancel", &Method::POST, &url("/b/cancel"));
        assert_eq!(record.snapshot().0[1].outcome, CallOutcome::Pending);
        drop(second);
        settle(first, CallOutcome::Answered(204));
        let (calls, forgotten) = record.snapshot();
        assert_eq!(forgotten, 0);
        assert_eq!(
            calls[0].to_string(),
            "`array1` cutover POST /a/cutover: 204 No Content (12 ms)"
        );
        assert_eq!(calls[1].outcome, CallOutcome::Abandoned);
        assert!(
            calls[1]
                .to_string()
                .starts_with("`array1` cancel POST /b/cancel: unknown_outcome, the run stopped before the answer came ("),
            "{}",
            calls[1]
        );
    }

    #[test]
    fn outcomes_read_as_the_operator_needs_them() {
        #[track_caller]
        fn case(outcome: CallOutcome, text: &str) {
            assert_eq!(outcome.to_string(), text);
        }
        case(CallOutcome::Answered(422), "422 Unprocessable Entity");
        case(CallOutcome::Answered(202), "202 Accepted");
        case(CallOutcome::NotSent, "not sent, the connection failed");
        case(CallOutcome::Lost, "unknown_outcome, the answer was lost");
        case(CallOutcome::Pending, "unknown_outcome, no answer yet");
    }

    #[test]
    fn the_report_counts_every_call_and_keeps_the_newest() {
        let record = CallRecord::new();
        assert_eq!(record.report(), "the run made no mutating call\n");
        let first = record.start("vcd", "migrate_entities", &Method::POST, &url("/t"));
        settle(first, CallOutcome::Lost);
        assert_eq!(
            record.report(),
            "the run made 1 mutating call:\n  `vcd` migrate_entities POST /t: unknown_outcome, the answer was lost (12 ms)\n"
        );
        for _ in 0..KEPT {
            settle(
                record.start("vcd", "cancel", &Method::POST, &url("/c")),
                CallOutcome::Answered(204),
            );
        }
        let (calls, forgotten) = record.snapshot();
        assert_eq!((calls.len(), forgotten), (KEPT, 1));
        let report = record.report();
        assert!(
            report.starts_with(&format!(
                "the run made {} mutating calls:\n  (1 earlier call is not kept)\n  `vcd` cancel POST /c: 204 No Content (12 ms)\n",
                KEPT + 1
            )),
            "{}",
            &report[..200]
        );
    }

    #[test]
    fn a_gated_call_keeps_its_mutation_and_an_unknown_outcome_says_what_to_read() {
        let record = CallRecord::new();
        let mutation = crate::vendors::powerstore::client::MUTATIONS
            .mutation("array1", "cutover", (None, Some("lun03")), "cut over")
            .unwrap();
        settle(
            record.note(&mutation, &Method::POST, &url("/a/cutover")),
            CallOutcome::Lost,
        );
        settle(
            record.note(&mutation, &Method::POST, &url("/a/cutover")),
            CallOutcome::Answered(204),
        );
        let (calls, _) = record.snapshot();
        assert_eq!(calls[0].mutation.as_ref(), Some(&mutation));
        assert_eq!(
            record.report(),
            "the run made 2 mutating calls:\n  \
             `array1` cutover POST /a/cutover: unknown_outcome, the answer was lost (12 ms); read import session `lun03` before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed`\n  \
             `array1` cutover POST /a/cutover: 204 No Content (12 ms)\n"
        );
    }

    #[test]
    fn a_record_that_is_off_keeps_nothing() {
        let record = CallRecord::default();
        drop(record.start("array1", "cutover", &Method::POST, &url("/a")));
        assert_eq!(record.snapshot(), (Vec::new(), 0));
    }

    /// A client of a target at `url` noting its mutations in `record`.
    fn client(url: &str, record: &CallRecord) -> crate::http::client::HttpClient {
        let text = format!(
            "[targets.array1]\nkind = \"powerstore\"\nurl = \"{url}\"\nuser = \"admin\"\npassword_env = \"CUTOVER_UNSET\"\n"
        );
        let targets = crate::config::Targets::parse(
            &text,
            std::path::Path::new("cutover.toml"),
            &crate::vendors::kinds(),
        )
        .unwrap();
        let target = targets
            .get(crate::vendors::powerstore::KIND, "array1")
            .unwrap();
        crate::http::client::HttpClient::new(target)
            .unwrap()
            .recording(record.clone())
    }

    /// A loopback server: it answers `/ok` with 204, hangs up on `/lost` once the
    /// request is in, and on `/held` reports the request on `held` and never answers.
    async fn server(held: tokio::sync::mpsc::UnboundedSender<()>) -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = [0_u8; 4096];
                let read = socket.read(&mut buffer).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..read]).into_owned();
                if head.contains(" /ok ") {
                    let answer = b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n";
                    socket.write_all(answer).await.unwrap();
                } else if head.contains(" /held ") {
                    open.push(socket);
                    held.send(()).unwrap();
                }
            }
        });
        url
    }

    fn no_vendor_body(_: &str) -> Option<crate::http::client::VendorMessage> {
        None
    }

    #[tokio::test]
    async fn every_mutation_sent_is_noted_with_how_it_ended() {
        let (held_tx, mut held) = tokio::sync::mpsc::unbounded_channel();
        let url = server(held_tx).await;
        let record = CallRecord::new();
        let client = client(&url, &record);
        let cutover = crate::http::client::tests::cutover(&client);
        let send = |method: Method, path: &str| {
            let request = client.request(method.clone(), client.url(&[path]));
            let cutover = &cutover;
            let client = &client;
            async move {
                if method == Method::GET {
                    client.send("import_session", request, no_vendor_body).await
                } else {
                    client.mutate(cutover, request, no_vendor_body).await
                }
            }
        };
        send(Method::POST, "ok").await.unwrap();
        send(Method::GET, "ok").await.unwrap();
        assert!(send(Method::POST, "lost").await.is_err());
        // The caller stops waiting while the answer is outstanding; the sending goes
        // on, counted in flight, until an answer comes or the runtime drops it.
        tokio::select! {
            _ = send(Method::DELETE, "held") => panic!("the held request was answered"),
            Some(()) = held.recv() => {}
        }
        assert_eq!(record.in_flight().count(), 1);
        let refused = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let elsewhere = self::client(&refused, &record);
        let request = elsewhere.request(Method::PUT, elsewhere.url(&["x"]));
        let upload = crate::vendors::vcenter::client::MUTATIONS
            .mutation("array1", "ovf.push", (Some("s1"), None), "upload")
            .unwrap()
            .with_detail("disk.vmdk");
        assert!(
            elsewhere
                .mutate(&upload, request, no_vendor_body)
                .await
                .is_err()
        );
        let outcomes: Vec<(String, String, CallOutcome)> = record
            .snapshot()
            .0
            .into_iter()
            .map(|c| (c.method, c.path, c.outcome))
            .collect();
        let expected = [
            ("POST", "/ok", CallOutcome::Answered(204)),
            ("POST", "/lost", CallOutcome::Lost),
            ("DELETE", "/held", CallOutcome::Pending),
            ("PUT", "/x", CallOutcome::NotSent),
        ]
        .map(|(m, p, o)| (m.to_owned(), p.to_owned(), o));
        assert_eq!(outcomes, expected);
    }
}
