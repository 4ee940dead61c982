//! The REPL on a terminal: a rustyline editor with completion, a history file that
//! secrets stay out of, multi-line entries, Ctrl-C to drop the entry being typed and
//! Ctrl-D to end the session.

use std::path::PathBuf;
use std::sync::Arc;

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::complete::{self, Known};
use super::session::{Session, Step, print_out};
use super::{history, input, meta};

/// The prompt of a new entry, and of its continuation lines.
pub(super) const PROMPT: &str = "cutover> ";
const MORE: &str = "     ..> ";

/// What the editor completes from.
struct ReplHelper {
    known: Known,
    files: FilenameCompleter,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.trim_start().starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, candidates) = complete::complete(&self.known, line, pos);
        let pairs = candidates
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}
impl Highlighter for ReplHelper {}
impl Validator for ReplHelper {}
impl Helper for ReplHelper {}

/// Reads and handles entries until Ctrl-D or `:quit`.
pub(super) fn run(session: &mut Session<'_>, history: Option<PathBuf>) -> rustyline::Result<()> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .auto_add_history(false)
        .history_ignore_space(true)
        .max_history_size(1000)?
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(ReplHelper {
        known: known(session),
        files: FilenameCompleter::new(),
    }));
    let history = history.filter(|path| load_history(&mut editor, path));
    print_out(&banner(session));
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() { PROMPT } else { MORE };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => return Ok(()),
            Err(err) => return Err(err),
        };
        if pending.is_empty() && line.trim_start().starts_with(':') {
            pending = line;
        } else {
            pending.push_str(&line);
            if input::is_open(&pending) {
                pending.push('\n');
                continue;
            }
        }
        let entry = std::mem::take(&mut pending);
        remember(&mut editor, session, &entry, history.as_ref());
        if session.handle(&entry) == Step::Quit {
            return Ok(());
        }
        if let Some(helper) = editor.helper_mut() {
            helper.known = known(session);
        }
    }
}

/// Loads earlier entries; answers whether the file can be used for this session.
fn load_history(editor: &mut Editor<ReplHelper, FileHistory>, path: &PathBuf) -> bool {
    if let Err(err) = history::prepare(path) {
        tracing::warn!(
            "no history: cannot create the folder of `{}`: {err}",
            path.display()
        );
        return false;
    }
    match editor.load_history(path) {
        Ok(()) => true,
        Err(ReadlineError::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => true,
        Err(err) => {
            tracing::warn!("no history: cannot read `{}`: {err}", path.display());
            false
        }
    }
}

/// Adds `entry` to the history and its file, unless it holds or may hold a secret.
fn remember(
    editor: &mut Editor<ReplHelper, FileHistory>,
    session: &Session<'_>,
    entry: &str,
    path: Option<&PathBuf>,
) {
    if entry.trim().is_empty()
        || history::looks_secret(entry)
        || history::holds_known_secret(entry, session.console.host().targets())
    {
        return;
    }
    if !matches!(editor.add_history_entry(entry), Ok(true)) {
        return;
    }
    if let Some(path) = path {
        if let Err(err) = editor.append_history(path) {
            tracing::warn!("cannot write the history to `{}`: {err}", path.display());
        }
    }
}

fn known(session: &Session<'_>) -> Known {
    let console = &session.console;
    Known {
        catalogue: Arc::clone(console.catalogue()),
        variables: console.variables(),
        script_functions: console
            .script_functions()
            .into_iter()
            .map(|f| f.name)
            .collect(),
        targets: console
            .host()
            .targets()
            .iter()
            .map(|t| (t.kind.as_str().to_owned(), t.name.clone()))
            .collect(),
        commands: meta::COMMANDS.iter().map(|(name, _)| *name).collect(),
        objects: Some(console.object_names()),
    }
}

fn banner(session: &Session<'_>) -> String {
    let mut text = String::from("cutover repl: `:help` for commands, Tab completes, Ctrl-D quits");
    if let Some(lab) = session.runtime.lab() {
        let names: Vec<String> = lab.targets().into_iter().map(|t| t.name).collect();
        text.push_str(&format!(
            "\nlab running: targets {}; `:lab` shows its state",
            names.join(", ")
        ));
    }
    text
}
