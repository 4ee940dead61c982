//! Row filters of PowerStore collection queries (vendor-apis.md §4.3): `attr=op.value`
//! with `eq neq gt gte lt lte ilike in is`, the `not.` prefix, and `and=(…)`/`or=(…)`
//! groups. Comparisons ignore case, as the array's do.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::error::LabError;
use super::query::Resource;

/// A parsed filter, true or false for each row.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Condition {
    Test {
        attr: &'static str,
        negated: bool,
        op: Op,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

/// One comparison of a filter.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Op {
    Eq(String),
    Neq(String),
    Gt(String),
    Gte(String),
    Lt(String),
    Lte(String),
    ILike(String),
    In(Vec<String>),
    IsNull,
    IsTrue,
    IsFalse,
}

impl Condition {
    /// Parses the query parameter `key=value`: `state=eq.Queued`, `and=(a.eq.1,b.gt.2)`.
    pub(super) fn parse(key: &str, value: &str, resource: &Resource) -> Result<Self, LabError> {
        match key {
            "and" | "or" => group(key, value, resource),
            "not.and" | "not.or" => Ok(Self::Not(Box::new(group(&key[4..], value, resource)?))),
            _ => test(key, value, resource),
        }
    }

    /// Whether every attribute this condition reads is one of `fields`.
    pub(super) fn reads_only(&self, fields: &[&str]) -> bool {
        match self {
            Self::Test { attr, .. } => fields.contains(attr),
            Self::All(all) | Self::Any(all) => all.iter().all(|c| c.reads_only(fields)),
            Self::Not(inner) => inner.reads_only(fields),
        }
    }

    /// Whether `row` passes; a missing attribute counts as `null`.
    pub(super) fn matches(&self, row: &Map<String, Value>) -> bool {
        match self {
            Self::Test { attr, negated, op } => {
                op.holds(row.get(*attr).unwrap_or(&Value::Null)) != *negated
            }
            Self::All(all) => all.iter().all(|c| c.matches(row)),
            Self::Any(any) => any.iter().any(|c| c.matches(row)),
            Self::Not(inner) => !inner.matches(row),
        }
    }
}

/// `(a.eq.1,or(b.eq.2,c.eq.3))` after `and=` or `or=`.
fn group(kind: &str, value: &str, resource: &Resource) -> Result<Condition, LabError> {
    let inner = value
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| bad_filter(kind, value))?;
    let mut terms = Vec::new();
    for term in split_top_level(inner) {
        let nested = ["and(", "or(", "not.and(", "not.or("]
            .into_iter()
            .find(|p| term.starts_with(p));
        terms.push(match nested {
            Some(prefix) => {
                let name = &prefix[..prefix.len() - 1];
                Condition::parse(name, &term[name.len()..], resource)?
            }
            None => {
                let (attr, expr) = term.split_once('.').ok_or_else(|| bad_filter(kind, term))?;
                test(attr, expr, resource)?
            }
        });
    }
    Ok(match kind {
        "and" => Condition::All(terms),
        _ => Condition::Any(terms),
    })
}

fn test(attr: &str, expr: &str, resource: &Resource) -> Result<Condition, LabError> {
    let attr = resource.field(attr).ok_or_else(|| {
        LabError::invalid_request(
            format!(
                "The filter attribute {attr} is not valid for {}.",
                resource.name
            ),
            &[attr],
        )
    })?;
    let (negated, expr) = match expr.strip_prefix("not.") {
        Some(rest) => (true, rest),
        None => (false, expr),
    };
    let (name, operand) = expr.split_once('.').ok_or_else(|| bad_filter(attr, expr))?;
    let text = operand.to_owned();
    let op = match name {
        "eq" => Op::Eq(text),
        "neq" => Op::Neq(text),
        "gt" => Op::Gt(text),
        "gte" => Op::Gte(text),
        "lt" => Op::Lt(text),
        "lte" => Op::Lte(text),
        "ilike" => Op::ILike(text),
        "in" => Op::In(list(operand).ok_or_else(|| bad_filter(attr, expr))?),
        "is" => match operand.to_ascii_lowercase().as_str() {
            "null" => Op::IsNull,
            "true" => Op::IsTrue,
            "false" => Op::IsFalse,
            _ => return Err(bad_filter(attr, expr)),
        },
        _ => return Err(bad_filter(attr, expr)),
    };
    Ok(Condition::Test { attr, negated, op })
}

fn bad_filter(attr: &str, expr: &str) -> LabError {
    LabError::invalid_request(format!("The filter {attr}={expr} is not valid."), &[attr])
}

/// `(a,b,"c,d")` as `["a", "b", "c,d"]`.
fn list(operand: &str) -> Option<Vec<String>> {
    let inner = operand.strip_prefix('(')?.strip_suffix(')')?;
    let items = split_top_level(inner)
        .into_iter()
        .map(|item| item.trim_matches('"').to_owned())
        .collect();
    Some(items)
}

/// Splits at commas that are not inside parentheses or double quotes.
pub(super) fn split_top_level(text: &str) -> Vec<&str> {
    let (mut depth, mut quoted, mut start) = (0_i32, false, 0);
    let mut parts = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.retain(|p| !p.is_empty());
    parts
}

