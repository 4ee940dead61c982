//! The call check `cutover check`, `cutover run`, hook loading and the REPL do before
//! anything runs: every call in a script, and in the modules it imports, must name a
//! function that can answer it — a host function, Rhai's standard library, a function
//! the script defines or one of an imported module — with a number of arguments one of
//! its forms takes. Otherwise the call is reported with a suggestion, instead of failing
//! hours into a wave when its line is reached.
//!
//! A call the syntax tree cannot settle is left alone, so the check never raises a false
//! alarm: a call through a module imported from a computed path or a module inside a
//! module, and a method call a map might answer with a function pointer stored under
//! that key (or, once the script stores one under a computed key, any method call).
//! A method is decided by name and number of arguments: which type the receiver has is
//! known only at run time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rhai::{AST, Engine, Position};

use crate::script::callable::{Arities, Callable, is_keyword};
use crate::script::calls::{Call, Facts, Form, Import, facts};
use crate::script::modules::{self, STDLIB_PREFIX};
use crate::script::options::suggest;
use crate::script::{ScriptFile, call_message as message, diagnostic};

/// A call nothing can answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The source name of the script or module it is in.
    pub source: String,
    /// Where the call (or its module alias) is written.
    pub position: Position,
    /// What is wrong, and how to fix it.
    pub message: String,
}

/// What an interactive session has from its earlier entries.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// Functions defined earlier.
    pub functions: Arities,
    /// Modules imported earlier.
    pub imports: Vec<Import>,
    /// Map keys and properties written earlier.
    pub keys: BTreeSet<String>,
    /// Variables in scope.
    pub variables: BTreeSet<String>,
    /// A function pointer was stored under a computed key earlier.
    pub hidden_methods: bool,
}

/// The result of checking one script.
#[derive(Debug)]
pub struct Report {
    /// The source name of the script checked.
    pub source: String,
    /// Every call nothing can answer, the script's first, each in the order written.
    pub findings: Vec<Finding>,
    /// The text of each module a finding is in, by source name.
    pub texts: BTreeMap<String, String>,
    /// The session with what this script defines and imports added.
    pub session: Session,
    /// Every name a call in this script could mean, for suggestions at run time.
    pub names: Vec<String>,
}

impl Report {
    /// Each finding with its place and caret; `text` is the checked script's.
    pub fn rendered(&self, text: &str) -> Vec<String> {
        self.findings
            .iter()
            .map(|finding| {
                let text = if finding.source == self.source {
                    Some(text)
                } else {
                    self.texts.get(&finding.source).map(String::as_str)
                };
                diagnostic::render_at(&finding.message, &finding.source, text, finding.position)
            })
            .collect()
    }
}

/// A module the check could read.
struct Unit {
    source: String,
    text: String,
    facts: Facts,
}

/// Checks scripts against what an engine offers.
pub struct Checker<'a> {
    engine: &'a Engine,
    callable: &'a Callable,
    base_dir: &'a Path,
}

/// What calls in the script, or in its modules, can reach.
struct Reach<'a> {
    /// Functions callable without a module: the engine's and the scripts'.
    functions: Arities,
    /// Names to suggest, the scripts' own first: a typo more likely misspells those.
    suggestions: Vec<String>,
    /// Methods by the number of arguments written: a host function takes the receiver
    /// as its first argument, a script function takes it as `this`.
    methods: Arities,
    /// Imports that bind aliases here.
    imports: Vec<&'a Import>,
    /// An unbound alias is an error here (in a module, the importer's aliases reach too).
    aliases_are_local: bool,
    /// A module checked alone, or a REPL entry: its functions may call functions and
    /// modules of a script that imports it, or of later entries, which the check does not
    /// know yet.
    importer_unknown: bool,
}

impl<'a> Reach<'a> {
    fn new(
        callable: &Callable,
        scripts: &Arities,
        imports: Vec<&'a Import>,
        aliases_are_local: bool,
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
            functions,
            suggestions,
            methods,
            imports,
            aliases_are_local,
            importer_unknown: false,
        }
    }
}

impl<'a> Checker<'a> {
    /// A checker for scripts whose `import "file"` looks in `base_dir`.
    pub fn new(engine: &'a Engine, callable: &'a Callable, base_dir: &'a Path) -> Self {
        Self {
            engine,
            callable,
            base_dir,
        }
    }

    /// Checks the script file `source` (compiled to `ast`) and every module it imports
    /// by a literal path. A file shaped like a module is checked as one imported by a
    /// script the check does not know: what its functions call through its own imports,
    /// and what its top level runs.
    pub fn check_file(&self, ast: &AST, source: &str) -> Report {
        self.check(ast, source, &Session::default(), true)
    }

