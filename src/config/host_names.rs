//! Host names a target entry may name besides its own URL (vCenter's `upload_hosts`):
//! exact names or a leading-wildcard suffix, matched without resolving anything.

/// Host names (`esx-01.example.com`) or a leading-wildcard suffix (`*.esx.example.com`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostNames(Vec<String>);

impl HostNames {
    /// `patterns`, each a host name or `*.domain` (lowercase; the vendor checked them).
    pub fn new(patterns: Vec<String>) -> Self {
        Self(patterns)
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.0
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_exactly_or_under_a_wildcard_suffix() {
        let hosts = HostNames(vec![
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
        assert!(!HostNames::default().allow("esx-01.example.com"));
    }
}
