//! `parallel(items, #{ limit, fail_fast }, fn)`: runs `fn(item)` for every item, each on
//! its own script thread, at most `limit` at once, and answers one result map per item in
//! input order: `#{ ok: true, value }` or `#{ ok: false, error }`, `error` being what a
//! `catch` would get.
//!
//! Each item thread calls the closure through the caller's call context, so it sees the
//! caller's script functions, imported modules and captured variables, and it counts its
//! own operations and memory against the same limits as the caller. Each holds its own
//! cancellation token ([`host::hold_item_cancel`]), a child of the caller's, so
//! `fail_fast` stops the items in flight and Ctrl-C stops every item. Each is an item of
//! the run's board, labelled by the item's `name` (or the item itself).

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

use rhai::{
    Array, Dynamic, Engine, EvalAltResult, FnPtr, FuncRegistration, Map, NativeCallContext,
};

use crate::api_error::{ApiError, ErrorKind};
use crate::journal::frame;
use crate::script::board::{self, Board, ItemId, Outcome};
use crate::script::error_value::{innermost, invalid_argument, raise};
use crate::script::host::{self, Host, ItemCancel};
use crate::script::options::Options;

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// The stack of each item's thread. Script threads get [`crate::script::STACK_SIZE`]
/// (512 MiB) so that values nested as deep as the memory budget allows can be walked;
/// thousands of items at once would reserve terabytes of address space at that size.
/// 64 MiB holds the deepest call chain `--max-call-levels` allows (64 levels of script
/// functions take about 6 MiB in a debug build) and values nested hundreds of thousands
/// deep; 2,000 items reserve 128 GiB of address space, of which only the pages touched
/// are ever committed.
pub const ITEM_STACK_SIZE: usize = 64 << 20;

/// The longest label an item gets on the board.
const MAX_LABEL: usize = 40;

/// Registers `parallel`.
pub fn register(engine: &mut Engine, host: &Arc<Host>) {
    let h = host.clone();
    FuncRegistration::new("parallel")
        .with_comments(["/// Runs `f(item)` for every item of `items`, each on its own thread, and returns\n/// one map per item, in input order: `#{ ok: true, value }` with what `f` returned,\n/// or `#{ ok: false, error }` with the error a `catch` would get.\n/// One item's failure does not stop the others. Options: `limit` (most items at\n/// once; default all), `fail_fast` (default false: when true, the first failure\n/// cancels the rest: items not started never start, waits in flight end with a\n/// `cancelled` error, and their results are `cancelled` errors).\n/// `f` sees the caller's variables and imported modules; Ctrl-C cancels every item."])
        .with_params_info(["items: Array", "options: Map", "f: FnPtr", "Array"])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, items: Array, options: Map, f: FnPtr| {
                parallel(&h, &ctx, items, options, &f)
            },
        );
    let h = host.clone();
    FuncRegistration::new("parallel")
        .with_comments([
            "/// `parallel` with the default options: every item at once, none stops the others.",
        ])
        .with_params_info(["items: Array", "f: FnPtr", "Array"])
        .register_into_engine(
            engine,
            move |ctx: NativeCallContext, items: Array, f: FnPtr| {
                parallel(&h, &ctx, items, Map::new(), &f)
            },
        );
}

/// How one call of `parallel` runs.
pub(super) struct Plan {
    pub limit: usize,
    fail_fast: bool,
}

impl Plan {
    fn read(options: Map, items: usize) -> RhaiResult<Self> {
        let options = Options::new("parallel", options, &["limit", "fail_fast"])?;
        let limit = if options.has("limit") {
            match options.count("limit", 0) {
                Ok(limit) if limit > 0 => usize::try_from(limit).unwrap_or(usize::MAX),
                _ => {
                    return Err(invalid_argument(
                        "parallel",
                        "`limit` must be a whole number ≥ 1",
                    ));
                }
            }
        } else {
            items
        };
        Ok(Self {
            limit: limit.clamp(1, items.max(1)),
            fail_fast: options.flag("fail_fast", false)?,
        })
    }
}

