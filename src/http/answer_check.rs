//! Whether a successful answer's body is what its content type says: JSON that parses,
//! XML that is well formed. A body cut short or replaced on the way (a proxy's error
//! page, a connection that closed early with a matching length) is caught here, once
//! for every vendor, so a read can be sent again and a change verified, instead of a
//! parser failing later with no way to tell the two apart.

/// Why `body` is not the `content_type` it claims, or `None` when it is (or the type is
/// neither JSON nor XML, or the body is empty).
pub(super) fn unreadable(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let essence = content_type?
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        return serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .err()
            .map(|err| format!("the body is not valid JSON ({err})"));
    }
    if essence == "application/xml" || essence == "text/xml" || essence.ends_with("+xml") {
        return malformed_xml(body).map(|why| format!("the body is not well-formed XML ({why})"));
    }
    None
}

/// The first well-formedness error of an XML document, reading it through once.
fn malformed_xml(body: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    reader.config_mut().check_end_names = true;
    let mut buffer = Vec::new();
    let mut depth: usize = 0;
    let mut roots: usize = 0;
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(quick_xml::events::Event::Start(_)) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Ok(quick_xml::events::Event::Empty(_)) if depth == 0 => roots += 1,
            Ok(quick_xml::events::Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(quick_xml::events::Event::Eof) => {
                return if depth > 0 {
                    Some("it ends inside an element".to_owned())
                } else if roots == 0 {
                    Some("it has no element".to_owned())
                } else {
                    None
                };
            }
            Ok(_) => {}
            Err(err) => return Some(err.to_string()),
        }
        buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked_against_their_content_type() {
        #[track_caller]
        fn case(content_type: Option<&str>, body: &str, readable: bool) {
            assert_eq!(
                unreadable(content_type, body.as_bytes()).is_none(),
                readable,
                "{content_type:?} {body:?}"
            );
        }
        let json = Some("application/json");
        case(json, r#"{"id": "s1", "state": "Ready"}"#, true);
        case(json, "", true);
        case(json, r#"{"id": "s1", "sta"#, false);
        case(json, "<html>proxy error</html>", false);
        case(Some("application/json; charset=utf-8"), "[1, 2", false);
        case(
            Some("application/vnd.vmware.vcloud.task+json;version=38.0"),
            "{",
            false,
        );
        let xml = Some("application/xml");
        case(xml, "<Task status=\"running\"><Owner/></Task>", true);
        case(
            xml,
            "<?xml version=\"1.0\"?>\n<Envelope><a>1</a></Envelope>",
            true,
        );
        case(xml, "<Task status=\"running\"><Owner/>", false);
        case(xml, "<a></b>", false);
        case(
            Some("application/vnd.vmware.vcloud.task+xml"),
            "not xml at all",
            false,
        );
        case(Some("application/octet-stream"), "\u{1}\u{2}", true);
        case(None, "{", true);
    }

    #[test]
    fn the_reason_names_the_format_and_where_it_broke() {
        assert_eq!(
            unreadable(Some("application/json"), br#"{"id": "#).unwrap(),
            "the body is not valid JSON (EOF while parsing a value at line 1 column 7)"
        );
        assert_eq!(
            unreadable(Some("text/xml"), b"<a><b>").unwrap(),
            "the body is not well-formed XML (it ends inside an element)"
        );
    }
}
