//! The mutation gate, `HttpClient::mutate`: the one function every mutating call passes.
//! It notes the call in the run's record and journal before sending it and its outcome
//! after. When an answer is lost or unreadable, or the change is refused as busy, it
//! asks the vendor (the client's [`Verify`]) whether the change took effect, and sends
//! it again only if it did not, or the operation is safe to repeat. In a resumed run it
//! lines each change up with the call an earlier attempt made at the same place, and
//! sends it only if that one did not take effect; a change is never sent twice.

use std::time::{Duration, Instant};

use reqwest::{Request, RequestBuilder, Response};
use tracing::Instrument as _;

use super::{ErrorBodyParser, HttpClient};
use crate::api_error::{ApiError, ErrorKind};
use crate::http::mutation::{Check, Mutation, PLANNED_HEADER, RECONCILED_HEADER, Verdict};
use crate::journal::crash_point::{self, Point};
use crate::journal::frame::Place;
use crate::journal::run_journal::{RunJournal, SentCall};
use crate::journal::{Answer, CallEnd, CallRow, CallStatus, Change, JournalError};

/// How many times one change is sent at most, when verification keeps finding the
/// earlier sending not applied.
const MAX_SENDS: usize = 3;

/// The largest answer kept in the journal for a resume.
const MAX_KEPT_ANSWER: usize = 256 * 1024;

impl HttpClient {
    /// The mutation gate: sends `mutation`'s request, noting it in the call record and the
    /// journal as it goes out and its outcome when the answer (or its loss) comes back.
    /// An answer lost before its status came is verified with the vendor; if that cannot
    /// tell, the call is `unknown_outcome` carrying the mutation's verification, with its
    /// advice in the message.
    pub async fn mutate(
        &self,
        mutation: &Mutation,
        request: RequestBuilder,
        parse_error: ErrorBodyParser,
    ) -> Result<Response, ApiError> {
        mutation.check_for(&self.target)?;
        let request = self.build(mutation.operation, request)?;
        if let Some(plan) = self.calls.plan() {
            plan.change(mutation);
            return Ok(planned());
        }
        let change = change(mutation, &request);
        // A query sent as POST changes nothing: the journal keeps changes only.
        let journal = match mutation.verification.check {
            Check::ChangesNothing => None,
            _ => self.calls.journal().cloned(),
        };
        let place = match &journal {
            Some(journal) => {
                let (place, earlier) = journal
                    .place(&change)
                    .map_err(|err| self.journal_error(mutation, &err))?;
                if place.after_end {
                    return self.after_end(journal, &place, mutation, &change).await;
                }
                // A follower's change its leader made is the leader's: never sent here.
                if let Some(earlier) = earlier.as_ref().filter(|_| place.followed) {
                    let seen = "the run's leader made it";
                    return self.skipped(journal, (&place, &change), mutation, earlier, seen);
                }
                if let Some(earlier) = earlier {
                    let settled = self
                        .settle_earlier(journal, &place, mutation, &change, &earlier)
                        .await;
                    match settled {
                        Ok(Some(response)) => return Ok(response),
                        Ok(None) => {}
                        Err(err) => {
                            crate::journal::frame::release_match(earlier.id);
                            return Err(err);
                        }
                    }
                }
                Some(place)
            }
            None => None,
        };
        let journaled = journal.as_deref().zip(place.as_ref());
        self.send_verified(mutation, &change, request, parse_error, journaled)
            .await
            .map_err(|mut err| {
                if err.kind == ErrorKind::UnknownOutcome {
                    err.verification = Some(Box::new(mutation.verification.clone()));
                }
                err
            })
    }