/// What an item's thread hands back: its index and what `f` answered.
pub(super) type Finished = (usize, std::thread::Result<RhaiResult<Dynamic>>);

fn parallel(
    host: &Host,
    ctx: &NativeCallContext,
    items: Array,
    options: Map,
    f: &FnPtr,
) -> RhaiResult<Array> {
    let plan = Plan::read(options, items.len())?;
    // A shared run's top-level `parallel` is shared out among its runners.
    if let Some(journal) = host.calls().journal()
        && let Some(runner) = journal.runner()
        && frame::current_item().is_none()
    {
        return super::shared_parallel::run(host, ctx, items, &plan, f, journal, runner);
    }
    let outer = host.current_token();
    let group = outer.child_token();
    let reason = Arc::new(OnceLock::<String>::new());
    let board = host.board().clone();
    let source = ctx.call_source().unwrap_or("script").to_owned();
    let frame = frame::current_key();
    let keys = item_keys(&items);
    let mut run = Run {
        board: &board,
        labels: items.iter().map(label).collect(),
        ids: vec![None; items.len()],
        results: vec![None; items.len()],
        cancels: Vec::with_capacity(items.len()),
        fatal: None,
        source,
    };
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<Finished>();
        let mut pending = items.into_iter().enumerate();
        let mut running = 0;
        loop {
            while running < plan.limit && !group.is_cancelled() {
                let Some((index, item)) = pending.next() else {
                    break;
                };
                let id = board.start(run.labels[index].clone());
                run.ids[index] = Some(id);
                let cancel = ItemCancel::new(group.child_token(), Arc::clone(&reason));
                run.cancels.push((index, cancel.clone()));
                let tx = done_tx.clone();
                let frame_key = frame::child_key(&frame, &keys[index]);
                // Noted here, in the list's order, so a plan's items come out the same
                // however their threads race.
                if let Some(changes) = host.calls().plan() {
                    changes.item_began(&frame_key);
                }
                let spawned = spawn_item(
                    scope,
                    Item {
                        index,
                        value: item,
                        id,
                        cancel,
                        frame_key,
                        label: run.labels[index].clone(),
                        // An item's own `parallel` works for the same work item.
                        work_item: frame::current_work_item(),
                    },
                    ctx,
                    f,
                    &board,
                    tx,
                );
                match spawned {
                    Ok(_) => running += 1,
                    Err(err) => run.failed(
                        index,
                        no_thread(&err),
                        format!("cannot start a thread for it: {err}"),
                    ),
                }
            }
            if running == 0 {
                break;
            }
            let Ok((index, answer)) = done_rx.recv() else {
                break;
            };
            running -= 1;
            let cancel = run.cancel_of(index);
            run.finished(index, answer, cancel.as_ref());
            let failed = run.results[index]
                .as_ref()
                .is_some_and(|result| !is_ok(result));
            if run.fatal.is_some() || (plan.fail_fast && failed && !group.is_cancelled()) {
                let why = match &run.fatal {
                    Some(_) => "cancelled: another item stopped the script".to_owned(),
                    None => format!(
                        "cancelled: `{}` failed and `fail_fast` is set",
                        run.labels[index]
                    ),
                };
                let _ = reason.set(why);
                group.cancel();
            }
        }
        // Items never started: cancelled before their turn.
        for (index, _) in pending {
            let id = board.start(run.labels[index].clone());
            board.end(id, Outcome::Cancelled);
            let cancel = ItemCancel::new(group.clone(), Arc::clone(&reason));
            run.results[index] = Some(result_map(false, "error", error_map(&cancel.error())));
        }
    });
    if let Some(fatal) = run.fatal {
        return Err(fatal);
    }
    if outer.is_cancelled() {
        return Err(raise(host.interruption()));
    }
    Ok(run
        .results
        .into_iter()
        .enumerate()
        .map(|(index, result)| {
            result.unwrap_or_else(|| {
                let err = ApiError::new(
                    ErrorKind::Script,
                    format!("item {} ended without a result", index + 1),
                );
                result_map(false, "error", error_map(&err))
            })
        })
        .collect())
}

