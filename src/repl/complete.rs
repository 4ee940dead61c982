//! Tab completion from what the engine and the session know: functions and variables by
//! name; after a `.`, the methods and properties of the value's type (worked out from
//! the variable, or from what the call before the dot returns, as in
//! `powerstore("lab").imp`) or a map's keys; target names inside `vcd("`,
//! `powerstore("`, …; the names and ids of import sessions and tasks inside
//! `import_session("` and `task("`; meta-commands after `:`.

use std::sync::Arc;

use crate::script::catalogue::Catalogue;
use crate::script::console::Variable;
use crate::script::object_names::ObjectNames;

/// Rhai keywords offered with names.
const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "while", "loop", "for", "in", "do", "until", "break",
    "continue", "return", "throw", "try", "catch", "import", "export", "as", "true", "false",
    "switch", "private",
];

/// Everything completion draws on, refreshed after each entry.
#[derive(Default)]
pub(super) struct Known {
    pub(super) catalogue: Arc<Catalogue>,
    pub(super) variables: Vec<Variable>,
    pub(super) script_functions: Vec<String>,
    /// `(kind, name)` of every target, e.g. `("powerstore", "array1")`.
    pub(super) targets: Vec<(String, String)>,
    /// The meta-commands, with their colon.
    pub(super) commands: Vec<&'static str>,
    /// Asks targets for the objects a string argument may name.
    pub(super) objects: Option<ObjectNames>,
}

/// Where the word being completed starts in the line, and the candidates, sorted.
pub(super) fn complete(known: &Known, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = line.get(..pos).unwrap_or(line);
    let (start, mut candidates) = if before.trim_start().starts_with(':') {
        command(known, before)
    } else {
        code(known, before)
    };
    candidates.sort();
    candidates.dedup();
    (start, candidates)
}

fn command(known: &Known, before: &str) -> (usize, Vec<String>) {
    // After the last space, whatever its width (a no-break space is two bytes).
    let word_start = before
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map_or(before.len() - before.trim_start().len(), |(i, c)| {
            i + c.len_utf8()
        });
    let word = &before[word_start..];
    let candidates = if word_start <= before.len() - before.trim_start().len() {
        known.commands.iter().map(|c| (*c).to_owned()).collect()
    } else if before.split_whitespace().next() == Some(":help") {
        let mut names = names(known);
        names.extend(known.catalogue.type_names().iter().map(|t| (*t).to_owned()));
        names.extend(known.commands.iter().map(|c| (*c).to_owned()));
        names
    } else {
        Vec::new()
    };
    (word_start, starting_with(candidates, word))
}

fn code(known: &Known, before: &str) -> (usize, Vec<String>) {
    let tokens = tokenize(before);
    let end = before.len();
    match tokens.split_last() {
        Some((Token::Str { start, open: true }, rest)) => (
            start + 1,
            target_names(known, rest, before, &before[start + 1..]),
        ),
        Some((Token::Str { .. } | Token::Comment, _)) => (end, Vec::new()),
        Some((&Token::Ident(start, stop), rest)) if stop == end => (
            start,
            members_or_names(known, rest, before, &before[start..]),
        ),
        _ => (end, members_or_names(known, &tokens, before, "")),
    }
}

/// After `receiver.`, the receiver's members; otherwise every name.
fn members_or_names(known: &Known, tokens: &[Token], text: &str, prefix: &str) -> Vec<String> {
    let candidates = match tokens.split_last() {
        Some((Token::Punct('.'), receiver)) => match shape(known, receiver, text) {
            Some(Shape::Type(ty)) => known.catalogue.members(&ty),
            Some(Shape::Keys(keys)) => keys,
            None => Vec::new(),
        },
        _ => names(known),
    };
    starting_with(candidates, prefix)
}

/// Inside `kind("`, the names of the targets of that kind; inside
/// `receiver.import_session("` (or `task("`), the names and ids of its objects.
fn target_names(known: &Known, tokens: &[Token], text: &str, prefix: &str) -> Vec<String> {
    let names = match tokens {
        [
            ..,
            Token::Punct('.'),
            Token::Ident(start, stop),
            Token::Punct('('),
        ] => {
            let receiver_end = tokens.len() - 3;
            let Some(objects) = &known.objects else {
                return Vec::new();
            };
            let Some(receiver) = receiver_text(&tokens[..receiver_end], text) else {
                return Vec::new();
            };
            objects.list(receiver, &text[*start..*stop])
        }
        [.., Token::Ident(start, stop), Token::Punct('(')] => {
            let kind = &text[*start..*stop];
            known
                .targets
                .iter()
                .filter(|(k, _)| k == kind)
                .map(|(_, name)| name.clone())
                .collect()
        }
        _ => return Vec::new(),
    };
    starting_with(names, prefix)
}

