//! A step's result as the journal stores it, JSON, and back. Plain values are stored as
//! themselves; what JSON cannot tell apart (a char from a string, a blob, a `Timestamp`,
//! a float that is not a number) and every handle are tagged objects whose one `$` key
//! says what they are. A handle is stored as its reference (`{"$handle":
//! "ImportSession", "target": "array1", "id": "…"}`, never a secret) and read again
//! from its vendor when it is restored. A map key of the script's own that starts with
//! `$` is stored with one more `$`, so no user data is taken for a tag.
//!
//! The handle kinds come from the vendor list (`Vendor::handles`), the one place that
//! names them; the toolkit names no vendor, so whoever builds the engine hands that list
//! over ([`crate::engine::handle_kinds`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rhai::{Array, Blob, Dynamic, FnPtr, ImmutableString, Map};
use serde_json::Value;

use crate::api_error::{ApiError, ErrorKind};
use crate::script::Host;
use crate::script::job::{HandleKind, Reference};
use crate::script::timestamp::Timestamp;

/// The tag of a handle's reference.
const HANDLE: &str = "$handle";
const BLOB: &str = "$blob";
const CHAR: &str = "$char";
const TIMESTAMP: &str = "$timestamp";
/// A float JSON has no number for: `NaN`, `inf`, `-inf`.
const FLOAT: &str = "$float";

/// The deepest nesting of arrays and maps a step records: the journal's JSON reader
/// (serde_json) refuses text nested more than 128 deep, and a result it could not read
/// back would make the run impossible to resume.
pub const MAX_DEPTH: usize = 100;

/// `value` as the journal stores it, each handle as its reference through `kinds` (every
/// vendor's, [`crate::engine::handle_kinds`]); an error names the part that cannot be stored.
pub fn to_stored(kinds: &[&HandleKind], value: &Dynamic) -> Result<Value, String> {
    store(kinds, value, &At::Root, 0)
}

/// The value `stored` recorded, every handle in it read again from its vendor through
/// `host` and its kind in `kinds`, so it shows the object as it is now.
pub fn from_stored(
    kinds: &[&HandleKind],
    host: &Arc<Host>,
    stored: &Value,
) -> Result<Dynamic, ApiError> {
    Restorer {
        kinds,
        host,
        reopened: HashMap::new(),
    }
    .restore(stored, &At::Root)
}

/// Where a part of the result is, as a script would write it: `result.sessions[2].f`.
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Root => f.write_str("result"),
            At::Key(parent, key) if is_identifier(key) => write!(f, "{parent}.{key}"),
            At::Key(parent, key) => write!(f, "{parent}[{key:?}]"),
            At::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn tagged(tag: &str, value: Value) -> Value {
    let mut object = serde_json::Map::new();
    object.insert(tag.to_owned(), value);
    Value::Object(object)
}

