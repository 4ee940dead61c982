//! Plain values round-trip through the journal's JSON (and its text) to the same value;
//! a script's own `$` keys are not taken for tags; what cannot be stored is refused
//! with the whole message a user sees; a damaged or unknown reference is named.

use std::sync::Arc;

use rhai::{Dynamic, Engine};
use serde_json::{Value, json};

use super::MAX_DEPTH;
use crate::script::catalogue::Catalogue;
use crate::script::{Host, Limits};

fn to_stored(value: &Dynamic) -> Result<Value, String> {
    super::to_stored(&crate::engine::handle_kinds(), value)
}

fn from_stored(host: &Arc<Host>, stored: &Value) -> Result<Dynamic, crate::api_error::ApiError> {
    super::from_stored(&crate::engine::handle_kinds(), host, stored)
}

/// An offline host, and an engine on it to write values as scripts do.
fn rig() -> (tokio::runtime::Runtime, Arc<Host>, Engine) {
    let (runtime, host) = crate::script::host::testing::on_this_thread();
    let engine = crate::engine::build(&host, Limits::default(), ".".into());
    (runtime, host, engine)
}

/// `value` after the journal wrote it as text and read it back.
fn through_text(stored: &Value) -> Value {
    serde_json::from_str(&serde_json::to_string(stored).unwrap()).unwrap()
}

/// How a value looks to a test: its type and its debug form (which tells a char from a
/// string and a float from an int).
fn shown(value: &Dynamic) -> String {
    format!("{} {value:?}", value.type_name())
}

