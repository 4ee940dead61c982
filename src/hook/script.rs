//! Rhai bindings of `cutover watch`: `on_file(pattern, #{ … }, handler)` registers a
//! handler while a hook script loads; `read_text`, `write_text`, `file_info` and
//! `wait_for_file` let scripts use files through the file gate (hook handlers may also
//! write in the folder they watch). Following rhai's `examples/event_handler_main`, a
//! hook is compiled once, registers, and then its handler is called for each event.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rhai::{
    Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, ImmutableString, Map, Module,
    NativeCallContext, Shared,
};

use crate::api_error::{ApiError, ErrorKind};
use crate::file_gate::FileGate;
use crate::hook::event::{ChangeKind, FileEvent, Stat};
use crate::hook::files;
use crate::hook::filter::Pattern;
use crate::hook::spec::OnBusy;
use crate::hook::spec::{DEFAULT_CONCURRENCY, DEFAULT_DEBOUNCE, DEFAULT_SETTLE, HandlerSpec};
use crate::script::Host;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::flow::poll;
use crate::script::options::{Options, spelled};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

const ON_FILE_OPTIONS: &[&str] = &[
    "events",
    "debounce",
    "settle",
    "concurrency",
    "on_busy",
    "root",
    "name",
];
const WAIT_TIMEOUT: Duration = Duration::from_secs(3600);
const WAIT_SETTLE: Duration = Duration::from_secs(5);

/// A handler as the script gave it (a closure or a function pointer), with the modules
/// the hook had imported when it registered: a handler runs later, on an engine of its
/// own, and must still find `report::table` and the like.
#[derive(Clone)]
pub struct Callback {
    handler: FnPtr,
    imports: Vec<(ImmutableString, Shared<Module>)>,
}

impl Callback {
    /// Makes the hook's imports available to handlers run on `engine`.
    pub fn install_imports(&self, engine: &mut Engine) {
        for (alias, module) in &self.imports {
            engine.register_static_module(alias.as_str(), module.clone());
        }
    }
}

/// The registrations a hook script made while it loaded.
pub type Registrations = Arc<Mutex<Vec<(HandlerSpec, Callback)>>>;

/// `on_file`'s documentation, its defaults spelled from the values a handler gets.
fn on_file_doc() -> String {
    format!(
        "/// Registers a file-watch handler (in hook scripts run by `cutover watch`).\n/// `pattern` is a glob relative to the hook's folder (`*` stays in one folder, `**`\n/// crosses folders). `handler` gets `#{{ path, name, dir, kind, size, modified, from,\n/// to, initial }}`. Options: `events` (default [\"create\", \"modify\", \"rename\"]; also\n/// \"remove\"), `debounce` (\"{}\"), `settle` (\"{}\": size and modification time must\n/// stay the same this long), `concurrency` ({}), `on_busy` (\"queue\", \"skip\" or\n/// \"restart\"), `root` (the folder the pattern is relative to), `name`.",
        spelled(DEFAULT_DEBOUNCE),
        spelled(DEFAULT_SETTLE),
        DEFAULT_CONCURRENCY
    )
}

fn gate(ctx: &NativeCallContext) -> RhaiResult<Arc<FileGate>> {
    FileGate::of(ctx).map_err(raise)
}

/// Calls `callback` with the event map of `event`.
pub fn call(
    engine: &Engine,
    ast: &rhai::AST,
    callback: &Callback,
    event: &FileEvent,
) -> RhaiResult<()> {
    callback
        .handler
        .call::<Dynamic>(engine, ast, (Dynamic::from_map(event_map(event)),))
        .map(|_| ())
}

/// The map a handler receives: `path`, `name`, `dir`, `kind`, `size`, `modified`,
/// `from`, `to` and `initial`.
pub fn event_map(event: &FileEvent) -> Map {
    let text = |p: &PathBuf| Dynamic::from(p.display().to_string());
    let mut map = Map::new();
    map.insert("path".into(), text(&event.path));
    map.insert("name".into(), event.name.clone().into());
    map.insert(
        "dir".into(),
        event
            .path
            .parent()
            .map_or(Dynamic::UNIT, |d| text(&d.to_path_buf())),
    );
    map.insert("kind".into(), event.kind.as_str().into());
    map.insert(
        "size".into(),
        event.stat.map_or(Dynamic::UNIT, |s| size(s.size)),
    );
    map.insert(
        "modified".into(),
        event.stat.map_or(Dynamic::UNIT, |s| timestamp(s.modified)),
    );
    map.insert(
        "from".into(),
        event.from.as_ref().map_or(Dynamic::UNIT, text),
    );
    let to = (event.kind == ChangeKind::Rename).then(|| text(&event.path));
    map.insert("to".into(), to.unwrap_or(Dynamic::UNIT));
    map.insert("initial".into(), event.initial.into());
    map
}

