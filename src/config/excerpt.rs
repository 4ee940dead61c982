//! Short excerpts of target-file text for errors: a mistyped file may hold lines of any
//! length, and an error must never echo one whole.

/// The most characters of file text an error quotes.
const MAX_QUOTED: usize = 80;
/// The most characters of a TOML error's own message.
const MAX_MESSAGE: usize = 300;

/// `value` cut to [`MAX_QUOTED`] characters, with `…` where it was cut.
pub(super) fn quoted(value: &str) -> String {
    cut(value, MAX_QUOTED)
}

/// `value` cut to `max` characters, with `…` where it was cut.
fn cut(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

/// A TOML error as `line L, column C: message` with the line around the error (at most
/// [`MAX_QUOTED`] characters of it) and a caret under the place.
pub(super) fn toml_error(err: &toml::de::Error, text: &str) -> String {
    match err.span() {
        Some(span) => at(text, span, err.message()),
        None => cut(err.message().trim_end(), MAX_MESSAGE),
    }
}

/// `message` about the place `span` of `text`, shown as [`toml_error`] shows TOML's own.
pub(super) fn at(text: &str, span: std::ops::Range<usize>, message: &str) -> String {
    // The message may quote a value of the file whole (`invalid type: string "…"`).
    let message = cut(message.trim_end(), MAX_MESSAGE);
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let column = text[line_start..start].chars().count() + 1;
    let before: Vec<char> = text[line_start..start].chars().collect();
    let kept_before = before.len().min(MAX_QUOTED / 2);
    let lead = if kept_before < before.len() {
        "…"
    } else {
        ""
    };
    let shown_before: String = before[before.len() - kept_before..].iter().collect();
    let after = quoted(&text[start..line_end]);
    let caret_at = lead.chars().count() + kept_before;
    format!(
        "line {line_no}, column {column}: {message}\n  | {lead}{shown_before}{after}\n  | {}^",
        " ".repeat(caret_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut() {
        assert_eq!(quoted("short"), "short");
        let long = "x".repeat(500);
        assert_eq!(quoted(&long), format!("{}…", "x".repeat(80)));
    }

    #[test]
    fn a_toml_error_on_a_huge_line_quotes_a_short_excerpt() {
        let text = format!("[targets.a]\nkind = \"{}\" oops\n", "y".repeat(10_000));
        let err = toml::from_str::<toml::Table>(&text).unwrap_err();
        let shown = toml_error(&err, &text);
        assert!(shown.len() < 400, "{shown}");
        assert!(shown.starts_with("line 2, column 10011: "), "{shown}");
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 3, "{shown}");
        let caret = lines[2].find('^').unwrap();
        assert_eq!(lines[1].chars().nth(caret), Some('o'), "{shown}");
    }

    /// Found by fuzzing: TOML's own message quoted a wrongly typed value whole.
    #[test]
    fn a_wrongly_typed_huge_value_is_quoted_short() {
        let text = format!("[targets.a]\ninsecure = \"{}\"\n", "z".repeat(10_000));
        let err = crate::config::Targets::parse(
            &text,
            std::path::Path::new("t.toml"),
            &crate::vendors::kinds(),
        )
        .err()
        .unwrap();
        let shown = err.to_string();
        assert!(shown.chars().count() < 600, "{shown}");
        assert_eq!(
            shown.lines().next(),
            Some(
                format!(
                    "invalid target file `t.toml`: line 2, column 12: invalid type: string \"{}…",
                    "z".repeat(300 - 22)
                )
                .as_str()
            )
        );
    }
}