    /// Checks one entry of an interactive session, which has what `session` has. Its
    /// top level runs at once and is checked; its functions may call what later entries
    /// define, so they are checked when called.
    pub fn check_entry(&self, ast: &AST, source: &str, session: &Session) -> Report {
        self.check(ast, source, session, false)
    }

    fn check(&self, ast: &AST, source: &str, session: &Session, file: bool) -> Report {
        let main = facts(ast);
        let modules = self.load_modules(main.imports.iter().chain(&session.imports));
        let units: Vec<&Unit> = modules.values().flatten().collect();
        let mut all_imports: Vec<&Import> = main.imports.iter().chain(&session.imports).collect();
        all_imports.extend(units.iter().flat_map(|u| &u.facts.imports));
        let mut keys = main.keys.clone();
        keys.extend(session.keys.iter().cloned());
        keys.extend(units.iter().flat_map(|u| u.facts.keys.iter().cloned()));
        // A module read from a computed path, or one the check could not read, may hand
        // out maps holding function pointers under any key.
        let hidden_methods = main.hidden_methods
            || session.hidden_methods
            || units.iter().any(|u| u.facts.hidden_methods)
            || all_imports.iter().any(|i| i.path.is_none())
            || modules.values().any(Option::is_none);
        let mut main_functions = main.functions.clone();
        main_functions.extend(&session.functions);
        // Functions of a module can call the functions of the script that imports it.
        let mut every_function = main_functions.clone();
        for unit in &units {
            every_function.extend(&unit.facts.functions);
        }
        let mut variables = main.variables.clone();
        variables.extend(session.variables.iter().cloned());
        let judge = Judge {
            callable: self.callable,
            modules: &modules,
            keys: &keys,
            hidden_methods,
        };
        let mut main_reach = Reach::new(
            self.callable,
            &main_functions,
            main.imports.iter().chain(&session.imports).collect(),
            true,
        );
        // An entry's functions may call functions and modules later entries bring.
        main_reach.importer_unknown = !file || main.module_shaped;
        let mut findings = judge.unit(source, &main.calls, &main_reach, &variables);
        let mut texts = BTreeMap::new();
        let module_reach = Reach::new(self.callable, &every_function, all_imports, false);
        for unit in &units {
            let found = judge.unit(
                &unit.source,
                &unit.facts.calls,
                &module_reach,
                &unit.facts.variables,
            );
            if !found.is_empty() {
                texts.insert(unit.source.clone(), unit.text.clone());
            }
            findings.extend(found);
        }
        let names = judge.names(&main_reach.functions, &main_reach.imports);
        let mut learned = session.clone();
        learned.functions.extend(&main.functions);
        learned.imports.extend(main.imports.iter().cloned());
        learned.keys = keys;
        learned.variables = variables;
        learned.hidden_methods = hidden_methods;
        Report {
            source: source.to_owned(),
            findings,
            texts,
            session: learned,
            names,
        }
    }

    /// Reads every module `imports` name, and the modules those import, by path; `None`
    /// for one that cannot be read or compiled.
    fn load_modules<'i>(
        &self,
        imports: impl Iterator<Item = &'i Import>,
    ) -> BTreeMap<String, Option<Unit>> {
        let mut modules = BTreeMap::new();
        let mut pending: Vec<String> = imports.filter_map(|i| i.path.clone()).collect();
        while let Some(path) = pending.pop() {
            if modules.contains_key(&path) {
                continue;
            }
            let unit = self.load(&path);
            if let Some(unit) = &unit {
                pending.extend(unit.facts.imports.iter().filter_map(|i| i.path.clone()));
            }
            modules.insert(path, unit);
        }
        modules
    }

    fn load(&self, path: &str) -> Option<Unit> {
        let (source, text) = if path.starts_with(STDLIB_PREFIX) {
            (path.to_owned(), modules::stdlib_source(path)?.to_owned())
        } else {
            let file = ScriptFile::read(&modules::file_path(self.base_dir, path)).ok()?;
            (file.name(), file.text)
        };
        let ast = self.engine.compile(&text).ok()?;
        Some(Unit {
            source,
            facts: facts(&ast),
            text,
        })
    }
}

/// Decides each call.
struct Judge<'a> {
    callable: &'a Callable,
    modules: &'a BTreeMap<String, Option<Unit>>,
    keys: &'a BTreeSet<String>,
    hidden_methods: bool,
}

/// The functions of the module(s) an alias is bound to.
enum Bound {
    /// Nothing is imported under it.
    Nothing,
    /// Some import under it is known only at run time.
    Unknown,
    /// Every import under it was read: their functions together.
    Functions(Arities),
}

