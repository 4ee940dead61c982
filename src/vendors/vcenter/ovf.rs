//! OVF descriptors (vendor-apis.md §3): the files a package references, read with a real
//! XML parser, and the `ParseIssue` (with line and column) a malformed one gets. The
//! OVF import session's simulator reads packages with it.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde::{Deserialize, Serialize};

use crate::terminal_text::one_line;
use crate::vendors::vcenter::wire::LocalizableMessage;

/// The most characters of a descriptor's value an issue quotes.
const MAX_QUOTED: usize = 80;
/// The most characters of an issue's message.
const MAX_MESSAGE: usize = 400;

/// A file the descriptor's `References` section lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescriptorFile {
    /// `ovf:id`, which disks refer to.
    pub id: String,
    /// `ovf:href`, the file's name in the package.
    pub href: String,
    /// `ovf:size` in bytes, when given.
    pub size: Option<u64>,
}

/// What a well-formed descriptor says about the package.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// The `ovf:id` of the virtual system (or collection).
    pub name: Option<String>,
    pub files: Vec<DescriptorFile>,
}

/// A problem in a descriptor, and where it is (§3.3 ParseIssue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseIssue {
    /// `PARSE_ERROR`, `ELEMENT_REQUIRED`, `ATTRIBUTE_REQUIRED`, `VALUE_ILLEGAL`, …
    pub category: String,
    pub file: String,
    pub line_number: i64,
    pub column_number: i64,
    pub message: LocalizableMessage,
}

/// Reads one descriptor, remembering where each problem is.
struct Parser<'a> {
    file: &'a str,
    text: &'a str,
    descriptor: Descriptor,
    depth: usize,
    in_references: bool,
    saw_system: bool,
}

/// Parses descriptor `text`, the package file called `file`.
pub fn parse_descriptor(file: &str, text: &str) -> Result<Descriptor, ParseIssue> {
    let mut parser = Parser {
        file,
        text,
        descriptor: Descriptor::default(),
        depth: 0,
        in_references: false,
        saw_system: false,
    };
    let mut reader = Reader::from_str(text);
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|err| {
            parser.issue(
                "PARSE_ERROR",
                reader.error_position(),
                format!("the descriptor is not well-formed XML: {err}"),
            )
        })?;
        match event {
            Event::Start(element) => {
                parser.open(&element, at)?;
                parser.depth += 1;
            }
            Event::Empty(element) => parser.open(&element, at)?,
            Event::End(element) => {
                parser.depth = parser.depth.saturating_sub(1);
                if local(element.local_name().as_ref()) == "References" {
                    parser.in_references = false;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    parser.finish()
}

impl Parser<'_> {
    fn issue(&self, category: &str, offset: u64, message: String) -> ParseIssue {
        let (line_number, column_number) = line_and_column(self.text, offset);
        ParseIssue {
            category: category.to_owned(),
            file: self.file.to_owned(),
            line_number,
            column_number,
            // The XML parser's own errors may quote the descriptor.
            message: LocalizableMessage::new(
                format!("ovf.parse.{}", category.to_ascii_lowercase()),
                one_line(&message, MAX_MESSAGE),
            ),
        }
    }

    fn open(&mut self, element: &BytesStart<'_>, at: u64) -> Result<(), ParseIssue> {
        let name = local(element.local_name().as_ref());
        if self.depth == 0 && name != "Envelope" {
            let message =
                format!("the root element is `{name}`; an OVF descriptor starts with `Envelope`");
            return Err(self.issue("ELEMENT_REQUIRED", at, message));
        }
        match name.as_str() {
            "References" => self.in_references = true,
            "File" if self.in_references => {
                let file = self.file_entry(element, at)?;
                self.descriptor.files.push(file);
            }
            "VirtualSystem" | "VirtualSystemCollection" if !self.saw_system => {
                self.saw_system = true;
                self.descriptor.name = attribute(element, "id");
            }
            _ => {}
        }
        Ok(())
    }

    fn file_entry(&self, element: &BytesStart<'_>, at: u64) -> Result<DescriptorFile, ParseIssue> {
        let required = |name: &str| {
            attribute(element, name).ok_or_else(|| {
                self.issue(
                    "ATTRIBUTE_REQUIRED",
                    at,
                    format!("`File` needs an `ovf:{name}` attribute"),
                )
            })
        };
        let (id, href) = (required("id")?, required("href")?);
        let size = match attribute(element, "size") {
            None => None,
            Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
                self.issue(
                    "VALUE_ILLEGAL",
                    at,
                    format!(
                        "`ovf:size` of `{}` is `{}`, not a number of bytes",
                        one_line(&href, MAX_QUOTED),
                        one_line(&text, MAX_QUOTED)
                    ),
                )
            })?),
        };
        Ok(DescriptorFile { id, href, size })
    }

    fn finish(self) -> Result<Descriptor, ParseIssue> {
        let end = u64::try_from(self.text.len()).unwrap_or(u64::MAX);
        if !self.saw_system {
            let message = "the descriptor has no `VirtualSystem` or `VirtualSystemCollection`";
            return Err(self.issue("ELEMENT_REQUIRED", end, message.to_owned()));
        }
        Ok(self.descriptor)
    }
}

