//! `print`, `debug`, `to_string` and `to_debug` of arrays and maps, registered over
//! Rhai's own: they refuse a value nested deeper than `--max-depth` before walking it,
//! since Rhai's recurse once per level and a loop can nest a value far deeper than any
//! stack.

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FuncRegistration, ImmutableString, Map,
    NativeCallContext,
};

use crate::script::depth;

type Printed = Result<ImmutableString, Box<EvalAltResult>>;

/// Registers the four printers for arrays and maps.
pub fn register(engine: &mut Engine, max_depth: usize) {
    for name in ["print", "debug", "to_string", "to_debug"] {
        register_printer::<Array>(
            engine,
            name,
            "array: &mut Array",
            "/// The array as text; refused when it nests deeper than `--max-depth`.",
            max_depth,
        );
        register_printer::<Map>(
            engine,
            name,
            "map: &mut Map",
            "/// The map as text; refused when it nests deeper than `--max-depth`.",
            max_depth,
        );
    }
}

/// Registers printer `name` for containers of type `T` (an array or a map). The value
/// is lent to the printer whole and put back, so printing never copies it.
fn register_printer<T: rhai::Variant + Clone + Default>(
    engine: &mut Engine,
    name: &'static str,
    param: &'static str,
    comment: &'static str,
    max_depth: usize,
) {
    FuncRegistration::new(name)
        .with_params_info([param, "String"])
        .with_comments([comment])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, container: &mut T| -> Printed {
                let value = Dynamic::from(std::mem::take(container));
                let printed = print(&ctx, name, &value, max_depth);
                if let Some(back) = value.try_cast::<T>() {
                    *container = back;
                }
                printed
            },
        );
}

fn print(ctx: &NativeCallContext, name: &str, value: &Dynamic, max_depth: usize) -> Printed {
    depth::within(value, max_depth).map_err(|max| depth::too_deep(name, max))?;
    let mut out = String::new();
    write(ctx, value, &mut out);
    Ok(out.into())
}

/// Rhai's layout: `[1, "a"]`, `#{"k": 1}`, items in their debug form. The depth was
/// checked first, so this recursion is bounded by `--max-depth`.
fn write(ctx: &NativeCallContext, value: &Dynamic, out: &mut String) {
    if let Some(array) = value.read_lock::<Array>() {
        out.push('[');
        for (i, item) in array.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write(ctx, item, out);
        }
        out.push(']');
    } else if let Some(map) = value.read_lock::<Map>() {
        out.push_str("#{");
        for (i, (key, item)) in map.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("{key:?}: "));
            write(ctx, item, out);
        }
        out.push('}');
    } else if value.is_variant() {
        // A host type prints as its own `to_debug` says.
        let mut item = value.clone();
        match ctx.call_native_fn_raw("to_debug", true, &mut [&mut item]) {
            Ok(text) if text.is_string() => out.push_str(&text.to_string()),
            _ => out.push_str(&format!("{value:?}")),
        }
    } else {
        out.push_str(&format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printers_keep_rhai_layout_and_refuse_deep_values() {
        let mut engine = Engine::new();
        register(&mut engine, 3);
        let shown: String = engine
            .eval(r#"let v = [1, "a", #{b: [2.5, 'c', ()]}]; `${v} ${v.to_debug()}`"#)
            .unwrap();
        assert_eq!(
            shown,
            r#"[1, "a", #{"b": [2.5, 'c', ()]}] [1, "a", #{"b": [2.5, 'c', ()]}]"#
        );
        let err = engine.run("let v = [[[[1]]]]; print(v);").unwrap_err();
        let map = crate::script::error_value::error_map(&err).unwrap();
        assert_eq!(
            map["message"].to_string(),
            "the value nests arrays and maps more than 3 deep; flatten it, or raise the \
             limit with `--max-depth`"
        );
    }
}
