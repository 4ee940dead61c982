//! What an operator sees when a script goes wrong in a way the runtime stops: which
//! limit stopped it and the flag that raises it, and a caret even where the text ends.

use crate::test::{Test, unindent};

#[test]
fn endless_recursion_names_the_limit_and_its_flag() {
    Test::new()
        .script("wave.rhai", "fn f(x) { f(x) }\nf(1);\n")
        .args(["run", "wave.rhai"])
        .status(1)
        .stderr(&unindent(
            "
            error: function calls nested deeper than --max-call-levels allows and the script was stopped; look for a function that calls itself without end, or raise --max-call-levels
             --> wave.rhai:2:1
              |
            2 | f(1);
              | ^
            ",
        ))
        .run();
}

#[test]
fn a_value_grown_past_its_limit_names_the_flag() {
    Test::new()
        .script("wave.rhai", "let a = [];\nloop { a.push(1); }\n")
        .args(["run", "wave.rhai", "--max-array-size", "10"])
        .status(1)
        .stderr(&unindent(
            "
            error: push: an array may hold at most 10 items; look for one that grows without end, or raise `--max-array-size` (kind: validation)
             --> wave.rhai:2:10
              |
            2 | loop { a.push(1); }
              |          ^^^^
            ",
        ))
        .run();
}

#[test]
fn an_unclosed_bracket_in_a_hook_shows_where_the_text_ends() {
    Test::new()
        .script(
            "hook.rhai",
            "on_file(\"*.txt\", #{}, |e| {\n  print(e.name);\n",
        )
        .args(["watch", "hook.rhai"])
        .status(2)
        .stderr(&unindent(
            "
            error: Expecting '}' to terminate this block
             --> hook.rhai:3:1
              |
            2 |   print(e.name);
              |                 ^ the script ends here
            ",
        ))
        .run();
}