/// The local part of an element or attribute name (`ovf:href` → `href`).
fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    name.rsplit(':').next().unwrap_or_default().to_owned()
}

/// The value of the attribute whose local name is `name`, whatever its prefix.
fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| local(a.key.as_ref()) == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: u64) -> (i64, i64) {
    let mut end = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    (
        i64::try_from(line).unwrap_or(i64::MAX),
        i64::try_from(column).unwrap_or(i64::MAX),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A good descriptor: two files (one with its size), a disk and one system.
    pub(crate) const GOOD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1">
  <References>
    <File ovf:id="file1" ovf:href="app-disk1.vmdk" ovf:size="1073741824"/>
    <File ovf:id="file2" ovf:href="app-disk2.vmdk"/>
  </References>
  <DiskSection><Info>disks</Info><Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="10"/></DiskSection>
  <VirtualSystem ovf:id="app-01"><Info>the appliance</Info>
    <VirtualHardwareSection><Item><rasd:ElementName xmlns:rasd="x">cpu</rasd:ElementName></Item></VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"#;

    #[test]
    fn a_descriptor_lists_its_files_and_system() {
        let descriptor = parse_descriptor("app.ovf", GOOD).unwrap();
        assert_eq!(descriptor.name.as_deref(), Some("app-01"));
        let files: Vec<_> = descriptor
            .files
            .iter()
            .map(|f| (f.href.as_str(), f.size))
            .collect();
        assert_eq!(
            files,
            [
                ("app-disk1.vmdk", Some(1_073_741_824)),
                ("app-disk2.vmdk", None)
            ]
        );
    }

    #[track_caller]
    fn problem(text: &str, category: &str, line: i64, column: i64) {
        let issue = parse_descriptor("app.ovf", text).unwrap_err();
        assert_eq!(
            (
                issue.category.as_str(),
                issue.line_number,
                issue.column_number
            ),
            (category, line, column),
            "{}",
            issue.message.default_message
        );
        assert_eq!(issue.file, "app.ovf");
    }

    #[test]
    fn problems_carry_their_line_and_column() {
        problem(
            "<Envelope>\n  <References>\n  </Refrences>\n</Envelope>",
            "PARSE_ERROR",
            3,
            3,
        );
        problem("<Package/>", "ELEMENT_REQUIRED", 1, 1);
        problem(
            "<Envelope>\n<References>\n  <File ovf:href=\"d.vmdk\"/>\n</References>\n</Envelope>",
            "ATTRIBUTE_REQUIRED",
            3,
            3,
        );
        problem(
            "<Envelope><References><File ovf:id=\"f\" ovf:href=\"d.vmdk\" ovf:size=\"big\"/></References></Envelope>",
            "VALUE_ILLEGAL",
            1,
            23,
        );
        problem("<Envelope>\n</Envelope>", "ELEMENT_REQUIRED", 2, 12);
    }

    /// Found by fuzzing: an illegal size quoted the file name and the value whole, with
    /// control characters.
    #[test]
    fn an_illegal_size_quotes_short_escaped_values() {
        let text = format!(
            "<Envelope><References><File ovf:id=\"a\" ovf:href=\"a&amp;\u{2}.vmdk\" ovf:size=\"{}\"/></References></Envelope>",
            "y".repeat(5000)
        );
        let issue = parse_descriptor("app.ovf", &text).unwrap_err();
        assert_eq!(
            issue.message.default_message,
            format!(
                "`ovf:size` of `a&\\u{{2}}.vmdk` is `{}…`, not a number of bytes",
                "y".repeat(80)
            )
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(line_and_column("äb\ncd", 3), (1, 3));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("ab", 99), (1, 3));
    }
}
