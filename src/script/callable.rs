//! `Callable`: the names a script can call on an engine — every host function, Rhai's
//! standard library, the calls Rhai answers itself (`Fn`, `call`, `eval`, …) and the static
//! modules — each with the numbers of arguments it takes. The call check decides with it,
//! and "did you mean" picks from it.

use std::collections::{BTreeMap, BTreeSet};

use rhai::Engine;

use crate::script::catalogue::is_identifier;

/// Calls Rhai answers itself, whatever their arguments: function pointers, `eval` and
/// the introspection keywords. They are syntax, so no metadata lists them.
pub const KEYWORDS: &[&str] = &[
    "Fn",
    "call",
    "curry",
    "eval",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "type_of",
    "print",
    "debug",
];

/// Function names, each with the numbers of arguments its forms take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Arities(BTreeMap<String, BTreeSet<usize>>);

impl Arities {
    /// Notes a form of `name` taking `arity` arguments.
    pub fn add(&mut self, name: &str, arity: usize) {
        self.0.entry(name.to_owned()).or_default().insert(arity);
    }

    /// The numbers of arguments `name` takes, if there is such a function.
    pub fn get(&self, name: &str) -> Option<&BTreeSet<usize>> {
        self.0.get(name)
    }

    /// Every name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Adds every form of `other`.
    pub fn extend(&mut self, other: &Self) {
        for (name, arities) in &other.0 {
            self.0
                .entry(name.clone())
                .or_default()
                .extend(arities.iter().copied());
        }
    }
}

/// What an engine lets scripts call.
#[derive(Debug, Default)]
pub struct Callable {
    functions: Arities,
    modules: BTreeMap<String, Arities>,
    /// Names of read-only properties (`s.state`), which are no methods.
    properties: BTreeSet<String>,
}

impl Callable {
    /// Reads the signatures of every function on `engine`, standard library included.
    /// (Rhai's JSON metadata says the same ten times slower; a test holds them equal.)
    pub fn new(engine: &Engine) -> Self {
        let mut callable = Self::default();
        for signature in engine.gen_fn_signatures(true) {
            let Some((path, arity)) = parse(&signature) else {
                continue;
            };
            let (module, name) = match path.rsplit_once("::") {
                Some((module, name)) => (Some(module), name),
                None => (None, path),
            };
            if let (None, Some(property)) = (module, name.strip_prefix("get$")) {
                callable.properties.insert(property.to_owned());
            }
            if !is_identifier(name) {
                continue;
            }
            match module {
                Some(module) => callable
                    .modules
                    .entry(module.to_owned())
                    .or_default()
                    .add(name, arity),
                None => callable.functions.add(name, arity),
            }
        }
        callable
    }

    /// The functions callable by name (not the keywords).
    pub fn functions(&self) -> &Arities {
        &self.functions
    }

    /// Whether some type has a property `name`.
    pub fn is_property(&self, name: &str) -> bool {
        self.properties.contains(name)
    }

    /// Every property name, sorted.
    pub fn properties(&self) -> impl Iterator<Item = &str> {
        self.properties.iter().map(String::as_str)
    }

    /// The functions of the static module registered as `name`.
    pub fn module(&self, name: &str) -> Option<&Arities> {
        self.modules.get(name)
    }
}

/// `name(a: T, b: U) -> R` as the name and the number of parameters; commas inside
/// a type's brackets (`Result<u32, Box<…>>`, `Fn(i64, i64) -> bool`) do not count.
fn parse(signature: &str) -> Option<(&str, usize)> {
    let (name, rest) = signature.split_once('(')?;
    let mut depth = 0_usize;
    let mut commas = 0;
    let mut previous = '(';
    for c in rest.chars() {
        match c {
            '(' | '<' | '[' => depth += 1,
            '>' if previous == '-' => {}
            ')' | '>' | ']' if depth > 0 => depth -= 1,
            ')' => break,
            ',' if depth == 0 => commas += 1,
            _ => {}
        }
        previous = c;
    }
    let empty = rest.trim_start().starts_with(')');
    Some((name, if empty { 0 } else { commas + 1 }))
}

/// Whether Rhai itself answers a call of `name`.
pub fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Limits;

    fn engine() -> (tokio::runtime::Runtime, Engine) {
        let (runtime, host) = crate::script::host::testing::on_this_thread();
        let engine = crate::engine::build(&host, Limits::default(), ".".into());
        (runtime, engine)
    }

    #[test]
    fn host_and_standard_functions_are_callable_with_their_arities() {
        let (_runtime, engine) = engine();
        let callable = Callable::new(&engine);
        #[track_caller]
        fn case(callable: &Callable, name: &str, arity: usize) {
            let arities = callable.functions().get(name);
            assert!(
                arities.is_some_and(|a| a.contains(&arity)),
                "{name}/{arity}: {arities:?}"
            );
        }
        case(&callable, "powerstore", 1);
        case(&callable, "import_session", 2);
        case(&callable, "retry", 1);
        case(&callable, "retry", 2);
        case(&callable, "on_file", 3);
        case(&callable, "len", 1);
        case(&callable, "push", 2);
        case(&callable, "to_string", 1);
        case(&callable, "print", 1);
        assert_eq!(callable.functions().get("powerstor"), None);
        assert!(callable.is_property("state") && !callable.is_property("cutover"));
        assert!(callable.functions().names().all(is_identifier));
        assert!(is_keyword("Fn") && is_keyword("curry") && !is_keyword("retry"));
    }

    #[test]
    fn signatures_give_the_arities_the_metadata_gives() {
        let (_runtime, mut engine) = engine();
        let mut module = rhai::Module::new();
        module.set_native_fn("twice", |x: i64| Ok(x * 2));
        engine.register_static_module("helpers", module.into());
        let json = engine.gen_fn_metadata_to_json(true).unwrap();
        let metadata: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut expected = Arities::default();
        for function in metadata["functions"].as_array().unwrap() {
            let name = function["name"].as_str().unwrap();
            if is_identifier(name) {
                expected.add(name, function["numParams"].as_u64().unwrap() as usize);
            }
        }
        let callable = Callable::new(&engine);
        assert_eq!(callable.functions(), &expected);
        assert_eq!(
            callable.module("helpers").and_then(|m| m.get("twice")),
            Some(&[1].into())
        );
    }

    #[test]
    fn brackets_in_types_do_not_split_parameters() {
        #[track_caller]
        fn case(signature: &str, expected: (&str, usize)) {
            assert_eq!(parse(signature), Some(expected), "{signature}");
        }
        case("now() -> Timestamp", ("now", 0));
        case("len(array: &mut array) -> i64", ("len", 1));
        case(
            "%(x: u32, y: u32) -> Result<u32, Box<EvalAltResult>>",
            ("%", 2),
        );
        case(
            "f(a: HashMap<K, V>, g: Fn(i64, i64) -> bool, c: [i64; 2])",
            ("f", 3),
        );
        case("m::twice(_)", ("m::twice", 1));
    }
}
