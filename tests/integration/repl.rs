//! `cutover repl`: driven through a pseudo-terminal the way an operator types (prompt,
//! Tab, Ctrl-C, Ctrl-D), and scripted through a pipe.

use std::io::Write as _;
use std::process::Stdio;

use crate::test::{Child, PATIENCE, Test, next_line};

/// The REPL scripted through standard input: values printed for people, an error on
/// stderr with its caret at the line of the input it came from, and the session going
/// on after it.
#[test]
fn piped_entries_are_evaluated_one_by_one() {
    Test::new()
        .args(["repl", "--lab", "--speed", "50"])
        .stdin(
            r#"
            let s = powerstore("powerstore").import_session("wave1-lun03");
            s
            s.state
            #{ sizes: [1, 2], name: "x", nested: #{ ok: true } }
            fn next(n) {
              n + 1
            }
            next(41)
            let broken = nope + 1;
            :vars
            "#,
        )
        .stdout(
            r#"
            ImportSession wave1-lun03 Ready_For_Cutover
            "Ready_For_Cutover"
            #{
              name: "x",
              nested: #{
                ok: true,
              },
              sizes: [1, 2],
            }
            42
            s  ImportSession wave1-lun03 Ready_For_Cutover
            "#,
        )
        .stderr(
            "
            error: Variable not found: nope
             --> <stdin>:9:14
              |
            9 | let broken = nope + 1;
              |              ^^^^
            ",
        )
        .status(1)
        .run();
}

