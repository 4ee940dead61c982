//! `parallel` in a run shared by several runners (`cutover run --runners`): the items
//! of a top-level `parallel` are work items in the journal, and each runner runs the
//! ones it leases, at most `limit` at once. A runner with no item left to lease waits
//! for the others' items to end, taking over any whose runner stopped renewing its
//! lease; then every runner answers the same list, read back from the journal for the
//! items others ran. An item may name the targets it needs (`targets: [..]`), so that
//! only runners that reach them (`--only-targets`) lease it; an item that names none
//! needs every target.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};

use super::parallel::{Finished, Item, Plan, Run, is_ok, item_keys, label, spawn_item};
use crate::api_error::{ApiError, ErrorKind};
use crate::journal::run_journal::{RunJournal, Runner};
use crate::journal::{JournalError, frame};
use crate::script::error_value::{invalid_argument, raise};
use crate::script::host::{Host, ItemCancel};

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// How often a runner with nothing to run looks for items to take over, and whether
/// the others' items have ended.
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// Runs `items` as this runner's share of a shared `parallel`.
pub(super) fn run(
    host: &Host,
    ctx: &NativeCallContext,
    items: Array,
    plan: &Plan,
    f: &FnPtr,
    journal: &Arc<RunJournal>,
    runner: &Runner,
) -> RhaiResult<Array> {
    let failed = |err: JournalError| {
        raise(ApiError::new(
            ErrorKind::Validation,
            format!("parallel: {err}"),
        ))
    };
    // Named by where it is called, the same in every runner (one that skipped a done
    // step never reached the `parallel` calls inside it).
    let frame = frame::current_key();
    let occurrence = journal.occurrence(&format!("{frame}#parallel"));
    let batch = format!("{frame}#parallel{occurrence}");
    let keys = item_keys(&items);
    let rows = items
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(index, (item, key))| {
            // A second `parallel` over the same items is told apart from the first, so
            // its steps and changes are not taken for the first one's.
            let key = frame::child_key(&frame, key);
            let key = if occurrence == 1 {
                key
            } else {
                format!("{key}#p{occurrence}")
            };
            Ok((key, index as i64, label(item), needed_targets(item)?))
        })
        .collect::<RhaiResult<Vec<_>>>()?;
    let store = journal.journal();
    store
        .add_items(journal.run(), &batch, &rows)
        .map_err(failed)?;
    let only = runner.only_targets_json();
    let group = host.current_token().child_token();
    let reason = Arc::new(OnceLock::<String>::new());
    let board = host.board().clone();
    let source = ctx.call_source().unwrap_or("script").to_owned();
    let mut run = Run {
        board: &board,
        labels: items.iter().map(label).collect(),
        ids: vec![None; items.len()],
        results: vec![None; items.len()],
        cancels: Vec::new(),
        fatal: None,
        source,
    };
    // The work item each item ran as here, for recording its end.
    let mut leased: Vec<Option<i64>> = vec![None; items.len()];
    // Whether this runner's result of an item is the one the journal kept.
    let mut kept = vec![false; items.len()];
    let mut trouble: Option<JournalError> = None;
    let mut said_waiting = false;
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<Finished>();
        let mut running = 0;
        loop {
            while running < plan.limit && !group.is_cancelled() && trouble.is_none() {
                let next = store.lease_item(
                    journal.run(),
                    &batch,
                    runner.id,
                    only.as_deref(),
                    runner.lease,
                );
                let next = match next {
                    Ok(Some(next)) => next,
                    Ok(None) => break,
                    Err(err) => {
                        trouble = Some(err);
                        break;
                    }
                };
                let Some(index) = usize::try_from(next.ord).ok().filter(|i| *i < items.len())
                else {
                    trouble = Some(store.error(format!(
                        "work item {} is not one of this `parallel`'s {} items",
                        next.ord,
                        items.len()
                    )));
                    break;
                };
                if let Some(before) = &next.taken_from {
                    tracing::warn!(
                        "`{}`: taken over from runner {before}; its steps done stand, and its changes are checked with their vendors before any is sent again",
                        run.labels[index]
                    );
                    if let Err(err) = journal.reconcile_item(&rows[index].0) {
                        trouble = Some(err);
                        break;
                    }
                }
                let id = board.start(run.labels[index].clone());
                run.ids[index] = Some(id);
                leased[index] = Some(next.id);
                let cancel = ItemCancel::new(group.child_token(), Arc::clone(&reason));
                run.cancels.push((index, cancel.clone()));
                let spawned = spawn_item(
                    scope,
                    Item {
                        index,
                        value: items[index].clone(),
                        id,
                        cancel,
                        frame_key: rows[index].0.clone(),
                        label: run.labels[index].clone(),
                        work_item: Some(next.id),
                    },
                    ctx,
                    f,
                    &board,
                    done_tx.clone(),
                );
                match spawned {
                    Ok(_) => running += 1,
                    Err(err) => {
                        trouble = Some(store.error(format!("cannot start a thread: {err}")));
                        break;
                    }
                }
            }
            if running == 0 {
                if trouble.is_some() || group.is_cancelled() {
                    break;
                }
                match store.items_left(journal.run(), &batch) {
                    Ok((0, _)) => break,
                    Ok((_, waiting)) => {
                        if waiting > 0 && !said_waiting {
                            // Nothing else would say why this runner sits idle.
                            tracing::warn!(
                                "{waiting} items wait for a runner that reaches the targets they need; this runner reaches {}",
                                runner.only_targets.as_ref().map_or_else(
                                    || "every target".to_owned(),
                                    |only| only.join(", ")
                                )
                            );
                            said_waiting = true;
                        }
                        std::thread::sleep(LOOK_EVERY);
                    }
                    Err(err) => {
                        trouble = Some(err);
                        break;
                    }
                }
                continue;
            }
            let (index, answer) = match done_rx.recv_timeout(LOOK_EVERY) {
                Ok(finished) => finished,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            running -= 1;
            let cancel = run.cancel_of(index);
            run.finished(index, answer, cancel.as_ref());
            if let (Some(result), Some(work_item)) = (&run.results[index], leased[index]) {
                match store.end_item(work_item, runner.id, is_ok(result), &stored(result)) {
                    Ok(true) => kept[index] = true,
                    Ok(false) => tracing::warn!(
                        "`{}`: another runner took it over meanwhile; its result stands",
                        run.labels[index]
                    ),
                    Err(err) => trouble = Some(err),
                }
            }
            if run.fatal.is_some() {
                group.cancel();
            }
        }
    });
    if let Some(fatal) = run.fatal {
        return Err(fatal);
    }
    if let Some(err) = trouble {
        return Err(failed(err));
    }
    if host.current_token().is_cancelled() {
        return Err(raise(host.interruption()));
    }
    let recorded = store.items(journal.run()).map_err(failed)?;
    let mut results = Vec::with_capacity(items.len());
    for (index, mine) in run.results.into_iter().enumerate() {
        let row = recorded
            .iter()
            .find(|item| item.batch == batch && item.ord == index as i64);
        let result = match (row.and_then(|row| row.result.as_deref()), mine) {
            (_, Some(mine)) if kept[index] => mine,
            (Some(text), _) => loaded(text),
            (None, Some(mine)) => mine,
            (None, None) => {
                let err = ApiError::new(
                    ErrorKind::Script,
                    format!("item {} ended without a result", index + 1),
                );
                let mut map = Map::new();
                map.insert("ok".into(), false.into());
                map.insert(
                    "error".into(),
                    crate::script::error_value::to_map(&err).into(),
                );
                map.into()
            }
        };
        results.push(result);
    }
    Ok(results)
}

