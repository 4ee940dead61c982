//! `--report FILE.json`: the summary's rows, every mutating call the run made (from
//! the call record) and the run's facts, as JSON for change tickets and other tools.
//! Only what the summary and the call record already show goes in: labels, states,
//! error messages, and each call's target, operation, object, method, URL path and
//! outcome; never a body, a header or a credential.

use std::time::{Instant, SystemTime};

use serde::Serialize;

use crate::exit_code::ExitCode;
use crate::http::call_record::{Call, CallOutcome, CallRecord};
use crate::script::board::Item;
use crate::view::outcome;

/// What a report says about the run itself.
#[derive(Clone, Debug)]
pub struct Facts {
    /// The playbook as the operator named it.
    pub script: String,
    pub started: SystemTime,
    pub ended: SystemTime,
    pub exit: ExitCode,
    /// The lab's scenario, when rehearsing.
    pub scenario: Option<String>,
}

/// The report, as written.
#[derive(Debug, Serialize)]
pub struct Report {
    pub script: String,
    pub started: String,
    pub ended: String,
    /// `success`, `failure`, `usage`, `interrupted` or `terminated`.
    pub outcome: &'static str,
    pub exit_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    pub items: Vec<ItemRow>,
    pub calls: Vec<CallRow>,
    /// Older calls the record no longer keeps (a run of more than 10,000 calls).
    pub calls_not_kept: u64,
}

/// One row of the summary.
#[derive(Debug, Serialize)]
pub struct ItemRow {
    pub application: String,
    pub step: Option<String>,
    /// `done`, `failed`, `cancelled` or `unfinished`.
    pub outcome: &'static str,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// The last reading of the remote object it waited on.
    pub remote: Option<RemoteRow>,
}

/// A remote object as last read.
#[derive(Debug, Serialize)]
pub struct RemoteRow {
    pub object: String,
    pub state: String,
    pub step: Option<String>,
    pub percent: Option<u32>,
}

/// One mutating call.
#[derive(Debug, Serialize)]
pub struct CallRow {
    pub target: String,
    pub operation: String,
    pub object: Option<ObjectRow>,
    /// What was asked, as the mutation gate described it.
    pub summary: Option<String>,
    pub method: String,
    pub path: String,
    /// `succeeded`, `refused` (an error status), `not_sent` or `unknown_outcome`.
    pub outcome: &'static str,
    pub status: Option<u16>,
    /// The outcome in words, and for an unknown outcome how to tell whether it applied.
    pub detail: String,
    pub sent: String,
    pub took_ms: Option<u64>,
}

/// The object a call changed.
#[derive(Debug, Serialize)]
pub struct ObjectRow {
    pub kind: &'static str,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// The report of a run with `facts`, the board's `items` as of `now`, and `calls`.
pub fn build(facts: &Facts, items: &[Item], calls: &CallRecord, now: Instant) -> Report {
    let (kept, calls_not_kept) = calls.snapshot();
    Report {
        script: facts.script.clone(),
        started: timestamp(facts.started),
        ended: timestamp(facts.ended),
        outcome: exit_word(facts.exit),
        exit_code: facts.exit as u8,
        scenario: facts.scenario.clone(),
        items: items.iter().map(|item| item_row(item, now)).collect(),
        calls: kept.iter().map(call_row).collect(),
        calls_not_kept,
    }
}

fn item_row(item: &Item, now: Instant) -> ItemRow {
    let ended = item.ended.as_ref().map_or(now, |(at, _)| *at);
    let took = ended.saturating_duration_since(item.started);
    ItemRow {
        application: item.label.clone(),
        step: item.step.clone(),
        outcome: outcome(item),
        duration_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        error: item
            .ended
            .as_ref()
            .and_then(|(_, o)| o.error())
            .map(str::to_owned),
        remote: item.remote.as_ref().map(|r| RemoteRow {
            object: r.what.clone(),
            state: r.state.clone(),
            step: r.step.clone(),
            percent: r.percent,
        }),
    }
}

fn call_row(call: &Call) -> CallRow {
    let (outcome, status) = match call.outcome {
        CallOutcome::Answered(status) if (200..300).contains(&status) => {
            ("succeeded", Some(status))
        }
        CallOutcome::Answered(status) => ("refused", Some(status)),
        CallOutcome::NotSent => ("not_sent", None),
        CallOutcome::Pending | CallOutcome::Lost | CallOutcome::Abandoned => {
            ("unknown_outcome", None)
        }
    };
    let mut detail = call.outcome.to_string();
    if let (Some(mutation), "unknown_outcome") = (&call.mutation, outcome) {
        detail.push_str(&format!("; {}", mutation.verification.advice()));
    }
    CallRow {
        target: call.target.clone(),
        operation: call.operation.clone(),
        object: call.mutation.as_ref().map(|m| ObjectRow {
            kind: m.object().kind,
            id: m.object().id.clone(),
            name: m.object().name.clone(),
        }),
        summary: call.mutation.as_ref().map(|m| m.summary.clone()),
        method: call.method.clone(),
        path: call.path.clone(),
        outcome,
        status,
        detail,
        sent: timestamp(call.sent),
        took_ms: call
            .took
            .map(|took| u64::try_from(took.as_millis()).unwrap_or(u64::MAX)),
    }
}

fn exit_word(code: ExitCode) -> &'static str {
    match code {
        ExitCode::Success => "success",
        ExitCode::Failure => "failure",
        ExitCode::Usage => "usage",
        ExitCode::Interrupted => "interrupted",
        ExitCode::Terminated => "terminated",
    }
}

fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// `report` as the file holds it: pretty JSON and a final newline.
pub fn to_json(report: &Report) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(report)?;
    text.push('\n');
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use reqwest::{Method, Url};
    use serde_json::json;

    use crate::script::board::Outcome;
    use crate::script::wait_log::Reading;
    use crate::view::live::tests::{ended, failed, item};

    #[test]
    fn the_report_holds_the_rows_every_call_and_the_run() {
        let record = CallRecord::new();
        let cutover = |name: &str| {
            crate::vendors::powerstore::client::MUTATIONS
                .mutation("array1", "cutover", (Some("id-1"), Some(name)), "cut over")
                .unwrap()
        };
        let url =
            Url::parse("https://array1.example.com/api/v1/import_session/id-1/cutover?token=x")
                .unwrap();
        record
            .note(&cutover("crm-data"), &Method::POST, &url)
            .answered(204);
        record
            .note(&cutover("crm-logs"), &Method::POST, &url)
            .answered(409);
        drop(record.note(&cutover("hr-data"), &Method::POST, &url));
        let now = Instant::now();
        let copy = Reading::new("import session `hr-data`", "Copy_In_Progress", Some(40));
        let items = [
            ended(now, "crm", 75, Some("volumes"), 62, Outcome::Done),
            item(now, "hr", 9, Some("volumes"), Some(copy), None),
            failed(now, "mail", 3, None, 1, "broken"),
        ];
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let facts = Facts {
            script: "scripts/wave.rhai".into(),
            started: start,
            ended: start + Duration::from_millis(61_500),
            exit: ExitCode::Failure,
            scenario: Some("rough".into()),
        };
        let report = build(&facts, &items, &record, now);
        let mut value: serde_json::Value =
            serde_json::from_str(&to_json(&report).unwrap()).unwrap();
        for call in value["calls"].as_array_mut().unwrap() {
            assert!(call["sent"].as_str().unwrap().ends_with('Z'), "{call}");
            call["sent"] = json!("…");
            call["took_ms"] = json!(null);
        }
        let call = |name: &str, outcome: &str, status: Option<u16>, detail: &str| {
            json!({
                "target": "array1", "operation": "cutover",
                "object": { "kind": "import session", "id": "id-1", "name": name },
                "summary": "cut over", "method": "POST",
                "path": "/api/v1/import_session/id-1/cutover",
                "outcome": outcome, "status": status, "detail": detail,
                "sent": "…", "took_ms": null,
            })
        };
        assert_eq!(
            value,
            json!({
                "script": "scripts/wave.rhai",
                "started": "2027-01-15T08:00:00.000Z",
                "ended": "2027-01-15T08:01:01.500Z",
                "outcome": "failure",
                "exit_code": 1,
                "scenario": "rough",
                "items": [
                    { "application": "crm", "step": "volumes", "outcome": "done",
                      "duration_ms": 62_000, "error": null, "remote": null },
                    { "application": "hr", "step": "volumes", "outcome": "unfinished",
                      "duration_ms": 9_000, "error": null,
                      "remote": { "object": "import session `hr-data`",
                                  "state": "Copy_In_Progress", "step": null, "percent": 40 } },
                    { "application": "mail", "step": null, "outcome": "failed",
                      "duration_ms": 1_000, "error": "broken", "remote": null },
                ],
                "calls": [
                    call("crm-data", "succeeded", Some(204), "204 No Content"),
                    call("crm-logs", "refused", Some(409), "409 Conflict"),
                    call("hr-data", "unknown_outcome", None,
                        "unknown_outcome, the run stopped before the answer came; read import session `hr-data` (id `id-1`) before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed`"),
                ],
                "calls_not_kept": 0,
            })
        );
    }
}
