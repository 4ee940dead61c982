//! Secrets stay out of scripts' reach: no file a target names as its secret, nor the
//! target file itself, can be read or written by a script, whatever path leads there.

use crate::test::Test;

const TARGETS: &str = "
    [targets.array1]
    kind = \"powerstore\"
    url = \"https://array1.example.com\"
    user = \"admin\"
    password_file = \"secrets/array1.pw\"
";

fn refused(script: &str, lab: bool) -> String {
    let mut test = Test::new()
        .file("cutover.toml", TARGETS)
        .file("secrets/array1.pw", "hunter2\n")
        .script("wave.rhai", script);
    test = if lab {
        test.args(["run", "wave.rhai", "--lab"])
    } else {
        test.args(["run", "wave.rhai"])
    };
    let outcome = test.status(1).run();
    assert!(!outcome.stdout.contains("hunter2"), "{}", outcome.stdout);
    assert!(!outcome.stderr.contains("hunter2"), "{}", outcome.stderr);
    let dir = outcome.path().canonicalize().unwrap();
    outcome
        .stderr
        .lines()
        .next()
        .unwrap()
        .replace(&dir.display().to_string(), "<dir>")
}

#[test]
fn a_password_file_cannot_be_read_by_a_script() {
    for lab in [false, true] {
        assert_eq!(
            refused("print(read_text(\"secrets/array1.pw\"));\n", lab),
            "error: read_text: refusing to touch `<dir>/secrets/array1.pw`: it holds the password of \
             target `array1`, and scripts never see secrets (kind: validation)"
        );
    }
    assert_eq!(
        refused(
            "print(read_text(\"./secrets/../secrets//array1.pw\"));\n",
            false
        ),
        "error: read_text: refusing to touch `<dir>/secrets/array1.pw`: it holds the password of \
         target `array1`, and scripts never see secrets (kind: validation)"
    );
}

#[test]
fn the_target_file_cannot_be_read_by_a_script() {
    assert_eq!(
        refused("print(file_info(\"cutover.toml\"));\n", false),
        "error: file_info: refusing to touch `<dir>/cutover.toml`: it is the target file, \
         and scripts never see secrets (kind: validation)"
    );
}

#[cfg(unix)]
#[test]
fn a_link_to_a_secret_is_refused_too() {
    let test = Test::new()
        .file("cutover.toml", TARGETS)
        .file("secrets/array1.pw", "hunter2\n")
        .script("wave.rhai", "print(read_text(\"innocent.txt\"));\n")
        .args(["run", "wave.rhai"])
        .status(1);
    std::os::unix::fs::symlink(
        test.path().join("secrets/array1.pw"),
        test.path().join("innocent.txt"),
    )
    .unwrap();
    let outcome = test.run();
    assert!(!outcome.stdout.contains("hunter2"), "{}", outcome.stdout);
    assert!(
        outcome
            .stderr
            .contains("it holds the password of target `array1`"),
        "{}",
        outcome.stderr
    );
}
