//! The words for a call nothing can answer, found by the call check before a run or by
//! Rhai while running: what is wrong, in the project's style, and the name meant when
//! one is close.

use std::collections::BTreeSet;

use crate::script::modules::{STDLIB, STDLIB_PREFIX};
use crate::suggest::{closest, did_you_mean};

/// How Rhai names a string argument in a signature.
const RHAI_STRING: &str = "&str | ImmutableString | String";

/// "unknown function `powerstor`; did you mean `powerstore`?"; `what` is "function" or
/// "method".
pub fn unknown(what: &str, name: &str, meant: Option<String>) -> String {
    match meant {
        Some(meant) => format!("unknown {what} `{name}`{}", did_you_mean(&meant)),
        None => format!("unknown {what} `{name}`; `cutover doc` lists every {what}"),
    }
}

/// "`powerstore` takes 1 argument, not 2"; `what` names the kind of call when it helps.
pub fn arity(what: Option<&str>, name: &str, arities: &BTreeSet<usize>, args: usize) -> String {
    let what = what.map(|w| format!("{w} ")).unwrap_or_default();
    format!("{what}`{name}` takes {}, not {args}", counts(arities))
}

/// `s.state()` where `state` is a property.
pub fn property_called(name: &str) -> String {
    format!("`{name}` is a property, not a method; read it without parentheses: `.{name}`")
}

/// A variable called like a function: Rhai calls only functions by name.
pub fn variable_called(name: &str) -> String {
    format!(
        "`{name}` is a variable, not a function; call the function it holds with `{name}.call(…)`"
    )
}

/// `alias::name(…)` with nothing imported as `alias`.
pub fn unbound_alias(alias: &str) -> String {
    let path = STDLIB.iter().find(|(name, _)| *name == alias).map_or_else(
        || "…".to_owned(),
        |(name, _)| format!("{STDLIB_PREFIX}{name}"),
    );
    format!("no module is imported as `{alias}`; add `import \"{path}\" as {alias};` before it")
}

/// Rhai's `Function not found: name (types)` at run time, given every name the script
/// could call and `get$name` for each property (none: the names are not at hand, so
/// nothing is suggested).
pub fn not_found(signature: &str, names: &[String]) -> String {
    let (name, types) = signature
        .split_once(" (")
        .map_or((signature, ""), |(name, types)| {
            (name, types.strip_suffix(')').unwrap_or(types))
        });
    let types = types.replace(RHAI_STRING, "string");
    if names.is_empty() {
        return format!("no function `{name}` takes ({types})");
    }
    if names.iter().any(|known| known == name) {
        return format!(
            "`{name}` cannot be called with ({types}); `cutover doc` lists what each function takes"
        );
    }
    let property = format!("get${name}");
    if !types.contains(',') && names.contains(&property) {
        return property_called(name);
    }
    let callable = names.iter().filter(|known| !known.starts_with("get$"));
    let meant = closest(name, callable.map(String::as_str)).map(str::to_owned);
    unknown("function", name, meant)
}

/// "1 argument", "no arguments", "1 or 2 arguments", "0, 1 or 3 arguments".
fn counts(arities: &BTreeSet<usize>) -> String {
    let numbers: Vec<String> = arities.iter().map(ToString::to_string).collect();
    match numbers.as_slice() {
        [] => "no arguments".to_owned(),
        [only] if only == "0" => "no arguments".to_owned(),
        [only] if only == "1" => "1 argument".to_owned(),
        [only] => format!("{only} arguments"),
        [rest @ .., last] => format!("{} or {last} arguments", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_counts_read_as_words() {
        #[track_caller]
        fn case(arities: &[usize], expected: &str) {
            assert_eq!(counts(&arities.iter().copied().collect()), expected);
        }
        case(&[0], "no arguments");
        case(&[1], "1 argument");
        case(&[2], "2 arguments");
        case(&[1, 2], "1 or 2 arguments");
        case(&[0, 1, 3], "0, 1 or 3 arguments");
    }

    #[test]
    fn run_time_misses_suggest_a_close_name() {
        let names: Vec<String> = ["powerstore", "report::table", "cutover", "get$state"]
            .map(String::from)
            .to_vec();
        #[track_caller]
        fn case(names: &[String], signature: &str, expected: &str) {
            assert_eq!(not_found(signature, names), expected);
        }
        case(
            &names,
            "powerstor (&str | ImmutableString | String)",
            "unknown function `powerstor`; did you mean `powerstore`?",
        );
        case(
            &names,
            "report::tabel (array, array)",
            "unknown function `report::tabel`; did you mean `report::table`?",
        );
        case(
            &names,
            "cutover (i64)",
            "`cutover` cannot be called with (i64); `cutover doc` lists what each function takes",
        );
        case(
            &names,
            "zzz ()",
            "unknown function `zzz`; `cutover doc` lists every function",
        );
        case(&[], "cutover (i64)", "no function `cutover` takes (i64)");
        case(
            &names,
            "state (ImportSession)",
            "`state` is a property, not a method; read it without parentheses: `.state`",
        );
    }

    #[test]
    fn an_unbound_stdlib_alias_gets_its_import_line() {
        assert_eq!(
            unbound_alias("report"),
            "no module is imported as `report`; add `import \"cutover/report\" as report;` before it"
        );
        assert_eq!(
            unbound_alias("helpers"),
            "no module is imported as `helpers`; add `import \"…\" as helpers;` before it"
        );
    }
}
