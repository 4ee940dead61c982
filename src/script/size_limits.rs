//! `--max-string-size`, `--max-array-size` and `--max-map-size`, checked in O(1) when a
//! value grows. Rhai's own limits are off: it checks them by walking the whole value
//! after every call that may change it (quadratic for `a.push(x)` in a loop, recursive on
//! deep values), and never checks a map grown by `m[k] = v`.
//!
//! Two checks together hold every top-level value to its limit:
//! - the functions that grow a value in one call (`push`, `append`, `insert`, `pad`,
//!   `mixin`, `+`, `blob(n)`, …) are registered over Rhai's own and refuse to grow it
//!   past its limit, so no single call can allocate past it;
//! - growth inside Rhai's evaluator (`m[k] = v`, `m.k = v`, the built-in `+=` of strings
//!   and arrays) is seen on the next read of the variable: every variable read checks
//!   that variable's length, so a loop stops one step past the limit.
//!
//! Growth nested inside another value (`m.a[k] = v`, `a[0].push(x)` through a copy,
//! `m.a.b += "x"`) is seen by a deep check of every variable in scope, run on a variable
//! read only once the thread's allocations have doubled since the last deep check: each
//! check costs at most the size of what the scope holds, which the doubling pays for, so
//! the total cost stays linear while nested growth stops by the time memory has doubled
//! past the limit's size.

use rhai::{
    Array, Blob, Dynamic, Engine, EvalAltResult, FuncRegistration, INT, ImmutableString, Map,
};

use std::cell::Cell;

use crate::api_error::{ApiError, ErrorKind};
use crate::script::Limits;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::memory;

type Checked<T> = Result<T, Box<EvalAltResult>>;

/// What a limit holds, for its messages.
#[derive(Clone, Copy)]
enum Kind {
    String,
    Array,
    Blob,
    Map,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Blob => "a blob",
            Kind::Map => "a map",
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Kind::String | Kind::Blob => "bytes",
            Kind::Array => "items",
            Kind::Map => "entries",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Kind::String => "--max-string-size",
            Kind::Array | Kind::Blob => "--max-array-size",
            Kind::Map => "--max-map-size",
        }
    }
}

/// The three size limits (0: no limit).
#[derive(Clone, Copy)]
struct Sizes {
    string: usize,
    array: usize,
    map: usize,
}

impl Sizes {
    fn limit(self, kind: Kind) -> usize {
        match kind {
            Kind::String => self.string,
            Kind::Array | Kind::Blob => self.array,
            Kind::Map => self.map,
        }
    }

    /// Refuses growth to `len` in `operation`.
    fn grow(self, operation: &str, kind: Kind, len: usize) -> Checked<()> {
        let limit = self.limit(kind);
        if limit > 0 && len > limit {
            return Err(invalid_argument(
                operation,
                format!(
                    "{} may hold at most {limit} {}; look for one that grows without end, or \
                     raise `{}`",
                    kind.noun(),
                    kind.unit(),
                    kind.flag()
                ),
            ));
        }
        Ok(())
    }
}

/// The registration of one of the functions below, with its documentation (they replace
/// Rhai's own, which `cutover doc` would otherwise show).
fn doc(name: &str, params: &[&str], comment: &str) -> FuncRegistration {
    FuncRegistration::new(name)
        .with_params_info(params)
        .with_comments([format!("/// {comment}")])
}

