//! `:lab`: each lab listener with its URL and user, and a summary of its `/_lab/state`
//! — how many of each thing it holds, counted by state where things have one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::api_error::ApiError;
use crate::config::Target;
use crate::http::client::HttpClient;
use crate::runtime::Runtime;
use crate::terminal_text::escape_control;

/// Fields that say what state an item is in, in the vendors' spellings.
const STATE_FIELDS: &[&str] = &["state", "status", "entityState"];

/// The `:lab` text.
pub(super) fn describe(runtime: &Runtime) -> String {
    let Some(lab) = runtime.lab() else {
        return "no lab in this session; start one with `cutover repl --lab`".to_owned();
    };
    let targets = lab.targets();
    let width = targets.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    let mut shown: Vec<(String, String)> = Vec::new();
    for target in &targets {
        let _ = writeln!(
            out,
            "{:<width$}  {}  (user `{}`)",
            target.name, target.url, target.user
        );
        let (time, summary) = match runtime.block_on(state(target)) {
            Ok(state) => summarize(&state),
            Err(err) => (None, format!("state unavailable: {err}")),
        };
        // Listeners sharing one simulator (vCenter's two ports) show it once.
        match shown.iter().find(|(_, s)| *s == summary) {
            Some((first, _)) => {
                let _ = writeln!(out, "  same state as `{first}`");
            }
            None => {
                let time = time.map_or(String::new(), |t| format!("lab time {t}, "));
                let _ = writeln!(out, "  {time}{summary}");
                shown.push((target.name.clone(), summary));
            }
        }
    }
    escape_control(&out)
}

async fn state(target: &Target) -> Result<Value, ApiError> {
    const OPERATION: &str = "lab.state";
    let client = HttpClient::new(target)?;
    let request = client.request(reqwest::Method::GET, client.url(&["_lab", "state"]));
    let response = client.send(OPERATION, request, |_| None).await?;
    client.read_json(OPERATION, response).await
}

/// The lab time of a state, and the rest of it on one line:
/// `import_sessions: 13 (Copy_In_Progress 4, …), logins: 1, …`.
fn summarize(state: &Value) -> (Option<String>, String) {
    let Some(fields) = state.as_object() else {
        return (None, "no state".to_owned());
    };
    let time = fields.get("now").and_then(Value::as_str).map(str::to_owned);
    let mut parts = Vec::new();
    for (key, value) in fields {
        match value {
            Value::Array(items) => parts.push(format!("{key}: {}{}", items.len(), by_state(items))),
            Value::Object(object) => {
                if let Some(status) = STATE_FIELDS
                    .iter()
                    .find_map(|f| object.get(*f).and_then(Value::as_str))
                {
                    parts.push(format!("{key}: {status}"));
                }
            }
            Value::Number(number) => parts.push(format!("{key}: {number}")),
            _ => {}
        }
    }
    (time, parts.join(", "))
}

/// ` (Copy_In_Progress 4, Ready_For_Cutover 1)` for items with a state; empty otherwise.
fn by_state(items: &[Value]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items {
        let state = STATE_FIELDS
            .iter()
            .find_map(|f| item.get(*f).and_then(Value::as_str));
        if let Some(state) = state {
            *counts.entry(state).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return String::new();
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{s} {n}")).collect();
    format!(" ({})", counts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn states_are_counted() {
        let state = json!({
            "now": "2025-03-01T02:00:00Z",
            "import_sessions": [{"state": "Paused"}, {"state": "Queued"}, {"state": "Paused"}],
            "mutations": [],
            "history": {"status": "RUNNING", "progress": {}},
            "faults": {"pending": 0},
            "logins": 2,
            "listener": "proxy",
        });
        let (time, summary) = summarize(&state);
        assert_eq!(time.as_deref(), Some("2025-03-01T02:00:00Z"));
        assert_eq!(
            summary,
            "history: RUNNING, import_sessions: 3 (Paused 2, Queued 1), logins: 2, mutations: 0"
        );
    }
}
