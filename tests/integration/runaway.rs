//! Runaway scripts: import cycles, deep nesting and values that grow without end stop
//! with a clear error instead of taking the process down.

use crate::test::{Test, unindent};

#[test]
fn a_module_that_imports_itself_is_a_compile_error() {
    let message = unindent(
        "
        error: import cycle: `self` imports `self`; a module cannot import itself, directly or through others: move what both need into a third module
         --> self.rhai:1:8
          |
        1 | import \"self\" as s;
          |        ^
        ",
    );
    for command in ["run", "check"] {
        Test::new()
            .script("self.rhai", "import \"self\" as s;\nprint(1);\n")
            .args([command, "self.rhai"])
            .status(2)
            .stdout("")
            .stderr(&message)
            .run();
    }
}

#[test]
fn two_modules_importing_each_other_are_a_compile_error() {
    let message = unindent(
        "
        error: import cycle: `b` imports `a` imports `b`; a module cannot import itself, directly or through others: move what both need into a third module
         --> a.rhai:1:8
          |
        1 | import \"b\" as b;
          |        ^
        ",
    );
    for command in ["run", "check"] {
        Test::new()
            .script("a.rhai", "import \"b\" as b;\n")
            .script("b.rhai", "import \"a\" as a;\n")
            .args([command, "a.rhai"])
            .status(2)
            .stdout("")
            .stderr(&message)
            .run();
    }
}

#[test]
fn a_value_nested_past_max_depth_is_refused_where_it_is_built() {
    let script = "let a = [];\nfor i in 0..300 { a = [a]; }\nprint(json_encode(a).len());\n";
    Test::new()
        .script("deep.rhai", script)
        .args(["run", "deep.rhai"])
        .status(1)
        .stdout("")
        .stderr(&unindent(
            "
            error: `a` nests arrays and maps more than 256 deep; flatten it, or raise the limit with `--max-depth` (kind: validation)
             --> deep.rhai:2:24
              |
            2 | for i in 0..300 { a = [a]; }
              |                        ^
            ",
        ))
        .run();
    Test::new()
        .script("deep.rhai", script)
        .args(["run", "--max-depth", "301", "deep.rhai"])
        .stdout("602\n")
        .run();
}

/// Runs `test` (expected to fail with exit 1) and returns its stderr, how long it took
/// and, where `/usr/bin/time` exists, its peak resident memory in KiB.
fn stopped(test: &Test) -> (String, std::time::Duration, Option<u64>) {
    let command = test.command();
    let time = std::path::Path::new("/usr/bin/time");
    let peak_file = test.path().join("peak.txt");
    let mut run = if time.exists() {
        let mut timed = std::process::Command::new(time);
        timed
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&peak_file)
            .arg(command.get_program())
            .args(command.get_args());
        timed
    } else {
        let mut plain = std::process::Command::new(command.get_program());
        plain.args(command.get_args());
        plain
    };
    run.current_dir(test.path())
        .env_remove("CUTOVER_TARGETS")
        .env_remove("CUTOVER_LOG")
        .env_remove("RUST_LOG");
    let started = std::time::Instant::now();
    let output = run.output().unwrap();
    let took = started.elapsed();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    let peak = std::fs::read_to_string(&peak_file)
        .ok()
        .and_then(|text| text.trim().parse().ok());
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        took,
        peak,
    )
}

/// A runaway of each shape stops with its own error, within 5 s even on a debug build
/// under load (a release build stops each within a second), its memory bounded near its
/// limit.
fn assert_stops(name: &str, script: &str, args: &[&str], message: &str, max_peak_mib: u64) {
    assert_stops_within(name, script, args, message, max_peak_mib, 5);
}

