//! The journal as an operator reads it: `cutover runs` (recent runs, one line each) and
//! `cutover runs show` (one run's steps and mutating calls, in the order they were made,
//! for a change ticket), as text or JSON. Only what the journal holds is shown, and it
//! holds no secret.

use std::fmt::Write as _;
use std::time::SystemTime;

use serde::Serialize;

use super::lease::Owner;
use super::runners::{ItemRow, RunnerRow};
use super::{CallRow, CallStatus, Journal, JournalError, Outcome, RunRow, StepRow, show_time};

/// How a run stands for an operator: its outcome, or `killed` for a run still marked
/// running whose process is gone.
pub fn standing(run: &RunRow) -> &'static str {
    if run.outcome != Outcome::Running {
        return run.outcome.as_str();
    }
    let alive = run
        .owner
        .as_deref()
        .and_then(Owner::parse)
        .zip(run.lease_until)
        .is_some_and(|(owner, until)| super::lease::holds(&owner, until, SystemTime::now()));
    if alive { "running" } else { "killed" }
}

/// `12.3 s`, `4 min 05 s`, `2 h 03 min`.
fn duration(ms: i64) -> String {
    let seconds = ms / 1000;
    match seconds {
        s if s < 60 => format!("{}.{} s", s, (ms % 1000) / 100),
        s if s < 3600 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

/// The recent runs as a table; under a run shared by runners, where its work items
/// stand (`items_of` answers a run's items).
pub fn runs_table(runs: &[RunRow], items_of: impl Fn(i64) -> Vec<ItemRow>) -> String {
    if runs.is_empty() {
        return "no runs in this journal yet\n".to_owned();
    }
    let rows: Vec<[String; 6]> = runs
        .iter()
        .map(|run| {
            [
                run.id.to_string(),
                run.begun.script.clone(),
                show_time(run.started),
                run.ended
                    .map_or_else(|| "-".to_owned(), |ended| duration(ended - run.started)),
                standing(run).to_owned(),
                run.changes.to_string(),
            ]
        })
        .collect();
    let header = ["ID", "SCRIPT", "STARTED", "DURATION", "OUTCOME", "CHANGES"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if index + 1 == cells.len() {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell:<width$}  ");
            }
        }
        format!("{}\n", out.trim_end())
    };
    let mut text = line(&header.map(str::to_owned));
    for (row, run) in rows.iter().zip(runs) {
        text.push_str(&line(row));
        if let Some(items) = items_line(&items_of(run.id)) {
            let _ = writeln!(text, "    items: {items}");
        }
    }
    text
}

/// Where a shared run's work items stand, in one line: done, in flight (by which
/// runner), waiting, failed, taken over; `None` for a run that has none.
fn items_line(items: &[ItemRow]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let count = |status: &str| items.iter().filter(|i| i.status == status).count();
    let mut flying: Vec<(String, usize)> = Vec::new();
    for item in items.iter().filter(|i| i.status == "running") {
        let name = item.runner.clone().unwrap_or_default();
        match flying.iter_mut().find(|(n, _)| *n == name) {
            Some((_, n)) => *n += 1,
            None => flying.push((name, 1)),
        }
    }
    let by = if flying.is_empty() {
        String::new()
    } else {
        let each: Vec<String> = flying.iter().map(|(n, c)| format!("{c} by {n}")).collect();
        format!(" ({})", each.join(", "))
    };
    let taken = items.iter().filter(|i| i.takeovers > 0).count();
    Some(format!(
        "{} done, {} in flight{by}, {} waiting, {} failed; {taken} taken over from a runner that stopped",
        count("done"),
        count("running"),
        count("waiting"),
        count("failed"),
    ))
}

/// What `runs --json` prints for one run.
#[derive(Serialize)]
struct RunJson<'a> {
    #[serde(flatten)]
    run: &'a RunRow,
    standing: &'static str,
}

