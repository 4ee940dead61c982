//! `upload_hosts` of a `vcenter` target: the ESXi hosts an OVF push may stream disks to.
//! vCenter hands out upload URLs on the host that will hold the VM, not on itself; those
//! URLs carry their own ticket, so no credentials go with them, but the target file still
//! says which hosts may receive a disk, as it does for every other request.

use crate::config::{ExtraFields, ExtraKey, Extras, GrantedHosts, HostGrant, HostNames, Shape};
use crate::http::host_gate::OVF_PUSH;

/// The extra key of a vCenter target.
pub(super) const KEYS: &[ExtraKey] = &[ExtraKey {
    name: "upload_hosts",
    shape: Shape::TextList,
}];

/// Reads and checks `upload_hosts`: host names or `*.domain`, lowercased.
pub(super) fn check(fields: &ExtraFields<'_>) -> Result<Extras, String> {
    let name = fields.name();
    let mut hosts = Vec::new();
    for pattern in fields.texts("upload_hosts") {
        let pattern = pattern.trim().to_ascii_lowercase();
        let bare = pattern.strip_prefix("*.").unwrap_or(&pattern);
        let valid = !bare.is_empty()
            && bare
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Err(format!(
                "target `{name}`: upload host `{}` is not a host name or `*.domain`",
                ExtraFields::quoted(&pattern)
            ));
        }
        hosts.push(pattern);
    }
    Ok(upload_hosts(hosts))
}

/// The extras of a target that may stream OVF disks to `hosts` (none: its own only).
pub fn upload_hosts(hosts: Vec<String>) -> Extras {
    if hosts.is_empty() {
        return Extras::default();
    }
    let written = toml::Value::Array(hosts.iter().cloned().map(toml::Value::from).collect());
    Extras::new(())
        .write("upload_hosts", written)
        .grant(HostGrant {
            field: "upload_hosts",
            operation: OVF_PUSH,
            hosts: GrantedHosts::Named(HostNames::new(hosts)),
        })
}