fn size(bytes: u64) -> Dynamic {
    i64::try_from(bytes).unwrap_or(i64::MAX).into()
}

fn timestamp(time: SystemTime) -> Dynamic {
    humantime::format_rfc3339_millis(time).to_string().into()
}

/// `#{ path, size, modified }` of a file.
fn info_map(path: &std::path::Path, stat: Stat) -> Map {
    let mut map = Map::new();
    map.insert("path".into(), path.display().to_string().into());
    map.insert("size".into(), size(stat.size));
    map.insert("modified".into(), timestamp(stat.modified));
    map
}

/// `on_file(pattern, options, handler)` while a hook loads: adds to `registrations`.
fn on_file(
    registrations: &Registrations,
    ctx: &NativeCallContext,
    pattern: &str,
    options: Map,
    handler: FnPtr,
) -> RhaiResult<()> {
    const OPERATION: &str = "on_file";
    let events = options.get("events").cloned();
    let options = Options::new(OPERATION, options, ON_FILE_OPTIONS)?;
    let pattern = Pattern::new(pattern).map_err(|err| invalid_argument(OPERATION, err))?;
    let mut spec = HandlerSpec::new(pattern);
    if let Some(events) = events.filter(|e| !e.is_unit()) {
        spec.events = event_kinds(&events)?;
    }
    spec.debounce = options.duration("debounce", spec.debounce)?;
    spec.settle = options.duration("settle", spec.settle)?;
    let concurrency = options.count("concurrency", DEFAULT_CONCURRENCY)?;
    if concurrency == 0 {
        return Err(invalid_argument(
            OPERATION,
            "`concurrency` must be at least 1",
        ));
    }
    spec.concurrency = usize::try_from(concurrency).unwrap_or(usize::MAX);
    if let Some(on_busy) = options.text("on_busy")? {
        spec.on_busy = OnBusy::parse(&on_busy).ok_or_else(|| {
            invalid_argument(
                OPERATION,
                format!("`on_busy` is `{on_busy}`; use {}", OnBusy::NAMES.join(", ")),
            )
        })?;
    }
    spec.root = options.text("root")?.map(PathBuf::from);
    spec.name = options.text("name")?;
    spec.line = ctx.call_position().line().unwrap_or(0);
    let imports = ctx
        .global_runtime_state()
        .scan_imports_raw()
        .map(|(alias, module)| (alias.clone(), module.clone()))
        .collect();
    registrations
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((spec, Callback { handler, imports }));
    Ok(())
}

