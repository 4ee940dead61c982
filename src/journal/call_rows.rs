//! The calls table: every mutating call, written before it is sent (synced, so a crash
//! leaves it as "sent, outcome unknown") and completed when its answer, or its loss,
//! is known. A successful answer is kept so that a resumed run can be handed it again
//! instead of sending the change twice. Only the mutation's description, method, path
//! and answer are stored: never a header of the request, so never a credential.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::sql::{Row, args};
use super::{Journal, JournalError, millis};

/// Where a mutating call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// Written before sending; no outcome known (yet, or ever: the process died).
    Sent,
    /// The target answered (`http_status` says how).
    Answered,
    /// The connection never opened: not applied.
    NotSent,
    /// Sent, and the answer was lost: unknown until verified.
    Lost,
    /// Sent, and the run stopped waiting for its answer: unknown until verified.
    Abandoned,
    /// Its answer was unknown, and the vendor shows it took effect.
    VerifiedApplied,
    /// Its answer was unknown, and the vendor shows it did not take effect.
    VerifiedNotApplied,
    /// Not sent: an earlier attempt's call already took effect.
    Skipped,
    /// Not sent: `--plan` lists it.
    Planned,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Answered => "answered",
            Self::NotSent => "not_sent",
            Self::Lost => "lost",
            Self::Abandoned => "abandoned",
            Self::VerifiedApplied => "verified_applied",
            Self::VerifiedNotApplied => "verified_not_applied",
            Self::Skipped => "skipped",
            Self::Planned => "planned",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "answered" => Self::Answered,
            "not_sent" => Self::NotSent,
            "lost" => Self::Lost,
            "abandoned" => Self::Abandoned,
            "verified_applied" => Self::VerifiedApplied,
            "verified_not_applied" => Self::VerifiedNotApplied,
            "skipped" => Self::Skipped,
            "planned" => Self::Planned,
            _ => Self::Sent,
        }
    }

    /// Whether the outcome is unknown: sent, and nothing says whether it was applied.
    pub fn is_unknown(self) -> bool {
        matches!(self, Self::Sent | Self::Lost | Self::Abandoned)
    }
}

/// A successful answer, kept for a resume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    /// The headers a client reads from a mutation's answer (`content-type`, `location`).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// How a sent call ended: its status, what came back and how long it took.
#[derive(Clone, Copy, Debug)]
pub struct CallEnd<'a> {
    pub status: CallStatus,
    pub http_status: Option<u16>,
    pub request_id: Option<&'a str>,
    /// The answer kept for a resume (a successful one).
    pub answer: Option<&'a Answer>,
    pub took: Duration,
}

/// A mutating call about to be sent (or skipped, or planned): where it is made, and
/// the change.
#[derive(Clone, Debug)]
pub struct NewCall<'a> {
    pub run: i64,
    pub attempt: i64,
    pub ord: i64,
    pub step: Option<i64>,
    pub frame: &'a str,
    pub seq: i64,
    pub change: &'a Change,
}

/// A change as the gate describes it, without any secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub target: String,
    pub vendor: String,
    pub operation: String,
    pub object_kind: String,
    pub object_id: Option<String>,
    pub object_name: Option<String>,
    pub detail: Option<String>,
    pub summary: String,
    pub method: String,
    pub path: String,
}

/// One call as the journal holds it.
#[derive(Clone, Debug, Serialize)]
pub struct CallRow {
    pub id: i64,
    pub attempt: i64,
    pub ord: i64,
    pub step: Option<i64>,
    pub frame: String,
    pub seq: i64,
    #[serde(flatten)]
    pub change: Change,
    pub status: CallStatus,
    pub http_status: Option<u16>,
    pub request_id: Option<String>,
    #[serde(skip)]
    pub answer: Option<Answer>,
    pub verdict: Option<String>,
    pub started: i64,
    pub duration_ms: Option<i64>,
}

impl Change {
    /// The object it changes, as an operator names it: ``import session `lun03` (id `9a1c`)``.
    pub fn object(&self) -> String {
        match (&self.object_name, &self.object_id) {
            (Some(name), Some(id)) => format!("{} `{name}` (id `{id}`)", self.object_kind),
            (Some(name), None) => format!("{} `{name}`", self.object_kind),
            (None, Some(id)) => format!("{} `{id}`", self.object_kind),
            (None, None) => self.object_kind.clone(),
        }
    }
}

impl CallRow {
    /// Whether the call changed something: a success answer, or verified applied.
    pub fn took_effect(&self) -> bool {
        match self.status {
            CallStatus::Answered => self.http_status.is_some_and(|s| (200..300).contains(&s)),
            CallStatus::VerifiedApplied => true,
            _ => false,
        }
    }
}

const CALL_COLUMNS: &str = "id, attempt, ord, step, frame, seq, target, vendor, operation, object_kind, object_id, object_name, detail, summary, method, path, status, http_status, request_id, answer, verdict, started, duration_ms";

fn call_row(row: &Row) -> Result<CallRow, String> {
    let http_status = row
        .opt_int(17)?
        .map(|status| u16::try_from(status).map_err(|_| format!("HTTP status {status}")))
        .transpose()?;
    Ok(CallRow {
        id: row.int(0)?,
        attempt: row.int(1)?,
        ord: row.int(2)?,
        step: row.opt_int(3)?,
        frame: row.text(4)?,
        seq: row.int(5)?,
        change: Change {
            target: row.text(6)?,
            vendor: row.text(7)?,
            operation: row.text(8)?,
            object_kind: row.text(9)?,
            object_id: row.opt_text(10)?,
            object_name: row.opt_text(11)?,
            detail: row.opt_text(12)?,
            summary: row.text(13)?,
            method: row.text(14)?,
            path: row.text(15)?,
        },
        status: CallStatus::parse(&row.text(16)?),
        http_status,
        request_id: row.opt_text(18)?,
        answer: row.opt_json(19)?,
        verdict: row.opt_text(20)?,
        started: row.int(21)?,
        duration_ms: row.opt_int(22)?,
    })
}

