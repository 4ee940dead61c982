//! `Console`: one engine and one scope that evaluate entry after entry, for the REPL.
//!
//! Each entry is compiled with the scope, merged with the functions defined so far,
//! evaluated, then stripped back to its functions (rhai's `rhai-repl` does the same), so
//! variables, functions and handles survive from line to line. A top-level `import … as
//! name` is registered on the engine, so the module stays imported too. Every entry
//! starts a fresh interruption token on the host: Ctrl-C stops one entry, not the session.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rhai::{AST, Dynamic, Engine, EvalAltResult, Expr, Scope, Stmt};

use crate::script::call_check::{self, Checker};
use crate::script::callable::Callable;
use crate::script::catalogue::Catalogue;
use crate::script::object_names::ObjectNames;
use crate::script::{BuildEngine, Host, Limits, ScriptFile, diagnostic, modules, show};

/// The source name errors give the entry being evaluated.
pub const INPUT: &str = "<input>";

/// Why an entry produced no value, rendered for a terminal.
#[derive(Debug)]
pub struct Failure {
    /// The diagnostic: message, `--> place`, the source line and a caret.
    pub rendered: String,
    /// The entry was stopped by Ctrl-C.
    pub interrupted: bool,
}

/// A variable of the session, described for `:vars` and completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its type as scripts name it (`ImportSession`, `map`, `i64`, …).
    pub type_name: String,
    /// A map's keys, for completing `m.`.
    pub keys: Vec<String>,
    /// Its value on one line.
    pub summary: String,
}

/// A script function defined in the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptFunction {
    /// Its name.
    pub name: String,
    /// `name(a, b)`.
    pub signature: String,
    /// Its doc comment blocks.
    pub comments: Vec<String>,
}

/// A persistent evaluation session.
pub struct Console {
    engine: Engine,
    host: Arc<Host>,
    scope: Scope<'static>,
    /// Every function defined so far, without statements.
    functions: AST,
    /// Source name → text, for diagnostics of functions defined by earlier entries.
    texts: HashMap<String, String>,
    /// Function name → the source name of the text that defined it.
    defined_in: HashMap<String, String>,
    catalogue: Arc<Catalogue>,
    /// The engine completion probes run on, built at the first Tab.
    probe: OnceLock<Arc<Engine>>,
    /// What builds it.
    build: BuildEngine,
    /// What entries may call, for the call check and its suggestions.
    callable: Callable,
    /// Where `import "file"` looks.
    base_dir: PathBuf,
    /// What earlier entries defined and imported, for the call check.
    calls: call_check::Session,
    /// Every name an entry could call, for suggestions at run time.
    names: Vec<String>,
}

impl Console {
    /// A session on an engine `build` makes over `host` with `limits`, with
    /// `import "file"` looking in `base_dir`.
    pub fn new(
        build: BuildEngine,
        host: Arc<Host>,
        limits: Limits,
        base_dir: PathBuf,
    ) -> Result<Self, String> {
        let engine = build(&host, limits, base_dir.clone());
        let catalogue = Arc::new(Catalogue::new(&engine)?);
        let callable = Callable::new(&engine);
        Ok(Self {
            engine,
            host,
            scope: Scope::new(),
            functions: AST::empty(),
            texts: HashMap::new(),
            defined_in: HashMap::new(),
            catalogue,
            callable,
            base_dir,
            calls: call_check::Session::default(),
            names: Vec::new(),
            probe: OnceLock::new(),
            build,
        })
    }

