//! The lab over TLS (issue 15, part 1): `cutover lab --tls` writes https targets with
//! the lab's CA as `ca_file`; clients with that CA verify every listener and clients
//! without it are refused with what to do about it; each vendor's playbook runs over
//! HTTPS under `--lab --tls`; the lab's fault rules behave over TLS as over plain HTTP.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::test::{PATIENCE, StandaloneLab, Test, client_trusting, kind, without_progress};

/// The first line of the warning an `insecure` target gives, without its timestamp.
const INSECURE: &str = "has insecure = true: TLS certificates are not checked";

/// Reads a PowerStore session and a Huawei SMS task (whose IAM login builds a second
/// client for the same target) through the lab's own targets.
const PROBE: &str = r#"let s = powerstore("powerstore").import_session("wave1-lun01");
print(s.name);
let t = huawei_sms("huawei_sms").task("web-01");
print(t.name);
"#;

fn tls_lab() -> (Test, StandaloneLab) {
    let test = Test::new().args(["lab", "--tls", "--targets-out", "lab.toml"]);
    let lab = StandaloneLab::start(&test);
    (test, lab)
}

/// `cutover run probe.rhai --targets FILE` in `folder`, FILE holding `text` (private,
/// as the lab writes it, so no warning about its password shows).
fn probe(folder: &Path, file: &str, text: &str) -> std::process::Output {
    crate::test::write_private(&folder.join(file), text);
    std::fs::write(folder.join("probe.rhai"), PROBE).unwrap();
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["run", "probe.rhai", "--targets", file])
        .current_dir(folder)
        .env("CUTOVER_JOURNAL", folder.join(format!("{file}.db")))
        .env_remove("CUTOVER_TARGETS")
        .env_remove("CUTOVER_LOG")
        .output()
        .unwrap()
}

#[test]
fn the_tls_lab_writes_https_targets_whose_ca_verifies_every_listener() {
    let (test, mut lab) = tls_lab();
    let ca_file = std::path::absolute(test.path().join("lab-ca.pem")).unwrap();
    assert_eq!(
        lab.lines.next().unwrap().unwrap(),
        format!(
            "TLS CA written to {}; trust it with `ca_file` or `curl --cacert`",
            ca_file.display()
        )
    );
    assert_eq!(lab.ca_file.as_deref(), Some(ca_file.as_path()));
    let text = std::fs::read_to_string(test.path().join("lab.toml")).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let targets = file["targets"].as_table().unwrap();
    assert_eq!(targets.len(), 6, "{text}");
    for (name, target) in targets {
        let url = target["url"].as_str().unwrap();
        assert!(url.starts_with("https://127.0.0.1:"), "{name}: {url}");
        assert_eq!(
            target["ca_file"].as_str(),
            Some(ca_file.to_str().unwrap()),
            "{name}"
        );
    }
    assert!(ca_file.is_file());
    assert!(
        std::fs::read_to_string(&ca_file)
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );
    // With the CA, under both names the certificates hold; the helpers use it too.
    let url = lab.url("powerstore");
    let port = url.rsplit(':').next().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let get = |client: reqwest::Client, url: String| {
        runtime.block_on(async move { client.get(url).send().await.map(|r| r.status()) })
    };
    for base in [url.clone(), format!("https://localhost:{port}")] {
        let status = get(
            client_trusting(Some(&ca_file)),
            format!("{base}/_lab/state"),
        );
        assert_eq!(status.unwrap(), 200, "{base}");
    }
    assert_eq!(lab.state("vcd")["faults"]["injected"], 0);
    // Without it, certificate verification fails.
    #[allow(
        clippy::disallowed_methods,
        reason = "a client that trusts only the system's roots"
    )]
    let err = get(reqwest::Client::new(), format!("{url}/_lab/state")).unwrap_err();
    let mut chain = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        chain = format!("{chain}: {cause}");
        source = cause.source();
    }
    assert!(
        chain.ends_with("invalid peer certificate: UnknownIssuer"),
        "{chain}"
    );
    lab.stop();
}