/// The targets `item` says it needs (`targets: ["array1", ..]`) as JSON, or `None`.
fn needed_targets(item: &Dynamic) -> RhaiResult<Option<String>> {
    let Some(map) = item.read_lock::<Map>() else {
        return Ok(None);
    };
    let Some(targets) = map.get("targets") else {
        return Ok(None);
    };
    let names = targets
        .clone()
        .into_typed_array::<rhai::ImmutableString>()
        .map_err(|_| {
            invalid_argument(
                "parallel",
                "an item's `targets` must be an array of target names",
            )
        })?;
    let names: Vec<String> = names.iter().map(ToString::to_string).collect();
    Ok(Some(serde_json::Value::from(names).to_string()))
}

/// An item's result as the journal keeps it: JSON, with what JSON cannot hold (a
/// handle) written as its description.
fn stored(result: &Dynamic) -> String {
    serde_json::to_string(result).unwrap_or_else(|_| {
        let mut map = serde_json::Map::new();
        map.insert("ok".into(), is_ok(result).into());
        map.insert("value".into(), result.to_string().into());
        serde_json::Value::Object(map).to_string()
    })
}

/// An item's result read back from the journal.
fn loaded(text: &str) -> Dynamic {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| rhai::serde::to_dynamic(value).ok())
        .unwrap_or_else(|| text.into())
}