/// One item about to run on its own thread.
pub(super) struct Item {
    pub index: usize,
    pub value: Dynamic,
    pub id: ItemId,
    pub cancel: ItemCancel,
    pub frame_key: String,
    pub label: String,
    /// Its work item, in a shared run.
    pub work_item: Option<i64>,
}

/// Starts `item`'s thread in `scope`: it calls `f(item)` through `ctx` on the item's
/// board line, frame and cancellation, and sends what `f` answered on `done`.
pub(super) fn spawn_item<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    item: Item,
    ctx: &'env NativeCallContext<'env>,
    f: &'env FnPtr,
    board: &'env Arc<Board>,
    done: mpsc::Sender<Finished>,
) -> std::io::Result<std::thread::ScopedJoinHandle<'scope, ()>> {
    std::thread::Builder::new()
        .name(format!("item-{}", item.index))
        .stack_size(ITEM_STACK_SIZE)
        .spawn_scoped(scope, move || {
            // Copied here, so the thread that frees the copy is the one its memory was
            // counted against.
            let f = own_copy(f);
            let _cancel = host::hold_item_cancel(item.cancel);
            let _item = board::enter(board, item.id);
            let _frame = frame::enter_item(item.frame_key, item.label, item.work_item);
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                f.call_within_context::<Dynamic>(ctx, (item.value,))
            }));
            let _ = done.send((item.index, answer));
        })
}

/// `f` with its own copy of every variable it captured. Rhai shares a captured variable
/// between the closure and its scope, and locks it for the length of a method call on
/// it (`array.import_session(..)`); items sharing it would find it locked by each other
/// and fail. Each item gets the values as they were when it started instead: it sees
/// the caller's variables, and what it assigns to them stays its own.
fn own_copy(f: &FnPtr) -> FnPtr {
    let mut f = f.clone();
    for value in f.iter_curry_mut() {
        *value = value.flatten_clone();
    }
    f
}

/// The state of one call of `parallel` as its items end.
pub(super) struct Run<'a> {
    pub board: &'a Board,
    pub labels: Vec<String>,
    pub ids: Vec<Option<ItemId>>,
    pub results: Vec<Option<Dynamic>>,
    pub cancels: Vec<(usize, ItemCancel)>,
    /// An error no `catch` may swallow (a resource limit), raised by `parallel` itself
    /// once every item has ended.
    pub fatal: Option<Box<EvalAltResult>>,
    /// Where the call of `parallel` is, for errors that carry no source of their own.
    pub source: String,
}

impl Run<'_> {
    pub(super) fn cancel_of(&self, index: usize) -> Option<ItemCancel> {
        self.cancels
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, cancel)| cancel.clone())
    }

    fn end(&self, index: usize, outcome: Outcome) {
        if let Some(id) = self.ids[index] {
            self.board.end(id, outcome);
        }
    }

    /// Records item `index` as failed with `error` (what its result carries) and
    /// `message` (what the board shows).
    fn failed(&mut self, index: usize, error: Dynamic, message: String) {
        tracing::warn!(
            target: "cutover::script",
            "parallel: `{}` failed: {message}",
            self.labels[index]
        );
        self.end(index, Outcome::Failed(message));
        self.results[index] = Some(result_map(false, "error", error));
    }

    pub(super) fn finished(
        &mut self,
        index: usize,
        answer: std::thread::Result<RhaiResult<Dynamic>>,
        cancel: Option<&ItemCancel>,
    ) {
        let answer = match answer {
            Ok(answer) => answer,
            Err(_) => {
                let err = ApiError::new(ErrorKind::Script, "the item's thread panicked");
                let message = err.message.clone();
                self.failed(index, error_map(&err), message);
                return;
            }
        };
        match answer {
            Ok(value) => {
                self.end(index, Outcome::Done);
                self.results[index] = Some(result_map(true, "value", value));
            }
            Err(err)
                if cancel.is_some_and(|cancel| cancel.token().is_cancelled())
                    && is_cancellation(&err) =>
            {
                self.end(index, Outcome::Cancelled);
                let err = cancel.map_or_else(host::cancelled, ItemCancel::error);
                self.results[index] = Some(result_map(false, "error", error_map(&err)));
            }
            Err(err) if !err.is_catchable() => {
                let message = self.described(&err);
                self.end(index, Outcome::Failed(message));
                self.results[index] = Some(result_map(false, "error", caught(&err, &self.source)));
                self.fatal.get_or_insert(err);
            }
            Err(err) => {
                let message = self.described(&err);
                self.failed(index, caught(&err, &self.source), message);
            }
        }
    }

    /// `err`'s one-line summary and the place in the item's code it was raised.
    fn described(&self, err: &EvalAltResult) -> String {
        let headline = crate::script::diagnostic::headline(err);
        format!("{headline} at {}", place(err, &self.source))
    }
}