/// Turns off Rhai's size limits and installs ours.
pub fn install(engine: &mut Engine, limits: Limits) {
    let sizes = Sizes {
        string: limits.max_string_size,
        array: limits.max_array_size,
        map: limits.max_map_size,
    };
    engine
        .set_max_string_size(0)
        .set_max_array_size(0)
        .set_max_map_size(0)
        // Rhai interns every interpolated string under 32 bytes; once its cache is full
        // each new one scans the whole cache to evict one, which made a loop building
        // keys with `k${i}` several times slower than the insert itself.
        .set_max_strings_interned(0);
    let max_depth = limits.max_depth;
    #[allow(
        deprecated,
        reason = "Rhai marks `on_var` volatile, not deprecated; it is the one hook on every variable read"
    )]
    engine.on_var(move |name, index, context| {
        let scope = context.scope();
        let value = index
            .checked_sub(1)
            .and_then(|back| scope.iter_raw().nth(back))
            .filter(|(found, ..)| *found == name)
            .map(|(.., value)| value)
            .or_else(|| scope.get(name));
        if let Some(value) = value {
            check_variable(sizes, name, value)?;
        }
        if deep_check_due() {
            for (name, _, value) in scope.iter_raw() {
                check_nested(sizes, max_depth, name, value)?;
            }
        }
        Ok(None)
    });
    register_arrays(engine, sizes);
    register_blobs(engine, sizes);
    register_maps(engine, sizes);
    register_strings(engine, sizes);
}

/// What limit holds `value` and its length under it; `None` for a value no limit holds.
fn kind_and_len(value: &Dynamic) -> Option<(Kind, usize)> {
    if let Some(s) = value.read_lock::<ImmutableString>() {
        Some((Kind::String, s.len()))
    } else if let Some(a) = value.read_lock::<Array>() {
        Some((Kind::Array, a.len()))
    } else if let Some(m) = value.read_lock::<Map>() {
        Some((Kind::Map, m.len()))
    } else {
        value.read_lock::<Blob>().map(|b| (Kind::Blob, b.len()))
    }
}

/// The O(1) check on each variable read: its top-level length against its limit.
fn check_variable(sizes: Sizes, name: &str, value: &Dynamic) -> Checked<()> {
    let Some((kind, len)) = kind_and_len(value) else {
        return Ok(());
    };
    let limit = sizes.limit(kind);
    if limit > 0 && len > limit {
        return Err(raise(ApiError::new(
            ErrorKind::Validation,
            format!(
                "`{name}` grew past {limit} {}: {} may hold at most that many; look for one \
                 that grows without end, or raise `{}`",
                kind.unit(),
                kind.noun(),
                kind.flag()
            ),
        )));
    }
    Ok(())
}

thread_local! {
    // The thread's allocated bytes at which the next deep check runs.
    static NEXT_DEEP_CHECK: Cell<usize> = const { Cell::new(0) };
}

/// Below this the deep check runs at every read: a small scope is cheap to walk.
const DEEP_CHECK_FLOOR: usize = 64 << 10;

/// Whether the thread's allocations have doubled since the last deep check (or shrunk to
/// under a quarter of it: a later regrowth must be seen too); if so, the next one is
/// due at twice today's count.
fn deep_check_due() -> bool {
    let bytes = memory::script_bytes();
    NEXT_DEEP_CHECK.with(|next| {
        let due = next.get();
        if bytes >= due || bytes.saturating_mul(4) < due {
            next.set(bytes.saturating_mul(2).max(DEEP_CHECK_FLOOR));
            true
        } else {
            false
        }
    })
}

/// The deep check of one variable: every array, map, blob and string inside it against
/// its limit, and its nesting against `--max-depth`. The walk stops at the first value
/// past a limit and goes no deeper than `--max-depth`, so its own recursion is bounded;
/// refusing deeper values here keeps every later walk of them (Rhai's own formatting of
/// `${x}` among them) bounded too.
fn check_nested(sizes: Sizes, max_depth: usize, name: &str, value: &Dynamic) -> Checked<()> {
    let message = match nested_past_limit(sizes, value, max_depth) {
        None => return Ok(()),
        Some((_, Past::Depth)) => format!(
            "`{name}` nests arrays and maps more than {max_depth} deep; flatten it, or raise \
             the limit with `--max-depth`"
        ),
        Some((path, Past::Size(kind, limit))) => format!(
            "`{name}{path}` grew past {limit} {}: {} may hold at most that many; look for \
             one that grows without end, or raise `{}`",
            kind.unit(),
            kind.noun(),
            kind.flag()
        ),
    };
    Err(raise(ApiError::new(ErrorKind::Validation, message)))
}

