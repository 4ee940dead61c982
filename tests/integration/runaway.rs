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
fn json_encode_refuses_a_value_nested_past_max_depth() {
    let script = "let a = [];\nfor i in 0..300 { a = [a]; }\nprint(json_encode(a).len());\n";
    Test::new()
        .script("deep.rhai", script)
        .args(["run", "deep.rhai"])
        .status(1)
        .stdout("")
        .stderr(&unindent(
            "
            error: json_encode: the value nests arrays and maps more than 256 deep; flatten it, or raise the limit with `--max-depth` (kind: validation)
             --> deep.rhai:3:7
              |
            3 | print(json_encode(a).len());
              |       ^^^^^^^^^^^
            ",
        ))
        .run();
    Test::new()
        .script("deep.rhai", script)
        .args(["run", "--max-depth", "301", "deep.rhai"])
        .stdout("602\n")
        .run();
}