/// The script or module `err` was raised in: the innermost function call's source, or
/// `source` (where `parallel` was called) when none says otherwise.
fn item_source(err: &EvalAltResult, source: &str) -> String {
    let mut current = err;
    let mut source = source.to_owned();
    while let EvalAltResult::ErrorInFunctionCall(_, fn_source, inner, _) = current {
        if !fn_source.is_empty() {
            source.clone_from(fn_source);
        }
        current = inner;
    }
    source
}

/// `file:line:col` where `err` was raised.
fn place(err: &EvalAltResult, source: &str) -> String {
    let source = item_source(err, source);
    let pos = innermost(err).position();
    match (pos.line(), pos.position()) {
        (Some(line), Some(col)) => format!("{source}:{line}:{col}"),
        (Some(line), None) => format!("{source}:{line}"),
        _ => source,
    }
}

/// What `catch (e)` would bind `e` to for `err`: the thrown value (our error maps are
/// thrown values), or Rhai's own map with the message, line and position (Rhai adds a
/// few fields of its own per error, which it does not let a host read).
/// Whether `err` is the item's cancellation itself, not a failure that came first (a
/// real error keeps its kind, `unknown_outcome` above all).
fn is_cancellation(err: &EvalAltResult) -> bool {
    match innermost(err) {
        // How an interrupted busy script stops (the engine's progress check).
        EvalAltResult::ErrorTerminated(value, _) if value.is_string() => true,
        other => crate::script::error_value::error_map(other)
            .and_then(|map| map.get("kind").map(ToString::to_string))
            .is_some_and(|kind| kind == "cancelled"),
    }
}

fn caught(err: &EvalAltResult, source: &str) -> Dynamic {
    let inner = innermost(err);
    match inner {
        EvalAltResult::ErrorRuntime(value, _) | EvalAltResult::ErrorTerminated(value, _)
            if value.is_map() =>
        {
            value.clone()
        }
        EvalAltResult::ErrorRuntime(value, _) => value.clone(),
        other => {
            let mut map = Map::new();
            let pos = other.position();
            map.insert("source".into(), item_source(err, source).into());
            map.insert(
                "message".into(),
                crate::script::diagnostic::without_position(other).into(),
            );
            if let (Some(line), position) = (pos.line(), pos.position()) {
                map.insert("line".into(), rhai::INT::try_from(line).unwrap_or(0).into());
                map.insert(
                    "position".into(),
                    rhai::INT::try_from(position.unwrap_or(0))
                        .unwrap_or(0)
                        .into(),
                );
            }
            map.into()
        }
    }
}

fn error_map(err: &ApiError) -> Dynamic {
    let mut err = err.clone();
    err.operation.get_or_insert_with(|| "parallel".to_owned());
    crate::script::error_value::to_map(&err).into()
}

fn no_thread(err: &std::io::Error) -> Dynamic {
    let mut err = ApiError::new(
        ErrorKind::Script,
        format!("cannot start a thread for the item: {err}; lower `limit`"),
    );
    err.operation = Some("parallel".to_owned());
    crate::script::error_value::to_map(&err).into()
}

fn result_map(ok: bool, key: &str, value: Dynamic) -> Dynamic {
    let mut map = Map::new();
    map.insert("ok".into(), ok.into());
    map.insert(key.into(), value);
    map.into()
}

pub(super) fn is_ok(result: &Dynamic) -> bool {
    result
        .read_lock::<Map>()
        .and_then(|map| map.get("ok").and_then(|ok| ok.as_bool().ok()))
        .unwrap_or(false)
}

