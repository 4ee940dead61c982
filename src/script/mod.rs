//! The script toolkit every binding uses: the host, limits, output routing, the stdlib
//! resolver, cancellation, options, flow primitives and diagnostics. It knows no vendor:
//! [`crate::engine`] assembles the whole engine from it and the vendor list.

pub mod board;
pub mod call_check;
pub mod call_judge;
pub mod call_message;
pub mod callable;
pub mod calls;
pub mod catalogue;
pub mod confirm;
pub mod console;
pub mod depth;
pub mod diagnostic;
pub mod error_value;
pub mod flow;
pub mod host;
pub mod job;
pub mod memory;
pub mod modules;
pub mod object_names;
pub mod options;
pub mod parallel;
pub mod planning;
pub mod preflight;
pub mod printers;
pub mod reference;
pub mod remote;
pub mod shared_parallel;
pub mod shared_read;
pub mod show;
pub mod size_limits;
pub mod step;
pub mod stored_value;
pub mod timestamp;
pub mod verdict;
pub mod wait;
pub mod wait_log;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rhai::{AST, Dynamic, Engine, EvalAltResult, Scope};

pub use host::Host;

/// Resource limits on one script, set from the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Operations before the script is stopped (0: no limit).
    pub max_operations: u64,
    /// Depth of nested function calls.
    pub max_call_levels: usize,
    /// Longest string, in bytes (0: no limit).
    pub max_string_size: usize,
    /// Longest array (0: no limit).
    pub max_array_size: usize,
    /// Largest map (0: no limit).
    pub max_map_size: usize,
    /// Deepest nesting of arrays and maps that printers and `json_encode` accept.
    pub max_depth: usize,
    /// Bytes the script's thread may hold (0: no limit).
    pub max_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: 100_000_000,
            max_call_levels: 64,
            max_string_size: 16 << 20,
            max_array_size: 1_000_000,
            max_map_size: 1_000_000,
            max_depth: 256,
            // A playbook holds small values: a wave of 10,000 handles of a few hundred
            // bytes each is a few MiB, and the largest single values the other limits
            // allow (a 16 MiB string, a million-item array) fit. A runaway that doubles
            // a value each step reaches 128 MiB within a second; 512 took 3.5 s and
            // peaked at 900 MB, twice the budget, since the last copy is made in one step.
            max_memory: 128 << 20,
        }
    }
}

/// The stack of every thread that runs a script: Rhai walks nested values recursively
/// (size checks, copies, drops), so a value nested thousands deep, as a loop can build,
/// needs far more than the default 2 MiB. Only the pages touched are ever committed.
pub const STACK_SIZE: usize = 512 << 20;

/// Builds an engine for `host` with every function scripts can call: what
/// [`crate::engine::build`] is, handed to the toolkit parts that need a whole engine
/// without the toolkit depending on the vendors.
pub type BuildEngine = fn(&Arc<Host>, Limits, PathBuf) -> Engine;

/// An engine with the toolkit alone: limits, the stdlib resolver, the file gate, output,
/// cancellation and the flow primitives; [`crate::engine::build`] adds the vendors.
/// `base_dir` is where `import "file"` looks and where relative file paths start.
pub fn toolkit(host: &Arc<Host>, limits: Limits, base_dir: PathBuf) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        // Rhai's defaults are halved in debug builds; playbooks nest loops in functions,
        // and the same script must compile in every build.
        .set_max_expr_depths(128, 64)
        .set_module_resolver(modules::Resolver::new(base_dir.clone()));
    crate::file_gate::FileGate::new(base_dir, host.allowed_reads())
        .guarding(host.targets().secret_files())
        .install(&mut engine);
    engine.on_print(|text| {
        let text = crate::terminal_text::escape_control(text);
        crate::screen::print_line(&text);
        tracing::debug!(target: "cutover::script", "print: {text}");
    });
    engine.on_debug(|text, source, pos| {
        tracing::debug!(target: "cutover::script", "{}:{}: {text}", source.unwrap_or("script"), pos.line().unwrap_or(0));
    });
    let h = host.clone();
    let max_memory = limits.max_memory;
    engine.on_progress(move |_| {
        if h.is_interrupted() {
            return Some(Dynamic::from("interrupted"));
        }
        (max_memory > 0 && memory::script_bytes() > max_memory).then(|| over_budget(max_memory))
    });
    size_limits::install(&mut engine, limits);
    printers::register(&mut engine, limits.max_depth);
    flow::register(&mut engine, host);
    parallel::register(&mut engine, host);
    confirm::register(&mut engine, host);
    planning::register(&mut engine, host);
    flow::register_json(&mut engine, limits.max_depth);
    verdict::register(&mut engine, host);
    timestamp::register(&mut engine);
    engine
}