#[test]
fn a_target_without_the_lab_ca_is_refused_and_an_insecure_one_warns_once() {
    let (test, lab) = tls_lab();
    let written = std::fs::read_to_string(test.path().join("lab.toml")).unwrap();
    let without_ca: String = written
        .lines()
        .filter(|line| !line.starts_with("ca_file = "))
        .map(|line| format!("{line}\n"))
        .collect();
    let refused = probe(test.path(), "no-ca.toml", &without_ca);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&refused.stdout), "");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(
        stderr.lines().next().unwrap_or_default(),
        "error: `powerstore` login: the server's certificate is not trusted (invalid peer certificate: UnknownIssuer); set `ca_file` in target `powerstore` to the PEM file of the CA that signed it (`cutover lab --tls` writes one beside the target file), or `insecure = true` to skip the check (kind: http)",
        "{stderr}"
    );
    let insecure = without_ca.replace("\nurl = ", "\ninsecure = true\nurl = ");
    assert_eq!(insecure.matches("insecure = true").count(), 6, "{insecure}");
    let skipped = probe(test.path(), "insecure.toml", &insecure);
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert_eq!(skipped.status.code(), Some(0), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&skipped.stdout),
        "wave1-lun01\nweb-01\n"
    );
    // Huawei SMS builds two clients for its target (IAM and SMS): still one warning.
    let warnings: Vec<_> = stderr
        .lines()
        .filter_map(|line| line.split_once(" WARN ").map(|(_, warning)| warning))
        .collect();
    assert_eq!(
        warnings,
        [
            format!("target `powerstore` {INSECURE}"),
            format!("target `huawei_sms` {INSECURE}"),
        ],
        "{stderr}"
    );
    lab.stop();
}

/// Runs `script` from the repository root with `--lab --tls`, its connection pool
/// logging each connection's scheme, and its temporary folder one of the test's own;
/// returns its exit status, stdout and stderr without the pool's and waits' lines.
fn run_over_tls(script: &str, speed: &str, status: i32) -> (String, String) {
    let folder = tempfile::tempdir().unwrap();
    let temp = folder.path().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["run", script, "--lab", "--tls", "--speed", speed])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CUTOVER_JOURNAL", folder.path().join("journal.db"))
        .env("CUTOVER_LOG", "warn,cutover::script=info,cutover::view=info,rustls_platform_verifier=off,hyper_util::client::legacy::pool=debug")
        .env("WAVE_POLL", "50ms")
        .env("TMPDIR", &temp)
        .env_remove("CUTOVER_TARGETS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(status), "{stdout}\n{stderr}");
    let (pool, rest): (Vec<_>, Vec<_>) = stderr
        .lines()
        .partition(|line| line.contains(" DEBUG ") && line.contains("connection for ("));
    assert!(!pool.is_empty(), "{stderr}");
    for line in &pool {
        assert!(
            line.contains("connection for (\"https\", 127.0.0.1:"),
            "{line}"
        );
    }
    // The run's CA file was private to it and is gone with it.
    let left: Vec<PathBuf> = std::fs::read_dir(&temp)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(left, Vec::<PathBuf>::new());
    let rest = rest
        .iter()
        .map(|line| format!("{line}\n"))
        .collect::<String>();
    (stdout, without_progress(&rest))
}

#[test]
fn the_powerstore_wave_cuts_over_over_tls() {
    let (stdout, stderr) = run_over_tls("scripts/powerstore_cutover.rhai", "300", 1);
    assert_eq!(
        stderr,
        "error: the playbook marked the run failed: sessions not cut over: 1 cancelled, 1 failed\nnote: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`\n"
    );
    assert!(
        stdout.ends_with("summary: 1 cancelled, 3 cut over, 1 failed\n"),
        "{stdout}"
    );
}

#[test]
fn the_vcd_type_upgrade_runs_over_tls() {
    let (stdout, stderr) = run_over_tls("scripts/vcd_type_upgrade.rhai", "20", 1);
    assert_eq!(
        stderr,
        "error: the playbook marked the run failed: 3 instances left on the old type\nnote: run 1 is journaled; to go on from where it stopped, run the same command with `--resume 1`\n"
    );
    assert!(
        stdout.contains("34 instances migrated in 2 runs; 3 left on the old type\n"),
        "{stdout}"
    );
}

