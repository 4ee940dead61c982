//! vCenter OVF import sessions end to end (pull sources): real scripts through the binary
//! against the lab's reverse proxy.

use serde_json::json;

use crate::test::{Child, PATIENCE, Test, kind, next_line};

const PACKAGE: &str = "https://repo.example.com/appliances/app.ovf";

#[test]
fn the_ovf_playbook_imports_the_appliance() {
    let stdout = crate::test::run_from_repo(
        &["run", "scripts/ovf_import.rhai", "--lab", "--speed", "20"],
        Some("50ms"),
    );
    assert!(
        stdout.contains("package files: [\"app.ovf\", \"app-disk1.vmdk\", \"app-disk2.vmdk\"]\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("imported as vm-101\n"), "{stdout}");
}

#[test]
fn the_same_client_token_gives_one_session_and_instantiate_twice_is_refused() {
    let outcome = Test::new()
        .lab()
        .script(
            "wave.rhai",
            &format!(
                r#"
                let vc = vcenter("prod-vc");
                let opts = #{{ source: "pull", url: "{PACKAGE}", resource_pool: "resgroup-8", client_token: "t1" }};
                let a = vc.ovf_import(opts);
                let b = vc.ovf_import(opts);
                print(a.id == b.id);
                a.wait_for("IMPORT_SELECTING_OVF_PARAMS", #{{ every: "20ms" }});
                print(a.try_instantiate([]).errors.len());
                print(a.refresh().state);
                a.instantiate([]);
                try {{ a.instantiate([]); }} catch (e) {{ print(`${{e.kind}} ${{e.vendor_code}}`); }}
                print(a.wait_for("IMPORT_COMPLETED", #{{ every: "20ms" }}).vm_id);
                "#
            ),
        )
        .args(["run", "wave.rhai"])
        .stdout("true\n0\nIMPORT_SELECTING_OVF_PARAMS\ninvalid_state not_allowed_in_current_state\nvm-101\n")
        .success();
    let state = outcome.lab().state_of(kind::VCENTER);
    assert_eq!(
        state["ovf_sessions"].as_array().unwrap().len(),
        1,
        "{state}"
    );
}

#[test]
fn a_malformed_descriptor_fails_with_its_line_and_column() {
    let outcome = Test::new()
        .lab()
        .script(
            "wave.rhai",
            r#"
            let s = vcenter("prod-vc").ovf_import(#{ url: "https://repo.example.com/broken.ovf", resource_pool: "resgroup-8" });
            s.wait_for("IMPORT_SELECTING_OVF_PARAMS", #{ timeout: "1m", every: "20ms" });
            "#,
        )
        .args(["run", "wave.rhai"])
        .status(1)
        .run();
    // The wait logs what it sees first; the error follows.
    let first = outcome
        .stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        first.contains(
            "reached IMPORT_ERROR while waiting for IMPORT_SELECTING_OVF_PARAMS: broken.ovf:"
        ),
        "{first}"
    );
    let place = first.split("broken.ovf:").nth(1).unwrap_or_default();
    let numbers: Vec<&str> = place.split(':').take(2).collect();
    assert!(
        numbers.iter().all(|n| n.parse::<u32>().is_ok()),
        "line and column in {first}"
    );
    assert!(first.ends_with("(kind: invalid_state)"), "{first}");
}

#[test]
fn a_reclaimed_session_is_not_found() {
    let test = Test::new().lab();
    let lab = test.test_lab();
    // Nothing is reclaimed while the script waits on the import.
    lab.post_to(kind::VCENTER, "/_lab/ovf", json!({"reclaim_after": 86400}));
    let test = test
        .script(
            "wave.rhai",
            &format!(
                r#"
                let s = vcenter("prod-vc").ovf_import(#{{ url: "{PACKAGE}", resource_pool: "resgroup-8" }});
                s.wait_for("IMPORT_SELECTING_OVF_PARAMS", #{{ every: "20ms" }});
                s.instantiate([]);
                print(s.wait_for("IMPORT_COMPLETED", #{{ every: "20ms" }}).state);
                wait_for_file("reclaimed", #{{ settle: 0, every: "20ms" }});
                try {{ s.refresh(); }} catch (e) {{ print(`${{e.kind}} ${{e.status}}`); }}
                "#
            ),
        )
        .args(["run", "wave.rhai"]);
    let mut child = Child::spawn(test.command());
    let mut lines = child.lines();
    assert_eq!(next_line(&mut lines), "IMPORT_COMPLETED");
    // Five lab seconds after it ended, the finished session is reclaimed.
    let lab = test.test_lab();
    lab.pause_clock();
    lab.post_to(kind::VCENTER, "/_lab/ovf", json!({"reclaim_after": 5}));
    lab.advance_clock(6);
    test.touch("reclaimed");
    let (code, rest, stderr) = child.finish(lines, PATIENCE);
    assert_eq!(
        (code, rest),
        (Some(0), vec!["not_found 404".to_owned()]),
        "{stderr}"
    );
}

#[test]
fn preview_reads_plain_or_compressed_descriptors_and_probe_checks_urls() {
    use base64::Engine as _;
    use std::io::Write as _;
    let descriptor = r#"<Envelope><References><File ovf:id="f1" ovf:href="d1.vmdk"/><File ovf:id="f2" ovf:href="d2.vmdk"/></References><VirtualSystem ovf:id="vm"/></Envelope>"#;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(descriptor.as_bytes()).unwrap();
    let packed = base64::engine::general_purpose::STANDARD.encode(gzip.finish().unwrap());
    Test::new()
        .lab()
        .script(
            "wave.rhai",
            &format!(
                r#"
                let vc = vcenter("prod-vc");
                print(vc.preview(`{descriptor}`).files.map(|f| f.name));
                print(vc.preview("{packed}").files.len());
                let broken = vc.preview("<Envelope><References></Envelope>");
                print(broken.errors[0].issues[0].category);
                print(vc.probe("{PACKAGE}").status);
                print(vc.probe("https://repo.example.com/notes.txt").status);
                "#
            ),
        )
        .args(["run", "wave.rhai"])
        .stdout("[\"d1.vmdk\", \"d2.vmdk\"]\n2\nPARSE_ERROR\nSUCCESS\nHOST_NOT_FOUND\n")
        .success();
}