fn event_kinds(value: &Dynamic) -> RhaiResult<Vec<ChangeKind>> {
    let known = || {
        ChangeKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let list = value.clone().into_array().map_err(|_| {
        invalid_argument(
            "on_file",
            format!("`events` must be an array of: {}", known()),
        )
    })?;
    list.into_iter()
        .map(|item| {
            let name = item.to_string();
            ChangeKind::parse(&name).ok_or_else(|| {
                invalid_argument(
                    "on_file",
                    format!("`{name}` is not an event; use {}", known()),
                )
            })
        })
        .collect()
}

/// `wait_for_file(path, options)`: waits until the file exists and has settled.
fn wait_for_file(
    host: &Host,
    ctx: &NativeCallContext,
    path: &str,
    options: Map,
) -> RhaiResult<Map> {
    const OPERATION: &str = "wait_for_file";
    let options = Options::new(OPERATION, options, &["settle", "timeout", "every"])?;
    let settle = options.duration("settle", WAIT_SETTLE)?;
    let timeout = options.duration("timeout", WAIT_TIMEOUT)?;
    let every = options.duration("every", (settle / 4).min(Duration::from_secs(1)))?;
    let checked = gate(ctx)?.locate(path, OPERATION).map_err(raise)?;
    let mut seen: Option<(Stat, SystemTime)> = None;
    let settled = poll(host, timeout, every, || {
        let stat = files::stat(&checked);
        let now = host.clock().now();
        match (stat, seen) {
            (Some(stat), Some((last, since))) if stat == last => {
                let stable = now.duration_since(since).unwrap_or_default();
                Ok((stable >= settle).then(|| info_map(&checked, stat)))
            }
            (Some(stat), _) => {
                seen = Some((stat, now));
                Ok(None)
            }
            (None, _) => {
                seen = None;
                Ok(None)
            }
        }
    })?;
    settled.ok_or_else(|| {
        let mut err = ApiError::new(
            ErrorKind::Timeout,
            format!(
                "`{path}` did not appear and settle within {}",
                humantime::format_duration(timeout)
            ),
        );
        err.operation = Some(OPERATION.into());
        raise(err)
    })
}

/// Registers `on_file` (which, outside a loading hook, says where it belongs) and the
/// file functions; `read_text` refuses a file longer than `max_string_size` (0: no limit).
pub fn register(engine: &mut Engine, host: &Arc<Host>, max_string_size: usize) {
    let outside = |_: &str| -> RhaiResult<()> {
        Err(invalid_argument(
            "on_file",
            "`on_file` registers a file-watch handler at the top level of a hook script run by `cutover watch`",
        ))
    };
    FuncRegistration::new("on_file")
        .with_comments([on_file_doc()])
        .with_params_info(["pattern: &str", "options: Map", "handler: FnPtr", "()"])
        .register_into_engine(engine, move |pattern: &str, _: Map, _: FnPtr| {
            outside(pattern)
        });
    FuncRegistration::new("on_file")
        .with_comments(["/// `on_file` with the default options."])
        .with_params_info(["pattern: &str", "handler: FnPtr", "()"])
        .register_into_engine(engine, move |pattern: &str, _: FnPtr| outside(pattern));

    FuncRegistration::new("read_text")
        .with_comments(["/// The text of a file the script may read (its own folder, `--allow-read` folders,\n/// and a hook handler's watched folder); relative paths start at the script's folder."])
        .with_params_info(["path: &str", "String"])
        .register_into_engine(engine, move |ctx: NativeCallContext, path: &str| -> RhaiResult<String> {
            let file = gate(&ctx)?.check(path, "read_text").map_err(raise)?;
            // Refused before reading: the string limit would only refuse it after the
            // whole file sat in memory.
            let limit = max_string_size;
            if limit > 0 && file.len > u64::try_from(limit).unwrap_or(u64::MAX) {
                return Err(invalid_argument(
                    "read_text",
                    format!(
                        "`{}` has {} bytes, more than the longest string a script may hold ({limit} bytes)",
                        file.path.display(),
                        file.len
                    ),
                ));
            }
            files::read_text(&file.path).map_err(|err| {
                invalid_argument("read_text", format!("cannot read `{}`: {err}", file.path.display()))
            })
        });
    FuncRegistration::new("write_text")
        .with_comments(["/// Writes a file in the folder a hook handler watches: written to a new dot-file\n/// beside it (which the watcher ignores), then renamed into place, so nobody sees it\n/// half-written."])
        .with_params_info(["path: &str", "text: &str", "()"])
        .register_into_engine(engine, |ctx: NativeCallContext, path: &str, text: &str| -> RhaiResult<()> {
            let checked = gate(&ctx)?.check_write(path, "write_text").map_err(raise)?;
            files::write_text(&checked, text).map_err(|err| {
                invalid_argument("write_text", format!("cannot write `{}`: {err}", checked.display()))
            })
        });
    FuncRegistration::new("file_info")
        .with_comments(["/// `#{ path, size, modified }` of a file the script may read, or `()` when there is\n/// no such file."])
        .with_params_info(["path: &str", "Dynamic"])
        .register_into_engine(engine, |ctx: NativeCallContext, path: &str| -> RhaiResult<Dynamic> {
            let checked = gate(&ctx)?.locate(path, "file_info").map_err(raise)?;
            Ok(files::stat(&checked).map_or(Dynamic::UNIT, |s| Dynamic::from_map(info_map(&checked, s))))
        });

    let h = host.clone();
    FuncRegistration::new("wait_for_file")
        .with_comments([format!(
            "/// Waits until a file the script may read exists and its size and modification\n/// time stayed the same for `settle`; returns `#{{ path, size, modified }}`.\n/// Options: `settle` (default \"{}\"), `timeout` (\"{}\"), `every`. Runs on the run's clock.",
            spelled(WAIT_SETTLE),
            spelled(WAIT_TIMEOUT)
        )])
        .with_params_info(["path: &str", "options: Map", "Map"])
        .register_into_engine(engine, move |ctx: NativeCallContext, path: &str, options: Map| {
            wait_for_file(&h, &ctx, path, options)
        });
    let h = host.clone();
    FuncRegistration::new("wait_for_file")
        .with_comments(["/// `wait_for_file` with the default options."])
        .with_params_info(["path: &str", "Map"])
        .register_into_engine(engine, move |ctx: NativeCallContext, path: &str| {
            wait_for_file(&h, &ctx, path, Map::new())
        });
}

/// Makes `on_file` in `engine` register into `registrations`, for loading a hook.
pub fn collect_into(engine: &mut Engine, registrations: &Registrations) {
    let r = registrations.clone();
    FuncRegistration::new("on_file")
        .with_comments([on_file_doc()])
        .with_params_info(["pattern: &str", "options: Map", "handler: FnPtr", "()"])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, pattern: &str, options: Map, handler: FnPtr| {
                on_file(&r, &ctx, pattern, options, handler)
            },
        );
    let r = registrations.clone();
    FuncRegistration::new("on_file")
        .with_comments(["/// `on_file` with the default options."])
        .with_params_info(["pattern: &str", "handler: FnPtr", "()"])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, pattern: &str, handler: FnPtr| {
                on_file(&r, &ctx, pattern, Map::new(), handler)
            },
        );
}
