//! Fuzz target: the OVF descriptor parser (vendor-apis.md §3). Any text gives the files
//! and system a descriptor names, or a `ParseIssue` of a known category whose line and
//! column lie in the text and whose message is short; a descriptor written from known
//! files reads back as those files.

use proptest::prelude::*;

use super::mutate;
use super::support::config;
use crate::vendors::vcenter::ovf::tests::GOOD;
use crate::vendors::vcenter::ovf::{DescriptorFile, parse_descriptor};

const COLLECTION: &str = r#"<ovf:Envelope xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"><ovf:References><ovf:File ovf:id="a" ovf:href="a&amp;b.vmdk" ovf:size=" 12 "/></ovf:References><ovf:VirtualSystemCollection ovf:id="vapp"><ovf:VirtualSystem ovf:id="inner"/></ovf:VirtualSystemCollection></ovf:Envelope>"#;
const SEEDS: &[&str] = &[GOOD, COLLECTION];

const CATEGORIES: &[&str] = &[
    "PARSE_ERROR",
    "ELEMENT_REQUIRED",
    "ATTRIBUTE_REQUIRED",
    "VALUE_ILLEGAL",
];

/// Escapes text for an XML attribute.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn any_text_gives_a_descriptor_or_a_located_issue(text in mutate::xml(SEEDS)) {
        match parse_descriptor("app.ovf", &text) {
            Ok(_) => {}
            Err(issue) => {
                prop_assert!(CATEGORIES.contains(&issue.category.as_str()), "{}", issue.category);
                prop_assert_eq!(issue.file.as_str(), "app.ovf");
                let lines = i64::try_from(text.split('\n').count()).unwrap_or(i64::MAX);
                prop_assert!((1..=lines).contains(&issue.line_number), "line {} of {}", issue.line_number, lines);
                prop_assert!(issue.column_number >= 1);
                let message = &issue.message.default_message;
                prop_assert!(message.chars().count() <= 600, "{} chars", message.chars().count());
                prop_assert!(!message.chars().any(char::is_control), "{:?}", message);
            }
        }
    }

    #[test]
    fn written_descriptors_read_back(
        files in proptest::collection::vec(
            ("[A-Za-z0-9_-]{1,12}", any::<String>(), proptest::option::of(any::<u64>())),
            0..6,
        ),
        system in any::<String>(),
        prefix in proptest::sample::select(&["", "ovf:"][..]),
    ) {
        let mut text = format!("<{prefix}Envelope xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1\">\n<{prefix}References>\n");
        for (id, href, size) in &files {
            let size = size.map(|s| format!(" ovf:size=\"{s}\"")).unwrap_or_default();
            text.push_str(&format!("  <{prefix}File ovf:id=\"{id}\" ovf:href=\"{}\"{size}/>\n", escaped(href)));
        }
        text.push_str(&format!("</{prefix}References>\n<{prefix}VirtualSystem ovf:id=\"{}\"/>\n</{prefix}Envelope>\n", escaped(&system)));
        let parsed = parse_descriptor("app.ovf", &text);
        prop_assert!(parsed.is_ok(), "{:?}", parsed);
        let parsed = parsed.unwrap_or_default();
        let expected: Vec<DescriptorFile> = files
            .iter()
            .map(|(id, href, size)| DescriptorFile { id: id.clone(), href: href.clone(), size: *size })
            .collect();
        prop_assert_eq!(parsed.files, expected);
        prop_assert_eq!(parsed.name, Some(system));
    }
}