/// The text of the expression `tokens` end with, when it is a variable or a call with
/// one string literal (`powerstore("lab")`).
fn receiver_text<'t>(tokens: &[Token], text: &'t str) -> Option<&'t str> {
    match tokens {
        [
            ..,
            Token::Ident(start, _),
            Token::Punct('('),
            Token::Str { open: false, .. },
            Token::Punct(')'),
        ] => {
            let end = text[*start..].find(')')? + start + 1;
            Some(&text[*start..end])
        }
        [.., Token::Ident(start, stop)] => Some(&text[*start..*stop]),
        _ => None,
    }
}

fn names(known: &Known) -> Vec<String> {
    let mut names: Vec<String> = known
        .catalogue
        .function_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    names.extend(known.script_functions.iter().cloned());
    names.extend(known.variables.iter().map(|v| v.name.clone()));
    names.extend(KEYWORDS.iter().map(|k| (*k).to_owned()));
    names
}

fn starting_with(candidates: Vec<String>, prefix: &str) -> Vec<String> {
    candidates
        .into_iter()
        .filter(|c| c.starts_with(prefix))
        .collect()
}

/// What a receiver expression is known to be.
enum Shape {
    /// A value of this type (`ImportSession`): complete its members.
    Type(String),
    /// A map variable: complete its keys.
    Keys(Vec<String>),
}

/// The shape of the expression that `tokens` end with: a variable, a call, a method
/// call or a property, chained as deep as the types are known.
fn shape(known: &Known, tokens: &[Token], text: &str) -> Option<Shape> {
    match tokens.split_last()? {
        (Token::Punct(')'), _) => {
            let open = matching_open(tokens)?;
            let name_at = open.checked_sub(1)?;
            let &Token::Ident(start, stop) = tokens.get(name_at)? else {
                return None;
            };
            let name = &text[start..stop];
            let ty = match receiver_type(known, &tokens[..name_at], text) {
                Receiver::None => known.catalogue.return_type(name, None)?,
                Receiver::Typed(receiver) => known.catalogue.return_type(name, Some(&receiver))?,
                Receiver::Unknown => return None,
            };
            Some(Shape::Type(ty))
        }
        (&Token::Ident(start, stop), rest) => {
            let name = &text[start..stop];
            match receiver_type(known, rest, text) {
                Receiver::Typed(receiver) => known
                    .catalogue
                    .property_type(name, &receiver)
                    .map(Shape::Type),
                Receiver::Unknown => None,
                Receiver::None => {
                    let variable = known.variables.iter().rev().find(|v| v.name == name)?;
                    Some(if variable.type_name == "map" {
                        Shape::Keys(variable.keys.clone())
                    } else {
                        Shape::Type(variable.type_name.clone())
                    })
                }
            }
        }
        _ => None,
    }
}

enum Receiver {
    /// No `.` before the name: a plain function call or a variable.
    None,
    /// A `.` after a value of this type.
    Typed(String),
    /// A `.` after something of unknown type.
    Unknown,
}

fn receiver_type(known: &Known, tokens: &[Token], text: &str) -> Receiver {
    match tokens.split_last() {
        Some((Token::Punct('.'), receiver)) => match shape(known, receiver, text) {
            Some(Shape::Type(ty)) => Receiver::Typed(ty),
            _ => Receiver::Unknown,
        },
        _ => Receiver::None,
    }
}

/// The index of the `(` that the final `)` of `tokens` closes.
fn matching_open(tokens: &[Token]) -> Option<usize> {
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate().rev() {
        match token {
            Token::Punct(')' | ']' | '}') => depth += 1,
            Token::Punct('(' | '[' | '{') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(index);
                }
            }
            _ => {}
        }
    }
    None
}

