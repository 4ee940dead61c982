//! Meta-commands, typed with a leading colon: `:help [NAME]`, `:targets`, `:vars`,
//! `:load FILE`, `:lab`, `:time` and `:quit`.

use std::path::Path;

use super::session::{Session, Step, print_err, print_out};
use crate::script::ScriptFile;
use crate::suggest::{closest, did_you_mean};
use crate::terminal_text::escape_control;

/// Every meta-command and its line of help.
pub(super) const COMMANDS: &[(&str, &str)] = &[
    (
        ":help",
        ":help [NAME]  a function's signature and doc comment, a type's methods, or this list",
    ),
    (":targets", ":targets      the targets scripts may reach"),
    (":vars", ":vars         the session's variables"),
    (":load", ":load FILE    run a script into the session"),
    (
        ":lab",
        ":lab          the lab's listeners and state (with --lab)",
    ),
    (
        ":time",
        ":time         print how long each entry takes (on/off)",
    ),
    (":quit", ":quit         end the session (or Ctrl-D)"),
];

/// Runs the meta-command `line` (which starts with `:`).
pub(super) fn run(session: &mut Session<'_>, line: &str) -> Step {
    let (command, argument) = line
        .split_once(char::is_whitespace)
        .map_or((line, ""), |(c, a)| (c, a.trim()));
    match command {
        ":help" | ":h" => help(session, argument),
        ":targets" => targets(session),
        ":vars" => vars(session),
        ":load" => load(session, argument),
        ":lab" => print_out(super::lab_state::describe(session.runtime).trim_end()),
        ":time" => {
            session.timing = !session.timing;
            print_out(if session.timing {
                "timing on"
            } else {
                "timing off"
            });
        }
        ":quit" | ":q" | ":exit" => return Step::Quit,
        other => {
            session.failed = true;
            let closest = closest(other, COMMANDS.iter().map(|(name, _)| *name))
                .map_or(String::new(), did_you_mean);
            print_err(&format!(
                "error: unknown command `{}`{closest} (`:help` lists them)\n",
                escape_control(other)
            ));
        }
    }
    Step::Next
}

fn help(session: &mut Session<'_>, name: &str) {
    if name.is_empty() {
        let lines: Vec<&str> = COMMANDS.iter().map(|(_, help)| *help).collect();
        print_out(&lines.join("\n"));
        print_out(
            "Tab completes names, methods after `.` and target names in `powerstore(\"`; \
             multi-line input goes on while brackets are open.\n`cutover doc` lists every function.",
        );
        return;
    }
    if let Some((_, line)) = COMMANDS.iter().find(|(command, _)| *command == name) {
        print_out(line);
        return;
    }
    match session.console.help(name) {
        Some(text) => print_out(text.trim_end()),
        None => {
            session.failed = true;
            let catalogue = session.console.catalogue();
            let closest =
                closest(name, catalogue.function_names()).map_or(String::new(), did_you_mean);
            print_err(&format!(
                "error: no function or type `{}`{closest}\n",
                escape_control(name)
            ));
        }
    }
}

fn targets(session: &Session<'_>) {
    let targets: Vec<_> = session.console.host().targets().iter().collect();
    if targets.is_empty() {
        print_out(
            "no targets: pass --targets FILE, set CUTOVER_TARGETS, create ./cutover.toml, \
             or start with --lab",
        );
        return;
    }
    let name_width = targets.iter().map(|t| t.name.len()).max().unwrap_or(0);
    let kind_width = targets
        .iter()
        .map(|t| t.kind.as_str().len())
        .max()
        .unwrap_or(0);
    for target in targets {
        print_out(&escape_control(&format!(
            "{:<name_width$}  {:<kind_width$}  {}  (user `{}`)",
            target.name, target.kind, target.url, target.user
        )));
    }
}

fn vars(session: &Session<'_>) {
    let variables = session.console.variables();
    if variables.is_empty() {
        print_out("no variables yet");
        return;
    }
    let width = variables.iter().map(|v| v.name.len()).max().unwrap_or(0);
    for variable in variables {
        print_out(&format!("{:<width$}  {}", variable.name, variable.summary));
    }
}

fn load(session: &mut Session<'_>, path: &str) {
    if path.is_empty() {
        session.failed = true;
        print_err("error: `:load` needs a file, e.g. `:load wave1.rhai`\n");
        return;
    }
    let file = match ScriptFile::read(Path::new(path)) {
        Ok(file) => file,
        Err(err) => {
            session.failed = true;
            print_err(&escape_control(&format!(
                "error: cannot read `{path}`: {err}\n"
            )));
            return;
        }
    };
    let result = session.console.load(&file);
    session.report(result);
}
