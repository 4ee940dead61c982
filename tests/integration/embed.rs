//! The library surface: a program embeds cutover through `Runtime`.

use cutover::ScriptFile;
use cutover::{RunError, Runtime};

#[test]
fn an_embedder_runs_a_playbook_against_the_lab() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wave.rhai");
    std::fs::write(
        &path,
        "powerstore(\"powerstore\").import_session(\"wave1-lun03\").cutover();\n",
    )
    .unwrap();
    let runtime = Runtime::builder().lab(1).speed(10.0).build().unwrap();
    let file = ScriptFile::read(&path).unwrap();
    runtime.run_file(&file).unwrap();

    std::fs::write(
        &path,
        "powerstore(\"powerstore\").import_session(\"wave1-lun03\").cutover();\n",
    )
    .unwrap();
    let again = ScriptFile::read(&path).unwrap();
    match runtime.run_file(&again) {
        Err(RunError::Script(rendered)) => {
            assert!(rendered.contains("(kind: invalid_state)"), "{rendered}");
        }
        other => panic!("a second cutover must be refused, got {other:?}"),
    }
    runtime.shutdown();
}
