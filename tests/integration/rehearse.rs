//! Rehearsing a production playbook unchanged under `run --lab` (issue 12, item 3): an
//! appliance pulled from a production repository URL, and a type upgrade that moves the
//! `globex` org's entities as a System administrator may. The playbook names no lab
//! detail; what it reads back over the vendors' APIs after acting is what is checked.

use crate::test::Test;

/// A wave's playbook as it would run in production.
const PLAYBOOK: &str = r#"
// Wave 7: import the CRM appliance from the repository, then upgrade every 1.0.0 VM
// entity to 2.0.0 across the orgs (billing's live in globex).
import "cutover/vcd" as cd;

const PACKAGE = "https://repo.example.com/apps/crm.ovf";
const SOURCE = "urn:vcloud:type:acme:vm:1.0.0";
const TARGET = "urn:vcloud:type:acme:vm:2.0.0";

let vc = vcenter("prod-vc");
let session = vc.ovf_import(#{
    source: "pull", url: PACKAGE, resource_pool: "resgroup-8", folder: "group-v4",
    client_token: "wave7-crm"
});
session.wait_for("IMPORT_SELECTING_OVF_PARAMS", #{ timeout: "1h", every: "2s" });
print(`package files: ${session.files.map(|f| f.name)}`);
session.instantiate([]);
session.wait_for("IMPORT_COMPLETED", #{ timeout: "1h", every: "2s" });
print(`crm: ${session.refresh().state}, vm ${session.vm_id}`);

let vcd = vcd("prod-vcd");
let result = cd::migrate_all(vcd, SOURCE, TARGET, #{ every: "2s" });
for name in ["billing-web", "billing-db"] {
    let e = vcd.entities("urn:vcloud:type:acme:vm", #{ filter: `name==${name}` })[0];
    print(`${e.name} (${e.org.name}): ${e.entityType} ${e.entityState}`);
}
print(`left on ${SOURCE}: ${result.left.map(|e| e.name)}`);
"#;

/// Its production target file: with `--lab` each target keeps its name and points at
/// the lab.
const TARGETS: &str = r#"
[targets.prod-vcd]
kind = "vcd"
url = "https://vcd.example.com"
user = "administrator@System"
password_env = "CUTOVER_PROD_VCD_PASSWORD"

[targets.prod-vc]
kind = "vcenter"
url = "https://vc.example.com"
user = "administrator@vsphere.local"
password_env = "CUTOVER_PROD_VC_PASSWORD"
"#;

// At 60 lab seconds per second, each wait's timeout (an hour of lab time) leaves a
// minute of wall time to a loaded machine; the whole run takes well under a second.
#[test]
fn a_production_playbook_rehearses_unchanged_under_the_lab() {
    Test::new()
        .file("cutover.toml", TARGETS)
        .script("wave7.rhai", PLAYBOOK)
        .args(["run", "wave7.rhai", "--lab", "--speed", "60"])
        .stdout(
            r#"
            package files: ["crm.ovf", "crm-disk1.vmdk", "crm-disk2.vmdk"]
            crm: IMPORT_COMPLETED, vm vm-101
            billing-web (globex): urn:vcloud:type:acme:vm:2.0.0 RESOLVED
            billing-db (globex): urn:vcloud:type:acme:vm:2.0.0 RESOLVED
            left on urn:vcloud:type:acme:vm:1.0.0: ["web-02"]
            "#,
        )
        .success();
}

/// The rough estate's broken package and invalid entity, as a wave meets them: the
/// vendors' own errors reach the script.
#[test]
fn the_rough_estate_fails_the_broken_package_and_the_invalid_entity_as_the_vendors_do() {
    use cutover::lab::{Estate, Scenario};
    Test::new()
        .lab_with_estate(Estate::new(Scenario::Rough, 12))
        .script(
            "wave.rhai",
            r#"
            let s = vcenter("prod-vc").ovf_import(#{ source: "pull",
                url: "https://repo.example.com/apps/payroll.ovf", resource_pool: "resgroup-8" });
            try { s.wait_for("IMPORT_SELECTING_OVF_PARAMS", #{ timeout: "1h", every: "20ms" }); }
            catch (e) { let m = e.message; m.replace(s.id, "<id>"); print(`${e.kind}: ${m}`); }
            let vcd = vcd("prod-vcd");
            let t = vcd.migrate_entities("urn:vcloud:type:acme:vm:1.0.0",
                #{ target: "urn:vcloud:type:acme:vm:2.0.0" });
            let left = [];
            try { t.wait(#{ timeout: "1h", every: "20ms" }); }
            catch (e) {
                left = vcd.entities("urn:vcloud:type:acme:vm:1.0.0");
                let m = e.message;
                for entity in left { m.replace(entity.id, `<${entity.name}>`); }
                m.replace(t.id, "<task>");
                print(`${e.kind} ${e.status} ${e.vendor_code}: ${m}`);
            }
            print(left.map(|e| `${e.name} ${e.entityState}`));
            "#,
        )
        .args(["run", "wave.rhai"])
        .stdout(
            r#"
            invalid_state: import session `<id>` reached IMPORT_ERROR while waiting for IMPORT_SELECTING_OVF_PARAMS: payroll.ovf:5:3: the descriptor is not well-formed XML: ill-formed document: expected `</File>`, but `</References>` was found
            invalid_state 400 BAD_REQUEST: task `<task>` ended error: Migration of entities of urn:vcloud:type:acme:vm:1.0.0 to urn:vcloud:type:acme:vm:2.0.0 failed: 2 RESOLVED instance(s) do not validate against urn:vcloud:type:acme:vm:2.0.0 and were not migrated: web-02 (<web-02>): "guestOs" is a required property; erp-web (<erp-web>): "guestOs" is a required property; fix their contents, or migrate with forceMigrate to move them in RESOLUTION_ERROR
            ["web-02 RESOLVED", "erp-web RESOLVED"]
            "#,
        )
        .success();
}
