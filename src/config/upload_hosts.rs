//! `upload_hosts` of a `vcenter` target: the ESXi hosts an OVF push may stream disks to.
//! vCenter hands out upload URLs on the host that will hold the VM, not on itself; those
//! URLs carry their own ticket, so no credentials go with them, but the target file still
//! says which hosts may receive a disk, as it does for every other request.

use super::{RawTarget, TargetKind};

/// Host names (`esx-01.example.com`) or a leading-wildcard suffix (`*.esx.example.com`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadHosts(Vec<String>);

impl UploadHosts {
    /// Whether `host` is named, exactly or under a `*.` suffix, ignoring case.
    pub fn allow(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.0
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
                None => host == *pattern,
            })
    }
}

/// Reads and checks `upload_hosts`; only vCenter targets take it.
pub(super) fn upload_hosts(name: &str, raw: &RawTarget) -> Result<UploadHosts, String> {
    if raw.upload_hosts.is_empty() {
        return Ok(UploadHosts::default());
    }
    if raw.kind != TargetKind::Vcenter {
        return Err(format!(
            "target `{name}`: `upload_hosts` applies only to vcenter targets"
        ));
    }
    let mut hosts = Vec::new();
    for pattern in &raw.upload_hosts {
        let pattern = pattern.trim().to_ascii_lowercase();
        let bare = pattern.strip_prefix("*.").unwrap_or(&pattern);
        let valid = !bare.is_empty()
            && bare
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Err(format!(
                "target `{name}`: upload host `{}` is not a host name or `*.domain`",
                super::excerpt::quoted(&pattern)
            ));
        }
        hosts.push(pattern);
    }
    Ok(UploadHosts(hosts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_under_a_wildcard_suffix() {
        let hosts = UploadHosts(vec![
            "esx-01.example.com".into(),
            "*.esx.example.com".into(),
        ]);
        let cases = [
            ("esx-01.example.com", true),
            ("ESX-01.example.com", true),
            ("a.esx.example.com", true),
            ("b.c.esx.example.com", true),
            ("esx.example.com", false),
            ("evilesx.example.com", false),
            ("esx-02.example.com", false),
            ("esx-01.example.com.evil.org", false),
        ];
        for (host, allowed) in cases {
            assert_eq!(hosts.allow(host), allowed, "{host}");
        }
        assert!(!UploadHosts::default().allow("esx-01.example.com"));
    }
}
