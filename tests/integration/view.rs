//! The operator's view of `cutover run`: the plain lines a run logs when stderr is not
//! a terminal, the live display and the summary table on a pseudo-terminal, and the
//! JSON report of `--report`.

use serde_json::{Value, json};

use crate::test::Test;

const PASSWORD: &str = "pw-view-7f3a";
const SECRET_KEY: &str = "sk-view-91c2";

/// The report `name` in the test's folder, with what changes from run to run (times,
/// ids the lab generates) replaced by placeholders.
fn report(dir: &std::path::Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(
        !text.contains(PASSWORD) && !text.contains(SECRET_KEY),
        "{text}"
    );
    let mut report: Value = serde_json::from_str(&text).unwrap();
    for key in ["started", "ended"] {
        assert!(report[key].as_str().unwrap().ends_with('Z'), "{report}");
        report[key] = json!("…");
    }
    for call in report["calls"].as_array_mut().unwrap() {
        assert!(call["sent"].as_str().unwrap().ends_with('Z'), "{call}");
        assert!(call["took_ms"].is_u64(), "{call}");
        call["sent"] = json!("…");
        call["took_ms"] = json!("…");
    }
    for item in report["items"].as_array_mut().unwrap() {
        assert!(item["duration_ms"].is_u64(), "{item}");
        item["duration_ms"] = json!("…");
    }
    report
}

#[test]
fn a_run_without_items_still_reports_its_calls_and_outcome() {
    let outcome = Test::new()
        .lab_with_secrets(PASSWORD, SECRET_KEY)
        .script(
            "cut.rhai",
            r#"
            let s = powerstore("array1").import_session("wave1-lun03");
            s.cutover();
            try { s.cutover(); } catch (err) { print(err.status); }
            "#,
        )
        .args(["run", "cut.rhai", "--report", "out.json"])
        .stdout("422\n")
        .success();
    let id = outcome.lab().session("wave1-lun03")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/rest/import_session/{id}/cutover");
    let call = |outcome: &str, status: u16, detail: &str| {
        json!({
            "target": "array1", "operation": "cutover",
            "object": { "kind": "import session", "id": id, "name": null },
            "summary": "cut over", "method": "POST", "path": path,
            "outcome": outcome, "status": status, "detail": detail,
            "sent": "…", "took_ms": "…",
        })
    };
    assert_eq!(
        report(outcome.dir.path(), "out.json"),
        json!({
            "script": "cut.rhai",
            "started": "…",
            "ended": "…",
            "outcome": "success",
            "exit_code": 0,
            "items": [],
            "calls": [
                call("succeeded", 204, "204 No Content"),
                call("refused", 422, "422 Unprocessable Entity"),
            ],
            "calls_not_kept": 0,
        })
    );
    // Written beside its name and renamed onto it once whole.
    assert!(!outcome.dir.path().join("out.json.part").exists());
}

/// A report replaces a file of its name only once it is whole: while the run goes, the
/// old file (here the script's own data) is still there to read.
#[test]
fn a_report_replaces_an_older_file_only_at_the_end() {
    let outcome = Test::new()
        .file("out.json", "{\"old\": true}")
        .script(
            "read.rhai",
            "print(json_decode(read_text(\"out.json\")).old);\n",
        )
        .args(["run", "read.rhai", "--report", "out.json"])
        .stdout("true\n")
        .success();
    assert_eq!(report(outcome.dir.path(), "out.json")["outcome"], "success");
    assert!(!outcome.dir.path().join("out.json.part").exists());
}

#[test]
fn a_report_that_cannot_be_written_stops_the_run_before_it_starts() {
    let outcome = Test::new()
        .lab()
        .script(
            "cut.rhai",
            r#"
            print("started");
            powerstore("array1").import_session("wave1-lun03").cutover();
            "#,
        )
        .args(["run", "cut.rhai", "--report", "missing/out.json"])
        .stdout("")
        .stderr(
            "error: cannot write the report `missing/out.json`: No such file or directory \
             (os error 2); check that its folder exists and is writable\n",
        )
        .status(2)
        .run();
    assert_eq!(outcome.lab().state()["counts"]["cutover"], Value::Null);
}

