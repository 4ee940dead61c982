//! `Test`: a fluent builder that writes scripts into a temporary folder, optionally starts
//! the lab and writes its target file, runs the `cutover` binary and checks the outcome.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use cutover::clock::Clock;
use cutover::config::TargetKind;
use cutover::lab::{Lab, LabOptions};
use serde_json::Value;

/// The kinds the tests drive, by their target-file names.
pub mod kind {
    use cutover::config::TargetKind;

    pub const POWERSTORE: TargetKind = TargetKind::new("powerstore");
    pub const VCD: TargetKind = TargetKind::new("vcd");
    pub const VCENTER: TargetKind = TargetKind::new("vcenter");
    pub const HUAWEI_SMS: TargetKind = TargetKind::new("huawei_sms");
}

/// A production-like target file: `array1`, its password in an unset variable.
pub const PRODUCTION_TARGETS: &str = "
    [targets.array1]
    kind = \"powerstore\"
    url = \"https://array1.example.com\"
    user = \"admin\"
    password_env = \"CUTOVER_UNSET_PASSWORD\"
";

/// How much faster than the wall clock the test lab runs, so copies finish in moments.
pub const LAB_SPEED: f64 = 50.0;

/// Removes the common leading indentation and the first newline, like just's tests.
pub fn unindent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|line| line.get(indent..).unwrap_or("").trim_end())
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

/// Runs the binary from the repository root, the way the README does (so
/// `./cutover.toml` is the target file), asserts it succeeded, and returns its stdout.
/// `wave_poll` sets the playbooks' `WAVE_POLL`; `None` leaves their default.
pub fn run_from_repo(args: &[&str], wave_poll: Option<&str>) -> String {
    run_from_repo_ending(args, wave_poll, 0).0
}

/// Like [`run_from_repo`], for a run that ends with exit status `status`; returns its
/// stdout and its stderr without the waits' progress lines.
pub fn run_from_repo_ending(
    args: &[&str],
    wave_poll: Option<&str>,
    status: i32,
) -> (String, String) {
    // Its own journal, so the repository's folders stay clean and run ids start at 1.
    let journal = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CUTOVER_JOURNAL", journal.path().join("journal.db"))
        .env_remove("CUTOVER_TARGETS")
        .env_remove("WAVE_POLL");
    if let Some(poll) = wave_poll {
        command.env("WAVE_POLL", poll);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(status), "{stdout}\n{stderr}");
    (stdout, without_progress(&stderr))
}

/// Where the Huawei SMS targets of [`Test::lab`] keep their password and secret key.
pub const SMS_PASSWORD: &str = "CUTOVER_TEST_SMS_PASSWORD";
pub const SMS_SECRET_KEY: &str = "CUTOVER_TEST_SMS_SK";

/// The lab's Huawei SMS target as `eu-sms` (IAM user) or `eu-sms-aksk` (access key).
fn sms_target(target: &cutover::config::Target) -> String {
    let extra = |key: &str| {
        let value = target.extras.value(key).and_then(|v| v.as_str());
        value.map(str::to_owned)
    };
    let signs = target.secret_name() == "secret key";
    let mut text = format!(
        "[targets.eu-sms{}]\nkind = \"huawei_sms\"\nurl = \"{}\"\nproject_id = \"{}\"\n",
        if signs { "-aksk" } else { "" },
        target.url,
        extra("project_id").unwrap()
    );
    text.push_str(&ca_file_line(target));
    if signs {
        text.push_str(&format!(
            "access_key = \"{}\"\nsecret_key_env = \"{SMS_SECRET_KEY}\"\n\n",
            target.user
        ));
    } else {
        text.push_str(&format!(
            "iam_url = \"{}\"\ndomain = \"{}\"\nuser = \"{}\"\npassword_env = \"{SMS_PASSWORD}\"\n\n",
            extra("iam_url").unwrap(),
            extra("domain").unwrap(),
            target.user
        ));
    }
    text
}