impl Journal {
    /// Writes `call` with `status` (`Sent` before it goes out); answers its row id.
    pub fn insert_call(
        &self,
        call: &NewCall<'_>,
        status: CallStatus,
        verdict: Option<&str>,
        answer: Option<&Answer>,
    ) -> Result<i64, JournalError> {
        let answer = answer.map(|a| serde_json::json!(a).to_string());
        let now = millis(SystemTime::now());
        let change = call.change;
        self.with(|c| {
            c.query_one(
                "INSERT INTO calls (run, attempt, ord, step, frame, seq, target, vendor, operation, object_kind, object_id,
                    object_name, detail, summary, method, path, status, verdict, answer, started)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
                 RETURNING id",
                args![
                    call.run,
                    call.attempt,
                    call.ord,
                    call.step,
                    call.frame,
                    call.seq,
                    &change.target,
                    &change.vendor,
                    &change.operation,
                    &change.object_kind,
                    &change.object_id,
                    &change.object_name,
                    &change.detail,
                    &change.summary,
                    &change.method,
                    &change.path,
                    status.as_str(),
                    verdict,
                    answer,
                    now,
                ],
            )?
            .int(0)
        })
    }

    /// Records how call `id` ended.
    pub fn end_call(&self, id: i64, end: &CallEnd<'_>) -> Result<(), JournalError> {
        let answer = end.answer.map(|a| serde_json::json!(a).to_string());
        self.with(|c| {
            c.execute(
                "UPDATE calls SET status = ?2, http_status = ?3, request_id = ?4, answer = ?5, duration_ms = ?6 WHERE id = ?1",
                args![
                    id,
                    end.status.as_str(),
                    end.http_status,
                    end.request_id,
                    answer,
                    i64::try_from(end.took.as_millis()).unwrap_or(i64::MAX)
                ],
            )
        })
        .map(drop)
    }

    /// Records what verifying call `id` found, and the status that follows from it.
    pub fn verify_call(
        &self,
        id: i64,
        status: CallStatus,
        verdict: &str,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "UPDATE calls SET status = ?2, verdict = ?3 WHERE id = ?1",
                args![id, status.as_str(), verdict],
            )
        })
        .map(drop)
    }

    /// The calls of `run` matching `filter` (a condition on `calls` with `?1` the run),
    /// in the order they were made.
    fn calls_where(
        &self,
        filter: &str,
        args: &[super::sql::Value],
    ) -> Result<Vec<CallRow>, JournalError> {
        self.rows(
            &format!("SELECT {CALL_COLUMNS} FROM calls WHERE {filter} ORDER BY attempt, ord"),
            args,
            call_row,
        )
    }

    /// The changes other attempts of `run` sent in `frame` that took effect or may
    /// have (an unknown outcome). Refused calls changed nothing, and a call skipped or
    /// found not applied is spoken for by another row. In a resumed run the others are
    /// the earlier attempts; in a shared run, also the runners that held the frame's
    /// item before.
    pub fn earlier_calls(
        &self,
        run: i64,
        frame: &str,
        attempt: i64,
    ) -> Result<Vec<CallRow>, JournalError> {
        self.calls_where(
            "run = ?1 AND frame = ?2 AND attempt <> ?3
             AND (status IN ('sent', 'lost', 'abandoned', 'verified_applied')
                  OR (status = 'answered' AND http_status BETWEEN 200 AND 299))",
            args![run, frame, attempt],
        )
    }

    /// The calls earlier attempts of `run` left with an unknown outcome, in order.
    pub fn unknown_calls(&self, run: i64, attempt: i64) -> Result<Vec<CallRow>, JournalError> {
        self.calls_where(
            "run = ?1 AND attempt < ?2 AND status IN ('sent', 'lost', 'abandoned')",
            args![run, attempt],
        )
    }

    /// The calls other attempts of `run` left with an unknown outcome inside the item
    /// whose frame key is `key` (its own frame, and the steps in it).
    pub fn unknown_calls_in(
        &self,
        run: i64,
        key: &str,
        attempt: i64,
    ) -> Result<Vec<CallRow>, JournalError> {
        self.calls_where(
            "run = ?1 AND (frame = ?2 OR substr(frame, 1, length(?2) + 1) = ?2 || '/')
             AND attempt <> ?3 AND status IN ('sent', 'lost', 'abandoned')",
            args![run, key, attempt],
        )
    }

    /// Every call of `run`, in the order they were made.
    pub fn calls(&self, run: i64) -> Result<Vec<CallRow>, JournalError> {
        self.calls_where("run = ?1", args![run])
    }

    /// Marks the calls of `run`'s `attempt` still `sent` as abandoned: the process
    /// stopped waiting for them.
    pub fn abandon_calls(&self, run: i64, attempt: i64) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "UPDATE calls SET status = 'abandoned' WHERE run = ?1 AND attempt = ?2 AND status = 'sent'",
                args![run, attempt],
            )
        })
        .map(drop)
    }
}
