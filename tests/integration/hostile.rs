//! Hostile input: hooks, scripts and files that try to reach past what they were given
//! get a clear error and nothing else.

use crate::test::{Test, unindent};

#[test]
fn a_hook_pattern_cannot_leave_its_folder() {
    Test::new()
        .script(
            "hook.rhai",
            "on_file(\"../../../../etc/*\", #{}, |e| {\n  write_text(e.path, \"x\");\n});\n",
        )
        .args(["watch", "hook.rhai"])
        .status(2)
        .stderr(&unindent(
            "
            error: on_file: `../../../../etc/*` leaves the folder it is relative to; a pattern names files under the hook's folder (no `..`, not absolute): set `root` to watch another folder (kind: validation)
             --> hook.rhai:1:1
              |
            1 | on_file(\"../../../../etc/*\", #{}, |e| {
              | ^^^^^^^
            ",
        ))
        .run();
}