/// Two items, one after the other (`limit: 1`, so the lines come in one order): `crm`
/// cuts its session over, `hr` names a session that does not exist and fails.
const TWO_ITEMS: &str = r#"
let apps = [#{ name: "crm", lun: "wave1-lun03" }, #{ name: "hr", lun: "hr-data" }];
parallel(apps, #{ limit: 1 }, |app| {
    step("entities", || sleep(PAUSE));
    step("volumes", || {
        let s = powerstore("array1").import_session(app.lun);
        s.cutover();
        s.refresh();
        print(`${app.name}: ${s.state}`);
    });
});
"#;

/// `TWO_ITEMS` with its `entities` step taking `pause`.
fn two_items(pause: &str) -> String {
    TWO_ITEMS.replace("PAUSE", &format!("{pause:?}"))
}

const HR_ERROR: &str = "`array1` import_session: 404 Not Found: Instance with id name:hr-data \
                        was not found. (kind: not_found) at two.rhai:5:38";

/// `text` with each log line's timestamp left out.
fn without_timestamps(text: &str) -> String {
    text.lines()
        .map(|line| match line.split_once(' ') {
            Some((time, rest)) if time.ends_with('Z') && time.starts_with("20") => {
                format!("{}\n", rest.trim_start())
            }
            _ => format!("{line}\n"),
        })
        .collect()
}

/// `text` with the summary table's durations replaced by `<t>`, keeping the columns.
fn without_durations(text: &str) -> String {
    let Some(column) = text.lines().find_map(|l| l.find("duration")) else {
        return text.to_owned();
    };
    let mut table = false;
    text.lines()
        .map(|line| {
            table |= line.starts_with("application");
            let end = (column + "duration".len()).min(line.len());
            if !table || line.starts_with("application") || end <= column {
                return format!("{line}\n");
            }
            let cell = &line[column..end];
            assert!(
                cell.trim_end().ends_with('s') || cell.trim_end().ends_with('m'),
                "{line}"
            );
            let masked = format!("{:<1$}", "<t>", cell.len().max(3));
            format!("{}{masked}{}\n", &line[..column], &line[end..])
        })
        .collect()
}

#[test]
fn off_a_terminal_each_change_of_an_item_is_one_plain_line_and_the_summary_follows() {
    let outcome = Test::new()
        .lab_paused()
        .script("two.rhai", &two_items("1ms"))
        .args(["run", "two.rhai", "--report", "out.json"])
        .success();
    assert_eq!(
        without_durations(&outcome.stdout),
        format!(
            "crm: Import_Completed\n\
             application  step     outcome  duration  error\n\
             crm          volumes  done     <t>\n\
             hr           volumes  failed   <t>       {HR_ERROR}\n\
             1 done, 1 failed\n"
        )
    );
    assert_eq!(
        without_timestamps(&outcome.stderr),
        format!(
            "INFO `crm` started\n\
             INFO `crm` step `entities`\n\
             INFO `crm` step `volumes`\n\
             INFO `crm` import session `wave1-lun03` is Ready_For_Cutover 100%\n\
             INFO `crm` import session `wave1-lun03` is Import_Completed\n\
             INFO `crm` done\n\
             INFO `hr` started\n\
             INFO `hr` step `entities`\n\
             INFO `hr` step `volumes`\n\
             WARN parallel: `hr` failed: {HR_ERROR}\n\
             INFO `hr` failed in step `volumes`: {HR_ERROR}\n"
        )
    );
    let report = report(outcome.dir.path(), "out.json");
    assert_eq!(
        report["items"],
        json!([
            { "application": "crm", "step": "volumes", "outcome": "done",
              "duration_ms": "…", "error": null,
              "remote": { "object": "import session `wave1-lun03`",
                          "state": "Import_Completed", "step": null, "percent": null } },
            { "application": "hr", "step": "volumes", "outcome": "failed",
              "duration_ms": "…", "error": HR_ERROR, "remote": null },
        ])
    );
    let calls = report["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        (&calls[0]["operation"], &calls[0]["outcome"]),
        (&json!("cutover"), &json!("succeeded"))
    );
}

#[test]
fn quiet_keeps_the_plain_lines_off_stderr_but_not_the_summary() {
    let outcome = Test::new()
        .lab_paused()
        .script("two.rhai", &two_items("1ms"))
        .args(["run", "-q", "two.rhai"])
        .stderr("")
        .success();
    assert!(
        without_durations(&outcome.stdout).ends_with("1 done, 1 failed\n"),
        "{}",
        outcome.stdout
    );
}