/// Which limit a nested value is past.
enum Past {
    /// Its kind's size limit.
    Size(Kind, usize),
    /// `--max-depth`.
    Depth,
}

/// The path (`.a[3]`) of the first value inside `value` past its limit, and which, with
/// `depth` levels of arrays and maps left under `--max-depth`.
fn nested_past_limit(sizes: Sizes, value: &Dynamic, depth: usize) -> Option<(String, Past)> {
    // Most items are scalars: one tag test each, before any typed read.
    if !(value.is_string() || value.is_array() || value.is_map() || value.is_blob()) {
        return None;
    }
    let (kind, len) = kind_and_len(value)?;
    let limit = sizes.limit(kind);
    if limit > 0 && len > limit {
        return Some((String::new(), Past::Size(kind, limit)));
    }
    let nests = matches!(kind, Kind::Array | Kind::Map);
    let Some(below) = depth.checked_sub(1) else {
        return nests.then(|| (String::new(), Past::Depth));
    };
    if let Some(a) = value.read_lock::<Array>() {
        return a.iter().enumerate().find_map(|(i, item)| {
            nested_past_limit(sizes, item, below).map(|(path, past)| (format!("[{i}]{path}"), past))
        });
    }
    if let Some(m) = value.read_lock::<Map>() {
        return m.iter().find_map(|(key, item)| {
            nested_past_limit(sizes, item, below).map(|(path, past)| {
                let step = if !key.is_empty()
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !key.starts_with(|c: char| c.is_ascii_digit())
                {
                    format!(".{key}")
                } else {
                    format!("[{key:?}]")
                };
                (format!("{step}{path}"), past)
            })
        });
    }
    None
}

/// Where `insert` puts an item, as Rhai's own `insert` does: a negative index counts
/// from the end, one past either end clamps to it.
fn insert_at(len: usize, index: INT) -> usize {
    if index < 0 {
        let back = usize::try_from(index.unsigned_abs()).unwrap_or(usize::MAX);
        len.saturating_sub(back)
    } else {
        usize::try_from(index).map_or(len, |i| i.min(len))
    }
}

/// Arrays or blobs, as their growing functions name and document them: the same five
/// over a `Vec`, whose items scripts give as `I` (any value for an array, a byte's
/// `INT` for a blob).
struct List<T, I> {
    kind: Kind,
    /// Its parameter name (`array`) and type (`Array`): the functions take it as
    /// `array: &mut Array`, `+` as `array: Array`, and `append` and `+` take
    /// `more: Array` besides it.
    param: &'static str,
    ty: &'static str,
    /// The item parameter (`item: Dynamic`), and the item as the comments say it.
    item: &'static str,
    the_item: &'static str,
    /// What it holds, in the plural (`items`).
    items: &'static str,
    /// The names `push` is registered under.
    push: &'static [&'static str],
    /// The list's item for a script's `I`.
    convert: fn(I) -> T,
}