/// `ca_file = "…"` and a newline for a target of a TLS lab; nothing otherwise.
fn ca_file_line(target: &cutover::config::Target) -> String {
    target.ca_file.as_ref().map_or_else(String::new, |file| {
        format!("ca_file = {:?}\n", file.display().to_string())
    })
}

/// A client for a lab's own routes, trusting only the CA in `ca_file` when there is one
/// (a TLS lab), with the system's roots otherwise.
pub fn client_trusting(ca_file: Option<&Path>) -> reqwest::Client {
    #[allow(clippy::disallowed_methods, reason = "tests talk to the lab directly")]
    let mut builder = reqwest::Client::builder();
    if let Some(ca_file) = ca_file {
        let pem = std::fs::read(ca_file).unwrap();
        builder = builder.tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap());
    }
    builder.build().unwrap()
}

/// A running lab plus the runtime that serves it.
pub struct TestLab {
    pub runtime: tokio::runtime::Runtime,
    pub lab: Lab,
}

impl TestLab {
    /// Starts the lab on ephemeral loopback ports, its clock `speed` times the wall's.
    pub fn start(speed: f64) -> Self {
        Self::start_with(Clock::scaled(speed))
    }

    /// Starts the lab with `clock`.
    fn start_with(clock: Clock) -> Self {
        Self::start_with_options(LabOptions {
            port: 0,
            seed: 7,
            clock,
            ..LabOptions::default()
        })
    }

    /// Starts the lab with `options`.
    fn start_with_options(options: LabOptions) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let lab = runtime.block_on(Lab::start(options)).unwrap();
        Self { runtime, lab }
    }

    /// The lab's password, to prove it never shows.
    pub fn password(&self) -> String {
        self.lab.password().expose().to_owned()
    }

    /// The secret key of the lab's Huawei SMS access key.
    pub fn secret_key(&self) -> String {
        self.lab.secret_key().expose().to_owned()
    }

    /// `GET <powerstore>/_lab/state`.
    pub fn state(&self) -> Value {
        self.state_of(kind::POWERSTORE)
    }

    /// `GET <listener of kind>/_lab/state`.
    pub fn state_of(&self, kind: TargetKind) -> Value {
        self.get_json(&format!("{}/_lab/state", self.lab.url(kind).unwrap()))
    }

    /// `GET <listener of kind>/_lab/requests`: each request's route and arrival, in order.
    pub fn requests_of(&self, kind: TargetKind) -> Value {
        self.get_json(&format!("{}/_lab/requests", self.lab.url(kind).unwrap()))
    }

    /// A client for the lab's own routes, trusting the lab's CA when it serves TLS.
    pub fn client(&self) -> reqwest::Client {
        client_trusting(self.lab.ca_file())
    }

    /// `GET` a URL and parse its JSON.
    pub fn get_json(&self, url: &str) -> Value {
        let url = url.to_owned();
        let client = self.client();
        self.runtime
            .block_on(async move { client.get(url).send().await.unwrap().json().await.unwrap() })
    }

    /// `POST` JSON to a PowerStore lab control path such as `/_lab/faults`.
    pub fn post(&self, path: &str, body: Value) -> Value {
        self.post_to(kind::POWERSTORE, path, body)
    }

    /// `POST` JSON to a control path of the listener of `kind`; returns the answer.
    pub fn post_to(&self, kind: TargetKind, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.lab.url(kind).unwrap());
        let client = self.client();
        self.runtime.block_on(async move {
            let response = client.post(url).json(&body).send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.json().await.unwrap_or(Value::Null)
        })
    }

    /// `DELETE` at `path` on the listener of `kind`.
    pub fn delete_to(&self, kind: TargetKind, path: &str) {
        let url = format!("{}{path}", self.lab.url(kind).unwrap());
        let client = self.client();
        self.runtime.block_on(async move {
            let response = client.delete(url).send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
        });
    }

    /// `POST /_lab/clock` with `change` (the clock is the whole lab's, whichever
    /// listener is asked); answers the clock as it is afterwards.
    pub fn clock(&self, change: Value) -> Value {
        self.post("/_lab/clock", change)
    }

    /// Stops lab time: every simulated job stays exactly where it is.
    pub fn pause_clock(&self) {
        assert_eq!(
            self.clock(serde_json::json!({"paused": true}))["paused"],
            true
        );
    }

    /// Lets lab time run again.
    pub fn resume_clock(&self) {
        assert_eq!(
            self.clock(serde_json::json!({"paused": false}))["paused"],
            false
        );
    }

    /// Moves lab time on by `seconds`.
    pub fn advance_clock(&self, seconds: u64) {
        self.clock(serde_json::json!({ "advance_seconds": seconds }));
    }

    /// Adds a session in `state` through the lab's control API and returns its id.
    pub fn add_session(&self, name: &str, state: &str, extra: Value) -> String {
        let mut body = serde_json::json!({"name": name, "state": state});
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        let answer = self.post("/_lab/import_sessions", body);
        answer["id"].as_str().unwrap().to_owned()
    }

    /// The session called `name` in the lab's state.
    pub fn session(&self, name: &str) -> Value {
        let state = self.state();
        state["import_sessions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no session {name} in {state}"))
    }

    /// How many times `operation` was applied to session `id`.
    pub fn applied(&self, operation: &str, id: &str) -> usize {
        self.state()["mutations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["operation"] == operation && m["id"] == id)
            .count()
    }
}