/// `value`, found at `at` inside `depth` arrays and maps.
fn store(
    kinds: &[&HandleKind],
    value: &Dynamic,
    at: &At<'_>,
    depth: usize,
) -> Result<Value, String> {
    if value.is_shared() {
        // A value a closure captured: store what it holds now.
        return store(kinds, &value.flatten_clone(), at, depth);
    }
    if depth == MAX_DEPTH && (value.is_array() || value.is_map()) {
        return Err(format!(
            "`{at}` is nested more than {MAX_DEPTH} arrays and maps deep, which a step \
             cannot record; return a flatter value"
        ));
    }
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(n) = value.as_int() {
        return Ok(Value::from(n));
    }
    if let Ok(x) = value.as_float() {
        return Ok(serde_json::Number::from_f64(x)
            .map_or_else(|| tagged(FLOAT, Value::from(float_name(x))), Value::Number));
    }
    if let Ok(c) = value.as_char() {
        return Ok(tagged(CHAR, Value::from(c.to_string())));
    }
    if let Some(text) = value.read_lock::<ImmutableString>() {
        return Ok(Value::from(text.as_str()));
    }
    if let Some(time) = value.read_lock::<Timestamp>() {
        return Ok(tagged(TIMESTAMP, Value::from(time.epoch_ms())));
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        return Ok(tagged(BLOB, Value::from(BASE64.encode(&*blob))));
    }
    if let Some(array) = value.read_lock::<Array>() {
        return array
            .iter()
            .enumerate()
            .map(|(index, item)| store(kinds, item, &At::Index(at, index), depth + 1))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array);
    }
    if let Some(map) = value.read_lock::<Map>() {
        let mut object = serde_json::Map::new();
        for (key, item) in map.iter() {
            let stored = store(kinds, item, &At::Key(at, key.as_str()), depth + 1)?;
            object.insert(escape(key), stored);
        }
        return Ok(Value::Object(object));
    }
    for kind in kinds {
        if let Some(reference) = (kind.reference)(value) {
            let mut object = serde_json::Map::new();
            object.insert(HANDLE.to_owned(), Value::from(kind.type_name));
            object.insert("target".to_owned(), Value::from(reference.target));
            if let Some(id) = reference.id {
                object.insert("id".to_owned(), Value::from(id));
            }
            return Ok(Value::Object(object));
        }
    }
    Err(format!(
        "`{at}` is {}, which a step cannot record; return its data instead",
        unstorable(value)
    ))
}

/// What a value that cannot be stored is, for the refusal.
fn unstorable(value: &Dynamic) -> String {
    match value.read_lock::<FnPtr>() {
        Some(f) if f.is_anonymous() || !f.curry().is_empty() => "a closure".to_owned(),
        Some(f) => format!("a function pointer (to `{}`)", f.fn_name()),
        None => format!("a value of type `{}`", value.type_name()),
    }
}

fn float_name(x: f64) -> &'static str {
    if x.is_nan() {
        "NaN"
    } else if x > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// A key of the script's own, made distinct from every tag.
fn escape(key: &str) -> String {
    if key.starts_with('$') {
        format!("${key}")
    } else {
        key.to_owned()
    }
}

/// A key as the script wrote it, or `None` for a tag.
fn unescape(key: &str) -> Option<&str> {
    match key.strip_prefix('$') {
        Some(rest) if rest.starts_with('$') => Some(rest),
        Some(_) => None,
        None => Some(key),
    }
}

fn damaged(at: &At<'_>, why: &str) -> ApiError {
    ApiError::new(
        ErrorKind::Validation,
        format!(
            "the recorded result is damaged at `{at}`: {why}; run the step afresh without `--resume`"
        ),
    )
}

/// Reads a stored result back, each object it references once: two references to one
/// object come back as copies of one handle, sharing its snapshot as they did.
struct Restorer<'a> {
    kinds: &'a [&'a HandleKind],
    host: &'a Arc<Host>,
    reopened: HashMap<(String, Reference), Dynamic>,
}

