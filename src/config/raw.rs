//! The target file as TOML: each entry's keys, each checked to be a key of its kind (a
//! common key or one its [`KindSpec`] adds) and of the right TOML type, errors pointing
//! at the line and column as TOML's own do. What the values mean is `resolve`'s job.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::excerpt;
use super::kind::{KindSpec, Shape};

/// The keys every kind's entries may hold, with the TOML type of each.
pub(super) const COMMON: &[(&str, Shape)] = &[
    ("kind", Shape::Text),
    ("url", Shape::Text),
    ("user", Shape::Text),
    ("password_env", Shape::Text),
    ("password_file", Shape::Text),
    ("password", Shape::Text),
    ("ca_file", Shape::Text),
    ("insecure", Shape::Flag),
    ("read_retries", Shape::Any),
    ("request_limits", Shape::Any),
];

type Entry = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    targets: BTreeMap<String, Spanned<Entry>>,
}

/// One entry of the file, its keys known and of the right type.
pub(super) struct RawTarget<'k> {
    pub name: String,
    pub spec: &'k KindSpec,
    pub fields: toml::Table,
}

impl RawTarget<'_> {
    /// The string value of `key`, if given.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(toml::Value::as_str)
    }
}

/// Every entry of `text`, in name order, or the first error as `line L, column C: …`
/// with an excerpt of the line.
pub(super) fn read<'k>(text: &str, kinds: &[&'k KindSpec]) -> Result<Vec<RawTarget<'k>>, String> {
    let file: RawFile = toml::from_str(text).map_err(|err| excerpt::toml_error(&err, text))?;
    let at = |span: Range<usize>, message: &str| excerpt::at(text, span, message);
    let mut list = Vec::with_capacity(file.targets.len());
    for (name, entry) in file.targets {
        let entry_span = entry.span();
        let mut keys: Vec<_> = entry.into_inner().into_iter().collect();
        // Report the first wrong key in the file's order, as TOML's reader would.
        keys.sort_by_key(|(key, _)| key.span().start);
        let mut fields = toml::Table::new();
        let mut kind_span = entry_span.clone();
        for (key, value) in keys {
            let Some(shape) = shape(key.get_ref(), kinds) else {
                return Err(at(key.span(), &unknown_field(key.get_ref(), kinds)));
            };
            check(shape, value.get_ref()).map_err(|message| at(value.span(), &message))?;
            if key.get_ref() == "kind" {
                kind_span = value.span();
            }
            fields.insert(key.into_inner(), value.into_inner());
        }
        for required in ["kind", "url"] {
            if !fields.contains_key(required) {
                return Err(at(entry_span, &format!("missing field `{required}`")));
            }
        }
        let kind = fields
            .get("kind")
            .and_then(toml::Value::as_str)
            .unwrap_or_default();
        let Some(spec) = kinds.iter().find(|spec| spec.kind.as_str() == kind) else {
            let names: Vec<&str> = kinds.iter().map(|spec| spec.kind.as_str()).collect();
            return Err(at(
                kind_span,
                &format!("unknown variant `{kind}`, expected {}", one_of(&names)),
            ));
        };
        list.push(RawTarget { name, spec, fields });
    }
    Ok(list)
}

/// The type `key` must have, if any kind knows it.
fn shape(key: &str, kinds: &[&KindSpec]) -> Option<Shape> {
    let common = COMMON
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, s)| *s);
    common.or_else(|| {
        kinds
            .iter()
            .flat_map(|spec| spec.keys)
            .find(|extra| extra.name == key)
            .map(|extra| extra.shape)
    })
}

/// TOML's own message when `value` is not of `shape`.
fn check(shape: Shape, value: &toml::Value) -> Result<(), String> {
    let value = value.clone();
    let checked = match shape {
        Shape::Text => String::deserialize(value).map(drop),
        Shape::TextList => Vec::<String>::deserialize(value).map(drop),
        Shape::Flag => bool::deserialize(value).map(drop),
        Shape::Any => Ok(()),
    };
    checked.map_err(|err| err.message().to_owned())
}

/// serde's message for a key no kind knows, listing every key some kind takes.
fn unknown_field(key: &str, kinds: &[&KindSpec]) -> String {
    let mut names: Vec<&str> = COMMON.iter().map(|(name, _)| *name).collect();
    for extra in kinds.iter().flat_map(|spec| spec.keys) {
        if !names.contains(&extra.name) {
            names.push(extra.name);
        }
    }
    format!("unknown field `{key}`, expected {}", one_of(&names))
}

/// serde's spelling of a list of choices.
fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    match quoted.as_slice() {
        [] => "nothing".to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    }
}
