//! Names and ids of remote objects for completion inside `import_session("` and
//! `task("`: the receiver (a variable holding a target, or `kind("name")`) is asked for
//! its list, the way a script would ask.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Scope};

use crate::config::TargetKind;

/// The methods whose string argument names an object, and the call that lists them.
const LISTERS: &[(&str, &str)] = &[
    ("import_session", "import_sessions(#{})"),
    ("task", "tasks(#{})"),
];

/// What completion may call: an engine of the session's kind and its handle variables.
pub struct ObjectNames {
    engine: Arc<Engine>,
    handles: Vec<(String, Dynamic)>,
    /// The target constructors' names.
    kinds: Vec<TargetKind>,
}

impl ObjectNames {
    pub(crate) fn new(
        engine: Arc<Engine>,
        handles: Vec<(String, Dynamic)>,
        kinds: Vec<TargetKind>,
    ) -> Self {
        Self {
            engine,
            handles,
            kinds,
        }
    }

    /// The names and ids `receiver.method("…` could take, or nothing when `method` names
    /// no object or `receiver` is not a plain variable or `kind("name")` (completion
    /// never runs anything else).
    pub fn list(&self, receiver: &str, method: &str) -> Vec<String> {
        let Some((_, lister)) = LISTERS.iter().find(|(name, _)| *name == method) else {
            return Vec::new();
        };
        if !self.is_plain(receiver) {
            return Vec::new();
        }
        let mut scope = Scope::new();
        for (name, value) in &self.handles {
            scope.push_dynamic(name.as_str(), value.clone());
        }
        let script = format!("{receiver}.{lister}.map(|o| [o.name, o.id])");
        match self.engine.eval_with_scope::<Array>(&mut scope, &script) {
            Ok(pairs) => pairs
                .into_iter()
                .filter_map(|pair| pair.try_cast::<Array>())
                .flatten()
                .filter_map(|value| value.into_immutable_string().ok())
                .map(|text| text.to_string())
                .filter(|text| !text.is_empty())
                .collect(),
            Err(err) => {
                tracing::debug!("completion could not list `{receiver}.{lister}`: {err}");
                Vec::new()
            }
        }
    }

    /// A handle variable, or a target constructor with a literal name.
    fn is_plain(&self, receiver: &str) -> bool {
        if self.handles.iter().any(|(name, _)| name == receiver) {
            return true;
        }
        let Some((kind, rest)) = receiver.split_once("(\"") else {
            return false;
        };
        let literal = rest
            .strip_suffix("\")")
            .is_some_and(|name| !name.contains(['"', '\\']));
        literal && self.kinds.iter().any(|k| k.as_str() == kind)
    }
}