    /// Sends the change, and when its outcome is in doubt ([`Doubt`]) asks the vendor:
    /// applied, it is done; not applied (or safe to repeat), a lost answer is sent again
    /// here (up to [`MAX_SENDS`] sends), a refusal is marked for the client's retries;
    /// otherwise the outcome stays unknown.
    async fn send_verified(
        &self,
        mutation: &Mutation,
        change: &Change,
        request: Request,
        parse_error: ErrorBodyParser,
        journal: Option<(&RunJournal, &Place)>,
    ) -> Result<Response, ApiError> {
        let mut request = request;
        let mut sends = 0;
        loop {
            sends += 1;
            let again = request.try_clone();
            let sent = match journal {
                Some((journal, place)) => Some(
                    journal
                        .sent(place, change)
                        .map_err(|err| self.journal_error(mutation, &err))?,
                ),
                None => None,
            };
            crash_point::reached(Point::BeforeSend, mutation.operation);
            let (result, recorded, sent) = self
                .send_once(mutation, request, parse_error, sent)
                .await
                .map_err(|err| self.stopped_sending(mutation, &err))?;
            recorded.map_err(|err| self.journal_error(mutation, &err))?;
            let (err, doubt) = match result {
                Ok(kept) => return Ok(kept.0),
                Err(err) => match Doubt::of(&err) {
                    Some(doubt) => (err, doubt),
                    None => return Err(err),
                },
            };
            let verdict = self.ask(mutation, doubt == Doubt::Refused).await;
            // An accepted change the vendor does not show yet is not "not applied": its
            // row stays unknown, so a resume asks again rather than send it blind.
            let proven = match &verdict {
                Some(Verdict::Applied(seen)) => Some((true, seen)),
                Some(Verdict::NotApplied(seen)) if doubt != Doubt::Unreadable => {
                    Some((false, seen))
                }
                _ => None,
            };
            if let (Some((journal, _)), Some(sent), Some((applied, seen))) =
                (journal, &sent, proven)
            {
                journal
                    .verified(sent.id, applied, seen)
                    .map_err(|err| self.journal_error(mutation, &err))?;
            }
            // What decides: the vendor's answer, or the operation's own word that sending
            // it again is safe (an idempotent call, a client token this run holds).
            let why_again = match verdict {
                Some(Verdict::Applied(seen)) => {
                    self.note_doubt(
                        mutation,
                        &err,
                        format_args!("{}, and the change took effect: {seen}", doubt.what()),
                    );
                    return Ok(reconciled());
                }
                Some(Verdict::NotApplied(seen)) if doubt != Doubt::Unreadable => {
                    format!("the change did not take effect ({seen})")
                }
                _ if repeat_safe(mutation) => "sending it again is safe".to_owned(),
                _ => return Err(unresolved(err, doubt, mutation)),
            };
            match (doubt, again) {
                (Doubt::Refused, _) => {
                    tracing::info!(
                        target = %self.target,
                        operation = mutation.operation,
                        "{} ({}); {why_again}",
                        doubt.what(),
                        err.status.unwrap_or_default()
                    );
                    // The client's retries send it again, after their backoff.
                    return Err(ApiError {
                        resend_safe: true,
                        ..err
                    });
                }
                (_, Some(again)) if sends < MAX_SENDS => {
                    self.note_doubt(
                        mutation,
                        &err,
                        format_args!("{}; {why_again}: sending it again", doubt.what()),
                    );
                    request = again;
                }
                _ => return Err(unresolved(err, doubt, mutation)),
            }
        }
    }

    /// Sends `request` once and records its outcome in the journal (its row `sent`), as
    /// a task of its own counted in flight: when the caller stops waiting (the run was
    /// interrupted), a change already on its way is still answered and its real outcome
    /// recorded, rather than dropped mid-air; the run waits for it before it ends.
    async fn send_once(
        &self,
        mutation: &Mutation,
        request: Request,
        parse_error: ErrorBodyParser,
        sent: Option<SentCall>,
    ) -> Result<Sending, tokio::task::JoinError> {
        let client = self.clone();
        let mutation = mutation.clone();
        let in_flight = self.calls.in_flight().start();
        let sending = async move {
            let _in_flight = in_flight;
            let started = Instant::now();
            let result = client
                .transfer(mutation.operation, request, parse_error, Some(&mutation))
                .await;
            let result = keep_answer(result).await;
            crash_point::reached(Point::AfterAnswer, mutation.operation);
            let recorded = match (client.calls.journal(), &sent) {
                (Some(journal), Some(sent)) => record(journal, sent, &result, started.elapsed()),
                _ => Ok(()),
            };
            if recorded.is_ok() {
                crash_point::reached(Point::AfterRecord, mutation.operation);
            }
            (result, recorded, sent)
        };
        self.calls.spawn_sending(sending.in_current_span()).await
    }

