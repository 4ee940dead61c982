//! `cutover watch` end to end: the real binary watches a temporary folder while the test
//! writes real files. "It happened" waits generously; "it did not happen" is checked a
//! bounded, short time after a later marker event did happen, since events for one
//! handler are taken in order. The watcher is stopped (SIGSTOP) while the test writes,
//! so a file written in several steps reaches it as one change, however slowly the test
//! runs. Debounce and settle times are the watcher's own wall time; where a test needs
//! a file to keep changing, its steps are a small fraction of the settle time.

use std::io::{BufRead, Write as _};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::test::{Child, PATIENCE, Test, eventually};

/// Lines a child wrote to one stream, shared with the thread reading them.
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<Vec<String>>, Condvar)>);

impl Lines {
    fn read_from(&self, stream: impl std::io::Read + Send + 'static) {
        let lines = self.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let (list, ready) = &*lines.0;
                list.lock().unwrap().push(line);
                ready.notify_all();
            }
        });
    }

    pub fn all(&self) -> Vec<String> {
        self.0.0.lock().unwrap().clone()
    }

    /// Waits for a line containing `needle` and returns it.
    #[track_caller]
    pub fn wait_for(&self, needle: &str) -> String {
        let (list, ready) = &*self.0;
        let deadline = Instant::now() + PATIENCE;
        let mut lines = list.lock().unwrap();
        loop {
            if let Some(line) = lines.iter().find(|l| l.contains(needle)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no line with {needle:?} within {PATIENCE:?}:\n{}",
                lines.join("\n")
            );
            lines = ready.wait_timeout(lines, left).unwrap().0;
        }
    }

    pub fn count(&self, needle: &str) -> usize {
        self.all().iter().filter(|l| l.contains(needle)).count()
    }
}

/// A running `cutover watch` over the test's folder.
pub struct Watcher {
    child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
    pub test: Test,
}

impl Watcher {
    /// Starts `cutover <args>` in the test's folder and waits until it watches.
    pub fn start<const N: usize>(test: Test, args: [&str; N]) -> Self {
        let mut command = test.command();
        command.args(args);
        let mut child = Child::spawn(command);
        let (stdout, stderr) = (Lines::default(), Lines::default());
        stdout.read_from(child.0.stdout.take().unwrap());
        stderr.read_from(child.0.stderr.take().unwrap());
        let watcher = Self {
            child,
            stdout,
            stderr,
            test,
        };
        watcher.stderr.wait_for("watching with");
        watcher
    }

    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.test.path().join(name)
    }

    /// Runs `change` with the watcher stopped, so it sees all of it at once when it goes
    /// on (the kernel keeps the events meanwhile).
    pub fn at_once<T>(&self, change: impl FnOnce() -> T) -> T {
        self.child.pause();
        let done = change();
        self.child.resume();
        done
    }

    /// Writes `text` to the file `name` (relative to the test's folder) at once: the
    /// watcher never sees it created but still empty.
    pub fn write(&self, name: &str, text: &str) {
        self.at_once(|| write(&self.path(name), text));
    }

    /// Appends `text` to the file `name`.
    pub fn append(&self, name: &str, text: &str) {
        self.at_once(|| append(&self.path(name), text));
    }

    /// Sends SIGINT and waits for the end; returns the exit code.
    pub fn stop(mut self) -> (Option<i32>, Lines, Lines, Test) {
        self.child.interrupt();
        let status = self.child.wait(PATIENCE);
        (status.code(), self.stdout, self.stderr, self.test)
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

#[test]
fn one_create_runs_the_handler_once_and_renames_carry_from_and_to() {
    let test = Test::new()
        .script(
            "hooks/drop.rhai",
            r#"
        on_file("in/*.txt", #{ settle: 0 }, |e| {
            print(`${e.kind} ${e.name} ${e.size} initial=${e.initial} from=${e.from ?? "-"}`);
        });
        "#,
        )
        // There before the watcher starts, so its rename is the only event it makes (a
        // create and a rename close together would be paired into the create of `r.txt`).
        .file("hooks/in/r.tmp", "moved into place");
    let w = Watcher::start(test, ["watch", "hooks"]);
    w.write("hooks/in/a.txt", "hello");
    w.stdout.wait_for("create in/a.txt 5 initial=false from=-");
    std::fs::rename(w.path("hooks/in/r.tmp"), w.path("hooks/in/r.txt")).unwrap();
    let renamed = w.stdout.wait_for("rename in/r.txt");
    assert!(renamed.ends_with("/hooks/in/r.tmp"), "{renamed}");
    let (code, stdout, stderr, _) = w.stop();
    assert_eq!(code, Some(0), "{}", stderr.all().join("\n"));
    assert_eq!(stdout.count("in/a.txt"), 1, "{:?}", stdout.all());
    assert_eq!(
        stderr.count("run in/a.txt (create) with `drop.rhai: in/*.txt`"),
        1
    );
}