/// A token of the text before the cursor; offsets are byte indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Ident(usize, usize),
    /// A string or character literal starting at `start` (its quote).
    Str {
        start: usize,
        open: bool,
    },
    Punct(char),
    /// A comment running to the end of the text.
    Comment,
    Number,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            c if c.is_alphabetic() || c == '_' => {
                let mut stop = at + c.len_utf8();
                while let Some(&(i, n)) = chars.peek() {
                    if !(n.is_alphanumeric() || n == '_') {
                        break;
                    }
                    stop = i + n.len_utf8();
                    chars.next();
                }
                tokens.push(Token::Ident(at, stop));
            }
            c if c.is_ascii_digit() => {
                while chars
                    .peek()
                    .is_some_and(|&(_, n)| n.is_alphanumeric() || n == '_')
                {
                    chars.next();
                }
                tokens.push(Token::Number);
            }
            '"' | '`' | '\'' => {
                let mut open = true;
                while let Some((_, n)) = chars.next() {
                    if n == '\\' {
                        chars.next();
                    } else if n == c {
                        open = false;
                        break;
                    }
                }
                tokens.push(Token::Str { start: at, open });
            }
            '/' if chars.peek().is_some_and(|&(_, n)| n == '/' || n == '*') => {
                tokens.push(Token::Comment);
                break;
            }
            other => tokens.push(Token::Punct(other)),
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Limits;

    fn known() -> Known {
        let (_runtime, host) = crate::script::host::testing::on_this_thread();
        let engine = crate::engine::build(&host, Limits::default(), ".".into());
        let variable = |name: &str, type_name: &str, keys: &[&str]| Variable {
            name: name.into(),
            type_name: type_name.into(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            summary: String::new(),
        };
        Known {
            catalogue: Arc::new(Catalogue::new(&engine).unwrap()),
            variables: vec![
                variable("session", "ImportSession", &[]),
                variable("row", "map", &["name", "state"]),
                variable("count", "i64", &[]),
            ],
            script_functions: vec!["double".into()],
            targets: vec![
                ("powerstore".into(), "array1".into()),
                ("powerstore".into(), "lab".into()),
                ("vcd".into(), "prod-vcd".into()),
            ],
            commands: vec![":help", ":lab", ":load", ":quit"],
            objects: None,
        }
    }

    #[track_caller]
    fn case(known: &Known, line: &str, start: usize, expected: &[&str]) {
        let (at, candidates) = complete(known, line, line.len());
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        assert_eq!((at, candidates.as_slice()), (start, expected), "{line:?}");
    }

    #[track_caller]
    fn contains(known: &Known, line: &str, expected: &str) {
        let (_, candidates) = complete(known, line, line.len());
        assert!(
            candidates.iter().any(|c| c == expected),
            "{line:?}: {candidates:?}"
        );
    }

    #[test]
    fn methods_follow_the_type_of_what_precedes_the_dot() {
        let known = known();
        case(
            &known,
            r#"powerstore("lab").imp"#,
            18,
            &["import_session", "import_sessions"],
        );
        case(&known, "session.cut", 8, &["cutover"]);
        case(&known, "session.refresh().wait_f", 18, &["wait_for"]);
        case(
            &known,
            r#"let s = powerstore("lab").import_session("x").progress_p"#,
            46,
            &["progress_percentage"],
        );
        contains(&known, "vcenter(\"vc\").history().", "pause");
        case(&known, "row.st", 4, &["state"]);
        case(&known, "count.x", 6, &[]);
        case(&known, "nothing().x", 10, &[]);
    }

    #[test]
    fn names_complete_functions_variables_and_keywords() {
        let known = known();
        case(&known, "sess", 0, &["session"]);
        case(&known, "let x = dou", 8, &["double"]);
        case(&known, "wait_u", 0, &["wait_until"]);
        contains(&known, "impor", "import");
        case(&known, "x // sess", 9, &[]);
    }

    #[test]
    fn targets_complete_inside_the_constructor_string() {
        let known = known();
        case(&known, r#"powerstore(""#, 12, &["array1", "lab"]);
        case(&known, r#"let a = powerstore("ar"#, 20, &["array1"]);
        case(&known, r#"vcd("p"#, 5, &["prod-vcd"]);
        case(&known, r#"print("ar"#, 7, &[]);
    }

    #[test]
    fn meta_commands_complete_after_a_colon() {
        let known = known();
        case(&known, ":l", 0, &[":lab", ":load"]);
        case(
            &known,
            ":help import_s",
            6,
            &["import_session", "import_sessions"],
        );
        case(&known, ":help ImportS", 6, &["ImportSession"]);
        case(&known, ":quit x", 6, &[]);
        // A no-break space is two bytes; the word starts after both.
        case(
            &known,
            ":help\u{a0}import_s",
            7,
            &["import_session", "import_sessions"],
        );
    }
}
