//! Inputs for the fuzz targets: valid documents (from vendor-apis.md and the lab) taken
//! apart the ways a broken proxy or a hostile server would: truncated, bytes flipped,
//! fragments inserted, values swapped for other types, huge numbers, deep nesting, and
//! bytes that are not UTF-8. Each strategy also yields arbitrary input now and then.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::Value;

/// One edit of a document's bytes.
#[derive(Clone, Debug)]
enum Edit {
    Truncate(Index),
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Duplicate(Index, usize),
    Token(Index, &'static str),
    Nest(usize),
}

/// Fragments that break parsers more often than random bytes do.
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "\\",
    "\\u",
    "\\ud800",
    "null",
    "true",
    "1e999999",
    "-0",
    "18446744073709551616",
    "-9223372036854775809",
    "0.0000000000000000000001",
    "\u{0}",
    "\u{1b}[2J",
    "\u{202e}",
    "\n",
    "💥",
];
const XML_TOKENS: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "\"",
    "'",
    "=",
    "&",
    "&amp;",
    "&bogus;",
    "&#0;",
    "&#xFFFFFFFF;",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
    "<?xml version=\"1.0\"?>",
    "xmlns:ovf=\"x\"",
    "ovf:",
    "99999999999999999999999",
    "-1",
    "\u{0}",
    "\n",
    "💥",
];

/// Which document language a seed is written in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    fn tokens(self) -> &'static [&'static str] {
        match self {
            Self::Json => JSON_TOKENS,
            Self::Xml => XML_TOKENS,
        }
    }

    fn nest(self, depth: usize, inner: &[u8]) -> Vec<u8> {
        let (open, close): (&[u8], &[u8]) = match self {
            Self::Json => (b"[", b"]"),
            Self::Xml => (b"<a>", b"</a>"),
        };
        let mut out = open.repeat(depth);
        out.extend_from_slice(inner);
        out.extend(close.repeat(depth));
        out
    }
}

fn edit(format: Format) -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<Index>().prop_map(Edit::Truncate),
        (any::<Index>(), 1..=u8::MAX).prop_map(|(at, mask)| Edit::Flip(at, mask)),
        (any::<Index>(), vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Edit::Insert(at, bytes)),
        (any::<Index>(), 1..32_usize).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<Index>(), 1..200_usize).prop_map(|(at, n)| Edit::Duplicate(at, n)),
        (any::<Index>(), select(format.tokens())).prop_map(|(at, t)| Edit::Token(at, t)),
        prop_oneof![1..64_usize, 64..20_000_usize].prop_map(Edit::Nest),
    ]
}

fn apply(format: Format, mut doc: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let at = |index: &Index| index.index(doc.len() + 1);
        match edit {
            Edit::Truncate(index) => doc.truncate(at(index)),
            Edit::Flip(index, mask) => {
                if !doc.is_empty() {
                    let i = index.index(doc.len());
                    doc[i] ^= mask;
                }
            }
            Edit::Insert(index, bytes) => {
                let i = at(index);
                doc.splice(i..i, bytes.iter().copied());
            }
            Edit::Delete(index, n) => {
                let i = at(index);
                let end = (i + n).min(doc.len());
                doc.drain(i..end);
            }
            Edit::Duplicate(index, n) => {
                let i = at(index);
                let end = (i + n).min(doc.len());
                let copy = doc[i..end].to_vec();
                doc.splice(end..end, copy);
            }
            Edit::Token(index, token) => {
                let i = at(index);
                doc.splice(i..i, token.bytes());
            }
            Edit::Nest(depth) => doc = format.nest(*depth, &doc),
        }
    }
    doc
}

/// One of `seeds` with a few byte-level edits, or (one case in eight) arbitrary bytes.
pub(crate) fn bytes(format: Format, seeds: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        7 => (select(seeds), vec(edit(format), 0..5))
            .prop_map(move |(seed, edits)| apply(format, seed.as_bytes().to_vec(), &edits)),
        1 => vec(any::<u8>(), 0..512),
    ]
    .boxed()
}

/// [`bytes`] that are text, as parsers taking `&str` get it.
pub(crate) fn text(format: Format, seeds: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        6 => bytes(format, seeds).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        1 => any::<String>(),
    ]
    .boxed()
}

/// A JSON value text put where another value was: every type, the edges of every number
/// type, a long string, and nesting deep enough to overflow a naive recursive reader.
fn json_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "null",
                "true",
                "false",
                "0",
                "-1",
                "1.5",
                "255",
                "256",
                "-129",
                "4294967296",
                "9223372036854775807",
                "9223372036854775808",
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775809",
                "1e308",
                "1e309",
                "-1e400",
                "1E-400",
                "\"\"",
                "[]",
                "{}",
                "[null]",
                "{\"\":null}",
                "\"\\u0000\\u001b[31m\\ud83d\"",
                "\"\\ud800\"",
            ][..]
        )
        .prop_map(str::to_owned),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| f.to_string()),
        any::<String>().prop_map(|s| Value::String(s).to_string()),
        (1..200_000_usize).prop_map(|n| format!("\"{}\"", "x".repeat(n))),
        (1..5_000_usize).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        (1..5_000_usize).prop_map(|n| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n))),
    ]
}