/// A test of the binary: files, arguments, environment and expectations.
#[must_use]
pub struct Test {
    dir: tempfile::TempDir,
    /// The `.rhai` files written, each checked with `cutover check` after the run.
    scripts: Vec<String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    lab: Option<TestLab>,
    stdin: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    /// Leave the waits' progress lines out of the stderr comparison.
    without_progress: bool,
    /// Leave the operator's view out of the outcome (see [`without_view`]).
    without_view: bool,
    status: i32,
}

/// `stderr` without the info lines waits log as jobs move: how many there are depends
/// on when the polls fall, so tests that check the rest of stderr leave them out.
pub fn without_progress(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| line.split_whitespace().nth(1) != Some("INFO"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// `stdout` without the summary table a run with `parallel` items ends with, and
/// `stderr` without the view's plain lines (`INFO `label` …`).
pub fn without_view(stdout: &str, stderr: &str) -> (String, String) {
    let summary = stdout
        .find("application  step")
        .filter(|at| *at == 0 || stdout[..*at].ends_with('\n'))
        .unwrap_or(stdout.len());
    let stderr = stderr
        .lines()
        .filter(|line| {
            let mut words = line.split_whitespace().skip(1);
            !(words.next() == Some("INFO") && words.next().is_some_and(|w| w.starts_with('`')))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    (stdout[..summary].to_owned(), stderr)
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            scripts: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            lab: None,
            stdin: None,
            stdout: None,
            stderr: None,
            without_progress: false,
            without_view: false,
            status: 0,
        }
    }

    /// Leaves the summary table out of stdout and the view's plain lines out of stderr,
    /// for tests of what `parallel` does rather than of how the run shows it.
    pub fn without_view(mut self) -> Self {
        self.without_view = true;
        self
    }

    /// Compares stderr without the waits' progress lines (see [`without_progress`]).
    pub fn ignoring_progress(mut self) -> Self {
        self.without_progress = true;
        self
    }

    /// Starts the lab at [`LAB_SPEED`] and writes `cutover.toml` with its PowerStore as
    /// target `array1`, the password in an environment variable.
    pub fn lab(self) -> Self {
        self.lab_at_speed(LAB_SPEED)
    }

    /// Like [`Test::lab`], with lab time standing still from the start: the seeded
    /// inventory stays exactly as seeded until the test moves the clock on or resumes it.
    pub fn lab_paused(self) -> Self {
        let clock = Clock::scaled(LAB_SPEED);
        clock.pause();
        self.with_lab(TestLab::start_with(clock))
    }

    /// Runs against the lab (and target file) an earlier run left behind.
    pub fn reuse_lab(self, earlier: Outcome) -> Self {
        self.with_lab(earlier.lab.expect("the earlier run had no lab"))
    }

    /// Like [`Test::lab`], serving `estate` (its applications and scenario).
    #[allow(dead_code, reason = "used by some test modules only")]
    pub fn lab_with_estate(self, estate: cutover::lab::Estate) -> Self {
        self.with_lab(TestLab::start_with_options(LabOptions {
            port: 0,
            seed: 7,
            clock: Clock::scaled(LAB_SPEED),
            estate,
            ..LabOptions::default()
        }))
    }

    /// Like [`Test::lab`], with the lab accepting `password` for every user and
    /// `secret_key` for the Huawei SMS access key.
    #[allow(dead_code, reason = "used by some test modules only")]
    pub fn lab_with_secrets(self, password: &str, secret_key: &str) -> Self {
        self.with_lab(TestLab::start_with_options(LabOptions {
            port: 0,
            seed: 7,
            clock: Clock::scaled(LAB_SPEED),
            password: Some(cutover::config::Secret::new(password)),
            secret_key: Some(cutover::config::Secret::new(secret_key)),
            ..LabOptions::default()
        }))
    }

    /// Like [`Test::lab`], the lab serving HTTPS from its own CA, which every target in
    /// `cutover.toml` names as its `ca_file`.
    #[allow(dead_code, reason = "used by some test modules only")]
    pub fn lab_tls(self) -> Self {
        self.with_lab(TestLab::start_with_options(LabOptions {
            port: 0,
            seed: 7,
            clock: Clock::scaled(LAB_SPEED),
            tls: true,
            ..LabOptions::default()
        }))
    }

    /// Like [`Test::lab`], with the lab's clock `speed` times the wall's.
    pub fn lab_at_speed(self, speed: f64) -> Self {
        self.with_lab(TestLab::start(speed))
    }

    /// Writes `cutover.toml` with production-like names for the lab's listeners
    /// (`array1`, `prod-vcd`, `eu-sms`, `eu-sms-aksk`), each secret in a `CUTOVER_TEST_…`
    /// variable.
    fn with_lab(mut self, lab: TestLab) -> Self {
        let mut toml = String::new();
        self.env.push((SMS_PASSWORD.into(), lab.password()));
        self.env.push((SMS_SECRET_KEY.into(), lab.secret_key()));
        for target in lab.lab.targets() {
            let (name, var) = match target.kind {
                kind::POWERSTORE => ("array1", "CUTOVER_TEST_ARRAY1_PASSWORD"),
                kind::VCD => ("prod-vcd", "CUTOVER_TEST_VCD_PASSWORD"),
                kind::VCENTER if target.name.ends_with(cutover::config::APPLIANCE_SUFFIX) => {
                    ("vc-root", "CUTOVER_TEST_VC_ROOT_PASSWORD")
                }
                kind::VCENTER => ("prod-vc", "CUTOVER_TEST_VC_PASSWORD"),
                kind::HUAWEI_SMS => {
                    toml.push_str(&sms_target(&target));
                    continue;
                }
                other => panic!("the test target file has no name for kind {other}"),
            };
            toml.push_str(&format!(
                "[targets.{name}]\nkind = \"{}\"\nurl = \"{}\"\n{}user = \"{}\"\npassword_env = \"{var}\"\n\n",
                target.kind,
                target.url,
                ca_file_line(&target),
                target.user
            ));
            self.env.push((var.into(), lab.password()));
        }
        self.lab = Some(lab);
        self.file("cutover.toml", &toml)
    }

    /// The running lab, for setting up scenarios before the run.
    pub fn test_lab(&self) -> &TestLab {
        self.lab.as_ref().expect("call .lab() first")
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(mut self, name: &str, text: &str) -> Self {
        if name.ends_with(".rhai") && !self.scripts.iter().any(|s| s == name) {
            self.scripts.push(name.to_owned());
        }
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, unindent(text)).unwrap();
        self
    }

    /// Creates the empty file `name`, e.g. the one a script waits for with
    /// `wait_for_file` until the test has set the lab up for its next step.
    /// The test's target file with `setting` (a `key = value` line) added to target
    /// `target`, or to every target when `None`.
    pub fn target_setting(self, target: Option<&str>, setting: &str) -> Self {
        let file = self.path().join("cutover.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        let header = target.map(|name| format!("[targets.{name}]"));
        let text: String = text
            .lines()
            .flat_map(|line| {
                let here = match &header {
                    Some(header) => line == header,
                    None => line.starts_with("[targets."),
                };
                std::iter::once(line.to_owned()).chain(here.then(|| setting.to_owned()))
            })
            .map(|line| line + "\n")
            .collect();
        assert!(text.contains(setting), "{text}");
        self.file("cutover.toml", &text)
    }

    pub fn touch(&self, name: &str) {
        std::fs::write(self.dir.path().join(name), "").unwrap();
    }

    pub fn script(self, name: &str, text: &str) -> Self {
        self.file(name, text)
    }

    pub fn args<const N: usize>(mut self, args: [&str; N]) -> Self {
        self.args.extend(args.iter().map(ToString::to_string));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Text the binary reads on standard input (unindented).
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(unindent(text));
        self
    }

    pub fn stdout(mut self, text: &str) -> Self {
        self.stdout = Some(unindent(text));
        self
    }

    pub fn stderr(mut self, text: &str) -> Self {
        self.stderr = Some(unindent(text));
        self
    }

    pub fn status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }

    /// The command the test will run, for tests that drive the process themselves.
    pub fn command(&self) -> Command {
        self.command_with(&self.args)
    }

    /// The binary with `args`, in the test's folder and environment.
    pub fn command_with(&self, args: &[String]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cutover"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("CUTOVER_TARGETS")
            // Each test its own journal, even for the repository's playbooks.
            .env(
                "CUTOVER_JOURNAL",
                self.dir.path().join(".cutover/journal.db"),
            )
            .env_remove("CUTOVER_LOG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs the binary and checks status, stdout and stderr against what was expected;
    /// then every script the test wrote must pass `cutover check` (unless the test
    /// expects exit 2, a script that must not), so the check is proven to raise no false
    /// alarm on any of them.
    pub fn run(self) -> Outcome {
        let checks = if self.status == 2 {
            Vec::new()
        } else {
            self.check_commands()
        };
        let output = match &self.stdin {
            None => self.command().output().unwrap(),
            Some(input) => {
                let mut child = self
                    .command()
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                std::io::Write::write_all(&mut stdin, input.as_bytes()).unwrap();
                drop(stdin);
                child.wait_with_output().unwrap()
            }
        };
        let (mut stdout, mut stderr) = (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        );
        if self.without_view {
            (stdout, stderr) = without_view(&stdout, &stderr);
        }
        let outcome = Outcome {
            stdout,
            stderr,
            output,
            lab: self.lab,
            dir: self.dir,
        };
        let mut problems = Vec::new();
        if outcome.output.status.code() != Some(self.status) {
            problems.push(format!(
                "status {:?}, expected {}",
                outcome.output.status.code(),
                self.status
            ));
        }
        if let Some(stdout) = &self.stdout {
            if &outcome.stdout != stdout {
                problems.push(format!("stdout differs; expected:\n{stdout}"));
            }
        }
        if let Some(stderr) = &self.stderr {
            let seen = if self.without_progress {
                without_progress(&outcome.stderr)
            } else {
                outcome.stderr.clone()
            };
            if &seen != stderr {
                problems.push(format!("stderr differs; expected:\n{stderr}"));
            }
        }
        assert!(
            problems.is_empty(),
            "{}\n--- stdout:\n{}\n--- stderr:\n{}",
            problems.join("\n"),
            outcome.stdout,
            outcome.stderr
        );
        for (shown, mut check) in checks {
            let output = check.output().unwrap();
            assert!(
                output.status.success(),
                "`{shown}` failed:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        outcome
    }

    /// `cutover check` for each script written, seeing the targets the run saw.
    fn check_commands(&self) -> Vec<(String, Command)> {
        let mut checks = Vec::new();
        for script in &self.scripts {
            let mut args = vec!["check".to_owned(), script.clone()];
            if self.args.iter().any(|a| a == "--lab") {
                args.push("--lab".into());
            }
            if let Some(at) = self.args.iter().position(|a| a == "--targets") {
                args.extend(self.args.iter().skip(at).take(2).cloned());
            }
            checks.push((
                format!("cutover {}", args.join(" ")),
                self.command_with(&args),
            ));
        }
        checks
    }

    pub fn success(self) -> Outcome {
        self.status(0).run()
    }
}

/// What a run left behind: its output, the lab it ran against, its folder.
pub struct Outcome {
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
    pub lab: Option<TestLab>,
    pub dir: tempfile::TempDir,
}

impl Outcome {
    pub fn lab(&self) -> &TestLab {
        self.lab.as_ref().expect("the test ran without a lab")
    }

    /// Asserts that neither the password nor the Basic form of `user:password` shows
    /// anywhere in stdout or stderr.
    #[track_caller]
    pub fn assert_no_secret(&self, user: &str, password: &str) {
        assert_no_secret([&self.stdout, &self.stderr], user, password);
    }

    #[allow(dead_code, reason = "used by some test modules only")]
    pub fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

/// Asserts that neither `password` nor the Basic form of `user:password` shows in any
/// of `outputs`.
#[track_caller]
pub fn assert_no_secret<'a>(
    outputs: impl IntoIterator<Item = &'a String>,
    user: &str,
    password: &str,
) {
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    for output in outputs {
        assert!(!output.contains(password), "password leaked:\n{output}");
        assert!(
            !output.contains(&basic),
            "basic credentials leaked:\n{output}"
        );
    }
}

/// The lines of a child's stdout, read as they come.
pub type Lines = std::io::Lines<std::io::BufReader<std::process::ChildStdout>>;

/// The next line of a child's stdout, which must come.
#[track_caller]
pub fn next_line(lines: &mut Lines) -> String {
    match lines.next() {
        Some(line) => line.unwrap(),
        None => panic!("stdout ended early"),
    }
}

/// How long something that will happen may take on a busy machine.
pub const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// Waits until `check` holds, looking again every few milliseconds; fails after
/// [`PATIENCE`] naming `what`. For things that will happen, however slowly.
#[track_caller]
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !check() {
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A child process that is killed when the test ends, even by a failed assertion, so a
/// failing test never leaves a lab or a script running.
pub struct Child(pub std::process::Child);

impl Child {
    /// Spawns `command` with stdout piped.
    pub fn spawn(mut command: Command) -> Self {
        Self(
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        )
    }

    /// Lines of the child's stdout.
    pub fn lines(&mut self) -> Lines {
        use std::io::BufRead;
        std::io::BufReader::new(self.0.stdout.take().unwrap()).lines()
    }

    /// Sends SIGINT, as Ctrl-C does.
    pub fn interrupt(&self) {
        self.signal("-INT");
    }

    /// Sends SIGTERM, as a scheduler or service manager does.
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    /// Stops the child where it is (SIGSTOP): what happens meanwhile, it sees as one
    /// step once [`Child::resume`]d.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused child go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let kill = Command::new("kill")
            .args([which, &self.0.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(kill.success(), "kill {which} failed");
    }

    /// Waits at most `limit` for the child to end, then returns its exit code, the rest
    /// of its stdout (after what `lines` took already) and its stderr.
    pub fn finish(
        &mut self,
        lines: Lines,
        limit: std::time::Duration,
    ) -> (Option<i32>, Vec<String>, String) {
        let rest = lines.map(Result::unwrap).collect();
        let status = self.wait(limit);
        (status.code(), rest, self.stderr())
    }

    /// Waits at most `limit` for the child to end.
    pub fn wait(&mut self, limit: std::time::Duration) -> std::process::ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(started.elapsed() < limit, "still running after {limit:?}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Everything the child wrote to stderr.
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut self.0.stderr.take().unwrap(), &mut text).unwrap();
        text
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A lab started on its own (`cutover lab … --targets-out FILE`) by a test, with the
/// listing it printed before writing its target file; killed when dropped (as a failing
/// test leaves it), or stopped with Ctrl-C by [`StandaloneLab::stop`].
pub struct StandaloneLab {
    child: Child,
    /// `name  kind  url  (user …)`, one line per target.
    pub listing: Vec<String>,
    /// What it prints after its target file is written.
    pub lines: Lines,
    /// The `ca_file` its target file names when it serves TLS.
    pub ca_file: Option<PathBuf>,
}

impl StandaloneLab {
    /// Runs `test`'s command (a `cutover lab` with `--targets-out`) until its target file
    /// is written.
    pub fn start(test: &Test) -> Self {
        Self::spawn(test.command())
    }

    /// Runs `command` (a `cutover lab` with `--targets-out`) until its target file is
    /// written.
    pub fn spawn(command: Command) -> Self {
        let targets_out = targets_out(&command);
        let mut child = Child::spawn(command);
        let mut lines = child.lines();
        let listing = lines
            .by_ref()
            .map(Result::unwrap)
            .take_while(|line| !line.starts_with("target file written"))
            .collect();
        let ca_file = targets_out.and_then(|file| {
            let text = std::fs::read_to_string(&file).unwrap();
            let targets: toml::Table = toml::from_str(&text).unwrap();
            targets["targets"]
                .as_table()
                .unwrap()
                .values()
                .find_map(|target| target.get("ca_file"))
                .map(|path| PathBuf::from(path.as_str().unwrap()))
        });
        Self {
            child,
            listing,
            lines,
            ca_file,
        }
    }

    /// The URL of the listener answering `target`.
    pub fn url(&self, target: &str) -> String {
        let line = self
            .listing
            .iter()
            .find(|l| l.split_whitespace().next() == Some(target))
            .unwrap_or_else(|| panic!("no `{target}` in {:?}", self.listing));
        line.split_whitespace().nth(2).unwrap().to_owned()
    }

    /// `GET <url of target>/_lab/state`.
    pub fn state(&self, target: &str) -> Value {
        request(
            reqwest::Method::GET,
            &format!("{}/_lab/state", self.url(target)),
            None,
            self.ca_file.as_deref(),
        )
    }

    /// `POST` JSON to a control path of the listener answering `target`.
    pub fn post(&self, target: &str, path: &str, body: Value) -> Value {
        request(
            reqwest::Method::POST,
            &format!("{}{path}", self.url(target)),
            Some(body),
            self.ca_file.as_deref(),
        )
    }

    /// Stops it with Ctrl-C; it must exit 0. Returns what it printed after the lines
    /// [`StandaloneLab::lines`] took already.
    pub fn stop_and_read(self) -> Vec<String> {
        let Self {
            mut child, lines, ..
        } = self;
        child.interrupt();
        let (code, rest, stderr) = child.finish(lines, std::time::Duration::from_secs(10));
        assert_eq!(code, Some(0), "{stderr}");
        rest
    }

    /// Stops it with Ctrl-C; it must exit 0.
    pub fn stop(mut self) {
        self.child.interrupt();
        assert!(
            self.child
                .wait(std::time::Duration::from_secs(10))
                .success()
        );
    }
}

/// One request to a lab outside the test's process; the answer must be a success, and
/// its JSON (null when it has none) is returned.
fn request(
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
    ca_file: Option<&Path>,
) -> Value {
    let url = url.to_owned();
    let client = client_trusting(ca_file);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let mut request = client.request(method, url);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.json().await.unwrap_or(Value::Null)
        })
}

/// The `--targets-out` file of a `cutover lab` command, resolved against its folder.
fn targets_out(command: &Command) -> Option<PathBuf> {
    let args: Vec<_> = command.get_args().collect();
    let file = args
        .iter()
        .position(|arg| *arg == "--targets-out")
        .and_then(|at| args.get(at + 1))?;
    let folder = command.get_current_dir().unwrap_or(Path::new("."));
    Some(folder.join(file))
}

/// Writes `text` to `path` readable by its owner only, as the lab writes target files.
pub fn write_private(path: &Path, text: &str) {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}