    /// The task sending a change ended without an outcome (it panicked, or the runtime
    /// is shutting down): the change may have been applied.
    fn stopped_sending(&self, mutation: &Mutation, err: &tokio::task::JoinError) -> ApiError {
        ApiError::new(
            ErrorKind::UnknownOutcome,
            format!(
                "the change was sent and its sending stopped before the answer came ({err}): {}",
                mutation.verification.advice()
            ),
        )
        .at(&self.target, mutation.operation)
    }

    /// Records `change` as not sent, because `earlier` (a call of another attempt, or
    /// a follower's leader's) made it, `seen` saying how that is known; answers what
    /// the client gets instead: the earlier answer, or an empty one.
    fn skipped(
        &self,
        journal: &RunJournal,
        (place, change): (&Place, &Change),
        mutation: &Mutation,
        earlier: &CallRow,
        seen: &str,
    ) -> Result<Response, ApiError> {
        journal
            .not_sent(
                place,
                change,
                CallStatus::Skipped,
                seen,
                earlier.answer.as_ref(),
            )
            .map_err(|err| self.journal_error(mutation, &err))?;
        Ok(earlier
            .answer
            .as_ref()
            .and_then(replayed)
            .unwrap_or_else(reconciled))
    }

    /// A follower reached `change` after its leader ended the run without making it
    /// (the follower's reading of the object was older than the leader's change): it
    /// is not sent; when the vendor shows it in effect, the client goes on.
    async fn after_end(
        &self,
        journal: &RunJournal,
        place: &Place,
        mutation: &Mutation,
        change: &Change,
    ) -> Result<Response, ApiError> {
        match self.ask(mutation, false).await {
            Some(Verdict::Applied(seen)) => {
                let seen = format!("the run had ended, and the change is in effect: {seen}");
                journal
                    .not_sent(place, change, CallStatus::Skipped, &seen, None)
                    .map_err(|err| self.journal_error(mutation, &err))?;
                Ok(reconciled())
            }
            _ => Err(ApiError::new(
                ErrorKind::Validation,
                format!(
                    "run {} was ended by its leader, which did not make this change; nothing was sent",
                    journal.run()
                ),
            )
            .at(&self.target, mutation.operation)),
        }
    }

    /// A resumed run is about to make `change`, which an earlier attempt made at the
    /// same place (`earlier`). Answers the response to hand the client when it must not
    /// be sent again, `None` when it must be sent, or an error when nothing can tell.
    async fn settle_earlier(
        &self,
        journal: &RunJournal,
        place: &Place,
        mutation: &Mutation,
        change: &Change,
        earlier: &CallRow,
    ) -> Result<Option<Response>, ApiError> {
        let journal_error = |err: JournalError| self.journal_error(mutation, &err);
        let unknown = earlier.status.is_unknown();
        // A client token makes sending again safe only while the vendor remembers it: one
        // that took effect long ago (its session since reclaimed) would create another
        // object, so it is sent again only when its outcome is unknown.
        let safe = match mutation.verification.check {
            Check::RepeatSafe(_) | Check::ChangesNothing => true,
            Check::ClientToken => unknown,
            _ => false,
        };
        if safe || !(unknown || earlier.took_effect()) {
            // Refused, never sent, found not applied, or safe to send again.
            return Ok(None);
        }
        let skip = |seen: &str| {
            self.skipped(journal, (place, change), mutation, earlier, seen)
                .map(Some)
        };
        match self.ask(mutation, false).await {
            Some(Verdict::Applied(seen)) => {
                if unknown {
                    journal
                        .verified(earlier.id, true, &seen)
                        .map_err(journal_error)?;
                }
                skip(&format!("an earlier attempt's call took effect: {seen}"))
            }
            Some(Verdict::NotApplied(seen)) => {
                if unknown {
                    journal
                        .verified(earlier.id, false, &seen)
                        .map_err(journal_error)?;
                }
                Ok(None)
            }
            other if !unknown => {
                let why = match other {
                    Some(Verdict::CannotTell(why)) => why,
                    _ => "the vendor could not be asked".to_owned(),
                };
                skip(&format!(
                    "an earlier attempt's call was answered {}; not sent again ({why})",
                    earlier.http_status.unwrap_or(0)
                ))
            }
            other => {
                let why = match other {
                    Some(Verdict::CannotTell(why)) => why,
                    _ => "the vendor could not be asked".to_owned(),
                };
                Err(ApiError::new(
                    ErrorKind::UnknownOutcome,
                    format!(
                        "an earlier attempt of this run sent it and its outcome is unknown, and {why}; nothing was sent: {}",
                        mutation.verification.advice()
                    ),
                )
                .at(&self.target, mutation.operation))
            }
        }
    }

