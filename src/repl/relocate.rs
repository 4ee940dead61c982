//! Piped input is one stream of lines, but each entry is compiled on its own as
//! `<input>` from its line 1; its diagnostics are moved here to the lines of standard
//! input they came from (`<stdin>:41:9`), so an error in a long piped session can be found.

use crate::script::console::INPUT;

/// What piped diagnostics name as their source.
pub(super) const STDIN: &str = "<stdin>";

/// `rendered` with every `<input>:L` position of an entry that starts on line `first`
/// of standard input moved to `<stdin>:L'`, and its snippets' gutters renumbered.
pub(super) fn relocate(rendered: &str, first: usize) -> String {
    let shift = first.saturating_sub(1);
    let mut out = String::with_capacity(rendered.len() + 16);
    let mut pad = 0;
    for line in rendered.split_inclusive('\n') {
        if let Some((indent, line_no, rest)) = arrow(line) {
            let moved = line_no + shift;
            pad = digits(moved).saturating_sub(digits(line_no));
            let spaces = " ".repeat(indent + pad);
            out.push_str(&format!("{spaces}--> {STDIN}:{moved}{rest}"));
        } else if let Some((line_no, rest)) = numbered(line) {
            out.push_str(&format!("{} |{rest}", line_no + shift));
        } else if line.starts_with(' ') && gutter(line) {
            out.push_str(&" ".repeat(pad));
            out.push_str(&moved_frames(line, shift));
        } else {
            out.push_str(&moved_frames(line, shift));
        }
    }
    out
}

/// ` --> <input>:L…`: its indent, `L`, and what follows `L`.
fn arrow(line: &str) -> Option<(usize, usize, &str)> {
    let trimmed = line.trim_start_matches(' ');
    let indent = line.len() - trimmed.len();
    let after = trimmed
        .strip_prefix("--> ")?
        .strip_prefix(INPUT)?
        .strip_prefix(':')?;
    let digits_end = after.find(|c: char| !c.is_ascii_digit())?;
    let line_no = after[..digits_end].parse().ok()?;
    Some((indent, line_no, &after[digits_end..]))
}

/// `L | text`: `L` and ` text…`.
fn numbered(line: &str) -> Option<(usize, &str)> {
    let (number, rest) = line.split_once(" |")?;
    Some((number.parse().ok()?, rest))
}

/// A gutter line: spaces, then `|` or `=`.
fn gutter(line: &str) -> bool {
    matches!(line.trim_start_matches(' ').chars().next(), Some('|' | '='))
}

/// `called from <input>:L:C` moved to standard input's lines.
fn moved_frames(line: &str, shift: usize) -> String {
    let marker = format!("called from {INPUT}:");
    let Some(at) = line.find(&marker) else {
        return line.to_owned();
    };
    let after = &line[at + marker.len()..];
    let end = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    match after[..end].parse::<usize>() {
        Ok(line_no) => format!(
            "{}called from {STDIN}:{}{}",
            &line[..at],
            line_no + shift,
            &after[end..]
        ),
        Err(_) => line.to_owned(),
    }
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_gutters_move_to_the_lines_of_stdin() {
        let rendered = "error: unknown function `foo`\n \
                        --> <input>:1:9\n  \
                        |\n\
                        1 | let c = foo(1);\n  \
                        |         ^^^\n  \
                        = in fn `f`, called from <input>:1:1\n";
        assert_eq!(
            relocate(rendered, 12),
            "error: unknown function `foo`\n  \
             --> <stdin>:12:9\n   \
             |\n\
             12 | let c = foo(1);\n   \
             |         ^^^\n   \
             = in fn `f`, called from <stdin>:12:1\n"
        );
        assert_eq!(relocate(rendered, 1), rendered.replace(INPUT, STDIN));
    }
}