impl Op {
    fn holds(&self, value: &Value) -> bool {
        let is = |operand: &str, wanted: &[Ordering]| {
            compare(value, operand).is_some_and(|o| wanted.contains(&o))
        };
        match self {
            Self::Eq(o) => is(o, &[Ordering::Equal]),
            Self::Neq(o) => !is(o, &[Ordering::Equal]),
            Self::Gt(o) => is(o, &[Ordering::Greater]),
            Self::Gte(o) => is(o, &[Ordering::Greater, Ordering::Equal]),
            Self::Lt(o) => is(o, &[Ordering::Less]),
            Self::Lte(o) => is(o, &[Ordering::Less, Ordering::Equal]),
            Self::ILike(pattern) => text_of(value).is_some_and(|t| glob(pattern, &t)),
            Self::In(items) => items.iter().any(|o| is(o, &[Ordering::Equal])),
            Self::IsNull => value.is_null(),
            Self::IsTrue => value == &Value::Bool(true),
            Self::IsFalse => value == &Value::Bool(false),
        }
    }
}

/// Orders an attribute's value against a filter's operand; `None` when they cannot be
/// compared (a `null`, or text against a number).
fn compare(value: &Value, operand: &str) -> Option<Ordering> {
    match value {
        Value::Number(n) => n.as_f64()?.partial_cmp(&operand.parse::<f64>().ok()?),
        Value::Bool(b) => Some(b.cmp(&operand.to_ascii_lowercase().parse::<bool>().ok()?)),
        Value::String(s) => Some(s.to_lowercase().cmp(&operand.to_lowercase())),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Case-insensitive match of `text` against `pattern`, where `*` matches any run.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            retry = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star, from)) = retry {
            p = star + 1;
            t = from + 1;
            retry = Some((star, from + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: Resource = Resource::plain(
        "import_session",
        &[
            "name",
            "state",
            "progress_percentage",
            "automatic_cutover",
            "error",
        ],
    );

    /// Whether the filter `key=value` passes this row, or the message of its 400.
    fn check(key: &str, value: &str) -> Result<bool, String> {
        let row = serde_json::json!({"name": "wave1-LUN01", "state": "Copy_In_Progress",
            "progress_percentage": 40, "automatic_cutover": false, "error": null});
        match Condition::parse(key, value, &SESSION) {
            Ok(condition) => Ok(condition.matches(row.as_object().unwrap())),
            Err(e) => Err(format!(
                "{} {}",
                e.status().as_u16(),
                e.body().messages[0].message_l10n
            )),
        }
    }

    #[track_caller]
    fn case(key: &str, value: &str, expected: bool) {
        assert_eq!(check(key, value), Ok(expected), "{key}={value}");
    }

    #[track_caller]
    fn refused(key: &str, value: &str, message: &str) {
        assert_eq!(
            check(key, value),
            Err(format!("400 {message}")),
            "{key}={value}"
        );
    }

    #[test]
    fn comparisons() {
        case("state", "eq.Copy_In_Progress", true);
        case("state", "eq.copy_in_progress", true);
        case("state", "neq.Copy_In_Progress", false);
        case("state", "not.eq.Queued", true);
        case("progress_percentage", "gt.39", true);
        case("progress_percentage", "gt.40", false);
        case("progress_percentage", "gte.40", true);
        case("progress_percentage", "lt.40.5", true);
        case("progress_percentage", "lte.39", false);
        case("progress_percentage", "eq.forty", false);
        case("name", "gt.wave1-a", true);
    }

    #[test]
    fn patterns_lists_and_nulls() {
        case("name", "ilike.wave1*", true);
        case("name", "ilike.*LUN*", true);
        case("name", "ilike.*lun0", false);
        case("name", "not.ilike.wave2*", true);
        case("state", "in.(Queued,copy_in_progress)", true);
        case("state", "not.in.(Failed,Cancelled)", true);
        case("state", r#"in.("Failed",Cancelled)"#, false);
        case("error", "is.null", true);
        case("error", "not.is.null", false);
        case("automatic_cutover", "is.false", true);
        case("automatic_cutover", "is.true", false);
        case("automatic_cutover", "eq.FALSE", true);
    }

    #[test]
    fn groups() {
        case(
            "and",
            "(state.eq.Copy_In_Progress,progress_percentage.gt.30)",
            true,
        );
        case(
            "and",
            "(state.eq.Copy_In_Progress,progress_percentage.gt.50)",
            false,
        );
        case("or", "(state.eq.Queued,progress_percentage.gt.30)", true);
        case(
            "or",
            "(state.eq.Queued,and(name.ilike.w*,error.is.null))",
            true,
        );
        case("not.or", "(state.eq.Queued,state.eq.Failed)", true);
    }

    #[test]
    fn malformed_filters_are_400() {
        refused(
            "size",
            "eq.1",
            "The filter attribute size is not valid for import_session.",
        );
        refused(
            "state",
            "equals.Queued",
            "The filter state=equals.Queued is not valid.",
        );
        refused("state", "Queued", "The filter state=Queued is not valid.");
        refused(
            "state",
            "in.Queued,Failed",
            "The filter state=in.Queued,Failed is not valid.",
        );
        refused(
            "error",
            "is.maybe",
            "The filter error=is.maybe is not valid.",
        );
        refused(
            "and",
            "state.eq.Queued",
            "The filter and=state.eq.Queued is not valid.",
        );
    }

    #[test]
    fn glob_matches_runs() {
        assert!(glob("a*c*e", "abcde"));
        assert!(glob("*", ""));
        assert!(!glob("a*c", "abcd"));
        assert!(glob("*aab", "aaab"));
    }
}
