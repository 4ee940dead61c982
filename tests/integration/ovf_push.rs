//! vCenter OVF push imports end to end: a script uploads a descriptor and two disks the
//! test wrote, streamed from disk into the lab, which counts every byte.

use std::fs::File;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::test::{Child, Test, kind};

/// The large disk: sparse, so writing it costs nothing, yet every byte is sent.
const LARGE: u64 = 256 << 20;
const SMALL: u64 = 16 << 20;
/// Far below [`LARGE`]: a client that read the disk whole could not stay under it.
const MEMORY_CEILING_KIB: u64 = 120 << 10;

fn descriptor() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
        <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
          <References>
            <File ovf:id="file1" ovf:href="disk1.vmdk" ovf:size="{LARGE}"/>
            <File ovf:id="file2" ovf:href="disk2.vmdk" ovf:size="{SMALL}"/>
          </References>
          <VirtualSystem ovf:id="db-01"><Info>the database</Info></VirtualSystem>
        </Envelope>
        "#
    )
}

fn sparse(test: &Test, name: &str, len: u64) {
    File::create(test.path().join(name))
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// The process's peak resident memory so far, in KiB (Linux only; 0 elsewhere).
fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_push_import_streams_two_disks_at_once_with_flat_memory() {
    let test = Test::new()
        .lab()
        .file("package/db.ovf", &descriptor())
        .script(
            "wave.rhai",
            r#"
            let s = vcenter("prod-vc").ovf_import(#{ source: "push", resource_pool: "resgroup-8" });
            s.push(s.files[0].name, "package/db.ovf");
            print(`${s.state} ${s.files.map(|f| f.name)}`);
            s.instantiate([]);
            s.push(#{ "disk1.vmdk": "package/disk1.vmdk", "disk2.vmdk": "package/disk2.vmdk" },
                   #{ keep_alive: "20ms" });
            print(s.wait_for("IMPORT_COMPLETED", #{ every: "20ms" }).vm_id);
            "#,
        )
        .args(["run", "wave.rhai"]);
    sparse(&test, "package/disk1.vmdk", LARGE);
    sparse(&test, "package/disk2.vmdk", SMALL);
    let lab = test.test_lab();
    // The lab holds both disk uploads once they have started, until the test has seen
    // them in flight together and the push has kept the session alive meanwhile.
    let settings = json!({"hold_uploads": true, "reclaim_after": 86400});
    lab.post_to(kind::VCENTER, "/_lab/ovf", settings);
    let mut child = Child::spawn(test.command());
    let pid = child.0.id();
    let started = Instant::now();
    let mut peak = 0;
    let mut held = true;
    while child.0.try_wait().unwrap().is_none() {
        peak = peak_memory_kib(pid).unwrap_or(0).max(peak);
        if held {
            let session = lab.state_of(kind::VCENTER)["ovf_sessions"][0].clone();
            if session["uploads_now"] == 2 && session["last_progress"].is_i64() {
                lab.post_to(kind::VCENTER, "/_lab/ovf", json!({"hold_uploads": false}));
                held = false;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "still pushing"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = child.wait(Duration::from_secs(1));
    let stdout: Vec<String> = child.lines().map(Result::unwrap).collect();
    assert!(status.success(), "{stdout:?}\n{}", child.stderr());
    assert!(!held, "the push ended while its uploads were held");
    assert_eq!(
        stdout,
        [
            "IMPORT_SELECTING_OVF_PARAMS [\"descriptor.ovf\", \"disk1.vmdk\", \"disk2.vmdk\"]",
            "vm-101"
        ]
    );
    eprintln!("peak memory of the pushing client: {peak} KiB");
    if cfg!(target_os = "linux") {
        assert!(peak > 0, "no memory reading");
        assert!(
            peak < MEMORY_CEILING_KIB,
            "peak {peak} KiB for a {LARGE}-byte disk"
        );
    }

    let state = test.test_lab().state_of(kind::VCENTER);
    let session = &state["ovf_sessions"][0];
    assert_eq!(session["state"], "IMPORT_COMPLETED", "{session}");
    assert_eq!(session["uploads_peak"], 2, "{session}");
    assert!(
        session["last_progress"].is_i64(),
        "no keep-alive: {session}"
    );
    let transferred = |name: &str| -> Value {
        let files = session["files"].as_array().unwrap();
        let file = files.iter().find(|f| f["name"] == name).unwrap();
        assert_eq!(file["done"], true, "{file}");
        file["bytes_transferred"].clone()
    };
    assert_eq!(transferred("disk1.vmdk"), LARGE);
    assert_eq!(transferred("disk2.vmdk"), SMALL);
}

#[test]
fn a_push_refuses_unknown_names_wrong_sizes_and_files_outside_the_folder() {
    let outcome = Test::new()
        .lab()
        .file("package/db.ovf", &descriptor())
        .file("package/disk1.vmdk", "too short")
        .script(
            "wave.rhai",
            r#"
            let s = vcenter("prod-vc").ovf_import(#{ source: "push", resource_pool: "resgroup-8" });
            s.push("descriptor.ovf", "package/db.ovf");
            for files in [#{ "disk9.vmdk": "package/disk1.vmdk" },
                          #{ "disk1.vmdk": "package/disk1.vmdk" },
                          #{ "disk1.vmdk": "/etc/hostname" },
                          #{ "disk1.vmdk": "package/missing.vmdk" }] {
                try { s.push(files); } catch (e) { print(`${e.kind} ${e.operation}: ${e.message}`); }
            }
            "#,
        )
        .args(["run", "wave.rhai"])
        .success();
    let lines: Vec<&str> = outcome.stdout.lines().collect();
    let expected = [
        (
            "validation ovf.push: the session has no file `disk9.vmdk`;",
            "in IMPORT_SELECTING_OVF_PARAMS it lists: descriptor.ovf, disk1.vmdk, disk2.vmdk",
        ),
        (
            "validation ovf.push: `",
            "/package/disk1.vmdk` is 9 bytes but the descriptor says `disk1.vmdk` has 268435456",
        ),
        (
            "validation ovf.push: refusing to read `/etc/hostname`: scripts read files only under `",
            "pass `--allow-read /etc` to allow its folder",
        ),
        (
            "validation ovf.push: cannot read `",
            "/package/missing.vmdk`: No such file or directory (os error 2)",
        ),
    ];
    assert_eq!(lines.len(), expected.len(), "{}", outcome.stdout);
    for (line, (start, end)) in lines.iter().zip(expected) {
        assert!(line.starts_with(start) && line.ends_with(end), "{line}");
    }
}
