//! What an error looks like to an operator: `file:line:col`, the source line with a
//! caret under the token, the chain of function calls, and the vendor's response body
//! fenced below — all escaped for the terminal.

use std::fmt::Write as _;

use rhai::{EvalAltResult, ParseError, Position};

use crate::script::call_message;
use crate::script::error_value::{error_map, innermost};
use crate::terminal_text::escape_control;

/// Looks up the text of a script or module by its source name.
pub type SourceLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The one-line summary of a runtime error.
pub fn headline(err: &EvalAltResult) -> String {
    headline_with(err, &[])
}

/// The one-line summary of a runtime error; a call of a function that does not exist
/// suggests the closest of `names` (every name the script could call).
pub fn headline_with(err: &EvalAltResult, names: &[String]) -> String {
    let inner = innermost(err);
    let text = match inner {
        EvalAltResult::ErrorTerminated(value, _) if !value.is_map() => {
            "the run was interrupted".to_owned()
        }
        EvalAltResult::ErrorRuntime(value, _) | EvalAltResult::ErrorTerminated(value, _) => {
            match error_map(inner) {
                Some(map) if map.contains_key("kind") => {
                    let field = |key: &str| {
                        map.get(key)
                            .filter(|v| !v.is_unit())
                            .map(ToString::to_string)
                    };
                    let mut line = String::new();
                    if let Some(target) = field("target") {
                        let _ = write!(line, "`{target}` ");
                    }
                    if let Some(operation) = field("operation") {
                        let _ = write!(line, "{operation}: ");
                    }
                    let kind = field("kind").unwrap_or_default();
                    let _ = write!(
                        line,
                        "{} (kind: {kind}",
                        field("message").unwrap_or_default()
                    );
                    if field("retryable").as_deref() == Some("true") {
                        line.push_str(", retryable");
                    }
                    line.push(')');
                    line
                }
                _ => value.to_string(),
            }
        }
        EvalAltResult::ErrorTooManyOperations(_) => {
            "the script ran too many operations and was stopped; \
             look for an endless loop, or raise --max-operations"
                .to_owned()
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            "function calls nested deeper than --max-call-levels allows and the script was \
             stopped; look for a function that calls itself without end, or raise \
             --max-call-levels"
                .to_owned()
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let (value, flag) = match what.as_str() {
                "Length of string" => ("a string", "--max-string-size"),
                "Size of object map" => ("a map", "--max-map-size"),
                _ => ("an array", "--max-array-size"),
            };
            format!(
                "{value} grew past {flag} and the script was stopped; look for a value that \
                 grows without end, or raise {flag}"
            )
        }
        EvalAltResult::ErrorFunctionNotFound(signature, _) => {
            call_message::not_found(signature, names)
        }
        other => without_position(other),
    };
    escape_control(&text)
}

/// Renders an uncaught runtime error raised while running `main` (a source name);
/// `names` are the names the script could call, for suggestions.
pub fn render_runtime(
    err: &EvalAltResult,
    main: &str,
    sources: SourceLookup<'_>,
    names: &[String],
) -> String {
    let mut frames = Vec::new();
    let mut current = err;
    let mut caller_source = main.to_owned();
    while let EvalAltResult::ErrorInFunctionCall(name, source, inner, pos) = current {
        frames.push((name.clone(), caller_source.clone(), *pos));
        if !source.is_empty() {
            caller_source = source.clone();
        }
        current = inner;
    }
    let inner = innermost(current);
    let mut out = format!("error: {}\n", headline_with(err, names));
    out.push_str(&snippet(
        &caller_source,
        sources(&caller_source).as_deref(),
        inner.position(),
    ));
    let width = inner.position().line().unwrap_or(1).to_string().len();
    for (name, source, pos) in frames.iter().rev() {
        let _ = writeln!(
            out,
            "{:width$} = in fn `{name}`, called from {}",
            "",
            location(source, *pos)
        );
    }
    if let Some(body) =
        error_map(inner).and_then(|m| m.get("body").filter(|b| !b.is_unit()).cloned())
    {
        let _ = write!(
            out,
            "response body:\n----\n{}\n----\n",
            escape_control(&body.to_string())
        );
    }
    out
}

/// Renders a compile error in `path`, whose text is `text`.
pub fn render_compile(err: &ParseError, path: &str, text: &str) -> String {
    render_at(&err.0.to_string(), path, Some(text), err.1)
}