impl Restorer<'_> {
    fn restore(&mut self, stored: &Value, at: &At<'_>) -> Result<Dynamic, ApiError> {
        Ok(match stored {
            Value::Null => Dynamic::UNIT,
            Value::Bool(b) => Dynamic::from(*b),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Dynamic::from(i),
                (None, Some(x)) => Dynamic::from(x),
                (None, None) => {
                    return Err(damaged(at, &format!("{n} is not a number a script holds")));
                }
            },
            Value::String(text) => Dynamic::from(text.clone()),
            Value::Array(items) => {
                let mut array = Array::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    array.push(self.restore(item, &At::Index(at, index))?);
                }
                Dynamic::from_array(array)
            }
            Value::Object(object) => {
                if let Some(tag) = object.keys().find(|key| unescape(key).is_none()) {
                    return self.untag(tag, object, at);
                }
                let mut map = Map::new();
                for (key, item) in object {
                    let key = unescape(key).unwrap_or(key);
                    let value = self.restore(item, &At::Key(at, key))?;
                    map.insert(key.into(), value);
                }
                Dynamic::from_map(map)
            }
        })
    }

    /// The value a tagged object stands for.
    fn untag(
        &mut self,
        tag: &str,
        object: &serde_json::Map<String, Value>,
        at: &At<'_>,
    ) -> Result<Dynamic, ApiError> {
        let text = |key: &str| object.get(key).and_then(Value::as_str);
        let only = |keys: &[&str]| {
            object
                .keys()
                .find(|key| !keys.contains(&key.as_str()))
                .map_or(Ok(()), |extra| {
                    Err(damaged(at, &format!("`{tag}` does not take `{extra}`")))
                })
        };
        match tag {
            HANDLE => {
                only(&[HANDLE, "target", "id"])?;
                let (Some(type_name), Some(target)) = (text(HANDLE), text("target")) else {
                    return Err(damaged(
                        at,
                        "a handle needs a `$handle` type and a `target`",
                    ));
                };
                let reference = Reference {
                    target: target.to_owned(),
                    id: text("id").map(str::to_owned),
                };
                self.reopen(type_name, reference)
            }
            BLOB => {
                only(&[BLOB])?;
                text(BLOB)
                    .and_then(|b| BASE64.decode(b).ok())
                    .map(Dynamic::from_blob)
                    .ok_or_else(|| damaged(at, "`$blob` is not base64"))
            }
            CHAR => {
                only(&[CHAR])?;
                let mut chars = text(CHAR).unwrap_or_default().chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(Dynamic::from(c)),
                    _ => Err(damaged(at, "`$char` is not one character")),
                }
            }
            TIMESTAMP => {
                only(&[TIMESTAMP])?;
                object
                    .get(TIMESTAMP)
                    .and_then(Value::as_i64)
                    .and_then(Timestamp::from_epoch_ms)
                    .map(Dynamic::from)
                    .ok_or_else(|| damaged(at, "`$timestamp` is not milliseconds since 1970"))
            }
            FLOAT => {
                only(&[FLOAT])?;
                match text(FLOAT) {
                    Some("NaN") => Ok(Dynamic::from(f64::NAN)),
                    Some("inf") => Ok(Dynamic::from(f64::INFINITY)),
                    Some("-inf") => Ok(Dynamic::from(f64::NEG_INFINITY)),
                    _ => Err(damaged(at, "`$float` is not `NaN`, `inf` or `-inf`")),
                }
            }
            _ => Err(damaged(at, &format!("`{tag}` is no tag cutover writes"))),
        }
    }

    /// The handle `reference` names, read again through its kind.
    fn reopen(&mut self, type_name: &str, reference: Reference) -> Result<Dynamic, ApiError> {
        let key = (type_name.to_owned(), reference);
        if let Some(value) = self.reopened.get(&key) {
            return Ok(value.clone());
        }
        let (_, reference) = &key;
        let what = match &reference.id {
            Some(id) => format!("`{type_name}` `{id}` of target `{}`", reference.target),
            None => format!("`{type_name}` of target `{}`", reference.target),
        };
        let Some(kind) = self.kinds.iter().find(|kind| kind.type_name == type_name) else {
            return Err(ApiError::new(
                ErrorKind::Validation,
                format!(
                    "the recorded result holds a {what}, a kind of handle this cutover does not \
                 know; resume with the cutover that recorded it, or run the step afresh"
                ),
            ));
        };
        let value = (kind.reopen)(self.host, reference).map_err(|mut err| {
            err.message = format!("re-reading the recorded {what}: {}", err.message);
            err
        })?;
        self.reopened.insert(key, value.clone());
        Ok(value)
    }
}

#[cfg(test)]
#[path = "stored_value_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "stored_value_lab_tests.rs"]
mod lab_tests;