/// Registers `push`, `append` (and `+=`), `+`, `insert` and `pad` of `list`, each
/// refused past `--max-array-size`.
fn register_list<T, I>(engine: &mut Engine, sizes: Sizes, list: &List<T, I>)
where
    T: rhai::Variant + Clone,
    I: rhai::Variant + Clone,
{
    let (k, convert) = (list.kind, list.convert);
    let past = "refused past `--max-array-size`.";
    let (the_item, items) = (list.the_item, list.items);
    let (param, ty) = (list.param, list.ty);
    let this = format!("{param}: &mut {ty}");
    let more = format!("more: {ty}");
    for &name in list.push {
        doc(
            name,
            &[&this, list.item, "()"],
            &format!("Adds {the_item} at the end; {past}"),
        )
        .register_into_engine(engine, move |a: &mut Vec<T>, item: I| -> Checked<()> {
            sizes.grow(name, k, a.len() + 1)?;
            a.push(convert(item));
            Ok(())
        });
    }
    for name in ["append", "+="] {
        doc(
            name,
            &[&this, &more, "()"],
            &format!("Adds the {items} of `more` at the end; {past}"),
        )
        .register_into_engine(engine, move |a: &mut Vec<T>, b: Vec<T>| -> Checked<()> {
            sizes.grow(name, k, a.len() + b.len())?;
            a.extend(b);
            Ok(())
        });
    }
    doc(
        "+",
        &[&format!("{param}: {ty}"), &more, ty],
        &format!("The {items} of both {param}s; {past}"),
    )
    .register_into_engine(engine, move |mut a: Vec<T>, b: Vec<T>| -> Checked<Vec<T>> {
        sizes.grow("+", k, a.len() + b.len())?;
        a.extend(b);
        Ok(a)
    });
    doc(
        "insert",
        &[&this, "index: INT", list.item, "()"],
        &format!("Inserts {the_item} at `index` (negative: from the end); {past}"),
    )
    .register_into_engine(
        engine,
        move |a: &mut Vec<T>, index: INT, item: I| -> Checked<()> {
            sizes.grow("insert", k, a.len() + 1)?;
            let at = insert_at(a.len(), index);
            a.insert(at, convert(item));
            Ok(())
        },
    );
    doc(
        "pad",
        &[&this, "len: INT", list.item, "()"],
        &format!("Pads with {the_item} to `len` {items}; {past}"),
    )
    .register_into_engine(
        engine,
        move |a: &mut Vec<T>, len: INT, item: I| -> Checked<()> {
            let Ok(len) = usize::try_from(len) else {
                return Ok(());
            };
            if len > a.len() {
                sizes.grow("pad", k, len)?;
                a.resize(len, convert(item));
            }
            Ok(())
        },
    );
}

fn register_arrays(engine: &mut Engine, sizes: Sizes) {
    let list = List {
        kind: Kind::Array,
        param: "array",
        ty: "Array",
        item: "item: Dynamic",
        the_item: "`item`",
        items: "items",
        push: &["push"],
        convert: |item: Dynamic| item,
    };
    register_list(engine, sizes, &list);
}

fn register_blobs(engine: &mut Engine, sizes: Sizes) {
    let k = Kind::Blob;
    fn byte(value: INT) -> u8 {
        // Rhai keeps the low byte, as its own `push` does.
        (value & 0xff).to_le_bytes()[0]
    }
    let list = List {
        kind: k,
        param: "blob",
        ty: "Blob",
        item: "value: INT",
        the_item: "the byte `value`",
        items: "bytes",
        push: &["push", "append", "+="],
        convert: byte,
    };
    register_list(engine, sizes, &list);
    for name in ["append", "+="] {
        doc(
            name,
            &["blob: &mut Blob", "text: &str", "()"],
            "Adds the UTF-8 bytes of `text` at the end; refused past `--max-array-size`.",
        )
        .register_into_engine(engine, move |b: &mut Blob, text: &str| -> Checked<()> {
            sizes.grow(name, k, b.len() + text.len())?;
            b.extend_from_slice(text.as_bytes());
            Ok(())
        });
    }
    let filled = move |len: INT, value: INT| -> Checked<Blob> {
        let len = usize::try_from(len).unwrap_or(0);
        sizes.grow("blob", k, len)?;
        Ok(vec![byte(value); len])
    };
    doc(
        "blob",
        &["len: INT", "Blob"],
        "A blob of `len` zero bytes; refused past `--max-array-size`.",
    )
    .register_into_engine(engine, move |len: INT| filled(len, 0));
    doc(
        "blob",
        &["len: INT", "value: INT", "Blob"],
        "A blob of `len` bytes `value`; refused past `--max-array-size`.",
    )
    .register_into_engine(engine, filled);
}

