//! Secrets, end to end (issue 14): with a known password and a known secret key for
//! every lab target, `run`, `check`, `watch` and `repl` (piped and on a terminal) run at
//! `-vvv`, and neither secret shows, as itself, in base64 (Basic auth, any alignment) or
//! URL-encoded, in anything they print or any file they leave in the test's folder
//! (the watcher's database, the REPL's history). `runs show`, `--report` and `--plan` do
//! not exist yet, so they are not run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::json;

use crate::test::{PATIENCE, Test};
use crate::watch::Watcher;

/// Every PowerStore, Cloud Director and vCenter user's password (the vCenter appliance's
/// `root` too) and the Huawei SMS IAM user's.
const PASSWORD: &str = "pw-S3cr3t-7f2a";
/// The secret key of the Huawei SMS access key.
const SECRET_KEY: &str = "sk-9Qz-Secret-Key";

/// Logs in to every vendor (both vCenter listeners, SMS by IAM password and by signed
/// access key), reads, makes one mutation per vendor that has one handy, has errors
/// that echo the request caught and printed whole, asks for a secret's variable, and
/// ends with an uncaught error.
const WAVE: &str = r#"
    let array = powerstore("array1");
    print(`sessions: ${array.import_sessions().len() > 0}`);
    print(array.import_session("leak-a").cutover().state);
    try { array.import_session("no-such-session"); } catch (e) { print(e); }
    try { print(env("CUTOVER_TEST_ARRAY1_PASSWORD")); } catch (e) { print(e); }
    try { print(env("CUTOVER_TEST_SMS_SK")); } catch (e) { print(e); }
    let vcd = vcd("prod-vcd");
    print(`types: ${vcd.entity_types().len() > 0}`);
    try {
        vcd.migrate_entities("urn:vcloud:type:acme:vm:1.0.0", #{ target: "urn:vcloud:type:acme:vm:9.9.9" });
    } catch (e) { print(e); }
    print(vcenter("vc-root").history().status().status != ());
    print(vcenter("prod-vc").history().status().status != ());
    try { vcenter("prod-vc").history().start(); } catch (e) { print(e); }
    print(`tasks: ${huawei_sms("eu-sms").tasks().len() > 0}`);
    print(`signed tasks: ${huawei_sms("eu-sms-aksk").tasks().len() > 0}`);
    try { huawei_sms("eu-sms-aksk").task("app-01").start(); } catch (e) { print(e); }
    huawei_sms("eu-sms").task("no-such-task");
    "#;

/// One handled file: the handler reads PowerStore and signs a request to SMS.
const HOOK: &str = r#"
    on_file("in/*.txt", #{ settle: 0 }, |e| {
        let n = powerstore("array1").import_sessions().len();
        let t = huawei_sms("eu-sms-aksk").tasks().len();
        print(`handled ${e.name} ${n > 0} ${t > 0}`);
    });
    "#;

/// Entries piped to the REPL: a read per vendor, an error, meta-commands.
const PIPED: &str = r#"
    powerstore("array1").import_sessions().len() > 0
    vcd("prod-vcd").entity_types().len() > 0
    vcenter("vc-root").history().status().status != ()
    huawei_sms("eu-sms-aksk").tasks().len() > 0
    huawei_sms("eu-sms").task("no-such-task")
    :targets
    :vars
    "#;

/// What each command left: a name for the failure message, and its text.
type Outputs = Vec<(String, String)>;