#[test]
fn the_ovf_import_follows_the_https_links_the_lab_hands_out() {
    let (stdout, _) = run_over_tls("scripts/ovf_import.rhai", "20", 0);
    assert!(
        stdout.contains("package files: [\"app.ovf\", \"app-disk1.vmdk\", \"app-disk2.vmdk\"]\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("imported as vm-101\n"), "{stdout}");
}

#[test]
fn the_history_import_pauses_and_resumes_over_tls() {
    let (stdout, _) = run_over_tls("scripts/history_import.rhai", "3000", 0);
    assert!(stdout.contains("\nresume: done\n"), "{stdout}");
    assert!(
        stdout.contains("history import SUCCEEDED: 100/100"),
        "{stdout}"
    );
}

/// Against the test's TLS lab, whose clock is held until each start shows (as in
/// examples.rs): its targets are https, with the lab's CA as `ca_file`.
#[test]
fn the_sms_playbook_runs_over_tls() {
    let test = Test::new().lab_tls().env("WAVE_POLL", "40ms").args([
        "run",
        concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/sms_migrate.rhai"),
    ]);
    let targets = std::fs::read_to_string(test.path().join("cutover.toml")).unwrap();
    let ca_file = test.test_lab().lab.ca_file().unwrap().display().to_string();
    assert_eq!(
        targets.matches("\nurl = \"https://127.0.0.1:").count(),
        6,
        "{targets}"
    );
    assert_eq!(
        targets.matches("\niam_url = \"https://127.0.0.1:").count(),
        1,
        "{targets}"
    );
    assert_eq!(
        targets.matches(&format!("ca_file = {ca_file:?}")).count(),
        6,
        "{targets}"
    );
    assert!(!targets.contains("http://"), "{targets}");
    let (code, lines, stderr) = crate::sms::run_starting_step_by_step(&test, &["web-02", "db-01"]);
    assert_eq!(code, Some(0), "{stderr}");
    let stdout = lines.join("\n") + "\n";
    assert!(
        stdout.contains("web-02: MIGRATE_SUCCESS; final incremental sync\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("summary: 2 SYNC_SUCCESS\n"), "{stdout}");
}

const CUTOVER: &str = r#"let s = powerstore("array1").import_session("wave1-lun03");
try { s.cutover(); print("took effect"); }
catch (e) { print(`${e.kind} ${e.retryable}`); print(e.message); }"#;

/// A `cut_short` and a `drop_connection` rule over TLS behave as over plain HTTP: the
/// cutover is applied once and its answer lost, the gate's verification reads the
/// session and finds it applied, and a rule behind it, which would catch a second
/// sending, stays unused.
#[test]
fn lost_answers_over_tls_are_sent_once() {
    for rule in [
        json!({"status": 200, "cut_short": true, "method": "POST", "path": "/api/rest/import_session"}),
        json!({"status": 0, "drop_connection": true, "method": "POST", "path": "/api/rest/import_session"}),
    ] {
        let said = "took effect\n";
        let test = Test::new().lab_tls();
        let lab = test.test_lab();
        lab.post_to(kind::POWERSTORE, "/_lab/faults", rule.clone());
        let resent = json!({"status": 503, "method": "POST", "path": "/api/rest/import_session"});
        lab.post_to(kind::POWERSTORE, "/_lab/faults", resent);
        let outcome = test
            .script("wave.rhai", CUTOVER)
            .args(["run", "wave.rhai"])
            .run();
        assert_eq!(outcome.stdout, said, "{rule}: {}", outcome.stderr);
        let state = outcome.lab().state();
        assert_eq!(
            state["faults"],
            json!({"pending": [{"status": 503, "count": 1, "method": "POST", "path": "/api/rest/import_session"}], "injected": 1}),
            "{rule}: sent once"
        );
        assert_eq!(state["counts"], json!({"cutover": 1}), "{rule}");
    }
}

/// A `hold` rule over TLS: the read waits until the rules are cleared, then is answered.
#[test]
fn a_held_request_over_tls_is_answered_once_released() {
    let test = Test::new().lab_tls();
    let lab = test.test_lab();
    let hold =
        json!({"status": 200, "hold": true, "method": "GET", "path": "/api/rest/import_session"});
    lab.post_to(kind::POWERSTORE, "/_lab/faults", hold);
    let script = r#"print(powerstore("array1").import_session("wave1-lun03").name);"#;
    let test = test.script("wave.rhai", script).args(["run", "wave.rhai"]);
    let mut child = crate::test::Child::spawn(test.command());
    let lines = child.lines();
    let lab = test.test_lab();
    crate::test::eventually("the read is held", || {
        lab.state()["faults"]["injected"] == 1
    });
    lab.delete_to(kind::POWERSTORE, "/_lab/faults");
    let (code, stdout, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, ["wave1-lun03"]);
}