/// [`assert_stops`] for a runaway that needs up to `max_secs` on a debug build.
fn assert_stops_within(
    name: &str,
    script: &str,
    args: &[&str],
    message: &str,
    max_peak_mib: u64,
    max_secs: u64,
) {
    let mut all = vec!["run", name];
    all.extend_from_slice(args);
    let mut test = Test::new().script(name, script);
    test = match all.as_slice() {
        [a, b] => test.args([*a, *b]),
        [a, b, c, d] => test.args([*a, *b, *c, *d]),
        other => panic!("unexpected arguments {other:?}"),
    };
    let (stderr, took, peak) = stopped(&test);
    assert_eq!(stderr, unindent(message));
    assert!(
        took < std::time::Duration::from_secs(max_secs),
        "{name} took {took:?}"
    );
    if let Some(peak) = peak {
        assert!(peak < max_peak_mib << 10, "{name} peaked at {peak} KiB");
    }
}

#[test]
fn a_map_grown_by_index_stops_one_entry_past_max_map_size() {
    assert_stops(
        "grow.rhai",
        "let m = #{};\nlet i = 0;\nloop { m[`k${i}`] = i; i += 1; }\n",
        &["--max-map-size", "1000"],
        "
        error: `m` grew past 1000 entries: a map may hold at most that many; look for one that grows without end, or raise `--max-map-size` (kind: validation)
         --> grow.rhai:3:8
          |
        3 | loop { m[`k${i}`] = i; i += 1; }
          |        ^
        ",
        100,
    );
}

#[test]
fn an_array_grown_by_push_stops_at_max_array_size() {
    assert_stops(
        "push.rhai",
        "let a = [];\nloop { a.push(1); }\n",
        &["--max-array-size", "1000"],
        "
        error: push: an array may hold at most 1000 items; look for one that grows without end, or raise `--max-array-size` (kind: validation)
         --> push.rhai:2:10
          |
        2 | loop { a.push(1); }
          |          ^^^^
        ",
        100,
    );
}