fn register_maps(engine: &mut Engine, sizes: Sizes) {
    let k = Kind::Map;
    fn merged_len(map: &Map, more: &Map) -> usize {
        map.len() + more.keys().filter(|key| !map.contains_key(*key)).count()
    }
    for name in ["mixin", "+=", "fill_with"] {
        doc(name, &["map: &mut Map", "more: Map", "()"], "Adds the entries of `more` (`fill_with`: only keys not there yet); refused past `--max-map-size`.").register_into_engine(engine, move |m: &mut Map, more: Map| -> Checked<()> {
            sizes.grow(name, k, merged_len(m, &more))?;
            if name == "fill_with" {
                for (key, value) in more {
                    m.entry(key).or_insert(value);
                }
            } else {
                m.extend(more);
            }
            Ok(())
        });
    }
    doc(
        "+",
        &["map: Map", "more: Map", "Map"],
        "The entries of both maps, `more` winning; refused past `--max-map-size`.",
    )
    .register_into_engine(engine, move |mut m: Map, more: Map| -> Checked<Map> {
        sizes.grow("+", k, merged_len(&m, &more))?;
        m.extend(more);
        Ok(m)
    });
    doc(
        "set",
        &["map: &mut Map", "key: &str", "value: Dynamic", "()"],
        "Sets `key` to `value`; a new key is refused past `--max-map-size`.",
    )
    .register_into_engine(
        engine,
        move |m: &mut Map, key: &str, value: Dynamic| -> Checked<()> {
            if !m.contains_key(key) {
                sizes.grow("set", k, m.len() + 1)?;
            }
            m.insert(key.into(), value);
            Ok(())
        },
    );
}

fn register_strings(engine: &mut Engine, sizes: Sizes) {
    let k = Kind::String;
    /// Registers `name` adding a `more` of type `ty`, `len` bytes long, at the end.
    fn append<X>(
        engine: &mut Engine,
        sizes: Sizes,
        name: &'static str,
        (more, ty): (&str, &str),
        len: fn(&X) -> usize,
    ) where
        X: rhai::Variant + Clone,
        ImmutableString: std::ops::AddAssign<X>,
    {
        doc(
            name,
            &["string: &mut String", &format!("{more}: {ty}"), "()"],
            &format!("Adds `{more}` at the end; refused past `--max-string-size`."),
        )
        .register_into_engine(
            engine,
            move |s: &mut ImmutableString, more: X| -> Checked<()> {
                sizes.grow(name, Kind::String, s.len() + len(&more))?;
                *s += more;
                Ok(())
            },
        );
    }
    for name in ["append", "+="] {
        append(
            engine,
            sizes,
            name,
            ("more", "String"),
            |more: &ImmutableString| more.len(),
        );
        append(engine, sizes, name, ("c", "char"), |c: &char| c.len_utf8());
    }
    doc(
        "+",
        &["string: String", "more: String", "String"],
        "Both strings joined; refused past `--max-string-size`.",
    )
    .register_into_engine(
        engine,
        move |s: ImmutableString, more: ImmutableString| -> Checked<ImmutableString> {
            sizes.grow("+", k, s.len() + more.len())?;
            Ok(s + more)
        },
    );
    doc(
        "pad",
        &["string: &mut String", "len: INT", "c: char", "()"],
        "Pads with `c` to `len` characters; refused past `--max-string-size`.",
    )
    .register_into_engine(
        engine,
        move |s: &mut ImmutableString, len: INT, c: char| -> Checked<()> {
            pad_string(sizes, s, len, &c.to_string())
        },
    );
    doc(
        "pad",
        &["string: &mut String", "len: INT", "padding: &str", "()"],
        "Pads with `padding`, repeated, to `len` characters; refused past `--max-string-size`.",
    )
    .register_into_engine(
        engine,
        move |s: &mut ImmutableString, len: INT, padding: &str| -> Checked<()> {
            pad_string(sizes, s, len, padding)
        },
    );
}

