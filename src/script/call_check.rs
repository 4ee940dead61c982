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

use crate::script::call_judge::{Bound, Reach};
use crate::script::callable::{Arities, Callable};
use crate::script::calls::{Facts, Import, facts};
use crate::script::modules::{self, STDLIB_PREFIX};
use crate::script::{ScriptFile, diagnostic};

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

/// What an interactive session has from its earlier entries: the functions they
/// defined, the modules they imported, the map keys they wrote and its variables.
#[derive(Clone, Debug, Default)]
pub struct Session {
    earlier: Facts,
}

impl Session {
    /// The session with `variables` as the variables in scope.
    pub fn with_variables(mut self, variables: impl IntoIterator<Item = String>) -> Self {
        self.earlier.variables = variables.into_iter().collect();
        self
    }
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

/// A script with the modules it imports, by import path (`None`: it could not be read).
struct Program {
    main: Facts,
    modules: BTreeMap<String, Option<Unit>>,
}

impl Program {
    fn units(&self) -> impl Iterator<Item = &Unit> {
        self.modules.values().flatten()
    }

    /// Every import of the script and of its modules.
    fn imports(&self) -> impl Iterator<Item = &Import> {
        self.main
            .imports
            .iter()
            .chain(self.units().flat_map(|u| &u.facts.imports))
    }

    /// Map keys written anywhere: a map built in a module may reach the script.
    fn keys(&self) -> BTreeSet<String> {
        let mut keys = self.main.keys.clone();
        keys.extend(self.units().flat_map(|u| u.facts.keys.iter().cloned()));
        keys
    }

    /// Whether a method call anywhere may reach a closure under a key the check cannot
    /// know: one is stored under a computed key, or a module the check could not read
    /// (imported from a computed path) may hand out maps of them.
    fn hidden_methods(&self) -> bool {
        self.main.hidden_methods
            || self.units().any(|u| u.facts.hidden_methods)
            || self.imports().any(|i| i.path.is_none())
            || self.modules.values().any(Option::is_none)
    }

    /// Every function defined anywhere: a module's functions may call the functions of
    /// the script that imports it.
    fn every_function(&self) -> Arities {
        let mut functions = self.main.functions.clone();
        for unit in self.units() {
            functions.extend(&unit.facts.functions);
        }
        functions
    }

    /// What each alias `imports` bind reaches.
    fn aliases<'i>(&self, imports: impl Iterator<Item = &'i Import>) -> BTreeMap<String, Bound> {
        let mut aliases: BTreeMap<String, Bound> = BTreeMap::new();
        for import in imports {
            let read = import.path.as_ref().and_then(|p| self.modules.get(p));
            let bound = match (read, aliases.remove(&import.alias)) {
                (Some(Some(unit)), None) => Bound::Functions(unit.facts.functions.clone()),
                (Some(Some(unit)), Some(Bound::Functions(mut functions))) => {
                    functions.extend(&unit.facts.functions);
                    Bound::Functions(functions)
                }
                _ => Bound::Unknown,
            };
            aliases.insert(import.alias.clone(), bound);
        }
        aliases
    }
}

/// Checks scripts against what an engine offers.
pub struct Checker<'a> {
    engine: &'a Engine,
    callable: &'a Callable,
    base_dir: &'a Path,
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
        let mut main = facts(ast);
        main.absorb(&session.earlier);
        let program = self.load(main);
        let keys = program.keys();
        let hidden_methods = program.hidden_methods();
        let aliases = program.aliases(program.main.imports.iter());
        let mut reach = Reach::new(self.callable, &program.main.functions, aliases, &keys);
        reach.hidden_methods = hidden_methods;
        reach.aliases_are_local = true;
        reach.importer_unknown = !file || program.main.module_shaped;
        let main = &program.main;
        let mut findings = reach.findings(source, &main.calls, &main.variables);
        let names = reach.names();
        let every_function = program.every_function();
        let aliases = program.aliases(program.imports());
        let mut in_modules = Reach::new(self.callable, &every_function, aliases, &keys);
        in_modules.hidden_methods = hidden_methods;
        let mut texts = BTreeMap::new();
        for unit in program.units() {
            let found = in_modules.findings(&unit.source, &unit.facts.calls, &unit.facts.variables);
            if !found.is_empty() {
                texts.insert(unit.source.clone(), unit.text.clone());
            }
            findings.extend(found);
        }
        let mut earlier = program.main;
        earlier.calls.clear();
        earlier.keys = keys;
        earlier.hidden_methods = hidden_methods;
        Report {
            source: source.to_owned(),
            findings,
            texts,
            session: Session { earlier },
            names,
        }
    }

    /// Reads every module `main` imports by a literal path, and the modules those import.
    fn load(&self, main: Facts) -> Program {
        let mut modules = BTreeMap::new();
        let mut pending: Vec<String> = main.imports.iter().filter_map(|i| i.path.clone()).collect();
        while let Some(path) = pending.pop() {
            if modules.contains_key(&path) {
                continue;
            }
            let unit = self.unit(&path);
            if let Some(unit) = &unit {
                pending.extend(unit.facts.imports.iter().filter_map(|i| i.path.clone()));
            }
            modules.insert(path, unit);
        }
        Program { main, modules }
    }

    /// The module `import "path"` loads, if it can be read and compiled.
    fn unit(&self, path: &str) -> Option<Unit> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Limits;

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
        let (_runtime, host) = crate::script::host::testing::on_this_thread();
        let engine = crate::engine::build(&host, Limits::default(), dir.path().into());
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
