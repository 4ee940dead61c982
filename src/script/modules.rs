//! Module resolution: `import "cutover/<name>" as x;` loads `stdlib/<name>.rhai`, compiled
//! into the binary; any other path is a `.rhai` file beside the playbook.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use rhai::module_resolvers::FileModuleResolver;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

use crate::journal::fingerprint::FileHash;
use crate::thread_stack;

/// The embedded stdlib: `(name, source)`.
pub const STDLIB: &[(&str, &str)] = &[
    ("powerstore", include_str!("../../stdlib/powerstore.rhai")),
    ("report", include_str!("../../stdlib/report.rhai")),
    ("vcd", include_str!("../../stdlib/vcd.rhai")),
    ("wave", include_str!("../../stdlib/wave.rhai")),
];

/// Prefix of stdlib import paths.
pub const STDLIB_PREFIX: &str = "cutover/";

/// The source of stdlib module `path` (e.g. `cutover/report`).
pub fn stdlib_source(path: &str) -> Option<&'static str> {
    let name = path.strip_prefix(STDLIB_PREFIX)?;
    STDLIB
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The file `import "path"` loads for a playbook in `base_dir`, as the resolver finds it:
/// relative to that folder, with the extension forced to `.rhai`.
pub fn file_path(base_dir: &Path, path: &str) -> PathBuf {
    let mut file = base_dir.to_path_buf();
    file.push(path);
    file.set_extension("rhai");
    file
}

/// Resolves the stdlib first, then files relative to the playbook's folder.
pub struct Resolver {
    files: FileModuleResolver,
}

impl Resolver {
    /// A resolver for a playbook in `base_dir`.
    pub fn new(base_dir: PathBuf) -> Self {
        Self {
            files: FileModuleResolver::new_with_path(base_dir),
        }
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if !path.starts_with(STDLIB_PREFIX) {
            let file = self.files.get_file_path(path, None);
            #[allow(
                clippy::disallowed_methods,
                reason = "the module's own bytes, read to fingerprint what the run loads"
            )]
            if let Ok(bytes) = std::fs::read(&file) {
                note_loaded(file.display().to_string(), &bytes);
            }
            let _guard = importing(file, path, pos)?;
            return self.files.resolve(engine, source, path, pos);
        }
        let Some(text) = stdlib_source(path) else {
            let known: Vec<String> = STDLIB
                .iter()
                .map(|(n, _)| format!("{STDLIB_PREFIX}{n}"))
                .collect();
            let message = format!("no stdlib module `{path}`; there are: {}", known.join(", "));
            return Err(Box::new(EvalAltResult::ErrorModuleNotFound(message, pos)));
        };
        note_loaded(path.to_owned(), text.as_bytes());
        let in_module =
            |err: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(path.into(), err, pos));
        let mut ast = engine.compile(text).map_err(|err| in_module(err.into()))?;
        ast.set_source(path);
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        Ok(module.into())
    }
}

thread_local! {
    /// Every module loaded on this thread since [`take_loaded`] was last called: what a
    /// run's journal fingerprints.
    static LOADED: RefCell<Vec<FileHash>> = const { RefCell::new(Vec::new()) };
}

fn note_loaded(path: String, content: &[u8]) {
    let hash = FileHash::of(Path::new(&path), content);
    LOADED.with_borrow_mut(|loaded| {
        if !loaded.contains(&hash) {
            loaded.push(hash);
        }
    });
}

/// The modules this thread loaded since the last call (a compile's imports, each once),
/// with the hashes of their content.
pub fn take_loaded() -> Vec<FileHash> {
    LOADED.with_borrow_mut(std::mem::take)
}

thread_local! {
    /// The modules being loaded on this thread, outermost first, with the path each was
    /// imported by: a module that imports one of them again would recurse until the stack
    /// overflows, so it is refused as a cycle.
    static IMPORTING: RefCell<Vec<(PathBuf, String)>> = const { RefCell::new(Vec::new()) };
}

/// Puts module `file` (imported as `path`) on the stack of modules being loaded, until
/// the guard is dropped; refused as a cycle when it is being loaded already.
fn importing(
    file: PathBuf,
    path: &str,
    pos: Position,
) -> Result<thread_stack::Held<(PathBuf, String)>, Box<EvalAltResult>> {
    IMPORTING.with_borrow(|stack| {
        let Some(start) = stack.iter().position(|(f, _)| *f == file) else {
            return Ok(());
        };
        let mut chain: Vec<String> = stack[start..]
            .iter()
            .map(|(_, p)| format!("`{p}`"))
            .collect();
        chain.push(format!("`{path}`"));
        let message = format!(
            "import cycle: {}; a module cannot import itself, directly or through \
             others: move what both need into a third module",
            chain.join(" imports ")
        );
        Err(Box::new(EvalAltResult::ErrorRuntime(message.into(), pos)))
    })?;
    Ok(thread_stack::push(&IMPORTING, (file, path.to_owned())))
}
