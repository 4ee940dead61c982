//! Rhai bindings of `cutover watch`: `on_file(pattern, #{ … }, handler)` registers a
//! handler while a hook script loads; `read_text`, `write_text`, `file_info` and
//! `wait_for_file` let handlers use the files they are handed, inside the watched
//! folders only. The engine's tag says which of the two a script is doing, following
//! rhai's `examples/event_handler_main`: compile once, register, then call the handler
//! for each event.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, Map, NativeCallContext};

use crate::http::error::{ApiError, ErrorKind};
use crate::script::Host;
use crate::script::error_value::{invalid_argument, raise};
use crate::script::flow::poll;
use crate::script::options::Options;
use crate::watch::event::{ChangeKind, FileEvent, Stat};
use crate::watch::files::Gate;
use crate::watch::filter::Pattern;
use crate::watch::slots::OnBusy;
use crate::watch::spec::{DEFAULT_CONCURRENCY, HandlerSpec};

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

/// A handler as the script gave it: a closure or a function pointer.
#[derive(Clone)]
pub struct Callback(FnPtr);

/// The registrations a hook script made while it loaded.
pub type Registrations = Arc<Mutex<Vec<(HandlerSpec, Callback)>>>;

/// What a script is doing, kept in its engine's tag.
#[derive(Clone)]
pub enum HookContext {
    /// A hook script is loading: `on_file` registers; files under `gate` may be used.
    Loading(Registrations, Gate),
    /// A handler is running on a file under `gate`.
    Handling(Gate),
}

impl HookContext {
    fn gate(&self) -> &Gate {
        match self {
            Self::Loading(_, gate) | Self::Handling(gate) => gate,
        }
    }

    /// Puts `self` into `engine`'s tag.
    pub fn install(self, engine: &mut Engine) {
        engine.set_default_tag(Dynamic::from(self));
    }
}

fn context(ctx: &NativeCallContext) -> Option<HookContext> {
    ctx.tag()
        .and_then(|tag| tag.clone().try_cast::<HookContext>())
}

fn gate(ctx: &NativeCallContext) -> Gate {
    context(ctx).map(|c| c.gate().clone()).unwrap_or_default()
}

/// Calls `callback` with the event map of `event`.
pub fn call(
    engine: &Engine,
    ast: &rhai::AST,
    callback: &Callback,
    event: &FileEvent,
) -> RhaiResult<()> {
    callback
        .0
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

/// `on_file(pattern, options, handler)`.
fn on_file(ctx: &NativeCallContext, pattern: &str, options: Map, handler: FnPtr) -> RhaiResult<()> {
    const OPERATION: &str = "on_file";
    let registrations = match context(ctx) {
        Some(HookContext::Loading(registrations, _)) => registrations,
        Some(HookContext::Handling(_)) => {
            return Err(invalid_argument(
                OPERATION,
                "handlers are registered while a hook script loads; call `on_file` at the top level of the hook script",
            ));
        }
        None => {
            return Err(invalid_argument(
                OPERATION,
                "`on_file` registers a file-watch handler; run hook scripts with `cutover watch`",
            ));
        }
    };
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
    registrations
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((spec, Callback(handler)));
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
    let gate = gate(ctx);
    let mut seen: Option<(Stat, SystemTime)> = None;
    let settled = poll(host, timeout, every, || {
        let (checked, stat) = gate
            .stat(path, OPERATION)
            .map_err(|err| invalid_argument(OPERATION, err))?;
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

/// Registers `on_file` and the file functions of hook handlers.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    FuncRegistration::new("on_file")
        .with_comments(["/// Registers a file-watch handler (in hook scripts run by `cutover watch`).\n/// `pattern` is a glob relative to the hook's folder (`*` stays in one folder, `**`\n/// crosses folders). `handler` gets `#{ path, name, dir, kind, size, modified, from,\n/// to, initial }`. Options: `events` (default [\"create\", \"modify\", \"rename\"]; also\n/// \"remove\"), `debounce` (\"50ms\"), `settle` (\"1s\": size and modification time must\n/// stay the same this long), `concurrency` (1), `on_busy` (\"queue\", \"skip\" or\n/// \"restart\"), `root` (the folder the pattern is relative to), `name`."])
        .with_params_info(["pattern: &str", "options: Map", "handler: FnPtr", "()"])
        .register_into_engine(engine, |ctx: NativeCallContext, pattern: &str, options: Map, handler: FnPtr| {
            on_file(&ctx, pattern, options, handler)
        });
    FuncRegistration::new("on_file")
        .with_comments(["/// `on_file` with the default options."])
        .with_params_info(["pattern: &str", "handler: FnPtr", "()"])
        .register_into_engine(
            engine,
            |ctx: NativeCallContext, pattern: &str, handler: FnPtr| {
                on_file(&ctx, pattern, Map::new(), handler)
            },
        );

    FuncRegistration::new("read_text")
        .with_comments(["/// The text of a file inside the watched folders (hook handlers only); relative\n/// paths start at the hook's folder."])
        .with_params_info(["path: &str", "String"])
        .register_into_engine(engine, |ctx: NativeCallContext, path: &str| -> RhaiResult<String> {
            gate(&ctx)
                .read_text(path, "read_text")
                .map_err(|err| invalid_argument("read_text", err))
        });
    FuncRegistration::new("write_text")
        .with_comments(["/// Writes a file inside the watched folders (hook handlers only): written beside it\n/// as `.tmp`, then renamed into place, so no handler sees it half-written."])
        .with_params_info(["path: &str", "text: &str", "()"])
        .register_into_engine(engine, |ctx: NativeCallContext, path: &str, text: &str| -> RhaiResult<()> {
            gate(&ctx)
                .write_text(path, text, "write_text")
                .map_err(|err| invalid_argument("write_text", err))
        });
    FuncRegistration::new("file_info")
        .with_comments(["/// `#{ path, size, modified }` of a file inside the watched folders, or `()` when\n/// there is no such file (hook handlers only)."])
        .with_params_info(["path: &str", "Dynamic"])
        .register_into_engine(engine, |ctx: NativeCallContext, path: &str| -> RhaiResult<Dynamic> {
            let (checked, stat) = gate(&ctx)
                .stat(path, "file_info")
                .map_err(|err| invalid_argument("file_info", err))?;
            Ok(stat.map_or(Dynamic::UNIT, |s| Dynamic::from_map(info_map(&checked, s))))
        });

    let h = host.clone();
    FuncRegistration::new("wait_for_file")
        .with_comments(["/// Waits until a file inside the watched folders exists and its size and\n/// modification time stayed the same for `settle`; returns `#{ path, size, modified }`.\n/// Options: `settle` (default \"5s\"), `timeout` (\"1h\"), `every`. Runs on the run's clock."])
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