    /// What the engine offers, for completion and `:help`.
    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }

    /// The host the session's scripts reach through.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// Evaluates one entry; answers its value for people, `None` for `()`.
    pub fn eval(&mut self, text: &str) -> Result<Option<String>, Failure> {
        let ast = self
            .engine
            .compile_with_scope(&self.scope, text)
            .map_err(|err| Failure {
                rendered: diagnostic::render_compile(&err, INPUT, text),
                interrupted: false,
            })?;
        self.check_calls(&ast, INPUT, text)?;
        self.texts.insert(INPUT.to_owned(), text.to_owned());
        self.run(ast, INPUT, text)
    }

    /// Runs a script file into the session: its variables and functions stay.
    pub fn load(&mut self, file: &ScriptFile) -> Result<Option<String>, Failure> {
        let name = file.name();
        let ast = self
            .engine
            .compile_with_scope(&self.scope, &file.text)
            .map_err(|err| Failure {
                rendered: diagnostic::render_compile(&err, &name, &file.text),
                interrupted: false,
            })?;
        self.check_calls(&ast, &name, &file.text)?;
        self.texts.insert(name.clone(), file.text.clone());
        self.run(ast, &name, &file.text)
    }

    /// Refuses an entry with a call nothing answers before any of it runs (a mutation
    /// earlier on the line must not happen for a typo later on it).
    fn check_calls(&mut self, ast: &AST, source: &str, text: &str) -> Result<(), Failure> {
        let session = self
            .calls
            .clone()
            .with_variables(self.scope.iter_raw().map(|(name, ..)| name.to_owned()));
        let checker = Checker::new(&self.engine, &self.callable, &self.base_dir);
        let report = checker.check_entry(ast, source, &session);
        if !report.findings.is_empty() {
            return Err(Failure {
                rendered: report.rendered(text).join("\n"),
                interrupted: false,
            });
        }
        self.calls = report.session;
        self.names = report.names;
        Ok(())
    }

    fn run(&mut self, ast: AST, source: &str, text: &str) -> Result<Option<String>, Failure> {
        self.remember_functions(&ast, source, text);
        self.host.next_line();
        let result = self.import_modules(&ast).and_then(|statements| {
            let mut merged = self.functions.merge(&statements);
            merged.set_source(source);
            let result = self
                .engine
                .eval_ast_with_scope::<Dynamic>(&mut self.scope, &merged);
            merged.clear_statements();
            self.functions = merged;
            result
        });
        let interrupted = self.host.is_interrupted();
        // Showing a value runs its `to_string`, which an interrupted token would stop.
        self.host.next_line();
        match result {
            Ok(value) if value.is_unit() => Ok(None),
            Ok(value) => Ok(Some(show::show(&self.engine, &value))),
            Err(mut err) => Err(Failure {
                rendered: self.render(&mut err, source),
                interrupted,
            }),
        }
    }

    /// Registers each top-level `import "path" as name;` on the engine, so the module
    /// outlives the entry, and answers the entry without those statements.
    fn import_modules(&mut self, ast: &AST) -> Result<AST, Box<EvalAltResult>> {
        let mut rest = Vec::with_capacity(ast.statements().len());
        for statement in ast.statements() {
            if let Stmt::Import(import, position) = statement {
                if let (Expr::StringConstant(path, _), alias) = (&import.0, &import.1) {
                    if !alias.name.is_empty() {
                        let resolver = self.engine.module_resolver();
                        let module = resolver.resolve(&self.engine, None, path, *position)?;
                        self.engine
                            .register_static_module(alias.name.as_str(), module);
                        continue;
                    }
                }
            }
            rest.push(statement.clone());
        }
        Ok(AST::new(rest, ast.shared_lib().clone()))
    }

    /// Notes where each function of `ast` was defined, so an error inside it later
    /// shows the right text.
    fn remember_functions(&mut self, ast: &AST, source: &str, text: &str) {
        for function in ast.iter_functions() {
            let label = if source == INPUT {
                format!("<fn {}>", function.name)
            } else {
                source.to_owned()
            };
            self.texts.insert(label.clone(), text.to_owned());
            self.defined_in.insert(function.name.to_owned(), label);
        }
    }

    fn render(&self, err: &mut EvalAltResult, source: &str) -> String {
        self.relabel(err);
        let lookup = |name: &str| -> Option<String> {
            if let Some(text) = self.texts.get(name) {
                return Some(text.clone());
            }
            if let Some(text) = modules::stdlib_source(name) {
                return Some(text.to_owned());
            }
            ScriptFile::read(Path::new(name)).ok().map(|file| file.text)
        };
        diagnostic::render_runtime(err, source, &lookup, &self.names)
    }

    /// Points each frame of a session-defined function at the text that defined it.
    fn relabel(&self, err: &mut EvalAltResult) {
        if let EvalAltResult::ErrorInFunctionCall(name, source, inner, _) = err {
            if let Some(label) = self.defined_in.get(name.as_str()) {
                label.clone_into(source);
            }
            self.relabel(inner);
        }
    }

    /// The session's variables, each once (the latest of shadowed ones), in order.
    pub fn variables(&self) -> Vec<Variable> {
        // Summaries run the handles' `to_string`; a Ctrl-C that came while no entry
        // was running must not cut them short.
        self.host.next_line();
        let mut variables: Vec<Variable> = Vec::new();
        for (name, _, value) in self.scope.iter_raw() {
            let variable = Variable {
                name: name.to_owned(),
                type_name: show::type_name(&self.engine, value),
                keys: value
                    .read_lock::<rhai::Map>()
                    .map(|map| map.keys().map(ToString::to_string).collect())
                    .unwrap_or_default(),
                summary: show::summary(&self.engine, value),
            };
            variables.retain(|v| v.name != name);
            variables.push(variable);
        }
        variables
    }

    /// What completion asks for the objects a string argument may name: the session's
    /// variables that hold host handles (cheap clones), on an engine of its own so a
    /// Tab never disturbs the session.
    pub fn object_names(&self) -> ObjectNames {
        let handles = self
            .scope
            .iter_raw()
            .filter(|(_, _, value)| value.is_variant())
            .map(|(name, _, value)| (name.to_owned(), value.clone()))
            .collect();
        let probe = Arc::clone(self.probe.get_or_init(|| {
            Arc::new((self.build)(
                &self.host,
                crate::script::Limits::default(),
                ".".into(),
            ))
        }));
        ObjectNames::new(probe, handles, self.host.targets().kinds().to_vec())
    }

    /// The script functions defined in the session, by name.
    pub fn script_functions(&self) -> Vec<ScriptFunction> {
        let mut functions: Vec<ScriptFunction> = self
            .functions
            .iter_functions()
            .filter(|f| !f.name.starts_with("anon$"))
            .map(|f| ScriptFunction {
                name: f.name.to_owned(),
                signature: format!("{}({})", f.name, f.params.join(", ")),
                comments: f.comments.iter().map(ToString::to_string).collect(),
            })
            .collect();
        functions.sort_by(|a, b| a.signature.cmp(&b.signature));
        functions
    }

    /// `:help NAME`: a session function or a host function with its documentation.
    pub fn help(&self, name: &str) -> Option<String> {
        let mut out = String::new();
        for function in self.script_functions().iter().filter(|f| f.name == name) {
            crate::script::reference::entry(&mut out, &function.signature, &function.comments);
        }
        if let Some(host) = self.catalogue.help(name) {
            out.push('\n');
            out.push_str(&host);
        }
        let out = out.trim_start_matches('\n');
        (!out.is_empty()).then(|| out.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        console: Console,
        _runtime: tokio::runtime::Runtime,
    }

    fn console() -> Fixture {
        let (runtime, host) = crate::script::host::testing::on_this_thread();
        Fixture {
            console: Console::new(crate::engine::build, host, Limits::default(), ".".into())
                .unwrap(),
            _runtime: runtime,
        }
    }

    #[test]
    fn variables_and_functions_survive_from_entry_to_entry() {
        let mut f = console();
        let c = &mut f.console;
        assert_eq!(c.eval("let x = 20;").unwrap(), None);
        assert_eq!(c.eval("fn double(n) {\n  n * 2\n}").unwrap(), None);
        assert_eq!(c.eval("double(x + 1)").unwrap().as_deref(), Some("42"));
        assert_eq!(c.eval("x += 1; x").unwrap().as_deref(), Some("21"));
        let names: Vec<String> = c.variables().into_iter().map(|v| v.name).collect();
        assert_eq!(names, ["x"]);
        assert_eq!(c.script_functions()[0].signature, "double(n)");
    }

    #[test]
    fn imports_stay_imported() {
        let mut f = console();
        let c = &mut f.console;
        c.eval("import \"cutover/report\" as report;").unwrap();
        let shown = c
            .eval("report::count_by([#{ s: \"a\" }, #{ s: \"a\" }], \"s\")")
            .unwrap();
        assert_eq!(shown.as_deref(), Some("#{\n  a: 2,\n}"));
    }

    #[test]
    fn errors_point_at_the_entry_and_the_session_goes_on() {
        let mut f = console();
        let c = &mut f.console;
        let failure = c.eval("let y = nope + 1;").unwrap_err();
        assert!(!failure.interrupted);
        assert!(
            failure.rendered.contains(" --> <input>:1:9\n"),
            "{}",
            failure.rendered
        );
        assert!(
            failure
                .rendered
                .contains("1 | let y = nope + 1;\n  |         ^^^^\n"),
            "{}",
            failure.rendered
        );
        let failure = c.eval("let z = (1 +;").unwrap_err();
        assert!(
            failure.rendered.starts_with("error: "),
            "{}",
            failure.rendered
        );
        assert_eq!(c.eval("1 + 1").unwrap().as_deref(), Some("2"));
    }

    #[test]
    fn errors_in_earlier_functions_show_their_own_text() {
        let mut f = console();
        let c = &mut f.console;
        c.eval("fn broken(x) {\n  x.to_upper()\n}").unwrap();
        let failure = c.eval("broken(1)").unwrap_err();
        let shown = &failure.rendered;
        assert!(
            shown.starts_with(
                "error: `to_upper` cannot be called with (i64); `cutover doc` lists what each function takes\n"
            ),
            "{shown}"
        );
        assert!(shown.contains(" --> <fn broken>:2:5\n"), "{shown}");
        assert!(shown.contains("2 |   x.to_upper()\n"), "{shown}");
        assert!(
            shown.contains("in fn `broken`, called from <input>:1:1"),
            "{shown}"
        );
    }

    #[test]
    fn an_entry_calling_an_unknown_function_is_refused_before_any_of_it_runs() {
        let mut f = console();
        let c = &mut f.console;
        c.eval("let runs = 0;").unwrap();
        c.eval("fn wave(n) { n + 1 }").unwrap();
        let failure = c.eval("runs += 1; wav(1); runs.to_strng()").unwrap_err();
        assert_eq!(
            failure.rendered,
            "error: unknown function `wav`; did you mean `wave`?\n \
             --> <input>:1:12\n  |\n1 | runs += 1; wav(1); runs.to_strng()\n  \
             |            ^^^\n\n\
             error: unknown method `to_strng`; did you mean `to_string`?\n \
             --> <input>:1:25\n  |\n1 | runs += 1; wav(1); runs.to_strng()\n  \
             |                         ^^^^^^^^\n"
        );
        assert_eq!(c.eval("runs").unwrap().as_deref(), Some("0"));
        // A function may call one a later entry defines.
        c.eval("fn first() { second() + 1 }").unwrap();
        c.eval("fn second() { 41 }").unwrap();
        assert_eq!(c.eval("first()").unwrap().as_deref(), Some("42"));
        c.eval("import \"cutover/report\" as report;").unwrap();
        c.eval("let m = #{ act: |x| x * 2 };").unwrap();
        assert_eq!(c.eval("m.act(wave(1))").unwrap().as_deref(), Some("4"));
        assert_eq!(
            c.eval("report::count_by([], \"k\").len()")
                .unwrap()
                .as_deref(),
            Some("0")
        );
        let failure = c.eval("report::count([], \"k\")").unwrap_err();
        assert!(
            failure.rendered.starts_with(
                "error: unknown function `report::count`; did you mean `report::count_by`?\n"
            ),
            "{}",
            failure.rendered
        );
    }

    #[test]
    fn a_function_missing_at_run_time_suggests_the_one_meant() {
        let mut f = console();
        let c = &mut f.console;
        let failure = c
            .eval("let f = Fn(\"powerstor\");\nf.call(\"array1\")")
            .unwrap_err();
        assert_eq!(
            failure.rendered,
            "error: unknown function `powerstor`; did you mean `powerstore`?\n \
             --> <input>:2:3\n  |\n2 | f.call(\"array1\")\n  |   ^^^^\n"
        );
    }

    #[test]
    fn an_interrupted_entry_stops_and_handles_still_show() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let targets = crate::config::Targets::parse(
            "[targets.array1]\nkind = \"powerstore\"\nurl = \"http://127.0.0.1:9\"\n\
             user = \"admin\"\npassword = \"unused\"\n",
            Path::new("cutover.toml"),
            &crate::lab::target_kinds(),
        )
        .unwrap();
        let host = Arc::new(Host::new(
            runtime.handle().clone(),
            crate::clock::Clock::wall(),
            tokio_util::sync::CancellationToken::new(),
            targets,
        ));
        let mut c = Console::new(
            crate::engine::build,
            host.clone(),
            Limits::default(),
            ".".into(),
        )
        .unwrap();
        c.eval("let array = powerstore(\"array1\");").unwrap();
        // Ctrl-C, pressed again and again until the busy entry has stopped.
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopper = std::thread::spawn({
            let (host, done) = (host.clone(), done.clone());
            move || {
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    host.interrupt_line();
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
            }
        });
        let failure = c.eval("loop { }").unwrap_err();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        stopper.join().unwrap();
        assert!(failure.interrupted);
        host.interrupt_line();
        let shown: Vec<String> = c.variables().into_iter().map(|v| v.summary).collect();
        assert_eq!(shown, ["PowerStore array1"]);
        assert_eq!(
            c.eval("array").unwrap().as_deref(),
            Some("PowerStore array1")
        );
    }

    #[test]
    fn help_covers_session_and_host_functions() {
        let mut f = console();
        let c = &mut f.console;
        c.eval("/// Doubles.\nfn double(n) { n * 2 }").unwrap();
        assert_eq!(c.help("double").unwrap(), "double(n)\n    Doubles.\n");
        let sleep = c.help("sleep").unwrap();
        for overload in [
            "sleep(duration: Dynamic)\n    Pauses the script;",
            "sleep(milliseconds: i64)\n    The same, for milliseconds on the run's clock.\n",
            "sleep(milliseconds: f64)\n    The same, for milliseconds on the run's clock.\n",
            "sleep(duration: &str)\n    The same, for a duration like `\"30s\"`.\n",
        ] {
            assert!(sleep.contains(overload), "{sleep}");
        }
        assert_eq!(c.help("zzz"), None);
    }
}