/// How the board shows `item`: its `name` when it is a map with one, else the item
/// itself, cut to [`MAX_LABEL`] characters.
/// Each item's key in the journal: its name, made unique by its place in the list
/// when two share one, so a resumed run finds each item's steps again.
pub(super) fn item_keys(items: &[Dynamic]) -> Vec<String> {
    let names: Vec<String> = items.iter().map(full_name).collect();
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for name in &names {
        *counts.entry(name).or_default() += 1;
    }
    names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            if counts.get(name.as_str()).is_some_and(|&n| n > 1) {
                format!("{name}#{}", index + 1)
            } else {
                name.clone()
            }
        })
        .collect()
}

/// The item's `name` if it is a map with one, else the item itself, as text.
fn full_name(item: &Dynamic) -> String {
    item.read_lock::<Map>()
        .and_then(|map| map.get("name").map(ToString::to_string))
        .unwrap_or_else(|| item.to_string())
}

pub(super) fn label(item: &Dynamic) -> String {
    let text = crate::terminal_text::escape_control(&full_name(item));
    if text.chars().count() <= MAX_LABEL {
        return text;
    }
    let cut: String = text.chars().take(MAX_LABEL - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_names_or_the_item_cut_short() {
        let mut app = Map::new();
        app.insert("name".into(), "crm".into());
        assert_eq!(label(&app.into()), "crm");
        assert_eq!(label(&Dynamic::from("billing")), "billing");
        assert_eq!(label(&Dynamic::from(42_i64)), "42");
        let long = "x".repeat(100);
        let shown = label(&Dynamic::from(long));
        assert_eq!(shown.chars().count(), MAX_LABEL);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn a_limit_below_one_is_refused_and_the_default_is_every_item() {
        for limit in [
            Dynamic::from(0_i64),
            Dynamic::from(-2_i64),
            Dynamic::from("2"),
        ] {
            let mut options = Map::new();
            options.insert("limit".into(), limit);
            let err = Plan::read(options, 3).err().unwrap();
            let map = crate::script::error_value::error_map(&err).unwrap();
            assert_eq!(
                map["message"].clone().into_string().unwrap(),
                "`limit` must be a whole number ≥ 1"
            );
        }
        assert_eq!(Plan::read(Map::new(), 7).unwrap().limit, 7);
        let mut options = Map::new();
        options.insert("limit".into(), 50_i64.into());
        assert_eq!(Plan::read(options, 7).unwrap().limit, 7);
    }

    #[test]
    fn each_item_is_on_the_board_with_its_last_step_and_outcome() {
        let (_runtime, host) = crate::script::host::testing::on_a_worker();
        let mut engine =
            crate::script::toolkit(&host, crate::script::Limits::default(), ".".into());
        crate::script::step::register(&mut engine, &host, Vec::new());
        let script = r#"
            parallel([#{ name: "crm" }, "erp", "hr"], #{ limit: 1, fail_fast: true }, |app| {
                step("volumes", || 1);
                if app == "erp" { step("sms", || throw "no sms"); }
                app
            })
        "#;
        let results = std::thread::Builder::new()
            .stack_size(crate::script::STACK_SIZE)
            .spawn(move || engine.eval::<Array>(script).map_err(|e| e.to_string()))
            .unwrap()
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(results.len(), 3);
        let items: Vec<(String, Option<String>, Option<Outcome>)> = host
            .board()
            .items()
            .into_iter()
            .map(|item| {
                (
                    item.label,
                    item.step,
                    item.ended.map(|(_, outcome)| outcome),
                )
            })
            .collect();
        assert_eq!(
            items,
            [
                (
                    "crm".to_owned(),
                    Some("volumes".to_owned()),
                    Some(Outcome::Done)
                ),
                (
                    "erp".to_owned(),
                    Some("sms".to_owned()),
                    Some(Outcome::Failed("no sms at script:4:50".to_owned()))
                ),
                ("hr".to_owned(), None, Some(Outcome::Cancelled)),
            ]
        );
    }
}
