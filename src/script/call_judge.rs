//! Deciding each call of one script or module against what reaches it there: the
//! functions callable by name, the methods (a host function takes the receiver as its
//! first argument, a script function takes it as `this`), and the functions behind each
//! module alias. A call this cannot settle is left alone.

use std::collections::{BTreeMap, BTreeSet};

use rhai::Position;

use crate::script::call_check::Finding;
use crate::script::call_message as message;
use crate::script::callable::{Arities, Callable, is_keyword};
use crate::script::calls::{Call, Form};
use crate::suggest::closest;

/// What an alias reaches.
#[derive(Clone, Debug)]
pub enum Bound {
    /// Some import under it is known only at run time.
    Unknown,
    /// Every import under it was read: their functions together.
    Functions(Arities),
}

/// What calls in one script or module reach.
pub struct Reach<'a> {
    callable: &'a Callable,
    /// Functions callable without a module: the engine's and the scripts'.
    functions: Arities,
    /// Names to suggest, the scripts' own first: a typo more likely misspells those.
    suggestions: Vec<String>,
    /// Methods by the number of arguments written.
    methods: Arities,
    /// The functions behind each alias imported here.
    aliases: BTreeMap<String, Bound>,
    /// Names a map may answer a method call of, with a closure stored under that key.
    keys: &'a BTreeSet<String>,
    /// Any method call may reach a closure stored under a key known only at run time.
    pub hidden_methods: bool,
    /// An alias nothing imports is an error here (in a module, the importer's aliases
    /// reach too).
    pub aliases_are_local: bool,
    /// Functions here may call functions and modules of a script that imports this one,
    /// or of later REPL entries, which the check does not know.
    pub importer_unknown: bool,
}

impl<'a> Reach<'a> {
    /// What reaches calls written beside the script functions `scripts`.
    pub fn new(
        callable: &'a Callable,
        scripts: &Arities,
        aliases: BTreeMap<String, Bound>,
        keys: &'a BTreeSet<String>,
    ) -> Self {
        let mut functions = scripts.clone();
        functions.extend(callable.functions());
        let mut suggestions: Vec<String> = scripts.names().map(str::to_owned).collect();
        suggestions.extend(callable.functions().names().map(str::to_owned));
        let mut methods = Arities::default();
        for (defined, receiver) in [(callable.functions(), 1), (scripts, 0)] {
            for name in defined.names() {
                for arity in defined.get(name).into_iter().flatten() {
                    if let Some(args) = arity.checked_sub(receiver) {
                        methods.add(name, args);
                    }
                }
            }
        }
        Self {
            callable,
            functions,
            suggestions,
            methods,
            aliases,
            keys,
            hidden_methods: false,
            aliases_are_local: false,
            importer_unknown: false,
        }
    }

    /// The calls of `calls` (written in `source`) nothing answers, in the order written;
    /// `variables` are the names declared there.
    pub fn findings(
        &self,
        source: &str,
        calls: &[Call],
        variables: &BTreeSet<String>,
    ) -> Vec<Finding> {
        let mut findings: Vec<Finding> = calls
            .iter()
            .filter(|call| !is_keyword(&call.name))
            .filter_map(|call| {
                let importer_reaches = self.importer_unknown && call.in_function;
                let (position, message) = match &call.form {
                    Form::Function | Form::Method if importer_reaches => return None,
                    Form::Function => (call.position, self.function(call, variables)?),
                    Form::Method => (call.position, self.method(call)?),
                    Form::Qualified { alias, alias_at } => {
                        self.qualified(call, alias, *alias_at, importer_reaches)?
                    }
                };
                Some(Finding {
                    source: source.to_owned(),
                    position,
                    message,
                })
            })
            .collect();
        // The tree holds functions' bodies after the script's statements.
        findings.sort_by_key(|f| (f.position.line(), f.position.position()));
        findings
    }

    /// Every name a call could mean: functions, `get$name` for properties, and
    /// `alias::name` for the functions behind each alias.
    pub fn names(&self) -> Vec<String> {
        let mut names: BTreeSet<String> = self.functions.names().map(str::to_owned).collect();
        names.extend(self.callable.properties().map(|p| format!("get${p}")));
        for (alias, bound) in &self.aliases {
            if let Bound::Functions(functions) = bound {
                names.extend(functions.names().map(|f| format!("{alias}::{f}")));
            }
        }
        names.into_iter().collect()
    }

    fn function(&self, call: &Call, variables: &BTreeSet<String>) -> Option<String> {
        match self.functions.get(&call.name) {
            Some(arities) if arities.contains(&call.args) => None,
            Some(arities) => Some(message::arity(None, &call.name, arities, call.args)),
            None if variables.contains(&call.name) => Some(message::variable_called(&call.name)),
            None => Some(message::unknown(
                "function",
                &call.name,
                suggest_owned(&call.name, self.suggestions.iter().cloned()),
            )),
        }
    }

    fn method(&self, call: &Call) -> Option<String> {
        if self.hidden_methods || self.keys.contains(&call.name) {
            return None;
        }
        let name = &call.name;
        match self.methods.get(name) {
            Some(arities) if arities.contains(&call.args) => None,
            Some(arities) => Some(message::arity(Some("method"), name, arities, call.args)),
            None if call.args == 0 && self.callable.is_property(name) => {
                Some(message::property_called(name))
            }
            None => {
                let methods = self
                    .suggestions
                    .iter()
                    .filter(|s| self.methods.get(s).is_some());
                let meant = suggest_owned(name, methods.cloned());
                Some(message::unknown("method", name, meant))
            }
        }
    }

    fn qualified(
        &self,
        call: &Call,
        alias: &str,
        alias_at: Position,
        importer_reaches: bool,
    ) -> Option<(Position, String)> {
        let in_module = match self.aliases.get(alias) {
            Some(Bound::Unknown) => return None,
            Some(Bound::Functions(in_module)) => in_module,
            None => match self.callable.module(alias) {
                Some(in_module) => in_module,
                None if self.aliases_are_local && !importer_reaches && alias != "global" => {
                    return Some((alias_at, message::unbound_alias(alias)));
                }
                None => return None,
            },
        };
        let qualified = format!("{alias}::{}", call.name);
        let text = match in_module.get(&call.name) {
            Some(arities) if arities.contains(&call.args) => return None,
            Some(arities) => message::arity(None, &qualified, arities, call.args),
            None => {
                let candidates = in_module.names().map(|f| format!("{alias}::{f}"));
                message::unknown(
                    "function",
                    &qualified,
                    suggest_owned(&qualified, candidates),
                )
            }
        };
        Some((call.position, text))
    }
}

/// [`closest`] over owned candidates.
fn suggest_owned(word: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    let candidates: Vec<String> = candidates.collect();
    closest(word, candidates.iter().map(String::as_str)).map(str::to_owned)
}