/// The error that stops a script holding more than its memory budget: a `validation`
/// error map, carried by Rhai's termination so no `catch` can swallow it.
fn over_budget(max_memory: usize) -> Dynamic {
    let err = crate::api_error::ApiError::new(
        crate::api_error::ErrorKind::Validation,
        format!(
            "the script holds more than {} of memory; look for a value that grows without \
             end, or raise `--max-memory`",
            memory::shown(max_memory)
        ),
    );
    Dynamic::from_map(error_value::to_map(&err))
}

/// A script read from disk, with its text kept for diagnostics.
pub struct ScriptFile {
    pub path: PathBuf,
    pub text: String,
    /// Every name the script could call, kept from its check to suggest one when a call
    /// fails at run time.
    names: OnceLock<Vec<String>>,
}

impl ScriptFile {
    /// Reads a playbook.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        #[allow(
            clippy::disallowed_methods,
            reason = "the script host is the gate for playbooks"
        )]
        let text = std::fs::read_to_string(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            text,
            names: OnceLock::new(),
        })
    }

    /// The name errors show for this script.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The folder `import "file"` and relative paths start from.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Compiles the script with every import resolved, so a bad module path or a syntax
    /// error in a module is found before anything runs, then checks that every call has
    /// a function to answer it ([`call_check`]).
    pub fn compile(&self, engine: &Engine) -> Result<AST, String> {
        let ast = self.parse(engine)?;
        let findings = self.check_calls(engine, &ast);
        if findings.is_empty() {
            Ok(ast)
        } else {
            Err(findings.join("\n"))
        }
    }

    /// Compiles the script with every import resolved, without the call check.
    pub fn parse(&self, engine: &Engine) -> Result<AST, String> {
        let mut ast = engine
            .compile_into_self_contained(&Scope::new(), &self.text)
            .map_err(|mut err| {
                self.place_import_error(&mut err);
                self.render(&err)
            })?;
        ast.set_source(self.name());
        Ok(ast)
    }

    /// Every call in `ast` (and its modules) that nothing on `engine` answers, each
    /// rendered with its place and caret.
    pub fn check_calls(&self, engine: &Engine, ast: &AST) -> Vec<String> {
        let callable = callable::Callable::new(engine);
        let base_dir = self.base_dir();
        let checker = call_check::Checker::new(engine, &callable, &base_dir);
        let name = self.name();
        let report = checker.check_file(ast, &name);
        let _ = self.names.set(report.names.clone());
        report.rendered(&self.text)
    }

    /// Rhai resolves imports at compile time without positions; point a failed import
    /// at the `import` line that named it.
    fn place_import_error(&self, err: &mut EvalAltResult) {
        let path = match err {
            EvalAltResult::ErrorModuleNotFound(message, pos) if pos.is_none() => message
                .split('`')
                .nth(1)
                .map(str::to_owned)
                .unwrap_or_else(|| message.clone()),
            EvalAltResult::ErrorInModule(path, _, pos) if pos.is_none() => path.clone(),
            _ => return,
        };
        let quoted = format!("\"{path}\"");
        let found = self.text.lines().enumerate().find_map(|(index, line)| {
            let column = line.find(&quoted)?;
            line.contains("import")
                .then(|| (index + 1, line[..column].chars().count() + 1))
        });
        if let Some((line, column)) = found {
            err.set_position(rhai::Position::new(
                u16::try_from(line).unwrap_or(u16::MAX),
                u16::try_from(column).unwrap_or(u16::MAX),
            ));
        }
    }

    /// Renders an error raised while compiling or running this script.
    pub fn render(&self, err: &EvalAltResult) -> String {
        let name = self.name();
        if let EvalAltResult::ErrorParsing(kind, pos) = err {
            return diagnostic::render_compile(
                &rhai::ParseError(Box::new(kind.clone()), *pos),
                &name,
                &self.text,
            );
        }
        let lookup = |source: &str| -> Option<String> {
            if source == name {
                return Some(self.text.clone());
            }
            if let Some(text) = modules::stdlib_source(source) {
                return Some(text.to_owned());
            }
            #[allow(
                clippy::disallowed_methods,
                reason = "reading a module's text to show an error in it"
            )]
            std::fs::read_to_string(source).ok()
        };
        diagnostic::render_runtime(err, &name, &lookup, self.names())
    }

    /// Renders each of `errs` (raised about this script), one after another.
    pub fn render_all(&self, errs: &[Box<EvalAltResult>]) -> String {
        let rendered: Vec<String> = errs.iter().map(|err| self.render(err)).collect();
        rendered.join("\n")
    }

    /// The one-line summary of a runtime error in this script.
    pub fn headline(&self, err: &EvalAltResult) -> String {
        diagnostic::headline_with(err, self.names())
    }

    fn names(&self) -> &[String] {
        self.names.get().map_or(&[], Vec::as_slice)
    }
}
