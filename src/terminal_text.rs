//! Escaping of text from outside (response bodies, file names, script strings) before it
//! reaches a terminal, so a hostile body cannot move the cursor or reorder text.

/// Escapes control characters (except newline and tab) and Unicode bidi controls.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` fit for one line of an error message: every control character escaped (line
/// breaks too) and the text cut to `max` characters, with `…` where it was cut. A hostile
/// answer's message or a value quoted in an error can be of any size and hold anything.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        if c.is_control() || is_bidi_control(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_interpret() {
        #[track_caller]
        fn case(input: &str, expected: &str) {
            assert_eq!(escape_control(input), expected);
        }
        case("plain text", "plain text");
        case("two\nlines\tand tab", "two\nlines\tand tab");
        case("\x1b[2J", "\\u{1b}[2J");
        case("a\rb", "a\\u{d}b");
        case("abc\u{202E}fed", "abc\\u{202e}fed");
        case("ünïcødé", "ünïcødé");
    }

    #[test]
    fn one_line_escapes_every_control_and_cuts() {
        assert_eq!(one_line("a\nb\tc\u{202e}", 10), "a\\u{a}b\\u{9}c\\u{202e}");
        assert_eq!(one_line("ünïcødé", 3), "ünï…");
        assert_eq!(one_line("abc", 3), "abc");
    }
}
