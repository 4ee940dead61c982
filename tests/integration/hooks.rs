//! The example hooks of `scripts/hooks/` against the lab: the repository's own hook file
//! watches a temporary folder, and the test drops real files into it.

use serde_json::Value;

use crate::test::Test;
use crate::test::kind;
use crate::watch::Watcher;

fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_saved_plan_cuts_over_its_sessions_and_writes_the_result_beside_it() {
    let test = Test::new().lab();
    let plans = test.path().join("plans");
    std::fs::create_dir_all(&plans).unwrap();
    let test = test
        .env("CUTOVER_PLANS", plans.to_str().unwrap())
        .env("WAVE_POLL", "50ms");
    let hook = repo("scripts/hooks/cutover_on_plan.rhai");
    let w = Watcher::start(test, ["watch", &hook, "--state", "watch.db"]);
    w.write(
        "plans/wave1.plan",
        "# wave 1, second half\nwave1-lun02\nwave1-lun03   # ready already\n\nwave1-lun05\nwave1-lun99\n",
    );
    w.stdout
        .wait_for("plan wave1.plan: 2 cut over, 1 failed, 1 not found");
    // Not every session was cut over, so the hook marks its run failed.
    w.stderr.wait_for("failed wave1.plan after");
    assert!(
        w.stderr.all().contains(
            &"error: the handler marked its run failed: plan wave1.plan: sessions not cut over: 1 failed, 1 not found".to_owned()
        ),
        "{:#?}",
        w.stderr.all()
    );
    let (code, stdout, stderr, test) = w.stop();
    assert_eq!(code, Some(0), "{}", stderr.all().join("\n"));
    let lines = stdout.all();
    assert_eq!(lines[0], "plan wave1.plan: 4 import sessions on array1");
    for row in [
        "wave1-lun02  cut over   Import_Completed  -",
        "wave1-lun03  cut over   Import_Completed  -",
        "wave1-lun05  failed     Failed            The copy of source resource",
        "wave1-lun99  not found  -",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(row)),
            "no {row:?} in {lines:#?}"
        );
    }
    let text = std::fs::read_to_string(test.path().join("plans/wave1.result.json")).unwrap();
    let result: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(result["plan"], "wave1.plan");
    assert_eq!(result["summary"], "2 cut over, 1 failed, 1 not found");
    assert_eq!(result["sessions"].as_array().unwrap().len(), 4, "{result}");
    let lab = test.test_lab();
    for name in ["wave1-lun02", "wave1-lun03"] {
        let id = lab.session(name)["id"].as_str().unwrap().to_owned();
        assert_eq!(lab.applied("cutover", &id), 1, "{name}");
    }
}

fn descriptor() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:id="file1" ovf:href="web-disk1.vmdk" ovf:size="3000000"/>
    <File ovf:id="file2" ovf:href="web-disk2.vmdk" ovf:size="1000000"/>
  </References>
  <VirtualSystem ovf:id="web-01"><Info>a web server</Info></VirtualSystem>
</Envelope>
"#
    .to_owned()
}

#[test]
fn an_ovf_dropped_with_its_disks_becomes_a_push_import() {
    let test = Test::new().lab();
    // Its session waits idle for the disks; nothing is reclaimed meanwhile.
    test.test_lab().post_to(
        kind::VCENTER,
        "/_lab/ovf",
        serde_json::json!({"reclaim_after": 86400}),
    );
    let dropbox = test.path().join("dropbox");
    std::fs::create_dir_all(&dropbox).unwrap();
    let test = test
        .env("OVF_DROPBOX", dropbox.to_str().unwrap())
        .env("OVF_SETTLE", "300ms")
        .env("WAVE_POLL", "50ms");
    let hook = repo("scripts/hooks/ovf_dropbox.rhai");
    let w = Watcher::start(test, ["watch", &hook, "--state", "watch.db"]);
    // The descriptor first; the disks arrive while the handler already waits for them.
    w.write("dropbox/web.ovf", &descriptor());
    w.stdout.wait_for("web.ovf: waiting for 2 files");
    // Each disk arrives whole: the handler never sees it created but still empty.
    w.at_once(|| {
        for (name, len) in [("web-disk1.vmdk", 3_000_000), ("web-disk2.vmdk", 1_000_000)] {
            let file = std::fs::File::create(dropbox.join(name)).unwrap();
            file.set_len(len).unwrap();
        }
    });
    let done = w.stdout.wait_for("web.ovf: imported as");
    assert_eq!(done, "web.ovf: imported as vm-101");
    let (code, _, stderr, test) = w.stop();
    assert_eq!(code, Some(0), "{}", stderr.all().join("\n"));
    let marker = std::fs::read_to_string(dropbox.join("web.ovf.imported")).unwrap();
    assert_eq!(marker.trim(), "vm-101");
    let state = test.test_lab().state_of(kind::VCENTER);
    let sessions = state["ovf_sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{state}");
    let files = sessions[0]["files"].as_array().unwrap();
    for (name, len) in [("web-disk1.vmdk", 3_000_000), ("web-disk2.vmdk", 1_000_000)] {
        let file = files.iter().find(|f| f["name"] == name).unwrap();
        assert_eq!(file["bytes_transferred"], len, "{file}");
    }
}
