//! Requests whose I/O the calling thread drives itself. A script thread that makes one
//! request after another (a `cutover run` playbook, a REPL line) would otherwise hand
//! every request to the shared runtime's workers and be woken by them for its answer:
//! two thread switches a call, which cost more than the request itself on loopback.
//! A thread that opts in ([`drive_here`]) gets its own single-threaded runtime, on
//! which [`block_on`] polls the request, and its own connection pool per client
//! ([`pool`]), since a pooled connection belongs to the runtime that opened it.
//!
//! Threads that run many scripts at once (`parallel` items, hooks) stay on the shared
//! runtime and its pools, so a fan-out keeps few connections to each target. A change's
//! sending always runs on the shared runtime (`CallRecord::spawn_sending`): it must be
//! answered and recorded even after the thread stopped waiting for it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::runtime::Runtime;

use crate::api_error::ApiError;

thread_local! {
    /// This thread's own runtime, once it opted in.
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
    /// Whether this thread is polling a future on its own runtime right now.
    static DRIVING: Cell<bool> = const { Cell::new(false) };
    /// This thread's connection pools, by client ([`PoolId`]).
    static POOLS: RefCell<HashMap<u64, reqwest::Client>> = RefCell::new(HashMap::new());
}

/// Makes this thread drive the I/O of the requests it blocks on ([`block_on`]). If its
/// runtime cannot be made, the thread goes on with the shared one, which is slower only.
pub fn drive_here() {
    let made = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match made {
        Ok(runtime) => RUNTIME.with(|slot| *slot.borrow_mut() = Some(runtime)),
        Err(err) => tracing::debug!(error = %err, "requests stay on the shared runtime"),
    }
}

/// Ends this thread's own runtime and pools, without waiting for what is left on them
/// (idle connections, a name lookup): called as a thread that opted in finishes.
pub fn stop_driving() {
    POOLS.with(|pools| pools.borrow_mut().clear());
    if let Some(runtime) = RUNTIME.with(|slot| slot.borrow_mut().take()) {
        runtime.shutdown_background();
    }
}

/// Runs `future` to its end on this thread's own runtime; gives it back when the thread
/// has none (it did not opt in), so the caller runs it on the shared runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, F> {
    RUNTIME.with(|slot| {
        let runtime = slot.borrow();
        let Some(runtime) = runtime.as_ref() else {
            return Err(future);
        };
        let _driving = Driving::start();
        Ok(runtime.block_on(future))
    })
}

/// Marks the thread as driving its own runtime until dropped, even on a panic.
struct Driving(bool);

impl Driving {
    fn start() -> Self {
        Self(DRIVING.replace(true))
    }
}

impl Drop for Driving {
    fn drop(&mut self) {
        DRIVING.set(self.0);
    }
}

/// Names one client's connection pools: its shared one and each thread's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolId(u64);

impl PoolId {
    /// A name no other client has had in this process.
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The pool a request of client `id` goes through on this thread: the thread's own
/// (made by `build` on first use) while it drives its own runtime, else `shared`.
pub fn pool(
    id: PoolId,
    shared: &reqwest::Client,
    build: impl FnOnce() -> Result<reqwest::Client, ApiError>,
) -> Result<reqwest::Client, ApiError> {
    if !DRIVING.get() {
        return Ok(shared.clone());
    }
    if let Some(client) = POOLS.with(|pools| pools.borrow().get(&id.0).cloned()) {
        return Ok(client);
    }
    let client = build()?;
    POOLS.with(|pools| pools.borrow_mut().insert(id.0, client.clone()));
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool with no settings: these tests never send a request.
    #[allow(clippy::disallowed_methods, reason = "a client that sends nothing")]
    fn plain() -> reqwest::Client {
        reqwest::Client::new()
    }

    #[test]
    fn a_thread_that_did_not_opt_in_gets_its_future_back_and_the_shared_pool() {
        let shared = plain();
        std::thread::spawn(move || {
            assert!(block_on(async { 1 }).is_err());
            let id = PoolId::new();
            let built = pool(id, &shared, || panic!("no pool of its own is built"));
            assert!(built.is_ok());
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_thread_that_opted_in_polls_on_its_own_runtime_with_its_own_pool() {
        std::thread::spawn(|| {
            drive_here();
            let shared = plain();
            let id = PoolId::new();
            let builds = Cell::new(0);
            let build = || {
                builds.set(builds.get() + 1);
                Ok(plain())
            };
            let answer = block_on(async {
                let flavour = tokio::runtime::Handle::current().runtime_flavor();
                assert_eq!(flavour, tokio::runtime::RuntimeFlavor::CurrentThread);
                pool(id, &shared, build).unwrap();
                pool(id, &shared, build).unwrap();
                7
            });
            assert_eq!(answer.ok(), Some(7));
            assert_eq!(builds.get(), 1, "the thread's pool is made once and kept");
            // Outside `block_on`, the thread is back on the shared pool.
            pool(id, &shared, || panic!("not driving")).unwrap();
            // Once it stops driving, its futures go back to the shared runtime.
            stop_driving();
            assert!(block_on(async { 1 }).is_err());
        })
        .join()
        .unwrap();
    }
}