    /// What the vendor says about `mutation` (`refused` as busy, or not), or `None` when
    /// it cannot be asked (no verifier, or the read failed).
    async fn ask(&self, mutation: &Mutation, refused: bool) -> Option<Verdict> {
        let verifier = self.calls.verifier(&self.target)?;
        let verification = &mutation.verification;
        let verdict = if refused {
            verifier.verify_refused(verification).await
        } else {
            verifier.verify(verification).await
        };
        match verdict {
            Ok(verdict) => Some(verdict),
            Err(err) => {
                tracing::warn!(
                    target = %self.target,
                    operation = mutation.operation,
                    "cannot tell whether the change took effect: {err}"
                );
                None
            }
        }
    }

    /// Logs what became of `mutation`, whose answer `err` left its outcome in doubt.
    fn note_doubt(&self, mutation: &Mutation, err: &ApiError, what: std::fmt::Arguments<'_>) {
        tracing::info!(
            target = %self.target,
            operation = mutation.operation,
            error = %err,
            body = err.body.as_deref(),
            "{what}"
        );
    }

    /// A journal that cannot be written stops the change: sending it unrecorded could
    /// make a resume send it twice.
    fn journal_error(&self, mutation: &Mutation, err: &JournalError) -> ApiError {
        let error = if err.stopped() {
            ApiError::new(ErrorKind::Cancelled, format!("{err}; nothing was sent"))
        } else {
            ApiError::new(
                ErrorKind::Validation,
                format!("{err}; the change was not sent, since it could not be recorded"),
            )
        };
        error.at(&self.target, mutation.operation)
    }
}

/// The change `request` makes, as the journal records it.
fn change(mutation: &Mutation, request: &Request) -> Change {
    let object = mutation.object();
    Change {
        target: mutation.target.clone(),
        vendor: mutation.vendor.to_owned(),
        operation: mutation.operation.to_owned(),
        object_kind: object.kind.to_owned(),
        object_id: object.id.clone(),
        object_name: object.name.clone(),
        detail: mutation.verification.detail.clone(),
        summary: mutation.summary.clone(),
        method: request.method().to_string(),
        path: request.url().path().to_owned(),
    }
}

/// Whether the operation says sending it twice is harmless: idempotent by the vendor's
/// word, or a create whose client token (held by this run) makes a second one answer
/// the first.
fn repeat_safe(mutation: &Mutation) -> bool {
    matches!(
        mutation.verification.check,
        Check::RepeatSafe(_) | Check::ChangesNothing | Check::ClientToken
    )
}

/// The error of a change whose doubt nothing resolved: a gateway's failure says only
/// that the answer was lost, so it is an unknown outcome, which is never retried.
fn unresolved(err: ApiError, doubt: Doubt, mutation: &Mutation) -> ApiError {
    match (doubt, err.status) {
        (Doubt::Lost, Some(status @ (502 | 504))) => ApiError {
            kind: ErrorKind::UnknownOutcome,
            message: format!(
                "{}; a gateway answered for the service, which may have applied it: {}",
                err.message,
                mutation.verification.advice()
            ),
            retryable: false,
            status: Some(status),
            ..err
        },
        _ => err,
    }
}

/// Why a sent change's outcome is asked of the vendor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Doubt {
    /// The answer was lost before its status came, or a gateway answered for the
    /// service (502, 504): applied or not, nobody knows; sent again here when the vendor
    /// shows it did not take effect.
    Lost,
    /// A success status came, and the answer's body was lost or unreadable: applied, but
    /// what the vendor answered is unknown; never sent again.
    Unreadable,
    /// Refused by the service (408, 429, 503): not applied, by its word; sent again by
    /// the client's retries, after their backoff, once the vendor shows it did not take
    /// effect, or the operation is safe to repeat.
    Refused,
}