#[test]
fn a_string_grown_by_plus_equals_stops_one_step_past_max_string_size() {
    assert_stops(
        "text.rhai",
        "let s = \"\";\nloop { s += \"x\"; }\n",
        &["--max-string-size", "1000"],
        "
        error: `s` grew past 1000 bytes: a string may hold at most that many; look for one that grows without end, or raise `--max-string-size` (kind: validation)
         --> text.rhai:2:8
          |
        2 | loop { s += \"x\"; }
          |        ^
        ",
        100,
    );
}

#[test]
fn a_map_grown_inside_another_stops_at_max_map_size() {
    assert_stops(
        "nested.rhai",
        "let m = #{a: #{}};\nlet i = 0;\nloop { m.a[`k${i}`] = i; i += 1; }\n",
        &["--max-map-size", "1000"],
        "
        error: `m.a` grew past 1000 entries: a map may hold at most that many; look for one that grows without end, or raise `--max-map-size` (kind: validation)
         --> nested.rhai:3:26
          |
        3 | loop { m.a[`k${i}`] = i; i += 1; }
          |                          ^
        ",
        100,
    );
}

#[test]
fn an_array_of_maps_grown_by_index_stops_at_max_map_size() {
    assert_stops(
        "rows.rhai",
        "let rows = [#{}, #{}];\nlet i = 0;\nloop { rows[1][`k${i}`] = i; i += 1; }\n",
        &["--max-map-size", "1000"],
        "
        error: `rows[1]` grew past 1000 entries: a map may hold at most that many; look for one that grows without end, or raise `--max-map-size` (kind: validation)
         --> rows.rhai:3:30
          |
        3 | loop { rows[1][`k${i}`] = i; i += 1; }
          |                              ^
        ",
        100,
    );
}

#[test]
fn an_array_inside_another_grown_by_push_stops_at_max_array_size() {
    assert_stops(
        "inner.rhai",
        "let a = [[]];\nloop { a[0].push(1); }\n",
        &["--max-array-size", "1000"],
        "
        error: push: an array may hold at most 1000 items; look for one that grows without end, or raise `--max-array-size` (kind: validation)
         --> inner.rhai:2:13
          |
        2 | loop { a[0].push(1); }
          |             ^^^^
        ",
        100,
    );
}

#[test]
fn a_string_inside_maps_grown_by_plus_equals_stops_at_max_string_size() {
    assert_stops(
        "deep_text.rhai",
        "let m = #{a: #{b: \"\"}};\nloop { m.a.b += \"x\"; }\n",
        &["--max-string-size", "1000"],
        "
        error: `m.a.b` grew past 1000 bytes: a string may hold at most that many; look for one that grows without end, or raise `--max-string-size` (kind: validation)
         --> deep_text.rhai:2:8
          |
        2 | loop { m.a.b += \"x\"; }
          |        ^
        ",
        100,
    );
}

#[test]
fn a_value_doubled_each_step_stops_at_the_default_memory_budget() {
    // Copying 128 MiB of nested arrays takes a debug build far longer than a release
    // one (under a second there).
    assert_stops_within(
        "doubling.rhai",
        "let x = [1];\nloop { x = [x, x]; }\n",
        &[],
        "
        error: the script holds more than 128 MiB of memory; look for a value that grows without end, or raise `--max-memory` (kind: validation)
         --> doubling.rhai:2:8
          |
        2 | loop { x = [x, x]; }
          |        ^
        ",
        400,
        60,
    );
}

#[test]
fn nested_growth_no_size_limit_sees_stops_at_max_memory() {
    // `x` never holds more than two items; what grows is inside it.
    assert_stops(
        "double.rhai",
        "let x = [1];\nloop { x = [x, x]; }\n",
        &["--max-memory", "16777216"],
        "
        error: the script holds more than 16 MiB of memory; look for a value that grows without end, or raise `--max-memory` (kind: validation)
         --> double.rhai:2:8
          |
        2 | loop { x = [x, x]; }
          |        ^
        ",
        200,
    );
}

/// A script nesting `x` `levels` deep, 40 levels a statement (the most an expression
/// may nest; `take` moves the value, so no step copies it), then trying every printer and
/// serialiser on it.
fn nested_script(open: &str, close: &str, levels: usize) -> String {
    let step = format!("x = {}take(x){};\n", open.repeat(40), close.repeat(40));
    let tries: String = [
        "print(`${x}`)",
        "print(x)",
        "debug(x)",
        "x.to_string()",
        "x.to_debug()",
        "json_encode(x)",
    ]
    .map(|call| {
        format!("try {{ {call}; }} catch (e) {{ print(`${{e.operation}}: ${{e.message}}`); }}\n")
    })
    .concat();
    format!(
        "let x = [];\n{}{tries}print(\"still here\");\n",
        step.repeat(levels / 40)
    )
}

#[test]
fn values_nested_past_max_depth_stop_the_script_before_any_printer_walks_them() {
    // 20,000 levels printed through Rhai's own formatter (as `${x}` does) took 5 s and a
    // deep stack; the deep check refuses the value while it is built, at a statement that
    // depends on when the thread's allocations doubled.
    let limit = "error: `x` nests arrays and maps more than 256 deep; flatten it, or raise the \
                 limit with `--max-depth` (kind: validation)\n --> deep.rhai:";
    for (open, close, levels) in [("[", "]", 20_000), ("#{a: ", "}", 10_000)] {
        let outcome = Test::new()
            .script("deep.rhai", &nested_script(open, close, levels))
            .args(["run", "deep.rhai"])
            .status(1)
            .stdout("")
            .run();
        assert!(outcome.stderr.starts_with(limit), "{}", outcome.stderr);
    }
}

#[test]
fn growing_an_array_costs_linear_time() {
    // 100,000 pushes took 9.6 s on a release build when Rhai checked the whole array after
    // each; a debug build under load does them in a few seconds now.
    let started = std::time::Instant::now();
    Test::new()
        .script(
            "grow.rhai",
            "let a = [];\nfor i in 0..100000 { a.push(i); }\nprint(a.len());\n",
        )
        .args(["run", "grow.rhai"])
        .stdout("100000\n")
        .run();
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(30),
        "100,000 pushes took {took:?}"
    );
}