/// Renders `message` about the place `pos` in `path`, whose text is `text` (when at hand).
pub fn render_at(message: &str, path: &str, text: Option<&str>, pos: Position) -> String {
    let message = escape_control(message);
    format!("error: {message}\n{}", snippet(path, text, pos))
}

fn location(source: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(line), Some(col)) => format!("{source}:{line}:{col}"),
        (Some(line), None) => format!("{source}:{line}"),
        _ => source.to_owned(),
    }
}

/// `--> file:line:col`, then the source line and carets under the token at `pos`,
/// laid out like rustc's (the gutter is as wide as the line number).
fn snippet(source: &str, text: Option<&str>, pos: Position) -> String {
    let Some(line_no) = pos.line() else {
        return format!(" --> {source}\n");
    };
    let width = line_no.to_string().len();
    let mut out = format!("{:width$}--> {}\n", "", location(source, pos));
    let Some(text) = text else {
        return out;
    };
    let (line_no, line, col, note) = match text.lines().nth(line_no - 1) {
        Some(line) => (line_no, line, pos.position().unwrap_or(1).max(1), ""),
        // Past the last line: something opened was never closed. Point at the end of
        // the text, where the closing token was still awaited.
        None => match text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .last()
        {
            Some((index, line)) => (
                index + 1,
                line,
                line.chars().count() + 1,
                " the script ends here",
            ),
            None => return out,
        },
    };
    let width = width.max(line_no.to_string().len());
    let (shown, offset, carets) = underline(line, col);
    let _ = writeln!(out, "{:width$} |", "");
    let _ = writeln!(out, "{line_no:width$} | {}", escape_control(&shown));
    let _ = writeln!(
        out,
        "{:width$} | {}{}{note}",
        "",
        " ".repeat(offset),
        "^".repeat(carets)
    );
    out
}

/// The line with tabs expanded, the caret offset for 1-based `col`, and the width of the
/// token starting there (an identifier, or one character).
fn underline(line: &str, col: usize) -> (String, usize, usize) {
    let chars: Vec<char> = line.chars().collect();
    let start = (col - 1).min(chars.len());
    let offset = chars[..start]
        .iter()
        .map(|&c| if c == '\t' { 4 } else { 1 })
        .sum();
    let is_word = |c: &char| c.is_alphanumeric() || *c == '_';
    let word = chars[start..].iter().take_while(|c| is_word(c)).count();
    (line.replace('\t', "    "), offset, word.max(1))
}

/// Rhai's message for `err` without the ` (line L, position P)` it appends.
pub fn without_position(err: &EvalAltResult) -> String {
    let text = err.to_string();
    let suffix = format!(" ({})", err.position());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carets_sit_under_the_token_even_after_tabs() {
        #[track_caller]
        fn case(line: &str, col: usize, offset: usize, width: usize) {
            let (_, o, w) = underline(line, col);
            assert_eq!((o, w), (offset, width), "{line:?} at {col}");
        }
        case("let x = foo(1);", 9, 8, 3);
        case("\tfoo();", 2, 4, 3);
        case("x + ;", 5, 4, 1);
        case("", 1, 0, 1);
    }

    #[test]
    fn compile_errors_show_file_line_and_caret() {
        let engine = rhai::Engine::new();
        let text = "let a = 1;\nlet b = (a +;\n";
        let err = engine.compile(text).unwrap_err();
        let shown = render_compile(&err, "wave.rhai", text);
        assert!(shown.starts_with("error: "), "{shown}");
        assert!(shown.contains(" --> wave.rhai:2:"), "{shown}");
        assert!(shown.contains("2 | let b = (a +;\n"), "{shown}");
        assert!(shown.contains("  | "), "{shown}");
    }

    #[test]
    fn an_unclosed_block_points_at_the_end_of_the_text() {
        let engine = rhai::Engine::new();
        let text = "on_file(\"*\", |e| {\n  print(e);\n\n";
        let err = engine.compile(text).unwrap_err();
        assert_eq!(
            render_compile(&err, "hook.rhai", text),
            "error: Expecting '}' to terminate this block\n \
             --> hook.rhai:4:1\n  \
             |\n\
             2 |   print(e);\n  \
             |            ^ the script ends here\n"
        );
    }
}
