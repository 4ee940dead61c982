//! A flag the command does not have gets a tip that points at the real one. clap's own
//! tip for a flag after a positional argument ("to pass '--json' as a value, use '--
//! --json'") sends an operator the wrong way, so it is replaced here.

use clap::error::{ContextKind, ContextValue, Error, ErrorKind};
use clap::{Command, builder::StyledStr};

/// Flags from other tools, and what cutover offers instead.
const FOREIGN: &[(&[&str], &str)] = &[
    (
        &["--dry-run", "--dryrun", "-n", "--noop", "--plan", "--check"],
        "cutover has no dry run: `cutover check FILE` compiles a playbook and checks the \
         targets it names, and `--lab` rehearses it against the built-in lab",
    ),
    (
        &["--json", "--output", "-o", "--format"],
        "cutover prints for people; a playbook writes machine-readable output itself with \
         `json_encode(value)`, and the lab's state is JSON at `<url>/_lab/state`",
    ),
];

/// Rewrites an unknown-argument error of `command`'s subcommands; other errors, and
/// those clap already has a close suggestion for, pass unchanged.
pub(super) fn rewrite(err: Error, mut command: Command, args: &[String]) -> Error {
    let unknown =
        err.kind() == ErrorKind::UnknownArgument && err.get(ContextKind::SuggestedArg).is_none();
    let Some(ContextValue::String(flag)) = err.get(ContextKind::InvalidArg).cloned() else {
        return err;
    };
    if !unknown {
        return err;
    }
    let name = args
        .iter()
        .find(|arg| command.find_subcommand(arg.as_str()).is_some())
        .cloned();
    command.build();
    let Some(mut sub) = name.and_then(|name| command.find_subcommand(&name).cloned()) else {
        return err;
    };
    let tip = tip_for(&flag, &sub);
    let mut rewritten = Error::new(ErrorKind::UnknownArgument).with_cmd(&sub);
    rewritten.insert(ContextKind::InvalidArg, ContextValue::String(flag));
    rewritten.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![StyledStr::from(tip)]),
    );
    rewritten.insert(
        ContextKind::Usage,
        ContextValue::StyledStr(sub.render_usage()),
    );
    rewritten
}

/// What to say about `flag` on `sub`: what cutover has instead of another tool's flag,
/// else the flags `sub` takes.
fn tip_for(flag: &str, sub: &Command) -> String {
    let key = flag.split('=').next().unwrap_or(flag);
    if let Some((_, tip)) = FOREIGN.iter().find(|(flags, _)| flags.contains(&key)) {
        return (*tip).to_owned();
    }
    let flags: Vec<String> = sub
        .get_arguments()
        .filter(|arg| !arg.is_hide_set())
        .filter_map(|arg| arg.get_long())
        .filter(|long| !matches!(*long, "help" | "version"))
        .map(|long| format!("--{long}"))
        .collect();
    format!(
        "`cutover {}` takes {}; `cutover {} --help` says what each does",
        sub.get_name(),
        flags.join(", "),
        sub.get_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn error_for(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let err = <crate::cli::Cli as clap::Parser>::try_parse_from(&args).unwrap_err();
        rewrite(err, crate::cli::Cli::command(), &args).to_string()
    }

    #[test]
    fn a_dry_run_flag_points_at_check_and_the_lab() {
        let text = error_for(&["cutover", "run", "w.rhai", "--dry-run"]);
        assert!(
            text.contains("unexpected argument '--dry-run' found"),
            "{text}"
        );
        assert!(text.contains("tip: cutover has no dry run"), "{text}");
        assert!(!text.contains("use '--"), "{text}");
    }

    #[test]
    fn an_unknown_flag_lists_the_commands_flags() {
        let text = error_for(&["cutover", "doc", "--color"]);
        assert!(
            text.contains("tip: `cutover doc` takes --definitions"),
            "{text}"
        );
    }

    #[test]
    fn a_close_flag_keeps_claps_suggestion() {
        let text = error_for(&["cutover", "run", "w.rhai", "--lab", "--sped", "2"]);
        assert!(
            text.contains("a similar argument exists: '--speed'"),
            "{text}"
        );
    }
}