impl Doubt {
    fn of(err: &ApiError) -> Option<Self> {
        match (err.kind, err.status) {
            (ErrorKind::UnknownOutcome, None) => Some(Self::Lost),
            (ErrorKind::UnknownOutcome, Some(status)) if (200..300).contains(&status) => {
                Some(Self::Unreadable)
            }
            // A gateway's failure: the service behind it may have applied the change.
            (_, Some(502 | 504)) => Some(Self::Lost),
            // The service itself refused it: timed out reading it, throttled, busy.
            (_, Some(408 | 429 | 503)) => Some(Self::Refused),
            _ => None,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Lost => "the answer was lost",
            Self::Unreadable => "the answer was unreadable",
            Self::Refused => "the change was refused as busy",
        }
    }
}

/// How one sending ended: the answer (or its loss), whether its outcome could be
/// recorded, and its journal row.
type Sending = (
    Result<Kept, ApiError>,
    Result<(), JournalError>,
    Option<SentCall>,
);

/// A successful answer with the copy the journal keeps.
struct Kept(Response, Option<Answer>, Option<String>);

/// Reads a successful answer's body (already in memory) into the copy a resume is
/// handed again, and gives back an equal response.
async fn keep_answer(result: Result<Response, ApiError>) -> Result<Kept, ApiError> {
    let response = result?;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            name == "content-type" || name == "location"
        })
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_owned())))
        .collect();
    let request_id = response
        .headers()
        .iter()
        .find(|(name, _)| name.as_str().ends_with("request-id"))
        .and_then(|(_, value)| value.to_str().ok())
        .map(str::to_owned);
    let mut rebuilt = http::Response::builder().status(response.status());
    if let Some(all) = rebuilt.headers_mut() {
        all.extend(response.headers().clone());
    }
    let body = response.bytes().await.map_err(|err| {
        ApiError::new(
            ErrorKind::UnknownOutcome,
            format!("the answer could not be read: {err}"),
        )
    })?;
    let answer = (body.len() <= MAX_KEPT_ANSWER).then(|| Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let response = rebuilt
        .body(body)
        .map_or_else(|_| reconciled(), Response::from);
    Ok(Kept(response, answer, request_id))
}

/// Writes how a sent call ended.
fn record(
    journal: &RunJournal,
    sent: &SentCall,
    result: &Result<Kept, ApiError>,
    took: Duration,
) -> Result<(), JournalError> {
    let (status, http_status, request_id, answer) = match result {
        Ok(Kept(response, answer, request_id)) => (
            CallStatus::Answered,
            Some(response.status().as_u16()),
            request_id.as_deref(),
            answer.as_ref(),
        ),
        // A gateway's failure is not the service's answer: the change may be applied.
        Err(err) if matches!(err.status, Some(502 | 504)) => {
            (CallStatus::Lost, err.status, None, None)
        }
        Err(err) if err.status.is_some() && err.kind != ErrorKind::UnknownOutcome => {
            (CallStatus::Answered, err.status, None, None)
        }
        Err(err) if err.kind == ErrorKind::UnknownOutcome => {
            (CallStatus::Lost, err.status, None, None)
        }
        Err(_) => (CallStatus::NotSent, None, None, None),
    };
    let end = CallEnd {
        status,
        http_status,
        request_id,
        answer,
        took,
    };
    journal.ended(sent, &end)
}

/// The answer handed to a client for a change the vendor shows applied whose own answer
/// is not known: no content, marked so a client can tell.
fn reconciled() -> Response {
    let response = http::Response::builder()
        .status(http::StatusCode::NO_CONTENT)
        .header(RECONCILED_HEADER, "1")
        .body(Vec::new());
    response.map_or_else(
        |_| Response::from(http::Response::new(Vec::new())),
        Response::from,
    )
}

/// The answer handed to a client for a change a `--plan` run recorded and did not send.
fn planned() -> Response {
    let response = http::Response::builder()
        .status(http::StatusCode::NO_CONTENT)
        .header(RECONCILED_HEADER, "1")
        .header(PLANNED_HEADER, "1")
        .body(Vec::new());
    response.map_or_else(
        |_| Response::from(http::Response::new(Vec::new())),
        Response::from,
    )
}

/// An earlier attempt's answer, handed to the client again.
fn replayed(answer: &Answer) -> Option<Response> {
    let mut response = http::Response::builder()
        .status(answer.status)
        .header(RECONCILED_HEADER, "1");
    for (name, value) in &answer.headers {
        response = response.header(name.as_str(), value.as_str());
    }
    response
        .body(answer.body.clone().into_bytes())
        .ok()
        .map(Response::from)
}
