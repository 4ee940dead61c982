//! Values printed for people: maps and long arrays indented one entry a line, strings
//! quoted, handles as one-line summaries (`ImportSession wave1-lun01 Copy_In_Progress 37%`)
//! from the `to_string` each vendor registers next to its handle type.

use rhai::{Array, Dynamic, Engine, Map, Scope};

use crate::script::catalogue::is_identifier;
use crate::terminal_text::escape_control;

/// How wide a one-line array may get before it is laid out one item a line.
const WIDTH: usize = 80;
/// How much of a long string `summary` keeps.
const SUMMARY_CHARS: usize = 60;

/// `value` laid out for a terminal, escaped.
pub fn show(engine: &Engine, value: &Dynamic) -> String {
    let mut out = String::new();
    write_value(engine, value, 0, &mut out);
    escape_control(&out)
}

/// `value` on one line, for `:vars`: scalars and handles in full, strings cut short,
/// arrays and maps by their size.
pub fn summary(engine: &Engine, value: &Dynamic) -> String {
    let text = if let Some(array) = value.read_lock::<Array>() {
        format!("array of {}", array.len())
    } else if let Some(map) = value.read_lock::<Map>() {
        let keys: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        format!("map of {}: {}", map.len(), keys.join(", "))
    } else if value.is_string() {
        let text = value.to_string();
        let cut: String = text.chars().take(SUMMARY_CHARS).collect();
        let ellipsis = if cut.len() < text.len() { "…" } else { "" };
        format!("{cut:?}{ellipsis}")
    } else {
        one_line(engine, value)
    };
    escape_control(&text)
}

/// The name scripts and `:help` use for the type of `value` (`ImportSession`, `map`, …).
pub fn type_name(engine: &Engine, value: &Dynamic) -> String {
    engine.map_type_name(value.type_name()).to_owned()
}

fn write_value(engine: &Engine, value: &Dynamic, depth: usize, out: &mut String) {
    if let Some(array) = value.read_lock::<Array>() {
        write_array(engine, &array, depth, out);
    } else if let Some(map) = value.read_lock::<Map>() {
        write_map(engine, &map, depth, out);
    } else {
        out.push_str(&one_line(engine, value));
    }
}

fn write_array(engine: &Engine, array: &Array, depth: usize, out: &mut String) {
    if array.is_empty() {
        out.push_str("[]");
        return;
    }
    let scalars = array.iter().all(|v| !is_container(v) && !v.is_variant());
    if scalars {
        let items: Vec<String> = array.iter().map(|v| one_line(engine, v)).collect();
        let line = format!("[{}]", items.join(", "));
        if depth * 2 + line.len() <= WIDTH {
            out.push_str(&line);
            return;
        }
    }
    out.push_str("[\n");
    for item in array {
        indent(depth + 1, out);
        write_value(engine, item, depth + 1, out);
        out.push_str(",\n");
    }
    indent(depth, out);
    out.push(']');
}

fn write_map(engine: &Engine, map: &Map, depth: usize, out: &mut String) {
    if map.is_empty() {
        out.push_str("#{}");
        return;
    }
    out.push_str("#{\n");
    for (key, value) in map {
        indent(depth + 1, out);
        if is_identifier(key) {
            out.push_str(key);
        } else {
            out.push_str(&format!("{:?}", key.as_str()));
        }
        out.push_str(": ");
        write_value(engine, value, depth + 1, out);
        out.push_str(",\n");
    }
    indent(depth, out);
    out.push('}');
}

/// A scalar, string or handle on one line.
fn one_line(engine: &Engine, value: &Dynamic) -> String {
    if value.is_string() {
        return format!("{:?}", value.to_string());
    }
    if value.is_variant() {
        return handle(engine, value);
    }
    if value.is_unit() {
        return "()".to_owned();
    }
    value.to_string()
}

/// `Type summary`, the summary being the handle's own `to_string`; the type name alone
/// when the type has none.
fn handle(engine: &Engine, value: &Dynamic) -> String {
    let name = type_name(engine, value);
    let mut scope = Scope::new();
    scope.push("value", value.clone());
    match engine.eval_expression_with_scope::<String>(&mut scope, "to_string(value)") {
        // Rhai's generic `to_string` answers the type name itself.
        Ok(text) if text != name && !text.contains("::") => format!("{name} {text}"),
        _ => name,
    }
}

fn is_container(value: &Dynamic) -> bool {
    value.is_array() || value.is_map()
}

fn indent(depth: usize, out: &mut String) {
    out.push_str(&"  ".repeat(depth));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone)]
    struct Gadget(u8);

    fn engine() -> Engine {
        let mut engine = Engine::new();
        engine.register_type_with_name::<Gadget>("Gadget");
        engine.register_fn("to_string", |g: &mut Gadget| format!("g{} ready 37%", g.0));
        engine
    }

    #[track_caller]
    fn case(script: &str, expected: &str) {
        let engine = engine();
        let value: Dynamic = engine.eval(script).unwrap();
        assert_eq!(show(&engine, &value), expected, "{script}");
    }

    #[test]
    fn values_are_laid_out_for_people() {
        case("42", "42");
        case(r#""wave1""#, r#""wave1""#);
        case("[1, 2, 3]", "[1, 2, 3]");
        case("[]", "[]");
        case("#{}", "#{}");
        case(
            r#"#{ id: "a", "odd key": [1, 2], nested: #{ x: true } }"#,
            "#{\n  id: \"a\",\n  nested: #{\n    x: true,\n  },\n  \"odd key\": [1, 2],\n}",
        );
        case("[#{ a: 1 }]", "[\n  #{\n    a: 1,\n  },\n]");
        case(
            "let a = []; for i in 0..30 { a.push(i * 1000) } a",
            &format!(
                "[\n{}]",
                (0..30)
                    .map(|i| format!("  {},\n", i * 1000))
                    .collect::<String>()
            ),
        );
        case(r#""bell\x07""#, "\"bell\\u{7}\"");
        case("#{ error: () }", "#{\n  error: (),\n}");
    }

    #[test]
    fn handles_show_their_type_and_summary() {
        let mut engine = engine();
        engine.register_fn("gadget", |n: i64| Gadget(n as u8));
        #[derive(Clone)]
        struct Plain;
        engine.register_type_with_name::<Plain>("Plain");
        engine.register_fn("plain", || Plain);
        let value: Dynamic = engine.eval("[gadget(3), plain()]").unwrap();
        assert_eq!(
            show(&engine, &value),
            "[\n  Gadget g3 ready 37%,\n  Plain,\n]"
        );
        let gadget: Dynamic = engine.eval("gadget(4)").unwrap();
        assert_eq!(summary(&engine, &gadget), "Gadget g4 ready 37%");
        assert_eq!(type_name(&engine, &gadget), "Gadget");
    }

    #[test]
    fn summaries_fit_on_one_line() {
        let engine = engine();
        #[track_caller]
        fn case(engine: &Engine, script: &str, expected: &str) {
            let value: Dynamic = engine.eval(script).unwrap();
            assert_eq!(summary(engine, &value), expected, "{script}");
        }
        case(&engine, "[1, 2, 3]", "array of 3");
        case(&engine, "#{ b: 1, a: 2 }", "map of 2: a, b");
        case(&engine, "3.5", "3.5");
        case(
            &engine,
            r#"let s = "x"; s.pad(70, "x"); s"#,
            &format!("{:?}…", "x".repeat(60)),
        );
    }
}