/// A structural change at one place of a JSON document.
#[derive(Clone, Debug)]
enum JsonEdit {
    Replace(Index, String),
    Remove(Index),
    AddKey(Index, String, String),
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    prop_oneof![
        4 => (any::<Index>(), json_fragment()).prop_map(|(at, f)| JsonEdit::Replace(at, f)),
        1 => any::<Index>().prop_map(JsonEdit::Remove),
        1 => (any::<Index>(), "[a-z_]{1,12}", json_fragment())
            .prop_map(|(at, k, f)| JsonEdit::AddKey(at, k, f)),
    ]
}

/// The JSON pointer of every value in `value`, the root first.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let key = key.replace('~', "~0").replace('/', "~1");
                pointers(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// Applies structural edits; fragments go in as placeholders, spliced in as raw text.
fn apply_json(seed: &str, edits: &[JsonEdit]) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(seed) else {
        return seed.to_owned();
    };
    let mut fragments = Vec::new();
    let mut placeholder = |fragment: &str| {
        fragments.push(fragment.to_owned());
        Value::String(format!("\u{0}fuzz{}\u{0}", fragments.len() - 1))
    };
    for edit in edits {
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        match edit {
            JsonEdit::Replace(index, fragment) => {
                let at = &all[index.index(all.len())];
                if let Some(slot) = doc.pointer_mut(at) {
                    *slot = placeholder(fragment);
                }
            }
            JsonEdit::Remove(index) => {
                let at = &all[index.index(all.len())];
                let Some((parent, last)) = at.rsplit_once('/') else {
                    continue;
                };
                let key = last.replace("~1", "/").replace("~0", "~");
                match doc.pointer_mut(parent) {
                    Some(Value::Object(fields)) => {
                        fields.remove(&key);
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = key.parse::<usize>() {
                            if i < items.len() {
                                items.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
            JsonEdit::AddKey(index, key, fragment) => {
                let at = &all[index.index(all.len())];
                let value = placeholder(fragment);
                if let Some(Value::Object(fields)) = doc.pointer_mut(at) {
                    fields.insert(key.clone(), value);
                }
            }
        }
    }
    let mut text = doc.to_string();
    for (i, fragment) in fragments.iter().enumerate() {
        text = text.replace(&format!("\"\\u0000fuzz{i}\\u0000\""), fragment);
    }
    text
}

/// One of `seeds` with values swapped for other types, keys removed or added, then
/// perhaps a byte-level edit; or [`bytes`] of the seeds.
pub(crate) fn json(seeds: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => (select(seeds), vec(json_edit(), 1..4), vec(edit(Format::Json), 0..2)).prop_map(
            |(seed, structural, bytes)| {
                apply(Format::Json, apply_json(seed, &structural).into_bytes(), &bytes)
            }
        ),
        1 => bytes(Format::Json, seeds),
    ]
    .boxed()
}

/// An XML value put in an attribute or a text node.
fn xml_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        select(
            &[
                "",
                "-1",
                "0",
                "256",
                "99999999999999999999999",
                "1e400",
                "&lt;",
                "&bogus;",
                "&#0;",
                "&#x1b;",
                "&#xFFFFFFFF;",
                "<x>",
                "]]>",
                "\"",
                "running",
                "success",
            ][..]
        )
        .prop_map(str::to_owned),
        any::<String>(),
        (1..100_000_usize).prop_map(|n| "y".repeat(n)),
    ]
}

/// Where an XML document's attribute values and text nodes are (byte ranges).
fn xml_slots(doc: &str) -> Vec<(usize, usize)> {
    let mut slots = Vec::new();
    let bytes = doc.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            if let Some(len) = doc[i + 1..].find('"') {
                slots.push((i + 1, i + 1 + len));
                i += len + 2;
                continue;
            }
        } else if bytes[i] == b'>' {
            if let Some(len) = doc[i + 1..].find('<') {
                slots.push((i + 1, i + 1 + len));
            }
        }
        i += 1;
    }
    slots
}

/// One of `seeds` with attribute values and text nodes swapped for hostile ones, then
/// perhaps a byte-level edit; or [`bytes`] of the seeds.
pub(crate) fn xml(seeds: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => (
            select(seeds),
            vec((any::<Index>(), xml_fragment()), 1..4),
            vec(edit(Format::Xml), 0..2)
        )
            .prop_map(|(seed, swaps, bytes)| {
                let mut doc = seed.to_owned();
                for (index, fragment) in swaps {
                    let slots = xml_slots(&doc);
                    if slots.is_empty() {
                        break;
                    }
                    let (start, end) = slots[index.index(slots.len())];
                    doc.replace_range(start..end, &fragment);
                }
                let doc = apply(Format::Xml, doc.into_bytes(), &bytes);
                String::from_utf8_lossy(&doc).into_owned()
            }),
        1 => text(Format::Xml, seeds),
    ]
    .boxed()
}