impl Judge<'_> {
    fn unit(
        &self,
        source: &str,
        calls: &[Call],
        reach: &Reach<'_>,
        variables: &BTreeSet<String>,
    ) -> Vec<Finding> {
        let mut findings: Vec<Finding> = calls
            .iter()
            .filter(|call| !is_keyword(&call.name))
            .filter_map(|call| {
                let importer_reaches = reach.importer_unknown && call.in_function;
                let (position, message) = match &call.form {
                    Form::Function | Form::Method if importer_reaches => return None,
                    Form::Function => (call.position, function(call, reach, variables)?),
                    Form::Method => (call.position, self.method(call, reach)?),
                    Form::Qualified { alias, alias_at } => {
                        self.qualified(call, alias, *alias_at, reach, importer_reaches)?
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

    fn method(&self, call: &Call, reach: &Reach<'_>) -> Option<String> {
        if self.hidden_methods || self.keys.contains(&call.name) {
            return None;
        }
        match reach.methods.get(&call.name) {
            Some(arities) if arities.contains(&call.args) => None,
            Some(arities) => Some(message::arity(
                Some("method"),
                &call.name,
                arities,
                call.args,
            )),
            None if call.args == 0 && self.callable.is_property(&call.name) => {
                Some(message::property_called(&call.name))
            }
            None => Some(message::unknown(
                "method",
                &call.name,
                suggest_owned(
                    &call.name,
                    reach
                        .suggestions
                        .iter()
                        .filter(|name| reach.methods.get(name).is_some())
                        .cloned(),
                ),
            )),
        }
    }

    fn qualified(
        &self,
        call: &Call,
        alias: &str,
        alias_at: Position,
        reach: &Reach<'_>,
        importer_reaches: bool,
    ) -> Option<(Position, String)> {
        let in_module = match self.bound(alias, reach) {
            Bound::Unknown => return None,
            Bound::Nothing if !reach.aliases_are_local || importer_reaches || alias == "global" => {
                return None;
            }
            Bound::Nothing => return Some((alias_at, message::unbound_alias(alias))),
            Bound::Functions(in_module) => in_module,
        };
        let qualified = format!("{alias}::{}", call.name);
        let text = match in_module.get(&call.name) {
            Some(arities) if arities.contains(&call.args) => return None,
            Some(arities) => message::arity(None, &qualified, arities, call.args),
            None => message::unknown(
                "function",
                &qualified,
                suggest_owned(
                    &qualified,
                    in_module.names().map(|f| format!("{alias}::{f}")),
                ),
            ),
        };
        Some((call.position, text))
    }

    fn bound(&self, alias: &str, reach: &Reach<'_>) -> Bound {
        let paths: Vec<&Option<String>> = reach
            .imports
            .iter()
            .filter(|i| i.alias == alias)
            .map(|i| &i.path)
            .collect();
        if paths.is_empty() {
            return self
                .callable
                .module(alias)
                .map_or(Bound::Nothing, |m| Bound::Functions(m.clone()));
        }
        let mut functions = Arities::default();
        for path in paths {
            match path.as_ref().and_then(|p| self.modules.get(p)) {
                Some(Some(unit)) => functions.extend(&unit.facts.functions),
                _ => return Bound::Unknown,
            }
        }
        Bound::Functions(functions)
    }

    /// Every name a call could mean: functions, and `alias::name` for each read module.
    fn names(&self, functions: &Arities, imports: &[&Import]) -> Vec<String> {
        let mut names: BTreeSet<String> = functions.names().map(str::to_owned).collect();
        names.extend(self.callable.properties().map(|p| format!("get${p}")));
        for import in imports {
            if let Some(Some(unit)) = import.path.as_ref().and_then(|p| self.modules.get(p)) {
                names.extend(
                    unit.facts
                        .functions
                        .names()
                        .map(|f| format!("{}::{f}", import.alias)),
                );
            }
        }
        names.into_iter().collect()
    }
}

fn function(call: &Call, reach: &Reach<'_>, variables: &BTreeSet<String>) -> Option<String> {
    match reach.functions.get(&call.name) {
        Some(arities) if arities.contains(&call.args) => None,
        Some(arities) => Some(message::arity(None, &call.name, arities, call.args)),
        None if variables.contains(&call.name) => Some(message::variable_called(&call.name)),
        None => Some(message::unknown(
            "function",
            &call.name,
            suggest_owned(&call.name, reach.suggestions.iter().cloned()),
        )),
    }
}

/// [`suggest`] over owned candidates.
fn suggest_owned(word: &str, candidates: impl Iterator<Item = String>) -> Option<String> {
    let candidates: Vec<String> = candidates.collect();
    suggest(word, candidates.iter().map(String::as_str)).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{Host, Limits};

    /// Checks `script` (a file named `wave.rhai` beside `modules`) and answers each
    /// finding as `source:line:col message`.
    #[allow(
        clippy::disallowed_methods,
        reason = "the test lays out a playbook folder"
    )]
    fn check(script: &str, modules: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in modules {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let host = Host::offline(runtime.handle().clone());
        let engine = crate::script::engine(&host, Limits::default(), dir.path().into());
        let callable = Callable::new(&engine);
        let ast = engine.compile(script).unwrap();
        let report = Checker::new(&engine, &callable, dir.path()).check_file(&ast, "wave.rhai");
        report
            .findings
            .iter()
            .map(|f| {
                let source = Path::new(&f.source).file_name().unwrap().to_string_lossy();
                let (line, col) = (f.position.line().unwrap(), f.position.position().unwrap());
                format!("{source}:{line}:{col} {}", f.message)
            })
            .collect()
    }

    #[test]
    fn calls_only_the_run_can_settle_are_left_alone() {
        #[track_caller]
        fn case(script: &str) {
            assert_eq!(check(script, &[]), Vec::<String>::new(), "{script}");
        }
        case("let f = |x| x + 1; f.call(1); call(f, 2); f.curry(1).call();");
        case("let g = Fn(\"defined_nowhere\"); g.call(1);");
        case("let m = #{ act: |x| x }; m.act(1);");
        case("let m = #{}; m.later = |x| x; m.later(1);");
        case("let m = #{}; m[\"idx\"] = |x| x; m.idx(1);");
        case("let m = #{}; let k = \"any\"; m[k] = |x| x; m.anything(1, 2);");
        case("let p = \"cutover/report\"; import p as r; r::anything(); 1.anything();");
        case("fn dbl() { this * 2 } 5.dbl();");
        case("\"abc\".to_upper().len(); [1].push(2); #{ a: 1 }.keys();");
        case("fn later() { undefined_here() } fn again() { nope::f() }");
        case("const LIMIT = 3;\nfn wave(s) { s.refresh(); helper(s) }");
    }

    #[test]
    fn calls_nothing_answers_are_found_with_what_was_meant() {
        #[track_caller]
        fn case(script: &str, expected: &str) {
            assert_eq!(check(script, &[]), [expected], "{script}");
        }
        case(
            "powerstor(\"a\");",
            "wave.rhai:1:1 unknown function `powerstor`; did you mean `powerstore`?",
        );
        case(
            "let s = 1;\ns.state();",
            "wave.rhai:2:3 `state` is a property, not a method; read it without parentheses: `.state`",
        );
        case(
            "let s = 1;\ns.cutovr();",
            "wave.rhai:2:3 unknown method `cutovr`; did you mean `cutover`?",
        );
        case(
            "fn wave(s) { s.cutovr() }\nprint(1);",
            "wave.rhai:1:16 unknown method `cutovr`; did you mean `cutover`?",
        );
        case(
            "retry(|| powerstor(\"a\"));",
            "wave.rhai:1:10 unknown function `powerstor`; did you mean `powerstore`?",
        );
        case(
            "fn wave(a, b) { a }\nwave(1);",
            "wave.rhai:2:1 `wave` takes 2 arguments, not 1",
        );
        case(
            "let f = |x| x;\nf(1);",
            "wave.rhai:2:1 `f` is a variable, not a function; call the function it holds with `f.call(…)`",
        );
        case(
            "import \"cutover/report\" as report;\nreport::tabel([], []);",
            "wave.rhai:2:9 unknown function `report::tabel`; did you mean `report::table`?",
        );
    }

    #[test]
    fn the_stdlib_modules_call_only_what_exists() {
        let script: String = modules::STDLIB
            .iter()
            .map(|(name, _)| format!("import \"{STDLIB_PREFIX}{name}\" as {name};\n"))
            .collect();
        assert_eq!(check(&script, &[]), Vec::<String>::new());
    }

    #[test]
    fn modules_are_checked_with_the_script_that_imports_them() {
        let helpers = "fn doubled(x) { twice(x) }\nfn broken(s) { s.cutovr() }\n";
        let findings = check(
            "import \"helpers\" as h;\nfn twice(x) { x * 2 }\nh::doubled(1);\nh::doubld(1);",
            &[("helpers.rhai", helpers)],
        );
        assert_eq!(
            findings,
            [
                "wave.rhai:4:4 unknown function `h::doubld`; did you mean `h::doubled`?",
                "helpers.rhai:2:18 unknown method `cutovr`; did you mean `cutover`?",
            ]
        );
        // Without `twice`, the importer's run would fail in the module.
        let findings = check(
            "import \"helpers\" as h;\nh::doubled(1);",
            &[("helpers.rhai", "fn doubled(x) { twice(x) }\n")],
        );
        assert_eq!(
            findings,
            ["helpers.rhai:1:17 unknown function `twice`; `cutover doc` lists every function"]
        );
    }
}