#[test]
fn piped_meta_commands_answer_on_stdout() {
    let outcome = Test::new()
        .args(["repl", "--lab"])
        .stdin(
            "
            :help import_session
            :targets
            :lab
            :quit
            print(\"not reached\");
            ",
        )
        .success();
    let stdout = &outcome.stdout;
    assert!(
        stdout.starts_with(
            "import_session(array: PowerStore, id_or_name: &str) -> ImportSession\n    \
             One import session by id or by name; `not_found` when there is none.\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\npowerstore         powerstore  http://127.0.0.1:"),
        "{stdout}"
    );
    // 13 seeded sessions and the default wave's 2 for each of 12 applications.
    assert!(stdout.contains("import_sessions: 37 ("), "{stdout}");
    assert!(stdout.contains("  same state as `vcenter`"), "{stdout}");
    assert!(!stdout.contains("not reached"), "{stdout}");
}

/// An entry stopped by a limit ends alone: the session, its variables and the next
/// entries go on.
#[test]
fn an_entry_past_a_limit_ends_only_itself() {
    Test::new()
        .args(["repl", "--max-array-size", "1000", "--max-operations", "100000"])
        .stdin(
            "
            let a = [];
            loop { a.push(1); }
            loop {}
            a.len()
            ",
        )
        .stdout("1000\n")
        .stderr(
            "
            error: push: an array may hold at most 1000 items; look for one that grows without end, or raise `--max-array-size` (kind: validation)
             --> <stdin>:2:10
              |
            2 | loop { a.push(1); }
              |          ^^^^
            error: the script ran too many operations and was stopped; look for an endless loop, or raise --max-operations
             --> <stdin>:3:6
              |
            3 | loop {}
              |      ^
            ",
        )
        .status(1)
        .run();
}

/// SIGTERM ends a session as it stops a run (issue 14): the PowerStore login the session
/// made is logged out of, and the exit status is 143. Standard input stays open, so only
/// the signal can end the session; it goes out once the entry's answer is read.
#[test]
fn sigterm_ends_the_session_logged_out_of_its_targets() {
    let test = Test::new().lab().args(["repl"]);
    let mut command = test.command();
    command.stdin(Stdio::piped());
    let mut child = Child::spawn(command);
    let mut stdin = child.0.stdin.take().unwrap();
    writeln!(stdin, "powerstore(\"array1\").import_sessions().len() > 0").unwrap();
    stdin.flush().unwrap();
    let mut lines = child.lines();
    assert_eq!(next_line(&mut lines), "true");
    let lab = test.test_lab();
    let logins = |state: serde_json::Value| {
        (
            state["logins"].as_u64(),
            state["active_login_sessions"].as_u64(),
        )
    };
    assert_eq!(logins(lab.state()), (Some(1), Some(1)), "logged in");
    child.terminate();
    let (code, rest, stderr) = child.finish(lines, PATIENCE);
    drop(stdin);
    assert_eq!(code, Some(143), "{stderr}");
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(stderr, "error: interrupted by SIGTERM; the session ended\n");
    assert_eq!(logins(lab.state()), (Some(1), Some(0)), "logged out");
}

#[cfg(unix)]
mod terminal {
    use std::path::{Path, PathBuf};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use rexpect::process::WaitStatus;
    use rexpect::session::{Options, PtySession};

    use crate::test::Test;

    /// How long any one expectation may wait.
    const EXPECT_TIMEOUT_MS: u64 = 15_000;
    const PROMPT: &str = "cutover> ";
    const MORE: &str = "..> ";

    /// A REPL on a pseudo-terminal, against its own lab, with its data folder (and so
    /// its history) in the test's temporary folder. Dropping it kills the process.
    struct Terminal {
        session: PtySession,
        test: Test,
    }

    impl Terminal {
        fn start() -> Self {
            let test = Test::new().args(["repl", "--lab", "--speed", "50"]);
            let mut command = test.command();
            // The pty is the child's terminal: stdio must not be redirected.
            command
                .stdin(Stdio::inherit())
                .stdout(Stdio::inherit())
                .stderr(Stdio::inherit())
                .env("TERM", "xterm")
                .env("HOME", test.path())
                .env("XDG_DATA_HOME", test.path().join("data"))
                .env_remove("CUTOVER_HISTORY");
            let options = Options::new()
                .timeout_ms(Some(EXPECT_TIMEOUT_MS))
                .strip_ansi_escape_codes(true);
            let session = rexpect::session::spawn_with_options(command, options).unwrap();
            let mut terminal = Self { session, test };
            terminal.expect(PROMPT);
            terminal
        }

        fn expect(&mut self, text: &str) -> String {
            self.session
                .exp_string(text)
                .unwrap_or_else(|err| panic!("waiting for {text:?}: {err}"))
        }

        /// Types `line` and Enter, then waits for the prompt after it.
        fn enter(&mut self, line: &str, prompt: &str) -> String {
            self.session.send(line).unwrap();
            self.session.send("\r").unwrap();
            self.session.flush().unwrap();
            self.expect(prompt)
        }

        fn history(&self) -> PathBuf {
            self.test.path().join("data/cutover/history")
        }
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn variables_and_a_function_typed_over_three_lines_persist() {
        let mut t = Terminal::start();
        t.enter("let x = 20;", PROMPT);
        t.enter("fn double(n) {", MORE);
        t.enter("  n * 2", MORE);
        t.enter("}", PROMPT);
        let shown = t.enter("double(x + 1)", PROMPT);
        assert!(shown.contains("\r\n42\r\n"), "{shown:?}");
    }

    #[test]
    fn tab_completes_a_method_of_what_a_call_returns() {
        let mut t = Terminal::start();
        t.session.send("powerstore(\"powerstore\").imp\t").unwrap();
        t.session.flush().unwrap();
        t.expect("import_session");
        let shown = t.enter("(\"wave1-lun03\")", PROMPT);
        assert!(
            shown.contains("ImportSession wave1-lun03 Ready_For_Cutover"),
            "{shown:?}"
        );
    }

    #[test]
    fn tab_completes_import_session_names_and_ids() {
        let mut t = Terminal::start();
        t.enter("let array = powerstore(\"powerstore\");", PROMPT);
        t.session.send("array.import_session(\"paus\t").unwrap();
        t.session.flush().unwrap();
        t.expect("paused-lun11");
        let shown = t.enter("\").id", PROMPT);
        let id = shown
            .lines()
            .map(|line| line.trim().trim_matches('"'))
            .find(|line| line.len() > 20 && !line.contains(' '))
            .unwrap_or_else(|| panic!("no id in {shown:?}"))
            .to_owned();
        t.session
            .send(&format!(
                "powerstore(\"powerstore\").import_session(\"{}\t",
                &id[..12]
            ))
            .unwrap();
        t.session.flush().unwrap();
        t.expect(&id[12..]);
        let shown = t.enter("\").name", PROMPT);
        assert!(shown.contains("paused-lun11"), "{shown:?}");
    }

    #[test]
    fn help_prints_signature_and_doc_comment() {
        let mut t = Terminal::start();
        let shown = t.enter(":help import_session", PROMPT);
        assert!(
            shown.contains(
                "import_session(array: PowerStore, id_or_name: &str) -> ImportSession\r\n    \
                 One import session by id or by name; `not_found` when there is none."
            ),
            "{shown:?}"
        );
    }

    #[test]
    fn ctrl_c_stops_a_wait_and_the_session_goes_on() {
        let mut t = Terminal::start();
        // A paused session never becomes ready by itself: the wait runs until stopped.
        // It reads the session once an hour of lab time (72 s at the REPL's speed), so
        // only a Ctrl-C that cuts its sleep short is back within the bound below.
        t.session
            .send("let s = powerstore(\"powerstore\").import_session(\"paused-lun11\"); print(\"waiting\"); s.wait_for(\"Ready_For_Cutover\", #{ every: \"1h\" })\r")
            .unwrap();
        t.session.flush().unwrap();
        t.expect("\r\nwaiting\r\n");
        let pressed = Instant::now();
        t.session.send_control('c').unwrap();
        t.expect("interrupted");
        t.expect(PROMPT);
        let waited = pressed.elapsed();
        assert!(
            waited < Duration::from_secs(10),
            "back at the prompt after {waited:?}"
        );
        let shown = t.enter("s.state", PROMPT);
        assert!(shown.contains("\"Paused\""), "{shown:?}");
    }

    #[test]
    fn an_error_shows_a_caret_and_keeps_the_session() {
        let mut t = Terminal::start();
        t.enter("let kept = 40;", PROMPT);
        let shown = t.enter("let y = nope + 1;", PROMPT);
        assert!(
            shown.contains("1 | let y = nope + 1;\r\n  |         ^^^^\r\n"),
            "{shown:?}"
        );
        let shown = t.enter("kept + 2", PROMPT);
        assert!(shown.contains("\r\n42\r\n"), "{shown:?}");
    }

    #[test]
    fn secrets_stay_out_of_the_history_and_ctrl_d_ends_the_session() {
        let mut t = Terminal::start();
        t.enter("let password = \"hunter2\";", PROMPT);
        t.enter("let kept = 1;", PROMPT);
        t.session.send_control('d').unwrap();
        t.session.exp_eof().unwrap();
        let status = t.session.process().wait().unwrap();
        assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
        let history = read(&t.history());
        assert!(history.contains("let kept = 1;"), "{history:?}");
        assert!(!history.contains("hunter2"), "{history:?}");
        assert!(!history.contains("password"), "{history:?}");
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(t.history()).unwrap().permissions(),
        );
        assert_eq!(mode & 0o077, 0, "the history is the operator's alone");
    }
}
