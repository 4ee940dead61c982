//! Fuzz target: Cloud Director URNs (vendor-apis.md §2.3). Any text parses or gives the
//! `UrnError` that quotes it and shows the expected shape; every valid URN prints back
//! as the text it was read from, and a version prefix covers what it names.

use proptest::prelude::*;

use super::mutate::{self, Format};
use super::support::config;
use crate::vendors::vcd::wire::TypeUrn;

const SEEDS: &[&str] = &[
    "urn:vcloud:type:vmware:vspheresddc:1.0.0",
    "urn:vcloud:type:acme:vm",
    "urn:vcloud:type:acme:vm:1.0",
    "urn:vcloud:type:acme:vm:1",
    "urn:vcloud:entity:vmware:vspheresddc:5e0b9c44-6e0b-4c1f-9a53-5a0e1a2b3c4d",
];

/// A vendor or nss: letters, digits, `_`, `-` and `.`, not a bare version.
fn name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_.-]{1,16}".prop_filter("not a version", |n| {
        !n.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            || n.split('.').count() > 3
    })
}

fn version() -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::vec(0..1000_u32, 1..=3)
}

fn dotted(parts: &[u32]) -> String {
    parts
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

proptest! {
    #![proptest_config(config(2000))]

    #[test]
    fn any_text_parses_or_gives_the_shape(text in mutate::text(Format::Json, SEEDS)) {
        for result in [TypeUrn::parse(&text).map(|u| u.to_string()), TypeUrn::parse_full(&text).map(|u| u.to_string())] {
            match result {
                Ok(shown) => prop_assert_eq!(shown, text.clone()),
                Err(err) => {
                    prop_assert_eq!(&err.text, &text);
                    prop_assert!(err.to_string().contains("expected urn:vcloud:type:<vendor>:<nss>"), "{}", err);
                }
            }
        }
    }

    #[test]
    fn valid_urns_round_trip(vendor in name(), nss in name(), version in proptest::option::of(version())) {
        let text = match &version {
            Some(parts) => format!("urn:vcloud:type:{vendor}:{nss}:{}", dotted(parts)),
            None => format!("urn:vcloud:type:{vendor}:{nss}"),
        };
        let urn = TypeUrn::parse(&text);
        prop_assert!(urn.is_ok(), "{}: {:?}", text, urn);
        let urn = urn.unwrap_or_else(|_| unreachable!());
        prop_assert_eq!(urn.to_string(), text.clone());
        prop_assert_eq!(TypeUrn::parse(&urn.to_string()), Ok(urn.clone()));
        let full = version.as_ref().is_some_and(|v| v.len() == 3);
        prop_assert_eq!(TypeUrn::parse_full(&text).is_ok(), full);
    }

    #[test]
    fn a_version_prefix_covers_the_versions_under_it(
        prefix in version(),
        concrete in proptest::collection::vec(0..1000_u32, 3),
    ) {
        let pattern = TypeUrn::parse(&format!("urn:vcloud:type:acme:vm:{}", dotted(&prefix)));
        let concrete_urn = TypeUrn::parse_full(&format!("urn:vcloud:type:acme:vm:{}", dotted(&concrete)));
        let (Ok(pattern), Ok(concrete_urn)) = (pattern, concrete_urn) else {
            return Err(TestCaseError::fail("valid URNs refused"));
        };
        prop_assert_eq!(pattern.covers(&concrete_urn), concrete.starts_with(&prefix));
        let any_version = TypeUrn::parse("urn:vcloud:type:acme:vm").map(|u| u.covers(&concrete_urn));
        prop_assert_eq!(any_version, Ok(true));
    }
}