#[test]
fn a_burst_of_writes_is_one_run_after_the_debounce() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"on_file("in/*.log", #{ debounce: "1s", settle: 0 }, |e| print(`${e.name} ${e.size}`));"#,
    );
    std::fs::create_dir_all(test.path().join("in")).unwrap();
    let w = Watcher::start(test, ["watch", "hooks.rhai"]);
    // A hundred writes reach the watcher together, well inside the debounce.
    w.at_once(|| {
        for i in 0..100 {
            append(&w.path("in/burst.log"), &format!("{i:03}\n"));
        }
    });
    w.stdout.wait_for("in/burst.log 400");
    w.write("in/marker.log", "m");
    w.stdout.wait_for("in/marker.log 1");
    let (_, stdout, _, _) = w.stop();
    assert_eq!(stdout.count("in/burst.log"), 1, "{:?}", stdout.all());
}

#[test]
fn a_slowly_written_file_is_handed_over_only_once_it_settled() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"on_file("in/*.vmdk", #{ debounce: "50ms", settle: "3s" }, |e| print(`${e.name} ${e.size}`));"#,
    );
    std::fs::create_dir_all(test.path().join("in")).unwrap();
    let w = Watcher::start(test, ["watch", "hooks.rhai"]);
    // Ten pieces, 100 ms apart: each gap is twice the debounce, so the watcher looks at
    // the half-written file, and a thirtieth of the settle time, which only a test
    // stalled for seconds would exceed.
    for _ in 0..10 {
        w.append("in/disk.vmdk", &"x".repeat(1000));
        std::thread::sleep(Duration::from_millis(100));
    }
    // A run on the half-written file would have printed before this one.
    let line = w.stdout.wait_for("in/disk.vmdk");
    assert_eq!(line, "in/disk.vmdk 10000");
    let (_, stdout, _, _) = w.stop();
    assert_eq!(stdout.all(), ["in/disk.vmdk 10000"]);
}

#[test]
fn each_on_busy_policy_does_what_it_says() {
    // Each run holds until the test creates its `release-<policy>` file, so what happens
    // while it runs never depends on how long anything takes.
    let test = Test::new().script(
        "hooks.rhai",
        r#"
        for policy in ["queue", "skip", "restart"] {
            on_file(`${policy}/*`, #{ settle: 0, on_busy: policy }, |e| {
                print(`${e.name} start ${e.size}`);
                wait_for_file(`release-${e.name.split("/")[0]}`, #{ settle: 0, every: "20ms" });
                print(`${e.name} end ${e.size}`);
            });
        }
        "#,
    );
    for folder in ["queue", "skip", "restart"] {
        std::fs::create_dir_all(test.path().join(folder)).unwrap();
    }
    let w = Watcher::start(test, ["-vv", "watch", "hooks.rhai"]);
    for folder in ["queue", "skip", "restart"] {
        w.write(&format!("{folder}/f"), "1");
    }
    for folder in ["queue", "skip", "restart"] {
        w.stdout.wait_for(&format!("{folder}/f start 1"));
        w.append(&format!("{folder}/f"), "2");
    }
    w.append("queue/f", "3");
    w.stderr.wait_for("queue/f runs again once its run ends");
    w.stderr.wait_for("skip/f (its run is going)");
    w.stdout.wait_for("restart/f start 2");
    for folder in ["queue", "skip", "restart"] {
        w.write(&format!("release-{folder}"), "");
    }
    // queue: one more run after the first, with everything written meanwhile.
    w.stdout.wait_for("queue/f end 3");
    // restart: the first run is cancelled, the second runs to its end.
    w.stdout.wait_for("restart/f end 2");
    // skip: the write during the run is dropped; a later write runs.
    w.stdout.wait_for("skip/f end 1");
    w.append("skip/f", "3");
    w.stdout.wait_for("skip/f end 3");
    let (_, stdout, stderr, _) = w.stop();
    let lines = |prefix: &str| -> Vec<String> {
        stdout
            .all()
            .into_iter()
            .filter(|l| l.starts_with(prefix))
            .collect()
    };
    assert_eq!(
        lines("queue/"),
        [
            "queue/f start 1",
            "queue/f end 1",
            "queue/f start 3",
            "queue/f end 3"
        ]
    );
    assert_eq!(
        lines("skip/"),
        [
            "skip/f start 1",
            "skip/f end 1",
            "skip/f start 3",
            "skip/f end 3"
        ]
    );
    assert_eq!(
        lines("restart/"),
        ["restart/f start 1", "restart/f start 2", "restart/f end 2"]
    );
    assert_eq!(
        stderr.count("cancelled restart/f"),
        1,
        "{}",
        stderr.all().join("\n")
    );
}

#[test]
fn a_queued_event_waits_for_a_file_written_again_meanwhile() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"
        on_file("in/*.txt", #{ debounce: "50ms", settle: "2s" }, |e| {
            let text = read_text(e.path);
            print(`${e.name} saw ${text}`);
            if text == "v1" { wait_for_file("release", #{ settle: 0, every: "20ms" }); }
        });
        "#,
    );
    std::fs::create_dir_all(test.path().join("in")).unwrap();
    let w = Watcher::start(test, ["-vv", "watch", "hooks.rhai"]);
    w.write("in/a.txt", "v1");
    w.stdout.wait_for("in/a.txt saw v1");
    w.write("in/a.txt", "v2");
    w.stderr.wait_for("a.txt runs again once its run ends");
    // The queued event is for `v2`; the file is being written again when the run ends.
    w.at_once(|| {
        write(&w.path("in/a.txt"), "partial");
        write(&w.path("release"), "");
    });
    // The run ended, and the queued event gave way to the file settling again (as
    // changed again while it waited, or changed since it settled: whichever the watcher
    // noticed first).
    w.stderr.wait_for("in/a.txt changed");
    w.write("in/a.txt", "complete");
    w.stdout.wait_for("in/a.txt saw complete");
    let (_, stdout, stderr, _) = w.stop();
    assert_eq!(
        stdout.all(),
        ["in/a.txt saw v1", "in/a.txt saw complete"],
        "{}",
        stderr.all().join("\n")
    );
}

#[test]
fn hooks_and_a_relative_state_file_never_reach_a_catch_all_handler() {
    let test = Test::new()
        .script(
            "hooks.rhai",
            r#"on_file("**", #{ settle: 0 }, |e| print(e.name));"#,
        )
        .file("in/old", "x");
    let w = Watcher::start(
        test,
        ["watch", "--initial", "--state", "state/w.db", "hooks.rhai"],
    );
    w.stdout.wait_for("in/old");
    w.write("in/new", "x");
    w.stdout.wait_for("in/new");
    // Records of both runs are written by now; a run for them would print before this.
    w.write("in/marker", "x");
    w.stdout.wait_for("in/marker");
    let (_, stdout, stderr, _) = w.stop();
    assert_eq!(
        stdout.all(),
        ["in/old", "in/new", "in/marker"],
        "{}",
        stderr.all().join("\n")
    );
}

#[test]
fn files_in_a_folder_moved_or_created_under_the_root_are_handed_over() {
    let test = Test::new()
        .script(
            "hooks.rhai",
            r#"on_file("in/**", #{ settle: 0 }, |e| print(`${e.kind} ${e.name}`));"#,
        )
        .file("staging/batch/a.txt", "a")
        .file("staging/batch/deep/b.txt", "b");
    std::fs::create_dir_all(test.path().join("in")).unwrap();
    let w = Watcher::start(test, ["watch", "hooks.rhai"]);
    std::fs::rename(w.path("staging/batch"), w.path("in/batch")).unwrap();
    w.stdout.wait_for("in/batch/a.txt");
    w.stdout.wait_for("in/batch/deep/b.txt");
    let (_, stdout, _, _) = w.stop();
    let mut lines = stdout.all();
    lines.sort();
    assert_eq!(
        lines,
        ["rename in/batch/a.txt", "rename in/batch/deep/b.txt"]
    );
}

#[test]
fn ignored_files_never_trigger() {
    let test = Test::new()
        .script(
            "hooks.rhai",
            r#"on_file("in/*", #{ settle: 0 }, |e| print(e.name));"#,
        )
        .file(".cutoverignore", "# build output\n*.log\nscratch/\n");
    std::fs::create_dir_all(test.path().join("in/scratch")).unwrap();
    let w = Watcher::start(test, ["watch", "hooks.rhai"]);
    for name in [
        "in/.app.ovf.swp",
        "in/app.ovf.swp",
        "in/4913",
        "in/disk.vmdk.part",
        "in/plan.tmp",
        "in/plan~",
        "in/.hidden",
        "in/run.log",
    ] {
        w.write(name, "x");
    }
    w.write("in/ok", "x");
    w.stdout.wait_for("in/ok");
    let (_, stdout, _, _) = w.stop();
    assert_eq!(stdout.all(), ["in/ok"]);
}

#[test]
fn a_failing_or_runaway_handler_is_reported_and_the_next_event_runs() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"
        on_file("in/*", #{ settle: 0 }, |e| {
            if e.name == "in/bad" {
                throw `cannot import ${e.name}`;
            }
            if e.name == "in/loop" { loop {} }
            print(`handled ${e.name}`);
        });
        "#,
    );
    std::fs::create_dir_all(test.path().join("in")).unwrap();
    let w = Watcher::start(test, ["watch", "hooks.rhai", "--max-operations", "100000"]);
    w.write("in/bad", "x");
    w.stderr.wait_for("failed in/bad");
    w.write("in/loop", "x");
    w.stderr.wait_for("failed in/loop");
    w.write("in/good", "x");
    w.stdout.wait_for("handled in/good");
    let (code, _, stderr, _) = w.stop();
    assert_eq!(code, Some(0));
    let text = stderr.all().join("\n") + "\n";
    let expected = crate::test::unindent(
        "
        error: cannot import in/bad
         --> hooks.rhai:3:9
          |
        3 |         throw `cannot import ${e.name}`;
          |         ^^^^^
        failed in/bad after",
    );
    assert!(text.contains(expected.trim_end()), "{text}");
    assert!(
        text.contains(
            "error: the script ran too many operations and was stopped; look for an endless \
             loop, or raise --max-operations\n --> hooks.rhai:1:1\n"
        ),
        "{text}"
    );
}

#[test]
fn a_restarted_watcher_does_not_repeat_handled_files() {
    let hook = r#"on_file("in/*", #{ settle: 0 }, |e| print(`${e.name} initial=${e.initial}`));"#;
    let test = Test::new()
        .script("hooks.rhai", hook)
        .file("in/before", "already there");
    let w = Watcher::start(test, ["watch", ".", "--initial"]);
    w.stdout.wait_for("in/before initial=true");
    w.write("in/changed", "first");
    w.stdout.wait_for("in/changed initial=false");
    // A row counts as "handled and unchanged" once its hash is in: hashing ends after
    // the run, and a stop cuts it short.
    let state = w.path(".cutover/watch.db");
    eventually("the hash of in/before in the state file", || {
        hash_recorded(&state, "in/before")
    });
    let (code, _, _, test) = w.stop();
    assert_eq!(code, Some(0));
    // While nobody watches: one file changes, one arrives.
    write(&test.path().join("in/changed"), "second version");
    write(&test.path().join("in/new"), "new");
    let w = Watcher::start(test, ["watch", ".", "--initial"]);
    w.stdout.wait_for("in/changed initial=true");
    w.stdout.wait_for("in/new initial=true");
    w.write("in/marker", "m");
    w.stdout.wait_for("in/marker initial=false");
    let (_, stdout, _, test) = w.stop();
    assert_eq!(stdout.count("in/before"), 0, "{:?}", stdout.all());
    assert!(test.path().join(".cutover/watch.db").is_file());
}

/// Whether the last run recorded for the path ending in `name` in the state file `db`
/// has its content hash.
fn hash_recorded(db: &Path, name: &str) -> bool {
    use rusqlite::{Connection, OpenFlags};
    let Ok(conn) = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return false;
    };
    conn.query_row(
        "SELECT hash IS NOT NULL FROM handled WHERE path LIKE ?1 ORDER BY id DESC LIMIT 1",
        [format!("%/{name}")],
        |row| row.get(0),
    )
    .unwrap_or(false)
}

#[test]
fn a_hook_edited_with_a_syntax_error_keeps_the_old_handlers_working() {
    let test = Test::new().script(
        "hooks/h.rhai",
        r#"on_file("*.txt", #{ settle: 0 }, |e| print(`v1 ${e.name}`));"#,
    );
    let w = Watcher::start(test, ["watch", "hooks"]);
    w.write("hooks/a.txt", "a");
    w.stdout.wait_for("v1 a.txt");
    w.write(
        "hooks/h.rhai",
        "on_file(\"*.txt\", #{ settle: 0 }, |e| print(`v2 ${e.name}`);\n",
    );
    w.stderr
        .wait_for("hooks/h.rhai was not reloaded; its previous version keeps running");
    w.write("hooks/b.txt", "b");
    w.stdout.wait_for("v1 b.txt");
    w.write(
        "hooks/h.rhai",
        "on_file(\"*.txt\", #{ settle: 0 }, |e| print(`v3 ${e.name}`));\n",
    );
    w.stderr.wait_for("reloaded hooks/h.rhai: 1 handler");
    w.write("hooks/c.txt", "c");
    w.stdout.wait_for("v3 c.txt");
    let (_, stdout, stderr, _) = w.stop();
    assert_eq!(stdout.all(), ["v1 a.txt", "v1 b.txt", "v3 c.txt"]);
    let text = stderr.all().join("\n");
    assert!(text.contains(" --> hooks/h.rhai:1:"), "{text}");
}

#[test]
fn a_stop_waits_for_running_handlers_then_cancels_them() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"
        on_file("quick", #{ settle: 0 }, |e| { sleep("500ms"); print("quick done"); });
        on_file("slow", #{ settle: 0 }, |e| { print("slow started"); sleep("1h"); });
        "#,
    );
    // The quick run ends by itself: the stop timeout is far longer than it.
    let w = Watcher::start(test, ["watch", "hooks.rhai", "--stop-timeout", "30s"]);
    w.write("quick", "x");
    w.stderr.wait_for("run quick");
    let (code, stdout, _, test) = w.stop();
    assert_eq!(
        code,
        Some(0),
        "the quick handler finished within the stop timeout"
    );
    assert_eq!(stdout.all(), ["quick done"]);
    let w = Watcher::start(test, ["watch", "hooks.rhai", "--stop-timeout", "1s"]);
    w.write("slow", "x");
    w.stdout.wait_for("slow started");
    let (code, _, stderr, _) = w.stop();
    assert_eq!(code, Some(130), "the slow handler was cancelled");
    stderr.wait_for("cancelling 1 handler still running");
    stderr.wait_for("cancelled slow after");
}

#[test]
fn hooks_that_do_not_load_stop_the_start() {
    Test::new()
        .script("hooks.rhai", "on_file(\"in/*\", |e| print(e.name);\n")
        .args(["watch", "hooks.rhai"])
        .status(2)
        .stderr(
            "
            error: Expecting ',' to separate the arguments to function call 'on_file'
             --> hooks.rhai:1:34
              |
            1 | on_file(\"in/*\", |e| print(e.name);
              |                                  ^
            ",
        )
        .run();
    Test::new()
        .script("hooks.rhai", "let x = 1;\n")
        .args(["watch", "hooks.rhai"])
        .status(2)
        .stderr(
            "
            loaded hooks.rhai: 0 handlers
            error: no handlers: the hook scripts in `hooks.rhai` register none; call `on_file(pattern, |event| ...)` in a .rhai file
            ",
        )
        .run();
    Test::new()
        .script(
            "hooks.rhai",
            "on_file(\"in/*\", #{ on_busy: \"drop\" }, |e| 1);\n",
        )
        .args(["watch", "hooks.rhai"])
        .status(2)
        .stderr(
            "
            error: on_file: `on_busy` is `drop`; use queue, skip, restart (kind: validation)
             --> hooks.rhai:1:1
              |
            1 | on_file(\"in/*\", #{ on_busy: \"drop\" }, |e| 1);
              | ^^^^^^^
            ",
        )
        .run();
    let missing = Test::new().args(["watch", "no-such-hooks"]).status(2).run();
    assert!(
        missing
            .stderr
            .starts_with("error: cannot read hooks from `no-such-hooks`: "),
        "{}",
        missing.stderr
    );
    Test::new()
        .script("wave.rhai", "on_file(\"in/*\", |e| 1);\n")
        .args(["run", "wave.rhai"])
        .status(1)
        .stderr(
            "
            error: on_file: `on_file` registers a file-watch handler at the top level of a hook script run by `cutover watch` (kind: validation)
             --> wave.rhai:1:1
              |
            1 | on_file(\"in/*\", |e| 1);
              | ^^^^^^^
            ",
        )
        .run();
}

#[test]
fn doc_lists_the_hook_functions() {
    let outcome = Test::new().args(["doc"]).success();
    for expected in [
        "on_file(pattern: &str, options: Map, handler: FnPtr)\n    Registers a file-watch handler",
        "wait_for_file(path: &str, options: Map) -> Map\n    Waits until a file",
        "read_text(path: &str) -> String\n",
        "write_text(path: &str, text: &str)\n",
    ] {
        assert!(outcome.stdout.contains(expected), "missing {expected:?}");
    }
}

#[test]
fn handlers_read_anywhere_their_hook_may_and_write_only_in_their_folder() {
    let test = Test::new()
        .script(
            "hooks/h.rhai",
            r#"
            on_file("*.plan", #{ root: "../plans", settle: 0 }, |e| {
                let text = read_text(e.path);
                write_text(`${e.dir}/${e.name}.result`, `${text.len()} bytes`);
                print(read_text("notes.txt"));
                try { write_text("notes.txt", "x"); } catch (err) { print(err.message); }
                print(file_info("missing") ?? "no file");
            });
            "#,
        )
        .file("hooks/notes.txt", "beside the hook");
    std::fs::create_dir_all(test.path().join("plans")).unwrap();
    let w = Watcher::start(test, ["watch", "hooks"]);
    w.write("plans/w.plan", "lun01\nlun02\n");
    w.stdout.wait_for("no file");
    let (_, stdout, _, test) = w.stop();
    let result = std::fs::read_to_string(test.path().join("plans/w.plan.result")).unwrap();
    assert_eq!(result, "12 bytes");
    let lines = stdout.all();
    assert_eq!(lines[0], "beside the hook");
    assert!(
        lines[1].starts_with("refusing to write `")
            && lines[1].contains("hooks/notes.txt`: hook handlers write files only under `"),
        "{lines:?}"
    );
}

#[test]
fn read_text_refuses_a_file_longer_than_the_string_limit_before_reading_it() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"
        on_file("in/*", #{ settle: 0 }, |e| {
            try { print(`read ${read_text(e.path).len()}`); } catch (err) { print(err.message); }
        });
        "#,
    );
    std::fs::create_dir_all(test.path().join("in")).unwrap();
    let w = Watcher::start(test, ["watch", "--max-string-size", "4096", "hooks.rhai"]);
    w.write("in/small", &"x".repeat(4096));
    w.stdout.wait_for("read 4096");
    w.write("in/big", &"x".repeat(4097));
    let refused = w.stdout.wait_for("in/big");
    assert!(
        refused.contains(
            "has 4097 bytes, more than the longest string a script may hold (4096 bytes)"
        ),
        "{refused}"
    );
    let _ = w.stop();
}

#[test]
fn handlers_never_write_hook_scripts_or_the_state_file() {
    let test = Test::new().script(
        "hooks/h.rhai",
        r#"
        on_file("in/*", #{ settle: 0 }, |e| {
            for name in ["h.rhai", "other.rhai", ".cutover/watch.db", ".cutover/watch.db-wal"] {
                try { write_text(name, "x"); print(`wrote ${name}`); }
                catch (err) { print(`${name}: ${err.message}`); }
            }
            write_text("in/ok.out", "x");
            print("done");
        });
        "#,
    );
    std::fs::create_dir_all(test.path().join("hooks/in")).unwrap();
    let w = Watcher::start(test, ["watch", "hooks"]);
    w.write("hooks/in/a", "x");
    w.stdout.wait_for("done");
    let (_, stdout, _, test) = w.stop();
    let lines = stdout.all();
    assert_eq!(lines.len(), 5, "{lines:?}");
    for line in &lines[..4] {
        assert!(
            line.contains("hook scripts and the watch state file are not written by handlers"),
            "{lines:?}"
        );
    }
    assert!(!test.path().join("hooks/other.rhai").exists());
    assert!(test.path().join("hooks/in/ok.out").exists());
}

#[test]
fn a_hooks_imports_constants_and_functions_reach_its_handlers() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"
        import "cutover/report" as report;
        const GREETING = "handled";
        fn label(greeting, e) { `${greeting} ${e.name}` }
        on_file("*.txt", #{ settle: 0 }, |e| {
            print(`${label(GREETING, e)}: ${report::summary(#{ files: 1 })}`)
        });
        "#,
    );
    let w = Watcher::start(test, ["watch", "hooks.rhai"]);
    w.write("a.txt", "a");
    w.stdout.wait_for("handled a.txt: 1 files");
    let (code, _, _, _) = w.stop();
    assert_eq!(code, Some(0));
}

#[test]
fn a_handler_past_a_limit_ends_only_its_own_run_and_the_next_file_is_handled() {
    let test = Test::new().script(
        "hooks.rhai",
        r#"
        on_file("in/*", #{ settle: 0 }, |e| {
            if e.name == "in/deep" {
                let x = [];
                for i in 0..300 { x = [x]; }
                print(x);
            }
            if e.name == "in/loop" { loop {} }
            if e.name == "in/big" { let a = []; loop { a.push(1); } }
            print(`handled ${e.name}`);
        });
        "#,
    );
    std::fs::create_dir_all(test.path().join("in")).unwrap();
    let w = Watcher::start(
        test,
        [
            "watch",
            "hooks.rhai",
            "--max-operations",
            "100000",
            "--max-array-size",
            "1000",
        ],
    );
    for name in ["deep", "loop", "big"] {
        w.write(&format!("in/{name}"), "x");
        w.stderr.wait_for(&format!("failed in/{name}"));
    }
    w.write("in/good", "x");
    w.stdout.wait_for("handled in/good");
    let (code, stdout, stderr, _) = w.stop();
    assert_eq!(code, Some(0));
    assert_eq!(stdout.all(), ["handled in/good"]);
    let text = stderr.all().join("\n") + "\n";
    for expected in [
        "
        error: `x` nests arrays and maps more than 256 deep; flatten it, or raise the limit with `--max-depth` (kind: validation)
         --> hooks.rhai:4:32
          |
        4 |         for i in 0..300 { x = [x]; }
          |                                ^
        failed in/deep after",
        "
        error: the script ran too many operations and was stopped; look for an endless loop, or raise --max-operations
         --> hooks.rhai:1:1
        ",
        "
        error: push: an array may hold at most 1000 items; look for one that grows without end, or raise `--max-array-size` (kind: validation)
         --> hooks.rhai:8:50
          |
        8 |     if e.name == \"in/big\" { let a = []; loop { a.push(1); } }
          |                                                  ^^^^
        failed in/big after",
    ] {
        let expected = crate::test::unindent(expected);
        assert!(text.contains(expected.trim_end()), "{text}");
    }
}
