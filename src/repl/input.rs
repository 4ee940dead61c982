//! When an entry is complete: input goes on over several lines while a bracket, brace
//! or parenthesis is open, inside a backtick string, a block comment, or a `"…"` string
//! whose line ends in `\` (Rhai's continuation). Anything else is handed to the compiler,
//! whose error is clearer than waiting for more.

/// Whether `text` needs more lines before it can be evaluated.
pub(super) fn is_open(text: &str) -> bool {
    let mut scan = Scan::default();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match scan.state {
            State::Code => match c {
                '(' | '[' | '{' => scan.depth += 1,
                ')' | ']' | '}' => scan.depth -= 1,
                '"' => scan.state = State::Literal(Literal::Quoted),
                '`' => scan.state = State::Literal(Literal::Backtick),
                '\'' => scan.state = State::Literal(Literal::Char),
                '/' if chars.peek() == Some(&'/') => scan.state = State::LineComment,
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    scan.state = State::BlockComment(1);
                }
                _ => {}
            },
            State::Literal(literal) => match c {
                // Skips the escaped character; an escaped newline continues the string.
                '\\' => {
                    chars.next();
                }
                c if literal.ends_at(c) => scan.state = State::Code,
                _ => {}
            },
            State::LineComment => {
                if c == '\n' {
                    scan.state = State::Code;
                }
            }
            State::BlockComment(depth) => match c {
                '*' if chars.peek() == Some(&'/') => {
                    chars.next();
                    scan.state = if depth == 1 {
                        State::Code
                    } else {
                        State::BlockComment(depth - 1)
                    };
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    scan.state = State::BlockComment(depth + 1);
                }
                _ => {}
            },
        }
    }
    match scan.state {
        State::Literal(Literal::Backtick) | State::BlockComment(_) => true,
        State::Literal(Literal::Quoted) => text.trim_end_matches('\n').ends_with('\\'),
        _ => scan.depth > 0,
    }
}

#[derive(Default)]
struct Scan {
    state: State,
    depth: i64,
}

#[derive(Clone, Copy, Default)]
enum State {
    #[default]
    Code,
    Literal(Literal),
    LineComment,
    BlockComment(u32),
}

/// A string or character literal being read.
#[derive(Clone, Copy)]
enum Literal {
    /// `"…"`.
    Quoted,
    /// `` `…` ``, which may span lines.
    Backtick,
    /// `'…'`.
    Char,
}

impl Literal {
    /// Whether `c` (not escaped) ends the literal. A bare newline ends a `"…"` or `'…'`
    /// one badly; the compiler says so.
    fn ends_at(self, c: char) -> bool {
        match self {
            Literal::Quoted => c == '"' || c == '\n',
            Literal::Backtick => c == '`',
            Literal::Char => c == '\'' || c == '\n',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_brackets_strings_and_comments_ask_for_more() {
        #[track_caller]
        fn case(text: &str, open: bool) {
            assert_eq!(is_open(text), open, "{text:?}");
        }
        case("let x = 1;", false);
        case("fn double(x) {", true);
        case("fn double(x) {\n  x * 2\n", true);
        case("fn double(x) {\n  x * 2\n}", false);
        case("let a = [1,\n2", true);
        case("f(#{ a: 1 }", true);
        case("print(\"(\")", false);
        case("print(\"{\"", true);
        case("let s = `two\nlines", true);
        case("let s = `two\nlines`;", false);
        case("let s = \"open", false);
        case("let s = \"continued \\", true);
        case("let s = \"continued \\\nhere\";", false);
        case("x // a comment with (", false);
        case("/* a comment (\n", true);
        case("/* a /* nested */ comment */ 1", false);
        case("let c = '(';", false);
        case("let c = '\\'';", false);
        case(")", false);
        case("", false);
    }
}
