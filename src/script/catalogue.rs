//! `Catalogue`: the engine's function metadata shaped for the REPL — which functions
//! exist, which methods and properties each handle type has, what a call returns (so
//! `powerstore("lab").` can complete), and `:help NAME`.

use std::collections::BTreeSet;

use rhai::Engine;

use crate::script::reference::{self, Function};

/// What the engine offers scripts, read once from its metadata.
#[derive(Debug, Default)]
pub struct Catalogue {
    functions: Vec<Function>,
}

impl Catalogue {
    /// Reads the metadata of every host function registered on `engine`.
    pub fn new(engine: &Engine) -> Result<Self, String> {
        let mut functions = reference::functions(engine)?;
        functions.sort_by_key(|f| (f.name.clone(), f.params.len()));
        Ok(Self { functions })
    }

    /// Every function a script can call by name, sorted, each once.
    pub fn function_names(&self) -> Vec<&str> {
        let names: BTreeSet<&str> = self
            .functions
            .iter()
            .map(|f| f.name.as_str())
            .filter(|name| is_identifier(name))
            .collect();
        names.into_iter().collect()
    }

    /// Handle types: the types some method or property is defined on.
    pub fn type_names(&self) -> Vec<&str> {
        let names: BTreeSet<&str> = self
            .functions
            .iter()
            .filter_map(receiver)
            .filter(|ty| !is_builtin(ty))
            .collect();
        names.into_iter().collect()
    }

    /// The methods and properties of values of type `ty`, sorted, each once.
    pub fn members(&self, ty: &str) -> Vec<String> {
        let names: BTreeSet<String> = self
            .functions
            .iter()
            .filter(|f| receiver(f) == Some(ty))
            .filter_map(|f| match f.name.strip_prefix("get$") {
                Some(property) => Some(property.to_owned()),
                None => is_identifier(&f.name).then(|| f.name.clone()),
            })
            .collect();
        names.into_iter().collect()
    }

    /// The type a call of `name` returns: as a method of `receiver`, or as a function.
    pub fn return_type(&self, name: &str, receiver_type: Option<&str>) -> Option<String> {
        self.functions
            .iter()
            .filter(|f| f.name == name)
            .find(|f| receiver_type.is_none() || receiver(f) == receiver_type)
            .map(|f| plain_type(&f.return_type).to_owned())
            .filter(|ty| !ty.is_empty())
    }

    /// The type of property `name` of a `receiver_type` value.
    pub fn property_type(&self, name: &str, receiver_type: &str) -> Option<String> {
        self.return_type(&format!("get${name}"), Some(receiver_type))
    }

    /// `:help NAME`: every overload's signature and doc comment; for a handle type,
    /// its methods and properties; for a property, the types that have it.
    pub fn help(&self, name: &str) -> Option<String> {
        let mut out = String::new();
        for function in self.functions.iter().filter(|f| f.name == name) {
            reference::entry(&mut out, &function.signature, &function.doc_comments);
        }
        let owners: Vec<&str> = self
            .functions
            .iter()
            .filter(|f| f.name.strip_prefix("get$") == Some(name))
            .filter_map(receiver)
            .collect();
        if !owners.is_empty() {
            out.push_str(&format!("\nproperty of {}\n", owners.join(", ")));
        }
        if self.type_names().contains(&name) {
            out.push_str(&format!("\n{name}: {}\n", self.members(name).join(", ")));
        }
        (!out.is_empty()).then(|| out.trim_start_matches('\n').to_owned())
    }
}

/// The type of a function's first parameter, which a method call passes as receiver.
fn receiver(function: &Function) -> Option<&str> {
    function
        .params
        .first()
        .and_then(|p| p.ty.as_deref())
        .map(plain_type)
}

/// `&mut ImportSession` → `ImportSession`; `types::dynamic::Dynamic` → `Dynamic`.
fn plain_type(ty: &str) -> &str {
    let ty = ty
        .trim()
        .trim_start_matches("&mut ")
        .trim_start_matches('&');
    ty.rsplit("::").next().unwrap_or(ty)
}

fn is_builtin(ty: &str) -> bool {
    matches!(
        ty,
        "Dynamic" | "Map" | "Array" | "str" | "String" | "string" | "FnPtr" | "INT" | "i64"
    )
}

/// Whether `name` can be written bare in Rhai (identifiers are ASCII).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Limits;

    fn catalogue() -> Catalogue {
        let (_runtime, host) = crate::script::host::testing::on_this_thread();
        let engine = crate::engine::build(&host, Limits::default(), ".".into());
        Catalogue::new(&engine).unwrap()
    }

    #[test]
    fn handle_types_list_their_methods_and_properties() {
        let catalogue = catalogue();
        let members = catalogue.members("PowerStore");
        for expected in ["import_session", "import_sessions", "name"] {
            assert!(members.iter().any(|m| m == expected), "{members:?}");
        }
        let session = catalogue.members("ImportSession");
        for expected in ["wait_for", "cutover", "state", "progress_percentage"] {
            assert!(session.iter().any(|m| m == expected), "{session:?}");
        }
        assert!(catalogue.type_names().contains(&"ImportSession"));
        assert!(!catalogue.type_names().contains(&"Dynamic"));
    }

    #[test]
    fn calls_are_typed_by_their_registration() {
        let catalogue = catalogue();
        #[track_caller]
        fn case(catalogue: &Catalogue, name: &str, receiver: Option<&str>, expected: &str) {
            assert_eq!(
                catalogue.return_type(name, receiver).as_deref(),
                Some(expected)
            );
        }
        case(&catalogue, "powerstore", None, "PowerStore");
        case(
            &catalogue,
            "import_session",
            Some("PowerStore"),
            "ImportSession",
        );
        case(&catalogue, "wait_for", Some("History"), "Map");
        case(
            &catalogue,
            "wait_for",
            Some("ImportSession"),
            "ImportSession",
        );
        assert_eq!(
            catalogue.property_type("is_terminal", "ImportSession"),
            Some("bool".to_owned())
        );
        assert_eq!(catalogue.return_type("no_such_function", None), None);
    }

    #[test]
    fn help_shows_signature_and_doc_comment() {
        let catalogue = catalogue();
        let help = catalogue.help("import_session").unwrap();
        assert!(
            help.starts_with("import_session(array: PowerStore, id_or_name: &str) -> ImportSession\n    One import session by id or by name"),
            "{help}"
        );
        let help = catalogue.help("ImportSession").unwrap();
        assert!(help.contains("ImportSession: "), "{help}");
        assert!(help.contains("wait_for"), "{help}");
        let help = catalogue.help("progress_percentage").unwrap();
        assert!(help.contains("property of ImportSession"), "{help}");
        assert_eq!(catalogue.help("nothing_like_this"), None);
    }

    #[test]
    fn plain_types_drop_references_and_paths() {
        assert_eq!(plain_type("&mut ImportSession"), "ImportSession");
        assert_eq!(plain_type("&str"), "str");
        assert_eq!(plain_type("types::dynamic::Dynamic"), "Dynamic");
        assert_eq!(plain_type("Map"), "Map");
    }
}
