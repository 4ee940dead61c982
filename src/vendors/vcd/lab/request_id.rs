//! `X-VMWARE-VCLOUD-REQUEST-ID` on every response (vendor-apis.md §2.2 item 7). The id is
//! made before any other layer runs and kept in a task-local, so error bodies (even
//! injected faults) quote the same id in their `[ <id> ]` message prefix.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use crate::vendors::vcd::wire::REQUEST_ID_HEADER;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Hands out request ids: the lab's seed and a counter, formatted like a UUID.
#[derive(Clone, Debug)]
pub(super) struct RequestIds {
    seed: u64,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    pub(super) fn new(seed: u64) -> Self {
        Self {
            seed,
            next: Arc::new(AtomicU64::new(1)),
        }
    }

    fn make(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let hi = self.seed.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xfff,
            (n >> 48) & 0xfff,
            n & 0xffff_ffff_ffff
        )
    }
}

/// The id of the request being answered, or `-` outside a request.
pub(super) fn current() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// Middleware around everything: makes the id, runs the request with it, sets the header.
pub(super) async fn stamp(State(ids): State<RequestIds>, request: Request, next: Next) -> Response {
    let id = ids.make();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_uuids_and_count_up() {
        let ids = RequestIds::new(7);
        let first = ids.make();
        assert_eq!(first.len(), 36, "{first}");
        assert_ne!(first, ids.make());
        assert_eq!(current(), "-");
    }
}