/// The recent runs as JSON.
pub fn runs_json(runs: &[RunRow]) -> String {
    let rows: Vec<RunJson<'_>> = runs
        .iter()
        .map(|run| RunJson {
            run,
            standing: standing(run),
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_default()
}

/// One run with its steps and calls.
pub struct RunDetail {
    pub run: RunRow,
    pub steps: Vec<StepRow>,
    pub calls: Vec<CallRow>,
    /// The runners of a shared run, and its work items.
    pub runners: Vec<RunnerRow>,
    pub items: Vec<ItemRow>,
}

impl Journal {
    /// Run `id` with every step and call.
    pub fn detail(&self, id: i64) -> Result<Option<RunDetail>, JournalError> {
        let Some(run) = self.run(id)? else {
            return Ok(None);
        };
        Ok(Some(RunDetail {
            steps: self.steps(id)?,
            calls: self.calls(id)?,
            runners: self.runners(id)?,
            items: self.items(id)?,
            run,
        }))
    }
}

/// The heading of a run: what it was, how it went.
fn heading(run: &RunRow, text: &mut String) {
    let _ = writeln!(
        text,
        "run {} of {}: {}, {} {}, {} {}",
        run.id,
        run.begun.script,
        standing(run),
        run.attempts,
        if run.attempts == 1 {
            "attempt"
        } else {
            "attempts"
        },
        run.changes,
        if run.changes == 1 {
            "change"
        } else {
            "changes"
        },
    );
    let ended = run.ended.map_or_else(String::new, |ended| {
        format!(
            ", ended {} ({})",
            show_time(ended),
            duration(ended - run.started)
        )
    });
    let _ = writeln!(text, "  started {}{ended}", show_time(run.started));
    let _ = writeln!(text, "  targets: {}", run.begun.targets.join(", "));
    if let Some(scenario) = &run.begun.scenario {
        let seed = run
            .begun
            .seed
            .map_or_else(String::new, |seed| format!(", seed {seed}"));
        let _ = writeln!(text, "  lab: scenario {scenario}{seed}");
    }
    let files: Vec<String> = run
        .begun
        .files
        .iter()
        .map(|f| format!("{} ({})", f.path, short_hash(&f.hash)))
        .collect();
    let _ = writeln!(text, "  files: {}", files.join(", "));
}

/// A shared run's runners and where its work items stand: done, in flight (by whom),
/// waiting, failed.
fn wave_lines(detail: &RunDetail, text: &mut String) {
    if detail.runners.is_empty() {
        return;
    }
    let _ = writeln!(text, "  runners:");
    for runner in &detail.runners {
        let reach = runner
            .only_targets
            .as_ref()
            .map_or_else(String::new, |only| {
                format!(", reaches only {}", only.join(", "))
            });
        let ran = detail
            .items
            .iter()
            .filter(|item| item.runner.as_deref() == Some(runner.name.as_str()))
            .count();
        let state = match runner.ended {
            Some(ended) => format!("stopped {}", show_time(ended)),
            None => format!("last heartbeat {}", show_time(runner.heartbeat)),
        };
        let _ = writeln!(
            text,
            "    {} (attempt {}): joined {}, {state}, {ran} {}{reach}",
            runner.name,
            runner.attempt,
            show_time(runner.started),
            if ran == 1 { "item" } else { "items" },
        );
    }
    if let Some(items) = items_line(&detail.items) {
        let _ = writeln!(text, "  items: {items}");
    }
}

/// `blake3:0123456789ab`: enough of a hash to tell files apart.
fn short_hash(hash: &str) -> &str {
    hash.get(..19).unwrap_or(hash)
}

/// How a call ended, as one phrase.
fn call_outcome(call: &CallRow) -> String {
    let verdict = call.verdict.as_deref().unwrap_or("");
    match call.status {
        CallStatus::Answered => {
            let status = call.http_status.unwrap_or(0);
            let reason = reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            if (200..300).contains(&status) {
                format!("done, {status} {reason}")
            } else {
                format!("refused, {status} {reason}")
            }
        }
        CallStatus::Sent => "sent, outcome unknown".to_owned(),
        CallStatus::NotSent => "not sent, the connection failed".to_owned(),
        CallStatus::Lost => "sent, answer lost: outcome unknown".to_owned(),
        CallStatus::Abandoned => {
            "sent, the run stopped before the answer: outcome unknown".to_owned()
        }
        CallStatus::VerifiedApplied => {
            format!("outcome unknown, then verified: took effect ({verdict})")
        }
        CallStatus::VerifiedNotApplied => {
            format!("outcome unknown, then verified: did not take effect ({verdict})")
        }
        CallStatus::Skipped => format!("not sent again: {verdict}"),
        CallStatus::Planned => format!("planned: {verdict}"),
    }
}

/// A step's result, cut to one short line.
fn result_line(result: Option<&serde_json::Value>) -> String {
    let text = result.map_or_else(|| "()".to_owned(), |r| r.to_string());
    let text = crate::terminal_text::escape_control(&text);
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(59).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// The first segment of a key: the item a frame belongs to.
fn first_segment(key: &str) -> &str {
    key.split('/').next().unwrap_or(key)
}

/// `runs show`: the heading, then the playbook's own steps and calls, then each item's
/// (an application of a wave), each in the order they were made.
pub fn detail_text(detail: &RunDetail) -> String {
    let mut text = String::new();
    heading(&detail.run, &mut text);
    wave_lines(detail, &mut text);
    if detail.steps.is_empty() && detail.calls.is_empty() {
        text.push_str("\nno steps and no mutating calls\n");
        return text;
    }
    // (group, attempt, ord, line); the group is "" for the playbook's own.
    let mut events: Vec<(String, i64, i64, String)> = Vec::new();
    for step in &detail.steps {
        let group = match step.item {
            Some(_) => first_segment(&step.key).to_owned(),
            None => String::new(),
        };
        let name = step
            .key
            .strip_prefix(&group)
            .map_or(step.key.as_str(), |rest| rest.trim_start_matches('/'));
        let occurrence = if step.occurrence > 1 {
            format!(" #{}", step.occurrence)
        } else {
            String::new()
        };
        let status = match step.status {
            super::StepStatus::Done => format!("done: {}", result_line(step.result.as_ref())),
            super::StepStatus::Failed => {
                format!("failed: {}", step.error.as_deref().unwrap_or("no reason"))
            }
            super::StepStatus::Running => "begun, not ended".to_owned(),
        };
        events.push((
            group,
            step.attempt,
            step.ord,
            format!("step {name}{occurrence}: {status}"),
        ));
    }
    for call in &detail.calls {
        let in_step = call
            .step
            .and_then(|id| detail.steps.iter().find(|s| s.id == id));
        let group = match in_step {
            Some(step) if step.item.is_some() => first_segment(&step.key).to_owned(),
            Some(_) => String::new(),
            None => first_segment(&call.frame).to_owned(),
        };
        let indent = if in_step.is_some() { "  " } else { "" };
        events.push((
            group,
            call.attempt,
            call.ord,
            format!(
                "{indent}`{}` {} {}: {} ({} {}): {}",
                call.change.target,
                call.change.operation,
                call.change.object(),
                call.change.summary,
                call.change.method,
                call.change.path,
                call_outcome(call)
            ),
        ));
    }
    // Groups in the order they began; the playbook's own first.
    let mut groups: Vec<(String, (i64, i64))> = Vec::new();
    for (group, attempt, ord, _) in &events {
        match groups.iter_mut().find(|(g, _)| g == group) {
            Some((_, first)) => *first = (*first).min((*attempt, *ord)),
            None => groups.push((group.clone(), (*attempt, *ord))),
        }
    }
    groups.sort_by_key(|(group, first)| (!group.is_empty(), *first));
    events.sort_by_key(|(_, attempt, ord, _)| (*attempt, *ord));
    for (group, _) in &groups {
        let title = if group.is_empty() {
            "the playbook".to_owned()
        } else {
            item_title(detail, group)
        };
        let _ = writeln!(text, "\n{}", crate::terminal_text::escape_control(&title));
        let mut attempt = if detail.runners.is_empty() { 1 } else { 0 };
        for (_, event_attempt, _, line) in events.iter().filter(|(g, ..)| g == group) {
            if *event_attempt != attempt {
                attempt = *event_attempt;
                match detail.runners.iter().find(|r| r.attempt == attempt) {
                    Some(runner) => {
                        let _ = writeln!(text, "  by runner {}:", runner.name);
                    }
                    None => {
                        let _ = writeln!(text, "  attempt {attempt}:");
                    }
                }
            }
            let _ = writeln!(text, "  {}", crate::terminal_text::escape_control(line));
        }
    }
    text
}

/// An item's heading in a shared run: its name, how it stands and who ran it.
fn item_title(detail: &RunDetail, group: &str) -> String {
    let Some(item) = detail.items.iter().find(|i| first_segment(&i.key) == group) else {
        return group.to_owned();
    };
    let by = item
        .runner
        .as_deref()
        .map_or_else(String::new, |runner| format!(" by {runner}"));
    let taken = match item.takeovers {
        0 => String::new(),
        1 => ", taken over once".to_owned(),
        n => format!(", taken over {n} times"),
    };
    format!("{group} ({}{by}{taken})", item.status)
}

/// `runs show --json`: the run, its steps and its calls (and, shared, its runners and
/// work items).
pub fn detail_json(detail: &RunDetail) -> String {
    let value = serde_json::json!({
        "run": RunJson { run: &detail.run, standing: standing(&detail.run) },
        "steps": detail.steps,
        "calls": detail.calls,
        "runners": detail.runners,
        "items": detail.items,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