/// The forms a secret may take on the wire or in a log: itself, URL-encoded, and the
/// base64 of it at each of the three alignments it can have inside a longer encoded
/// text (`Basic base64(user:password)` is one), in both base64 alphabets.
fn forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    let mut forms = vec![secret.to_owned(), url_encoded(secret)];
    for engine in [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE,
    ] {
        for shift in 0..3 {
            let mut bytes = vec![b'x'; shift];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = engine.encode(&bytes);
            // Only the groups of 3 bytes made of the secret alone encode the same
            // whatever comes before and after it.
            let first = shift.div_ceil(3) * 4;
            let last = bytes.len() / 3 * 4;
            forms.push(encoded[first..last].to_owned());
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Percent-encoding of everything but the unreserved characters (RFC 3986).
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every file under `dir`, however deep.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Each place (output or file) where a form of a secret shows, with the form.
fn leaks(outputs: &Outputs, dir: &Path) -> Vec<String> {
    let mut texts = outputs.clone();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        texts.push((
            file.display().to_string(),
            String::from_utf8_lossy(&bytes).into_owned(),
        ));
    }
    let needles: Vec<String> = forms(PASSWORD)
        .into_iter()
        .chain(forms(SECRET_KEY))
        .collect();
    let mut found = Vec::new();
    for (place, text) in &texts {
        for needle in &needles {
            if text.contains(needle.as_str()) {
                found.push(format!("`{needle}` in {place}"));
            }
        }
    }
    found
}

/// Runs `cutover <args>` in the test's folder to its end, with `stdin` piped in;
/// returns its exit code, stdout and stderr.
fn run(test: &Test, args: &[&str], stdin: Option<&str>) -> (Option<i32>, String, String) {
    let mut command = test.command();
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input
            .write_all(crate::test::unindent(text).as_bytes())
            .unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn no_secret_shows_in_any_output_or_file_of_any_command() {
    let test = Test::new()
        .lab_with_secrets(PASSWORD, SECRET_KEY)
        .script("wave.rhai", WAVE)
        .script("hooks/drop.rhai", HOOK);
    assert_eq!(test.test_lab().password(), PASSWORD);
    assert_eq!(test.test_lab().secret_key(), SECRET_KEY);
    test.test_lab()
        .add_session("leak-a", "Ready_For_Cutover", json!({}));
    let mut outputs = Outputs::new();

    let (code, stdout, stderr) = run(&test, &["-vvv", "run", "wave.rhai"], None);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    // Every vendor was reached and answered: the secrets were accepted and used.
    for line in [
        "sessions: true",
        "Import_Completed",
        "types: true",
        "tasks: true",
        "signed tasks: true",
    ] {
        assert!(stdout.contains(line), "no {line:?} in:\n{stdout}\n{stderr}");
    }
    assert!(
        stdout.contains(
            "\"message\": \"`CUTOVER_TEST_SMS_SK` holds the secret key of target `eu-sms-aksk`; \
             scripts cannot read it\""
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("error: `eu-sms` task: "),
        "the run ends with its uncaught error:\n{stderr}"
    );
    outputs.push(("`run` stdout".into(), stdout));
    outputs.push(("`run` stderr".into(), stderr));

    let (code, stdout, stderr) = run(&test, &["-vvv", "check", "wave.rhai"], None);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    outputs.push(("`check` stdout".into(), stdout));
    outputs.push(("`check` stderr".into(), stderr));

    let (code, stdout, stderr) = run(&test, &["-vvv", "repl"], Some(PIPED));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("true\ntrue\ntrue\ntrue\n"),
        "{stdout}\n{stderr}"
    );
    outputs.push(("piped `repl` stdout".into(), stdout));
    outputs.push(("piped `repl` stderr".into(), stderr));

    let history = test.path().join("history/repl");
    #[cfg(unix)]
    outputs.push(("terminal `repl`".into(), terminal_session(&test, &history)));

    let w = Watcher::start(test, ["-vvv", "watch", "hooks"]);
    w.write("hooks/in/a.txt", "hello");
    w.stdout.wait_for("handled in/a.txt true true");
    let (code, stdout, stderr, test) = w.stop();
    assert_eq!(code, Some(0), "{}", stderr.all().join("\n"));
    outputs.push(("`watch` stdout".into(), stdout.all().join("\n")));
    outputs.push(("`watch` stderr".into(), stderr.all().join("\n")));

    #[cfg(unix)]
    {
        let kept = std::fs::read_to_string(&history).unwrap();
        assert!(kept.contains("let kept = 1;"), "{kept}");
    }
    assert!(
        files_under(test.path())
            .iter()
            .any(|f| f.ends_with("watch.db")),
        "the watcher's database is among the files searched"
    );
    let found = leaks(&outputs, test.path());
    assert!(found.is_empty(), "secrets leaked:\n{}", found.join("\n"));
}

/// The REPL on a pseudo-terminal with its history in `history`: an entry holding the
/// password's value (in no variable a word would flag) is evaluated but not recorded,
/// another is; reads reach every vendor; Ctrl-D ends the session. Returns what the
/// terminal showed, without the echo of the entry the operator typed the password in.
#[cfg(unix)]
fn terminal_session(test: &Test, history: &Path) -> String {
    use rexpect::process::WaitStatus;
    use rexpect::session::Options;

    const PROMPT: &str = "cutover> ";
    let mut command = test.command();
    command
        .args(["-vvv", "repl", "--history"])
        .arg(history)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .env("TERM", "xterm");
    let options = Options::new()
        .timeout_ms(Some(PATIENCE.as_millis() as u64))
        .strip_ansi_escape_codes(true);
    let mut session = rexpect::session::spawn_with_options(command, options).unwrap();
    let mut shown = session.exp_string(PROMPT).unwrap();
    let typed = format!("let pw = \"{PASSWORD}\"; pw.len()");
    for entry in [
        typed.as_str(),
        "powerstore(\"array1\").import_sessions().len() > 0",
        "huawei_sms(\"eu-sms-aksk\").tasks().len() > 0",
        "let kept = 1;",
    ] {
        session.send_line(entry).unwrap();
        shown.push_str(&session.exp_string(PROMPT).unwrap());
    }
    session.send_control('d').unwrap();
    shown.push_str(&session.exp_eof().unwrap());
    let status = session.process().wait().unwrap();
    assert!(matches!(status, WaitStatus::Exited(_, 0)), "{status:?}");
    assert!(shown.contains("\r\n14\r\n"), "{shown:?}");
    assert_eq!(shown.matches("\r\ntrue\r\n").count(), 2, "{shown:?}");
    shown.replace(&typed, "<typed>")
}

/// The search finds each form it looks for, in outputs and in files, so a leak cannot
/// pass unseen.
#[test]
fn the_search_finds_every_form_of_a_secret() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let found = |text: String| leaks(&vec![("text".into(), text)], dir.path()).len();
    for shift in ["", "a", "ab"] {
        for engine in [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::URL_SAFE,
        ] {
            let encoded = engine.encode(format!("{shift}{PASSWORD}:tail"));
            assert_eq!(found(format!("Authorization: Basic {encoded}")), 1);
            let encoded = engine.encode(format!("{shift}{SECRET_KEY}"));
            assert_eq!(found(encoded), 1);
        }
    }
    assert_eq!(found(format!("password={PASSWORD}")), 1);
    assert_eq!(url_encoded("a b/c"), "a%20b%2Fc");
    assert_eq!(found("nothing here".into()), 0);
    std::fs::write(dir.path().join("history"), format!("x {SECRET_KEY}\n")).unwrap();
    assert_eq!(leaks(&Outputs::new(), dir.path()).len(), 1);
}