/// Rhai's `pad` on strings: `len` counts characters, padding repeats (cut short at the
/// end) until the string holds that many.
fn pad_string(sizes: Sizes, s: &mut ImmutableString, len: INT, padding: &str) -> Checked<()> {
    let Ok(len) = usize::try_from(len) else {
        return Ok(());
    };
    let have = s.chars().count();
    if len <= have || padding.is_empty() {
        return Ok(());
    }
    // A character is at least a byte: more characters than the limit are more bytes.
    sizes.grow("pad", Kind::String, len)?;
    let mut grown = s.to_string();
    grown.extend(padding.chars().cycle().take(len - have));
    sizes.grow("pad", Kind::String, grown.len())?;
    *s = grown.into();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(limits: Limits) -> Engine {
        let mut engine = Engine::new();
        install(&mut engine, limits);
        engine
    }

    fn limits(size: usize) -> Limits {
        Limits {
            max_string_size: size,
            max_array_size: size,
            max_map_size: size,
            ..Limits::default()
        }
    }

    fn message(err: &EvalAltResult) -> String {
        let map = crate::script::error_value::error_map(err).expect("an error map");
        map["message"].to_string()
    }

    #[test]
    fn growing_functions_keep_rhai_semantics() {
        let e = engine(limits(100));
        let eval = |script: &str| e.eval::<String>(script).unwrap();
        assert_eq!(
            eval("let a = [1]; a.insert(-1, 2); a.insert(9, 3); a.insert(0, 0); a.to_debug()"),
            "[0, 2, 1, 3]"
        );
        assert_eq!(
            eval("let a = [1]; a.pad(3, 0); a.append([4]); (a + [5]).to_debug()"),
            "[1, 0, 0, 4, 5]"
        );
        assert_eq!(eval("let s = \"ab\"; s.pad(5, \"xy\"); s"), "abxyx");
        assert_eq!(
            eval(
                "let m = #{a: 1}; m.fill_with(#{a: 2, b: 3}); m.mixin(#{c: 4}); `${m.a}${m.b}${m.c}`"
            ),
            "134"
        );
        assert_eq!(
            eval("let b = blob(2, 0x101); b.push(0x41); b.insert(0, 0x42); b.to_string()"),
            "[42010141]"
        );
    }

    #[test]
    fn no_single_call_grows_a_value_past_its_limit() {
        let e = engine(limits(10));
        for script in [
            "let a = []; a.pad(11, 0);",
            "let b = blob(11);",
            "let s = \"\"; s.pad(11, ' ');",
            "let a = [1,2,3,4,5,6]; a.append(a);",
        ] {
            let err = e.run(script).unwrap_err();
            assert!(
                message(&err).contains("may hold at most 10"),
                "{script}: {err}"
            );
        }
    }

    #[test]
    fn a_variable_grown_inside_the_evaluator_stops_one_step_past_its_limit() {
        let e = engine(limits(10));
        let err = e
            .run("let m = #{}; for i in 0..1000 { m[`k${i}`] = i; }")
            .unwrap_err();
        assert_eq!(
            message(&err),
            "`m` grew past 10 entries: a map may hold at most that many; look for one that \
             grows without end, or raise `--max-map-size`"
        );
        assert_eq!(err.position().line(), Some(1));
    }

    #[test]
    fn growth_nested_inside_a_variable_is_seen_by_the_deep_check() {
        let e = engine(limits(10));
        for (script, expected) in [
            (
                "let m = #{a: #{}}; for i in 0..100000 { m.a[`k${i}`] = i; }",
                "`m.a` grew past 10 entries: a map may hold at most that many",
            ),
            (
                "let m = #{\"a b\": [\"\"]}; for i in 0..100000 { m[\"a b\"][0] += \"x\"; }",
                "`m[\"a b\"][0]` grew past 10 bytes: a string may hold at most that many",
            ),
        ] {
            // The deep check runs once the thread's allocations double: a fresh thread
            // starts counting from zero.
            let err =
                std::thread::scope(|s| s.spawn(|| e.run(script).unwrap_err()).join().unwrap());
            assert!(message(&err).starts_with(expected), "{script}: {err}");
        }
    }
}