#[test]
fn plain_values_round_trip() {
    let (_runtime, host, engine) = rig();
    let cases: &[(&str, Value)] = &[
        ("()", json!(null)),
        ("true", json!(true)),
        ("42", json!(42)),
        ("-7", json!(-7)),
        ("1.5", json!(1.5)),
        ("1.0", json!(1.0)),
        ("0.0 / 0.0", json!({"$float": "NaN"})),
        ("1.0 / 0.0", json!({"$float": "inf"})),
        ("-1.0 / 0.0", json!({"$float": "-inf"})),
        (r#""text""#, json!("text")),
        ("'x'", json!({"$char": "x"})),
        (
            "let b = blob(3, 0); b[1] = 1; b[2] = 255; b",
            json!({"$blob": "AAH/"}),
        ),
        (
            "timestamp(1_740_787_200_250)",
            json!({"$timestamp": 1_740_787_200_250_i64}),
        ),
        (r#"[1, "a", (), [true]]"#, json!([1, "a", null, [true]])),
        (
            r#"#{ a: #{ b: [1, 2.5] }, "with space": 'c' }"#,
            json!({"a": {"b": [1, 2.5]}, "with space": {"$char": "c"}}),
        ),
        ("let x = 3; let f = || x; x = 4; [x]", json!([4])),
    ];
    for (script, expected) in cases {
        let value = engine.eval::<Dynamic>(script).unwrap();
        let stored = to_stored(&value).unwrap();
        assert_eq!(&stored, expected, "{script}");
        let back = from_stored(&host, &through_text(&stored)).unwrap();
        assert_eq!(shown(&back), shown(&value), "{script}");
    }
}

#[test]
fn a_scripts_own_dollar_keys_are_escaped_and_come_back() {
    let (_runtime, host, engine) = rig();
    let value = engine
        .eval::<Dynamic>(
            r#"#{ "$handle": "ImportSession", "$$id": 1, "$": [#{ "$blob": "x" }], plain: 2 }"#,
        )
        .unwrap();
    let stored = to_stored(&value).unwrap();
    assert_eq!(
        stored,
        json!({
            "$$handle": "ImportSession",
            "$$$id": 1,
            "$$": [{"$$blob": "x"}],
            "plain": 2,
        })
    );
    let back = from_stored(&host, &through_text(&stored)).unwrap();
    assert_eq!(shown(&back), shown(&value));
}

#[test]
fn what_cannot_be_stored_is_refused_with_where_it_is() {
    let (_runtime, _host, engine) = rig();
    let cases = [
        (
            r#"fn check(x) { x } #{ session: #{ f: Fn("check") } }"#,
            "`result.session.f` is a function pointer (to `check`), which a step cannot \
             record; return its data instead",
        ),
        (
            "let n = 2; [1, |x| x + n]",
            "`result[1]` is a closure, which a step cannot record; return its data instead",
        ),
        (
            r#"#{ "odd key": [0, |x| x] }"#,
            "`result[\"odd key\"][1]` is a closure, which a step cannot record; return its \
             data instead",
        ),
    ];
    for (script, expected) in cases {
        let value = engine.eval::<Dynamic>(script).unwrap();
        assert_eq!(to_stored(&value).unwrap_err(), expected, "{script}");
    }
    let other = Dynamic::from(std::time::Duration::from_secs(1));
    assert_eq!(
        to_stored(&other).unwrap_err(),
        "`result` is a value of type `core::time::Duration`, which a step cannot record; \
         return its data instead"
    );
}

#[test]
fn a_damaged_or_unknown_record_is_named() {
    let (_runtime, host, _engine) = rig();
    let cases = [
        (
            json!({"a": [{"$handle": "Teleporter", "target": "t1", "id": "9"}]}),
            "the recorded result holds a `Teleporter` `9` of target `t1`, a kind of handle \
             this cutover does not know; resume with the cutover that recorded it, or run \
             the step afresh",
        ),
        (
            json!({"a": {"$handle": "ImportSession"}}),
            "the recorded result is damaged at `result.a`: a handle needs a `$handle` type \
             and a `target`; run the step afresh without `--resume`",
        ),
        (
            json!({"$handle": "ImportSession", "target": "array1"}),
            "re-reading the recorded `ImportSession` of target `array1`: the reference has \
             no `id`; run the step afresh without `--resume`",
        ),
        (
            json!([{"$blob": "AAH/", "extra": 1}]),
            "the recorded result is damaged at `result[0]`: `$blob` does not take `extra`; \
             run the step afresh without `--resume`",
        ),
        (
            json!({"$char": "xy"}),
            "the recorded result is damaged at `result`: `$char` is not one character; run \
             the step afresh without `--resume`",
        ),
        (
            json!({"$secret": "x"}),
            "the recorded result is damaged at `result`: `$secret` is no tag cutover writes; \
             run the step afresh without `--resume`",
        ),
    ];
    for (stored, expected) in cases {
        let err = from_stored(&host, &stored).unwrap_err();
        assert_eq!(err.message, expected, "{stored}");
    }
}

#[test]
fn a_result_the_journal_could_not_read_back_is_refused() {
    let (_runtime, host, engine) = rig();
    let nested = |depth: usize| {
        let script = format!("let v = 1; for i in 0..{depth} {{ v = [v]; }} v");
        engine.eval::<Dynamic>(&script).unwrap()
    };
    let deepest = to_stored(&nested(MAX_DEPTH)).unwrap();
    let back = from_stored(&host, &through_text(&deepest)).unwrap();
    assert_eq!(shown(&back), shown(&nested(MAX_DEPTH)));
    let at = "[0]".repeat(MAX_DEPTH);
    assert_eq!(
        to_stored(&nested(MAX_DEPTH + 1)).unwrap_err(),
        format!(
            "`result{at}` is nested more than 100 arrays and maps deep, which a step cannot \
             record; return a flatter value"
        )
    );
}

/// Every type scripts can hold is stored as data or has a handle kind in a vendor's
/// `handles`, so a new handle type without a reference fails here.
#[test]
fn every_script_type_can_be_stored() {
    let (_runtime, _host, engine) = rig();
    let catalogue = Catalogue::new(&engine).unwrap();
    let kinds: Vec<&str> = crate::engine::handle_kinds()
        .iter()
        .map(|k| k.type_name)
        .collect();
    let stored_as_data = ["Timestamp", "Blob", "f64"];
    let missing: Vec<&str> = catalogue
        .type_names()
        .into_iter()
        .filter(|ty| !kinds.contains(ty) && !stored_as_data.contains(ty))
        .collect();
    assert_eq!(missing, Vec::<&str>::new());
    for kind in [
        "PowerStore",
        "ImportSession",
        "Vcd",
        "VcdTask",
        "Vcenter",
        "History",
        "OvfImport",
        "HuaweiSms",
        "SmsTask",
        "Echo",
        "EchoJob",
    ] {
        assert!(
            kinds.contains(&kind),
            "{kind} has no handle kind: {kinds:?}"
        );
    }
}