#[cfg(unix)]
mod terminal {
    use std::num::NonZeroU16;
    use std::process::Command;

    use super::{HR_ERROR, two_items, without_durations, without_timestamps};
    use crate::test::Test;

    const ROWS: NonZeroU16 = NonZeroU16::new(30).unwrap();
    const COLS: NonZeroU16 = NonZeroU16::new(100).unwrap();

    /// Runs `test`'s command on a pseudo-terminal of `ROWS` × `COLS` to its end and
    /// answers everything it wrote there, escape sequences included.
    fn on_terminal(test: &Test, env: &[(&str, &str)]) -> String {
        let inner = test.command();
        let mut command = Command::new("sh");
        // The pty starts with no size; `stty` gives it one before the binary starts.
        command
            .arg("-c")
            .arg(format!(
                "stty rows {ROWS} cols {COLS} && exec \"$0\" \"$@\""
            ))
            .arg(inner.get_program())
            .args(inner.get_args());
        for (key, value) in inner.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command.current_dir(inner.get_current_dir().unwrap());
        command.env("TERM", "xterm").env_remove("NO_COLOR");
        for (key, value) in env {
            command.env(key, value);
        }
        let options = rexpect::session::Options::new()
            .timeout_ms(Some(30_000))
            .strip_ansi_escape_codes(false);
        let mut session = rexpect::session::spawn_with_options(command, options).unwrap();
        let written = session.exp_eof().unwrap();
        let status = session.process().wait().unwrap();
        assert!(
            matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
            "{status:?}\n{written}"
        );
        written
    }

    /// Whether `written` sets colours or attributes anywhere (`ESC [ … m`).
    fn has_sgr(written: &str) -> bool {
        written.split("\x1b[").skip(1).any(|rest| {
            let end = rest.find(|c: char| !c.is_ascii_digit() && c != ';');
            end.is_some_and(|end| rest[end..].starts_with('m'))
        })
    }

    #[test]
    fn without_no_color_the_log_lines_on_a_terminal_are_coloured() {
        let test = Test::new()
            .lab_paused()
            .script("two.rhai", &two_items("1ms"))
            .args(["run", "two.rhai"]);
        assert!(has_sgr(&on_terminal(&test, &[])));
    }

    /// What a terminal of `ROWS` × `COLS` shows after `written`, without trailing blanks.
    fn screen(written: &str) -> String {
        let mut parser = vt100::Parser::new(ROWS, COLS, 0);
        parser.process(written.as_bytes());
        let contents = parser.screen().contents();
        let lines: Vec<&str> = contents.lines().map(str::trim_end).collect();
        let text = lines.join("\n");
        format!("{}\n", text.trim_end())
    }

    #[test]
    fn the_live_display_shows_active_items_and_leaves_the_summary_on_the_final_screen() {
        let test = Test::new()
            .lab_paused()
            .script("two.rhai", &two_items("2500ms"))
            .args(["run", "two.rhai"]);
        let written = on_terminal(&test, &[("NO_COLOR", "1")]);
        // While `crm` was in its first step, the display showed it, its step and its
        // clock moving (redraws come at least twice a second, so some fall in the 1.5 s
        // of the step past its first second, whatever else is drawn or skipped).
        let moved = |label: &str| {
            ["1s", "2s"]
                .iter()
                .find_map(|took| {
                    let line = format!("{label}  entities       {took}");
                    written.find(&line).map(|at| at + line.len())
                })
                .unwrap_or_else(|| panic!("no line of `{label}` with its clock: {written:?}"))
        };
        moved("crm");
        // While `hr` was, `crm` was one counter line below it (each line of the block is
        // padded to the terminal's width).
        let below = written[moved("hr")..].trim_start_matches(' ');
        assert!(below.starts_with("1 done "), "{written:?}");
        // NO_COLOR: the log lines have no colour (no SGR sequence at all).
        assert!(!has_sgr(&written), "{written:?}");
        assert_eq!(
            without_durations(&without_timestamps(&screen(&written))),
            format!(
                "crm: Import_Completed\n\
                 WARN parallel: `hr` failed: {HR_ERROR}\n\
                 application  step     outcome  duration  error\n\
                 crm          volumes  done     <t>\n\
                 hr           volumes  failed   <t>       {HR_ERROR}\n\
                 1 done, 1 failed\n"
            )
        );
    }
}
